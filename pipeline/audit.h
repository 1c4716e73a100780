/* audit.h - the audit trail: HOME/audit.log, append-only, one entry per
 * line, each hash-chained to the one before, so that an assessor can check
 * that nothing was edited, removed, inserted or reordered
 * (`smki-batch audit verify`).
 *
 *   <seq> <time> <event> <details> prev=<64 hex> hash=<64 hex>
 *   hash = SHA-256 of the line up to and including "prev=<64 hex>";
 *   seq starts at 1; the first entry's prev is 64 zeros.
 *
 * Who writes what: init, party add, run (start, drain), every chunk of
 * certificates issued (turn, chunk, and serial:device:usage of each, before
 * the chunk is committed), every batch done or failed, fetch --reopen, and
 * the operator actions of later commands.  Several processes may append
 * (run, and an operator's fetch --reopen): each append takes an exclusive
 * flock, reads the last entry, writes, fdatasyncs, and unlocks.
 * Details are single-line printable ASCII (the writer replaces the rest).
 */
#ifndef SMKI_AUDIT_H
#define SMKI_AUDIT_H

#include <stddef.h>
#include <stdio.h>

/* audit_append - one entry; 0, or -errno (the caller decides whether that
 * stops the action: issuance stops, since nothing may be issued unaudited) */
int audit_append(const char *home, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* audit_append_text - the same with preformatted details (may be long);
 * head (may be NULL, 96 bytes) receives "<seq>:<hash>" of the new entry */
int audit_append_text(const char *home, const char *event, const char *details, char *head);

/* audit_tail_contains - 1 if one of the last entries (the last 1 MiB of
 * the log) contains text; 0 if not or unreadable.  Recovery uses it so that
 * an entry written just before a crash is not written twice. */
int audit_tail_contains(const char *home, const char *text);

/* audit_verify - check the whole chain; prints each problem (naming the
 * line and entry) to out; returns the number of problems (0 = intact), or
 * -1 when the log cannot be read.  expect_head (may be NULL): "<seq>:<hash>"
 * of an entry the store says was written (the last issuance): the log must
 * hold it, so that cutting entries off the end is found too. */
long audit_verify(const char *home, const char *expect_head, FILE *out, long *entries);

#endif
