/* test_capacity.c - unit tests of the nightly capacity model (pipeline/capacity.h),
 * its pure functions only: cap_window_at, cap_deadline, cap_retrieve_not_before,
 * cap_is_excess and cap_make_plan, against the rules stated in capacity.h and
 * BRIEF.md sections 2-4.  Local time is Europe/London (window_set_timezone in
 * the group setup); every instant below is written in UTC (GMT in winter, BST =
 * UTC+1 in summer) so that the tables say exactly which instant is meant.
 * Table-driven where it fits: each row is checked and every failing row is
 * reported before the test fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "capacity.h"
#include "config.h"
#include "window.h"

#define HOUR 3600
#define DAY 86400

/* ---- helpers ---------------------------------------------------------------- */

/* T - an RFC 3339 UTC instant ("2026-11-22T19:59:00Z") as time_t */
static time_t T(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (!end || *end) fail_msg("bad test time '%s'", s);
    return timegm(&tm);
}

/* fmt - time_t as UTC text, into a rotating static buffer (for messages) */
static const char *fmt(time_t t)
{
    static char buf[8][32];
    static int k;
    char *b = buf[k++ & 7];
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(b, sizeof buf[0], "%Y-%m-%dT%H:%M:%SZ", &tm);
    return b;
}

static struct config defaults(void)
{
    struct config cfg;
    cfg_defaults(&cfg);
    return cfg;
}

/* party id k: 90-B3-D5-1F-30-0k-00-00 */
static void party_id(uint8_t out[8], int k)
{
    const uint8_t base[8] = {0x90, 0xB3, 0xD5, 0x1F, 0x30, 0x00, 0x00, 0x00};
    memcpy(out, base, 8);
    out[5] = (uint8_t)k;
}

/* mk - one queued batch */
static struct cap_batch mk(uint64_t turn, int party, uint32_t csrs, time_t received, long allowance)
{
    struct cap_batch b;
    memset(&b, 0, sizeof b);
    b.turn = turn;
    party_id(b.party, party);
    b.csrs = csrs;
    b.received_at = received;
    b.pending = 1;
    b.allowance = allowance;
    return b;
}

/* order_text - the plan's turns in processing order, e.g. "1 2 4 3" */
static const char *order_text(const struct cap_plan *p)
{
    static char buf[512];
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < p->n && len < sizeof buf - 24; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%llu", i ? " " : "",
                                (unsigned long long)p->slots[i].turn);
    return buf;
}

static void expect_order(const struct cap_plan *p, const uint64_t *turns, size_t n, const char *what)
{
    int ok = p->n == n;
    for (size_t i = 0; ok && i < n; i++) ok = p->slots[i].turn == turns[i];
    if (!ok) {
        char want[512];
        size_t len = 0;
        want[0] = '\0';
        for (size_t i = 0; i < n && len < sizeof want - 24; i++)
            len += (size_t)snprintf(want + len, sizeof want - len, "%s%llu", i ? " " : "",
                                    (unsigned long long)turns[i]);
        fail_msg("%s: processing order is [%s], expected [%s]", what, order_text(p), want);
    }
}

/* expect_times_follow_order - within each night, the slots run one after the
 * other: start times strictly increase along the processing order and no
 * batch starts before the previous one finished */
static void expect_times_follow_order(const struct cap_plan *p, const char *what)
{
    for (size_t i = 1; i < p->n; i++) {
        const struct cap_slot *a = &p->slots[i - 1], *b = &p->slots[i];
        if (a->night_start != b->night_start) continue;
        if (!(b->start > a->start) || b->start < a->finish)
            fail_msg("%s: turn %llu (slot %zu) starts %s, turn %llu before it runs %s..%s",
                     what, (unsigned long long)b->turn, i, fmt(b->start), (unsigned long long)a->turn,
                     fmt(a->start), fmt(a->finish));
    }
}

/* make_plan / free_plan - cap_make_plan and cap_plan_free, remembering the
 * slots so that a test that fails between them (cmocka longjmps out) does not
 * leak them: the teardown frees what is left */
static struct cap_slot *live_slots;

static void make_plan(const struct config *cfg, time_t now, double rate, const struct cap_batch *b, size_t n,
                      struct cap_plan *out)
{
    cap_make_plan(cfg, now, rate, b, n, out);
    live_slots = out->slots;
}

static void free_plan(struct cap_plan *p)
{
    cap_plan_free(p);
    live_slots = NULL;
}

static int teardown(void **state)
{
    (void)state;
    free(live_slots);
    live_slots = NULL;
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    if (window_set_timezone("Europe/London") != 0) {
        fprintf(stderr, "Europe/London is not installed (tzdata)\n");
        return -1;
    }
    return 0;
}

/* ---- cap_window_at ---------------------------------------------------------- */

struct window_row {
    const char *at, *start, *end;
    long secs;           /* end - start */
    const char *why;
};

static void check_windows(const struct config *cfg, const struct window_row *rows, size_t n)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        time_t s = 0, e = 0;
        cap_window_at(cfg, T(rows[i].at), &s, &e);
        if (s != T(rows[i].start) || e != T(rows[i].end) || (long)(e - s) != rows[i].secs) {
            print_error("window at %s (%s): got %s..%s (%ld s), expected %s..%s (%ld s)\n", rows[i].at,
                        rows[i].why, fmt(s), fmt(e), (long)(e - s), rows[i].start, rows[i].end, rows[i].secs);
            bad++;
        }
    }
    if (bad) fail_msg("%d window row(s) wrong", bad);
}

static void test_window_winter_summer(void **state)
{
    (void)state;
    struct config cfg = defaults();
    static const struct window_row rows[] = {
        /* winter: local = UTC */
        {"2026-11-22T12:00:00Z", "2026-11-22T20:00:00Z", "2026-11-23T08:00:00Z", 12 * HOUR, "daytime: tonight's"},
        {"2026-11-22T19:59:59Z", "2026-11-22T20:00:00Z", "2026-11-23T08:00:00Z", 12 * HOUR, "a second before it opens"},
        {"2026-11-22T20:00:00Z", "2026-11-22T20:00:00Z", "2026-11-23T08:00:00Z", 12 * HOUR, "as it opens"},
        {"2026-11-22T23:30:00Z", "2026-11-22T20:00:00Z", "2026-11-23T08:00:00Z", 12 * HOUR, "evening, inside"},
        {"2026-11-23T03:00:00Z", "2026-11-22T20:00:00Z", "2026-11-23T08:00:00Z", 12 * HOUR, "small hours: opened yesterday"},
        {"2026-11-23T07:59:59Z", "2026-11-22T20:00:00Z", "2026-11-23T08:00:00Z", 12 * HOUR, "a second before it closes"},
        {"2026-11-23T08:00:00Z", "2026-11-23T20:00:00Z", "2026-11-24T08:00:00Z", 12 * HOUR, "as it closes: the next one"},
        {"2026-12-31T21:00:00Z", "2026-12-31T20:00:00Z", "2027-01-01T08:00:00Z", 12 * HOUR, "across the new year"},
        /* summer: BST = UTC+1, the window is 19:00Z..07:00Z */
        {"2026-07-01T12:00:00Z", "2026-07-01T19:00:00Z", "2026-07-02T07:00:00Z", 12 * HOUR, "BST daytime"},
        {"2026-07-01T18:59:59Z", "2026-07-01T19:00:00Z", "2026-07-02T07:00:00Z", 12 * HOUR, "BST 19:59:59"},
        {"2026-07-01T19:30:00Z", "2026-07-01T19:00:00Z", "2026-07-02T07:00:00Z", 12 * HOUR, "BST 20:30"},
        {"2026-07-01T23:30:00Z", "2026-07-01T19:00:00Z", "2026-07-02T07:00:00Z", 12 * HOUR, "BST 00:30 next day"},
        {"2026-07-02T06:59:59Z", "2026-07-01T19:00:00Z", "2026-07-02T07:00:00Z", 12 * HOUR, "BST 07:59:59"},
        {"2026-07-02T07:00:00Z", "2026-07-02T19:00:00Z", "2026-07-03T07:00:00Z", 12 * HOUR, "BST 08:00: the next"},
    };
    check_windows(&cfg, rows, sizeof rows / sizeof rows[0]);
}

static void test_window_clock_changes(void **state)
{
    (void)state;
    struct config cfg = defaults();
    static const struct window_row rows[] = {
        /* 2026-03-29 01:00 GMT -> 02:00 BST: 20:00 GMT Sat to 08:00 BST Sun is 11 h */
        {"2026-03-27T21:00:00Z", "2026-03-27T20:00:00Z", "2026-03-28T08:00:00Z", 12 * HOUR, "Friday before: 12 h"},
        {"2026-03-28T12:00:00Z", "2026-03-28T20:00:00Z", "2026-03-29T07:00:00Z", 11 * HOUR, "spring 2026, daytime"},
        {"2026-03-28T20:00:00Z", "2026-03-28T20:00:00Z", "2026-03-29T07:00:00Z", 11 * HOUR, "spring 2026, opening"},
        {"2026-03-29T00:59:59Z", "2026-03-28T20:00:00Z", "2026-03-29T07:00:00Z", 11 * HOUR, "spring 2026, 00:59:59 GMT"},
        {"2026-03-29T01:00:00Z", "2026-03-28T20:00:00Z", "2026-03-29T07:00:00Z", 11 * HOUR, "spring 2026, 02:00 BST"},
        {"2026-03-29T06:59:59Z", "2026-03-28T20:00:00Z", "2026-03-29T07:00:00Z", 11 * HOUR, "spring 2026, 07:59:59 BST"},
        {"2026-03-29T07:00:00Z", "2026-03-29T19:00:00Z", "2026-03-30T07:00:00Z", 12 * HOUR, "Sunday's: 12 h in BST"},
        /* 2026-10-25 02:00 BST -> 01:00 GMT: 20:00 BST Sat to 08:00 GMT Sun is 13 h */
        {"2026-10-24T12:00:00Z", "2026-10-24T19:00:00Z", "2026-10-25T08:00:00Z", 13 * HOUR, "autumn 2026, daytime"},
        {"2026-10-25T00:30:00Z", "2026-10-24T19:00:00Z", "2026-10-25T08:00:00Z", 13 * HOUR, "autumn 2026, 01:30 BST"},
        {"2026-10-25T01:30:00Z", "2026-10-24T19:00:00Z", "2026-10-25T08:00:00Z", 13 * HOUR, "autumn 2026, 01:30 GMT"},
        {"2026-10-25T07:59:59Z", "2026-10-24T19:00:00Z", "2026-10-25T08:00:00Z", 13 * HOUR, "autumn 2026, 07:59:59 GMT"},
        {"2026-10-25T08:00:00Z", "2026-10-25T20:00:00Z", "2026-10-26T08:00:00Z", 12 * HOUR, "Sunday's: 12 h in GMT"},
        /* 2027: 28 March and 31 October */
        {"2027-03-27T12:00:00Z", "2027-03-27T20:00:00Z", "2027-03-28T07:00:00Z", 11 * HOUR, "spring 2027"},
        {"2027-03-28T02:00:00Z", "2027-03-27T20:00:00Z", "2027-03-28T07:00:00Z", 11 * HOUR, "spring 2027, 03:00 BST"},
        {"2027-10-30T12:00:00Z", "2027-10-30T19:00:00Z", "2027-10-31T08:00:00Z", 13 * HOUR, "autumn 2027"},
        {"2027-10-31T01:15:00Z", "2027-10-30T19:00:00Z", "2027-10-31T08:00:00Z", 13 * HOUR, "autumn 2027, 01:15 GMT"},
    };
    check_windows(&cfg, rows, sizeof rows / sizeof rows[0]);
}

/* ---- cap_deadline ----------------------------------------------------------- */

struct time_row {
    const char *in, *want, *why;
};

static void test_deadline(void **state)
{
    (void)state;
    struct config cfg = defaults();
    static const struct time_row rows[] = {
        {"2026-11-22T19:59:00Z", "2026-11-23T08:00:00Z", "19:59: 08:00 next day"},
        {"2026-11-22T19:59:59Z", "2026-11-23T08:00:00Z", "19:59:59: 08:00 next day"},
        {"2026-11-22T20:00:00Z", "2026-11-23T20:00:00Z", "20:00: +24 h"},
        {"2026-11-22T20:01:00Z", "2026-11-23T20:01:00Z", "20:01: +24 h"},
        {"2026-11-23T02:00:00Z", "2026-11-24T02:00:00Z", "02:00: +24 h"},
        {"2026-11-23T07:59:00Z", "2026-11-24T07:59:00Z", "07:59: +24 h"},
        {"2026-11-23T08:00:00Z", "2026-11-24T08:00:00Z", "08:00: 08:00 next day"},
        {"2026-11-23T12:00:00Z", "2026-11-24T08:00:00Z", "12:00: 08:00 next day"},
        /* summer */
        {"2026-07-01T18:59:00Z", "2026-07-02T07:00:00Z", "19:59 BST: 08:00 BST next day"},
        {"2026-07-01T19:01:00Z", "2026-07-02T19:01:00Z", "20:01 BST: +24 h"},
        {"2026-07-01T07:00:00Z", "2026-07-02T07:00:00Z", "08:00 BST: 08:00 BST next day"},
        /* across the clock changes */
        {"2026-03-28T12:00:00Z", "2026-03-29T07:00:00Z", "12:00 GMT Sat: 08:00 BST Sun"},
        {"2026-03-28T19:59:00Z", "2026-03-29T07:00:00Z", "19:59 GMT Sat: 08:00 BST Sun"},
        {"2026-03-28T21:00:00Z", "2026-03-29T21:00:00Z", "21:00 GMT Sat: 24 real hours"},
        {"2026-10-24T12:00:00Z", "2026-10-25T08:00:00Z", "13:00 BST Sat: 08:00 GMT Sun"},
        {"2026-10-24T19:30:00Z", "2026-10-25T19:30:00Z", "20:30 BST Sat: 24 real hours"},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        time_t got = cap_deadline(&cfg, T(rows[i].in));
        if (got != T(rows[i].want)) {
            print_error("deadline of a batch received %s (%s): got %s, expected %s\n", rows[i].in, rows[i].why,
                        fmt(got), rows[i].want);
            bad++;
        }
    }
    if (bad) fail_msg("%d deadline row(s) wrong", bad);
}

/* ---- cap_retrieve_not_before ------------------------------------------------ */

struct rnb_row {
    const char *received, *night_end, *want, *why;
};

static void test_retrieve_not_before(void **state)
{
    (void)state;
    struct config cfg = defaults();
    static const struct rnb_row rows[] = {
        {"2026-11-22T19:59:00Z", "2026-11-23T08:00:00Z", "2026-11-23T08:00:00Z", "19:59, tonight: 08:00 next day"},
        {"2026-11-22T12:00:00Z", "2026-11-23T08:00:00Z", "2026-11-23T08:00:00Z", "12:00, tonight: 08:00 next day"},
        {"2026-11-22T20:01:00Z", "2026-11-23T08:00:00Z", "2026-11-23T22:00:00Z", "20:01, tonight: 22:00 the day after"},
        {"2026-11-22T23:59:00Z", "2026-11-23T08:00:00Z", "2026-11-23T22:00:00Z", "23:59, tonight: 22:00 the day after"},
        /* never before the end of the night it is planned in */
        {"2026-11-22T19:59:00Z", "2026-11-24T08:00:00Z", "2026-11-24T08:00:00Z", "19:59, next night: its end"},
        {"2026-11-22T20:01:00Z", "2026-11-24T08:00:00Z", "2026-11-24T08:00:00Z", "20:01, next night: its end"},
        {"2026-11-22T20:01:00Z", "2026-11-25T08:00:00Z", "2026-11-25T08:00:00Z", "20:01, two nights on: its end"},
        /* summer and the clock changes */
        {"2026-07-01T18:59:00Z", "2026-07-02T07:00:00Z", "2026-07-02T07:00:00Z", "19:59 BST: 08:00 BST next day"},
        {"2026-07-01T19:30:00Z", "2026-07-02T07:00:00Z", "2026-07-02T21:00:00Z", "20:30 BST: 22:00 BST the day after"},
        {"2026-03-28T19:59:00Z", "2026-03-29T07:00:00Z", "2026-03-29T07:00:00Z", "19:59 GMT Sat: 08:00 BST Sun"},
        {"2026-03-28T21:00:00Z", "2026-03-29T07:00:00Z", "2026-03-29T21:00:00Z", "21:00 GMT Sat: 22:00 BST Sun"},
        {"2026-10-24T18:59:00Z", "2026-10-25T08:00:00Z", "2026-10-25T08:00:00Z", "19:59 BST Sat: 08:00 GMT Sun"},
        {"2026-10-24T19:30:00Z", "2026-10-25T08:00:00Z", "2026-10-25T22:00:00Z", "20:30 BST Sat: 22:00 GMT Sun"},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        time_t got = cap_retrieve_not_before(&cfg, T(rows[i].received), T(rows[i].night_end));
        if (got != T(rows[i].want)) {
            print_error("RetrieveNotBefore of a batch received %s, night ending %s (%s): got %s, expected %s\n",
                        rows[i].received, rows[i].night_end, rows[i].why, fmt(got), rows[i].want);
            bad++;
        }
        if (got < T(rows[i].night_end)) {
            print_error("RetrieveNotBefore %s is before the end of its night %s\n", fmt(got), rows[i].night_end);
            bad++;
        }
    }
    if (bad) fail_msg("%d RetrieveNotBefore row(s) wrong", bad);
}

/* ---- cap_is_excess ---------------------------------------------------------- */

#define MAXB 8

struct excess_case {
    const char *why;
    size_t n;
    struct {
        int party;
        uint32_t csrs;
        long offset;      /* seconds after the case's first batch */
        long allowance;
    } b[MAXB];
    int want[MAXB];
};

static void test_excess(void **state)
{
    (void)state;
    static const struct excess_case cases[] = {
        {"one party, three 40k within 24 h: the third is excess", 3,
         {{1, 40000, 0, 50000}, {1, 40000, HOUR, 50000}, {1, 40000, 2 * HOUR, 50000}}, {0, 0, 1}},
        {"allowance + uplift 130,000: none excess", 3,
         {{1, 40000, 0, 130000}, {1, 40000, HOUR, 130000}, {1, 40000, 2 * HOUR, 130000}}, {0, 0, 0}},
        {"more than 24 h apart: the earlier ones no longer count", 3,
         {{1, 40000, 0, 50000}, {1, 40000, 25 * HOUR, 50000}, {1, 40000, 50 * HOUR, 50000}}, {0, 0, 0}},
        {"the first fell out of the 24 h, the second still counts", 3,
         {{1, 40000, 0, 50000}, {1, 40000, 2 * HOUR, 50000}, {1, 40000, 25 * HOUR, 50000}}, {0, 0, 0}},
        {"other parties' batches don't count", 4,
         {{1, 40000, 0, 50000}, {2, 40000, HOUR, 50000}, {3, 40000, 2 * HOUR, 50000}, {1, 2, 3 * HOUR, 50000}},
         {0, 0, 0, 0}},
        {"interleaved parties: only each party's own", 6,
         {{1, 40000, 0, 50000}, {2, 40000, 60, 50000}, {1, 40000, 120, 50000}, {2, 40000, 180, 50000},
          {1, 40000, 240, 50000}, {2, 40000, 300, 50000}},
         {0, 0, 0, 0, 1, 1}},
        {"the batch that crosses the line is compliant, the next is excess", 3,
         {{1, 30000, 0, 50000}, {1, 30000, HOUR, 50000}, {1, 2, 2 * HOUR, 50000}}, {0, 0, 1}},
        {"exactly the allowance already sent: excess", 2,
         {{1, 50000, 0, 50000}, {1, 2, HOUR, 50000}}, {0, 1}},
        {"one CSR short of the allowance: compliant", 2,
         {{1, 49999, 0, 50000}, {1, 50000, HOUR, 50000}}, {0, 0}},
    };
    time_t t0 = T("2026-11-22T10:00:00Z");
    int bad = 0;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct cap_batch b[MAXB];
        for (size_t i = 0; i < cases[c].n; i++)
            b[i] = mk(i + 1, cases[c].b[i].party, cases[c].b[i].csrs, t0 + cases[c].b[i].offset,
                      cases[c].b[i].allowance);
        for (size_t i = 0; i < cases[c].n; i++) {
            int got = cap_is_excess(b, cases[c].n, i) != 0;
            if (got != cases[c].want[i]) {
                print_error("%s: batch %zu is %s, expected %s\n", cases[c].why, i + 1,
                            got ? "excess" : "compliant", cases[c].want[i] ? "excess" : "compliant");
                bad++;
            }
        }
    }
    /* done batches count too: what the party sent, not what is still queued */
    struct cap_batch d[3] = {mk(1, 1, 40000, t0, 50000), mk(2, 1, 40000, t0 + HOUR, 50000),
                             mk(3, 1, 40000, t0 + 2 * HOUR, 50000)};
    d[0].pending = 0;
    d[0].done = 40000;
    d[0].started_at = t0 + 60;
    if (!cap_is_excess(d, 3, 2)) {
        print_error("a party's done batch in the 24 h no longer counts against its allowance\n");
        bad++;
    }
    if (bad) fail_msg("%d excess verdict(s) wrong", bad);
}

/* ---- cap_make_plan ---------------------------------------------------------- */

/* eight 50,000-CSR batches from eight parties at 19:00: seven fit tonight's
 * 375,000, the eighth goes to the next night and misses its 08:00 deadline */
static void test_plan_eight_parties(void **state)
{
    (void)state;
    struct config cfg = defaults();
    time_t rx = T("2026-11-22T19:00:00Z");
    struct cap_batch b[8];
    for (int i = 0; i < 8; i++) b[i] = mk((uint64_t)i + 1, i + 1, 50000, rx + i, cfg.party_allowance);
    struct cap_plan p;
    make_plan(&cfg, T("2026-11-22T19:30:00Z"), 100.0, b, 8, &p);

    uint64_t want[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    expect_order(&p, want, 8, "eight parties");
    assert_int_equal(p.nights[0].start, T("2026-11-22T20:00:00Z"));
    assert_int_equal(p.nights[0].end, T("2026-11-23T08:00:00Z"));
    assert_string_equal(p.nights[0].date, "2026-11-22");
    assert_int_equal(p.nights[0].capacity, 375000);
    assert_int_equal(p.nights[0].planned, 350000);
    assert_int_equal(p.nights[0].used, 0);
    assert_int_equal(p.nights[1].start, T("2026-11-23T20:00:00Z"));
    assert_string_equal(p.nights[1].date, "2026-11-23");
    assert_int_equal(p.nights[1].planned, 50000);
    assert_int_equal(p.nnights, 2);
    for (int i = 0; i < 8; i++) {
        const struct cap_slot *sl = cap_slot_of(&p, (uint64_t)i + 1);
        assert_non_null(sl);
        assert_false(sl->excess);
        assert_int_equal(sl->deadline, T("2026-11-23T08:00:00Z"));
        if (i < 7) {
            if (strcmp(sl->night, "2026-11-22") != 0 || sl->night_start != p.nights[0].start || sl->at_risk)
                fail_msg("turn %d: night %s, at_risk %d; expected 2026-11-22, not at risk", i + 1, sl->night,
                         sl->at_risk);
            assert_true(sl->start >= p.nights[0].start);
            assert_true(sl->finish <= p.nights[0].end);
        } else {
            if (strcmp(sl->night, "2026-11-23") != 0 || sl->night_start != p.nights[1].start)
                fail_msg("turn 8: planned on %s, expected the next night 2026-11-23", sl->night);
            assert_int_equal(sl->night_end, T("2026-11-24T08:00:00Z"));
            assert_true(sl->at_risk);   /* finishes after 08:00 on the 23rd */
            assert_true(sl->start >= p.nights[1].start);
        }
    }
    /* turn order inside the night: start times increase with the turn, the
     * first starts as the window opens, each when the previous finished */
    assert_int_equal(p.slots[0].start, p.nights[0].start);
    expect_times_follow_order(&p, "eight parties");
    for (size_t i = 1; i < 7; i++) assert_int_equal(p.slots[i].start, p.slots[i - 1].finish);
    /* 50,000 CSRs at 100 CSRs/s: 500 s each */
    assert_int_equal(p.slots[0].finish - p.slots[0].start, 500);
    free_plan(&p);
}

/* the plan made inside the window starts now, not at the window's opening */
static void test_plan_inside_window_starts_now(void **state)
{
    (void)state;
    struct config cfg = defaults();
    struct cap_batch b[2] = {mk(1, 1, 1000, T("2026-11-22T19:00:00Z"), 50000),
                             mk(2, 2, 1000, T("2026-11-22T21:00:00Z"), 50000)};
    struct cap_plan p;
    time_t now = T("2026-11-22T22:15:00Z");
    make_plan(&cfg, now, 100.0, b, 2, &p);
    uint64_t want[2] = {1, 2};
    expect_order(&p, want, 2, "inside the window");
    assert_int_equal(p.slots[0].start, now);
    assert_string_equal(p.slots[0].night, "2026-11-22");
    assert_string_equal(p.slots[1].night, "2026-11-22");
    assert_int_equal(p.slots[1].start, now + 10);
    expect_times_follow_order(&p, "inside the window");
    free_plan(&p);
}

/* three 40k batches of one party (the third beyond its 50,000 allowance) and
 * one other party's batch received after the third: the other party's batch
 * runs before the third (excess waits behind compliant work) */
static void test_plan_excess_waits(void **state)
{
    (void)state;
    struct config cfg = defaults();
    time_t t0 = T("2026-11-22T10:00:00Z");
    struct cap_batch b[4] = {mk(1, 1, 40000, t0, 50000), mk(2, 1, 40000, t0 + HOUR, 50000),
                             mk(3, 1, 40000, t0 + 2 * HOUR, 50000), mk(4, 2, 40000, t0 + 3 * HOUR, 50000)};
    struct cap_plan p;
    make_plan(&cfg, T("2026-11-22T15:00:00Z"), 100.0, b, 4, &p);
    uint64_t want[4] = {1, 2, 4, 3};
    expect_order(&p, want, 4, "excess waits");
    const struct cap_slot *third = cap_slot_of(&p, 3), *other = cap_slot_of(&p, 4);
    assert_non_null(third);
    assert_non_null(other);
    assert_true(third->excess);
    assert_false(other->excess);
    assert_false(cap_slot_of(&p, 1)->excess);
    assert_false(cap_slot_of(&p, 2)->excess);
    if (!(other->start < third->start))
        fail_msg("the other party's batch starts %s, not before the excess batch (%s)", fmt(other->start),
                 fmt(third->start));
    expect_times_follow_order(&p, "excess waits");
    /* all four fit tonight's 375,000 */
    for (size_t i = 0; i < p.n; i++) assert_string_equal(p.slots[i].night, "2026-11-22");
    free_plan(&p);

    /* capacity for only one of them tonight: the other party's gets it */
    cfg.nightly = 120000;
    make_plan(&cfg, T("2026-11-22T15:00:00Z"), 100.0, b, 4, &p);
    expect_order(&p, want, 4, "excess waits, 120,000 a night");
    assert_string_equal(cap_slot_of(&p, 4)->night, "2026-11-22");
    assert_string_equal(cap_slot_of(&p, 3)->night, "2026-11-23");
    assert_int_equal(p.nights[0].planned, 120000);
    free_plan(&p);

    /* with the uplift (allowance 130,000): turn order, nobody excess */
    cfg.nightly = 375000;
    for (int i = 0; i < 4; i++) b[i].allowance = 130000;
    make_plan(&cfg, T("2026-11-22T15:00:00Z"), 100.0, b, 4, &p);
    uint64_t turns[4] = {1, 2, 3, 4};
    expect_order(&p, turns, 4, "with the uplift");
    for (size_t i = 0; i < p.n; i++) assert_false(p.slots[i].excess);
    expect_times_follow_order(&p, "with the uplift");
    free_plan(&p);

    /* with the uplift and room for only three: the third goes, the other party's rolls */
    cfg.nightly = 120000;
    make_plan(&cfg, T("2026-11-22T15:00:00Z"), 100.0, b, 4, &p);
    expect_order(&p, turns, 4, "with the uplift, 120,000 a night");
    assert_string_equal(cap_slot_of(&p, 3)->night, "2026-11-22");
    assert_string_equal(cap_slot_of(&p, 4)->night, "2026-11-23");
    free_plan(&p);
}

/* the same rule with small batches at the default assumed rate (5,000 CSRs/s):
 * a batch of a few CSRs takes well under a second, and the excess one must
 * still come after the compliant one in the plan's processing order (the
 * slots are what `run` follows: it takes the first) */
static void test_plan_excess_waits_small_batches(void **state)
{
    (void)state;
    struct config cfg = defaults();
    time_t t0 = T("2026-11-22T10:00:00Z");
    struct cap_batch b[3] = {mk(1, 1, 50000, t0, 50000),        /* the party's allowance, all of it */
                             mk(2, 1, 2, t0 + HOUR, 50000),      /* excess */
                             mk(3, 2, 2, t0 + 2 * HOUR, 50000)}; /* another party, compliant */
    assert_true(cap_is_excess(b, 3, 1));
    assert_false(cap_is_excess(b, 3, 2));
    struct cap_plan p;
    make_plan(&cfg, T("2026-11-22T15:00:00Z"), (double)cfg.assumed_rate, b, 3, &p);
    uint64_t want[3] = {1, 3, 2};
    expect_order(&p, want, 3, "small excess batch at 5,000 CSRs/s");
    free_plan(&p);

    /* three parties' 2-CSR batches: turn order, each after the previous */
    struct cap_batch s[3] = {mk(1, 1, 2, t0, 50000), mk(2, 2, 2, t0 + 1, 50000), mk(3, 3, 2, t0 + 2, 50000)};
    make_plan(&cfg, T("2026-11-22T15:00:00Z"), (double)cfg.assumed_rate, s, 3, &p);
    uint64_t turns[3] = {1, 2, 3};
    expect_order(&p, turns, 3, "small batches");
    for (size_t i = 1; i < p.n; i++)
        assert_true(p.slots[i].start >= p.slots[i - 1].finish);
    free_plan(&p);
}

/* after_cutoff: a batch received at 20:30 runs tonight (tonight) or on the
 * next night (defer); one received in the daytime runs that evening either way */
static void test_plan_after_cutoff(void **state)
{
    (void)state;
    struct config cfg = defaults();
    time_t now = T("2026-11-22T20:30:00Z");
    struct cap_batch b[2] = {mk(1, 1, 1000, T("2026-11-22T12:00:00Z"), 50000), mk(2, 2, 1000, now, 50000)};
    struct cap_plan p;

    assert_int_equal(cfg.after_cutoff, AFTER_CUTOFF_TONIGHT);
    make_plan(&cfg, now, 100.0, b, 2, &p);
    assert_int_equal(p.n, 2);
    assert_string_equal(cap_slot_of(&p, 1)->night, "2026-11-22");
    assert_string_equal(cap_slot_of(&p, 2)->night, "2026-11-22");
    assert_int_equal(cap_slot_of(&p, 2)->night_start, T("2026-11-22T20:00:00Z"));
    free_plan(&p);

    cfg.after_cutoff = AFTER_CUTOFF_DEFER;
    make_plan(&cfg, now, 100.0, b, 2, &p);
    assert_int_equal(p.n, 2);
    assert_string_equal(cap_slot_of(&p, 1)->night, "2026-11-22");
    const struct cap_slot *sl = cap_slot_of(&p, 2);
    assert_string_equal(sl->night, "2026-11-23");
    assert_int_equal(sl->night_start, T("2026-11-23T20:00:00Z"));
    assert_int_equal(sl->night_end, T("2026-11-24T08:00:00Z"));
    assert_int_equal(sl->earliest, T("2026-11-23T20:00:00Z"));
    /* deadline 24 h after receipt: 20:30 on the 23rd, before that night can run it */
    assert_int_equal(sl->deadline, T("2026-11-23T20:30:00Z"));
    free_plan(&p);

    /* defer, planned from the daytime before: the 20:30 batch still waits a night */
    make_plan(&cfg, T("2026-11-22T12:00:00Z"), 100.0, b, 2, &p);
    assert_string_equal(cap_slot_of(&p, 2)->night, "2026-11-23");
    assert_string_equal(cap_slot_of(&p, 1)->night, "2026-11-22");
    free_plan(&p);
}

/* a held batch is not planned; later turns go on */
static void test_plan_held(void **state)
{
    (void)state;
    struct config cfg = defaults();
    time_t t0 = T("2026-11-22T12:00:00Z");
    struct cap_batch b[3] = {mk(1, 1, 1000, t0, 50000), mk(2, 2, 1000, t0 + 1, 50000), mk(3, 3, 1000, t0 + 2, 50000)};
    b[1].held = 1;
    struct cap_plan p;
    make_plan(&cfg, T("2026-11-22T13:00:00Z"), 100.0, b, 3, &p);
    uint64_t want[2] = {1, 3};
    expect_order(&p, want, 2, "one held");
    assert_null(cap_slot_of(&p, 2));
    assert_int_equal(p.nights[0].planned, 2000);
    free_plan(&p);

    /* not pending (done or failed): not planned either */
    b[1].held = 0;
    b[1].pending = 0;
    make_plan(&cfg, T("2026-11-22T13:00:00Z"), 100.0, b, 3, &p);
    expect_order(&p, want, 2, "one not pending");
    free_plan(&p);
}

/* a batch larger than a whole night runs alone, rather than never */
static void test_plan_batch_larger_than_night(void **state)
{
    (void)state;
    struct config cfg = defaults();
    cfg.nightly = 1000;
    time_t t0 = T("2026-11-22T12:00:00Z");
    struct cap_plan p;

    struct cap_batch one = mk(1, 1, 2000, t0, 50000);
    make_plan(&cfg, T("2026-11-22T13:00:00Z"), 100.0, &one, 1, &p);
    assert_int_equal(p.n, 1);
    assert_string_equal(p.slots[0].night, "2026-11-22");
    free_plan(&p);

    /* behind a small one: it rolls to the next night and runs there alone;
     * the small one after it waits for the night after (no overtaking) */
    struct cap_batch b[3] = {mk(1, 1, 10, t0, 50000), mk(2, 2, 2000, t0 + 1, 50000), mk(3, 3, 10, t0 + 2, 50000)};
    make_plan(&cfg, T("2026-11-22T13:00:00Z"), 100.0, b, 3, &p);
    uint64_t want[3] = {1, 2, 3};
    expect_order(&p, want, 3, "larger than a night");
    assert_string_equal(cap_slot_of(&p, 1)->night, "2026-11-22");
    assert_string_equal(cap_slot_of(&p, 2)->night, "2026-11-23");
    assert_string_equal(cap_slot_of(&p, 3)->night, "2026-11-24");
    assert_int_equal(p.nights[1].planned, 2000);
    assert_int_equal(p.nnights, 3);
    free_plan(&p);
}

/* CSRs already processed tonight (a done batch started inside tonight's
 * window) reduce what is left */
static void test_plan_capacity_used_tonight(void **state)
{
    (void)state;
    struct config cfg = defaults();
    cfg.nightly = 100000;
    time_t now = T("2026-11-22T22:00:00Z");
    struct cap_batch b[4] = {
        mk(1, 1, 40000, T("2026-11-21T12:00:00Z"), 50000),   /* done last night: does not count tonight */
        mk(2, 2, 80000, T("2026-11-22T12:00:00Z"), 130000),  /* done tonight */
        mk(3, 3, 30000, T("2026-11-22T13:00:00Z"), 50000),   /* does not fit in the 20,000 left */
        mk(4, 4, 20000, T("2026-11-22T14:00:00Z"), 50000),   /* would fit, but must not overtake turn 3 */
    };
    b[0].pending = 0;
    b[0].done = b[0].csrs;
    b[0].started_at = T("2026-11-21T20:00:00Z");
    b[1].pending = 0;
    b[1].done = b[1].csrs;
    b[1].started_at = T("2026-11-22T20:00:05Z");
    struct cap_plan p;
    make_plan(&cfg, now, 100.0, b, 4, &p);
    assert_int_equal(p.nights[0].used, 80000);
    uint64_t want[2] = {3, 4};
    expect_order(&p, want, 2, "capacity used tonight");
    assert_string_equal(cap_slot_of(&p, 3)->night, "2026-11-23");
    assert_string_equal(cap_slot_of(&p, 4)->night, "2026-11-23");
    assert_int_equal(p.nights[0].planned, 0);
    free_plan(&p);

    /* turn 3 ran tonight too (110,000 used, more than the night): turn 4 waits */
    b[2].pending = 0;
    b[2].done = b[2].csrs;
    b[2].started_at = T("2026-11-22T21:00:00Z");
    make_plan(&cfg, now, 100.0, b, 4, &p);
    assert_int_equal(p.nights[0].used, 110000);
    assert_int_equal(p.n, 1);
    assert_string_equal(p.slots[0].night, "2026-11-23");
    free_plan(&p);

    /* turn 3 ran last night instead: 80,000 used tonight, and turn 4's 20,000 fit */
    b[2].started_at = T("2026-11-21T21:00:00Z");
    make_plan(&cfg, now, 100.0, b, 4, &p);
    assert_int_equal(p.nights[0].used, 80000);
    assert_int_equal(p.n, 1);
    assert_string_equal(p.slots[0].night, "2026-11-22");
    assert_int_equal(p.slots[0].start, now);
    free_plan(&p);
}

/* a batch being processed (started, still pending) goes first, whatever its
 * class, and its CSRs count as used tonight rather than planned again */
static void test_plan_running_first(void **state)
{
    (void)state;
    struct config cfg = defaults();
    time_t now = T("2026-11-22T21:00:00Z");
    struct cap_batch b[2] = {mk(1, 1, 1000, T("2026-11-22T12:00:00Z"), 50000),
                             mk(2, 2, 1000, T("2026-11-22T12:00:01Z"), 50000)};
    b[1].started_at = T("2026-11-22T20:30:00Z");
    b[1].done = 400;
    struct cap_plan p;
    make_plan(&cfg, now, 100.0, b, 2, &p);
    uint64_t want[2] = {2, 1};
    expect_order(&p, want, 2, "running first");
    assert_int_equal(p.nights[0].used, 1000);
    assert_int_equal(p.slots[0].start, now);
    assert_int_equal(p.slots[0].finish, now + 6);   /* 600 CSRs left at 100/s */
    free_plan(&p);
}

/* an empty queue: no slots, the first night described */
static void test_plan_empty(void **state)
{
    (void)state;
    struct config cfg = defaults();
    struct cap_plan p;
    make_plan(&cfg, T("2026-03-28T12:00:00Z"), 0, NULL, 0, &p);
    assert_int_equal(p.n, 0);
    assert_int_equal(p.nights[0].start, T("2026-03-28T20:00:00Z"));
    assert_int_equal(p.nights[0].end, T("2026-03-29T07:00:00Z"));
    assert_string_equal(p.nights[0].date, "2026-03-28");
    assert_string_equal(p.nights[1].date, "2026-03-29");
    assert_int_equal(p.nights[1].start, T("2026-03-29T19:00:00Z"));
    /* the pace the capacity needs over the 11-hour night */
    assert_true(p.needed_rate > 375000.0 / (11 * HOUR) - 0.01 && p.needed_rate < 375000.0 / (11 * HOUR) + 0.01);
    assert_true(p.rate > 0);
    free_plan(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_window_winter_summer, teardown),
        cmocka_unit_test_teardown(test_window_clock_changes, teardown),
        cmocka_unit_test_teardown(test_deadline, teardown),
        cmocka_unit_test_teardown(test_retrieve_not_before, teardown),
        cmocka_unit_test_teardown(test_excess, teardown),
        cmocka_unit_test_teardown(test_plan_eight_parties, teardown),
        cmocka_unit_test_teardown(test_plan_inside_window_starts_now, teardown),
        cmocka_unit_test_teardown(test_plan_excess_waits, teardown),
        cmocka_unit_test_teardown(test_plan_excess_waits_small_batches, teardown),
        cmocka_unit_test_teardown(test_plan_after_cutoff, teardown),
        cmocka_unit_test_teardown(test_plan_held, teardown),
        cmocka_unit_test_teardown(test_plan_batch_larger_than_night, teardown),
        cmocka_unit_test_teardown(test_plan_capacity_used_tonight, teardown),
        cmocka_unit_test_teardown(test_plan_running_first, teardown),
        cmocka_unit_test_teardown(test_plan_empty, teardown),
    };
    return cmocka_run_group_tests_name("capacity", tests, group_setup, NULL);
}
