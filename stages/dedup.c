/* dedup.c - in-batch claim tables and the duplicate checks; see dedup.h.
 * Two open-addressing tables (linear probing, at most three quarters full,
 * sized for the batch): device+usage as a 64-bit device and a usage octet
 * (0: empty slot), key hashes whole (32 octets and a used octet), placed by
 * their first 8.  42 octets a slot, four slots for three requests: about
 * 56 octets a request a batch may hold, 2.8 MB for 50,000 (it was 128 octets
 * a request at half full, with 16-octet device slots). */
#include "dedup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmem.h"

struct key_slot { uint8_t hash[32]; uint8_t used; };

struct dedup {
    uint64_t *dev;         /* device of each device slot */
    uint8_t *dev_usage;    /* its usage + 1; 0: the slot is empty */
    struct key_slot *key;
    uint32_t size;         /* slots in each table */
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

/* slot_of - the home slot of a 64-bit hash: its top 32 bits scaled to the
 * table (no power-of-two size needed) */
static uint32_t slot_of(const struct dedup *d, uint64_t h)
{
    return (uint32_t)(((h >> 32) * (uint64_t)d->size) >> 32);
}

static uint32_t next_slot(const struct dedup *d, uint32_t i)
{
    return i + 1 == d->size ? 0 : i + 1;
}

struct dedup *dedup_new(uint32_t max_requests, dedup_keys_known_fn known, void *arg)
{
    struct dedup *d = xcalloc(1, sizeof *d);
    /* one slot always stays empty, so that a probe ends */
    d->size = max_requests + max_requests / 3 + 16;
    d->dev = xcalloc(d->size, sizeof *d->dev);
    d->dev_usage = xcalloc(d->size, 1);
    d->key = xcalloc(d->size, sizeof *d->key);
    d->known = known;
    d->arg = arg;
    return d;
}

void dedup_free(struct dedup *d)
{
    if (!d) return;
    free(d->dev);
    free(d->dev_usage);
    free(d->key);
    free(d->ask);
    free(d->answer);
    free(d->asked);
    free(d);
}

/* dev_find - slot of device+usage: the match, or the empty slot to fill */
static uint32_t dev_find(const struct dedup *d, const uint8_t device[8], enum usage usage)
{
    uint64_t dev = load64(device);
    uint8_t tag = (uint8_t)(usage + 1);
    for (uint32_t i = slot_of(d, mix(dev ^ (uint64_t)usage));; i = next_slot(d, i))
        if (!d->dev_usage[i] || (d->dev[i] == dev && d->dev_usage[i] == tag)) return i;
}

static int dev_claimed(const struct dedup *d, const uint8_t device[8], enum usage usage)
{
    return d->dev_usage[dev_find(d, device, usage)] != 0;
}

static struct key_slot *key_find(struct dedup *d, const uint8_t hash[32])
{
    for (uint32_t i = slot_of(d, load64(hash));; i = next_slot(d, i)) {
        struct key_slot *s = &d->key[i];
        if (!s->used || memcmp(s->hash, hash, 32) == 0) return s;
    }
}

void dedup_claim(struct dedup *d, const uint8_t device[8], enum usage usage, const uint8_t key_hash[32])
{
    uint32_t i = dev_find(d, device, usage);
    d->dev[i] = load64(device);
    d->dev_usage[i] = (uint8_t)(usage + 1);
    struct key_slot *ks = key_find(d, key_hash);
    ks->used = 1;
    memcpy(ks->hash, key_hash, 32);
}

/* in_batch - the in-batch checks of r; 1 when it is a duplicate (coded) */
static int in_batch(struct dedup *d, struct request *r)
{
    if (dev_claimed(d, r->device, r->usage)) {
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
        if (r->code != RC_OK || dev_claimed(d, r->device, r->usage) || key_find(d, r->key_hash)->used) continue;
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
