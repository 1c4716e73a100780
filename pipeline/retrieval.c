/* retrieval.c - per-batch retrieval records under flock; see retrieval.h. */
#include "retrieval.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "eui64.h"
#include "fsutil.h"
#include "xmem.h"

struct retrieval_lock {
    int fd;
    char dir[PATH_MAX];
    char name[200];
};

struct retrieval_lock *retrieval_open(const char *home, const uint8_t party[8], const char *batch_id,
                                      struct retrieval *r, char *err, size_t errlen)
{
    struct retrieval_lock *l = xcalloc(1, sizeof *l);
    char hex[17], path[PATH_MAX + 256], lockpath[PATH_MAX + 256];
    eui64_hex16(party, hex);
    snprintf(l->dir, sizeof l->dir, "%s/retrievals", home);
    snprintf(l->name, sizeof l->name, "%s_%s", hex, batch_id);
    int rc = fs_mkdirs(l->dir, 0750);
    snprintf(lockpath, sizeof lockpath, "%s/.lock", l->dir);
    l->fd = rc == 0 ? open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0640) : -1;
    if (l->fd < 0 || flock(l->fd, LOCK_EX) != 0) {
        snprintf(err, errlen, "%s: %s", l->dir, strerror(rc ? -rc : errno));
        if (l->fd >= 0) close(l->fd);
        free(l);
        return NULL;
    }
    memset(r, 0, sizeof *r);
    snprintf(path, sizeof path, "%s/%s", l->dir, l->name);
    FILE *f = fopen(path, "r");
    if (f) {
        long long a = 0, b = 0, c = 0;
        if (fscanf(f, "last_poll=%lld\nretrieved_at=%lld\nreopened_at=%lld", &a, &b, &c) >= 2) {
            r->last_poll = (time_t)a;
            r->retrieved_at = (time_t)b;
            r->reopened_at = (time_t)c;
        }
        fclose(f);
    }
    return l;
}

int retrieval_save(struct retrieval_lock *l, const struct retrieval *r)
{
    char buf[256];
    int n = snprintf(buf, sizeof buf, "last_poll=%lld\nretrieved_at=%lld\nreopened_at=%lld\n",
                     (long long)r->last_poll, (long long)r->retrieved_at, (long long)r->reopened_at);
    return fs_write_atomic(l->dir, l->name, buf, (size_t)n, 0640);
}

void retrieval_close(struct retrieval_lock *l)
{
    if (!l) return;
    close(l->fd);   /* releases the flock */
    free(l);
}
