/* cmd_control.c - the operator's switches of SPEC.md section 1:
 *   suspend --reason TEXT / resume      emergency suspension (SEC L2.14)
 *   hold / release --party P --batch B  one queued batch kept out of processing
 * They take effect at the next chunk boundary of a running `run` (see
 * control.h), survive restarts, and are written to the audit trail.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "cli.h"
#include "control.h"
#include "eui64.h"

static void help(const char *cmd)
{
    if (strcmp(cmd, "suspend") == 0 || strcmp(cmd, "resume") == 0)
        printf("usage: smki-batch suspend --reason TEXT [--home DIR]\n"
               "       smki-batch resume [--home DIR]\n\n"
               "Emergency suspension (SEC L2.14): while suspended, files are still taken and\n"
               "receipted, but nothing is issued, by run or by run --drain. A running batch\n"
               "stops at its next chunk boundary. Both are audited.\n");
    else
        printf("usage: smki-batch hold --party EUI64 --batch ID [--home DIR]\n"
               "       smki-batch release --party EUI64 --batch ID [--home DIR]\n\n"
               "hold keeps one queued batch out of processing (later turns go on) until\n"
               "released; a running batch stops at its next chunk boundary. Audited.\n");
}

int cmd_control(int argc, char **argv)
{
    const char *cmd = argv[0], *root = home_default(), *reason = NULL, *party_text = NULL, *batch_id = NULL;
    static const struct option opts[] = {
        {"home", required_argument, 0, 'H'}, {"reason", required_argument, 0, 'r'},
        {"party", required_argument, 0, 'p'}, {"batch", required_argument, 0, 'b'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'H': root = optarg; break;
        case 'r': reason = optarg; break;
        case 'p': party_text = optarg; break;
        case 'b': batch_id = optarg; break;
        case 'h': help(cmd); return 0;
        default: return cli_usage_error(cmd, "unknown option");
        }
    }
    if (optind < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    struct home h;
    int suspend = strcmp(cmd, "suspend") == 0, resume = strcmp(cmd, "resume") == 0;
    if (suspend || resume) {
        if (suspend && (!reason || !*reason)) return cli_usage_error(cmd, "--reason TEXT is required");
        for (const char *q = reason ? reason : ""; *q; q++)
            if ((unsigned char)*q < 0x20) return cli_usage_error(cmd, "--reason must be one line");
        if (cli_open_home(&h, root) != 0) return 1;
        char current[512];
        int already = control_suspended(h.root, current, sizeof current);
        if (resume && !already) {
            printf("issuance is not suspended\n");
            return 0;
        }
        int rc = suspend ? control_suspend(h.root, reason) : control_resume(h.root);
        if (rc != 0) {
            fprintf(stderr, "smki-batch %s: %s/control: %s\n", cmd, h.root, strerror(-rc));
            return 1;
        }
        if (audit_append(h.root, cmd, "reason=%s", suspend ? reason : current) != 0)
            fprintf(stderr, "smki-batch %s: warning: the audit log could not be written\n", cmd);
        printf(suspend ? "issuance SUSPENDED: %s\n" : "issuance resumed (was: %s)\n", suspend ? reason : current);
        return 0;
    }
    uint8_t party[8];
    if (!party_text || eui64_parse(party_text, strlen(party_text), party) != 0)
        return cli_usage_error(cmd, "--party EUI64 is required");
    if (!batch_id || !*batch_id) return cli_usage_error(cmd, "--batch ID is required");
    if (cli_open_home(&h, root) != 0) return 1;
    struct store *s = cli_open_store(&h, STORE_READ_ONLY);
    if (!s) return 1;
    struct batch b;
    int rc = store_batch_find(s, party, batch_id, &b);
    store_close(s);
    char ptext[EUI64_TEXT_LEN + 1];
    eui64_format(party, ptext);
    if (rc != 1) {
        fprintf(stderr, "smki-batch %s: party %s has no batch '%s'\n", cmd, ptext, batch_id);
        return rc < 0 ? 1 : 2;
    }
    int hold = strcmp(cmd, "hold") == 0;
    if (hold && b.state != BATCH_QUEUED && b.state != BATCH_PROCESSING) {
        fprintf(stderr, "smki-batch hold: batch %s of party %s is %s; only a queued batch can be held\n", batch_id,
                ptext, batch_state_name(b.state));
        return 1;
    }
    int held = control_held(h.root, party, batch_id);
    if (!hold && !held) {
        printf("batch %s of party %s is not held\n", batch_id, ptext);
        return 0;
    }
    rc = hold ? control_hold(h.root, party, batch_id) : control_release(h.root, party, batch_id);
    if (rc != 0) {
        fprintf(stderr, "smki-batch %s: %s/control/hold: %s\n", cmd, h.root, strerror(-rc));
        return 1;
    }
    if (audit_append(h.root, cmd, "turn=%" PRIu64 " party=%s batch=%s", b.turn, ptext, batch_id) != 0)
        fprintf(stderr, "smki-batch %s: warning: the audit log could not be written\n", cmd);
    printf("batch %s of party %s (turn %" PRIu64 ") %s\n", batch_id, ptext, b.turn,
           hold ? "held: later turns go on without it" : "released: it keeps its turn");
    return 0;
}
