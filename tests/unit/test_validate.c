/* test_validate.c - unit tests of validate_request (stages/validate.c): one
 * table row per fault kind of SPEC.md section 5, each asserting the exact
 * code, plus precedence cases, key-staleness (each CSR verified with its
 * own key), a chunk of every row validated together (validate_chunk) giving
 * the same verdicts and texts as one at a time, truncation and mutation
 * sweeps.
 *
 * CSRs are built here: some with OpenSSL's X509_REQ API (what real tools
 * make), most with a small DER builder so that one field at a time can be
 * made wrong while the rest stays right (and correctly signed).
 * Set SMKI_VALIDATE_BENCH=N to print the µs per CSR of N validations, and
 * SMKI_VALIDATE_VERBOSE=1 to print each row's code and errtext. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "b64.h"
#include "der.h"
#include "popcache.h"
#include "validate.h"

/* ---- a tiny DER builder -------------------------------------------------- */

struct buf {
    uint8_t d[6000];
    size_t n;
};

/* put - append raw octets */
static void put(struct buf *b, const void *p, size_t n)
{
    assert_true(b->n + n <= sizeof b->d);
    memcpy(b->d + b->n, p, n);
    b->n += n;
}

/* put_len - a minimal DER length */
static void put_len(struct buf *b, size_t n)
{
    uint8_t h[5];
    size_t k = 0;
    if (n < 0x80) {
        h[k++] = (uint8_t)n;
    } else if (n < 0x100) {
        h[k++] = 0x81;
        h[k++] = (uint8_t)n;
    } else {
        h[k++] = 0x82;
        h[k++] = (uint8_t)(n >> 8);
        h[k++] = (uint8_t)n;
    }
    put(b, h, k);
}

/* put_tlv - append tag, length, value */
static void put_tlv(struct buf *b, uint8_t tag, const void *v, size_t n)
{
    put(b, &tag, 1);
    put_len(b, n);
    put(b, v, n);
}

/* wrap - turn the whole of b into the content of one TLV */
static void wrap(struct buf *b, uint8_t tag)
{
    struct buf t = {.n = 0};
    put_tlv(&t, tag, b->d, b->n);
    *b = t;
}

/* put_buf - append another buffer */
static void put_buf(struct buf *b, const struct buf *x)
{
    put(b, x->d, x->n);
}

#define OCT(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

static const uint8_t O_ECDSA_SHA1[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01};
static const uint8_t O_ECDSA_SHA256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
static const uint8_t O_ECDSA_SHA384[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};
static const uint8_t O_EC_PUBKEY[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const uint8_t O_P256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t O_P384[] = {0x2b, 0x81, 0x04, 0x00, 0x22};
static const uint8_t O_EXT_REQ[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0e};
static const uint8_t O_CHALLENGE[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x07};
static const uint8_t O_SAN[] = {0x55, 0x1d, 0x11};
static const uint8_t O_KU[] = {0x55, 0x1d, 0x0f};
static const uint8_t O_HWMN[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x08, 0x04};
static const uint8_t O_HWTYPE[] = {0x88, 0x37, 0x01};           /* 2.999.1 */
static const uint8_t O_CN[] = {0x55, 0x04, 0x03};
static const uint8_t O_SERIALNUMBER[] = {0x55, 0x04, 0x05};

#define DEVICE_TEXT "00-DB-12-34-56-78-90-A4"
static const uint8_t DEVICE[8] = {0x00, 0xdb, 0x12, 0x34, 0x56, 0x78, 0x90, 0xa4};
static const uint8_t OTHER_DEVICE[8] = {0x00, 0xdb, 0x12, 0x34, 0x56, 0x78, 0x90, 0xa5};

/* Keys made once for the whole run */
static EVP_PKEY *key_a, *key_b, *key_p384, *key_rsa, *key_ed25519, *key_explicit;

/* point_of - the uncompressed point of a P-256 key */
static size_t point_of(EVP_PKEY *k, uint8_t pt[65])
{
    size_t n = 0;
    assert_int_equal(EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                                     pt, 65, &n), 1);
    assert_int_equal(n, 65);
    assert_int_equal(pt[0], 0x04);
    return n;
}

/* spki_ec - SubjectPublicKeyInfo for an EC point on a named curve */
static void spki_ec(struct buf *b, const uint8_t *pt, size_t n, const uint8_t *curve, size_t cl)
{
    struct buf alg = {.n = 0}, bits = {.n = 0};
    put_tlv(&alg, DER_OID, O_EC_PUBKEY, sizeof O_EC_PUBKEY);
    if (curve)
        put_tlv(&alg, DER_OID, curve, cl);
    wrap(&alg, DER_SEQUENCE);
    put(&bits, OCT(0x00));
    put(&bits, pt, n);
    wrap(&bits, DER_BIT_STRING);
    b->n = 0;
    put_buf(b, &alg);
    put_buf(b, &bits);
    wrap(b, DER_SEQUENCE);
}

/* spki_of - OpenSSL's own SubjectPublicKeyInfo encoding of a key */
static void spki_of(struct buf *b, EVP_PKEY *k)
{
    unsigned char *p = b->d;
    int n = i2d_PUBKEY(k, NULL);
    assert_true(n > 0 && (size_t)n <= sizeof b->d);
    assert_int_equal(i2d_PUBKEY(k, &p), n);
    b->n = (size_t)n;
}

/* algid - AlgorithmIdentifier with optional raw parameters */
static void algid(struct buf *b, const uint8_t *oid, size_t n, const void *params, size_t pl)
{
    b->n = 0;
    put_tlv(b, DER_OID, oid, n);
    if (params)
        put(b, params, pl);
    wrap(b, DER_SEQUENCE);
}

/* san_hw - GeneralNames with one hardwareModuleName (optionally preceded by
 * a dNSName, optionally a second hardwareModuleName) */
static void san_hw(struct buf *b, const uint8_t *serial, size_t sl, const uint8_t *serial2,
                   size_t sl2, int with_dns)
{
    b->n = 0;
    if (with_dns)
        put_tlv(b, DER_CONTEXT(2), "meter.example", 13);
    for (int i = 0; i < 2; i++) {
        const uint8_t *s = i ? serial2 : serial;
        size_t l = i ? sl2 : sl;
        if (!s)
            continue;
        struct buf hw = {.n = 0}, on = {.n = 0};
        put_tlv(&hw, DER_OID, O_HWTYPE, sizeof O_HWTYPE);
        put_tlv(&hw, DER_OCTET_STRING, s, l);
        wrap(&hw, DER_SEQUENCE);
        wrap(&hw, DER_CONTEXT_CONS(0));
        put_tlv(&on, DER_OID, O_HWMN, sizeof O_HWMN);
        put_buf(&on, &hw);
        wrap(&on, DER_CONTEXT_CONS(0));
        put_buf(b, &on);
    }
    wrap(b, DER_SEQUENCE);
}

/* ext - one Extension; crit < 0 leaves the BOOLEAN out */
static void ext(struct buf *b, const uint8_t *oid, size_t ol, int crit, const struct buf *val)
{
    struct buf e = {.n = 0};
    put_tlv(&e, DER_OID, oid, ol);
    if (crit >= 0)
        put(&e, (const uint8_t[]){0x01, 0x01, crit ? 0xff : 0x00}, 3);
    put_tlv(&e, DER_OCTET_STRING, val->d, val->n);
    wrap(&e, DER_SEQUENCE);
    put_buf(b, &e);
}

/* attrs_ext - [0] { extensionRequest { Extensions(exts) } } */
static void attrs_ext(struct buf *b, const struct buf *exts)
{
    struct buf a = {.n = 0}, e = *exts;
    wrap(&e, DER_SEQUENCE);
    wrap(&e, DER_SET);
    put_tlv(&a, DER_OID, O_EXT_REQ, sizeof O_EXT_REQ);
    put_buf(&a, &e);
    wrap(&a, DER_SEQUENCE);
    wrap(&a, DER_CONTEXT_CONS(0));
    *b = a;
}

/* attrs_hw - the usual extensionRequest: a critical subjectAltName with
 * hardwareModuleName serial */
static void attrs_hw(struct buf *b, const uint8_t *serial, size_t sl)
{
    struct buf san, exts = {.n = 0};
    san_hw(&san, serial, sl, NULL, 0, 0);
    ext(&exts, O_SAN, sizeof O_SAN, 1, &san);
    attrs_ext(b, &exts);
}

/* ---- CSR parts and assembly --------------------------------------------- */

struct parts {
    struct buf version, subject, spki, attrs, cri_extra, sigalg, tail;
    EVP_PKEY *signer;
    const char *md;          /* NULL: sign without a digest (Ed25519) */
    int sig_mode;            /* see SIG_* */
    struct buf sig_raw;      /* SIG_RAW: the BIT STRING content after 00 */
    uint8_t sig_unused;      /* unused-bit octet of the signature */
};

enum { SIG_NORMAL, SIG_CORRUPT, SIG_RAW, SIG_APPEND_ZERO };

/* parts_default - a good CSR for key k, no extensions */
static void parts_default(struct parts *p, EVP_PKEY *k)
{
    memset(p, 0, sizeof *p);
    put(&p->version, OCT(0x02, 0x01, 0x00));
    struct buf atv = {.n = 0};
    put_tlv(&atv, DER_OID, O_CN, sizeof O_CN);
    put_tlv(&atv, DER_UTF8_STRING, "meter", 5);
    wrap(&atv, DER_SEQUENCE);
    wrap(&atv, DER_SET);
    wrap(&atv, DER_SEQUENCE);
    p->subject = atv;
    uint8_t pt[65];
    point_of(k, pt);
    spki_ec(&p->spki, pt, 65, O_P256, sizeof O_P256);
    put(&p->attrs, OCT(0xa0, 0x00));
    algid(&p->sigalg, O_ECDSA_SHA256, sizeof O_ECDSA_SHA256, NULL, 0);
    p->signer = k;
    p->md = "SHA256";
}

/* sign_bytes - DER signature of data with key k and digest md */
static size_t sign_bytes(EVP_PKEY *k, const char *md, const uint8_t *data, size_t n,
                         uint8_t *sig, size_t cap)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    size_t sl = cap;
    assert_int_equal(EVP_DigestSignInit_ex(m, NULL, md, NULL, NULL, k, NULL), 1);
    assert_int_equal(EVP_DigestSign(m, sig, &sl, data, n), 1);
    EVP_MD_CTX_free(m);
    return sl;
}

/* assemble - the DER of the CertificationRequest described by p */
static void assemble(const struct parts *p, struct buf *out)
{
    struct buf cri = {.n = 0}, sig = {.n = 0};
    put_buf(&cri, &p->version);
    put_buf(&cri, &p->subject);
    put_buf(&cri, &p->spki);
    put_buf(&cri, &p->attrs);
    put_buf(&cri, &p->cri_extra);
    wrap(&cri, DER_SEQUENCE);

    put(&sig, &p->sig_unused, 1);
    if (p->sig_mode == SIG_RAW) {
        put_buf(&sig, &p->sig_raw);
    } else {
        uint8_t s[1024];
        size_t sl = sign_bytes(p->signer, p->md, cri.d, cri.n, s, sizeof s);
        if (p->sig_mode == SIG_CORRUPT)
            s[sl / 2] ^= 0x01;   /* inside r or s: the DER stays valid */
        put(&sig, s, sl);
        if (p->sig_mode == SIG_APPEND_ZERO)
            put(&sig, OCT(0x00));
    }
    wrap(&sig, DER_BIT_STRING);

    out->n = 0;
    put_buf(out, &cri);
    put_buf(out, &p->sigalg);
    put_buf(out, &sig);
    wrap(out, DER_SEQUENCE);
    put_buf(out, &p->tail);
}

/* to_b64 - base64 text (NUL-terminated) of DER */
static char *to_b64(const uint8_t *der, size_t n)
{
    char *t = malloc(B64_ENCODED_LEN(n) + 1);
    assert_non_null(t);
    ptrdiff_t m = b64_encode(der, n, t, B64_ENCODED_LEN(n));
    assert_true(m >= 0);
    t[m] = '\0';
    return t;
}

/* x509_req_der - a CSR made by OpenSSL's X509_REQ API: subject CN and O, and
 * optionally an extensionRequest with a subjectAltName hardwareModuleName */
static void x509_req_der(EVP_PKEY *k, const char *md, const uint8_t *serial, struct buf *out)
{
    X509_REQ *r = X509_REQ_new();
    X509_NAME *name = X509_NAME_new();
    assert_int_equal(X509_REQ_set_version(r, 0), 1);
    assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                                (const unsigned char *)"meter", -1, -1, 0), 1);
    assert_int_equal(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                                (const unsigned char *)"ACME Meters", -1, -1, 0), 1);
    assert_int_equal(X509_REQ_set_subject_name(r, name), 1);
    assert_int_equal(X509_REQ_set_pubkey(r, k), 1);
    if (serial) {
        struct buf san;
        san_hw(&san, serial, 8, NULL, 0, 1);
        ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
        assert_int_equal(ASN1_OCTET_STRING_set(os, san.d, (int)san.n), 1);
        X509_EXTENSION *ex = X509_EXTENSION_create_by_NID(NULL, NID_subject_alt_name, 1, os);
        assert_non_null(ex);
        STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
        sk_X509_EXTENSION_push(exts, ex);
        assert_int_equal(X509_REQ_add_extensions(r, exts), 1);
        sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
        ASN1_OCTET_STRING_free(os);
    }
    const EVP_MD *d = md ? EVP_get_digestbyname(md) : NULL;
    assert_true(X509_REQ_sign(r, k, d) > 0);
    unsigned char *p = out->d;
    int n = i2d_X509_REQ(r, NULL);
    assert_true(n > 0 && (size_t)n <= sizeof out->d);
    i2d_X509_REQ(r, &p);
    out->n = (size_t)n;
    X509_NAME_free(name);
    X509_REQ_free(r);
}

/* ---- running one request ------------------------------------------------- */

static struct validate_ctx *vctx;

/* run_b64 - validate one request given as text */
static enum req_code run_b64(struct request *req, const char *device, const char *usage,
                             const char *b64, size_t len)
{
    memset(req, 0, sizeof *req);
    snprintf(req->device_text, sizeof req->device_text, "%s", device);
    snprintf(req->usage_text, sizeof req->usage_text, "%s", usage);
    strcpy(req->errtext, "stale text");
    req->code = RC_INTERNAL;
    enum req_code rc = validate_request(vctx, req, b64, len);
    assert_int_equal(rc, req->code);
    /* errtext: one printable ASCII line, empty exactly for RC_OK */
    for (const char *c = req->errtext; *c; c++)
        assert_true(*c >= 0x20 && *c < 0x7f);
    if (rc == RC_OK)
        assert_string_equal(req->errtext, "");
    else
        assert_true(strlen(req->errtext) > 5);
    return rc;
}

/* run_der - validate DER (base64-encoded here) */
static enum req_code run_der(struct request *req, const char *device, const char *usage,
                             const uint8_t *der, size_t n)
{
    char *t = to_b64(der, n);
    enum req_code rc = run_b64(req, device, usage, t, strlen(t));
    free(t);
    return rc;
}

/* ---- the table ------------------------------------------------------------ */

struct row {
    const char *label;
    void (*build)(struct parts *p);        /* NULL: the default good CSR */
    void (*post)(struct buf *der);         /* mutate the finished DER */
    const char *b64;                       /* verbatim CSRBody instead */
    const char *device;                    /* NULL: DEVICE_TEXT */
    const char *usage;                     /* NULL: "DS" */
    enum req_code want;
    const char *errpart;                   /* expected in errtext, if set */
};

/* builders: each changes one thing of the default */
static void b_hw_match(struct parts *p) { attrs_hw(&p->attrs, DEVICE, 8); }
static void b_hw_mismatch(struct parts *p) { attrs_hw(&p->attrs, OTHER_DEVICE, 8); }
static void b_hw_short(struct parts *p) { attrs_hw(&p->attrs, DEVICE, 7); }
static void b_hw_second_mismatch(struct parts *p)
{
    struct buf san, exts = {.n = 0};
    san_hw(&san, DEVICE, 8, OTHER_DEVICE, 8, 1);
    ext(&exts, O_SAN, sizeof O_SAN, 1, &san);
    attrs_ext(&p->attrs, &exts);
}
static void b_hw_noncritical_with_dns(struct parts *p)
{
    struct buf san, exts = {.n = 0};
    san_hw(&san, DEVICE, 8, NULL, 0, 1);
    ext(&exts, O_SAN, sizeof O_SAN, -1, &san);
    attrs_ext(&p->attrs, &exts);
}
static void b_san_dns_only(struct parts *p)
{
    struct buf san, exts = {.n = 0};
    san_hw(&san, NULL, 0, NULL, 0, 1);
    ext(&exts, O_SAN, sizeof O_SAN, -1, &san);
    attrs_ext(&p->attrs, &exts);
}
static void b_subject_other_serial(struct parts *p)
{
    struct buf atv = {.n = 0};
    put_tlv(&atv, DER_OID, O_SERIALNUMBER, sizeof O_SERIALNUMBER);
    put_tlv(&atv, DER_PRINTABLE_STRING, "00DB1234567890A5", 16);
    wrap(&atv, DER_SEQUENCE);
    wrap(&atv, DER_SET);
    wrap(&atv, DER_SEQUENCE);
    p->subject = atv;
}
static void b_empty_subject(struct parts *p)
{
    p->subject.n = 0;
    put(&p->subject, OCT(0x30, 0x00));
}
static void b_challenge_and_ku(struct parts *p)
{
    /* a challengePassword attribute, then extensionRequest with keyUsage and SAN */
    struct buf a = {.n = 0}, v = {.n = 0}, ku = {.n = 0}, san, exts = {.n = 0};
    put_tlv(&v, DER_UTF8_STRING, "secret", 6);
    wrap(&v, DER_SET);
    put_tlv(&a, DER_OID, O_CHALLENGE, sizeof O_CHALLENGE);
    put_buf(&a, &v);
    wrap(&a, DER_SEQUENCE);
    put(&ku, OCT(0x03, 0x02, 0x07, 0x80));
    ext(&exts, O_KU, sizeof O_KU, 1, &ku);
    san_hw(&san, DEVICE, 8, NULL, 0, 0);
    ext(&exts, O_SAN, sizeof O_SAN, 1, &san);
    struct buf er;
    attrs_ext(&er, &exts);
    /* er is [0]{attr}: take its content and put the challenge before it */
    struct der_cur c, in;
    der_init(&c, er.d, er.n);
    assert_int_equal(der_enter(&c, DER_CONTEXT_CONS(0), &in, NULL), DER_OK);
    p->attrs.n = 0;
    put_buf(&p->attrs, &a);
    put(&p->attrs, in.p, der_left(&in));
    wrap(&p->attrs, DER_CONTEXT_CONS(0));
}
static void b_version1(struct parts *p) { p->version.n = 0; put(&p->version, OCT(0x02, 0x01, 0x01)); }
static void b_version_nonmin(struct parts *p)
{
    p->version.n = 0;
    put(&p->version, OCT(0x02, 0x02, 0x00, 0x00));
}
static void b_version_negative(struct parts *p)
{
    p->version.n = 0;
    put(&p->version, OCT(0x02, 0x01, 0xff));
}
static void b_no_attributes(struct parts *p) { p->attrs.n = 0; }
static void b_attrs_wrong_tag(struct parts *p) { p->attrs.n = 0; put(&p->attrs, OCT(0xa1, 0x00)); }
static void b_attr_no_value(struct parts *p)
{
    p->attrs.n = 0;
    struct buf a = {.n = 0};
    put_tlv(&a, DER_OID, O_CHALLENGE, sizeof O_CHALLENGE);
    put(&a, OCT(0x31, 0x00));
    wrap(&a, DER_SEQUENCE);
    wrap(&a, DER_CONTEXT_CONS(0));
    p->attrs = a;
}
static void b_ext_req_two_values(struct parts *p)
{
    struct buf a = {.n = 0}, vals = {.n = 0};
    put(&vals, OCT(0x30, 0x00, 0x30, 0x00));
    wrap(&vals, DER_SET);
    put_tlv(&a, DER_OID, O_EXT_REQ, sizeof O_EXT_REQ);
    put_buf(&a, &vals);
    wrap(&a, DER_SEQUENCE);
    wrap(&a, DER_CONTEXT_CONS(0));
    p->attrs = a;
}
static void b_ext_req_twice(struct parts *p)
{
    struct buf one;
    attrs_hw(&one, DEVICE, 8);
    struct der_cur c, in;
    der_init(&c, one.d, one.n);
    assert_int_equal(der_enter(&c, DER_CONTEXT_CONS(0), &in, NULL), DER_OK);
    p->attrs.n = 0;
    put(&p->attrs, in.p, der_left(&in));
    put(&p->attrs, in.p, der_left(&in));
    wrap(&p->attrs, DER_CONTEXT_CONS(0));
}
static void b_ext_crit_false(struct parts *p)
{
    struct buf san, exts = {.n = 0};
    san_hw(&san, DEVICE, 8, NULL, 0, 0);
    ext(&exts, O_SAN, sizeof O_SAN, 0, &san);
    attrs_ext(&p->attrs, &exts);
}
static void b_ext_duplicate(struct parts *p)
{
    struct buf san, exts = {.n = 0};
    san_hw(&san, DEVICE, 8, NULL, 0, 0);
    ext(&exts, O_SAN, sizeof O_SAN, 1, &san);
    ext(&exts, O_SAN, sizeof O_SAN, 1, &san);
    attrs_ext(&p->attrs, &exts);
}
static void b_hw_trailing(struct parts *p)
{
    /* hardwareModuleName SEQUENCE with an extra NULL inside */
    struct buf hw = {.n = 0}, on = {.n = 0}, exts = {.n = 0};
    put_tlv(&hw, DER_OID, O_HWTYPE, sizeof O_HWTYPE);
    put_tlv(&hw, DER_OCTET_STRING, DEVICE, 8);
    put(&hw, OCT(0x05, 0x00));
    wrap(&hw, DER_SEQUENCE);
    wrap(&hw, DER_CONTEXT_CONS(0));
    put_tlv(&on, DER_OID, O_HWMN, sizeof O_HWMN);
    put_buf(&on, &hw);
    wrap(&on, DER_CONTEXT_CONS(0));
    wrap(&on, DER_SEQUENCE);
    ext(&exts, O_SAN, sizeof O_SAN, 1, &on);
    attrs_ext(&p->attrs, &exts);
}
static void b_san_trailing(struct parts *p)
{
    struct buf san, exts = {.n = 0};
    san_hw(&san, DEVICE, 8, NULL, 0, 0);
    put(&san, OCT(0x00, 0x00));
    ext(&exts, O_SAN, sizeof O_SAN, 1, &san);
    attrs_ext(&p->attrs, &exts);
}
static void b_san_empty(struct parts *p)
{
    struct buf san = {.n = 0}, exts = {.n = 0};
    put(&san, OCT(0x30, 0x00));
    ext(&exts, O_SAN, sizeof O_SAN, 1, &san);
    attrs_ext(&p->attrs, &exts);
}
static void b_san_bad_tag(struct parts *p)
{
    struct buf san = {.n = 0}, exts = {.n = 0};
    put_tlv(&san, DER_UTF8_STRING, "x", 1);
    wrap(&san, DER_SEQUENCE);
    ext(&exts, O_SAN, sizeof O_SAN, 1, &san);
    attrs_ext(&p->attrs, &exts);
}
static void b_subject_bad_oid(struct parts *p)
{
    p->subject.n = 0;
    put(&p->subject, OCT(0x30, 0x0b, 0x31, 0x09, 0x30, 0x07, 0x06, 0x03, 0x55, 0x80, 0x03,
                         0x05, 0x00));
}
static void b_subject_empty_rdn(struct parts *p)
{
    p->subject.n = 0;
    put(&p->subject, OCT(0x30, 0x02, 0x31, 0x00));
}
static void b_cri_trailing(struct parts *p) { put(&p->cri_extra, OCT(0x05, 0x00)); }
static void b_spki_trailing(struct parts *p)
{
    uint8_t pt[65];
    point_of(p->signer, pt);
    spki_ec(&p->spki, pt, 65, O_P256, sizeof O_P256);
    /* reopen the SEQUENCE and add a NULL inside */
    struct der_cur c, in;
    der_init(&c, p->spki.d, p->spki.n);
    assert_int_equal(der_enter(&c, DER_SEQUENCE, &in, NULL), DER_OK);
    struct buf s = {.n = 0};
    put(&s, in.p, der_left(&in));
    put(&s, OCT(0x05, 0x00));
    wrap(&s, DER_SEQUENCE);
    p->spki = s;
}
static void b_sigalg_trailing(struct parts *p)
{
    p->sigalg.n = 0;
    put_tlv(&p->sigalg, DER_OID, O_ECDSA_SHA256, sizeof O_ECDSA_SHA256);
    put(&p->sigalg, OCT(0x05, 0x00, 0x05, 0x00));
    wrap(&p->sigalg, DER_SEQUENCE);
}
static void b_sig_unused_8(struct parts *p) { p->sig_unused = 8; }
static void b_sha1(struct parts *p)
{
    p->md = "SHA1";
    algid(&p->sigalg, O_ECDSA_SHA1, sizeof O_ECDSA_SHA1, NULL, 0);
}
static void b_sha384(struct parts *p)
{
    p->md = "SHA384";
    algid(&p->sigalg, O_ECDSA_SHA384, sizeof O_ECDSA_SHA384, NULL, 0);
}
static void b_sha256_null_params(struct parts *p)
{
    algid(&p->sigalg, O_ECDSA_SHA256, sizeof O_ECDSA_SHA256, OCT(0x05, 0x00));
}
static void b_spki_rsa(struct parts *p) { spki_of(&p->spki, key_rsa); }
static void b_spki_ed25519(struct parts *p) { spki_of(&p->spki, key_ed25519); }
static void b_spki_p384_named(struct parts *p)
{
    uint8_t pt[97];
    size_t n = 0;
    assert_int_equal(EVP_PKEY_get_octet_string_param(key_p384, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                                     pt, sizeof pt, &n), 1);
    spki_ec(&p->spki, pt, n, O_P384, sizeof O_P384);
}
static void b_spki_explicit(struct parts *p) { spki_of(&p->spki, key_explicit); p->signer = key_explicit; }
static void b_spki_no_curve(struct parts *p)
{
    uint8_t pt[65];
    point_of(p->signer, pt);
    spki_ec(&p->spki, pt, 65, NULL, 0);
}
static void b_spki_alg_trailing(struct parts *p)
{
    /* AlgorithmIdentifier with an extra element: DER fault, not key type */
    uint8_t pt[65];
    struct buf alg = {.n = 0}, bits = {.n = 0};
    point_of(p->signer, pt);
    put_tlv(&alg, DER_OID, O_EC_PUBKEY, sizeof O_EC_PUBKEY);
    put_tlv(&alg, DER_OID, O_P256, sizeof O_P256);
    put(&alg, OCT(0x05, 0x00));
    wrap(&alg, DER_SEQUENCE);
    put(&bits, OCT(0x00));
    put(&bits, pt, 65);
    wrap(&bits, DER_BIT_STRING);
    p->spki = alg;
    put_buf(&p->spki, &bits);
    wrap(&p->spki, DER_SEQUENCE);
}
/* point variants, each correctly signed by the matching private key */
static void point_variant(struct parts *p, int kind)
{
    uint8_t pt[65], v[65];
    size_t n = 65;
    point_of(p->signer, pt);
    memcpy(v, pt, 65);
    switch (kind) {
    case 0: v[0] = 0x02 | (pt[64] & 1); n = 33; break;            /* compressed */
    case 1: v[0] = 0x06 | (pt[64] & 1); break;                      /* hybrid */
    case 2: v[0] = 0x00; n = 1; break;                              /* infinity */
    case 3: v[64] ^= 0x01; break;                                   /* off the curve */
    case 4: n = 64; break;                                          /* short */
    case 5: memset(v + 1, 0xff, 32); break;                         /* X >= p */
    case 6: v[0] = 0x05; break;                                     /* unknown form */
    }
    spki_ec(&p->spki, v, n, O_P256, sizeof O_P256);
}
static void b_point_compressed(struct parts *p) { point_variant(p, 0); }
static void b_point_hybrid(struct parts *p) { point_variant(p, 1); }
static void b_point_infinity(struct parts *p) { point_variant(p, 2); }
static void b_point_off_curve(struct parts *p) { point_variant(p, 3); }
static void b_point_short(struct parts *p) { point_variant(p, 4); }
static void b_point_x_ge_p(struct parts *p) { point_variant(p, 5); }
static void b_point_unknown(struct parts *p) { point_variant(p, 6); }
static void b_point_unused_bits(struct parts *p)
{
    uint8_t pt[65];
    struct buf alg, bits = {.n = 0};
    point_of(p->signer, pt);
    algid(&alg, O_EC_PUBKEY, sizeof O_EC_PUBKEY, (const uint8_t[]){0x06, 0x08, 0x2a, 0x86, 0x48,
          0xce, 0x3d, 0x03, 0x01, 0x07}, 10);
    pt[64] &= 0xf0;
    put(&bits, OCT(0x04));
    put(&bits, pt, 65);
    wrap(&bits, DER_BIT_STRING);
    p->spki = alg;
    put_buf(&p->spki, &bits);
    wrap(&p->spki, DER_SEQUENCE);
}
static void b_other_signer(struct parts *p) { p->signer = key_b; }
static void b_sig_corrupt(struct parts *p) { p->sig_mode = SIG_CORRUPT; }
static void b_sig_trailing(struct parts *p) { p->sig_mode = SIG_APPEND_ZERO; }
static void b_sig_nonminimal(struct parts *p)
{
    p->sig_mode = SIG_RAW;
    put(&p->sig_raw, OCT(0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01));
}
static void b_sig_r_zero(struct parts *p)
{
    p->sig_mode = SIG_RAW;
    put(&p->sig_raw, OCT(0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01));
}
static void b_sig_negative(struct parts *p)
{
    p->sig_mode = SIG_RAW;
    put(&p->sig_raw, OCT(0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01));
}
static void b_sig_empty(struct parts *p) { p->sig_mode = SIG_RAW; }
static void b_sig_too_big(struct parts *p)
{
    /* r of 33 significant octets: larger than any P-256 scalar */
    p->sig_mode = SIG_RAW;
    put(&p->sig_raw, OCT(0x30, 0x26, 0x02, 0x21));
    for (int i = 0; i < 33; i++)
        put(&p->sig_raw, OCT(0x01));
    put(&p->sig_raw, OCT(0x02, 0x01, 0x01));
}
static void b_sig_unused_1(struct parts *p) { p->sig_unused = 1; p->sig_mode = SIG_RAW;
    put(&p->sig_raw, OCT(0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02)); }
/* precedence: several faults at once */
static void b_compressed_and_bad_sig(struct parts *p) { point_variant(p, 0); p->signer = key_b; }
static void b_off_curve_and_mismatch(struct parts *p) { point_variant(p, 3); b_hw_mismatch(p); }
static void b_bad_sig_and_mismatch(struct parts *p) { b_hw_mismatch(p); p->signer = key_b; }
static void b_sha384_and_p384(struct parts *p) { b_spki_p384_named(p); b_sha384(p); p->signer = key_p384; }
static void b_rsa_key_and_bad_sig(struct parts *p) { b_spki_rsa(p); p->sig_mode = SIG_CORRUPT; }
static void b_bad_attrs_and_sha1(struct parts *p) { b_attr_no_value(p); b_sha1(p); }
static void b_p384_and_bad_sig(struct parts *p) { b_spki_p384_named(p); p->signer = key_b; }
static void b_trailing_and_bad_sig(struct parts *p) { b_cri_trailing(p); p->sig_mode = SIG_CORRUPT; }

/* post-mutations of the finished DER */
static void outer(const struct buf *d, size_t *hdr, size_t *len)
{
    struct der_cur c;
    struct der_tlv t;
    der_init(&c, d->d, d->n);
    assert_int_equal(der_next(&c, &t), DER_OK);
    *hdr = (size_t)(t.val - t.start);
    *len = t.len;
}
static void m_trailing3(struct buf *d) { put(d, OCT(0x00, 0x00, 0x00)); }
static void m_trailing1(struct buf *d) { put(d, OCT(0x30)); }
static void m_truncate10(struct buf *d) { d->n -= 10; }
static void m_truncate1(struct buf *d) { d->n -= 1; }
static void m_indefinite(struct buf *d)
{
    size_t h, l;
    outer(d, &h, &l);
    struct buf o = {.n = 0};
    put(&o, OCT(0x30, 0x80));
    put(&o, d->d + h, l);
    put(&o, OCT(0x00, 0x00));
    *d = o;
}
static void m_nonminimal(struct buf *d)
{
    size_t h, l;
    outer(d, &h, &l);
    struct buf o = {.n = 0};
    put(&o, OCT(0x30, 0x84, 0x00, 0x00));
    put(&o, (uint8_t[]){(uint8_t)(l >> 8), (uint8_t)l}, 2);
    put(&o, d->d + h, l);
    *d = o;
}
static void m_len5(struct buf *d)
{
    size_t h, l;
    outer(d, &h, &l);
    struct buf o = {.n = 0};
    put(&o, OCT(0x30, 0x85, 0x00, 0x00, 0x00));
    put(&o, (uint8_t[]){(uint8_t)(l >> 8), (uint8_t)l}, 2);
    put(&o, d->d + h, l);
    *d = o;
}
/* relen - the same content under an outer header claiming len + delta */
static void relen(struct buf *d, int delta)
{
    size_t h, l;
    outer(d, &h, &l);
    struct buf o = {.n = 0};
    put(&o, OCT(0x30));
    put_len(&o, (size_t)((long)l + delta));
    put(&o, d->d + h, l);
    *d = o;
}
static void m_overrun(struct buf *d) { relen(d, 1); }
static void m_short_len(struct buf *d) { relen(d, -1); }
/* m_alter_subject - flip one octet of the subject's CN (meter -> meteR) */
static void m_alter_subject(struct buf *d)
{
    for (size_t i = 0; i + 5 <= d->n; i++)
        if (memcmp(d->d + i, "meter", 5) == 0) {
            d->d[i + 4] = 'R';
            return;
        }
    fail_msg("no 'meter' in the CSR");
}
static void m_wrong_outer_tag(struct buf *d) { d->d[0] = 0x31; }
static void m_inner_indefinite(struct buf *d)
{
    /* the subjectPKInfo re-encoded with indefinite length (BER) */
    struct buf o = {.n = 0};
    size_t h, l;
    outer(d, &h, &l);
    struct der_cur c, cr, cri;
    struct der_tlv t, v, s, k;
    der_init(&c, d->d, d->n);
    assert_int_equal(der_enter(&c, DER_SEQUENCE, &cr, NULL), DER_OK);
    assert_int_equal(der_enter(&cr, DER_SEQUENCE, &cri, &t), DER_OK);
    assert_int_equal(der_next(&cri, &v), DER_OK);
    assert_int_equal(der_next(&cri, &s), DER_OK);
    assert_int_equal(der_next(&cri, &k), DER_OK);
    struct buf in = {.n = 0};
    put(&in, t.val, (size_t)(k.start - t.val));
    put(&in, OCT(0x30, 0x80));
    put(&in, k.val, k.len);
    put(&in, OCT(0x00, 0x00));
    put(&in, cri.p, der_left(&cri));
    wrap(&in, DER_SEQUENCE);
    put_buf(&o, &in);
    put(&o, cr.p, der_left(&cr));
    wrap(&o, DER_SEQUENCE);
    *d = o;
}

static char long_b64[12001];

static const struct row ROWS[] = {
    /* good */
    {"good: no extensions", NULL, NULL, NULL, NULL, NULL, RC_OK, NULL},
    {"good: hardwareModuleName matches", b_hw_match, NULL, NULL, NULL, NULL, RC_OK, NULL},
    {"good: hw name, non-critical SAN with dNSName", b_hw_noncritical_with_dns, NULL, NULL, NULL,
     "KA", RC_OK, NULL},
    {"good: SAN with dNSName only", b_san_dns_only, NULL, NULL, NULL, NULL, RC_OK, NULL},
    {"good: subject names another serial (never consulted)", b_subject_other_serial, NULL, NULL,
     NULL, NULL, RC_OK, NULL},
    {"good: empty subject", b_empty_subject, NULL, NULL, NULL, NULL, RC_OK, NULL},
    {"good: challengePassword, keyUsage and SAN", b_challenge_and_ku, NULL, NULL, NULL, NULL,
     RC_OK, NULL},
    {"good: DeviceID without hyphens, lower case", b_hw_match, NULL, NULL, "00db1234567890a4",
     NULL, RC_OK, NULL},
    /* E_DEVICE_ID */
    {"device: too short", NULL, NULL, NULL, "00-DB-12", NULL, RC_DEVICE_ID, "has 8 characters"},
    {"device: too long", NULL, NULL, NULL, "00-DB-12-34-56-78-90-A4-01", NULL, RC_DEVICE_ID, NULL},
    {"device: empty", NULL, NULL, NULL, "", NULL, RC_DEVICE_ID, NULL},
    {"device: non-hex", NULL, NULL, NULL, "00-DB-12-34-56-78-90-G4", NULL, RC_DEVICE_ID,
     "not an EUI-64"},
    {"device: colons", NULL, NULL, NULL, "00:DB:12:34:56:78:90:A4", NULL, RC_DEVICE_ID, NULL},
    {"device: misplaced hyphens", NULL, NULL, NULL, "00DB-12-34-56-78-90-A4-", NULL, RC_DEVICE_ID,
     NULL},
    {"device: all zeros", NULL, NULL, NULL, "00-00-00-00-00-00-00-00", NULL, RC_DEVICE_ID,
     "DeviceID '00-00-00-00-00-00-00-00' is all zeros"},
    {"device: all ones", NULL, NULL, NULL, "FF-FF-FF-FF-FF-FF-FF-FF", NULL, RC_DEVICE_ID, "all ones"},
    {"device: all ones, no hyphens", NULL, NULL, NULL, "ffffffffffffffff", NULL, RC_DEVICE_ID,
     "all ones"},
    {"device: non-ASCII kept out of errtext", NULL, NULL, NULL, "00-DB-12-34-56-78-90-\xc3\xa9",
     NULL, RC_DEVICE_ID, "'00-DB-12-34-56-78-90-?" "?'"},
    /* E_USAGE */
    {"usage: empty", NULL, NULL, NULL, NULL, "", RC_USAGE, NULL},
    {"usage: lower case", NULL, NULL, NULL, NULL, "ds", RC_USAGE, "'ds' is not DS or KA"},
    {"usage: DSA", NULL, NULL, NULL, NULL, "DSA", RC_USAGE, NULL},
    {"usage: XX", NULL, NULL, NULL, NULL, "XX", RC_USAGE, NULL},
    /* E_CSR_ENCODING: base64 */
    {"b64: invalid character", NULL, NULL, "MIIB!AAA", NULL, NULL, RC_CSR_ENCODING,
     "invalid base64 at character 5"},
    {"b64: missing padding", NULL, NULL, "MIIBAA", NULL, NULL, RC_CSR_ENCODING,
     "CSRBody: invalid base64 at end of text: missing padding"},
    {"b64: empty", NULL, NULL, "", NULL, NULL, RC_CSR_ENCODING, "empty"},
    {"b64: whitespace only", NULL, NULL, " \r\n\t ", NULL, NULL, RC_CSR_ENCODING, "empty"},
    {"b64: garbage text", NULL, NULL, "this is not a CSR", NULL, NULL, RC_CSR_ENCODING, NULL},
    {"b64: decodes larger than any CSR", NULL, NULL, long_b64, NULL, NULL, RC_CSR_ENCODING,
     "CSRBody decodes to more than 8192 octets"},
    /* E_CSR_ENCODING: DER */
    {"der: truncated by 10", NULL, m_truncate10, NULL, NULL, NULL, RC_CSR_ENCODING, NULL},
    {"der: truncated by 1", NULL, m_truncate1, NULL, NULL, NULL, RC_CSR_ENCODING, NULL},
    {"der: 3 trailing octets", NULL, m_trailing3, NULL, NULL, NULL, RC_CSR_ENCODING,
     "CSR: trailing 3 octets after CertificationRequest"},
    {"der: 1 trailing octet", NULL, m_trailing1, NULL, NULL, NULL, RC_CSR_ENCODING, "CSR: trailing 1 octet after"},
    {"der: outer length one short", NULL, m_short_len, NULL, NULL, NULL, RC_CSR_ENCODING, NULL},
    {"der: outer length overruns", NULL, m_overrun, NULL, NULL, NULL, RC_CSR_ENCODING, "overruns"},
    {"der: indefinite length", NULL, m_indefinite, NULL, NULL, NULL, RC_CSR_ENCODING, "indefinite"},
    {"der: inner indefinite length", NULL, m_inner_indefinite, NULL, NULL, NULL, RC_CSR_ENCODING,
     "indefinite"},
    {"der: non-minimal length", NULL, m_nonminimal, NULL, NULL, NULL, RC_CSR_ENCODING,
     "non-minimal"},
    {"der: 5 length octets", NULL, m_len5, NULL, NULL, NULL, RC_CSR_ENCODING, "more than 4"},
    {"der: outer SET not SEQUENCE", NULL, m_wrong_outer_tag, NULL, NULL, NULL, RC_CSR_ENCODING,
     "unexpected tag"},
    {"der: trailing in certificationRequestInfo", b_cri_trailing, NULL, NULL, NULL, NULL,
     RC_CSR_ENCODING, "trailing 2 octets in certificationRequestInfo"},
    {"der: trailing in subjectPKInfo", b_spki_trailing, NULL, NULL, NULL, NULL, RC_CSR_ENCODING,
     "subjectPKInfo"},
    {"der: trailing in signatureAlgorithm", b_sigalg_trailing, NULL, NULL, NULL, NULL,
     RC_CSR_ENCODING, NULL},
    {"der: trailing in AlgorithmIdentifier of key", b_spki_alg_trailing, NULL, NULL, NULL, NULL,
     RC_CSR_ENCODING, NULL},
    {"der: version 1", b_version1, NULL, NULL, NULL, NULL, RC_CSR_ENCODING, "version"},
    {"der: version non-minimal", b_version_nonmin, NULL, NULL, NULL, NULL, RC_CSR_ENCODING, NULL},
    {"der: version negative", b_version_negative, NULL, NULL, NULL, NULL, RC_CSR_ENCODING, NULL},
    {"der: attributes missing", b_no_attributes, NULL, NULL, NULL, NULL, RC_CSR_ENCODING,
     "attributes"},
    {"der: attributes [1]", b_attrs_wrong_tag, NULL, NULL, NULL, NULL, RC_CSR_ENCODING, NULL},
    {"der: attribute without value", b_attr_no_value, NULL, NULL, NULL, NULL, RC_CSR_ENCODING,
     NULL},
    {"der: extensionRequest with two values", b_ext_req_two_values, NULL, NULL, NULL, NULL,
     RC_CSR_ENCODING, NULL},
    {"der: two extensionRequests", b_ext_req_twice, NULL, NULL, NULL, NULL, RC_CSR_ENCODING,
     NULL},
    {"der: critical FALSE encoded", b_ext_crit_false, NULL, NULL, NULL, NULL, RC_CSR_ENCODING,
     NULL},
    {"der: subjectAltName twice", b_ext_duplicate, NULL, NULL, NULL, NULL, RC_CSR_ENCODING,
     "twice"},
    {"der: trailing in hardwareModuleName", b_hw_trailing, NULL, NULL, NULL, NULL,
     RC_CSR_ENCODING, "hardwareModuleName"},
    {"der: trailing after GeneralNames", b_san_trailing, NULL, NULL, NULL, NULL, RC_CSR_ENCODING,
     NULL},
    {"der: empty GeneralNames", b_san_empty, NULL, NULL, NULL, NULL, RC_CSR_ENCODING, NULL},
    {"der: GeneralName with universal tag", b_san_bad_tag, NULL, NULL, NULL, NULL,
     RC_CSR_ENCODING, NULL},
    {"der: bad OID in subject", b_subject_bad_oid, NULL, NULL, NULL, NULL, RC_CSR_ENCODING,
     "OBJECT IDENTIFIER"},
    {"der: empty RDN in subject", b_subject_empty_rdn, NULL, NULL, NULL, NULL, RC_CSR_ENCODING,
     NULL},
    {"der: signature BIT STRING unused 8", b_sig_unused_8, NULL, NULL, NULL, NULL,
     RC_CSR_ENCODING, "BIT STRING"},
    /* E_SIG_ALGORITHM */
    {"sigalg: ecdsa-with-SHA1", b_sha1, NULL, NULL, NULL, NULL, RC_SIG_ALGORITHM,
     "signature algorithm 1.2.840.10045.4.1 (ecdsa-with-SHA1) is not ecdsa-with-SHA256"},
    {"sigalg: ecdsa-with-SHA384", b_sha384, NULL, NULL, NULL, NULL, RC_SIG_ALGORITHM,
     "1.2.840.10045.4.3.3"},
    {"sigalg: ecdsa-with-SHA256 with NULL parameters", b_sha256_null_params, NULL, NULL, NULL,
     NULL, RC_SIG_ALGORITHM, "parameters"},
    /* E_KEY_TYPE */
    {"keytype: RSA key", b_spki_rsa, NULL, NULL, NULL, NULL, RC_KEY_TYPE, "rsaEncryption"},
    {"keytype: Ed25519 key", b_spki_ed25519, NULL, NULL, NULL, NULL, RC_KEY_TYPE, "Ed25519"},
    {"keytype: secp384r1", b_spki_p384_named, NULL, NULL, NULL, NULL, RC_KEY_TYPE,
     "public key is on curve 1.3.132.0.34 (secp384r1), not prime256v1"},
    {"keytype: explicit curve parameters", b_spki_explicit, NULL, NULL, NULL, NULL, RC_KEY_TYPE,
     "explicit"},
    {"keytype: no curve", b_spki_no_curve, NULL, NULL, NULL, NULL, RC_KEY_TYPE, NULL},
    /* E_KEY_INVALID */
    {"point: compressed", b_point_compressed, NULL, NULL, NULL, NULL, RC_KEY_INVALID, "compressed"},
    {"point: hybrid", b_point_hybrid, NULL, NULL, NULL, NULL, RC_KEY_INVALID, "hybrid"},
    {"point: at infinity", b_point_infinity, NULL, NULL, NULL, NULL, RC_KEY_INVALID, "infinity"},
    {"point: not on the curve", b_point_off_curve, NULL, NULL, NULL, NULL, RC_KEY_INVALID,
     "not on curve"},
    {"point: X >= p", b_point_x_ge_p, NULL, NULL, NULL, NULL, RC_KEY_INVALID, NULL},
    {"point: 64 octets", b_point_short, NULL, NULL, NULL, NULL, RC_KEY_INVALID, "64 octets"},
    {"point: unknown form 05", b_point_unknown, NULL, NULL, NULL, NULL, RC_KEY_INVALID, NULL},
    {"point: BIT STRING with unused bits", b_point_unused_bits, NULL, NULL, NULL, NULL,
     RC_KEY_INVALID, "unused bits"},
    /* E_CSR_SIGNATURE */
    {"sig: signed by another key", b_other_signer, NULL, NULL, NULL, NULL, RC_CSR_SIGNATURE,
     "CSR self-signature does not verify (no proof of possession)"},
    {"sig: corrupted", b_sig_corrupt, NULL, NULL, NULL, NULL, RC_CSR_SIGNATURE, NULL},
    {"sig: trailing octet in ECDSA-Sig-Value", b_sig_trailing, NULL, NULL, NULL, NULL,
     RC_CSR_SIGNATURE, NULL},
    {"sig: non-minimal INTEGER", b_sig_nonminimal, NULL, NULL, NULL, NULL, RC_CSR_SIGNATURE, NULL},
    {"sig: r = 0", b_sig_r_zero, NULL, NULL, NULL, NULL, RC_CSR_SIGNATURE, NULL},
    {"sig: negative r", b_sig_negative, NULL, NULL, NULL, NULL, RC_CSR_SIGNATURE, NULL},
    {"sig: empty", b_sig_empty, NULL, NULL, NULL, NULL, RC_CSR_SIGNATURE, NULL},
    {"sig: r of 33 octets", b_sig_too_big, NULL, NULL, NULL, NULL, RC_CSR_SIGNATURE, NULL},
    {"sig: BIT STRING unused bits", b_sig_unused_1, NULL, NULL, NULL, NULL, RC_CSR_SIGNATURE, NULL},
    {"sig: CSR altered after signing", NULL, m_alter_subject, NULL, NULL, NULL, RC_CSR_SIGNATURE, NULL},
    /* E_ID_MISMATCH */
    {"id: hardwareModuleName differs", b_hw_mismatch, NULL, NULL, NULL, NULL, RC_ID_MISMATCH,
     "00-DB-12-34-56-78-90-A5"},
    {"id: hwSerialNum of 7 octets", b_hw_short, NULL, NULL, NULL, NULL, RC_ID_MISMATCH, "7 octets"},
    {"id: second hardwareModuleName differs", b_hw_second_mismatch, NULL, NULL, NULL, NULL,
     RC_ID_MISMATCH, NULL},
    /* precedence */
    {"prec: bad DeviceID + garbage CSR", NULL, NULL, "!!garbage!!", "00-DB", "XX", RC_DEVICE_ID,
     NULL},
    {"prec: zeros DeviceID + bad usage + mismatch", b_hw_mismatch, NULL, NULL,
     "0000000000000000", "XX", RC_DEVICE_ID, NULL},
    {"prec: bad usage + garbage CSR", NULL, NULL, "!!garbage!!", NULL, "", RC_USAGE, NULL},
    {"prec: bad usage + bad signature", b_other_signer, NULL, NULL, NULL, "SD", RC_USAGE, NULL},
    {"prec: DER fault + SHA-1", b_bad_attrs_and_sha1, NULL, NULL, NULL, NULL, RC_CSR_ENCODING,
     NULL},
    {"prec: trailing in CRI + bad signature", b_trailing_and_bad_sig, NULL, NULL, NULL, NULL,
     RC_CSR_ENCODING, NULL},
    {"prec: SHA-384 + P-384 key", b_sha384_and_p384, NULL, NULL, NULL, NULL, RC_SIG_ALGORITHM,
     NULL},
    {"prec: RSA key + corrupt signature", b_rsa_key_and_bad_sig, NULL, NULL, NULL, NULL,
     RC_KEY_TYPE, NULL},
    {"prec: P-384 key + wrong signer", b_p384_and_bad_sig, NULL, NULL, NULL, NULL, RC_KEY_TYPE,
     NULL},
    {"prec: compressed point + wrong signer", b_compressed_and_bad_sig, NULL, NULL, NULL, NULL,
     RC_KEY_INVALID, NULL},
    {"prec: off-curve point + hw mismatch", b_off_curve_and_mismatch, NULL, NULL, NULL, NULL,
     RC_KEY_INVALID, NULL},
    {"prec: bad signature + hw mismatch", b_bad_sig_and_mismatch, NULL, NULL, NULL, NULL,
     RC_CSR_SIGNATURE, NULL},
};

/* test_row - build, validate, compare code (and errtext part) */
static void test_row(void **state)
{
    const struct row *r = *state;
    struct request req;
    enum req_code rc;
    const char *device = r->device ? r->device : DEVICE_TEXT;
    const char *usage = r->usage ? r->usage : "DS";
    if (r->b64) {
        rc = run_b64(&req, device, usage, r->b64, strlen(r->b64));
    } else {
        struct parts p;
        struct buf der;
        parts_default(&p, key_a);
        if (r->build)
            r->build(&p);
        assemble(&p, &der);
        if (r->post)
            r->post(&der);
        rc = run_der(&req, device, usage, der.d, der.n);
    }
    if (getenv("SMKI_VALIDATE_VERBOSE"))
        printf("    %-50s %-16s %s\n", r->label, req_code_name(rc), req.errtext);
    if (rc != r->want)
        fail_msg("%s: got %s (%s), want %s", r->label, req_code_name(rc), req.errtext,
                 req_code_name(r->want));
    if (r->errpart && !strstr(req.errtext, r->errpart))
        fail_msg("%s: errtext '%s' lacks '%s'", r->label, req.errtext, r->errpart);
    if (rc > RC_DEVICE_ID || rc == RC_OK)
        assert_memory_equal(req.device, r->device ? req.device : DEVICE, 8);
    if (rc > RC_USAGE || rc == RC_OK)
        assert_int_equal(req.usage, strcmp(usage, "KA") == 0 ? USAGE_KA : USAGE_DS);
}

/* ---- tests beyond the table ------------------------------------------------ */

/* test_outputs - RC_OK fills device, usage, point and key_hash */
static void test_outputs(void **state)
{
    (void)state;
    struct parts p;
    struct buf der;
    struct request req;
    uint8_t pt[65], h[32];
    parts_default(&p, key_a);
    b_hw_match(&p);
    assemble(&p, &der);
    assert_int_equal(run_der(&req, "00db1234567890A4", "KA", der.d, der.n), RC_OK);
    point_of(key_a, pt);
    assert_memory_equal(req.point, pt, 65);
    EVP_Digest(pt, 65, h, NULL, EVP_sha256(), NULL);
    assert_memory_equal(req.key_hash, h, 32);
    assert_memory_equal(req.device, DEVICE, 8);
    assert_int_equal(req.usage, USAGE_KA);
}

/* test_openssl_made - CSRs made by X509_REQ_sign are read as OpenSSL wrote
 * them: P-256 good (with and without hardwareModuleName), and real RSA,
 * Ed25519, P-384 and ecdsa-with-SHA384 requests */
static void test_openssl_made(void **state)
{
    (void)state;
    struct buf der;
    struct request req;
    x509_req_der(key_a, "SHA256", NULL, &der);
    assert_int_equal(run_der(&req, DEVICE_TEXT, "DS", der.d, der.n), RC_OK);
    x509_req_der(key_a, "SHA256", DEVICE, &der);
    assert_int_equal(run_der(&req, DEVICE_TEXT, "DS", der.d, der.n), RC_OK);
    x509_req_der(key_b, "SHA256", OTHER_DEVICE, &der);
    assert_int_equal(run_der(&req, DEVICE_TEXT, "KA", der.d, der.n), RC_ID_MISMATCH);
    x509_req_der(key_a, "SHA384", DEVICE, &der);
    assert_int_equal(run_der(&req, DEVICE_TEXT, "DS", der.d, der.n), RC_SIG_ALGORITHM);
    x509_req_der(key_a, "SHA1", DEVICE, &der);
    assert_int_equal(run_der(&req, DEVICE_TEXT, "DS", der.d, der.n), RC_SIG_ALGORITHM);
    /* a real RSA or Ed25519 request also signs with a non-ECDSA algorithm,
     * which comes first in SPEC section 5 */
    x509_req_der(key_rsa, "SHA256", DEVICE, &der);
    assert_int_equal(run_der(&req, DEVICE_TEXT, "DS", der.d, der.n), RC_SIG_ALGORITHM);
    assert_non_null(strstr(req.errtext, "sha256WithRSAEncryption"));
    x509_req_der(key_ed25519, NULL, DEVICE, &der);
    assert_int_equal(run_der(&req, DEVICE_TEXT, "DS", der.d, der.n), RC_SIG_ALGORITHM);
    assert_non_null(strstr(req.errtext, "Ed25519"));
    /* a P-384 key signing ecdsa-with-SHA256: the key type is the fault */
    x509_req_der(key_p384, "SHA256", DEVICE, &der);
    assert_int_equal(run_der(&req, DEVICE_TEXT, "DS", der.d, der.n), RC_KEY_TYPE);
    assert_non_null(strstr(req.errtext, "secp384r1"));
}

/* test_pem_style_body - base64 broken into lines with CR LF and indentation,
 * as it may sit in the XML */
static void test_pem_style_body(void **state)
{
    (void)state;
    struct buf der;
    struct request req;
    x509_req_der(key_a, "SHA256", DEVICE, &der);
    char *t = to_b64(der.d, der.n);
    char body[4096];
    size_t n = 0, len = strlen(t);
    body[n++] = '\n';
    for (size_t i = 0; i < len; i++) {
        if (i % 64 == 0) {
            memcpy(body + n, "\r\n\t  ", 5);
            n += 5;
        }
        body[n++] = t[i];
    }
    body[n++] = '\n';
    body[n++] = ' ';
    assert_int_equal(run_b64(&req, DEVICE_TEXT, "DS", body, n), RC_OK);
    free(t);
}

/* csr_of - the default CSR carrying key's point, signed by signer (sig_mode SIG_*) */
static void csr_of(struct buf *out, EVP_PKEY *key, EVP_PKEY *signer, int sig_mode)
{
    struct parts p;
    parts_default(&p, key);
    p.signer = signer;
    p.sig_mode = sig_mode;
    assemble(&p, out);
}

/* at_pos - validate DER as the request at position pos (VALIDATE_NO_POS:
 * plain validate_request) with ctx; the request left in *req */
static enum req_code at_pos(struct validate_ctx *ctx, const struct buf *der, uint32_t pos,
                            struct request *req)
{
    memset(req, 0, sizeof *req);
    snprintf(req->device_text, sizeof req->device_text, "%s", DEVICE_TEXT);
    snprintf(req->usage_text, sizeof req->usage_text, "DS");
    char *t = to_b64(der->d, der->n);
    enum req_code rc = pos == VALIDATE_NO_POS ? validate_request(ctx, req, t, strlen(t))
                                              : validate_request_at(ctx, req, t, strlen(t), pos);
    free(t);
    return rc;
}

/* test_popcache - proofs recorded by position and tag: only a verified
 * request is recorded; only the very same octets at the same position skip
 * the verify; everything else is verified as usual */
static void test_popcache(void **state)
{
    (void)state;
    struct buf good_a, good_b, corrupt_a, b_by_a;
    csr_of(&good_a, key_a, key_a, SIG_NORMAL);
    csr_of(&good_b, key_b, key_b, SIG_NORMAL);
    csr_of(&corrupt_a, key_a, key_a, SIG_CORRUPT);
    csr_of(&b_by_a, key_b, key_a, SIG_NORMAL);

    struct request req;
    struct popcache *pc = popcache_new(8);
    struct validate_ctx *rec = validate_ctx_new(), *use = validate_ctx_new();
    validate_ctx_set_popcache(rec, NULL, pc);
    assert_int_equal(at_pos(rec, &good_a, 3, &req), RC_OK);
    assert_int_equal(at_pos(rec, &corrupt_a, 4, &req), RC_CSR_SIGNATURE);
    assert_int_equal(at_pos(rec, &b_by_a, 5, &req), RC_CSR_SIGNATURE);
    assert_int_equal(at_pos(rec, &good_b, 8, &req), RC_OK);          /* out of range: not kept */
    assert_int_equal(popcache_count(pc), 1);
    assert_int_equal(validate_ctx_skipped(rec), 0);            /* recording never skips */

    validate_ctx_set_popcache(use, pc, NULL);
    assert_int_equal(at_pos(use, &good_a, 3, &req), RC_OK);
    assert_int_equal(validate_ctx_skipped(use), 1);            /* the same octets, same place */
    assert_int_equal(at_pos(use, &corrupt_a, 3, &req), RC_CSR_SIGNATURE);
    assert_int_equal(at_pos(use, &b_by_a, 3, &req), RC_CSR_SIGNATURE);
    assert_int_equal(at_pos(use, &good_b, 3, &req), RC_OK);
    assert_int_equal(at_pos(use, &good_a, 2, &req), RC_OK);          /* elsewhere: verified */
    assert_int_equal(at_pos(use, &corrupt_a, 4, &req), RC_CSR_SIGNATURE);
    assert_int_equal(validate_ctx_skipped(use), 1);
    assert_int_equal(at_pos(use, &good_a, VALIDATE_NO_POS, &req), RC_OK);   /* no position */
    assert_int_equal(validate_ctx_skipped(use), 1);
    /* a skipped request still gets everything but the verify */
    assert_int_equal(at_pos(use, &good_a, 3, &req), RC_OK);
    assert_int_equal(validate_ctx_skipped(use), 2);
    uint8_t pt[65], kh[32];
    point_of(key_a, pt);
    assert_memory_equal(req.point, pt, 65);
    SHA256(pt, 65, kh);
    assert_memory_equal(req.key_hash, kh, 32);
    assert_memory_equal(req.device, DEVICE, 8);

    uint8_t tag[POP_TAG_LEN] = {0};
    assert_false(popcache_holds(pc, 9, tag));
    assert_false(popcache_has(pc, 9));
    assert_false(popcache_has(pc, 2));
    assert_true(popcache_has(pc, 3));
    assert_false(popcache_holds(pc, 3, tag));
    validate_ctx_free(rec);
    validate_ctx_free(use);
    popcache_free(pc);
}

/* test_key_staleness - each CSR is verified with its own key: a CSR carrying
 * key B but signed by key A must fail right after a good CSR of key A, and
 * vice versa, also after a failed point load */
static void test_key_staleness(void **state)
{
    (void)state;
    struct parts p;
    struct buf good_a, good_b, b_by_a, a_by_b, off;
    struct request req;
    csr_of(&good_a, key_a, key_a, SIG_NORMAL);
    csr_of(&good_b, key_b, key_b, SIG_NORMAL);
    csr_of(&b_by_a, key_b, key_a, SIG_NORMAL);
    csr_of(&a_by_b, key_a, key_b, SIG_NORMAL);
    parts_default(&p, key_a);
    point_variant(&p, 3);
    assemble(&p, &off);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(run_der(&req, DEVICE_TEXT, "DS", good_a.d, good_a.n), RC_OK);
        assert_int_equal(run_der(&req, DEVICE_TEXT, "DS", b_by_a.d, b_by_a.n), RC_CSR_SIGNATURE);
        assert_int_equal(run_der(&req, DEVICE_TEXT, "DS", good_b.d, good_b.n), RC_OK);
        assert_int_equal(run_der(&req, DEVICE_TEXT, "DS", a_by_b.d, a_by_b.n), RC_CSR_SIGNATURE);
        assert_int_equal(run_der(&req, DEVICE_TEXT, "DS", good_a.d, good_a.n), RC_OK);
        assert_int_equal(run_der(&req, DEVICE_TEXT, "DS", off.d, off.n), RC_KEY_INVALID);
        assert_int_equal(run_der(&req, DEVICE_TEXT, "DS", a_by_b.d, a_by_b.n), RC_CSR_SIGNATURE);
        assert_int_equal(run_der(&req, DEVICE_TEXT, "DS", good_b.d, good_b.n), RC_OK);
        assert_int_equal(run_der(&req, DEVICE_TEXT, "DS", off.d, off.n), RC_KEY_INVALID);
        assert_int_equal(run_der(&req, DEVICE_TEXT, "DS", b_by_a.d, b_by_a.n), RC_CSR_SIGNATURE);
    }
}

/* row_text - a table row's CSRBody, device and usage (text malloc'd) */
static char *row_text(const struct row *r, const char **device, const char **usage)
{
    *device = r->device ? r->device : DEVICE_TEXT;
    *usage = r->usage ? r->usage : "DS";
    if (r->b64) return strdup(r->b64);
    struct parts p;
    struct buf der;
    parts_default(&p, key_a);
    if (r->build) r->build(&p);
    assemble(&p, &der);
    if (r->post) r->post(&der);
    return to_b64(der.d, der.n);
}

/* test_chunk - every table row, forwards then backwards, in one chunk through
 * validate_chunk (their verifies done together, in slices of 1, 7 and all):
 * each request gets the code, errtext and outputs it gets on its own */
static void test_chunk(void **state)
{
    (void)state;
    enum { NROWS = sizeof ROWS / sizeof ROWS[0], N = 2 * NROWS };
    struct chunk *c = chunk_new(N);
    struct request *one = calloc(N, sizeof *one);
    for (uint32_t i = 0; i < N; i++) {
        const struct row *r = &ROWS[i < NROWS ? i : N - 1 - i];
        const char *device, *usage;
        char *t = row_text(r, &device, &usage);
        struct request *q = &c->req[i];
        memset(q, 0, sizeof *q);
        snprintf(q->device_text, sizeof q->device_text, "%s", device);
        snprintf(q->usage_text, sizeof q->usage_text, "%s", usage);
        q->csr_off = chunk_add_text(c, t, strlen(t));
        q->csr_len = (uint32_t)strlen(t);
        one[i] = *q;
        validate_request(vctx, &one[i], t, strlen(t));
        assert_int_equal(one[i].code, r->want);
        free(t);
    }
    c->n = N;
    static const uint32_t slices[] = {1, 7, N};
    for (size_t k = 0; k < sizeof slices / sizeof *slices; k++) {
        for (uint32_t i = 0; i < N; i++) {
            c->req[i].code = RC_INTERNAL;
            strcpy(c->req[i].errtext, "stale");
        }
        for (uint32_t i = 0; i < N; i += slices[k]) validate_chunk(vctx, c, i, i + slices[k]);
        for (uint32_t i = 0; i < N; i++) {
            const struct request *q = &c->req[i];
            if (q->code != one[i].code || strcmp(q->errtext, one[i].errtext) != 0)
                fail_msg("slice %u, request %u: %s (%s), alone %s (%s)", slices[k], i,
                         req_code_name(q->code), q->errtext, req_code_name(one[i].code),
                         one[i].errtext);
            if (q->code == RC_OK) {
                assert_memory_equal(q->point, one[i].point, 65);
                assert_memory_equal(q->key_hash, one[i].key_hash, 32);
            }
        }
    }
    free(one);
    chunk_free(c);
}

/* test_many_keys - fresh keys, each validated OK in turn on one context,
 * and a second context agrees */
static void test_many_keys(void **state)
{
    (void)state;
    struct validate_ctx *other = validate_ctx_new();
    for (int i = 0; i < 30; i++) {
        EVP_PKEY *k = EVP_EC_gen("P-256");
        struct parts p;
        struct buf der;
        struct request req;
        parts_default(&p, k);
        assemble(&p, &der);
        assert_int_equal(run_der(&req, DEVICE_TEXT, "DS", der.d, der.n), RC_OK);
        char *t = to_b64(der.d, der.n);
        assert_int_equal(validate_request(other, &req, t, strlen(t)), RC_OK);
        free(t);
        EVP_PKEY_free(k);
    }
    validate_ctx_free(other);
}

/* test_every_truncation - every proper prefix of a good CSR is E_CSR_ENCODING */
static void test_every_truncation(void **state)
{
    (void)state;
    struct parts p;
    struct buf der;
    struct request req;
    parts_default(&p, key_a);
    b_challenge_and_ku(&p);
    assemble(&p, &der);
    for (size_t n = 1; n < der.n; n++)
        if (run_der(&req, DEVICE_TEXT, "DS", der.d, n) != RC_CSR_ENCODING)
            fail_msg("prefix of %zu/%zu octets: %s", n, der.n, req.errtext);
}

/* test_mutations - one to three flipped bits anywhere never crash and
 * never pass: every octet is either signed or checked */
static void test_mutations(void **state)
{
    (void)state;
    struct parts p;
    struct buf der;
    struct request req;
    parts_default(&p, key_a);
    b_challenge_and_ku(&p);
    assemble(&p, &der);
    uint32_t x = 99;
    int counts[RC_COUNT_] = {0};
    for (int it = 0; it < 4000; it++) {
        struct buf m = der;
        int flips = 1 + it % 3;
        for (int f = 0; f < flips; f++) {
            x = x * 1103515245u + 12345u;
            size_t at = (x >> 8) % m.n;
            x = x * 1103515245u + 12345u;
            m.d[at] ^= (uint8_t)(1u << ((x >> 16) % 8));
        }
        if (memcmp(m.d, der.d, m.n) == 0)
            continue;           /* two flips of the same bit cancelled out */
        enum req_code rc = run_der(&req, DEVICE_TEXT, "DS", m.d, m.n);
        if (rc < RC_CSR_ENCODING || rc > RC_ID_MISMATCH) {
            for (size_t i = 0; i < m.n; i++)
                if (m.d[i] != der.d[i])
                    fprintf(stderr, "octet %zu/%zu: %02x -> %02x\n", i, m.n, der.d[i], m.d[i]);
            fail_msg("mutation %d: %s", it, req_code_name(rc));
        }
        counts[rc]++;
    }
    /* the sweep reaches more than one stage */
    assert_true(counts[RC_CSR_ENCODING] > 0);
    assert_true(counts[RC_CSR_SIGNATURE] > 0);
}

/* test_bench - µs per validate_request over distinct CSRs (only when
 * SMKI_VALIDATE_BENCH=N is set; prints, asserts nothing about speed) */
static void test_bench(void **state)
{
    (void)state;
    const char *env = getenv("SMKI_VALIDATE_BENCH");
    if (!env) {
        skip();
        return;
    }
    int n = atoi(env), distinct = 200;
    char **texts = calloc((size_t)distinct, sizeof *texts);
    for (int i = 0; i < distinct; i++) {
        EVP_PKEY *k = EVP_EC_gen("P-256");
        struct parts p;
        struct buf der;
        parts_default(&p, k);
        b_hw_match(&p);
        assemble(&p, &der);
        texts[i] = to_b64(der.d, der.n);
        EVP_PKEY_free(k);
    }
    struct request req;
    memset(&req, 0, sizeof req);
    strcpy(req.device_text, DEVICE_TEXT);
    strcpy(req.usage_text, "DS");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < n; i++) {
        const char *t = texts[i % distinct];
        if (validate_request(vctx, &req, t, strlen(t)) != RC_OK)
            fail_msg("bench CSR %d: %s", i, req.errtext);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double us = ((double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3) / n;
    printf("validate_request: %.2f us per CSR over %d CSRs\n", us, n);
    for (int i = 0; i < distinct; i++)
        free(texts[i]);
    free(texts);
}

/* group_setup - keys and the shared context */
static int group_setup(void **state)
{
    (void)state;
    key_a = EVP_EC_gen("P-256");
    key_b = EVP_EC_gen("P-256");
    key_p384 = EVP_EC_gen("secp384r1");
    key_rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    key_ed25519 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    key_explicit = EVP_EC_gen("P-256");
    if (!key_a || !key_b || !key_p384 || !key_rsa || !key_ed25519 || !key_explicit)
        return -1;
    if (EVP_PKEY_set_utf8_string_param(key_explicit, OSSL_PKEY_PARAM_EC_ENCODING,
                                       OSSL_PKEY_EC_ENCODING_EXPLICIT) != 1)
        return -1;
    memset(long_b64, 'A', sizeof long_b64 - 1);
    vctx = validate_ctx_new();
    return 0;
}

/* group_teardown - release them */
static int group_teardown(void **state)
{
    (void)state;
    validate_ctx_free(vctx);
    EVP_PKEY_free(key_a);
    EVP_PKEY_free(key_b);
    EVP_PKEY_free(key_p384);
    EVP_PKEY_free(key_rsa);
    EVP_PKEY_free(key_ed25519);
    EVP_PKEY_free(key_explicit);
    return 0;
}

int main(void)
{
    enum { NROWS = sizeof ROWS / sizeof ROWS[0] };
    static const struct CMUnitTest extra[] = {
        cmocka_unit_test(test_outputs),
        cmocka_unit_test(test_openssl_made),
        cmocka_unit_test(test_pem_style_body),
        cmocka_unit_test(test_key_staleness),
        cmocka_unit_test(test_chunk),
        cmocka_unit_test(test_popcache),
        cmocka_unit_test(test_many_keys),
        cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_bench),
    };
    enum { NEXTRA = sizeof extra / sizeof extra[0] };
    static struct CMUnitTest tests[NROWS + NEXTRA];
    for (size_t i = 0; i < NROWS; i++)
        tests[i] = (struct CMUnitTest){.name = ROWS[i].label, .test_func = test_row,
                                       .initial_state = (void *)&ROWS[i]};
    for (size_t i = 0; i < NEXTRA; i++)
        tests[NROWS + i] = extra[i];
    return _cmocka_run_group_tests("validate", tests, NROWS + NEXTRA, group_setup, group_teardown);
}
