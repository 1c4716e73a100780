/* cmd_audit.c - `smki-batch audit verify`: checks the hash chain of
 * HOME/audit.log entry by entry, and that the log still holds the last
 * issuance entry the store recorded.  Exit 0 intact, 1 with every problem
 * named (line and entry), 2 usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "cli.h"

static void help(void)
{
    printf("usage: smki-batch audit verify [--home DIR]\n\n"
           "Checks HOME/audit.log: every entry's hash, the chain from each entry to the\n"
           "one before, the sequence numbers, and that the last issuance entry the store\n"
           "recorded is there. Names each edited, removed, inserted or reordered entry.\n"
           "Exit 0 when intact, 1 otherwise.\n");
}

int cmd_audit(int argc, char **argv)
{
    const char *root;
    int st = cli_home_only(argc, argv, "audit", help, &root);
    if (st >= 0) return st;
    if (optind >= argc || strcmp(argv[optind], "verify") != 0)
        return cli_usage_error("audit", "say 'verify'");
    struct home h;
    if (cli_open_home(&h, root) != 0) return 1;
    char head[128] = "";
    struct store *s = cli_open_store(&h, STORE_READ_ONLY);
    if (s) {
        store_audit_head(s, head, sizeof head);
        store_close(s);
    } else {
        fprintf(stderr, "smki-batch audit: the store cannot be read; checking the chain alone\n");
    }
    long entries = 0;
    long problems = audit_verify(h.root, head[0] ? head : NULL, stdout, &entries);
    if (problems < 0) return 1;
    if (problems == 0) {
        printf("audit log intact: %ld entries, chain verified%s\n", entries,
               head[0] ? ", last issuance entry present" : "");
        return 0;
    }
    printf("audit log NOT intact: %ld problem(s) in %ld entries\n", problems, entries);
    return 1;
}
