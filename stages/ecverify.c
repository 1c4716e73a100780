/* ecverify.c - ECDSA P-256 verification with a shared inversion and a
 * Jacobian comparison; see ecverify.h for why and for the contract.
 *
 * Arithmetic modulo the order n is in Montgomery form (R = 2^256, OpenSSL's
 * BN_mod_mul_montgomery: mont(a, b) = a*b/R mod n): sm_i = s_i * R
 * (BN_to_montgomery); bn_batch_invert (bninv.h) gives w_i = R / s_i for
 * every queued slot with one inversion; then u1 = mont(e, w_i) = e / s_i
 * and u2 = mont(r, w_i) = r / s_i, with no conversion back needed.
 *
 * EC_POINT_get_Jprojective_coordinates_GFp is deprecated in OpenSSL 3.0 but
 * is the only way to see a point's Z without the inversion this file exists
 * to avoid; it is used here alone.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "ecverify.h"

#include <stdio.h>
#include <stdlib.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>

#include "bninv.h"
#include "xmem.h"

enum slot_state { SLOT_QUEUED, SLOT_BAD, SLOT_OK, SLOT_ERROR };

struct slot {
    EC_POINT *q;        /* the key */
    BIGNUM *r;          /* signature r */
    BIGNUM *sm;         /* s * R mod n */
    BIGNUM *w;          /* after the inversion, R / s mod n */
    BIGNUM *e;          /* the digest mod n */
    enum slot_state state;
};

struct ecverify {
    EC_GROUP *group;
    const BIGNUM *n;        /* group order (owned by group) */
    BIGNUM *p;              /* field prime */
    BIGNUM *p_minus_n;      /* r below this may also be x(R) - n */
    BN_MONT_CTX *mont_n;
    BN_CTX *bn;
    EC_POINT *rpt;          /* u1*G + u2*Q */
    BIGNUM *tmp, *x, *z, *zz, *u1, *u2;
    struct slot *slot;
    BIGNUM **inv_in, **inv_out;   /* cap each: sm and w of the queued slots */
    uint32_t used, cap;
    int staged;             /* slot[used].q holds a point staged since the last commit */
};

/* die - OpenSSL could not set up or grow: nothing sensible to go on with */
static void die(const char *what)
{
    fprintf(stderr, "smki-batch: fatal: ecverify: %s failed (OpenSSL)\n", what);
    ERR_print_errors_fp(stderr);
    abort();
}

static BIGNUM *bn_new_or_die(void)
{
    BIGNUM *b = BN_new();
    if (!b) die("BN_new");
    return b;
}

struct ecverify *ecverify_new(void)
{
    struct ecverify *v = xcalloc(1, sizeof *v);
    v->group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    v->bn = BN_CTX_new();
    v->mont_n = BN_MONT_CTX_new();
    if (!v->group || !v->bn || !v->mont_n) die("creating the P-256 group");
    v->n = EC_GROUP_get0_order(v->group);
    v->p = bn_new_or_die();
    v->p_minus_n = bn_new_or_die();
    if (!EC_GROUP_get_curve(v->group, v->p, NULL, NULL, v->bn) ||
        !BN_sub(v->p_minus_n, v->p, v->n) || !BN_MONT_CTX_set(v->mont_n, v->n, v->bn))
        die("reading the P-256 parameters");
    v->rpt = EC_POINT_new(v->group);
    if (!v->rpt) die("EC_POINT_new");
    BIGNUM **scratch[] = {&v->tmp, &v->x, &v->z, &v->zz, &v->u1, &v->u2};
    for (size_t i = 0; i < sizeof scratch / sizeof *scratch; i++) *scratch[i] = bn_new_or_die();
    return v;
}

void ecverify_free(struct ecverify *v)
{
    if (!v) return;
    for (uint32_t i = 0; i < v->cap; i++) {
        struct slot *s = &v->slot[i];
        EC_POINT_free(s->q);
        BN_free(s->r);
        BN_free(s->sm);
        BN_free(s->e);
        BN_free(s->w);
    }
    free(v->slot);
    free(v->inv_in);
    free(v->inv_out);
    BIGNUM *scratch[] = {v->tmp, v->x, v->z, v->zz, v->u1, v->u2, v->p, v->p_minus_n};
    for (size_t i = 0; i < sizeof scratch / sizeof *scratch; i++) BN_free(scratch[i]);
    EC_POINT_free(v->rpt);
    BN_MONT_CTX_free(v->mont_n);
    BN_CTX_free(v->bn);
    EC_GROUP_free(v->group);
    free(v);
}

void ecverify_reset(struct ecverify *v)
{
    v->used = 0;
    v->staged = 0;
}

uint32_t ecverify_count(const struct ecverify *v)
{
    return v->used;
}

/* grow - room for one more slot than used */
static void grow(struct ecverify *v)
{
    if (v->used < v->cap) return;
    uint32_t cap = v->cap ? v->cap * 2 : 64;
    v->slot = xrealloc(v->slot, cap * sizeof *v->slot);
    v->inv_in = xrealloc(v->inv_in, cap * sizeof *v->inv_in);
    v->inv_out = xrealloc(v->inv_out, cap * sizeof *v->inv_out);
    for (uint32_t i = v->cap; i < cap; i++) {
        struct slot *s = &v->slot[i];
        s->q = EC_POINT_new(v->group);
        if (!s->q) die("EC_POINT_new");
        s->r = bn_new_or_die();
        s->sm = bn_new_or_die();
        s->e = bn_new_or_die();
        s->w = bn_new_or_die();
    }
    v->cap = cap;
}

int ecverify_stage_point(struct ecverify *v, const uint8_t *point, size_t len)
{
    grow(v);
    v->staged = 0;
    if (len != 65 || point[0] != 0x04) return -1;
    /* oct2point rejects coordinates >= p and points off the curve */
    if (EC_POINT_oct2point(v->group, v->slot[v->used].q, point, len, v->bn) != 1) {
        ERR_clear_error();
        return -1;
    }
    v->staged = 1;
    return 0;
}

int ecverify_commit(struct ecverify *v, const uint8_t *r, size_t rlen, const uint8_t *s,
                    size_t slen, const uint8_t md[32])
{
    grow(v);   /* stage_point grew already, unless called without it */
    struct slot *sl = &v->slot[v->used];
    sl->state = SLOT_QUEUED;
    if (!v->staged)
        sl->state = SLOT_ERROR;   /* no key: a caller's mistake, never a pass */
    else if (rlen > 32 || slen > 32 || !BN_bin2bn(r, (int)rlen, sl->r) ||
        !BN_bin2bn(s, (int)slen, sl->sm) || !BN_bin2bn(md, 32, sl->e))
        sl->state = SLOT_BAD;
    else if (BN_is_zero(sl->r) || BN_is_zero(sl->sm) || BN_ucmp(sl->r, v->n) >= 0 ||
             BN_ucmp(sl->sm, v->n) >= 0)
        sl->state = SLOT_BAD;
    /* e < 2^256 < 2n: one subtraction reduces it */
    else if ((BN_ucmp(sl->e, v->n) >= 0 && !BN_sub(sl->e, sl->e, v->n)) ||
             !BN_to_montgomery(sl->sm, sl->sm, v->mont_n, v->bn))
        sl->state = SLOT_ERROR;
    v->staged = 0;
    return (int)v->used++;
}

/* invert_all - w = R/s for every queued slot, one inversion for all of
 * them; 1, or 0 if OpenSSL failed */
static int invert_all(struct ecverify *v)
{
    size_t n = 0;
    for (uint32_t i = 0; i < v->used; i++) {
        if (v->slot[i].state != SLOT_QUEUED) continue;
        v->inv_in[n] = v->slot[i].sm;
        v->inv_out[n++] = v->slot[i].w;
    }
    /* each s is in [1, n-1] and n is prime: the product is invertible */
    return n == 0 || bn_batch_invert(v->inv_in, v->inv_out, n, v->n, v->mont_n, v->bn);
}

/* x_matches - x(R) mod n == r for the Jacobian point rpt (not infinity):
 * X == r*Z^2 (mod p), or X == (r+n)*Z^2 when r + n < p; 1, 0, or -1 */
static int x_matches(struct ecverify *v, const BIGNUM *r)
{
    if (!EC_POINT_get_Jprojective_coordinates_GFp(v->group, v->rpt, v->x, NULL, v->z, v->bn) ||
        !BN_mod_sqr(v->zz, v->z, v->p, v->bn) || !BN_mod_mul(v->tmp, v->zz, r, v->p, v->bn))
        return -1;
    if (BN_cmp(v->tmp, v->x) == 0) return 1;
    if (BN_cmp(r, v->p_minus_n) >= 0) return 0;
    if (!BN_add(v->tmp, r, v->n) || !BN_mod_mul(v->tmp, v->zz, v->tmp, v->p, v->bn)) return -1;
    return BN_cmp(v->tmp, v->x) == 0;
}

void ecverify_run(struct ecverify *v)
{
    if (!invert_all(v)) {
        for (uint32_t i = 0; i < v->used; i++)
            if (v->slot[i].state == SLOT_QUEUED) v->slot[i].state = SLOT_ERROR;
        ERR_clear_error();
        return;
    }
    for (uint32_t i = 0; i < v->used; i++) {
        struct slot *s = &v->slot[i];
        if (s->state != SLOT_QUEUED) continue;
        int m = -1;
        if (BN_mod_mul_montgomery(v->u1, s->e, s->w, v->mont_n, v->bn) &&
            BN_mod_mul_montgomery(v->u2, s->r, s->w, v->mont_n, v->bn) &&
            EC_POINT_mul(v->group, v->rpt, v->u1, s->q, v->u2, v->bn))
            m = EC_POINT_is_at_infinity(v->group, v->rpt) ? 0 : x_matches(v, s->r);
        s->state = m > 0 ? SLOT_OK : m == 0 ? SLOT_BAD : SLOT_ERROR;
        if (m < 0) ERR_clear_error();
    }
}

int ecverify_result(const struct ecverify *v, int slot)
{
    if (slot < 0 || (uint32_t)slot >= v->used) return -1;
    switch (v->slot[slot].state) {
    case SLOT_OK: return 1;
    case SLOT_BAD: return 0;
    default: return -1;
    }
}
