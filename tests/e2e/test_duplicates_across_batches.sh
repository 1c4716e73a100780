#!/usr/bin/env bash
# test_duplicates_across_batches.sh - a key certified by batch 1 is
# E_DUPLICATE_KEY when batch 2 asks for it again (same DeviceID and usage, so
# that E_ID_MISMATCH, which comes first, cannot apply), and the rest of batch 2
# is issued; a key whose request was rejected in batch 1 claimed nothing.
. "$(dirname "$0")/lib.sh"

H=$PWD/H
new_home "$H"
add_party "$H" "$PARTY_A" ACME
add_party "$H" "$PARTY_B" BETA

step "batch 1"
make_batch b1.xml 4 "$PARTY_A" DUPK-1 --faults device_id_syntax@3 --expect b1.tsv
drop "$H" b1.xml
drain "$H"
R1=$(response_path "$H" "$PARTY_A" DUPK-1)
assert_response_valid "$R1"
python3 "$CHECK_RESPONSE" "$R1" b1.tsv >check1.log || { cat check1.log; fail "batch 1 is not as expected"; }

step "batch 2 (another party) reuses CSR 1 (issued) and CSR 3 (rejected in batch 1)"
make_batch b2-base.xml 3 "$PARTY_B" DUPK-2 --device-base 00DB000000770000
python3 - b1.xml b2-base.xml b2.xml <<'EOF' || fail "cannot build batch 2"
import re, sys
NS = "urn:smki:batched-csr:1"
b1, base, out = sys.argv[1:]
s1 = open(b1).read()
csrs1 = re.findall(r"<CSR>.*?</CSR>", s1, re.S)
def with_id(csr, rid):
    return re.sub(r"<RequestID>\d+</RequestID>", f"<RequestID>{rid}</RequestID>", csr)
def fix_device(csr, dev):
    return re.sub(r"<DeviceID>[^<]*</DeviceID>", f"<DeviceID>{dev}</DeviceID>", csr)
# CSR 3 of batch 1 had DeviceID "XYZ" (E_DEVICE_ID): reuse its key and CSR with
# the device it names (device-base + 2), which batch 1 never certified
dev3 = re.search(r"<DeviceID>([^<]*)</DeviceID>", csrs1[0]).group(1)
octets = bytes.fromhex(dev3.replace("-", ""))
dev3 = "-".join(f"{b:02X}" for b in (int.from_bytes(octets, "big") + 2).to_bytes(8, "big"))
s = open(base).read()
mine = re.findall(r"<CSR>.*?</CSR>", s, re.S)
new = [with_id(mine[0], 1), with_id(csrs1[0], 2), with_id(mine[1], 3),
       with_id(fix_device(csrs1[2], dev3), 4), with_id(mine[2], 5)]
s = re.sub(r"<CSRs>.*</CSRs>", "<CSRs>\n" + "\n".join(new) + "\n</CSRs>", s, flags=re.S)
s = re.sub(r"<CSRCount>\d+</CSRCount>", "<CSRCount>5</CSRCount>", s)
open(out, "w").write(s)
EOF
printf '1\tOK\n2\tE_DUPLICATE_KEY\n3\tOK\n4\tOK\n5\tOK\n' >b2.tsv
drop "$H" b2.xml
drain "$H"
assert_accepted "$H" b2
R2=$(response_path "$H" "$PARTY_B" DUPK-2)
assert_response_valid "$R2"
python3 "$CHECK_RESPONSE" "$R2" b2.tsv >check2.log || { cat check2.log; fail "batch 2 is not as expected"; }

step "batch 3: the same key again, the device spelled without hyphens in lower case"
python3 - b1.xml b3.xml "$PARTY_A" <<'EOF' || fail "cannot build batch 3"
import re, sys
b1, out, party = sys.argv[1:]
s = open(b1).read()
csrs = re.findall(r"<CSR>.*?</CSR>", s, re.S)
c1 = re.sub(r"<DeviceID>([^<]*)</DeviceID>",
            lambda m: "<DeviceID>" + m.group(1).replace("-", "").lower() + "</DeviceID>", csrs[0])
c2 = csrs[1]   # the KA request of batch 1, issued: the same key again
s = re.sub(r"<CSRs>.*</CSRs>", "<CSRs>\n" + c1 + "\n" + c2 + "\n</CSRs>", s, flags=re.S)
s = re.sub(r"<CSRCount>\d+</CSRCount>", "<CSRCount>2</CSRCount>", s)
s = re.sub(r"<BatchID>[^<]*</BatchID>", "<BatchID>DUPK-3</BatchID>", s)
open(out, "w").write(s)
EOF
printf '1\tE_DUPLICATE_KEY\n2\tE_DUPLICATE_KEY\n' >b3.tsv
drop "$H" b3.xml
drain "$H"
R3=$(response_path "$H" "$PARTY_A" DUPK-3)
assert_response_valid "$R3"
python3 "$CHECK_RESPONSE" "$R3" b3.tsv >check3.log || { cat check3.log; fail "batch 3 is not as expected"; }
dev1=$(xmllint --xpath "string((//*[local-name()='Result'])[1]/*[local-name()='DeviceID'])" "$R3")
want1=$(xmllint --xpath "string((//*[local-name()='Result'])[1]/*[local-name()='DeviceID'])" "$R1")
assert_eq "DeviceID echoed in canonical form" "$dev1" "$want1"

step "the repository still holds one certificate for device 1, DS"
smki lookup --home "$H" --device "$want1" --usage DS >lookup.out || fail "lookup --device $want1 failed"
n=$(grep -c -- '-----BEGIN CERTIFICATE-----' lookup.out)
assert_eq "certificates for $want1 DS" "$n" 1
step "batch 4: devices compare by their octets, whatever the spelling"
make_batch b4-base.xml 4 "$PARTY_A" DUPK-4 --faults dup_request@3 --expect b4.tsv
assert_eq "gencsr's expectation for request 3" "$(sed -n 3p b4.tsv | cut -f2)" E_DUPLICATE_REQUEST
# request 2: its own device, written as 16 lower-case hex digits (valid, OK);
# request 3: request 1's device and usage, so spelled -> still E_DUPLICATE_REQUEST
python3 - b4-base.xml b4.xml <<'EOF' || fail "cannot build batch 4"
import re, sys
src, out = sys.argv[1:]
s = open(src).read()
csrs = re.findall(r"<CSR>.*?</CSR>", s, re.S)
def respell(csr):
    return re.sub(r"<DeviceID>([^<]*)</DeviceID>",
                  lambda m: "<DeviceID>" + m.group(1).replace("-", "").lower() + "</DeviceID>", csr)
for i in (1, 2):
    s = s.replace(csrs[i], respell(csrs[i]))
open(out, "w").write(s)
EOF
drop "$H" b4.xml
drain "$H"
R4=$(response_path "$H" "$PARTY_A" DUPK-4)
assert_response_valid "$R4"
python3 "$CHECK_RESPONSE" "$R4" b4.tsv >check4.log || { cat check4.log; fail "batch 4 is not as expected"; }
dev2=$(xmllint --xpath "string((//*[local-name()='Result'])[2]/*[local-name()='DeviceID'])" "$R4")
[[ $dev2 =~ ^[0-9A-F]{2}(-[0-9A-F]{2}){7}$ ]] || fail "DeviceID of request 2 is echoed as '$dev2', not in canonical form"

step "batch 5: 15,000 repeats of an issued key among 30,000 (in-batch duplicates never cost a store lookup)"
# each repeat is answered from the batch's own table; a store lookup that
# hit the memtable would sort it, and 15,000 of them stall the batch for minutes
make_batch b5.xml 30000 "$PARTY_A" DUPK-5 --faults dup_key:15000 --expect b5.tsv --device-base 00DB005000000000
drop "$H" b5.xml
drain "$H"
R5=$(response_path "$H" "$PARTY_A" DUPK-5)
assert_response_valid "$R5"
python3 "$CHECK_RESPONSE" "$R5" b5.tsv >check5.log || { tail check5.log; fail "batch 5 is not as expected"; }
assert_eq "E_DUPLICATE_KEY Results in batch 5" "$(grep -c '<ErrorCode>E_DUPLICATE_KEY</ErrorCode>' "$R5")" 15000
finish "duplicate key checks passed"
