/* cmd_report.c - the monthly reports of BRIEF.md section 5:
 *   forecast import FILE.csv   lines "party,month,forecast" (EUI-64, YYYY-MM,
 *                              batched CSRs); a header line is allowed;
 *                              re-importing a party+month replaces it
 *   report --month YYYY-MM [--format md|csv|json]
 *                              per subscriber: CSRs received in the month
 *                              (accepted batches, by their receipt time in the
 *                              configured timezone) against its forecast; for
 *                              the SEC Panel: the totals, the comparison and
 *                              every subscriber at or above 110% of forecast.
 * Counts come from the batch records in the store, never from logs.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "cli.h"
#include "eui64.h"

static void help(const char *cmd)
{
    if (strcmp(cmd, "forecast") == 0)
        printf("usage: smki-batch forecast import FILE.csv [--home DIR]\n\n"
               "Imports quarterly forecasts: one line per party and month,\n"
               "  party,month,forecast   e.g. 90-B3-D5-1F-30-01-00-00,2026-11,120000\n"
               "(a header line is skipped). Needs the store: stop run first. Audited.\n");
    else
        printf("usage: smki-batch report --month YYYY-MM [--format md|csv|json] [--home DIR]\n\n"
               "Per subscriber, the batched CSRs received in the month (accepted batches, by\n"
               "local receipt time) against its forecast; for the SEC Panel, the totals, the\n"
               "comparison, and every subscriber at or above 110%% of its forecast.\n");
}

/* valid_month - YYYY-MM */
static int valid_month(const char *m)
{
    return strlen(m) == 7 && m[4] == '-' && m[0] >= '1' && m[0] <= '9' && m[1] >= '0' && m[1] <= '9' &&
           m[2] >= '0' && m[2] <= '9' && m[3] >= '0' && m[3] <= '9' &&
           ((m[5] == '0' && m[6] >= '1' && m[6] <= '9') || (m[5] == '1' && m[6] >= '0' && m[6] <= '2'));
}

static int import(const struct home *h, const char *file)
{
    FILE *f = fopen(file, "r");
    if (!f) {
        perror(file);
        return 1;
    }
    struct store *s = cli_open_store(h, STORE_READ_WRITE);
    if (!s) {
        fclose(f);
        return 1;
    }
    char line[512];
    int lineno = 0, n = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#') continue;
        char *party = strtok(line, ","), *month = strtok(NULL, ","), *count = strtok(NULL, ",");
        uint8_t id[8];
        char *end = NULL;
        unsigned long long v = count ? strtoull(count, &end, 10) : 0;
        if (!party || !month || !count || eui64_parse(party, strlen(party), id) != 0 || !valid_month(month) ||
            !end || *end || *count == '-') {
            if (lineno == 1) continue;   /* a header line */
            fprintf(stderr, "smki-batch forecast: %s:%d: expected party,YYYY-MM,count (e.g. "
                            "90-B3-D5-1F-30-01-00-00,2026-11,120000)\n", file, lineno);
            bad++;
            continue;
        }
        if (store_forecast_put(s, id, month, v) != 0) {
            fprintf(stderr, "smki-batch forecast: %s\n", store_error(s));
            bad++;
            break;
        }
        n++;
    }
    fclose(f);
    store_close(s);
    audit_append(h->root, "forecast-import", "file=%s rows=%d rejected=%d", file, n, bad);
    printf("%d forecast(s) imported from %s%s\n", n, file, bad ? "; some lines were refused (see above)" : "");
    return bad ? 1 : 0;
}

struct row {
    uint8_t party[8];
    char name[129];
    uint64_t received, batches, forecast;
    int has_forecast;
};

struct gather {
    const char *month;
    struct row *rows;
    size_t n, cap;
};

static struct row *row_for(struct gather *g, const uint8_t party[8])
{
    for (size_t i = 0; i < g->n; i++)
        if (memcmp(g->rows[i].party, party, 8) == 0) return &g->rows[i];
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 16;
        g->rows = realloc(g->rows, g->cap * sizeof *g->rows);
        if (!g->rows) abort();
    }
    struct row *r = &g->rows[g->n++];
    memset(r, 0, sizeof *r);
    memcpy(r->party, party, 8);
    return r;
}

static int add_party(const struct party *p, void *arg)
{
    struct row *r = row_for(arg, p->id);
    snprintf(r->name, sizeof r->name, "%s", p->name);
    return 0;
}

static int add_batch(const struct batch *b, void *arg)
{
    struct gather *g = arg;
    char month[8];
    struct tm tm;
    localtime_r(&b->received_at, &tm);
    strftime(month, sizeof month, "%Y-%m", &tm);
    if (strcmp(month, g->month) != 0) return 0;
    struct row *r = row_for(g, b->party);
    r->received += b->csrs;
    r->batches++;
    return 0;
}

static double pct(uint64_t got, uint64_t want) { return want ? 100.0 * (double)got / (double)want : 0; }

static int report(const struct home *h, const char *month, const char *format)
{
    struct store *s = cli_open_store(h, STORE_READ_ONLY);
    if (!s) return 1;
    struct gather g = {.month = month};
    if (store_party_each(s, add_party, &g) != 0 || store_batch_each(s, 0, add_batch, &g) != 0) {
        fprintf(stderr, "smki-batch report: %s\n", store_error(s));
        store_close(s);
        free(g.rows);
        return 1;
    }
    uint64_t tot_recv = 0, tot_fc = 0;
    for (size_t i = 0; i < g.n; i++) {
        struct row *r = &g.rows[i];
        int rc = store_forecast_get(s, r->party, month, &r->forecast);
        if (rc < 0) {
            fprintf(stderr, "smki-batch report: %s\n", store_error(s));
            store_close(s);
            free(g.rows);
            return 1;
        }
        r->has_forecast = rc == 1;
        tot_recv += r->received;
        tot_fc += r->forecast;
    }
    store_close(s);
    char id[EUI64_TEXT_LEN + 1];
    int json = strcmp(format, "json") == 0, csv = strcmp(format, "csv") == 0;
    if (json) printf("{\"month\":\"%s\",\"subscribers\":[", month);
    else if (csv) printf("party,name,batches,received,forecast,percent_of_forecast,at_or_above_110\n");
    else printf("# Batched CSRs received in %s, against forecast\n\n| party | name | batches | received | forecast | %% of forecast |\n|---|---|---:|---:|---:|---:|\n", month);
    for (size_t i = 0; i < g.n; i++) {
        struct row *r = &g.rows[i];
        eui64_format(r->party, id);
        int over = r->has_forecast && r->received * 100 >= r->forecast * 110;
        if (json) {
            printf("%s{\"party\":\"%s\",\"name\":\"", i ? "," : "", id);
            for (const char *q = r->name; *q; q++) printf(*q == '"' || *q == '\\' ? "\\%c" : "%c", *q);
            printf("\",\"batches\":%" PRIu64 ",\"received\":%" PRIu64 ",\"forecast\":", r->batches, r->received);
            if (r->has_forecast) printf("%" PRIu64 ",\"percent\":%.1f", r->forecast, pct(r->received, r->forecast));
            else printf("null,\"percent\":null");
            printf(",\"at_or_above_110\":%s}", over ? "true" : "false");
        } else if (csv) {
            printf("%s,\"%s\",%" PRIu64 ",%" PRIu64 ",", id, r->name, r->batches, r->received);
            if (r->has_forecast) printf("%" PRIu64 ",%.1f,%s\n", r->forecast, pct(r->received, r->forecast), over ? "yes" : "no");
            else printf(",,no\n");
        } else {
            printf("| %s | %s | %" PRIu64 " | %" PRIu64 " | ", id, r->name, r->batches, r->received);
            if (r->has_forecast) printf("%" PRIu64 " | %.1f%%%s |\n", r->forecast, pct(r->received, r->forecast), over ? " **(>= 110%)**" : "");
            else printf("no forecast | - |\n");
        }
    }
    if (json) {
        printf("],\"panel\":{\"received\":%" PRIu64 ",\"forecast\":%" PRIu64 ",\"percent\":%.1f,\"at_or_above_110\":[",
               tot_recv, tot_fc, pct(tot_recv, tot_fc));
        int first = 1;
        for (size_t i = 0; i < g.n; i++)
            if (g.rows[i].has_forecast && g.rows[i].received * 100 >= g.rows[i].forecast * 110) {
                eui64_format(g.rows[i].party, id);
                printf("%s\"%s\"", first ? "" : ",", id);
                first = 0;
            }
        printf("]}}\n");
    } else if (!csv) {
        printf("\n# For the SEC Panel, %s\n\n- total received: %" PRIu64 " batched CSRs\n- total forecast: %" PRIu64
               " (%.1f%% of forecast received)\n- subscribers at or above 110%% of their forecast:", month, tot_recv,
               tot_fc, pct(tot_recv, tot_fc));
        int any = 0;
        for (size_t i = 0; i < g.n; i++)
            if (g.rows[i].has_forecast && g.rows[i].received * 100 >= g.rows[i].forecast * 110) {
                eui64_format(g.rows[i].party, id);
                printf("%s %s (%s, %.1f%%)", any ? "," : "", id, g.rows[i].name, pct(g.rows[i].received, g.rows[i].forecast));
                any = 1;
            }
        printf("%s\n", any ? "" : " none");
        for (size_t i = 0; i < g.n; i++)
            if (!g.rows[i].has_forecast && g.rows[i].received) {
                eui64_format(g.rows[i].party, id);
                printf("- %s (%s) sent %" PRIu64 " CSRs without a forecast for %s\n", id, g.rows[i].name, g.rows[i].received, month);
            }
    }
    free(g.rows);
    return 0;
}

int cmd_report(int argc, char **argv)
{
    const char *cmd = argv[0], *root = home_default(), *month = NULL, *format = "md";
    static const struct option opts[] = {
        {"home", required_argument, 0, 'H'}, {"month", required_argument, 0, 'm'},
        {"format", required_argument, 0, 'f'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'H': root = optarg; break;
        case 'm': month = optarg; break;
        case 'f': format = optarg; break;
        case 'h': help(cmd); return 0;
        default: return cli_usage_error(cmd, "unknown option");
        }
    }
    struct home h;
    if (strcmp(cmd, "forecast") == 0) {
        if (optind + 2 != argc || strcmp(argv[optind], "import") != 0)
            return cli_usage_error(cmd, "say 'forecast import FILE.csv'");
        if (cli_open_home(&h, root) != 0) return 1;
        return import(&h, argv[optind + 1]);
    }
    if (!month || !valid_month(month)) return cli_usage_error(cmd, "--month YYYY-MM is required");
    if (strcmp(format, "md") && strcmp(format, "csv") && strcmp(format, "json"))
        return cli_usage_error(cmd, "--format md, csv or json");
    if (optind < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (cli_open_home(&h, root) != 0) return 1;
    return report(&h, month, format);
}
