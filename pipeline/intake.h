/* intake.h - take one file from spool/incoming/: check it, stream-parse and
 * validate it, queue it, archive it, answer it with a receipt.
 *
 * For one name, in this order (each step durable before the next):
 *   1. lstat: not a regular file, or hard-linked -> E_FILE; over the size
 *      limit -> E_TOO_LARGE.  Opened O_NOFOLLOW|O_NONBLOCK and re-checked
 *      with fstat (same inode), so a swapped-in link or FIFO is never read
 *      through and never blocks.
 *   2. one pass through io_uring: bytes go to the parser (XSD-validated,
 *      counted) and to a zstd compressor writing archive/.STEM.tmp.
 *   3. verdict by SPEC section 5 precedence; on rejection: receipt, then the
 *      file moves (as itself) to rejected/, the archive temp is removed.
 *   4. on acceptance: archive temp fsynced and renamed (archive/STEM.xml.zst,
 *      or STEM.N.xml.zst if that name is taken); turn counter + batch record
 *      + party/BatchID index in one synced WriteBatch (the acceptance point);
 *      receipt published; the incoming file unlinked, directory fsynced.
 * A crash after 4's commit leaves the file in incoming/; when it is seen
 * again its fingerprint (dev, inode, size, mtime) matches the batch record
 * and intake only finishes the job (receipt, unlink): never a second turn,
 * never a false E_DUPLICATE_BATCH.
 * Called by the run loop only.  With intake_set_prove on, a prover thread
 * (prover.h) works beside it on the file being taken, at idle priority; an
 * accepted file's prover is handed to the caller still running.
 */
#ifndef SMKI_INTAKE_H
#define SMKI_INTAKE_H

#include <stdint.h>

#include "home.h"
#include "parse.h"
#include "prover.h"
#include "store.h"

struct intake;

/* intake_new - compile the request XSD; NULL with err */
struct intake *intake_new(struct home *h, struct store *st, char *err, size_t errlen);
void intake_free(struct intake *in);

enum intake_result {
    INTAKE_ACCEPTED,
    INTAKE_REJECTED,
    INTAKE_IGNORED,     /* not ours to take (bad name, vanished): logged */
    INTAKE_RETRY,       /* an operational failure (disk full, store): left in place */
};

struct intake_outcome {
    enum intake_result result;
    enum batch_code code;
    uint64_t turn;
    uint64_t csrs;
    double millis;        /* accepted: from taking the file to its receipt */
    char text[512];
    struct prover *prover;  /* accepted with the prover on: still running, now
                               the caller's (prover_finish it), or NULL */
};

/* intake_set_prove - on: while a file is read, a second thread checks the
 * proofs of possession of some of its CSRs (prover.h), for a batch that
 * will be processed at once (run --drain); an accepted file's prover is
 * handed over still running, to go on through the start of processing */
void intake_set_prove(struct intake *in, int on);

/* intake_set_cache - on: the requests of each accepted file are cached for
 * processing (reqcache.h), for batches processed within this run (run
 * --drain) */
void intake_set_cache(struct intake *in, int on);

/* intake_name_ok - SPEC section 2 file-name rule: [A-Za-z0-9._-]{1,128}.xml */
int intake_name_ok(const char *name);

/* intake_file - take incoming/name; fills out */
void intake_file(struct intake *in, const char *name, struct intake_outcome *out);

#endif
