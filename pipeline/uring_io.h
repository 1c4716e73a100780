/* uring_io.h - file I/O through io_uring, behind this header only: no other
 * module sees a ring, an SQE or a CQE.
 *
 *   uring_reader  sequential read of a whole file with read-ahead: `depth`
 *                 blocks in flight while the consumer works on the previous
 *                 one.  ur_read has the signature of a parse_read_fn, so a
 *                 parser (or a decompressor) pulls bytes from it.
 *   uring_writer  sequential append: the caller hands filled buffers; the
 *                 writer keeps up to `depth` writes in flight, gives buffers
 *                 back as they complete, and ends with an fsync.
 * Errors: -errno, remembered; after an error every call fails the same way.
 * One reader or writer per thread.  The caller owns the file descriptor.
 */
#ifndef SMKI_URING_IO_H
#define SMKI_URING_IO_H

#include <stddef.h>
#include <stdint.h>

struct uring_reader;

/* ur_open - reader over fd from offset 0; NULL with *err = -errno */
struct uring_reader *ur_open(int fd, size_t block_size, unsigned depth, int *err);
/* ur_read - up to len bytes; bytes, 0 at end, -1 on error (see ur_error) */
int ur_read(void *reader, char *buf, int len);
int ur_error(const struct uring_reader *r);
uint64_t ur_bytes(const struct uring_reader *r);
void ur_close(struct uring_reader *r);

struct uring_writer;

/* uw_open - writer appending at `offset` of fd; block_size per buffer */
struct uring_writer *uw_open(int fd, uint64_t offset, size_t block_size, unsigned depth, int *err);
/* uw_write - copy data in (buffering), submitting full blocks; 0 or -errno */
int uw_write(struct uring_writer *w, const void *data, size_t len);
/* uw_finish - flush, wait, fsync; 0 or -errno.  Then uw_close. */
int uw_finish(struct uring_writer *w);
/* uw_sync - the same, but the writer stays open for more appends */
int uw_sync(struct uring_writer *w);
uint64_t uw_bytes(const struct uring_writer *w);
void uw_close(struct uring_writer *w);

#endif
