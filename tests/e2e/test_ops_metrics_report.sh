#!/usr/bin/env bash
# test_ops_metrics_report.sh - what operations read off the service:
#   1. the Prometheus textfile after batches with rejected requests: it exists,
#      parses as the text exposition format (every sample `name{labels} value`,
#      every name with # HELP and # TYPE, counters end in _total, histogram
#      buckets cumulative up to le="+Inf" = _count), and its values are right:
#      issued and rejected-by-code equal the responses', batches done, queue
#      gauges for queued and held batches, suspended 1 while suspended;
#   2. forecasts (CSV import) and the monthly report in md, csv and json: the
#      counts come from the batches accepted in that month (local time, so a
#      batch received at 23:30 UTC on 30 September counts in October under
#      BST), rejected files do not count, a party with no forecast is shown as
#      such and never listed, the 110% list names exactly the parties at or
#      above 110% of their forecast.
. "$(dirname "$0")/lib.sh"

PARTY_C=90-B3-D5-1F-30-03-00-00
H=$PWD/H
new_home "$H"
add_party "$H" "$PARTY_A" ACME
add_party "$H" "$PARTY_B" BETA
add_party "$H" "$PARTY_C" GAMMA
PROM=$H/metrics/smki-batch.prom

# take HOME NOW FILE...: drop the files, run --once at NOW (outside the window: intake only)
take() {
    local home=$1 now=$2 f rc=0
    shift 2
    for f in "$@"; do drop "$home" "$f"; done
    SMKI_NOW=$now timeout 60 "$SMKI_BIN" run --home "$home" --once >>"$home.once.log" 2>&1 || rc=$?
    [ "$rc" -eq 0 ] || { tail -n 5 "$home.once.log"; fail "run --once at $now exited $rc"; }
}

# drain_at HOME NOW
drain_at() {
    local rc=0
    SMKI_NOW=$2 timeout 60 "$SMKI_BIN" run --home "$1" --drain >>"$1.drain.log" 2>&1 || rc=$?
    [ "$rc" -eq 0 ] || { tail -n 5 "$1.drain.log"; fail "run --drain at $2 exited $rc"; }
}

# prom_check FILE: the exposition format rules; prints "name{labels} value" lines
# sorted, for value look-ups with prom_value
cat >promcheck.py <<'EOF'
import re, sys
path = sys.argv[1]
text = open(path).read()
errors, help_, type_, samples = [], {}, {}, []
sample_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$')
label_re = re.compile(r'^[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"$')
if not text.endswith("\n"):
    errors.append("the file does not end with a newline")
for n, ln in enumerate(text.split("\n")[:-1], 1):
    if ln.startswith("#"):
        m = re.match(r"^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$", ln)
        if not m:
            errors.append(f"line {n}: a comment that is neither # HELP nor # TYPE: {ln!r}")
            continue
        kind, name, rest = m.groups()
        d = help_ if kind == "HELP" else type_
        if name in d:
            errors.append(f"line {n}: a second # {kind} for {name}")
        if kind == "TYPE" and rest not in ("counter", "gauge", "histogram", "summary", "untyped"):
            errors.append(f"line {n}: unknown type {rest!r}")
        if kind == "TYPE" and any(s[0] in (name, name + "_bucket", name + "_sum", name + "_count") for s in samples):
            errors.append(f"line {n}: # TYPE {name} after its samples")
        d[name] = (rest, n)
        continue
    if not ln.strip():
        errors.append(f"line {n}: an empty line")
        continue
    m = sample_re.match(ln)
    if not m:
        errors.append(f"line {n}: not 'name{{labels}} value': {ln!r}")
        continue
    name, _, labels, value = m.groups()
    try:
        v = float(value)
    except ValueError:
        errors.append(f"line {n}: value {value!r} is not a number")
        continue
    lab = {}
    if labels:
        for part in re.findall(r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"', labels):
            k, _, val = part.partition("=")
            lab[k] = val[1:-1]
        if ",".join(re.findall(r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"', labels)) != labels:
            errors.append(f"line {n}: malformed labels {labels!r}")
    base = name
    for suf in ("_bucket", "_sum", "_count"):
        if name.endswith(suf) and type_.get(name[: -len(suf)], ("",))[0] == "histogram":
            base = name[: -len(suf)]
    samples.append((name, lab, v, n, base))
    if base not in help_:
        errors.append(f"line {n}: {name} has no # HELP {base} before it")
    if base not in type_:
        errors.append(f"line {n}: {name} has no # TYPE {base} before it")
seen = set()
for name, lab, v, n, base in samples:
    key = (name, tuple(sorted(lab.items())))
    if key in seen:
        errors.append(f"line {n}: duplicate series {name}{lab}")
    seen.add(key)
for name, (t, n) in type_.items():
    if name not in help_:
        errors.append(f"# TYPE {name} without # HELP")
    mine = [s for s in samples if s[4] == name]
    if not mine:
        errors.append(f"{name}: # TYPE without samples")
    if t == "counter":
        if not name.endswith("_total"):
            errors.append(f"counter {name} does not end in _total")
        for s in mine:
            if s[2] < 0:
                errors.append(f"line {s[3]}: counter {name} is negative")
    if t == "histogram":
        groups = {}
        for s in mine:
            if s[0] == name + "_bucket":
                if "le" not in s[1]:
                    errors.append(f"line {s[3]}: bucket without le")
                    continue
                rest = tuple(sorted((k, v) for k, v in s[1].items() if k != "le"))
                groups.setdefault(rest, []).append((s[1]["le"], s[2], s[3]))
        counts = {tuple(sorted(s[1].items())): s[2] for s in mine if s[0] == name + "_count"}
        sums = {tuple(sorted(s[1].items())) for s in mine if s[0] == name + "_sum"}
        if not groups:
            errors.append(f"histogram {name} has no buckets")
        for rest, bs in groups.items():
            les = [float(le) for le, _, _ in bs]
            if les != sorted(les):
                errors.append(f"histogram {name}: buckets not in increasing le order")
            vals = [v for _, v, _ in bs]
            if any(b < a for a, b in zip(vals, vals[1:])):
                errors.append(f"histogram {name}: buckets not cumulative: {vals}")
            if bs[-1][0] != "+Inf":
                errors.append(f"histogram {name}: the last bucket is le={bs[-1][0]!r}, not le=\"+Inf\"")
            if rest not in counts:
                errors.append(f"histogram {name}: no _count")
            elif bs[-1][1] != counts[rest]:
                errors.append(f"histogram {name}: le=\"+Inf\" {bs[-1][1]} != _count {counts[rest]}")
            if rest not in sums:
                errors.append(f"histogram {name}: no _sum")
if errors:
    print("\n".join(errors), file=sys.stderr)
    sys.exit(1)
for name, lab, v, n, base in samples:
    ls = ",".join(f'{k}="{lab[k]}"' for k in sorted(lab))
    print(f"{name}{{{ls}}} {v:g}")
EOF

prom_check() {  # FILE -> FILE.series
    [ -f "$1" ] || fail "no metrics file $1"
    python3 promcheck.py "$1" >"$1.series" 2>prom.err \
        || { cat prom.err; fail "$1 is not valid Prometheus text format"; }
}
prom_value() {  # FILE NAME{LABELS sorted}: value in FILE.series
    awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print "missing" }' "$1.series"
}
assert_prom() { # FILE SERIES WANT
    local got
    got=$(prom_value "$1" "$2")
    [ "$got" = "$3" ] || fail "$(basename "$1"): $2 = $got, expected $3"
}

# ===========================================================================
step "1. metrics after batches with rejected requests"
OCT_EDGE=2026-09-30T23:30:00Z     # 00:30 on 1 October, British Summer Time
NOV=2026-11-10T12:00:00Z
DEC=2026-12-05T12:00:00Z

make_batch b-oct.xml 20 "$PARTY_B" B-OCT --device-base 00DB010000000000
take "$H" "$OCT_EDGE" b-oct.xml

make_batch a-n1.xml 300 "$PARTY_A" A-N1 --device-base 00DB020000000000 --expect a-n1.expect \
    --faults signature:3,usage:2,device_id:1,key_compressed:2,sig_alg:1,dup_request:1,dup_key:1
make_batch b-n1.xml 100 "$PARTY_B" B-N1 --device-base 00DB030000000000 --expect b-n1.expect \
    --faults der_truncated:2
make_batch a-n-bad.xml 1 "$PARTY_A" A-NBAD --device-base 00DB040000000000     # E_TOO_FEW: not counted
take "$H" "$NOV" a-n1.xml b-n1.xml a-n-bad.xml
assert_rejected "$H" a-n-bad.xml E_TOO_FEW
drain_at "$H" "$NOV"
for b in A-N1:$PARTY_A B-N1:$PARTY_B; do
    f=$(response_path "$H" "${b#*:}" "${b%%:*}")
    assert_response_valid "$f"
    exp=$(echo "${b%%:*}" | tr 'A-Z' 'a-z').expect
    python3 "$CHECK_RESPONSE" "$f" "$exp" >check.out || { cat check.out; fail "response ${b%%:*} does not match the generator"; }
done
prom_check "$PROM"

# the expected counters, from the two responses and the October batch (all issued)
python3 - "$(response_path "$H" "$PARTY_A" A-N1)" "$(response_path "$H" "$PARTY_B" B-N1)" \
    "$(response_path "$H" "$PARTY_B" B-OCT)" >expected.counts <<'EOF'
import sys, collections, xml.etree.ElementTree as ET
ns = "{urn:smki:batched-csr:1}"
c = collections.Counter()
for p in sys.argv[1:]:
    for r in ET.parse(p).getroot().iter(ns + "Result"):
        st = r.find(ns + "Status").text
        c["OK" if st == "Issued" else r.find(ns + "ErrorCode").text] += 1
for k, v in sorted(c.items()):
    print(k, v)
EOF
issued=$(awk '$1 == "OK" { print $2 }' expected.counts)
assert_eq "issued CSRs in the responses" "$issued" $((20 + 300 - 11 + 100 - 2))
assert_prom "$PROM" 'smki_batch_csrs_total{code="OK",result="issued"}' "$issued"
for code in E_DEVICE_ID E_USAGE E_CSR_ENCODING E_SIG_ALGORITHM E_KEY_TYPE E_KEY_INVALID \
            E_CSR_SIGNATURE E_ID_MISMATCH E_DUPLICATE_REQUEST E_DUPLICATE_KEY; do
    want=$(awk -v c="$code" '$1 == c { print $2; f = 1 } END { if (!f) print 0 }' expected.counts)
    assert_prom "$PROM" "smki_batch_csrs_total{code=\"$code\",result=\"rejected\"}" "$want"
done
# no other code counted: the rejected series sum to the responses' rejected
sum_rej=$(awk '$1 ~ /^smki_batch_csrs_total\{.*result="rejected"/ { s += $2 } END { print s + 0 }' "$PROM.series")
assert_eq "sum of rejected CSRs in the metrics" "$sum_rej" 13
assert_prom "$PROM" 'smki_batch_batches_total{outcome="done"}' 3
assert_prom "$PROM" 'smki_batch_batches_total{outcome="failed"}' 0
assert_prom "$PROM" 'smki_batch_batch_duration_seconds_count{}' 3
for st in queued processing held; do
    assert_prom "$PROM" "smki_batch_queue_batches{state=\"$st\"}" 0
done
assert_prom "$PROM" 'smki_batch_queue_csrs{}' 0
assert_prom "$PROM" 'smki_batch_suspended{}' 0
assert_prom "$PROM" 'smki_batch_deadlines_at_risk{}' 0
tp=$(prom_value "$PROM" 'smki_batch_throughput_csrs_per_second{}')
awk -v t="$tp" 'BEGIN { exit !(t > 0) }' || fail "throughput gauge is '$tp', expected > 0 after batches"

# `metrics` prints what it writes
SMKI_NOW=$NOV smki metrics --home "$H" >metrics.out 2>metrics.err || { cat metrics.err; fail "smki-batch metrics failed"; }
cmp -s metrics.out "$PROM" || { diff metrics.out "$PROM" | head; fail "smki-batch metrics printed something else than it wrote to $PROM"; }

step "1b. queue gauges, a hold, a suspension"
make_batch a-n2.xml 50 "$PARTY_A" A-N2 --device-base 00DB050000000000
take "$H" "$NOV" a-n2.xml          # received in November, processed in December
prom_check "$PROM"                 # written by run --once
assert_prom "$PROM" 'smki_batch_queue_batches{state="queued"}' 1
assert_prom "$PROM" 'smki_batch_queue_csrs{}' 50
smki hold --home "$H" --party "$PARTY_A" --batch A-N2 >/dev/null || fail "hold failed"
SMKI_NOW=$NOV smki metrics --home "$H" >/dev/null || fail "metrics failed"
prom_check "$PROM"
assert_prom "$PROM" 'smki_batch_queue_batches{state="queued"}' 0
assert_prom "$PROM" 'smki_batch_queue_batches{state="held"}' 1
assert_prom "$PROM" 'smki_batch_queue_csrs{}' 50
smki release --home "$H" --party "$PARTY_A" --batch A-N2 >/dev/null || fail "release failed"
smki suspend --home "$H" --reason "metrics drill" >/dev/null || fail "suspend failed"
SMKI_NOW=$NOV smki metrics --home "$H" >/dev/null || fail "metrics failed"
prom_check "$PROM"
assert_prom "$PROM" 'smki_batch_suspended{}' 1
assert_prom "$PROM" 'smki_batch_queue_batches{state="queued"}' 1
drain_at "$H" "$NOV"                # suspended: writes the metrics, issues nothing
prom_check "$PROM"
assert_prom "$PROM" 'smki_batch_suspended{}' 1
assert_prom "$PROM" 'smki_batch_queue_batches{state="queued"}' 1
smki resume --home "$H" >/dev/null || fail "resume failed"
SMKI_NOW=$NOV smki metrics --home "$H" >/dev/null || fail "metrics failed"
prom_check "$PROM"
assert_prom "$PROM" 'smki_batch_suspended{}' 0

# ===========================================================================
step "2. forecasts and the monthly report"
make_batch a-d1.xml 200 "$PARTY_A" A-D1 --device-base 00DB060000000000
make_batch b-d1.xml 110 "$PARTY_B" B-D1 --device-base 00DB070000000000
make_batch c-d1.xml 40 "$PARTY_C" C-D1 --device-base 00DB080000000000
take "$H" "$DEC" a-d1.xml b-d1.xml c-d1.xml
drain_at "$H" "$DEC"
prom_check "$PROM"
assert_prom "$PROM" 'smki_batch_batches_total{outcome="done"}' 7

cat >forecast.csv <<EOF
party,month,forecast
$PARTY_A,2026-11,300
$PARTY_B,2026-11,100
$PARTY_A,2026-12,1000
$PARTY_B,2026-12,100
$PARTY_B,2026-10,100
EOF
out=$(smki forecast import --home "$H" forecast.csv 2>&1) || fail "forecast import failed: $out"
echo "$out" | grep -q '5 forecast' || fail "forecast import does not say it imported 5 forecasts: $out"
grep -q '^[0-9]* [^ ]* forecast-import ' "$H/audit.log" || fail "forecast import is not audited"

# expected per month: PARTY received batches forecast over110 (forecast '-' = none)
#   Sep: nothing (the 23:30 UTC batch is 00:30 on 1 October, BST)
#   Oct: B 20 of 100;  Nov: A 350 of 300 (116.7%, listed), B 100 of 100, rejected A-NBAD not counted
#   Dec: A 200 of 1000, B 110 of 100 (exactly 110%: listed), C 40 with no forecast (never listed)
check_month() {     # MONTH "PARTY:batches:received:forecast:listed ..." 
    local month=$1 spec=$2 fmt
    for fmt in md csv json; do
        smki report --home "$H" --month "$month" --format "$fmt" >"report.$month.$fmt" 2>report.err \
            || { cat report.err; fail "report --month $month --format $fmt failed"; }
    done
    python3 - "$month" "$spec" "report.$month" <<'EOF' || fail "report for $month is wrong (see above)"
import csv, json, re, sys
month, spec, base = sys.argv[1], sys.argv[2].split(), sys.argv[3]
want = {}
for s in spec:
    p, b, r, f, l = s.split(":")
    want[p] = dict(batches=int(b), received=int(r), forecast=None if f == "-" else int(f), listed=(l == "yes"))
listed = sorted(p for p, w in want.items() if w["listed"])
errs = []
# json
d = json.load(open(base + ".json"))
if d.get("month") != month:
    errs.append(f"json: month {d.get('month')!r}")
subs = {s["party"]: s for s in d["subscribers"]}
for p, w in want.items():
    s = subs.get(p)
    if not s:
        errs.append(f"json: no subscriber {p}")
        continue
    for k in ("batches", "received", "forecast"):
        if s[k] != w[k]:
            errs.append(f"json: {p} {k} = {s[k]!r}, expected {w[k]!r}")
    if s["at_or_above_110"] != w["listed"]:
        errs.append(f"json: {p} at_or_above_110 = {s['at_or_above_110']}, expected {w['listed']}")
    if w["forecast"] and s["percent"] is not None and abs(s["percent"] - 100.0 * w["received"] / w["forecast"]) > 0.05:
        errs.append(f"json: {p} percent {s['percent']}")
    if w["forecast"] is None and s["percent"] is not None:
        errs.append(f"json: {p} has no forecast but a percent {s['percent']}")
panel = d["panel"]
if panel["received"] != sum(w["received"] for w in want.values()):
    errs.append(f"json: panel received {panel['received']}")
if panel["forecast"] != sum(w["forecast"] or 0 for w in want.values()):
    errs.append(f"json: panel forecast {panel['forecast']}")
if sorted(panel["at_or_above_110"]) != listed:
    errs.append(f"json: panel 110% list {panel['at_or_above_110']}, expected {listed}")
# csv
rows = {r["party"]: r for r in csv.DictReader(open(base + ".csv"))}
for p, w in want.items():
    r = rows.get(p)
    if not r:
        errs.append(f"csv: no row for {p}")
        continue
    if int(r["batches"]) != w["batches"] or int(r["received"]) != w["received"]:
        errs.append(f"csv: {p} batches/received {r['batches']}/{r['received']}")
    if (r["forecast"] or None) != (None if w["forecast"] is None else str(w["forecast"])):
        if not (w["forecast"] is None and r["forecast"] in ("", "-", "none", "no forecast")):
            errs.append(f"csv: {p} forecast {r['forecast']!r}, expected {w['forecast']}")
    if r["at_or_above_110"] != ("yes" if w["listed"] else "no"):
        errs.append(f"csv: {p} at_or_above_110 {r['at_or_above_110']!r}")
# md: one table row per party, the panel line lists exactly the right parties
md = open(base + ".md").read()
for p, w in want.items():
    row = [ln for ln in md.split("\n") if ln.startswith("| " + p)]
    if len(row) != 1:
        errs.append(f"md: {len(row)} table rows for {p}")
        continue
    cells = [c.strip() for c in row[0].strip("|").split("|")]
    if str(w["received"]) not in cells:
        errs.append(f"md: {p} row does not show received {w['received']}: {row[0]}")
    if w["forecast"] is None and "no forecast" not in row[0]:
        errs.append(f"md: {p} row does not say 'no forecast': {row[0]}")
line = [ln for ln in md.split("\n") if "110%" in ln and ln.lstrip().startswith("-")]
if len(line) != 1:
    errs.append(f"md: {len(line)} panel lines about 110%")
else:
    named = sorted(set(re.findall(r"[0-9A-F]{2}(?:-[0-9A-F]{2}){7}", line[0])))
    if named != listed:
        errs.append(f"md: the 110% line names {named}, expected {listed}: {line[0]}")
    if not listed and "none" not in line[0]:
        errs.append(f"md: the 110% line with nobody listed does not say none: {line[0]}")
if errs:
    print(f"report {month}:\n  " + "\n  ".join(errs))
    sys.exit(1)
EOF
}
check_month 2026-09 "$PARTY_A:0:0:-:no $PARTY_B:0:0:-:no $PARTY_C:0:0:-:no"
check_month 2026-10 "$PARTY_A:0:0:-:no $PARTY_B:1:20:100:no $PARTY_C:0:0:-:no"
check_month 2026-11 "$PARTY_A:2:350:300:yes $PARTY_B:1:100:100:no $PARTY_C:0:0:-:no"
check_month 2026-12 "$PARTY_A:1:200:1000:no $PARTY_B:1:110:100:yes $PARTY_C:1:40:-:no"

# a bad month / format is a usage error
expect_rc 2 smki report --home "$H" --month 2026-13 --format md
expect_rc 2 smki report --home "$H" --month 2026-11 --format xml
smki audit verify --home "$H" >verify.out 2>&1 || { cat verify.out; fail "audit verify failed"; }
finish
