/* uring_io.c - io_uring sequential reader and writer; see uring_io.h.
 *
 * Reader: `depth` buffers; buffer i holds block (first + i) of the file.  All
 * are submitted at open; when the consumer drains one, it is resubmitted for
 * the next unread block, so the disk works while the parser parses.  The
 * buffer index travels in user_data.
 * Writer: `depth` buffers; a full buffer is submitted at the current offset
 * and the next free one is filled; when all are in flight, we wait for one.
 * Short writes are resubmitted for the remainder.
 */
#include "uring_io.h"

#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>

#include "xmem.h"

/* under valgrind, tell memcheck what the kernel wrote into a buffer: it
 * cannot see io_uring completions (no-ops otherwise) */
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define MARK_DEFINED(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))
#else
#define MARK_DEFINED(p, n) ((void)(p), (void)(n))
#endif

struct rbuf {
    char *data;
    size_t len, pos;   /* bytes valid, bytes consumed */
    uint64_t offset;
    int state;         /* 0 idle, 1 in flight, 2 ready */
};

struct uring_reader {
    struct io_uring ring;
    int fd;
    size_t block;
    unsigned depth, cur;
    uint64_t next_offset, total;
    int eof_seen;
    int err;
    struct rbuf *bufs;
};

/* r_submit - queue a read of the next block into buffer i */
static void r_submit(struct uring_reader *r, unsigned i)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
    struct rbuf *b = &r->bufs[i];
    b->offset = r->next_offset;
    b->len = b->pos = 0;
    b->state = 1;
    r->next_offset += r->block;
    io_uring_prep_read(sqe, r->fd, b->data, (unsigned)r->block, b->offset);
    io_uring_sqe_set_data64(sqe, i);
}

struct uring_reader *ur_open(int fd, size_t block_size, unsigned depth, int *err)
{
    struct uring_reader *r = xcalloc(1, sizeof *r);
    int rc = io_uring_queue_init(depth * 2, &r->ring, 0);
    if (rc < 0) {
        *err = rc;
        free(r);
        return NULL;
    }
    r->fd = fd;
    r->block = block_size;
    r->depth = depth;
    r->bufs = xcalloc(depth, sizeof *r->bufs);
    for (unsigned i = 0; i < depth; i++) {
        r->bufs[i].data = xmalloc(block_size);
        r_submit(r, i);
    }
    io_uring_submit(&r->ring);
    return r;
}

/* r_wait - wait until buffer cur is ready (completions may come out of order) */
static int r_wait(struct uring_reader *r)
{
    struct rbuf *want = &r->bufs[r->cur];
    while (want->state == 1) {
        struct io_uring_cqe *cqe;
        int rc = io_uring_wait_cqe(&r->ring, &cqe);
        if (rc == -EINTR) continue;
        if (rc < 0) return r->err = rc;
        unsigned i = (unsigned)io_uring_cqe_get_data64(cqe);
        int res = cqe->res;
        io_uring_cqe_seen(&r->ring, cqe);
        struct rbuf *b = &r->bufs[i];
        if (res < 0) {
            if (res == -EINTR || res == -EAGAIN) {   /* retry the same block */
                struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
                io_uring_prep_read(sqe, r->fd, b->data + b->len, (unsigned)(r->block - b->len), b->offset + b->len);
                io_uring_sqe_set_data64(sqe, i);
                io_uring_submit(&r->ring);
                continue;
            }
            b->state = 2;   /* its completion is consumed: nothing left in flight */
            return r->err = res;
        }
        MARK_DEFINED(b->data + b->len, (size_t)res);
        b->len += (size_t)res;
        if (res > 0 && b->len < r->block) {   /* short read: ask for the rest */
            struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
            io_uring_prep_read(sqe, r->fd, b->data + b->len, (unsigned)(r->block - b->len), b->offset + b->len);
            io_uring_sqe_set_data64(sqe, i);
            io_uring_submit(&r->ring);
            continue;
        }
        b->state = 2;
    }
    return 0;
}

int ur_read(void *reader, char *buf, int len)
{
    struct uring_reader *r = reader;
    if (r->err) return -1;
    while (len > 0) {
        if (r->eof_seen) return 0;
        if (r_wait(r) < 0) return -1;
        struct rbuf *b = &r->bufs[r->cur];
        if (b->pos < b->len) {
            size_t n = b->len - b->pos;
            if (n > (size_t)len) n = (size_t)len;
            memcpy(buf, b->data + b->pos, n);
            b->pos += n;
            r->total += n;
            return (int)n;
        }
        if (b->len < r->block) {   /* a short final block: end of file */
            r->eof_seen = 1;
            return 0;
        }
        r_submit(r, r->cur);       /* drained: reuse for the next block */
        io_uring_submit(&r->ring);
        r->cur = (r->cur + 1) % r->depth;
    }
    return 0;
}

int ur_error(const struct uring_reader *r) { return r->err; }
uint64_t ur_bytes(const struct uring_reader *r) { return r->total; }

void ur_close(struct uring_reader *r)
{
    if (!r) return;
    /* drain in-flight reads before freeing their buffers */
    for (unsigned i = 0; i < r->depth; i++) {
        while (r->bufs[i].state == 1) {
            struct io_uring_cqe *cqe;
            if (io_uring_wait_cqe(&r->ring, &cqe) < 0) break;
            unsigned j = (unsigned)io_uring_cqe_get_data64(cqe);
            r->bufs[j].state = 2;
            io_uring_cqe_seen(&r->ring, cqe);
        }
    }
    io_uring_queue_exit(&r->ring);
    for (unsigned i = 0; i < r->depth; i++) free(r->bufs[i].data);
    free(r->bufs);
    free(r);
}

/* ---- writer ---- */

struct wbuf {
    char *data;
    size_t len, done;
    uint64_t offset;
    int in_flight;
};

struct uring_writer {
    struct io_uring ring;
    int fd;
    size_t block;
    unsigned depth, cur, inflight;
    uint64_t offset;
    int err;
    struct wbuf *bufs;
};

struct uring_writer *uw_open(int fd, uint64_t offset, size_t block_size, unsigned depth, int *err)
{
    struct uring_writer *w = xcalloc(1, sizeof *w);
    int rc = io_uring_queue_init(depth * 2, &w->ring, 0);
    if (rc < 0) {
        *err = rc;
        free(w);
        return NULL;
    }
    w->fd = fd;
    w->offset = offset;
    w->block = block_size;
    w->depth = depth;
    w->bufs = xcalloc(depth, sizeof *w->bufs);
    for (unsigned i = 0; i < depth; i++) w->bufs[i].data = xmalloc(block_size);
    return w;
}

/* w_queue - submit the unwritten rest of buffer i */
static void w_queue(struct uring_writer *w, unsigned i)
{
    struct wbuf *b = &w->bufs[i];
    struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);
    io_uring_prep_write(sqe, w->fd, b->data + b->done, (unsigned)(b->len - b->done), b->offset + b->done);
    io_uring_sqe_set_data64(sqe, i);
    io_uring_submit(&w->ring);
}

/* w_reap - wait for one completion; handle short writes */
static int w_reap(struct uring_writer *w)
{
    struct io_uring_cqe *cqe;
    int rc;
    while ((rc = io_uring_wait_cqe(&w->ring, &cqe)) == -EINTR)
        ;
    if (rc < 0) return w->err = rc;
    unsigned i = (unsigned)io_uring_cqe_get_data64(cqe);
    int res = cqe->res;
    io_uring_cqe_seen(&w->ring, cqe);
    struct wbuf *b = &w->bufs[i];
    if (res == -EINTR || res == -EAGAIN) {
        w_queue(w, i);
        return 0;
    }
    if (res < 0) {
        b->in_flight = 0;
        w->inflight--;
        return w->err = res;
    }
    if (res == 0) {
        b->in_flight = 0;
        w->inflight--;
        return w->err = -EIO;
    }
    b->done += (size_t)res;
    if (b->done < b->len) {
        w_queue(w, i);
        return 0;
    }
    b->in_flight = 0;
    w->inflight--;
    return 0;
}

/* w_flush_cur - submit the current buffer and move to a free one */
static int w_flush_cur(struct uring_writer *w)
{
    struct wbuf *b = &w->bufs[w->cur];
    if (b->len == 0) return 0;
    b->offset = w->offset;
    b->done = 0;
    b->in_flight = 1;
    w->offset += b->len;
    w->inflight++;
    w_queue(w, w->cur);
    w->cur = (w->cur + 1) % w->depth;
    struct wbuf *next = &w->bufs[w->cur];
    while (next->in_flight && !w->err)
        w_reap(w);
    next->len = 0;
    return w->err;
}

int uw_write(struct uring_writer *w, const void *data, size_t len)
{
    const char *p = data;
    if (w->err) return w->err;
    while (len > 0) {
        struct wbuf *b = &w->bufs[w->cur];
        size_t n = w->block - b->len;
        if (n > len) n = len;
        memcpy(b->data + b->len, p, n);
        b->len += n;
        p += n;
        len -= n;
        if (b->len == w->block && w_flush_cur(w) != 0) return w->err;
    }
    return 0;
}

int uw_sync(struct uring_writer *w)
{
    return uw_finish(w);
}

int uw_finish(struct uring_writer *w)
{
    if (!w->err) w_flush_cur(w);
    while (w->inflight > 0 && w_reap(w) == 0)
        ;
    if (w->err) return w->err;
    struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);
    io_uring_prep_fsync(sqe, w->fd, 0);
    io_uring_sqe_set_data64(sqe, UINT64_MAX);
    io_uring_submit(&w->ring);
    struct io_uring_cqe *cqe;
    int rc;
    while ((rc = io_uring_wait_cqe(&w->ring, &cqe)) == -EINTR)
        ;
    if (rc < 0) return w->err = rc;
    if (cqe->res < 0) w->err = cqe->res;
    io_uring_cqe_seen(&w->ring, cqe);
    return w->err;
}

uint64_t uw_bytes(const struct uring_writer *w) { return w->offset + w->bufs[w->cur].len; }

void uw_close(struct uring_writer *w)
{
    if (!w) return;
    while (w->inflight > 0 && w_reap(w) == 0)
        ;
    io_uring_queue_exit(&w->ring);
    for (unsigned i = 0; i < w->depth; i++) free(w->bufs[i].data);
    free(w->bufs);
    free(w);
}
