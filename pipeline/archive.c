/* archive.c - io_uring + zstd reader of archived requests; see archive.h. */
#include "archive.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "uring_io.h"
#include "xmem.h"

struct archive_reader {
    int fd;
    struct uring_reader *ur;
    ZSTD_DCtx *dz;
    char *in;
    ZSTD_inBuffer zin;
    size_t in_cap;
    int eof;
    size_t last_ret;     /* 0 when the last frame ended cleanly */
    char err[256];
};

struct archive_reader *archive_open(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open the archived request: %s", path, strerror(errno));
        return NULL;
    }
    int uerr = 0;
    struct uring_reader *ur = ur_open(fd, 256 * 1024, 4, &uerr);
    if (!ur) {
        snprintf(err, errlen, "%s: io_uring: %s", path, strerror(-uerr));
        close(fd);
        return NULL;
    }
    struct archive_reader *a = xcalloc(1, sizeof *a);
    a->fd = fd;
    a->ur = ur;
    a->dz = ZSTD_createDCtx();
    a->in_cap = ZSTD_DStreamInSize();
    a->in = xmalloc(a->in_cap);
    a->zin.src = a->in;
    a->last_ret = 1;
    return a;
}

int archive_read(void *reader, char *buf, int len)
{
    struct archive_reader *a = reader;
    if (a->err[0]) return -1;
    ZSTD_outBuffer out = {buf, (size_t)len, 0};
    while (out.pos == 0) {
        if (a->zin.pos == a->zin.size && !a->eof) {
            int n = ur_read(a->ur, a->in, (int)a->in_cap);
            if (n < 0) {
                snprintf(a->err, sizeof a->err, "read error: %s", strerror(-ur_error(a->ur)));
                return -1;
            }
            if (n == 0) a->eof = 1;
            a->zin.size = (size_t)n;
            a->zin.pos = 0;
        }
        size_t in_before = a->zin.pos, out_before = out.pos;
        size_t ret = ZSTD_decompressStream(a->dz, &out, &a->zin);
        if (ZSTD_isError(ret)) {
            snprintf(a->err, sizeof a->err, "the archived request is corrupt: %s", ZSTD_getErrorName(ret));
            return -1;
        }
        if (a->zin.pos != in_before || out.pos != out_before)
            a->last_ret = ret;   /* 0: a frame ended and is fully flushed */
        if (out.pos == 0 && a->eof && a->zin.pos == a->zin.size) {
            if (a->last_ret != 0) {
                snprintf(a->err, sizeof a->err, "the archived request is truncated (zstd frame incomplete)");
                return -1;
            }
            return 0;
        }
    }
    return (int)out.pos;
}

const char *archive_error(const struct archive_reader *a) { return a->err; }

void archive_close(struct archive_reader *a)
{
    if (!a) return;
    ur_close(a->ur);
    close(a->fd);
    ZSTD_freeDCtx(a->dz);
    free(a->in);
    free(a);
}

int archive_verify(const char *path, char *err, size_t errlen)
{
    struct archive_reader *a = archive_open(path, err, errlen);
    if (!a) return errno == ENOENT ? 1 : -1;
    char *buf = xmalloc(1 << 20);
    int n, rc = 0;
    while ((n = archive_read(a, buf, 1 << 20)) > 0)
        ;
    if (n < 0) {
        int io = strncmp(a->err, "read error", 10) == 0;
        snprintf(err, errlen, "%s: %s", path, a->err);
        rc = io ? -1 : 1;
    }
    free(buf);
    archive_close(a);
    return rc;
}
