/* store.c - RocksDB behind typed functions; the key schema lives here and
 * nowhere else.  See store.h for the durability contract. */
#include "store.h"

#include <errno.h>
#include <inttypes.h>
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "certpack.h"
#include "eui64.h"
#include "hex.h"
#include "xmem.h"

/* Column families.  A batch of 50,000 CSRs writes about 150,000 random keys:
 * a certificate record (c/, by serial), a device index entry (d/) and a key
 * index entry (k/).  Their memtables are unsorted vectors, cheapest to fill;
 * the one sort happens when a memtable is flushed.  A point lookup that
 * the memtable bloom filter cannot rule out (its 32-bit hash collides about
 * once in 4e9/n lookups) sorts a copy of that memtable, so each kind of key
 * has its own family: a serial check sorts at most the serials, a key check
 * the key index, and both a third as often.  Parties, the queue and counters
 * are small, read in order, and live in "default" with the skip list. */
enum { CF_DEFAULT, CF_CERTS, CF_DEVICES, CF_KEYS, CF_COUNT };
static const char *const CF_NAMES[CF_COUNT] = {"default", "certs", "devices", "keys"};
/* memtable sizes: small enough that memory stops growing early in a batch,
 * big enough that a batch is two or three flushes; L0 compaction waits for 8
 * table files, so a night of eight batches compacts each family about twice.
 * A certificate record is kept as its template's fields (certpack.h), about
 * 190 octets, 260 in the memtable with its meta and key, so 4 MiB hold about
 * 16,000; the whole DER (16 MiB for about 32,000) cost 16 MiB of peak RSS more */
static const size_t CF_WRITE_BUFFER[CF_COUNT] = {4u << 20, 4u << 20, 4u << 20, 4u << 20};
/* the one cache of table blocks (data, index, filter) of every family */
#define STORE_CACHE_BYTES (8u << 20)

/* certificate templates kept in memory (a CA and profile each; certpack.h) */
#define TMPL_CACHE 8

struct store {
    rocksdb_t *db;
    rocksdb_options_t *opts;        /* the database and its "default" family */
    rocksdb_options_t *cf_opts[CF_COUNT];   /* per family; [0] is opts */
    rocksdb_column_family_handle_t *cf[CF_COUNT];
    int ncf;                        /* 1: a home from before the families */
    int hex_keys;          /* the home may hold index keys as hex text (see KEYS) */
    rocksdb_writeoptions_t *wsync;
    rocksdb_readoptions_t *ropts;
    rocksdb_block_based_table_options_t *table;
    rocksdb_filterpolicy_t *bloom;
    rocksdb_cache_t *cache;       /* every table block: the store's memory bound */
    int read_only;
    int broken;            /* a write failed: RocksDB refuses writes until reopened */
    struct cached_tmpl { struct cert_tmpl t; uint8_t *storage; } tmpl[TMPL_CACHE];
    int ntmpl;             /* certificate templates read so far (t/), newest last */
    char dir[4096];
    char err[512];
};

struct store_batch {
    rocksdb_writebatch_t *wb;
    struct store *s;
};

/* cf_of - the family a key lives in, by its "<letter>/" prefix */
static rocksdb_column_family_handle_t *cf_of(const struct store *s, const void *k, size_t klen)
{
    const char *c = k;
    if (s->ncf == 1 || klen < 2 || c[1] != '/') return s->cf[CF_DEFAULT];
    switch (c[0]) {
    case 'c': return s->cf[CF_CERTS];
    case 'd': return s->cf[CF_DEVICES];
    case 'k': return s->cf[CF_KEYS];
    default: return s->cf[CF_DEFAULT];
    }
}

/* set_err - keep RocksDB's message (and free it) */
static int set_err(struct store *s, const char *op, char *rerr)
{
    snprintf(s->err, sizeof s->err, "store: %s: %s", op, rerr ? rerr : "unknown error");
    free(rerr);
    return -1;
}

const char *store_error(const struct store *s) { return s->err; }

/* unavailable - the database is closed after a failed reopen */
static int unavailable(struct store *s)
{
    snprintf(s->err, sizeof s->err, "store: closed after a failed write; waiting to reopen it");
    return -1;
}

/* open_db - open s->db with its column families (a home made before the
 * "certs" family existed keeps everything in "default"); 0 or -1 with *rerr */
static int open_db(struct store *s, const char *dir, enum store_mode mode, char **rerr)
{
    const rocksdb_options_t *const *cfo = (const rocksdb_options_t *const *)s->cf_opts;
    s->ncf = CF_COUNT;
    if (mode != STORE_CREATE) {
        size_t n = 0;
        char **have = rocksdb_list_column_families(s->opts, dir, &n, rerr);
        if (*rerr) {
            if (have) rocksdb_list_column_families_destroy(have, n);   /* malloc(0) on failure */
            return -1;
        }
        int found = 0;
        for (size_t i = 0; i < n; i++) found |= strcmp(have[i], CF_NAMES[CF_CERTS]) == 0;
        rocksdb_list_column_families_destroy(have, n);
        if (!found) s->ncf = 1;
    }
    s->read_only = mode == STORE_READ_ONLY;
    if (s->read_only)
        s->db = rocksdb_open_for_read_only_column_families(s->opts, dir, s->ncf, CF_NAMES, cfo, s->cf, 0, rerr);
    else
        s->db = rocksdb_open_column_families(s->opts, dir, s->ncf, CF_NAMES, cfo, s->cf, rerr);
    return s->db ? 0 : -1;
}

/* close_db - the handles, then the database */
static void close_db(struct store *s)
{
    if (!s->db) return;
    for (int i = 0; i < s->ncf; i++) rocksdb_column_family_handle_destroy(s->cf[i]);
    rocksdb_close(s->db);
    s->db = NULL;
}

/* store_open - open (or create) the database */
struct store *store_open(const char *dir, enum store_mode mode, char *err, size_t errlen)
{
    if (mode != STORE_CREATE) {
        /* RocksDB would create the directory (LOCK, LOG) before it finds
         * there is no database: look first, and touch nothing */
        char current[4200];
        struct stat st;
        snprintf(current, sizeof current, "%s/CURRENT", dir);
        if (stat(current, &st) != 0 && errno == ENOENT) {
            snprintf(err, errlen, "%s: no store here (%s is missing): is --home right? run 'smki-batch init "
                     "--home DIR' to create a home, or restore db/ from a backup", dir, current);
            return NULL;
        }
    }
    struct store *s = xcalloc(1, sizeof *s);
    char *rerr = NULL;
    s->opts = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(s->opts, mode == STORE_CREATE);
    rocksdb_options_set_error_if_exists(s->opts, mode == STORE_CREATE);
    rocksdb_options_set_create_missing_column_families(s->opts, mode == STORE_CREATE);
    rocksdb_options_set_max_open_files(s->opts, 256);
    /* table files are opened by the thread that opens the store: the default
     * (16 threads a column family, started and joined on every open) cost
     * about 30 ms of every command's start, for a handful of files */
    rocksdb_options_set_max_file_opening_threads(s->opts, 1);
    /* RocksDB's own LOG file: fatal only. Its writer asserts (abort) on the
     * write after a failed one, so on a full disk an error line logged
     * there would kill the service; we log the errors ourselves */
    rocksdb_options_set_info_log_level(s->opts, 4 /* fatal */);
    rocksdb_options_set_keep_log_file_num(s->opts, 2);
    /* two flush threads: the families' memtables are flushed in parallel
     * at the end of a run, which waits for it */
    rocksdb_options_set_max_background_flushes(s->opts, 2);
    rocksdb_options_set_allow_concurrent_memtable_write(s->opts, 0);   /* one writer; vector memtables need it */
    rocksdb_options_set_compression(s->opts, rocksdb_lz4_compression);
    /* each open file writer (the WAL, a flush's or a compaction's table
     * file) buffers up to this much; RocksDB's 1 MiB default held 4 MB at the
     * peak of a 50,000-CSR drain (massif), three or four writers at once.
     * 256 KiB: peak RSS -2 MiB for a batch, -3 for a night; see README Memory */
    rocksdb_options_set_writable_file_max_buffer_size(s->opts, 256u << 10);
    s->table = rocksdb_block_based_options_create();
    s->bloom = rocksdb_filterpolicy_create_bloom_full(10);   /* table-file lookups that miss */
    rocksdb_block_based_options_set_filter_policy(s->table, s->bloom);
    /* memory bounded whatever the store's size: data, index and filter blocks
     * all live in one LRU cache of STORE_CACHE_BYTES; indexes and filters are
     * partitioned, so a lookup reads one small partition, and only their top
     * levels (and the newest files', L0) stay pinned.  Without this every
     * open table file kept its whole index and filter in memory, growing
     * with the store.  8 MiB: over five nights on one home the peak RSS was
     * 102, 105, 109, 107, 109 MiB (16 MiB: 114-123; no cache: 107 -> 124) */
    s->cache = rocksdb_cache_create_lru(STORE_CACHE_BYTES);
    rocksdb_block_based_options_set_block_cache(s->table, s->cache);
    rocksdb_block_based_options_set_cache_index_and_filter_blocks(s->table, 1);
    rocksdb_block_based_options_set_cache_index_and_filter_blocks_with_high_priority(s->table, 1);
    rocksdb_block_based_options_set_pin_l0_filter_and_index_blocks_in_cache(s->table, 1);
    rocksdb_block_based_options_set_index_type(s->table, 2 /* kTwoLevelIndexSearch */);
    rocksdb_block_based_options_set_partition_filters(s->table, 1);
    rocksdb_block_based_options_set_pin_top_level_index_and_filter(s->table, 1);
    rocksdb_block_based_options_set_metadata_block_size(s->table, 4096);
    rocksdb_options_set_block_based_table_factory(s->opts, s->table);
    rocksdb_options_set_write_buffer_size(s->opts, CF_WRITE_BUFFER[CF_DEFAULT]);
    s->cf_opts[CF_DEFAULT] = s->opts;
    for (int i = 1; i < CF_COUNT; i++) {
        rocksdb_options_t *o = s->cf_opts[i] = rocksdb_options_create_copy(s->opts);
        rocksdb_options_set_write_buffer_size(o, CF_WRITE_BUFFER[i]);
        rocksdb_options_set_level0_file_num_compaction_trigger(o, 8);
        rocksdb_options_set_memtable_vector_rep(o);
        /* about 100 bits per key: a false "maybe" sorts a copy of the memtable */
        rocksdb_options_set_memtable_prefix_bloom_size_ratio(o, i == CF_CERTS ? 0.02 : 0.1);
        rocksdb_options_set_memtable_whole_key_filtering(o, 1);
    }
    if (open_db(s, dir, mode, &rerr) != 0) {
        const char *hint = "";
        if (rerr && strstr(rerr, "lock"))
            hint = " (another smki-batch process, probably 'run', holds the store; stop it or retry)";
        else if (rerr && strstr(rerr, "No space"))
            hint = " (the disk is full: free space, then start again)";
        else if (mode != STORE_CREATE && rerr && (strstr(rerr, "does not exist") || strstr(rerr, "No such file")))
            hint = " (is --home right? run 'smki-batch init --home DIR' to create a home)";
        snprintf(err, errlen, "%s: cannot open the store: %s%s", dir, rerr ? rerr : "?", hint);
        free(rerr);
        for (int i = 0; i < CF_COUNT; i++) rocksdb_options_destroy(s->cf_opts[i]);
        rocksdb_block_based_options_destroy(s->table);
        rocksdb_cache_destroy(s->cache);
        free(s);
        return NULL;
    }
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    s->wsync = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(s->wsync, 1);
    s->ropts = rocksdb_readoptions_create();
    /* index keys (KEYS below): binary in a new home, and it says so */
    char *keys = NULL;
    int rc = 0;
    if (mode == STORE_CREATE) {
        struct store_batch *wb = store_wb_new(s);
        store_wb_put(wb, "m/keys", 6, "binary", 6);
        rc = store_wb_commit(s, wb);
        store_wb_free(wb);
    } else {
        rc = store_get(s, "m/keys", 6, &keys, NULL);
        s->hex_keys = rc != 1 || strcmp(keys, "binary") != 0;
        free(keys);
        rc = rc < 0 ? -1 : 0;
    }
    if (rc != 0) {
        snprintf(err, errlen, "%s: cannot open the store: %s", dir, s->err);
        store_close(s);
        return NULL;
    }
    return s;
}

/* store_close - flush nothing extra: every write was synced */
void store_close(struct store *s)
{
    if (!s) return;
    close_db(s);
    rocksdb_writeoptions_destroy(s->wsync);
    rocksdb_readoptions_destroy(s->ropts);
    for (int i = 0; i < CF_COUNT; i++) rocksdb_options_destroy(s->cf_opts[i]);
    rocksdb_block_based_options_destroy(s->table);
    rocksdb_cache_destroy(s->cache);
    for (int i = 0; i < s->ntmpl; i++) free(s->tmpl[i].storage);
    free(s);
}

/* ---- raw access ---- */

struct store_batch *store_wb_new(struct store *s)
{
    struct store_batch *wb = xmalloc(sizeof *wb);
    wb->wb = rocksdb_writebatch_create();
    wb->s = s;
    return wb;
}

void store_wb_put(struct store_batch *wb, const void *k, size_t klen, const void *v, size_t vlen)
{
    rocksdb_writebatch_put_cf(wb->wb, cf_of(wb->s, k, klen), k, klen, v, vlen);
}

void store_wb_free(struct store_batch *wb)
{
    if (!wb) return;
    rocksdb_writebatch_destroy(wb->wb);
    free(wb);
}

/* store_wb_commit - one synced WriteBatch */
int store_wb_commit(struct store *s, struct store_batch *wb)
{
    char *rerr = NULL;
    if (s->read_only) {
        snprintf(s->err, sizeof s->err, "store: opened read-only");
        return -1;
    }
    if (!s->db) return unavailable(s);
    rocksdb_write(s->db, s->wsync, wb->wb, &rerr);
    if (rerr) s->broken = 1;
    return rerr ? set_err(s, "write", rerr) : 0;
}

/* store_get - point lookup */
int store_get(struct store *s, const void *k, size_t klen, char **val, size_t *vlen)
{
    char *rerr = NULL;
    size_t n = 0;
    if (!s->db) return unavailable(s);
    char *v = rocksdb_get_cf(s->db, s->ropts, cf_of(s, k, klen), k, klen, &n, &rerr);
    if (rerr) return set_err(s, "get", rerr);
    if (!v) return 0;
    /* copy into a NUL-terminated buffer owned by the caller */
    char *copy = xmalloc(n + 1);
    memcpy(copy, v, n);
    copy[n] = '\0';
    rocksdb_free(v);
    *val = copy;
    if (vlen) *vlen = n;
    return 1;
}

/* store_each_range - ordered scan of the keys that begin with the plen
 * octets of prefix (which may hold any octet) */
static int store_each_range(struct store *s, const char *prefix, size_t plen,
                            int (*fn)(const char *k, size_t klen, const char *v, size_t vlen, void *), void *arg)
{
    if (!s->db) return unavailable(s);
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ropts, cf_of(s, prefix, plen));
    int rc = 0;
    for (rocksdb_iter_seek(it, prefix, plen); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        size_t klen, vlen;
        const char *k = rocksdb_iter_key(it, &klen);
        if (klen < plen || memcmp(k, prefix, plen) != 0) break;
        const char *v = rocksdb_iter_value(it, &vlen);
        if ((rc = fn(k, klen, v, vlen, arg)) != 0) break;
    }
    char *rerr = NULL;
    rocksdb_iter_get_error(it, &rerr);
    rocksdb_iter_destroy(it);
    if (rerr) return set_err(s, "scan", rerr);
    return rc < 0 ? -1 : 0;
}

/* store_each_prefix - ordered scan of one key range */
int store_each_prefix(struct store *s, const char *prefix,
                      int (*fn)(const char *k, size_t klen, const char *v, size_t vlen, void *), void *arg)
{
    return store_each_range(s, prefix, strlen(prefix), fn, arg);
}

/* ---- records: "key=value" lines ---- */

/* rec_field - find key in a record; copies the value into out */
static int rec_field(const char *rec, size_t len, const char *key, char *out, size_t outlen)
{
    size_t klen = strlen(key);
    const char *p = rec, *end = rec + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if ((size_t)(le - p) > klen && memcmp(p, key, klen) == 0 && p[klen] == '=') {
            size_t n = (size_t)(le - p) - klen - 1;
            if (n >= outlen) n = outlen - 1;
            memcpy(out, p + klen + 1, n);
            out[n] = '\0';
            return 1;
        }
        p = le + 1;
    }
    out[0] = '\0';
    return 0;
}

static long long rec_num(const char *rec, size_t len, const char *key)
{
    char buf[32];
    return rec_field(rec, len, key, buf, sizeof buf) ? strtoll(buf, NULL, 10) : 0;
}

/* party_key - "p/<PARTY16>" */
static void party_key(const uint8_t id[8], char *k)
{
    memcpy(k, "p/", 2);
    eui64_hex16(id, k + 2);
}

int store_party_put(struct store *s, const struct party *p)
{
    char k[20], v[512];
    party_key(p->id, k);
    int n = snprintf(v, sizeof v, "name=%s\nuplift=%ld\nadded_at=%lld\n", p->name, p->uplift,
                     (long long)p->added_at);
    struct store_batch *wb = store_wb_new(s);
    store_wb_put(wb, k, 18, v, (size_t)n);
    int rc = store_wb_commit(s, wb);
    store_wb_free(wb);
    return rc;
}

/* party_decode - record to struct */
static void party_decode(const uint8_t id[8], const char *v, size_t n, struct party *p)
{
    memcpy(p->id, id, 8);
    rec_field(v, n, "name", p->name, sizeof p->name);
    p->uplift = (long)rec_num(v, n, "uplift");
    p->added_at = (time_t)rec_num(v, n, "added_at");
}

int store_party_get(struct store *s, const uint8_t id[8], struct party *p)
{
    char k[20], *v;
    size_t n;
    party_key(id, k);
    int rc = store_get(s, k, 18, &v, &n);
    if (rc != 1) return rc;
    party_decode(id, v, n, p);
    free(v);
    return 1;
}

struct party_iter { int (*fn)(const struct party *, void *); void *arg; };

static int party_iter_cb(const char *k, size_t klen, const char *v, size_t vlen, void *arg)
{
    struct party_iter *pi = arg;
    struct party p;
    uint8_t id[8];
    if (klen != 18 || eui64_parse(k + 2, 16, id) != 0) return 0;
    party_decode(id, v, vlen, &p);
    return pi->fn(&p, pi->arg);
}

int store_party_each(struct store *s, int (*fn)(const struct party *, void *), void *arg)
{
    struct party_iter pi = {fn, arg};
    return store_each_prefix(s, "p/", party_iter_cb, &pi);
}

/* ---- batches ---- */

const char *batch_state_name(enum batch_state st)
{
    switch (st) {
    case BATCH_QUEUED: return "queued";
    case BATCH_PROCESSING: return "processing";
    case BATCH_DONE: return "done";
    case BATCH_FAILED: return "failed";
    }
    return "?";
}

static void batch_key(uint64_t turn, char *k /* 23 */)
{
    snprintf(k, 23, "b/%020" PRIu64, turn);
}

/* index_key - "i/<PARTY16>/<BatchID>"; returns its length */
static size_t index_key(const uint8_t party[8], const char *batch_id, char *k, size_t klen)
{
    char hex[17];
    eui64_hex16(party, hex);
    return (size_t)snprintf(k, klen, "i/%s/%s", hex, batch_id);
}

/* batch_encode - record text; returns length */
static int batch_encode(const struct batch *b, char *v, size_t vlen)
{
    char party[17];
    eui64_hex16(b->party, party);
    return snprintf(v, vlen,
                    "turn=%" PRIu64 "\nparty=%s\nbatch_id=%s\nfile=%s\narchive=%s\ncsrs=%u\n"
                    "received_at=%lld\nscheduled_night=%s\nretrieve_not_before=%lld\nstate=%d\n"
                    "done=%u\nbody_len=%" PRIu64 "\nissued=%u\nrejected=%u\nstarted_at=%lld\ncompleted_at=%lld\nerror=%s\nsrc=%s\nelapsed_ms=%" PRIu64 "\n",
                    b->turn, party, b->batch_id, b->file, b->archive, b->csrs,
                    (long long)b->received_at, b->scheduled_night, (long long)b->retrieve_not_before,
                    (int)b->state, b->done, b->body_len, b->issued, b->rejected, (long long)b->started_at,
                    (long long)b->completed_at, b->error, b->src, b->elapsed_ms);
}

static void batch_decode(const char *v, size_t n, struct batch *b)
{
    char party[17];
    memset(b, 0, sizeof *b);
    b->turn = (uint64_t)rec_num(v, n, "turn");
    rec_field(v, n, "party", party, sizeof party);
    eui64_parse(party, strlen(party), b->party);
    rec_field(v, n, "batch_id", b->batch_id, sizeof b->batch_id);
    rec_field(v, n, "file", b->file, sizeof b->file);
    rec_field(v, n, "archive", b->archive, sizeof b->archive);
    b->csrs = (uint32_t)rec_num(v, n, "csrs");
    b->received_at = (time_t)rec_num(v, n, "received_at");
    rec_field(v, n, "scheduled_night", b->scheduled_night, sizeof b->scheduled_night);
    b->retrieve_not_before = (time_t)rec_num(v, n, "retrieve_not_before");
    b->state = (enum batch_state)rec_num(v, n, "state");
    b->done = (uint32_t)rec_num(v, n, "done");
    b->body_len = (uint64_t)rec_num(v, n, "body_len");
    b->issued = (uint32_t)rec_num(v, n, "issued");
    b->rejected = (uint32_t)rec_num(v, n, "rejected");
    b->started_at = (time_t)rec_num(v, n, "started_at");
    b->completed_at = (time_t)rec_num(v, n, "completed_at");
    rec_field(v, n, "error", b->error, sizeof b->error);
    rec_field(v, n, "src", b->src, sizeof b->src);
    b->elapsed_ms = (uint64_t)rec_num(v, n, "elapsed_ms");
}

int store_last_turn(struct store *s, uint64_t *turn)
{
    char *v;
    int rc = store_get(s, "m/turn", 6, &v, NULL);
    if (rc < 0) return -1;
    *turn = rc == 1 ? strtoull(v, NULL, 10) : 0;
    if (rc == 1) free(v);
    return 0;
}

int store_batch_lookup(struct store *s, const uint8_t party[8], const char *batch_id, uint64_t *turn)
{
    char k[128], *v;
    size_t klen = index_key(party, batch_id, k, sizeof k);
    int rc = store_get(s, k, klen, &v, NULL);
    if (rc != 1) return rc;
    *turn = strtoull(v, NULL, 10);
    free(v);
    return 1;
}

void store_wb_add_batch(struct store_batch *wb, const struct batch *b)
{
    char k[23], v[2048];
    batch_key(b->turn, k);
    int n = batch_encode(b, v, sizeof v);
    store_wb_put(wb, k, 22, v, (size_t)n);
}

/* store_batch_accept - next turn + record + index, one synced batch.
 * The caller is the only writer (run holds the store's lock), so reading
 * the counter and writing it back cannot race. */
int store_batch_accept(struct store *s, struct batch *b)
{
    uint64_t last;
    if (store_last_turn(s, &last) != 0) return -1;
    b->turn = last + 1;
    char turn[24], ik[128];
    int tn = snprintf(turn, sizeof turn, "%" PRIu64, b->turn);
    size_t iklen = index_key(b->party, b->batch_id, ik, sizeof ik);
    struct store_batch *wb = store_wb_new(s);
    store_wb_put(wb, "m/turn", 6, turn, (size_t)tn);
    store_wb_add_batch(wb, b);
    store_wb_put(wb, ik, iklen, turn, (size_t)tn);
    int rc = store_wb_commit(s, wb);
    store_wb_free(wb);
    return rc;
}

int store_batch_get(struct store *s, uint64_t turn, struct batch *b)
{
    char k[23], *v;
    size_t n;
    batch_key(turn, k);
    int rc = store_get(s, k, 22, &v, &n);
    if (rc != 1) return rc;
    batch_decode(v, n, b);
    free(v);
    return 1;
}

int store_batch_put(struct store *s, const struct batch *b)
{
    struct store_batch *wb = store_wb_new(s);
    store_wb_add_batch(wb, b);
    int rc = store_wb_commit(s, wb);
    store_wb_free(wb);
    return rc;
}

struct batch_iter { int (*fn)(const struct batch *, void *); void *arg; uint64_t first; };

static int batch_iter_cb(const char *k, size_t klen, const char *v, size_t vlen, void *arg)
{
    struct batch_iter *bi = arg;
    struct batch b;
    (void)k; (void)klen;
    batch_decode(v, vlen, &b);
    if (b.turn < bi->first) return 0;
    return bi->fn(&b, bi->arg);
}

int store_batch_each(struct store *s, uint64_t first_turn,
                     int (*fn)(const struct batch *, void *), void *arg)
{
    struct batch_iter bi = {fn, arg, first_turn};
    return store_each_prefix(s, "b/", batch_iter_cb, &bi);
}

/* ---- issued certificates ----
 *
 * KEYS.  Three records an issued certificate, keyed by octets:
 *   c/<serial 16>                              meta and record (certpack.h)
 *   d/<device 8><usage 1: 0 DS, 1 KA><serial 16>   empty
 *   k/<SHA-256 of the point 32>                the serial (16)
 * Homes made before 2026-12-07 wrote them as hex text (c/<32 HEX>,
 * d/<16 HEX>/<DS|KA>/<32 HEX>, k/<64 HEX> holding 32 HEX), twice the
 * octets in every memtable, table file and cache block (peak RSS of a
 * 50,000-CSR drain 54 -> 50 MiB, of a night 72 -> 67-68; README Memory).  A home made since holds m/keys = "binary"; in one
 * without it (s->hex_keys) a lookup that misses the binary key tries the
 * text key too, so its old certificates are still found, and new ones are
 * written binary beside them.  The two forms cannot be taken for each
 * other: their lengths differ, and a binary d/ key has 0 or 1 where a text
 * key has a hex digit. */
enum { DEV_KEY_LEN = 2 + 8 + 1 + 16 };

/* id_key - "<tag>/" and the id: its octets, or (hex) the text form of homes
 * made before binary keys; returns the key's length.  k holds 2 + 2 * len + 1 */
static size_t id_key(char *k, char tag, const uint8_t *id, size_t len, int hex)
{
    k[0] = tag;
    k[1] = '/';
    if (hex) {
        hex_upper(id, len, k + 2);
        return 2 + 2 * len;
    }
    memcpy(k + 2, id, len);
    return 2 + len;
}

/* dev_key - "d/", the device and the usage octet: the prefix of every
 * d/ key of that device and usage (the serial follows); returns 11 */
static size_t dev_key(char *k, const uint8_t device[8], int usage)
{
    k[0] = 'd';
    k[1] = '/';
    memcpy(k + 2, device, 8);
    k[10] = (char)usage;
    return 11;
}

void store_wb_add_cert(struct store_batch *wb, const uint8_t serial[16], const struct cert_meta *m,
                       const uint8_t key_hash[32], const uint8_t *der, size_t der_len,
                       const struct cert_tmpl *t)
{
    char k[DEV_KEY_LEN + 2 + 64 + 1];
    uint8_t v[sizeof *m + 2048], back[2048];
    size_t vlen = 0;
    memcpy(v, m, sizeof *m);
    if (der_len > sizeof v - sizeof *m) der_len = sizeof v - sizeof *m;
    /* packed against its template when it is exactly that shape and the
     * record rebuilds these very octets; whole otherwise */
    if (t) {
        size_t n = certpack_pack(t, der, der_len, v + sizeof *m, sizeof v - sizeof *m);
        if (n && certpack_unpack(t, v + sizeof *m, n, back, sizeof back) == der_len &&
            memcmp(back, der, der_len) == 0)
            vlen = sizeof *m + n;
    }
    if (!vlen) {
        memcpy(v + sizeof *m, der, der_len);
        vlen = sizeof *m + der_len;
    }
    size_t kl = id_key(k, 'c', serial, 16, 0);
    store_wb_put(wb, k, kl, v, vlen);
    kl = dev_key(k, m->device, m->usage ? 1 : 0);
    memcpy(k + kl, serial, 16);
    store_wb_put(wb, k, kl + 16, "", 0);
    kl = id_key(k, 'k', key_hash, 32, 0);
    store_wb_put(wb, k, kl, serial, 16);
}

/* store_template_put - record t (t/<id>) once, synced, before any certificate
 * packed against it is committed */
int store_template_put(struct store *s, const struct cert_tmpl *t)
{
    char k[2 + 2 * CERTPACK_ID_LEN + 1], *old;
    size_t oldlen;
    memcpy(k, "t/", 2);
    hex_upper(t->id, CERTPACK_ID_LEN, k + 2);
    size_t cap = certpack_tmpl_size(t);
    uint8_t *enc = xmalloc(cap ? cap : 1);
    size_t n = certpack_tmpl_encode(t, enc, cap);
    if (!n) {
        free(enc);
        snprintf(s->err, sizeof s->err, "store: a malformed certificate template");
        return -1;
    }
    int rc = store_get(s, k, sizeof k - 1, &old, &oldlen);
    if (rc == 1) {   /* recorded before: the same octets, unless ids collide */
        int same = oldlen == n && memcmp(old, enc, n) == 0;
        if (!same) snprintf(s->err, sizeof s->err, "store: %s holds another template (ids collide)", k);
        free(old);
        free(enc);
        return same ? 0 : -1;
    }
    if (rc < 0) {
        free(enc);
        return -1;
    }
    struct store_batch *wb = store_wb_new(s);
    store_wb_put(wb, k, sizeof k - 1, enc, n);
    rc = store_wb_commit(s, wb);
    store_wb_free(wb);
    free(enc);
    return rc;
}

/* template_get - the template of id, from the cache or t/<id>; NULL with
 * s->err when it is missing or malformed */
static const struct cert_tmpl *template_get(struct store *s, const uint8_t id[CERTPACK_ID_LEN])
{
    for (int i = s->ntmpl - 1; i >= 0; i--)
        if (memcmp(s->tmpl[i].t.id, id, CERTPACK_ID_LEN) == 0) return &s->tmpl[i].t;
    char k[2 + 2 * CERTPACK_ID_LEN + 1], *v;
    size_t n;
    memcpy(k, "t/", 2);
    hex_upper(id, CERTPACK_ID_LEN, k + 2);
    int rc = store_get(s, k, sizeof k - 1, &v, &n);
    if (rc == 0)
        snprintf(s->err, sizeof s->err, "store: certificate template %s is missing (the store is damaged)", k);
    if (rc != 1) return NULL;
    struct cached_tmpl c;
    rc = certpack_tmpl_decode((const uint8_t *)v, n, &c.t, &c.storage);
    free(v);
    if (rc != 0 || memcmp(c.t.id, id, CERTPACK_ID_LEN) != 0) {
        free(c.storage);
        snprintf(s->err, sizeof s->err, "store: certificate template %s is malformed (the store is damaged)", k);
        return NULL;
    }
    if (s->ntmpl == TMPL_CACHE) {   /* the oldest goes */
        free(s->tmpl[0].storage);
        memmove(&s->tmpl[0], &s->tmpl[1], (TMPL_CACHE - 1) * sizeof s->tmpl[0]);
        s->ntmpl--;
    }
    s->tmpl[s->ntmpl++] = c;
    return &s->tmpl[s->ntmpl - 1].t;
}

/* exists - point lookup without copying the value */
static int exists(struct store *s, const char *k, size_t klen)
{
    char *rerr = NULL;
    size_t n;
    if (!s->db) return unavailable(s);
    char *v = rocksdb_get_cf(s->db, s->ropts, cf_of(s, k, klen), k, klen, &n, &rerr);
    if (rerr) return set_err(s, "get", rerr);
    if (!v) return 0;
    rocksdb_free(v);
    return 1;
}

/* id_exists - is <tag>/<id> there (binary, or in an old home as text) */
static int id_exists(struct store *s, char tag, const uint8_t *id, size_t len)
{
    char k[2 + 64 + 1];
    int rc = exists(s, k, id_key(k, tag, id, len, 0));
    if (rc == 0 && s->hex_keys) rc = exists(s, k, id_key(k, tag, id, len, 1));
    return rc;
}

/* id_get - the value of <tag>/<id> (binary, or in an old home as text);
 * store_get's 1, 0 or -1 */
static int id_get(struct store *s, char tag, const uint8_t *id, size_t len, char **v, size_t *n)
{
    char k[2 + 64 + 1];
    int rc = store_get(s, k, id_key(k, tag, id, len, 0), v, n);
    if (rc == 0 && s->hex_keys) rc = store_get(s, k, id_key(k, tag, id, len, 1), v, n);
    return rc;
}

int store_serial_known(struct store *s, const uint8_t serial[16])
{
    return id_exists(s, 'c', serial, 16);
}

int store_key_known(struct store *s, const uint8_t key_hash[32])
{
    return id_exists(s, 'k', key_hash, 32);
}

int store_cert_get(struct store *s, const uint8_t serial[16], struct cert_meta *m, uint8_t **der, size_t *len)
{
    char k[2 + 32 + 1], *v;   /* k: the record's name in messages */
    size_t n;
    id_key(k, 'c', serial, 16, 1);
    int rc = id_get(s, 'c', serial, 16, &v, &n);
    if (rc != 1) return rc;
    if (n <= sizeof *m) {
        free(v);
        snprintf(s->err, sizeof s->err, "store: certificate record %s is truncated", k);
        return -1;
    }
    memcpy(m, v, sizeof *m);
    const uint8_t *rec = (const uint8_t *)v + sizeof *m;
    size_t reclen = n - sizeof *m;
    uint8_t id[CERTPACK_ID_LEN];
    if (certpack_record_id(rec, reclen, id) != 0) {   /* the certificate whole */
        *len = reclen;
        *der = xmalloc(reclen);
        memcpy(*der, rec, reclen);
        free(v);
        return 1;
    }
    const struct cert_tmpl *t = template_get(s, id);   /* NULL: s->err says why */
    size_t cap = t ? t->tbs_len + t->alg_len + reclen + 16 : 0;
    *der = NULL;
    *len = 0;
    if (t) {
        *der = xmalloc(cap);
        *len = certpack_unpack(t, rec, reclen, *der, cap);
        if (!*len) snprintf(s->err, sizeof s->err, "store: certificate record %s does not fit its template", k);
    }
    free(v);
    if (*len) return 1;
    free(*der);
    *der = NULL;
    return -1;
}

struct dev_iter { int (*fn)(const uint8_t serial[16], void *); void *arg; };

/* dev_iter_cb - one d/ key, binary (the serial's octets end it) */
static int dev_iter_cb(const char *k, size_t klen, const char *v, size_t vlen, void *arg)
{
    struct dev_iter *di = arg;
    (void)v; (void)vlen;
    if (klen != DEV_KEY_LEN || (uint8_t)k[10] > 1) return 0;
    return di->fn((const uint8_t *)k + DEV_KEY_LEN - 16, di->arg);
}

/* dev_iter_hex_cb - one d/ key of an old home (32 hex digits end it) */
static int dev_iter_hex_cb(const char *k, size_t klen, const char *v, size_t vlen, void *arg)
{
    struct dev_iter *di = arg;
    uint8_t serial[16];
    (void)v; (void)vlen;
    if (klen < 32 || hex_decode(k + klen - 32, 16, serial) != 0) return 0;
    return di->fn(serial, di->arg);
}

int store_device_each(struct store *s, const uint8_t device[8], int usage,
                      int (*fn)(const uint8_t serial[16], void *), void *arg)
{
    struct dev_iter di = {fn, arg};
    if (s->hex_keys) {   /* an old home's certificates first: they are older */
        char prefix[40], dev[17];
        eui64_hex16(device, dev);
        if (usage < 0) snprintf(prefix, sizeof prefix, "d/%s/", dev);
        else snprintf(prefix, sizeof prefix, "d/%s/%s/", dev, usage ? "KA" : "DS");
        if (store_each_range(s, prefix, strlen(prefix), dev_iter_hex_cb, &di) != 0) return -1;
    }
    char prefix[DEV_KEY_LEN];
    size_t plen = dev_key(prefix, device, usage > 0);
    if (usage < 0) plen--;   /* any usage: the device's keys */
    return store_each_range(s, prefix, plen, dev_iter_cb, &di);
}

/* ids_lookup - one batched lookup of the keys "<tag>/<id>" (hex: as text)
 * for those of n ids of len octets not yet found (a chunk's: RocksDB probes
 * each table file once for all of them); sets found[i] to 1 for a hit;
 * 0, or -1 with the error */
static int ids_lookup(struct store *s, char tag, const uint8_t *ids, size_t len, size_t n,
                      int hex, uint8_t *found)
{
    /* per chunk, not per request */
    size_t stride = 2 + 2 * len + 1, m = 0;
    char *block = xmalloc(n * stride);
    const char **keys = xmalloc(n * sizeof *keys);
    size_t *klens = xmalloc(n * sizeof *klens), *which = xmalloc(n * sizeof *which);
    for (size_t i = 0; i < n; i++) {
        if (found[i]) continue;
        char *k = block + m * stride;
        klens[m] = id_key(k, tag, ids + i * len, len, hex);
        keys[m] = k;
        which[m++] = i;
    }
    rocksdb_pinnableslice_t **vals = xcalloc(m ? m : 1, sizeof *vals);
    char **errs = xcalloc(m ? m : 1, sizeof *errs);
    if (m) rocksdb_batched_multi_get_cf(s->db, s->ropts, cf_of(s, keys[0], klens[0]), m, keys, klens, vals, errs, 0);
    int rc = 0;
    for (size_t j = 0; j < m; j++) {
        if (errs[j] && rc == 0) rc = set_err(s, "get", errs[j]);
        else free(errs[j]);
        if (vals[j]) found[which[j]] = 1;
        rocksdb_pinnableslice_destroy(vals[j]);
    }
    free(vals);
    free(errs);
    free(block);
    free(keys);
    free(klens);
    free(which);
    return rc;
}

/* ids_known - found[i] = 1 if <tag>/<id i> is there, else 0 (an old home's
 * text keys are looked up for the misses); 0, or -1 with the error */
static int ids_known(struct store *s, char tag, const uint8_t *ids, size_t len, size_t n, uint8_t *found)
{
    if (!s->db) return unavailable(s);
    if (n == 0) return 0;
    memset(found, 0, n);
    int rc = ids_lookup(s, tag, ids, len, n, 0, found);
    if (rc == 0 && s->hex_keys) rc = ids_lookup(s, tag, ids, len, n, 1, found);
    return rc;
}

int store_serials_known(struct store *s, const uint8_t (*serials)[16], size_t n, uint8_t *known)
{
    return n ? ids_known(s, 'c', serials[0], 16, n, known) : 0;
}

int store_keys_known_outside(struct store *s, const uint8_t (*hashes)[32], size_t n, uint64_t turn, uint8_t *known)
{
    int rc = n ? ids_known(s, 'k', hashes[0], 32, n, known) : 0;
    /* a hit (rare) may be this turn's own, committed before a restart */
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!known[i]) continue;
        int k = store_key_known_outside(s, hashes[i], turn);
        if (k < 0) rc = -1;
        else known[i] = (uint8_t)k;
    }
    return rc;
}

int store_key_known_outside(struct store *s, const uint8_t key_hash[32], uint64_t turn)
{
    char *v;
    size_t n;
    int rc = id_get(s, 'k', key_hash, 32, &v, &n);
    if (rc != 1) return rc;
    /* the serial: 16 octets, or 32 hex digits in an old home */
    uint8_t serial[16];
    int ok = n == 16 ? (memcpy(serial, v, 16), 1) : n == 32 && hex_decode(v, 16, serial) == 0;
    free(v);
    if (!ok) return 1;   /* the key is recorded; whose is unreadable: known */
    struct cert_meta m;
    uint8_t *der;
    size_t len;
    rc = store_cert_get(s, serial, &m, &der, &len);
    if (rc != 1) return rc < 0 ? -1 : 1;
    free(der);
    return m.turn != turn;
}

/* store_flush - memtable to table files (and the WAL with it) */
int store_flush(struct store *s, int wait)
{
    char *rerr = NULL;
    rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
    rocksdb_flushoptions_set_wait(fo, (unsigned char)wait);
    if (!s->db) {
        rocksdb_flushoptions_destroy(fo);
        return unavailable(s);
    }
    for (int i = 0; i < s->ncf && !rerr; i++) rocksdb_flush_cf(s->db, fo, s->cf[i], &rerr);
    rocksdb_flushoptions_destroy(fo);
    return rerr ? set_err(s, "flush", rerr) : 0;
}

void store_wb_add_audit_head(struct store_batch *wb, const char *head)
{
    store_wb_put(wb, "m/audit", 7, head, strlen(head));
}

int store_audit_head(struct store *s, char *out, size_t cap)
{
    char *v;
    int rc = store_get(s, "m/audit", 7, &v, NULL);
    if (rc != 1) {
        if (cap) out[0] = '\0';
        return rc;
    }
    snprintf(out, cap, "%s", v);
    free(v);
    return 1;
}

/* store_recover - after a failed write (a full disk, an I/O error) RocksDB
 * keeps refusing writes; close and reopen it in place so that the service
 * can go on when the cause is gone.  0 when usable. */
int store_recover(struct store *s)
{
    if (!s->broken) return 0;
    char *rerr = NULL;
    close_db(s);
    if (open_db(s, s->dir, STORE_READ_WRITE, &rerr) != 0) {
        set_err(s, "reopen", rerr);   /* every call fails cleanly until a reopen works */
        return -1;
    }
    s->broken = 0;
    return 0;
}

void store_wb_add_counter(struct store_batch *wb, const char *name, uint64_t value)
{
    char k[96], v[24];
    int kn = snprintf(k, sizeof k, "m/count/%s", name);
    int vn = snprintf(v, sizeof v, "%" PRIu64, value);
    store_wb_put(wb, k, (size_t)kn, v, (size_t)vn);
}

int store_counter_get(struct store *s, const char *name, uint64_t *value)
{
    char k[96], *v;
    int kn = snprintf(k, sizeof k, "m/count/%s", name);
    int rc = store_get(s, k, (size_t)kn, &v, NULL);
    *value = 0;
    if (rc == 1) {
        *value = strtoull(v, NULL, 10);
        free(v);
    }
    return rc < 0 ? -1 : 0;
}

int store_forecast_put(struct store *s, const uint8_t party[8], const char *month, uint64_t csrs)
{
    char k[48], v[24], hex[17];
    eui64_hex16(party, hex);
    int kn = snprintf(k, sizeof k, "f/%s/%s", hex, month);
    int vn = snprintf(v, sizeof v, "%" PRIu64, csrs);
    struct store_batch *wb = store_wb_new(s);
    store_wb_put(wb, k, (size_t)kn, v, (size_t)vn);
    int rc = store_wb_commit(s, wb);
    store_wb_free(wb);
    return rc;
}

int store_forecast_get(struct store *s, const uint8_t party[8], const char *month, uint64_t *csrs)
{
    char k[48], hex[17], *v;
    eui64_hex16(party, hex);
    int kn = snprintf(k, sizeof k, "f/%s/%s", hex, month);
    int rc = store_get(s, k, (size_t)kn, &v, NULL);
    if (rc == 1) {
        *csrs = strtoull(v, NULL, 10);
        free(v);
    }
    return rc;
}

int store_batch_find(struct store *s, const uint8_t party[8], const char *batch_id, struct batch *b)
{
    uint64_t turn;
    int rc = store_batch_lookup(s, party, batch_id, &turn);
    return rc == 1 ? store_batch_get(s, turn, b) : rc;
}
