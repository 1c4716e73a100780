/* retrieval.h - the record of a party's retrievals of one batch (BRIEF.md
 * section 4): when it last polled a pending batch, and when it retrieved the
 * response.  Kept as one small file per batch in HOME/retrievals/, written
 * atomically under an flock, so that `fetch` works while `run` holds the
 * store.  A retrieval is recorded only after the response was written out
 * whole.
 */
#ifndef SMKI_RETRIEVAL_H
#define SMKI_RETRIEVAL_H

#include <stdint.h>
#include <time.h>

struct retrieval {
    time_t last_poll;      /* 0: never polled while pending */
    time_t retrieved_at;   /* 0: not retrieved */
    time_t reopened_at;    /* last operator re-open */
};

struct retrieval_lock;

/* retrieval_open - lock and read the record of party+batch; NULL with err */
struct retrieval_lock *retrieval_open(const char *home, const uint8_t party[8], const char *batch_id,
                                      struct retrieval *r, char *err, size_t errlen);
/* retrieval_save - write the record back (tmp, fsync, rename, dir fsync); 0 or -errno */
int retrieval_save(struct retrieval_lock *l, const struct retrieval *r);
/* retrieval_close - unlock */
void retrieval_close(struct retrieval_lock *l);

#endif
