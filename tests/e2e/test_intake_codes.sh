#!/usr/bin/env bash
# test_intake_codes.sh - every batch-level error code of SPEC.md 3.2, each from a
# crafted file, with the precedence of 5; the receipt of each validates and
# carries no Turn/ScheduledNight/RetrieveNotBefore; the entry itself moves to
# rejected/ and nothing reaches archive/ or responses/.  Plus: names that are
# not taken, *.tmp, a BOM, a lower-case PartyID, the 128-character stem,
# duplicates by modification time, the size limit at its boundary, a FIFO.
. "$(dirname "$0")/lib.sh"

# craft.py BASE OUT KIND: a variant of a valid gencsr file
cat >craft.py <<'EOF'
import re, sys
base, out, kind = sys.argv[1:4]
s = open(base, encoding="utf-8").read()
def sub1(pat, rep):
    global s
    s2 = re.sub(pat, rep, s, count=1, flags=re.S)
    assert s2 != s, (kind, pat)
    s = s2
raw = None
if kind == "broken":            # not well-formed: a closing tag missing
    sub1(r"</CSRs>", "")
elif kind == "doctype":
    sub1(r"\?>", "?>\n<!DOCTYPE BatchedCSRRequest>")
elif kind == "xxe":             # external entity to /etc/passwd, used in BatchID
    sub1(r"\?>", '?>\n<!DOCTYPE BatchedCSRRequest [\n  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>')
    sub1(r"<BatchID>[^<]*</BatchID>", "<BatchID>&xxe;</BatchID>")
elif kind == "xxe_param":       # parameter entity pulling in /etc/passwd
    sub1(r"\?>", '?>\n<!DOCTYPE BatchedCSRRequest [\n  <!ENTITY % p SYSTEM "file:///etc/passwd">\n  %p;\n]>')
elif kind == "entity":          # internal entities (a small "billion laughs")
    sub1(r"\?>", '?>\n<!DOCTYPE BatchedCSRRequest [\n  <!ENTITY a "aaaaaaaaaa">\n'
         '  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n]>')
    sub1(r"<BatchID>[^<]*</BatchID>", "<BatchID>&b;</BatchID>")
elif kind == "badutf8":         # an invalid UTF-8 sequence in a text node
    raw = s.encode("utf-8").replace(b"<CertificateUsage>DS", b"<CertificateUsage>D\xff\xfeS", 1)
elif kind == "noheader":
    sub1(r"<Header>.*?</Header>", "")
elif kind == "dupid":           # RequestID 2 becomes 1
    sub1(r"<RequestID>2</RequestID>", "<RequestID>1</RequestID>")
elif kind == "dupid_value":     # RequestID 2 becomes 01: the same integer as 1
    sub1(r"<RequestID>2</RequestID>", "<RequestID>01</RequestID>")
elif kind == "namespace":
    sub1(r'xmlns="urn:smki:batched-csr:1"', 'xmlns="urn:smki:batched-csr:2"')
elif kind == "longbody":        # CSRBody of 8193 characters
    sub1(r"<CSRBody>[^<]*</CSRBody>", "<CSRBody>" + "A" * 8193 + "</CSRBody>")
elif kind == "extraelem":       # an element the XSD does not know, in CSR 1
    sub1(r"</CSRBody>", "</CSRBody><Colour>blue</Colour>")
elif kind == "bom":
    raw = b"\xef\xbb\xbf" + s.encode("utf-8")
elif kind == "lowerparty":      # PartyID as 16 hex digits, lower case
    sub1(r"<PartyID>([^<]*)</PartyID>",
         lambda m: "<PartyID>" + m.group(1).replace("-", "").lower() + "</PartyID>")
elif kind == "schemaloc":       # a schema hint that must never be fetched
    sub1(r'xmlns="urn:smki:batched-csr:1"',
         'xmlns="urn:smki:batched-csr:1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
         'xsi:schemaLocation="urn:smki:batched-csr:1 http://127.0.0.1:9/evil.xsd"')
else:
    raise SystemExit("unknown kind " + kind)
with open(out, "wb") as f:
    f.write(raw if raw is not None else s.encode("utf-8"))
EOF

# many.py OUT N PARTY BATCH HEADERCOUNT [extraelem|dupid]: N dummy CSRs, fast
cat >many.py <<'EOF'
import sys
out, n, party, batch, hc = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
fault = sys.argv[6] if len(sys.argv) > 6 else ""
parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<BatchedCSRRequest xmlns="urn:smki:batched-csr:1">\n'
         f"<Header><BatchID>{batch}</BatchID><PartyID>{party}</PartyID><CSRCount>{hc}</CSRCount></Header>\n<CSRs>\n"]
for i in range(1, n + 1):
    rid = 1 if (fault == "dupid" and i == 2) else i
    extra = "<Colour>blue</Colour>" if (fault == "extraelem" and i == 1) else ""
    parts.append(f"<CSR><RequestID>{rid}</RequestID><DeviceID>00-DB-12-34-56-78-{i >> 8 & 255:02X}-{i & 255:02X}</DeviceID>"
                 f"<CertificateUsage>DS</CertificateUsage><CSRBody>AAAA</CSRBody>{extra}</CSR>\n")
parts.append("</CSRs>\n</BatchedCSRRequest>\n")
open(out, "w").write("".join(parts))
EOF

craft() {   # KIND OUT BATCHID
    make_batch "base-$3.xml" 3 "$PARTY_A" "$3"
    python3 craft.py "base-$3.xml" "$2" "$1" || fail "craft $1 failed"
}

# ---------------------------------------------------------------------------
step "home R: one file per rejection code, all taken by one drain"
R=$PWD/R
new_home "$R"
add_party "$R" "$PARTY_A" ACME
IN=$R/spool/incoming
mkdir -p files

craft broken     "$IN/xml_broken.xml"      XB
craft doctype    "$IN/xml_doctype.xml"     XD
craft xxe        "$IN/xml_xxe.xml"         XX
craft xxe_param  "$IN/xml_xxe_param.xml"   XP
craft entity     "$IN/xml_entity.xml"      XE
craft badutf8    "$IN/xml_badutf8.xml"     XU
craft noheader   "$IN/schema_noheader.xml" SH
craft dupid      "$IN/schema_dupid.xml"    SD
craft dupid_value "$IN/schema_dupid01.xml" SV
craft namespace  "$IN/schema_ns.xml"       SN
craft longbody   "$IN/schema_longbody.xml" SL
make_batch "$IN/few_one.xml" 1 "$PARTY_A" F1
make_batch "$IN/few_zero.xml" 0 "$PARTY_A" F0
make_batch files/f1s.xml 1 "$PARTY_A" F1S
python3 craft.py files/f1s.xml "$IN/few_schema.xml" extraelem      # E_SCHEMA before E_TOO_FEW
make_batch "$IN/few_count.xml" 1 "$PARTY_A" F1C --header-count 5   # E_TOO_FEW before E_COUNT_MISMATCH
python3 many.py "$IN/many.xml" 50001 "$PARTY_A" M1 50001
python3 many.py "$IN/many_schema.xml" 50001 "$PARTY_A" M2 2 extraelem   # + E_SCHEMA, count mismatch
python3 many.py "$IN/many_dupid.xml" 50001 "$PARTY_A" M3 50001 dupid
make_batch "$IN/count_mismatch.xml" 3 "$PARTY_A" CM --header-count 4
make_batch "$IN/count_mismatch_unknown.xml" 3 "$PARTY_UNKNOWN" CMU --header-count 2  # before E_UNKNOWN_PARTY
make_batch "$IN/unknown_party.xml" 3 "$PARTY_UNKNOWN" UP

# E_FILE: a symlink to a valid batch, a hard-linked valid batch, a directory
make_batch files/target.xml 3 "$PARTY_A" LINKED
cp files/target.xml files/target.orig
ln -s "$PWD/files/target.xml" "$IN/x.xml"
make_batch files/hard.xml 3 "$PARTY_A" HARD
ln files/hard.xml "$IN/hard.xml"
mkdir "$IN/d.xml"

# names that are never taken, and *.tmp
make_batch "$IN/bad name.xml" 3 "$PARTY_A" BADNAME
make_batch "$IN/x.txt" 3 "$PARTY_A" TXT
make_batch "$IN/y.tmp" 3 "$PARTY_A" TMP1
make_batch "$IN/z.xml.tmp" 3 "$PARTY_A" TMP2
long129=$(printf 'L%.0s' $(seq 129))
make_batch "$IN/$long129.xml" 3 "$PARTY_A" LONG129

drain "$R" drainR.log

assert_rejected "$R" xml_broken.xml E_XML
assert_rejected "$R" xml_doctype.xml E_XML
assert_rejected "$R" xml_xxe.xml E_XML
assert_rejected "$R" xml_xxe_param.xml E_XML
assert_rejected "$R" xml_entity.xml E_XML
assert_rejected "$R" xml_badutf8.xml E_XML
if grep -rq 'root:' "$R/spool/receipts" drainR.log; then
    fail "the contents of /etc/passwd leaked into a receipt or the log (XXE)"
fi
assert_rejected "$R" schema_noheader.xml E_SCHEMA
assert_rejected "$R" schema_dupid.xml E_SCHEMA
assert_rejected "$R" schema_dupid01.xml E_SCHEMA
assert_rejected "$R" schema_ns.xml E_SCHEMA
assert_rejected "$R" schema_longbody.xml E_SCHEMA
assert_rejected "$R" few_one.xml E_TOO_FEW
assert_rejected "$R" few_zero.xml E_TOO_FEW
assert_rejected "$R" few_schema.xml E_SCHEMA
assert_rejected "$R" few_count.xml E_TOO_FEW
assert_rejected "$R" many.xml E_TOO_MANY
assert_rejected "$R" many_schema.xml E_TOO_MANY
assert_rejected "$R" many_dupid.xml E_TOO_MANY
assert_rejected "$R" count_mismatch.xml E_COUNT_MISMATCH
assert_rejected "$R" count_mismatch_unknown.xml E_COUNT_MISMATCH
assert_rejected "$R" unknown_party.xml E_UNKNOWN_PARTY
assert_receipt_field "$R" unknown_party PartyID "$PARTY_UNKNOWN"
assert_receipt_field "$R" unknown_party BatchID UP
assert_receipt_field "$R" count_mismatch CSRCount 4

assert_rejected "$R" x.xml E_FILE
[ -L "$R/spool/rejected/x.xml" ] || fail "the symlink itself was not moved to rejected/"
cmp -s files/target.xml files/target.orig || fail "the symlink's target was modified"
assert_rejected "$R" hard.xml E_FILE
cmp -s files/hard.xml "$R/spool/rejected/hard.xml" || fail "hard-linked file changed"
assert_rejected "$R" d.xml E_FILE
[ -d "$R/spool/rejected/d.xml" ] || fail "the directory d.xml was not moved to rejected/"

for n in "bad name.xml" x.txt y.tmp z.xml.tmp "$long129.xml"; do
    [ -f "$IN/$n" ] || fail "'$n' should have stayed in incoming/"
    [ ! -e "$R/spool/rejected/$n" ] || fail "'$n' was moved to rejected/"
done
assert_no_receipt "$R" "bad name"
assert_no_receipt "$R" x.txt
assert_no_receipt "$R" y
assert_no_receipt "$R" z
assert_no_receipt "$R" "$long129"
[ "$(ls "$R/spool/receipts" | wc -l)" = 24 ] \
    || fail "expected 24 receipts in R, found: $(ls "$R/spool/receipts" | tr '\n' ' ')"
[ -z "$(ls -A "$R/spool/archive")" ] || fail "archive/ is not empty after rejections only: $(ls -A "$R/spool/archive")"
[ -z "$(ls -A "$R/spool/responses")" ] || fail "responses/ is not empty after rejections only"
smki status --home "$R" --json >statusR.json || fail "status --json failed"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert not d["batches"], d' statusR.json \
    || fail "rejected files were queued: $(cat statusR.json)"

# ---------------------------------------------------------------------------
step "home D: duplicates by modification time, BOM, PartyID spelling, long stem, schema hint"
D=$PWD/D
new_home "$D"
add_party "$D" "$PARTY_A" ACME
add_party "$D" "$PARTY_B" BETA
IN=$D/spool/incoming
make_batch "$IN/z-first.xml" 3 "$PARTY_A" DUP1
make_batch "$IN/a-second.xml" 3 "$PARTY_A" DUP1
touch -d '2026-11-22 10:00:00' "$IN/z-first.xml"
touch -d '2026-11-22 11:00:00' "$IN/a-second.xml"
make_batch "$IN/other-party.xml" 3 "$PARTY_B" DUP1      # same BatchID, other party: fine
make_batch "$IN/m2.xml" 3 "$PARTY_A" DUP2                # same mtime: the name decides
make_batch "$IN/m1.xml" 3 "$PARTY_A" DUP2
touch -d '2026-11-22 10:30:00' "$IN/m1.xml" "$IN/m2.xml"
craft bom "$IN/bom.xml" BOM
craft lowerparty "$IN/lower.xml" LOWER
craft schemaloc "$IN/hint.xml" HINT
long128=$(printf 'S%.0s' $(seq 128))
make_batch "$IN/$long128.xml" 3 "$PARTY_A" LONG128
drain "$D" drainD.log

assert_accepted "$D" z-first
assert_rejected "$D" a-second.xml E_DUPLICATE_BATCH
assert_receipt_field "$D" a-second BatchID DUP1
assert_receipt_field "$D" a-second PartyID "$PARTY_A"
assert_accepted "$D" other-party
assert_accepted "$D" m1
assert_rejected "$D" m2.xml E_DUPLICATE_BATCH
assert_accepted "$D" bom
assert_accepted "$D" lower
assert_receipt_field "$D" lower PartyID "$PARTY_A"
assert_accepted "$D" hint
assert_accepted "$D" "$long128"
for b in DUP1 BOM LOWER HINT LONG128; do
    assert_response_valid "$(response_path "$D" "$PARTY_A" "$b")"
done
assert_response_valid "$(response_path "$D" "$PARTY_B" DUP1)"

step "home D: the same party + BatchID again, in a later run"
make_batch "$IN/again.xml" 3 "$PARTY_A" DUP1
drain "$D" drainD.log
assert_rejected "$D" again.xml E_DUPLICATE_BATCH

# ---------------------------------------------------------------------------
step "home L: max_file_bytes = 2048"
L=$PWD/L
new_home "$L"
add_party "$L" "$PARTY_A" ACME
set_conf "$L" limits max_file_bytes 2048
IN=$L/spool/incoming
make_batch "$IN/big.xml" 10 "$PARTY_A" BIG
[ "$(stat -c %s "$IN/big.xml")" -gt 2048 ] || fail "big.xml is not bigger than 2048 bytes"
craft broken files/big_broken.xml BIGB
python3 -c 'import sys; open(sys.argv[1], "a").write(" " * 3000)' files/big_broken.xml
drop "$L" files/big_broken.xml                          # E_TOO_LARGE before E_XML
# a valid 2-CSR file padded with trailing white space to exactly 2048 and 2049 bytes
make_batch files/two.xml 2 "$PARTY_A" EXACT
size=$(stat -c %s files/two.xml)
[ "$size" -lt 2048 ] || fail "a 2-CSR file is $size bytes; cannot test the boundary"
python3 -c 'import sys; d=open(sys.argv[1]).read(); open(sys.argv[2],"w").write(d + "\n" * (2048 - len(d)))' \
    files/two.xml files/exact.xml
sed 's/<BatchID>EXACT</<BatchID>OVER</' files/two.xml >files/two_over.xml
python3 -c 'import sys; d=open(sys.argv[1]).read(); open(sys.argv[2],"w").write(d + "\n" * (2049 - len(d)))' \
    files/two_over.xml files/over.xml
drop "$L" files/exact.xml
drop "$L" files/over.xml
drain "$L" drainL.log
assert_rejected "$L" big.xml E_TOO_LARGE
assert_rejected "$L" big_broken.xml E_TOO_LARGE
assert_rejected "$L" over.xml E_TOO_LARGE
assert_accepted "$L" exact

# ---------------------------------------------------------------------------
step "home F: a FIFO named f.xml (run --drain must not hang)"
F=$PWD/F
new_home "$F"
add_party "$F" "$PARTY_A" ACME
mkfifo "$F/spool/incoming/f.xml"
make_batch "$F/spool/incoming/ok.xml" 3 "$PARTY_A" OK
rc=0
timeout 20 "$SMKI_BIN" run --home "$F" --drain >drainF.log 2>&1 || rc=$?
[ "$rc" -ne 124 ] || fail "run --drain hung on a FIFO in incoming/ (killed after 20 s)"
[ "$rc" -eq 0 ] || fail "run --drain with a FIFO in incoming/ exited $rc"
assert_rejected "$F" f.xml E_FILE
[ -p "$F/spool/rejected/f.xml" ] || fail "the FIFO itself was not moved to rejected/"
assert_accepted "$F" ok

echo "all intake checks passed"
