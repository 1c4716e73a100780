/* dedup.h - the in-order duplicate checks of SPEC.md sections 3.3 and 5:
 * E_DUPLICATE_REQUEST (same device + usage earlier in this batch) and
 * E_DUPLICATE_KEY (same public key earlier in this batch, or certified
 * before, for any device or usage).
 *
 * Order matters ("earlier in this batch"), so ONE thread runs this stage,
 * on chunks in sequence order, between validate and sign.  Only a request
 * that is otherwise valid (code RC_OK) claims its device+usage and its key;
 * a rejected request claims nothing.  Devices compare by their 8 octets.
 * The store-wide key check is the caller's callback (the key index lives in
 * the store, which stages do not see).
 * Memory: two open-addressing tables sized for the batch at dedup_new (about
 * 56 octets a request), and a per-chunk scratch for the batched key lookup
 * (grown once, kept).
 */
#ifndef SMKI_DEDUP_H
#define SMKI_DEDUP_H

#include <stddef.h>
#include <stdint.h>

#include "request.h"

/* keys_known: for the n key hashes of a chunk, known[i] = 1 if certified
 * before, 0 if not; 0, or -1 on error.  Called once per chunk (one batched
 * store lookup), with the keys that reach the check; the hashes are the
 * dedup's scratch, valid during the call. */
typedef int (*dedup_keys_known_fn)(void *arg, const uint8_t (*hashes)[32], size_t n, uint8_t *known);

struct dedup;

/* dedup_new - tables for up to max_requests claims */
struct dedup *dedup_new(uint32_t max_requests, dedup_keys_known_fn known, void *arg);
void dedup_free(struct dedup *d);

/* dedup_chunk - check and claim, in order; 0, or -1 when key_known failed */
int dedup_chunk(struct dedup *d, struct chunk *c);

/* dedup_claim - claim without checking (resuming a batch: requests answered
 * before the interruption); 0 */
void dedup_claim(struct dedup *d, const uint8_t device[8], enum usage usage, const uint8_t key_hash[32]);

#endif
