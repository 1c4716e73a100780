#!/usr/bin/env bash
# test_fault_kill.sh - kill -9 at random instants (BRIEF.md section 6: "a crash,
# a kill -9 ... in the middle of a batch must leave the service able to resume,
# with every CSR answered exactly once").
#
# One 20,000-CSR batch with a few faults of every kind.  `run --drain` is
# started on the same home again and again and SIGKILLed each time: at random
# instants (intake, processing, the end), and at a few chosen moments found by
# watching the spool: the archive appearing (intake, before the batch is
# queued), the receipt appearing (queued, before incoming/ is cleared), the
# .partial body nearly full, the response appearing (published, before its
# state is recorded).  After every kill the audit log must verify (but for a
# last entry torn by the kill, which the next run must cut and record) and the
# recorded progress must never go back.  Then one clean `run --drain`, and:
# one response, no leftovers, valid against the XSD, every RequestID once in
# order with its expected code, every certificate verifying against the CA,
# one recorded certificate per device+usage (lookup), unique serials, one
# turn, one receipt, audit intact.
#   FAULT_KILLS   number of kills (default 14, at least 10)
. "$(dirname "$0")/lib.sh"

KILLS=${FAULT_KILLS:-14}
[ "$KILLS" -ge 10 ] || KILLS=10
N=20000
H=$PWD/H
new_home "$H"
add_party "$H" "$PARTY_A" ACME
RESP=$(response_path "$H" "$PARTY_A" K1)
PARTIAL=$H/spool/responses/.$(basename "$RESP").partial

step "a $N-CSR batch with faults of every kind"
FAULTS=device_id:2,device_id_syntax:2,usage:2,base64:2,der_trailing:2,der_truncated:2,sig_alg:2,key_type:2
FAULTS=$FAULTS,key_compressed:2,key_offcurve:2,signature:2,id_mismatch:2,dup_request:2,dup_key:2
make_batch k1.xml "$N" "$PARTY_A" K1 --faults "$FAULTS" --expect k1.tsv
drop "$H" k1.xml

# status_of: "STATE DONE NBATCHES" of the home's queue (K1's state/progress)
status_of() {
    "$SMKI_BIN" status --home "$H" --json 2>status.err | python3 -c '
import json, sys
d = json.load(sys.stdin)["batches"]
k = [b for b in d if b["batch"] == "K1"]
print(k[0]["state"] if k else "none", k[0]["done"] if k else 0, len(d))' 2>/dev/null || echo "unreadable 0 0"
}

rand_between() {    # LO HI (seconds, decimals): a uniform random number, 3 decimals
    awk -v lo="$1" -v hi="$2" -v r="$RANDOM$RANDOM" 'BEGIN { srand(r); printf "%.3f", lo + rand() * (hi - lo) }'
}

# busy_wait_until CMD...: poll (no sleep: the moments are milliseconds wide)
# until CMD succeeds or the run ($PID) exits; 3,000,000 polls at most
busy_wait_until() {
    local n=0
    while ! "$@"; do
        kill -0 "$PID" 2>/dev/null || return 1
        n=$((n + 1))
        [ $n -lt 3000000 ] || return 1
    done
    return 0
}
archive_count() { local c=0 f; for f in "$H"/spool/archive/*.xml.zst; do [ -e "$f" ] && c=$((c + 1)); done; echo $c; }
archive_grew() { [ "$(archive_count)" -gt "$ARCH0" ]; }
receipt_there() { [ -e "$H/spool/receipts/k1.receipt.xml" ]; }
response_there() { [ -e "$RESP" ]; }
# wait_size FILE BYTES: until FILE holds BYTES or more (polled every 0.5 ms),
# or the run ($PID) exits
wait_size() {
    python3 - "$PID" "$1" "$2" <<'EOF'
import os, sys, time
pid, path, want = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
end = time.time() + 60
while time.time() < end:
    try:
        if os.stat(path).st_size >= want:
            sys.exit(0)
    except FileNotFoundError:
        pass
    try:
        if open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] in "ZX":
            sys.exit(1)     # exited, not yet reaped
    except (FileNotFoundError, ProcessLookupError):
        sys.exit(1)
    time.sleep(0.0005)
sys.exit(1)
EOF
}

step "calibration: the same batch on a scratch home, not killed"
new_home "$PWD/C"
add_party "$PWD/C" "$PARTY_A" ACME
drop "$PWD/C" k1.xml
t0=$EPOCHREALTIME
drain "$PWD/C" calibrate.log
T_FULL=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')
EST=$(stat -c %s "$(response_path "$PWD/C" "$PARTY_A" K1)")
echo "an uninterrupted run --drain takes ${T_FULL}s; the response is $EST bytes"
rm -rf "$PWD/C"

# the plan: random instants, plus the chosen moments at fixed places; the last
# two (the end of the batch) come after every random one
declare -a PLAN
for ((i = 1; i <= KILLS; i++)); do PLAN[$i]=time; done
PLAN[1]=archive; PLAN[2]=receipt; PLAN[3]=early
PLAN[$((KILLS - 1))]=partial; PLAN[$KILLS]=publish

declare -A LANDED=()
TORN=0
last_done=0
landed_total=0
step "$KILLS runs of 'run --drain', each SIGKILLed"
for ((i = 1; i <= KILLS; i++)); do
    how=${PLAN[$i]}
    read -r state done nbatches < <(status_of)
    if [ "$state" = done ]; then
        echo "(the batch completed before kill $i: no more kills to place)"
        break
    fi
    intake_pending=0
    [ -e "$H/spool/incoming/k1.xml" ] && intake_pending=1
    # the intake moments only while the file is still to be taken
    if [ $intake_pending = 0 ] && { [ "$how" = archive ] || [ "$how" = receipt ]; }; then how=time; fi
    ARCH0=$(archive_count)
    log=run.$i.log
    now=$(printf '2026-11-22T20:%02d:00Z' "$i")     # each restart a minute later
    SMKI_NOW=$now "$SMKI_BIN" run --home "$H" --drain >"$log" 2>&1 &
    PID=$!
    what=$how
    case $how in
        early) d=$(rand_between 0.02 0.12); sleep "$d"; what="after ${d}s" ;;
        time)
            # one kill in three after a random sleep from the start (startup,
            # re-reading the committed part, the first new chunks); the others
            # at a random instant in the new work: once the body holds a
            # random share of what is left (about an even share per kill
            # still to come), plus a random 0-20 ms
            # (close to the end, where one group of chunks may finish the
            # batch, only the sleeps: the end has its own two kills)
            if [ $((RANDOM % 3)) = 0 ] || [ $((N - done)) -lt 3000 ]; then
                d=$(rand_between 0.03 0.3); sleep "$d"; what="after ${d}s"
            else
                rem=$((KILLS - 2 - i + 1)); [ $rem -ge 1 ] || rem=1
                TARGET=$(awk -v d="$done" -v n="$N" -v e="$EST" -v rem="$rem" -v r="$RANDOM" 'BEGIN {
                    p = 1 + (2.0 * (n - d) / rem) * r / 32767; if (p > 0.6 * (n - d)) p = 0.6 * (n - d)
                    printf "%d", 1024 + (d + p) * (e - 1024) / n }')
                j=$(rand_between 0 0.02)
                wait_size "$PARTIAL" "$TARGET" && sleep "$j"
                what="body past $TARGET bytes +${j}s"
            fi ;;
        archive) busy_wait_until archive_grew; what="archive appeared" ;;
        receipt) busy_wait_until receipt_there; what="receipt appeared" ;;
        partial)
            f=$(rand_between 0.8 0.999)
            TARGET=$(awk -v d="$done" -v n="$N" -v e="$EST" -v f="$f" 'BEGIN {
                s = 1024 + d * (e - 1024) / n; printf "%d", s + f * (e - s) }')
            wait_size "$PARTIAL" "$TARGET"; what="body past $TARGET bytes (near the end)" ;;
        publish) busy_wait_until response_there; what="response appeared" ;;
    esac
    if kill -KILL "$PID" 2>/dev/null; then
        wait "$PID" 2>/dev/null
        landed_total=$((landed_total + 1))
        # where it landed, from what the run had logged
        if grep -q 'batch K1 done' "$log" || response_there; then where=end
        elif grep -q 'processing batch K1' "$log"; then where=processing
        elif [ $intake_pending = 1 ]; then where=intake
        else where=startup
        fi
    else
        rc=0
        wait "$PID" || rc=$?
        where=finished-first
        [ $rc = 0 ] || { tail -n 5 "$log"; soft_fail "run $i (not yet killed) exited $rc on its own"; }
    fi
    LANDED[$where]=$(( ${LANDED[$where]:-0} + 1 ))
    read -r state done nbatches < <(status_of)
    printf 'kill %2d (%s): landed in %-14s status: %s %s/%s\n' "$i" "$what" "$where" "$state" "$done" "$N"
    # invariants after every kill
    [ "$state" != unreadable ] || soft_fail "after kill $i: status cannot be read: $(cat status.err)"
    [ "$nbatches" -le 1 ] || soft_fail "after kill $i: $nbatches batches queued for one file (a second turn)"
    [ "$done" -ge "$last_done" ] || soft_fail "after kill $i: progress went back from $last_done to $done"
    last_done=$done
    if [ "$state" != done ] && [ -e "$RESP" ] && [ "$where" != end ]; then
        soft_fail "after kill $i: a response is published but the batch is $state at $done/$N"
    fi
    # the audit log verifies; a kill in the middle of an append may leave a
    # torn last line (no newline), which the next append cuts and records:
    # that alone is noted, anything else fails
    if ! "$SMKI_BIN" audit verify --home "$H" >audit.$i.log 2>&1; then
        if [ "$(grep -c '^line ' audit.$i.log)" = 1 ] && grep -q '^line .*torn' audit.$i.log; then
            echo "    (the kill tore the last audit entry: $(grep '^line ' audit.$i.log | cut -c1-60)...; the next run must cut it)"
            TORN=$((TORN + 1))
        else
            soft_fail "after kill $i ($what, in $where): audit verify fails: $(head -n 3 audit.$i.log | tr '\n' ' ')"
        fi
    fi
    if grep -qiE 'panic|assert|sanitizer|FAILED' "$log"; then
        soft_fail "run $i logged: $(grep -iE 'panic|assert|sanitizer|FAILED' "$log" | head -n 2 | tr '\n' ' ')"
    fi
done
[ "$landed_total" -ge 10 ] || soft_fail "only $landed_total kills landed before the batch completed (want at least 10)"
summary=""
for k in intake startup processing end finished-first; do summary+="$k=${LANDED[$k]:-0} "; done
echo "kills: $landed_total landed: $summary"

step "a clean run --drain to completion"
SMKI_NOW=2026-11-22T21:00:00Z drain "$H" final.log
cat final.log

step "the spool: one response, no leftovers"
[ -f "$RESP" ] || fail "no response file $RESP after the clean run"
leftover=$(ls -A "$H/spool/responses" | grep -v "^$(basename "$RESP")\$" || true)
[ -z "$leftover" ] || soft_fail "spool/responses/ holds more than the response: $leftover"
for d in archive receipts; do
    l=$(ls -A "$H/spool/$d" | grep -E '\.tmp$|\.partial$' || true)
    [ -z "$l" ] || soft_fail "spool/$d/ holds temp files after the clean finish: $l"
done
[ -z "$(ls -A "$H/spool/incoming")" ] || soft_fail "incoming/ is not empty: $(ls -A "$H/spool/incoming")"
[ -z "$(ls -A "$H/spool/rejected")" ] || soft_fail "rejected/ is not empty: $(ls -A "$H/spool/rejected")"
arch=$(ls -A "$H/spool/archive")
[ "$(echo "$arch" | wc -l)" = 1 ] \
    || soft_fail "spool/archive/ holds $(echo "$arch" | wc -l) files for one batch (an orphan from a killed intake): $(echo $arch)"
assert_accepted "$H" k1
assert_receipt_field "$H" k1 Turn 1
[ "$(ls -A "$H/spool/receipts")" = k1.receipt.xml ] || soft_fail "receipts/: $(ls -A "$H/spool/receipts")"

step "status: one batch, done, $N of $N"
read -r state done nbatches < <(status_of)
[ "$state $done $nbatches" = "done $N 1" ] || soft_fail "status after the clean run: state $state, $done of $N, $nbatches batch(es); expected done $N 1"
SMKI_NOW=2026-11-22T21:00:00Z smki status --home "$H" K1 >status-k1.txt || soft_fail "status K1 failed"
st_completed=$(sed -n 's/^completed: *//p' status-k1.txt)
resp_completed=$(xfield "$RESP" CompletedAt)
[ "$st_completed" = "$resp_completed" ] \
    || soft_fail "status K1 says completed $st_completed, the response's CompletedAt is $resp_completed"

step "the response: XSD, every RequestID once in order with its code"
assert_response_valid "$RESP"
python3 "$CHECK_RESPONSE" "$RESP" k1.tsv >check.log 2>&1 || { tail -n 20 check.log; fail "response does not match the expectations"; }
tail -n 1 check.log
python3 - "$RESP" <<'EOF' || soft_fail "RequestIDs not exactly 1..N once each, in order"
import sys, xml.etree.ElementTree as ET
NS = "{urn:smki:batched-csr:1}"
ids = [int(e.text) for e in ET.parse(sys.argv[1]).getroot().iter(NS + "RequestID")]
if ids != list(range(1, len(ids) + 1)):
    print("RequestIDs out of order or repeated"); sys.exit(1)
EOF

step "certificates, serials, repository, audit"
python3 "$E2E_DIR/verify_batch.py" --bin "$SMKI_BIN" --home "$H" --response "$RESP" --turn 1 \
    --verify "${FAULT_VERIFY:-all}" --lookups 100 >verify.log 2>&1 \
    || soft_fail "verify_batch.py: $(grep '^PROBLEM' verify.log | cut -c10- | head -n 3 | tr '\n' ';')"
grep -v '^PROBLEM' verify.log
"$SMKI_BIN" audit verify --home "$H" >audit-final.log 2>&1 || { cat audit-final.log; soft_fail "audit verify fails after the clean run"; }
cat audit-final.log
if [ "$TORN" -gt 0 ]; then
    grep -q ' audit-recovered ' "$H/audit.log" || soft_fail "$TORN kill(s) tore an audit entry, but no audit-recovered entry records the cut"
fi

step "fetch delivers the same bytes"
rnb=$(receipt_field "$H" k1 RetrieveNotBefore)
rc=0
SMKI_NOW=$rnb "$SMKI_BIN" fetch --home "$H" --party "$PARTY_A" --batch K1 --out fetched.xml >fetch.log 2>&1 || rc=$?
[ $rc = 0 ] || soft_fail "fetch exited $rc: $(cat fetch.log)"
[ $rc != 0 ] || cmp -s fetched.xml "$RESP" || soft_fail "fetch delivered something else than $RESP"

echo "kills: $landed_total landed: $summary"
finish "kill -9 checks passed ($landed_total kills)"
