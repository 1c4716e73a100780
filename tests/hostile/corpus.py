#!/usr/bin/env python3
"""corpus.py DIR PORT PARTY - write the hostile corpus (see README.md here).

Called by make_corpus.sh, which has already put into DIR/.aux/:
  base.xml       a gencsr batch of real CSRs (request i: DeviceID base+i-1,
                 DS for odd i, KA for even i, hwSerialNum = DeviceID)
  ossl-*.der     CSRs made by `openssl req` (no extensions, empty subject)
Writes into DIR: one entry per case (regular files, links, a FIFO, a socket,
a directory), DIR/expect.tsv, DIR/labels.tsv (per-request labels of the
accepted batches) and DIR/timing.lst (cases also timed one by one; a path
under .timing/ is a timing-only case, not in expect.tsv).

Standard library only.  Every case has its own BatchID; every CSR of an
accepted file is used once in the whole corpus (no accidental duplicate keys
across batches); rejected files draw on a separate pool.
"""
import base64
import os
import re
import socket
import stat
import sys
import xml.etree.ElementTree as ET

DIR, PORT, PARTY = sys.argv[1], int(sys.argv[2]), sys.argv[3]
AUX = os.path.join(DIR, ".aux")
NS = "urn:smki:batched-csr:1"
PARTY_UNKNOWN = "90-B3-D5-1F-30-99-00-00"
URL = "http://127.0.0.1:%d" % PORT
MAX_FILE_BYTES = 64 * 1024 * 1024
ROOT = os.geteuid() == 0

# ---------------------------------------------------------------- CSR pools

def load_base():
    t = ET.parse(os.path.join(AUX, "base.xml")).getroot()
    out = []
    for c in t.iter("{%s}CSR" % NS):
        out.append({
            "dev": c.find("{%s}DeviceID" % NS).text.strip(),
            "usage": c.find("{%s}CertificateUsage" % NS).text.strip(),
            "der": base64.b64decode(c.find("{%s}CSRBody" % NS).text.strip()),
        })
    return out

BASE = load_base()
GOOD = BASE[:-60]        # for accepted files: each used once
SPARE = BASE[-60:]       # for rejected files: reused freely
_good_next = 0

def take(n):
    """n fresh, valid CSRs (dicts: dev, usage, der) never used before"""
    global _good_next
    if _good_next + n > len(GOOD):
        raise SystemExit("corpus.py: base.xml has too few CSRs; raise --count in make_corpus.sh")
    got = GOOD[_good_next:_good_next + n]
    _good_next += n
    return [dict(c) for c in got]

def spare(n, start=0):
    return [dict(c) for c in SPARE[start:start + n]]

def ossl(name):
    with open(os.path.join(AUX, "ossl-%s.der" % name), "rb") as f:
        return f.read()

def b64(der):
    return base64.b64encode(der).decode()

# ---------------------------------------------------------------- DER helpers
# A node is (tag, value): value is bytes for a primitive, a list of nodes for
# a constructed element, or ("raw", bytes) emitted verbatim.

def enc_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b

def tlv(tag, content):
    return bytes([tag]) + enc_len(len(content)) + content

def decode(buf):
    """a run of TLVs -> list of nodes (constructed ones decoded recursively)"""
    out, i = [], 0
    while i < len(buf):
        tag = buf[i]
        n = buf[i + 1]
        j = i + 2
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(buf[j:j + k], "big")
            j += k
        val = buf[j:j + n]
        out.append((tag, decode(val) if tag & 0x20 else val))
        i = j + n
    return out

def encode(node):
    tag, val = node
    if tag == "raw":
        return val
    if isinstance(val, list):
        return tlv(tag, b"".join(encode(x) for x in val))
    return tlv(tag, val)

def csr_tree(der):
    (top,) = decode(der)
    return top

# paths into a CertificationRequest tree
def cri(t):         return t[1][0]
def spki(t):        return cri(t)[1][2]
def attrs(t):       return cri(t)[1][3]
def sigalg(t):      return t[1][1]
def sigbits(t):     return t[1][2]

OID_ECDSA_SHA256 = (0x06, bytes.fromhex("2a8648ce3d040302"))

def point_of(t):
    return spki(t)[1][1][1][1:]           # BIT STRING minus the unused-bits octet

def set_point(t, pt):
    spki(t)[1][1] = (0x03, b"\x00" + pt)

def mutate(der, fn):
    t = csr_tree(der)
    fn(t)
    return encode(t)

def outer_content(der):
    """the content octets of the outermost TLV (definite length)"""
    n, j = der[1], 2
    if n & 0x80:
        j = 2 + (n & 0x7F)
    return der[j:]

# ---------------------------------------------------------------- request files

def csr_xml(rid, dev, usage, body, extra=""):
    return ("    <CSR>\n      <RequestID>%s</RequestID>\n      <DeviceID>%s</DeviceID>\n"
            "      <CertificateUsage>%s</CertificateUsage>\n      <CSRBody>%s</CSRBody>%s\n    </CSR>\n"
            % (rid, dev, usage, body, extra))

def request(batch, csrs, party=PARTY, count=None, ns=NS, decl='<?xml version="1.0" encoding="UTF-8"?>\n',
            prolog="", root_attrs="", epilog="", ids=None):
    """csrs: list of dicts with dev, usage, and der or body (raw text)"""
    parts = [decl, prolog,
             '<BatchedCSRRequest xmlns="%s"%s>\n  <Header>\n    <BatchID>%s</BatchID>\n'
             "    <PartyID>%s</PartyID>\n    <CSRCount>%s</CSRCount>\n  </Header>\n  <CSRs>\n"
             % (ns, root_attrs, batch, party, len(csrs) if count is None else count)]
    for i, c in enumerate(csrs):
        rid = ids[i] if ids else str(i + 1)
        body = c["body"] if "body" in c else b64(c["der"])
        parts.append(csr_xml(rid, c["dev"], c["usage"], body, c.get("extra", "")))
    parts.append("  </CSRs>\n</BatchedCSRRequest>\n" + epilog)
    return "".join(parts)

EXPECT = []      # (name, code, column 3, description)
LABELS = []      # (file, RequestID, label)
TIMING = []

def esc_name(name):
    return name.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\x1b", "\\033")

def expect(name, code, col3="", desc=""):
    EXPECT.append((name, code, col3, desc))

def write(name, data):
    path = os.path.join(DIR, name)
    with open(path, "wb") as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)
    return path

def accepted(name, data, csr_codes, desc, labels=None):
    """csr_codes: list of (RequestID, code)"""
    write(name, data)
    expect(name, "Accepted", " ".join("%s=%s" % rc for rc in csr_codes), desc)
    for i, (rid, _) in enumerate(csr_codes):
        LABELS.append((name, rid, labels[i] if labels else "request %s" % rid))

def rejected(name, data, code, desc, text_re=""):
    write(name, data)
    expect(name, code, ("~" + text_re) if text_re else "", desc)

def ok_batch(batch, n=2, **kw):
    """n fresh valid CSRs; returns (xml, [(rid, OK)...])"""
    cs = take(n)
    return request(batch, cs, **kw), [(str(i + 1), "OK") for i in range(n)]

def bad_batch(batch, n=2, **kw):
    """a valid request built from the spare pool (for files that must be rejected)"""
    return request(batch, spare(n), **kw)

def sub1(s, pat, rep):
    s2 = re.sub(pat, rep, s, count=1, flags=re.S)
    assert s2 != s, pat
    return s2

# ================================================================ A. DTDs, entities, fetching

DT = '<?xml version="1.0" encoding="UTF-8"?>\n'

s = bad_batch("XXE-FILE-1")
s = sub1(s, r"^<\?xml[^>]*>\n", DT + '<!DOCTYPE BatchedCSRRequest [\n  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n')
s = sub1(s, r"<BatchID>[^<]*</BatchID>", "<BatchID>&xxe;</BatchID>")
rejected("xxe_file_batchid.xml", s, "E_XML", "external entity to file:///etc/passwd used in BatchID")

s = bad_batch("XXE-FILE-2")
s = sub1(s, r"^<\?xml[^>]*>\n", DT + '<!DOCTYPE BatchedCSRRequest [\n  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n')
s = sub1(s, r"<CSRBody>[^<]*</CSRBody>", "<CSRBody>&xxe;</CSRBody>")
rejected("xxe_file_csrbody.xml", s, "E_XML", "external entity to file:///etc/passwd used in CSRBody")

s = bad_batch("XXE-PARAM-FILE")
s = sub1(s, r"^<\?xml[^>]*>\n", DT + '<!DOCTYPE BatchedCSRRequest [\n  <!ENTITY % p SYSTEM "file:///etc/passwd">\n  %p;\n]>\n')
rejected("xxe_param_file.xml", s, "E_XML", "external parameter entity to file:///etc/passwd")

s = bad_batch("XXE-HTTP")
s = sub1(s, r"^<\?xml[^>]*>\n", DT + '<!DOCTYPE BatchedCSRRequest [\n  <!ENTITY xxe SYSTEM "%s/xxe-entity">\n]>\n' % URL)
s = sub1(s, r"<DeviceID>[^<]*</DeviceID>", "<DeviceID>&xxe;</DeviceID>")
rejected("xxe_http_entity.xml", s, "E_XML", "external entity to the loopback URL, used in DeviceID")

s = bad_batch("XXE-PARAM-HTTP")
s = sub1(s, r"^<\?xml[^>]*>\n", DT + '<!DOCTYPE BatchedCSRRequest [\n  <!ENTITY %% p SYSTEM "%s/xxe-param.dtd">\n  %%p;\n]>\n' % URL)
rejected("xxe_param_http.xml", s, "E_XML", "external parameter entity to the loopback URL")

s = bad_batch("DTD-EXT-HTTP")
s = sub1(s, r"^<\?xml[^>]*>\n", DT + '<!DOCTYPE BatchedCSRRequest SYSTEM "%s/external-subset.dtd">\n' % URL)
rejected("dtd_external_http.xml", s, "E_XML", "external DTD subset on the loopback URL")

s = bad_batch("DTD-PUBLIC-HTTP")
s = sub1(s, r"^<\?xml[^>]*>\n", DT + '<!DOCTYPE BatchedCSRRequest PUBLIC "-//SMKI//Evil//EN" "%s/public.dtd">\n' % URL)
rejected("dtd_public_http.xml", s, "E_XML", "PUBLIC external DTD on the loopback URL")

s = bad_batch("DOCTYPE-EMPTY")
s = sub1(s, r"^<\?xml[^>]*>\n", DT + "<!DOCTYPE BatchedCSRRequest>\n")
rejected("doctype_empty.xml", s, "E_XML", "an empty DOCTYPE (no subset at all)", "DOCTYPE")

s = bad_batch("DOCTYPE-EMPTY-SUBSET")
s = sub1(s, r"^<\?xml[^>]*>\n", DT + "<!DOCTYPE BatchedCSRRequest [ ]>\n")
rejected("doctype_empty_subset.xml", s, "E_XML", "a DOCTYPE with an empty internal subset", "DOCTYPE")

s = bad_batch("DOCTYPE-AFTER-COMMENT")
s = sub1(s, r"^<\?xml[^>]*>\n", DT + "<!-- hello -->\n<!DOCTYPE x>\n")
rejected("doctype_after_comment.xml", s, "E_XML", "a DOCTYPE after a comment, naming another root")

lol = ['<!ENTITY lol "lol">']
for i in range(1, 10):
    prev = "lol" if i == 1 else "lol%d" % (i - 1)
    lol.append('<!ENTITY lol%d "%s">' % (i, ("&%s;" % prev) * 10))
s = bad_batch("BILLION-LAUGHS")
s = sub1(s, r"^<\?xml[^>]*>\n", DT + "<!DOCTYPE BatchedCSRRequest [\n  " + "\n  ".join(lol) + "\n]>\n")
s = sub1(s, r"<BatchID>[^<]*</BatchID>", "<BatchID>&lol9;</BatchID>")
rejected("billion_laughs.xml", s, "E_XML", "billion laughs: 10^9 'lol' from nine nested entities")
TIMING.append("billion_laughs.xml")

plol = ['<!ENTITY % l0 "lollollollollollollollollollol">']
for i in range(1, 8):
    plol.append('<!ENTITY %% l%d "%s">' % (i, ("%%l%d;" % (i - 1)) * 10))
s = bad_batch("PARAM-LAUGHS")
s = sub1(s, r"^<\?xml[^>]*>\n", DT + "<!DOCTYPE BatchedCSRRequest [\n  " + "\n  ".join(plol) + "\n  %l7;\n]>\n")
rejected("param_laughs.xml", s, "E_XML", "parameter-entity laughs in the internal subset")

big = "A" * 50000
s = bad_batch("QUADRATIC")
s = sub1(s, r"^<\?xml[^>]*>\n", DT + '<!DOCTYPE BatchedCSRRequest [\n  <!ENTITY a "%s">\n]>\n' % big)
s = sub1(s, r"<CSRBody>[^<]*</CSRBody>", "<CSRBody>" + "&a;" * 50000 + "</CSRBody>")
rejected("quadratic_blowup.xml", s, "E_XML", "quadratic blowup: a 50,000-character entity referenced 50,000 times")
TIMING.append("quadratic_blowup.xml")

s = bad_batch("UNDECLARED-ENTITY")
s = sub1(s, r"<BatchID>[^<]*</BatchID>", "<BatchID>&nosuch;</BatchID>")
rejected("undeclared_entity.xml", s, "E_XML", "a reference to an entity that is declared nowhere (no DTD)")

s = bad_batch("CHARREF-NUL")
s = sub1(s, r"<DeviceID>[^<]*</DeviceID>", "<DeviceID>00-DB&#0;</DeviceID>")
rejected("charref_nul.xml", s, "E_XML", "character reference &#0; (not an XML character)")

s = bad_batch("CHARREF-SURROGATE")
s = sub1(s, r"<DeviceID>[^<]*</DeviceID>", "<DeviceID>&#xD800;</DeviceID>")
rejected("charref_surrogate.xml", s, "E_XML", "character reference to a UTF-16 surrogate")

s = bad_batch("XINCLUDE-FILE")
s = sub1(s, r"<CSRs>", '<CSRs><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>')
rejected("xinclude_file.xml", s, "E_SCHEMA", "an XInclude of /etc/passwd: never processed, an element the XSD does not allow")

s = bad_batch("XINCLUDE-HTTP")
s = sub1(s, r"<CSRs>", '<CSRs><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="%s/xinclude.xml"/>' % URL)
rejected("xinclude_http.xml", s, "E_SCHEMA", "an XInclude of the loopback URL: never processed")

s, rc = ok_batch("SCHEMALOC-HTTP", root_attrs=' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                 'xsi:schemaLocation="%s %s/evil.xsd"' % (NS, URL))
accepted("schemaloc_http.xml", s, rc, "xsi:schemaLocation pointing at the loopback URL: ignored, never fetched (SPEC 5)")

s, rc = ok_batch("NONSLOC-HTTP", root_attrs=' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                 'xsi:noNamespaceSchemaLocation="%s/evil2.xsd"' % URL)
accepted("nonsloc_http.xml", s, rc, "xsi:noNamespaceSchemaLocation on the loopback URL: ignored, never fetched")

s, rc = ok_batch("STYLESHEET-PI", prolog='<?xml-stylesheet type="text/xsl" href="%s/evil.xsl"?>\n' % URL)
accepted("stylesheet_pi_http.xml", s, rc, "an xml-stylesheet PI naming the loopback URL: ignored")

# ================================================================ B. encodings

def bad_bytes(batch, old, new):
    s = bad_batch(batch).encode()
    assert old in s
    return s.replace(old, new, 1)

rejected("bad_utf8_ff.xml", bad_bytes("BAD-UTF8-FF", b"<CSRBody>M", b"<CSRBody>\xff\xfeM"), "E_XML",
         "bytes FF FE (never valid UTF-8) inside CSRBody")
rejected("bad_utf8_overlong.xml", bad_bytes("BAD-UTF8-OVERLONG", b"<DeviceID>", b"<DeviceID>\xc0\xaf"), "E_XML",
         "an overlong UTF-8 sequence (C0 AF for '/') in DeviceID")
rejected("bad_utf8_surrogate.xml", bad_bytes("BAD-UTF8-SURR", b"<BatchID>", b"<BatchID>\xed\xa0\x80"), "E_XML",
         "a UTF-8-encoded surrogate (ED A0 80) in BatchID")
rejected("bad_utf8_cut.xml", bad_bytes("BAD-UTF8-CUT", b"</CertificateUsage>", b"\xe2\x82</CertificateUsage>"), "E_XML",
         "a 3-octet UTF-8 sequence cut after 2 octets")
rejected("bad_utf8_5byte.xml", bad_bytes("BAD-UTF8-5BYTE", b"<CSRs>", b"<CSRs><!-- \xf8\x88\x80\x80\x80 -->"), "E_XML",
         "a 5-octet sequence (F8 88 80 80 80) in a comment")
rejected("bad_utf8_comment.xml", bad_bytes("BAD-UTF8-COMMENT", b"<CSRs>", b"<CSRs><!-- caf\xe9 -->"), "E_XML",
         "a Latin-1 byte (E9) in a comment")
rejected("nul_byte.xml", bad_bytes("NUL-BYTE", b"<CSRBody>", b"<CSRBody>\x00"), "E_XML", "a NUL byte in CSRBody")

def utf16(s, codec, bom):
    s = s.replace('encoding="UTF-8"', 'encoding="UTF-16"')
    return bom + s.encode(codec)

rejected("utf16le_bom.xml", utf16(bad_batch("UTF16LE"), "utf-16-le", b"\xff\xfe"), "E_XML",
         "the whole request in UTF-16LE with a BOM", "UTF-16")
rejected("utf16be_bom.xml", utf16(bad_batch("UTF16BE"), "utf-16-be", b"\xfe\xff"), "E_XML",
         "the whole request in UTF-16BE with a BOM", "UTF-16")
rejected("utf16le_nobom.xml", utf16(bad_batch("UTF16LE-NOBOM"), "utf-16-le", b""), "E_XML",
         "UTF-16LE without a BOM")
rejected("utf32be_bom.xml", b"\x00\x00\xfe\xff" + bad_batch("UTF32").replace('encoding="UTF-8"', 'encoding="UTF-32"').encode("utf-32-be"),
         "E_XML", "UTF-32BE (UCS-4) with a BOM")
rejected("latin1_decl.xml", bad_batch("LATIN1", decl='<?xml version="1.0" encoding="ISO-8859-1"?>\n'), "E_XML",
         "declared ISO-8859-1 (ASCII content): requests must be UTF-8", "UTF-8")
rejected("bom_latin1_decl.xml", b"\xef\xbb\xbf" + bad_batch("BOM-LATIN1", decl='<?xml version="1.0" encoding="ISO-8859-1"?>\n').encode(),
         "E_XML", "a UTF-8 BOM and a declaration saying ISO-8859-1")

s, rc = ok_batch("UTF8-BOM")
accepted("utf8_bom.xml", b"\xef\xbb\xbf" + s.encode(), rc, "UTF-8 with a byte-order mark (SPEC 5: allowed)")
s, rc = ok_batch("UTF8-DECL-LOWER", decl='<?xml version="1.0" encoding="utf-8"?>\n')
accepted("utf8_decl_lower.xml", s, rc, "encoding=\"utf-8\" in lower case")
s, rc = ok_batch("NO-DECL", decl="")
accepted("no_decl.xml", s, rc, "no XML declaration at all (UTF-8 by default)")

# ================================================================ C. sizes, counts, depth

def dummy_csrs(n, fault=None):
    """n structurally valid CSR elements with a dummy body, fast"""
    out = []
    for i in range(1, n + 1):
        rid = 1 if (fault == "dupid" and i == 50000) else i
        out.append("<CSR><RequestID>%d</RequestID><DeviceID>00-DB-00-00-00-%02X-%02X-%02X</DeviceID>"
                   "<CertificateUsage>DS</CertificateUsage><CSRBody>AAAA</CSRBody></CSR>\n"
                   % (rid, i >> 16 & 255, i >> 8 & 255, i & 255))
    return "".join(out)

def header(batch, count, party=PARTY):
    return (DT + '<BatchedCSRRequest xmlns="%s">\n<Header><BatchID>%s</BatchID><PartyID>%s</PartyID>'
            "<CSRCount>%s</CSRCount></Header>\n<CSRs>\n" % (NS, batch, party, count))

TAIL = "</CSRs>\n</BatchedCSRRequest>\n"
rejected("too_many.xml", header("TOO-MANY", 50001) + dummy_csrs(50001) + TAIL, "E_TOO_MANY",
         "50,001 CSR elements (CSRCount 50001)")
TIMING.append("too_many.xml")
rejected("too_many_truncated.xml", header("TOO-MANY-TRUNC", 50001) + dummy_csrs(50001) + "<CSR><Reque",
         "E_TOO_MANY", "50,001 CSRs, then the file is cut off: the reader stops at the 50,001st (SPEC 5: whatever else is wrong)")
rejected("too_many_dupids.xml", header("TOO-MANY-DUPID", 7) + dummy_csrs(50001, "dupid") + TAIL, "E_TOO_MANY",
         "50,001 CSRs with a duplicate RequestID and a wrong CSRCount: E_TOO_MANY outranks E_SCHEMA")

# over the size limit: a real request, then a comment, then a sparse tail
with open(os.path.join(DIR, "too_large.xml"), "wb") as f:
    f.write(bad_batch("TOO-LARGE").encode() + b"<!--")
    f.truncate(MAX_FILE_BYTES + 1)
expect("too_large.xml", "E_TOO_LARGE", "", "64 MiB + 1 octet (the default [limits] max_file_bytes + 1)")

s = bad_batch("TEXT-10MB")
s = sub1(s, r"<CSRBody>[^<]*</CSRBody>", "<CSRBody>" + "A" * 10_000_000 + "</CSRBody>")
rejected("text_10mb.xml", s, "E_SCHEMA", "a CSRBody of 10,000,000 characters: an oversized element (SPEC 5)", "CSRBody")
s = bad_batch("TEXT-10MIB")
s = sub1(s, r"<CSRBody>[^<]*</CSRBody>", "<CSRBody>" + "A" * (10 * 1024 * 1024) + "</CSRBody>")
rejected("text_10mib.xml", s, "E_SCHEMA",
         "a CSRBody of 10 MiB (10,485,760 characters): still an oversized element, E_SCHEMA by SPEC 5 "
         "(README's 'text node over 10 MB is E_XML' contradicts SPEC 5; the file is well-formed)", "CSRBody")
TIMING.append("text_10mib.xml")
s = bad_batch("TEXT-10MIB-CSRS")
s = sub1(s, r"<CSRs>", "<CSRs>" + "x" * (10 * 1024 * 1024))
rejected("text_10mib_in_csrs.xml", s, "E_SCHEMA",
         "10 MiB of text directly inside CSRs (element-only content): well-formed, fails the XSD, so E_SCHEMA "
         "(as for an oversized field)")

s = bad_batch("DEEP-10000")
s = sub1(s, r"<CSRBody>[^<]*</CSRBody>", "<CSRBody>" + "<a>" * 10000 + "</a>" * 10000 + "</CSRBody>")
rejected("deep_10000.xml", s, "E_XML", "10,000 nested elements inside CSRBody (beyond libxml2's depth limit)")
TIMING.append("deep_10000.xml")

s = bad_batch("MANY-REQUEST-IDS")
s = sub1(s, r"<RequestID>2</RequestID>", "".join("<RequestID>%d</RequestID>" % i for i in range(2, 140002)))
rejected("many_request_ids.xml", s, "E_SCHEMA",
         "140,000 RequestID elements in one CSR (more distinct RequestIDs than the reader's set was sized for)")
TIMING.append("many_request_ids.xml")

s = bad_batch("MANY-ATTRIBUTES", root_attrs="".join(' a%d="x"' % i for i in range(100000)))
rejected("many_attributes.xml", s, "E_XML",
         "100,000 attributes on the root (1.1 MB): a tag over the reader's 64 KiB markup limit (libxml2's attribute "
         "handling is quadratic); answered at once")
TIMING.append("many_attributes.xml")

s, rc = ok_batch("MANY-NSDECLS", root_attrs="".join(' xmlns:n%d="urn:x:%d"' % (i, i) for i in range(30000)))
rejected("many_nsdecls.xml", s, "E_XML",
         "30,000 unused namespace declarations on the root: legal XML, but a tag over the reader's 64 KiB markup limit")
TIMING.append("many_nsdecls.xml")

# timing only (not dropped with the rest: DIR/.timing/): six CSRBody texts of
# 9,990,000 characters, just under libxml2's text limit, in a 60 MB file (under
# the 64 MiB limit): E_SCHEMA, in bounded time (the validating reader's cost
# grows with the square of a text node's length)
os.makedirs(os.path.join(DIR, ".timing"), exist_ok=True)
cs = spare(6)
for c in cs:
    c["body"] = "A" * 9_990_000
with open(os.path.join(DIR, ".timing", "six_big_bodies.xml"), "w") as f:
    f.write(request("SIX-BIG-BODIES", cs))
TIMING.append(".timing/six_big_bodies.xml")

full = bad_batch("TRUNCATED-HALF")
rejected("truncated_half.xml", full[: len(full) // 2], "E_XML", "the first half of a request")
full = bad_batch("TRUNCATED-IN-TAG")
rejected("truncated_in_tag.xml", full[: full.rindex("<CSRBody>") + 5], "E_XML", "cut inside a start tag")
full = bad_batch("TRUNCATED-END")
rejected("truncated_end.xml", full[: full.rindex("</BatchedCSRRequest>")], "E_XML", "everything but the root's end tag")
rejected("empty_file.xml", b"", "E_XML", "0 octets")
rejected("whitespace_only.xml", b" \n\t\n", "E_XML", "whitespace only")
rejected("bom_only.xml", b"\xef\xbb\xbf", "E_XML", "a UTF-8 BOM and nothing else")

# ================================================================ D. namespaces, PIs, comments, odd syntax

rejected("wrong_namespace.xml", bad_batch("WRONG-NS", ns="urn:smki:batched-csr:2"), "E_SCHEMA", "namespace urn:smki:batched-csr:2")
rejected("no_namespace.xml", bad_batch("NO-NS").replace(' xmlns="%s"' % NS, ""), "E_SCHEMA", "no namespace at all")

cs = take(2)
s = request("PREFIXED-NS", cs)
s = re.sub(r"<(/?)([A-Za-z]+)", r"<\1b:\2", s)
s = s.replace('<b:BatchedCSRRequest xmlns="%s"' % NS, '<b:BatchedCSRRequest xmlns:b="%s"' % NS)
accepted("prefixed_namespace.xml", s, [("1", "OK"), ("2", "OK")], "the right namespace through a prefix (b:) on every element")

s = bad_batch("CHILD-FOREIGN-NS")
s = sub1(s, r"<DeviceID>([^<]*)</DeviceID>", r'<DeviceID xmlns="urn:other">\1</DeviceID>')
rejected("child_foreign_namespace.xml", s, "E_SCHEMA", "one DeviceID in another namespace")

rejected("unknown_attribute.xml", sub1(bad_batch("UNKNOWN-ATTR"), r"<CSR>", '<CSR colour="blue">'), "E_SCHEMA",
         "an attribute the XSD does not declare")
rejected("dup_attribute.xml", sub1(bad_batch("DUP-ATTR"), r"<CSR>", '<CSR a="1" a="2">'), "E_XML", "a duplicated attribute")

cs = take(2)
cs[0]["body"] = "<![CDATA[" + b64(cs[0]["der"]) + "]]>"
accepted("cdata_body.xml", request("CDATA-BODY", cs), [("1", "OK"), ("2", "OK")], "CSRBody inside a CDATA section")

s, rc = ok_batch("CDATA-HEADER")
s = sub1(s, r"<BatchID>CDATA-HEADER</BatchID>", "<BatchID><![CDATA[CDATA-HEADER]]></BatchID>")
s = sub1(s, r"<PartyID>([^<]*)</PartyID>", r"<PartyID><![CDATA[\1]]></PartyID>")
accepted("cdata_header.xml", s, rc, "BatchID and PartyID inside CDATA sections (intake once read them as empty)")

cs = take(2)
t = b64(cs[0]["der"])
cs[0]["body"] = "&#x%X;" % ord(t[0]) + t[1:]
cs[1]["dev"] = "&#x%X;" % ord(cs[1]["dev"][0]) + cs[1]["dev"][1:]
accepted("charref_body.xml", request("CHARREF-BODY", cs), [("1", "OK"), ("2", "OK")],
         "character references in CSRBody and DeviceID")

# comments and processing instructions wherever XML allows them, including
# inside the text of DeviceID, CertificateUsage and CSRBody: legal XML, ignored
# (the element's text is the concatenation of its text nodes, as in the XSD's view)
cs = take(3)
t = b64(cs[0]["der"])
cs[0]["body"] = t[:40] + "<!-- a comment inside CSRBody -->" + t[40:100] + "<?pi inside?>" + t[100:]
d = cs[1]["dev"]
cs[1]["dev"] = d[:8] + "<!--c-->" + d[8:]
cs[2]["usage"] = cs[2]["usage"][0] + "<?x?>" + cs[2]["usage"][1:]
s = request("COMMENTS-PIS", cs, prolog="<!-- before the root -->\n<?app-hint something?>\n",
            epilog="<!-- after the root -->\n<?after the root?>\n")
s = s.replace("<Header>", "<!-- c --><?p?><Header><!-- c -->").replace("</Header>", "<?p?></Header><!-- c -->")
s = s.replace("<CSRs>", "<CSRs><!-- c --><?p?>").replace("</CSR>", "</CSR><!-- between CSRs -->")
s = s.replace("<RequestID>", "<?p?><RequestID>")
accepted("comments_pis_everywhere.xml", s, [("1", "OK"), ("2", "OK"), ("3", "OK")],
         "comments and PIs before/after the root, between elements and inside field text: ignored")

rejected("xml_decl_late.xml", "<!-- first -->\n" + bad_batch("XML-DECL-LATE"), "E_XML",
         "an XML declaration after a comment")
rejected("pi_xml_in_content.xml", sub1(bad_batch("PI-XML-CONTENT"), r"<CSRs>", '<CSRs><?xml version="1.0"?>'), "E_XML",
         "an XML declaration in the middle of the content")
rejected("comment_double_dash.xml", sub1(bad_batch("COMMENT-DASH"), r"<CSRs>", "<CSRs><!-- a -- b -->"), "E_XML",
         "'--' inside a comment")
rejected("text_after_root.xml", bad_batch("TEXT-AFTER-ROOT") + "junk\n", "E_XML", "text after the root element")
rejected("two_roots.xml", bad_batch("TWO-ROOTS") + bad_batch("TWO-ROOTS-2", decl=""), "E_XML", "two root elements")
# namespace well-formedness (Namespaces in XML 1.0): not well-formed, so E_XML.
# The first three sit in namespace declarations, which the XSD does not look
# at: they are taken last (newest mtime) so that, should one be accepted, its
# batch queues behind every other batch of the corpus.
LATE = []
for name, decl, why in [("ns_decl_empty.xml", ' xmlns:p=""', "a prefix bound to the empty namespace name (xmlns:p=\"\")"),
                        ("ns_redefine_xml.xml", ' xmlns:xml="urn:other"', "the xml prefix bound to another namespace"),
                        ("ns_redefine_xmlns.xml", ' xmlns:xmlns="urn:other"', "the xmlns prefix declared"),
                        ("ns_decl_invalid_uri.xml", ' xmlns:p="a b"', "a prefix bound to 'a b', not a URI reference")]:
    rejected(name, bad_batch(name[:-4].upper().replace("_", "-"), root_attrs=decl), "E_XML",
             why + " on the root: not namespace-well-formed; must not be accepted and then fail to be read back")
    LATE.append(name)
rejected("ns_undeclared_prefix.xml", sub1(bad_batch("NS-UNDECLARED"), r"<CSRs>", "<CSRs><x:Colour>blue</x:Colour>"), "E_XML",
         "an element with an undeclared prefix: not namespace-well-formed, E_XML before E_SCHEMA")

rejected("xml_and_schema.xml", bad_bytes("XML-AND-SCHEMA", b"<CSRs>", b"<Colour>\xff</Colour><CSRs>"), "E_XML",
         "an XSD fault and invalid UTF-8 in one file: E_XML first (SPEC 5)")

cs = take(2)
accepted("reqid_leading_zeros.xml", request("REQID-ZEROS", cs, ids=["0001", "+2"]), [("1", "OK"), ("2", "OK")],
         "RequestIDs written 0001 and +2 (valid xs:positiveInteger lexical forms)")
cs = take(2)
ids = ["0" * 200 + "1", "2"]
accepted("reqid_200_zeros.xml", request("REQID-ZEROS-200", cs, ids=ids), [("1", "OK"), ("2", "OK")],
         "RequestID 1 written with 200 leading zeros: the integer 1, echoed as 1")
rejected("reqid_dup_value.xml", request("REQID-DUP", spare(2), ids=["1", "01"]), "E_SCHEMA",
         "RequestIDs 1 and 01: the same integer twice")
cs = take(2)
ids = ["1" + "0" * 23 + "1", "1" + "0" * 23 + "2"]
accepted("reqid_25_digits.xml", request("REQID-25", cs, ids=ids), [(ids[0], "OK"), (ids[1], "OK")],
         "RequestIDs of 25 digits: SPEC 5 'a positive integer with no upper bound in the XSD'")
cs = take(2)
ids = ["9" * 44 + "1", "9" * 44 + "2"]
accepted("reqid_45_digits.xml", request("REQID-45", cs, ids=ids), [(ids[0], "OK"), (ids[1], "OK")],
         "RequestIDs of 45 digits that differ only in the last digit: distinct, echoed whole")
rejected("csrcount_negative.xml", bad_batch("COUNT-NEG", count="-1"), "E_SCHEMA", "CSRCount -1")
rejected("csrcount_huge.xml", bad_batch("COUNT-HUGE", count="18446744073709551617"), "E_COUNT_MISMATCH",
         "CSRCount 2^64+1 (a valid xs:nonNegativeInteger) with 2 CSRs")
rejected("batchid_unicode.xml", bad_batch("BATCH-\u00e9\u00e9\u00e9-" + "\u00e9" * 40), "E_SCHEMA",
         "BatchID with non-ASCII letters, longer than 64 octets")
rejected("deviceid_65.xml", sub1(bad_batch("DEVID-65"), r"<DeviceID>[^<]*</DeviceID>", "<DeviceID>" + "A" * 65 + "</DeviceID>"),
         "E_SCHEMA", "DeviceID of 65 characters (the XSD bound is 64)")
rejected("csrbody_8193.xml", sub1(bad_batch("BODY-8193"), r"<CSRBody>[^<]*</CSRBody>", "<CSRBody>" + "A" * 8193 + "</CSRBody>"),
         "E_SCHEMA", "CSRBody of 8,193 characters (the XSD bound is 8,192)")

# ================================================================ E. the other batch-level codes

rejected("too_few_one.xml", bad_batch("TOO-FEW-1", n=1), "E_TOO_FEW", "one CSR (an ad hoc request)")
rejected("too_few_zero.xml", bad_batch("TOO-FEW-0", n=0), "E_TOO_FEW", "no CSR at all")
rejected("count_mismatch.xml", bad_batch("COUNT-MISMATCH", count=3), "E_COUNT_MISMATCH", "CSRCount 3, two CSRs")
rejected("unknown_party.xml", bad_batch("UNKNOWN-PARTY", party=PARTY_UNKNOWN), "E_UNKNOWN_PARTY", "PartyID not registered")
s, rc = ok_batch("DUP-BATCH")
accepted("dup_batch_first.xml", s, rc, "BatchID DUP-BATCH, the older file (taken first)")
rejected("dup_batch_second.xml", bad_batch("DUP-BATCH"), "E_DUPLICATE_BATCH", "BatchID DUP-BATCH again, a newer file")

# ================================================================ F. entries that are not regular files

os.makedirs(os.path.join(AUX, "targets"), exist_ok=True)
tgt = os.path.join(AUX, "targets", "symlink-target.xml")
with open(tgt, "w") as f:
    f.write(bad_batch("SYMLINK-TARGET"))
os.symlink(os.path.abspath(tgt), os.path.join(DIR, "symlink_valid.xml"))
expect("symlink_valid.xml", "E_FILE", "", "a symbolic link to a valid request: never followed, moved as a link")
os.symlink("/etc/passwd", os.path.join(DIR, "symlink_passwd.xml"))
expect("symlink_passwd.xml", "E_FILE", "", "a symbolic link to /etc/passwd")
os.symlink(os.path.join(os.path.abspath(AUX), "no-such-file.xml"), os.path.join(DIR, "symlink_dangling.xml"))
expect("symlink_dangling.xml", "E_FILE", "", "a dangling symbolic link")
os.makedirs(os.path.join(AUX, "targets", "a-directory"), exist_ok=True)
os.symlink(os.path.abspath(os.path.join(AUX, "targets", "a-directory")), os.path.join(DIR, "symlink_dir.xml"))
expect("symlink_dir.xml", "E_FILE", "", "a symbolic link to a directory")
write("hardlink.xml", bad_batch("HARDLINK"))
os.link(os.path.join(DIR, "hardlink.xml"), os.path.join(AUX, "targets", "hardlink-partner.xml"))
expect("hardlink.xml", "E_FILE", "", "a valid request with a second hard link elsewhere")
os.mkfifo(os.path.join(DIR, "fifo.xml"))
expect("fifo.xml", "E_FILE", "", "a FIFO (no writer: opening it must not block)")
TIMING.append("fifo.xml")
os.makedirs(os.path.join(DIR, "dir.xml"))
with open(os.path.join(DIR, "dir.xml", "inner.xml"), "w") as f:
    f.write(bad_batch("DIR-INNER"))
expect("dir.xml", "E_FILE", "", "a directory (holding a request) named *.xml")
sk = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sk.bind(os.path.join(DIR, "socket.xml"))
sk.close()
expect("socket.xml", "E_FILE", "", "a UNIX socket named *.xml")
if not ROOT:
    p = write("unreadable.xml", bad_batch("UNREADABLE"))
    os.chmod(p, 0)
    expect("unreadable.xml", "E_FILE", "", "a request the service may not read (mode 000)")

# ================================================================ G. file names

ODD = ["-.xml", "..xml", "...xml", ".hidden.xml", "a.b.c.xml", "x.xml.xml", "_.xml", "S" * 128 + ".xml",
       "UPPER-lower_09.xml"]
for i, name in enumerate(ODD):
    s, rc = ok_batch("ODD-NAME-%d" % i)
    accepted(name, s, rc, "an odd but valid name (STEM %r)" % name[:-4])

IGNORED = [("bad name.xml", "a space in the name"),
           ("\u00fcn\u00efc\u00f6d\u00e9.xml", "non-ASCII letters in the name"),
           ("L" * 129 + ".xml", "a 129-character stem"),
           ("colon:x.xml", "a colon in the name"),
           ("UPPER.XML", "the extension in upper case"),
           ("no-extension", "no .xml at all"),
           ("trailing.xml ", "a space after .xml"),
           (".xml", "an empty stem"),
           ("tab\tname.xml", "a TAB in the name"),
           ("nl\n2026-01-01T00:00:00Z smki-batch info: FORGED log line.xml",
            "a newline in the name (the log must not show a forged line)"),
           ("esc\x1b[31mred.xml", "an ESC (terminal escape) in the name")]
for name, why in IGNORED:
    write(name, bad_batch("IGNORED"))
    expect(name, "IGNORED", "", "not [A-Za-z0-9._-]{1,128}.xml: " + why + "; no receipt, left in place")
for name in ["inflight.xml.tmp", ".inflight.tmp", "x.tmp"]:
    write(name, bad_batch("INFLIGHT")[:100])
    expect(name, "IGNORED", "", "*.tmp: still being written; ignored, left in place")

# ================================================================ H. per-request faults in one accepted batch

PER = []     # (label, dev, usage, body, code)

def per(label, c, code, dev=None, usage=None, der=None, body=None):
    PER.append((label, dev if dev is not None else c["dev"], usage if usage is not None else c["usage"],
                body if body is not None else b64(der if der is not None else c["der"]), code))

def fresh():
    return take(1)[0]

def hex16(dev):
    return dev.replace("-", "").lower()

# valid ones
per("valid gencsr CSR", fresh(), "OK")
c = fresh(); t = b64(c["der"])
per("valid, base64 in 64-column lines, indented", c, "OK",
    body="\n        " + "\n        ".join(t[i:i + 64] for i in range(0, len(t), 64)) + "\n      ")
c = fresh(); per("valid, DeviceID as 16 lower-case hex digits", c, "OK", dev=hex16(c["dev"]))
c = fresh(); per("valid, DeviceID and usage with surrounding whitespace", c, "OK", dev="\n   " + c["dev"] + "  \t",
                 usage=" " + c["usage"] + "\n")
c = fresh(); t = b64(c["der"])
per("valid, CSRBody padded with spaces to exactly 8,192 characters", c, "OK", body=t + " " * (8192 - len(t)))
OSSL_OK_DEV = "00-DB-4F-53-53-4C-00-01"
per("valid openssl P-256 CSR (no extensions, empty subject)", {"dev": OSSL_OK_DEV, "usage": "DS"}, "OK",
    der=ossl("p256"))

# DeviceID and usage
per("DeviceID all zeros", fresh(), "E_DEVICE_ID", dev="00-00-00-00-00-00-00-00")
per("DeviceID all ones", fresh(), "E_DEVICE_ID", dev="FF-FF-FF-FF-FF-FF-FF-FF")
per("DeviceID all ones, 16 lower-case digits", fresh(), "E_DEVICE_ID", dev="ffffffffffffffff")
c = fresh(); per("DeviceID of 15 hex digits", c, "E_DEVICE_ID", dev=hex16(c["dev"])[:15])
c = fresh(); per("DeviceID of 17 hex digits", c, "E_DEVICE_ID", dev=hex16(c["dev"]) + "0")
c = fresh(); per("DeviceID with colons", c, "E_DEVICE_ID", dev=c["dev"].replace("-", ":"))
c = fresh(); per("DeviceID hyphens misplaced", c, "E_DEVICE_ID", dev=hex16(c["dev"])[:4] + "-" + c["dev"][5:])
c = fresh(); per("DeviceID with a non-hex letter", c, "E_DEVICE_ID", dev=c["dev"][:-1] + "G")
per("DeviceID in full-width digits", fresh(), "E_DEVICE_ID", dev="\uff10\uff10-DB-12-34-56-78-90-A4")
per("DeviceID empty", fresh(), "E_DEVICE_ID", dev="")
per("usage ds in lower case", fresh(), "E_USAGE", usage="ds")
per("usage empty", fresh(), "E_USAGE", usage="")
per("usage DSKA", fresh(), "E_USAGE", usage="DSKA")

# base64
c = fresh(); t = b64(c["der"]); per("base64 with '*'", c, "E_CSR_ENCODING", body=t[:50] + "*" + t[50:])
cands = [x for x in GOOD[_good_next:] if len(x["der"]) % 3 != 0]
c = cands[0]; GOOD.remove(c)
per("base64 without its '=' padding", c, "E_CSR_ENCODING", body=b64(c["der"]).rstrip("="))
c = cands[1]; GOOD.remove(c); t = b64(c["der"])
pad = len(t) - len(t.rstrip("="))
alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
last = alpha.index(t[-pad - 1])
t2 = t[:-pad - 1] + alpha[last | 1] + "=" * pad
per("base64 with non-zero padding bits", c, "E_CSR_ENCODING", body=t2)
cands = [x for x in GOOD[_good_next:] if re.search(r"[+/]", b64(x["der"]))]
c = cands[0]; GOOD.remove(c)
per("base64url alphabet ('-' and '_')", c, "E_CSR_ENCODING", body=b64(c["der"]).replace("+", "-").replace("/", "_"))
per("CSRBody empty", fresh(), "E_CSR_ENCODING", body="")
per("CSRBody whitespace only", fresh(), "E_CSR_ENCODING", body="  \n  ")
per("valid base64 of random octets", fresh(), "E_CSR_ENCODING", body=b64(os.urandom(200)))

# DER structure
c = fresh(); d = c["der"]
per("DER indefinite length (outer SEQUENCE 30 80 ... 00 00)", c, "E_CSR_ENCODING",
    der=b"\x30\x80" + outer_content(d) + b"\x00\x00")
c = fresh(); t = csr_tree(c["der"])
inner = b"\x30\x80" + b"".join(encode(x) for x in cri(t)[1]) + b"\x00\x00"
per("DER indefinite length inside (certificationRequestInfo)", c, "E_CSR_ENCODING",
    der=tlv(0x30, inner + encode(sigalg(t)) + encode(sigbits(t))))
c = fresh(); per("DER negative length (84 FF FF FF FF)", c, "E_CSR_ENCODING",
                 der=b"\x30\x84\xff\xff\xff\xff" + outer_content(c["der"]))
c = fresh(); per("DER length overflow (88 + eight FF octets)", c, "E_CSR_ENCODING",
                 der=b"\x30\x88" + b"\xff" * 8 + outer_content(c["der"]))
c = fresh(); per("DER length 2^31 (84 80 00 00 00)", c, "E_CSR_ENCODING",
                 der=b"\x30\x84\x80\x00\x00\x00" + outer_content(c["der"]))
c = fresh(); oc = outer_content(c["der"])
per("DER oversized length (content + 100)", c, "E_CSR_ENCODING", der=b"\x30" + enc_len(len(oc) + 100) + oc)
c = fresh(); oc = outer_content(c["der"])
per("DER non-minimal length (82 00 xx)", c, "E_CSR_ENCODING", der=b"\x30\x82" + len(oc).to_bytes(2, "big") + oc)
c = fresh(); per("DER wrong outer tag (SET, 31)", c, "E_CSR_ENCODING", der=b"\x31" + c["der"][1:])
c = fresh(); per("DER high-tag-number outer tag (3F ..)", c, "E_CSR_ENCODING", der=b"\x3f\x81\x00" + c["der"][1:])
c = fresh(); per("DER trailing octets (00 00)", c, "E_CSR_ENCODING", der=c["der"] + b"\x00\x00")
c = fresh(); per("DER truncated (last 10 octets cut)", c, "E_CSR_ENCODING", der=c["der"][:-10])
c = fresh()
def v1(t): cri(t)[1][0] = (0x02, b"\x01")
per("DER version 1 (not v1 = 0)", c, "E_CSR_ENCODING", der=mutate(c["der"], v1))

# malformed attributes
def attr_empty_set(t):
    a = attrs(t)[1][0]
    a[1][1] = (0x31, [])
c = fresh(); per("attribute with an empty value SET", c, "E_CSR_ENCODING", der=mutate(c["der"], attr_empty_set))
def attr_tag(t):
    a = attrs(t)
    cri(t)[1][3] = (0x30, a[1])
c = fresh(); per("attributes tagged SEQUENCE instead of [0]", c, "E_CSR_ENCODING", der=mutate(c["der"], attr_tag))
def attr_twice(t):
    a = attrs(t)[1]
    a.append(a[0])
c = fresh(); per("extensionRequest attribute twice", c, "E_CSR_ENCODING", der=mutate(c["der"], attr_twice))
def attr_garbage(t):
    attrs(t)[1].append((0x30, [(0x06, b"\x2a\x03\x04"), (0x31, [("raw", b"\x04\x05\x00")])]))
c = fresh(); per("attribute whose value overruns its SET", c, "E_CSR_ENCODING", der=mutate(c["der"], attr_garbage))
def ext_crit_false(t):
    ext = attrs(t)[1][0][1][1][1][0][1][0]     # attr -> SET -> Extensions -> first Extension
    ext[1][1] = (0x01, b"\x00")
c = fresh(); per("extension with critical FALSE encoded (not DER)", c, "E_CSR_ENCODING", der=mutate(c["der"], ext_crit_false))
def ext_twice(t):
    exts = attrs(t)[1][0][1][1][1][0][1]
    exts.append(exts[0])
c = fresh(); per("subjectAltName extension twice", c, "E_CSR_ENCODING", der=mutate(c["der"], ext_twice))
def attr_oid_bad(t):
    attrs(t)[1][0][1][0] = (0x06, b"\x2a\x86\x48\x86\xf7\x0d\x01\x09\x8e")   # last octet has the high bit
c = fresh(); per("attribute type OID not terminated", c, "E_CSR_ENCODING", der=mutate(c["der"], attr_oid_bad))

# keys
def setpt(fn):
    def f(t):
        set_point(t, fn(point_of(t)))
    return f
c = fresh(); per("compressed point (02/03 || X)", c, "E_KEY_INVALID",
                 der=mutate(c["der"], setpt(lambda p: bytes([2 + (p[64] & 1)]) + p[1:33])))
c = fresh(); per("hybrid point (06/07 || X || Y)", c, "E_KEY_INVALID",
                 der=mutate(c["der"], setpt(lambda p: bytes([6 + (p[64] & 1)]) + p[1:])))
c = fresh(); per("point at infinity (00)", c, "E_KEY_INVALID", der=mutate(c["der"], setpt(lambda p: b"\x00")))
c = fresh(); per("point not on the curve (Y's low bit flipped)", c, "E_KEY_INVALID",
                 der=mutate(c["der"], setpt(lambda p: p[:64] + bytes([p[64] ^ 1]))))
c = fresh(); per("uncompressed point one octet short", c, "E_KEY_INVALID", der=mutate(c["der"], setpt(lambda p: p[:64])))
c = fresh(); per("point with coordinates >= p (X = Y = FF..FF)", c, "E_KEY_INVALID",
                 der=mutate(c["der"], setpt(lambda p: b"\x04" + b"\xff" * 64)))
per("P-384 key (openssl, ecdsa-with-SHA256)", {"dev": "00-DB-4F-53-53-4C-00-02", "usage": "DS"}, "E_KEY_TYPE", der=ossl("p384"))
per("secp256k1 key (openssl, ecdsa-with-SHA256)", {"dev": "00-DB-4F-53-53-4C-00-03", "usage": "DS"}, "E_KEY_TYPE",
    der=ossl("k256"))
per("P-256 key with explicit curve parameters (openssl)", {"dev": "00-DB-4F-53-53-4C-00-04", "usage": "DS"}, "E_KEY_TYPE",
    der=ossl("explicit"))
# an RSA or Ed25519 request made by openssl is signed with its own algorithm:
# its first fault in SPEC 5 order is the signature algorithm; with the
# signature algorithm rewritten to ecdsa-with-SHA256 it is the key type
per("RSA-2048 key (openssl, sha256WithRSAEncryption): E_SIG_ALGORITHM comes first in SPEC 5",
    {"dev": "00-DB-4F-53-53-4C-00-05", "usage": "DS"}, "E_SIG_ALGORITHM", der=ossl("rsa"))
def sig_to_ecdsa(t):
    t[1][1] = (0x30, [OID_ECDSA_SHA256])
per("RSA-2048 key, signatureAlgorithm rewritten to ecdsa-with-SHA256", {"dev": "00-DB-4F-53-53-4C-00-06", "usage": "DS"},
    "E_KEY_TYPE", der=mutate(ossl("rsa"), sig_to_ecdsa))
per("Ed25519 key (openssl, Ed25519 signature): E_SIG_ALGORITHM comes first in SPEC 5",
    {"dev": "00-DB-4F-53-53-4C-00-07", "usage": "DS"}, "E_SIG_ALGORITHM", der=ossl("ed25519"))
per("Ed25519 key, signatureAlgorithm rewritten to ecdsa-with-SHA256", {"dev": "00-DB-4F-53-53-4C-00-08", "usage": "DS"},
    "E_KEY_TYPE", der=mutate(ossl("ed25519"), sig_to_ecdsa))

# signature algorithm and signature
per("SHA-1 signature (openssl req -sha1, P-256)", {"dev": "00-DB-4F-53-53-4C-00-09", "usage": "DS"}, "E_SIG_ALGORITHM",
    der=ossl("p256-sha1"))
per("SHA-384 signature (openssl req -sha384, P-256)", {"dev": "00-DB-4F-53-53-4C-00-0A", "usage": "DS"}, "E_SIG_ALGORITHM",
    der=ossl("p256-sha384"))
def sig_null_params(t):
    t[1][1] = (0x30, [OID_ECDSA_SHA256, (0x05, b"")])
c = fresh(); per("ecdsa-with-SHA256 with NULL parameters", c, "E_SIG_ALGORITHM", der=mutate(c["der"], sig_null_params))
def sig_cut(t):
    v = sigbits(t)[1]
    t[1][2] = (0x03, v[:-5])
c = fresh(); per("signature value truncated by 5 octets (outer DER re-encoded)", c, "E_CSR_SIGNATURE",
                 der=mutate(c["der"], sig_cut))
def sig_flip(t):
    v = bytearray(sigbits(t)[1])
    v[-1] ^= 1
    t[1][2] = (0x03, bytes(v))
c = fresh(); per("signature s with its last bit flipped", c, "E_CSR_SIGNATURE", der=mutate(c["der"], sig_flip))
def sig_r_zero(t):
    (sv,) = decode(sigbits(t)[1][1:])
    sv[1][0] = (0x02, b"\x00")
    t[1][2] = (0x03, b"\x00" + encode(sv))
c = fresh(); per("signature with r = 0", c, "E_CSR_SIGNATURE", der=mutate(c["der"], sig_r_zero))
def sig_not_seq(t):
    t[1][2] = (0x03, b"\x00" + b"\x04\x02\xab\xcd")
c = fresh(); per("signature BIT STRING holding an OCTET STRING", c, "E_CSR_SIGNATURE", der=mutate(c["der"], sig_not_seq))

# the hardwareModuleName and duplicates
c = fresh(); other = fresh()
per("hardwareModuleName names another device", c, "E_ID_MISMATCH", dev=other["dev"])
c = fresh()
per("rejected request (bad signature) of device D", c, "E_CSR_SIGNATURE", der=mutate(c["der"], sig_flip))
per("then a valid request of the same device D and usage: a rejected request claims nothing", c, "OK")
per("same DeviceID+usage as the valid openssl request, spelled in 16 lower-case digits, fresh key",
    {"dev": hex16(OSSL_OK_DEV), "usage": "DS"}, "E_DUPLICATE_REQUEST", der=ossl("p256b"))
per("the key of the valid openssl request again, another device and usage", {"dev": "00-DB-4F-53-53-4C-00-0B", "usage": "KA"},
    "E_DUPLICATE_KEY", der=ossl("p256"))

# several faults: the first in SPEC 5 order wins
per("DeviceID all zeros AND an RSA key", {"dev": "00-00-00-00-00-00-00-00", "usage": "DS"}, "E_DEVICE_ID", der=ossl("rsa"))
c = fresh(); t = b64(c["der"])
per("usage 'ds' AND base64 with '*'", c, "E_USAGE", usage="ds", body=t[:20] + "*" + t[20:])
per("RSA key AND trailing octets", {"dev": "00-DB-4F-53-53-4C-00-0C", "usage": "DS"}, "E_CSR_ENCODING",
    der=ossl("rsa") + b"\x00")
per("P-384 key AND SHA-1 signature", {"dev": "00-DB-4F-53-53-4C-00-0D", "usage": "DS"}, "E_SIG_ALGORITHM",
    der=ossl("p384-sha1"))
c = fresh(); other = fresh()
per("hardwareModuleName mismatch AND a bad signature", c, "E_CSR_SIGNATURE", dev=other["dev"], der=mutate(c["der"], sig_flip))
c = fresh()
per("compressed point AND (so) a signature that cannot verify", c, "E_KEY_INVALID",
    der=mutate(c["der"], lambda t: (set_point(t, b"\x03" + point_of(t)[1:33]), sig_flip(t))))
per("last request: valid", fresh(), "OK")

csrs = [{"dev": d, "usage": u, "body": b} for (_, d, u, b, _) in PER]
accepted("perreq.xml", request("PER-REQUEST", csrs), [(str(i + 1), p[4]) for i, p in enumerate(PER)],
         "one accepted batch, one per-request fault per CSR (SPEC 3.3 / 5)", labels=[p[0] for p in PER])

# ================================================================ expectations

# the two DUP-BATCH files: the first must be taken first (older mtime)
os.utime(os.path.join(DIR, "dup_batch_first.xml"), (1700000000, 1700000000))
os.utime(os.path.join(DIR, "dup_batch_second.xml"), (1700000100, 1700000100))
for i, name in enumerate(LATE):     # 2030-01-01, after everything else
    os.utime(os.path.join(DIR, name), (1893456000 + i, 1893456000 + i))

with open(os.path.join(DIR, "expect.tsv"), "w", encoding="utf-8") as f:
    f.write("# expect.tsv - the hostile corpus (tests/hostile/make_corpus.sh); one case a line:\n"
            "#   NAME<TAB>CODE<TAB>DETAIL\n"
            "# NAME: the entry in incoming/ (\\t, \\n, \\033 and \\\\ escaped).  CODE: Accepted, a batch-level\n"
            "# E_ code (the receipt's ErrorCode), or IGNORED (no receipt; the entry stays in incoming/).\n"
            "# DETAIL: for Accepted, RequestID=CODE pairs (OK = Issued); for a rejection, optionally\n"
            "# ~REGEX that the receipt's ErrorText must match (case-insensitive).\n"
            "# The comment line before each case says what it is.\n")
    for name, code, col3, desc in EXPECT:
        f.write("# %s: %s\n" % (esc_name(name), desc.replace("\n", " ")))
        f.write("%s\t%s\t%s\n" % (esc_name(name), code, col3))
with open(os.path.join(DIR, "labels.tsv"), "w", encoding="utf-8") as f:
    for name, rid, label in LABELS:
        f.write("%s\t%s\t%s\n" % (esc_name(name), rid, label))
with open(os.path.join(DIR, "timing.lst"), "w") as f:
    f.write("\n".join(TIMING) + "\n")
print("corpus: %d cases (%d per-request cases in perreq.xml), %d CSRs of base.xml used"
      % (len(EXPECT), len(PER), _good_next))
