# lib.sh - shared helpers of the end-to-end tests (sourced by tests/e2e/test_*.sh).
#
# Environment: SMKI_BIN (the binary; default build/smki-batch), SMKI_BENCH (the
# directory holding gencsr; default build/bench).  A test runs in the current
# directory (run_all.sh gives each a fresh temp dir); run by hand, it makes one.
# A failure prints "FAIL: reason" and exits 1; run_all.sh shows that line.

set -u
set -o pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$E2E_DIR/../.." && pwd)
SMKI_BIN=${SMKI_BIN:-$REPO/build/smki-batch}
SMKI_BENCH=${SMKI_BENCH:-$REPO/build/bench}
case $SMKI_BIN in /*) ;; *) SMKI_BIN=$REPO/$SMKI_BIN ;; esac
case $SMKI_BENCH in /*) ;; *) SMKI_BENCH=$REPO/$SMKI_BENCH ;; esac
GENCSR=$SMKI_BENCH/gencsr
SCHEMAS=$REPO/schemas
CHECK_RESPONSE=$E2E_DIR/check_response.py

# a frozen clock just before the nightly window opens; tests override per command
export SMKI_NOW=${SMKI_NOW:-2026-11-22T19:59:00Z}
unset SMKI_HOME

PARTY_A=90-B3-D5-1F-30-01-00-00
PARTY_B=90-B3-D5-1F-30-02-00-00
PARTY_UNKNOWN=90-B3-D5-1F-30-99-00-00

if [ -z "${E2E_WORK:-}" ]; then
    if [ -n "${E2E_IN_RUNNER:-}" ]; then
        E2E_WORK=$PWD
    else
        E2E_WORK=$(mktemp -d "${TMPDIR:-/tmp}/smki-e2e.XXXXXX")
        echo "work dir: $E2E_WORK"
    fi
fi
cd "$E2E_WORK" || exit 1

for _f in "$SMKI_BIN" "$GENCSR"; do
    [ -x "$_f" ] || { echo "FAIL: $_f is not built (make; or set SMKI_BIN/SMKI_BENCH)"; exit 1; }
done

# --- reporting -------------------------------------------------------------

fail() {
    echo "FAIL: $*"
    exit 1
}

step() { echo "--- $*"; }

# soft_fail: record a failure but go on, so that one run reports every finding;
# finish: exit 1 (printing them) if any was recorded
SOFT_FAILS=()
soft_fail() {
    echo "(failure, continuing) $*"
    SOFT_FAILS+=("$*")
}
finish() {
    if [ ${#SOFT_FAILS[@]} -gt 0 ]; then
        local m
        for m in "${SOFT_FAILS[@]}"; do echo "FAIL: $m"; done
        exit 1
    fi
    echo "${1:-all checks passed}"
    exit 0
}

# check_daemon_stopped: after stop_daemon, it must have exited 0 within the time
check_daemon_stopped() {
    if [ "$DAEMON_RC" = 124 ]; then
        fail "run did not stop within 10 s of SIGTERM"
    elif [ "$DAEMON_RC" != 0 ]; then
        soft_fail "run exited $DAEMON_RC on SIGTERM, expected 0 (a clean stop)$( [ "$DAEMON_RC" = 143 ] && echo ': killed by the signal')"
    fi
}

assert_eq() {   # WHAT GOT WANT
    [ "$2" = "$3" ] || fail "$1: expected '$3', got '$2'"
}

# run a command, fail unless it exits with the given status
expect_rc() {   # WANT CMD...
    local want=$1 rc=0
    shift
    "$@" || rc=$?
    [ "$rc" -eq "$want" ] || fail "'$*' exited $rc, expected $want"
}

# --- homes and batches ------------------------------------------------------

smki() { "$SMKI_BIN" "$@"; }

new_home() {    # DIR [--no-ca]: init a home with the demo CA
    local ca=--demo-ca
    [ "${2:-}" = "--no-ca" ] && ca=
    smki init --home "$1" $ca >"$1.init.log" 2>&1 || { cat "$1.init.log"; fail "init --home $1 failed"; }
}

add_party() {   # HOME EUI64 NAME
    smki party add --home "$1" --id "$2" --name "$3" >/dev/null || fail "party add $2 to $1 failed"
}

set_conf() {    # HOME SECTION KEY VALUE: set (replace) a key of smki-batch.conf
    python3 - "$1/smki-batch.conf" "$2" "$3" "$4" <<'EOF' || fail "cannot set $2.$3 in $1"
import re, sys
path, sec, key, val = sys.argv[1:]
lines = open(path).read().split("\n")
out, cur, done = [], None, False
for ln in lines:
    m = re.match(r"\s*\[([^\]]+)\]", ln)
    if m:
        cur = m.group(1).strip()
    elif cur == sec and re.match(r"\s*" + re.escape(key) + r"\s*=", ln):
        ln, done = f"{key} = {val}", True
    out.append(ln)
if not done:
    out += [f"[{sec}]", f"{key} = {val}"]
open(path, "w").write("\n".join(out))
EOF
}

# make_batch OUT COUNT PARTY BATCH [gencsr options...]: a request file with real CSRs
make_batch() {
    local out=$1 count=$2 party=$3 batch=$4
    shift 4
    "$GENCSR" --count "$count" --party "$party" --batch "$batch" --out "$out" "$@" \
        2>>gencsr.log || fail "gencsr --count $count --batch $batch $* failed"
}

# drain HOME [LOG]: run --drain, fail unless it exits 0 within 60 s
drain() {
    local log=${2:-$1.drain.log} rc=0
    timeout 60 "$SMKI_BIN" run --home "$1" --drain >>"$log" 2>&1 || rc=$?
    [ "$rc" -ne 124 ] || { tail -n 20 "$log"; fail "run --home $1 --drain did not finish within 60 s"; }
    [ "$rc" -eq 0 ] || { tail -n 20 "$log"; fail "run --home $1 --drain exited $rc"; }
}

# put FILE into HOME's incoming/ under NAME (default: its base name), atomically
drop() {        # HOME FILE [NAME]
    local name=${3:-$(basename "$2")}
    cp "$2" "$1/spool/incoming/.$name.tmp" && mv "$1/spool/incoming/.$name.tmp" "$1/spool/incoming/$name" \
        || fail "cannot drop $2 into $1"
}

# --- receipts and responses -------------------------------------------------

receipt_path() { echo "$1/spool/receipts/$2.receipt.xml"; }      # HOME STEM
response_path() { echo "$1/spool/responses/$2_$3.response.xml"; }  # HOME PARTY BATCH

xfield() {      # FILE ELEMENT: text of the first element of that local name
    xmllint --xpath "string((//*[local-name()='$2'])[1])" "$1" 2>/dev/null
}

xcount() {      # FILE ELEMENT: how many elements of that local name
    xmllint --xpath "count(//*[local-name()='$2'])" "$1" 2>/dev/null
}

receipt_field() {   # HOME STEM ELEMENT
    local f
    f=$(receipt_path "$1" "$2")
    [ -f "$f" ] || fail "no receipt for $2 in $1/spool/receipts"
    xfield "$f" "$3"
}

assert_receipt_field() {    # HOME STEM ELEMENT WANT
    local got
    got=$(receipt_field "$1" "$2" "$3")
    [ "$got" = "$4" ] || fail "receipt $2: $3 is '$got', expected '$4' ($(receipt_field "$1" "$2" ErrorText))"
}

assert_receipt_valid() {    # HOME STEM
    local f
    f=$(receipt_path "$1" "$2")
    [ -f "$f" ] || fail "no receipt for $2 in $1/spool/receipts"
    xmllint --noout --schema "$SCHEMAS/batched-csr-receipt.xsd" "$f" >xsd.log 2>&1 \
        || { cat xsd.log; fail "receipt $2 does not validate against batched-csr-receipt.xsd"; }
}

assert_response_valid() {   # FILE
    [ -f "$1" ] || fail "no response file $1"
    xmllint --noout --schema "$SCHEMAS/batched-csr-response.xsd" "$1" >xsd.log 2>&1 \
        || { tail -n 5 xsd.log; fail "response $1 does not validate against batched-csr-response.xsd"; }
}

assert_no_receipt() {       # HOME STEM
    [ ! -e "$(receipt_path "$1" "$2")" ] || fail "'$2' got a receipt, but should have been ignored"
}

# assert_accepted HOME STEM: Accepted, valid, with a Turn and the night fields
assert_accepted() {
    assert_receipt_valid "$1" "$2"
    assert_receipt_field "$1" "$2" Status Accepted
    [ -n "$(receipt_field "$1" "$2" Turn)" ] || fail "Accepted receipt $2 has no Turn"
    [ -n "$(receipt_field "$1" "$2" ScheduledNight)" ] || fail "Accepted receipt $2 has no ScheduledNight"
    [ -n "$(receipt_field "$1" "$2" RetrieveNotBefore)" ] || fail "Accepted receipt $2 has no RetrieveNotBefore"
    [ "$(xcount "$(receipt_path "$1" "$2")" ErrorCode)" = 0 ] || fail "Accepted receipt $2 has an ErrorCode"
}

# assert_rejected HOME NAME CODE: the receipt says Rejected CODE, validates, has
# no Turn/ScheduledNight/RetrieveNotBefore, the entry itself moved to rejected/,
# and nothing of it reached archive/ or responses/
assert_rejected() {
    local home=$1 name=$2 code=$3 stem f el
    stem=${name%.xml}
    f=$(receipt_path "$home" "$stem")
    assert_receipt_valid "$home" "$stem"
    assert_receipt_field "$home" "$stem" Status Rejected
    assert_receipt_field "$home" "$stem" ErrorCode "$code"
    assert_receipt_field "$home" "$stem" File "$name"
    [ -n "$(receipt_field "$home" "$stem" ErrorText)" ] || fail "Rejected receipt $stem has no ErrorText"
    for el in Turn ScheduledNight RetrieveNotBefore; do
        [ "$(xcount "$f" "$el")" = 0 ] || fail "Rejected receipt $stem ($code) carries $el"
    done
    [ -e "$home/spool/rejected/$name" ] || [ -L "$home/spool/rejected/$name" ] \
        || fail "$name ($code) was not moved to rejected/"
    [ ! -e "$home/spool/incoming/$name" ] && [ ! -L "$home/spool/incoming/$name" ] \
        || fail "$name ($code) is still in incoming/"
    ! compgen -G "$home/spool/archive/$stem.*" >/dev/null || fail "$name ($code) left something in archive/"
}

# --- the daemon ---------------------------------------------------------------

DAEMON_PID=
start_daemon() {    # HOME LOG [env assignments...]
    local home=$1 log=$2
    shift 2
    DAEMON_LOG=$log
    env "$@" "$SMKI_BIN" run --home "$home" >>"$log" 2>&1 &
    DAEMON_PID=$!
}

# stop_daemon [SECONDS]: SIGTERM, wait; sets DAEMON_RC (124 when it did not stop)
stop_daemon() {
    local secs=${1:-10} i
    DAEMON_RC=
    [ -n "$DAEMON_PID" ] || return 0
    kill -TERM "$DAEMON_PID" 2>/dev/null
    for ((i = 0; i < secs * 10; i++)); do
        if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
            wait "$DAEMON_PID"
            DAEMON_RC=$?
            DAEMON_PID=
            return 0
        fi
        sleep 0.1
    done
    kill -KILL "$DAEMON_PID" 2>/dev/null
    wait "$DAEMON_PID" 2>/dev/null
    DAEMON_RC=124
    DAEMON_PID=
}

_e2e_cleanup() {
    [ -n "${DAEMON_PID:-}" ] && kill -KILL "$DAEMON_PID" 2>/dev/null
    return 0
}
trap _e2e_cleanup EXIT

# wait_for_file PATH SECONDS: 0 once PATH exists; 1 after SECONDS, or at once
# (with the daemon's log) when the background `run` has died meanwhile
DAEMON_LOG=
wait_for_file() {
    local i
    for ((i = 0; i < $2 * 20; i++)); do
        [ -e "$1" ] && return 0
        if [ -n "$DAEMON_PID" ] && ! kill -0 "$DAEMON_PID" 2>/dev/null; then
            [ -e "$1" ] && return 0
            local rc=0
            wait "$DAEMON_PID" || rc=$?
            DAEMON_PID=
            tail -n 5 "$DAEMON_LOG"
            echo "(the background run exited $rc while waiting for $(basename "$1"))"
            return 1
        fi
        sleep 0.05
    done
    return 1
}
