/* clock.h - "now" for every command: the system clock, or SMKI_NOW (RFC 3339,
 * e.g. 2026-11-22T19:59:00Z) when set, so tests can stand anywhere in the night.
 * Also RFC 3339 formatting and parsing (UTC, "Z").  Never the file's time.
 */
#ifndef SMKI_CLOCK_H
#define SMKI_CLOCK_H

#include <time.h>

#define RFC3339_LEN 20   /* "2026-11-22T19:59:00Z" */

/* clock_now - seconds since the epoch; SMKI_NOW wins when set and valid.
 * An unparsable SMKI_NOW is fatal (a test set it wrong). */
time_t clock_now(void);

/* clock_format - t as "YYYY-MM-DDTHH:MM:SSZ" into out (RFC3339_LEN + 1) */
void clock_format(time_t t, char *out);

/* clock_parse - RFC 3339 with Z or +hh:mm offset; 0 ok, -1 invalid */
int clock_parse(const char *s, time_t *out);

#endif
