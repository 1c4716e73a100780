/* prover.c - proofs of possession checked during intake; see prover.h.
 *
 * PROVER_NCHUNKS chunks of PROVER_CHUNK requests circulate: one being
 * filled by the parser, one being validated, the rest queued.  The parser
 * only ever swaps a full chunk for an empty one when the queue has room, so
 * it never blocks on this thread.  The parser is about fifteen times faster
 * than the verifies, so the queue is full when the parse ends: its
 * PROVER_QUEUE chunks (about 25 ms of verifies) keep this thread busy
 * through intake's fsyncs and receipt and the processor's start (the
 * signer, the check of the request cache or of the archive), where a core
 * would otherwise idle. */
#include "prover.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "validate.h"
#include "xmem.h"

#define PROVER_CHUNK 64
#define PROVER_SLICE 16
#define PROVER_QUEUE 8
#define PROVER_NCHUNKS (PROVER_QUEUE + 2)

struct prover {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct chunk *all[PROVER_NCHUNKS];
    struct chunk *free[PROVER_NCHUNKS];
    int nfree;
    struct chunk *queue[PROVER_QUEUE];   /* for the thread, oldest at head */
    int qhead, qlen;
    int closing;                 /* no more offers: the thread ends when the queue is empty */
    atomic_int stop;             /* stop within one request */
    struct validate_ctx *vctx;   /* the thread's */
    struct popcache *pc;
};

static void *prover_thread(void *arg)
{
    struct prover *pv = arg;
    pthread_setname_np(pthread_self(), "smki-prove");
    /* idle time only: intake (the receipt) and its compressor come first */
    struct sched_param sp = {0};
    pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
    for (;;) {
        pthread_mutex_lock(&pv->mu);
        while (!pv->qlen && !pv->closing) pthread_cond_wait(&pv->cv, &pv->mu);
        struct chunk *c = NULL;
        if (pv->qlen && !atomic_load(&pv->stop)) {
            c = pv->queue[pv->qhead];
            pv->qhead = (pv->qhead + 1) % PROVER_QUEUE;
            pv->qlen--;
        }
        pthread_mutex_unlock(&pv->mu);
        if (!c) break;
        /* slices: the verifies of a slice share an inversion (validate_chunk),
         * and a stop waits for one slice, about 1 ms, not a whole chunk */
        for (uint32_t i = 0; i < c->n && !atomic_load(&pv->stop); i += PROVER_SLICE)
            validate_chunk(pv->vctx, c, i, i + PROVER_SLICE);
        pthread_mutex_lock(&pv->mu);
        pv->free[pv->nfree++] = c;
        pthread_mutex_unlock(&pv->mu);
    }
    /* no more offers (sealed, or finishing): the chunks and the context go
     * now, so that a prover held for a later turn keeps only its popcache */
    for (int i = 0; i < PROVER_NCHUNKS; i++) {
        chunk_free(pv->all[i]);
        pv->all[i] = NULL;
    }
    validate_ctx_free(pv->vctx);
    pv->vctx = NULL;
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    popcache_cpu_add(pv->pc, (double)ts.tv_sec + ts.tv_nsec / 1e9);
    return NULL;
}

struct prover *prover_start(uint32_t max_csrs)
{
    struct prover *pv = xcalloc(1, sizeof *pv);
    pthread_mutex_init(&pv->mu, NULL);
    pthread_cond_init(&pv->cv, NULL);
    for (int i = 0; i < PROVER_NCHUNKS; i++) pv->all[i] = chunk_new(PROVER_CHUNK);
    for (int i = 1; i < PROVER_NCHUNKS; i++) pv->free[pv->nfree++] = pv->all[i];
    pv->pc = popcache_new(max_csrs);
    pv->vctx = validate_ctx_new();
    validate_ctx_set_popcache(pv->vctx, NULL, pv->pc);
    if (pthread_create(&pv->th, NULL, prover_thread, pv) != 0) log_panic("cannot start the prover thread");
    return pv;
}

struct chunk *prover_chunk(struct prover *pv)
{
    return pv->all[0];
}

struct chunk *prover_offer(struct prover *pv, struct chunk *c)
{
    struct chunk *back = c;
    pthread_mutex_lock(&pv->mu);
    if (pv->qlen < PROVER_QUEUE && pv->nfree > 0) {
        pv->queue[(pv->qhead + pv->qlen++) % PROVER_QUEUE] = c;
        back = pv->free[--pv->nfree];
        pthread_cond_signal(&pv->cv);
    }
    pthread_mutex_unlock(&pv->mu);
    return back;
}

void prover_seal(struct prover *pv)
{
    if (!pv) return;
    pthread_mutex_lock(&pv->mu);
    pv->closing = 1;
    pthread_cond_signal(&pv->cv);
    pthread_mutex_unlock(&pv->mu);
}

struct popcache *prover_finish(struct prover *pv)
{
    if (!pv) return NULL;
    atomic_store(&pv->stop, 1);
    pthread_mutex_lock(&pv->mu);
    pv->closing = 1;
    pthread_cond_signal(&pv->cv);
    pthread_mutex_unlock(&pv->mu);
    pthread_join(pv->th, NULL);
    struct popcache *pc = pv->pc;   /* the thread freed the chunks and the context */
    pthread_mutex_destroy(&pv->mu);
    pthread_cond_destroy(&pv->cv);
    free(pv);
    return pc;
}
