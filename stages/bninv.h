/* bninv.h - many modular inverses for the price of one (Montgomery's trick).
 *
 * ecverify (1/s of a chunk's signatures, mod n) and ecsign (1/k of the CA's
 * nonces mod n, and 1/Z^2 of k*G mod p) need an inverse of each of many
 * values.  One inversion costs about 10-15 us on the bench machine, three
 * Montgomery multiplications about 0.1: this takes the prefix products
 * a_0 ... a_i, inverts the last one, and walks back, three multiplications
 * per value and one inversion in all.
 *
 * The inversion is Fermat's, a^(m-2) mod m by BN_mod_exp_mont_consttime
 * (the modulus must be prime), and every product a 256-bit (or wider)
 * Montgomery multiplication, so secret values (ecsign's k) may pass through;
 * the temporaries come from the caller's BN_CTX and are cleared before they
 * go back to it.
 */
#ifndef SMKI_BNINV_H
#define SMKI_BNINV_H

#include <stddef.h>

#include <openssl/bn.h>

/* bn_batch_invert - a[0..n-1] are values in Montgomery form for mont
 * (x_i * R mod m, R the Montgomery radix), each non-zero mod m, m prime.
 * Leaves in out[i] the Montgomery form of 1/x_i (that is R / x_i mod m).
 * out[i] must not be a[j] for any i, j; a is left as it was.  n >= 1.
 * 1, or 0 if OpenSSL failed (out is then undefined). */
int bn_batch_invert(BIGNUM *const *a, BIGNUM *const *out, size_t n, const BIGNUM *m,
                    BN_MONT_CTX *mont, BN_CTX *bn);

#endif
