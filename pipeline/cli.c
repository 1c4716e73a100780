/* cli.c - helpers shared by the sub-commands; see cli.h. */
#include "cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>

#include "window.h"

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "smki-batch %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'smki-batch %s --help'.\n", cmd);
    return EXIT_USAGE;
}

int cli_home_only(int argc, char **argv, const char *cmd, void (*help)(void), const char **root)
{
    static const struct option opts[] = {
        {"home", required_argument, 0, 'H'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    *root = home_default();
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'H': *root = optarg; break;
        case 'h': help(); return 0;
        default: return cli_usage_error(cmd, "unknown option");
        }
    }
    return -1;
}

int cli_open_home(struct home *h, const char *root)
{
    char err[1024];
    if (home_open(h, root, err, sizeof err) != 0) {
        fprintf(stderr, "smki-batch: %s\n", err);
        return -1;
    }
    if (window_set_timezone(h->cfg.timezone) != 0) {
        fprintf(stderr, "smki-batch: %s: [window] timezone = %s: no such zone in /usr/share/zoneinfo "
                        "(install tzdata or fix the name, e.g. Europe/London)\n", h->conf, h->cfg.timezone);
        return -1;
    }
    return 0;
}

struct store *cli_open_store(const struct home *h, enum store_mode mode)
{
    char err[1024];
    struct store *s = store_open(h->db, mode, err, sizeof err);
    if (!s) fprintf(stderr, "smki-batch: %s\n", err);
    return s;
}
