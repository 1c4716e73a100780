/* test_ecverify.c - unit tests of stages/ecverify.c, each verdict checked
 * against OpenSSL's own EVP_PKEY_verify: good signatures in batches of 1 to
 * 300 with bad ones among them (wrong digest, wrong key, r and s swapped,
 * r or s 0, n or above), the other valid s (n - s), a digest above the
 * order, crafted keys whose R = u1*G + u2*Q is the point at infinity or has
 * x(R) >= n (the r + n branch), invalid points, a commit with no point, and
 * reuse after reset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "ecverify.h"

/* a signature case: key, digest, r and s as 32-octet big-endian */
struct sig {
    uint8_t point[65];
    uint8_t md[32];
    uint8_t r[32], s[32];
};

static EC_GROUP *group;
static BN_CTX *bnc;

/* evp_verify - OpenSSL's verdict on the case (1 verifies, 0 not) */
static int evp_verify(const struct sig *c)
{
    EVP_PKEY *k = NULL;
    EVP_PKEY_CTX *kc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)c->point, 65),
        OSSL_PARAM_construct_end(),
    };
    assert_non_null(kc);
    assert_int_equal(EVP_PKEY_fromdata_init(kc), 1);
    assert_int_equal(EVP_PKEY_fromdata(kc, &k, EVP_PKEY_PUBLIC_KEY, params), 1);
    EVP_PKEY_CTX_free(kc);
    ECDSA_SIG *es = ECDSA_SIG_new();
    assert_int_equal(ECDSA_SIG_set0(es, BN_bin2bn(c->r, 32, NULL), BN_bin2bn(c->s, 32, NULL)), 1);
    uint8_t der[80], *p = der;
    int dl = i2d_ECDSA_SIG(es, &p);
    assert_true(dl > 0 && dl <= (int)sizeof der);
    ECDSA_SIG_free(es);
    EVP_PKEY_CTX *vc = EVP_PKEY_CTX_new(k, NULL);
    assert_int_equal(EVP_PKEY_verify_init(vc), 1);
    int ok = EVP_PKEY_verify(vc, der, (size_t)dl, c->md, 32) == 1;
    EVP_PKEY_CTX_free(vc);
    EVP_PKEY_free(k);
    return ok;
}

/* make_sig - a fresh key signs a random digest (or md if given) */
static void make_sig(struct sig *c, const uint8_t *md)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    assert_non_null(k);
    size_t pl = 0;
    assert_int_equal(EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                                     c->point, sizeof c->point, &pl), 1);
    assert_int_equal(pl, 65);
    if (md) memcpy(c->md, md, 32);
    else assert_int_equal(RAND_bytes(c->md, 32), 1);
    uint8_t der[80];
    size_t dl = sizeof der;
    EVP_PKEY_CTX *sc = EVP_PKEY_CTX_new(k, NULL);
    assert_int_equal(EVP_PKEY_sign_init(sc), 1);
    assert_int_equal(EVP_PKEY_sign(sc, der, &dl, c->md, 32), 1);
    EVP_PKEY_CTX_free(sc);
    EVP_PKEY_free(k);
    const uint8_t *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)dl);
    assert_non_null(es);
    assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(es), c->r, 32), 32);
    assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(es), c->s, 32), 32);
    ECDSA_SIG_free(es);
}

/* queue - stage and commit a case; returns its slot */
static int queue(struct ecverify *v, const struct sig *c)
{
    assert_int_equal(ecverify_stage_point(v, c->point, 65), 0);
    return ecverify_commit(v, c->r, 32, c->s, 32, c->md);
}

/* set32 - a BIGNUM into 32 octets */
static void set32(uint8_t out[32], const BIGNUM *b)
{
    assert_int_equal(BN_bn2binpad(b, out, 32), 32);
}

/* mutate - case i of the bad kinds (0 means left good) */
static void mutate(struct sig *c, int kind, const struct sig *other)
{
    const BIGNUM *n = EC_GROUP_get0_order(group);
    BIGNUM *b = BN_new();
    switch (kind) {
    case 1: c->md[31] ^= 1; break;                                   /* another digest */
    case 2: memcpy(c->point, other->point, 65); break;                /* another key */
    case 3: { uint8_t t[32]; memcpy(t, c->r, 32); memcpy(c->r, c->s, 32); memcpy(c->s, t, 32); } break;
    case 4: memset(c->r, 0, 32); break;                               /* r = 0 */
    case 5: memset(c->s, 0, 32); break;                               /* s = 0 */
    case 6: set32(c->r, n); break;                                    /* r = n */
    case 7: BN_copy(b, n); BN_add_word(b, 5); set32(c->s, b); break; /* s > n */
    case 8: memset(c->s, 0xff, 32); break;                            /* s = 2^256 - 1 */
    case 9: c->r[5] ^= 0x40; break;                                   /* another r */
    default: break;
    }
    BN_free(b);
}

/* test_agrees_with_evp - batches of 1, 2, 7, 64 and 300 with every bad kind
 * mixed in; each verdict equals EVP_PKEY_verify's */
static void test_agrees_with_evp(void **state)
{
    (void)state;
    static const int sizes[] = {1, 2, 7, 64, 300};
    struct ecverify *v = ecverify_new();
    struct sig other;
    make_sig(&other, NULL);
    for (size_t z = 0; z < sizeof sizes / sizeof *sizes; z++) {
        int m = sizes[z];
        struct sig *c = calloc((size_t)m, sizeof *c);
        int *slot = calloc((size_t)m, sizeof *slot), good = 0;
        for (int i = 0; i < m; i++) {
            make_sig(&c[i], NULL);
            mutate(&c[i], m == 1 ? 0 : i % 11, &other);   /* kinds 10 and 0: good */
            slot[i] = queue(v, &c[i]);
            assert_int_equal(slot[i], i);
        }
        assert_int_equal(ecverify_count(v), (uint32_t)m);
        ecverify_run(v);
        for (int i = 0; i < m; i++) {
            int want = evp_verify(&c[i]);
            good += want;
            assert_int_equal(ecverify_result(v, slot[i]), want);
        }
        assert_true(good >= (m + 10) / 11);   /* good ones were in it */
        ecverify_reset(v);
        assert_int_equal(ecverify_count(v), 0);
        free(c);
        free(slot);
    }
    ecverify_free(v);
}

/* test_other_s_and_big_digest - (r, n - s) verifies as (r, s) does, and a
 * digest above the order (all ones) is reduced, as EVP does */
static void test_other_s_and_big_digest(void **state)
{
    (void)state;
    uint8_t ones[32];
    memset(ones, 0xff, sizeof ones);
    struct sig c[2];
    make_sig(&c[0], ones);
    c[1] = c[0];
    BIGNUM *s = BN_bin2bn(c[1].s, 32, NULL);
    assert_int_equal(BN_sub(s, EC_GROUP_get0_order(group), s), 1);
    set32(c[1].s, s);
    BN_free(s);
    struct ecverify *v = ecverify_new();
    queue(v, &c[0]);
    queue(v, &c[1]);
    ecverify_run(v);
    assert_int_equal(evp_verify(&c[0]), 1);
    assert_int_equal(evp_verify(&c[1]), 1);
    assert_int_equal(ecverify_result(v, 0), 1);
    assert_int_equal(ecverify_result(v, 1), 1);
    ecverify_free(v);
}

/* crafted - the key Q = (s/r)*R - (e/r)*G for a chosen point R (NULL: the
 * point at infinity, Q = -(e/r)*G), so that u1*G + u2*Q = R for (r, s)
 * over e; r is given */
static void crafted(struct sig *c, const EC_POINT *R, const BIGNUM *r)
{
    const BIGNUM *n = EC_GROUP_get0_order(group);
    BIGNUM *s = BN_new(), *e = BN_new(), *ri = BN_new(), *a = BN_new(), *b = BN_new();
    assert_int_equal(BN_rand_range(s, n), 1);
    BN_add_word(s, 1);
    assert_int_equal(RAND_bytes(c->md, 32), 1);
    c->md[0] &= 0x7f;   /* below n */
    BN_bin2bn(c->md, 32, e);
    assert_non_null(BN_mod_inverse(ri, r, n, bnc));
    assert_int_equal(BN_mod_mul(a, e, ri, n, bnc), 1);   /* e/r */
    assert_int_equal(BN_sub(a, n, a), 1);                 /* -e/r */
    assert_int_equal(BN_mod_mul(b, s, ri, n, bnc), 1);   /* s/r */
    EC_POINT *q = EC_POINT_new(group);
    assert_int_equal(EC_POINT_mul(group, q, a, R, R ? b : NULL, bnc), 1);
    assert_int_equal(EC_POINT_point2oct(group, q, POINT_CONVERSION_UNCOMPRESSED, c->point, 65, bnc),
                     65);
    set32(c->r, r);
    set32(c->s, s);
    EC_POINT_free(q);
    BN_free(s); BN_free(e); BN_free(ri); BN_free(a); BN_free(b);
}

/* test_crafted - R at infinity is refused; R with x(R) = n + d is accepted
 * for r = d (and refused for r = d + 1), as by EVP */
static void test_crafted(void **state)
{
    (void)state;
    const BIGNUM *n = EC_GROUP_get0_order(group);
    struct sig c[3];
    BIGNUM *r = BN_new(), *x = BN_new();
    assert_int_equal(BN_rand_range(r, n), 1);
    BN_add_word(r, 1);
    crafted(&c[0], NULL, r);
    /* a point with n < x < p: try x = n + 1, n + 2 ... */
    EC_POINT *R = EC_POINT_new(group);
    BN_copy(x, n);
    do {
        BN_add_word(x, 1);
    } while (EC_POINT_set_compressed_coordinates(group, R, x, 0, bnc) != 1);
    BN_sub(r, x, n);   /* x(R) mod n */
    crafted(&c[1], R, r);
    BN_add_word(r, 1);
    crafted(&c[2], R, r);
    struct ecverify *v = ecverify_new();
    for (int i = 0; i < 3; i++) queue(v, &c[i]);
    ecverify_run(v);
    static const int want[] = {0, 1, 0};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(evp_verify(&c[i]), want[i]);
        assert_int_equal(ecverify_result(v, i), want[i]);
    }
    EC_POINT_free(R);
    BN_free(r);
    BN_free(x);
    ecverify_free(v);
}

/* test_points - a key is refused off the curve, with a coordinate >= p, in
 * any other form or length; a commit with no staged key, or after a refused
 * one, never verifies; results out of range are -1 */
static void test_points(void **state)
{
    (void)state;
    struct sig c;
    make_sig(&c, NULL);
    struct ecverify *v = ecverify_new();
    uint8_t bad[65];
    memcpy(bad, c.point, 65);
    bad[64] ^= 1;                                            /* off the curve */
    assert_int_equal(ecverify_stage_point(v, bad, 65), -1);
    assert_int_equal(ecverify_commit(v, c.r, 32, c.s, 32, c.md), 0);   /* after a refusal */
    memset(bad + 1, 0xff, 32);                               /* x >= p */
    assert_int_equal(ecverify_stage_point(v, bad, 65), -1);
    assert_int_equal(ecverify_stage_point(v, c.point, 64), -1);         /* short */
    memcpy(bad, c.point, 33);
    bad[0] = 0x02;                                           /* compressed */
    assert_int_equal(ecverify_stage_point(v, bad, 33), -1);
    assert_int_equal(ecverify_stage_point(v, bad, 65), -1);
    assert_int_equal(queue(v, &c), 1);                       /* the good one */
    assert_int_equal(ecverify_commit(v, c.r, 32, c.s, 32, c.md), 2);   /* no key staged */
    assert_int_equal(ecverify_stage_point(v, c.point, 65), 0);
    assert_int_equal(ecverify_commit(v, c.r, 33, c.s, 32, c.md), 3);   /* r too long */
    assert_int_equal(ecverify_result(v, 1), -1);            /* not run yet */
    ecverify_run(v);
    assert_int_equal(ecverify_result(v, 0), -1);
    assert_int_equal(ecverify_result(v, 1), 1);
    assert_int_equal(ecverify_result(v, 2), -1);
    assert_int_equal(ecverify_result(v, 3), 0);
    assert_int_equal(ecverify_result(v, 4), -1);
    assert_int_equal(ecverify_result(v, -1), -1);
    ecverify_run(v);                                         /* again: nothing changes */
    assert_int_equal(ecverify_result(v, 1), 1);
    ecverify_reset(v);
    ecverify_run(v);                                         /* empty */
    assert_int_equal(ecverify_result(v, 0), -1);
    ecverify_free(v);
}

/* test_short_values - r and s given without leading zeros, as DER gives them */
static void test_short_values(void **state)
{
    (void)state;
    struct sig c;
    int found = 0;
    struct ecverify *v = ecverify_new();
    for (int tries = 0; tries < 2000 && !found; tries++) {
        make_sig(&c, NULL);
        if (c.r[0] != 0 && c.s[0] != 0) continue;
        found = 1;
        size_t rz = 0, sz = 0;
        while (c.r[rz] == 0) rz++;
        while (c.s[sz] == 0) sz++;
        assert_int_equal(ecverify_stage_point(v, c.point, 65), 0);
        int slot = ecverify_commit(v, c.r + rz, 32 - rz, c.s + sz, 32 - sz, c.md);
        ecverify_run(v);
        assert_int_equal(ecverify_result(v, slot), 1);
    }
    assert_true(found);   /* one in 128 has a leading zero octet */
    ecverify_free(v);
}

static int setup(void **state)
{
    (void)state;
    group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    bnc = BN_CTX_new();
    return group && bnc ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    EC_GROUP_free(group);
    BN_CTX_free(bnc);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agrees_with_evp),
        cmocka_unit_test(test_other_s_and_big_digest),
        cmocka_unit_test(test_crafted),
        cmocka_unit_test(test_points),
        cmocka_unit_test(test_short_values),
    };
    return cmocka_run_group_tests_name("ecverify", tests, setup, teardown);
}
