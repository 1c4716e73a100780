/* ecverify.h - ECDSA P-256 signature verification, many at a time.
 *
 * validate checks each CSR's self-signature (its proof of possession), the
 * costliest check of a batch.  OpenSSL 3.0's EVP_PKEY_verify spends about a
 * sixth of a verify outside the multiplication u1*G + u2*Q: an inversion of
 * s modulo the group order (about 4 us), one of the result's Z coordinate to
 * bring it to affine form (about 3.5 us), the signature's DER decoded and
 * re-encoded, the provider's dispatch.  Here the verifies queued together
 * share one modular inversion (Montgomery's trick: three multiplications
 * each), and x(R) is compared in Jacobian coordinates (X == r * Z^2 mod p,
 * or (r + n) * Z^2 when r + n < p), so neither inversion is paid per
 * signature.  The multiplication itself is OpenSSL's (EC_POINT_mul, the
 * same code as EVP's).  One core of the bench machine: 61 -> 51 us a verify.
 *
 * The check is SEC 1 (v2) section 4.1.4: r and s in [1, n-1], e the SHA-256
 * digest as an integer, R = (e/s)*G + (r/s)*Q not the point at infinity,
 * x(R) mod n == r.  The key (Q) is checked by ecverify_stage_point: the
 * uncompressed form, coordinates below p, on the curve (the cofactor is 1,
 * so that is also the subgroup).
 *
 * Only public data passes through here (keys, signatures, digests), so the
 * arithmetic need not be constant-time; the CA's own signing does not use it.
 *
 * Use, per batch of verifies: ecverify_stage_point (the key) then
 * ecverify_commit (signature and digest) for each, ecverify_run, then
 * ecverify_result per slot; ecverify_reset before the next batch.  A staged
 * point that is not committed is overwritten by the next one.
 * Threads: one ecverify per thread.  Memory: grows to the largest batch
 * queued and stays; nothing is allocated per verify once it has grown.
 * Allocation failure while growing aborts (as xmem.h).
 */
#ifndef SMKI_ECVERIFY_H
#define SMKI_ECVERIFY_H

#include <stddef.h>
#include <stdint.h>

struct ecverify;

/* ecverify_new - an empty queue; never returns NULL */
struct ecverify *ecverify_new(void);
void ecverify_free(struct ecverify *v);

/* ecverify_reset - forget every queued verify (capacity is kept) */
void ecverify_reset(struct ecverify *v);

/* ecverify_stage_point - parse the key for the next verify: 65 octets,
 * 04 || X || Y.  0 if it is a point of P-256, -1 if not (the OpenSSL error
 * queue is cleared). */
int ecverify_stage_point(struct ecverify *v, const uint8_t *point, size_t len);

/* ecverify_commit - queue a verify of the signature (r, s: big-endian
 * magnitudes of at most 32 octets, leading zeros allowed) over the SHA-256
 * digest md, with the point staged last (ecverify_stage_point returned 0
 * since the last commit; if not, the verify's result is -1).  Returns the verify's slot, 0, 1,
 * 2 ... in commit order.  r or s out of [1, n-1] is queued as a failure. */
int ecverify_commit(struct ecverify *v, const uint8_t *r, size_t rlen, const uint8_t *s,
                    size_t slen, const uint8_t md[32]);

/* ecverify_count - verifies queued since the last reset */
uint32_t ecverify_count(const struct ecverify *v);

/* ecverify_run - verify everything queued */
void ecverify_run(struct ecverify *v);

/* ecverify_result - after ecverify_run: 1 the signature verifies, 0 it does
 * not, -1 OpenSSL failed inside (out of memory): neither is known. */
int ecverify_result(const struct ecverify *v, int slot);

#endif
