/* clock.c - the program's notion of now, and RFC 3339; see clock.h. */
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* clock_parse - strict YYYY-MM-DDTHH:MM:SS(Z|+hh:mm|-hh:mm) */
int clock_parse(const char *s, time_t *out)
{
    int y, mo, d, h, mi, sec, n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19)
        return -1;
    const char *z = s + 19;
    long off = 0;
    if (strcmp(z, "Z") == 0 || strcmp(z, "z") == 0) {
        off = 0;
    } else if ((z[0] == '+' || z[0] == '-') && strlen(z) == 6 && z[3] == ':') {
        int oh, om;
        if (sscanf(z + 1, "%2d:%2d", &oh, &om) != 2) return -1;
        off = (oh * 60L + om) * 60L * (z[0] == '-' ? -1 : 1);
    } else {
        return -1;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *out = timegm(&tm) - off;
    return 0;
}

/* clock_now - SMKI_NOW or the real clock */
time_t clock_now(void)
{
    const char *env = getenv("SMKI_NOW");
    if (env && *env) {
        time_t t;
        if (clock_parse(env, &t) != 0)
            log_fatal("SMKI_NOW='%s' is not RFC 3339 (e.g. 2026-11-22T19:59:00Z): fix or unset it", env);
        return t;
    }
    return time(NULL);
}

/* clock_format - RFC 3339 UTC */
void clock_format(time_t t, char *out)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, RFC3339_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
