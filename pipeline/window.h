/* window.h - the nightly window and the promises made in a receipt
 * (BRIEF.md sections 2 to 4).  Pure functions of (config, time): no I/O.
 * Local times use the configured timezone (TZ is set once at start by
 * window_set_timezone), daylight saving included.
 *
 * For now: ScheduledNight is the local date on which the window that will
 * process the batch opens (tonight's, or the one already open), and
 * RetrieveNotBefore follows BRIEF section 4: submitted 08:00-20:00 local ->
 * 08:00 the next day; submitted 20:00-08:00 -> 22:00 on the day after the
 * day of submission.  The capacity model (issue 4) refines the night.
 */
#ifndef SMKI_WINDOW_H
#define SMKI_WINDOW_H

#include <time.h>

#include "config.h"

/* window_set_timezone - TZ for every local-time computation; 0 or -1 */
int window_set_timezone(const char *tz);

/* window_local - the instant of local time minute_of_day on the local date
 * of t plus day_offset days (daylight saving resolved by mktime) */
time_t window_local(time_t t, int day_offset, int minute_of_day);

/* window_minute - local minute of the day of t */
int window_minute(time_t t);

/* window_in_window - 1 when t is inside the nightly window */
int window_in_window(const struct config *cfg, time_t t);

/* window_receipt_times - ScheduledNight (YYYY-MM-DD) and RetrieveNotBefore */
void window_receipt_times(const struct config *cfg, time_t received, char night[11], time_t *not_before);

#endif
