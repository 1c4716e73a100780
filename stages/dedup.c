/* dedup.c - in-batch claim tables and the duplicate checks; see dedup.h.
 * Two open-addressing tables (linear probing, power-of-two size, at most
 * half full): device+usage as a 64+1-bit key, key hashes by their first 8
 * octets with the full 32 compared. */
#include "dedup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmem.h"

struct dev_slot { uint64_t dev; uint8_t used; uint8_t usage; };
struct key_slot { uint8_t hash[32]; uint8_t used; };

struct dedup {
    struct dev_slot *dev;
    struct key_slot *key;
    uint64_t mask;
    dedup_keys_known_fn known;
    void *arg;
    uint8_t (*ask)[32];    /* scratch: the chunk's keys for the store lookup */
    uint8_t *answer;       /* the store's answers, in the order asked */
    uint8_t *asked;        /* per request of the chunk: was its key asked? */
    uint32_t ask_cap;
};

static uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* mix - spread the bits of a device number (EUI-64s share prefixes) */
static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

struct dedup *dedup_new(uint32_t max_requests, dedup_keys_known_fn known, void *arg)
{
    struct dedup *d = xcalloc(1, sizeof *d);
    uint64_t size = 16;
    while (size < (uint64_t)max_requests * 2) size <<= 1;
    d->mask = size - 1;
    d->dev = xcalloc(size, sizeof *d->dev);
    d->key = xcalloc(size, sizeof *d->key);
    d->known = known;
    d->arg = arg;
    return d;
}

void dedup_free(struct dedup *d)
{
    if (!d) return;
    free(d->dev);
    free(d->key);
    free(d->ask);
    free(d->answer);
    free(d->asked);
    free(d);
}

/* dev_find - slot for device+usage: the match, or the empty slot to fill */
static struct dev_slot *dev_find(struct dedup *d, const uint8_t device[8], enum usage usage)
{
    uint64_t dev = load64(device);
    for (uint64_t i = mix(dev ^ (uint64_t)usage) & d->mask;; i = (i + 1) & d->mask) {
        struct dev_slot *s = &d->dev[i];
        if (!s->used || (s->dev == dev && s->usage == (uint8_t)usage)) return s;
    }
}

static struct key_slot *key_find(struct dedup *d, const uint8_t hash[32])
{
    for (uint64_t i = load64(hash) & d->mask;; i = (i + 1) & d->mask) {
        struct key_slot *s = &d->key[i];
        if (!s->used || memcmp(s->hash, hash, 32) == 0) return s;
    }
}

void dedup_claim(struct dedup *d, const uint8_t device[8], enum usage usage, const uint8_t key_hash[32])
{
    struct dev_slot *ds = dev_find(d, device, usage);
    ds->used = 1;
    ds->dev = load64(device);
    ds->usage = (uint8_t)usage;
    struct key_slot *ks = key_find(d, key_hash);
    ks->used = 1;
    memcpy(ks->hash, key_hash, 32);
}

/* in_batch - the in-batch checks of r; 1 when it is a duplicate (coded) */
static int in_batch(struct dedup *d, struct request *r)
{
    if (dev_find(d, r->device, r->usage)->used) {
        r->code = RC_DUPLICATE_REQUEST;
        snprintf(r->errtext, sizeof r->errtext, "device %s with usage %s was requested earlier in this batch",
                 r->device_text, r->usage == USAGE_DS ? "DS" : "KA");
        return 1;
    }
    if (key_find(d, r->key_hash)->used) {
        r->code = RC_DUPLICATE_KEY;
        snprintf(r->errtext, sizeof r->errtext, "this public key was requested earlier in this batch");
        return 1;
    }
    return 0;
}

int dedup_chunk(struct dedup *d, struct chunk *c)
{
    /* one batched store lookup for the chunk's keys: those of requests
     * still valid whose device and key this batch has not claimed.  Never
     * a claimed key: it is in the store once its chunk is committed, and a
     * lookup that hits the memtable costs a sort of it; duplicates within
     * this chunk are not committed yet (misses) */
    if (c->n > d->ask_cap) {
        d->ask_cap = c->cap > c->n ? c->cap : c->n;
        d->ask = xrealloc(d->ask, (size_t)d->ask_cap * sizeof *d->ask);
        d->answer = xrealloc(d->answer, d->ask_cap);
        d->asked = xrealloc(d->asked, d->ask_cap);
    }
    size_t n = 0;
    for (uint32_t i = 0; i < c->n; i++) {
        struct request *r = &c->req[i];
        d->asked[i] = 0;
        if (r->code != RC_OK || dev_find(d, r->device, r->usage)->used || key_find(d, r->key_hash)->used) continue;
        d->asked[i] = 1;
        memcpy(d->ask[n++], r->key_hash, 32);
    }
    if (n && d->known(d->arg, (const uint8_t (*)[32])d->ask, n, d->answer) != 0) return -1;
    size_t a = 0;
    for (uint32_t i = 0; i < c->n; i++) {
        struct request *r = &c->req[i];
        if (r->code != RC_OK) continue;
        int stored = d->asked[i] ? d->answer[a++] : 0;
        if (in_batch(d, r)) continue;
        if (stored) {
            r->code = RC_DUPLICATE_KEY;
            snprintf(r->errtext, sizeof r->errtext, "this public key is already certified");
            continue;
        }
        dedup_claim(d, r->device, r->usage, r->key_hash);
    }
    return 0;
}
