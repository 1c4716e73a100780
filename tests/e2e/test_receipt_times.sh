#!/usr/bin/env bash
# test_receipt_times.sh - ReceivedAt, ScheduledNight and RetrieveNotBefore of
# Accepted receipts (SPEC 3.2, BRIEF 4): before 20:00 local -> not before 08:00
# the next day; after 20:00 -> not before 22:00 the day after; Europe/London
# local time, daylight saving included.
. "$(dirname "$0")/lib.sh"

H=$PWD/H
new_home "$H"
add_party "$H" "$PARTY_A" ACME
n=0
# now | ScheduledNight | RetrieveNotBefore
while read -r now night rnb; do
    n=$((n + 1))
    make_batch "t$n.xml" 2 "$PARTY_A" "TIME-$n"
    drop "$H" "t$n.xml"
    SMKI_NOW=$now drain "$H"
    assert_receipt_valid "$H" "t$n"
    assert_receipt_field "$H" "t$n" Status Accepted
    assert_receipt_field "$H" "t$n" ReceivedAt "$now"
    assert_receipt_field "$H" "t$n" ScheduledNight "$night"
    assert_receipt_field "$H" "t$n" RetrieveNotBefore "$rnb"
    assert_receipt_field "$H" "t$n" Turn "$n"
done <<'TIMES'
2026-11-22T19:59:59Z 2026-11-22 2026-11-23T08:00:00Z
2026-11-22T20:00:00Z 2026-11-22 2026-11-23T22:00:00Z
2026-11-22T23:30:00Z 2026-11-22 2026-11-23T22:00:00Z
2026-11-23T08:00:00Z 2026-11-23 2026-11-24T08:00:00Z
2026-07-01T18:30:00Z 2026-07-01 2026-07-02T07:00:00Z
2026-07-01T19:30:00Z 2026-07-01 2026-07-02T21:00:00Z
2026-03-28T21:00:00Z 2026-03-28 2026-03-29T21:00:00Z
2026-10-24T20:30:00Z 2026-10-24 2026-10-25T22:00:00Z
TIMES
finish "receipt time checks passed"
