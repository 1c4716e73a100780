/* window.h - the nightly window in local time: the configured timezone
 * (TZ, set once at start by window_set_timezone; daylight saving from the
 * system's zoneinfo), whether an instant is inside the window, and local
 * date-and-time arithmetic for the capacity model (capacity.h), which makes
 * the promises of a receipt.  Pure functions of (config, time): no I/O.
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



#endif
