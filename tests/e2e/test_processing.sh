#!/usr/bin/env bash
# test_processing.sh - a 2,000-CSR batch with every fault kind of gencsr: every
# Result as expected; the response validates; issued certificates verify
# against the CA (openssl) and parse (GnuTLS certtool); serials are unique and
# match; lookup by serial and by device; fetch exit codes 0, 2, 3, 4 and 5.
. "$(dirname "$0")/lib.sh"

H=$PWD/H
new_home "$H"
add_party "$H" "$PARTY_A" ACME
CA=$H/ca/issuing-ca.pem
FAULTS=device_id:4,device_id_syntax:4,usage:4,base64:4,der_trailing:4,der_truncated:4,sig_alg:4
FAULTS=$FAULTS,key_type:4,key_compressed:4,key_offcurve:4,signature:4,id_mismatch:4,dup_request:4,dup_key:4

step "a 2,000-CSR batch with every fault kind"
make_batch req.xml 2000 "$PARTY_A" PROC-1 --faults "$FAULTS" --expect req.tsv
for code in E_DEVICE_ID E_USAGE E_CSR_ENCODING E_SIG_ALGORITHM E_KEY_TYPE E_KEY_INVALID E_CSR_SIGNATURE \
    E_ID_MISMATCH E_DUPLICATE_REQUEST E_DUPLICATE_KEY; do
    grep -q $'\t'"$code\$" req.tsv || fail "gencsr's expectations hold no $code"
done
drop "$H" req.xml
drain "$H"
assert_accepted "$H" req
# the drain read its requests from intake's cache (reqcache.h), which it removed when done
grep -q "as intake parsed them (request cache)" "$H.drain.log" || fail "the drain did not use the request cache"
left=$(ls -A "$H/spool/archive" | grep '\.req$' || true)
[ -z "$left" ] || fail "request caches left in archive/: $left"
RESP=$(response_path "$H" "$PARTY_A" PROC-1)
assert_response_valid "$RESP"
python3 "$CHECK_RESPONSE" "$RESP" req.tsv >check.log 2>&1 || { head -n 20 check.log; fail "the response does not match gencsr's expectations"; }
assert_eq "Turn in the response" "$(xfield "$RESP" Turn)" 1
assert_eq "Issued in the response" "$(xfield "$RESP" Issued)" "$(grep -c $'\tOK$' req.tsv)"

step "extract the issued certificates"
mkdir -p certs
python3 - "$RESP" req.xml certs <<'EOF' || fail "cannot extract the certificates from the response"
import base64, re, sys, textwrap
import xml.etree.ElementTree as ET
NS = "{urn:smki:batched-csr:1}"
resp, req, outdir = sys.argv[1:]
bodies, asked = {}, {}
for c in ET.parse(req).getroot().iter(NS + "CSR"):
    rid = c.find(NS + "RequestID").text
    bodies[rid] = c.find(NS + "CSRBody").text
    asked[rid] = (c.find(NS + "DeviceID").text, c.find(NS + "CertificateUsage").text)
def canonical(dev):
    h = dev.replace("-", "") if re.fullmatch(r"[0-9A-Fa-f]{2}(-[0-9A-Fa-f]{2}){7}|[0-9A-Fa-f]{16}", dev) else None
    return "-".join(h[i:i + 2] for i in range(0, 16, 2)).upper() if h else dev
rows, serials, bad = [], set(), []
for r in ET.parse(resp).getroot().iter(NS + "Result"):
    rid = r.find(NS + "RequestID").text
    dev, usage = asked[rid]
    if r.find(NS + "DeviceID").text != canonical(dev) or r.find(NS + "CertificateUsage").text != usage:
        bad.append(f"RequestID {rid}: echoes {r.find(NS + 'DeviceID').text} {r.find(NS + 'CertificateUsage').text},"
                   f" asked {dev} {usage}")
    if r.find(NS + "Status").text != "Issued":
        continue
    serial = r.find(NS + "CertificateSerial").text
    der = base64.b64decode(r.find(NS + "CertificateBody").text, validate=True)
    if not re.fullmatch(r"[0-9A-F]{32}", serial):
        bad.append(f"RequestID {rid}: CertificateSerial {serial} is not 32 upper-case hex digits")
    elif serial[:2] == "00" or int(serial[0], 16) >= 8:
        bad.append(f"RequestID {rid}: serial {serial}: first octet zero or top bit set")
    if serial in serials:
        bad.append(f"serial {serial} issued twice")
    serials.add(serial)
    n = len(rows)
    open(f"{outdir}/{n}.der", "wb").write(der)
    pem = "-----BEGIN CERTIFICATE-----\n" + "\n".join(textwrap.wrap(base64.b64encode(der).decode(), 64)) \
          + "\n-----END CERTIFICATE-----\n"
    open(f"{outdir}/{n}.pem", "w").write(pem)
    open(f"{outdir}/{n}.csr.der", "wb").write(base64.b64decode(bodies[rid]))
    rows.append(f"{n}\t{rid}\t{r.find(NS + 'DeviceID').text}\t{r.find(NS + 'CertificateUsage').text}\t{serial}")
open(f"{outdir}/index.tsv", "w").write("\n".join(rows) + "\n")
for b in bad[:10]:
    print(b)
sys.exit(1 if bad else 0)
EOF
NCERT=$(wc -l <certs/index.tsv)
[ "$NCERT" -gt 1000 ] || fail "only $NCERT certificates extracted"

# the sample: the first, the last and 100 spread between
mapfile -t SAMPLE < <(python3 -c "
n = $NCERT
print(0); print(n - 1)
for i in range(100): print(1 + i * (n - 2) // 100)" | sort -un)

step "openssl verify of ${#SAMPLE[@]} certificates against the CA"
files=()
for i in "${SAMPLE[@]}"; do files+=("certs/$i.pem"); done
openssl verify -CAfile "$CA" "${files[@]}" >verify.log 2>&1
ok=$(grep -c ': OK$' verify.log)
[ "$ok" -eq "${#SAMPLE[@]}" ] || { grep -v ': OK$' verify.log | head; fail "openssl verify: $ok of ${#SAMPLE[@]} certificates OK"; }

step "serials and profile of the sample"
for i in "${SAMPLE[@]}"; do
    want=$(awk -F'\t' -v i="$i" '$1 == i { print $5 }' certs/index.tsv)
    got=$(openssl x509 -inform DER -in "certs/$i.der" -noout -serial | sed 's/^serial=//')
    [ "$got" = "$want" ] || fail "certificate $i: serial $got, CertificateSerial says $want"
done
ca_subject=$(openssl x509 -in "$CA" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
for usage in DS KA; do
    i=$(awk -F'\t' -v u="$usage" '$4 == u { print $1; exit }' certs/index.tsv)
    openssl x509 -inform DER -in "certs/$i.der" -noout -text -nameopt RFC2253 >"cert-$usage.txt" \
        || fail "openssl cannot print certificate $i"
    issuer=$(openssl x509 -inform DER -in "certs/$i.der" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//')
    assert_eq "issuer of the $usage certificate" "$issuer" "$ca_subject"
    subject=$(openssl x509 -inform DER -in "certs/$i.der" -noout -subject -nameopt RFC2253 | sed 's/^subject=//;s/ *$//')
    assert_eq "subject of the $usage certificate" "$subject" ""
    end=$(openssl x509 -inform DER -in "certs/$i.der" -noout -enddate | sed 's/^notAfter=//')
    assert_eq "notAfter of the $usage certificate" "$end" "Dec 31 23:59:59 9999 GMT"
    ku=$(grep -A1 'X509v3 Key Usage' "cert-$usage.txt" | tr -s ' \n' ' ' | sed 's/^ //')
    case $usage in
    DS) want_ku="X509v3 Key Usage: critical Digital Signature " ;;
    KA) want_ku="X509v3 Key Usage: critical Key Agreement " ;;
    esac
    assert_eq "keyUsage of the $usage certificate" "$ku" "$want_ku"
    cert_key=$(openssl x509 -inform DER -in "certs/$i.der" -noout -pubkey)
    csr_key=$(openssl req -inform DER -in "certs/$i.csr.der" -noout -pubkey)
    [ -n "$cert_key" ] && [ "$cert_key" = "$csr_key" ] || fail "the $usage certificate's key is not its CSR's"
done

step "the certificate profile (SPEC 4) of the first and last DS and KA certificates"
for usage in DS KA; do
    for pick in head tail; do
        IFS=$'\t' read -r i rid dev u serial < <(awk -F'\t' -v u="$usage" '$4 == u' certs/index.tsv | $pick -n 1)
        python3 "$E2E_DIR/certprofile.py" "certs/$i.der" "$CA" "$dev" "$u" 261122195900Z >profile.log 2>&1 \
            || { cat profile.log; fail "certificate of RequestID $rid ($dev $u) does not follow the profile"; }
    done
done

step "GnuTLS certtool parses the sample"
if command -v certtool >/dev/null; then
    for i in "${SAMPLE[@]}"; do
        certtool -i --inder --infile "certs/$i.der" >certtool.log 2>&1 \
            || { tail -n 5 certtool.log; fail "certtool -i --inder rejects certificate $i"; }
    done
else
    echo "SKIP: certtool (package gnutls-bin) is not installed; GnuTLS parsing not checked"
fi

step "lookup"
der_of_pem() { openssl x509 -in "$1" -outform DER -out "$2" 2>/dev/null; }
IFS=$'\t' read -r i rid dev usage serial < <(awk -F'\t' '$4 == "DS"' certs/index.tsv | sed -n 2p)
smki lookup --home "$H" --serial "$serial" >lookup-serial.out || fail "lookup --serial $serial failed"
sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' lookup-serial.out >lookup-serial.pem
der_of_pem lookup-serial.pem lookup-serial.der || fail "lookup --serial $serial printed no PEM certificate"
cmp -s lookup-serial.der "certs/$i.der" || fail "lookup --serial $serial prints another certificate than the response"
smki lookup --home "$H" --device "$dev" --usage DS >lookup-dev.out || fail "lookup --device $dev --usage DS failed"
sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' lookup-dev.out >lookup-dev.pem
der_of_pem lookup-dev.pem lookup-dev.der || fail "lookup --device $dev --usage DS printed no PEM certificate"
cmp -s lookup-dev.der "certs/$i.der" || fail "lookup --device $dev --usage DS prints another certificate"
grep -qi "$serial" lookup-dev.out || fail "lookup --device $dev does not name serial $serial"
# the device spelled without hyphens, lower case
dev16=$(echo "$dev" | tr -d '-' | tr 'A-F' 'a-f')
smki lookup --home "$H" --device "$dev16" --usage DS >lookup-dev16.out || fail "lookup --device $dev16 failed"
grep -qi "$serial" lookup-dev16.out || fail "lookup --device $dev16 (same device, other spelling) does not find $serial"

step "fetch: 4 too early, 0 delivered, 5 already retrieved, 2 unknown, 3 pending"
AFTER=2026-11-23T09:00:00Z     # after RetrieveNotBefore of PROC-1 (2026-11-23T08:00Z)
assert_receipt_field "$H" req RetrieveNotBefore 2026-11-23T08:00:00Z
expect_rc 4 env SMKI_NOW=2026-11-23T06:00:00Z "$SMKI_BIN" fetch --home "$H" --party "$PARTY_A" --batch PROC-1 --out early.xml
[ ! -e early.xml ] || fail "fetch before RetrieveNotBefore wrote the response"
rc=0
SMKI_NOW=$AFTER smki fetch --home "$H" --party "$PARTY_A" --batch PROC-1 --out fetched.xml >fetch.out 2>&1 || rc=$?
[ "$rc" -eq 0 ] || { cat fetch.out; fail "fetch of the done batch exited $rc, expected 0"; }
cmp -s fetched.xml "$RESP" || fail "fetch --out wrote something else than the response file"
# retrieved once: never again (BRIEF 4), and the response stays in responses/ (SPEC 5)
expect_rc 5 env SMKI_NOW=2026-11-23T11:00:00Z "$SMKI_BIN" fetch --home "$H" --party "$PARTY_A" --batch PROC-1 --out again.xml
[ -f "$RESP" ] || fail "the response left responses/ after it was retrieved"
expect_rc 2 env SMKI_NOW=$AFTER "$SMKI_BIN" fetch --home "$H" --party "$PARTY_A" --batch NO-SUCH-BATCH
expect_rc 2 env SMKI_NOW=$AFTER "$SMKI_BIN" fetch --home "$H" --party "$PARTY_B" --batch PROC-1

# a batch accepted but not processed: `run` at noon, outside the window, only takes it
NOON=2026-11-23T12:00:00Z
make_batch pend.xml 3 "$PARTY_A" PEND-1
start_daemon "$H" daemon.log SMKI_NOW=$NOON
drop "$H" pend.xml
wait_for_file "$(receipt_path "$H" pend)" 5 || fail "run did not receipt pend.xml within 5 s"
stop_daemon 10
[ "$DAEMON_RC" != 124 ] || fail "run did not stop within 10 s of SIGTERM"
assert_accepted "$H" pend
[ ! -e "$(response_path "$H" "$PARTY_A" PEND-1)" ] || fail "PEND-1 was processed at noon, outside the window"
# asked after its RetrieveNotBefore (so "too early" cannot apply), still not processed
rnb=$(receipt_field "$H" pend RetrieveNotBefore)
later=$(date -u -d "$rnb + 1 hour" +%Y-%m-%dT%H:%M:%SZ)
expect_rc 3 env SMKI_NOW="$later" "$SMKI_BIN" fetch --home "$H" --party "$PARTY_A" --batch PEND-1 --out pend-resp.xml
[ ! -e pend-resp.xml ] || fail "fetch of a pending batch wrote a file"
finish "processing checks passed"
