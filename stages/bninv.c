/* bninv.c - Montgomery's trick; see bninv.h.  With a_i = x_i * R:
 *   out_i (first)  = a_0 ... a_i / R^i       = x_0 ... x_i * R
 *   acc            = R / (x_0 ... x_last)    (from_mont, Fermat, to_mont)
 *   walking back:  out_i = mont(acc, out_{i-1}) = R / x_i,
 *                  acc   = mont(acc, a_i)       = R / (x_0 ... x_{i-1})
 * out_{i-1} is read at step i, before step i - 1 writes it. */
#include "bninv.h"

int bn_batch_invert(BIGNUM *const *a, BIGNUM *const *out, size_t n, const BIGNUM *m,
                    BN_MONT_CTX *mont, BN_CTX *bn)
{
    int ok = 0;
    BN_CTX_start(bn);
    BIGNUM *acc = BN_CTX_get(bn), *t = BN_CTX_get(bn), *e = BN_CTX_get(bn);
    if (!e || !BN_copy(out[0], a[0]))
        goto end;
    BN_set_flags(acc, BN_FLG_CONSTTIME);
    BN_set_flags(t, BN_FLG_CONSTTIME);
    for (size_t i = 1; i < n; i++)
        if (!BN_mod_mul_montgomery(out[i], out[i - 1], a[i], mont, bn))
            goto end;
    if (!BN_copy(e, m) || !BN_sub_word(e, 2) ||
        !BN_from_montgomery(t, out[n - 1], mont, bn) ||
        !BN_mod_exp_mont_consttime(acc, t, e, m, bn, mont) ||
        !BN_to_montgomery(acc, acc, mont, bn))
        goto end;
    for (size_t i = n - 1; i > 0; i--)
        if (!BN_mod_mul_montgomery(out[i], acc, out[i - 1], mont, bn) ||
            !BN_mod_mul_montgomery(acc, acc, a[i], mont, bn))
            goto end;
    ok = BN_copy(out[0], acc) != NULL;
end:
    if (e) {
        BN_clear(acc);
        BN_clear(t);
    }
    BN_CTX_end(bn);
    return ok;
}
