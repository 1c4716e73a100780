/* popcache.h - proofs of possession already checked, by request position.
 *
 * A CSR's self-signature (its proof of possession) is the costliest check
 * of a batch.  While intake reads a file that will be processed at once
 * (run --drain), one core would otherwise sit idle; a helper (pipeline/
 * prover.c) validates some of the file's CSRs there and records, for each
 * one whose signature verified, a tag at its position in the file.  When
 * the batch is processed, validate skips the ECDSA verify of a request
 * whose position holds the tag of its own bytes; every other check still
 * runs, and every request without a matching tag is verified as usual.
 *
 * The tag is SHA-256 over the digest of the certificationRequestInfo (which
 * holds the key and the subject) and the signature octets, cut to 16
 * octets: a different request at that position (a different file, an
 * archive read back differently) does not match, so a tag can only save
 * the verify it stands for.
 *
 * Threads: one writer (popcache_put) while it is being filled; handed over
 * (a thread join) before any reader; then any number of readers.
 * Memory: 17 octets per position, allocated zeroed (pages never written stay
 * unbacked).
 */
#ifndef SMKI_POPCACHE_H
#define SMKI_POPCACHE_H

#include <stddef.h>
#include <stdint.h>

#define POP_TAG_LEN 16

struct popcache;

/* popcache_new - room for positions 0 .. positions-1; never returns NULL */
struct popcache *popcache_new(uint32_t positions);
void popcache_free(struct popcache *pc);

/* popcache_tag - the tag of a request: md = SHA-256(certificationRequestInfo) */
void popcache_tag(const uint8_t md[32], const uint8_t *sig, size_t siglen, uint8_t tag[POP_TAG_LEN]);

/* popcache_put - the request at pos verified (pos out of range: ignored) */
void popcache_put(struct popcache *pc, uint32_t pos, const uint8_t tag[POP_TAG_LEN]);

/* popcache_has - 1 when pos was recorded (with any tag): cheap, so that a
 * request's tag is only computed when it may match */
int popcache_has(const struct popcache *pc, uint32_t pos);

/* popcache_holds - 1 when pos was recorded with exactly this tag */
int popcache_holds(const struct popcache *pc, uint32_t pos, const uint8_t tag[POP_TAG_LEN]);

/* popcache_count - positions recorded */
uint32_t popcache_count(const struct popcache *pc);

/* popcache_cpu_add / popcache_cpu - CPU seconds spent filling it, so that
 * the stage that uses it can be charged for the work done ahead */
void popcache_cpu_add(struct popcache *pc, double seconds);
double popcache_cpu(const struct popcache *pc);

#endif
