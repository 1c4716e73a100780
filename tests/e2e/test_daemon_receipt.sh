#!/usr/bin/env bash
# test_daemon_receipt.sh - with `run` in the background, `submit --wait` prints
# an Accepted receipt and exits 0; a bad file gets a Rejected receipt and exit 1;
# submit never overwrites on a name clash.
. "$(dirname "$0")/lib.sh"

H=$PWD/H
new_home "$H"
add_party "$H" "$PARTY_A" ACME
NOON=2026-11-23T12:00:00Z
export SMKI_NOW=$NOON

start_daemon "$H" daemon.log
# wait until it is up: its first receipt
make_batch warmup.xml 3 "$PARTY_A" WARM
smki submit --home "$H" warmup.xml >/dev/null || fail "submit warmup.xml failed"
wait_for_file "$(receipt_path "$H" warmup)" 10 || { tail daemon.log; fail "run is not taking files (no receipt for warmup.xml in 10 s)"; }

step "submit --wait, a good batch"
make_batch good.xml 3 "$PARTY_A" GOOD
rc=0
timeout 20 "$SMKI_BIN" submit --home "$H" --wait good.xml >good.out 2>good.err || rc=$?
[ "$rc" -ne 124 ] || fail "submit --wait did not return within 20 s"
[ "$rc" -eq 0 ] || { cat good.err; fail "submit --wait of a good batch exited $rc"; }
grep -q '<Status>Accepted</Status>' good.out || fail "submit --wait did not print an Accepted receipt: $(cat good.out)"
grep -q '<BatchID>GOOD</BatchID>' good.out || fail "the printed receipt does not name BatchID GOOD"
assert_accepted "$H" good

step "submit --wait, a bad batch"
make_batch bad.xml 3 "$PARTY_A" BAD --header-count 7
rc=0
timeout 20 "$SMKI_BIN" submit --home "$H" --wait bad.xml >bad.out 2>bad.err || rc=$?
[ "$rc" -ne 124 ] || fail "submit --wait did not return within 20 s"
[ "$rc" -eq 1 ] || fail "submit --wait of a bad batch exited $rc, expected 1"
grep -q '<Status>Rejected</Status>' bad.out || fail "submit --wait did not print a Rejected receipt: $(cat bad.out)"
grep -q '<ErrorCode>E_COUNT_MISMATCH</ErrorCode>' bad.out || fail "the printed receipt is not E_COUNT_MISMATCH: $(cat bad.out)"
assert_rejected "$H" bad.xml E_COUNT_MISMATCH

step "submit --wait, a name clash: never overwrites"
mkdir -p clash
make_batch clash/good.xml 3 "$PARTY_A" GOOD2
rc=0
timeout 20 "$SMKI_BIN" submit --home "$H" --wait clash/good.xml >clash.out 2>clash.err || rc=$?
[ "$rc" -eq 0 ] || { cat clash.err; fail "submit --wait of a second good.xml exited $rc"; }
grep -q '<BatchID>GOOD2</BatchID>' clash.out || fail "the receipt printed for the clashing name is not that of GOOD2: $(cat clash.out)"
assert_receipt_field "$H" good BatchID GOOD        # the first receipt is intact
n=$(grep -l '<BatchID>GOOD2</BatchID>' "$H"/spool/receipts/*.receipt.xml | wc -l)
assert_eq "receipts naming GOOD2" "$n" 1

step "a file dropped into the running service is receipted within 1 s (SPEC 1)"
make_batch fast.xml 3 "$PARTY_A" FAST
t0=$EPOCHREALTIME
drop "$H" fast.xml
wait_for_file "$(receipt_path "$H" fast)" 5 || fail "no receipt for fast.xml within 5 s"
ms=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
echo "receipt after $ms ms"
[ "$ms" -le 1000 ] || soft_fail "fast.xml was receipted after $ms ms, more than 1 s"
assert_accepted "$H" fast

step "a symbolic link dropped into the running service: E_FILE"
ln -s "$PWD/fast.xml" "$H/spool/incoming/link.xml"
wait_for_file "$(receipt_path "$H" link)" 5 || fail "no receipt for link.xml within 5 s"
sleep 0.2
assert_rejected "$H" link.xml E_FILE
[ -L "$H/spool/rejected/link.xml" ] || fail "the link itself was not moved to rejected/"

stop_daemon 10
check_daemon_stopped
finish "daemon receipt checks passed"
