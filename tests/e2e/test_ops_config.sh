#!/usr/bin/env bash
# test_ops_config.sh - the configuration as operators meet it (SPEC section 2):
#   1. `config check` exits 0 on the file `init` writes; `config show` prints
#      every key of that file with its default;
#   2. each bad file (unknown section, also an empty one; unknown key; values out
#      of range; bad times; bad after_cutoff; bad OIDs; an unknown time zone;
#      a line that is not key = value) makes `config check` exit 1 with
#      FILE:LINE, the section/key and what is allowed, and stops every other
#      command with the same message (exit 1, nothing done);
#   3. `config show` after overrides prints every key with its effective value.
. "$(dirname "$0")/lib.sh"

H=$PWD/H
new_home "$H"
add_party "$H" "$PARTY_A" ACME
CONF=$H/smki-batch.conf
cp "$CONF" default.conf

# ---------------------------------------------------------------------------
step "1. the default file: config check 0, config show lists every key"
expect_rc 0 smki config check --home "$H" >check.out 2>&1
smki config show --home "$H" >show.out 2>show.err || { cat show.err; fail "config show on the default file failed"; }
# every key = value of the default file (comments stripped) appears in show, by section
python3 - default.conf show.out <<'EOF' || fail "config show does not print every key of the default file with its default value"
import re, sys
def parse(path):
    out, sec = {}, None
    for ln in open(path):
        ln = ln.split(";", 1)[0].strip()
        if not ln:
            continue
        m = re.fullmatch(r"\[([^\]]+)\]", ln)
        if m:
            sec = m.group(1).strip()
            continue
        k, _, v = ln.partition("=")
        out[(sec, k.strip())] = v.strip()
    return out
d, s = parse(sys.argv[1]), parse(sys.argv[2])
want = {("window","timezone"),("window","start"),("window","end"),("capacity","nightly"),
        ("capacity","party_allowance"),("capacity","after_cutoff"),("limits","max_file_bytes"),
        ("limits","max_csrs"),("pipeline","workers"),("ca","certificate"),("ca","key"),
        ("profile","policy_oid"),("profile","hw_type_oid")}
missing = want - set(d)
assert not missing, f"the default file lacks the SPEC keys {sorted(missing)}"
bad = {k: (v, s.get(k)) for k, v in d.items() if s.get(k) != v}
assert not bad, f"show differs from the defaults: {bad}"
EOF

# ---------------------------------------------------------------------------
# mutate SPEC: a copy of the default file changed by SPEC, one of
#   set:SECTION:KEY:VALUE        replace KEY's line in SECTION (in place)
#   append:TEXT                  append TEXT (\n for new lines) at the end
# writes it to smki-batch.conf and prints the line number the error must name
mutate() {
    python3 - default.conf "$CONF" "$1" <<'EOF' || fail "cannot mutate the configuration with '$1'"
import re, sys
src, dst, spec = sys.argv[1:]
lines = open(src).read().split("\n")
if lines and lines[-1] == "":
    lines.pop()
kind, _, rest = spec.partition(":")
if kind == "set":
    sec, key, val = rest.split(":", 2)
    cur, at = None, None
    for i, ln in enumerate(lines):
        m = re.match(r"\s*\[([^\]]+)\]", ln)
        if m:
            cur = m.group(1).strip()
        elif cur == sec and re.match(r"\s*" + re.escape(key) + r"\s*=", ln):
            lines[i], at = f"{key} = {val}", i + 1
    assert at, f"no {key} in [{sec}]"
else:
    add = rest.split("\\n")
    lines += add
    at = len(lines) - len(add) + 1 + next(i for i, a in enumerate(add) if a.startswith("!"))
    lines = [l[1:] if l.startswith("!") else l for l in lines]
open(dst, "w").write("\n".join(lines) + "\n")
print(at)
EOF
}

# bad CASE SPEC ALLOWED_RE [NAME_RE]: config check exits 1 naming smki-batch.conf:LINE,
# NAME_RE (default: the key or section) and ALLOWED_RE (what is allowed)
bad() {
    local case=$1 spec=$2 allowed=$3 name=${4:-} line rc=0 msg
    line=$(mutate "$spec")
    smki config check --home "$H" >"bad.$case.out" 2>"bad.$case.err" || rc=$?
    msg=$(cat "bad.$case.out" "bad.$case.err")
    [ "$rc" -eq 1 ] || { soft_fail "$case ($spec): config check exited $rc, expected 1: $msg"; return; }
    local named=1
    echo "$msg" | grep -q "smki-batch.conf:$line\b" \
        || { named=0; soft_fail "$case ($spec): the message does not name smki-batch.conf:$line: $msg"; }
    [ -z "$name" ] || echo "$msg" | grep -qE "$name" \
        || soft_fail "$case ($spec): the message does not name '$name': $msg"
    echo "$msg" | grep -qE "$allowed" \
        || soft_fail "$case ($spec): the message does not say what is allowed (/$allowed/): $msg"
    # the same stops the other commands (a sample here; all of them in step 2b)
    local c out
    for c in "status" "run --drain" "plan"; do
        rc=0
        out=$(SMKI_NOW=2026-11-22T20:30:00Z timeout 30 "$SMKI_BIN" $c --home "$H" 2>&1) || rc=$?
        [ "$rc" -eq 1 ] || soft_fail "$case: '$c' exited $rc with a bad configuration, expected 1: $out"
        [ "$named" = 0 ] || [ "$rc" -ne 1 ] || echo "$out" | grep -q "smki-batch.conf:$line\b" \
            || soft_fail "$case: '$c' does not name smki-batch.conf:$line: $out"
    done
    echo "  $case: $(head -n 1 "bad.$case.err")"
}

step "2. bad files: config check exits 1 with FILE:LINE and what is allowed"
bad unknown-section   "append:![bogus]\nkey = 1"                 "known:.*window.*capacity"  "bogus"
bad empty-section     "append:![empty]"                          "known:.*window.*capacity"  "empty"
bad unknown-key       "append:[capacity]\n!bogus = 1"             "unknown key"               "bogus"
bad nightly-0         "set:capacity:nightly:0"                    "1 to [0-9]+"               "nightly"
bad nightly-text      "set:capacity:nightly:1e5"                  "1 to [0-9]+"               "nightly"
bad max-csrs          "set:limits:max_csrs:50001"                 "2 to 50000"                "max_csrs"
bad workers-neg       "set:pipeline:workers:-1"                   "0 to [0-9]+"               "workers"
bad max-file-bytes    "set:limits:max_file_bytes:10"              "1024 to [0-9]+"            "max_file_bytes"
bad start-25          "set:window:start:25:00"                    "HH:MM"                     "start"
bad end-8             "set:window:end:8:00"                       "HH:MM"                     "end"
bad after-cutoff      "set:capacity:after_cutoff:sometimes"       "tonight.*defer"            "after_cutoff"
bad policy-oid        "set:profile:policy_oid:1.2.x"              "OID"                       "policy_oid"
bad hw-type-oid       "set:profile:hw_type_oid:3.1"               "OID"                       "hw_type_oid"
bad syntax            "append:!this is not a setting"             "key = value|section"
# an OID whose second arc is out of range under a first arc of 0 or 1 (X.690:
# at most 39); the signer refuses it, so `config check` must too
bad policy-oid-arc    "set:profile:policy_oid:1.40.5"             "OID"                       "policy_oid"
bad timezone          "set:window:timezone:Mars/Olympus_Mons"     "zone|Europe/London"        "timezone"
# "what is allowed" for an unknown key: the keys of that section
bad unknown-key-known "append:[capacity]\n!bogus = 1"             "nightly"                     "bogus"

step "2b. a bad file stops every command (exit 1, same message, nothing done)"
line=$(mutate "set:capacity:nightly:0")
make_batch x.xml 2 "$PARTY_A" X1
n_audit=$(wc -l <"$H/audit.log")
printf 'party,month,forecast\n%s,2026-11,100\n' "$PARTY_A" >fc.csv
for c in "status" "status --json" "plan" "run --drain" "run --once" "party list" \
         "party add --id $PARTY_B --name BETA" "metrics" "report --month 2026-11" \
         "forecast import fc.csv" "config show" "audit verify" "suspend --reason drill" \
         "resume" "hold --party $PARTY_A --batch X1" "release --party $PARTY_A --batch X1" \
         "fetch --party $PARTY_A --batch X1" "lookup --device 00-DB-12-34-56-78-90-A4"; do
    rc=0
    out=$(SMKI_NOW=2026-11-22T20:30:00Z timeout 30 "$SMKI_BIN" $c --home "$H" 2>&1) || rc=$?
    [ "$rc" -eq 1 ] || soft_fail "'$c' exited $rc with nightly = 0, expected 1: $(echo "$out" | head -n 2)"
    echo "$out" | grep -q "smki-batch.conf:$line: \[capacity\] nightly" \
        || soft_fail "'$c' does not name smki-batch.conf:$line [capacity] nightly: $(echo "$out" | head -n 2)"
done
assert_eq "audit entries written by commands refused for a bad configuration" "$(wc -l <"$H/audit.log")" "$n_audit"
[ ! -e "$H/control/suspended" ] || fail "suspend with a bad configuration still suspended"
cp default.conf "$CONF"
expect_rc 0 smki config check --home "$H" >/dev/null
smki party list --home "$H" | grep -q "$PARTY_A" || fail "party list after restoring the file"
! smki party list --home "$H" | grep -q "$PARTY_B" || fail "party add with a bad configuration still added the party"

# ---------------------------------------------------------------------------
step "3. config show after overrides: every key, effective values"
mutate "set:capacity:nightly:400000" >/dev/null
cp "$CONF" default.conf
mutate "set:window:start:21:30" >/dev/null
cp "$CONF" default.conf
mutate "set:pipeline:workers:2" >/dev/null
cp "$CONF" default.conf
mutate "set:capacity:after_cutoff:defer" >/dev/null
cp "$CONF" default.conf
# a file with only some keys: the others take their defaults
cat >>"$CONF" <<'EOF'
[profile]
hw_type_oid = 2.999.7   ; a later line overrides an earlier one
EOF
expect_rc 0 smki config check --home "$H" >/dev/null
smki config show --home "$H" >show2.out 2>show2.err || { cat show2.err; fail "config show failed after overrides"; }
python3 - show2.out <<'EOF' || { cat show2.out; fail "config show does not print the effective values"; }
import re, sys
vals, sec = {}, None
for ln in open(sys.argv[1]):
    ln = ln.split(";", 1)[0].strip()
    if not ln:
        continue
    m = re.fullmatch(r"\[([^\]]+)\]", ln)
    if m:
        sec = m.group(1)
        continue
    k, _, v = ln.partition("=")
    vals[f"{sec}.{k.strip()}"] = v.strip()
want = {
    "window.timezone": "Europe/London", "window.start": "21:30", "window.end": "08:00",
    "capacity.nightly": "400000", "capacity.party_allowance": "50000", "capacity.after_cutoff": "defer",
    "limits.max_file_bytes": "67108864", "limits.max_csrs": "50000", "pipeline.workers": "2",
    "ca.certificate": "ca/issuing-ca.pem", "ca.key": "ca/issuing-ca.key",
    "profile.policy_oid": "1.2.826.0.1.8641679.1.2.1.1", "profile.hw_type_oid": "2.999.7",
}
bad = {k: (vals.get(k), v) for k, v in want.items() if vals.get(k) != v}
assert not bad, "got/expected: " + repr(bad)
EOF
# the overrides reach the program: plan uses the nightly capacity and the window
SMKI_NOW=2026-11-22T12:00:00Z smki plan --home "$H" >plan.out 2>&1 || { cat plan.out; fail "plan failed after overrides"; }
grep -q 'capacity 400000' plan.out || { cat plan.out; fail "plan does not use [capacity] nightly = 400000"; }
grep -q '21:30' plan.out || { cat plan.out; fail "plan does not use [window] start = 21:30"; }

# an empty file: every key at its default
: >"$CONF"
expect_rc 0 smki config check --home "$H" >/dev/null
smki config show --home "$H" >show3.out || fail "config show on an empty file failed"
for kv in "nightly = 375000" "start = 20:00" "end = 08:00" "max_csrs = 50000" "workers = 0" \
          "policy_oid = 1.2.826.0.1.8641679.1.2.1.1" "hw_type_oid = 2.999.1" "timezone = Europe/London"; do
    grep -q "^$kv\b" show3.out || { cat show3.out; fail "config show on an empty file lacks '$kv'"; }
done
finish
