/* validate.h - the per-request checks of SPEC.md sections 3.3 and 5 that need
 * nothing but the request itself: DeviceID, usage, base64, strict DER of the
 * PKCS#10 request, ecdsa-with-SHA256, a P-256 key with a valid uncompressed
 * point, the self-signature (proof of possession), and the hardwareModuleName
 * of the extensionRequest against DeviceID.
 *
 * The in-batch and store-wide duplicate checks (RC_DUPLICATE_*) need order and
 * the store, so they are not here: see dedup in the pipeline.
 *
 * Threads: one validate_ctx per worker thread; it holds the reusable OpenSSL
 * objects (an ecverify: keys, signatures and the arithmetic's scratch) and a
 * scratch buffer, so the hot path allocates nothing once it has seen its
 * largest chunk.  Input is read-only.
 * DIAGNOSTICS: every fault becomes req->code with a one-line req->errtext that
 * says what is wrong ("CSR signature does not verify", "DER: trailing 3 octets
 * after CertificationRequest").  Nothing is logged; nothing aborts.
 */
#ifndef SMKI_VALIDATE_H
#define SMKI_VALIDATE_H

#include "request.h"

struct validate_ctx;

/* validate_ctx_new - per-thread context; never returns NULL */
struct validate_ctx *validate_ctx_new(void);
void validate_ctx_free(struct validate_ctx *ctx);

/* validate_request - run every check on req, in SPEC section 5 order.
 * csr_b64/csr_len: the CSRBody text (may contain XML whitespace, which is
 * ignored).  Sets req->code (RC_OK or the first fault) and, for RC_OK,
 * req->device, req->usage, req->point and req->key_hash.
 * Returns req->code. */
enum req_code validate_request(struct validate_ctx *ctx, struct request *req,
                               const char *csr_b64, size_t csr_len);

/* Proofs of possession already checked (popcache.h): with known set, a
 * request validated at a position whose tag matches skips the ECDSA verify;
 * with record set, each one that verifies is recorded.  Either may be NULL;
 * the ctx does not own them.  Positions are the request's index in its
 * file (chunk->first_index + i). */
#define VALIDATE_NO_POS UINT32_MAX
struct popcache;
void validate_ctx_set_popcache(struct validate_ctx *ctx, const struct popcache *known,
                               struct popcache *record);
/* validate_request_at - validate_request for the request at position pos */
enum req_code validate_request_at(struct validate_ctx *ctx, struct request *req,
                                  const char *csr_b64, size_t csr_len, uint32_t pos);
/* validate_chunk - validate_request_at for c->req[from .. to-1] (to is
 * capped at c->n), each at position c->first_index + i, their signatures
 * verified together (ecverify.h): cheaper a request than one at a time.
 * Every request in the range has its code when this returns. */
void validate_chunk(struct validate_ctx *ctx, struct chunk *c, uint32_t from, uint32_t to);

/* validate_ctx_skipped - verifies skipped so far thanks to known */
uint64_t validate_ctx_skipped(const struct validate_ctx *ctx);

#endif
