#!/usr/bin/env bash
# test_turn_order.sh - three batches from two parties, dropped A1, B1, A2 (by
# modification time; their names sort the other way) get Turns 1, 2, 3; status
# lists them in turn order; every response validates and echoes its Turn.
. "$(dirname "$0")/lib.sh"

H=$PWD/H
new_home "$H"
add_party "$H" "$PARTY_A" ACME
add_party "$H" "$PARTY_B" BETA
IN=$H/spool/incoming

make_batch "$IN/c-first.xml" 4 "$PARTY_A" A1 --expect A1.tsv
make_batch "$IN/b-second.xml" 3 "$PARTY_B" B1 --expect B1.tsv
make_batch "$IN/a-third.xml" 5 "$PARTY_A" A2 --expect A2.tsv
touch -d '2026-11-22 12:00:01' "$IN/c-first.xml"
touch -d '2026-11-22 12:00:02' "$IN/b-second.xml"
touch -d '2026-11-22 12:00:03' "$IN/a-third.xml"
drain "$H"

step "receipts"
turn=1
for stem in c-first b-second a-third; do
    assert_accepted "$H" "$stem"
    assert_receipt_field "$H" "$stem" Turn "$turn"
    turn=$((turn + 1))
done
assert_receipt_field "$H" c-first BatchID A1
assert_receipt_field "$H" b-second BatchID B1
assert_receipt_field "$H" b-second PartyID "$PARTY_B"
assert_receipt_field "$H" a-third BatchID A2
assert_receipt_field "$H" a-third CSRCount 5

step "status"
smki status --home "$H" --json >status.json || fail "status --json failed"
python3 - status.json "$PARTY_A" "$PARTY_B" <<'EOF' || fail "status --json: $(cat status.json)"
import json, sys
d = json.load(open(sys.argv[1]))
a, b = sys.argv[2], sys.argv[3]
got = [(x["turn"], x["party"], x["batch"], x["csrs"], x["state"]) for x in d["batches"]]
want = [(1, a, "A1", 4, "done"), (2, b, "B1", 3, "done"), (3, a, "A2", 5, "done")]
if got != want:
    print("status --json batches:", got, "expected:", want)
    sys.exit(1)
EOF
smki status --home "$H" >status.txt || fail "status failed"
order=$(grep -oE '\b(A1|B1|A2)\b' status.txt | tr '\n' ' ')
assert_eq "batches in status, in order" "$order" "A1 B1 A2 "

step "responses"
for pb in "$PARTY_A A1 1" "$PARTY_B B1 2" "$PARTY_A A2 3"; do
    set -- $pb
    f=$(response_path "$H" "$1" "$2")
    assert_response_valid "$f"
    assert_eq "Turn in the response of $2" "$(xfield "$f" Turn)" "$3"
    assert_eq "BatchID in the response of $2" "$(xfield "$f" BatchID)" "$2"
    python3 "$CHECK_RESPONSE" "$f" "$2.tsv" >check.log || { cat check.log; fail "response of $2 does not match"; }
done
echo "turn order checks passed"
