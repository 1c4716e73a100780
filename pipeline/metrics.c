/* metrics.c - Prometheus text exposition of the queue, the results and the
 * night; see metrics.h. */
#include "metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "control.h"
#include "fsutil.h"
#include "planner.h"
#include "xmem.h"

static const double BUCKETS[] = {1, 5, 10, 30, 60, 300, 1800, 7200};
#define NBUCKETS (sizeof BUCKETS / sizeof BUCKETS[0])

struct tally {
    const char *home;
    long queued, processing, held, done, failed;
    uint64_t queue_csrs;
    uint64_t bucket[NBUCKETS];
    double dur_sum;
    uint64_t dur_count;
    double last_rate;
    uint64_t last_turn;
};

static int tally_batch(const struct batch *b, void *arg)
{
    struct tally *t = arg;
    int pending = b->state == BATCH_QUEUED || b->state == BATCH_PROCESSING;
    if (pending && control_held(t->home, b->party, b->batch_id)) t->held++;
    else if (b->state == BATCH_QUEUED) t->queued++;
    else if (b->state == BATCH_PROCESSING) t->processing++;
    if (pending) t->queue_csrs += b->csrs - b->done;
    if (b->state == BATCH_FAILED) t->failed++;
    if (b->state == BATCH_DONE) {
        t->done++;
        double secs = (double)b->elapsed_ms / 1000.0;
        for (size_t i = 0; i < NBUCKETS; i++)
            if (secs <= BUCKETS[i]) t->bucket[i]++;
        t->dur_sum += secs;
        t->dur_count++;
        if (b->turn > t->last_turn && b->elapsed_ms > 0) {
            t->last_turn = b->turn;
            t->last_rate = (double)b->csrs / secs;
        }
    }
    return 0;
}

#define HELP(name, type, text) fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type)

int metrics_render(const struct home *h, struct store *st, time_t now, FILE *out)
{
    struct tally t = {.home = h->root};
    if (store_batch_each(st, 0, tally_batch, &t) != 0) return -1;
    struct cap_plan plan;
    if (planner_load(h, st, now, NULL, &plan) != 0) return -1;

    HELP("smki_batch_queue_batches", "gauge", "Batches not yet answered, by state.");
    fprintf(out, "smki_batch_queue_batches{state=\"queued\"} %ld\n", t.queued);
    fprintf(out, "smki_batch_queue_batches{state=\"processing\"} %ld\n", t.processing);
    fprintf(out, "smki_batch_queue_batches{state=\"held\"} %ld\n", t.held);
    HELP("smki_batch_queue_csrs", "gauge", "CSRs of queued, processing and held batches not yet answered.");
    fprintf(out, "smki_batch_queue_csrs %" PRIu64 "\n", t.queue_csrs);
    HELP("smki_batch_batches_total", "counter", "Batches finished, by outcome.");
    fprintf(out, "smki_batch_batches_total{outcome=\"done\"} %ld\n", t.done);
    fprintf(out, "smki_batch_batches_total{outcome=\"failed\"} %ld\n", t.failed);
    HELP("smki_batch_csrs_total", "counter", "CSRs answered, by result and code.");
    for (int c = 0; c < RC_COUNT_; c++) {
        uint64_t v;
        if (store_counter_get(st, req_code_name((enum req_code)c), &v) != 0) {
            cap_plan_free(&plan);
            return -1;
        }
        fprintf(out, "smki_batch_csrs_total{result=\"%s\",code=\"%s\"} %" PRIu64 "\n",
                c == RC_OK ? "issued" : "rejected", req_code_name((enum req_code)c), v);
    }
    HELP("smki_batch_batch_duration_seconds", "histogram", "Processing time of finished batches.");
    for (size_t i = 0; i < NBUCKETS; i++)
        fprintf(out, "smki_batch_batch_duration_seconds_bucket{le=\"%g\"} %" PRIu64 "\n", BUCKETS[i], t.bucket[i]);
    fprintf(out, "smki_batch_batch_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n", t.dur_count);
    fprintf(out, "smki_batch_batch_duration_seconds_sum %.3f\n", t.dur_sum);
    fprintf(out, "smki_batch_batch_duration_seconds_count %" PRIu64 "\n", t.dur_count);
    HELP("smki_batch_throughput_csrs_per_second", "gauge", "Throughput of the last finished batch.");
    fprintf(out, "smki_batch_throughput_csrs_per_second %.1f\n", t.last_rate);
    const struct cap_night *nt = &plan.nights[0];
    HELP("smki_batch_night_capacity_csrs", "gauge", "Nightly capacity of the current or next night.");
    fprintf(out, "smki_batch_night_capacity_csrs %ld\n", nt->capacity);
    HELP("smki_batch_night_planned_csrs", "gauge", "CSRs planned for the current or next night, not yet done.");
    fprintf(out, "smki_batch_night_planned_csrs %ld\n", nt->planned);
    HELP("smki_batch_night_used_csrs", "gauge", "CSRs of batches started in the current night.");
    fprintf(out, "smki_batch_night_used_csrs %ld\n", nt->used);
    long at_risk = 0;
    for (size_t i = 0; i < plan.n; i++) at_risk += plan.slots[i].at_risk;
    HELP("smki_batch_deadlines_at_risk", "gauge", "Queued batches planned to finish after their SEC L8 deadline.");
    fprintf(out, "smki_batch_deadlines_at_risk %ld\n", at_risk);
    HELP("smki_batch_suspended", "gauge", "1 while issuance is suspended (SEC L2.14).");
    fprintf(out, "smki_batch_suspended %d\n", control_suspended(h->root, NULL, 0));
    HELP("smki_batch_metrics_timestamp_seconds", "gauge", "When these metrics were written.");
    fprintf(out, "smki_batch_metrics_timestamp_seconds %lld\n", (long long)now);
    cap_plan_free(&plan);
    return 0;
}

int metrics_write(const struct home *h, struct store *st, time_t now)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) return -1;
    int rc = metrics_render(h, st, now, mem);
    fclose(mem);
    if (rc == 0) {
        char path[PATH_MAX + 300], dir[PATH_MAX + 300], name[PATH_MAX + 300];
        if (h->cfg.metrics_textfile[0] == '/') snprintf(path, sizeof path, "%s", h->cfg.metrics_textfile);
        else snprintf(path, sizeof path, "%s/%s", h->root, h->cfg.metrics_textfile);
        snprintf(dir, sizeof dir, "%s", path);
        snprintf(name, sizeof name, "%s", path);
        char *d = dirname(dir), *n = basename(name);
        rc = fs_mkdirs(d, 0755);
        if (rc == 0) rc = fs_write_atomic(d, n, buf, len, 0644);
    }
    free(buf);
    return rc == 0 ? 0 : -1;
}
