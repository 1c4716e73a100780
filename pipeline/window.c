/* sched.c - window arithmetic in local time; see window.h. */
#include "window.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int window_set_timezone(const char *tz)
{
    char path[512];
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", tz);
    if (tz[0] != '/' && strcmp(tz, "UTC") != 0 && access(path, R_OK) != 0)
        return -1;
    setenv("TZ", tz, 1);
    tzset();
    return 0;
}

/* local_at - the instant of local date (y, m, d) at minute-of-day mins */
static time_t local_at(int y, int mon, int mday, int mins)
{
    struct tm tm = {0};
    tm.tm_year = y;
    tm.tm_mon = mon;
    tm.tm_mday = mday;
    tm.tm_hour = mins / 60;
    tm.tm_min = mins % 60;
    tm.tm_isdst = -1;
    return mktime(&tm);
}

static int minute_of_day(time_t t, struct tm *tm)
{
    localtime_r(&t, tm);
    return tm->tm_hour * 60 + tm->tm_min;
}

time_t window_local(time_t t, int day_offset, int minute_of_day)
{
    struct tm tm;
    localtime_r(&t, &tm);
    return local_at(tm.tm_year, tm.tm_mon, tm.tm_mday + day_offset, minute_of_day);
}

int window_minute(time_t t)
{
    struct tm tm;
    return minute_of_day(t, &tm);
}

int window_in_window(const struct config *cfg, time_t t)
{
    struct tm tm;
    int m = minute_of_day(t, &tm);
    int s = cfg->window_start_min, e = cfg->window_end_min;
    return s < e ? (m >= s && m < e) : (m >= s || m < e);
}

