/* capacity.c - the nightly capacity model; the rules are in capacity.h. */
#include "capacity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "window.h"
#include "xmem.h"

#define DAY 86400

/* window_bounds - the window that opens on the local date of t + k */
static void window_bounds(const struct config *cfg, time_t t, int k, time_t *start, time_t *end)
{
    int s = cfg->window_start_min, e = cfg->window_end_min;
    *start = window_local(t, k, s);
    *end = window_local(t, k + (s > e ? 1 : 0), e);
}

void cap_window_at(const struct config *cfg, time_t t, time_t *start, time_t *end)
{
    for (int k = -1; k <= 2; k++) {
        window_bounds(cfg, t, k, start, end);
        if (*end > t) return;
    }
}

/* daytime - received between the window's end and its start (08:00-20:00) */
static int daytime(const struct config *cfg, time_t t)
{
    int m = window_minute(t), s = cfg->window_start_min, e = cfg->window_end_min;
    return s > e ? (m >= e && m < s) : (m < s || m >= e);
}

time_t cap_deadline(const struct config *cfg, time_t received)
{
    if (daytime(cfg, received))
        return window_local(received, 1, cfg->window_end_min);
    return received + DAY;
}

time_t cap_retrieve_not_before(const struct config *cfg, time_t received, time_t night_end)
{
    time_t s, e;
    cap_window_at(cfg, received, &s, &e);   /* before a window: the end of that window (08:00) */
    time_t t = daytime(cfg, received) ? e : window_local(received, 1, 22 * 60);
    return t > night_end ? t : night_end;
}

int cap_is_excess(const struct cap_batch *b, size_t n, size_t i)
{
    (void)n;
    long before = 0;
    for (size_t j = 0; j < i; j++)
        if (memcmp(b[j].party, b[i].party, 8) == 0 && b[j].received_at > b[i].received_at - DAY &&
            b[j].received_at <= b[i].received_at)
            before += b[j].csrs;
    return before >= b[i].allowance;
}

/* earliest_window - rule 3 */
static time_t earliest_window(const struct config *cfg, time_t received, time_t now)
{
    time_t s, e;
    cap_window_at(cfg, received, &s, &e);
    if (received >= s && cfg->after_cutoff == AFTER_CUTOFF_DEFER)
        cap_window_at(cfg, e, &s, &e);
    time_t ns, ne;
    cap_window_at(cfg, now, &ns, &ne);
    return s > ns ? s : ns;   /* a past window is no longer possible */
}

void cap_make_plan(const struct config *cfg, time_t now, double rate,
                   const struct cap_batch *b, size_t n, struct cap_plan *out)
{
    memset(out, 0, sizeof *out);
    out->rate = rate > 0 ? rate : 1;
    out->slots = xcalloc(n ? n : 1, sizeof *out->slots);
    /* the nights, from the current (or next) window on */
    time_t s, e;
    cap_window_at(cfg, now, &s, &e);
    out->needed_rate = (double)cfg->nightly / (double)(e - s);
    for (size_t k = 0; k < CAP_MAX_NIGHTS; k++) {
        struct cap_night *nt = &out->nights[k];
        nt->start = s;
        nt->end = e;
        nt->capacity = cfg->nightly;
        struct tm tm;
        localtime_r(&s, &tm);
        strftime(nt->date, sizeof nt->date, "%Y-%m-%d", &tm);
        cap_window_at(cfg, e, &s, &e);
    }
    for (size_t i = 0; i < n; i++)
        if (b[i].started_at >= out->nights[0].start && b[i].started_at < out->nights[0].end)
            out->nights[0].used += b[i].csrs;

    /* candidates: pending, unheld; in-progress ones first, then compliant,
     * then excess, each in turn order */
    size_t *order = xcalloc(n ? n : 1, sizeof *order), m = 0;
    int *excess = xcalloc(n ? n : 1, sizeof *excess);
    for (size_t i = 0; i < n; i++) excess[i] = cap_is_excess(b, n, i);
    for (int pass = 0; pass < 3; pass++)
        for (size_t i = 0; i < n; i++) {
            if (!b[i].pending || b[i].held) continue;
            int running = b[i].started_at != 0;
            if ((pass == 0 && running) || (pass == 1 && !running && !excess[i]) ||
                (pass == 2 && !running && excess[i]))
                order[m++] = i;
        }
    char *placed = xcalloc(m ? m : 1, 1);
    size_t nplaced = 0;
    for (size_t k = 0; k < CAP_MAX_NIGHTS && nplaced < m; k++) {
        struct cap_night *nt = &out->nights[k];
        long left = nt->capacity - nt->used;
        time_t t = k == 0 && now > nt->start ? now : nt->start;
        int blocked = 0;
        for (size_t o = 0; o < m && !blocked; o++) {
            if (placed[o]) continue;
            const struct cap_batch *x = &b[order[o]];
            int running = x->started_at != 0;
            time_t earliest = earliest_window(cfg, x->received_at, now);
            if (!running && earliest > nt->start) continue;      /* not yet: blocks nothing */
            long need = running ? 0 : (long)x->csrs;              /* a running batch is counted in used */
            if (!running && need > left && !(left == nt->capacity && need > nt->capacity)) {
                blocked = 1;                                       /* rolls over; no overtaking */
                break;
            }
            left -= need;
            nt->planned += need;
            struct cap_slot *sl = &out->slots[out->n++];
            sl->turn = x->turn;
            sl->excess = excess[order[o]];
            sl->earliest = earliest;
            sl->night_start = nt->start;
            sl->night_end = nt->end;
            memcpy(sl->night, nt->date, sizeof sl->night);
            sl->start = t;
            t += (time_t)((double)(x->csrs - x->done) / out->rate + 0.999);
            sl->finish = t;
            sl->deadline = cap_deadline(cfg, x->received_at);
            sl->at_risk = sl->finish > sl->deadline;
            placed[o] = 1;
            nplaced++;
        }
    }
    if (nplaced > 0) {
        out->nnights = 1;
        for (size_t i = 0; i < out->n; i++)
            for (size_t k = 0; k < CAP_MAX_NIGHTS; k++)
                if (out->nights[k].start == out->slots[i].night_start && k + 1 > out->nnights)
                    out->nnights = k + 1;
    } else {
        out->nnights = 1;
    }
    free(placed);
    free(excess);
    free(order);
}

void cap_plan_free(struct cap_plan *p)
{
    free(p->slots);
    p->slots = NULL;
    p->n = 0;
}

const struct cap_slot *cap_slot_of(const struct cap_plan *p, uint64_t turn)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->slots[i].turn == turn) return &p->slots[i];
    return NULL;
}
