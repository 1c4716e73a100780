/* chanq.h - the bounded queues that join the processing stages.
 *
 *   chanq    a bounded FIFO of pointers: push blocks while full
 *            (backpressure), pop blocks while empty; after chanq_close,
 *            push drops and returns -1, pop drains what is left then
 *            returns NULL.  Many producers, many consumers.
 *   reorder  hands chunks to ONE consumer in sequence order whatever order
 *            the parallel workers finish in: a worker puts chunk seq s in
 *            slot s % nslots; the consumer takes seq 0, 1, 2 ...  Because
 *            no more than nslots chunks exist (the pool), slots never clash.
 *            reorder_end(total) says how many will come; after reorder_abort
 *            the consumer gets NULL at once.
 * Ownership: a pointer in a queue belongs to the queue until popped.
 */
#ifndef SMKI_CHANQ_H
#define SMKI_CHANQ_H

#include <stddef.h>
#include <stdint.h>

struct chanq;
struct chanq *chanq_new(size_t cap);
void chanq_free(struct chanq *q);
int chanq_push(struct chanq *q, void *item);
void *chanq_pop(struct chanq *q);
void chanq_close(struct chanq *q);

struct chunk;
struct reorder;
struct reorder *reorder_new(size_t nslots);
void reorder_free(struct reorder *r);
void reorder_put(struct reorder *r, struct chunk *c);
struct chunk *reorder_next(struct reorder *r);
/* reorder_try_next - the next chunk if it is already there, else NULL */
struct chunk *reorder_try_next(struct reorder *r);
void reorder_end(struct reorder *r, uint64_t total);
void reorder_abort(struct reorder *r);

#endif
