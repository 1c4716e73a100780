/* cmd_fetch.c - `smki-batch fetch --party EUI64 --batch ID [--out FILE]`:
 * the retrieval the web tier makes for a party.  Exit status (SPEC.md 1):
 * 0 delivered, 3 still pending, 2 unknown batch, 1 operational failure
 * (including a batch that failed).  The retrieval-time rules (4, 5, 6)
 * come with the capacity model.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "eui64.h"
#include "fsutil.h"

#define EXIT_PENDING 3

static void help(void)
{
    printf("usage: smki-batch fetch --party EUI64 --batch ID [--out FILE] [--home DIR]\n\n"
           "Prints (or writes to FILE, atomically) the response file of a party's batch.\n"
           "Exit status: 0 delivered, 3 still pending, 2 unknown batch, 1 failure.\n");
}

/* copy_fd - whole file to fd */
static int copy_fd(int in, int out)
{
    char buf[1 << 16];
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0) return -errno;
        if (n == 0) return 0;
        int rc = fs_write_all(out, buf, (size_t)n);
        if (rc) return rc;
    }
}

int cmd_fetch(int argc, char **argv)
{
    const char *root = home_default(), *party_text = NULL, *batch_id = NULL, *out = NULL;
    static const struct option opts[] = {
        {"home", required_argument, 0, 'H'}, {"party", required_argument, 0, 'p'},
        {"batch", required_argument, 0, 'b'}, {"out", required_argument, 0, 'o'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'H': root = optarg; break;
        case 'p': party_text = optarg; break;
        case 'b': batch_id = optarg; break;
        case 'o': out = optarg; break;
        case 'h': help(); return 0;
        default: return cli_usage_error("fetch", "unknown option");
        }
    }
    uint8_t party[8];
    if (!party_text || eui64_parse(party_text, strlen(party_text), party) != 0)
        return cli_usage_error("fetch", "--party EUI64 is required (e.g. 90-B3-D5-1F-30-01-00-00)");
    if (!batch_id || !*batch_id) return cli_usage_error("fetch", "--batch ID is required");
    struct home h;
    if (cli_open_home(&h, root) != 0) return 1;
    struct store *s = cli_open_store(&h, STORE_READ_ONLY);
    if (!s) return 1;
    uint64_t turn;
    struct batch b;
    int rc = store_batch_lookup(s, party, batch_id, &turn);
    if (rc == 1) rc = store_batch_get(s, turn, &b);
    store_close(s);
    char ptext[EUI64_TEXT_LEN + 1];
    eui64_format(party, ptext);
    if (rc < 0) {
        fprintf(stderr, "smki-batch fetch: cannot read the store\n");
        return 1;
    }
    if (rc == 0) {
        fprintf(stderr, "smki-batch fetch: party %s has no batch '%s' (check the receipt's PartyID and BatchID)\n",
                ptext, batch_id);
        return 2;
    }
    if (b.state == BATCH_FAILED) {
        fprintf(stderr, "smki-batch fetch: batch %s of party %s (turn %" PRIu64 ") failed: %s\n", batch_id, ptext,
                b.turn, b.error);
        return 1;
    }
    if (b.state != BATCH_DONE) {
        fprintf(stderr, "smki-batch fetch: batch %s of party %s (turn %" PRIu64 ") is %s: %u of %u CSRs answered\n",
                batch_id, ptext, b.turn, batch_state_name(b.state), b.done, b.csrs);
        return EXIT_PENDING;
    }
    char path[PATH_MAX + 300];
    snprintf(path, sizeof path, "%s/%s_%s.response.xml", h.responses, ptext, b.batch_id);
    int in = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in < 0) {
        fprintf(stderr, "smki-batch fetch: %s: %s (the batch is done but its response is missing: "
                        "was it removed by retention?)\n", path, strerror(errno));
        return 1;
    }
    if (!out) {
        rc = copy_fd(in, STDOUT_FILENO);
        close(in);
        if (rc) fprintf(stderr, "smki-batch fetch: writing: %s\n", strerror(-rc));
        return rc ? 1 : 0;
    }
    char tmp[PATH_MAX + 16];
    snprintf(tmp, sizeof tmp, "%s.tmp", out);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "smki-batch fetch: %s: %s\n", tmp, strerror(errno));
        close(in);
        return 1;
    }
    rc = copy_fd(in, fd);
    close(in);
    if (rc == 0 && fsync(fd) != 0) rc = -errno;
    close(fd);
    if (rc == 0 && rename(tmp, out) != 0) rc = -errno;
    if (rc) {
        unlink(tmp);
        fprintf(stderr, "smki-batch fetch: %s: %s\n", out, strerror(-rc));
        return 1;
    }
    printf("response of batch %s (party %s, turn %" PRIu64 ") written to %s\n", b.batch_id, ptext, b.turn, out);
    return 0;
}
