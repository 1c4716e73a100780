/* cmd_fetch.c - `smki-batch fetch --party EUI64 --batch ID [--out FILE]`:
 * the retrieval the web tier makes for a party, keeping the rules of BRIEF.md
 * section 4.  Exit status (SPEC.md 1), checked in this order:
 *   2 unknown batch;  4 too early (before the receipt's RetrieveNotBefore);
 *   5 already retrieved;  6 still pending and polled again within the hour;
 *   3 still pending (the poll is recorded);  0 delivered (the retrieval is
 *   recorded once the response has been written out whole);  1 failure,
 *   including a batch that failed.
 * --reopen (an operator) makes a retrieved batch retrievable again, logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "cli.h"
#include "eui64.h"
#include "fsutil.h"

#include "clock.h"
#include "log.h"
#include "retrieval.h"

#define EXIT_PENDING 3
#define EXIT_TOO_EARLY 4
#define EXIT_RETRIEVED 5
#define EXIT_POLLED 6
#define POLL_INTERVAL 3600

static void help(void)
{
    printf("usage: smki-batch fetch --party EUI64 --batch ID [--out FILE] [--home DIR]\n"
           "       smki-batch fetch --party EUI64 --batch ID --reopen [--home DIR]\n\n"
           "Prints (or writes to FILE, atomically) the response file of a party's batch,\n"
           "once: the retrieval is recorded. Exit status: 0 delivered, 3 still pending,\n"
           "4 too early (before RetrieveNotBefore), 5 already retrieved, 6 pending and\n"
           "polled again within the hour, 2 unknown batch, 1 failure.\n"
           "--reopen (operators) makes a retrieved response retrievable again; logged.\n");
}

/* copy_fd - whole file to fd */
static int copy_fd(int in, int out)
{
    char buf[1 << 16];
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0) return -errno;
        if (n == 0) return 0;
        int rc = fs_write_all(out, buf, (size_t)n);
        if (rc) return rc;
    }
}

/* record_retrieval - after the response went out whole */
static int record_retrieval(struct retrieval_lock *lk, struct retrieval *rec, time_t now)
{
    rec->retrieved_at = now;
    int rc = retrieval_save(lk, rec);
    if (rc != 0) {
        fprintf(stderr, "smki-batch fetch: delivered, but the retrieval could not be recorded: %s\n", strerror(-rc));
        return 1;
    }
    return 0;
}

static int fetch_locked(const struct home *hp, const struct batch *bp, const char *ptext, const char *out,
                        int reopen, struct retrieval_lock *lk, struct retrieval *rec);

int cmd_fetch(int argc, char **argv)
{
    const char *root = home_default(), *party_text = NULL, *batch_id = NULL, *out = NULL;
    int reopen = 0;
    static const struct option opts[] = {
        {"home", required_argument, 0, 'H'}, {"party", required_argument, 0, 'p'},
        {"batch", required_argument, 0, 'b'}, {"out", required_argument, 0, 'o'},
        {"reopen", no_argument, 0, 'r'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'H': root = optarg; break;
        case 'p': party_text = optarg; break;
        case 'b': batch_id = optarg; break;
        case 'o': out = optarg; break;
        case 'r': reopen = 1; break;
        case 'h': help(); return 0;
        default: return cli_usage_error("fetch", "unknown option");
        }
    }
    uint8_t party[8];
    if (!party_text || eui64_parse(party_text, strlen(party_text), party) != 0)
        return cli_usage_error("fetch", "--party EUI64 is required (e.g. 90-B3-D5-1F-30-01-00-00)");
    if (!batch_id || !*batch_id) return cli_usage_error("fetch", "--batch ID is required");
    struct home h;
    if (cli_open_home(&h, root) != 0) return 1;
    struct store *s = cli_open_store(&h, STORE_READ_ONLY);
    if (!s) return 1;
    struct batch b;
    int rc = store_batch_find(s, party, batch_id, &b);
    store_close(s);
    char ptext[EUI64_TEXT_LEN + 1];
    eui64_format(party, ptext);
    if (rc < 0) {
        fprintf(stderr, "smki-batch fetch: cannot read the store\n");
        return 1;
    }
    if (rc == 0) {
        fprintf(stderr, "smki-batch fetch: party %s has no batch '%s' (check the receipt's PartyID and BatchID)\n",
                ptext, batch_id);
        return 2;
    }
    char err[512];
    struct retrieval rec;
    struct retrieval_lock *lk = retrieval_open(h.root, party, b.batch_id, &rec, err, sizeof err);
    if (!lk) {
        fprintf(stderr, "smki-batch fetch: retrieval record: %s\n", err);
        return 1;
    }
    rc = fetch_locked(&h, &b, ptext, out, reopen, lk, &rec);
    retrieval_close(lk);
    return rc;
}

/* fetch_locked - the rules, with the batch's retrieval record locked */
static int fetch_locked(const struct home *hp, const struct batch *bp, const char *ptext, const char *out,
                        int reopen, struct retrieval_lock *lk, struct retrieval *rec)
{
    const struct home h = *hp;
    const struct batch b = *bp;
    const char *batch_id = b.batch_id;
    time_t now = clock_now();
    int rc;
    if (reopen) {
        if (!rec->retrieved_at) {
            fprintf(stderr, "smki-batch fetch: batch %s of party %s has not been retrieved; nothing to re-open\n",
                    batch_id, ptext);
            return 1;
        }
        rec->retrieved_at = 0;
        rec->reopened_at = now;
        if ((rc = retrieval_save(lk, rec)) != 0) {
            fprintf(stderr, "smki-batch fetch: cannot record the re-open: %s\n", strerror(-rc));
            return 1;
        }
        log_info("fetch --reopen: batch %s of party %s (turn %" PRIu64 ") may be retrieved again", batch_id, ptext,
                 b.turn);
        if (audit_append(h.root, "fetch-reopen", "turn=%" PRIu64 " party=%s batch=%s", b.turn, ptext, batch_id) != 0)
            fprintf(stderr, "smki-batch fetch: warning: the audit log could not be written\n");
        printf("batch %s of party %s re-opened for retrieval\n", batch_id, ptext);
        return 0;
    }
    if (now < b.retrieve_not_before) {
        char when[RFC3339_LEN + 1];
        clock_format(b.retrieve_not_before, when);
        fprintf(stderr, "smki-batch fetch: too early: batch %s of party %s may be retrieved from %s\n", batch_id,
                ptext, when);
        return EXIT_TOO_EARLY;
    }
    if (rec->retrieved_at) {
        char when[RFC3339_LEN + 1];
        clock_format(rec->retrieved_at, when);
        fprintf(stderr, "smki-batch fetch: batch %s of party %s was already retrieved at %s; a response is "
                        "retrieved once (an operator can 'fetch --reopen')\n", batch_id, ptext, when);
        return EXIT_RETRIEVED;
    }
    if (b.state == BATCH_FAILED) {
        fprintf(stderr, "smki-batch fetch: batch %s of party %s (turn %" PRIu64 ") failed: %s\n", batch_id, ptext,
                b.turn, b.error);
        return 1;
    }
    if (b.state != BATCH_DONE) {
        if (rec->last_poll && now - rec->last_poll < POLL_INTERVAL && now >= rec->last_poll) {
            fprintf(stderr, "smki-batch fetch: batch %s of party %s is still pending and was polled %lld s ago; "
                            "poll at most once an hour\n", batch_id, ptext, (long long)(now - rec->last_poll));
            return EXIT_POLLED;
        }
        rec->last_poll = now;
        if ((rc = retrieval_save(lk, rec)) != 0)
            fprintf(stderr, "smki-batch fetch: cannot record the poll: %s\n", strerror(-rc));
        fprintf(stderr, "smki-batch fetch: batch %s of party %s (turn %" PRIu64 ") is %s: %u of %u CSRs answered\n",
                batch_id, ptext, b.turn, batch_state_name(b.state), b.done, b.csrs);
        return EXIT_PENDING;
    }
    char path[PATH_MAX + 300];
    snprintf(path, sizeof path, "%s/%s_%s.response.xml", h.responses, ptext, b.batch_id);
    int in = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in < 0) {
        fprintf(stderr, "smki-batch fetch: %s: %s (the batch is done but its response is missing: "
                        "was it removed by retention?)\n", path, strerror(errno));
        return 1;
    }
    if (!out) {
        rc = copy_fd(in, STDOUT_FILENO);
        close(in);
        if (rc == 0 && fflush(stdout) != 0) rc = -EIO;
        if (rc) {
            fprintf(stderr, "smki-batch fetch: writing: %s\n", strerror(-rc));
            return 1;
        }
        return record_retrieval(lk, rec, now);
    }
    char tmp[PATH_MAX + 16];
    snprintf(tmp, sizeof tmp, "%s.tmp", out);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "smki-batch fetch: %s: %s\n", tmp, strerror(errno));
        close(in);
        return 1;
    }
    rc = copy_fd(in, fd);
    close(in);
    if (rc == 0 && fsync(fd) != 0) rc = -errno;
    close(fd);
    if (rc == 0 && rename(tmp, out) != 0) rc = -errno;
    if (rc) {
        unlink(tmp);
        fprintf(stderr, "smki-batch fetch: %s: %s\n", out, strerror(-rc));
        return 1;
    }
    printf("response of batch %s (party %s, turn %" PRIu64 ") written to %s\n", b.batch_id, ptext, b.turn, out);
    return record_retrieval(lk, rec, now);
}
