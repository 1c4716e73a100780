/* cmd_submit.c - `smki-batch submit FILE`: what the web tier does.  Copies
 * FILE into spool/incoming/ atomically (write STEM.tmp, fsync, rename to
 * STEM.xml without replacing anything, fsync the directory) and, with
 * --wait, waits for the receipt and prints it.  Never overwrites: when STEM
 * is in use (in incoming/ or already receipted) it picks STEM-1, STEM-2...
 * and says so.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fsutil.h"

static void help(void)
{
    printf("usage: smki-batch submit FILE [--wait] [--timeout SECONDS] [--home DIR]\n\n"
           "Copies FILE into HOME/spool/incoming/ atomically under its own name (its stem,\n"
           "made of [A-Za-z0-9._-], with .xml); on a name clash picks a new stem and prints it.\n"
           "--wait waits (default 60 s) for the service's receipt and prints it; the exit\n"
           "status is then 0 for Accepted, 1 for Rejected or no receipt in time.\n");
}

/* make_stem - the file's base name without .xml, unsafe characters as '_' */
static void make_stem(const char *file, char *stem, size_t cap)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    size_t n = strlen(base);
    if (n > 4 && strcmp(base + n - 4, ".xml") == 0) n -= 4;
    if (n > 120) n = 120;
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        char c = base[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        stem[o++] = ok ? c : '_';
    }
    stem[o] = '\0';
    if (o == 0) snprintf(stem, cap, "batch");
}

/* copy_to - FILE into fd */
static int copy_to(int in, int out)
{
    char buf[1 << 16];
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        if (n == 0) return 0;
        int rc = fs_write_all(out, buf, (size_t)n);
        if (rc != 0) return rc;
    }
}

int cmd_submit(int argc, char **argv)
{
    const char *root = home_default();
    int wait = 0;
    long timeout = 60;
    static const struct option opts[] = {
        {"home", required_argument, 0, 'H'}, {"wait", no_argument, 0, 'w'},
        {"timeout", required_argument, 0, 't'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'H': root = optarg; break;
        case 'w': wait = 1; break;
        case 't': timeout = atol(optarg); if (timeout <= 0) return cli_usage_error("submit", "--timeout: seconds > 0"); break;
        case 'h': help(); return 0;
        default: return cli_usage_error("submit", "unknown option");
        }
    }
    if (optind + 1 != argc) return cli_usage_error("submit", "give exactly one FILE");
    const char *file = argv[optind];
    struct home h;
    home_paths(&h, root);
    struct stat st;
    if (stat(h.incoming, &st) != 0) {
        fprintf(stderr, "smki-batch submit: %s: no spool here (%s); is --home right?\n", h.incoming, strerror(errno));
        return 1;
    }
    int in = open(file, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        fprintf(stderr, "smki-batch submit: %s: cannot read: %s\n", file, strerror(errno));
        return 1;
    }
    char stem[130], base[130], tmp[PATH_MAX + 200], dst[PATH_MAX + 200], rcpt[PATH_MAX + 200];
    make_stem(file, base, sizeof base);
    snprintf(tmp, sizeof tmp, "%s/%s.%ld.tmp", h.incoming, base, (long)getpid());
    int out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (out < 0) {
        fprintf(stderr, "smki-batch submit: %s: cannot create: %s\n", tmp, strerror(errno));
        close(in);
        return 1;
    }
    int rc = copy_to(in, out);
    close(in);
    if (rc == 0 && fsync(out) != 0) rc = -errno;
    if (close(out) != 0 && rc == 0) rc = -errno;
    if (rc != 0) {
        fprintf(stderr, "smki-batch submit: %s: cannot write: %s\n", tmp, strerror(-rc));
        unlink(tmp);
        return 1;
    }
    /* a stem not in use in incoming/ nor already receipted */
    for (int i = 0;; i++) {
        if (i == 0) snprintf(stem, sizeof stem, "%s", base);
        else snprintf(stem, sizeof stem, "%.*s-%d", 110, base, i);
        snprintf(dst, sizeof dst, "%s/%s.xml", h.incoming, stem);
        snprintf(rcpt, sizeof rcpt, "%s/%s.receipt.xml", h.receipts, stem);
        if (access(rcpt, F_OK) == 0) continue;
        if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dst, RENAME_NOREPLACE) == 0) break;
        if (errno != EEXIST || i > 10000) {
            fprintf(stderr, "smki-batch submit: %s: cannot rename into place: %s\n", dst, strerror(errno));
            unlink(tmp);
            return 1;
        }
    }
    fs_fsync_dir(h.incoming);
    if (strcmp(stem, base) != 0)
        printf("name %s.xml was in use; submitted as %s.xml\n", base, stem);
    else
        printf("submitted %s.xml\n", stem);
    if (!wait) return 0;

    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        FILE *f = fopen(rcpt, "r");
        if (f) {
            char buf[4096];
            size_t n = fread(buf, 1, sizeof buf - 1, f);
            fclose(f);
            buf[n] = '\0';
            fputs(buf, stdout);
            return strstr(buf, "<Status>Accepted</Status>") ? 0 : 1;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec >= timeout) {
            fprintf(stderr, "smki-batch submit: no receipt for %s.xml after %ld s: is 'smki-batch run' running?\n",
                    stem, timeout);
            return 1;
        }
        usleep(50 * 1000);
    }
}
