/* cmd_metrics.c - `smki-batch metrics`: print the Prometheus text exposition
 * of the home (queue, results by code, durations, the night, suspension) and
 * write it to [metrics] textfile, as run does after every pass.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "clock.h"
#include "metrics.h"

static void help(void)
{
    printf("usage: smki-batch metrics [--home DIR]\n\n"
           "Prints the metrics in the Prometheus text format and writes them atomically to\n"
           "[metrics] textfile (default HOME/metrics/smki-batch.prom), as run does after\n"
           "every pass of its loop, for node_exporter's textfile collector.\n");
}

int cmd_metrics(int argc, char **argv)
{
    const char *root;
    int st = cli_home_only(argc, argv, "metrics", help, &root);
    if (st >= 0) return st;
    if (optind < argc) return cli_usage_error("metrics", "unexpected argument '%s'", argv[optind]);
    struct home h;
    if (cli_open_home(&h, root) != 0) return 1;
    struct store *s = cli_open_store(&h, STORE_READ_ONLY);
    if (!s) return 1;
    time_t now = clock_now();
    int rc = metrics_render(&h, s, now, stdout);
    if (rc == 0 && metrics_write(&h, s, now) != 0) {
        fprintf(stderr, "smki-batch metrics: cannot write %s\n", h.cfg.metrics_textfile);
        rc = -1;
    }
    store_close(s);
    return rc == 0 ? 0 : 1;
}
