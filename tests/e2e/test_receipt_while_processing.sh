#!/usr/bin/env bash
# test_receipt_while_processing.sh - `run` takes files while it processes a
# batch: a file dropped while a 50,000-CSR batch is being signed gets its
# receipt before that batch is done (SPEC 2: a receipt within 1 s), then is
# processed in its turn; both responses are complete and valid.
. "$(dirname "$0")/lib.sh"

H=$PWD/H
new_home "$H"
add_party "$H" "$PARTY_A" ACME
set_conf "$H" pipeline workers 1      # one validate and one sign thread: a longer batch
NIGHT=2026-11-23T23:30:00Z            # inside the window (20:00-08:00 Europe/London)

make_batch big.xml 50000 "$PARTY_A" BIG
make_batch small.xml 3 "$PARTY_A" SMALL
drop "$H" big.xml
start_daemon "$H" daemon.log SMKI_NOW=$NIGHT

step "the big batch starts processing"
for ((i = 0; i < 1200; i++)); do
    grep -q 'turn 1: processing batch BIG' daemon.log && break
    kill -0 "$DAEMON_PID" 2>/dev/null || { tail daemon.log; fail "run exited before processing BIG"; }
    sleep 0.05
done
grep -q 'turn 1: processing batch BIG' daemon.log || { tail daemon.log; fail "BIG did not start processing in 60 s"; }
! grep -q 'turn 1: batch BIG done' daemon.log || fail "BIG was done before the test could drop a file; nothing tested"

step "a file dropped meanwhile is receipted before the batch is done"
drop "$H" small.xml
wait_for_file "$(receipt_path "$H" small)" 30 || { tail daemon.log; fail "no receipt for small.xml in 30 s"; }
assert_receipt_valid "$H" small
assert_receipt_field "$H" small Status Accepted
assert_receipt_field "$H" small Turn 2
accepted_at=$(grep -n 'small.xml: accepted' daemon.log | head -1 | cut -d: -f1)
done_at=$(grep -n 'turn 1: batch BIG done' daemon.log | head -1 | cut -d: -f1)
[ -n "$accepted_at" ] || { tail daemon.log; fail "the log does not say small.xml was accepted"; }
[ -z "$done_at" ] || [ "$accepted_at" -lt "$done_at" ] ||
    { tail daemon.log; fail "small.xml was receipted only after BIG was done (line $accepted_at > $done_at)"; }

step "both are processed, in turn order"
wait_for_file "$(response_path "$H" "$PARTY_A" SMALL)" 120 || { tail daemon.log; fail "no response for SMALL"; }
stop_daemon 20
[ "$DAEMON_RC" = 0 ] || { tail daemon.log; fail "run exited $DAEMON_RC on SIGTERM"; }
big=$(response_path "$H" "$PARTY_A" BIG)
small=$(response_path "$H" "$PARTY_A" SMALL)
assert_response_valid "$big"
assert_response_valid "$small"
assert_eq "Results in BIG's response" "$(grep -c '<Result>' "$big")" 50000
assert_eq "Results in SMALL's response" "$(grep -c '<Result>' "$small")" 3
big_done=$(grep -n 'turn 1: batch BIG done' daemon.log | cut -d: -f1)
small_done=$(grep -n 'turn 2: batch SMALL done' daemon.log | cut -d: -f1)
[ -n "$big_done" ] && [ -n "$small_done" ] && [ "$big_done" -lt "$small_done" ] ||
    fail "turn order: BIG (turn 1) must be done before SMALL (turn 2)"
finish
