/* request.c - chunks of requests: allocation and the text arena; see request.h. */
#include "request.h"

#include <stdlib.h>
#include <string.h>

#include "xmem.h"

/* chunk_new - a chunk for up to cap requests */
struct chunk *chunk_new(uint32_t cap)
{
    struct chunk *c = xcalloc(1, sizeof *c);
    c->cap = cap;
    c->req = xcalloc(cap, sizeof *c->req);
    c->arena_cap = (size_t)cap * 512;
    c->arena = xmalloc(c->arena_cap);
    return c;
}

/* chunk_reset - empty it, keeping capacity */
void chunk_reset(struct chunk *c)
{
    c->n = 0;
    c->seq = 0;
    c->first_index = 0;
    c->arena_len = 0;
}

/* chunk_free - release everything */
void chunk_free(struct chunk *c)
{
    if (!c) return;
    free(c->req);
    free(c->arena);
    free(c);
}

/* chunk_add_text - append to the arena, growing it geometrically */
uint32_t chunk_add_text(struct chunk *c, const char *s, size_t len)
{
    if (c->arena_len + len + 1 > c->arena_cap) {
        while (c->arena_len + len + 1 > c->arena_cap)
            c->arena_cap *= 2;
        c->arena = xrealloc(c->arena, c->arena_cap);
    }
    uint32_t off = (uint32_t)c->arena_len;
    memcpy(c->arena + off, s, len);
    c->arena[off + len] = '\0';
    c->arena_len += len + 1;
    return off;
}
