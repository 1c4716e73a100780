#!/usr/bin/env python3
"""check_response.py RESPONSE EXPECT_TSV - compare a response file with the
generator's expectations (RequestID<TAB>OK|E_...): every RequestID exactly
once, in order, with the expected status and code.  Exit 0 if all match;
prints the mismatches otherwise."""
import sys
import xml.etree.ElementTree as ET

NS = "{urn:smki:batched-csr:1}"

def main():
    resp, expect = sys.argv[1], sys.argv[2]
    want = []
    with open(expect) as f:
        for line in f:
            if line.strip():
                rid, code = line.rstrip("\n").split("\t")[:2]
                want.append((rid, code))
    root = ET.parse(resp).getroot()
    got = []
    for r in root.iter(NS + "Result"):
        rid = r.find(NS + "RequestID").text
        st = r.find(NS + "Status").text
        code = "OK" if st == "Issued" else r.find(NS + "ErrorCode").text
        got.append((rid, code))
    bad = 0
    if len(got) != len(want):
        print(f"count: response has {len(got)} results, expected {len(want)}")
        bad += 1
    for (wr, wc), (gr, gc) in zip(want, got):
        if wr != gr or wc != gc:
            print(f"RequestID {wr}: expected {wc}, got RequestID {gr} {gc}")
            bad += 1
    issued = int(root.find(f"{NS}Header/{NS}Issued").text)
    rejected = int(root.find(f"{NS}Header/{NS}Rejected").text)
    if issued != sum(1 for _, c in got if c == "OK") or rejected != sum(1 for _, c in got if c != "OK"):
        print("header counts do not match the results")
        bad += 1
    print(f"{len(got)} results, {issued} issued, {rejected} rejected, {bad} mismatches")
    sys.exit(1 if bad else 0)

main()
