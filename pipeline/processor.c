/* processor.c - the staged pipeline that answers every CSR of a batch.
 *
 * DESIGN
 * Threads per batch: one parser, N validators, one dedup, N signers; the
 * calling thread is the writer.  N = [pipeline] workers or the online cores.
 * The parser reads the archive, or (run --drain) the request cache that this
 * run's intake wrote (reqcache.h), checked whole before the threads start.
 *
 *   free ──> parse ──to_validate──> validate×N ──to_dedup(reorder)──> dedup
 *     ^                                                                 │
 *     │                                                            to_sign
 *     └──── write <──to_write(reorder)── sign×N <──────────────────────┘
 *
 * Ownership: a chunk is owned by whoever popped it last; it goes back to
 * `free` only from the writer, so the pool (2 chunks a worker + 4) bounds everything
 * in flight: backpressure is the parser blocking on an empty `free`.
 * Order: the parser numbers chunks (seq); the two reorder points give dedup
 * and the writer the chunks in seq order, so "earlier in this batch" is
 * request order and the response is in request order.
 * Durability: the writer commits, per chunk, one synced WriteBatch with the
 * certificate records, the chunk's Result XML and the batch's progress.  A
 * certificate exists only once its chunk is committed; the response file is
 * built from the committed Results when the last chunk is in.
 * Resume: chunks with seq < done/CHUNK_REQUESTS were committed before an
 * interruption; they are parsed, validated and deduplicated again (the same
 * verdicts: the store's key check ignores this batch's own keys), never
 * signed or written again.
 * Stop: the writer polls stop() between chunks; on stop or on any failure
 * it aborts the queues, joins every thread, and leaves the batch resumable.
 * Proofs ahead: the intake's provers, one per file taken by run --drain
 * before processing starts, still running (see processor_give_prover); the
 * one of a turn is finished when that turn's workers start, and its
 * popcache lets validate skip the verifies already done.
 */
#include "processor.h"
#include "planner.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "audit.h"
#include "chanq.h"
#include "clock.h"
#include "control.h"
#include "dedup.h"
#include "eui64.h"
#include "hex.h"
#include "fsutil.h"
#include "log.h"
#include "metrics.h"
#include "parse.h"
#include "popcache.h"
#include "prover.h"
#include "reqcache.h"
#include "respwrite.h"
#include "sign.h"
#include "uring_io.h"
#include "validate.h"
#include "window.h"
#include "xmem.h"

#define MAX_WORKERS 64

enum stage { ST_PARSE, ST_VALIDATE, ST_DEDUP, ST_SIGN, ST_WRITE, STAGE_COUNT_ };
static const char *const STAGE_NAMES[STAGE_COUNT_] = {"parse", "validate", "dedup", "sign", "write"};

struct processor {
    struct home *home;
    struct store *store;
    int nworkers;
    struct signer *signer;
    struct validate_ctx *vctx[MAX_WORKERS];
    struct sign_session *sess[MAX_WORKERS];
    struct sign_session *wsess;   /* the writer's, for a serial drawn again */
    struct cert_tmpl tmpl;        /* the signer's certificate shape, recorded in
                                     the store: certificates kept as their fields */
    int tmpl_ok;
    int signer_warned;
    int suspension_logged;
    uint64_t counts[RC_COUNT_];   /* results by code, all time (m/count/...) */
    struct chunk **pool;          /* the chunks, reused batch after batch */
    size_t npool;
    struct {                      /* intake's, oldest first, still checking */
        struct prover *pv;        /* proofs (prover.h) ... */
        uint64_t turn;            /* ... of this turn's file */
    } provers[PROCESSOR_PROVERS];
    int nprovers;
};

/* one batch in flight */
struct job {
    struct processor *p;
    struct batch *b;
    uint64_t turn;
    time_t now;
    uint64_t resume_chunks;      /* chunks committed before this run */
    struct chanq *free_q, *to_validate, *to_sign;
    struct reorder *to_dedup, *to_write;
    struct dedup *dd;
    struct reqcache_reader *rc;  /* the parser's source when intake cached the
                                    requests (reqcache.h), else the archive */
    char rc_path[PATH_MAX + 220];
    uint64_t nchunks;            /* set by the parser at the end */
    uint64_t parsed;             /* requests parsed */
    atomic_int aborted;
    pthread_mutex_t fail_mu;
    char fail[512];              /* the first failure, for the log */
    int fail_batch;              /* the batch itself is bad (archive) */
    pthread_mutex_t cpu_mu;
    double cpu[STAGE_COUNT_];    /* thread CPU seconds per stage */
    uint64_t sample;             /* writer's xorshift state for the sample */
    struct uring_writer *body;   /* Results of committed chunks, appended */
    int first_checked;
    uint8_t serials[CHUNK_REQUESTS][16];   /* writer's scratch: a chunk's serials */
    uint8_t taken[CHUNK_REQUESTS];
};

/* stage_cpu_add - charge this thread's CPU time to a stage */
static void stage_cpu_add(struct job *j, enum stage st)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    pthread_mutex_lock(&j->cpu_mu);
    j->cpu[st] += (double)ts.tv_sec + ts.tv_nsec / 1e9;
    pthread_mutex_unlock(&j->cpu_mu);
}

struct worker_arg {
    struct job *job;
    int index;
};

/* job_fail - record the first failure and stop every stage */
static void job_fail(struct job *j, int batch_fault, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void job_fail(struct job *j, int batch_fault, const char *fmt, ...)
{
    pthread_mutex_lock(&j->fail_mu);
    if (!j->fail[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(j->fail, sizeof j->fail, fmt, ap);
        va_end(ap);
        j->fail_batch = batch_fault;
    }
    pthread_mutex_unlock(&j->fail_mu);
    atomic_store(&j->aborted, 1);
    chanq_close(j->free_q);
    chanq_close(j->to_validate);
    chanq_close(j->to_sign);
    reorder_abort(j->to_dedup);
    reorder_abort(j->to_write);
}

/* feed - chunks filled by fill(src) to validate, numbered, until fill
 * gives 0 (the end) or -1 (a fault: *last) or the job is aborted; the
 * number of chunks fed */
static uint64_t feed(struct job *j, int (*fill)(void *src, struct chunk *c), void *src, int *last)
{
    uint64_t seq = 0;
    *last = 0;
    for (;;) {
        struct chunk *c = chanq_pop(j->free_q);
        if (!c) break;   /* aborted */
        int n = fill(src, c);
        if (n <= 0) {
            chanq_push(j->free_q, c);
            *last = n;
            break;
        }
        j->parsed += (uint64_t)n;
        c->seq = seq++;
        if (chanq_push(j->to_validate, c) != 0) break;
    }
    return seq;
}

/* feed_end - the stages downstream learn that nchunks were all */
static void feed_end(struct job *j, uint64_t nchunks)
{
    j->nchunks = nchunks;
    chanq_close(j->to_validate);
    reorder_end(j->to_dedup, nchunks);
    stage_cpu_add(j, ST_PARSE);
}

static int fill_from_cache(void *rc, struct chunk *c) { return reqcache_next_chunk(rc, c); }
static int fill_from_parser(void *ps, struct chunk *c) { return parse_next_chunk(ps, c); }

/* cache_parse - the cached requests -> chunks; any fault means the cache
 * goes and the batch resumes from its archive */
static void cache_parse(struct job *j)
{
    int last;
    uint64_t n = feed(j, fill_from_cache, j->rc, &last);
    if (last < 0) {   /* checked whole before: a bug, or the disk */
        job_fail(j, 0, "request cache %s: %s; removed: the batch resumes from its archive", j->rc_path,
                 reqcache_error(j->rc));
        unlink(j->rc_path);
    } else if (!atomic_load(&j->aborted) && j->parsed != j->b->csrs) {
        job_fail(j, 0, "request cache %s gave %" PRIu64 " CSRs, the queue says %u; removed: the batch resumes "
                 "from its archive", j->rc_path, j->parsed, j->b->csrs);
        unlink(j->rc_path);
    }
    feed_end(j, n);
}

/* parse_thread - archive (or the request cache) -> chunks, numbered */
static void *parse_thread(void *arg)
{
    struct job *j = arg;
    pthread_setname_np(pthread_self(), "smki-parse");
    if (j->rc) {
        cache_parse(j);
        return NULL;
    }
    char err[512], path[PATH_MAX + 200];
    snprintf(path, sizeof path, "%s/%s", j->p->home->archive, j->b->archive);
    struct archive_reader *ar = archive_open(path, err, sizeof err);
    if (!ar) {
        job_fail(j, 0, "%s", err);
        feed_end(j, 0);   /* the stages downstream still wait for an end */
        return NULL;
    }
    struct parser *ps = parse_open(archive_read, ar, NULL, (uint64_t)j->p->home->cfg.max_csrs, 1);
    int last;
    uint64_t n = feed(j, fill_from_parser, ps, &last);
    if (last < 0) {
        enum batch_code bc = parse_finish(ps, err, sizeof err);
        if (archive_error(ar)[0])
            job_fail(j, 0, "archived request %s: %s", path, archive_error(ar));
        else
            job_fail(j, 1, "archived request %s cannot be read back: %s %s", path, batch_code_name(bc), err);
    }
    if (!atomic_load(&j->aborted)) {
        enum batch_code bc = parse_finish(ps, err, sizeof err);
        if (archive_error(ar)[0])   /* reading it: try again later */
            job_fail(j, 0, "archived request %s: %s", path, archive_error(ar));
        else if (bc != BC_OK)       /* its content (checksummed): retrying cannot help */
            job_fail(j, 1, "archived request %s cannot be read back: %s %s", path, batch_code_name(bc), err);
        else if (j->parsed != j->b->csrs)
            job_fail(j, 1, "archived request %s holds %" PRIu64 " CSRs, the queue says %u",
                     path, j->parsed, j->b->csrs);
    }
    parse_close(ps);
    archive_close(ar);
    feed_end(j, n);
    return NULL;
}

/* validate_thread - the per-request checks, in parallel */
static void *validate_thread(void *arg)
{
    struct worker_arg *wa = arg;
    struct job *j = wa->job;
    struct validate_ctx *ctx = j->p->vctx[wa->index];
    pthread_setname_np(pthread_self(), "smki-validate");
    struct chunk *c;
    while ((c = chanq_pop(j->to_validate)) != NULL) {
        validate_chunk(ctx, c, 0, c->n);
        reorder_put(j->to_dedup, c);
    }
    stage_cpu_add(j, ST_VALIDATE);
    return NULL;
}

/* key_known - store-wide key check for dedup: certified by another batch?
 * (this batch's own keys are in dedup's table already, and on resume they
 * must not count twice) */
static int keys_known(void *arg, const uint8_t (*hashes)[32], size_t n, uint8_t *known)
{
    struct job *j = arg;
    return store_keys_known_outside(j->p->store, hashes, n, j->turn, known);
}

/* dedup_thread - in order: duplicates in the batch and in the store */
static void *dedup_thread(void *arg)
{
    struct job *j = arg;
    struct chunk *c;
    pthread_setname_np(pthread_self(), "smki-dedup");
    while ((c = reorder_next(j->to_dedup)) != NULL) {
        if (dedup_chunk(j->dd, c) != 0) {
            job_fail(j, 0, "dedup: %s", store_error(j->p->store));
            break;
        }
        if (chanq_push(j->to_sign, c) != 0) break;
    }
    chanq_close(j->to_sign);
    reorder_end(j->to_write, j->nchunks);
    stage_cpu_add(j, ST_DEDUP);
    return NULL;
}

/* sign_thread - certificates for the valid requests, in parallel */
static void *sign_thread(void *arg)
{
    struct worker_arg *wa = arg;
    struct job *j = wa->job;
    struct sign_session *ss = j->p->sess[wa->index];
    struct chunk *c;
    pthread_setname_np(pthread_self(), "smki-sign");
    while ((c = chanq_pop(j->to_sign)) != NULL) {
        if (c->seq >= j->resume_chunks)
            for (uint32_t i = 0; i < c->n; i++)
                if (c->req[i].code == RC_OK) sign_request(ss, &c->req[i], j->now);
        reorder_put(j->to_write, c);
    }
    stage_cpu_add(j, ST_SIGN);
    return NULL;
}

/* close_signer - the sessions and the CA, so that ensure_signer starts over */
static void close_signer(struct processor *p)
{
    for (int i = 0; i < p->nworkers; i++) {
        sign_session_free(p->sess[i]);
        p->sess[i] = NULL;
    }
    sign_session_free(p->wsess);
    p->wsess = NULL;
    p->tmpl_ok = 0;
    signer_close(p->signer);
    p->signer = NULL;
}

/* ensure_signer - open the CA, one session per worker and the writer's, once */
static int ensure_signer(struct processor *p)
{
    if (p->signer) return 0;
    char err[512];
    struct sign_profile prof = {p->home->cfg.policy_oid, p->home->cfg.hw_type_oid};
    p->signer = signer_open_file(p->home->ca_cert, p->home->ca_key, &prof, err, sizeof err);
    if (!p->signer) {
        if (!p->signer_warned)
            log_warn("cannot open the issuing CA: %s; batches stay queued until it is fixed", err);
        p->signer_warned = 1;
        return -1;
    }
    for (int i = 0; i <= p->nworkers; i++) {
        struct sign_session *ss = sign_session_new(p->signer, err, sizeof err);
        if (!ss) {
            log_warn("cannot open a signing session: %s", err);
            close_signer(p);
            return -1;
        }
        if (i < p->nworkers) p->sess[i] = ss;
        else p->wsess = ss;
    }
    /* certificates are stored as their template's fields once the template
     * is in the store; without it (a failure here) they are stored whole */
    if (signer_cert_template(p->signer, &p->tmpl) != 0)
        log_warn("the signer's certificate template is malformed; certificates are stored whole");
    else if (store_template_put(p->store, &p->tmpl) != 0)
        log_warn("cannot record the certificate template (%s); certificates are stored whole",
                 store_error(p->store));
    else
        p->tmpl_ok = 1;
    return 0;
}

struct processor *processor_new(struct home *h, struct store *st, char *err, size_t errlen)
{
    struct processor *p = xcalloc(1, sizeof *p);
    p->home = h;
    p->store = st;
    long n = h->cfg.workers;
    if (n <= 0) n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) n = 1;
    if (n > MAX_WORKERS) n = MAX_WORKERS;
    p->nworkers = (int)n;
    for (int i = 0; i < p->nworkers; i++) p->vctx[i] = validate_ctx_new();
    for (int c = 0; c < RC_COUNT_; c++)
        if (store_counter_get(st, req_code_name((enum req_code)c), &p->counts[c]) != 0) {
            snprintf(err, errlen, "%s", store_error(st));
            processor_free(p);
            return NULL;
        }
    return p;
}

void processor_give_prover(struct processor *p, uint64_t turn, struct prover *pv)
{
    if (!pv) return;
    if (p->nprovers == PROCESSOR_PROVERS) {   /* full: the oldest goes, proofs and all */
        popcache_free(prover_finish(p->provers[0].pv));
        memmove(&p->provers[0], &p->provers[1], sizeof p->provers[0] * (PROCESSOR_PROVERS - 1));
        p->nprovers--;
    }
    p->provers[p->nprovers].pv = pv;
    p->provers[p->nprovers].turn = turn;
    p->nprovers++;
}

/* take_proofs - finish the provers of turn and of any turn before it (those
 * batches are done or gone): turn's proofs, if any (the caller frees them),
 * else NULL.  Provers of later turns go on holding theirs. */
static struct popcache *take_proofs(struct processor *p, uint64_t turn)
{
    struct popcache *mine = NULL;
    int kept = 0;
    for (int i = 0; i < p->nprovers; i++) {
        if (p->provers[i].turn > turn) {
            p->provers[kept++] = p->provers[i];
            continue;
        }
        struct popcache *pc = prover_finish(p->provers[i].pv);
        if (p->provers[i].turn == turn && !mine && popcache_count(pc) > 0)
            mine = pc;
        else
            popcache_free(pc);
    }
    p->nprovers = kept;
    return mine;
}

void processor_free(struct processor *p)
{
    if (!p) return;
    for (int i = 0; i < p->nprovers; i++) popcache_free(prover_finish(p->provers[i].pv));
    for (int i = 0; i < p->nworkers; i++) validate_ctx_free(p->vctx[i]);
    close_signer(p);
    for (size_t i = 0; i < p->npool; i++) chunk_free(p->pool[i]);
    free(p->pool);
    free(p);
}

struct archive_refs {
    char **names;
    size_t n, cap;
};

static int log_interrupted(const struct batch *b, void *arg)
{
    struct archive_refs *refs = arg;
    if (refs->n == refs->cap) {
        refs->cap = refs->cap ? refs->cap * 2 : 64;
        refs->names = xrealloc(refs->names, refs->cap * sizeof *refs->names);
    }
    refs->names[refs->n++] = xstrdup(b->archive);
    if (b->state == BATCH_PROCESSING)
        log_info("turn %" PRIu64 " (batch %s) was interrupted at %u of %u CSRs; it resumes after its last committed chunk",
                 b->turn, b->batch_id, b->done, b->csrs);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* processor_recover - log interrupted batches; remove archives that no batch
 * refers to: a crash came after intake archived a file and before it was
 * queued, so the file is still in incoming/ and will be taken again */
void processor_recover(struct processor *p)
{
    struct archive_refs refs = {0};
    if (store_batch_each(p->store, 0, log_interrupted, &refs) == 0) {
        if (refs.n) qsort(refs.names, refs.n, sizeof *refs.names, by_name);
        DIR *d = opendir(p->home->archive);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            size_t len = strlen(e->d_name);
            if (e->d_name[0] == '.' || len < 9 || strcmp(e->d_name + len - 8, ".xml.zst") != 0) continue;
            const char *key = e->d_name;
            if (refs.n && bsearch(&key, refs.names, refs.n, sizeof *refs.names, by_name)) continue;
            if (unlinkat(dirfd(d), e->d_name, 0) == 0)
                log_info("archive/%s belonged to no batch (an intake cut short by a crash): removed; its file is "
                         "taken again from incoming/", e->d_name);
        }
        if (d) closedir(d);
    }
    for (size_t i = 0; i < refs.n; i++) free(refs.names[i]);
    free(refs.names);
}

/* response_name - PARTY_BATCH.response.xml */
static void response_name(const struct batch *b, char *out, size_t cap)
{
    char party[EUI64_TEXT_LEN + 1];
    eui64_format(b->party, party);
    snprintf(out, cap, "%s_%s.response.xml", party, b->batch_id);
}

/* The response is written in place: responses/.PARTY_BATCH.partial holds a
 * HEADER_RESERVE-byte hole for the header (whose counts are known only at
 * the end), then the Results of every committed chunk, appended and fsynced
 * before the chunk's records are committed (batch.body_len counts them).
 * To publish: the header is written into the hole and padded with spaces
 * (whitespace between elements), the footer appended, fsync, rename, fsync
 * of the directory.  No copy; a resumed batch cuts the file back to
 * HEADER_RESERVE + body_len. */
#define HEADER_RESERVE 1024

/* partial_path - responses/.PARTY_BATCH.partial */
static void partial_path(struct processor *p, const struct batch *b, char *out, size_t cap)
{
    char name[300];
    response_name(b, name, sizeof name);
    snprintf(out, cap, "%s/.%s.partial", p->home->responses, name);
}

/* publish_response - header into the hole, footer, fsync, rename, fsync dir */
static int publish_response(struct processor *p, struct batch *b, int fd, struct uring_writer *w,
                            char *err, size_t errlen)
{
    char name[300], partial[PATH_MAX + 320], dst[PATH_MAX + 320];
    response_name(b, name, sizeof name);
    partial_path(p, b, partial, sizeof partial);
    snprintf(dst, sizeof dst, "%s/%s", p->home->responses, name);
    struct resp_buf rb = {0};
    struct resp_header hdr = {.batch_id = b->batch_id, .turn = b->turn, .received_at = b->received_at,
                              .completed_at = b->completed_at, .issued = b->issued, .rejected = b->rejected};
    memcpy(hdr.party, b->party, 8);
    resp_render_header(&rb, &hdr);
    if (rb.len >= HEADER_RESERVE) log_panic("response header of %zu bytes exceeds its reserve", rb.len);
    char head[HEADER_RESERVE];
    memcpy(head, rb.data, rb.len);
    memset(head + rb.len, ' ', HEADER_RESERVE - rb.len - 1);
    head[HEADER_RESERVE - 1] = '\n';
    /* the Results began after the hole: "<Results>" is the last thing in
     * the header, so the padding sits inside <Results>, before the first
     * <Result> - still only whitespace between elements */
    int rc = 0;
    if (pwrite(fd, head, HEADER_RESERVE, 0) != HEADER_RESERVE) rc = errno ? -errno : -EIO;
    resp_buf_reset(&rb);
    resp_render_footer(&rb);
    if (rc == 0) rc = uw_write(w, rb.data, rb.len);
    if (rc == 0) rc = uw_finish(w);
    resp_buf_free(&rb);
    if (rc == 0 && rename(partial, dst) != 0) rc = -errno;
    if (rc == 0) rc = fs_fsync_dir(p->home->responses);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", dst, strerror(-rc));
        return -1;
    }
    return 0;
}

/* check_chunk - the writer's checks of each new certificate of a chunk:
 * its serial is not in the store, and it conforms to the profile (cheap
 * check for all; full independent re-parse and verify for the first of the
 * batch and a random sample of about 1 in FULL_CHECK_EVERY) */
#define FULL_CHECK_EVERY 1024
static int check_chunk(struct job *j, struct chunk *c)
{
    struct processor *p = j->p;
    char err[256];
    /* the chunk's serials in one batched lookup; a taken one (never seen:
     * 2^-127 a draw) is drawn again and checked alone */
    uint8_t (*serials)[16] = j->serials, *taken = j->taken;
    size_t n = 0;
    if (c->n > CHUNK_REQUESTS) log_panic("chunk of %u requests (at most %d)", c->n, CHUNK_REQUESTS);
    for (uint32_t i = 0; i < c->n; i++)
        if (c->req[i].code == RC_OK) memcpy(serials[n++], c->req[i].serial, 16);
    if (store_serials_known(p->store, (const uint8_t (*)[16])serials, n, taken) != 0) {
        job_fail(j, 0, "serial check: %s", store_error(p->store));
        return -1;
    }
    size_t k = 0;
    for (uint32_t i = 0; i < c->n; i++) {
        struct request *r = &c->req[i];
        if (r->code != RC_OK) continue;
        for (int tries = 0, known = taken[k++];; tries++) {
            if (tries > 0) known = store_serial_known(p->store, r->serial);
            if (known < 0) {
                job_fail(j, 0, "serial check: %s", store_error(p->store));
                return -1;
            }
            if (!known) break;
            if (tries > 3 || sign_reissue(p->wsess, r, j->now) != 0) {
                job_fail(j, 0, "could not draw a fresh serial");
                return -1;
            }
        }
        j->sample ^= j->sample << 13;   /* xorshift64: the sample's dice */
        j->sample ^= j->sample >> 7;
        j->sample ^= j->sample << 17;
        int full = !j->first_checked || j->sample % FULL_CHECK_EVERY == 0;
        if (sign_check_cert(p->signer, r, full, err, sizeof err) != 0) {
            job_fail(j, 0, "PROFILE CHECK FAILED for request %s of turn %" PRIu64 ": %s; nothing of "
                     "this batch is released; fix the software or the configuration",
                     r->request_id, j->turn, err);
            return -1;
        }
        j->first_checked = 1;
    }
    return 0;
}

/* add_chunk - a checked chunk's Results to the body file and its records
 * and progress into wb; 0 or -errno from the body write */
static int add_chunk(struct job *j, struct store_batch *wb, struct chunk *c, struct resp_buf *rb)
{
    struct batch *b = j->b;
    uint32_t issued = 0, rejected = 0;
    resp_buf_reset(rb);
    resp_render_chunk(rb, c, &issued, &rejected);
    for (uint32_t i = 0; i < c->n; i++) {
        struct request *r = &c->req[i];
        j->p->counts[r->code < RC_COUNT_ ? r->code : RC_INTERNAL]++;
        if (r->code != RC_OK) continue;
        struct cert_meta m = {.turn = b->turn, .issued_at = j->now, .usage = (uint8_t)r->usage};
        memcpy(m.device, r->device, 8);
        store_wb_add_cert(wb, r->serial, &m, r->key_hash, r->cert, r->cert_len, j->p->tmpl_ok ? &j->p->tmpl : NULL);
    }
    b->done += c->n;
    b->issued += issued;
    b->rejected += rejected;
    return uw_write(j->body, rb->data, rb->len);
}

/* audit_group - one audit entry for the certificates of a group of chunks:
 * turn, chunks, and serial/device/usage of each certificate */
static int audit_group(struct job *j, struct chunk **group, size_t n, struct resp_buf *a, char *head)
{
    resp_buf_reset(a);
    size_t first = n, count = 0;
    for (size_t i = 0; i < n; i++) {
        if (group[i]->seq < j->resume_chunks) continue;
        if (first == n) first = i;
        for (uint32_t k = 0; k < group[i]->n; k++) {
            const struct request *r = &group[i]->req[k];
            if (r->code != RC_OK) continue;
            char item[64], *q = item;
            *q++ = ' ';
            hex_upper(r->serial, 16, q);
            q += 32;
            *q++ = '/';
            hex_upper(r->device, 8, q);
            q += 16;
            *q++ = '/';
            *q++ = r->usage == USAGE_DS ? 'D' : 'K';
            *q++ = r->usage == USAGE_DS ? 'S' : 'A';
            resp_buf_append(a, item, (size_t)(q - item));
            count++;
        }
    }
    if (first == n) {
        snprintf(head, 96, "%s", "");
        return 0;
    }
    char intro[160];
    snprintf(intro, sizeof intro, "turn=%" PRIu64 " chunks=%" PRIu64 "-%" PRIu64 " certificates=%zu",
             j->turn, group[first]->seq, group[n - 1]->seq, count);
    size_t ilen = strlen(intro);
    char *details = xmalloc(ilen + a->len + 1);
    memcpy(details, intro, ilen);
    if (a->len) memcpy(details + ilen, a->data, a->len);
    details[ilen + a->len] = '\0';
    int rc = audit_append_text(j->p->home->root, "issue", details, head);
    free(details);
    return rc;
}

/* write_stage - the writer: take chunks in order; group every chunk that
 * is ready into one synced WriteBatch (fewer syncs when the disk is slow,
 * one per chunk when it is fast); give the chunks back to the pool */
static void write_stage(struct job *j, int (*stop)(void *), void *stop_arg)
{
    struct processor *p = j->p;
    struct resp_buf rb = {0}, audit = {0};
    struct chunk *group[64];
    for (;;) {
        size_t n = 0;
        struct chunk *c = reorder_next(j->to_write);
        if (!c) break;
        group[n++] = c;
        while (n < sizeof group / sizeof group[0] && (c = reorder_try_next(j->to_write)) != NULL)
            group[n++] = c;
        struct batch saved = *j->b;
        uint64_t saved_counts[RC_COUNT_];
        memcpy(saved_counts, p->counts, sizeof saved_counts);
        struct store_batch *wb = store_wb_new(p->store);
        int rc = 0;
        for (size_t i = 0; i < n && rc == 0; i++) {
            if (group[i]->seq < j->resume_chunks) continue;   /* committed before */
            rc = check_chunk(j, group[i]);
            if (rc == 0 && (rc = add_chunk(j, wb, group[i], &rb)) != 0)
                job_fail(j, 0, "writing the Results: %s", strerror(-rc));
        }
        /* the Results are durable before the records that count them */
        if (rc == 0 && (rc = uw_sync(j->body)) != 0)
            job_fail(j, 0, "writing the Results: %s", strerror(-rc));
        /* and nothing is issued unaudited: the audit entry comes first */
        char head[96];
        if (rc == 0 && (rc = audit_group(j, group, n, &audit, head)) != 0)
            job_fail(j, 0, "writing the audit log: %s", strerror(-rc));
        if (rc == 0) {
            j->b->body_len = uw_bytes(j->body) - HEADER_RESERVE;
            if (head[0]) store_wb_add_audit_head(wb, head);
            for (int k = 0; k < RC_COUNT_; k++)
                if (p->counts[k]) store_wb_add_counter(wb, req_code_name((enum req_code)k), p->counts[k]);
            store_wb_add_batch(wb, j->b);
            if (store_wb_commit(p->store, wb) != 0) {
                job_fail(j, 0, "cannot record chunks: %s", store_error(p->store));
                rc = -1;
            }
        }
        store_wb_free(wb);
        if (rc != 0) {
            *j->b = saved;   /* nothing of this group is recorded; the body is
                                cut back to body_len when the batch resumes */
            memcpy(p->counts, saved_counts, sizeof saved_counts);
            break;
        }
        for (size_t i = 0; i < n; i++) chanq_push(j->free_q, group[i]);
        if (control_suspended(p->home->root, NULL, 0) || control_held(p->home->root, j->b->party, j->b->batch_id)) {
            log_warn("turn %" PRIu64 ": suspended or held by an operator: stopping at a chunk boundary", j->turn);
            job_fail(j, 0, "stop requested");
            break;
        }
        if (stop && stop(stop_arg)) {
            job_fail(j, 0, "stop requested");
            break;
        }
    }
    resp_buf_free(&rb);
    resp_buf_free(&audit);
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* audit_done - the batch-done entry; head receives its "<seq>:<hash>" */
static int audit_done(struct processor *p, const struct batch *b, int recovered, char *head)
{
    char details[256];
    snprintf(details, sizeof details, "turn=%" PRIu64 " batch=%s csrs=%u issued=%u rejected=%u%s", b->turn,
             b->batch_id, b->csrs, b->issued, b->rejected, recovered ? " recovered=1" : "");
    return audit_append_text(p->home->root, "batch-done", details, head);
}

/* completed_at_of - CompletedAt from a published response's header */
static time_t completed_at_of(const char *path)
{
    char buf[HEADER_RESERVE + 1];
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, HEADER_RESERVE, f);
    fclose(f);
    buf[n] = '\0';
    char *c = strstr(buf, "<CompletedAt>");
    time_t t = 0;
    if (c) {
        char stamp[32];
        snprintf(stamp, sizeof stamp, "%.20s", c + 13);
        if (clock_parse(stamp, &t) != 0) t = 0;
    }
    return t;
}

/* leave - process_batch's return before its threads start */
static int leave(struct job *j, int rc)
{
    reqcache_close(j->rc);
    j->rc = NULL;
    return rc;
}

/* process_batch - run the stages over one batch; 0 done (or failed for
 * good), 1 stopped on request (resumable), -1 could not finish now */
static int process_batch(struct processor *p, struct batch *b, int (*stop)(void *), void *stop_arg)
{
    if (ensure_signer(p) != 0) return -1;
    struct job j = {.p = p, .b = b, .turn = b->turn, .now = clock_now()};
    /* a damaged archive fails the batch before anything of it is issued */
    char apath[PATH_MAX + 200], aerr[512];
    snprintf(apath, sizeof apath, "%s/%s", p->home->archive, b->archive);
    /* requests cached by this run's intake (checked whole here) spare the
     * parse of the archive, and so its checksum pass */
    reqcache_path(p->home->archive, b->archive, j.rc_path, sizeof j.rc_path);
    j.rc = reqcache_open(j.rc_path, b->archive, b->csrs, aerr, sizeof aerr);
    if (!j.rc && aerr[0]) {
        log_warn("turn %" PRIu64 ": its request cache is not used (%s); removed: the archive is parsed", b->turn, aerr);
        unlink(j.rc_path);
    }
    int av = j.rc ? 0 : archive_verify(apath, aerr, sizeof aerr);
    if (av < 0) {
        log_warn("turn %" PRIu64 ": cannot read its archived request: %s; will retry", b->turn, aerr);
        return leave(&j, -1);
    }
    if (av > 0) {
        log_warn("turn %" PRIu64 " (batch %s): FAILED: the archived request is damaged: %s%s", b->turn, b->batch_id,
                 aerr, b->done ? "; certificates already issued for it stay recorded" : "; nothing was issued");
        b->state = BATCH_FAILED;
        snprintf(b->error, sizeof b->error, "the archived request is damaged: %s", aerr);
        char partial[PATH_MAX + 320];
        partial_path(p, b, partial, sizeof partial);
        if (b->done == 0) unlink(partial);
        else snprintf(b->error + strlen(b->error), sizeof b->error - strlen(b->error),
                      "; the Results of the %u CSRs answered are kept in %s", b->done, partial);
        store_batch_put(p->store, b);
        audit_append(p->home->root, "batch-failed", "turn=%" PRIu64 " batch=%s reason=%s", b->turn, b->batch_id,
                     b->error);
        return leave(&j, 0);
    }
    /* commits are whole chunks, but for the last one of the batch */
    j.resume_chunks = (b->done + CHUNK_REQUESTS - 1) / CHUNK_REQUESTS;
    int resuming = b->state == BATCH_PROCESSING && b->done > 0;
    if (resuming && b->done < b->csrs &&
        audit_append(p->home->root, "resume", "turn=%" PRIu64 " committed_chunks=%" PRIu64 " done=%u (issue entries "
                     "of this turn for later chunks written before the interruption were never committed: void)",
                     b->turn, j.resume_chunks, b->done) != 0) {
        log_warn("turn %" PRIu64 ": cannot write the audit log; nothing is issued unaudited", b->turn);
        return leave(&j, -1);
    }
    RAND_bytes((unsigned char *)&j.sample, sizeof j.sample);
    j.sample |= 1;
    if (b->done % CHUNK_REQUESTS != 0 && b->done != b->csrs)
        log_panic("turn %" PRIu64 ": progress %u is not on a chunk boundary", b->turn, b->done);
    /* resuming: this turn's committed records are looked up again (dedup
     * asks whether each key is known outside this turn); in table files
     * those hits are cheap, in the memtable each one would sort it */
    if (resuming && store_flush(p->store, 1) != 0) {
        log_warn("turn %" PRIu64 ": cannot flush the store: %s", b->turn, store_error(p->store));
        return leave(&j, -1);
    }
    if (!resuming) {
        b->state = BATCH_PROCESSING;
        b->started_at = j.now;
        b->done = b->issued = b->rejected = 0;
        j.resume_chunks = 0;
        if (store_batch_put(p->store, b) != 0) {
            log_warn("turn %" PRIu64 ": cannot mark it processing: %s", b->turn, store_error(p->store));
            return leave(&j, -1);
        }
    }
    char body[PATH_MAX + 320];
    partial_path(p, b, body, sizeof body);
    if (j.resume_chunks == 0) b->body_len = 0;
    struct stat st;
    if (j.resume_chunks > 0 && (stat(body, &st) != 0 || (uint64_t)st.st_size < HEADER_RESERVE + b->body_len)) {
        char name[300], dst[PATH_MAX + 320];
        response_name(b, name, sizeof name);
        snprintf(dst, sizeof dst, "%s/%s", p->home->responses, name);
        if (b->done == b->csrs && stat(dst, &st) == 0) {
            /* published, but the crash came before its state was recorded */
            b->state = BATCH_DONE;
            b->completed_at = completed_at_of(dst);
            if (!b->completed_at) b->completed_at = clock_now();
            char head[96] = "", mark[96];
            struct store_batch *wb = store_wb_new(p->store);
            /* the entry may have been written just before the crash */
            snprintf(mark, sizeof mark, " batch-done turn=%" PRIu64 " ", b->turn);
            if (!audit_tail_contains(p->home->root, mark) && audit_done(p, b, 1, head) == 0 && head[0])
                store_wb_add_audit_head(wb, head);
            store_wb_add_batch(wb, b);
            int rc = store_wb_commit(p->store, wb);
            store_wb_free(wb);
            if (rc != 0) return leave(&j, -1);
            log_info("turn %" PRIu64 ": response %s was published before an interruption; marked done",
                     b->turn, name);
            return leave(&j, 0);
        }
        log_warn("turn %" PRIu64 ": %s is missing or shorter than its %u committed Results (%" PRIu64
                 " bytes); nothing more is issued for this batch until it is restored", b->turn, body,
                 b->done, b->body_len);
        return leave(&j, -1);
    }
    int body_fd = open(body, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
    int uerr = 0;
    if (body_fd < 0 || ftruncate(body_fd, (off_t)(HEADER_RESERVE + b->body_len)) != 0 ||
        !(j.body = uw_open(body_fd, HEADER_RESERVE + b->body_len, 1 << 20, 2, &uerr))) {
        log_warn("turn %" PRIu64 ": %s: %s; will retry", b->turn, body, strerror(uerr ? -uerr : errno));
        if (body_fd >= 0) close(body_fd);
        return leave(&j, -1);
    }
    pthread_mutex_init(&j.fail_mu, NULL);
    pthread_mutex_init(&j.cpu_mu, NULL);
    struct timespec wcpu0;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &wcpu0);
    /* a chunk in each worker of validate and sign, one in parse, one with
     * the writer, two to spare: 8 chunks (2,048 requests, about 4 MB) for
     * two workers.  12 were no faster (50k drains with chunks of 512, four
     * interleaved runs each: 2.32-2.65 s against 2.14-2.54 for 8 and
     * 2.15-2.59 for 6) and held 4-6 MiB more */
    size_t pool = (size_t)p->nworkers * 2 + 4;
    j.free_q = chanq_new(pool);
    j.to_validate = chanq_new(pool);
    j.to_sign = chanq_new(pool);
    j.to_dedup = reorder_new(pool);
    j.to_write = reorder_new(pool);
    j.dd = dedup_new(b->csrs, keys_known, &j);
    /* the chunk pool lives as long as the processor: memory stays flat
     * from batch to batch */
    if (!p->pool) {
        p->npool = pool;
        p->pool = xcalloc(pool, sizeof *p->pool);
        for (size_t i = 0; i < pool; i++) p->pool[i] = chunk_new(CHUNK_REQUESTS);
    }
    for (size_t i = 0; i < p->npool; i++) chanq_push(j.free_q, p->pool[i]);
    double t0 = mono_now();
    uint32_t done0 = b->done;
    log_info("turn %" PRIu64 ": processing batch %s (%u CSRs%s) with %d workers%s", b->turn, b->batch_id,
             b->csrs, j.resume_chunks ? ", resuming" : "", p->nworkers,
             j.rc ? ", its requests as intake parsed them (request cache)" : "");

    /* proofs of possession checked while the file was taken (prover.h) */
    uint64_t skipped0[MAX_WORKERS];
    struct popcache *known = take_proofs(p, b->turn);
    for (int i = 0; i < p->nworkers; i++) {
        validate_ctx_set_popcache(p->vctx[i], known, NULL);
        skipped0[i] = validate_ctx_skipped(p->vctx[i]);
    }
    pthread_t parser, deduper, vt[MAX_WORKERS], sg[MAX_WORKERS];
    struct worker_arg wa[MAX_WORKERS];
    pthread_attr_t attr;   /* 1 MiB stacks, not 8: the stages keep their data in chunks */
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 1u << 20);
    pthread_create(&parser, &attr, parse_thread, &j);
    pthread_create(&deduper, &attr, dedup_thread, &j);
    for (int i = 0; i < p->nworkers; i++) {
        wa[i] = (struct worker_arg){&j, i};
        pthread_create(&vt[i], &attr, validate_thread, &wa[i]);
        pthread_create(&sg[i], &attr, sign_thread, &wa[i]);
    }
    pthread_attr_destroy(&attr);

    write_stage(&j, stop, stop_arg);
    struct timespec wcpu1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &wcpu1);
    j.cpu[ST_WRITE] = (double)(wcpu1.tv_sec - wcpu0.tv_sec) + (wcpu1.tv_nsec - wcpu0.tv_nsec) / 1e9;
    pthread_join(parser, NULL);
    pthread_join(deduper, NULL);
    for (int i = 0; i < p->nworkers; i++) {
        pthread_join(vt[i], NULL);
        pthread_join(sg[i], NULL);
    }
    uint64_t proven = 0;
    if (known) j.cpu[ST_VALIDATE] += popcache_cpu(known);   /* done ahead, during intake */
    for (int i = 0; i < p->nworkers; i++) {
        proven += validate_ctx_skipped(p->vctx[i]) - skipped0[i];
        validate_ctx_set_popcache(p->vctx[i], NULL, NULL);
    }
    popcache_free(known);
    int cached = j.rc != NULL;
    reqcache_close(j.rc);
    j.rc = NULL;
    dedup_free(j.dd);
    chanq_free(j.free_q);
    chanq_free(j.to_validate);
    chanq_free(j.to_sign);
    reorder_free(j.to_dedup);
    reorder_free(j.to_write);
    pthread_mutex_destroy(&j.fail_mu);
    pthread_mutex_destroy(&j.cpu_mu);

    int rc = 0;
    char err[512];
    if (!j.fail[0]) {
        b->completed_at = clock_now();
        if (publish_response(p, b, body_fd, j.body, err, sizeof err) != 0)
            snprintf(j.fail, sizeof j.fail, "cannot publish the response: %s", err);
    }
    uw_close(j.body);
    close(body_fd);
    /* the batch is over (done or failed): its cache has served */
    if (cached && (!j.fail[0] || j.fail_batch)) unlink(j.rc_path);
    if (j.fail[0] && j.fail_batch) {
        /* the batch itself cannot be processed: fail it, go on with the next */
        log_warn("turn %" PRIu64 " (batch %s): FAILED: %s", b->turn, b->batch_id, j.fail);
        audit_append(p->home->root, "batch-failed", "turn=%" PRIu64 " batch=%s reason=%s", b->turn, b->batch_id, j.fail);
        b->state = BATCH_FAILED;
        snprintf(b->error, sizeof b->error, "%s", j.fail);
        for (char *q = b->error; *q; q++) if (*q == '\n') *q = ' ';
        store_batch_put(p->store, b);
        unlink(body);
        return 0;
    }
    if (j.fail[0]) {
        if (strcmp(j.fail, "stop requested") == 0) {
            log_info("turn %" PRIu64 ": stopped at %u of %u CSRs (all committed); resumes at next run",
                     b->turn, b->done, b->csrs);
            return 1;
        }
        log_warn("turn %" PRIu64 " (batch %s): interrupted: %s; it stays queued and resumes", b->turn,
                 b->batch_id, j.fail);
        return -1;
    }
    b->state = BATCH_DONE;
    b->elapsed_ms += (uint64_t)((mono_now() - t0) * 1000);
    /* audited before it is recorded, and the store anchors that entry */
    char head[96] = "";
    struct store_batch *wb = store_wb_new(p->store);
    if (audit_done(p, b, 0, head) == 0 && head[0]) store_wb_add_audit_head(wb, head);
    store_wb_add_batch(wb, b);
    rc = store_wb_commit(p->store, wb);
    store_wb_free(wb);
    if (rc != 0) {
        log_warn("turn %" PRIu64 ": response published but its state not recorded: %s", b->turn,
                 store_error(p->store));
        return -1;
    }
    /* this batch's records to table files, in the background while the
     * next batch runs: keeps the WAL (and a restart's replay) one batch long */
    store_flush(p->store, 0);
    if (metrics_write(p->home, p->store, clock_now()) != 0) log_warn("cannot write the metrics file");
    double secs = mono_now() - t0;
    uint32_t n = b->done - done0;
    log_info("turn %" PRIu64 ": batch %s done: %u CSRs, %u issued, %u rejected, %.2f s, %.0f CSRs/s",
             b->turn, b->batch_id, b->csrs, b->issued, b->rejected, secs, secs > 0 ? n / secs : 0.0);
    if (n) {
        char line[512];
        int len = 0;
        for (int st = 0; st < STAGE_COUNT_; st++)
            len += snprintf(line + len, sizeof line - (size_t)len, "%s%s %.1f", st ? ", " : "",
                            STAGE_NAMES[st], j.cpu[st] * 1e6 / n);
        log_info("turn %" PRIu64 ": CPU per CSR (us): %s", b->turn, line);
        if (proven)
            log_info("turn %" PRIu64 ": %" PRIu64 " proofs of possession were checked while the file was "
                     "taken (on an idle core; its CPU is counted in validate above); their requests "
                     "were checked again but for that verify", b->turn, proven);
    }
    return 0;
}

/* process_turn - one batch by turn, if it is still pending; 0 or -1 */
static int process_turn(struct processor *p, uint64_t turn, int (*stop)(void *), void *stop_arg)
{
    struct batch b;
    int rc = store_batch_get(p->store, turn, &b);
    if (rc < 0) {
        log_warn("queue: %s", store_error(p->store));
        return -1;
    }
    if (rc == 0 || control_held(p->home->root, b.party, b.batch_id) ||
        (b.state != BATCH_QUEUED && b.state != BATCH_PROCESSING))
        return 0;
    return process_batch(p, &b, stop, stop_arg);
}

struct pending_list {
    const char *home;
    uint64_t *turns;
    size_t n, cap;
};

static int collect_pending(const struct batch *b, void *arg)
{
    struct pending_list *l = arg;
    if ((b->state != BATCH_QUEUED && b->state != BATCH_PROCESSING) || control_held(l->home, b->party, b->batch_id))
        return 0;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 32;
        l->turns = xrealloc(l->turns, l->cap * sizeof *l->turns);
    }
    l->turns[l->n++] = b->turn;
    return 0;
}

int processor_drain(struct processor *p, int (*stop)(void *), void *stop_arg)
{
    char reason[512];
    if (control_suspended(p->home->root, reason, sizeof reason)) {
        log_warn("issuance is SUSPENDED (%s): nothing is issued; 'smki-batch resume' lifts it", reason);
        return 0;
    }
    struct pending_list l = {.home = p->home->root};
    if (store_batch_each(p->store, 0, collect_pending, &l) != 0) {
        log_warn("queue: %s", store_error(p->store));
        free(l.turns);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < l.n && rc == 0; i++) {
        if (stop && stop(stop_arg)) break;
        rc = process_turn(p, l.turns[i], stop, stop_arg);
    }
    free(l.turns);
    return rc < 0 ? -1 : 0;
}

int processor_run_plan(struct processor *p, int (*stop)(void *), void *stop_arg)
{
    for (;;) {
        time_t now = clock_now();
        if (!window_in_window(&p->home->cfg, now) || (stop && stop(stop_arg))) return 0;
        char reason[512];
        if (control_suspended(p->home->root, reason, sizeof reason)) {
            if (!p->suspension_logged)
                log_warn("issuance is SUSPENDED (%s): files are taken and receipted, nothing is issued", reason);
            p->suspension_logged = 1;
            return 0;
        }
        p->suspension_logged = 0;
        struct cap_plan plan;
        if (planner_load(p->home, p->store, now, NULL, &plan) != 0) {
            log_warn("plan: %s", store_error(p->store));
            return -1;
        }
        /* the first batch planned in the window that is open now */
        uint64_t turn = 0;
        if (plan.n > 0 && plan.slots[0].night_start <= now) turn = plan.slots[0].turn;
        cap_plan_free(&plan);
        if (!turn) return 0;   /* nothing more tonight */
        int rc = process_turn(p, turn, stop, stop_arg);
        if (rc != 0) return rc < 0 ? -1 : 0;
    }
}
