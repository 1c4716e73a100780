/* cmd_config.c - `smki-batch config check|show`: check HOME/smki-batch.conf
 * strictly (the same reader every command uses: an unknown section or key,
 * or a value out of range, names the file and the line and what is
 * allowed), or print the effective values, defaults included.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void help(void)
{
    printf("usage: smki-batch config check [--home DIR]\n"
           "       smki-batch config show [--home DIR]\n\n"
           "check reads HOME/smki-batch.conf as every command does and reports the first\n"
           "problem (file, line, what is allowed); exit 0 when it is valid.\n"
           "show prints every key with its effective value (defaults included).\n");
}

int cmd_config(int argc, char **argv)
{
    const char *root;
    int st = cli_home_only(argc, argv, "config", help, &root);
    if (st >= 0) return st;
    if (optind + 1 != argc || (strcmp(argv[optind], "check") != 0 && strcmp(argv[optind], "show") != 0))
        return cli_usage_error("config", "say 'check' or 'show'");
    struct home h;
    if (cli_open_home(&h, root) != 0) return 1;
    if (strcmp(argv[optind], "check") == 0) {
        printf("%s: valid\n", h.conf);
        return 0;
    }
    printf("; effective configuration of %s\n", h.conf);
    cfg_show(&h.cfg, stdout);
    return 0;
}
