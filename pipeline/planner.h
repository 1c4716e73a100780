/* planner.h - the capacity model (capacity.h) fed from the store: every
 * batch, each party's allowance (+ uplift), and the throughput measured on
 * recent batches of 1,000 CSRs or more ([capacity] assumed_rate before that).
 * Used by run (what to process now), intake (a receipt's night) and plan.
 */
#ifndef SMKI_PLANNER_H
#define SMKI_PLANNER_H

#include <time.h>

#include "capacity.h"
#include "home.h"
#include "store.h"

/* planner_load - plan the queue as it stands at now; extra (may be NULL) is
 * one more batch not yet in the store (intake asks where a new batch would
 * go).  0, or -1 with the store's error. */
int planner_load(const struct home *h, struct store *st, time_t now, const struct cap_batch *extra,
                 struct cap_plan *out);

/* planner_rate - measured CSRs/s, or 0 when there is no history */
double planner_rate(struct store *st);

#endif
