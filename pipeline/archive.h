/* archive.h - reading an accepted request back from spool/archive/
 * (zstd-compressed at intake) for processing: io_uring reads feed a zstd
 * stream decompressor, whose output feeds the parser (archive_read is a
 * parse_read_fn).  A truncated or corrupt archive is an error (-1 from
 * archive_read, reason in archive_error), never a silently short batch.
 */
#ifndef SMKI_ARCHIVE_H
#define SMKI_ARCHIVE_H

#include <stddef.h>

struct archive_reader;

/* archive_open - NULL with err naming the file */
struct archive_reader *archive_open(const char *path, char *err, size_t errlen);
int archive_read(void *reader, char *buf, int len);
const char *archive_error(const struct archive_reader *a);
void archive_close(struct archive_reader *a);

/* archive_verify - read the whole archive through zstd (whose frame carries a
 * checksum of the content): 0 intact, 1 truncated or corrupt (err says how),
 * -1 when it cannot be read now (an I/O error: try again later).  Run before
 * a batch is processed, so that a damaged archive fails the batch before any
 * certificate of it is issued. */
int archive_verify(const char *path, char *err, size_t errlen);

#endif
