/* test_spool.c - unit tests of the spool (pipeline/spool.c) and of the
 * file-name rule (intake_name_ok, pipeline/intake.c):
 *   spool_scan   order by modification time then name (SPEC 5), *.tmp
 *                skipped, links / FIFOs / directories listed as themselves
 *                (lstat: never followed), errors as -errno;
 *   spool_watch  CHANGED on a create or a rename into the directory,
 *                TIMEOUT when nothing happens, STOP on SIGTERM / SIGINT
 *                (the watch blocks them and reads them from a signalfd, so
 *                raise() after spool_watch_open is safe).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "testutil.h"

#include "intake.h"
#include "spool.h"

struct fx {
    char *dir;
    char incoming[1024];
    char outside[1024];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    f->dir = tu_mkdtemp("spool");
    snprintf(f->incoming, sizeof f->incoming, "%s/incoming", f->dir);
    snprintf(f->outside, sizeof f->outside, "%s/outside", f->dir);
    if (mkdir(f->incoming, 0755) != 0 || mkdir(f->outside, 0755) != 0) fail_msg("mkdir: %s", strerror(errno));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    tu_rmtree(f->dir);
    free(f);
    return 0;
}

/* set_mtime - the entry's own mtime (a link's, not its target's) */
static void set_mtime(const char *path, time_t sec, long nsec)
{
    struct timespec ts[2] = {{sec, nsec}, {sec, nsec}};
    if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) != 0)
        fail_msg("utimensat %s: %s", path, strerror(errno));
}

enum ekind { E_REG, E_LINK, E_DANGLING, E_FIFO, E_DIR };
struct entry_row { const char *name; enum ekind kind; time_t sec; long nsec; };

/* make_entry - one entry in incoming/ with a chosen mtime */
static void make_entry(struct fx *f, const struct entry_row *e)
{
    char path[1100], target[1100];
    snprintf(path, sizeof path, "%s/%s", f->incoming, e->name);
    switch (e->kind) {
    case E_REG: tu_write_str(path, "<x/>"); break;
    case E_LINK:
        /* target outside incoming/, with an mtime older than everything */
        snprintf(target, sizeof target, "%s/target-of-%s", f->outside, e->name);
        tu_write_str(target, "<x/>");
        set_mtime(target, 1, 0);
        if (symlink(target, path) != 0) fail_msg("symlink: %s", strerror(errno));
        break;
    case E_DANGLING:
        if (symlink("/nonexistent/smki/target.xml", path) != 0) fail_msg("symlink: %s", strerror(errno));
        break;
    case E_FIFO:
        if (mkfifo(path, 0644) != 0) fail_msg("mkfifo: %s", strerror(errno));
        break;
    case E_DIR:
        if (mkdir(path, 0755) != 0) fail_msg("mkdir: %s", strerror(errno));
        break;
    }
    set_mtime(path, e->sec, e->nsec);
}

/* test_scan_order - mtime (seconds, then nanoseconds), then name; kinds mixed */
static void test_scan_order(void **state)
{
    struct fx *f = *state;
    const struct entry_row entries[] = {
        {"c.xml", E_REG, 1000, 0},
        {"a.xml", E_REG, 2000, 0},
        {"b.xml", E_REG, 1000, 0},          /* same mtime as c: name decides */
        {"B.xml", E_REG, 1000, 0},          /* 'B' < 'b' < 'c' (byte order) */
        {"d.xml", E_REG, 1000, 1},          /* one nanosecond later */
        {"early.xml", E_REG, 999, 999999999},
        {"link.xml", E_LINK, 1500, 0},      /* ordered by the link's own mtime */
        {"dangling.xml", E_DANGLING, 1600, 0},
        {"fifo.xml", E_FIFO, 1000, 500},
        {"dir.xml", E_DIR, 3000, 0},
        {"notes.txt", E_REG, 2500, 0},      /* not a request name: intake decides, scan lists */
        {"x.tmp", E_REG, 1, 0},             /* being written by submit: skipped */
        {".acme-0001.xml.tmp", E_REG, 1, 0},
        {"late.xml.tmp", E_REG, 4000, 0},
    };
    for (size_t i = 0; i < TU_N(entries); i++) make_entry(f, &entries[i]);

    const char *want[] = {"early.xml", "B.xml", "b.xml", "c.xml", "d.xml", "fifo.xml",
                          "link.xml", "dangling.xml", "a.xml", "notes.txt", "dir.xml"};
    struct spool_list l;
    assert_int_equal(spool_scan(f->incoming, &l), 0);
    int bad = l.n != TU_N(want);
    for (size_t i = 0; !bad && i < l.n; i++) bad = strcmp(l.names[i], want[i]) != 0;
    if (bad) {
        for (size_t i = 0; i < l.n; i++) print_error("  got[%zu] = %s\n", i, l.names[i]);
        for (size_t i = 0; i < TU_N(want); i++) print_error("  want[%zu] = %s\n", i, want[i]);
        spool_list_free(&l);
        fail_msg("spool_scan order differs (%zu names, want %zu)", l.n, TU_N(want));
    }
    spool_list_free(&l);
    assert_null(l.names);
    assert_int_equal(l.n, 0);

    /* touching an entry moves it to the end */
    char path[1100];
    snprintf(path, sizeof path, "%s/early.xml", f->incoming);
    set_mtime(path, 5000, 0);
    assert_int_equal(spool_scan(f->incoming, &l), 0);
    assert_int_equal(l.n, TU_N(want));
    assert_string_equal(l.names[0], "B.xml");
    assert_string_equal(l.names[l.n - 1], "early.xml");
    spool_list_free(&l);
}

/* test_scan_empty_and_missing - 0 names; a missing directory is -ENOENT */
static void test_scan_empty_and_missing(void **state)
{
    struct fx *f = *state;
    struct spool_list l;
    assert_int_equal(spool_scan(f->incoming, &l), 0);
    assert_int_equal(l.n, 0);
    spool_list_free(&l);
    char missing[1100];
    snprintf(missing, sizeof missing, "%s/no-such-dir", f->dir);
    assert_int_equal(spool_scan(missing, &l), -ENOENT);
    assert_int_equal(l.n, 0);
    spool_list_free(&l);
}

/* test_scan_many - more entries than the first allocation; all listed, sorted */
static void test_scan_many(void **state)
{
    struct fx *f = *state;
    const int N = 300;
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%03d.xml", i);
        struct entry_row e = {name, E_REG, 10000 + (N - i) / 3, 0};   /* reverse-ish, with ties */
        make_entry(f, &e);
    }
    struct spool_list l;
    assert_int_equal(spool_scan(f->incoming, &l), 0);
    assert_int_equal(l.n, (size_t)N);
    struct stat prev, cur;
    for (size_t i = 0; i < l.n; i++) {
        char path[1100];
        snprintf(path, sizeof path, "%s/%s", f->incoming, l.names[i]);
        assert_int_equal(lstat(path, &cur), 0);
        if (i > 0) {
            int older = prev.st_mtim.tv_sec < cur.st_mtim.tv_sec;
            int tie = prev.st_mtim.tv_sec == cur.st_mtim.tv_sec && strcmp(l.names[i - 1], l.names[i]) < 0;
            if (!older && !tie) fail_msg("out of order at %zu: %s then %s", i, l.names[i - 1], l.names[i]);
        }
        prev = cur;
    }
    spool_list_free(&l);
}

struct name_row { const char *label; const char *name; int want; };

/* test_name_ok - SPEC 2 / 5: [A-Za-z0-9._-]{1,128}.xml */
static void test_name_ok(void **state)
{
    (void)state;
    char stem128[140], stem129[140];
    memset(stem128, 'a', 128);
    strcpy(stem128 + 128, ".xml");
    memset(stem129, 'Z', 129);
    strcpy(stem129 + 129, ".xml");
    const struct name_row rows[] = {
        {"simple", "acme-0001.xml", 1},
        {"all classes", "Az09._-.xml", 1},
        {"one char", "a.xml", 1},
        {"dot stem", "..xml", 1},               /* stem "." matches the class */
        {"dots in stem", "a.b.c.xml", 1},
        {"dash first", "-x.xml", 1},
        {"128-char stem", stem128, 1},
        {"129-char stem", stem129, 0},
        {".xml alone", ".xml", 0},
        {"empty", "", 0},
        {"upper-case ext", "x.XML", 0},
        {"mixed-case ext", "x.Xml", 0},
        {"no ext", "acme", 0},
        {"other ext", "acme.txt", 0},
        {"tmp", "acme.xml.tmp", 0},
        {"xml then more", "acme.xml.bak", 0},
        {"space", "ac me.xml", 0},
        {"leading space", " acme.xml", 0},
        {"slash", "a/b.xml", 0},
        {"backslash", "a\\b.xml", 0},
        {"unicode e-acute", "caf\xc3\xa9.xml", 0},
        {"unicode fullwidth", "\xef\xbc\xa1.xml", 0},
        {"plus", "a+b.xml", 0},
        {"colon", "a:b.xml", 0},
        {"tilde", "a~.xml", 0},
        {"newline", "a\n.xml", 0},
        {"ext only dot missing", "axml", 0},
    };
    int nfail = 0;
    for (size_t i = 0; i < TU_N(rows); i++) {
        int got = intake_name_ok(rows[i].name);
        if (!!got != rows[i].want) TU_ROW_FAIL(nfail, "%s: intake_name_ok = %d, want %d", rows[i].label, got, rows[i].want);
    }
    TU_ROWS_DONE(nfail, "intake_name_ok");
}

/* ---- spool_watch ---- */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* settle - wait until a watch reports TIMEOUT (events of one change may come in pieces) */
static void settle(struct spool_watch *w)
{
    for (int i = 0; i < 20; i++)
        if (spool_wait(w, 100) == SPOOL_TIMEOUT) return;
    fail_msg("the watch never went quiet");
}

/* test_watch_timeout - no activity: TIMEOUT after about the timeout */
static void test_watch_timeout(void **state)
{
    struct fx *f = *state;
    char err[512];
    struct spool_watch *w = spool_watch_open(f->incoming, err, sizeof err);
    if (!w) fail_msg("spool_watch_open: %s", err);
    double t0 = now_ms();
    assert_int_equal(spool_wait(w, 250), SPOOL_TIMEOUT);
    double dt = now_ms() - t0;
    if (dt < 200 || dt > 3000) fail_msg("spool_wait(250) took %.0f ms", dt);
    /* activity elsewhere is not a change */
    tu_write_str(tu_path(f->outside, "elsewhere.xml"), "<x/>");
    assert_int_equal(spool_wait(w, 150), SPOOL_TIMEOUT);
    assert_int_equal(spool_stop_requested(w), 0);
    /* a zero-ish timeout returns */
    assert_int_equal(spool_wait(w, 1), SPOOL_TIMEOUT);
    spool_watch_close(w);
}

/* test_watch_changed_before_wait - a file created before the wait is seen */
static void test_watch_changed_before_wait(void **state)
{
    struct fx *f = *state;
    char err[512];
    struct spool_watch *w = spool_watch_open(f->incoming, err, sizeof err);
    if (!w) fail_msg("spool_watch_open: %s", err);
    tu_write_str(tu_path(f->incoming, "new.xml"), "<x/>");
    double t0 = now_ms();
    assert_int_equal(spool_wait(w, 5000), SPOOL_CHANGED);
    if (now_ms() - t0 > 2000) fail_msg("CHANGED came only after %.0f ms", now_ms() - t0);
    /* the change was consumed: quiet again */
    settle(w);
    assert_int_equal(spool_wait(w, 100), SPOOL_TIMEOUT);
    /* a rename into the directory (what submit does) */
    tu_write_str(tu_path(f->outside, "moved.xml"), "<x/>");
    char from[1100], to[1100];
    snprintf(from, sizeof from, "%s/moved.xml", f->outside);
    snprintf(to, sizeof to, "%s/moved.xml", f->incoming);
    assert_int_equal(rename(from, to), 0);
    assert_int_equal(spool_wait(w, 5000), SPOOL_CHANGED);
    spool_watch_close(w);
}

struct creator { const char *path; int delay_ms; };

static void *create_later(void *arg)
{
    struct creator *c = arg;
    struct timespec ts = {0, c->delay_ms * 1000000L};
    nanosleep(&ts, NULL);
    int fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        (void)!write(fd, "<x/>", 4);
        close(fd);
    }
    return NULL;
}

/* test_watch_changed_during_wait - a blocked wait wakes early on a create */
static void test_watch_changed_during_wait(void **state)
{
    struct fx *f = *state;
    char err[512], path[1100];
    struct spool_watch *w = spool_watch_open(f->incoming, err, sizeof err);
    if (!w) fail_msg("spool_watch_open: %s", err);
    snprintf(path, sizeof path, "%s/during.xml", f->incoming);
    struct creator c = {path, 150};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, create_later, &c), 0);
    double t0 = now_ms();
    enum spool_event ev = spool_wait(w, 10000);
    double dt = now_ms() - t0;
    pthread_join(th, NULL);
    if (ev != SPOOL_CHANGED || dt > 5000) {
        spool_watch_close(w);
        fail_msg("spool_wait = %d after %.0f ms, want SPOOL_CHANGED soon after the create at 150 ms", (int)ev, dt);
    }
    /* the cancelled timeout does not fire later as a phantom event */
    settle(w);
    spool_watch_close(w);
}

/* test_watch_stop_sigterm - SIGTERM (blocked by the watch) gives STOP; keep this
 * and the SIGINT test last: the signals stay blocked for the process */
static void test_watch_stop_sigterm(void **state)
{
    struct fx *f = *state;
    char err[512];
    struct spool_watch *w = spool_watch_open(f->incoming, err, sizeof err);
    if (!w) fail_msg("spool_watch_open: %s", err);
    assert_int_equal(spool_stop_requested(w), 0);
    assert_int_equal(raise(SIGTERM), 0);
    double t0 = now_ms();
    assert_int_equal(spool_wait(w, 10000), SPOOL_STOP);
    if (now_ms() - t0 > 5000) fail_msg("STOP came only after %.0f ms", now_ms() - t0);
    assert_int_equal(spool_stop_requested(w), 1);
    /* STOP is sticky: it outranks a change */
    tu_write_str(tu_path(f->incoming, "after-stop.xml"), "<x/>");
    assert_int_equal(spool_wait(w, 100), SPOOL_STOP);
    spool_watch_close(w);
}

/* test_watch_stop_sigint - SIGINT too, on a fresh watch */
static void test_watch_stop_sigint(void **state)
{
    struct fx *f = *state;
    char err[512];
    struct spool_watch *w = spool_watch_open(f->incoming, err, sizeof err);
    if (!w) fail_msg("spool_watch_open: %s", err);
    assert_int_equal(raise(SIGINT), 0);
    assert_int_equal(spool_wait(w, 10000), SPOOL_STOP);
    spool_watch_close(w);
}

/* test_watch_open_missing - a missing directory: NULL with a message naming it */
static void test_watch_open_missing(void **state)
{
    struct fx *f = *state;
    char err[512] = "", missing[1100];
    snprintf(missing, sizeof missing, "%s/no-such-dir", f->dir);
    struct spool_watch *w = spool_watch_open(missing, err, sizeof err);
    if (w) {
        spool_watch_close(w);
        fail_msg("spool_watch_open of a missing directory succeeded");
    }
    tu_assert_contains(err, missing);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_scan_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_empty_and_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_many, setup, teardown),
        cmocka_unit_test(test_name_ok),
        cmocka_unit_test_setup_teardown(test_watch_open_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_changed_before_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_changed_during_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_stop_sigterm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_stop_sigint, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
