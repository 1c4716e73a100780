/* planner.c - load the queue and the parties, run the capacity model. */
#include "planner.h"

#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "xmem.h"

struct collect {
    struct store *st;
    const char *home;
    const struct config *cfg;
    struct cap_batch *b;
    size_t n, cap;
    double csrs, secs;      /* rate history */
    int failed;
};

static int collect_batch(const struct batch *bt, void *arg)
{
    struct collect *c = arg;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->b = xrealloc(c->b, c->cap * sizeof *c->b);
    }
    struct cap_batch *x = &c->b[c->n++];
    memset(x, 0, sizeof *x);
    x->turn = bt->turn;
    memcpy(x->party, bt->party, 8);
    x->csrs = bt->csrs;
    x->done = bt->done;
    x->received_at = bt->received_at;
    x->started_at = bt->state == BATCH_QUEUED ? 0 : bt->started_at;
    x->pending = bt->state == BATCH_QUEUED || bt->state == BATCH_PROCESSING;
    x->held = c->home && control_held(c->home, bt->party, bt->batch_id);
    struct party p;
    int rc = store_party_get(c->st, bt->party, &p);
    if (rc < 0) c->failed = 1;
    x->allowance = c->cfg->party_allowance + (rc == 1 ? p.uplift : 0);
    if (bt->state == BATCH_DONE && bt->csrs >= 1000 && bt->elapsed_ms > 0) {
        c->csrs += bt->csrs;
        c->secs += (double)bt->elapsed_ms / 1000.0;
    }
    return 0;
}

double planner_rate(struct store *st)
{
    struct config cfg;
    cfg_defaults(&cfg);
    struct collect c = {.st = st, .cfg = &cfg};
    store_batch_each(st, 0, collect_batch, &c);
    free(c.b);
    return c.secs > 0 ? c.csrs / c.secs : 0;
}

int planner_load(const struct home *h, struct store *st, time_t now, const struct cap_batch *extra,
                 struct cap_plan *out)
{
    struct collect c = {.st = st, .home = h->root, .cfg = &h->cfg};
    if (store_batch_each(st, 0, collect_batch, &c) != 0 || c.failed) {
        free(c.b);
        return -1;
    }
    if (extra) {
        if (c.n == c.cap) c.b = xrealloc(c.b, ++c.cap * sizeof *c.b);
        c.b[c.n++] = *extra;
    }
    double rate = c.secs > 0 ? c.csrs / c.secs : (double)h->cfg.assumed_rate;
    cap_make_plan(&h->cfg, now, rate, c.b, c.n, out);
    free(c.b);
    return 0;
}
