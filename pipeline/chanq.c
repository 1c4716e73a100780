/* chanq.c - bounded FIFO and sequence reorderer; see chanq.h. */
#include "chanq.h"

#include <pthread.h>
#include <stdlib.h>

#include "request.h"
#include "xmem.h"

struct chanq {
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    void **items;
    size_t cap, head, len;
    int closed;
};

struct chanq *chanq_new(size_t cap)
{
    struct chanq *q = xcalloc(1, sizeof *q);
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    pthread_cond_init(&q->not_full, NULL);
    q->items = xcalloc(cap, sizeof *q->items);
    q->cap = cap;
    return q;
}

void chanq_free(struct chanq *q)
{
    if (!q) return;
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
    free(q->items);
    free(q);
}

int chanq_push(struct chanq *q, void *item)
{
    pthread_mutex_lock(&q->mu);
    while (q->len == q->cap && !q->closed)
        pthread_cond_wait(&q->not_full, &q->mu);
    if (q->closed) {
        pthread_mutex_unlock(&q->mu);
        return -1;
    }
    q->items[(q->head + q->len) % q->cap] = item;
    q->len++;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->mu);
    return 0;
}

void *chanq_pop(struct chanq *q)
{
    pthread_mutex_lock(&q->mu);
    while (q->len == 0 && !q->closed)
        pthread_cond_wait(&q->not_empty, &q->mu);
    void *item = NULL;
    if (q->len > 0) {
        item = q->items[q->head];
        q->head = (q->head + 1) % q->cap;
        q->len--;
        pthread_cond_signal(&q->not_full);
    }
    pthread_mutex_unlock(&q->mu);
    return item;
}

void chanq_close(struct chanq *q)
{
    pthread_mutex_lock(&q->mu);
    q->closed = 1;
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->mu);
}

struct reorder {
    pthread_mutex_t mu;
    pthread_cond_t ready;
    struct chunk **slots;
    size_t nslots;
    uint64_t next, total;
    int have_total, aborted;
};

struct reorder *reorder_new(size_t nslots)
{
    struct reorder *r = xcalloc(1, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->ready, NULL);
    r->slots = xcalloc(nslots, sizeof *r->slots);
    r->nslots = nslots;
    return r;
}

void reorder_free(struct reorder *r)
{
    if (!r) return;
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->ready);
    free(r->slots);
    free(r);
}

void reorder_put(struct reorder *r, struct chunk *c)
{
    pthread_mutex_lock(&r->mu);
    r->slots[c->seq % r->nslots] = c;
    if (c->seq == r->next) pthread_cond_signal(&r->ready);
    pthread_mutex_unlock(&r->mu);
}

struct chunk *reorder_next(struct reorder *r)
{
    struct chunk *c = NULL;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        if (r->aborted) break;
        struct chunk *s = r->slots[r->next % r->nslots];
        if (s && s->seq == r->next) {
            r->slots[r->next % r->nslots] = NULL;
            r->next++;
            c = s;
            break;
        }
        if (r->have_total && r->next >= r->total) break;
        pthread_cond_wait(&r->ready, &r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    return c;
}

struct chunk *reorder_try_next(struct reorder *r)
{
    struct chunk *c = NULL;
    pthread_mutex_lock(&r->mu);
    struct chunk *s = r->slots[r->next % r->nslots];
    if (!r->aborted && s && s->seq == r->next) {
        r->slots[r->next % r->nslots] = NULL;
        r->next++;
        c = s;
    }
    pthread_mutex_unlock(&r->mu);
    return c;
}

void reorder_end(struct reorder *r, uint64_t total)
{
    pthread_mutex_lock(&r->mu);
    r->total = total;
    r->have_total = 1;
    pthread_cond_broadcast(&r->ready);
    pthread_mutex_unlock(&r->mu);
}

void reorder_abort(struct reorder *r)
{
    pthread_mutex_lock(&r->mu);
    r->aborted = 1;
    pthread_cond_broadcast(&r->ready);
    pthread_mutex_unlock(&r->mu);
}
