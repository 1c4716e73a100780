/* test_reqcache.c - unit tests of the request cache (pipeline/reqcache.c):
 *   round trip   chunks of any size in, chunks of another size out, every
 *                field as written (longest RequestID, DeviceID, usage and
 *                CSR text; empty texts), first_index counting on;
 *   checks       a cache of another archive or count, a flipped octet
 *                anywhere, a cut file, extra octets: refused with a reason
 *                before any request is given; none at all: NULL, no reason;
 *   writer       abandon, a failed write (emptied at once) and a failed
 *                commit leave no file; remove_all removes caches and
 *                nothing else.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <signal.h>
#include <sys/resource.h>

#include "testutil.h"

#include "reqcache.h"

#define ARCHIVE "b.xml.zst"
#define N 1000

static char *dir;

/* fill_request - a request whose fields depend on i (some of them at their
 * bounds, some empty) */
static void fill_request(struct chunk *c, uint32_t i)
{
    struct request *r = &c->req[c->n++];
    memset(r, 0, sizeof *r);
    if (i == 7) memset(r->request_id, '9', REQ_ID_MAX);
    else snprintf(r->request_id, sizeof r->request_id, "%u", i + 1);
    if (i == 8) memset(r->device_text, 'A', REQ_DEVICE_MAX);
    else snprintf(r->device_text, sizeof r->device_text, "00-11-22-33-44-55-%02X-%02X", i >> 8 & 0xff, i & 0xff);
    if (i == 9) memset(r->usage_text, 'u', REQ_USAGE_MAX);
    else if (i != 10) snprintf(r->usage_text, sizeof r->usage_text, "%s", i % 2 ? "DS" : "KA");
    size_t len = i == 11 ? REQCACHE_TEXT_MAX : i == 12 ? 0 : 300 + i % 200;
    char *t = malloc(len + 1);
    for (size_t k = 0; k < len; k++) t[k] = (char)('A' + (i + k) % 26);
    r->csr_off = chunk_add_text(c, t, len);
    r->csr_len = (uint32_t)len;
    free(t);
}

/* write_cache - N requests in chunks of `step` to path, committed */
static void write_cache(const char *path, uint32_t step, const char *archive)
{
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    struct reqcache_writer *w = reqcache_create(tmp);
    assert_non_null(w);
    struct chunk *c = chunk_new(step);
    for (uint32_t i = 0; i < N;) {
        chunk_reset(c);
        while (c->n < step && i < N) fill_request(c, i++);
        reqcache_add(w, c);
    }
    chunk_free(c);
    assert_int_equal(reqcache_commit(w, archive, path), 0);
    assert_int_equal(access(tmp, F_OK), -1);
}

static void test_round_trip(void **state)
{
    (void)state;
    const uint32_t steps[] = {1, 64, 333};
    const uint32_t reads[] = {512, 1, 999};
    for (int s = 0; s < 3; s++) {
        const char *path = tu_path(dir, "." ARCHIVE ".req");
        write_cache(path, steps[s], ARCHIVE);
        char err[256];
        struct reqcache_reader *r = reqcache_open(path, ARCHIVE, N, err, sizeof err);
        assert_non_null(r);
        struct chunk *got = chunk_new(reads[s]), *want = chunk_new(1);
        uint32_t seen = 0;
        int n;
        while ((n = reqcache_next_chunk(r, got)) > 0) {
            assert_int_equal(got->first_index, seen);
            for (int k = 0; k < n; k++, seen++) {
                chunk_reset(want);
                fill_request(want, seen);
                const struct request *a = &got->req[k], *b = &want->req[0];
                assert_string_equal(a->request_id, b->request_id);
                assert_string_equal(a->device_text, b->device_text);
                assert_string_equal(a->usage_text, b->usage_text);
                assert_int_equal(a->csr_len, b->csr_len);
                assert_memory_equal(chunk_csr(got, a), chunk_csr(want, b), b->csr_len + 1);
                assert_int_equal(a->code, RC_OK);
            }
        }
        assert_int_equal(n, 0);
        assert_int_equal(seen, N);
        assert_int_equal(reqcache_next_chunk(r, got), 0);
        chunk_free(got);
        chunk_free(want);
        reqcache_close(r);
        unlink(path);
    }
}

/* expect_refused - reqcache_open gives NULL and a reason containing what */
static void expect_refused(const char *path, const char *archive, uint32_t csrs, const char *what)
{
    char err[256];
    struct reqcache_reader *r = reqcache_open(path, archive, csrs, err, sizeof err);
    if (r) fail_msg("a cache that should be refused (%s) was opened", what);
    if (!strstr(err, what)) fail_msg("refused with '%s', expected '%s'", err, what);
}

static void test_refused(void **state)
{
    (void)state;
    const char *path = tu_path(dir, ".c.req");
    write_cache(path, 64, ARCHIVE);
    size_t len;
    char *good = tu_read_file(path, &len);

    expect_refused(path, "other.xml.zst", N, "written for archive");
    expect_refused(path, ARCHIVE, N - 1, "holds 1000 requests");
    /* one flipped bit anywhere: records, count, length, name, CRC */
    const size_t at[] = {0, 1, len / 2, len - 40, len - 25 - strlen(ARCHIVE), len - 6, len - 5, len - 1};
    for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
        char *bad = malloc(len);
        memcpy(bad, good, len);
        bad[at[k]] ^= 0x10;
        tu_write_file(path, bad, len);
        char err[256];
        assert_null(reqcache_open(path, ARCHIVE, N, err, sizeof err));
        assert_true(err[0] != '\0');
        free(bad);
    }
    tu_write_file(path, good, len - 1);   /* cut */
    expect_refused(path, ARCHIVE, N, "");
    tu_write_file(path, good, 10);
    expect_refused(path, ARCHIVE, N, "");
    tu_write_file(path, "", 0);
    expect_refused(path, ARCHIVE, N, "no trailer");
    char *more = malloc(len + 1);   /* an octet before the records */
    more[0] = 'x';
    memcpy(more + 1, good, len);
    tu_write_file(path, more, len + 1);
    expect_refused(path, ARCHIVE, N, "octets of records");
    free(more);

    unlink(path);
    char err[256] = "x";
    assert_null(reqcache_open(path, ARCHIVE, N, err, sizeof err));
    assert_string_equal(err, "");   /* none: not an error */
    free(good);
}

static void test_writer_and_cleanup(void **state)
{
    (void)state;
    const char *tmp = tu_path(dir, ".a.req.tmp");
    struct reqcache_writer *w = reqcache_create(tmp);
    assert_non_null(w);
    struct chunk *c = chunk_new(4);
    fill_request(c, 0);
    reqcache_add(w, c);
    reqcache_abandon(w);
    assert_int_equal(access(tmp, F_OK), -1);
    reqcache_abandon(NULL);

    /* a commit that cannot rename leaves nothing behind */
    w = reqcache_create(tmp);
    reqcache_add(w, c);
    assert_int_equal(reqcache_commit(w, ARCHIVE, tu_path(dir, "no-such-dir/.x.req")), -ENOENT);
    assert_int_equal(access(tmp, F_OK), -1);
    assert_null(reqcache_create(tu_path(dir, "no-such-dir/.y.req.tmp")));

    /* a write that fails (a file size limit standing in for a full disk):
     * the file is emptied at once, and the commit fails and removes it */
    struct rlimit old, small = {64 * 1024, 0};
    getrlimit(RLIMIT_FSIZE, &old);
    small.rlim_max = old.rlim_max;
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    w = reqcache_create(tmp);
    assert_non_null(w);
    struct chunk *big = chunk_new(N);
    for (uint32_t i = 0; i < N; i++) fill_request(big, i);
    for (int k = 0; k < 3; k++) reqcache_add(w, big);   /* 1.4 MB: a 1 MiB write refused past 64 KiB */
    struct stat st;
    assert_int_equal(stat(tmp, &st), 0);
    assert_int_equal(st.st_size, 0);
    assert_int_equal(reqcache_commit(w, ARCHIVE, tu_path(dir, ".z.req")), -EFBIG);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_DFL);
    assert_int_equal(access(tmp, F_OK), -1);
    assert_int_equal(access(tu_path(dir, ".z.req"), F_OK), -1);
    chunk_free(big);
    chunk_free(c);

    char p[1100];
    reqcache_path(dir, ARCHIVE, p, sizeof p);
    assert_string_equal(p, tu_path(dir, "." ARCHIVE ".req"));
    write_cache(p, 64, ARCHIVE);
    write_cache(tu_path(dir, ".other.xml.zst.req"), 64, "other.xml.zst");
    tu_write_str(tu_path(dir, ARCHIVE), "an archive");
    tu_write_str(tu_path(dir, "x.req"), "not a dot file");
    tu_write_str(tu_path(dir, ".b.tmp"), "intake's temp file");
    assert_int_equal(reqcache_remove_all(dir), 2);
    assert_int_equal(access(p, F_OK), -1);
    assert_int_equal(access(tu_path(dir, ARCHIVE), F_OK), 0);
    assert_int_equal(access(tu_path(dir, "x.req"), F_OK), 0);
    assert_int_equal(access(tu_path(dir, ".b.tmp"), F_OK), 0);
    assert_int_equal(reqcache_remove_all(tu_path(dir, "no-such-dir")), 0);
}

static int setup(void **state)
{
    (void)state;
    dir = tu_mkdtemp("reqcache");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_writer_and_cleanup),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
