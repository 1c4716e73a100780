#!/usr/bin/env python3
"""check_results.py CORPUS HOME [--skip NAME]... [--log FILE] [--only NAME]...

Checks a home's spool after `run --drain` over the hostile corpus against
CORPUS/expect.tsv.  Prints one line per problem ("CASE: what is wrong") and
exits 1 if there is any; prints a one-line summary either way.

For every case:
  Accepted   a receipt (valid against the receipt XSD) saying Accepted with Turn,
             ScheduledNight and RetrieveNotBefore and no ErrorCode, echoing the
             file's BatchID; the entry gone from incoming/ and not in rejected/;
             its archive (STEM.xml.zst, or STEM.N.xml.zst) decompressing to the
             very bytes of the file; its response (PARTY_BATCH.response.xml,
             valid against the response XSD) with one Result per CSR in request
             order carrying the expected code, header counts that add up,
             DeviceID in canonical form unless the code is E_DEVICE_ID, and a
             serial for every issued certificate.
  E_...      a receipt (valid) saying Rejected with that ErrorCode, the file's
             name in File, a non-empty ErrorText (matching ~REGEX if given; for
             E_XML more than "line N: not well-formed XML"), no
             Turn/ScheduledNight/RetrieveNotBefore, a CSRCount/BatchID only if
             it is what the file says; the entry moved as itself to rejected/
             (same type; same bytes, same link target, same inode or same
             directory contents); nothing of it in archive/.
  IGNORED    no receipt, still in incoming/ as it was, nothing in rejected/.
And overall: no receipt, response or archive that no case accounts for, no
temporary or partial file left behind.
--skip NAME: a case that hung or crashed the service (reported by the caller).
--log FILE: the service's log: every IGNORED name that is not *.tmp must be
logged, and no log line may be forged through a file name.
"""
import filecmp
import os
import re
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET

NS = "{urn:smki:batched-csr:1}"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCHEMAS = os.path.join(REPO, "schemas")
EUI_CANON = re.compile(r"^[0-9A-F]{2}(-[0-9A-F]{2}){7}$")

args = sys.argv[1:]
corpus, home = args[0], args[1]
skip, only, logfile = set(), set(), None
i = 2
while i < len(args):
    if args[i] == "--skip":
        skip.add(args[i + 1]); i += 2
    elif args[i] == "--only":
        only.add(args[i + 1]); i += 2
    elif args[i] == "--log":
        logfile = args[i + 1]; i += 2
    else:
        raise SystemExit("check_results.py: unknown option " + args[i])

SP = os.path.join(home, "spool")
problems = []


def bad(case, msg):
    problems.append("%s: %s" % (printable(case), msg))


def printable(name):
    return name.encode("unicode_escape").decode("ascii")


def unescape(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s):
            if s[i + 1] == "t":
                out.append("\t"); i += 2; continue
            if s[i + 1] == "n":
                out.append("\n"); i += 2; continue
            if s[i + 1] == "\\":
                out.append("\\"); i += 2; continue
            if s[i + 1:i + 4] == "033":
                out.append("\x1b"); i += 4; continue
        out.append(s[i]); i += 1
    return "".join(out)


def load_expect():
    cases = []
    with open(os.path.join(corpus, "expect.tsv"), encoding="utf-8") as f:
        for ln in f:
            ln = ln.rstrip("\n")
            if not ln or ln.startswith("#"):
                continue
            parts = ln.split("\t")
            while len(parts) < 3:
                parts.append("")
            cases.append((unescape(parts[0]), parts[1], parts[2]))
    return cases


def xsd_ok(path, xsd):
    r = subprocess.run(["xmllint", "--noout", "--schema", os.path.join(SCHEMAS, xsd), path],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return r.returncode == 0, r.stdout.decode("utf-8", "replace").strip().splitlines()[:2]


def text(root, tag):
    e = root.find(NS + tag)
    return None if e is None else (e.text or "")


def stem_of(name):
    return name[:-4] if name.endswith(".xml") else name


def file_fields(path):
    """BatchID, PartyID, CSRCount as written in a (UTF-8) request file, or None"""
    try:
        with open(path, "rb") as f:
            head = f.read(4 << 20)
    except OSError:
        return {}
    out = {}
    for tag in ("BatchID", "PartyID", "CSRCount"):
        m = re.search(rb"<(?:\w+:)?" + tag.encode() + rb">((?:[^<]|<!\[CDATA\[.*?\]\]>)*)</", head, re.S)
        if m:   # the text, CDATA sections included
            out[tag] = re.sub(rb"<!\[CDATA\[(.*?)\]\]>", rb"\1", m.group(1), flags=re.S).decode("utf-8", "replace")
    return out


def canon_party(p):
    h = p.replace("-", "").upper()
    return "-".join(h[i:i + 2] for i in range(0, 16, 2))


def ftype(st):
    m = st.st_mode
    for test, name in ((stat.S_ISLNK, "symlink"), (stat.S_ISREG, "file"), (stat.S_ISDIR, "directory"),
                       (stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket")):
        if test(m):
            return name
    return "other"


def lstat(p):
    try:
        return os.lstat(p)
    except OSError:
        return None


def same_entry(case, src, dst):
    """dst is src moved/copied as itself"""
    a, b = lstat(src), lstat(dst)
    if b is None:
        return "missing"
    if ftype(a) != ftype(b):
        return "is a %s, the case was a %s" % (ftype(b), ftype(a))
    if stat.S_ISLNK(a.st_mode) and os.readlink(src) != os.readlink(dst):
        return "link target changed to %s" % os.readlink(dst)
    if stat.S_ISREG(a.st_mode):
        if a.st_nlink > 1:
            if (a.st_dev, a.st_ino) != (b.st_dev, b.st_ino):
                return "not the same inode as the hard-linked case"
        elif not filecmp.cmp(src, dst, shallow=False):
            return "content differs from the case file"
    if stat.S_ISDIR(a.st_mode):
        if sorted(os.listdir(src)) != sorted(os.listdir(dst)):
            return "directory contents differ"
    return None


cases = load_expect()
names = {c[0] for c in cases}
acc_receipts, acc_archives, acc_responses = set(), set(), set()
vague = []       # E_XML receipts that do not say what is wrong
labels = {}
lp = os.path.join(corpus, "labels.tsv")
if os.path.exists(lp):
    with open(lp, encoding="utf-8") as f:
        for ln in f:
            n, rid, lab = ln.rstrip("\n").split("\t")
            labels[(unescape(n), rid)] = lab

for name, code, detail in cases:
    if only and name not in only:
        continue
    src = os.path.join(corpus, name)
    inc = os.path.join(SP, "incoming", name)
    rej = os.path.join(SP, "rejected", name)
    stem = stem_of(name)
    rpath = os.path.join(SP, "receipts", stem + ".receipt.xml")
    if code != "IGNORED":
        acc_receipts.add(stem + ".receipt.xml")
    if name in skip:
        if code == "Accepted":
            f = file_fields(src)
            if "BatchID" in f:
                acc_responses.add("%s_%s.response.xml" % (canon_party(f.get("PartyID", "")), f["BatchID"]))
            acc_archives.add(stem)
        continue

    if code == "IGNORED":
        if os.path.lexists(rpath):
            bad(name, "got a receipt, but its name cannot be taken (expected: ignored, left in place)")
        why = same_entry(name, src, inc)
        if why:
            bad(name, "should stay in incoming/ untouched: %s" % why)
        if os.path.lexists(rej):
            bad(name, "was moved to rejected/, but should have been left in place")
        continue

    # a receipt is expected
    if not os.path.exists(rpath):
        where = "still in incoming/" if os.path.lexists(inc) else "not in incoming/ either"
        bad(name, "no receipt (expected %s); the entry is %s" % (code, where))
        continue
    ok, msg = xsd_ok(rpath, "batched-csr-receipt.xsd")
    if not ok:
        bad(name, "receipt does not validate against batched-csr-receipt.xsd: %s" % " ".join(msg))
    try:
        r = ET.parse(rpath).getroot()
    except ET.ParseError as e:
        bad(name, "receipt is not well-formed XML: %s" % e)
        continue
    status, ecode, etext = text(r, "Status"), text(r, "ErrorCode"), text(r, "ErrorText")
    got = "Accepted" if status == "Accepted" else (ecode or "Rejected without ErrorCode")
    if got != code:
        bad(name, "expected %s, got %s%s" % (code, got, (" (%s)" % etext[:200]) if etext else ""))
        if got == "Accepted" or code == "Accepted":
            continue
    if text(r, "File") != name:
        bad(name, "receipt File is %r" % text(r, "File"))
    fields = file_fields(src) if stat.S_ISREG(os.lstat(src).st_mode) else {}

    if code == "Accepted":
        for el in ("Turn", "ScheduledNight", "RetrieveNotBefore"):
            if not text(r, el):
                bad(name, "Accepted receipt has no %s" % el)
        bid = fields.get("BatchID")
        if text(r, "BatchID") != bid:
            bad(name, "receipt BatchID is %r, the file says %r" % (text(r, "BatchID"), bid))
        if os.path.lexists(inc):
            bad(name, "accepted, but still in incoming/")
        if os.path.lexists(rej):
            bad(name, "accepted, but (also) in rejected/")
        # the archive: the very bytes of the file
        arch = [a for a in os.listdir(os.path.join(SP, "archive"))
                if a == stem + ".xml.zst" or re.fullmatch(re.escape(stem) + r"\.\d+\.xml\.zst", a)]
        acc_archives.add(stem)
        if len(arch) != 1:
            bad(name, "expected one archive %s.xml.zst, found %s" % (stem, arch))
        else:
            z = subprocess.run(["zstd", "-dcq", os.path.join(SP, "archive", arch[0])], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
            with open(src, "rb") as f:
                orig = f.read()
            if z.returncode != 0 or z.stdout != orig:
                bad(name, "archive %s does not decompress to the file (%d vs %d octets)"
                    % (arch[0], len(z.stdout), len(orig)))
        # the response
        party = canon_party(fields.get("PartyID", ""))
        resp_name = "%s_%s.response.xml" % (party, bid)
        acc_responses.add(resp_name)
        rp = os.path.join(SP, "responses", resp_name)
        if not os.path.exists(rp):
            bad(name, "no response %s" % resp_name)
            continue
        ok, msg = xsd_ok(rp, "batched-csr-response.xsd")
        if not ok:
            bad(name, "response does not validate against batched-csr-response.xsd: %s" % " ".join(msg))
        try:
            resp = ET.parse(rp).getroot()
        except ET.ParseError as e:
            bad(name, "response is not well-formed: %s" % e)
            continue
        want = [p.split("=", 1) for p in detail.split()]
        results = list(resp.iter(NS + "Result"))
        if len(results) != len(want):
            bad(name, "response has %d Results, expected %d" % (len(results), len(want)))
        issued = sum(1 for x in results if text(x, "Status") == "Issued")
        hdr = resp.find(NS + "Header")
        if hdr is None or text(hdr, "Issued") != str(issued) or text(hdr, "Rejected") != str(len(results) - issued):
            bad(name, "response header Issued/Rejected do not add up to its Results")
        if hdr is not None and text(hdr, "BatchID") != bid:
            bad(name, "response BatchID is %r" % text(hdr, "BatchID"))
        for (wrid, wcode), x in zip(want, results):
            rid = text(x, "RequestID") or ""
            lab = labels.get((name, wrid), "")
            lab = (" [%s]" % lab) if lab else ""
            try:
                same_id = int(rid) == int(wrid)
            except ValueError:
                same_id = False
            if not same_id:
                bad(name, "Result in the place of RequestID %s has RequestID %r%s" % (wrid, rid, lab))
                continue
            st = text(x, "Status")
            gcode = "OK" if st == "Issued" else (text(x, "ErrorCode") or "?")
            if gcode != wcode:
                bad(name, "RequestID %s: expected %s, got %s%s%s" % (
                    wrid, wcode, gcode, (" (%s)" % text(x, "ErrorText")) if gcode != "OK" else "", lab))
            dev = text(x, "DeviceID") or ""
            if gcode != "E_DEVICE_ID" and not EUI_CANON.match(dev):
                bad(name, "RequestID %s: DeviceID %r is not in canonical form%s" % (wrid, dev, lab))
            if st == "Issued" and not re.fullmatch(r"[0-7][0-9A-F]{31}", text(x, "CertificateSerial") or ""):
                bad(name, "RequestID %s: issued without a proper CertificateSerial" % wrid)
        continue

    # rejected
    if code == "E_XML" and re.fullmatch(r"line \d+: not well-formed XML", etext or ""):
        vague.append(name)
    for el in ("Turn", "ScheduledNight", "RetrieveNotBefore"):
        if r.find(NS + el) is not None:
            bad(name, "Rejected receipt carries %s" % el)
    if not etext:
        bad(name, "Rejected receipt has no ErrorText")
    if detail.startswith("~") and not re.search(detail[1:], etext or "", re.I):
        bad(name, "ErrorText %r does not say /%s/" % ((etext or "")[:200], detail[1:]))
    rc = text(r, "CSRCount")
    if rc is not None and "CSRCount" in fields:
        try:
            same = int(fields["CSRCount"].strip()) == int(rc)
        except ValueError:
            same = False
        if not same:
            bad(name, "receipt CSRCount is %s, but the file says %r" % (rc, fields["CSRCount"]))
    rb = text(r, "BatchID")
    if rb is not None and rb != fields.get("BatchID"):
        bad(name, "receipt BatchID is %r, but the file says %r" % (rb, fields.get("BatchID")))
    if os.path.lexists(inc):
        bad(name, "rejected, but still in incoming/")
    why = same_entry(name, src, rej)
    if why:
        bad(name, "in rejected/: %s" % why)
    leftovers = [a for a in os.listdir(os.path.join(SP, "archive")) if a.startswith(stem + ".xml")
                 or re.fullmatch(re.escape(stem) + r"\.\d+\.xml\.zst", a)]
    if leftovers and stem not in acc_archives:
        bad(name, "rejected, but archive/ holds %s" % leftovers)

# SPEC 1: every error message says what is wrong
if vague:
    bad("E_XML receipts", "%d say only 'line N: not well-formed XML', not what is wrong: %s"
        % (len(vague), ", ".join(printable(v) for v in vague)))

# nothing else
for d, allowed, what in (("receipts", acc_receipts, "receipt"), ("responses", acc_responses, "response")):
    for f in sorted(os.listdir(os.path.join(SP, d))):
        if only:
            break
        if f not in allowed:
            bad(f, "unexpected %s file in %s/ (temporary, partial, or for no case)" % (what, d))
if not only:
    for f in sorted(os.listdir(os.path.join(SP, "archive"))):
        m = re.fullmatch(r"(.*?)(\.\d+)?\.xml\.zst", f)
        if not m or m.group(1) not in acc_archives:
            bad(f, "unexpected file in archive/ (temporary, or for a rejected file)")

# the log: ignored names logged (once is enough), no forged line
if logfile:
    with open(logfile, "rb") as f:
        log = f.read().decode("utf-8", "replace")
    for name, code, _ in cases:
        if code == "IGNORED" and not name.endswith(".tmp"):
            esc = "".join(chr(b) if 0x20 <= b < 0x7f else "\\x%02x" % b for b in name.encode("utf-8"))
            forms = {"incoming/" + esc, "incoming/" + esc.replace("\\x", "\\X")}
            if not re.search(r"[\x00-\x1f]", name):
                forms.add("incoming/" + name)
            if not any(f in log or f.lower() in log.lower() for f in forms):
                bad(name, "ignored without a word in the log (SPEC 2: ignored and logged)")
    for ln in log.split("\n"):
        if "FORGED" in ln and ln.startswith("2026-01-01T00:00:00Z"):
            bad("log", "a file name forged a log line: %r" % ln[:120])
        if "\x1b" in ln:
            bad("log", "a raw terminal escape from a file name reached the log: %r" % ln[:120])

for p in problems:
    print(p)
n = len([c for c in cases if not only or c[0] in only])
print("checked %d cases (%d skipped): %d problems" % (n, len(skip), len(problems)))
sys.exit(1 if problems else 0)
