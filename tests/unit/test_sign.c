/* test_sign.c - cmocka tests of the signer (stages/sign.c).
 *
 * A demo CA is made in a temporary directory, device certificates are issued
 * for fresh P-256 keys, and each one is parsed back with OpenSSL's d2i_X509
 * and checked, row by row, against SPEC.md section 4 -- independently of
 * sign_check_cert, with hand-encoded expected bytes where the profile fixes
 * them.  Also: serial uniqueness, sign_check_cert against flipped bytes,
 * signer_open_file failures, the demo CA itself, UTCTime limits, parallel
 * sessions, an optional GnuTLS cross-check (skipped without certtool), and a
 * timing loop that prints microseconds per certificate (not asserted).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sign.h"

#define POLICY_OID "1.2.826.0.1.8641679.1.2.1.1"
#define HWTYPE_OID "2.999.1"
#define CA_NAME    "SMKI Batch Test Issuing CA"

static const struct sign_profile PROFILE = {POLICY_OID, HWTYPE_OID};
static const uint8_t DEVICE[8] = {0x00, 0xdb, 0x12, 0x34, 0x56, 0x78, 0x90, 0xa4};

/* hand-encoded expectations (SPEC section 4, default profile) */
static const uint8_t SPKI_PREFIX[26] = {
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
    0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};
static const uint8_t KU_DS_VALUE[4] = {0x03, 0x02, 0x07, 0x80};
static const uint8_t KU_KA_VALUE[4] = {0x03, 0x02, 0x03, 0x08};
static const uint8_t CP_VALUE[19] = {
    0x30, 0x11, 0x30, 0x0f, 0x06, 0x0d, 0x2a, 0x86, 0x3a, 0x00, 0x01,
    0x84, 0x8f, 0xb9, 0x0f, 0x01, 0x02, 0x01, 0x01};
/* GeneralNames { [0] otherName { id-on-hardwareModuleName, [0] { SEQUENCE {
 *   hwType 2.999.1, hwSerialNum OCTET STRING (8) } } } } -- device appended */
static const uint8_t SAN_PREFIX[25] = {
    0x30, 0x1f, 0xa0, 0x1d, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x08,
    0x04, 0xa0, 0x11, 0x30, 0x0f, 0x06, 0x03, 0x88, 0x37, 0x01, 0x04, 0x08};

struct fixture {
    char dir[64];
    char cert_path[128], key_path[128];
    struct signer *s;
    struct sign_session *ss;
    X509 *ca;
    time_t now;
};
static struct fixture F;

/* path_in - dir/name into out */
static void path_in(char *out, size_t len, const char *dir, const char *name)
{
    snprintf(out, len, "%s/%s", dir, name);
}

/* gen_point - a fresh P-256 key's uncompressed point */
static void gen_point(uint8_t point[65])
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    size_t len = 0;
    assert_non_null(k);
    assert_true(EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, point, 65, &len));
    assert_int_equal(len, 65);
    EVP_PKEY_free(k);
}

/* make_req - a request as validate leaves it for the signer */
static void make_req(struct request *r, enum usage u)
{
    memset(r, 0, sizeof *r);
    r->code = RC_OK;
    r->usage = u;
    memcpy(r->device, DEVICE, 8);
    gen_point(r->point);
    SHA256(r->point, 65, r->key_hash);
}

/* load_pem_cert - read a PEM certificate file */
static X509 *load_pem_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    X509 *x;
    assert_non_null(f);
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    return x;
}

/* ext_value_is - extension i has exactly these extnValue octets */
static void ext_value_is(X509 *x, int i, const uint8_t *want, size_t len)
{
    const ASN1_OCTET_STRING *d = X509_EXTENSION_get_data(X509_get_ext(x, i));
    assert_non_null(d);
    assert_int_equal(d->length, len);
    assert_memory_equal(d->data, want, len);
}

/* obj_text_is - an OID's dotted text */
static void obj_text_is(const ASN1_OBJECT *o, const char *want)
{
    char buf[128];
    assert_non_null(o);
    assert_true(OBJ_obj2txt(buf, sizeof buf, o, 1) > 0);
    assert_string_equal(buf, want);
}

/* assert_profile - every row of SPEC section 4 for one issued certificate */
static void assert_profile(const struct request *r, time_t now)
{
    const unsigned char *p = r->cert;
    X509 *x = d2i_X509(NULL, &p, r->cert_len);
    unsigned char *a = NULL, *b = NULL;
    int la, lb;
    char nb[16];
    struct tm tm;
    uint8_t md[32];

    assert_non_null(x);
    assert_ptr_equal(p, r->cert + r->cert_len);          /* no trailing octets */
    /* version v3, ecdsa-with-SHA256 without parameters in both places */
    assert_int_equal(X509_get_version(x), X509_VERSION_3);
    assert_int_equal(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
    {
        const X509_ALGOR *outer;
        int ptype;
        X509_get0_signature(NULL, &outer, x);
        assert_int_equal(X509_ALGOR_cmp(outer, X509_get0_tbs_sigalg(x)), 0);
        X509_ALGOR_get0(NULL, &ptype, NULL, outer);
        assert_int_equal(ptype, V_ASN1_UNDEF);
    }
    /* serialNumber: 16 content octets, positive, first octet non-zero */
    {
        const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
        assert_int_equal(sn->type, V_ASN1_INTEGER);
        assert_int_equal(sn->length, 16);
        assert_memory_equal(sn->data, r->serial, 16);
        assert_true(r->serial[0] != 0 && r->serial[0] < 0x80);
    }
    /* issuer: the CA subject, byte for byte */
    la = i2d_X509_NAME(X509_get_issuer_name(x), &a);
    lb = i2d_X509_NAME(X509_get_subject_name(F.ca), &b);
    assert_true(la > 0);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, (size_t)la);
    OPENSSL_free(a);
    OPENSSL_free(b);
    a = b = NULL;
    /* validity: notBefore = now as UTCTime, notAfter 99991231235959Z */
    gmtime_r(&now, &tm);
    strftime(nb, sizeof nb, "%y%m%d%H%M%SZ", &tm);
    assert_int_equal(X509_get0_notBefore(x)->type, V_ASN1_UTCTIME);
    assert_int_equal(X509_get0_notBefore(x)->length, 13);
    assert_memory_equal(X509_get0_notBefore(x)->data, nb, 13);
    assert_int_equal(X509_get0_notAfter(x)->type, V_ASN1_GENERALIZEDTIME);
    assert_int_equal(X509_get0_notAfter(x)->length, 15);
    assert_memory_equal(X509_get0_notAfter(x)->data, "99991231235959Z", 15);
    /* subject: empty SEQUENCE */
    la = i2d_X509_NAME(X509_get_subject_name(x), &a);
    assert_int_equal(la, 2);
    assert_int_equal(a[0], 0x30);
    assert_int_equal(a[1], 0x00);
    OPENSSL_free(a);
    a = NULL;
    /* subjectPublicKeyInfo: id-ecPublicKey, prime256v1, the point */
    la = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &a);
    assert_int_equal(la, 91);
    assert_memory_equal(a, SPKI_PREFIX, sizeof SPKI_PREFIX);
    assert_memory_equal(a + 26, r->point, 65);
    OPENSSL_free(a);
    a = NULL;
    /* exactly five extensions, in order, with criticality */
    {
        static const int nid[5] = {NID_key_usage, NID_certificate_policies, NID_subject_alt_name,
                                   NID_subject_key_identifier, NID_authority_key_identifier};
        static const int crit[5] = {1, 1, 1, 0, 0};
        assert_int_equal(X509_get_ext_count(x), 5);
        for (int i = 0; i < 5; i++) {
            X509_EXTENSION *e = X509_get_ext(x, i);
            assert_int_equal(OBJ_obj2nid(X509_EXTENSION_get_object(e)), nid[i]);
            assert_int_equal(X509_EXTENSION_get_critical(e), crit[i]);
        }
        assert_int_equal(X509_get_extension_flags(x) & EXFLAG_INVALID, 0);
    }
    /* keyUsage: exactly one bit */
    assert_int_equal(X509_get_key_usage(x),
                     r->usage == USAGE_DS ? KU_DIGITAL_SIGNATURE : KU_KEY_AGREEMENT);
    ext_value_is(x, 0, r->usage == USAGE_DS ? KU_DS_VALUE : KU_KA_VALUE, 4);
    /* certificatePolicies: one policy, no qualifiers */
    {
        CERTIFICATEPOLICIES *pol = X509_get_ext_d2i(x, NID_certificate_policies, NULL, NULL);
        assert_non_null(pol);
        assert_int_equal(sk_POLICYINFO_num(pol), 1);
        obj_text_is(sk_POLICYINFO_value(pol, 0)->policyid, POLICY_OID);
        assert_null(sk_POLICYINFO_value(pol, 0)->qualifiers);
        CERTIFICATEPOLICIES_free(pol);
        ext_value_is(x, 1, CP_VALUE, sizeof CP_VALUE);
    }
    /* subjectAltName: one otherName hardwareModuleName { hwType, hwSerialNum } */
    {
        GENERAL_NAMES *g = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
        GENERAL_NAME *n;
        STACK_OF(ASN1_TYPE) *seq;
        const unsigned char *q;
        uint8_t want[sizeof SAN_PREFIX + 8];
        assert_non_null(g);
        assert_int_equal(sk_GENERAL_NAME_num(g), 1);
        n = sk_GENERAL_NAME_value(g, 0);
        assert_int_equal(n->type, GEN_OTHERNAME);
        obj_text_is(n->d.otherName->type_id, "1.3.6.1.5.5.7.8.4");
        assert_int_equal(n->d.otherName->value->type, V_ASN1_SEQUENCE);
        q = n->d.otherName->value->value.sequence->data;
        seq = d2i_ASN1_SEQUENCE_ANY(NULL, &q, n->d.otherName->value->value.sequence->length);
        assert_non_null(seq);
        assert_int_equal(sk_ASN1_TYPE_num(seq), 2);
        assert_int_equal(sk_ASN1_TYPE_value(seq, 0)->type, V_ASN1_OBJECT);
        obj_text_is(sk_ASN1_TYPE_value(seq, 0)->value.object, HWTYPE_OID);
        assert_int_equal(sk_ASN1_TYPE_value(seq, 1)->type, V_ASN1_OCTET_STRING);
        assert_int_equal(sk_ASN1_TYPE_value(seq, 1)->value.octet_string->length, 8);
        assert_memory_equal(sk_ASN1_TYPE_value(seq, 1)->value.octet_string->data, DEVICE, 8);
        sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
        GENERAL_NAMES_free(g);
        memcpy(want, SAN_PREFIX, sizeof SAN_PREFIX);
        memcpy(want + sizeof SAN_PREFIX, DEVICE, 8);
        ext_value_is(x, 2, want, sizeof want);
    }
    /* subjectKeyIdentifier: SHA-256(point)[0..8] */
    SHA256(r->point, 65, md);
    {
        const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);
        uint8_t want[10] = {0x04, 0x08};
        assert_non_null(ski);
        assert_int_equal(ski->length, 8);
        assert_memory_equal(ski->data, md, 8);
        memcpy(want + 2, md, 8);
        ext_value_is(x, 3, want, sizeof want);
    }
    /* authorityKeyIdentifier: keyIdentifier only = the CA's SKI */
    {
        const ASN1_OCTET_STRING *cask = X509_get0_subject_key_id(F.ca);
        const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(x);
        uint8_t want[4 + 8] = {0x30, 0x0a, 0x80, 0x08};
        assert_non_null(cask);
        assert_int_equal(cask->length, 8);
        assert_non_null(aki);
        assert_int_equal(aki->length, cask->length);
        assert_memory_equal(aki->data, cask->data, 8);
        assert_null(X509_get0_authority_issuer(x));
        assert_null(X509_get0_authority_serial(x));
        memcpy(want + 4, cask->data, 8);
        ext_value_is(x, 4, want, sizeof want);
    }
    /* signature: verifies with the CA key; the chain verifies with OpenSSL */
    assert_int_equal(X509_verify(x, X509_get0_pubkey(F.ca)), 1);
    {
        X509_STORE *st = X509_STORE_new();
        X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        assert_true(X509_STORE_add_cert(st, F.ca));
        assert_true(X509_STORE_CTX_init(ctx, st, x, NULL));
        X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_X509_STRICT);
        X509_STORE_CTX_set_time(ctx, 0, (now > time(NULL) ? now : time(NULL)) + 60);
        if (X509_verify_cert(ctx) != 1)
            fail_msg("X509_verify_cert: %s",
                     X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
        X509_STORE_CTX_free(ctx);
        X509_STORE_free(st);
    }
    X509_free(x);
}

/* group_setup - a demo CA, a signer and a session for the whole file */
static int group_setup(void **state)
{
    char err[256];
    struct tm tm = {.tm_year = 126, .tm_mon = 10, .tm_mday = 22, .tm_hour = 19, .tm_min = 30};
    (void)state;
    snprintf(F.dir, sizeof F.dir, "/tmp/test_sign.XXXXXX");
    if (!mkdtemp(F.dir))
        return -1;
    path_in(F.cert_path, sizeof F.cert_path, F.dir, "issuing-ca.pem");
    path_in(F.key_path, sizeof F.key_path, F.dir, "issuing-ca.key");
    if (sign_make_demo_ca(CA_NAME, F.cert_path, F.key_path, err, sizeof err)) {
        fprintf(stderr, "demo CA: %s\n", err);
        return -1;
    }
    F.s = signer_open_file(F.cert_path, F.key_path, &PROFILE, err, sizeof err);
    if (!F.s) {
        fprintf(stderr, "open: %s\n", err);
        return -1;
    }
    F.ss = sign_session_new(F.s, err, sizeof err);
    if (!F.ss)
        return -1;
    F.ca = load_pem_cert(F.cert_path);
    F.now = timegm(&tm);
    return 0;
}

/* group_teardown - remove the temporary directory */
static int group_teardown(void **state)
{
    char cmd[128];
    (void)state;
    sign_session_free(F.ss);
    signer_close(F.s);
    X509_free(F.ca);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", F.dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* test_issue_ds_ka - both usages, every row of SPEC section 4 */
static void test_issue_ds_ka(void **state)
{
    static struct request r;
    char err[256];
    struct cert_tmpl t;
    (void)state;
    assert_int_equal(signer_cert_template(F.s, &t), 0);
    for (int u = USAGE_DS; u <= USAGE_KA; u++) {
        for (int i = 0; i < 20; i++) {
            make_req(&r, (enum usage)u);
            assert_int_equal(sign_request(F.ss, &r, F.now), 0);
            assert_int_equal(r.code, RC_OK);
            /* the signer's template describes it: packed to well under half,
             * and back to the very octets (certpack.h) */
            uint8_t rec[REQ_CERT_MAX], back[REQ_CERT_MAX];
            size_t n = certpack_pack(&t, r.cert, r.cert_len, rec, sizeof rec);
            if (n == 0 || n >= r.cert_len / 2u) fail_msg("packed to %zu of %u octets", n, r.cert_len);
            assert_int_equal(certpack_unpack(&t, rec, n, back, sizeof back), r.cert_len);
            assert_memory_equal(back, r.cert, r.cert_len);
            assert_profile(&r, F.now);
            if (sign_check_cert(F.s, &r, 1, err, sizeof err))
                fail_msg("full check: %s", err);
            if (sign_check_cert(F.s, &r, 0, err, sizeof err))
                fail_msg("cheap check: %s", err);
        }
    }
}

/* test_ca_der - signer_ca_der is the CA certificate */
static void test_ca_der(void **state)
{
    size_t len;
    const uint8_t *der = signer_ca_der(F.s, &len);
    unsigned char *want = NULL;
    int n = i2d_X509(F.ca, &want);
    (void)state;
    assert_int_equal(len, n);
    assert_memory_equal(der, want, len);
    OPENSSL_free(want);
}

/* cmp_serial - qsort order for 16-octet serials */
static int cmp_serial(const void *a, const void *b)
{
    return memcmp(a, b, 16);
}

/* test_serials_differ - 2000 issues, all serials well-formed and distinct */
static void test_serials_differ(void **state)
{
    enum { N = 2000 };
    static struct request r;
    static uint8_t serials[N][16];
    int top_byte_seen[128] = {0}, distinct_first = 0;
    (void)state;
    make_req(&r, USAGE_DS);
    for (int i = 0; i < N; i++) {
        r.code = RC_OK;
        assert_int_equal(i % 2 ? sign_reissue(F.ss, &r, F.now) : sign_request(F.ss, &r, F.now), 0);
        assert_true(r.serial[0] >= 1 && r.serial[0] <= 0x7f);
        memcpy(serials[i], r.serial, 16);
        top_byte_seen[r.serial[0]] = 1;
    }
    qsort(serials, N, 16, cmp_serial);
    for (int i = 1; i < N; i++)
        assert_true(memcmp(serials[i - 1], serials[i], 16) != 0);
    for (int i = 0; i < 128; i++)
        distinct_first += top_byte_seen[i];
    assert_int_equal(top_byte_seen[0], 0);
    assert_true(distinct_first > 100);   /* first octet spread over 1..127 */
}

/* locate - offset of needle in hay, or -1 */
static long locate(const uint8_t *hay, size_t hlen, const uint8_t *needle, size_t nlen)
{
    for (size_t i = 0; i + nlen <= hlen; i++)
        if (memcmp(hay + i, needle, nlen) == 0)
            return (long)i;
    return -1;
}

/* test_check_flips - every flipped octet fails the full check; every one
 * outside notBefore and the r,s values fails the cheap check too */
static void test_check_flips(void **state)
{
    static struct request r, bad;
    char err[256], nb[16];
    struct tm tm;
    long nb_off, sig_off;
    size_t sig_len;
    (void)state;
    make_req(&r, USAGE_KA);
    assert_int_equal(sign_request(F.ss, &r, F.now), 0);
    gmtime_r(&F.now, &tm);
    strftime(nb, sizeof nb, "%y%m%d%H%M%SZ", &tm);
    nb_off = locate(r.cert, r.cert_len, (const uint8_t *)nb, 13);
    assert_true(nb_off > 0);
    /* signatureValue: 03 len 00 30 len 02 rlen r 02 slen s, at the end */
    for (sig_off = (long)r.cert_len - 2; sig_off > 0; sig_off--)
        if (r.cert[sig_off] == 0x03 && r.cert[sig_off + 1] == r.cert_len - sig_off - 2 &&
            r.cert[sig_off + 2] == 0x00 && r.cert[sig_off + 3] == 0x30)
            break;
    assert_true(sig_off > 0);
    sig_len = r.cert_len - (size_t)sig_off;
    for (size_t i = 0; i < r.cert_len; i++) {
        int in_nb = (long)i >= nb_off && (long)i < nb_off + 13;
        /* r and s contents: after 03 L 00 30 L 02 rl, r, 02 sl, s */
        size_t rs0 = (size_t)sig_off + 5, rl = r.cert[rs0 + 1];
        int in_r = i >= rs0 + 2 && i < rs0 + 2 + rl;
        int in_s = i >= rs0 + 2 + rl + 2 && i < (size_t)sig_off + sig_len;
        for (int k = 0; k < 2; k++) {
            uint8_t mask = k ? 0x80 : 0x01;
            bad = r;
            bad.cert[i] ^= mask;
            if (!in_nb && !in_r && !in_s && sign_check_cert(F.s, &bad, 0, err, sizeof err) == 0)
                fail_msg("cheap check passed with octet %zu ^ 0x%02x", i, mask);
            if (k == 0 && sign_check_cert(F.s, &bad, 1, err, sizeof err) == 0)
                fail_msg("full check passed with octet %zu ^ 0x%02x", i, mask);
        }
    }
    /* the request's side of the varying fields */
    struct { const char *what; size_t off; } fields[] = {
        {"serial", offsetof(struct request, serial)},
        {"point", offsetof(struct request, point) + 30},
        {"device", offsetof(struct request, device) + 7},
    };
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
        bad = r;
        ((uint8_t *)&bad)[fields[f].off] ^= 0x01;
        assert_int_equal(sign_check_cert(F.s, &bad, 0, err, sizeof err), -1);
        assert_int_equal(sign_check_cert(F.s, &bad, 1, err, sizeof err), -1);
    }
    bad = r;
    bad.usage = USAGE_DS;
    assert_int_equal(sign_check_cert(F.s, &bad, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "keyUsage"));
    bad = r;
    bad.cert_len -= 1;
    assert_int_equal(sign_check_cert(F.s, &bad, 0, err, sizeof err), -1);
    assert_int_equal(sign_check_cert(F.s, &bad, 1, err, sizeof err), -1);
    bad = r;
    bad.cert[bad.cert_len++] = 0;   /* trailing octet */
    assert_int_equal(sign_check_cert(F.s, &bad, 0, err, sizeof err), -1);
    assert_int_equal(sign_check_cert(F.s, &bad, 1, err, sizeof err), -1);
    /* still good as issued */
    assert_int_equal(sign_check_cert(F.s, &r, 1, err, sizeof err), 0);
}

/* test_time_limits - UTCTime covers 1950..2049 only */
static void test_time_limits(void **state)
{
    static struct request r;
    struct tm last = {.tm_year = 149, .tm_mon = 11, .tm_mday = 31, .tm_hour = 23,
                      .tm_min = 59, .tm_sec = 59};
    time_t t = timegm(&last);
    char err[256];
    (void)state;
    make_req(&r, USAGE_DS);
    assert_int_equal(sign_request(F.ss, &r, t), 0);
    assert_profile(&r, t);
    assert_int_equal(sign_check_cert(F.s, &r, 1, err, sizeof err), 0);
    r.code = RC_OK;
    assert_int_equal(sign_request(F.ss, &r, t + 1), -1);
    assert_int_equal(r.code, RC_INTERNAL);
    assert_non_null(strstr(r.errtext, "UTCTime"));
    r.code = RC_OK;
    assert_int_equal(sign_request(F.ss, &r, (time_t)-631152001), -1);   /* 1949-12-31 */
    assert_int_equal(r.code, RC_INTERNAL);
    /* a request already rejected is left alone */
    r.code = RC_DUPLICATE_KEY;
    assert_int_equal(sign_request(F.ss, &r, F.now), -1);
    assert_int_equal(r.code, RC_DUPLICATE_KEY);
}

/* write_file - text into dir/name */
static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* make_ca - a self-signed CA with chosen defects, written as PEM; its
 * subject has `ous` organizational units of 60 letters before its CN */
static void make_ca(const char *cert_path, const char *key_path, const char *curve,
                    int with_bc, int with_ski, int ous)
{
    EVP_PKEY *k = EVP_EC_gen(curve);
    X509 *x = X509_new();
    X509_NAME *n = X509_NAME_new();
    FILE *f;
    assert_non_null(k);
    X509_set_version(x, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
    for (int i = 0; i < ous; i++) {
        char ou[61];
        memset(ou, 'a' + i % 26, 60);
        ou[60] = '\0';
        X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_ASC, (const unsigned char *)ou, -1, -1, 0);
    }
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"defective", -1, -1, 0);
    X509_set_subject_name(x, n);
    X509_set_issuer_name(x, n);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, k);
    if (with_bc) {
        BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
        bc->ca = 0xff;
        X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1, 0);
        BASIC_CONSTRAINTS_free(bc);
    }
    if (with_ski) {
        ASN1_OCTET_STRING *o = ASN1_OCTET_STRING_new();
        ASN1_OCTET_STRING_set(o, (const unsigned char *)"\1\2\3\4\5\6\7\10", 8);
        X509_add1_ext_i2d(x, NID_subject_key_identifier, o, 0, 0);
        ASN1_OCTET_STRING_free(o);
    }
    assert_true(X509_sign(x, k, EVP_sha256()) > 0);
    f = fopen(cert_path, "w");
    PEM_write_X509(f, x);
    fclose(f);
    f = fopen(key_path, "w");
    PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    X509_NAME_free(n);
    X509_free(x);
    EVP_PKEY_free(k);
}

/* open_fails - signer_open_file fails and err mentions want */
static void open_fails(const char *cert, const char *key, const struct sign_profile *prof,
                       const char *want)
{
    char err[512] = "";
    struct signer *s = signer_open_file(cert, key, prof, err, sizeof err);
    if (s) {
        signer_close(s);
        fail_msg("signer_open_file(%s, %s) succeeded; wanted \"%s\"", cert, key, want);
    }
    if (!strstr(err, want))
        fail_msg("error \"%s\" does not mention \"%s\"", err, want);
}

/* test_open_errors - the ways a CA configuration can be wrong */
static void test_open_errors(void **state)
{
    char c2[128], k2[128], c3[128], k3[128], missing[128], err[256];
    (void)state;
    path_in(missing, sizeof missing, F.dir, "nope.pem");
    open_fails(missing, F.key_path, &PROFILE, missing);
    open_fails(F.cert_path, missing, &PROFILE, missing);
    open_fails(F.key_path, F.key_path, &PROFILE, "no PEM certificate");
    open_fails(F.cert_path, F.cert_path, &PROFILE, "no PEM private key");

    /* a second CA: its key does not match the first certificate */
    path_in(c2, sizeof c2, F.dir, "other.pem");
    path_in(k2, sizeof k2, F.dir, "other.key");
    assert_int_equal(sign_make_demo_ca("Other CA", c2, k2, err, sizeof err), 0);
    open_fails(F.cert_path, k2, &PROFILE, "does not match");

    /* a CA without subjectKeyIdentifier, one without basicConstraints, P-384 */
    path_in(c3, sizeof c3, F.dir, "noski.pem");
    path_in(k3, sizeof k3, F.dir, "noski.key");
    make_ca(c3, k3, "P-256", 1, 0, 0);
    open_fails(c3, k3, &PROFILE, "subjectKeyIdentifier");
    path_in(c3, sizeof c3, F.dir, "nobc.pem");
    path_in(k3, sizeof k3, F.dir, "nobc.key");
    make_ca(c3, k3, "P-256", 0, 1, 0);
    open_fails(c3, k3, &PROFILE, "not a CA");
    path_in(c3, sizeof c3, F.dir, "p384.pem");
    path_in(k3, sizeof k3, F.dir, "p384.key");
    make_ca(c3, k3, "P-384", 1, 1, 0);
    open_fails(c3, k3, &PROFILE, "P-256");
    /* a defective but 8-octet-SKI P-256 CA with basicConstraints opens */
    path_in(c3, sizeof c3, F.dir, "ok.pem");
    path_in(k3, sizeof k3, F.dir, "ok.key");
    make_ca(c3, k3, "P-256", 1, 1, 0);
    signer_close(signer_open_file(c3, k3, &PROFILE, err, sizeof err));
    /* a subject name of about 500 octets still fits REQ_CERT_MAX, and the
     * certificates under it conform; one of about 700 is refused at open */
    {
        static struct request r;
        struct signer *s;
        struct sign_session *ss;
        make_ca(c3, k3, "P-256", 1, 1, 7);
        s = signer_open_file(c3, k3, &PROFILE, err, sizeof err);
        if (!s) fail_msg("CA with a 7-OU subject: %s", err);
        ss = sign_session_new(s, err, sizeof err);
        assert_non_null(ss);
        make_req(&r, USAGE_DS);
        assert_int_equal(sign_request(ss, &r, F.now), 0);
        assert_in_range(r.cert_len, 900, REQ_CERT_MAX);
        if (sign_check_cert(s, &r, 1, err, sizeof err) != 0) fail_msg("long-issuer certificate: %s", err);
        sign_session_free(ss);
        signer_close(s);
        make_ca(c3, k3, "P-256", 1, 1, 10);
        open_fails(c3, k3, &PROFILE, "use a CA with a shorter subject");
    }

    /* encrypted keys are refused, never prompted for */
    {
        EVP_PKEY *k = EVP_EC_gen("P-256");
        char kp[128];
        FILE *f;
        path_in(kp, sizeof kp, F.dir, "enc.key");
        f = fopen(kp, "w");
        assert_true(PEM_write_PrivateKey(f, k, EVP_aes_128_cbc(), (unsigned char *)"pw", 2,
                                         NULL, NULL));
        fclose(f);
        EVP_PKEY_free(k);
        open_fails(F.cert_path, kp, &PROFILE, "no PEM private key");
    }
    write_file(missing, "not a PEM file\n");
    open_fails(missing, F.key_path, &PROFILE, "no PEM certificate");
}

/* test_profile_oids - malformed OIDs are refused at open, good ones taken */
static void test_profile_oids(void **state)
{
    static const char *const bad[] = {
        "", "1", "1.", ".1", "1..2", "3.1", "1.40", "0.40", "1.2.a", "1.02", "01.2",
        "1.2.", "1.2 ", " 1.2", "1.-2", "+1.2", "1.2.18446744073709551616",
        "2.18446744073709551600", "1.2.3,4",
    };
    static const char *const good[] = {
        "0.0", "1.39", "2.999.1", "2.5.29.32.0", "1.2.18446744073709551615",
        "1.2.826.0.1.8641679.1.2.1.1", "2.999",
    };
    char err[512];
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct sign_profile p1 = {bad[i], HWTYPE_OID}, p2 = {POLICY_OID, bad[i]};
        open_fails(F.cert_path, F.key_path, &p1, "policy_oid");
        open_fails(F.cert_path, F.key_path, &p2, "hw_type_oid");
    }
    open_fails(F.cert_path, F.key_path, &(struct sign_profile){NULL, HWTYPE_OID}, "profile");
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        struct sign_profile p = {good[i], good[i]};
        struct signer *s = signer_open_file(F.cert_path, F.key_path, &p, err, sizeof err);
        struct sign_session *ss;
        static struct request r;
        X509 *x;
        const unsigned char *q;
        CERTIFICATEPOLICIES *pol;
        char txt[128];
        if (!s)
            fail_msg("OID %s refused: %s", good[i], err);
        ss = sign_session_new(s, err, sizeof err);
        assert_non_null(ss);
        make_req(&r, USAGE_DS);
        assert_int_equal(sign_request(ss, &r, F.now), 0);
        if (sign_check_cert(s, &r, 1, err, sizeof err))
            fail_msg("OID %s: %s", good[i], err);
        /* OpenSSL reads back the same dotted OID */
        q = r.cert;
        x = d2i_X509(NULL, &q, r.cert_len);
        assert_non_null(x);
        pol = X509_get_ext_d2i(x, NID_certificate_policies, NULL, NULL);
        assert_non_null(pol);
        OBJ_obj2txt(txt, sizeof txt, sk_POLICYINFO_value(pol, 0)->policyid, 1);
        assert_string_equal(txt, good[i]);
        CERTIFICATEPOLICIES_free(pol);
        X509_free(x);
        sign_session_free(ss);
        signer_close(s);
    }
}

/* test_demo_ca - SPEC section 1 init --demo-ca */
static void test_demo_ca(void **state)
{
    struct stat st;
    char c[128], k[128], err[256], buf[64];
    FILE *f;
    X509 *x;
    (void)state;
    assert_int_equal(stat(F.key_path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_true(S_ISREG(st.st_mode));
    f = fopen(F.key_path, "r");
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "-----BEGIN PRIVATE KEY-----\n");   /* PKCS#8 */

    x = F.ca;
    assert_int_equal(X509_get_version(x), X509_VERSION_3);
    assert_int_equal(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
    assert_int_equal(X509_verify(x, X509_get0_pubkey(x)), 1);
    assert_int_equal(X509_check_ca(x), 1);
    {
        const X509_NAME *n = X509_get_subject_name(x);
        const ASN1_STRING *v;
        assert_int_equal(X509_NAME_entry_count(n), 2);
        assert_int_equal(OBJ_obj2nid(X509_NAME_ENTRY_get_object(X509_NAME_get_entry(n, 0))),
                         NID_organizationalUnitName);
        v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, 0));
        assert_int_equal(v->length, 2);
        assert_memory_equal(v->data, "07", 2);
        assert_int_equal(OBJ_obj2nid(X509_NAME_ENTRY_get_object(X509_NAME_get_entry(n, 1))),
                         NID_commonName);
        v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, 1));
        assert_int_equal(v->length, strlen(CA_NAME));
        assert_memory_equal(v->data, CA_NAME, strlen(CA_NAME));
        assert_int_equal(X509_NAME_cmp(n, X509_get_issuer_name(x)), 0);
    }
    {
        const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
        assert_int_equal(sn->length, 16);
        assert_true(sn->data[0] >= 1 && sn->data[0] <= 0x7f);
    }
    assert_int_equal(X509_get0_notAfter(x)->type, V_ASN1_GENERALIZEDTIME);
    assert_memory_equal(X509_get0_notAfter(x)->data, "99991231235959Z", 15);
    {
        int crit = -1;
        BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
        assert_non_null(bc);
        assert_int_equal(crit, 1);
        assert_true(bc->ca);
        assert_null(bc->pathlen);
        BASIC_CONSTRAINTS_free(bc);
        ASN1_BIT_STRING *ku = X509_get_ext_d2i(x, NID_key_usage, &crit, NULL);
        assert_non_null(ku);
        assert_int_equal(crit, 1);
        ASN1_BIT_STRING_free(ku);
        assert_int_equal(X509_get_key_usage(x), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
        ASN1_OCTET_STRING *ski = X509_get_ext_d2i(x, NID_subject_key_identifier, &crit, NULL);
        assert_non_null(ski);
        assert_int_equal(crit, 0);
        ASN1_OCTET_STRING_free(ski);
    }
    {
        /* SKI = leftmost 8 octets of SHA-256 of the point */
        const unsigned char *pt;
        int ptlen;
        uint8_t md[32];
        const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);
        assert_true(X509_PUBKEY_get0_param(NULL, &pt, &ptlen, NULL, X509_get_X509_PUBKEY(x)));
        assert_int_equal(ptlen, 65);
        SHA256(pt, 65, md);
        assert_int_equal(ski->length, 8);
        assert_memory_equal(ski->data, md, 8);
    }
    /* refuses to overwrite either file, and leaves them as they were */
    path_in(c, sizeof c, F.dir, "fresh.pem");
    path_in(k, sizeof k, F.dir, "fresh.key");
    assert_int_equal(sign_make_demo_ca("X", c, F.key_path, err, sizeof err), -1);
    assert_non_null(strstr(err, "refusing"));
    assert_int_equal(access(c, F_OK), -1);
    assert_int_equal(sign_make_demo_ca("X", F.cert_path, k, err, sizeof err), -1);
    assert_int_equal(access(k, F_OK), -1);
    {
        X509 *again = load_pem_cert(F.cert_path);
        assert_int_equal(X509_cmp(again, F.ca), 0);
        X509_free(again);
    }
    /* a dangling symlink in the key's place is not followed */
    assert_int_equal(symlink("/tmp/should-not-exist-smki", k), 0);
    assert_int_equal(sign_make_demo_ca("X", c, k, err, sizeof err), -1);
    assert_int_equal(access("/tmp/should-not-exist-smki", F_OK), -1);
    unlink(k);
    /* names: 1..64 characters */
    assert_int_equal(sign_make_demo_ca("", c, k, err, sizeof err), -1);
    {
        char longname[80];
        memset(longname, 'a', 65);
        longname[65] = '\0';
        assert_int_equal(sign_make_demo_ca(longname, c, k, err, sizeof err), -1);
    }
    /* an unwritable directory leaves nothing behind */
    {
        char d[128], c4[160], k4[160];
        path_in(d, sizeof d, F.dir, "missing-dir");
        path_in(c4, sizeof c4, d, "ca.pem");
        path_in(k4, sizeof k4, F.dir, "orphan.key");
        assert_int_equal(sign_make_demo_ca("X", c4, k4, err, sizeof err), -1);
        assert_int_equal(access(k4, F_OK), -1);
    }
}

/* worker - one thread issuing and checking with its own session */
static void *worker(void *arg)
{
    int *failures = arg;
    char err[256];
    struct sign_session *ss = sign_session_new(F.s, err, sizeof err);
    struct request *r = malloc(sizeof *r);
    if (!ss || !r) {
        (*failures)++;
        free(r);
        sign_session_free(ss);
        return NULL;
    }
    for (int i = 0; i < 200; i++) {
        memset(r, 0, sizeof *r);
        r->usage = i & 1 ? USAGE_KA : USAGE_DS;
        memcpy(r->device, DEVICE, 8);
        r->point[0] = 0x04;
        /* any point will do for layout; the full check needs no real key */
        RAND_bytes(r->point + 1, 64);
        SHA256(r->point, 65, r->key_hash);   /* validate's part of the contract */
        if (sign_request(ss, r, F.now) || sign_check_cert(F.s, r, i % 20 == 0, err, sizeof err))
            (*failures)++;
    }
    free(r);
    sign_session_free(ss);
    return NULL;
}

/* test_threads - sessions work in parallel on one signer */
static void test_threads(void **state)
{
    pthread_t t[4];
    int failures[4] = {0};
    (void)state;
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, &failures[i]), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(failures[i], 0);
    }
}

/* test_certtool - GnuTLS verifies an issued certificate (skipped without it) */
static void test_certtool(void **state)
{
    static struct request r;
    char cmd[1024], pem[128];
    X509 *x;
    const unsigned char *q;
    FILE *f;
    (void)state;
    if (system("command -v certtool >/dev/null 2>&1") != 0)
        skip();
    make_req(&r, USAGE_DS);
    assert_int_equal(sign_request(F.ss, &r, time(NULL) - 60), 0);
    q = r.cert;
    x = d2i_X509(NULL, &q, r.cert_len);
    assert_non_null(x);
    path_in(pem, sizeof pem, F.dir, "device.pem");
    f = fopen(pem, "w");
    PEM_write_X509(f, x);
    fclose(f);
    X509_free(x);
    snprintf(cmd, sizeof cmd,
             "certtool --verify --load-ca-certificate '%s' --infile '%s' >'%s/certtool.out' 2>&1",
             F.cert_path, pem, F.dir);
    if (system(cmd) != 0) {
        snprintf(cmd, sizeof cmd, "cat '%s/certtool.out' >&2", F.dir);
        if (system(cmd)) {}
        fail_msg("certtool --verify rejected the certificate");
    }
}

/* now_us - monotonic microseconds */
static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* test_timing - microseconds per sign_request and per check (printed only) */
static void test_timing(void **state)
{
    static struct request r;
    const char *env = getenv("SIGN_BENCH_N");
    int n = env ? atoi(env) : 2000;
    double t0, t1, t2, t3;
    char err[256];
    (void)state;
    if (n <= 0)
        skip();
    make_req(&r, USAGE_DS);
    t0 = now_us();
    for (int i = 0; i < n; i++) {
        r.code = RC_OK;
        if (sign_request(F.ss, &r, F.now + i / 1000))
            fail_msg("sign_request: %s", r.errtext);
    }
    t1 = now_us();
    for (int i = 0; i < n; i++)
        if (sign_check_cert(F.s, &r, 0, err, sizeof err))
            fail_msg("%s", err);
    t2 = now_us();
    for (int i = 0; i < n / 10 + 1; i++)
        if (sign_check_cert(F.s, &r, 1, err, sizeof err))
            fail_msg("%s", err);
    t3 = now_us();
    printf("# sign_request: %.2f us/cert over %d (cert %u octets); check cheap %.3f us, "
           "full %.1f us\n", (t1 - t0) / n, n, r.cert_len, (t2 - t1) / n, (t3 - t2) / (n / 10 + 1));
}

/* main - run the group */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_issue_ds_ka),
        cmocka_unit_test(test_ca_der),
        cmocka_unit_test(test_serials_differ),
        cmocka_unit_test(test_check_flips),
        cmocka_unit_test(test_time_limits),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_profile_oids),
        cmocka_unit_test(test_demo_ca),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_certtool),
        cmocka_unit_test(test_timing),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
