#!/usr/bin/env bash
# test_ops_suspend_hold.sh - the operator's switches (SPEC section 1, README
# "The life of a batch"), end to end with a frozen clock:
#   A. suspension: while suspended, files are still taken and receipted, but
#      nothing is issued by `run --drain` (exits 0, says suspended), by
#      `run --once` inside the window, nor by the daemon `run` inside the window;
#      the suspension survives a restart; status shows SUSPENDED and --json
#      "suspended":true; resume, then the queued batches complete in turn
#      order; the audit log has the suspend/resume entries and verifies.
#   B. a suspension reaches a running batch at its next chunk boundary: what was
#      answered stays, nothing more is issued; after resume the batch completes
#      with every CSR answered exactly once.
#   C. holds: a held batch stays queued ("held") while later turns complete;
#      the hold survives a restart; release, drain: it completes; hold/release
#      of an unknown batch exits 2; both audited; the log verifies.
#   D. (as root only) the switches fail closed across users: a suspension or a
#      hold that root sets on a home owned by the service user must stop that
#      user's `run` (or be refused), never be silently ignored.
. "$(dirname "$0")/lib.sh"

IN_WINDOW=2026-11-22T20:30:00Z     # November: local time = UTC; inside 20:00-08:00
BEFORE=2026-11-22T12:00:00Z        # outside the window

# json_states HOME: "BATCH=state:done ..." in turn order, from status --json
json_states() {
    smki status --home "$1" --json >"$1.status.json" 2>"$1.status.err" \
        || { cat "$1.status.err"; fail "status --home $1 --json failed"; }
    python3 - "$1.status.json" <<'EOF' || fail "status --json is not the expected JSON: $(head -c 300 "$1.status.json")"
import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join(f"{b['batch']}={b['state']}:{b['done']}" for b in sorted(d["batches"], key=lambda b: b["turn"])))
EOF
}

json_suspended() {  # HOME: true|false
    smki status --home "$1" --json >"$1.status.json" 2>/dev/null || fail "status --json failed"
    python3 -c 'import json,sys; print("true" if json.load(open(sys.argv[1]))["suspended"] is True else "false")' "$1.status.json"
}

# run_mode HOME NOW MODE LOG: run --MODE with the clock at NOW; sets RUN_RC
run_mode() {
    RUN_RC=0
    SMKI_NOW=$2 timeout 60 "$SMKI_BIN" run --home "$1" "--$3" >>"$4" 2>&1 || RUN_RC=$?
    [ "$RUN_RC" -ne 124 ] || { tail -n 20 "$4"; fail "run --$3 (SMKI_NOW=$2) did not finish within 60 s"; }
}

issue_entries() { grep -c '^[0-9]* [^ ]* issue ' "$1/audit.log"; }   # HOME

no_responses() {    # HOME WHY
    local r
    r=$(ls -A "$1/spool/responses")
    [ -z "$r" ] || fail "$2: a response was written while it should not be: $r"
}

# ===========================================================================
step "A. suspension: intake goes on, nothing is issued, it survives a restart"
H=$PWD/HA
new_home "$H"
add_party "$H" "$PARTY_A" ACME
add_party "$H" "$PARTY_B" BETA
make_batch a1.xml 40 "$PARTY_A" A1 --device-base 00DB000100000000
make_batch b1.xml 30 "$PARTY_B" B1 --device-base 00DB000200000000
make_batch a2.xml 20 "$PARTY_A" A2 --device-base 00DB000300000000
make_batch b2.xml 10 "$PARTY_B" B2 --device-base 00DB000400000000

expect_rc 0 smki suspend --home "$H" --reason "ops drill: suspected key compromise" >suspend.out
[ -f "$H/control/suspended" ] || fail "suspend: no HOME/control/suspended switch"
smki status --home "$H" >status.txt || fail "status failed while suspended"
grep -q 'SUSPENDED' status.txt || { cat status.txt; fail "status does not show SUSPENDED while suspended"; }
grep -q 'ops drill: suspected key compromise' status.txt || { cat status.txt; fail "status does not give the reason of the suspension"; }
assert_eq "status --json suspended while suspended" "$(json_suspended "$H")" true

# run --drain: takes and receipts, issues nothing, exits 0 and says so
drop "$H" a1.xml
drop "$H" b1.xml
run_mode "$H" "$IN_WINDOW" drain drain1.log
[ "$RUN_RC" -eq 0 ] || { tail drain1.log; fail "run --drain while suspended exited $RUN_RC, expected 0"; }
grep -qi 'suspended' drain1.log || { tail drain1.log; fail "run --drain while suspended does not say that issuance is suspended"; }
assert_accepted "$H" a1
assert_accepted "$H" b1
[ -z "$(ls -A "$H/spool/incoming")" ] || fail "run --drain while suspended left files in incoming/: $(ls -A "$H/spool/incoming")"
assert_eq "queue after run --drain while suspended" "$(json_states "$H")" "A1=queued:0 B1=queued:0"
no_responses "$H" "run --drain while suspended"
assert_eq "issue entries in the audit log after run --drain while suspended" "$(issue_entries "$H")" 0

# run --once inside the window: the same
drop "$H" a2.xml
run_mode "$H" "$IN_WINDOW" once once1.log
[ "$RUN_RC" -eq 0 ] || { tail once1.log; fail "run --once in the window while suspended exited $RUN_RC, expected 0"; }
assert_accepted "$H" a2
assert_eq "queue after run --once in the window while suspended" "$(json_states "$H")" "A1=queued:0 B1=queued:0 A2=queued:0"
no_responses "$H" "run --once in the window while suspended"

# the daemon inside the window: takes and receipts B2, issues nothing; then a
# restart (a second daemon) is still suspended
start_daemon "$H" daemon1.log SMKI_NOW=$IN_WINDOW
drop "$H" b2.xml
wait_for_file "$(receipt_path "$H" b2)" 10 || fail "the suspended daemon did not receipt b2.xml within 10 s"
sleep 1.5
stop_daemon
check_daemon_stopped
assert_accepted "$H" b2
assert_eq "queue after the suspended daemon ran in the window" "$(json_states "$H")" "A1=queued:0 B1=queued:0 A2=queued:0 B2=queued:0"
no_responses "$H" "the suspended daemon in the window"

start_daemon "$H" daemon2.log SMKI_NOW=$IN_WINDOW
sleep 2
kill -0 "$DAEMON_PID" 2>/dev/null || { tail daemon2.log; fail "the restarted daemon exited while suspended"; }
stop_daemon
check_daemon_stopped
assert_eq "status --json suspended after a restart" "$(json_suspended "$H")" true
assert_eq "queue after a restart while suspended" "$(json_states "$H")" "A1=queued:0 B1=queued:0 A2=queued:0 B2=queued:0"
no_responses "$H" "the restarted daemon while suspended"
assert_eq "issue entries in the audit log while suspended" "$(issue_entries "$H")" 0
grep -qi 'suspended' daemon1.log || soft_fail "the suspended daemon did not log that issuance is suspended"

# resume: the queued batches complete in turn order
expect_rc 0 smki resume --home "$H" >resume.out
[ ! -e "$H/control/suspended" ] || fail "resume left HOME/control/suspended"
assert_eq "status --json suspended after resume" "$(json_suspended "$H")" false
smki status --home "$H" >status2.txt || fail "status failed after resume"
! grep -q 'SUSPENDED' status2.txt || { cat status2.txt; fail "status still shows SUSPENDED after resume"; }
run_mode "$H" "$IN_WINDOW" drain drain2.log
[ "$RUN_RC" -eq 0 ] || { tail drain2.log; fail "run --drain after resume exited $RUN_RC"; }
assert_eq "queue after resume + run --drain" "$(json_states "$H")" "A1=done:40 B1=done:30 A2=done:20 B2=done:10"
for pb in "$PARTY_A A1 40" "$PARTY_B B1 30" "$PARTY_A A2 20" "$PARTY_B B2 10"; do
    set -- $pb
    f=$(response_path "$H" "$1" "$2")
    assert_response_valid "$f"
    assert_eq "Results in the response of $2" "$(xcount "$f" Result)" "$3"
done
# turn order: the batch-done entries of the audit log, in sequence
order=$(awk '$3 == "batch-done" { for (i = 4; i <= NF; i++) if ($i ~ /^batch=/) printf "%s%s", sep, substr($i, 7); sep = " " } END { print "" }' "$H/audit.log")
assert_eq "batches completed (audit batch-done order)" "$order" "A1 B1 A2 B2"

# the audit trail: suspend (with its reason) and resume, in that order; verifies
grep -q '^[0-9]* [^ ]* suspend .*ops drill: suspected key compromise' "$H/audit.log" \
    || fail "the audit log has no suspend entry with its reason"
s_seq=$(awk '$3 == "suspend" { print $1; exit }' "$H/audit.log")
r_seq=$(awk '$3 == "resume" { print $1; exit }' "$H/audit.log")
i_seq=$(awk '$3 == "issue" { print $1; exit }' "$H/audit.log")
[ -n "$r_seq" ] || fail "the audit log has no resume entry"
[ "$s_seq" -lt "$r_seq" ] && [ "$r_seq" -lt "$i_seq" ] \
    || fail "audit order: suspend #$s_seq, resume #$r_seq, first issue #$i_seq; expected suspend < resume < issue"
smki audit verify --home "$H" >verify.out 2>&1 || { cat verify.out; fail "audit verify fails after suspend/resume"; }

# ===========================================================================
step "B. a suspension stops a running batch at its next chunk boundary"
H=$PWD/HB
N=20000
new_home "$H"
add_party "$H" "$PARTY_A" ACME
set_conf "$H" pipeline workers 1
make_batch big.xml $N "$PARTY_A" BIG --device-base 00DB001000000000
start_daemon "$H" daemonB.log SMKI_NOW=$IN_WINDOW
drop "$H" big.xml
# suspend as soon as the first chunk is committed
got=
for ((i = 0; i < 400; i++)); do
    got=$(json_states "$H")
    case $got in BIG=processing:[1-9]*|BIG=done:*) break ;; esac
    sleep 0.02
done
smki suspend --home "$H" --reason "ops drill: mid-batch" >/dev/null || fail "suspend during a running batch failed"
case $got in
BIG=done:*)
    echo "note: the batch finished before the suspension; the mid-batch check was not exercised" ;;
BIG=processing:*)
    sleep 1.5
    s1=$(json_states "$H")
    sleep 1.5
    s2=$(json_states "$H")
    [ "$s1" = "$s2" ] || fail "the batch went on after the suspension: '$s1' then '$s2'"
    d=${s2##*:}
    [ "$d" -lt "$N" ] || fail "the batch completed although it was suspended at '$got'"
    [ ! -e "$(response_path "$H" "$PARTY_A" BIG)" ] || fail "a response was published while suspended"
    [ $((d % 256)) -eq 0 ] || soft_fail "the suspended batch stopped at $d CSRs, not at a chunk boundary (256)"
    echo "suspended at $d of $N CSRs"
    ;;
*) fail "the batch did not start processing within 8 s: '$got' ($(tail -n 3 daemonB.log))" ;;
esac
smki resume --home "$H" >/dev/null || fail "resume failed"
f=$(response_path "$H" "$PARTY_A" BIG)
wait_for_file "$f" 40 || fail "the batch did not complete within 40 s of resume ($(json_states "$H"))"
stop_daemon
check_daemon_stopped
assert_response_valid "$f"
python3 - "$f" "$N" <<'EOF' || fail "the response after suspend/resume does not answer every CSR exactly once"
import sys, xml.etree.ElementTree as ET
ns = "{urn:smki:batched-csr:1}"
root = ET.parse(sys.argv[1]).getroot()
n = int(sys.argv[2])
ids = [int(r.find(ns + "RequestID").text) for r in root.iter(ns + "Result")]
assert ids == list(range(1, n + 1)), f"RequestIDs are not 1..{n} in order ({len(ids)} results)"
serials = [r.find(ns + "CertificateSerial").text for r in root.iter(ns + "Result") if r.find(ns + "Status").text == "Issued"]
assert len(serials) == n, f"{len(serials)} issued, expected {n}"
assert len(set(serials)) == n, "a serial appears twice"
EOF
smki audit verify --home "$H" >verify.out 2>&1 || { cat verify.out; fail "audit verify fails after a mid-batch suspension"; }

# ===========================================================================
step "C. holds: later turns go on, the held batch waits until released"
H=$PWD/HC
new_home "$H"
add_party "$H" "$PARTY_A" ACME
add_party "$H" "$PARTY_B" BETA
make_batch h1.xml 30 "$PARTY_A" H1 --device-base 00DB002000000000
make_batch h2.xml 20 "$PARTY_B" H2 --device-base 00DB002100000000
make_batch h3.xml 10 "$PARTY_A" H3 --device-base 00DB002200000000
drop "$H" h1.xml
run_mode "$H" "$BEFORE" once onceC.log
drop "$H" h2.xml
run_mode "$H" "$BEFORE" once onceC.log
drop "$H" h3.xml
run_mode "$H" "$BEFORE" once onceC.log
assert_eq "queue before the hold" "$(json_states "$H")" "H1=queued:0 H2=queued:0 H3=queued:0"

expect_rc 0 smki hold --home "$H" --party "$PARTY_A" --batch H1 >hold.out
smki status --home "$H" >statusC.txt || fail "status failed"
grep -E "^1 +$PARTY_A +H1 .* held " statusC.txt >/dev/null || { cat statusC.txt; fail "status does not show H1 as held"; }
assert_eq "queue after hold (status --json)" "$(json_states "$H")" "H1=held:0 H2=queued:0 H3=queued:0"

# unknown batch / party: usage errors, nothing audited
n_before=$(wc -l <"$H/audit.log")
expect_rc 2 smki hold --home "$H" --party "$PARTY_A" --batch NO-SUCH-BATCH
expect_rc 2 smki hold --home "$H" --party "$PARTY_UNKNOWN" --batch H1
expect_rc 2 smki release --home "$H" --party "$PARTY_A" --batch NO-SUCH-BATCH
expect_rc 2 smki hold --home "$H" --party "$PARTY_B" --batch H1     # H1 is party A's
assert_eq "audit entries after refused holds" "$(wc -l <"$H/audit.log")" "$n_before"

run_mode "$H" "$IN_WINDOW" drain drainC1.log
[ "$RUN_RC" -eq 0 ] || { tail drainC1.log; fail "run --drain with a held batch exited $RUN_RC, expected 0"; }
assert_eq "queue after run --drain with H1 held" "$(json_states "$H")" "H1=held:0 H2=done:20 H3=done:10"
[ ! -e "$(response_path "$H" "$PARTY_A" H1)" ] || fail "the held batch H1 got a response"
assert_response_valid "$(response_path "$H" "$PARTY_B" H2)"
assert_response_valid "$(response_path "$H" "$PARTY_A" H3)"

# the hold survives a restart: the daemon in the window leaves it alone
start_daemon "$H" daemonC.log SMKI_NOW=$IN_WINDOW
sleep 2
stop_daemon
check_daemon_stopped
assert_eq "queue after a daemon ran with H1 held" "$(json_states "$H")" "H1=held:0 H2=done:20 H3=done:10"

expect_rc 0 smki release --home "$H" --party "$PARTY_A" --batch H1 >release.out
assert_eq "queue after release" "$(json_states "$H")" "H1=queued:0 H2=done:20 H3=done:10"
run_mode "$H" "$IN_WINDOW" drain drainC2.log
[ "$RUN_RC" -eq 0 ] || { tail drainC2.log; fail "run --drain after release exited $RUN_RC"; }
assert_eq "queue after release + run --drain" "$(json_states "$H")" "H1=done:30 H2=done:20 H3=done:10"
assert_response_valid "$(response_path "$H" "$PARTY_A" H1)"
assert_receipt_field "$H" h1 Turn 1   # it kept its turn

grep -qE "^[0-9]+ [^ ]+ hold .*batch=H1" "$H/audit.log" || fail "the audit log has no hold entry for H1"
grep -qE "^[0-9]+ [^ ]+ release .*batch=H1" "$H/audit.log" || fail "the audit log has no release entry for H1"
smki audit verify --home "$H" >verify.out 2>&1 || { cat verify.out; fail "audit verify fails after hold/release"; }

# ===========================================================================
step "D. the switches fail closed when set by another user (root)"
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
    echo "SKIP part D: needs root and setpriv"
    finish "all checks passed (part D skipped)"
fi
SVC_UID=65534
SVC_GID=65534
as_svc() { setpriv --reuid=$SVC_UID --regid=$SVC_GID --clear-groups -- "$@"; }
UD=$(mktemp -d /tmp/smki-ops-user.XXXXXX)
trap '_e2e_cleanup; rm -rf "$UD"' EXIT
chmod 0755 "$UD"
H=$UD/home
install -d -o $SVC_UID -g $SVC_GID -m 0750 "$H"
as_svc "$SMKI_BIN" init --home "$H" --demo-ca >"$UD/init.log" 2>&1 || { cat "$UD/init.log"; fail "init as uid $SVC_UID failed"; }
as_svc "$SMKI_BIN" party add --home "$H" --id "$PARTY_A" --name ACME >/dev/null || fail "party add as uid $SVC_UID failed"
make_batch "$UD/d1.xml" 10 "$PARTY_A" D1 --device-base 00DB003000000000
make_batch "$UD/d2.xml" 10 "$PARTY_A" D2 --device-base 00DB003100000000
make_batch "$UD/d3.xml" 10 "$PARTY_A" D3 --device-base 00DB003200000000
chmod 0644 "$UD"/d?.xml
svc_take() {    # FILE: submit as the service user, then run --once outside the window
    as_svc env SMKI_NOW=$BEFORE "$SMKI_BIN" submit --home "$H" "$1" >/dev/null || fail "submit $1 as uid $SVC_UID failed"
    as_svc env SMKI_NOW=$BEFORE "$SMKI_BIN" run --home "$H" --once >>"$UD/run.log" 2>&1 \
        || { tail -n 5 "$UD/run.log"; fail "run --once as uid $SVC_UID failed"; }
}
svc_take "$UD/d1.xml"
svc_take "$UD/d2.xml"
assert_eq "queue of the service user's home" "$(json_states "$H")" "D1=queued:0 D2=queued:0"

# root suspends (as an operator at 3 a.m. might, with sudo)
src=0
"$SMKI_BIN" suspend --home "$H" --reason "root at 3am" >"$UD/suspend.out" 2>&1 || src=$?
if [ "$src" -eq 0 ]; then
    st=$(as_svc "$SMKI_BIN" status --home "$H" 2>&1)
    echo "$st" | grep -q SUSPENDED \
        || soft_fail "root's 'suspend' exited 0, but 'status' as the service user (uid $SVC_UID) does not show SUSPENDED"
    rc=0
    as_svc env SMKI_NOW=$IN_WINDOW timeout 60 "$SMKI_BIN" run --home "$H" --drain >"$UD/drainD1.log" 2>&1 || rc=$?
    s=$(json_states "$H")
    case $s in
    "D1=queued:0 D2=queued:0") ;;
    *) soft_fail "root's 'suspend --home $H' exited 0 ($(cat "$UD/suspend.out")), then 'run --drain' as the home's owner (uid $SVC_UID) exited $rc and issued: queue '$s' (expected D1 and D2 queued: a switch the service cannot read must count as set, or suspend must refuse)" ;;
    esac
    "$SMKI_BIN" resume --home "$H" >/dev/null 2>&1
else
    echo "root's suspend refused (exit $src): $(cat "$UD/suspend.out")"
fi

# root holds D3
svc_take "$UD/d3.xml"
hrc=0
"$SMKI_BIN" hold --home "$H" --party "$PARTY_A" --batch D3 >"$UD/hold.out" 2>&1 || hrc=$?
if [ "$hrc" -eq 0 ]; then
    rc=0
    as_svc env SMKI_NOW=$IN_WINDOW timeout 60 "$SMKI_BIN" run --home "$H" --drain >"$UD/drainD2.log" 2>&1 || rc=$?
    s=$(json_states "$H")
    case $s in
    *"D3=queued:0"* | *"D3=held:0"*) ;;
    *) soft_fail "root's 'hold --batch D3' exited 0, then 'run --drain' as the home's owner (uid $SVC_UID) exited $rc and processed the held batch: queue '$s'" ;;
    esac
else
    echo "root's hold refused (exit $hrc): $(cat "$UD/hold.out")"
fi
finish
