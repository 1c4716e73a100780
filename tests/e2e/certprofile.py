#!/usr/bin/env python3
"""certprofile.py CERT.der CA.pem DEVICEID USAGE NOTBEFORE [POLICY_OID HWTYPE_OID]
Checks one issued device certificate against SPEC.md section 4 with a small DER
reader (no third-party modules): version, serial, signature algorithm, issuer
byte for byte, validity encodings, empty subject, P-256 key, the five
extensions in order with their criticality and values.  Prints every mismatch;
exit 0 if none."""
import base64, hashlib, sys

def tlv(b, i):
    """(tag, start of value, end of value) of the TLV at i"""
    tag = b[i]; i += 1
    n = b[i]; i += 1
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(b[i:i + k], "big"); i += k
    return tag, i, i + n

def children(b, start, end):
    out, i = [], start
    while i < end:
        t, s, e = tlv(b, i)
        out.append((t, s, e, i))
        i = e
    return out

def oid(b):
    parts, v = [], 0
    first = True
    for x in b:
        v = (v << 7) | (x & 0x7F)
        if not x & 0x80:
            if first:
                parts += [min(v // 40, 2), v - 40 * min(v // 40, 2)]; first = False
            else:
                parts.append(v)
            v = 0
    return ".".join(map(str, parts))

def main():
    cert_path, ca_path, device, usage, not_before = sys.argv[1:6]
    policy = sys.argv[6] if len(sys.argv) > 6 else "1.2.826.0.1.8641679.1.2.1.1"
    hwtype = sys.argv[7] if len(sys.argv) > 7 else "2.999.1"
    bad = []
    def want(what, got, exp):
        if got != exp:
            bad.append(f"{what}: got {got!r}, expected {exp!r}")
    c = open(cert_path, "rb").read()
    pem = open(ca_path).read()
    ca = base64.b64decode("".join(l for l in pem.splitlines() if l and not l.startswith("-----")))

    _, s, e = tlv(c, 0)
    want("trailing bytes after the certificate", e, len(c))
    tbs_t, sig_alg, sig = children(c, s, e)
    tbs = children(c, tbs_t[1], tbs_t[2])
    # CA: its subject and subjectKeyIdentifier
    _, cs, ce = tlv(ca, 0)
    ca_tbs = children(ca, *tlv(ca, cs)[1:])
    ca_subject = ca[ca_tbs[5][3]:ca_tbs[5][2]]
    ca_ski = None
    for t, s2, e2, _ in ca_tbs:
        if t == 0xA3:
            for ext in children(ca, *tlv(ca, s2)[1:]):
                f = children(ca, ext[1], ext[2])
                if oid(ca[f[0][1]:f[0][2]]) == "2.5.29.14":
                    ca_ski = ca[f[-1][1]:f[-1][2]][2:]
    ver, serial, alg, issuer, validity, subject, spki, exts = tbs[:8]
    want("version", c[ver[3]:ver[2]].hex(), "a003020102")
    sv = c[serial[1]:serial[2]]
    want("serial length", len(sv), 16)
    if sv and (sv[0] == 0 or sv[0] & 0x80):
        bad.append(f"serial {sv.hex()}: first octet zero or top bit set")
    ecdsa256 = "300a06082a8648ce3d040302"
    want("tbs signature algorithm", c[alg[3]:alg[2]].hex(), ecdsa256)
    want("outer signature algorithm", c[sig_alg[3]:sig_alg[2]].hex(), ecdsa256)
    want("issuer (bytes)", c[issuer[3]:issuer[2]].hex(), ca_subject.hex())
    nb, na = children(c, validity[1], validity[2])
    want("notBefore type", nb[0], 0x17)
    want("notBefore", c[nb[1]:nb[2]].decode(), not_before)
    want("notAfter type", na[0], 0x18)
    want("notAfter", c[na[1]:na[2]].decode(), "99991231235959Z")
    want("subject", c[subject[3]:subject[2]].hex(), "3000")
    alg_, key = children(c, spki[1], spki[2])
    want("key algorithm", c[alg_[3]:alg_[2]].hex(), "301306072a8648ce3d020106082a8648ce3d030107")
    point = c[key[1] + 1:key[2]]
    want("key point form", (len(point), point[:1].hex()), (65, "04"))
    want("extensions tag", exts[0], 0xA3)
    if len(tbs) != 8:
        bad.append(f"TBSCertificate has {len(tbs)} fields, expected 8")
    el = []
    for ext in children(c, *tlv(c, exts[1])[1:]):
        f = children(c, ext[1], ext[2])
        crit = len(f) == 3 and c[f[1][1]:f[1][2]] == b"\xff"
        el.append((oid(c[f[0][1]:f[0][2]]), crit, c[f[-1][1]:f[-1][2]]))
    want("extensions (oid, critical), in order", [(o, k) for o, k, _ in el],
         [("2.5.29.15", True), ("2.5.29.32", True), ("2.5.29.17", True), ("2.5.29.14", False), ("2.5.29.35", False)])
    v = {o: val for o, _, val in el}
    ku = {"DS": "03020780", "KA": "03020308"}[usage]
    want("keyUsage", v.get("2.5.29.15", b"").hex(), ku)
    pol = v.get("2.5.29.32", b"")
    if pol:
        pis = children(pol, *tlv(pol, 0)[1:])
        want("policies", len(pis), 1)
        pf = children(pol, pis[0][1], pis[0][2])
        want("policy OID", oid(pol[pf[0][1]:pf[0][2]]), policy)
        want("policy qualifiers", len(pf), 1)
    san = v.get("2.5.29.17", b"")
    if san:
        names = children(san, *tlv(san, 0)[1:])
        want("subjectAltName names", [n[0] for n in names], [0xA0])
        on = children(san, names[0][1], names[0][2])
        want("otherName type", oid(san[on[0][1]:on[0][2]]), "1.3.6.1.5.5.7.8.4")
        hmn = children(san, *tlv(san, on[1][1])[1:])
        want("hwType", oid(san[hmn[0][1]:hmn[0][2]]), hwtype)
        want("hwSerialNum", san[hmn[1][1]:hmn[1][2]].hex().upper(), device.replace("-", ""))
    want("subjectKeyIdentifier", v.get("2.5.29.14", b"").hex(),
         "0408" + hashlib.sha256(point).digest()[:8].hex())
    want("authorityKeyIdentifier", v.get("2.5.29.35", b"").hex(),
         "300a8008" + (ca_ski.hex() if ca_ski else "?"))
    for b in bad:
        print(f"{cert_path}: {b}")
    sys.exit(1 if bad else 0)

main()
