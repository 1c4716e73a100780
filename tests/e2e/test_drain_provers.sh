#!/usr/bin/env bash
# test_drain_provers.sh - run --drain takes the first files (up to eight)
# before it processes anything, each with a prover checking proofs of
# possession ahead (pipeline/prover.c), and hands every prover to the
# processor for its own turn.  Three files with bad signatures, bad keys and
# duplicate keys among good requests, in one drain: all three are accepted
# before turn 1 starts, and every Result of every response is what gencsr
# expects (a proof checked ahead for one turn must never answer for another).
. "$(dirname "$0")/lib.sh"

H=$PWD/H
new_home "$H"
add_party "$H" "$PARTY_A" ACME
add_party "$H" "$PARTY_B" BETA
FAULTS=signature:25,key_offcurve:5,dup_key:5,id_mismatch:5

step "three files, faults among 1,200 requests each"
make_batch one.xml 1200 "$PARTY_A" DP-1 --faults "$FAULTS" --expect DP-1.tsv
make_batch two.xml 1200 "$PARTY_B" DP-2 --faults "$FAULTS" --expect DP-2.tsv
make_batch three.xml 1200 "$PARTY_A" DP-3 --faults "$FAULTS" --expect DP-3.tsv
touch -d '2026-11-22 12:00:01' one.xml
touch -d '2026-11-22 12:00:02' two.xml
touch -d '2026-11-22 12:00:03' three.xml
for f in one two three; do
    cp -p $f.xml "$H/spool/incoming/.$f.tmp" && mv "$H/spool/incoming/.$f.tmp" "$H/spool/incoming/$f.xml" \
        || fail "cannot drop $f.xml"
done
drain "$H"

step "every file taken before turn 1 starts"
log=$H.drain.log
first_turn=$(grep -n "turn 1: processing" "$log" | head -1 | cut -d: -f1)
[ -n "$first_turn" ] || { cat "$log"; fail "the drain never started turn 1"; }
for f in one two three; do
    assert_accepted "$H" "$f"
    at=$(grep -n "incoming/$f.xml: accepted" "$log" | head -1 | cut -d: -f1)
    [ -n "$at" ] && [ "$at" -lt "$first_turn" ] || { cat "$log"; fail "$f.xml was not taken before turn 1 started"; }
done

step "every response as expected"
for pb in "$PARTY_A DP-1 1" "$PARTY_B DP-2 2" "$PARTY_A DP-3 3"; do
    set -- $pb
    f=$(response_path "$H" "$1" "$2")
    assert_response_valid "$f"
    assert_eq "Turn in the response of $2" "$(xfield "$f" Turn)" "$3"
    python3 "$CHECK_RESPONSE" "$f" "$2.tsv" >check.log 2>&1 || { head -n 20 check.log; fail "the response of $2 does not match gencsr's expectations"; }
    bad=$(grep -c $'\tE_CSR_SIGNATURE$' "$2.tsv")
    [ "$bad" -ge 25 ] || fail "gencsr's expectations for $2 hold $bad bad signatures, not 25"
done
finish
