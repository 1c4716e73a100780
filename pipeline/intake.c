/* intake.c - take, check, parse, queue, archive and receipt one spool file.
 * The order of the durable steps, and why, is in intake.h. */
#include "intake.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "clock.h"
#include "eui64.h"
#include "fsutil.h"
#include "log.h"
#include "receipt.h"
#include "reqcache.h"
#include "planner.h"
#include "prover.h"
#include "uring_io.h"
#include "xmem.h"

#define READ_BLOCK (256 * 1024)
#define READ_DEPTH 4
#define WARNED_MAX 64
#define CACHE_CHUNK 64     /* requests parsed at a time for the cache */
#define CACHE_SPARE (512ull << 20)   /* free space a request cache leaves */

struct intake {
    struct home *home;
    struct store *store;
    void *schema;
    int prove;                 /* start a prover for each file (intake_set_prove) */
    int cache;                 /* cache each file's requests (intake_set_cache) */
    char *zbuf;
    size_t zcap;
    char warned[WARNED_MAX][160];   /* names already logged as ignored */
    unsigned nwarned;
};

/* the byte tap: reader -> parser, and -> compressor -> archive writer */
struct tap {
    struct uring_reader *ur;
    struct intake *in;
    struct uring_writer *uw;
    ZSTD_CCtx *cz;     /* the archive's compressor, this file's only (zctx_new) */
    uint64_t bytes, limit;
    int too_large;
    int werr;          /* -errno of the archive write, or a zstd failure */
};

struct intake *intake_new(struct home *h, struct store *st, char *err, size_t errlen)
{
    char xsd[PATH_MAX + 64];
    home_schema(h, "batched-csr-request.xsd", xsd, sizeof xsd);
    void *schema = parse_schema_load(xsd, err, errlen);
    if (!schema) return NULL;
    struct intake *in = xcalloc(1, sizeof *in);
    in->home = h;
    in->store = st;
    in->schema = schema;
    in->zcap = ZSTD_CStreamOutSize();
    in->zbuf = xmalloc(in->zcap);
    return in;
}

void intake_free(struct intake *in)
{
    if (!in) return;
    parse_schema_free(in->schema);
    free(in->zbuf);
    free(in);
}

/* intake_name_ok - [A-Za-z0-9._-]{1,128} followed by .xml */
int intake_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n < 5 || n > 128 + 4 || strcmp(name + n - 4, ".xml") != 0) return 0;
    for (size_t i = 0; i < n - 4; i++) {
        char c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* zctx_new - the archive's compressor for one file.  Made per file and
 * freed when the file's frame is written: with a worker thread its buffers
 * are about 10 MiB, which a drain would otherwise carry through the whole
 * batch's processing (the peak of RSS) */
static ZSTD_CCtx *zctx_new(void)
{
    ZSTD_CCtx *cz = ZSTD_createCCtx();
    if (!cz) return NULL;
    ZSTD_CCtx_setParameter(cz, ZSTD_c_compressionLevel, 1);
    ZSTD_CCtx_setParameter(cz, ZSTD_c_checksumFlag, 1);   /* archive_verify checks it */
    /* compress on a second thread while this one parses (ignored when
     * libzstd has no thread support) */
    ZSTD_CCtx_setParameter(cz, ZSTD_c_nbWorkers, 1);
    return cz;
}

/* compress_out - push bytes through zstd into the archive writer */
static void compress_out(struct tap *t, const char *buf, size_t n, ZSTD_EndDirective mode)
{
    ZSTD_inBuffer zin = {buf, n, 0};
    size_t left;
    do {
        ZSTD_outBuffer zout = {t->in->zbuf, t->in->zcap, 0};
        left = ZSTD_compressStream2(t->cz, &zout, &zin, mode);
        if (ZSTD_isError(left)) {
            t->werr = -EIO;
            return;
        }
        if (zout.pos && uw_write(t->uw, t->in->zbuf, zout.pos) != 0) {
            t->werr = uw_finish(t->uw);
            if (!t->werr) t->werr = -EIO;
            return;
        }
    } while (mode == ZSTD_e_end ? left != 0 : zin.pos < zin.size);
}

/* tap_read - parse_read_fn: read, count against the limit, archive */
static int tap_read(void *io, char *buf, int len)
{
    struct tap *t = io;
    int n = ur_read(t->ur, buf, len);
    if (n > 0) {
        t->bytes += (uint64_t)n;
        if (t->bytes > t->limit) {
            t->too_large = 1;
            return -1;
        }
        if (!t->werr) compress_out(t, buf, (size_t)n, ZSTD_e_continue);
    }
    return n;
}

/* warn_once - log an ignored name the first time only */
static void warn_once(struct intake *in, const char *name, const char *why)
{
    for (unsigned i = 0; i < in->nwarned && i < WARNED_MAX; i++)
        if (strcmp(in->warned[i], name) == 0) return;
    snprintf(in->warned[in->nwarned++ % WARNED_MAX], sizeof in->warned[0], "%s", name);
    /* the name is not ours: never let it forge a log line or reach a
     * terminal raw */
    char shown[4 * 160 + 1];
    size_t o = 0;
    for (const unsigned char *q = (const unsigned char *)name; *q && o + 5 < sizeof shown; q++)
        o += (size_t)(*q < 0x20 || *q >= 0x7f ? snprintf(shown + o, sizeof shown - o, "\\x%02x", *q)
                                                : snprintf(shown + o, sizeof shown - o, "%c", *q));
    shown[o] = '\0';
    log_warn("incoming/%s: ignored: %s", shown, why);
}

/* move_rejected - move the entry itself to rejected/, never overwriting */
static void move_rejected(struct intake *in, const char *name)
{
    char src[PATH_MAX + 200], dst[PATH_MAX + 220];
    snprintf(src, sizeof src, "%s/%s", in->home->incoming, name);
    snprintf(dst, sizeof dst, "%s/%s", in->home->rejected, name);
    for (int i = 1; i < 1000; i++) {
        if (renameat2(AT_FDCWD, src, AT_FDCWD, dst, RENAME_NOREPLACE) == 0) break;
        if (errno != EEXIST) {
            log_warn("incoming/%s: cannot move to rejected/: %s", name, strerror(errno));
            return;
        }
        snprintf(dst, sizeof dst, "%s/%s.%d", in->home->rejected, name, i);
    }
    fs_fsync_dir(in->home->rejected);
    fs_fsync_dir(in->home->incoming);
}

/* stem_of - name without ".xml" */
static void stem_of(const char *name, char *stem, size_t cap)
{
    size_t n = strlen(name) - 4;
    if (n >= cap) n = cap - 1;
    memcpy(stem, name, n);
    stem[n] = '\0';
}

/* reject - receipt, then move the entry */
static void reject(struct intake *in, const char *name, struct receipt *r, enum batch_code code,
                   const char *text, struct intake_outcome *out)
{
    char stem[200];
    stem_of(name, stem, sizeof stem);
    r->accepted = 0;
    r->code = code;
    r->error_text = text;
    int rc = receipt_publish(in->home->receipts, stem, r);
    if (rc != 0) {
        log_warn("incoming/%s: cannot publish its receipt: %s; will retry", name, strerror(-rc));
        out->result = INTAKE_RETRY;
        return;
    }
    move_rejected(in, name);
    out->result = INTAKE_REJECTED;
    out->code = code;
    snprintf(out->text, sizeof out->text, "%s", text);
    log_info("incoming/%s: rejected %s: %s", name, batch_code_name(code), text);
}

/* fingerprint - dev:ino:size:mtime */
static void fingerprint(const struct stat *st, char *out, size_t cap)
{
    snprintf(out, cap, "%llu:%llu:%lld:%lld.%09ld", (unsigned long long)st->st_dev,
             (unsigned long long)st->st_ino, (long long)st->st_size, (long long)st->st_mtim.tv_sec,
             st->st_mtim.tv_nsec);
}

/* archive_name - STEM.xml.zst, or STEM.N.xml.zst when that is taken */
static void archive_name(struct intake *in, const char *stem, char *out, size_t cap)
{
    char path[PATH_MAX + 400];
    snprintf(out, cap, "%s.xml.zst", stem);
    for (int i = 1;; i++) {
        snprintf(path, sizeof path, "%s/%s", in->home->archive, out);
        if (access(path, F_OK) != 0) return;
        snprintf(out, cap, "%s.%d.xml.zst", stem, i);
    }
}

/* schedule - the night the capacity model gives the new batch, and when its
 * party may come for the response */
static int schedule(struct intake *in, struct batch *b, const struct party *party)
{
    uint64_t last;
    if (store_last_turn(in->store, &last) != 0) return -1;
    struct cap_batch nb = {.turn = last + 1, .csrs = b->csrs, .received_at = b->received_at, .pending = 1,
                           .allowance = in->home->cfg.party_allowance + party->uplift};
    memcpy(nb.party, b->party, 8);
    struct cap_plan plan;
    if (planner_load(in->home, in->store, b->received_at, &nb, &plan) != 0) return -1;
    const struct cap_slot *sl = cap_slot_of(&plan, nb.turn);
    time_t start, end;
    if (sl) {
        start = sl->night_start;
        end = sl->night_end;
    } else {   /* beyond the planning horizon: the last night planned */
        start = plan.nights[CAP_MAX_NIGHTS - 1].start;
        end = plan.nights[CAP_MAX_NIGHTS - 1].end;
    }
    struct tm tm;
    localtime_r(&start, &tm);
    strftime(b->scheduled_night, sizeof b->scheduled_night, "%Y-%m-%d", &tm);
    b->retrieve_not_before = cap_retrieve_not_before(&in->home->cfg, b->received_at, end);
    cap_plan_free(&plan);
    return 0;
}

/* finish_crashed - the file was already accepted (a crash came before its
 * receipt or unlink): publish the receipt from the record, unlink */
static void finish_crashed(struct intake *in, const char *name, const struct batch *b,
                           struct intake_outcome *out)
{
    char stem[200], path[PATH_MAX + 200];
    stem_of(name, stem, sizeof stem);
    struct receipt r = {.file = name, .accepted = 1, .have_party = 1, .batch_id = b->batch_id,
                        .have_count = 1, .csr_count = b->csrs, .turn = b->turn,
                        .received_at = b->received_at, .scheduled_night = b->scheduled_night,
                        .retrieve_not_before = b->retrieve_not_before};
    memcpy(r.party, b->party, 8);
    int rc = receipt_publish(in->home->receipts, stem, &r);
    if (rc != 0) {
        out->result = INTAKE_RETRY;
        snprintf(out->text, sizeof out->text, "receipt: %s", strerror(-rc));
        return;
    }
    snprintf(path, sizeof path, "%s/%s", in->home->incoming, name);
    unlink(path);
    fs_fsync_dir(in->home->incoming);
    out->result = INTAKE_ACCEPTED;
    out->turn = b->turn;
    out->csrs = b->csrs;
    log_info("incoming/%s: intake of turn %" PRIu64 " completed after a restart", name, b->turn);
}

/* cache_room - 1 when the archive's file system has room for a request
 * cache of a file of `bytes` (about its size) with plenty to spare: a cache
 * must never take the space the archive, the queue or the responses need */
static int cache_room(const char *dir, uint64_t bytes)
{
    struct statvfs sv;
    if (statvfs(dir, &sv) != 0) return 0;
    uint64_t avail = (uint64_t)sv.f_bavail * sv.f_frsize;
    return avail > 2 * bytes + CACHE_SPARE;
}

/* take_file - intake_file without the prover's end; *pv is the prover it
 * started, if any; *rw the request cache it is writing, if any and not
 * committed (reqcache.h) */
static void take_file(struct intake *in, const char *name, struct intake_outcome *out,
                      struct prover **pv, struct reqcache_writer **rw)
{
    char path[PATH_MAX + 200], text[512], tmp[PATH_MAX + 200], src[96], stem[200];
    struct stat lst, fst;
    struct receipt r = {.file = name};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(out, 0, sizeof *out);
    r.received_at = clock_now();

    if (!intake_name_ok(name)) {
        warn_once(in, name, "its name is not [A-Za-z0-9._-]{1,128}.xml, so no receipt can be named");
        out->result = INTAKE_IGNORED;
        return;
    }
    stem_of(name, stem, sizeof stem);
    snprintf(path, sizeof path, "%s/%s", in->home->incoming, name);
    if (lstat(path, &lst) != 0) {
        out->result = INTAKE_IGNORED;   /* vanished between scan and take */
        return;
    }
    if (S_ISLNK(lst.st_mode)) {
        reject(in, name, &r, BC_FILE, "the file is a symbolic link; links are never followed: drop the file itself", out);
        return;
    }
    if (!S_ISREG(lst.st_mode)) {
        reject(in, name, &r, BC_FILE, S_ISFIFO(lst.st_mode) ? "the entry is a FIFO, not a regular file"
                                      : S_ISDIR(lst.st_mode) ? "the entry is a directory, not a regular file"
                                      : "the entry is not a regular file (device, socket)", out);
        return;
    }
    if (lst.st_nlink > 1) {
        reject(in, name, &r, BC_FILE, "the file is hard-linked elsewhere; drop a file of its own (write, then rename)", out);
        return;
    }
    if (lst.st_size > in->home->cfg.max_file_bytes) {
        snprintf(text, sizeof text, "file is %lld bytes; the limit is %ld bytes ([limits] max_file_bytes)",
                 (long long)lst.st_size, in->home->cfg.max_file_bytes);
        reject(in, name, &r, BC_TOO_LARGE, text, out);
        return;
    }
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(text, sizeof text, "cannot open the file: %s", strerror(errno));
        if (errno == ENOENT) { out->result = INTAKE_IGNORED; return; }
        reject(in, name, &r, BC_FILE, text, out);
        return;
    }
    if (fstat(fd, &fst) != 0 || fst.st_ino != lst.st_ino || fst.st_dev != lst.st_dev || !S_ISREG(fst.st_mode)) {
        close(fd);
        reject(in, name, &r, BC_FILE, "the file was replaced while being taken", out);
        return;
    }
    fingerprint(&fst, src, sizeof src);

    /* one pass: read -> parse (validate, count) and -> compress -> archive temp */
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", in->home->archive, stem);
    int afd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
    int uerr = 0;
    struct tap t = {.in = in, .limit = (uint64_t)in->home->cfg.max_file_bytes};
    t.ur = ur_open(fd, READ_BLOCK, READ_DEPTH, &uerr);
    if (afd >= 0) t.uw = uw_open(afd, 0, READ_BLOCK, 2, &uerr);
    if (!t.ur || afd < 0 || !t.uw) {
        log_warn("incoming/%s: cannot start intake (%s); will retry", name,
                 afd < 0 ? strerror(errno) : strerror(-uerr));
        if (t.ur) ur_close(t.ur);
        if (t.uw) uw_close(t.uw);
        if (afd >= 0) { close(afd); unlink(tmp); }
        close(fd);
        out->result = INTAKE_RETRY;
        return;
    }
    if (afd < 0) t.werr = -errno;
    t.cz = zctx_new();
    if (!t.cz && !t.werr) t.werr = -ENOMEM;
    if (in->prove) *pv = prover_start((uint32_t)in->home->cfg.max_csrs);
    if (in->cache && cache_room(in->home->archive, (uint64_t)fst.st_size)) {
        char cpath[PATH_MAX + 220];
        snprintf(cpath, sizeof cpath, "%s/.%s.req.tmp", in->home->archive, stem);
        *rw = reqcache_create(cpath);
    }
    struct parser *p = parse_open(tap_read, &t, in->schema, (uint64_t)in->home->cfg.max_csrs, *pv || *rw);
    if (*pv || *rw) {
        /* the requests go to the cache, and some chunks to the prover
         * (prover.h); the verdict is the same.  Texts are kept up to the
         * longest an accepted file can hold, so that a cached request is
         * the one the archive's parser would give */
        parse_keep_text_max(p, *rw ? REQCACHE_TEXT_MAX : REQ_CSR_B64_MAX);
        struct chunk *own = *pv ? NULL : chunk_new(CACHE_CHUNK);
        struct chunk *c = *pv ? prover_chunk(*pv) : own;
        while (parse_next_chunk(p, c) > 0) {
            reqcache_add(*rw, c);
            if (*pv) c = prover_offer(*pv, c);
        }
        prover_seal(*pv);   /* what is queued is verified, then its chunks go */
        chunk_free(own);
    }
    enum batch_code code = parse_finish(p, text, sizeof text);
    struct parse_header hdr = *parse_header(p);   /* outlives the parser */
    const struct parse_header *h = &hdr;
    uint64_t count = parse_csr_count(p);
    /* the reader may stop before the last bytes: archive the file whole
     * (only when it may be accepted: a rejected file is not archived) */
    char rest[16384];
    while (code == BC_OK && !t.too_large && tap_read(&t, rest, sizeof rest) > 0)
        ;
    int read_err = ur_error(t.ur);
    ur_close(t.ur);
    close(fd);
    if (!t.werr) compress_out(&t, NULL, 0, ZSTD_e_end);
    int werr = t.werr ? t.werr : uw_finish(t.uw);
    uw_close(t.uw);
    close(afd);
    ZSTD_freeCCtx(t.cz);

    r.have_party = h->have_party;
    memcpy(r.party, h->party, 8);
    r.batch_id = h->batch_id;
    r.have_count = h->have_count;
    r.csr_count = h->declared_count;

    if (t.too_large) {
        code = BC_TOO_LARGE;
        snprintf(text, sizeof text, "file grew past the limit of %ld bytes while being read", in->home->cfg.max_file_bytes);
    } else if (read_err) {
        code = BC_FILE;
        snprintf(text, sizeof text, "read error: %s", strerror(-read_err));
    } else if (code == BC_OK && count < 2) {
        code = BC_TOO_FEW;
        snprintf(text, sizeof text, "%" PRIu64 " CSR%s: a batch holds 2 to %ld; a single CSR is an ad hoc request",
                 count, count == 1 ? "" : "s", in->home->cfg.max_csrs);
    } else if (code == BC_OK && h->declared_count != count) {
        code = BC_COUNT_MISMATCH;
        snprintf(text, sizeof text, "Header CSRCount is %" PRIu64 " but the file holds %" PRIu64 " CSR elements",
                 h->declared_count, count);
    }
    struct party party;
    if (code == BC_OK) {
        int pr = store_party_get(in->store, h->party, &party);
        if (pr < 0) { werr = -EIO; }
        else if (pr == 0) {
            code = BC_UNKNOWN_PARTY;
            snprintf(text, sizeof text, "PartyID %s is not a registered Authorised Subscriber (smki-batch party add)",
                     h->party_text);
        }
    }
    if (code == BC_OK && werr == 0) {
        uint64_t prev;
        int lr = store_batch_lookup(in->store, h->party, h->batch_id, &prev);
        if (lr < 0) werr = -EIO;
        else if (lr == 1) {
            struct batch old;
            if (store_batch_get(in->store, prev, &old) == 1 && strcmp(old.src, src) == 0 &&
                strcmp(old.file, name) == 0) {
                parse_close(p);
                unlink(tmp);
                finish_crashed(in, name, &old, out);
                return;
            }
            code = BC_DUPLICATE_BATCH;
            snprintf(text, sizeof text, "party %s already sent BatchID %s (turn %" PRIu64 ", file %s)",
                     h->party_text, h->batch_id, prev, old.file);
        }
    }
    if (code != BC_OK) {
        parse_close(p);
        unlink(tmp);
        reject(in, name, &r, code, text, out);
        return;
    }
    parse_close(p);
    if (werr != 0) {
        unlink(tmp);
        log_warn("incoming/%s: cannot archive or queue it (%s); left in incoming/, will retry",
                 name, strerror(-werr));
        out->result = INTAKE_RETRY;
        snprintf(out->text, sizeof out->text, "%s", strerror(-werr));
        return;
    }

    /* accept: archive in place, then the turn (the acceptance point) */
    struct batch b = {0};
    memcpy(b.party, h->party, 8);
    snprintf(b.batch_id, sizeof b.batch_id, "%s", h->batch_id);
    snprintf(b.file, sizeof b.file, "%s", name);
    archive_name(in, stem, b.archive, sizeof b.archive);
    b.csrs = (uint32_t)count;
    b.received_at = r.received_at;
    if (schedule(in, &b, &party) != 0) {
        log_warn("incoming/%s: cannot plan it: %s; will retry", name, store_error(in->store));
        unlink(tmp);
        out->result = INTAKE_RETRY;
        return;
    }
    b.state = BATCH_QUEUED;
    snprintf(b.src, sizeof b.src, "%s", src);
    char dst[PATH_MAX + 200];
    snprintf(dst, sizeof dst, "%s/%s", in->home->archive, b.archive);
    if (rename(tmp, dst) != 0 || fs_fsync_dir(in->home->archive) != 0) {
        log_warn("incoming/%s: cannot archive it: %s; will retry", name, strerror(errno));
        unlink(tmp);
        out->result = INTAKE_RETRY;
        return;
    }
    if (store_batch_accept(in->store, &b) != 0) {
        log_warn("incoming/%s: cannot queue it: %s; will retry", name, store_error(in->store));
        unlink(dst);
        out->result = INTAKE_RETRY;
        return;
    }
    r.accepted = 1;
    r.turn = b.turn;
    r.have_count = 1;
    r.csr_count = count;
    r.scheduled_night = b.scheduled_night;
    r.retrieve_not_before = b.retrieve_not_before;
    int rc = receipt_publish(in->home->receipts, stem, &r);
    if (rc != 0) {
        /* queued and durable; the file stays so that the receipt is retried */
        log_warn("incoming/%s: queued as turn %" PRIu64 " but its receipt failed (%s); will retry",
                 name, b.turn, strerror(-rc));
        out->result = INTAKE_RETRY;
        return;
    }
    unlink(path);
    fs_fsync_dir(in->home->incoming);
    if (*rw) {   /* a cache only: a failure costs the second parse, nothing else */
        char cpath[PATH_MAX + 220];
        reqcache_path(in->home->archive, b.archive, cpath, sizeof cpath);
        int crc = reqcache_commit(*rw, b.archive, cpath);
        *rw = NULL;
        if (crc != 0)
            log_warn("incoming/%s: its requests could not be cached (%s); processing parses the archive",
                     name, strerror(-crc));
    }
    out->result = INTAKE_ACCEPTED;
    out->turn = b.turn;
    out->csrs = count;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    out->millis = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    log_info("incoming/%s: accepted in %.0f ms: party %s batch %s, %" PRIu64 " CSRs, turn %" PRIu64 ", night %s",
             name, out->millis, h->party_text, h->batch_id, count, b.turn, b.scheduled_night);
}

void intake_set_prove(struct intake *in, int on)
{
    in->prove = on;
}

void intake_set_cache(struct intake *in, int on)
{
    in->cache = on;
}

void intake_file(struct intake *in, const char *name, struct intake_outcome *out)
{
    struct prover *pv = NULL;
    struct reqcache_writer *rw = NULL;
    take_file(in, name, out, &pv, &rw);
    reqcache_abandon(rw);   /* not accepted */
    /* the prover ran through the fsyncs and the receipt too; accepted, it
     * goes on until the processor starts (processor_give_prover) */
    out->prover = NULL;
    if (out->result == INTAKE_ACCEPTED) out->prover = pv;
    else popcache_free(prover_finish(pv));
}
