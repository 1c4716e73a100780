/* test_uring_io.c - unit tests of the io_uring reader and writer
 * (pipeline/uring_io.c): files of sizes around the block size, random
 * contents, read in odd-sized pieces and written in odd-sized pieces, for
 * several block sizes and depths; writing at an offset; uw_sync between
 * appends; errors reported as negative values (never a crash), and sticky.
 * Skipped (cmocka skip) when the kernel refuses io_uring. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "testutil.h"

#include "uring_io.h"

struct fx {
    char *dir;
    char path[1024];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    f->dir = tu_mkdtemp("uring");
    snprintf(f->path, sizeof f->path, "%s/data", f->dir);
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

/* rnd - xorshift64*, reproducible */
static uint64_t rnd_state;
static uint64_t rnd(void)
{
    rnd_state ^= rnd_state >> 12;
    rnd_state ^= rnd_state << 25;
    rnd_state ^= rnd_state >> 27;
    return rnd_state * 2685821657736338717ULL;
}

static uint8_t *random_bytes(size_t n, uint64_t seed)
{
    uint8_t *b = malloc(n ? n : 1);
    rnd_state = seed | 1;
    for (size_t i = 0; i < n; i++) b[i] = (uint8_t)(rnd() >> 56);
    return b;
}

/* sizes_for - 0, 1, block-1, block, block+1, 3*block+17 */
static void sizes_for(size_t block, size_t out[6])
{
    out[0] = 0;
    out[1] = 1;
    out[2] = block - 1;
    out[3] = block;
    out[4] = block + 1;
    out[5] = 3 * block + 17;
}

struct geometry { size_t block; unsigned depth; };
static const struct geometry GEOMS[] = {{4096, 4}, {4096, 1}, {1000, 2}, {65536, 8}, {512, 3}};
static const int READ_PIECES[] = {1, 7, 333, 4097, 70000};

static int uring_unavailable(int err)
{
    return err == -ENOSYS || err == -EPERM || err == -EACCES;
}

/* test_reader - every size x geometry x piece size equals the file */
static void test_reader(void **state)
{
    struct fx *f = *state;
    int nfail = 0;
    for (size_t g = 0; g < TU_N(GEOMS); g++) {
        size_t sizes[6];
        sizes_for(GEOMS[g].block, sizes);
        for (size_t s = 0; s < 6; s++) {
            size_t n = sizes[s];
            uint8_t *data = random_bytes(n, 1000 * g + s + 1);
            tu_write_file(f->path, data, n);
            for (size_t k = 0; k < TU_N(READ_PIECES); k++) {
                int fd = open(f->path, O_RDONLY);
                assert_true(fd >= 0);
                if (k == 1) lseek(fd, 5, SEEK_SET);   /* the reader starts at offset 0 whatever the position */
                int err = 0;
                struct uring_reader *r = ur_open(fd, GEOMS[g].block, GEOMS[g].depth, &err);
                if (!r) {
                    close(fd);
                    free(data);
                    if (uring_unavailable(err)) skip();
                    fail_msg("ur_open: %d", err);
                }
                uint8_t *got = malloc(n + 70000);
                size_t have = 0;
                int rc;
                char *piece = malloc((size_t)READ_PIECES[k]);
                while ((rc = ur_read(r, piece, READ_PIECES[k])) > 0) {
                    if (rc > READ_PIECES[k] || have + (size_t)rc > n + 70000) {
                        TU_ROW_FAIL(nfail, "ur_read returned %d for %d asked", rc, READ_PIECES[k]);
                        break;
                    }
                    memcpy(got + have, piece, (size_t)rc);
                    have += (size_t)rc;
                }
                const char *why = NULL;
                if (rc < 0) why = "ur_read error";
                else if (have != n) why = "length differs";
                else if (n && memcmp(got, data, n) != 0) why = "content differs";
                else if (ur_bytes(r) != n) why = "ur_bytes differs";
                else if (ur_read(r, piece, READ_PIECES[k]) != 0) why = "not 0 again after the end";
                else if (ur_error(r) != 0) why = "ur_error set";
                if (why)
                    TU_ROW_FAIL(nfail, "block %zu depth %u size %zu pieces %d: %s (read %zu, rc %d, err %d)",
                                GEOMS[g].block, GEOMS[g].depth, n, READ_PIECES[k], why, have, rc, ur_error(r));
                ur_close(r);
                close(fd);
                free(piece);
                free(got);
            }
            free(data);
        }
    }
    TU_ROWS_DONE(nfail, "reader");
}

/* test_reader_close_early - closing with reads in flight is clean */
static void test_reader_close_early(void **state)
{
    struct fx *f = *state;
    size_t n = 1 << 20;
    uint8_t *data = random_bytes(n, 77);
    tu_write_file(f->path, data, n);
    int fd = open(f->path, O_RDONLY);
    int err = 0;
    struct uring_reader *r = ur_open(fd, 4096, 8, &err);
    if (!r) {
        close(fd);
        free(data);
        if (uring_unavailable(err)) skip();
        fail_msg("ur_open: %d", err);
    }
    char buf[100];
    assert_int_equal(ur_read(r, buf, sizeof buf), 100);
    assert_memory_equal(buf, data, 100);
    ur_close(r);
    close(fd);
    free(data);
}

/* in_child - run fn(arg) in a child process with a time limit, so that a
 * hang is a failure and not a stuck test run; the child's exit status, or
 * -1 when it had to be killed */
static int in_child(int (*fn)(void *), void *arg, int timeout_ms)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) fail_msg("fork: %s", strerror(errno));
    if (pid == 0) _exit(fn(arg));
    for (int waited = 0; waited < timeout_ms; waited += 10) {
        int st;
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

/* reader_error_child - exit 0 when all is right, else the step that went wrong */
static int reader_error_child(void *arg)
{
    const char *path = arg;
    int fd = open(path, O_WRONLY);
    if (fd < 0) return 10;
    int err = 0;
    struct uring_reader *r = ur_open(fd, 4096, 2, &err);
    if (!r) return err < 0 ? (uring_unavailable(err) ? 77 : 0) : 11;   /* refused at open: reported */
    char buf[64];
    if (ur_read(r, buf, sizeof buf) != -1) return 12;
    int e = ur_error(r);
    if (e != -EBADF) return 13;
    if (ur_read(r, buf, sizeof buf) != -1 || ur_error(r) != e) return 14;   /* remembered */
    ur_close(r);   /* must return */
    close(fd);
    return 0;
}

/* test_reader_error - a descriptor that cannot be read: -1 and ur_error
 * -EBADF, sticky, and ur_close returns.
 * BUG (uring_io.c ur_read/r_wait + ur_close): the buffer whose read failed
 * stays "in flight" (state 1) although its completion was consumed, so
 * ur_close waits forever in io_uring_wait_cqe for a completion that never
 * comes (any depth).  Run in a child with a 5 s limit. */
static void test_reader_error(void **state)
{
    struct fx *f = *state;
    tu_write_str(f->path, "some bytes that cannot be read through this descriptor");
    int rc = in_child(reader_error_child, f->path, 5000);
    if (rc == 77) skip();
    if (rc == -1) fail_msg("BUG: ur_close hangs after a read error (killed after 5 s)");
    if (rc != 0) fail_msg("reader error path: child exit %d", rc);
}

static const size_t WRITE_PIECES[] = {1, 5, 999, 4096, 10007};

/* test_writer - every size x geometry x piece size: the file equals the data */
static void test_writer(void **state)
{
    struct fx *f = *state;
    int nfail = 0;
    for (size_t g = 0; g < TU_N(GEOMS); g++) {
        size_t sizes[6];
        sizes_for(GEOMS[g].block, sizes);
        for (size_t s = 0; s < 6; s++) {
            size_t n = sizes[s];
            uint8_t *data = random_bytes(n, 5000 + 100 * g + s);
            for (size_t k = 0; k < TU_N(WRITE_PIECES); k++) {
                int fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
                assert_true(fd >= 0);
                int err = 0;
                struct uring_writer *w = uw_open(fd, 0, GEOMS[g].block, GEOMS[g].depth, &err);
                if (!w) {
                    close(fd);
                    free(data);
                    if (uring_unavailable(err)) skip();
                    fail_msg("uw_open: %d", err);
                }
                int rc = 0;
                for (size_t off = 0; off < n && rc == 0; off += WRITE_PIECES[k]) {
                    size_t len = n - off < WRITE_PIECES[k] ? n - off : WRITE_PIECES[k];
                    rc = uw_write(w, data + off, len);
                }
                uint64_t counted = uw_bytes(w);
                int frc = uw_finish(w);
                uint64_t counted_after = uw_bytes(w);
                uw_close(w);
                close(fd);
                size_t got_len;
                char *got = tu_read_file(f->path, &got_len);
                const char *why = NULL;
                if (rc != 0) why = "uw_write failed";
                else if (frc != 0) why = "uw_finish failed";
                else if (got_len != n) why = "file length differs";
                else if (n && memcmp(got, data, n) != 0) why = "content differs";
                else if (counted != n || counted_after != n) why = "uw_bytes differs";
                if (why)
                    TU_ROW_FAIL(nfail, "block %zu depth %u size %zu pieces %zu: %s (rc %d finish %d len %zu bytes %llu/%llu)",
                                GEOMS[g].block, GEOMS[g].depth, n, WRITE_PIECES[k], why, rc, frc, got_len,
                                (unsigned long long)counted, (unsigned long long)counted_after);
                free(got);
            }
            free(data);
        }
    }
    TU_ROWS_DONE(nfail, "writer");
}

/* test_writer_offset_and_sync - bytes before the offset are kept; uw_sync
 * makes what was written so far durable and the writer goes on */
static void test_writer_offset_and_sync(void **state)
{
    struct fx *f = *state;
    const size_t head = 100, n1 = 4096 * 2 + 3, n2 = 777;
    uint8_t *data = random_bytes(n1 + n2, 99);
    char hbuf[100];
    memset(hbuf, 'H', sizeof hbuf);
    tu_write_file(f->path, hbuf, head);
    int fd = open(f->path, O_WRONLY);
    int err = 0;
    struct uring_writer *w = uw_open(fd, head, 4096, 2, &err);
    if (!w) {
        close(fd);
        free(data);
        if (uring_unavailable(err)) skip();
        fail_msg("uw_open: %d", err);
    }
    assert_int_equal(uw_write(w, data, n1), 0);
    assert_int_equal(uw_sync(w), 0);
    /* after the sync the first part is in the file */
    size_t len;
    char *got = tu_read_file(f->path, &len);
    assert_int_equal(len, head + n1);
    assert_memory_equal(got, hbuf, head);
    assert_memory_equal(got + head, data, n1);
    free(got);
    assert_int_equal(uw_write(w, data + n1, n2), 0);
    assert_int_equal(uw_finish(w), 0);
    uw_close(w);
    close(fd);
    got = tu_read_file(f->path, &len);
    assert_int_equal(len, head + n1 + n2);
    assert_memory_equal(got, hbuf, head);
    assert_memory_equal(got + head, data, n1 + n2);
    free(got);
    free(data);
}

/* test_writer_error - O_RDONLY descriptor: a negative error, no crash; sticky */
static void test_writer_error(void **state)
{
    struct fx *f = *state;
    tu_write_str(f->path, "read only");
    const size_t sizes[] = {10, 4096 * 3 + 5};
    for (size_t i = 0; i < TU_N(sizes); i++) {
        int fd = open(f->path, O_RDONLY);
        assert_true(fd >= 0);
        int err = 0;
        struct uring_writer *w = uw_open(fd, 0, 4096, 2, &err);
        if (!w) {
            close(fd);
            if (uring_unavailable(err)) skip();
            assert_true(err < 0);
            continue;
        }
        uint8_t *data = random_bytes(sizes[i], 3);
        int rc = uw_write(w, data, sizes[i]);
        int frc = uw_finish(w);
        /* the failure shows at the latest at uw_finish */
        assert_true(rc <= 0);
        assert_true(frc < 0);
        assert_int_equal(frc, -EBADF);
        if (rc < 0) assert_int_equal(rc, frc);
        /* sticky: later calls fail the same way */
        assert_int_equal(uw_write(w, data, 1), frc);
        assert_int_equal(uw_finish(w), frc);
        uw_close(w);
        close(fd);
        free(data);
        size_t len;
        char *got = tu_read_file(f->path, &len);
        assert_string_equal(got, "read only");
        free(got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reader, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reader_close_early, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reader_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_offset_and_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_error, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
