/* log.h - the service log: one line per event on stderr, severity in the call.
 *
 *   log_info   normal progress (a batch taken, a batch done with counts/rate)
 *   log_warn   something an operator should look at; the service goes on
 *   log_fatal  cannot go on: message, then exit(1)
 *   log_panic  a broken invariant (a bug): message, then abort()
 * A bad CSR is never a log event: it is a result code in the response.
 * Thread-safe (one fprintf per line).  Lines start with a UTC timestamp.
 */
#ifndef SMKI_LOG_H
#define SMKI_LOG_H

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void log_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* log_quiet - suppress log_info (commands other than run) */
void log_set_quiet(int quiet);

#endif
