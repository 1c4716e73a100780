#!/usr/bin/env python3
"""verify_batch.py - the deep checks of one published response, for the fault
tests (tests/e2e/test_fault_*.sh).  No third-party modules; openssl and the
smki-batch binary are run as programs.

  verify_batch.py --bin SMKI_BIN --home HOME --response FILE --turn N
                  [--verify all|N] [--lookups N] [--strict-audit]

Checks, printing every problem (exit 1 if any, 0 otherwise):
  - every Issued Result has a 32-upper-hex CertificateSerial equal to the
    serial inside its certificate, and no serial appears twice in the file;
  - the certificates verify against HOME's CA with `openssl verify` (all of
    them, or a random sample of N plus the first and the last);
  - for a random sample of issued devices (--lookups, default 100):
    `smki-batch lookup --device D --usage U` prints exactly one certificate,
    whose serial and body are the response's;
  - the audit log: every issued serial of the response is in an `issue`
    entry of that turn (nothing issued unaudited), exactly one `batch-done`
    entry for the turn; serials the audit says were issued for the turn but
    that the response does not hold must not be in the store (lookup
    --serial finds nothing) - they are counted and reported, and with
    --strict-audit they are a failure too.
"""
import argparse
import base64
import concurrent.futures
import os
import random
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

NS = "{urn:smki:batched-csr:1}"
problems = []


def bad(msg):
    problems.append(msg)
    print("PROBLEM: " + msg)


def der_serial(der):
    """the serialNumber INTEGER's content octets, as upper-case hex"""
    def tlv(i):
        tag = der[i]
        n = der[i + 1]
        i += 2
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(der[i:i + k], "big")
            i += k
        return tag, i, i + n
    _, s, _ = tlv(0)          # Certificate
    _, s, _ = tlv(s)          # TBSCertificate
    tag, vs, ve = tlv(s)      # [0] version
    if tag == 0xA0:
        s = ve
    tag, vs, ve = tlv(s)
    if tag != 0x02:
        return None
    return der[vs:ve].hex().upper()


def pem(der):
    b = base64.b64encode(der).decode()
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(b[i:i + 64] for i in range(0, len(b), 64)) + \
        "\n-----END CERTIFICATE-----\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--home", required=True)
    ap.add_argument("--response", required=True)
    ap.add_argument("--turn", required=True, type=int)
    ap.add_argument("--verify", default="all")
    ap.add_argument("--lookups", default=100, type=int)
    ap.add_argument("--strict-audit", action="store_true")
    a = ap.parse_args()

    results = []   # (rid, device, usage, serial, der)
    for _, el in ET.iterparse(a.response):
        if el.tag != NS + "Result":
            continue
        st = el.findtext(NS + "Status")
        if st == "Issued":
            der = base64.b64decode(el.findtext(NS + "CertificateBody"))
            results.append((el.findtext(NS + "RequestID"), el.findtext(NS + "DeviceID"),
                            el.findtext(NS + "CertificateUsage"), el.findtext(NS + "CertificateSerial"), der))
        el.clear()
    print(f"{len(results)} issued results in {os.path.basename(a.response)}")
    if not results:
        bad("no issued certificate in the response")
        return

    # serials: format, equal to the certificate's, unique
    seen = {}
    for rid, dev, use, ser, der in results:
        if not re.fullmatch(r"[0-9A-F]{32}", ser or ""):
            bad(f"RequestID {rid}: CertificateSerial {ser!r} is not 32 upper-case hex digits")
        inner = der_serial(der)
        if inner != ser:
            bad(f"RequestID {rid}: CertificateSerial {ser} but the certificate's serial is {inner}")
        if ser in seen:
            bad(f"serial {ser} appears twice: RequestIDs {seen[ser]} and {rid}")
        seen[ser] = rid
    keys = {}
    for rid, dev, use, ser, der in results:
        k = (dev, use)
        if k in keys:
            bad(f"device {dev} usage {use} issued twice in the response: RequestIDs {keys[k]} and {rid}")
        keys[k] = rid

    # openssl verify against the CA
    ca = os.path.join(a.home, "ca", "issuing-ca.pem")
    idx = list(range(len(results)))
    if a.verify != "all":
        n = int(a.verify)
        if n < len(idx):
            idx = sorted(set([0, len(results) - 1] + random.sample(idx, n)))
    with tempfile.TemporaryDirectory(prefix="vb.", dir=".") as tmp:
        files = []
        for i in idx:
            f = os.path.join(tmp, f"{results[i][0]}.pem")
            with open(f, "w") as fh:
                fh.write(pem(results[i][4]))
            files.append(f)
        notok = 0
        for k in range(0, len(files), 4000):
            p = subprocess.run(["openssl", "verify", "-CAfile", ca] + files[k:k + 4000],
                               capture_output=True, text=True)
            lines = [ln for ln in p.stdout.splitlines() if ln.strip()]
            oks = sum(1 for ln in lines if ln.endswith(": OK"))
            if p.returncode != 0 or oks != len(files[k:k + 4000]):
                notok += len(files[k:k + 4000]) - oks
                print("\n".join((p.stdout + p.stderr).splitlines()[:10]))
        if notok:
            bad(f"{notok} of {len(files)} certificates do not verify against {ca}")
        else:
            print(f"openssl verify: {len(files)} certificates OK against the CA")

    # the repository: one certificate per device+usage, the response's
    sample = random.sample(results, min(a.lookups, len(results)))

    def lookup(r):
        return subprocess.run([a.bin, "lookup", "--home", a.home, "--device", r[1], "--usage", r[2]],
                              capture_output=True, text=True)
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        answers = list(ex.map(lookup, sample))
    for (rid, dev, use, ser, der), p in zip(sample, answers):
        if p.returncode != 0:
            bad(f"lookup --device {dev} --usage {use} exited {p.returncode}: {p.stderr.strip()}")
            continue
        serials = re.findall(r"^# serial ([0-9A-Fa-f]+)", p.stdout, re.M)
        bodies = re.findall(r"-----BEGIN CERTIFICATE-----\n(.*?)-----END CERTIFICATE-----", p.stdout, re.S)
        if len(serials) != 1 or len(bodies) != 1:
            bad(f"lookup --device {dev} --usage {use} printed {len(serials)} serial lines and {len(bodies)} "
                f"certificates (RequestID {rid}); expected exactly one: {serials}")
            continue
        if serials[0].upper() != ser:
            bad(f"lookup --device {dev} --usage {use}: serial {serials[0]}, the response says {ser}")
        if base64.b64decode("".join(bodies[0].split())) != der:
            bad(f"lookup --device {dev} --usage {use}: the stored certificate differs from the response's")
    print(f"lookup: {len(sample)} devices checked")

    # the audit log
    audited, done_entries = set(), 0
    with open(os.path.join(a.home, "audit.log"), errors="replace") as f:
        for line in f:
            m = re.match(r"\d+ \S+ issue turn=(\d+) ", line)
            if m and int(m.group(1)) == a.turn:
                audited.update(re.findall(r" ([0-9A-F]{32})/[0-9A-F]{16}/(?:DS|KA)", line))
            m = re.match(r"\d+ \S+ batch-done turn=(\d+) ", line)
            if m and int(m.group(1)) == a.turn:
                done_entries += 1
    unaudited = [s for s in seen if s not in audited]
    if unaudited:
        bad(f"{len(unaudited)} issued serials are in no audit 'issue' entry of turn {a.turn} "
            f"(issued unaudited), e.g. {unaudited[:3]}")
    if done_entries != 1:
        bad(f"the audit log holds {done_entries} 'batch-done' entries for turn {a.turn}, expected exactly 1")
    ghosts = sorted(s for s in audited if s not in seen)
    if ghosts:
        found = 0
        for s in ghosts[:50]:
            p = subprocess.run([a.bin, "lookup", "--home", a.home, "--serial", s], capture_output=True, text=True)
            if p.returncode == 0 and s in p.stdout.upper():
                found += 1
        if found:
            bad(f"{found} serials audited as issued for turn {a.turn} but absent from the response ARE in the "
                f"store (a recorded certificate that was never delivered)")
        msg = (f"the audit log names {len(ghosts)} serials as issued for turn {a.turn} that were never delivered "
               f"nor recorded (entries written before a commit that did not happen), e.g. {ghosts[:2]}")
        if a.strict_audit:
            bad(msg)
        else:
            print("NOTE: " + msg)
    print(f"audit: {len(seen)} issued serials all audited; {len(ghosts)} audited-but-void serials")


main()
sys.exit(1 if problems else 0)
