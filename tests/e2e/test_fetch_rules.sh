#!/usr/bin/env bash
# test_fetch_rules.sh - `fetch` keeps the retrieval rules of BRIEF 4 with the
# exit codes of SPEC 1 / cmd_fetch.c, in their order (2, 4, 5, 6, 3, 0), with
# a frozen clock (SMKI_NOW; November, local time = UTC):
#   2 unknown batch (or party); 4 before RetrieveNotBefore; 3 still pending
#   (queued) after it; 6 polled again within the hour; 3 again once the hour
#   is up; 0 delivered once done (the output is the response file, byte for
#   byte), also when the last poll was minutes ago; 5 on a second fetch (and 4
#   still wins before RetrieveNotBefore); fetch --reopen, then 0 once more.
#   A batch submitted after 20:00: 4 until 22:00 the day after, then 3.
. "$(dirname "$0")/lib.sh"

DAY0=2026-11-22
DAY1=2026-11-23

# fetch_at WANT NOW ARGS...: fetch with the clock at NOW; stdout to fetch.out,
# stderr to fetch.err; fail unless it exits WANT
fetch_at() {
    local want=$1 now=$2 rc=0
    shift 2
    SMKI_NOW=$now "$SMKI_BIN" fetch --home "$H" "$@" >fetch.out 2>fetch.err || rc=$?
    [ "$rc" -eq "$want" ] || { cat fetch.err; fail "fetch $* at $now exited $rc, expected $want"; }
    if [ "$want" -ne 0 ]; then
        [ -s fetch.err ] || fail "fetch $* at $now exited $rc without saying why on stderr"
        [ ! -s fetch.out ] || fail "fetch $* at $now exited $rc but printed on stdout: $(head -c 200 fetch.out)"
    fi
}

# once HOME NOW: run --once with the clock at NOW
once() {
    local rc=0
    SMKI_NOW=$2 timeout 60 "$SMKI_BIN" run --home "$1" --once >>"$1.once.log" 2>&1 || rc=$?
    [ "$rc" -eq 0 ] || { tail -n 20 "$1.once.log"; fail "run --once (SMKI_NOW=$2) exited $rc"; }
}

H=$PWD/H
new_home "$H"
add_party "$H" "$PARTY_A" ACME
add_party "$H" "$PARTY_B" BETA

step "a batch received at 19:00, taken outside the window (queued)"
make_batch f1.xml 3 "$PARTY_A" F1
drop "$H" f1.xml
once "$H" ${DAY0}T19:00:00Z
assert_accepted "$H" f1
assert_receipt_field "$H" f1 RetrieveNotBefore ${DAY1}T08:00:00Z
RESP=$(response_path "$H" "$PARTY_A" F1)

step "2: unknown batch"
fetch_at 2 ${DAY1}T09:00:00Z --party "$PARTY_A" --batch NO-SUCH-BATCH
grep -q "NO-SUCH-BATCH" fetch.err || fail "the exit-2 message does not name the batch: $(cat fetch.err)"
fetch_at 2 ${DAY1}T09:00:00Z --party "$PARTY_B" --batch F1          # another party's BatchID
fetch_at 2 ${DAY1}T09:00:00Z --party "$PARTY_UNKNOWN" --batch F1    # no such party

step "4: before RetrieveNotBefore"
fetch_at 4 ${DAY0}T19:30:00Z --party "$PARTY_A" --batch F1
fetch_at 4 ${DAY1}T07:59:59Z --party "$PARTY_A" --batch F1
grep -q "${DAY1}T08:00:00Z" fetch.err || fail "the exit-4 message does not say when: $(cat fetch.err)"

step "3: pending after RetrieveNotBefore; 6 within the hour; 3 once the hour is up"
fetch_at 3 ${DAY1}T08:30:00Z --party "$PARTY_A" --batch F1
grep -qi "queued" fetch.err || fail "the exit-3 message does not say the batch is queued: $(cat fetch.err)"
fetch_at 6 ${DAY1}T08:30:01Z --party "$PARTY_A" --batch F1
fetch_at 6 ${DAY1}T09:00:00Z --party "$PARTY_A" --batch F1
fetch_at 6 ${DAY1}T09:29:59Z --party "$PARTY_A" --batch F1
fetch_at 3 ${DAY1}T09:30:00Z --party "$PARTY_A" --batch F1      # an hour after the recorded poll
fetch_at 6 ${DAY1}T09:45:00Z --party "$PARTY_A" --batch F1      # the 09:30 poll was recorded
fetch_at 4 ${DAY1}T07:00:00Z --party "$PARTY_A" --batch F1      # 4 comes before 6
[ ! -e "$RESP" ] || fail "a response exists for the queued batch F1"

step "0: delivered once done, the response file byte for byte"
SMKI_NOW=${DAY1}T10:00:00Z drain "$H"
assert_response_valid "$RESP"
fetch_at 0 ${DAY1}T10:05:00Z --party "$PARTY_A" --batch F1      # last poll 35 min ago: still delivered
cmp -s fetch.out "$RESP" || fail "fetch's output differs from $RESP ($(wc -c <fetch.out) vs $(wc -c <"$RESP") bytes)"

step "5: a second retrieval"
fetch_at 5 ${DAY1}T10:06:00Z --party "$PARTY_A" --batch F1
fetch_at 5 ${DAY1}T12:00:00Z --party "$PARTY_A" --batch F1
fetch_at 4 ${DAY1}T07:00:00Z --party "$PARTY_A" --batch F1      # 4 comes before 5
fetch_at 2 ${DAY1}T10:06:00Z --party "$PARTY_A" --batch F2      # 2 comes first
[ -f "$RESP" ] || fail "the retrieved response left responses/ (it stays until retention removes it)"

step "fetch --reopen, then 0 again (--out), then 5"
fetch_at 0 ${DAY1}T10:10:00Z --party "$PARTY_A" --batch F1 --reopen
fetch_at 0 ${DAY1}T10:11:00Z --party "$PARTY_A" --batch F1 --out "$PWD/again.xml"
cmp -s again.xml "$RESP" || fail "fetch --out after --reopen: again.xml differs from $RESP"
[ ! -e again.xml.tmp ] || fail "fetch --out left again.xml.tmp behind"
fetch_at 5 ${DAY1}T10:12:00Z --party "$PARTY_A" --batch F1
fetch_at 5 ${DAY1}T10:12:00Z --party "$PARTY_A" --batch F1 --out "$PWD/third.xml"
[ ! -e third.xml ] || fail "fetch --out wrote third.xml although it exited 5"

step "a batch submitted at 20:01: 4 until 22:00 the day after, then 3"
# suspended, so that the batch is taken and receipted inside the window but stays queued
smki suspend --home "$H" --reason "test: keep F2 queued" >suspend.log 2>&1 || { cat suspend.log; fail "suspend failed"; }
make_batch f2.xml 2 "$PARTY_A" F2 --device-base 00DB123400770000
drop "$H" f2.xml
once "$H" ${DAY0}T20:01:00Z
assert_accepted "$H" f2
assert_receipt_field "$H" f2 RetrieveNotBefore ${DAY1}T22:00:00Z
fetch_at 4 ${DAY1}T08:00:00Z --party "$PARTY_A" --batch F2
fetch_at 4 ${DAY1}T21:59:59Z --party "$PARTY_A" --batch F2
fetch_at 3 ${DAY1}T22:00:00Z --party "$PARTY_A" --batch F2
fetch_at 6 ${DAY1}T22:59:59Z --party "$PARTY_A" --batch F2
fetch_at 3 ${DAY1}T23:00:00Z --party "$PARTY_A" --batch F2
smki resume --home "$H" >resume.log 2>&1 || { cat resume.log; fail "resume failed"; }
SMKI_NOW=${DAY1}T23:30:00Z drain "$H"
fetch_at 0 ${DAY1}T23:31:00Z --party "$PARTY_A" --batch F2
cmp -s fetch.out "$(response_path "$H" "$PARTY_A" F2)" || fail "fetch's output of F2 differs from its response file"
fetch_at 5 ${DAY1}T23:32:00Z --party "$PARTY_A" --batch F2

echo "fetch rule checks passed"
