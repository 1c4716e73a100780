/* test_chanq.c - unit tests of the stage queues (pipeline/chanq.c):
 *   chanq    FIFO order (with wrap-around), push blocks while full, pop
 *            blocks while empty, close wakes both (push -1, pop drains then
 *            NULL), many producers and consumers lose and duplicate nothing;
 *   reorder  chunks put in any order from threads come out 0, 1, 2 ...,
 *            NULL after reorder_end(total), slots reused, abort wakes.
 * "Blocks" is checked by a thread that has not returned after a pause and
 * returns once the condition changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "testutil.h"

#include "chanq.h"
#include "request.h"

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* wait_flag - until *flag is set or ms pass; returns the flag */
static int wait_flag(atomic_int *flag, int ms)
{
    for (int i = 0; i < ms / 5 && !atomic_load(flag); i++) sleep_ms(5);
    return atomic_load(flag);
}

#define ITEM(n) ((void *)(uintptr_t)(n))

/* test_fifo - order, wrap-around */
static void test_fifo(void **state)
{
    (void)state;
    struct chanq *q = chanq_new(4);
    for (uintptr_t i = 1; i <= 4; i++) assert_int_equal(chanq_push(q, ITEM(i)), 0);
    for (uintptr_t i = 1; i <= 4; i++) assert_ptr_equal(chanq_pop(q), ITEM(i));
    /* interleaved, so head and tail wrap many times */
    uintptr_t next_in = 1, next_out = 1;
    for (int round = 0; round < 50; round++) {
        int k = 1 + round % 4;
        for (int j = 0; j < k; j++) assert_int_equal(chanq_push(q, ITEM(next_in++)), 0);
        for (int j = 0; j < k; j++) assert_ptr_equal(chanq_pop(q), ITEM(next_out++));
    }
    chanq_free(q);

    /* capacity 1 */
    q = chanq_new(1);
    for (uintptr_t i = 1; i <= 5; i++) {
        assert_int_equal(chanq_push(q, ITEM(i)), 0);
        assert_ptr_equal(chanq_pop(q), ITEM(i));
    }
    chanq_free(q);
}

struct pusher { struct chanq *q; uintptr_t item; int rc; atomic_int done; };

static void *push_thread(void *arg)
{
    struct pusher *p = arg;
    p->rc = chanq_push(p->q, ITEM(p->item));
    atomic_store(&p->done, 1);
    return NULL;
}

struct popper { struct chanq *q; void *got; atomic_int done; };

static void *pop_thread(void *arg)
{
    struct popper *p = arg;
    p->got = chanq_pop(p->q);
    atomic_store(&p->done, 1);
    return NULL;
}

/* test_push_blocks_when_full - backpressure */
static void test_push_blocks_when_full(void **state)
{
    (void)state;
    struct chanq *q = chanq_new(2);
    assert_int_equal(chanq_push(q, ITEM(1)), 0);
    assert_int_equal(chanq_push(q, ITEM(2)), 0);
    struct pusher p = {.q = q, .item = 3};
    atomic_init(&p.done, 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, push_thread, &p), 0);
    sleep_ms(150);
    if (atomic_load(&p.done)) fail_msg("push into a full queue returned (rc %d) instead of blocking", p.rc);
    assert_ptr_equal(chanq_pop(q), ITEM(1));
    if (!wait_flag(&p.done, 5000)) fail_msg("the blocked push did not resume after a pop");
    pthread_join(th, NULL);
    assert_int_equal(p.rc, 0);
    assert_ptr_equal(chanq_pop(q), ITEM(2));
    assert_ptr_equal(chanq_pop(q), ITEM(3));
    chanq_free(q);
}

/* test_pop_blocks_when_empty - and wakes on a push */
static void test_pop_blocks_when_empty(void **state)
{
    (void)state;
    struct chanq *q = chanq_new(2);
    struct popper p = {.q = q};
    atomic_init(&p.done, 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, pop_thread, &p), 0);
    sleep_ms(150);
    if (atomic_load(&p.done)) fail_msg("pop of an empty queue returned %p instead of blocking", p.got);
    assert_int_equal(chanq_push(q, ITEM(7)), 0);
    if (!wait_flag(&p.done, 5000)) fail_msg("the blocked pop did not wake on a push");
    pthread_join(th, NULL);
    assert_ptr_equal(p.got, ITEM(7));
    chanq_free(q);
}

/* test_close_wakes_pop - a blocked pop returns NULL */
static void test_close_wakes_pop(void **state)
{
    (void)state;
    struct chanq *q = chanq_new(2);
    struct popper p[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        p[i].q = q;
        p[i].got = ITEM(99);
        atomic_init(&p[i].done, 0);
        assert_int_equal(pthread_create(&th[i], NULL, pop_thread, &p[i]), 0);
    }
    sleep_ms(100);
    for (int i = 0; i < 3; i++) assert_false(atomic_load(&p[i].done));
    chanq_close(q);
    for (int i = 0; i < 3; i++) {
        if (!wait_flag(&p[i].done, 5000)) fail_msg("close did not wake blocked pop %d", i);
        pthread_join(th[i], NULL);
        assert_null(p[i].got);
    }
    assert_null(chanq_pop(q));   /* and stays closed */
    chanq_free(q);
}

/* test_close_wakes_push - a blocked push returns -1 (the item is not queued) */
static void test_close_wakes_push(void **state)
{
    (void)state;
    struct chanq *q = chanq_new(1);
    assert_int_equal(chanq_push(q, ITEM(1)), 0);
    struct pusher p = {.q = q, .item = 2, .rc = 99};
    atomic_init(&p.done, 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, push_thread, &p), 0);
    sleep_ms(100);
    assert_false(atomic_load(&p.done));
    chanq_close(q);
    if (!wait_flag(&p.done, 5000)) fail_msg("close did not wake the blocked push");
    pthread_join(th, NULL);
    assert_int_equal(p.rc, -1);
    /* pop drains what was queued before the close, then NULL */
    assert_ptr_equal(chanq_pop(q), ITEM(1));
    assert_null(chanq_pop(q));
    chanq_free(q);
}

/* test_closed_queue - push -1 at once, pop drains then NULL */
static void test_closed_queue(void **state)
{
    (void)state;
    struct chanq *q = chanq_new(4);
    assert_int_equal(chanq_push(q, ITEM(1)), 0);
    assert_int_equal(chanq_push(q, ITEM(2)), 0);
    chanq_close(q);
    assert_int_equal(chanq_push(q, ITEM(3)), -1);
    assert_ptr_equal(chanq_pop(q), ITEM(1));
    assert_ptr_equal(chanq_pop(q), ITEM(2));
    assert_null(chanq_pop(q));
    assert_null(chanq_pop(q));
    chanq_close(q);   /* twice is harmless */
    chanq_free(q);
}

/* many producers, many consumers */
#define NPROD 4
#define NCONS 4
#define PER 20000

struct mpmc {
    struct chanq *q;
    uint8_t *seen;         /* PER * NPROD counters */
    atomic_long count;
};

struct cons_arg { struct mpmc *m; long last[NPROD]; int order_ok; };
struct prod_arg { struct mpmc *m; int id; };

static void *producer(void *arg)
{
    struct prod_arg *a = arg;
    for (long i = 0; i < PER; i++)
        if (chanq_push(a->m->q, ITEM(1 + a->id * PER + i)) != 0) break;
    return NULL;
}

static void *consumer(void *arg)
{
    struct cons_arg *a = arg;
    void *it;
    for (int i = 0; i < NPROD; i++) a->last[i] = -1;
    a->order_ok = 1;
    while ((it = chanq_pop(a->m->q)) != NULL) {
        long v = (long)(uintptr_t)it - 1;
        int prod = (int)(v / PER);
        long seq = v % PER;
        /* FIFO: one consumer sees each producer's items in increasing order */
        if (seq <= a->last[prod]) a->order_ok = 0;
        a->last[prod] = seq;
        /* exactly once */
        __atomic_fetch_add(&a->m->seen[v], 1, __ATOMIC_RELAXED);
        atomic_fetch_add(&a->m->count, 1);
    }
    return NULL;
}

/* test_mpmc - nothing lost, nothing twice, per-producer order kept */
static void test_mpmc(void **state)
{
    (void)state;
    struct mpmc m = {.q = chanq_new(8), .seen = calloc(NPROD * PER, 1)};
    atomic_init(&m.count, 0);
    pthread_t pt[NPROD], ct[NCONS];
    struct prod_arg pa[NPROD];
    struct cons_arg ca[NCONS];
    for (int i = 0; i < NCONS; i++) {
        ca[i].m = &m;
        assert_int_equal(pthread_create(&ct[i], NULL, consumer, &ca[i]), 0);
    }
    for (int i = 0; i < NPROD; i++) {
        pa[i] = (struct prod_arg){&m, i};
        assert_int_equal(pthread_create(&pt[i], NULL, producer, &pa[i]), 0);
    }
    for (int i = 0; i < NPROD; i++) pthread_join(pt[i], NULL);
    chanq_close(m.q);
    for (int i = 0; i < NCONS; i++) pthread_join(ct[i], NULL);
    assert_int_equal(atomic_load(&m.count), NPROD * PER);
    for (long i = 0; i < NPROD * PER; i++)
        if (m.seen[i] != 1) fail_msg("item %ld popped %d times", i, m.seen[i]);
    for (int i = 0; i < NCONS; i++)
        if (!ca[i].order_ok) fail_msg("consumer %d saw a producer's items out of order", i);
    free(m.seen);
    chanq_free(m.q);
}

/* ---- reorder ---- */

struct putter { struct reorder *r; struct chunk *c; int delay_ms; };

static void *put_thread(void *arg)
{
    struct putter *p = arg;
    sleep_ms(p->delay_ms);
    reorder_put(p->r, p->c);
    return NULL;
}

struct taker { struct reorder *r; struct chunk *got[16]; atomic_int n; atomic_int done; };

static void *take_thread(void *arg)
{
    struct taker *t = arg;
    struct chunk *c;
    while (atomic_load(&t->n) < 16 && (c = reorder_next(t->r)) != NULL) {
        t->got[atomic_load(&t->n)] = c;
        atomic_fetch_add(&t->n, 1);
    }
    atomic_store(&t->done, 1);
    return NULL;
}

/* test_reorder_threads - put 3, 1, 0, 2 from threads: out 0, 1, 2, 3, NULL */
static void test_reorder_threads(void **state)
{
    (void)state;
    struct reorder *r = reorder_new(4);
    struct chunk ck[4];
    memset(ck, 0, sizeof ck);
    for (int i = 0; i < 4; i++) ck[i].seq = (uint64_t)i;
    /* finishing order 3, 1, 0, 2 */
    const int delay[4] = {120, 60, 180, 10};
    struct putter p[4];
    pthread_t th[4];
    struct taker t = {.r = r};
    atomic_init(&t.done, 0);
    pthread_t tt;
    assert_int_equal(pthread_create(&tt, NULL, take_thread, &t), 0);
    for (int i = 0; i < 4; i++) {
        p[i] = (struct putter){r, &ck[i], delay[i]};
        assert_int_equal(pthread_create(&th[i], NULL, put_thread, &p[i]), 0);
    }
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    sleep_ms(50);
    /* all four taken, the consumer waits for more until told the total */
    assert_int_equal(atomic_load(&t.n), 4);
    assert_false(atomic_load(&t.done));
    reorder_end(r, 4);
    if (!wait_flag(&t.done, 5000)) fail_msg("reorder_end did not release the consumer");
    pthread_join(tt, NULL);
    assert_int_equal(t.n, 4);
    for (int i = 0; i < 4; i++) assert_ptr_equal(t.got[i], &ck[i]);
    assert_null(reorder_next(r));
    reorder_free(r);
}

/* test_reorder_end_first - the total known before anything arrives */
static void test_reorder_end_first(void **state)
{
    (void)state;
    struct reorder *r = reorder_new(4);
    struct chunk ck[3];
    memset(ck, 0, sizeof ck);
    for (int i = 0; i < 3; i++) ck[i].seq = (uint64_t)i;
    reorder_end(r, 3);
    reorder_put(r, &ck[2]);
    reorder_put(r, &ck[0]);
    assert_ptr_equal(reorder_next(r), &ck[0]);
    /* seq 1 not there yet: the consumer must wait for it, not stop */
    struct taker t = {.r = r};
    atomic_init(&t.done, 0);
    pthread_t tt;
    assert_int_equal(pthread_create(&tt, NULL, take_thread, &t), 0);
    sleep_ms(100);
    assert_int_equal(atomic_load(&t.n), 0);
    reorder_put(r, &ck[1]);
    if (!wait_flag(&t.done, 5000)) fail_msg("consumer did not finish");
    pthread_join(tt, NULL);
    assert_int_equal(t.n, 2);
    assert_ptr_equal(t.got[0], &ck[1]);
    assert_ptr_equal(t.got[1], &ck[2]);
    reorder_free(r);

    /* an empty batch: NULL at once */
    r = reorder_new(2);
    reorder_end(r, 0);
    assert_null(reorder_next(r));
    reorder_free(r);
}

/* test_reorder_slots_reused - 2 slots, 10 chunks, pairs swapped */
static void test_reorder_slots_reused(void **state)
{
    (void)state;
    struct reorder *r = reorder_new(2);
    struct chunk ck[10];
    memset(ck, 0, sizeof ck);
    for (int i = 0; i < 10; i++) ck[i].seq = (uint64_t)i;
    for (int i = 0; i < 10; i += 2) {
        reorder_put(r, &ck[i + 1]);
        reorder_put(r, &ck[i]);
        assert_ptr_equal(reorder_next(r), &ck[i]);
        assert_ptr_equal(reorder_next(r), &ck[i + 1]);
    }
    reorder_end(r, 10);
    assert_null(reorder_next(r));
    reorder_free(r);
}

/* test_reorder_abort - a waiting consumer gets NULL at once, and later calls too */
static void test_reorder_abort(void **state)
{
    (void)state;
    struct reorder *r = reorder_new(4);
    struct taker t = {.r = r};
    atomic_init(&t.done, 0);
    pthread_t tt;
    assert_int_equal(pthread_create(&tt, NULL, take_thread, &t), 0);
    sleep_ms(100);
    assert_false(atomic_load(&t.done));
    reorder_abort(r);
    if (!wait_flag(&t.done, 5000)) fail_msg("reorder_abort did not wake the consumer");
    pthread_join(tt, NULL);
    assert_int_equal(t.n, 0);
    /* even with the next chunk present, an aborted reorder gives NULL */
    struct chunk c0;
    memset(&c0, 0, sizeof c0);
    reorder_put(r, &c0);
    assert_null(reorder_next(r));
    reorder_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo),
        cmocka_unit_test(test_push_blocks_when_full),
        cmocka_unit_test(test_pop_blocks_when_empty),
        cmocka_unit_test(test_close_wakes_pop),
        cmocka_unit_test(test_close_wakes_push),
        cmocka_unit_test(test_closed_queue),
        cmocka_unit_test(test_mpmc),
        cmocka_unit_test(test_reorder_threads),
        cmocka_unit_test(test_reorder_end_first),
        cmocka_unit_test(test_reorder_slots_reused),
        cmocka_unit_test(test_reorder_abort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
