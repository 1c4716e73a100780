/* cmd_plan.c - `smki-batch plan [--at TIME] [--svg FILE]`: the capacity model
 * (capacity.h) applied to the current queue: which batches run in which
 * night, predicted start and finish, each batch's SEC L8 deadline and
 * whether it is at risk, and the headroom (the throughput the plan uses over
 * the throughput the nightly capacity needs).  --svg draws cumulative CSRs
 * against time across the first planned night, with the capacity, the pace
 * it needs and the deadlines.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "eui64.h"
#include "planner.h"
#include "xmlesc.h"

static void help(void)
{
    printf("usage: smki-batch plan [--at TIME] [--svg FILE] [--home DIR]\n\n"
           "The nightly capacity model applied to the queue: per night its batches and CSRs,\n"
           "predicted start and finish, each batch's SEC L8 deadline and whether it is at\n"
           "risk, and the headroom. --at plans as if now were TIME (RFC 3339). --svg writes\n"
           "cumulative CSRs against time across the first planned night as an SVG.\n");
}

static void local_hm(time_t t, char *out, size_t cap)
{
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, cap, "%m-%d %H:%M:%S", &tm);
}

/* batch_label - party and batch id of a turn */
static void batch_label(struct store *st, uint64_t turn, char *party, char *id, uint32_t *csrs)
{
    struct batch b;
    if (store_batch_get(st, turn, &b) == 1) {
        eui64_format(b.party, party);
        snprintf(id, 65, "%s", b.batch_id);
        *csrs = b.csrs;
    } else {
        strcpy(party, "?");
        strcpy(id, "?");
        *csrs = 0;
    }
}

/* write_svg - cumulative CSRs against time across the first planned night */
static int write_svg(const char *path, const struct cap_plan *p, struct store *st, const struct config *cfg)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    const struct cap_night *nt = &p->nights[0];
    if (p->n > 0)
        for (size_t k = 0; k < p->nnights; k++)
            if (p->nights[k].start == p->slots[0].night_start) nt = &p->nights[k];
    double W = 900, H = 480, L = 80, R = 30, T = 50, B = 60;
    double t0 = (double)nt->start, t1 = (double)nt->end;
    double ymax = (double)nt->capacity * 1.15;
    double total = (double)nt->used;
    for (size_t i = 0; i < p->n; i++)
        if (p->slots[i].night_start == nt->start) {
            uint32_t c; char a[24], b[65];
            batch_label(st, p->slots[i].turn, a, b, &c);
            total += c;
        }
    if (total * 1.1 > ymax) ymax = total * 1.1;
#define X(t) (L + ((double)(t) - t0) / (t1 - t0) * (W - L - R))
#define Y(v) (H - B - (double)(v) / ymax * (H - T - B))
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" font-size=\"12\">\n", W, H);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(f, "<text x=\"%.0f\" y=\"24\" font-size=\"16\">Night of %s: cumulative CSRs (plan at %.0f CSRs/s; headroom %.0fx)</text>\n",
            L, nt->date, p->rate, p->rate / p->needed_rate);
    /* axes and grid: hours */
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", L, H - B, W - R, H - B);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", L, T, L, H - B);
    for (time_t t = nt->start; t <= nt->end; t += 3600) {
        struct tm tm;
        char lab[8];
        localtime_r(&t, &tm);
        strftime(lab, sizeof lab, "%H:%M", &tm);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", X(t), T, X(t), H - B);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", X(t), H - B + 16, lab);
    }
    for (int k = 0; k <= 5; k++) {
        double v = ymax / 5 * k;
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.0fk</text>\n", L - 6, Y(v) + 4, v / 1000);
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">local time (%s)</text>\n", (L + W - R) / 2, H - 20, cfg->timezone);
    /* capacity and the pace it needs */
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#c00\" stroke-width=\"2\"/>\n",
            L, Y(nt->capacity), W - R, Y(nt->capacity));
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#c00\">nightly capacity %ld</text>\n",
            X(t0 + (t1 - t0) * 0.35), Y(nt->capacity) - 6, nt->capacity);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#c00\" stroke-dasharray=\"6,4\"/>\n",
            L, Y(0), W - R, Y(nt->capacity));
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#c00\">pace the capacity needs (%.1f CSRs/s)</text>\n",
            X(t0 + (t1 - t0) * 0.55), Y(nt->capacity * 0.55) + 18, p->needed_rate);
    /* the plan: cumulative steps */
    double cum = (double)nt->used;
    fprintf(f, "<polyline fill=\"none\" stroke=\"#06c\" stroke-width=\"2.5\" points=\"%.1f,%.1f", X(t0), Y(cum));
    for (size_t i = 0; i < p->n; i++) {
        const struct cap_slot *sl = &p->slots[i];
        if (sl->night_start != nt->start) continue;
        uint32_t c; char a[24], b[65];
        batch_label(st, sl->turn, a, b, &c);
        fprintf(f, " %.1f,%.1f", X(sl->start), Y(cum));
        cum += c;
        fprintf(f, " %.1f,%.1f", X(sl->finish), Y(cum));
    }
    fprintf(f, " %.1f,%.1f\"/>\n", X(t1), Y(cum));
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#06c\">planned: %.0f CSRs</text>\n", X(t0) + 8, Y(cum) - 8, cum);
    /* deadlines that fall in the window, one line per distinct instant */
    int row = 0;
    for (size_t i = 0; i < p->n; i++) {
        const struct cap_slot *sl = &p->slots[i];
        if (sl->night_start != nt->start || sl->deadline < nt->start || sl->deadline > nt->end + 1) continue;
        int first = 1;
        for (size_t k = 0; k < i; k++)
            if (p->slots[k].night_start == nt->start && p->slots[k].deadline == sl->deadline) first = 0;
        if (!first) continue;
        char turns[128];
        int len = 0, risk = 0, count = 0;
        for (size_t k = i; k < p->n; k++) {
            if (p->slots[k].night_start != nt->start || p->slots[k].deadline != sl->deadline) continue;
            risk |= p->slots[k].at_risk;
            if (count++ < 6 && len < 100)
                len += snprintf(turns + len, sizeof turns - (size_t)len, "%s%" PRIu64, count > 1 ? ", " : "",
                                p->slots[k].turn);
        }
        if (count > 6) snprintf(turns + len, sizeof turns - (size_t)len, " and %d more", count - 6);
        const char *col = risk ? "#c00" : "#393";
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\" stroke-dasharray=\"3,3\"/>\n",
                X(sl->deadline), T, X(sl->deadline), H - B, col);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\" text-anchor=\"end\">SEC L8 deadline of turn%s %s%s</text>\n",
                X(sl->deadline) - 4, H - B - 10 - 14 * row, col, count > 1 ? "s" : "", turns, risk ? ": AT RISK" : "");
        row++;
    }
    fprintf(f, "</svg>\n");
#undef X
#undef Y
    return fclose(f) == 0 ? 0 : -1;
}

int cmd_plan(int argc, char **argv)
{
    const char *root = home_default(), *at = NULL, *svg = NULL;
    static const struct option opts[] = {
        {"home", required_argument, 0, 'H'}, {"at", required_argument, 0, 'a'},
        {"svg", required_argument, 0, 's'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'H': root = optarg; break;
        case 'a': at = optarg; break;
        case 's': svg = optarg; break;
        case 'h': help(); return 0;
        default: return cli_usage_error("plan", "unknown option");
        }
    }
    if (optind < argc) return cli_usage_error("plan", "unexpected argument '%s'", argv[optind]);
    time_t now = clock_now();
    if (at && clock_parse(at, &now) != 0) return cli_usage_error("plan", "--at: RFC 3339, e.g. 2026-11-22T19:59:00Z");
    struct home h;
    if (cli_open_home(&h, root) != 0) return 1;
    struct store *st = cli_open_store(&h, STORE_READ_ONLY);
    if (!st) return 1;
    struct cap_plan p;
    if (planner_load(&h, st, now, NULL, &p) != 0) {
        fprintf(stderr, "smki-batch plan: %s\n", store_error(st));
        store_close(st);
        return 1;
    }
    char t0[32], t1[32];
    printf("throughput %.0f CSRs/s (%s); the capacity needs %.1f CSRs/s: headroom %.0fx\n", p.rate,
           planner_rate(st) > 0 ? "measured on recent batches" : "assumed: [capacity] assumed_rate", p.needed_rate,
           p.rate / p.needed_rate);
    int at_risk = 0;
    for (size_t k = 0; k < p.nnights; k++) {
        const struct cap_night *nt = &p.nights[k];
        long batches = 0, csrs = 0;
        for (size_t i = 0; i < p.n; i++)
            if (p.slots[i].night_start == nt->start) {
                uint32_t n; char a[24], b[65];
                batch_label(st, p.slots[i].turn, a, b, &n);
                batches++;
                csrs += n;
            }
        local_hm(nt->start, t0, sizeof t0);
        local_hm(nt->end, t1, sizeof t1);
        printf("\nnight %s (%s to %s local): %ld batch(es), %ld CSRs planned, %ld already done, capacity %ld, "
               "left %ld\n", nt->date, t0, t1, batches, csrs, nt->used, nt->capacity, nt->capacity - nt->used - nt->planned);
        if (!batches) continue;
        printf("  %-5s %-23s %-24s %6s %-14s %-14s %-14s %s\n", "TURN", "PARTY", "BATCH", "CSRS", "START", "FINISH",
               "DEADLINE", "");
        for (size_t i = 0; i < p.n; i++) {
            const struct cap_slot *sl = &p.slots[i];
            if (sl->night_start != nt->start) continue;
            char party[24], id[65], s0[32], s1[32], dl[32];
            uint32_t n;
            batch_label(st, sl->turn, party, id, &n);
            local_hm(sl->start, s0, sizeof s0);
            local_hm(sl->finish, s1, sizeof s1);
            local_hm(sl->deadline, dl, sizeof dl);
            printf("  %-5" PRIu64 " %-23s %-24s %6u %-14s %-14s %-14s %s%s\n", sl->turn, party, id, n, s0, s1, dl,
                   sl->at_risk ? "AT RISK" : "ok", sl->excess ? " (beyond its 24 h allowance)" : "");
            at_risk += sl->at_risk;
        }
    }
    if (p.n == 0) printf("\nnothing is queued\n");
    if (at_risk) printf("\n%d batch(es) will miss their SEC L8 deadline on this plan\n", at_risk);
    int rc = 0;
    if (svg) {
        if (write_svg(svg, &p, st, &h.cfg) != 0) {
            fprintf(stderr, "smki-batch plan: %s: cannot write\n", svg);
            rc = 1;
        } else {
            printf("\nSVG written to %s\n", svg);
        }
    }
    cap_plan_free(&p);
    store_close(st);
    return rc;
}
