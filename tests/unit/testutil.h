/* testutil.h - small helpers shared by the unit tests: scratch directories
 * (mkdtemp, removed recursively), whole-file write/read, and a memory
 * parse_read_fn that hands out bytes in pieces of a chosen size.
 * Header-only (static functions): each test is one standalone program.
 * Include after <cmocka.h>.
 */
#ifndef SMKI_TESTUTIL_H
#define SMKI_TESTUTIL_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* tu_mkdtemp - a fresh scratch directory under TMPDIR (or /tmp); malloc'd path */
static inline char *tu_mkdtemp(const char *tag)
{
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof tmpl, "%s/smki-%s-XXXXXX", base && *base ? base : "/tmp", tag);
    char *d = mkdtemp(tmpl);
    if (!d) fail_msg("mkdtemp(%s): %s", tmpl, strerror(errno));
    return strdup(d);
}

static int tu_rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

/* tu_rmtree - remove a scratch directory and everything in it; frees path */
static inline void tu_rmtree(char *path)
{
    if (!path) return;
    nftw(path, tu_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(path);
}

/* tu_path - dir/name into a static rotating buffer (4 slots) */
static inline const char *tu_path(const char *dir, const char *name)
{
    static char buf[4][1024];
    static int k;
    char *b = buf[k++ & 3];
    snprintf(b, sizeof buf[0], "%s/%s", dir, name);
    return b;
}

/* tu_write_file - create/truncate path with len bytes */
static inline void tu_write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) fail_msg("open %s: %s", path, strerror(errno));
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n <= 0) fail_msg("write %s: %s", path, strerror(errno));
        p += n;
        len -= (size_t)n;
    }
    close(fd);
}

static inline void tu_write_str(const char *path, const char *s)
{
    tu_write_file(path, s, strlen(s));
}

/* tu_read_file - whole file, malloc'd and NUL-terminated; *len its size */
static inline char *tu_read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) fail_msg("open %s: %s", path, strerror(errno));
    struct stat st;
    fstat(fd, &st);
    char *buf = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    if (len) *len = got;
    return buf;
}

/* memory reader for parse_read_fn: piece = most bytes per call (0 = all) */
struct tu_mem {
    const char *data;
    size_t len, pos;
    int piece;
};

static inline int tu_mem_read(void *io, char *buf, int len)
{
    struct tu_mem *m = io;
    size_t left = m->len - m->pos;
    size_t n = (size_t)len;
    if (m->piece > 0 && n > (size_t)m->piece) n = (size_t)m->piece;
    if (n > left) n = left;
    memcpy(buf, m->data + m->pos, n);
    m->pos += n;
    return (int)n;
}

/* tu_contains - assert that hay contains needle, with both in the message */
#define tu_assert_contains(hay, needle)                                                   \
    do {                                                                                  \
        const char *h_ = (hay), *n_ = (needle);                                           \
        if (!h_ || !strstr(h_, n_)) fail_msg("expected \"%s\" in \"%s\"", n_, h_ ? h_ : "(null)"); \
    } while (0)

/* table rows: report every failing row, then fail once */
#define TU_ROW_FAIL(nfail, ...)            \
    do {                                   \
        print_error(__VA_ARGS__);          \
        print_error("\n");                 \
        (nfail)++;                         \
    } while (0)
#define TU_ROWS_DONE(nfail, what)                                       \
    do {                                                                \
        if (nfail) fail_msg("%d row(s) of %s failed (see above)", (nfail), (what)); \
    } while (0)

#define TU_N(a) (sizeof(a) / sizeof((a)[0]))

#endif
