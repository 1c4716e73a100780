#!/usr/bin/env bash
# test_fault_disk_full.sh - a full disk (BRIEF.md section 6: "a full disk ... in
# the middle of a batch must leave the service able to resume, with every CSR
# answered exactly once").  Needs root (mount -t tmpfs); exits 77 (skip) when
# it cannot mount.
#
#  A. the whole home on a small tmpfs, filled so that intake fits and the
#     5,000-CSR batch's processing does not (several fill levels, so that the
#     space runs out at different writes): `run --drain` exits non-zero naming
#     the cause, the batch stays queued/processing, nothing is published;
#     space freed, `run --drain` completes, the response is complete and
#     correct, the audit log verifies.
#  B. the space runs out while an audit entry is being written (the audit log
#     alone on a tiny filesystem, bind-mounted over HOME/audit.log): the same.
#  C. the space runs out under the store (HOME/db alone on a small
#     filesystem): the same, and no crash.
#  D. the daemon on the full disk: it keeps retrying (logged), completes the
#     batch once space is freed, without a restart, and stops 0 on SIGTERM.
#  E. a receipt cannot be written (spool/receipts/ full): the file stays in
#     incoming/ and is taken (one turn, its receipt) once space returns, by
#     `run --drain` and by the daemon.
. "$(dirname "$0")/lib.sh"

N=5000
MNT=$PWD/mnt
MOUNTS=()
mkdir -p "$MNT"
if ! mount -t tmpfs -o size=48m,mode=0755 tmpfs "$MNT" 2>mount.err; then
    echo "SKIP: cannot mount a tmpfs (needs root): $(cat mount.err)"
    exit 77
fi
MOUNTS+=("$MNT")
cleanup() {
    _e2e_cleanup
    local i
    for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
        umount "${MOUNTS[$i]}" 2>/dev/null || umount -l "${MOUNTS[$i]}" 2>/dev/null
    done
}
trap cleanup EXIT

avail_kb() { df -k --output=avail "$1" | tail -n 1 | tr -d ' '; }
# fill DIR KB: a filler file in DIR leaving about KB kilobytes free on its filesystem
fill() {
    local a
    a=$(avail_kb "$1")
    [ "$a" -gt "$2" ] || return 0
    fallocate -l "$((a - $2))k" "$1/filler" 2>/dev/null \
        || dd if=/dev/zero of="$1/filler" bs=1k count="$((a - $2))" 2>/dev/null
    return 0
}
# own_fs PATH KB: PATH (a directory or a file) alone on a tmpfs of KB kilobytes,
# its content copied; sets T to the tmpfs's directory (where to put a filler)
TINY=0
own_fs() {
    TINY=$((TINY + 1))
    T=$PWD/tiny$TINY
    local t=$T
    mkdir -p "$t"
    mount -t tmpfs -o size="$2k",mode=0755 tmpfs "$t" || fail "cannot mount a tmpfs on $t"
    MOUNTS+=("$t")
    if [ -d "$1" ]; then
        cp -a "$1/." "$t/" && mount --bind "$t" "$1" || fail "cannot bind $t over $1"
    else
        cp -a "$1" "$t/file" && mount --bind "$t/file" "$1" || fail "cannot bind $t/file over $1"
    fi
    MOUNTS+=("$1")
}
unmount_last_two() {    # undo the last own_fs (bind, then tmpfs)
    local n=${#MOUNTS[@]}
    umount "${MOUNTS[$((n - 1))]}" && umount "${MOUNTS[$((n - 2))]}" || fail "cannot unmount ${MOUNTS[$((n - 1))]}"
    unset "MOUNTS[$((n - 1))]" "MOUNTS[$((n - 2))]"
    MOUNTS=("${MOUNTS[@]}")
}

state_of() {    # HOME BATCH: "STATE DONE" (or "none 0")
    "$SMKI_BIN" status --home "$1" --json 2>/dev/null | python3 -c '
import json, sys
k = [b for b in json.load(sys.stdin)["batches"] if b["batch"] == sys.argv[1]]
print(k[0]["state"], k[0]["done"]) if k else print("none 0")' "$2" 2>/dev/null || echo "unreadable 0"
}
nbatches() { "$SMKI_BIN" status --home "$1" --json 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["batches"]))'; }

# run_full HOME LOG WHAT: run --drain on the full disk: must exit 1 (not crash),
# name the cause, leave the batch queued/processing, publish nothing
run_full() {
    local home=$1 log=$2 what=$3 rc=0 st
    timeout 60 "$SMKI_BIN" run --home "$home" --drain >"$log" 2>&1 || rc=$?
    grep -v ' info: ' "$log" | head -n 4 | sed 's/^/    | /'
    if [ $rc = 0 ]; then soft_fail "$what: run --drain exited 0 on a full disk"
    elif [ $rc -gt 1 ]; then soft_fail "$what: run --drain exited $rc on a full disk (1 expected; $( [ $rc -ge 128 ] && echo "killed by signal $((rc - 128)): a crash" )): $(grep -v ' info: ' "$log" | head -n 2 | tr '\n' ' ')"
    fi
    grep -qi 'no space left' "$log" || soft_fail "$what: no log line names the cause (No space left): $(grep -v ' info: ' "$log" | head -n 3 | tr '\n' ' ')"
    read -r st _ < <(state_of "$home" D)
    case $st in queued|processing) ;; *) soft_fail "$what: batch D is '$st' after the failed run, expected queued or processing" ;; esac
    ! compgen -G "$home/spool/responses/*.response.xml" >/dev/null \
        || soft_fail "$what: a response was published on the full disk: $(ls "$home/spool/responses")"
    compgen -G "$home/spool/responses/*.tmp" >/dev/null && soft_fail "$what: a temp response file: $(ls -A "$home/spool/responses")"
    return 0
}

# check_done HOME LOG WHAT [deep]: run --drain now completes; response complete and correct
check_done() {
    local home=$1 log=$2 what=$3 rc=0 st done resp
    timeout 60 "$SMKI_BIN" run --home "$home" --drain >"$log" 2>&1 || rc=$?
    [ $rc = 0 ] || soft_fail "$what: run --drain after freeing space exited $rc: $(grep -v ' info: ' "$log" | head -n 3 | tr '\n' ' ')"
    check_answered "$home" "$what" "${4:-}"
}
check_answered() {  # HOME WHAT [deep]
    local home=$1 what=$2 st done resp
    read -r st done < <(state_of "$home" D)
    [ "$st $done" = "done $N" ] || soft_fail "$what: batch D is '$st' at $done/$N after space returned"
    resp=$(response_path "$home" "$PARTY_A" D)
    if [ ! -f "$resp" ]; then
        soft_fail "$what: no response after space returned"
    else
        xmllint --noout --schema "$SCHEMAS/batched-csr-response.xsd" "$resp" >xsd.log 2>&1 \
            || soft_fail "$what: the response does not validate: $(tail -n 2 xsd.log | tr '\n' ' ')"
        python3 "$CHECK_RESPONSE" "$resp" d.tsv >check.log 2>&1 \
            || soft_fail "$what: the response is not complete and correct: $(head -n 3 check.log | tr '\n' ' ')"
        if [ -n "${3:-}" ]; then
            python3 "$E2E_DIR/verify_batch.py" --bin "$SMKI_BIN" --home "$home" --response "$resp" --turn 1 \
                --verify 300 --lookups 50 >verify.log 2>&1 || soft_fail "$what: $(grep PROBLEM verify.log | head -n 3 | tr '\n' ' ')"
        fi
    fi
    local left
    left=$(ls -A "$home/spool/responses" | grep -v '\.response\.xml$' || true)
    [ -z "$left" ] || soft_fail "$what: leftovers in spool/responses/: $left"
    "$SMKI_BIN" audit verify --home "$home" >audit.log 2>&1 \
        || soft_fail "$what: audit verify fails after recovery: $(head -n 2 audit.log | tr '\n' ' ')"
}

fresh_home() {  # DIR: a home with party A and batch D in incoming/
    rm -rf "$1"
    new_home "$1"
    add_party "$1" "$PARTY_A" ACME
    drop "$1" d.xml
}

make_batch d.xml "$N" "$PARTY_A" D --faults signature:2,dup_key:1,key_offcurve:1 --expect d.tsv

step "A. the whole home on a tmpfs; processing runs out of space (several fill levels)"
LEVELS=${FAULT_DISK_LEVELS:-"1300 2100 2600 3300 $((1100 + RANDOM % 3000))"}
first=1
for leave in $LEVELS; do
    H=$MNT/a
    fresh_home "$H"
    rm -f "$MNT/filler"
    fill "$MNT" "$leave"
    echo "-- $leave KB left free"
    run_full "$H" "a$leave.1.log" "A ($leave KB free)"
    rm -f "$MNT/filler"
    check_done "$H" "a$leave.2.log" "A ($leave KB free)" $( [ $first = 1 ] && echo deep )
    first=0
    rm -rf "$H"
done

step "B. the space runs out in the middle of an audit entry"
H=$MNT/b
fresh_home "$H"
own_fs "$H/audit.log" 1024; t=$T       # room for the whole batch's entries once freed
fill "$t" 60
run_full "$H" b.1.log B
"$SMKI_BIN" audit verify --home "$H" >audit-b.log 2>&1 \
    || soft_fail "B: after the failed append (the writer knew it failed) the log does not verify: $(head -n 1 audit-b.log)"
rm -f "$t/filler"
check_done "$H" b.2.log B
unmount_last_two
rm -rf "$H"

step "C. the space runs out under the store (HOME/db)"
H=$MNT/c
fresh_home "$H"
own_fs "$H/db" 8192; t=$T
fill "$t" 1500
run_full "$H" c.1.log C
rm -f "$t/filler"
check_done "$H" c.2.log C
unmount_last_two
rm -rf "$H"

step "D. the daemon on a full disk retries, and completes once space is freed"
H=$MNT/d
fresh_home "$H"
rm -f "$MNT/filler"
fill "$MNT" 1500
: >daemon-d.log
start_daemon "$H" daemon-d.log SMKI_NOW=2026-11-22T21:00:00Z
for ((i = 0; i < 200; i++)); do
    grep -q 'retrying' daemon-d.log && break
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.1
done
grep -v ' info: ' daemon-d.log | head -n 4 | sed 's/^/    | /'
if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
    rc=0; wait "$DAEMON_PID" || rc=$?; DAEMON_PID=
    soft_fail "D: the daemon died on the full disk (exit $rc) instead of retrying: $(grep -v ' info: ' daemon-d.log | tail -n 2 | tr '\n' ' ')"
else
    grep -q 'retrying' daemon-d.log || soft_fail "D: the daemon does not say it is retrying within 20 s"
    grep -qi 'no space left' daemon-d.log || soft_fail "D: the daemon's log does not name the cause (No space left)"
    read -r st done < <(state_of "$H" D)
    [ "$st" != done ] || soft_fail "D: the batch is done on a full disk?"
    sleep 1
    rm -f "$MNT/filler"
    t0=$SECONDS
    while [ $((SECONDS - t0)) -lt 60 ]; do
        read -r st done < <(state_of "$H" D)
        [ "$st" = done ] && break
        kill -0 "$DAEMON_PID" 2>/dev/null || break
        sleep 0.5
    done
    echo "    the daemon finished $((SECONDS - t0)) s after space was freed (state $st, $done/$N)"
    [ "$st" = done ] || soft_fail "D: the daemon did not complete the batch within 60 s of space returning ($st $done/$N)"
    stop_daemon 10
    [ "$DAEMON_RC" = 0 ] || soft_fail "D: the daemon exited $DAEMON_RC on SIGTERM, expected 0"
    check_answered "$H" D
fi
stop_daemon 5
rm -f "$MNT/filler"
rm -rf "$H"

step "E. a receipt cannot be written: the file stays in incoming/, taken when space returns"
make_batch e-small.xml 10 "$PARTY_A" E1 --expect e1.tsv
make_batch e-unknown.xml 3 "$PARTY_UNKNOWN" E2
H=$MNT/e
rm -rf "$H"
new_home "$H"
add_party "$H" "$PARTY_A" ACME
own_fs "$H/spool/receipts" 64; t=$T
fill "$t" 0
drop "$H" e-small.xml good.xml
drop "$H" e-unknown.xml bad.xml
rc=0
timeout 60 "$SMKI_BIN" run --home "$H" --drain >e.1.log 2>&1 || rc=$?
grep -v ' info: ' e.1.log | head -n 4 | sed 's/^/    | /'
[ $rc = 1 ] || soft_fail "E: run --drain exited $rc when receipts could not be written, expected 1"
grep -qi 'no space left' e.1.log || soft_fail "E: no log line names the cause (No space left)"
for f in good.xml bad.xml; do
    [ -f "$H/spool/incoming/$f" ] || soft_fail "E: $f left incoming/ without a receipt"
done
[ -z "$(ls -A "$H/spool/receipts" | grep -v '^filler$')" ] || soft_fail "E: receipts/ holds $(ls -A "$H/spool/receipts")"
rm -f "$t/filler"
rc=0
timeout 60 "$SMKI_BIN" run --home "$H" --drain >e.2.log 2>&1 || rc=$?
[ $rc = 0 ] || soft_fail "E: run --drain after space returned exited $rc: $(grep -v ' info: ' e.2.log | head -n 2 | tr '\n' ' ')"
[ -z "$(ls -A "$H/spool/incoming")" ] || soft_fail "E: incoming/ still holds $(ls -A "$H/spool/incoming")"
assert_accepted "$H" good
assert_receipt_field "$H" good Turn 1
assert_rejected "$H" bad.xml E_UNKNOWN_PARTY
[ "$(nbatches "$H")" = 1 ] || soft_fail "E: $(nbatches "$H") batches queued for one accepted file"
r=$(response_path "$H" "$PARTY_A" E1)
[ -f "$r" ] && python3 "$CHECK_RESPONSE" "$r" e1.tsv >/dev/null || soft_fail "E: batch E1 not answered correctly"

step "E (daemon). the same with the service running"
make_batch e-three.xml 10 "$PARTY_A" E3
fill "$t" 0
start_daemon "$H" daemon-e.log SMKI_NOW=2026-11-23T12:00:00Z     # outside the window: intake only
sleep 0.5
drop "$H" e-three.xml three.xml
for ((i = 0; i < 100; i++)); do
    grep -q 'three.xml.*retry' daemon-e.log && break
    sleep 0.1
done
grep -q 'three.xml.*retry' daemon-e.log || soft_fail "E: the daemon did not log that the receipt of three.xml will be retried"
[ -f "$H/spool/incoming/three.xml" ] || soft_fail "E: three.xml left incoming/ without a receipt"
rm -f "$t/filler"
wait_for_file "$(receipt_path "$H" three)" 60 || soft_fail "E: the daemon did not write three.xml's receipt within 60 s of space returning"
stop_daemon 10
[ "$DAEMON_RC" = 0 ] || soft_fail "E: the daemon exited $DAEMON_RC on SIGTERM"
if [ -f "$(receipt_path "$H" three)" ]; then
    assert_accepted "$H" three
    assert_receipt_field "$H" three Turn 2
fi
[ ! -e "$H/spool/incoming/three.xml" ] || soft_fail "E: three.xml is still in incoming/ after its receipt"
[ "$(nbatches "$H")" = 2 ] || soft_fail "E: $(nbatches "$H") batches for two accepted files"

finish "disk-full checks passed"
