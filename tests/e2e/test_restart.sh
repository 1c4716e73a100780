#!/usr/bin/env bash
# test_restart.sh - the turn counter and the queue survive a restart; `run`
# stops cleanly on SIGTERM; a file dropped while the service is down is taken
# by the rescan at start.
. "$(dirname "$0")/lib.sh"

H=$PWD/H
new_home "$H"
add_party "$H" "$PARTY_A" ACME
IN=$H/spool/incoming
NOON=2026-11-23T12:00:00Z      # outside the 20:00-08:00 window: `run` only takes files

step "turn counter across two drains"
make_batch "$IN/one.xml" 3 "$PARTY_A" R1
drain "$H"
assert_accepted "$H" one
assert_receipt_field "$H" one Turn 1
make_batch "$IN/two.xml" 3 "$PARTY_A" R2
drain "$H"
assert_accepted "$H" two
assert_receipt_field "$H" two Turn 2
assert_response_valid "$(response_path "$H" "$PARTY_A" R2)"
assert_eq "Turn in the response of R2" "$(xfield "$(response_path "$H" "$PARTY_A" R2)" Turn)" 2

step "the queue across a restart of the service"
make_batch "$IN/three.xml" 3 "$PARTY_A" R3
start_daemon "$H" daemon1.log SMKI_NOW=$NOON
wait_for_file "$(receipt_path "$H" three)" 5 || fail "run did not receipt three.xml within 5 s"
stop_daemon 10
check_daemon_stopped
assert_accepted "$H" three
assert_receipt_field "$H" three Turn 3
[ ! -e "$(response_path "$H" "$PARTY_A" R3)" ] || fail "R3 was processed outside the window"
SMKI_NOW=$NOON smki status --home "$H" --json >status1.json || fail "status --json failed"
python3 - status1.json <<'EOF' || fail "status after the restart: $(cat status1.json)"
import json, sys
d = json.load(open(sys.argv[1]))
got = [(x["turn"], x["batch"], x["state"]) for x in d["batches"]]
want = [(1, "R1", "done"), (2, "R2", "done"), (3, "R3", "queued")]
if got != want:
    print("status:", got, "expected:", want); sys.exit(1)
EOF
SMKI_NOW=$NOON smki status --home "$H" R3 >status-r3.txt || fail "status R3 failed"
grep -q queued status-r3.txt || fail "status R3 does not say queued: $(cat status-r3.txt)"

step "stop while down: a file dropped while stopped is taken at start"
make_batch files-four.xml 3 "$PARTY_A" R4
drop "$H" files-four.xml four.xml
start_daemon "$H" daemon2.log SMKI_NOW=$NOON
wait_for_file "$(receipt_path "$H" four)" 5 || fail "run did not receipt four.xml within 5 s"
stop_daemon 10
check_daemon_stopped
assert_receipt_field "$H" four Turn 4

make_batch files-five.xml 3 "$PARTY_A" R5
drop "$H" files-five.xml five.xml                 # while the service is down
sleep 0.2
start_daemon "$H" daemon3.log SMKI_NOW=$NOON
wait_for_file "$(receipt_path "$H" five)" 5 || fail "five.xml, dropped while run was down, got no receipt within 5 s of the start"
assert_accepted "$H" five
assert_receipt_field "$H" five Turn 5
# and the restarted service still watches: a file dropped now is taken too
make_batch files-six.xml 3 "$PARTY_A" R6
drop "$H" files-six.xml six.xml
wait_for_file "$(receipt_path "$H" six)" 5 || fail "six.xml, dropped into a running service, got no receipt within 5 s"
assert_receipt_field "$H" six Turn 6
stop_daemon 10
check_daemon_stopped
[ -z "$(ls -A "$IN")" ] || fail "incoming/ is not empty: $(ls -A "$IN")"

step "a drain after the restarts processes the surviving queue, in turn order"
drain "$H"
SMKI_NOW=$NOON smki status --home "$H" --json >status2.json || fail "status --json failed"
python3 - status2.json <<'EOF' || fail "status after the drain: $(cat status2.json)"
import json, sys
d = json.load(open(sys.argv[1]))
got = [(x["turn"], x["batch"], x["state"]) for x in d["batches"]]
want = [(i, "R%d" % i, "done") for i in range(1, 7)]
if got != want:
    print("status:", got, "expected:", want); sys.exit(1)
EOF
for i in 3 4 5 6; do
    f=$(response_path "$H" "$PARTY_A" "R$i")
    assert_response_valid "$f"
    assert_eq "Turn in the response of R$i" "$(xfield "$f" Turn)" "$i"
done
finish "restart checks passed"
