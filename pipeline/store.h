/* store.h - the RocksDB store under HOME/db: parties, the turn counter, the
 * queue of batches, the party+BatchID index (and, from processing on, the
 * issued certificates and their indexes).
 *
 * Key schema (all in one place, store.c):
 *   m/turn                  last turn number given (decimal)
 *   m/audit                 "<seq>:<hash>" of the last issuance audit entry
 *   m/count/<CODE>          CSRs answered with that code, all time
 *   f/<PARTY16>/<YYYY-MM>   a party's forecast of batched CSRs for a month
 *   p/<PARTY16>             party record
 *   b/<TURN%020>            batch record (turn order = key order)
 *   i/<PARTY16>/<BatchID>   turn of that batch (E_DUPLICATE_BATCH)
 *   c/<SERIAL 16>           issued certificate: struct cert_meta + its
 *                           record packed against a template (certpack.h,
 *                           first octet 0x01), or + the DER whole (0x30)
 *   t/<ID16>                a certificate template (certpack.h), by its id
 *   d/<DEV 8><USAGE 1><SERIAL 16>   by device and usage (empty value)
 *   k/<SHA-256 of the point 32>     serial (16 octets) certifying that key
 *                                   (E_DUPLICATE_KEY)
 * The certificates' keys are octets (homes made before 2026-12-07 hold hex
 * text: store.c's KEYS).  Other records are "key=value" lines: readable with
 * ldb, extensible.
 *
 * Durability: every function that changes state does it in ONE WriteBatch
 * written with sync=true; when it returns 0 the change survives a power cut.
 * Only one process opens the store read-write (RocksDB's LOCK); status and
 * other readers open it read-only and see the state at their open.
 * Errors: -1 with a message in store_error(); never abort.
 */
#ifndef SMKI_STORE_H
#define SMKI_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "certpack.h"

struct store;
struct store_batch;   /* a WriteBatch under construction */

enum store_mode { STORE_READ_WRITE, STORE_READ_ONLY, STORE_CREATE };

/* store_open - open HOME/db; NULL with err naming the directory and cause */
struct store *store_open(const char *dir, enum store_mode mode, char *err, size_t errlen);
void store_close(struct store *s);
const char *store_error(const struct store *s);
/* store_recover - after a failed write, reopen the store in place (RocksDB
 * refuses writes after one fails); 0 when it is usable again */
int store_recover(struct store *s);
/* store_flush - write the memtable out to table files: before a batch (wait),
 * so that its point lookups of earlier records hit table files, and after it
 * (in the background): the memtable becomes read-only at once, and a
 * read-only vector memtable is sorted once, not on every later read */
int store_flush(struct store *s, int wait);

/* ---- parties ---- */
struct party {
    uint8_t id[8];
    char    name[129];
    long    uplift;          /* extra CSRs per 24 h (notified in advance) */
    time_t  added_at;
};
int store_party_put(struct store *s, const struct party *p);
/* store_party_get - 1 found, 0 absent, -1 error */
int store_party_get(struct store *s, const uint8_t id[8], struct party *p);
/* store_party_each - calls fn for each party in id order; stops if fn != 0 */
int store_party_each(struct store *s, int (*fn)(const struct party *, void *), void *arg);

/* ---- batches ---- */
enum batch_state {
    BATCH_QUEUED = 0,     /* accepted, receipt published, waiting for its turn */
    BATCH_PROCESSING,     /* certificates being issued */
    BATCH_DONE,           /* response published */
    BATCH_FAILED,         /* could not be processed (archived file unreadable) */
};
const char *batch_state_name(enum batch_state st);

struct batch {
    uint64_t turn;
    uint8_t  party[8];
    char     batch_id[65];
    char     file[140];          /* the name it arrived under, STEM.xml */
    char     archive[160];       /* name in spool/archive/ */
    uint32_t csrs;
    time_t   received_at;
    char     scheduled_night[11];/* YYYY-MM-DD */
    time_t   retrieve_not_before;
    enum batch_state state;
    uint32_t done;               /* CSRs answered durably */
    uint64_t body_len;           /* bytes of their Result elements, durable in
                                    responses/.PARTY_BATCH.body */
    uint32_t issued, rejected;
    time_t   started_at, completed_at;
    char     error[256];         /* BATCH_FAILED: why */
    uint64_t elapsed_ms;         /* processing time measured (monotonic), for the plan's rate */
    char     src[96];            /* dev:ino:size:mtime of the taken file, to
                                    recognise it if a crash left it in incoming/ */
};

/* store_batch_lookup - the turn of party+batch_id: 1 found (turn set), 0, -1 */
int store_batch_lookup(struct store *s, const uint8_t party[8], const char *batch_id, uint64_t *turn);

/* store_batch_find - the batch record of party+batch_id: 1 found, 0, -1 */
int store_batch_find(struct store *s, const uint8_t party[8], const char *batch_id, struct batch *b);

/* store_batch_accept - give b the next turn and write counter, record and
 * index in one synced WriteBatch.  b->turn is set on success. */
int store_batch_accept(struct store *s, struct batch *b);

/* store_batch_get - 1 found, 0 absent, -1 error */
int store_batch_get(struct store *s, uint64_t turn, struct batch *b);

/* store_batch_put - rewrite a batch record (state, progress), synced */
int store_batch_put(struct store *s, const struct batch *b);

/* store_batch_each - batches in turn order from first_turn; stops if fn != 0 */
int store_batch_each(struct store *s, uint64_t first_turn,
                     int (*fn)(const struct batch *, void *), void *arg);

/* store_wb_add_audit_head / store_audit_head - "<seq>:<hash>" of the last
 * audit entry written for issuance (audit verify checks the log holds it) */
void store_wb_add_audit_head(struct store_batch *wb, const char *head);
int store_audit_head(struct store *s, char *out, size_t cap);

/* per-request result counters (m/count/<CODE>): loaded once, then written
 * by the writer in its WriteBatches (it is their only writer) */
void store_wb_add_counter(struct store_batch *wb, const char *name, uint64_t value);
int store_counter_get(struct store *s, const char *name, uint64_t *value);

/* forecasts (f/<PARTY16>/<YYYY-MM>): batched CSRs a party forecast for a month */
int store_forecast_put(struct store *s, const uint8_t party[8], const char *month, uint64_t csrs);
/* store_forecast_get - 1 found, 0 none, -1 error */
int store_forecast_get(struct store *s, const uint8_t party[8], const char *month, uint64_t *csrs);

/* store_last_turn - the last turn given (0 when none) */
int store_last_turn(struct store *s, uint64_t *turn);

/* ---- issued certificates ---- */
struct cert_meta {
    uint64_t turn;
    int64_t  issued_at;
    uint8_t  device[8];
    uint8_t  usage;          /* enum usage */
    uint8_t  pad[7];
};
/* store_wb_add_cert - the three records of one issued certificate.  With t
 * (recorded by store_template_put), the certificate is kept as its fields
 * and signature (certpack.h) when it is exactly t's shape and the record
 * rebuilds its octets, which is checked here; whole otherwise, as records
 * from before templates are.  store_cert_get gives the DER either way. */
void store_wb_add_cert(struct store_batch *wb, const uint8_t serial[16], const struct cert_meta *m,
                       const uint8_t key_hash[32], const uint8_t *der, size_t der_len,
                       const struct cert_tmpl *t);
/* store_template_put - record a certificate template (t/<id>) if it is not
 * yet, synced; 0 or -1 */
int store_template_put(struct store *s, const struct cert_tmpl *t);
/* store_serial_known / store_key_known - 1 yes, 0 no, -1 error */
int store_serial_known(struct store *s, const uint8_t serial[16]);
int store_key_known(struct store *s, const uint8_t key_hash[32]);
/* store_key_known_outside - certified by a batch other than turn? */
int store_key_known_outside(struct store *s, const uint8_t key_hash[32], uint64_t turn);
/* the same for the n ids of a chunk in one batched lookup: known[i] = 1 or
 * 0; 0, or -1 on error */
int store_serials_known(struct store *s, const uint8_t (*serials)[16], size_t n, uint8_t *known);
int store_keys_known_outside(struct store *s, const uint8_t (*hashes)[32], size_t n, uint64_t turn, uint8_t *known);
/* store_cert_get - by serial: 1 found (*der malloc'd), 0, -1 */
int store_cert_get(struct store *s, const uint8_t serial[16], struct cert_meta *m, uint8_t **der, size_t *len);
/* store_device_each - serials issued to device (+usage, or -1 for both) */
int store_device_each(struct store *s, const uint8_t device[8], int usage,
                      int (*fn)(const uint8_t serial[16], void *), void *arg);

/* ---- raw access for the modules that own further key ranges ---- */
struct store_batch *store_wb_new(struct store *s);
void store_wb_put(struct store_batch *wb, const void *k, size_t klen, const void *v, size_t vlen);
void store_wb_free(struct store_batch *wb);
/* store_wb_commit - write with sync; 0 or -1 */
int store_wb_commit(struct store *s, struct store_batch *wb);
/* store_wb_add_batch - add a batch record rewrite to wb */
void store_wb_add_batch(struct store_batch *wb, const struct batch *b);
/* store_get - value malloc'd into *val (free()), 1 found, 0 absent, -1 error */
int store_get(struct store *s, const void *k, size_t klen, char **val, size_t *vlen);
/* store_each_prefix - iterate keys with prefix in order; stops if fn != 0 */
int store_each_prefix(struct store *s, const char *prefix,
                      int (*fn)(const char *k, size_t klen, const char *v, size_t vlen, void *), void *arg);

#endif
