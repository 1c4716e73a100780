/* popcache.c - proofs of possession already checked; see popcache.h. */
#include "popcache.h"

#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "xmem.h"

struct popcache {
    uint32_t positions, count;
    double cpu;                       /* seconds spent filling it */
    uint8_t *present;                 /* one octet per position: 1 recorded */
    uint8_t (*tags)[POP_TAG_LEN];
};

struct popcache *popcache_new(uint32_t positions)
{
    struct popcache *pc = xcalloc(1, sizeof *pc);
    pc->positions = positions;
    pc->present = xcalloc(positions ? positions : 1, 1);
    pc->tags = xcalloc(positions ? positions : 1, POP_TAG_LEN);
    return pc;
}

void popcache_free(struct popcache *pc)
{
    if (!pc) return;
    free(pc->present);
    free(pc->tags);
    free(pc);
}

void popcache_tag(const uint8_t md[32], const uint8_t *sig, size_t siglen, uint8_t tag[POP_TAG_LEN])
{
    uint8_t buf[32 + 80], out[32], sh[32];
    if (siglen > sizeof buf - 32) {   /* a P-256 signature is at most 72: never, but bind it all */
        sha256(sig, siglen, sh);
        sig = sh;
        siglen = sizeof sh;
    }
    memcpy(buf, md, 32);
    memcpy(buf + 32, sig, siglen);
    sha256(buf, 32 + siglen, out);
    memcpy(tag, out, POP_TAG_LEN);
}

void popcache_put(struct popcache *pc, uint32_t pos, const uint8_t tag[POP_TAG_LEN])
{
    if (pos >= pc->positions) return;
    memcpy(pc->tags[pos], tag, POP_TAG_LEN);
    if (!pc->present[pos]) pc->count++;
    pc->present[pos] = 1;
}

int popcache_has(const struct popcache *pc, uint32_t pos)
{
    return pos < pc->positions && pc->present[pos];
}

int popcache_holds(const struct popcache *pc, uint32_t pos, const uint8_t tag[POP_TAG_LEN])
{
    return pos < pc->positions && pc->present[pos] && memcmp(pc->tags[pos], tag, POP_TAG_LEN) == 0;
}

uint32_t popcache_count(const struct popcache *pc)
{
    return pc->count;
}

void popcache_cpu_add(struct popcache *pc, double seconds)
{
    pc->cpu += seconds;
}

double popcache_cpu(const struct popcache *pc)
{
    return pc->cpu;
}
