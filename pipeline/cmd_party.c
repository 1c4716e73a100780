/* cmd_party.c - `smki-batch party add|list`: the Authorised Subscribers for
 * Device Certificates that may send batches (E_UNKNOWN_PARTY otherwise).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "cli.h"
#include "clock.h"
#include "eui64.h"

static void help(void)
{
    printf("usage: smki-batch party add --id EUI64 --name TEXT [--uplift N] [--home DIR]\n"
           "       smki-batch party list [--home DIR]\n\n"
           "add registers an Authorised Subscriber (or updates its name and uplift).\n"
           "--uplift N raises the party's rolling 24-hour allowance by N CSRs (notified\n"
           "in advance, BRIEF section 2). EUI64 as 90-B3-D5-1F-30-01-00-00 or 16 hex digits.\n"
           "Needs the store: stop 'smki-batch run' first if it is running.\n");
}

static int print_party(const struct party *p, void *arg)
{
    char id[EUI64_TEXT_LEN + 1], when[RFC3339_LEN + 1];
    (void)arg;
    eui64_format(p->id, id);
    clock_format(p->added_at, when);
    printf("%s  uplift %-8ld added %s  %s\n", id, p->uplift, when, p->name);
    return 0;
}

int cmd_party(int argc, char **argv)
{
    const char *root = home_default(), *id = NULL, *name = NULL;
    long uplift = 0;
    static const struct option opts[] = {
        {"home", required_argument, 0, 'H'}, {"id", required_argument, 0, 'i'},
        {"name", required_argument, 0, 'n'}, {"uplift", required_argument, 0, 'u'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'H': root = optarg; break;
        case 'i': id = optarg; break;
        case 'n': name = optarg; break;
        case 'u': {
            char *end;
            uplift = strtol(optarg, &end, 10);
            if (*end || end == optarg || uplift < 0 || uplift > 100000000)
                return cli_usage_error("party", "--uplift '%s': a number of CSRs from 0 to 100000000", optarg);
            break;
        }
        case 'h': help(); return 0;
        default: return cli_usage_error("party", "unknown option");
        }
    }
    if (optind >= argc) return cli_usage_error("party", "say 'add' or 'list'");
    const char *verb = argv[optind];
    struct home h;
    if (strcmp(verb, "list") == 0) {
        if (cli_open_home(&h, root) != 0) return 1;
        struct store *s = cli_open_store(&h, STORE_READ_ONLY);
        if (!s) return 1;
        int rc = store_party_each(s, print_party, NULL);
        store_close(s);
        return rc == 0 ? 0 : 1;
    }
    if (strcmp(verb, "add") != 0) return cli_usage_error("party", "unknown verb '%s' (add or list)", verb);
    struct party p = {0};
    if (!id || eui64_parse(id, strlen(id), p.id) != 0 || !eui64_is_valid(p.id))
        return cli_usage_error("party", "--id: an EUI-64 such as 90-B3-D5-1F-30-01-00-00 is required");
    if (!name || !*name || strlen(name) >= sizeof p.name)
        return cli_usage_error("party", "--name: 1 to %zu characters required", sizeof p.name - 1);
    for (const char *q = name; *q; q++)
        if ((unsigned char)*q < 0x20)
            return cli_usage_error("party", "--name must not contain control characters");
    snprintf(p.name, sizeof p.name, "%s", name);
    p.uplift = uplift;
    p.added_at = clock_now();
    if (cli_open_home(&h, root) != 0) return 1;
    struct store *s = cli_open_store(&h, STORE_READ_WRITE);
    if (!s) return 1;
    struct party old;
    int existed = store_party_get(s, p.id, &old) == 1;
    if (existed) p.added_at = old.added_at;
    int rc = store_party_put(s, &p);
    if (rc != 0) fprintf(stderr, "smki-batch party: %s\n", store_error(s));
    store_close(s);
    if (rc != 0) return 1;
    char text[EUI64_TEXT_LEN + 1];
    eui64_format(p.id, text);
    if (audit_append(h.root, existed ? "party-update" : "party-add", "party=%s uplift=%ld name=%s", text, p.uplift,
                     p.name) != 0)
        fprintf(stderr, "smki-batch party: warning: the audit log could not be written\n");
    printf("party %s %s: %s (uplift %ld)\n", text, existed ? "updated" : "registered", p.name, p.uplift);
    return 0;
}
