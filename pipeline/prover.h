/* prover.h - checks proofs of possession of a file's CSRs on an otherwise
 * idle core while intake is still reading the file.
 *
 * Used by intake for a file that `run --drain` will process at once: the
 * intake parser hands some of the chunks it parses to the prover's thread
 * (only when that thread is ready for one: the parser never waits), which
 * validates their requests and records each verified signature in a
 * popcache (stages/popcache.h) by position.  The processor then skips those
 * verifies.  Intake itself is single-threaded and CPU-bound, so this uses
 * the second core for work the batch needs anyway.
 *
 * Ownership: the prover owns its chunks (small ones) and its thread; the
 * chunk prover_offer returns belongs to the caller until the next
 * prover_offer.  Intake hands an accepted file's prover, still running on
 * its queued chunks, to the processor (processor_give_prover), which
 * finishes it when its own workers start.  prover_finish stops and joins
 * the thread and gives the popcache to the caller (popcache_free it), or
 * NULL for a NULL prover.
 */
#ifndef SMKI_PROVER_H
#define SMKI_PROVER_H

#include <stdint.h>

#include "popcache.h"
#include "request.h"

struct prover;

/* prover_start - a prover for a file of at most max_csrs CSRs, its thread
 * running; never returns NULL */
struct prover *prover_start(uint32_t max_csrs);

/* prover_chunk - the first chunk for the parser to fill */
struct chunk *prover_chunk(struct prover *pv);

/* prover_offer - c has just been filled: the prover takes it when its
 * thread has room, and the parser gets an empty chunk back; otherwise c
 * itself comes back, to be filled again (its requests go unproven) */
struct chunk *prover_offer(struct prover *pv, struct chunk *c);

/* prover_finish - stop (within one request), join, free; the proofs */
struct popcache *prover_finish(struct prover *pv);

/* prover_seal - the parser is done with pv: no more prover_offer.  The
 * thread verifies what is queued, then frees its chunks and ends; the
 * popcache waits for prover_finish.  NULL is ignored. */
void prover_seal(struct prover *pv);

#endif
