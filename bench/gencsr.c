/* gencsr - generate batched CSR request files for tests and benchmarks.
 *
 * SYNOPSIS
 *   gencsr --count N [--party EUI64] [--batch ID] [--out FILE] [--faults SPEC]
 *          [--seed N] [--threads N] [--header-count N] [--device-base HEX16]
 *          [--expect FILE] [--raw-der FILE]
 *
 * DESCRIPTION
 *   Writes a BatchedCSRRequest (SPEC.md section 3.1) with N CSRs, each a real
 *   PKCS#10 request for a fresh P-256 key, self-signed ecdsa-with-SHA256, whose
 *   extensionRequest holds a critical subjectAltName with one otherName
 *   hardwareModuleName (hwType 2.999.1, hwSerialNum = the 8 octets of DeviceID).
 *   The subject is empty, as in the device certificate of SPEC.md section 4.
 *   This is the input side of the end-to-end tests and of the benchmark: what
 *   the web tier would drop into spool/incoming/.  It stands alone: it links
 *   only libcrypto, libc and eui64/xmem from build/libstages.a, and it shares no
 *   code with the validator it feeds, so the two check each other.
 *
 *   Speed: the DER is not built through X509_REQ (slow in OpenSSL 3.0) but
 *   from a fixed layout in which only the point, the hwSerialNum and the
 *   signature vary.  Worker threads each produce a contiguous range of
 *   requests as XML text in their own buffer; the main thread then writes the
 *   buffers in order, to FILE.tmp and renamed to FILE (so a spool never sees a
 *   half-written file), or to stdout.
 *
 *   --faults injects per-request faults, each with the code SPEC.md sections
 *   3.3 and 5 say it must produce; --expect writes that code (or OK) for every
 *   request, one "RequestID<TAB>CODE" line each, no header line, so that a
 *   test can check every Result of the response.  Request i has DeviceID
 *   device-base + i - 1 and usage DS when i is odd, KA when even; the
 *   duplicate faults copy request 1, which therefore never carries a counted
 *   fault.  Every other request has its own DeviceID and its own fresh key.
 *
 * DIAGNOSTICS
 *   A bad option exits 2 with a message naming it; an OpenSSL or I/O failure
 *   exits 1.  Timing goes to stderr.  Threads: the workers share only
 *   read-only state (the fault plan); each owns its OpenSSL objects, its copy
 *   of request 1's key and its output buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "eui64.h"
#include "xmem.h"

#define COUNT_MAX   1000000u   /* well above the 50,000 of a legal batch */
#define THREADS_MAX 256u
#define DER_MAX     512        /* a P-384 fault CSR is about 320 octets */

/* ---- fault kinds ------------------------------------------------------- */

enum fault {
    F_NONE = 0,
    F_DEVICE_ID, F_DEVICE_ID_SYNTAX, F_USAGE, F_BASE64, F_DER_TRAILING,
    F_DER_TRUNCATED, F_SIG_ALG, F_KEY_TYPE, F_KEY_COMPRESSED, F_KEY_OFFCURVE,
    F_SIGNATURE, F_ID_MISMATCH, F_DUP_REQUEST, F_DUP_KEY,
    F_COUNT_
};

static const struct {
    const char *name;   /* as written in --faults */
    const char *code;   /* what the service must answer (SPEC.md 3.3) */
    const char *what;   /* for --help */
} FAULTS[F_COUNT_] = {
    [F_NONE]             = {"none", "OK", "no fault"},
    [F_DEVICE_ID]        = {"device_id", "E_DEVICE_ID", "DeviceID 00-00-00-00-00-00-00-00"},
    [F_DEVICE_ID_SYNTAX] = {"device_id_syntax", "E_DEVICE_ID", "DeviceID \"XYZ\""},
    [F_USAGE]            = {"usage", "E_USAGE", "CertificateUsage \"XX\""},
    [F_BASE64]           = {"base64", "E_CSR_ENCODING", "a '*' in the middle of CSRBody"},
    [F_DER_TRAILING]     = {"der_trailing", "E_CSR_ENCODING", "2 octets 00 00 after the DER"},
    [F_DER_TRUNCATED]    = {"der_truncated", "E_CSR_ENCODING", "the DER's last 10 octets cut off"},
    [F_SIG_ALG]          = {"sig_alg", "E_SIG_ALGORITHM", "signed ecdsa-with-SHA384"},
    [F_KEY_TYPE]         = {"key_type", "E_KEY_TYPE", "a secp384r1 key, signed ecdsa-with-SHA256"},
    [F_KEY_COMPRESSED]   = {"key_compressed", "E_KEY_INVALID", "compressed (02/03) point in the SPKI"},
    [F_KEY_OFFCURVE]     = {"key_offcurve", "E_KEY_INVALID", "point not on the curve (Y low bit flipped)"},
    [F_SIGNATURE]        = {"signature", "E_CSR_SIGNATURE", "signed by another P-256 key"},
    [F_ID_MISMATCH]      = {"id_mismatch", "E_ID_MISMATCH", "hwSerialNum = DeviceID with last octet ^ 01"},
    [F_DUP_REQUEST]      = {"dup_request", "E_DUPLICATE_REQUEST", "DeviceID and usage (DS) of request 1, fresh key"},
    [F_DUP_KEY]          = {"dup_key", "E_DUPLICATE_KEY", "the key of request 1, own DeviceID"},
};

/* ---- DER templates ----------------------------------------------------- */

/* SubjectPublicKeyInfo up to the point: id-ecPublicKey, prime256v1, BIT STRING */
static const uint8_t SPKI_P256[] = {
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01,
    0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};
/* the same, for a 33-octet compressed point */
static const uint8_t SPKI_P256_COMPRESSED[] = {
    0x30, 0x39, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01,
    0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07, 0x03, 0x22, 0x00};
/* secp384r1, 97-octet uncompressed point */
static const uint8_t SPKI_P384[] = {
    0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01,
    0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00};

/* attributes [0]: one extensionRequest holding one critical subjectAltName
 * with an otherName hardwareModuleName { hwType 2.999.1, hwSerialNum (8) } */
static const uint8_t ATTRS[] = {
    0xA0, 0x3E,                                     /* [0] attributes */
    0x30, 0x3C,                                     /* Attribute */
    0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x0E, /* extensionRequest */
    0x31, 0x2F,                                     /* SET */
    0x30, 0x2D,                                     /* Extensions */
    0x30, 0x2B,                                     /* Extension */
    0x06, 0x03, 0x55, 0x1D, 0x11,                   /* subjectAltName */
    0x01, 0x01, 0xFF,                               /* critical TRUE */
    0x04, 0x21,                                     /* extnValue */
    0x30, 0x1F,                                     /* GeneralNames */
    0xA0, 0x1D,                                     /* [0] otherName */
    0x06, 0x08, 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x08, 0x04, /* id-on-hardwareModuleName */
    0xA0, 0x11,                                     /* [0] EXPLICIT value */
    0x30, 0x0F,                                     /* HardwareModuleName */
    0x06, 0x03, 0x88, 0x37, 0x01,                   /* hwType 2.999.1 */
    0x04, 0x08, 0, 0, 0, 0, 0, 0, 0, 0};            /* hwSerialNum */
#define ATTRS_SERIAL_OFF (sizeof ATTRS - 8)

static const uint8_t ALG_ECDSA_SHA256[] = {
    0x30, 0x0A, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02};
static const uint8_t ALG_ECDSA_SHA384[] = {
    0x30, 0x0A, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x03};

/* ---- options and plan -------------------------------------------------- */

struct opts {
    uint32_t count;
    int have_count;
    const char *party, *batch, *out, *faults, *expect, *raw_der;
    uint64_t seed;
    int have_seed;
    unsigned threads;
    uint64_t header_count;
    int have_header_count;
    uint64_t base;
    int have_base;
};

/* the read-only state every worker shares */
struct gen {
    uint32_t count;
    uint64_t base;          /* DeviceID of request i is base + i - 1 */
    const uint8_t *fault;   /* [count + 1], enum fault per request index */
};

struct worker {
    const struct gen *g;
    uint32_t first, last;   /* 1-based, inclusive; first > last: nothing */
    EVP_PKEY *refkey;       /* this worker's copy of request 1's key */
    char *buf;              /* XML of its CSR elements */
    size_t len, cap;
    uint8_t der1[DER_MAX];  /* DER of request 1, when in range */
    size_t der1_len;
    int failed;
    char errmsg[160];
};

/* per-thread OpenSSL objects, reused for every CSR */
struct wctx {
    EVP_PKEY_CTX *kgen256, *kgen384;
    EVP_MD *sha256, *sha384;
    EVP_PKEY *other;        /* signs the "signature" fault */
};

static const char *prog = "gencsr";

/* usage - the synopsis and the fault table, to f */
static void usage(FILE *f)
{
    fprintf(f,
"usage: %s --count N [--party EUI64] [--batch ID] [--out FILE] [--faults SPEC]\n"
"              [--seed N] [--threads N] [--header-count N] [--device-base HEX16]\n"
"              [--expect FILE] [--raw-der FILE]\n"
"\n"
"Writes a BatchedCSRRequest (urn:smki:batched-csr:1) of N real P-256 PKCS#10\n"
"requests, self-signed ecdsa-with-SHA256, subject empty, hardwareModuleName\n"
"(hwType 2.999.1) in a critical subjectAltName of the extensionRequest.\n"
"\n"
"  --count N          CSRs to write (0..%u)\n"
"  --party EUI64      PartyID (default 90-B3-D5-1F-30-01-00-00), written as given\n"
"  --batch ID         BatchID, [A-Za-z0-9._-]{1,64} (default GEN-<count>)\n"
"  --out FILE         output (default stdout); written as FILE.tmp, then renamed\n"
"  --faults SPEC      comma list of KIND[:COUNT] (spread evenly, never request 1)\n"
"                     or KIND@INDEX (1-based request index)\n"
"  --seed N           makes DeviceIDs and fault positions repeatable (keys are\n"
"                     always fresh); default random, printed on stderr\n"
"  --threads N        worker threads (default: online cores)\n"
"  --header-count N   CSRCount to write instead of N (for E_COUNT_MISMATCH)\n"
"  --device-base HEX16  DeviceID of request 1; request i gets base + i - 1\n"
"                     (default 00-DB-xx-xx-xx-00-00-00, xx from the seed)\n"
"  --expect FILE      TSV, one line per request: RequestID<TAB>OK or E_...\n"
"  --raw-der FILE     the DER of request 1, for openssl req -inform DER\n"
"  --help             this text\n"
"\n"
"Fault kinds and the code each must produce:\n",
            prog, COUNT_MAX);
    for (int k = 1; k < F_COUNT_; k++)
        fprintf(f, "  %-17s %-20s %s\n", FAULTS[k].name, FAULTS[k].code, FAULTS[k].what);
    fprintf(f,
"dup_request and dup_key refer back to request 1, which must then carry no fault.\n"
"Example: %s --count 50000 --faults signature:3,device_id:2,dup_key@10 --out b.xml\n",
            prog);
}

/* die_usage - a bad option: message, hint, exit 2 */
__attribute__((format(printf, 1, 2), noreturn))
static void die_usage(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (try %s --help)\n", prog);
    exit(2);
}

/* die - an operational failure (OpenSSL, I/O): message, OpenSSL errors, exit 1 */
__attribute__((format(printf, 1, 2), noreturn))
static void die(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    ERR_print_errors_fp(stderr);
    exit(1);
}

/* parse_u64 - a decimal number in [min, max] for option opt, or exit 2 */
static uint64_t parse_u64(const char *s, uint64_t min, uint64_t max, const char *opt)
{
    char *end;
    if (*s < '0' || *s > '9')
        die_usage("%s: '%s' is not a decimal number", opt, s);
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end != '\0')
        die_usage("%s: '%s' is not a decimal number", opt, s);
    if (v < min || v > max)
        die_usage("%s: %s is out of range %" PRIu64 "..%" PRIu64, opt, s, min, max);
    return v;
}

/* splitmix64 - the seeded generator for fault positions and the device base */
static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* fault_lookup - the kind named s[0..len), or exit 2 */
static enum fault fault_lookup(const char *s, size_t len)
{
    for (int k = 1; k < F_COUNT_; k++)
        if (strlen(FAULTS[k].name) == len && memcmp(FAULTS[k].name, s, len) == 0)
            return (enum fault)k;
    die_usage("--faults: unknown fault kind '%.*s'", (int)len, s);
}

/* plan_faults - the fault of every request index 1..count from spec */
static uint8_t *plan_faults(const char *spec, uint32_t count, uint64_t seed)
{
    uint8_t *fault = xcalloc((size_t)count + 1, 1);
    uint64_t want[F_COUNT_] = {0}, total = 0;
    int dups = 0;

    if (spec) {
        size_t sl = strlen(spec);
        if (sl == 0 || spec[0] == ',' || spec[sl - 1] == ',' || strstr(spec, ",,"))
            die_usage("--faults: empty item in '%s'", spec);
        char *copy = xstrdup(spec), *save = NULL;
        for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
            size_t nlen = strcspn(item, ":@");
            enum fault k = fault_lookup(item, nlen);
            if (k == F_DUP_REQUEST || k == F_DUP_KEY)
                dups = 1;
            if (item[nlen] == '@') {
                uint64_t at = parse_u64(item + nlen + 1, 1, count ? count : 1, "--faults KIND@INDEX");
                if (at > count)
                    die_usage("--faults: %s: there are no requests", item);
                if (fault[at])
                    die_usage("--faults: request %" PRIu64 " already has fault %s",
                              at, FAULTS[fault[at]].name);
                fault[at] = (uint8_t)k;
            } else {
                uint64_t n = item[nlen] == ':'
                    ? parse_u64(item + nlen + 1, 0, COUNT_MAX, "--faults KIND:COUNT") : 1;
                want[k] += n;
                total += n;
            }
        }
        free(copy);
    }
    if (dups && fault[1])
        die_usage("--faults: request 1 carries %s, but dup_request/dup_key refer back to it",
                  FAULTS[fault[1]].name);

    /* the free indices: 2..count without an @INDEX fault */
    uint32_t nfree = 0;
    uint32_t *freeidx = xmalloc(((size_t)count + 1) * sizeof *freeidx);
    for (uint32_t i = 2; i <= count; i++)
        if (!fault[i])
            freeidx[nfree++] = i;
    if (total > nfree)
        die_usage("--faults: %" PRIu64 " counted faults but only %u requests can take one "
                  "(request 1 never does)", total, nfree);
    if (total) {
        /* the kinds in a seeded random order, then evenly spaced positions */
        uint64_t rng = seed ^ 0xFA017ull;
        uint8_t *kinds = xmalloc(total);
        size_t n = 0;
        for (int k = 1; k < F_COUNT_; k++)
            for (uint64_t j = 0; j < want[k]; j++)
                kinds[n++] = (uint8_t)k;
        for (size_t j = total - 1; j > 0; j--) {
            size_t r = splitmix64(&rng) % (j + 1);
            uint8_t t = kinds[j];
            kinds[j] = kinds[r];
            kinds[r] = t;
        }
        uint64_t gap = nfree / total;
        uint64_t off = splitmix64(&rng) % gap;
        for (uint64_t j = 0; j < total; j++)
            fault[freeidx[j * nfree / total + off]] = kinds[j];
        free(kinds);
    }
    free(freeidx);
    return fault;
}

/* ---- DER ----------------------------------------------------------------- */

/* der_len - write a DER length; returns octets written */
static size_t der_len(uint8_t *p, size_t len)
{
    if (len < 0x80) {
        p[0] = (uint8_t)len;
        return 1;
    }
    if (len < 0x100) {
        p[0] = 0x81;
        p[1] = (uint8_t)len;
        return 2;
    }
    p[0] = 0x82;
    p[1] = (uint8_t)(len >> 8);
    p[2] = (uint8_t)len;
    return 3;
}

/* cri_write - CertificationRequestInfo { 0, empty subject, spki, attrs(serial) } */
static size_t cri_write(uint8_t *out, const uint8_t *spki, size_t spki_len,
                        const uint8_t serial[8])
{
    size_t content = 3 + 2 + spki_len + sizeof ATTRS, n = 0;
    out[n++] = 0x30;
    n += der_len(out + n, content);
    static const uint8_t version_subject[] = {0x02, 0x01, 0x00, 0x30, 0x00};
    memcpy(out + n, version_subject, sizeof version_subject);
    n += sizeof version_subject;
    memcpy(out + n, spki, spki_len);
    n += spki_len;
    memcpy(out + n, ATTRS, sizeof ATTRS);
    memcpy(out + n + ATTRS_SERIAL_OFF, serial, 8);
    return n + sizeof ATTRS;
}

/* csr_write - CertificationRequest { cri, alg, BIT STRING sig } into out */
static size_t csr_write(uint8_t *out, const uint8_t *cri, size_t cri_len,
                        const uint8_t *alg, size_t alg_len,
                        const uint8_t *sig, size_t sig_len)
{
    uint8_t bs[4];
    size_t bs_hdr = 1;
    bs[0] = 0x03;
    bs_hdr += der_len(bs + 1, sig_len + 1);
    bs[bs_hdr++] = 0x00;                       /* no unused bits */
    size_t content = cri_len + alg_len + bs_hdr + sig_len, n = 0;
    out[n++] = 0x30;
    n += der_len(out + n, content);
    memcpy(out + n, cri, cri_len);
    n += cri_len;
    memcpy(out + n, alg, alg_len);
    n += alg_len;
    memcpy(out + n, bs, bs_hdr);
    n += bs_hdr;
    memcpy(out + n, sig, sig_len);
    return n + sig_len;
}

/* ---- workers ------------------------------------------------------------- */

/* keygen_ctx - a reusable key generation context for an EC group */
static EVP_PKEY_CTX *keygen_ctx(const char *group)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!c || EVP_PKEY_keygen_init(c) <= 0 || EVP_PKEY_CTX_set_group_name(c, group) <= 0)
        die("cannot set up %s key generation", group);
    return c;
}

/* keygen - a fresh key from a reusable context, or NULL */
static EVP_PKEY *keygen(EVP_PKEY_CTX *c)
{
    EVP_PKEY *k = NULL;
    if (EVP_PKEY_keygen(c, &k) <= 0)
        return NULL;
    return k;
}

/* wctx_init - the thread's OpenSSL objects */
static int wctx_init(struct wctx *c)
{
    memset(c, 0, sizeof *c);
    c->kgen256 = keygen_ctx("P-256");
    c->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    c->sha384 = EVP_MD_fetch(NULL, "SHA384", NULL);
    c->other = keygen(c->kgen256);
    return c->sha256 && c->sha384 && c->other ? 0 : -1;
}

/* wctx_free - release what wctx_init made */
static void wctx_free(struct wctx *c)
{
    EVP_PKEY_CTX_free(c->kgen256);
    EVP_PKEY_CTX_free(c->kgen384);
    EVP_MD_free(c->sha256);
    EVP_MD_free(c->sha384);
    EVP_PKEY_free(c->other);
}

/* put_be64 - 8 big-endian octets */
static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* buf_append - add len bytes to the worker's XML buffer */
static inline void buf_append(struct worker *w, const char *s, size_t len)
{
    if (w->len + len > w->cap) {
        w->cap = (w->len + len) * 2;
        w->buf = xrealloc(w->buf, w->cap);
    }
    memcpy(w->buf + w->len, s, len);
    w->len += len;
}
#define APPEND_LIT(w, lit) buf_append((w), (lit), sizeof(lit) - 1)

/* csr_make - build request i (with its fault) and append its CSR element;
 * 0, or -1 with w->errmsg set */
static int csr_make(struct worker *w, struct wctx *c, uint32_t i)
{
    const struct gen *g = w->g;
    enum fault kind = (enum fault)g->fault[i];
    uint8_t dev[8], hw[8], pt[133], spki[160], cri[320], dgst[64], sig[128];
    uint8_t der[DER_MAX + 2];
    char b64[(DER_MAX + 2) / 3 * 4 + 8], devtext[EUI64_TEXT_LEN + 1], idtext[16];
    size_t ptlen = 0, spki_len, cri_len, sig_len = sizeof sig, der_n;
    unsigned int dlen = 0;
    const char *op = NULL;
    EVP_PKEY *key, *own = NULL;
    EVP_PKEY_CTX *sctx = NULL;

    put_be64(dev, kind == F_DUP_REQUEST ? g->base : g->base + (i - 1));
    memcpy(hw, dev, 8);
    if (kind == F_ID_MISMATCH)
        hw[7] ^= 0x01;

    if (i == 1 || kind == F_DUP_KEY) {
        key = w->refkey;
    } else if (kind == F_KEY_TYPE) {
        if (!c->kgen384)
            c->kgen384 = keygen_ctx("P-384");
        key = own = keygen(c->kgen384);
    } else {
        key = own = keygen(c->kgen256);
    }
    if (!key) {
        op = "key generation";
        goto fail;
    }
    if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt, &ptlen) <= 0 ||
        ptlen != (kind == F_KEY_TYPE ? 97u : 65u) || pt[0] != 0x04) {
        op = "reading the public point";
        goto fail;
    }

    switch (kind) {
    case F_KEY_TYPE:
        memcpy(spki, SPKI_P384, sizeof SPKI_P384);
        memcpy(spki + sizeof SPKI_P384, pt, 97);
        spki_len = sizeof SPKI_P384 + 97;
        break;
    case F_KEY_COMPRESSED:
        memcpy(spki, SPKI_P256_COMPRESSED, sizeof SPKI_P256_COMPRESSED);
        spki[sizeof SPKI_P256_COMPRESSED] = (uint8_t)(0x02 | (pt[64] & 1));
        memcpy(spki + sizeof SPKI_P256_COMPRESSED + 1, pt + 1, 32);
        spki_len = sizeof SPKI_P256_COMPRESSED + 33;
        break;
    case F_KEY_OFFCURVE:
        pt[64] ^= 0x01;   /* (X, Y^1) is on the curve only if Y = (p +- 1)/2 */
        /* fall through */
    default:
        memcpy(spki, SPKI_P256, sizeof SPKI_P256);
        memcpy(spki + sizeof SPKI_P256, pt, 65);
        spki_len = sizeof SPKI_P256 + 65;
        break;
    }
    cri_len = cri_write(cri, spki, spki_len, hw);

    if (!EVP_Digest(cri, cri_len, dgst, &dlen, kind == F_SIG_ALG ? c->sha384 : c->sha256, NULL)) {
        op = "digest";
        goto fail;
    }
    sctx = EVP_PKEY_CTX_new_from_pkey(NULL, kind == F_SIGNATURE ? c->other : key, NULL);
    if (!sctx || EVP_PKEY_sign_init(sctx) <= 0 ||
        EVP_PKEY_sign(sctx, sig, &sig_len, dgst, dlen) <= 0) {
        op = "signing";
        goto fail;
    }
    EVP_PKEY_CTX_free(sctx);
    sctx = NULL;
    EVP_PKEY_free(own);
    own = NULL;

    if (kind == F_SIG_ALG)
        der_n = csr_write(der, cri, cri_len, ALG_ECDSA_SHA384, sizeof ALG_ECDSA_SHA384, sig, sig_len);
    else
        der_n = csr_write(der, cri, cri_len, ALG_ECDSA_SHA256, sizeof ALG_ECDSA_SHA256, sig, sig_len);
    if (kind == F_DER_TRAILING) {
        der[der_n++] = 0x00;
        der[der_n++] = 0x00;
    } else if (kind == F_DER_TRUNCATED) {
        der_n -= 10;
    }
    if (i == 1) {
        memcpy(w->der1, der, der_n);
        w->der1_len = der_n;
    }
    int b64_n = EVP_EncodeBlock((unsigned char *)b64, der, (int)der_n);
    if (kind == F_BASE64)
        b64[b64_n / 2] = '*';

    if (kind == F_DEVICE_ID)
        memcpy(devtext, "00-00-00-00-00-00-00-00", EUI64_TEXT_LEN + 1);
    else if (kind == F_DEVICE_ID_SYNTAX)
        memcpy(devtext, "XYZ", 4);
    else
        eui64_format(dev, devtext);
    int id_n = snprintf(idtext, sizeof idtext, "%" PRIu32, i);
    const char *usage = kind == F_USAGE ? "XX" : (i & 1) || kind == F_DUP_REQUEST ? "DS" : "KA";

    APPEND_LIT(w, "    <CSR>\n      <RequestID>");
    buf_append(w, idtext, (size_t)id_n);
    APPEND_LIT(w, "</RequestID>\n      <DeviceID>");
    buf_append(w, devtext, strlen(devtext));
    APPEND_LIT(w, "</DeviceID>\n      <CertificateUsage>");
    buf_append(w, usage, 2);
    APPEND_LIT(w, "</CertificateUsage>\n      <CSRBody>");
    buf_append(w, b64, (size_t)b64_n);
    APPEND_LIT(w, "</CSRBody>\n    </CSR>\n");
    return 0;

fail:
    EVP_PKEY_CTX_free(sctx);
    EVP_PKEY_free(own);
    snprintf(w->errmsg, sizeof w->errmsg, "request %" PRIu32 ": %s failed", i, op);
    return -1;
}

/* worker_run - thread body: requests first..last into w->buf */
static void *worker_run(void *arg)
{
    struct worker *w = arg;
    struct wctx c;

    if (wctx_init(&c) < 0) {
        snprintf(w->errmsg, sizeof w->errmsg, "cannot set up OpenSSL objects");
        w->failed = 1;
    }
    for (uint32_t i = w->first; !w->failed && i <= w->last; i++)
        if (csr_make(w, &c, i) < 0)
            w->failed = 1;
    if (w->failed)
        ERR_print_errors_fp(stderr);
    wctx_free(&c);
    return NULL;
}

/* ---- output -------------------------------------------------------------- */

/* write_all - the whole buffer to fd; 0 or -errno */
static int write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* out_open - FILE.tmp (or stdout when path is NULL); exits 1 on failure */
static int out_open(const char *path, char **tmp)
{
    *tmp = NULL;
    if (!path)
        return STDOUT_FILENO;
    size_t n = strlen(path) + 5;
    *tmp = xmalloc(n);
    snprintf(*tmp, n, "%s.tmp", path);
    int fd = open(*tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        die("%s: cannot create: %s", *tmp, strerror(errno));
    return fd;
}

/* out_close - close and rename FILE.tmp to FILE; exits 1 on failure */
static void out_close(int fd, const char *path, char *tmp, int werr)
{
    if (!path) {
        if (werr)
            die("stdout: write failed: %s", strerror(-werr));
        return;
    }
    if (werr) {
        unlink(tmp);
        die("%s: write failed: %s", tmp, strerror(-werr));
    }
    if (close(fd) < 0) {
        unlink(tmp);
        die("%s: close failed: %s", tmp, strerror(errno));
    }
    if (rename(tmp, path) < 0) {
        unlink(tmp);
        die("%s: cannot rename to %s: %s", tmp, path, strerror(errno));
    }
    free(tmp);
}

/* write_small - write a small file whole (expect TSV, raw DER); exits 1 on failure */
static void write_small(const char *path, const void *p, size_t len)
{
    char *tmp;
    int fd = out_open(path, &tmp);
    out_close(fd, path, tmp, write_all(fd, p, len));
}

/* now_s - monotonic seconds */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* valid_batch_id - [A-Za-z0-9._-]{1,64} */
static int valid_batch_id(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= 64 &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* parse_opts - the command line into o; exits 0 for --help, 2 on errors */
static void parse_opts(int argc, char **argv, struct opts *o)
{
    enum { O_COUNT = 256, O_PARTY, O_BATCH, O_OUT, O_FAULTS, O_SEED, O_THREADS,
           O_HEADER_COUNT, O_DEVICE_BASE, O_EXPECT, O_RAW_DER, O_HELP };
    static const struct option lo[] = {
        {"count", required_argument, NULL, O_COUNT},
        {"party", required_argument, NULL, O_PARTY},
        {"batch", required_argument, NULL, O_BATCH},
        {"out", required_argument, NULL, O_OUT},
        {"faults", required_argument, NULL, O_FAULTS},
        {"seed", required_argument, NULL, O_SEED},
        {"threads", required_argument, NULL, O_THREADS},
        {"header-count", required_argument, NULL, O_HEADER_COUNT},
        {"device-base", required_argument, NULL, O_DEVICE_BASE},
        {"expect", required_argument, NULL, O_EXPECT},
        {"raw-der", required_argument, NULL, O_RAW_DER},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0}};
    uint8_t id[8];
    int ch;

    memset(o, 0, sizeof *o);
    o->party = "90-B3-D5-1F-30-01-00-00";
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
        switch (ch) {
        case O_COUNT:
            o->count = (uint32_t)parse_u64(optarg, 0, COUNT_MAX, "--count");
            o->have_count = 1;
            break;
        case O_PARTY:
            if (eui64_parse(optarg, strlen(optarg), id) < 0)
                die_usage("--party: '%s' is not an EUI-64 (00-DB-12-34-56-78-90-A4 or 16 hex digits)",
                          optarg);
            o->party = optarg;
            break;
        case O_BATCH:
            if (!valid_batch_id(optarg))
                die_usage("--batch: '%s' is not [A-Za-z0-9._-]{1,64}", optarg);
            o->batch = optarg;
            break;
        case O_OUT:      o->out = optarg; break;
        case O_FAULTS:   o->faults = optarg; break;
        case O_EXPECT:   o->expect = optarg; break;
        case O_RAW_DER:  o->raw_der = optarg; break;
        case O_SEED:
            o->seed = parse_u64(optarg, 0, UINT64_MAX, "--seed");
            o->have_seed = 1;
            break;
        case O_THREADS:
            o->threads = (unsigned)parse_u64(optarg, 1, THREADS_MAX, "--threads");
            break;
        case O_HEADER_COUNT:
            o->header_count = parse_u64(optarg, 0, UINT32_MAX, "--header-count");
            o->have_header_count = 1;
            break;
        case O_DEVICE_BASE:
            if (eui64_parse(optarg, strlen(optarg), id) < 0)
                die_usage("--device-base: '%s' is not 16 hex digits (or XX-XX-..-XX)", optarg);
            o->base = 0;
            for (int i = 0; i < 8; i++)
                o->base = o->base << 8 | id[i];
            o->have_base = 1;
            break;
        case O_HELP:
            usage(stdout);
            exit(0);
        case ':':
            die_usage("%s needs a value", argv[optind - 1]);
        default:
            die_usage("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        die_usage("unexpected argument '%s'", argv[optind]);
    if (!o->have_count)
        die_usage("--count is required");
    if (o->raw_der && o->count == 0)
        die_usage("--raw-der needs at least one request");
}

/* main - options, fault plan, workers, output in order, timing */
int main(int argc, char **argv)
{
    struct opts o;
    char batch_default[32];

    parse_opts(argc, argv, &o);
    if (!o.have_seed && RAND_bytes((unsigned char *)&o.seed, sizeof o.seed) != 1)
        die("RAND_bytes failed");
    if (!o.batch) {
        snprintf(batch_default, sizeof batch_default, "GEN-%" PRIu32, o.count);
        o.batch = batch_default;
    }
    if (!o.have_base) {
        uint64_t s = o.seed;
        o.base = 0x00DB000000000000ull | (splitmix64(&s) & 0xFFFFFFull) << 24;
    }
    /* every DeviceID must be a valid EUI-64: neither all zeros nor all ones */
    if (o.count && (o.base == 0 || o.base + (o.count - 1) < o.base ||
                    o.base + (o.count - 1) == UINT64_MAX))
        die_usage("--device-base: %016" PRIX64 " + %" PRIu32 " requests reaches 0 or all ones",
                  o.base, o.count);

    struct gen g = {.count = o.count, .base = o.base,
                    .fault = plan_faults(o.faults, o.count, o.seed)};
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned nthreads = o.threads ? o.threads : cores > 0 ? (unsigned)cores : 1;
    if (nthreads > THREADS_MAX)
        nthreads = THREADS_MAX;
    if (nthreads > o.count)
        nthreads = o.count ? o.count : 1;

    double t0 = now_s();
    /* request 1's key, which dup_key requests reuse: one copy per worker */
    EVP_PKEY_CTX *kc = keygen_ctx("P-256");
    EVP_PKEY *refkey = keygen(kc);
    if (!refkey)
        die("cannot generate the key of request 1");
    EVP_PKEY_CTX_free(kc);

    struct worker *w = xcalloc(nthreads, sizeof *w);
    pthread_t *tid = xcalloc(nthreads, sizeof *tid);
    for (unsigned t = 0; t < nthreads; t++) {
        w[t].g = &g;
        w[t].first = (uint32_t)((uint64_t)o.count * t / nthreads) + 1;
        w[t].last = (uint32_t)((uint64_t)o.count * (t + 1) / nthreads);
        w[t].cap = (size_t)(w[t].last - w[t].first + 1) * 560 + 4096;
        w[t].buf = xmalloc(w[t].cap);
        w[t].refkey = EVP_PKEY_dup(refkey);
        if (!w[t].refkey)
            die("cannot copy the key of request 1");
        int rc = pthread_create(&tid[t], NULL, worker_run, &w[t]);
        if (rc)
            die("pthread_create: %s", strerror(rc));
    }
    int failed = 0;
    for (unsigned t = 0; t < nthreads; t++) {
        pthread_join(tid[t], NULL);
        if (w[t].failed) {
            fprintf(stderr, "%s: %s\n", prog, w[t].errmsg);
            failed = 1;
        }
    }
    if (failed)
        die("generation failed");
    double t1 = now_s();

    /* the file, in request order */
    char head[512];
    int head_n = snprintf(head, sizeof head,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<BatchedCSRRequest xmlns=\"urn:smki:batched-csr:1\">\n"
        "  <Header>\n"
        "    <BatchID>%s</BatchID>\n"
        "    <PartyID>%s</PartyID>\n"
        "    <CSRCount>%" PRIu64 "</CSRCount>\n"
        "  </Header>\n"
        "  <CSRs>\n",
        o.batch, o.party, o.have_header_count ? o.header_count : (uint64_t)o.count);
    static const char tail[] = "  </CSRs>\n</BatchedCSRRequest>\n";
    char *tmp;
    size_t total = (size_t)head_n + sizeof tail - 1;
    int fd = out_open(o.out, &tmp);
    int werr = write_all(fd, head, (size_t)head_n);
    for (unsigned t = 0; t < nthreads && !werr; t++) {
        werr = write_all(fd, w[t].buf, w[t].len);
        total += w[t].len;
    }
    if (!werr)
        werr = write_all(fd, tail, sizeof tail - 1);
    out_close(fd, o.out, tmp, werr);

    uint32_t nfaulty = 0;
    for (uint32_t i = 1; i <= o.count; i++)
        nfaulty += g.fault[i] != F_NONE;
    if (o.expect) {
        char *tsv = xmalloc((size_t)o.count * 32 + 1);
        size_t n = 0;
        for (uint32_t i = 1; i <= o.count; i++)
            n += (size_t)sprintf(tsv + n, "%" PRIu32 "\t%s\n", i, FAULTS[g.fault[i]].code);
        write_small(o.expect, tsv, n);
        free(tsv);
    }
    if (o.raw_der)
        write_small(o.raw_der, w[0].der1, w[0].der1_len);
    double t2 = now_s();

    fprintf(stderr,
            "%s: %" PRIu32 " CSRs (%" PRIu32 " with faults) in %.3f s: generated in %.3f s on %u "
            "thread%s (%.0f CSR/s), %.1f MB written in %.3f s; seed %" PRIu64 ", device base %016"
            PRIX64 "\n",
            prog, o.count, nfaulty, t2 - t0, t1 - t0, nthreads, nthreads == 1 ? "" : "s",
            t1 > t0 ? o.count / (t1 - t0) : 0.0, total / 1e6, t2 - t1, o.seed, o.base);

    for (unsigned t = 0; t < nthreads; t++) {
        EVP_PKEY_free(w[t].refkey);
        free(w[t].buf);
    }
    free(w);
    free(tid);
    EVP_PKEY_free(refkey);
    free((void *)g.fault);
    return 0;
}
