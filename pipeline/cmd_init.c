/* cmd_init.c - `smki-batch init`: create a home (SPEC.md section 2): the
 * spool directories, the RocksDB store, the configuration file with every
 * default, and with --demo-ca a software P-256 issuing CA for demos and tests.
 * Refuses to touch an existing home.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "cli.h"
#include "fsutil.h"
#include "sign.h"

static void help(void)
{
    printf("usage: smki-batch init [--home DIR] [--demo-ca] [--ca-name NAME]\n\n"
           "Creates the home: smki-batch.conf (every key at its default), db/ (the\n"
           "RocksDB store) and spool/{incoming,receipts,responses,archive,rejected}/.\n"
           "--demo-ca also creates a software P-256 issuing CA in ca/ (key mode 0600),\n"
           "named NAME (default 'smki-batch demo issuing CA'): for demos and tests only.\n"
           "Refuses to overwrite an existing home.\n");
}

int cmd_init(int argc, char **argv)
{
    const char *root = home_default(), *ca_name = "smki-batch demo issuing CA";
    int demo_ca = 0;
    static const struct option opts[] = {
        {"home", required_argument, 0, 'H'}, {"demo-ca", no_argument, 0, 'd'},
        {"ca-name", required_argument, 0, 'n'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'H': root = optarg; break;
        case 'd': demo_ca = 1; break;
        case 'n': ca_name = optarg; break;
        case 'h': help(); return 0;
        default: return cli_usage_error("init", "unknown option");
        }
    }
    if (optind < argc) return cli_usage_error("init", "unexpected argument '%s'", argv[optind]);

    struct home h;
    home_paths(&h, root);
    struct stat st;
    if (stat(h.conf, &st) == 0 || stat(h.db, &st) == 0) {
        fprintf(stderr, "smki-batch init: %s already holds a home (smki-batch.conf or db/ exists); "
                        "refusing to overwrite it. Choose another --home or remove it first.\n", h.root);
        return 1;
    }
    const char *dirs[] = {h.root, h.incoming, h.receipts, h.responses, h.archive, h.rejected};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        int rc = fs_mkdirs(dirs[i], 0750);
        if (rc != 0) {
            fprintf(stderr, "smki-batch init: %s: cannot create: %s\n", dirs[i], strerror(-rc));
            return 1;
        }
    }
    char buf[8192];
    FILE *mem = fmemopen(buf, sizeof buf, "w");
    cfg_write_default(mem);
    long len = ftell(mem);
    fclose(mem);
    int rc = fs_write_atomic(h.root, "smki-batch.conf", buf, (size_t)len, 0640);
    if (rc != 0) {
        fprintf(stderr, "smki-batch init: %s: cannot write: %s\n", h.conf, strerror(-rc));
        return 1;
    }
    struct store *s = cli_open_store(&h, STORE_CREATE);
    if (!s) return 1;
    store_close(s);
    if (demo_ca) {
        char err[512];
        struct config cfg;
        cfg_defaults(&cfg);
        if (fs_mkdirs(h.ca, 0700) != 0) {
            fprintf(stderr, "smki-batch init: %s: cannot create\n", h.ca);
            return 1;
        }
        char cert[PATH_MAX + 300], key[PATH_MAX + 300];
        snprintf(cert, sizeof cert, "%s/%s", h.root, cfg.ca_certificate);
        snprintf(key, sizeof key, "%s/%s", h.root, cfg.ca_key);
        if (sign_make_demo_ca(ca_name, cert, key, err, sizeof err) != 0) {
            fprintf(stderr, "smki-batch init: demo CA: %s\n", err);
            return 1;
        }
        printf("demo issuing CA: %s (key %s, mode 0600)\n", cert, key);
    }
    if (audit_append(h.root, "init", "home=%s demo_ca=%d", h.root, demo_ca) != 0)
        fprintf(stderr, "smki-batch init: warning: cannot start the audit log in %s\n", h.root);
    printf("home created: %s\n", h.root);
    return 0;
}
