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

#endif
