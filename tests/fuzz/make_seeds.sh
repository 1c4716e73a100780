#!/usr/bin/env bash
# make_seeds.sh OUTDIR - seed corpora for the libFuzzer harnesses:
#   OUTDIR/parse/     valid requests (gencsr, small), every case of the hostile
#                     corpus up to 64 KiB (tests/hostile/make_corpus.sh), and
#                     small hand-made oddities
#   OUTDIR/validate/  DER of valid CSRs (gencsr --raw-der, DeviceID
#                     00-DB-12-34-56-78-90-00), of gencsr's fault kinds, of
#                     openssl-made CSRs (P-384, RSA, Ed25519, SHA-1), and the
#                     CSRBody texts of the hostile per-request batch
# Environment: SMKI_BENCH (directory holding gencsr; default build/bench).
set -euo pipefail
FUZZ_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$FUZZ_DIR/../.." && pwd)
OUT=${1:?usage: make_seeds.sh OUTDIR}
SMKI_BENCH=${SMKI_BENCH:-$REPO/build/bench}
case $SMKI_BENCH in /*) ;; *) SMKI_BENCH=$REPO/$SMKI_BENCH ;; esac
GENCSR=$SMKI_BENCH/gencsr
PARTY=90-B3-D5-1F-30-01-00-00
[ -x "$GENCSR" ] || { echo "make_seeds.sh: $GENCSR is not built (make)" >&2; exit 1; }

# built aside and renamed into place, so that two runs at once do not collide
FINAL=$OUT
OUT=$(mktemp -d "${FINAL%/}.new.XXXXXX")
mkdir -p "$OUT/parse" "$OUT/validate" "$OUT/work"
W=$OUT/work

# valid requests of 2, 3 and 7 CSRs, and with gencsr's faults
"$GENCSR" --count 2 --party $PARTY --batch S2 --out "$OUT/parse/valid-2.xml" 2>/dev/null
"$GENCSR" --count 3 --party $PARTY --batch S3 --out "$OUT/parse/valid-3.xml" 2>/dev/null
"$GENCSR" --count 7 --party $PARTY --batch S7 --header-count 6 --out "$OUT/parse/count-mismatch-7.xml" 2>/dev/null
"$GENCSR" --count 14 --party $PARTY --batch SF --faults device_id:1,device_id_syntax:1,usage:1,base64:1,der_trailing:1,der_truncated:1,sig_alg:1,key_type:1,key_compressed:1,key_offcurve:1,signature:1,id_mismatch:1,dup_request:1 \
    --out "$OUT/parse/faults-14.xml" 2>/dev/null

# DER seeds for validate: request 1 of gencsr files, clean and with each fault
i=0
"$GENCSR" --count 1 --party $PARTY --batch V --device-base 00DB123456789000 --raw-der "$OUT/validate/valid.der" \
    --out "$W/v.xml" 2>/dev/null
for k in der_trailing der_truncated sig_alg key_type key_compressed key_offcurve signature id_mismatch; do
    "$GENCSR" --count 2 --party $PARTY --batch V --device-base 00DB123456788FFF --faults "$k@2" --out "$W/f-$k.xml" 2>/dev/null
    # request 2 (DeviceID ...9000) carries the fault: its CSRBody, decoded
    python3 - "$W/f-$k.xml" "$OUT/validate/fault-$k.der" <<'EOF' || true
import base64, re, sys
s = open(sys.argv[1]).read()
bodies = re.findall(r"<CSRBody>([^<]*)</CSRBody>", s)
try:
    open(sys.argv[2], "wb").write(base64.b64decode(bodies[1]))
except Exception:
    pass
EOF
done
for spec in "ec -pkeyopt ec_paramgen_curve:P-384" "rsa:1024" "ed25519" "ec -pkeyopt ec_paramgen_curve:P-256"; do
    i=$((i + 1))
    # shellcheck disable=SC2086
    openssl req -new -newkey $spec -nodes -subj / -keyout /dev/null -outform DER -out "$OUT/validate/openssl-$i.der" 2>/dev/null
done
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha1 -nodes -subj /CN=x -keyout /dev/null \
    -outform DER -out "$OUT/validate/openssl-sha1.der" 2>/dev/null

# the hostile corpus: small cases as parse seeds, per-request bodies as validate seeds
"$REPO/tests/hostile/make_corpus.sh" "$W/hostile" 9 >/dev/null
python3 - "$W/hostile" "$OUT" <<'EOF'
import hashlib, os, re, stat, sys
src, out = sys.argv[1], sys.argv[2]
for n in sorted(os.listdir(src)):
    p = os.path.join(src, n)
    st = os.lstat(p)
    if not stat.S_ISREG(st.st_mode) or n in ("expect.tsv", "labels.tsv", "timing.lst"):
        continue
    data = open(p, "rb").read(65536 + 1)
    if len(data) > 65536:
        data = data[:65536]          # the head of a big case is a seed too
    h = hashlib.sha1(data).hexdigest()[:12]
    open(os.path.join(out, "parse", "hostile-" + h), "wb").write(data)
s = open(os.path.join(src, "perreq.xml"), encoding="utf-8").read()
for i, b in enumerate(re.findall(r"<CSRBody>(.*?)</CSRBody>", s, re.S)):
    open(os.path.join(out, "validate", "perreq-%02d.txt" % (i + 1)), "w").write(b)
EOF
# a few hand-made oddities for the reader
printf '<BatchedCSRRequest xmlns="urn:smki:batched-csr:1"><Header><BatchID>a</BatchID><PartyID>0011223344556677</PartyID><CSRCount>0</CSRCount></Header><CSRs/></BatchedCSRRequest>' >"$OUT/parse/empty-csrs.xml"
printf '<b:BatchedCSRRequest xmlns:b="urn:smki:batched-csr:1"><b:Header><b:BatchID>a</b:BatchID><b:PartyID>00-11-22-33-44-55-66-77</b:PartyID><b:CSRCount>2</b:CSRCount></b:Header><b:CSRs><b:CSR><b:RequestID>1</b:RequestID><b:DeviceID>x</b:DeviceID><b:CertificateUsage>DS</b:CertificateUsage><b:CSRBody>AAAA</b:CSRBody></b:CSR><b:CSR><b:RequestID>01</b:RequestID><b:DeviceID/><b:CertificateUsage/><b:CSRBody/></b:CSR></b:CSRs></b:BatchedCSRRequest>' >"$OUT/parse/prefixed-dupid.xml"
rm -rf "$W"
rm -rf "$FINAL"
mv "$OUT" "$FINAL"
echo "seeds: $(ls "$FINAL/parse" | wc -l) for parse, $(ls "$FINAL/validate" | wc -l) for validate in $FINAL"
