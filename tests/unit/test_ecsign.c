/* test_ecsign.c - unit tests of stages/ecsign.c: every signature it makes
 * is checked by OpenSSL's own EVP_PKEY_verify (an independent path: a
 * wrong 1/k or a wrong r from the shared inversion cannot verify); batches
 * of 1, 7 and 256 pairs, refilled across their ends; no nonce used twice
 * (every r distinct over 1,100 signatures, and the same digest signed twice
 * differs); P-384 and P-521 keys (the draw of k masked to the order's bits);
 * keys it must refuse; a signature buffer too small. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "ecsign.h"

/* verifies - EVP_PKEY_verify's verdict on sig over md with key */
static int verifies(EVP_PKEY *key, const uint8_t *md, size_t mdlen, const uint8_t *sig, size_t siglen)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(key, NULL);
    assert_non_null(c);
    assert_int_equal(EVP_PKEY_verify_init(c), 1);
    int ok = EVP_PKEY_verify(c, sig, siglen, md, mdlen);
    EVP_PKEY_CTX_free(c);
    return ok == 1;
}

/* r_of - the signature's r, as a BIGNUM the caller frees */
static BIGNUM *r_of(const uint8_t *sig, size_t siglen)
{
    const unsigned char *p = sig;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)siglen);
    assert_non_null(es);
    assert_ptr_equal(p, sig + siglen);      /* no trailing octets */
    BIGNUM *r = BN_dup(ECDSA_SIG_get0_r(es));
    ECDSA_SIG_free(es);
    assert_non_null(r);
    return r;
}

static int bn_order(const void *a, const void *b)
{
    return BN_cmp(*(BIGNUM *const *)a, *(BIGNUM *const *)b);
}

/* sign_many - n signatures over random digests of mdlen octets, each
 * verified; checks the pool's count against cap as it goes and that no r
 * repeats */
static void sign_many(const char *curve, size_t cap, size_t n, size_t mdlen)
{
    char err[256] = "";
    EVP_PKEY *key = EVP_EC_gen(curve);
    assert_non_null(key);
    struct ecsign *e = ecsign_new(key, cap, err, sizeof err);
    assert_non_null(e);
    assert_int_equal(ecsign_prepared(e), 0);        /* nothing before the first */
    BIGNUM **rs = calloc(n, sizeof *rs);
    assert_non_null(rs);
    for (size_t i = 0; i < n; i++) {
        uint8_t md[64], sig[160];
        size_t siglen = sizeof sig;
        assert_int_equal(RAND_bytes(md, (int)mdlen), 1);
        assert_int_equal(ecsign_sign(e, md, mdlen, sig, &siglen), 0);
        assert_int_equal(ecsign_prepared(e), cap - 1 - i % cap);
        if (!verifies(key, md, mdlen, sig, siglen))
            fail_msg("%s: signature %zu (batch of %zu) does not verify", curve, i, cap);
        rs[i] = r_of(sig, siglen);
    }
    qsort(rs, n, sizeof *rs, bn_order);
    for (size_t i = 1; i < n; i++)
        if (BN_cmp(rs[i - 1], rs[i]) == 0)
            fail_msg("%s: an r repeats: a nonce was used twice", curve);
    for (size_t i = 0; i < n; i++)
        BN_free(rs[i]);
    free(rs);
    ecsign_free(e);
    EVP_PKEY_free(key);
}

static void test_batches(void **state)
{
    (void)state;
    sign_many("P-256", 1, 5, 32);       /* the trick over one pair */
    sign_many("P-256", 7, 50, 32);      /* seven batches and a part */
    sign_many("P-256", 256, 1100, 32);  /* sign.c's size, four refills */
}

static void test_other_curves(void **state)
{
    (void)state;
    sign_many("P-384", 5, 12, 48);
    sign_many("P-521", 5, 12, 64);      /* 521 bits: k's first octet masked to 1 bit */
}

static void test_same_digest_twice(void **state)
{
    (void)state;
    char err[256];
    EVP_PKEY *key = EVP_EC_gen("P-256");
    struct ecsign *e = ecsign_new(key, 4, err, sizeof err);
    assert_non_null(e);
    uint8_t md[32] = {0}, a[80], b[80];
    size_t al = sizeof a, bl = sizeof b;
    assert_int_equal(ecsign_sign(e, md, sizeof md, a, &al), 0);
    assert_int_equal(ecsign_sign(e, md, sizeof md, b, &bl), 0);
    assert_true(al != bl || memcmp(a, b, al) != 0);
    assert_true(verifies(key, md, sizeof md, a, al));
    assert_true(verifies(key, md, sizeof md, b, bl));
    ecsign_free(e);
    EVP_PKEY_free(key);
}

static void test_refused_keys(void **state)
{
    (void)state;
    char err[256] = "";

    EVP_PKEY *rsa = EVP_RSA_gen(1024);
    assert_non_null(rsa);
    assert_null(ecsign_new(rsa, 4, err, sizeof err));
    assert_non_null(strstr(err, "not an EC private key"));
    EVP_PKEY_free(rsa);

    /* the public half of an EC key */
    EVP_PKEY *full = EVP_EC_gen("P-256");
    unsigned char *der = NULL;
    int len = i2d_PUBKEY(full, &der);
    assert_true(len > 0);
    const unsigned char *p = der;
    EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, len);
    assert_non_null(pub);
    err[0] = 0;
    assert_null(ecsign_new(pub, 4, err, sizeof err));
    assert_non_null(strstr(err, "not an EC private key"));
    OPENSSL_free(der);
    EVP_PKEY_free(pub);
    EVP_PKEY_free(full);
}

static void test_room(void **state)
{
    (void)state;
    char err[256];
    EVP_PKEY *key = EVP_EC_gen("P-256");
    struct ecsign *e = ecsign_new(key, 2, err, sizeof err);
    assert_non_null(e);
    uint8_t md[32] = {1}, sig[80];
    size_t siglen = 8;
    assert_int_equal(ecsign_sign(e, md, sizeof md, sig, &siglen), -1);
    siglen = sizeof sig;    /* a refusal spends a pair; the next is fresh and good */
    assert_int_equal(ecsign_sign(e, md, sizeof md, sig, &siglen), 0);
    assert_true(verifies(key, md, sizeof md, sig, siglen));
    ecsign_free(e);
    EVP_PKEY_free(key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batches),
        cmocka_unit_test(test_other_curves),
        cmocka_unit_test(test_same_digest_twice),
        cmocka_unit_test(test_refused_keys),
        cmocka_unit_test(test_room),
    };
    return cmocka_run_group_tests_name("ecsign", tests, NULL, NULL);
}
