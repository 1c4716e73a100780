/* xmem.h - allocation that never returns NULL: on exhaustion it prints what
 * it was allocating and aborts, so callers carry no NULL checks.  Bounded
 * memory comes from design (fixed pools), not from checking malloc. */
#ifndef SMKI_XMEM_H
#define SMKI_XMEM_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

#endif
