/* reqcache.c - intake's parsed requests cached for processing; see
 * reqcache.h for the format and the rules. */
#include "reqcache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "fsutil.h"
#include "xmem.h"

#define BUF_BYTES (1u << 20)
static const char MAGIC[8] = {'S', 'M', 'K', 'I', 'R', 'Q', 'C', '1'};
/* magic, count, record octets, name length, CRC; plus the name */
#define TRAILER_FIXED (8 + 4 + 8 + 1 + 4)
#define NAME_MAX_LEN 255
#define SUFFIX ".req"

void reqcache_path(const char *archive_dir, const char *archive_name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/.%s" SUFFIX, archive_dir, archive_name);
}

/* ---- writer ---- */

struct reqcache_writer {
    int fd;
    int err;              /* -errno of the first failed write */
    uint32_t count;
    uint64_t octets;      /* records written */
    uLong crc;
    char *buf;
    size_t len;
    char path[4200];
};

struct reqcache_writer *reqcache_create(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0) return NULL;
    struct reqcache_writer *w = xcalloc(1, sizeof *w);
    w->fd = fd;
    w->crc = crc32(0L, Z_NULL, 0);
    w->buf = xmalloc(BUF_BYTES);
    snprintf(w->path, sizeof w->path, "%s", path);
    return w;
}

static void w_flush(struct reqcache_writer *w)
{
    if (w->len && !w->err) {
        w->crc = crc32(w->crc, (const Bytef *)w->buf, (uInt)w->len);
        w->err = fs_write_all(w->fd, w->buf, w->len);
        /* a full disk: give the space back at once, before the archive
         * and the queue need it */
        if (w->err) {
            int best_effort = ftruncate(w->fd, 0);
            (void)best_effort;
        }
    }
    w->len = 0;
}

static void w_put(struct reqcache_writer *w, const void *p, size_t n)
{
    if (w->len + n > BUF_BYTES) w_flush(w);
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* w_field - a length-prefixed text (lenbytes 1 or 2, little-endian), as
 * the reader's field() reads it */
static void w_field(struct reqcache_writer *w, const char *s, size_t n, int lenbytes)
{
    uint8_t len[2];
    put_le(len, n, lenbytes);
    w_put(w, len, (size_t)lenbytes);
    w_put(w, s, n);
    w->octets += (uint64_t)lenbytes + n;
}

void reqcache_add(struct reqcache_writer *w, const struct chunk *c)
{
    if (!w || w->err) return;
    for (uint32_t i = 0; i < c->n; i++) {
        const struct request *r = &c->req[i];
        if (r->csr_len > REQCACHE_TEXT_MAX) {   /* the parser keeps no more */
            w->err = -EOVERFLOW;
            return;
        }
        /* the largest record (about 33 KiB) always fits an emptied buffer */
        w_field(w, r->request_id, strnlen(r->request_id, REQ_ID_MAX), 1);
        w_field(w, r->device_text, strnlen(r->device_text, REQ_DEVICE_MAX), 1);
        w_field(w, r->usage_text, strnlen(r->usage_text, REQ_USAGE_MAX), 1);
        w_field(w, chunk_csr(c, r), r->csr_len, 2);
        w->count++;
    }
}

static uint64_t get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static void w_free(struct reqcache_writer *w)
{
    if (w->fd >= 0) close(w->fd);
    free(w->buf);
    free(w);
}

int reqcache_commit(struct reqcache_writer *w, const char *archive_name, const char *final_path)
{
    size_t nl = strlen(archive_name);
    if (nl > NAME_MAX_LEN && !w->err) w->err = -ENAMETOOLONG;
    if (!w->err) {
        uint8_t t[TRAILER_FIXED + NAME_MAX_LEN];
        size_t k = 0;
        memcpy(t, MAGIC, 8);
        k += 8;
        put_le(t + k, w->count, 4);
        k += 4;
        put_le(t + k, w->octets, 8);
        k += 8;
        memcpy(t + k, archive_name, nl);
        k += nl;
        t[k++] = (uint8_t)nl;
        w_put(w, t, k);
        w_flush(w);
        uint8_t c[4];
        put_le(c, w->crc, 4);
        if (!w->err) w->err = fs_write_all(w->fd, c, 4);
    }
    if (!w->err && close(w->fd) != 0) w->err = -errno;
    w->fd = -1;
    if (!w->err && rename(w->path, final_path) != 0) w->err = -errno;
    int rc = w->err;
    if (rc) unlink(w->path);
    w_free(w);
    return rc;
}

void reqcache_abandon(struct reqcache_writer *w)
{
    if (!w) return;
    unlink(w->path);
    w_free(w);
}

/* ---- reader ---- */

struct reqcache_reader {
    int fd;
    uint32_t count, given;
    uint64_t octets, taken;   /* record octets in all, and read from the file */
    char *buf;
    size_t pos, len;
    char err[256];
};

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int read_full(int fd, void *p, size_t n, off_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(fd, (char *)p + got, n - got, off + (off_t)got);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) return -errno;
        if (k == 0) return -EIO;
        got += (size_t)k;
    }
    return 0;
}

/* check_whole - trailer against the batch, then the CRC of the file */
static int check_whole(struct reqcache_reader *r, const char *archive_name, uint32_t csrs, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(r->fd, &st) != 0) return fail(err, errlen, "fstat: %s", strerror(errno));
    uint64_t size = (uint64_t)st.st_size;
    uint8_t t[TRAILER_FIXED + NAME_MAX_LEN];
    if (size < TRAILER_FIXED) return fail(err, errlen, "%llu octets: no trailer", (unsigned long long)size);
    size_t tail = size < sizeof t ? (size_t)size : sizeof t;
    int rc = read_full(r->fd, t + sizeof t - tail, tail, (off_t)(size - tail));
    if (rc) return fail(err, errlen, "read: %s", strerror(-rc));
    const uint8_t *end = t + sizeof t;
    size_t nl = end[-5];
    size_t tlen = TRAILER_FIXED + nl;
    if (tlen > tail) return fail(err, errlen, "trailer longer than the file");
    const uint8_t *tr = end - tlen;
    if (memcmp(tr, MAGIC, 8) != 0) return fail(err, errlen, "no SMKIRQC1 trailer");
    r->count = (uint32_t)get_le(tr + 8, 4);
    r->octets = get_le(tr + 12, 8);
    if (nl != strlen(archive_name) || memcmp(tr + 20, archive_name, nl) != 0)
        return fail(err, errlen, "written for archive '%.*s', not %s", (int)nl, (const char *)tr + 20, archive_name);
    if (r->count != csrs) return fail(err, errlen, "holds %u requests, the batch %u", r->count, csrs);
    if (r->octets != size - tlen)
        return fail(err, errlen, "%llu octets of records in a file of %llu", (unsigned long long)r->octets,
                    (unsigned long long)size);
    uLong crc = crc32(0L, Z_NULL, 0);
    for (uint64_t off = 0; off < size - 4;) {
        size_t n = size - 4 - off < BUF_BYTES ? (size_t)(size - 4 - off) : BUF_BYTES;
        if ((rc = read_full(r->fd, r->buf, n, (off_t)off)) != 0) return fail(err, errlen, "read: %s", strerror(-rc));
        crc = crc32(crc, (const Bytef *)r->buf, (uInt)n);
        off += n;
    }
    if ((uint32_t)crc != (uint32_t)get_le(end - 4, 4)) return fail(err, errlen, "CRC-32 mismatch: damaged");
    return 0;
}

struct reqcache_reader *reqcache_open(const char *path, const char *archive_name, uint32_t csrs,
                                      char *err, size_t errlen)
{
    err[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno != ENOENT) fail(err, errlen, "open: %s", strerror(errno));
        return NULL;
    }
    struct reqcache_reader *r = xcalloc(1, sizeof *r);
    r->fd = fd;
    r->buf = xmalloc(BUF_BYTES);
    if (check_whole(r, archive_name, csrs, err, errlen) != 0) {
        reqcache_close(r);
        return NULL;
    }
    return r;
}

/* need - at least n record octets buffered at pos; -1 at a short file */
static int need(struct reqcache_reader *r, size_t n)
{
    if (r->len - r->pos >= n) return 0;
    memmove(r->buf, r->buf + r->pos, r->len - r->pos);
    r->len -= r->pos;
    r->pos = 0;
    size_t want = BUF_BYTES - r->len;
    if (want > r->octets - r->taken) want = (size_t)(r->octets - r->taken);
    if (want) {
        int rc = read_full(r->fd, r->buf + r->len, want, (off_t)r->taken);
        if (rc) {
            fail(r->err, sizeof r->err, "read: %s", strerror(-rc));
            return -1;
        }
        r->len += want;
        r->taken += want;
    }
    if (r->len < n) {
        fail(r->err, sizeof r->err, "record %u runs past the records' end", r->given);
        return -1;
    }
    return 0;
}

/* field - a length-prefixed text (lenbytes 1 or 2) of at most max octets */
static const char *field(struct reqcache_reader *r, int lenbytes, size_t max, size_t *len)
{
    if (need(r, (size_t)lenbytes) != 0) return NULL;
    size_t n = (size_t)get_le((const uint8_t *)r->buf + r->pos, lenbytes);
    r->pos += (size_t)lenbytes;
    if (n > max) {
        fail(r->err, sizeof r->err, "record %u: a field of %zu octets (at most %zu)", r->given, n, max);
        return NULL;
    }
    if (need(r, n) != 0) return NULL;
    const char *s = r->buf + r->pos;
    r->pos += n;
    *len = n;
    return s;
}

int reqcache_next_chunk(struct reqcache_reader *r, struct chunk *c)
{
    chunk_reset(c);
    c->first_index = r->given;
    while (c->n < c->cap && r->given < r->count) {
        struct request *q = &c->req[c->n];
        memset(q, 0, offsetof(struct request, errtext));
        q->errtext[0] = '\0';
        size_t n;
        const char *s;
        if (!(s = field(r, 1, REQ_ID_MAX, &n))) return -1;
        memcpy(q->request_id, s, n);
        if (!(s = field(r, 1, REQ_DEVICE_MAX, &n))) return -1;
        memcpy(q->device_text, s, n);
        if (!(s = field(r, 1, REQ_USAGE_MAX, &n))) return -1;
        memcpy(q->usage_text, s, n);
        if (!(s = field(r, 2, REQCACHE_TEXT_MAX, &n))) return -1;
        q->csr_off = chunk_add_text(c, s, n);
        q->csr_len = (uint32_t)n;
        c->n++;
        r->given++;
    }
    if (r->given == r->count && (r->taken < r->octets || r->pos < r->len)) {
        fail(r->err, sizeof r->err, "octets left after the last of %u records", r->count);
        return -1;
    }
    return (int)c->n;
}

const char *reqcache_error(const struct reqcache_reader *r)
{
    return r->err;
}

void reqcache_close(struct reqcache_reader *r)
{
    if (!r) return;
    close(r->fd);
    free(r->buf);
    free(r);
}

int reqcache_remove_all(const char *archive_dir)
{
    DIR *d = opendir(archive_dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' && len > 5 && strcmp(e->d_name + len - 4, SUFFIX) == 0 &&
            unlinkat(dirfd(d), e->d_name, 0) == 0)
            n++;
    }
    closedir(d);
    return n;
}
