/* fuzz_validate.c - libFuzzer harness for the per-request checks
 * (stages/validate.c, with b64.c, der.c and eui64.c under it).
 *
 * Every input goes through validate_request twice over:
 *   - as CSRBody text (base64, whitespace and all), with DeviceID/usage pairs
 *     taken from a small table (valid hyphenated + DS, valid 16 digits + KA,
 *     and one pair chosen by the input's size among the odd ones);
 *   - as the raw DER of a CSR, base64-encoded first (inputs up to 6,144
 *     octets, the XSD's 8,192 characters), with the DeviceID of the seed CSRs
 *     (gencsr --device-base 00DB123456789000) and DS, then KA.
 *
 * Checks beyond the sanitizers: the code is a per-request code validate may
 * give (never a duplicate or E_INTERNAL), errtext is NUL-terminated, printable
 * and non-empty for a fault; and a request validate passes (RC_OK) must also
 * satisfy OpenSSL: d2i_X509_REQ parses the DER, consumes all of it, the key is
 * an uncompressed P-256 point equal to req->point, key_hash is its SHA-256,
 * the signature algorithm is ecdsa-with-SHA256, and X509_REQ_verify accepts
 * the self-signature.  A disagreement aborts (a validator that passes what
 * OpenSSL rejects would certify keys without proof of possession).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/err.h>

#include "b64.h"
#include "codes.h"
#include "request.h"
#include "validate.h"

static struct validate_ctx *ctx;

static const struct { const char *dev, *usage; } PAIRS[] = {
    {"00-DB-12-34-56-78-90-00", "DS"},     /* the seed CSRs' device */
    {"00db123456789000", "KA"},
    {"00-00-00-00-00-00-00-00", "DS"},
    {"FF-FF-FF-FF-FF-FF-FF-FF", "KA"},
    {"00DB12345678900", "DS"},             /* 15 digits */
    {"00-DB-12-34-56-78-90-00", "ds"},
    {"00-db-12-34-56-78-90-01", "KA"},     /* another device: E_ID_MISMATCH for the seeds */
    {"", ""},
};
#define NPAIRS (sizeof PAIRS / sizeof PAIRS[0])

static void die(const char *what, const struct request *r, const uint8_t *der, size_t len)
{
    fprintf(stderr, "fuzz_validate: %s (code %s, '%s', DeviceID '%s', usage '%s', DER %zu octets)\n", what,
            req_code_name(r->code), r->errtext, r->device_text, r->usage_text, len);
    (void)der;
    abort();
}

/* decode the base64 text the same way, to have the DER for the oracle */
static size_t der_of(const char *b64, size_t len, uint8_t *out, size_t cap)
{
    ptrdiff_t n = b64_decode(b64, len, out, cap, NULL);
    return n < 0 ? 0 : (size_t)n;
}

static void oracle(const struct request *r, const char *b64, size_t len)
{
    static uint8_t der[8192];
    size_t n = der_of(b64, len, der, sizeof der);
    if (!n)
        die("RC_OK but the base64 does not decode", r, der, n);
    const unsigned char *p = der;
    X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)n);
    if (!req)
        die("RC_OK but OpenSSL cannot parse the CSR", r, der, n);
    if ((size_t)(p - der) != n)
        die("RC_OK but OpenSSL leaves trailing octets", r, der, n);
    const X509_ALGOR *alg = NULL;
    X509_REQ_get0_signature(req, NULL, &alg);
    const ASN1_OBJECT *oid = NULL;
    X509_ALGOR_get0(&oid, NULL, NULL, alg);
    if (OBJ_obj2nid(oid) != NID_ecdsa_with_SHA256)
        die("RC_OK but the signature algorithm is not ecdsa-with-SHA256", r, der, n);
    EVP_PKEY *pk = X509_REQ_get0_pubkey(req);
    if (!pk || EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC)
        die("RC_OK but the key is not EC", r, der, n);
    char group[64] = "";
    size_t gl = 0;
    if (!EVP_PKEY_get_utf8_string_param(pk, "group", group, sizeof group, &gl) || strcmp(group, "prime256v1") != 0)
        die("RC_OK but the key is not on prime256v1", r, der, n);
    unsigned char pt[133];
    size_t ptl = 0;
    if (!EVP_PKEY_get_octet_string_param(pk, "encoded-pub-key", pt, sizeof pt, &ptl) || ptl != 65 ||
        memcmp(pt, r->point, 65) != 0)
        die("RC_OK but req->point is not the CSR's key", r, der, n);
    uint8_t h[32];
    SHA256(r->point, 65, h);
    if (memcmp(h, r->key_hash, 32) != 0)
        die("RC_OK but key_hash is not SHA-256 of the point", r, der, n);
    if (X509_REQ_verify(req, pk) != 1)
        die("RC_OK but OpenSSL does not verify the self-signature", r, der, n);
    X509_REQ_free(req);
    ERR_clear_error();
}

static void one(const char *dev, const char *usage, const char *b64, size_t len)
{
    struct request r;
    memset(&r, 0, sizeof r);
    snprintf(r.device_text, sizeof r.device_text, "%s", dev);
    snprintf(r.usage_text, sizeof r.usage_text, "%s", usage);
    memset(r.errtext, 0x5a, sizeof r.errtext);
    enum req_code c = validate_request(ctx, &r, b64, len);
    if (c != r.code || c < RC_OK || c > RC_ID_MISMATCH)
        die("unexpected code", &r, NULL, len);
    if (!memchr(r.errtext, '\0', sizeof r.errtext))
        die("errtext not NUL-terminated", &r, NULL, len);
    for (const char *s = r.errtext; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            die("errtext with a non-printable octet", &r, NULL, len);
    if (c != RC_OK && !r.errtext[0])
        die("a fault without errtext", &r, NULL, len);
    if (c == RC_OK)
        oracle(&r, b64, len);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    ctx = validate_ctx_new();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char text[B64_ENCODED_LEN(6144) + 1];
    /* 1. the bytes as CSRBody text */
    if (size <= REQ_CSR_B64_MAX + 64) {
        char *copy = malloc(size + 1);      /* exact size: ASan sees overreads */
        memcpy(copy, data, size);
        copy[size] = '\0';
        one(PAIRS[0].dev, PAIRS[0].usage, copy, size);
        one(PAIRS[1].dev, PAIRS[1].usage, copy, size);
        one(PAIRS[2 + size % (NPAIRS - 2)].dev, PAIRS[2 + size % (NPAIRS - 2)].usage, copy, size);
        free(copy);
    }
    /* 2. the bytes as DER, base64-encoded */
    if (size <= 6144) {
        ptrdiff_t n = b64_encode(data, size, text, sizeof text);
        if (n < 0)
            abort();
        char *copy = malloc((size_t)n + 1);
        memcpy(copy, text, (size_t)n);
        copy[n] = '\0';
        one(PAIRS[0].dev, "DS", copy, (size_t)n);
        one(PAIRS[0].dev, "KA", copy, (size_t)n);
        one(PAIRS[6].dev, "DS", copy, (size_t)n);
        free(copy);
    }
    return 0;
}
