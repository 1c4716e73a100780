/* validate.c - per-request checks of SPEC.md sections 3.3 and 5: DeviceID,
 * usage, base64, a strict DER walk of the PKCS#10 CertificationRequest
 * (RFC 2986), ecdsa-with-SHA256, a P-256 key with a valid uncompressed point,
 * the self-signature, and the extensionRequest's hardwareModuleName.
 *
 * Speed: the DER is parsed here (no d2i_X509_REQ).  The self-signatures of
 * the requests validated together (validate_chunk) are verified together by
 * ecverify.h, which shares one modular inversion among them and needs none
 * per signature: each request runs every check up to the signature, is then
 * left pending, and gets its verdict (signature, then hardwareModuleName:
 * the order of SPEC section 5) when the verifies have run.  The signature is
 * checked over a one-shot SHA-256 of the certificationRequestInfo octets as
 * received.  Nothing is allocated per request once the context has grown to
 * the largest chunk.  A proof of possession already checked (popcache.h: the
 * same octets at the same position) skips only the verify.
 * See validate.h for the contract.
 */
#include "validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "b64.h"
#include "der.h"
#include "digest.h"
#include "ecverify.h"
#include "popcache.h"
#include "eui64.h"
#include "xmem.h"

/* Largest decoded CSR accepted: the XSD bounds CSRBody at 8,192 characters
 * (6,144 octets); a P-256 CSR is about 300. */
#define CSR_DER_MAX 8192
/* Nesting allowed inside values carried without interpretation (ANY) */
#define ANY_DEPTH 32

/* pending - a request whose checks all passed up to its signature, which is
 * queued in the ecverify; what its verdict still needs is kept here, since
 * ctx->der holds the next request by then */
struct pending {
    struct request *req;
    int slot;                       /* in ctx->ev */
    int tagged;                     /* record tag in ctx->record if it verifies */
    uint32_t pos;
    uint8_t tag[POP_TAG_LEN];
    int hw_mismatch;                /* as struct csr's */
    size_t hw_serial_len;
    uint8_t hw_serial[8];           /* valid when hw_serial_len == 8 */
};

struct validate_ctx {
    struct ecverify *ev;            /* the self-signatures of the requests pending */
    struct pending *pend;
    uint32_t npend, pend_cap;
    const struct popcache *known;   /* verifies to skip (not owned) */
    struct popcache *record;        /* verifies to record (not owned) */
    uint64_t skipped;               /* verifies skipped thanks to known */
    uint8_t der[CSR_DER_MAX];
};

/* Object identifiers (content octets) */
static const uint8_t OID_ECDSA_SHA256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
static const uint8_t OID_EC_PUBKEY[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const uint8_t OID_PRIME256V1[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t OID_EXT_REQUEST[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0e};
static const uint8_t OID_SAN[] = {0x55, 0x1d, 0x11};
static const uint8_t OID_HW_MODULE_NAME[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x08, 0x04};

/* The P-256 base point, uncompressed: the placeholder key of a new context */
/* Friendly names for OIDs that show up in error texts */
static const struct { const char *dotted, *name; } OID_NAMES[] = {
    {"1.2.840.10045.4.1", "ecdsa-with-SHA1"},
    {"1.2.840.10045.4.3.1", "ecdsa-with-SHA224"},
    {"1.2.840.10045.4.3.2", "ecdsa-with-SHA256"},
    {"1.2.840.10045.4.3.3", "ecdsa-with-SHA384"},
    {"1.2.840.10045.4.3.4", "ecdsa-with-SHA512"},
    {"1.2.840.113549.1.1.1", "rsaEncryption"},
    {"1.2.840.113549.1.1.4", "md5WithRSAEncryption"},
    {"1.2.840.113549.1.1.5", "sha1WithRSAEncryption"},
    {"1.2.840.113549.1.1.10", "RSASSA-PSS"},
    {"1.2.840.113549.1.1.11", "sha256WithRSAEncryption"},
    {"1.2.840.113549.1.1.12", "sha384WithRSAEncryption"},
    {"1.2.840.113549.1.1.13", "sha512WithRSAEncryption"},
    {"1.2.840.10040.4.1", "DSA"},
    {"1.2.840.10040.4.3", "dsa-with-SHA1"},
    {"2.16.840.1.101.3.4.3.2", "dsa-with-SHA256"},
    {"1.2.840.10045.2.1", "id-ecPublicKey"},
    {"1.3.101.110", "X25519"},
    {"1.3.101.111", "X448"},
    {"1.3.101.112", "Ed25519"},
    {"1.3.101.113", "Ed448"},
    {"1.2.156.10197.1.301", "SM2"},
    {"1.2.840.10045.3.1.1", "prime192v1"},
    {"1.2.840.10045.3.1.7", "prime256v1"},
    {"1.3.132.0.10", "secp256k1"},
    {"1.3.132.0.33", "secp224r1"},
    {"1.3.132.0.34", "secp384r1"},
    {"1.3.132.0.35", "secp521r1"},
    {"1.3.36.3.3.2.8.1.1.7", "brainpoolP256r1"},
    {"1.3.36.3.3.2.8.1.1.11", "brainpoolP384r1"},
    {"1.3.36.3.3.2.8.1.1.13", "brainpoolP512r1"},
};

/* ---- context ---------------------------------------------------------- */

/* validate_ctx_new - a context for one thread */
struct validate_ctx *validate_ctx_new(void)
{
    struct validate_ctx *ctx = xcalloc(1, sizeof *ctx);
    ctx->ev = ecverify_new();
    return ctx;
}

/* validate_ctx_free - release the context */
void validate_ctx_free(struct validate_ctx *ctx)
{
    if (!ctx)
        return;
    ecverify_free(ctx->ev);
    free(ctx->pend);
    free(ctx);
}

/* ---- error texts ------------------------------------------------------ */

/* fail - set the code and a formatted one-line text; returns the code */
__attribute__((format(printf, 3, 4)))
static enum req_code fail(struct request *req, enum req_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(req->errtext, sizeof req->errtext, fmt, ap);
    va_end(ap);
    req->code = code;
    return code;
}

/* safe_text - printable-ASCII copy of untrusted text for an error message,
 * at most 32 characters (then "...") */
static void safe_text(const char *s, char *out, size_t cap)
{
    size_t n = 0, i = 0;
    for (; s[i] && n + 4 < cap && i < 32; i++)
        out[n++] = (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\'') ? s[i] : '?';
    if (s[i] && n + 4 <= cap) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}

/* oid_desc - "1.3.132.0.34 (secp384r1)" or just the dotted form */
static void oid_desc(const struct der_tlv *oid, char *out, size_t cap)
{
    char dotted[96];
    der_oid_text(oid->val, oid->len, dotted, sizeof dotted);
    for (size_t i = 0; i < sizeof OID_NAMES / sizeof OID_NAMES[0]; i++)
        if (strcmp(OID_NAMES[i].dotted, dotted) == 0) {
            snprintf(out, cap, "%s (%s)", dotted, OID_NAMES[i].name);
            return;
        }
    snprintf(out, cap, "%s", dotted);
}

/* oid_name - the friendly name alone, or the dotted form */
static void oid_name(const struct der_tlv *oid, char *out, size_t cap)
{
    der_oid_text(oid->val, oid->len, out, cap);
    for (size_t i = 0; i < sizeof OID_NAMES / sizeof OID_NAMES[0]; i++)
        if (strcmp(OID_NAMES[i].dotted, out) == 0) {
            snprintf(out, cap, "%s", OID_NAMES[i].name);
            return;
        }
}

/* ---- DER walk of the CertificationRequest ------------------------------ */

/* What the walk finds, for the checks that follow it. */
struct csr {
    const uint8_t *cri;          /* certificationRequestInfo TLV, as received */
    size_t cri_len;
    struct der_tlv sig_oid;      /* signatureAlgorithm */
    int sig_has_params;
    struct der_tlv key_oid;      /* subjectPKInfo algorithm */
    int key_has_params;
    struct der_tlv key_params;
    const uint8_t *key;          /* subjectPublicKey bits */
    size_t key_len;
    unsigned key_unused;
    const uint8_t *sig;          /* signature bits */
    size_t sig_len;
    unsigned sig_unused;
    const uint8_t *device;       /* DeviceID octets, for the hwSerialNum check */
    int hw_mismatch;             /* a hardwareModuleName names another device */
    const uint8_t *hw_serial;    /* the first one that does */
    size_t hw_serial_len;
};

/* enc - a DER fault: RC_CSR_ENCODING naming where it is */
static enum req_code enc(struct request *req, int e, const struct der_cur *c, const char *where)
{
    if (e == DER_E_TRAILING)
        return fail(req, RC_CSR_ENCODING, "CSR: trailing %zu octet%s in %s", der_left(c),
                    der_left(c) == 1 ? "" : "s", where);
    return fail(req, RC_CSR_ENCODING, "CSR: %s in %s", der_strerror(e), where);
}

#define TRY(expr, cur, where)                          \
    do {                                               \
        int e_ = (expr);                               \
        if (e_)                                        \
            return enc(req, e_, (cur), (where));       \
    } while (0)

/* walk_any - a value carried without interpretation: one well-formed TLV */
static enum req_code walk_any(struct request *req, struct der_cur *c, const char *where)
{
    struct der_tlv t;
    TRY(der_next(c, &t), c, where);
    TRY(der_check_tree(t.start, der_tlv_size(&t), ANY_DEPTH), c, where);
    return RC_OK;
}

/* walk_algid - AlgorithmIdentifier ::= SEQUENCE { OID, parameters ANY OPTIONAL } */
static enum req_code walk_algid(struct request *req, struct der_cur *c, const char *where,
                                struct der_tlv *oid, int *has_params, struct der_tlv *params)
{
    struct der_cur a;
    struct der_tlv p;
    TRY(der_enter(c, DER_SEQUENCE, &a, NULL), c, where);
    TRY(der_read_oid(&a, oid), &a, where);
    *has_params = !der_at_end(&a);
    if (*has_params) {
        TRY(der_next(&a, &p), &a, where);
        TRY(der_check_tree(p.start, der_tlv_size(&p), ANY_DEPTH), &a, where);
        if (p.tag == DER_OID)
            TRY(der_oid_check(p.val, p.len), &a, where);
        if (params)
            *params = p;
    }
    TRY(der_finish(&a), &a, where);
    return RC_OK;
}

/* walk_name - Name ::= SEQUENCE OF SET SIZE (1..MAX) OF
 *             SEQUENCE { type OID, value ANY } */
static enum req_code walk_name(struct request *req, struct der_cur *name)
{
    static const char W[] = "subject";
    struct der_cur rdn, atv;
    struct der_tlv oid;
    enum req_code rc;
    while (!der_at_end(name)) {
        TRY(der_enter(name, DER_SET, &rdn, NULL), name, W);
        if (der_at_end(&rdn))
            return fail(req, RC_CSR_ENCODING, "CSR: empty RelativeDistinguishedName in subject");
        while (!der_at_end(&rdn)) {
            TRY(der_enter(&rdn, DER_SEQUENCE, &atv, NULL), &rdn, W);
            TRY(der_read_oid(&atv, &oid), &atv, W);
            if ((rc = walk_any(req, &atv, W)))
                return rc;
            TRY(der_finish(&atv), &atv, W);
        }
    }
    return RC_OK;
}

/* walk_hw_module_name - HardwareModuleName ::= SEQUENCE { hwType OID,
 * hwSerialNum OCTET STRING }; compares hwSerialNum with DeviceID */
static enum req_code walk_hw_module_name(struct request *req, struct der_cur *c, struct csr *csr)
{
    static const char W[] = "hardwareModuleName";
    struct der_cur hw;
    struct der_tlv oid;
    const uint8_t *serial;
    size_t serial_len;
    TRY(der_enter(c, DER_SEQUENCE, &hw, NULL), c, W);
    TRY(der_read_oid(&hw, &oid), &hw, W);
    TRY(der_read_octet_string(&hw, &serial, &serial_len), &hw, W);
    TRY(der_finish(&hw), &hw, W);
    TRY(der_finish(c), c, W);
    if (!csr->hw_mismatch && (serial_len != 8 || memcmp(serial, csr->device, 8) != 0)) {
        csr->hw_mismatch = 1;
        csr->hw_serial = serial;
        csr->hw_serial_len = serial_len;
    }
    return RC_OK;
}

/* walk_san - GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName, the
 * whole of the extension's value */
static enum req_code walk_san(struct request *req, const uint8_t *v, size_t len, struct csr *csr)
{
    static const char W[] = "subjectAltName";
    struct der_cur top, names, on, ex;
    struct der_tlv gn, type;
    enum req_code rc;
    der_init(&top, v, len);
    TRY(der_enter(&top, DER_SEQUENCE, &names, NULL), &top, W);
    TRY(der_finish(&top), &top, W);
    if (der_at_end(&names))
        return fail(req, RC_CSR_ENCODING, "CSR: empty subjectAltName");
    while (!der_at_end(&names)) {
        TRY(der_next(&names, &gn), &names, W);
        switch (gn.tag) {
        case DER_CONTEXT(1): case DER_CONTEXT(2): case DER_CONTEXT(6):
        case DER_CONTEXT(7): case DER_CONTEXT(8):
            break;                               /* primitive names */
        case DER_CONTEXT_CONS(3): case DER_CONTEXT_CONS(4): case DER_CONTEXT_CONS(5):
            TRY(der_check_tree(gn.val, gn.len, ANY_DEPTH), &names, W);
            break;
        case DER_CONTEXT_CONS(0):                /* otherName */
            der_init(&on, gn.val, gn.len);
            TRY(der_read_oid(&on, &type), &on, "subjectAltName otherName");
            TRY(der_enter(&on, DER_CONTEXT_CONS(0), &ex, NULL), &on, "subjectAltName otherName");
            TRY(der_finish(&on), &on, "subjectAltName otherName");
            if (der_oid_eq(&type, OID_HW_MODULE_NAME, sizeof OID_HW_MODULE_NAME)) {
                if ((rc = walk_hw_module_name(req, &ex, csr)))
                    return rc;
            } else {
                if ((rc = walk_any(req, &ex, "subjectAltName otherName")))
                    return rc;
                TRY(der_finish(&ex), &ex, "subjectAltName otherName");
            }
            break;
        default:
            return fail(req, RC_CSR_ENCODING, "CSR: GeneralName with tag 0x%02x in subjectAltName",
                        gn.tag);
        }
    }
    return RC_OK;
}

/* walk_extensions - Extensions ::= SEQUENCE OF SEQUENCE { extnID OID,
 * critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } */
static enum req_code walk_extensions(struct request *req, struct der_cur *exts, struct csr *csr)
{
    static const char W[] = "extensionRequest";
    const uint8_t *first = exts->p;
    struct der_cur ext, prev;
    struct der_tlv id, pid;
    const uint8_t *val;
    size_t val_len;
    int crit;
    enum req_code rc;
    while (!der_at_end(exts)) {
        const uint8_t *here = exts->p;
        TRY(der_enter(exts, DER_SEQUENCE, &ext, NULL), exts, W);
        TRY(der_read_oid(&ext, &id), &ext, W);
        if (der_peek_tag(&ext) == DER_BOOLEAN) {
            TRY(der_read_boolean(&ext, &crit), &ext, W);
            if (!crit)
                return fail(req, RC_CSR_ENCODING,
                            "CSR: extension with critical FALSE encoded (DER omits the default)");
        }
        TRY(der_read_octet_string(&ext, &val, &val_len), &ext, W);
        TRY(der_finish(&ext), &ext, W);
        /* the earlier extensions are already checked: look for the same id */
        der_init(&prev, first, (size_t)(here - first));
        while (!der_at_end(&prev)) {
            struct der_cur pe;
            if (der_enter(&prev, DER_SEQUENCE, &pe, NULL) || der_read_oid(&pe, &pid))
                break;
            if (der_oid_eq(&pid, id.val, id.len)) {
                char name[96];
                oid_name(&id, name, sizeof name);
                return fail(req, RC_CSR_ENCODING, "CSR: extension %s requested twice", name);
            }
        }
        if (der_oid_eq(&id, OID_SAN, sizeof OID_SAN) && (rc = walk_san(req, val, val_len, csr)))
            return rc;
    }
    return RC_OK;
}

/* walk_attributes - [0] IMPLICIT SET OF SEQUENCE { type OID,
 * values SET SIZE (1..MAX) OF ANY } */
static enum req_code walk_attributes(struct request *req, struct der_cur *attrs, struct csr *csr)
{
    static const char W[] = "attributes";
    struct der_cur attr, vals, exts;
    struct der_tlv type;
    int seen_ext_request = 0;
    enum req_code rc;
    while (!der_at_end(attrs)) {
        TRY(der_enter(attrs, DER_SEQUENCE, &attr, NULL), attrs, W);
        TRY(der_read_oid(&attr, &type), &attr, W);
        TRY(der_enter(&attr, DER_SET, &vals, NULL), &attr, W);
        TRY(der_finish(&attr), &attr, W);
        if (der_at_end(&vals))
            return fail(req, RC_CSR_ENCODING, "CSR: attribute without a value");
        if (der_oid_eq(&type, OID_EXT_REQUEST, sizeof OID_EXT_REQUEST)) {
            if (seen_ext_request++)
                return fail(req, RC_CSR_ENCODING, "CSR: more than one extensionRequest attribute");
            TRY(der_enter(&vals, DER_SEQUENCE, &exts, NULL), &vals, "extensionRequest");
            if (!der_at_end(&vals))
                return fail(req, RC_CSR_ENCODING, "CSR: extensionRequest with more than one value");
            if ((rc = walk_extensions(req, &exts, csr)))
                return rc;
        } else {
            while (!der_at_end(&vals))
                if ((rc = walk_any(req, &vals, W)))
                    return rc;
        }
    }
    return RC_OK;
}

/* walk_csr - CertificationRequest ::= SEQUENCE {
 *   certificationRequestInfo SEQUENCE { version INTEGER (0), subject Name,
 *       subjectPKInfo SEQUENCE { algorithm AlgorithmIdentifier,
 *                                subjectPublicKey BIT STRING },
 *       attributes [0] IMPLICIT SET OF Attribute },
 *   signatureAlgorithm AlgorithmIdentifier,
 *   signature BIT STRING } */
static enum req_code walk_csr(struct request *req, const uint8_t *der, size_t len, struct csr *csr)
{
    struct der_cur top, cr, cri, x;
    struct der_tlv t;
    uint64_t version;
    enum req_code rc;

    der_init(&top, der, len);
    TRY(der_enter(&top, DER_SEQUENCE, &cr, NULL), &top, "CertificationRequest");
    if (!der_at_end(&top))
        return fail(req, RC_CSR_ENCODING, "CSR: trailing %zu octet%s after CertificationRequest",
                    der_left(&top), der_left(&top) == 1 ? "" : "s");

    TRY(der_enter(&cr, DER_SEQUENCE, &cri, &t), &cr, "certificationRequestInfo");
    csr->cri = t.start;
    csr->cri_len = der_tlv_size(&t);

    int e = der_read_uint64(&cri, &version);
    if (e == DER_E_RANGE || (!e && version != 0))
        return fail(req, RC_CSR_ENCODING, "CSR: version is not 0 (v1)");
    TRY(e, &cri, "version");

    TRY(der_enter(&cri, DER_SEQUENCE, &x, NULL), &cri, "subject");
    if ((rc = walk_name(req, &x)))
        return rc;

    TRY(der_enter(&cri, DER_SEQUENCE, &x, NULL), &cri, "subjectPKInfo");
    if ((rc = walk_algid(req, &x, "subjectPKInfo algorithm", &csr->key_oid,
                         &csr->key_has_params, &csr->key_params)))
        return rc;
    TRY(der_read_bit_string(&x, &csr->key, &csr->key_len, &csr->key_unused), &x,
        "subjectPublicKey");
    TRY(der_finish(&x), &x, "subjectPKInfo");

    TRY(der_enter(&cri, DER_CONTEXT_CONS(0), &x, NULL), &cri, "attributes");
    if ((rc = walk_attributes(req, &x, csr)))
        return rc;
    TRY(der_finish(&cri), &cri, "certificationRequestInfo");

    if ((rc = walk_algid(req, &cr, "signatureAlgorithm", &csr->sig_oid, &csr->sig_has_params,
                         NULL)))
        return rc;
    TRY(der_read_bit_string(&cr, &csr->sig, &csr->sig_len, &csr->sig_unused), &cr, "signature");
    TRY(der_finish(&cr), &cr, "CertificationRequest");
    return RC_OK;
}

/* ---- the checks -------------------------------------------------------- */

/* check_device - DeviceID: an EUI-64, neither all zeros nor all ones */
static enum req_code check_device(struct request *req)
{
    char shown[48];
    size_t len = strlen(req->device_text);
    if (eui64_parse(req->device_text, len, req->device) == 0) {
        if (eui64_is_valid(req->device))
            return RC_OK;
        safe_text(req->device_text, shown, sizeof shown);
        return fail(req, RC_DEVICE_ID, "DeviceID '%s' is all %s", shown,
                    req->device[0] == 0 ? "zeros" : "ones");
    }
    safe_text(req->device_text, shown, sizeof shown);
    if (len != 16 && len != 23)
        return fail(req, RC_DEVICE_ID,
                    "DeviceID '%s' has %zu characters; an EUI-64 has 16 hex digits, or 23 "
                    "characters with hyphens", shown, len);
    return fail(req, RC_DEVICE_ID, "DeviceID '%s' is not an EUI-64 (hex digits, hyphens only "
                "between octets)", shown);
}

/* check_usage - CertificateUsage: exactly DS or KA */
static enum req_code check_usage(struct request *req)
{
    char shown[48];
    if (strcmp(req->usage_text, "DS") == 0) {
        req->usage = USAGE_DS;
        return RC_OK;
    }
    if (strcmp(req->usage_text, "KA") == 0) {
        req->usage = USAGE_KA;
        return RC_OK;
    }
    safe_text(req->usage_text, shown, sizeof shown);
    return fail(req, RC_USAGE, "CertificateUsage '%s' is not DS or KA", shown);
}

/* check_sig_algorithm - ecdsa-with-SHA256, parameters absent */
static enum req_code check_sig_algorithm(struct request *req, const struct csr *csr)
{
    char d[128];
    if (!der_oid_eq(&csr->sig_oid, OID_ECDSA_SHA256, sizeof OID_ECDSA_SHA256)) {
        oid_desc(&csr->sig_oid, d, sizeof d);
        return fail(req, RC_SIG_ALGORITHM, "signature algorithm %s is not ecdsa-with-SHA256", d);
    }
    if (csr->sig_has_params)
        return fail(req, RC_SIG_ALGORITHM,
                    "signature algorithm ecdsa-with-SHA256 has parameters (must be absent)");
    return RC_OK;
}

/* check_key_type - id-ecPublicKey with namedCurve prime256v1 */
static enum req_code check_key_type(struct request *req, const struct csr *csr)
{
    char d[128];
    if (!der_oid_eq(&csr->key_oid, OID_EC_PUBKEY, sizeof OID_EC_PUBKEY)) {
        oid_desc(&csr->key_oid, d, sizeof d);
        return fail(req, RC_KEY_TYPE, "public key algorithm %s is not id-ecPublicKey (P-256)", d);
    }
    if (!csr->key_has_params)
        return fail(req, RC_KEY_TYPE, "EC public key names no curve (want prime256v1)");
    switch (csr->key_params.tag) {
    case DER_OID:
        if (der_oid_eq(&csr->key_params, OID_PRIME256V1, sizeof OID_PRIME256V1))
            return RC_OK;
        oid_desc(&csr->key_params, d, sizeof d);
        return fail(req, RC_KEY_TYPE, "public key is on curve %s, not prime256v1", d);
    case DER_SEQUENCE:
        return fail(req, RC_KEY_TYPE,
                    "EC public key has explicit curve parameters, not namedCurve prime256v1");
    case DER_NULL:
        return fail(req, RC_KEY_TYPE, "EC public key has implicitCA parameters, not prime256v1");
    default:
        return fail(req, RC_KEY_TYPE, "EC public key parameters (tag 0x%02x) are not a named curve",
                    csr->key_params.tag);
    }
}

/* check_key_point - an uncompressed point on P-256; stages it in ctx->ev
 * and fills req->point and req->key_hash */
static enum req_code check_key_point(struct validate_ctx *ctx, struct request *req,
                                     const struct csr *csr)
{
    const uint8_t *k = csr->key;
    size_t n = csr->key_len;
    if (csr->key_unused)
        return fail(req, RC_KEY_INVALID, "subjectPublicKey has %u unused bits", csr->key_unused);
    if (n == 0)
        return fail(req, RC_KEY_INVALID, "empty EC point");
    if (n == 1 && k[0] == 0x00)
        return fail(req, RC_KEY_INVALID, "EC point at infinity");
    if (k[0] == 0x02 || k[0] == 0x03)
        return fail(req, RC_KEY_INVALID, "compressed EC point (must be uncompressed, 04||X||Y)");
    if (k[0] == 0x06 || k[0] == 0x07)
        return fail(req, RC_KEY_INVALID, "hybrid EC point (must be uncompressed, 04||X||Y)");
    if (k[0] != 0x04)
        return fail(req, RC_KEY_INVALID, "EC point with unknown form octet 0x%02x", k[0]);
    if (n != 65)
        return fail(req, RC_KEY_INVALID, "uncompressed EC point of %zu octets (P-256: 65)", n);
    if (ecverify_stage_point(ctx->ev, k, n) != 0)
        return fail(req, RC_KEY_INVALID, "EC point is not on curve prime256v1");
    memcpy(req->point, k, 65);
    sha256(k, 65, req->key_hash);
    return RC_OK;
}

/* check_signature - strict ECDSA-Sig-Value; then, unless the popcache
 * knows these octets at pos, the verify over SHA-256 of the
 * certificationRequestInfo with the key just staged is queued and the
 * request left pending (*pend set; the caller fills its hardwareModuleName
 * fields) */
static enum req_code check_signature(struct validate_ctx *ctx, struct request *req,
                                     const struct csr *csr, uint32_t pos, struct pending **pend)
{
    struct der_cur top, seq;
    const uint8_t *r, *s;
    size_t rl, sl;
    uint8_t md[32];
    int e;
    *pend = NULL;
    if (csr->sig_unused)
        return fail(req, RC_CSR_SIGNATURE, "signature BIT STRING has %u unused bits",
                    csr->sig_unused);
    der_init(&top, csr->sig, csr->sig_len);
    if ((e = der_enter(&top, DER_SEQUENCE, &seq, NULL)) || (e = der_finish(&top)) ||
        (e = der_read_unsigned(&seq, &r, &rl)) || (e = der_read_unsigned(&seq, &s, &sl)) ||
        (e = der_finish(&seq)))
        return fail(req, RC_CSR_SIGNATURE, "signature is not a DER ECDSA-Sig-Value (%s)",
                    der_strerror(e));
    if ((rl == 1 && r[0] == 0) || (sl == 1 && s[0] == 0) || rl > 32 || sl > 32)
        return fail(req, RC_CSR_SIGNATURE, "signature value r or s is out of range");
    sha256(csr->cri, csr->cri_len, md);
    uint8_t tag[POP_TAG_LEN];
    int may_skip = ctx->known && popcache_has(ctx->known, pos);
    int tagged = may_skip || (ctx->record && pos != VALIDATE_NO_POS);
    if (tagged) {
        popcache_tag(md, csr->sig, csr->sig_len, tag);
        if (may_skip && popcache_holds(ctx->known, pos, tag)) {
            ctx->skipped++;   /* these very octets verified before: see popcache.h */
            return RC_OK;
        }
    }
    if (ctx->npend == ctx->pend_cap) {
        ctx->pend_cap = ctx->pend_cap ? ctx->pend_cap * 2 : 64;
        ctx->pend = xrealloc(ctx->pend, ctx->pend_cap * sizeof *ctx->pend);
    }
    struct pending *p = &ctx->pend[ctx->npend++];
    p->req = req;
    p->slot = ecverify_commit(ctx->ev, r, rl, s, sl, md);
    p->tagged = tagged && ctx->record;
    p->pos = pos;
    if (p->tagged) memcpy(p->tag, tag, sizeof tag);
    *pend = p;
    return RC_OK;
}

/* check_hw - the extensionRequest's hardwareModuleName against DeviceID */
static enum req_code check_hw(struct request *req, int mismatch, const uint8_t *serial,
                              size_t serial_len)
{
    if (!mismatch)
        return RC_OK;
    char hw[EUI64_TEXT_LEN + 1], dev[EUI64_TEXT_LEN + 1];
    eui64_format(req->device, dev);
    if (serial_len != 8)
        return fail(req, RC_ID_MISMATCH,
                    "CSR hardwareModuleName serial has %zu octets, not the 8 of DeviceID %s",
                    serial_len, dev);
    eui64_format(serial, hw);
    return fail(req, RC_ID_MISMATCH, "CSR hardwareModuleName names device %s, not DeviceID %s",
                hw, dev);
}

/* finish_pending - run the queued verifies, then give each pending request
 * its verdict */
static void finish_pending(struct validate_ctx *ctx)
{
    if (ctx->npend) ecverify_run(ctx->ev);
    for (uint32_t i = 0; i < ctx->npend; i++) {
        struct pending *p = &ctx->pend[i];
        int ok = ecverify_result(ctx->ev, p->slot);
        if (ok < 0) {
            fail(p->req, RC_INTERNAL, "the self-signature could not be checked (OpenSSL failed)");
            continue;
        }
        if (!ok) {
            fail(p->req, RC_CSR_SIGNATURE,
                 "CSR self-signature does not verify (no proof of possession)");
            continue;
        }
        if (p->tagged) popcache_put(ctx->record, p->pos, p->tag);
        check_hw(p->req, p->hw_mismatch, p->hw_serial, p->hw_serial_len);
    }
    ctx->npend = 0;
    ecverify_reset(ctx->ev);
}

void validate_ctx_set_popcache(struct validate_ctx *ctx, const struct popcache *known,
                               struct popcache *record)
{
    ctx->known = known;
    ctx->record = record;
}

uint64_t validate_ctx_skipped(const struct validate_ctx *ctx)
{
    return ctx->skipped;
}

/* check_one - every check of SPEC section 5 in order, first fault wins; a
 * request whose signature is queued is left pending (finish_pending) */
static void check_one(struct validate_ctx *ctx, struct request *req, const char *csr_b64,
                      size_t csr_len, uint32_t pos)
{
    struct csr csr;
    struct b64_err berr;
    struct pending *pend;

    req->errtext[0] = '\0';
    req->code = RC_OK;
    if (check_device(req) || check_usage(req))
        return;

    ptrdiff_t n = b64_decode(csr_b64, csr_len, ctx->der, sizeof ctx->der, &berr);
    if (n < 0) {
        if (berr.no_room)
            fail(req, RC_CSR_ENCODING, "CSRBody decodes to more than %zu octets",
                 sizeof ctx->der);
        else if (berr.pos >= csr_len)
            fail(req, RC_CSR_ENCODING, "CSRBody: invalid base64 at end of text: %s", berr.why);
        else
            fail(req, RC_CSR_ENCODING, "CSRBody: invalid base64 at character %zu: %s",
                 berr.pos + 1, berr.why);
        return;
    }
    if (n == 0) {
        fail(req, RC_CSR_ENCODING, "CSRBody is empty");
        return;
    }

    memset(&csr, 0, sizeof csr);
    csr.device = req->device;
    if (walk_csr(req, ctx->der, (size_t)n, &csr) || check_sig_algorithm(req, &csr) ||
        check_key_type(req, &csr) || check_key_point(ctx, req, &csr) ||
        check_signature(ctx, req, &csr, pos, &pend))
        return;
    if (!pend) {   /* the verify was skipped: the verdict now */
        check_hw(req, csr.hw_mismatch, csr.hw_serial, csr.hw_serial_len);
        return;
    }
    pend->hw_mismatch = csr.hw_mismatch;
    pend->hw_serial_len = csr.hw_serial_len;
    if (csr.hw_mismatch && csr.hw_serial_len == 8) memcpy(pend->hw_serial, csr.hw_serial, 8);
}

enum req_code validate_request(struct validate_ctx *ctx, struct request *req,
                               const char *csr_b64, size_t csr_len)
{
    return validate_request_at(ctx, req, csr_b64, csr_len, VALIDATE_NO_POS);
}

enum req_code validate_request_at(struct validate_ctx *ctx, struct request *req,
                                  const char *csr_b64, size_t csr_len, uint32_t pos)
{
    check_one(ctx, req, csr_b64, csr_len, pos);
    finish_pending(ctx);
    return req->code;
}

void validate_chunk(struct validate_ctx *ctx, struct chunk *c, uint32_t from, uint32_t to)
{
    if (to > c->n) to = c->n;
    for (uint32_t i = from; i < to; i++) {
        struct request *r = &c->req[i];
        check_one(ctx, r, chunk_csr(c, r), r->csr_len, c->first_index + i);
    }
    finish_pending(ctx);
}
