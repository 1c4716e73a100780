/* cmd_run.c - `smki-batch run`: the service loop.
 *
 *   start     open the store (this process is then its only writer), remove
 *             temp files a crash left, rescan incoming/ (files dropped while
 *             the service was down are taken, oldest first)
 *   loop      take every file in incoming/ (receipt within a second of its
 *             arrival); process queued batches in turn order (processor.h);
 *             wait on the spool watch (inotify, signals, a 1 s tick)
 *   stop      SIGTERM/SIGINT: the current batch stops at a chunk boundary
 *             (everything answered so far is durable), then exit 0
 * --drain: take what is there, process every queued batch now whatever the
 * window, exit 0 when the queue is empty (1 if a file could not be taken).
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "cli.h"
#include "clock.h"
#include "fsutil.h"
#include "intake.h"
#include "log.h"
#include "metrics.h"
#include "processor.h"
#include "reqcache.h"
#include "spool.h"
#include "window.h"

static void help(void)
{
    printf("usage: smki-batch run [--drain | --once] [--home DIR]\n\n"
           "The service. Watches HOME/spool/incoming/, answers each file with a receipt in\n"
           "spool/receipts/, queues accepted batches in turn order and issues their\n"
           "certificates inside the nightly window. Stops cleanly on SIGTERM or SIGINT.\n"
           "--drain takes what is in incoming/, processes every queued batch now (ignoring\n"
           "the window, not a suspension or a hold) and exits 0 when the queue is empty.\n"
           "--once does one pass of the service loop and exits: takes what is in\n"
           "incoming/, processes what the plan gives the window open now (nothing outside\n"
           "the window). With SMKI_NOW, tests and operators can place it in the night.\n");
}

/* Intake and processing share this thread.  A pass over incoming/ is a
 * list of names (svc->pass) taken one file at a time: all at once when the
 * service is otherwise idle, and one file between two chunk commits while a
 * batch is being processed (between_chunks, called by the processor's
 * writer).  So a file that arrives during a batch gets its receipt within
 * one intake plus one commit, and in a night the intake of the next files
 * overlaps the signing of the first: the stages keep working on the chunks
 * already in flight while this thread reads and validates a file. */
struct service {
    struct home home;
    struct store *store;
    struct intake *intake;
    struct spool_watch *watch;
    struct processor *proc;
    struct spool_list pass;   /* the current pass over incoming/ */
    size_t next;              /* the next name of it to take */
    int rescan;               /* a new pass is due: incoming/ changed (run) */
    int retry;                /* files of passes left for retry */
    uint64_t accepted;        /* batches accepted by this run */
    int drain;                /* run --drain: no new passes */
};

/* pass_start - a new pass over incoming/ (the previous one is dropped) */
static int pass_start(struct service *svc)
{
    spool_list_free(&svc->pass);
    svc->next = 0;
    svc->rescan = 0;
    int rc = spool_scan(svc->home.incoming, &svc->pass);
    if (rc != 0) {
        memset(&svc->pass, 0, sizeof svc->pass);
        log_warn("%s: cannot scan: %s", svc->home.incoming, strerror(-rc));
        svc->retry++;
        return -1;
    }
    return 0;
}

/* take_one - intake of the next file of the pass; its result, or -1 when
 * the pass is over */
static int take_one(struct service *svc)
{
    if (svc->next >= svc->pass.n) return -1;
    struct intake_outcome out;
    intake_file(svc->intake, svc->pass.names[svc->next++], &out);
    if (out.prover) processor_give_prover(svc->proc, out.turn, out.prover);
    if (out.result == INTAKE_RETRY) svc->retry++;
    if (out.result == INTAKE_ACCEPTED) svc->accepted++;
    return (int)out.result;
}

/* take_incoming - a new pass, taken whole; returns files left for retry */
static int take_incoming(struct service *svc)
{
    svc->retry = 0;
    pass_start(svc);
    while (!(svc->watch && spool_stop_requested(svc->watch)) && take_one(svc) >= 0)
        ;
    return svc->retry;
}

/* stop_check - for the processor: has a stop signal arrived? */
static int stop_check(void *arg)
{
    struct service *svc = arg;
    return svc->watch ? spool_stop_requested(svc->watch) : 0;
}

/* between_chunks - the processor's writer calls this after each commit:
 * take one more file, then say whether to stop.  run starts a new pass
 * when incoming/ changed; run --drain keeps to the files there at start */
static int between_chunks(void *arg)
{
    struct service *svc = arg;
    if (stop_check(svc)) return 1;
    if (!svc->drain && spool_changed(svc->watch)) svc->rescan = 1;
    if (svc->next >= svc->pass.n && svc->rescan) pass_start(svc);
    take_one(svc);
    return stop_check(svc);
}

/* check_key_file - the issuing key must be readable by this service alone:
 * owned by the user running it, no access for group or others (a software
 * key is for demos and tests; production keys live in an HSM) */
static int check_key_file(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT) return 0;   /* no CA yet: intake runs, processing waits (logged) */
        fprintf(stderr, "smki-batch run: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (S_ISLNK(st.st_mode) || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "smki-batch run: %s: the issuing key must be a regular file, not a link\n", path);
        return -1;
    }
    if (st.st_uid != geteuid()) {
        fprintf(stderr, "smki-batch run: %s: the issuing key is owned by uid %u, not by this service (uid %u); "
                        "fix: chown %u %s\n", path, (unsigned)st.st_uid, (unsigned)geteuid(), (unsigned)geteuid(), path);
        return -1;
    }
    if (st.st_mode & 077) {
        fprintf(stderr, "smki-batch run: %s: the issuing key is accessible to group or others (mode %04o); "
                        "refusing to use it. Fix: chmod 600 %s\n", path, (unsigned)(st.st_mode & 07777), path);
        return -1;
    }
    return 0;
}

/* window_stop_check - run: also stop at a chunk boundary when the window closes */
static int window_stop_check(void *arg)
{
    struct service *svc = arg;
    return between_chunks(arg) || !window_in_window(&svc->home.cfg, clock_now());
}

int cmd_run(int argc, char **argv)
{
    const char *root = home_default();
    int drain = 0, once = 0;
    static const struct option opts[] = {
        {"home", required_argument, 0, 'H'}, {"drain", no_argument, 0, 'd'}, {"once", no_argument, 0, 'o'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'H': root = optarg; break;
        case 'd': drain = 1; break;
        case 'o': once = 1; break;
        case 'h': help(); return 0;
        default: return cli_usage_error("run", "unknown option");
        }
    }
    if (optind < argc) return cli_usage_error("run", "unexpected argument '%s'", argv[optind]);
    if (drain && once) return cli_usage_error("run", "--drain or --once, not both");

    /* block the stop signals before any thread exists (RocksDB starts its
     * own), so that they reach the spool watch's signalfd and nothing else */
    sigset_t stopset;
    sigemptyset(&stopset);
    sigaddset(&stopset, SIGTERM);
    sigaddset(&stopset, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stopset, NULL);

    static struct service svc;
    svc.drain = drain;
    if (cli_open_home(&svc.home, root) != 0) return 1;
    if (check_key_file(svc.home.ca_key) != 0) return 1;
    svc.store = cli_open_store(&svc.home, STORE_READ_WRITE);
    if (!svc.store) return 1;
    char err[1024];
    svc.intake = intake_new(&svc.home, svc.store, err, sizeof err);
    if (!svc.intake) {
        fprintf(stderr, "smki-batch run: %s\n", err);
        store_close(svc.store);
        return 1;
    }
    svc.watch = spool_watch_open(svc.home.incoming, err, sizeof err);
    if (!svc.watch) {
        fprintf(stderr, "smki-batch run: %s\n", err);
        intake_free(svc.intake);
        store_close(svc.store);
        return 1;
    }
    svc.proc = processor_new(&svc.home, svc.store, err, sizeof err);
    if (!svc.proc) {
        fprintf(stderr, "smki-batch run: %s\n", err);
        spool_watch_close(svc.watch);
        intake_free(svc.intake);
        store_close(svc.store);
        return 1;
    }
    /* recovery: temp files a crash left are not ours to finish */
    fs_remove_stale_tmp(svc.home.archive);
    reqcache_remove_all(svc.home.archive);   /* a cache serves only the run that wrote it */
    fs_remove_stale_tmp(svc.home.receipts);
    fs_remove_stale_tmp(svc.home.responses);
    processor_recover(svc.proc);

    int status = 0;
    if (audit_append(svc.home.root, drain ? "drain" : "run", "pid=%ld", (long)getpid()) != 0) {
        fprintf(stderr, "smki-batch run: %s/audit.log: cannot write the audit log; nothing is issued unaudited\n",
                svc.home.root);
        processor_free(svc.proc);
        spool_watch_close(svc.watch);
        intake_free(svc.intake);
        store_close(svc.store);
        return 1;
    }
    log_info("run: home %s, %s", svc.home.root, drain ? "draining the queue" : "watching the spool");
    if (drain) {
        /* take files until PROCESSOR_PROVERS are accepted (or none is
         * left), then start on the first and take the rest between its
         * chunks.  While nothing is being processed, the second core checks
         * proofs of possession of the file being taken (prover.h); taking
         * the first files so, rather than between chunks, keeps both cores
         * on work the night needs and keeps intake from pausing the writer
         * of the first batch. */
        pass_start(&svc);
        intake_set_prove(svc.intake, 1);
        /* every batch taken is processed in this run: its requests are
         * cached, not parsed twice (reqcache.h) */
        intake_set_cache(svc.intake, 1);
        while (svc.accepted < PROCESSOR_PROVERS && !stop_check(&svc) && take_one(&svc) >= 0)
            ;
        intake_set_prove(svc.intake, 0);
        for (;;) {
            uint64_t before = svc.accepted;
            int rc = processor_drain(svc.proc, between_chunks, &svc);
            /* every file present at start gets its receipt, whatever happened */
            while (!stop_check(&svc) && take_one(&svc) >= 0)
                ;
            if (rc != 0) {
                status = 1;
                break;
            }
            if (stop_check(&svc) || svc.accepted == before) break;
        }
        int left = svc.retry;
        metrics_write(&svc.home, svc.store, clock_now());
        if (left) {
            log_warn("run --drain: %d file(s) could not be taken and stay in incoming/ (see above)", left);
            status = 1;
        }
    } else if (once) {
        int left = take_incoming(&svc);
        if (processor_run_plan(svc.proc, window_stop_check, &svc) != 0 || left) status = 1;
        metrics_write(&svc.home, svc.store, clock_now());
    } else {
        int backoff_ms = 1000;
        for (;;) {
            /* a failed write (full disk) leaves RocksDB refusing writes:
             * reopen it, and retry the work with backoff until it goes */
            int fault = store_recover(svc.store) != 0;
            int left = fault ? 1 : take_incoming(&svc);
            if (spool_stop_requested(svc.watch)) break;
            if (!fault && processor_run_plan(svc.proc, window_stop_check, &svc) != 0) fault = 1;
            if (spool_stop_requested(svc.watch)) break;
            if (!fault && metrics_write(&svc.home, svc.store, clock_now()) != 0)
                log_warn("cannot write the metrics file");
            backoff_ms = left || fault ? (backoff_ms < 30000 ? backoff_ms * 2 : 30000) : 1000;
            if (fault) log_warn("run: retrying in %d s", backoff_ms / 1000);
            if (spool_wait(svc.watch, backoff_ms) == SPOOL_STOP) break;
        }
        log_info("run: stop signal received; stopped cleanly");
    }
    /* the last batch's records to table files before the exit: RocksDB's
     * close drops a flush still queued, and the WAL left behind (30 MB after
     * a 50,000-CSR batch) would be replayed by every later command (status,
     * fetch, lookup: 80-100 ms and 35 MB each) until the next run */
    if (store_flush(svc.store, 1) != 0) log_warn("cannot flush the store: %s", store_error(svc.store));
    processor_free(svc.proc);
    spool_watch_close(svc.watch);
    intake_free(svc.intake);
    store_close(svc.store);
    spool_list_free(&svc.pass);
    return status;
}
