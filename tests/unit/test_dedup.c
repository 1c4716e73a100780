/* test_dedup.c - unit tests of the in-order duplicate checks (stages/dedup.c),
 * SPEC.md 3.3 and 5: E_DUPLICATE_REQUEST (device + usage earlier in the
 * batch), E_DUPLICATE_KEY (key earlier in the batch or certified before,
 * through the caller's callback); only an otherwise valid request claims;
 * devices compare by their 8 octets; claims persist across chunks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

#include "dedup.h"
#include "eui64.h"

/* the store-side key index, faked: a list of known hashes, and a switch to fail */
struct known {
    uint8_t keys[8][32];
    int n;
    int fail;
    int calls;           /* batched lookups */
    size_t asked;        /* keys asked in all */
    uint8_t last[32];
};

static int known_fn(void *arg, const uint8_t (*hashes)[32], size_t n, uint8_t *out)
{
    struct known *k = arg;
    k->calls++;
    k->asked += n;
    memcpy(k->last, hashes[n - 1], 32);
    if (k->fail) return -1;
    for (size_t j = 0; j < n; j++) {
        out[j] = 0;
        for (int i = 0; i < k->n; i++)
            if (memcmp(k->keys[i], hashes[j], 32) == 0) out[j] = 1;
    }
    return 0;
}

static void mk_key(uint8_t h[32], int seed)
{
    for (int i = 0; i < 32; i++) h[i] = (uint8_t)(seed * 31 + i);
}

/* a request row: device as text (parsed here), usage, key seed, code before dedup */
struct rq {
    const char *dev;
    enum usage usage;
    int key;
    enum req_code code_in;
    enum req_code want;
};

/* fill - a chunk from rows */
static struct chunk *fill(const struct rq *rows, size_t n)
{
    struct chunk *c = chunk_new((uint32_t)n);
    c->n = (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        struct request *r = &c->req[i];
        memset(r, 0, sizeof *r);
        snprintf(r->request_id, sizeof r->request_id, "%zu", i + 1);
        snprintf(r->device_text, sizeof r->device_text, "%s", rows[i].dev);
        snprintf(r->usage_text, sizeof r->usage_text, "%s", rows[i].usage == USAGE_DS ? "DS" : "KA");
        if (eui64_parse(rows[i].dev, strlen(rows[i].dev), r->device) != 0) fail_msg("fixture device %s", rows[i].dev);
        r->usage = rows[i].usage;
        mk_key(r->key_hash, rows[i].key);
        r->code = rows[i].code_in;
        if (r->code != RC_OK) snprintf(r->errtext, sizeof r->errtext, "earlier stage");
    }
    return c;
}

/* expect - codes after dedup, errtext set for the duplicates */
static void expect(const struct chunk *c, const struct rq *rows, const char *label)
{
    int nfail = 0;
    for (uint32_t i = 0; i < c->n; i++) {
        const struct request *r = &c->req[i];
        if (r->code != rows[i].want)
            TU_ROW_FAIL(nfail, "%s: request %u: %s, want %s (%s)", label, i + 1, req_code_name(r->code),
                        req_code_name(rows[i].want), r->errtext);
        else if (r->code != RC_OK && r->errtext[0] == '\0')
            TU_ROW_FAIL(nfail, "%s: request %u: %s without errtext", label, i + 1, req_code_name(r->code));
        else if (r->code == RC_OK && r->errtext[0] != '\0')
            TU_ROW_FAIL(nfail, "%s: request %u: OK with errtext '%s'", label, i + 1, r->errtext);
    }
    TU_ROWS_DONE(nfail, label);
}

#define DEV_A "00-DB-12-34-56-78-90-A4"
#define DEV_A_LOWER "00db1234567890a4"
#define DEV_B "00-DB-12-34-56-78-90-A5"
#define DEV_C "00-DB-12-34-56-78-90-A6"

struct scenario {
    const char *label;
    struct rq rows[8];
    size_t n;
    int known_seed;      /* a key certified before (0: none) */
};

/* test_scenarios - one chunk each, a fresh dedup */
static void test_scenarios(void **state)
{
    (void)state;
    const struct scenario sc[] = {
        {"same device+usage twice",
         {{DEV_A, USAGE_DS, 1, RC_OK, RC_OK}, {DEV_A, USAGE_DS, 2, RC_OK, RC_DUPLICATE_REQUEST}}, 2, 0},
        {"same device, other usage",
         {{DEV_A, USAGE_DS, 1, RC_OK, RC_OK}, {DEV_A, USAGE_KA, 2, RC_OK, RC_OK}}, 2, 0},
        {"same device spelled differently",
         {{DEV_A, USAGE_KA, 1, RC_OK, RC_OK}, {DEV_A_LOWER, USAGE_KA, 2, RC_OK, RC_DUPLICATE_REQUEST}}, 2, 0},
        {"same key, other device",
         {{DEV_A, USAGE_DS, 7, RC_OK, RC_OK}, {DEV_B, USAGE_DS, 7, RC_OK, RC_DUPLICATE_KEY}}, 2, 0},
        {"same key, same device, other usage",
         {{DEV_A, USAGE_DS, 7, RC_OK, RC_OK}, {DEV_A, USAGE_KA, 7, RC_OK, RC_DUPLICATE_KEY}}, 2, 0},
        {"device+usage and key both repeated: E_DUPLICATE_REQUEST first",
         {{DEV_A, USAGE_DS, 7, RC_OK, RC_OK}, {DEV_A, USAGE_DS, 7, RC_OK, RC_DUPLICATE_REQUEST}}, 2, 0},
        {"a rejected request claims nothing",
         {{DEV_A, USAGE_DS, 7, RC_CSR_SIGNATURE, RC_CSR_SIGNATURE}, {DEV_A, USAGE_DS, 7, RC_OK, RC_OK},
          {DEV_A, USAGE_DS, 8, RC_OK, RC_DUPLICATE_REQUEST}}, 3, 0},
        {"a rejected request keeps its own code even when it repeats",
         {{DEV_A, USAGE_DS, 7, RC_OK, RC_OK}, {DEV_A, USAGE_DS, 7, RC_KEY_INVALID, RC_KEY_INVALID},
          {DEV_B, USAGE_DS, 7, RC_DEVICE_ID, RC_DEVICE_ID}}, 3, 0},
        {"certified before: E_DUPLICATE_KEY, and that request claims nothing",
         {{DEV_A, USAGE_DS, 9, RC_OK, RC_DUPLICATE_KEY}, {DEV_A, USAGE_DS, 10, RC_OK, RC_OK},
          {DEV_B, USAGE_KA, 9, RC_OK, RC_DUPLICATE_KEY}}, 3, 9},
        {"duplicate request claims nothing either",
         {{DEV_A, USAGE_DS, 1, RC_OK, RC_OK}, {DEV_A, USAGE_DS, 2, RC_OK, RC_DUPLICATE_REQUEST},
          {DEV_B, USAGE_DS, 2, RC_OK, RC_OK}}, 3, 0},
        {"three devices, two usages, all distinct",
         {{DEV_A, USAGE_DS, 1, RC_OK, RC_OK}, {DEV_A, USAGE_KA, 2, RC_OK, RC_OK}, {DEV_B, USAGE_DS, 3, RC_OK, RC_OK},
          {DEV_B, USAGE_KA, 4, RC_OK, RC_OK}, {DEV_C, USAGE_DS, 5, RC_OK, RC_OK}, {DEV_C, USAGE_KA, 6, RC_OK, RC_OK}},
         6, 0},
    };
    for (size_t i = 0; i < TU_N(sc); i++) {
        struct known k = {0};
        if (sc[i].known_seed) {
            mk_key(k.keys[0], sc[i].known_seed);
            k.n = 1;
        }
        struct dedup *d = dedup_new(64, known_fn, &k);
        struct chunk *c = fill(sc[i].rows, sc[i].n);
        assert_int_equal(dedup_chunk(d, c), 0);
        expect(c, sc[i].rows, sc[i].label);
        chunk_free(c);
        dedup_free(d);
    }
}

/* test_errtext - the reasons name what was repeated */
static void test_errtext(void **state)
{
    (void)state;
    const struct rq rows[] = {
        {DEV_A, USAGE_KA, 1, RC_OK, RC_OK},
        {DEV_A_LOWER, USAGE_KA, 2, RC_OK, RC_DUPLICATE_REQUEST},
        {DEV_B, USAGE_DS, 1, RC_OK, RC_DUPLICATE_KEY},
        {DEV_C, USAGE_DS, 3, RC_OK, RC_DUPLICATE_KEY},
    };
    struct known k = {.n = 1};
    mk_key(k.keys[0], 3);
    struct dedup *d = dedup_new(8, known_fn, &k);
    struct chunk *c = fill(rows, TU_N(rows));
    assert_int_equal(dedup_chunk(d, c), 0);
    expect(c, rows, "errtext");
    tu_assert_contains(c->req[1].errtext, "KA");
    tu_assert_contains(c->req[1].errtext, "earlier");
    tu_assert_contains(c->req[2].errtext, "earlier");
    tu_assert_contains(c->req[3].errtext, "certified");
    chunk_free(c);
    dedup_free(d);
}

/* test_known_callback - one batched call per chunk, with the keys of the
 * requests still valid (not the rejected ones); -1 makes dedup_chunk fail */
static void test_known_callback(void **state)
{
    (void)state;
    struct known k = {0};
    struct dedup *d = dedup_new(8, known_fn, &k);
    const struct rq rows[] = {
        {DEV_A, USAGE_DS, 5, RC_OK, RC_OK},
        {DEV_B, USAGE_DS, 6, RC_CSR_ENCODING, RC_CSR_ENCODING},   /* rejected: no lookup */
    };
    struct chunk *c = fill(rows, TU_N(rows));
    assert_int_equal(dedup_chunk(d, c), 0);
    assert_int_equal(k.calls, 1);
    assert_int_equal(k.asked, 1);
    uint8_t h5[32];
    mk_key(h5, 5);
    assert_memory_equal(k.last, h5, 32);
    chunk_free(c);

    /* the store fails: -1 */
    k.fail = 1;
    const struct rq rows2[] = {{DEV_C, USAGE_KA, 11, RC_OK, RC_OK}};
    c = fill(rows2, 1);
    assert_int_equal(dedup_chunk(d, c), -1);
    chunk_free(c);
    dedup_free(d);
}

/* test_across_chunks - claims persist from chunk to chunk */
static void test_across_chunks(void **state)
{
    (void)state;
    struct known k = {0};
    struct dedup *d = dedup_new(16, known_fn, &k);
    const struct rq first[] = {{DEV_A, USAGE_DS, 1, RC_OK, RC_OK}, {DEV_B, USAGE_KA, 2, RC_OK, RC_OK}};
    const struct rq second[] = {{DEV_A, USAGE_DS, 3, RC_OK, RC_DUPLICATE_REQUEST},
                                {DEV_C, USAGE_DS, 2, RC_OK, RC_DUPLICATE_KEY},
                                {DEV_A, USAGE_KA, 4, RC_OK, RC_OK}};
    const struct rq third[] = {{DEV_A, USAGE_KA, 5, RC_OK, RC_DUPLICATE_REQUEST}};
    struct chunk *c = fill(first, TU_N(first));
    assert_int_equal(dedup_chunk(d, c), 0);
    expect(c, first, "chunk 1");
    chunk_free(c);
    c = fill(second, TU_N(second));
    assert_int_equal(dedup_chunk(d, c), 0);
    expect(c, second, "chunk 2");
    chunk_free(c);
    c = fill(third, TU_N(third));
    assert_int_equal(dedup_chunk(d, c), 0);
    expect(c, third, "chunk 3");
    chunk_free(c);
    dedup_free(d);
}

/* test_claim - a resumed batch: claims made without checking are honoured */
static void test_claim(void **state)
{
    (void)state;
    struct known k = {0};
    struct dedup *d = dedup_new(16, known_fn, &k);
    uint8_t dev[8], key[32];
    assert_int_equal(eui64_parse(DEV_A, strlen(DEV_A), dev), 0);
    mk_key(key, 40);
    dedup_claim(d, dev, USAGE_KA, key);
    assert_int_equal(k.calls, 0);
    const struct rq rows[] = {
        {DEV_A_LOWER, USAGE_KA, 41, RC_OK, RC_DUPLICATE_REQUEST},
        {DEV_B, USAGE_DS, 40, RC_OK, RC_DUPLICATE_KEY},
        {DEV_A, USAGE_DS, 42, RC_OK, RC_OK},
    };
    struct chunk *c = fill(rows, TU_N(rows));
    assert_int_equal(dedup_chunk(d, c), 0);
    expect(c, rows, "after dedup_claim");
    chunk_free(c);
    dedup_free(d);
}

/* test_full_table - as many claims as dedup_new was sized for; keys that
 * share their first 8 octets stay distinct (the full 32 are compared) */
static void test_full_table(void **state)
{
    (void)state;
    const uint32_t N = 5000;
    struct known k = {0};
    struct dedup *d = dedup_new(N, known_fn, &k);
    struct chunk *c = chunk_new(N);
    c->n = N;
    for (uint32_t i = 0; i < N; i++) {
        struct request *r = &c->req[i];
        memset(r, 0, sizeof *r);
        /* devices differ only in the last octets (shared OUI prefix) */
        const uint8_t dev[8] = {0x00, 0xDB, 0x12, 0x34, 0, 0, (uint8_t)(i >> 8), (uint8_t)i};
        memcpy(r->device, dev, 8);
        eui64_format(dev, r->device_text);
        r->usage = (i & 1) ? USAGE_KA : USAGE_DS;
        /* keys: the same first 8 octets for all, the index in the last 4 */
        memset(r->key_hash, 0xAB, 32);
        r->key_hash[28] = (uint8_t)(i >> 24);
        r->key_hash[29] = (uint8_t)(i >> 16);
        r->key_hash[30] = (uint8_t)(i >> 8);
        r->key_hash[31] = (uint8_t)i;
    }
    assert_int_equal(dedup_chunk(d, c), 0);
    for (uint32_t i = 0; i < N; i++)
        if (c->req[i].code != RC_OK) fail_msg("request %u: %s (%s)", i, req_code_name(c->req[i].code), c->req[i].errtext);
    assert_int_equal(k.calls, 1);   /* one batched lookup for the chunk */
    assert_int_equal(k.asked, N);
    chunk_free(c);

    /* every one of them again: all duplicates now (device+usage first) */
    c = chunk_new(N);
    c->n = N;
    for (uint32_t i = 0; i < N; i++) {
        struct request *r = &c->req[i];
        memset(r, 0, sizeof *r);
        const uint8_t dev[8] = {0x00, 0xDB, 0x12, 0x34, 0, 0, (uint8_t)(i >> 8), (uint8_t)i};
        memcpy(r->device, dev, 8);
        r->usage = (i & 1) ? USAGE_KA : USAGE_DS;
        memset(r->key_hash, 0xAB, 32);
        r->key_hash[31] = (uint8_t)i;
        r->key_hash[30] = (uint8_t)(i >> 8);
    }
    /* c->req[i] repeats device+usage i: E_DUPLICATE_REQUEST for all */
    assert_int_equal(dedup_chunk(d, c), 0);
    for (uint32_t i = 0; i < N; i++)
        if (c->req[i].code != RC_DUPLICATE_REQUEST) fail_msg("repeat %u: %s", i, req_code_name(c->req[i].code));
    chunk_free(c);
    dedup_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenarios),
        cmocka_unit_test(test_errtext),
        cmocka_unit_test(test_known_callback),
        cmocka_unit_test(test_across_chunks),
        cmocka_unit_test(test_claim),
        cmocka_unit_test(test_full_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
