#!/usr/bin/env bash
# test_fault_archive.sh - a damaged archive (spool/archive/STEM.xml.zst): the
# request the service took is no longer what the party sent.  Two batches are
# taken (run --once at noon: intake only); the first's archive is damaged,
# (1) truncated to half its size, (2) a few bytes corrupted in the middle,
# (3) removed; then
# `run --drain`.  The first batch must become `failed` with a clear error in
# `status BATCH`, and nothing of it may be issued (no certificate recorded for
# its devices, so that the party can send the same CSRs again: they must then
# all be answered as the first time, not E_DUPLICATE_KEY); `fetch` of it exits
# 1 with the error; the second batch completes and is correct.
. "$(dirname "$0")/lib.sh"

N1=${FAULT_ARCHIVE_CSRS:-20000}
N2=300
NOON=2026-11-23T12:00:00Z
NIGHT=2026-11-23T21:00:00Z

step "two batches: A1 ($N1 CSRs) and A2 ($N2 CSRs)"
make_batch a1.xml "$N1" "$PARTY_A" A1 --faults signature:2,usage:1 --expect a1.tsv
make_batch a2.xml "$N2" "$PARTY_A" A2 --expect a2.tsv
# the same CSRs under another BatchID, for the resubmission
sed 's|<BatchID>A1</BatchID>|<BatchID>A1R</BatchID>|' a1.xml >a1r.xml
grep -q '<BatchID>A1R</BatchID>' a1r.xml || fail "cannot make the resubmission file"
sed -n 's|.*<DeviceID>\([^<]*\)</DeviceID>.*|\1|p' a1.xml >a1.devices
[ "$(wc -l <a1.devices)" = "$N1" ] || fail "cannot list the DeviceIDs of a1.xml"

state_of() {    # HOME BATCH
    SMKI_NOW=$NIGHT "$SMKI_BIN" status --home "$1" --json 2>/dev/null | python3 -c '
import json, sys
k = [b for b in json.load(sys.stdin)["batches"] if b["batch"] == sys.argv[1]]
print(k[0]["state"], k[0]["done"]) if k else print("none 0")' "$2" 2>/dev/null || echo "unreadable 0"
}

for variant in truncate corrupt missing; do
    step "variant: $variant"
    H=$PWD/H-$variant
    new_home "$H"
    add_party "$H" "$PARTY_A" ACME
    drop "$H" a1.xml
    sleep 0.05
    drop "$H" a2.xml
    SMKI_NOW=$NOON "$SMKI_BIN" run --home "$H" --once >once-$variant.log 2>&1 || { cat once-$variant.log; fail "$variant: run --once failed"; }
    assert_accepted "$H" a1
    assert_accepted "$H" a2
    assert_receipt_field "$H" a1 Turn 1
    read -r st _ < <(state_of "$H" A1)
    assert_eq "$variant: A1 after run --once at noon" "$st" queued
    arch=$H/spool/archive/a1.xml.zst
    [ -f "$arch" ] || fail "$variant: no archive $arch ($(ls "$H/spool/archive"))"
    size=$(stat -c %s "$arch")
    if [ $variant = truncate ]; then
        truncate -s $((size / 2)) "$arch"
        echo "archive truncated from $size to $((size / 2)) bytes"
    elif [ $variant = missing ]; then
        rm -f "$arch"
        echo "archive removed"
    else
        python3 - "$arch" <<'EOF'
import sys
p = sys.argv[1]
d = bytearray(open(p, "rb").read())
o = len(d) // 2
for i in range(8):
    d[o + i] ^= 0x5A
open(p, "wb").write(d)
print(f"8 bytes corrupted at offset {o} of {len(d)}")
EOF
    fi

    rc=0
    SMKI_NOW=$NIGHT timeout 120 "$SMKI_BIN" run --home "$H" --drain >drain-$variant.log 2>&1 || rc=$?
    grep -v ' info: ' drain-$variant.log | cut -c1-300 | sed 's/^/    | /'
    [ $rc != 124 ] || fail "$variant: run --drain did not finish in 120 s"
    [ $rc -le 1 ] || soft_fail "$variant: run --drain exited $rc (a crash?)"
    echo "run --drain exited $rc"

    # the second batch completes, whatever happened to the first
    read -r st done < <(state_of "$H" A2)
    [ "$st $done" = "done $N2" ] || soft_fail "$variant: A2 is '$st' at $done/$N2, expected done"
    r2=$(response_path "$H" "$PARTY_A" A2)
    if [ -f "$r2" ]; then
        python3 "$CHECK_RESPONSE" "$r2" a2.tsv >check2.log 2>&1 || soft_fail "$variant: A2's response is wrong: $(head -n 2 check2.log)"
    else
        soft_fail "$variant: no response for A2"
    fi

    # the first: failed, clearly, and nothing of it issued
    read -r st done < <(state_of "$H" A1)
    if [ "$st" != failed ]; then
        r1=$(response_path "$H" "$PARTY_A" A1)
        why="no response"
        [ -f "$r1" ] && why="its response differs from what the party sent: $(python3 "$CHECK_RESPONSE" "$r1" a1.tsv 2>&1 | grep -E '^RequestID' | head -n 3 | tr '\n' ';')"
        soft_fail "$variant: A1 (damaged archive) is '$st' at $done/$N1, expected failed: the damage was not detected; $why"
        continue
    fi
    SMKI_NOW=$NIGHT "$SMKI_BIN" status --home "$H" A1 >status-a1-$variant.txt 2>&1
    err=$(sed -n 's/^error: *//p' status-a1-$variant.txt)
    echo "status A1: $(grep -E '^(state|progress):' status-a1-$variant.txt | tr -s ' ' | tr '\n' ' ')"
    echo "status A1 error: $err"
    [ -n "$err" ] || soft_fail "$variant: 'status A1' shows no error"
    [ -z "$err" ] || echo "$err" | grep -q 'a1.xml.zst' || soft_fail "$variant: the error does not name the archive file: $err"
    [ ! -e "$(response_path "$H" "$PARTY_A" A1)" ] || soft_fail "$variant: a response was published for the damaged batch A1"
    left=$(ls -A "$H/spool/responses" | grep -v "^$(basename "$r2")\$" || true)
    [ -z "$left" ] || soft_fail "$variant: the failed batch left files in spool/responses/: $left"
    rnb=$(receipt_field "$H" a1 RetrieveNotBefore)
    rc=0
    SMKI_NOW=$rnb "$SMKI_BIN" fetch --home "$H" --party "$PARTY_A" --batch A1 --out f1.xml >fetch1.log 2>&1 || rc=$?
    [ $rc = 1 ] || soft_fail "$variant: fetch of the failed batch exited $rc, expected 1 ($(head -n 1 fetch1.log))"
    grep -qi 'fail' fetch1.log || soft_fail "$variant: fetch of the failed batch does not say it failed: $(head -n 1 fetch1.log)"
    rc=0
    SMKI_NOW=$rnb "$SMKI_BIN" fetch --home "$H" --party "$PARTY_A" --batch A2 --out f2.xml >fetch2.log 2>&1 || rc=$?
    [ $rc = 0 ] || soft_fail "$variant: fetch of A2 exited $rc: $(head -n 1 fetch2.log)"

    # nothing issued for A1: sample its devices (first, last, spread)
    recorded=0
    sample=$( (head -n 1 a1.devices; tail -n 1 a1.devices; shuf -n 40 a1.devices) )
    for d in $sample; do
        if "$SMKI_BIN" lookup --home "$H" --device "$d" >lookup.out 2>/dev/null && grep -q '^# serial' lookup.out; then
            recorded=$((recorded + 1))
        fi
    done
    [ $recorded = 0 ] || soft_fail "$variant: $recorded of 42 sampled devices of the FAILED batch A1 have a recorded certificate (status: $(grep -E '^progress:' status-a1-$variant.txt | tr -s ' ')): certificates issued that the party will never receive"
    grep -q "batch-failed turn=1 " "$H/audit.log" || soft_fail "$variant: no batch-failed audit entry for turn 1"
    "$SMKI_BIN" audit verify --home "$H" >audit-$variant.log 2>&1 || soft_fail "$variant: audit verify: $(head -n 2 audit-$variant.log)"

    # the party sends the same CSRs again: answered as the first time
    drop "$H" a1r.xml
    rc=0
    SMKI_NOW=$NIGHT timeout 120 "$SMKI_BIN" run --home "$H" --drain >drain-r-$variant.log 2>&1 || rc=$?
    [ $rc = 0 ] || soft_fail "$variant: run --drain of the resubmission exited $rc"
    rr=$(response_path "$H" "$PARTY_A" A1R)
    if [ -f "$rr" ]; then
        python3 "$CHECK_RESPONSE" "$rr" a1.tsv >checkr.log 2>&1 \
            || soft_fail "$variant: the resubmitted CSRs are not answered as expected: $(tail -n 1 checkr.log); $(grep -o 'got RequestID [0-9]* E_[A-Z_]*' checkr.log | awk '{print $4}' | sort | uniq -c | tr -s ' ' | tr '\n' ' ')"
    else
        soft_fail "$variant: no response for the resubmission A1R"
    fi
done
finish "damaged-archive checks passed"
