/* spool.h - the spool directory: what is waiting in incoming/, in the order
 * it is taken, and the event loop that wakes `run` when something arrives.
 *
 *   spool_scan     names in incoming/ (not dot-temp files of submit), oldest
 *                  first: modification time, then name (SPEC section 5).
 *   spool_watch    one io_uring watching three things at once: an inotify
 *                  descriptor on incoming/ (create, moved-to, close-write),
 *                  a signalfd for SIGTERM/SIGINT, and a timeout.  The
 *                  caller never sees the ring.
 * A rescan at start takes what was dropped while the service was down.
 */
#ifndef SMKI_SPOOL_H
#define SMKI_SPOOL_H

#include <stddef.h>

struct spool_list {
    char **names;
    size_t n;
};

/* spool_scan - 0, or -errno; free with spool_list_free */
int spool_scan(const char *incoming, struct spool_list *out);
void spool_list_free(struct spool_list *l);

struct spool_watch;

/* spool_watch_open - inotify on dir + signalfd(SIGTERM, SIGINT), blocking
 * those signals for the process; NULL with err */
struct spool_watch *spool_watch_open(const char *dir, char *err, size_t errlen);
void spool_watch_close(struct spool_watch *w);

enum spool_event { SPOOL_TIMEOUT, SPOOL_CHANGED, SPOOL_STOP };

/* spool_wait - block up to timeout_ms for a change or a stop signal */
enum spool_event spool_wait(struct spool_watch *w, int timeout_ms);

/* spool_changed - without blocking: did incoming/ change since the last
 * spool_wait or spool_changed?  (clears it) */
int spool_changed(struct spool_watch *w);
/* spool_stop_requested - a stop signal arrived (checked by long work) */
int spool_stop_requested(struct spool_watch *w);

#endif
