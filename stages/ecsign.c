/* ecsign.c - ECDSA signatures finished from nonce pairs (1/k mod n, r)
 * prepared in batches; see ecsign.h for why, and for what is secret.
 *
 * A refill, for m pairs, in Montgomery form (R = 2^256; BN_mod_mul_montgomery
 * computes mont(a, b) = a*b/R):
 *   k_i        drawn below n, non-zero; km_i = k_i * R mod n
 *   K_i        = k_i * G in Jacobian coordinates (X_i, Y_i, Z_i), Z_i != 0
 *   zz_i       = Z_i^2 * R mod p
 * then bn_batch_invert (bninv.h: one constant-time inversion each) gives
 *   kinvm_i    = R / k_i mod n,   zinv_i = R / Z_i^2 mod p
 * and finally  kinv_i = kinvm_i / R,  x_i = mont(X_i, zinv_i) = X_i / Z_i^2,
 * r_i = x_i mod n (x_i < p < 2n: at most one subtraction).
 *
 * EC_POINT_get_Jprojective_coordinates_GFp is deprecated in OpenSSL 3.0 but
 * is the only way to see Z without the inversion this file shares; so are
 * EC_KEY and ECDSA_do_sign_ex, the only way to hand OpenSSL a prepared pair.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "ecsign.h"

#include <stdio.h>
#include <stdlib.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "bninv.h"
#include "xmem.h"

struct pair {
    BIGNUM *kinv;       /* k while filling, then 1/k mod n: secret */
    BIGNUM *r;          /* X while filling, then x(k*G) mod n */
};

struct ecsign {
    EC_KEY *key;                /* a private copy of the CA key */
    EC_GROUP *group;
    const BIGNUM *n;            /* owned by group */
    BIGNUM *p;
    BN_MONT_CTX *mont_n, *mont_p;
    BN_CTX *bn;                 /* secure: bn_batch_invert's temporaries hold secrets */
    EC_POINT *pt;
    BIGNUM *y, *z;              /* scratch */
    uint8_t *rnd;               /* cap * nbytes octets of DRBG output per refill */
    size_t nbytes;              /* octets of n */
    unsigned top_mask;          /* mask for the first octet drawn: bits of n */
    struct pair *pair;
    BIGNUM **km, **kinvm;       /* per pair: k * R and R / k mod n: secret */
    BIGNUM **zz, **zinv;        /* per pair: Z^2 * R and R / Z^2 mod p */
    size_t cap, avail;
    long taken;                 /* index of the pair last handed out, -1 if none */
};

static void die(const char *what)
{
    fprintf(stderr, "smki-batch: fatal: ecsign: %s failed (OpenSSL)\n", what);
    ERR_print_errors_fp(stderr);
    abort();
}

static BIGNUM *bn_secret(void)
{
    BIGNUM *b = BN_secure_new();
    if (!b) die("BN_new");
    BN_set_flags(b, BN_FLG_CONSTTIME);
    return b;
}

struct ecsign *ecsign_new(EVP_PKEY *key, size_t cap, char *err, size_t errlen)
{
    EC_KEY *shared = EVP_PKEY_get1_EC_KEY(key);
    EC_KEY *own = shared ? EC_KEY_dup(shared) : NULL;
    const EC_GROUP *group = own ? EC_KEY_get0_group(own) : NULL;
    EC_KEY_free(shared);
    if (!group || !EC_KEY_get0_private_key(own) ||
        EC_GROUP_get_field_type(group) != NID_X9_62_prime_field) {
        snprintf(err, errlen, "ecsign: the signing key is not an EC private key on a prime curve");
        EC_KEY_free(own);
        ERR_clear_error();
        return NULL;
    }
    struct ecsign *e = xcalloc(1, sizeof *e);
    if (cap == 0)
        cap = 1;
    e->key = own;
    e->group = EC_GROUP_dup(group);
    e->bn = BN_CTX_secure_new();
    e->mont_n = BN_MONT_CTX_new();
    e->mont_p = BN_MONT_CTX_new();
    if (!e->group || !e->bn || !e->mont_n || !e->mont_p) die("copying the group");
    e->n = EC_GROUP_get0_order(e->group);
    e->p = BN_new();
    if (!e->p || !EC_GROUP_get_curve(e->group, e->p, NULL, NULL, e->bn) ||
        !BN_MONT_CTX_set(e->mont_n, e->n, e->bn) || !BN_MONT_CTX_set(e->mont_p, e->p, e->bn))
        die("reading the group's parameters");
    e->pt = EC_POINT_new(e->group);
    if (!e->pt) die("EC_POINT_new");
    e->y = bn_secret();
    e->z = bn_secret();
    int bits = BN_num_bits(e->n);
    e->nbytes = (size_t)(bits + 7) / 8;
    e->top_mask = bits % 8 ? (1u << (bits % 8)) - 1 : 0xff;
    e->rnd = OPENSSL_secure_malloc(cap * e->nbytes);
    if (!e->rnd) die("OPENSSL_secure_malloc");
    e->pair = xcalloc(cap, sizeof *e->pair);
    e->km = xcalloc(4 * cap, sizeof *e->km);
    e->kinvm = e->km + cap;
    e->zz = e->km + 2 * cap;
    e->zinv = e->km + 3 * cap;
    for (size_t i = 0; i < cap; i++) {
        e->pair[i].kinv = bn_secret();
        e->pair[i].r = bn_secret();
        e->km[i] = bn_secret();
        e->kinvm[i] = bn_secret();
        e->zz[i] = bn_secret();
        e->zinv[i] = bn_secret();
    }
    e->cap = cap;
    e->taken = -1;
    return e;
}

void ecsign_free(struct ecsign *e)
{
    if (!e) return;
    for (size_t i = 0; i < e->cap; i++) {
        BN_clear_free(e->pair[i].kinv);
        BN_clear_free(e->pair[i].r);
    }
    for (size_t i = 0; i < 4 * e->cap; i++)
        BN_clear_free(e->km[i]);
    free(e->km);
    free(e->pair);
    OPENSSL_secure_clear_free(e->rnd, e->cap * e->nbytes);
    BN_clear_free(e->y);
    BN_clear_free(e->z);
    BN_free(e->p);
    EC_POINT_clear_free(e->pt);
    BN_MONT_CTX_free(e->mont_n);
    BN_MONT_CTX_free(e->mont_p);
    BN_CTX_free(e->bn);
    EC_GROUP_free(e->group);
    EC_KEY_free(e->key);        /* clears the private key */
    free(e);
}

size_t ecsign_prepared(const struct ecsign *e)
{
    return e->avail;
}

/* draw_k - k in [1, n-1] from the i-th octets of the refill's DRBG output,
 * or (about one draw in 2^32 for P-256) from a draw of its own */
static int draw_k(struct ecsign *e, size_t i, BIGNUM *k)
{
    uint8_t *o = e->rnd + i * e->nbytes;
    o[0] &= (uint8_t)e->top_mask;
    if (!BN_bin2bn(o, (int)e->nbytes, k))
        return -1;
    while (BN_is_zero(k) || BN_cmp(k, e->n) >= 0)
        if (!BN_priv_rand_range_ex(k, e->n, 0, e->bn))
            return -1;
    return 0;
}

/* draw_one - k_i, k_i * G, and the pair's entries of km and zz; r holds
 * X_i for now */
static int draw_one(struct ecsign *e, size_t i)
{
    struct pair *q = &e->pair[i];
    if (draw_k(e, i, q->kinv) ||
        !EC_POINT_mul(e->group, e->pt, q->kinv, NULL, NULL, e->bn) ||
        EC_POINT_is_at_infinity(e->group, e->pt) ||
        !EC_POINT_get_Jprojective_coordinates_GFp(e->group, e->pt, q->r, e->y, e->z, e->bn) ||
        BN_is_zero(e->z) ||
        !BN_to_montgomery(e->km[i], q->kinv, e->mont_n, e->bn) ||
        !BN_to_montgomery(e->z, e->z, e->mont_p, e->bn) ||
        !BN_mod_mul_montgomery(e->zz[i], e->z, e->z, e->mont_p, e->bn))
        return -1;
    return 0;
}

/* refill - prepare every pair of the pool; 0, or -1 with the pool empty */
static int refill(struct ecsign *e)
{
    size_t m = e->cap;
    int rc = -1;

    if (RAND_priv_bytes(e->rnd, (int)(m * e->nbytes)) != 1)
        goto out;
    for (size_t i = 0; i < m; i++)
        if (draw_one(e, i))
            goto out;
    if (!bn_batch_invert(e->km, e->kinvm, m, e->n, e->mont_n, e->bn) ||
        !bn_batch_invert(e->zz, e->zinv, m, e->p, e->mont_p, e->bn))
        goto out;
    for (size_t i = 0; i < m; i++) {
        struct pair *q = &e->pair[i];
        /* kinv_i = (R / k_i) / R;  x_i = mont(X_i, R / Z_i^2);  r_i = x_i mod n */
        if (!BN_from_montgomery(q->kinv, e->kinvm[i], e->mont_n, e->bn) ||
            !BN_mod_mul_montgomery(q->r, q->r, e->zinv[i], e->mont_p, e->bn) ||
            (BN_cmp(q->r, e->n) >= 0 && !BN_sub(q->r, q->r, e->n)))
            goto out;
    }
    rc = 0;
out:
    OPENSSL_cleanse(e->rnd, m * e->nbytes);
    for (size_t i = 0; i < m; i++) {
        BN_clear(e->km[i]);
        BN_clear(e->kinvm[i]);
        if (rc)
            BN_clear(e->pair[i].kinv);
    }
    e->avail = rc ? 0 : m;
    return rc;
}

/* take - the next prepared pair, preparing a batch when none is left;
 * the pair handed out before is cleared first.  0 or -1. */
static int take(struct ecsign *e, const BIGNUM **kinv, const BIGNUM **r)
{
    if (e->taken >= 0) {
        BN_clear(e->pair[e->taken].kinv);
        BN_clear(e->pair[e->taken].r);
        e->taken = -1;
    }
    for (;;) {
        if (e->avail == 0 && refill(e))
            return -1;
        struct pair *q = &e->pair[--e->avail];
        e->taken = (long)e->avail;
        if (BN_is_zero(q->r))
            continue;   /* r = 0 makes no signature (about 2^-256): drop the pair */
        *kinv = q->kinv;
        *r = q->r;
        return 0;
    }
}

int ecsign_sign(struct ecsign *e, const uint8_t *md, size_t mdlen, uint8_t *sig, size_t *siglen)
{
    const BIGNUM *kinv, *r;
    /* s = 0 (about 2^-256) is ECDSA_R_NEED_NEW_SETUP_VALUES: a fresh pair */
    for (int tries = 0; tries < 4; tries++) {
        if (take(e, &kinv, &r))
            return -1;
        ECDSA_SIG *es = ECDSA_do_sign_ex(md, (int)mdlen, kinv, r, e->key);
        BN_clear(e->pair[e->taken].kinv);   /* used once, whatever came of it */
        if (!es)
            continue;
        int len = i2d_ECDSA_SIG(es, NULL);
        if (len <= 0 || (size_t)len > *siglen) {
            ECDSA_SIG_free(es);
            return -1;
        }
        unsigned char *p = sig;
        len = i2d_ECDSA_SIG(es, &p);
        ECDSA_SIG_free(es);
        if (len <= 0)
            return -1;
        *siglen = (size_t)len;
        return 0;
    }
    return -1;
}
