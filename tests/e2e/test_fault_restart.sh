#!/usr/bin/env bash
# test_fault_restart.sh - a clean stop in the middle of a batch: `run` (the
# daemon, inside the nightly window) gets SIGTERM while it processes a
# 20,000-CSR batch: it exits 0 within a few seconds, at a chunk boundary;
# status shows the batch processing with 0 < progress < total.  The service
# is started again and stopped again mid-batch with SIGINT; then `run --drain`
# resumes (its log says so) and finishes: the response is complete and
# correct, every certificate once, the audit log intact.
. "$(dirname "$0")/lib.sh"

N=20000
NIGHT=2026-11-22T21:00:00Z
H=$PWD/H
new_home "$H"
add_party "$H" "$PARTY_A" ACME
make_batch r1.xml "$N" "$PARTY_A" R1 --faults signature:3,dup_request:2,key_type:2 --expect r1.tsv
RESP=$(response_path "$H" "$PARTY_A" R1)
PARTIAL=$H/spool/responses/.$(basename "$RESP").partial
EST=$((N * 850))

status_of() {
    SMKI_NOW=$NIGHT "$SMKI_BIN" status --home "$H" --json 2>/dev/null | python3 -c '
import json, sys
k = [b for b in json.load(sys.stdin)["batches"] if b["batch"] == "R1"]
print(k[0]["state"], k[0]["done"]) if k else print("none 0")' 2>/dev/null || echo "unreadable 0"
}

# stop_mid SIGNAL FROM TO LOG: start the daemon, wait until the response body
# is between FROM% and TO% of its size (a random point), send SIGNAL; it must
# exit 0 within 5 s and leave the batch processing with 0 < progress < N
LAST_DONE=0
stop_mid() {
    local sig=$1 from=$2 to=$3 log=$4 pct target size t0 secs rc st done i
    pct=$((from + RANDOM % (to - from + 1)))
    target=$((EST * pct / 100))
    start_daemon "$H" "$log" SMKI_NOW=$NIGHT
    for ((i = 0; i < 6000; i++)); do
        size=$(stat -c %s "$PARTIAL" 2>/dev/null || echo 0)
        [ "$size" -ge "$target" ] && break
        kill -0 "$DAEMON_PID" 2>/dev/null || break
        sleep 0.005
    done
    kill -0 "$DAEMON_PID" 2>/dev/null || { tail -n 5 "$log"; fail "the daemon exited before the $sig (at $size of ~$EST bytes)"; }
    t0=$EPOCHREALTIME
    kill -"$sig" "$DAEMON_PID"
    rc=124
    for ((i = 0; i < 100; i++)); do
        if ! kill -0 "$DAEMON_PID" 2>/dev/null; then rc=0; wait "$DAEMON_PID" || rc=$?; break; fi
        sleep 0.05
    done
    secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
    if [ $rc = 124 ]; then
        kill -KILL "$DAEMON_PID" 2>/dev/null; wait "$DAEMON_PID" 2>/dev/null
        DAEMON_PID=
        fail "SIG$sig at ~$pct% of the body: the daemon did not exit within 5 s"
    fi
    DAEMON_PID=
    read -r st done < <(status_of)
    echo "SIG$sig at ~$pct% of the body: exited $rc after ${secs}s; status: $st $done/$N"
    grep -E 'stopped|stop signal' "$log" | sed 's/^/    | /'
    [ $rc = 0 ] || soft_fail "SIG$sig: the daemon exited $rc, expected 0 (a clean stop)"
    awk -v s="$secs" 'BEGIN { exit !(s <= 5) }' || soft_fail "SIG$sig: the daemon took ${secs}s to stop"
    [ "$st" = processing ] || soft_fail "SIG$sig: the batch is '$st' after the stop, expected processing"
    { [ "$done" -gt "$LAST_DONE" ] && [ "$done" -lt "$N" ]; } \
        || soft_fail "SIG$sig: progress $done after the stop, expected between $((LAST_DONE + 1)) and $((N - 1))"
    [ $((done % 256)) = 0 ] || echo "(progress $done is not a multiple of 256)"
    [ ! -e "$RESP" ] || soft_fail "SIG$sig: a response was published for an unfinished batch"
    LAST_DONE=$done
    smki audit verify --home "$H" >audit-$sig.log 2>&1 || soft_fail "SIG$sig: audit verify: $(head -n 2 audit-$sig.log | tr '\n' ' ')"
}

step "the daemon takes the batch and starts it; SIGTERM in the middle"
drop "$H" r1.xml
stop_mid TERM 10 45 daemon1.log
grep -q 'accepted' daemon1.log || fail "the daemon did not take r1.xml"

step "started again, it resumes; SIGINT in the middle of what is left"
stop_mid INT 60 85 daemon2.log
grep -q 'resuming' daemon2.log || soft_fail "the restarted daemon does not say it is resuming: $(grep 'processing batch' daemon2.log)"

step "run --drain resumes and finishes"
SMKI_NOW=$NIGHT drain "$H" drain.log
grep 'processing batch\|done:' drain.log | sed 's/^/    | /'
grep -q 'resuming' drain.log || soft_fail "run --drain does not say it is resuming"
read -r st done < <(status_of)
[ "$st $done" = "done $N" ] || soft_fail "after the drain the batch is '$st' at $done/$N"

step "the response"
assert_response_valid "$RESP"
python3 "$CHECK_RESPONSE" "$RESP" r1.tsv >check.log 2>&1 || { tail -n 5 check.log; fail "the response does not match the expectations"; }
tail -n 1 check.log
python3 "$E2E_DIR/verify_batch.py" --bin "$SMKI_BIN" --home "$H" --response "$RESP" --turn 1 \
    --verify "${FAULT_VERIFY:-500}" --lookups 100 >verify.log 2>&1 || soft_fail "verify_batch: $(grep PROBLEM verify.log | head -n 3 | tr '\n' ' ')"
cat verify.log
[ -z "$(ls -A "$H/spool/responses" | grep -v "^$(basename "$RESP")\$")" ] || soft_fail "leftovers in responses/: $(ls -A "$H/spool/responses")"
smki audit verify --home "$H" >audit.log 2>&1 || soft_fail "audit verify: $(head -n 2 audit.log)"
cat audit.log
finish "clean stop and resume checks passed"
