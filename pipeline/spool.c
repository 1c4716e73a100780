/* spool.c - scanning incoming/ and waiting for it through io_uring; see spool.h.
 *
 * The watch keeps one read in flight on the inotify descriptor and one on the
 * signalfd (user_data 1 and 2); spool_wait adds a timeout (user_data 3) and
 * waits for the first completion.  Any inotify event just means "rescan": the
 * scan, not the event, decides what is taken, so lost or merged events do no
 * harm (and IN_Q_OVERFLOW needs no special case).
 */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xmem.h"

struct entry {
    char *name;
    struct timespec mtime;
};

/* by_age - mtime, then name */
static int by_age(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    if (x->mtime.tv_sec != y->mtime.tv_sec) return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
    if (x->mtime.tv_nsec != y->mtime.tv_nsec) return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
    return strcmp(x->name, y->name);
}

int spool_scan(const char *incoming, struct spool_list *out)
{
    DIR *d = opendir(incoming);
    out->names = NULL;
    out->n = 0;
    if (!d) return -errno;
    size_t cap = 0, n = 0;
    struct entry *e = NULL;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *nm = de->d_name;
        size_t len = strlen(nm);
        if (strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0) continue;
        if (len > 4 && strcmp(nm + len - 4, ".tmp") == 0) continue;   /* still being written */
        struct stat st;
        if (fstatat(dirfd(d), nm, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            e = xrealloc(e, cap * sizeof *e);
        }
        e[n].name = xstrdup(nm);
        e[n].mtime = st.st_mtim;
        n++;
    }
    closedir(d);
    if (n) qsort(e, n, sizeof *e, by_age);
    out->names = xcalloc(n ? n : 1, sizeof *out->names);
    for (size_t i = 0; i < n; i++) out->names[i] = e[i].name;
    out->n = n;
    free(e);
    return 0;
}

void spool_list_free(struct spool_list *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->names[i]);
    free(l->names);
    l->names = NULL;
    l->n = 0;
}

enum { UD_INOTIFY = 1, UD_SIGNAL = 2, UD_TIMEOUT = 3 };

struct spool_watch {
    struct io_uring ring;
    int ifd, sfd;
    char ibuf[4096];
    struct signalfd_siginfo si;
    int stop;
    int changed;
};

static void arm(struct spool_watch *w, int what)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);
    if (what == UD_INOTIFY) io_uring_prep_read(sqe, w->ifd, w->ibuf, sizeof w->ibuf, 0);
    else io_uring_prep_read(sqe, w->sfd, &w->si, sizeof w->si, 0);
    io_uring_sqe_set_data64(sqe, (uint64_t)what);
}

struct spool_watch *spool_watch_open(const char *dir, char *err, size_t errlen)
{
    struct spool_watch *w = xcalloc(1, sizeof *w);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    w->sfd = signalfd(-1, &set, SFD_CLOEXEC);
    w->ifd = inotify_init1(IN_CLOEXEC);
    int rc = io_uring_queue_init(8, &w->ring, 0);
    if (w->sfd < 0 || w->ifd < 0 || rc < 0 ||
        inotify_add_watch(w->ifd, dir, IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ATTRIB) < 0) {
        snprintf(err, errlen, "%s: cannot watch the spool: %s", dir, strerror(rc < 0 ? -rc : errno));
        if (w->sfd >= 0) close(w->sfd);
        if (w->ifd >= 0) close(w->ifd);
        if (rc == 0) io_uring_queue_exit(&w->ring);
        free(w);
        return NULL;
    }
    arm(w, UD_INOTIFY);
    arm(w, UD_SIGNAL);
    io_uring_submit(&w->ring);
    return w;
}

void spool_watch_close(struct spool_watch *w)
{
    if (!w) return;
    io_uring_queue_exit(&w->ring);
    close(w->ifd);
    close(w->sfd);
    free(w);
}

/* handle - one completion */
static void handle(struct spool_watch *w, struct io_uring_cqe *cqe)
{
    uint64_t ud = io_uring_cqe_get_data64(cqe);
    if (ud == UD_INOTIFY) {
        if (cqe->res > 0) w->changed = 1;
        arm(w, UD_INOTIFY);
    } else if (ud == UD_SIGNAL) {
        if (cqe->res == (int)sizeof w->si) w->stop = 1;
        else arm(w, UD_SIGNAL);
    }
}

/* drain - handle completions already there without waiting */
static void drain(struct spool_watch *w)
{
    struct io_uring_cqe *cqe;
    while (io_uring_peek_cqe(&w->ring, &cqe) == 0) {
        handle(w, cqe);
        io_uring_cqe_seen(&w->ring, cqe);
    }
    io_uring_submit(&w->ring);
}

int spool_stop_requested(struct spool_watch *w)
{
    drain(w);
    return w->stop;
}

int spool_changed(struct spool_watch *w)
{
    drain(w);
    int changed = w->changed;
    w->changed = 0;
    return changed;
}

enum spool_event spool_wait(struct spool_watch *w, int timeout_ms)
{
    drain(w);
    if (!w->stop && !w->changed) {
        struct __kernel_timespec ts = {.tv_sec = timeout_ms / 1000, .tv_nsec = (timeout_ms % 1000) * 1000000L};
        struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);
        io_uring_prep_timeout(sqe, &ts, 0, 0);
        io_uring_sqe_set_data64(sqe, UD_TIMEOUT);
        io_uring_submit(&w->ring);
        int timed_out = 0;
        while (!timed_out) {
            struct io_uring_cqe *cqe;
            int rc = io_uring_wait_cqe(&w->ring, &cqe);
            if (rc == -EINTR) continue;
            if (rc < 0) break;
            if (io_uring_cqe_get_data64(cqe) == UD_TIMEOUT) timed_out = 1;
            else handle(w, cqe);
            io_uring_cqe_seen(&w->ring, cqe);
            if ((w->stop || w->changed) && !timed_out) {
                /* cancel the timeout; its completion comes back as UD_TIMEOUT */
                struct io_uring_sqe *c = io_uring_get_sqe(&w->ring);
                io_uring_prep_timeout_remove(c, UD_TIMEOUT, 0);
                io_uring_sqe_set_data64(c, 4);
                io_uring_submit(&w->ring);
                /* wait for the timeout's own completion so it is not left armed */
                while (!timed_out) {
                    if (io_uring_wait_cqe(&w->ring, &cqe) < 0) break;
                    uint64_t ud = io_uring_cqe_get_data64(cqe);
                    if (ud == UD_TIMEOUT) timed_out = 1;
                    else if (ud != 4) handle(w, cqe);
                    io_uring_cqe_seen(&w->ring, cqe);
                }
                drain(w);
            }
        }
        io_uring_submit(&w->ring);
    }
    if (w->stop) return SPOOL_STOP;
    if (w->changed) {
        w->changed = 0;
        return SPOOL_CHANGED;
    }
    return SPOOL_TIMEOUT;
}
