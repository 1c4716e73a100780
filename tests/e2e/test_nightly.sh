#!/usr/bin/env bash
# test_nightly.sh - the nightly capacity model end to end (BRIEF 2-4, capacity.h),
# with a frozen clock (SMKI_NOW; November, so local time = UTC) and the capacity
# scaled down in smki-batch.conf so that the same rules show with 1,000-CSR
# batches instead of 400,000 CSRs:
#   1. run --once at 12:00 (outside the window) takes files, processes nothing;
#      19:59 -> ScheduledNight that day, RetrieveNotBefore 08:00 next day;
#      20:01 -> RetrieveNotBefore 22:00 the day after;
#   2. eight 1,000-CSR batches from eight parties, nightly = 4,000: receipts put
#      four tonight and four on the next night; run --once at 20:30 processes
#      exactly tonight's four; plan shows the rest on the next night (at risk);
#      plan --svg parses; the next night's run --once does the rest;
#   3. party allowance 1,500: a party's third 1,000-CSR batch is excess and
#      waits behind another party's later batch when the night (3,000) has room
#      for only one of them; with an uplift, turn order again;
#   4. the same rule with 2-CSR batches: the plan's order within the night.
. "$(dirname "$0")/lib.sh"

DAY0=2026-11-22
DAY1=2026-11-23
DAY2=2026-11-24

party() { printf '90-B3-D5-1F-30-%02X-00-00' "$1"; }   # party k (1..)

# once HOME NOW: run --once with the clock at NOW; must exit 0 within 60 s
once() {
    local rc=0
    SMKI_NOW=$2 timeout 60 "$SMKI_BIN" run --home "$1" --once >>"$1.once.log" 2>&1 || rc=$?
    [ "$rc" -ne 124 ] || { tail -n 20 "$1.once.log"; fail "run --once at $2 did not finish within 60 s"; }
    [ "$rc" -eq 0 ] || { tail -n 20 "$1.once.log"; fail "run --once (SMKI_NOW=$2) exited $rc"; }
}

# states HOME: "BATCH=state ..." in turn order, from status --json
states() {
    smki status --home "$1" --json >"$1.status.json" || fail "status --json failed"
    python3 - "$1.status.json" <<'EOF' || fail "status --json is not JSON: $(head -c 300 "$1.status.json")"
import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join(f"{b['batch']}={b['state']}" for b in sorted(d["batches"], key=lambda b: b["turn"])))
EOF
}

# plan_nights HOME NOW: "NIGHT:BATCH[!]" per planned batch in the plan's order
# (! = AT RISK, * = beyond its allowance), from the text of `plan`
plan_nights() {
    SMKI_NOW=$2 smki plan --home "$1" >"$1.plan.txt" 2>&1 || { cat "$1.plan.txt"; fail "plan (SMKI_NOW=$2) failed"; }
    awk '/^night [0-9-]+ /{ night = $2; next }
         night != "" && $1 ~ /^[0-9]+$/ && $2 ~ /^[0-9A-F][0-9A-F]-/ {
             mark = ""; if ($0 ~ /AT RISK/) mark = mark "!"; if ($0 ~ /beyond its 24 h allowance/) mark = mark "*"
             printf "%s%s:%s%s", sep, night, $3, mark; sep = " " }
         END { print "" }' "$1.plan.txt"
}

assert_plan() {     # HOME NOW WANT
    local got
    got=$(plan_nights "$1" "$2")
    [ "$got" = "$3" ] || { cat "$1.plan.txt"; fail "plan at $2: got '$got', expected '$3'"; }
}

# ---------------------------------------------------------------------------
step "1. outside the window; receipt times at 19:59 and 20:01"
H=$PWD/H1
new_home "$H"
add_party "$H" "$PARTY_A" ACME
make_batch noon.xml 2 "$PARTY_A" NOON
drop "$H" noon.xml
once "$H" ${DAY0}T12:00:00Z
assert_accepted "$H" noon
[ -z "$(ls -A "$H/spool/incoming")" ] || fail "run --once at 12:00 left files in incoming/: $(ls -A "$H/spool/incoming")"
assert_eq "state after run --once at 12:00" "$(states "$H")" "NOON=queued"
[ ! -e "$(response_path "$H" "$PARTY_A" NOON)" ] || fail "run --once at 12:00 (outside the window) wrote a response"
assert_receipt_field "$H" noon ScheduledNight $DAY0
assert_receipt_field "$H" noon RetrieveNotBefore ${DAY1}T08:00:00Z

make_batch early.xml 2 "$PARTY_A" EARLY --device-base 00DB123400010000
drop "$H" early.xml
once "$H" ${DAY0}T19:59:00Z
assert_accepted "$H" early
assert_receipt_field "$H" early ReceivedAt ${DAY0}T19:59:00Z
assert_receipt_field "$H" early ScheduledNight $DAY0
assert_receipt_field "$H" early RetrieveNotBefore ${DAY1}T08:00:00Z
assert_eq "states after run --once at 19:59" "$(states "$H")" "NOON=queued EARLY=queued"

make_batch late.xml 2 "$PARTY_A" LATE --device-base 00DB123400020000
drop "$H" late.xml
once "$H" ${DAY0}T20:01:00Z
assert_accepted "$H" late
assert_receipt_field "$H" late ReceivedAt ${DAY0}T20:01:00Z
assert_receipt_field "$H" late ScheduledNight $DAY0
assert_receipt_field "$H" late RetrieveNotBefore ${DAY1}T22:00:00Z
# inside the window, with room: all three are done
assert_eq "states after run --once at 20:01" "$(states "$H")" "NOON=done EARLY=done LATE=done"
for b in NOON EARLY LATE; do assert_response_valid "$(response_path "$H" "$PARTY_A" $b)"; done

# ---------------------------------------------------------------------------
step "2. eight parties, nightly capacity 4,000, batches of 1,000 at 19:00"
H=$PWD/H2
new_home "$H"
set_conf "$H" capacity nightly 4000
IN=$H/spool/incoming
for k in 1 2 3 4 5 6 7 8; do
    add_party "$H" "$(party $k)" "PARTY$k"
    make_batch "$IN/n$k.xml" 1000 "$(party $k)" "N$k" --device-base "00DB12340${k}000000"
    touch -d "$DAY0 18:00:0$k" "$IN/n$k.xml"
done
once "$H" ${DAY0}T19:00:00Z
for k in 1 2 3 4 5 6 7 8; do
    assert_accepted "$H" "n$k"
    assert_receipt_field "$H" "n$k" Turn "$k"
    if [ "$k" -le 4 ]; then
        assert_receipt_field "$H" "n$k" ScheduledNight $DAY0
        assert_receipt_field "$H" "n$k" RetrieveNotBefore ${DAY1}T08:00:00Z
    else    # the excess goes to the next night; not retrievable before it ends
        assert_receipt_field "$H" "n$k" ScheduledNight $DAY1
        assert_receipt_field "$H" "n$k" RetrieveNotBefore ${DAY2}T08:00:00Z
    fi
done
assert_eq "states after intake at 19:00" "$(states "$H")" \
    "N1=queued N2=queued N3=queued N4=queued N5=queued N6=queued N7=queued N8=queued"
# deadline 08:00 on the 23rd: the four on the next night are at risk
assert_plan "$H" ${DAY0}T19:30:00Z \
    "$DAY0:N1 $DAY0:N2 $DAY0:N3 $DAY0:N4 $DAY1:N5! $DAY1:N6! $DAY1:N7! $DAY1:N8!"
grep -q "4 batch(es) will miss their SEC L8 deadline" "$H.plan.txt" \
    || { cat "$H.plan.txt"; fail "plan does not say that 4 batches will miss their deadline"; }

step "2b. run --once at 20:30 processes exactly tonight's batches"
once "$H" ${DAY0}T20:30:00Z
assert_eq "states after run --once at 20:30" "$(states "$H")" \
    "N1=done N2=done N3=done N4=done N5=queued N6=queued N7=queued N8=queued"
for k in 1 2 3 4; do assert_response_valid "$(response_path "$H" "$(party $k)" "N$k")"; done
for k in 5 6 7 8; do
    [ ! -e "$(response_path "$H" "$(party $k)" "N$k")" ] || fail "N$k (planned for $DAY1) has a response already"
done
assert_plan "$H" ${DAY0}T20:30:00Z "$DAY1:N5! $DAY1:N6! $DAY1:N7! $DAY1:N8!"
grep -qE "^night $DAY0 .* 4000 already done" "$H.plan.txt" \
    || { cat "$H.plan.txt"; fail "plan does not count tonight's 4,000 CSRs as already done"; }
SMKI_NOW=${DAY0}T20:30:00Z smki plan --home "$H" --svg "$PWD/plan.svg" >plan-svg.log 2>&1 \
    || { cat plan-svg.log; fail "plan --svg failed"; }
[ -s plan.svg ] || fail "plan --svg wrote nothing"
xmllint --noout plan.svg 2>svg.log || { cat svg.log; fail "plan --svg: the SVG does not parse"; }
[ "$(xmllint --xpath 'local-name(/*)' plan.svg)" = svg ] || fail "plan --svg: the root element is not <svg>"
# another pass later tonight: the capacity is used up, nothing more
once "$H" ${DAY0}T23:00:00Z
assert_eq "states after run --once at 23:00" "$(states "$H")" \
    "N1=done N2=done N3=done N4=done N5=queued N6=queued N7=queued N8=queued"
# the next night takes the rest
once "$H" ${DAY1}T20:30:00Z
assert_eq "states after run --once the next night" "$(states "$H")" \
    "N1=done N2=done N3=done N4=done N5=done N6=done N7=done N8=done"

# ---------------------------------------------------------------------------
step "3. a party beyond its allowance waits behind another party's later batch"
# allowance 1,500: A1 (nothing before), A2 (1,000 before) compliant, A3 (2,000
# before) excess; B1 arrives after A3; the night (3,000) has room for A1, A2
# and one more
allowance_home() {  # HOME [UPLIFT]
    new_home "$1"
    set_conf "$1" capacity nightly 3000
    set_conf "$1" capacity party_allowance 1500
    smki party add --home "$1" --id "$PARTY_A" --name ACME ${2:+--uplift "$2"} >/dev/null || fail "party add A"
    add_party "$1" "$PARTY_B" BETA
    local i=0 spec
    for spec in "$PARTY_A A1" "$PARTY_A A2" "$PARTY_A A3" "$PARTY_B B1"; do
        set -- "$1" $spec
        i=$((i + 1))
        make_batch "x$i.xml" 1000 "$2" "$3" --device-base "00DB12350${i}000000"
        drop "$1" "x$i.xml" "$3.xml"
        once "$1" ${DAY0}T19:0$i:00Z
        assert_accepted "$1" "$3"
        assert_receipt_field "$1" "$3" Turn "$i"
    done
}
H=$PWD/H3
allowance_home "$H"
assert_plan "$H" ${DAY0}T19:30:00Z "$DAY0:A1 $DAY0:A2 $DAY0:B1 $DAY1:A3!*"
once "$H" ${DAY0}T20:30:00Z
assert_eq "states after run --once at 20:30" "$(states "$H")" "A1=done A2=done A3=queued B1=done"
assert_plan "$H" ${DAY0}T20:30:00Z "$DAY1:A3!*"
[ -e "$(response_path "$H" "$PARTY_B" B1)" ] || fail "B1 has no response"
[ ! -e "$(response_path "$H" "$PARTY_A" A3)" ] || fail "A3 (excess) has a response although B1 took the room"

step "3b. with an uplift of 2,000 (allowance 3,500): turn order"
H=$PWD/H4
allowance_home "$H" 2000
assert_plan "$H" ${DAY0}T19:30:00Z "$DAY0:A1 $DAY0:A2 $DAY0:A3 $DAY1:B1!"
once "$H" ${DAY0}T20:30:00Z
assert_eq "states after run --once at 20:30" "$(states "$H")" "A1=done A2=done A3=done B1=queued"

# ---------------------------------------------------------------------------
step "4. small batches: the excess one still comes after the compliant one"
# allowance 3: A's third 2-CSR batch (4 before it) is excess; everything fits
# tonight, and the plan (what run follows) must put B1 before A3
H=$PWD/H5
new_home "$H"
set_conf "$H" capacity party_allowance 3
add_party "$H" "$PARTY_A" ACME
add_party "$H" "$PARTY_B" BETA
i=0
for spec in "$PARTY_A S1" "$PARTY_A S2" "$PARTY_A S3" "$PARTY_B T1"; do
    set -- $spec
    i=$((i + 1))
    make_batch "s$i.xml" 2 "$1" "$2" --device-base "00DB12360${i}000000"
    drop "$H" "s$i.xml"
    once "$H" ${DAY0}T19:1$i:00Z
done
got=$(plan_nights "$H" ${DAY0}T19:30:00Z)
[ "$got" = "$DAY0:S1 $DAY0:S2 $DAY0:T1 $DAY0:S3*" ] \
    || soft_fail "2-CSR batches: plan order is '$got', expected '$DAY0:S1 $DAY0:S2 $DAY0:T1 $DAY0:S3*' (the excess S3 must follow T1)"
# and run follows the plan: the order it processes them in (its log)
: >"$H.once.log"
once "$H" ${DAY0}T20:30:00Z
assert_eq "states after run --once at 20:30" "$(states "$H")" "S1=done S2=done S3=done T1=done"
got=$(grep -oE 'processing batch [A-Z0-9]+' "$H.once.log" | awk '{ printf "%s%s", sep, $3; sep = " " }')
[ "$got" = "S1 S2 T1 S3" ] \
    || soft_fail "2-CSR batches: run --once processed them in the order '$got', expected 'S1 S2 T1 S3' (the excess S3 after T1)"

finish "nightly capacity checks passed"
