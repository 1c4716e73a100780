/* cmd_status.c - `smki-batch status [BATCH] [--json]`: the queue, one line
 * per batch (turn, party, batch id, CSRs, state, progress), or one batch in
 * detail.  Opens the store read-only, so it works while `run` is running.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "control.h"
#include "eui64.h"
#include "xmlesc.h"

static void help(void)
{
    printf("usage: smki-batch status [BATCH] [--party EUI64] [--json] [--home DIR]\n\n"
           "Without BATCH: one line per batch in turn order: turn, party, batch id, CSRs,\n"
           "state (queued, processing, done, failed) and progress (CSRs answered, rate).\n"
           "With BATCH (a BatchID; --party when two parties used the same id): its detail.\n"
           "--json prints the same as JSON for machines.\n");
}

struct status_walk {
    const char *batch_id;
    const uint8_t *party;
    int json, count;
    time_t now;
    const char *home;
};

/* json_str - a JSON string (our values are printable ASCII already) */
static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') putchar('\\');
        if ((unsigned char)*s < 0x20) printf("\\u%04x", *s);
        else putchar(*s);
    }
    putchar('"');
}

static double rate_of(const struct batch *b, time_t now)
{
    time_t end = b->state == BATCH_DONE ? b->completed_at : now;
    if (!b->started_at || end <= b->started_at) return 0;
    return (double)b->done / (double)(end - b->started_at);
}

static int show(const struct batch *b, void *arg)
{
    struct status_walk *sw = arg;
    if (sw->batch_id && strcmp(sw->batch_id, b->batch_id) != 0) return 0;
    if (sw->party && memcmp(sw->party, b->party, 8) != 0) return 0;
    char party[EUI64_TEXT_LEN + 1], recv[RFC3339_LEN + 1], rnb[RFC3339_LEN + 1];
    eui64_format(b->party, party);
    clock_format(b->received_at, recv);
    clock_format(b->retrieve_not_before, rnb);
    double pct = b->csrs ? 100.0 * b->done / b->csrs : 0;
    int held = control_held(sw->home, b->party, b->batch_id) &&
               (b->state == BATCH_QUEUED || b->state == BATCH_PROCESSING);
    const char *state = held ? "held" : batch_state_name(b->state);
    if (sw->json) {
        printf("%s{\"turn\":%" PRIu64 ",\"party\":\"%s\",\"batch\":", sw->count ? ",\n " : "", b->turn, party);
        json_str(b->batch_id);
        printf(",\"file\":");
        json_str(b->file);
        printf(",\"csrs\":%u,\"state\":\"%s\",\"done\":%u,\"issued\":%u,\"rejected\":%u,"
               "\"received_at\":\"%s\",\"scheduled_night\":\"%s\",\"retrieve_not_before\":\"%s\",\"rate\":%.1f",
               b->csrs, state, b->done, b->issued, b->rejected, recv,
               b->scheduled_night, rnb, rate_of(b, sw->now));
        if (b->error[0]) {
            printf(",\"error\":");
            json_str(b->error);
        }
        printf("}");
    } else if (sw->batch_id) {
        printf("turn:              %" PRIu64 "\nparty:             %s\nbatch:             %s\n"
               "file:              %s\narchive:           spool/archive/%s\nCSRs:              %u\n"
               "state:             %s\nprogress:          %u of %u (%.1f%%), %u issued, %u rejected\n"
               "rate:              %.0f CSRs/s\nreceived:          %s\nscheduled night:   %s\n"
               "retrieve from:     %s\n",
               b->turn, party, b->batch_id, b->file, b->archive, b->csrs, state,
               b->done, b->csrs, pct, b->issued, b->rejected, rate_of(b, sw->now), recv,
               b->scheduled_night, rnb);
        if (b->state == BATCH_DONE) {
            char done[RFC3339_LEN + 1];
            clock_format(b->completed_at, done);
            printf("completed:         %s\nresponse:          spool/responses/%s_%s.response.xml\n",
                   done, party, b->batch_id);
        }
        if (b->error[0]) printf("error:             %s\n", b->error);
        printf("\n");
    } else {
        if (sw->count == 0)
            printf("%-6s %-23s %-24s %7s %-10s %s\n", "TURN", "PARTY", "BATCH", "CSRS", "STATE", "PROGRESS");
        printf("%-6" PRIu64 " %-23s %-24s %7u %-10s %u/%u (%.0f%%)", b->turn, party, b->batch_id, b->csrs,
               state, b->done, b->csrs, pct);
        if (b->state == BATCH_PROCESSING) printf(" %.0f CSRs/s", rate_of(b, sw->now));
        printf("\n");
    }
    sw->count++;
    return 0;
}

int cmd_status(int argc, char **argv)
{
    const char *root = home_default(), *party_text = NULL;
    int json = 0;
    static const struct option opts[] = {
        {"home", required_argument, 0, 'H'}, {"json", no_argument, 0, 'j'},
        {"party", required_argument, 0, 'p'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'H': root = optarg; break;
        case 'j': json = 1; break;
        case 'p': party_text = optarg; break;
        case 'h': help(); return 0;
        default: return cli_usage_error("status", "unknown option");
        }
    }
    if (optind + 1 < argc) return cli_usage_error("status", "at most one BATCH");
    uint8_t party[8];
    if (party_text && (eui64_parse(party_text, strlen(party_text), party) != 0))
        return cli_usage_error("status", "--party: an EUI-64 such as 90-B3-D5-1F-30-01-00-00");
    struct status_walk sw = {.batch_id = optind < argc ? argv[optind] : NULL,
                             .party = party_text ? party : NULL, .json = json, .now = clock_now()};
    struct home h;
    if (cli_open_home(&h, root) != 0) return 1;
    struct store *s = cli_open_store(&h, STORE_READ_ONLY);
    if (!s) return 1;
    char reason[512];
    int suspended = control_suspended(h.root, reason, sizeof reason);
    sw.home = h.root;
    if (json) {
        printf("{\"suspended\":%s,", suspended ? "true" : "false");
        if (suspended) {
            printf("\"suspension\":");
            json_str(reason);
            printf(",");
        }
        printf("\"batches\":[");
    } else if (suspended) {
        printf("ISSUANCE SUSPENDED %s\n", reason);
    }
    int rc = store_batch_each(s, 0, show, &sw);
    if (json) printf("]}\n");
    else if (sw.count == 0 && !sw.batch_id) printf("the queue is empty\n");
    store_close(s);
    if (rc != 0) return 1;
    if (sw.batch_id && sw.count == 0) {
        fprintf(stderr, "smki-batch status: no batch '%s'%s in %s\n", sw.batch_id,
                party_text ? " for that party" : "", h.root);
        return 2;
    }
    return 0;
}
