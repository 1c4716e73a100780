/* capacity.h - the nightly capacity model (BRIEF.md sections 2 and 3), as
 * pure functions: in the queue, the clock, the configuration and a
 * throughput; out a plan.  `run` follows the plan; `plan` prints it; intake
 * takes a new batch's ScheduledNight from it.  No I/O, no globals (local
 * time comes from TZ, set once by window_set_timezone).
 *
 * The rules, in the order they apply:
 *  1. Turn order: batches are taken first come, first served.
 *  2. Party allowance: a batch whose party had already sent its allowance
 *     ([capacity] party_allowance + the party's uplift) in the 24 hours
 *     before it arrived is "excess": it waits behind every compliant batch
 *     that can run, then goes in turn order among the excess ones.  The batch
 *     that crosses the line is still compliant (the allowance counts what came
 *     before it).
 *  3. Earliest night: a batch received in the daytime goes to that evening's
 *     window; one received during a window goes to that window when
 *     after_cutoff = tonight, to the next one when after_cutoff = defer.
 *  4. Nightly capacity: a night takes batches while they fit in what is left
 *     of [capacity] nightly.  A batch is never split (its response is one
 *     file, delivered whole): the first one that does not fit rolls to the
 *     next night, and to keep turn order nothing after it (in its class)
 *     overtakes it that night.  A batch larger than a whole night runs alone.
 *  5. Deadlines (SEC L8): received 08:00-20:00 local -> 08:00 the next day;
 *     otherwise 24 hours after receipt.  At risk when the predicted finish is
 *     after the deadline.
 */
#ifndef SMKI_CAPACITY_H
#define SMKI_CAPACITY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"

struct cap_batch {
    uint64_t turn;
    uint8_t  party[8];
    uint32_t csrs;
    uint32_t done;
    time_t   received_at;
    time_t   started_at;       /* 0 if not started */
    int      pending;          /* queued or processing (not done, failed) */
    int      held;             /* kept out of processing by an operator */
    long     allowance;        /* party_allowance + the party's uplift */
};

struct cap_slot {
    uint64_t turn;
    int      excess;           /* beyond its party's 24 h allowance */
    time_t   earliest;         /* opening of the earliest window it may use */
    time_t   night_start;      /* the window it is planned in */
    time_t   night_end;
    char     night[11];        /* local date the window opens, YYYY-MM-DD */
    time_t   start, finish;    /* predicted */
    time_t   deadline;         /* SEC L8 */
    int      at_risk;
};

struct cap_night {
    time_t start, end;
    char   date[11];
    long   capacity, planned, used;   /* CSRs: nightly, planned here, already done */
};

#define CAP_MAX_NIGHTS 64

struct cap_plan {
    struct cap_slot *slots;    /* pending, unheld batches in processing order
                                  (night by night, in the order placed) */
    size_t n;
    struct cap_night nights[CAP_MAX_NIGHTS];
    size_t nnights;
    double rate;               /* CSRs/s used for the predictions */
    double needed_rate;        /* nightly capacity / window length */
};

/* cap_window_at - the window containing t, or the next one to open */
void cap_window_at(const struct config *cfg, time_t t, time_t *start, time_t *end);

/* cap_deadline - SEC L8 deadline of a batch received at t */
time_t cap_deadline(const struct config *cfg, time_t received);

/* cap_retrieve_not_before - BRIEF section 4: received 08:00-20:00 (before a
 * window), the end of that window (08:00 the next day); received 20:00-08:00,
 * 22:00 on the day after; never before the end of the window it is planned in */
time_t cap_retrieve_not_before(const struct config *cfg, time_t received, time_t night_end);

/* cap_is_excess - batch i (of n, turn order) beyond its party's allowance */
int cap_is_excess(const struct cap_batch *b, size_t n, size_t i);

/* cap_plan - plan every pending, unheld batch; slots allocated (cap_plan_free) */
void cap_make_plan(const struct config *cfg, time_t now, double rate,
                   const struct cap_batch *b, size_t n, struct cap_plan *out);
void cap_plan_free(struct cap_plan *p);

/* cap_slot_of - the slot of a turn, or NULL */
const struct cap_slot *cap_slot_of(const struct cap_plan *p, uint64_t turn);

#endif
