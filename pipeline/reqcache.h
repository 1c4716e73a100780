/* reqcache.h - the requests of an accepted file as intake's parser read
 * them, kept beside its archive while one `run --drain` lasts, so that
 * processing reads them back instead of decompressing and parsing the XML
 * a second time (the parse stage: about 2 us a CSR).
 *
 * A cache, never the record: the archive stays the batch's source.  A cache
 * that is missing, belongs to another archive, holds another count or fails
 * its checksum is not used (the archive is read, as without a cache) and is
 * removed.  Nothing is fsynced: a crash loses nothing that the archive does
 * not hold, and a run removes every cache it finds when it starts
 * (reqcache_remove_all), so a cache only ever serves the run that wrote it.
 *
 * File: spool/archive/.ARCHIVE.req (a dot file: not an archive), written as
 * .STEM.req.tmp while the file is parsed and renamed when it is accepted.
 * Records, then a trailer:
 *   record   u8 id_len, RequestID, u8 device_len, DeviceID, u8 usage_len,
 *            CertificateUsage, u16 csr_len, CSRBody text (little-endian)
 *   trailer  "SMKIRQC1", u32 count, u64 record octets, u8 name_len, the
 *            archive's name, u32 CRC-32 of the records and the trailer
 *            before it
 * The reader checks the trailer and the CRC of the whole file before it
 * gives the first request, so a damaged cache is found before anything of
 * its batch is issued.
 *
 * Ownership: a writer or reader and its buffer belong to one thread; chunks
 * are the caller's (the reader fills the one it is given).
 */
#ifndef SMKI_REQCACHE_H
#define SMKI_REQCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "request.h"

/* the longest CSRBody text, in octets, a cache holds: 8,192 characters (the
 * XSD's bound) of at most 4 octets each, more than the parser ever gives (it
 * keeps at most REQ_CSR_B64_MAX + 64 octets of a text, in both modes).  The
 * parser writing a cache keeps texts up to this (parse_keep_text_max), so a
 * cached request is the one the archive's parser would give */
#define REQCACHE_TEXT_MAX (4 * REQ_CSR_B64_MAX)

/* reqcache_path - spool/archive/.ARCHIVE.req */
void reqcache_path(const char *archive_dir, const char *archive_name, char *out, size_t cap);

struct reqcache_writer;

/* reqcache_create - a writer into path (created, truncated); NULL when the
 * file cannot be created (intake goes on without a cache) */
struct reqcache_writer *reqcache_create(const char *path);

/* reqcache_add - the requests of c, in order; a failure (full disk) makes
 * the writer fail at reqcache_commit */
void reqcache_add(struct reqcache_writer *w, const struct chunk *c);

/* reqcache_commit - trailer, close, rename to final_path; frees w.  0, or
 * -errno (the file is removed) */
int reqcache_commit(struct reqcache_writer *w, const char *archive_name, const char *final_path);

/* reqcache_abandon - close, remove, free (w may be NULL) */
void reqcache_abandon(struct reqcache_writer *w);

struct reqcache_reader;

/* reqcache_open - the cache at path, checked whole against archive_name and
 * csrs.  NULL when there is none (err empty) or it is unusable (err says
 * why: the caller removes it and reads the archive) */
struct reqcache_reader *reqcache_open(const char *path, const char *archive_name, uint32_t csrs,
                                      char *err, size_t errlen);

/* reqcache_next_chunk - as parse_next_chunk: fill c (up to c->cap) with the
 * next requests and set c->first_index; the number added, 0 at the end, -1
 * on a read error or a record that does not decode (reqcache_error) */
int reqcache_next_chunk(struct reqcache_reader *r, struct chunk *c);
const char *reqcache_error(const struct reqcache_reader *r);
void reqcache_close(struct reqcache_reader *r);

/* reqcache_remove_all - remove every cache in archive_dir (a half-written
 * one is a .tmp file: fs_remove_stale_tmp); the number removed */
int reqcache_remove_all(const char *archive_dir);

#endif
