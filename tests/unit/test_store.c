/* test_store.c - unit tests of the RocksDB store (pipeline/store.c): open
 * modes, the turn counter (strictly increasing, survives reopen), batch
 * records and the party+BatchID index, parties, issued-certificate records
 * and their indexes, and the single-writer lock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <rocksdb/c.h>

#include "testutil.h"

#include "store.h"

struct fx {
    char *dir;
    char db[1024];
    struct store *s;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    char err[512];
    f->dir = tu_mkdtemp("store");
    snprintf(f->db, sizeof f->db, "%s/db", f->dir);
    f->s = store_open(f->db, STORE_CREATE, err, sizeof err);
    if (!f->s) fail_msg("store_open(CREATE): %s", err);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    store_close(f->s);
    tu_rmtree(f->dir);
    free(f);
    return 0;
}

/* reopen - close and open again read-write */
static void reopen(struct fx *f, enum store_mode mode)
{
    char err[512];
    store_close(f->s);
    f->s = store_open(f->db, mode, err, sizeof err);
    if (!f->s) fail_msg("store_open(%d): %s", (int)mode, err);
}

static const uint8_t PARTY_A[8] = {0x90, 0xB3, 0xD5, 0x1F, 0x30, 0x01, 0x00, 0x00};
static const uint8_t PARTY_B[8] = {0x90, 0xB3, 0xD5, 0x1F, 0x30, 0x02, 0x00, 0x00};

/* mk_batch - a queued batch record */
static void mk_batch(struct batch *b, const uint8_t party[8], const char *id)
{
    memset(b, 0, sizeof *b);
    memcpy(b->party, party, 8);
    snprintf(b->batch_id, sizeof b->batch_id, "%s", id);
    snprintf(b->file, sizeof b->file, "%s.xml", id);
    snprintf(b->archive, sizeof b->archive, "%s.xml.zst", id);
    b->csrs = 2;
    b->received_at = 1795375800;
    strcpy(b->scheduled_night, "2026-11-22");
    b->retrieve_not_before = 1795420800;
    b->state = BATCH_QUEUED;
}

/* test_open_modes - create, refuse to re-create, read-write, read-only */
static void test_open_modes(void **state)
{
    struct fx *f = *state;
    char err[512];
    char missing[1100];

    /* CREATE over an existing store fails (init refuses to overwrite) */
    store_close(f->s);
    f->s = NULL;
    struct store *s2 = store_open(f->db, STORE_CREATE, err, sizeof err);
    assert_null(s2);
    tu_assert_contains(err, f->db);

    /* READ_WRITE / READ_ONLY of a directory with no store: NULL, the directory named */
    snprintf(missing, sizeof missing, "%s/nope", f->dir);
    err[0] = '\0';
    assert_null(store_open(missing, STORE_READ_WRITE, err, sizeof err));
    tu_assert_contains(err, missing);
    err[0] = '\0';
    assert_null(store_open(missing, STORE_READ_ONLY, err, sizeof err));
    tu_assert_contains(err, missing);

    /* read-write: writes work */
    reopen(f, STORE_READ_WRITE);
    struct party p = {.uplift = 5, .added_at = 1000};
    memcpy(p.id, PARTY_A, 8);
    strcpy(p.name, "Acme");
    assert_int_equal(store_party_put(f->s, &p), 0);

    /* read-only: reads work, every write fails with a message, never aborts */
    reopen(f, STORE_READ_ONLY);
    struct party got;
    assert_int_equal(store_party_get(f->s, PARTY_A, &got), 1);
    assert_string_equal(got.name, "Acme");
    strcpy(p.name, "Changed");
    assert_int_equal(store_party_put(f->s, &p), -1);
    tu_assert_contains(store_error(f->s), "read-only");
    struct batch b;
    mk_batch(&b, PARTY_A, "RO-1");
    assert_int_equal(store_batch_accept(f->s, &b), -1);
    uint64_t last = 99;
    assert_int_equal(store_last_turn(f->s, &last), 0);
    assert_int_equal(last, 0);
    reopen(f, STORE_READ_WRITE);
    assert_int_equal(store_party_get(f->s, PARTY_A, &got), 1);
    assert_string_equal(got.name, "Acme");
}

/* test_turns - 1, 2, 3; they survive close/reopen and never go back */
static void test_turns(void **state)
{
    struct fx *f = *state;
    uint64_t last = 99;
    assert_int_equal(store_last_turn(f->s, &last), 0);
    assert_int_equal(last, 0);
    const char *ids[] = {"B-1", "B-2", "B-3"};
    for (int i = 0; i < 3; i++) {
        struct batch b;
        mk_batch(&b, PARTY_A, ids[i]);
        b.turn = 777;   /* ignored: the store gives the turn */
        assert_int_equal(store_batch_accept(f->s, &b), 0);
        assert_int_equal(b.turn, (uint64_t)(i + 1));
    }
    assert_int_equal(store_last_turn(f->s, &last), 0);
    assert_int_equal(last, 3);

    reopen(f, STORE_READ_WRITE);
    assert_int_equal(store_last_turn(f->s, &last), 0);
    assert_int_equal(last, 3);
    for (int i = 0; i < 3; i++) {
        uint64_t t = 0;
        assert_int_equal(store_batch_lookup(f->s, PARTY_A, ids[i], &t), 1);
        assert_int_equal(t, (uint64_t)(i + 1));
        struct batch b;
        assert_int_equal(store_batch_get(f->s, t, &b), 1);
        assert_string_equal(b.batch_id, ids[i]);
    }
    /* the next turn after reopen is 4, never a reused one */
    struct batch b;
    mk_batch(&b, PARTY_B, "B-1");
    assert_int_equal(store_batch_accept(f->s, &b), 0);
    assert_int_equal(b.turn, 4);
    /* rewriting a record does not move the counter */
    b.state = BATCH_DONE;
    assert_int_equal(store_batch_put(f->s, &b), 0);
    reopen(f, STORE_READ_ONLY);
    assert_int_equal(store_last_turn(f->s, &last), 0);
    assert_int_equal(last, 4);
    reopen(f, STORE_READ_WRITE);
    mk_batch(&b, PARTY_B, "B-2");
    assert_int_equal(store_batch_accept(f->s, &b), 0);
    assert_int_equal(b.turn, 5);
}

/* test_lookup - party + BatchID, both parts matter */
static void test_lookup(void **state)
{
    struct fx *f = *state;
    struct batch b;
    mk_batch(&b, PARTY_A, "ACME-20261122-0001");
    assert_int_equal(store_batch_accept(f->s, &b), 0);
    mk_batch(&b, PARTY_B, "ACME-20261122-0002");
    assert_int_equal(store_batch_accept(f->s, &b), 0);

    uint64_t t = 0;
    assert_int_equal(store_batch_lookup(f->s, PARTY_A, "ACME-20261122-0001", &t), 1);
    assert_int_equal(t, 1);
    assert_int_equal(store_batch_lookup(f->s, PARTY_B, "ACME-20261122-0002", &t), 1);
    assert_int_equal(t, 2);
    /* other party, other id, prefix of an id, longer id: absent */
    assert_int_equal(store_batch_lookup(f->s, PARTY_B, "ACME-20261122-0001", &t), 0);
    assert_int_equal(store_batch_lookup(f->s, PARTY_A, "ACME-20261122-0002", &t), 0);
    assert_int_equal(store_batch_lookup(f->s, PARTY_A, "ACME-20261122-000", &t), 0);
    assert_int_equal(store_batch_lookup(f->s, PARTY_A, "ACME-20261122-00011", &t), 0);
    assert_int_equal(store_batch_get(f->s, 3, &b), 0);
    assert_int_equal(store_batch_get(f->s, 0, &b), 0);
}

/* fill - a string of n characters (a repeating pattern) */
static void fill(char *dst, size_t n, const char *pattern)
{
    size_t pl = strlen(pattern);
    for (size_t i = 0; i < n; i++) dst[i] = pattern[i % pl];
    dst[n] = '\0';
}

/* batch_expect_equal - every field */
static void batch_expect_equal(const struct batch *got, const struct batch *want)
{
    assert_int_equal(got->turn, want->turn);
    assert_memory_equal(got->party, want->party, 8);
    assert_string_equal(got->batch_id, want->batch_id);
    assert_string_equal(got->file, want->file);
    assert_string_equal(got->archive, want->archive);
    assert_int_equal(got->csrs, want->csrs);
    assert_int_equal(got->received_at, want->received_at);
    assert_string_equal(got->scheduled_night, want->scheduled_night);
    assert_int_equal(got->retrieve_not_before, want->retrieve_not_before);
    assert_int_equal(got->state, want->state);
    assert_int_equal(got->done, want->done);
    assert_int_equal(got->body_len, want->body_len);
    assert_int_equal(got->issued, want->issued);
    assert_int_equal(got->rejected, want->rejected);
    assert_int_equal(got->started_at, want->started_at);
    assert_int_equal(got->completed_at, want->completed_at);
    assert_string_equal(got->error, want->error);
    assert_string_equal(got->src, want->src);
}

/* test_batch_round_trip - every field, including maximal strings */
static void test_batch_round_trip(void **state)
{
    struct fx *f = *state;
    struct batch b, got;
    memset(&b, 0, sizeof b);
    memcpy(b.party, PARTY_B, 8);
    fill(b.batch_id, 64, "Az09._-");
    fill(b.file, 139, "f.x-");
    fill(b.archive, 159, "a_z.");
    b.csrs = 50000;
    b.received_at = 1795375800;
    strcpy(b.scheduled_night, "2026-11-22");
    b.retrieve_not_before = 1795420800;
    b.state = BATCH_QUEUED;
    b.done = 12345;
    b.body_len = 5000000000ULL;   /* past 32 bits */
    b.issued = 12000;
    b.rejected = 345;
    b.started_at = 1795377600;
    b.completed_at = 4102444800;   /* 2100: past 2038 */
    fill(b.error, 255, "cannot read x=y; ");
    fill(b.src, 95, "2049:1234567:");
    assert_int_equal(store_batch_accept(f->s, &b), 0);
    assert_int_equal(b.turn, 1);
    memset(&got, 0x5a, sizeof got);
    assert_int_equal(store_batch_get(f->s, 1, &got), 1);
    batch_expect_equal(&got, &b);

    /* a rewrite with state and progress; survives reopen */
    b.state = BATCH_FAILED;
    strcpy(b.error, "archive/x.xml.zst: unreadable: Input/output error");
    strcpy(b.src, "2049:1234567:4096:1795375799.123456789");
    b.done = 50000;
    b.body_len = 21474836480ULL;
    b.completed_at = 1795400000;
    assert_int_equal(store_batch_put(f->s, &b), 0);
    reopen(f, STORE_READ_WRITE);
    memset(&got, 0x5a, sizeof got);
    assert_int_equal(store_batch_get(f->s, 1, &got), 1);
    batch_expect_equal(&got, &b);

    /* empty strings stay empty, every state survives */
    for (int st = BATCH_QUEUED; st <= BATCH_FAILED; st++) {
        mk_batch(&b, PARTY_A, "S");
        b.batch_id[0] = 'S';
        b.batch_id[1] = (char)('0' + st);
        b.batch_id[2] = '\0';
        b.state = (enum batch_state)st;
        b.error[0] = b.src[0] = '\0';
        assert_int_equal(store_batch_accept(f->s, &b), 0);
        memset(&got, 0x5a, sizeof got);
        assert_int_equal(store_batch_get(f->s, b.turn, &got), 1);
        batch_expect_equal(&got, &b);
    }
    assert_string_equal(batch_state_name(BATCH_QUEUED), "queued");
    assert_string_equal(batch_state_name(BATCH_DONE), "done");
}

struct turns_seen { uint64_t t[64]; int n; int stop_after; };

static int collect_batch(const struct batch *b, void *arg)
{
    struct turns_seen *ts = arg;
    ts->t[ts->n++] = b->turn;
    return ts->stop_after && ts->n == ts->stop_after;
}

/* test_batch_each - turn order (numeric, 9 < 10), from first_turn, stop */
static void test_batch_each(void **state)
{
    struct fx *f = *state;
    for (int i = 1; i <= 12; i++) {
        struct batch b;
        char id[16];
        snprintf(id, sizeof id, "E-%d", i);
        mk_batch(&b, i % 2 ? PARTY_A : PARTY_B, id);
        assert_int_equal(store_batch_accept(f->s, &b), 0);
    }
    struct turns_seen ts = {0};
    assert_int_equal(store_batch_each(f->s, 0, collect_batch, &ts), 0);
    assert_int_equal(ts.n, 12);
    for (int i = 0; i < 12; i++) assert_int_equal(ts.t[i], (uint64_t)(i + 1));

    memset(&ts, 0, sizeof ts);
    assert_int_equal(store_batch_each(f->s, 9, collect_batch, &ts), 0);
    assert_int_equal(ts.n, 4);
    for (int i = 0; i < 4; i++) assert_int_equal(ts.t[i], (uint64_t)(9 + i));

    memset(&ts, 0, sizeof ts);
    ts.stop_after = 3;
    store_batch_each(f->s, 2, collect_batch, &ts);
    assert_int_equal(ts.n, 3);
    assert_int_equal(ts.t[0], 2);
    assert_int_equal(ts.t[2], 4);

    memset(&ts, 0, sizeof ts);
    assert_int_equal(store_batch_each(f->s, 13, collect_batch, &ts), 0);
    assert_int_equal(ts.n, 0);
}

struct parties_seen { struct party p[8]; int n; };

static int collect_party(const struct party *p, void *arg)
{
    struct parties_seen *ps = arg;
    ps->p[ps->n++] = *p;
    return 0;
}

/* test_parties - put, get, overwrite, each in id order */
static void test_parties(void **state)
{
    struct fx *f = *state;
    const uint8_t ids[3][8] = {
        {0xF0, 0, 0, 0, 0, 0, 0, 1},
        {0x00, 0xDB, 0x12, 0x34, 0x56, 0x78, 0x90, 0xA4},
        {0x90, 0xB3, 0xD5, 0x1F, 0x30, 0x01, 0x00, 0x00},
    };
    for (int i = 0; i < 3; i++) {
        struct party p;
        memset(&p, 0, sizeof p);
        memcpy(p.id, ids[i], 8);
        if (i == 0) fill(p.name, 128, "Long Name & Co ");
        else snprintf(p.name, sizeof p.name, "Party %d", i);
        p.uplift = 1000L * i;
        p.added_at = 1795375800 + i;
        assert_int_equal(store_party_put(f->s, &p), 0);
    }
    struct party got;
    memset(&got, 0x5a, sizeof got);
    assert_int_equal(store_party_get(f->s, ids[0], &got), 1);
    assert_memory_equal(got.id, ids[0], 8);
    assert_int_equal(strlen(got.name), 128);
    assert_int_equal(got.uplift, 0);
    assert_int_equal(got.added_at, 1795375800);
    assert_int_equal(store_party_get(f->s, ids[2], &got), 1);
    assert_string_equal(got.name, "Party 2");
    assert_int_equal(got.uplift, 2000);
    assert_int_equal(got.added_at, 1795375802);
    const uint8_t absent[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_int_equal(store_party_get(f->s, absent, &got), 0);

    /* overwrite (uplift raised) */
    got.uplift = 75000;
    assert_int_equal(store_party_put(f->s, &got), 0);
    reopen(f, STORE_READ_WRITE);
    assert_int_equal(store_party_get(f->s, ids[2], &got), 1);
    assert_int_equal(got.uplift, 75000);

    struct parties_seen ps = {0};
    assert_int_equal(store_party_each(f->s, collect_party, &ps), 0);
    assert_int_equal(ps.n, 3);
    assert_memory_equal(ps.p[0].id, ids[1], 8);   /* 00DB... < 90B3... < F000... */
    assert_memory_equal(ps.p[1].id, ids[2], 8);
    assert_memory_equal(ps.p[2].id, ids[0], 8);
    assert_string_equal(ps.p[0].name, "Party 1");
    assert_int_equal(ps.p[1].uplift, 75000);
}

/* cert fixtures */
static void mk_serial(uint8_t s[16], uint8_t seed)
{
    for (int i = 0; i < 16; i++) s[i] = (uint8_t)(seed * 17 + i * 3);
    s[0] = (uint8_t)(0x40 | (seed & 0x3f));
}

static void mk_hash(uint8_t h[32], uint8_t seed)
{
    for (int i = 0; i < 32; i++) h[i] = (uint8_t)(seed ^ (i * 29));
}

struct serials_seen { uint8_t s[16][16]; int n; };

static int collect_serial(const uint8_t serial[16], void *arg)
{
    struct serials_seen *ss = arg;
    memcpy(ss->s[ss->n++], serial, 16);
    return 0;
}

static int has_serial(const struct serials_seen *ss, const uint8_t s[16])
{
    for (int i = 0; i < ss->n; i++)
        if (memcmp(ss->s[i], s, 16) == 0) return 1;
    return 0;
}

/* expect_device - store_device_each(dev, usage) lists n serials: first,
 * then second (in that order) */
static void expect_device(struct store *s, const uint8_t dev[8], int usage, int n,
                          const uint8_t *first, const uint8_t *second)
{
    struct serials_seen ss = {0};
    assert_int_equal(store_device_each(s, dev, usage, collect_serial, &ss), 0);
    assert_int_equal(ss.n, n);
    if (n > 0) assert_memory_equal(ss.s[0], first, 16);
    if (n > 1) assert_memory_equal(ss.s[1], second, 16);
}

/* hex_text - n octets as 2n upper-case hex digits and a NUL */
static void hex_text(const uint8_t *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) snprintf(out + 2 * i, 3, "%02X", in[i]);
}

/* add_cert - one certificate in its own committed WriteBatch */
static void add_cert(struct fx *f, uint8_t seed, const uint8_t dev[8], int usage, uint64_t turn,
                     const uint8_t *der, size_t der_len)
{
    uint8_t serial[16], hash[32];
    struct cert_meta m;
    memset(&m, 0, sizeof m);
    mk_serial(serial, seed);
    mk_hash(hash, seed);
    m.turn = turn;
    m.issued_at = 1795380000 + seed;
    memcpy(m.device, dev, 8);
    m.usage = (uint8_t)usage;
    struct store_batch *wb = store_wb_new(f->s);
    store_wb_add_cert(wb, serial, &m, hash, der, der_len, NULL);
    assert_int_equal(store_wb_commit(f->s, wb), 0);
    store_wb_free(wb);
}

/* test_certs_packed - a certificate of the recorded template is kept as its
 * fields and read back whole; one of another shape is kept whole; a record
 * whose template is missing is an error that says so; the template is
 * recorded once and survives a reopen */
static void test_certs_packed(void **state)
{
    struct fx *f = *state;
    static uint8_t tbs[300];
    static const uint8_t alg[12] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
    for (size_t i = 0; i < sizeof tbs; i++) tbs[i] = (uint8_t)(i * 13 + 5);
    struct cert_tmpl t = {.tbs = tbs, .tbs_len = sizeof tbs, .alg = alg, .alg_len = sizeof alg,
                          .nfield = 2, .off = {10, 200}, .len = {16, 65}};
    assert_int_equal(certpack_tmpl_id(&t), 0);
    assert_int_equal(store_template_put(f->s, &t), 0);
    assert_int_equal(store_template_put(f->s, &t), 0);   /* again: nothing new */

    /* a certificate of t: fields and a 71-octet signature */
    uint8_t rec[200], der[600], other[600];
    size_t rl = 0;
    rec[rl++] = CERTPACK_FORMAT;
    memcpy(rec + rl, t.id, CERTPACK_ID_LEN);
    rl += CERTPACK_ID_LEN;
    for (int i = 0; i < 16 + 65 + 71; i++) rec[rl++] = (uint8_t)(i * 7 + 3);
    size_t dl = certpack_unpack(&t, rec, rl, der, sizeof der);
    assert_true(dl > 0);
    memcpy(other, der, dl);
    other[5] ^= 0x40;   /* outside the fields: not t's shape */

    const uint8_t dev[8] = {0x00, 0xDB, 0x12, 0x34, 0x56, 0x78, 0x90, 0xA6};
    uint8_t s1[16], s2[16], s3[16], h1[32], h2[32];
    mk_serial(s1, 21); mk_serial(s2, 22); mk_serial(s3, 23);
    mk_hash(h1, 21); mk_hash(h2, 22);
    struct cert_meta m = {.turn = 3, .issued_at = 1795380003, .usage = 0};
    memcpy(m.device, dev, 8);
    struct store_batch *wb = store_wb_new(f->s);
    store_wb_add_cert(wb, s1, &m, h1, der, dl, &t);
    store_wb_add_cert(wb, s2, &m, h2, other, dl, &t);
    assert_int_equal(store_wb_commit(f->s, wb), 0);
    store_wb_free(wb);

    /* stored sizes: the meta and the record, or the meta and the DER */
    char k[18] = "c/", *v;   /* c/<serial> */
    size_t n;
    memcpy(k + 2, s1, 16);
    assert_int_equal(store_get(f->s, k, sizeof k, &v, &n), 1);
    assert_int_equal(n, sizeof m + rl);
    free(v);
    memcpy(k + 2, s2, 16);
    assert_int_equal(store_get(f->s, k, sizeof k, &v, &n), 1);
    assert_int_equal(n, sizeof m + dl);
    free(v);

    /* both read back whole, also after a reopen (the template from t/) */
    for (int pass = 0; pass < 2; pass++) {
        struct cert_meta got;
        uint8_t *d;
        size_t len;
        assert_int_equal(store_cert_get(f->s, s1, &got, &d, &len), 1);
        assert_int_equal(len, dl);
        assert_memory_equal(d, der, dl);
        assert_int_equal(got.turn, 3);
        free(d);
        assert_int_equal(store_cert_get(f->s, s2, &got, &d, &len), 1);
        assert_int_equal(len, dl);
        assert_memory_equal(d, other, dl);
        free(d);
        char err[512];
        store_close(f->s);
        f->s = store_open(f->db, STORE_READ_WRITE, err, sizeof err);
        if (!f->s) fail_msg("reopen: %s", err);
    }

    /* a record of a template the store does not have */
    uint8_t rv[sizeof m + sizeof rec];
    memcpy(rv, &m, sizeof m);
    memcpy(rv + sizeof m, rec, rl);
    rv[sizeof m + 1] ^= 0xFF;   /* its id */
    memcpy(k + 2, s3, 16);
    wb = store_wb_new(f->s);
    store_wb_put(wb, k, sizeof k, rv, sizeof m + rl);
    assert_int_equal(store_wb_commit(f->s, wb), 0);
    store_wb_free(wb);
    struct cert_meta got;
    uint8_t *d = (uint8_t *)1;
    size_t len;
    assert_int_equal(store_cert_get(f->s, s3, &got, &d, &len), -1);
    assert_null(d);
    if (!strstr(store_error(f->s), "is missing")) fail_msg("error: %s", store_error(f->s));

    /* t/<id> holding other octets (ids that collide): refused, not overwritten */
    char tk[2 + 2 * CERTPACK_ID_LEN + 1] = "t/";
    hex_text(t.id, CERTPACK_ID_LEN, tk + 2);
    wb = store_wb_new(f->s);
    store_wb_put(wb, tk, sizeof tk - 1, "other", 5);
    assert_int_equal(store_wb_commit(f->s, wb), 0);
    store_wb_free(wb);
    assert_int_equal(store_template_put(f->s, &t), -1);
    if (!strstr(store_error(f->s), "ids collide")) fail_msg("error: %s", store_error(f->s));
    assert_int_equal(store_get(f->s, tk, sizeof tk - 1, &v, &n), 1);
    assert_int_equal(n, 5);
    free(v);
}

/* test_certs - records, the serial / key / device indexes */
static void test_certs(void **state)
{
    struct fx *f = *state;
    const uint8_t dev1[8] = {0x00, 0xDB, 0x12, 0x34, 0x56, 0x78, 0x90, 0xA4};
    const uint8_t dev2[8] = {0x00, 0xDB, 0x12, 0x34, 0x56, 0x78, 0x90, 0xA5};
    uint8_t der[600];
    for (size_t i = 0; i < sizeof der; i++) der[i] = (uint8_t)(i * 7 + 1);
    der[0] = 0x30;
    der[5] = 0x00;   /* a NUL inside the DER must not cut it */

    /* certs 1 (dev1 DS) and 2 (dev1 KA) in one WriteBatch, 3 (dev2 DS) alone */
    uint8_t s1[16], s2[16], s3[16], h1[32], h2[32], h3[32], h9[32], s9[16];
    mk_serial(s1, 1); mk_serial(s2, 2); mk_serial(s3, 3); mk_serial(s9, 9);
    mk_hash(h1, 1); mk_hash(h2, 2); mk_hash(h3, 3); mk_hash(h9, 9);
    struct cert_meta m1 = {.turn = 7, .issued_at = 1795380001, .usage = 0};
    memcpy(m1.device, dev1, 8);
    struct cert_meta m2 = m1;
    m2.usage = 1;
    m2.issued_at = 1795380002;
    struct store_batch *wb = store_wb_new(f->s);
    store_wb_add_cert(wb, s1, &m1, h1, der, sizeof der, NULL);
    store_wb_add_cert(wb, s2, &m2, h2, der, 300, NULL);
    /* nothing is visible before the commit */
    assert_int_equal(store_serial_known(f->s, s1), 0);
    assert_int_equal(store_wb_commit(f->s, wb), 0);
    store_wb_free(wb);
    add_cert(f, 3, dev2, 0, 8, der, 10);

    assert_int_equal(store_serial_known(f->s, s1), 1);
    assert_int_equal(store_serial_known(f->s, s2), 1);
    assert_int_equal(store_serial_known(f->s, s3), 1);
    assert_int_equal(store_serial_known(f->s, s9), 0);
    assert_int_equal(store_key_known(f->s, h1), 1);
    assert_int_equal(store_key_known(f->s, h3), 1);
    assert_int_equal(store_key_known(f->s, h9), 0);
    /* the batched lookup agrees, in order */
    uint8_t sers[4][16];
    memcpy(sers[0], s9, 16);
    memcpy(sers[1], s2, 16);
    memcpy(sers[2], s9, 16);
    memcpy(sers[3], s3, 16);
    uint8_t known[4] = {9, 9, 9, 9};
    assert_int_equal(store_serials_known(f->s, (const uint8_t (*)[16])sers, 4, known), 0);
    assert_int_equal(known[0], 0);
    assert_int_equal(known[1], 1);
    assert_int_equal(known[2], 0);
    assert_int_equal(known[3], 1);
    assert_int_equal(store_serials_known(f->s, (const uint8_t (*)[16])sers, 0, known), 0);

    /* survives reopen */
    reopen(f, STORE_READ_ONLY);
    struct cert_meta m;
    uint8_t *got = NULL;
    size_t len = 0;
    assert_int_equal(store_cert_get(f->s, s1, &m, &got, &len), 1);
    assert_int_equal(len, sizeof der);
    assert_memory_equal(got, der, sizeof der);
    assert_int_equal(m.turn, 7);
    assert_int_equal(m.issued_at, 1795380001);
    assert_memory_equal(m.device, dev1, 8);
    assert_int_equal(m.usage, 0);
    free(got);
    assert_int_equal(store_cert_get(f->s, s2, &m, &got, &len), 1);
    assert_int_equal(len, 300);
    assert_memory_equal(got, der, 300);
    assert_int_equal(m.usage, 1);
    free(got);
    got = NULL;
    assert_int_equal(store_cert_get(f->s, s9, &m, &got, &len), 0);
    assert_null(got);

    struct serials_seen ss = {0};
    assert_int_equal(store_device_each(f->s, dev1, -1, collect_serial, &ss), 0);
    assert_int_equal(ss.n, 2);
    assert_true(has_serial(&ss, s1));
    assert_true(has_serial(&ss, s2));
    expect_device(f->s, dev1, 0 /* DS */, 1, s1, NULL);
    expect_device(f->s, dev1, 1 /* KA */, 1, s2, NULL);
    expect_device(f->s, dev2, -1, 1, s3, NULL);
    expect_device(f->s, dev2, 1, 0, NULL, NULL);
    const uint8_t dev0[8] = {0x00, 0xDB, 0x12, 0x34, 0x56, 0x78, 0x90, 0xA3};
    expect_device(f->s, dev0, -1, 0, NULL, NULL);
}

/* test_key_known_outside - same turn 0, other turn 1, unknown key 0 */
static void test_key_known_outside(void **state)
{
    struct fx *f = *state;
    const uint8_t dev[8] = {0x00, 0xDB, 0x12, 0x34, 0x56, 0x78, 0x90, 0xA4};
    const uint8_t der[4] = {0x30, 0x02, 0x05, 0x00};
    add_cert(f, 5, dev, 0, 42, der, sizeof der);
    uint8_t h5[32], h6[32];
    mk_hash(h5, 5);
    mk_hash(h6, 6);
    assert_int_equal(store_key_known_outside(f->s, h5, 42), 0);
    assert_int_equal(store_key_known_outside(f->s, h5, 41), 1);
    assert_int_equal(store_key_known_outside(f->s, h5, 43), 1);
    assert_int_equal(store_key_known_outside(f->s, h6, 42), 0);
    assert_int_equal(store_key_known_outside(f->s, h6, 1), 0);
    /* batched: unknown, this turn's own, another turn's */
    uint8_t hs[3][32], known[3];
    memcpy(hs[0], h6, 32);
    memcpy(hs[1], h5, 32);
    memcpy(hs[2], h5, 32);
    assert_int_equal(store_keys_known_outside(f->s, (const uint8_t (*)[32])hs, 3, 42, known), 0);
    assert_int_equal(known[0], 0);
    assert_int_equal(known[1], 0);
    assert_int_equal(known[2], 0);
    assert_int_equal(store_keys_known_outside(f->s, (const uint8_t (*)[32])hs, 3, 7, known), 0);
    assert_int_equal(known[0], 0);
    assert_int_equal(known[1], 1);
    assert_int_equal(known[2], 1);
}

/* test_single_family_home - a home made before the column families (one
 * "default" family holding everything) opens, and keeps working in it:
 * records written before are found, new ones land beside them */
static void test_single_family_home(void **state)
{
    struct fx *f = *state;
    char err[512], *rerr = NULL;
    store_close(f->s);
    f->s = NULL;
    char legacy[1100];
    snprintf(legacy, sizeof legacy, "%s/legacy", f->dir);
    rocksdb_options_t *o = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(o, 1);
    rocksdb_t *db = rocksdb_open(o, legacy, &rerr);
    assert_null(rerr);
    /* a certificate index entry as the old layout wrote it: "k/<HEX>" */
    uint8_t h7[32];
    mk_hash(h7, 7);
    char k[70] = "k/";
    for (int i = 0; i < 32; i++) snprintf(k + 2 + 2 * i, 3, "%02X", h7[i]);
    rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
    rocksdb_put(db, wo, k, 66, "00", 2, &rerr);
    assert_null(rerr);
    rocksdb_writeoptions_destroy(wo);
    rocksdb_close(db);
    rocksdb_options_destroy(o);

    f->s = store_open(legacy, STORE_READ_WRITE, err, sizeof err);
    if (!f->s) fail_msg("store_open(legacy): %s", err);
    assert_int_equal(store_key_known(f->s, h7), 1);
    uint8_t known = 9;
    assert_int_equal(store_serials_known(f->s, (const uint8_t (*)[16])h7, 1, &known), 0);
    assert_int_equal(known, 0);
    const uint8_t dev[8] = {0x00, 0xDB, 0x12, 0x34, 0x56, 0x78, 0x90, 0xA5};
    const uint8_t der[4] = {0x30, 0x02, 0x05, 0x00};
    add_cert(f, 8, dev, 1, 3, der, sizeof der);
    uint8_t s8[16];
    mk_serial(s8, 8);
    assert_int_equal(store_serial_known(f->s, s8), 1);
    store_close(f->s);
    f->s = store_open(legacy, STORE_READ_ONLY, err, sizeof err);
    if (!f->s) fail_msg("store_open(legacy, read-only): %s", err);
    assert_int_equal(store_serial_known(f->s, s8), 1);
    assert_int_equal(store_key_known(f->s, h7), 1);
}

/* an older home: four families, no m/keys, records written raw with the
 * text keys of before 2026-12-07 (store.c, KEYS) */
struct old_home {
    rocksdb_options_t *o;
    rocksdb_t *db;
    rocksdb_column_family_handle_t *cf[4];
    rocksdb_writeoptions_t *wo;
};

static void old_home_open(struct old_home *oh, const char *dir)
{
    char *rerr = NULL;
    oh->o = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(oh->o, 1);
    rocksdb_options_set_create_missing_column_families(oh->o, 1);
    const char *names[4] = {"default", "certs", "devices", "keys"};
    const rocksdb_options_t *cfo[4] = {oh->o, oh->o, oh->o, oh->o};
    oh->db = rocksdb_open_column_families(oh->o, dir, 4, names, cfo, oh->cf, &rerr);
    if (rerr) fail_msg("old home: %s", rerr);
    oh->wo = rocksdb_writeoptions_create();
}

/* old_home_cert - a certificate's text records: c/ (with der), d/, and k/
 * (with hash) */
static void old_home_cert(struct old_home *oh, const uint8_t serial[16], const uint8_t *hash,
                          const uint8_t dev[8], int usage, uint64_t turn, const uint8_t *der, size_t der_len)
{
    char k[80], ser[33], dv[17], hx[65], *rerr = NULL;
    hex_text(serial, 16, ser);
    hex_text(dev, 8, dv);
    if (der) {
        assert_true(der_len <= 64);
        struct cert_meta m = {.turn = turn, .issued_at = 1795380007, .usage = (uint8_t)usage};
        memcpy(m.device, dev, 8);
        uint8_t v[sizeof m + 64];
        memcpy(v, &m, sizeof m);
        memcpy(v + sizeof m, der, der_len);
        snprintf(k, sizeof k, "c/%s", ser);
        rocksdb_put_cf(oh->db, oh->wo, oh->cf[1], k, strlen(k), (const char *)v, sizeof m + der_len, &rerr);
    }
    snprintf(k, sizeof k, "d/%s/%s/%s", dv, usage ? "KA" : "DS", ser);
    if (!rerr) rocksdb_put_cf(oh->db, oh->wo, oh->cf[2], k, strlen(k), "", 0, &rerr);
    if (hash && !rerr) {
        hex_text(hash, 32, hx);
        snprintf(k, sizeof k, "k/%s", hx);
        rocksdb_put_cf(oh->db, oh->wo, oh->cf[3], k, strlen(k), ser, 32, &rerr);
    }
    if (rerr) fail_msg("old home: %s", rerr);
}

static void old_home_close(struct old_home *oh)
{
    rocksdb_writeoptions_destroy(oh->wo);
    for (int i = 0; i < 4; i++) rocksdb_column_family_handle_destroy(oh->cf[i]);
    rocksdb_close(oh->db);
    rocksdb_options_destroy(oh->o);
}

/* test_hex_key_home - a home from before binary index keys (four families,
 * no m/keys, its records keyed by hex text) finds its old certificates by
 * serial, key and device, beside new ones written binary; a device whose
 * octets spell the start of another's hex is not confused with it; a new
 * home does not look for text keys at all */
static void test_hex_key_home(void **state)
{
    struct fx *f = *state;
    char err[512], k[80], ser[33], hx[65];
    uint8_t s7[16], s8[16], s9[16], h7[32], h8[32], h9[32];
    mk_serial(s7, 7); mk_serial(s8, 8); mk_serial(s9, 9);
    mk_hash(h7, 7); mk_hash(h8, 8); mk_hash(h9, 9);
    hex_text(s7, 16, ser);
    hex_text(h7, 32, hx);

    /* a new home: k/<HEX> written raw is not a recorded key */
    struct store_batch *wb = store_wb_new(f->s);
    snprintf(k, sizeof k, "k/%s", hx);
    store_wb_put(wb, k, strlen(k), ser, 32);
    assert_int_equal(store_wb_commit(f->s, wb), 0);
    store_wb_free(wb);
    assert_int_equal(store_key_known(f->s, h7), 0);
    store_close(f->s);
    f->s = NULL;

    /* the old home: certificate 7, device "00DB1234" (octets 30 30 44 42 ...),
     * and one of device 00-DB-12-34-56-78-90-A4, whose text key begins
     * "d/00DB1234": the octets of the first device */
    const uint8_t dev_a[8] = {'0', '0', 'D', 'B', '1', '2', '3', '4'};
    const uint8_t dev_b[8] = {0x00, 0xDB, 0x12, 0x34, 0x56, 0x78, 0x90, 0xA4};
    const uint8_t der[4] = {0x30, 0x02, 0x05, 0x00};
    snprintf(f->db, sizeof f->db, "%s/old", f->dir);
    struct old_home oh;
    old_home_open(&oh, f->db);
    old_home_cert(&oh, s7, h7, dev_a, 1, 3, der, sizeof der);
    old_home_cert(&oh, s9, NULL, dev_b, 0, 3, NULL, 0);   /* its device entry alone */
    old_home_close(&oh);

    for (int pass = 0; pass < 2; pass++) {   /* read-write, then read-only */
        f->s = store_open(f->db, pass ? STORE_READ_ONLY : STORE_READ_WRITE, err, sizeof err);
        if (!f->s) fail_msg("store_open(old home): %s", err);
        if (!pass) add_cert(f, 8, dev_a, 0, 4, der, sizeof der);   /* binary keys */
        assert_int_equal(store_serial_known(f->s, s7), 1);
        assert_int_equal(store_serial_known(f->s, s8), 1);
        assert_int_equal(store_key_known(f->s, h7), 1);
        assert_int_equal(store_key_known(f->s, h8), 1);
        assert_int_equal(store_key_known(f->s, h9), 0);
        struct cert_meta got;
        uint8_t *d;
        size_t len;
        assert_int_equal(store_cert_get(f->s, s7, &got, &d, &len), 1);
        assert_int_equal(len, sizeof der);
        assert_memory_equal(d, der, sizeof der);
        assert_int_equal(got.turn, 3);
        free(d);
        assert_int_equal(store_key_known_outside(f->s, h7, 3), 0);
        assert_int_equal(store_key_known_outside(f->s, h7, 4), 1);
        /* batched: a miss, the old one, the new one */
        uint8_t sers[3][16], hs[3][32], known[3] = {9, 9, 9};
        memcpy(sers[0], s9, 16); memcpy(sers[1], s7, 16); memcpy(sers[2], s8, 16);
        memcpy(hs[0], h9, 32); memcpy(hs[1], h7, 32); memcpy(hs[2], h8, 32);
        assert_int_equal(store_serials_known(f->s, (const uint8_t (*)[16])sers, 3, known), 0);
        assert_int_equal(known[0], 0);
        assert_int_equal(known[1], 1);
        assert_int_equal(known[2], 1);
        assert_int_equal(store_keys_known_outside(f->s, (const uint8_t (*)[32])hs, 3, 4, known), 0);
        assert_int_equal(known[0], 0);
        assert_int_equal(known[1], 1);   /* turn 3's */
        assert_int_equal(known[2], 0);   /* turn 4's own */
        /* by device: the old (KA) first, then the new (DS); not device b's */
        expect_device(f->s, dev_a, -1, 2, s7, s8);
        expect_device(f->s, dev_a, 0, 1, s8, NULL);
        expect_device(f->s, dev_b, -1, 1, s9, NULL);
        store_close(f->s);
        f->s = NULL;
    }
}

static int count_kv(const char *k, size_t klen, const char *v, size_t vlen, void *arg)
{
    (void)k; (void)klen; (void)v; (void)vlen;
    (*(int *)arg)++;
    return 0;
}

/* test_raw - store_get / store_each_prefix / wb_put */
static void test_raw(void **state)
{
    struct fx *f = *state;
    struct store_batch *wb = store_wb_new(f->s);
    store_wb_put(wb, "x/a", 3, "1", 1);
    store_wb_put(wb, "x/b", 3, "two\0bytes", 9);
    store_wb_put(wb, "xy", 2, "no", 2);
    assert_int_equal(store_wb_commit(f->s, wb), 0);
    store_wb_free(wb);
    char *v = NULL;
    size_t n = 0;
    assert_int_equal(store_get(f->s, "x/b", 3, &v, &n), 1);
    assert_int_equal(n, 9);
    assert_memory_equal(v, "two\0bytes", 9);
    assert_int_equal(v[9], '\0');
    free(v);
    assert_int_equal(store_get(f->s, "x/c", 3, &v, &n), 0);
    int count = 0;
    assert_int_equal(store_each_prefix(f->s, "x/", count_kv, &count), 0);
    assert_int_equal(count, 2);
}

/* test_lock - a second read-write open fails naming the lock; readers may open */
static void test_lock(void **state)
{
    struct fx *f = *state;
    char err[512];
    struct batch b;
    mk_batch(&b, PARTY_A, "L-1");
    assert_int_equal(store_batch_accept(f->s, &b), 0);

    err[0] = '\0';
    struct store *s2 = store_open(f->db, STORE_READ_WRITE, err, sizeof err);
    if (s2) {
        store_close(s2);
        fail_msg("a second read-write open succeeded while the first holds the store");
    }
    if (!strstr(err, "lock") && !strstr(err, "LOCK")) fail_msg("message does not mention the lock: %s", err);
    tu_assert_contains(err, f->db);

    /* a reader opens alongside and sees the state at its open */
    struct store *ro = store_open(f->db, STORE_READ_ONLY, err, sizeof err);
    if (!ro) fail_msg("read-only open beside the writer: %s", err);
    mk_batch(&b, PARTY_A, "L-2");
    assert_int_equal(store_batch_accept(f->s, &b), 0);
    uint64_t last = 0, t = 0;
    assert_int_equal(store_last_turn(ro, &last), 0);
    assert_int_equal(last, 1);
    assert_int_equal(store_batch_lookup(ro, PARTY_A, "L-1", &t), 1);
    store_close(ro);

    /* after the writer closes, a new writer opens */
    store_close(f->s);
    f->s = store_open(f->db, STORE_READ_WRITE, err, sizeof err);
    if (!f->s) fail_msg("reopen after close: %s", err);
    assert_int_equal(store_last_turn(f->s, &last), 0);
    assert_int_equal(last, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_turns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_each, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parties, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certs_packed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_known_outside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_single_family_home, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hex_key_home, setup, teardown),
        cmocka_unit_test_setup_teardown(test_raw, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
