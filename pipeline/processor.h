/* processor.h - issues the certificates of queued batches, one batch at a
 * time, in turn order, with every core.  The design essay is at the top of
 * processor.c; in short:
 *
 *   parse(1) -> [chanq] -> validate(N) -> [reorder] -> dedup(1) -> [chanq]
 *            -> sign(N) -> [reorder] -> write(1, the calling thread)
 *
 * Chunks of CHUNK_REQUESTS requests travel between stages; a fixed pool of
 * chunks bounds memory whatever the batch size.  The writer commits each
 * chunk (certificate records + the chunk's Result elements + progress) in
 * one synced WriteBatch, and when the batch is done streams the response
 * file from those records: temp file, fsync, rename, directory fsync.
 * A batch interrupted (stop signal, crash) resumes after its last committed
 * chunk; nothing is issued twice.
 */
#ifndef SMKI_PROCESSOR_H
#define SMKI_PROCESSOR_H

#include <stddef.h>
#include <stdint.h>

#include "home.h"
#include "store.h"

#define CHUNK_REQUESTS 256   /* 512 held 5-6 MiB more at the peak of a batch, for 1-2% less CPU */

struct processor;

/* processor_new - workers from the config (0 = online cores); the signer is
 * opened at the first batch.  NULL with err. */
struct processor *processor_new(struct home *h, struct store *st, char *err, size_t errlen);
void processor_free(struct processor *p);

/* processor_recover - log batches a previous run left in processing; they
 * resume after their last committed chunk when their turn comes */
void processor_recover(struct processor *p);

/* processor_give_prover - the prover (prover.h) of turn's file, still
 * running; the processor owns it from now on.  It holds up to
 * PROCESSOR_PROVERS of them (when full, the oldest is finished and its
 * proofs dropped) and lets each run until it starts its own workers on
 * that turn's batch or a later one (through the store and archive checks
 * before them, when a core would otherwise idle); then it finishes it and,
 * for that turn, skips the verifies it did.  NULL is ignored. */
#define PROCESSOR_PROVERS 8
struct prover;
void processor_give_prover(struct processor *p, uint64_t turn, struct prover *pv);

/* processor_drain - every pending, unheld batch now, in turn order, whatever
 * the window and the nightly capacity (run --drain).  stop() is called
 * on the writer's thread after each chunk commit (run also takes incoming
 * files there, so that receipts do not wait for a batch).  0 when the
 * queue was worked through, -1 when a batch could not be processed now
 * (the cause is logged; it stays queued and the batches after it wait:
 * turn order). */
int processor_drain(struct processor *p, int (*stop)(void *), void *stop_arg);

/* processor_run_plan - while the nightly window is open, the batches the
 * capacity model plans for this night, in its order (run).  0 or -1. */
int processor_run_plan(struct processor *p, int (*stop)(void *), void *stop_arg);

#endif
