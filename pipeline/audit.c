/* audit.c - the hash-chained append-only audit log; see audit.h. */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "digest.h"
#include "fsutil.h"
#include "xmem.h"

#define HASH_HEX 64
static const char ZERO_HASH[HASH_HEX + 1] = "0000000000000000000000000000000000000000000000000000000000000000";

static void hex(const unsigned char *in, size_t n, char *out)
{
    static const char H[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = H[in[i] >> 4];
        out[2 * i + 1] = H[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* line_hash - SHA-256 of the first len bytes of a line, hex */
static void line_hash(const char *line, size_t len, char out[HASH_HEX + 1])
{
    uint8_t md[32];
    sha256(line, len, md);
    hex(md, sizeof md, out);
}

/* last_entry - seq and hash of the last line of the log (fd at any offset) */
static int last_entry(int fd, unsigned long long *seq, char hash[HASH_HEX + 1])
{
    struct stat st;
    if (fstat(fd, &st) != 0) return -errno;
    *seq = 0;
    memcpy(hash, ZERO_HASH, HASH_HEX + 1);
    if (st.st_size == 0) return 0;
    /* read backwards until the start of the last line is found */
    size_t want = 4096;
    for (;;) {
        off_t from = st.st_size > (off_t)want ? st.st_size - (off_t)want : 0;
        size_t n = (size_t)(st.st_size - from);
        char *buf = xmalloc(n + 1);
        ssize_t got = pread(fd, buf, n, from);
        if (got != (ssize_t)n) {
            free(buf);
            return -EIO;
        }
        buf[n] = '\0';
        if (n && buf[n - 1] == '\n') buf[--n] = '\0';
        char *start = strrchr(buf, '\n');
        if (start || from == 0) {
            start = start ? start + 1 : buf;
            char *h = strstr(start, " hash=");
            int ok = sscanf(start, "%llu ", seq) == 1 && h && strlen(h + 6) >= HASH_HEX;
            if (ok) {
                memcpy(hash, h + 6, HASH_HEX);
                hash[HASH_HEX] = '\0';
            }
            free(buf);
            return ok ? 0 : -EBADMSG;
        }
        free(buf);
        want *= 4;
    }
}

/* cut_torn_tail - a crash in the middle of an append leaves a last line
 * without its newline: that write never completed, so it is not part of the
 * log; cut it off (the caller records that it did).  Bytes cut, or -errno. */
static long cut_torn_tail(int fd)
{
    struct stat st;
    char c;
    if (fstat(fd, &st) != 0) return -errno;
    if (st.st_size == 0 || pread(fd, &c, 1, st.st_size - 1) != 1 || c == '\n') return 0;
    off_t pos = st.st_size - 1;
    char buf[4096];
    while (pos > 0) {
        size_t n = pos > (off_t)sizeof buf ? sizeof buf : (size_t)pos;
        if (pread(fd, buf, n, pos - (off_t)n) != (ssize_t)n) return -EIO;
        for (size_t i = n; i > 0; i--)
            if (buf[i - 1] == '\n') {
                off_t keep = pos - (off_t)n + (off_t)i;
                if (ftruncate(fd, keep) != 0) return -errno;
                return (long)(st.st_size - keep);
            }
        pos -= (off_t)n;
    }
    if (ftruncate(fd, 0) != 0) return -errno;
    return (long)st.st_size;
}

/* clean - details as single-line printable ASCII */
static void clean(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f) *s = '?';
}

int audit_append_text(const char *home, const char *event, const char *details, char *head)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/audit.log", home);
    int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0) return -errno;
    if (flock(fd, LOCK_EX) != 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    unsigned long long seq;
    char prev[HASH_HEX + 1], when[RFC3339_LEN + 1], hash[HASH_HEX + 1];
    long torn = cut_torn_tail(fd);
    int rc = torn < 0 ? (int)torn : last_entry(fd, &seq, prev);
    if (rc == 0 && torn > 0) {
        /* say so in the chain itself */
        char note[160];
        clock_format(clock_now(), when);
        int n = snprintf(note, sizeof note, "%llu %s audit-recovered removed_torn_bytes=%ld prev=%s", seq + 1, when,
                         torn, prev);
        line_hash(note, (size_t)n, hash);
        char line[300];
        int m = snprintf(line, sizeof line, "%s hash=%s\n", note, hash);
        rc = fs_write_all(fd, line, (size_t)m);
        seq++;
        memcpy(prev, hash, sizeof prev);
    }
    if (rc == 0) {
        clock_format(clock_now(), when);
        char *d = xstrdup(details);
        clean(d);
        size_t cap = strlen(d) + strlen(event) + 256;
        char *line = xmalloc(cap);
        int n = snprintf(line, cap, "%llu %s %s %s prev=%s", seq + 1, when, event, d, prev);
        line_hash(line, (size_t)n, hash);
        n += snprintf(line + n, cap - (size_t)n, " hash=%s\n", hash);
        struct stat before;
        off_t size0 = fstat(fd, &before) == 0 ? before.st_size : -1;
        rc = fs_write_all(fd, line, (size_t)n);
        if (rc == 0 && fdatasync(fd) != 0) rc = -errno;
        /* a failed append (full disk) leaves nothing behind: the caller knows
         * it failed and does not act on it */
        if (rc != 0 && size0 >= 0 && ftruncate(fd, size0) == 0) fdatasync(fd);
        if (rc == 0 && head) snprintf(head, 96, "%llu:%s", seq + 1, hash);
        free(line);
        free(d);
    }
    flock(fd, LOCK_UN);
    close(fd);
    return rc;
}

int audit_append(const char *home, const char *event, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return audit_append_text(home, event, buf, NULL);
}

long audit_verify(const char *home, const char *expect_head, FILE *out, long *entries)
{
    unsigned long long want_seq = 0;
    char want_hash[HASH_HEX + 1] = "";
    int found_head = 0;
    if (expect_head && sscanf(expect_head, "%llu:%64s", &want_seq, want_hash) != 2) want_seq = 0;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/audit.log", home);
    FILE *f = fopen(path, "r");
    *entries = 0;
    if (!f) {
        fprintf(out, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    char *line = NULL, prev_hash[HASH_HEX + 1];
    size_t cap = 0;
    ssize_t len;
    unsigned long long prev_seq = 0;
    long problems = 0, lineno = 0;
    memcpy(prev_hash, ZERO_HASH, sizeof prev_hash);
    while ((len = getline(&line, &cap, f)) != -1) {
        lineno++;
        if (len > 0 && line[len - 1] == '\n') line[--len] = '\0';
        else {
            fprintf(out, "line %ld (after entry %llu): torn: a write cut short by a crash (the next append "
                         "removes it and records that) or a damaged end\n", lineno, prev_seq);
            problems++;
            break;
        }
        unsigned long long seq;
        char *p = strstr(line, " prev="), *h = strstr(line, " hash=");
        if (sscanf(line, "%llu ", &seq) != 1 || !p || !h || h < p || strlen(h + 6) != HASH_HEX ||
            (size_t)(h - p) != 6 + HASH_HEX) {
            fprintf(out, "line %ld (after entry %llu): not an audit entry (damaged or inserted by hand)\n", lineno,
                    prev_seq);
            problems++;
            continue;
        }
        char want[HASH_HEX + 1];
        line_hash(line, (size_t)(h - line), want);
        if (memcmp(want, h + 6, HASH_HEX) != 0) {
            fprintf(out, "line %ld (entry %llu): its hash does not match its content: the entry was edited\n",
                    lineno, seq);
            problems++;
        }
        if (seq != prev_seq + 1) {
            if (seq > prev_seq + 1)
                fprintf(out, "line %ld (entry %llu): entries %llu to %llu are missing (removed)\n", lineno, seq,
                        prev_seq + 1, seq - 1);
            else
                fprintf(out, "line %ld (entry %llu): out of sequence after entry %llu (inserted or reordered)\n",
                        lineno, seq, prev_seq);
            problems++;
        } else if (memcmp(p + 6, prev_hash, HASH_HEX) != 0) {
            fprintf(out, "line %ld (entry %llu): does not chain to the entry before it (an entry was replaced, "
                         "inserted or moved)\n", lineno, seq);
            problems++;
        }
        if (want_seq && seq == want_seq) {
            if (memcmp(h + 6, want_hash, HASH_HEX) == 0) found_head = 1;
            else {
                fprintf(out, "line %ld (entry %llu): differs from the entry the store recorded\n", lineno, seq);
                problems++;
                found_head = 1;
            }
        }
        memcpy(prev_hash, h + 6, HASH_HEX);
        prev_seq = seq;
        (*entries)++;
    }
    free(line);
    fclose(f);
    if (want_seq && !found_head) {
        fprintf(out, "the log ends at entry %llu but the store recorded entry %llu: entries were cut off the end\n",
                prev_seq, want_seq);
        problems++;
    }
    return problems;
}

int audit_tail_contains(const char *home, const char *text)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/audit.log", home);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    struct stat st;
    int found = 0;
    if (fstat(fd, &st) == 0) {
        size_t n = st.st_size > (1 << 20) ? (1 << 20) : (size_t)st.st_size;
        char *buf = xmalloc(n + 1);
        if (pread(fd, buf, n, st.st_size - (off_t)n) == (ssize_t)n) {
            buf[n] = '\0';
            found = memmem(buf, n, text, strlen(text)) != NULL;
        }
        free(buf);
    }
    close(fd);
    return found;
}
