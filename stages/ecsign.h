/* ecsign.h - the CA's ECDSA signatures, with their nonces prepared many at
 * a time.  Used by sign.c alone, for one signing thread each.
 *
 * An ECDSA signature with the CA key d over a digest e is, for a fresh
 * secret nonce k in [1, n-1]:  r = x(k*G) mod n,  s = (e + r*d) / k mod n.
 * All but the last step depend on k alone, and OpenSSL offers the split:
 * ECDSA_do_sign_ex(e, kinv, r, key) finishes a signature from a prepared
 * pair (1/k mod n, r) in about 0.4 us, where a whole EVP_PKEY_sign costs
 * about 20 us on one core of the bench machine.  Of the pair's preparation,
 * k*G (OpenSSL's constant-time fixed-base multiplication) is about 7 us; two
 * inversions are most of the rest: 1/Z^2 mod p to bring k*G to affine form
 * (about 3.7 us), and 1/k mod n.  Here the pairs are prepared a batch at a
 * time and each inversion is shared across the batch (Montgomery's trick:
 * three multiplications per pair, then one inversion), so a signature costs
 * about k*G, the draw of k and the finish.
 *
 * SECURITY
 *   k is secret.  It is drawn from the private DRBG (RAND_priv_bytes,
 *   rejection sampling below n), multiplied by OpenSSL's constant-time code
 *   with BN_FLG_CONSTTIME set, and every product or inverse of it is a
 *   256-bit Montgomery multiplication (BN_mod_mul_montgomery) or a
 *   constant-time exponentiation (bninv.h: BN_mod_exp_mont_consttime, Fermat's
 *   a^(m-2)), never BN_mod_inverse.  s, the only step that touches d, is
 *   OpenSSL's own (ECDSA_do_sign_ex, blinded).  A pair is used once: it is
 *   cleared as it is taken for a signature, and ecsign_free clears every
 *   prepared pair; a pair whose s came out zero is dropped, not retried.
 *   The key is a private copy (EC_KEY) per ecsign, cleared when freed.
 *   Prepared pairs wait in memory (at most cap of them) until used.
 *
 * DIAGNOSTICS: ecsign_new: NULL with err filled.  ecsign_sign: -1 when the
 * DRBG or OpenSSL failed (the OpenSSL error queue says why).
 * Memory: fixed at ecsign_new (cap pairs).  Allocation failure of our own
 * buffers aborts (as xmem.h).
 */
#ifndef SMKI_ECSIGN_H
#define SMKI_ECSIGN_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

struct ecsign;

/* ecsign_new - a signer for key (an EC private key on a prime curve) with
 * room for cap prepared pairs (cap >= 1); none is prepared before the first
 * signature.  NULL with err filled if key is not such a key. */
struct ecsign *ecsign_new(EVP_PKEY *key, size_t cap, char *err, size_t errlen);

/* ecsign_free - clear every prepared pair and the key copy, and release */
void ecsign_free(struct ecsign *e);

/* ecsign_sign - sign the digest md (mdlen octets) with the next prepared
 * pair, preparing a batch first when none is left.  Writes the DER
 * Ecdsa-Sig-Value into sig: *siglen is its room on entry, its length on
 * return.  0, or -1 (DRBG or OpenSSL failure, or sig too small). */
int ecsign_sign(struct ecsign *e, const uint8_t *md, size_t mdlen, uint8_t *sig, size_t *siglen);

/* ecsign_prepared - pairs left before the next batch is prepared (tests) */
size_t ecsign_prepared(const struct ecsign *e);

#endif
