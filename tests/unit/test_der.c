/* test_der.c - unit tests of the strict DER reader (stages/der.c): header
 * decoding rules, typed readers, tree checks and OID rendering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "der.h"

#define B(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

struct hdr_row {
    const char *label;
    const uint8_t *in;
    size_t len;
    int want;            /* der_next result */
    uint8_t tag;         /* on success */
    size_t vlen;         /* on success: content length */
    size_t hlen;         /* on success: header length */
};

/* test_next_table - der_next on single headers, good and bad */
static void test_next_table(void **state)
{
    (void)state;
    static uint8_t big[70000];
    big[0] = 0x04; big[1] = 0x83; big[2] = 0x01; big[3] = 0x00; big[4] = 0x00;  /* 65536 */
    const struct hdr_row rows[] = {
        {"empty input", (const uint8_t *)"", 0, DER_E_END, 0, 0, 0},
        {"short form zero", B(0x05, 0x00), DER_OK, 0x05, 0, 2},
        {"short form 3", B(0x04, 0x03, 1, 2, 3), DER_OK, 0x04, 3, 2},
        {"short form 127 overrun", B(0x04, 0x7f, 1), DER_E_OVERRUN, 0, 0, 0},
        {"identifier only", B(0x30), DER_E_TRUNC, 0, 0, 0},
        {"high tag number", B(0x1f, 0x81, 0x00, 0x00), DER_E_HIGH_TAG, 0, 0, 0},
        {"context high tag", B(0xbf, 0x20, 0x00), DER_E_HIGH_TAG, 0, 0, 0},
        {"indefinite", B(0x30, 0x80, 0x00, 0x00), DER_E_INDEFINITE, 0, 0, 0},
        {"long form 1 octet <128", B(0x04, 0x81, 0x05, 1, 2, 3, 4, 5), DER_E_NONMINIMAL, 0, 0, 0},
        {"long form 2 octets leading zero", B(0x04, 0x82, 0x00, 0x80), DER_E_NONMINIMAL, 0, 0, 0},
        {"long form 5 octets", B(0x04, 0x85, 0, 0, 0, 0, 1, 0), DER_E_LEN_OCTETS, 0, 0, 0},
        {"reserved 0xff", B(0x04, 0xff, 0), DER_E_LEN_OCTETS, 0, 0, 0},
        {"length octets cut", B(0x04, 0x82, 0x01), DER_E_TRUNC, 0, 0, 0},
        {"long form 128 overrun", B(0x04, 0x81, 0x80, 0), DER_E_OVERRUN, 0, 0, 0},
        {"4 octet huge", B(0x04, 0x84, 0xff, 0xff, 0xff, 0xff, 0), DER_E_OVERRUN, 0, 0, 0},
        {"4 octet 2^31", B(0x04, 0x84, 0x80, 0x00, 0x00, 0x00), DER_E_OVERRUN, 0, 0, 0},
        {"value exact end", B(0x02, 0x01, 0x00), DER_OK, 0x02, 1, 2},
        {"65536 long form", big, sizeof big, DER_OK, 0x04, 65536, 5},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct hdr_row *r = &rows[i];
        struct der_cur c;
        struct der_tlv t;
        der_init(&c, r->in, r->len);
        const uint8_t *before = c.p;
        int e = der_next(&c, &t);
        if (e != r->want)
            fail_msg("%s: der_next = %d (%s), want %d", r->label, e, der_strerror(e), r->want);
        if (e == DER_OK) {
            assert_int_equal(t.tag, r->tag);
            assert_int_equal(t.len, r->vlen);
            assert_int_equal(t.val - t.start, r->hlen);
            assert_int_equal(der_tlv_size(&t), r->hlen + r->vlen);
            assert_ptr_equal(c.p, t.val + t.len);
        } else {
            assert_ptr_equal(c.p, before);   /* cursor unchanged on error */
        }
    }
}

/* test_long_form_128 - the smallest legal long form */
static void test_long_form_128(void **state)
{
    (void)state;
    uint8_t buf[3 + 128] = {0x04, 0x81, 0x80};
    struct der_cur c;
    struct der_tlv t;
    der_init(&c, buf, sizeof buf);
    assert_int_equal(der_next(&c, &t), DER_OK);
    assert_int_equal(t.len, 128);
    assert_true(der_at_end(&c));
}

/* test_enter_expect_finish - walking a nested structure, wrong tags, trailing */
static void test_enter_expect_finish(void **state)
{
    (void)state;
    /* SEQUENCE { INTEGER 5, SEQUENCE { NULL } } 00 */
    const uint8_t buf[] = {0x30, 0x07, 0x02, 0x01, 0x05, 0x30, 0x02, 0x05, 0x00, 0x00};
    struct der_cur top, seq, in;
    struct der_tlv t;
    uint64_t v;
    der_init(&top, buf, sizeof buf);
    assert_int_equal(der_peek_tag(&top), 0x30);
    assert_int_equal(der_enter(&top, DER_SET, &seq, NULL), DER_E_TAG);
    assert_ptr_equal(top.p, buf);
    assert_int_equal(der_enter(&top, DER_SEQUENCE, &seq, &t), DER_OK);
    assert_int_equal(t.len, 7);
    assert_int_equal(der_finish(&top), DER_E_TRAILING);
    assert_int_equal(der_left(&top), 1);
    assert_int_equal(der_read_uint64(&seq, &v), DER_OK);
    assert_int_equal(v, 5);
    assert_int_equal(der_expect(&seq, DER_INTEGER, NULL), DER_E_TAG);
    assert_int_equal(der_enter(&seq, DER_SEQUENCE, &in, NULL), DER_OK);
    assert_int_equal(der_read_null(&in), DER_OK);
    assert_int_equal(der_finish(&in), DER_OK);
    assert_int_equal(der_finish(&seq), DER_OK);
    assert_int_equal(der_next(&seq, &t), DER_E_END);
    assert_int_equal(der_peek_tag(&seq), -1);
    /* an inner length that overruns its parent, though not the buffer */
    const uint8_t over[] = {0x30, 0x03, 0x04, 0x03, 0x01, 0x02, 0x03};
    der_init(&top, over, sizeof over);
    assert_int_equal(der_enter(&top, DER_SEQUENCE, &seq, NULL), DER_OK);
    assert_int_equal(der_next(&seq, &t), DER_E_OVERRUN);
}

struct val_row {
    const char *label;
    int (*fn)(const uint8_t *in, size_t len);
    const uint8_t *in;
    size_t len;
    int want;
};

/* rd_int, rd_oid, ... - one typed read over a buffer, which must be used up */
static int rd_int(const uint8_t *in, size_t len)
{
    struct der_cur c;
    struct der_tlv t;
    der_init(&c, in, len);
    int e = der_read_integer(&c, &t);
    return e ? e : der_finish(&c);
}
static int rd_u64(const uint8_t *in, size_t len)
{
    struct der_cur c;
    uint64_t v;
    der_init(&c, in, len);
    int e = der_read_uint64(&c, &v);
    return e ? e : der_finish(&c);
}
static int rd_oid(const uint8_t *in, size_t len)
{
    struct der_cur c;
    struct der_tlv t;
    der_init(&c, in, len);
    int e = der_read_oid(&c, &t);
    return e ? e : der_finish(&c);
}
static int rd_bits(const uint8_t *in, size_t len)
{
    struct der_cur c;
    const uint8_t *b;
    size_t n;
    unsigned u;
    der_init(&c, in, len);
    int e = der_read_bit_string(&c, &b, &n, &u);
    return e ? e : der_finish(&c);
}
static int rd_bool(const uint8_t *in, size_t len)
{
    struct der_cur c;
    int v;
    der_init(&c, in, len);
    int e = der_read_boolean(&c, &v);
    return e ? e : der_finish(&c);
}
static int rd_null(const uint8_t *in, size_t len)
{
    struct der_cur c;
    der_init(&c, in, len);
    int e = der_read_null(&c);
    return e ? e : der_finish(&c);
}
static int rd_octets(const uint8_t *in, size_t len)
{
    struct der_cur c;
    const uint8_t *v;
    size_t n;
    der_init(&c, in, len);
    int e = der_read_octet_string(&c, &v, &n);
    return e ? e : der_finish(&c);
}
static int rd_tree(const uint8_t *in, size_t len)
{
    return der_check_tree(in, len, 3);
}

/* test_typed_table - the DER rules of each typed reader */
static void test_typed_table(void **state)
{
    (void)state;
    const struct val_row rows[] = {
        {"int 0", rd_int, B(0x02, 0x01, 0x00), DER_OK},
        {"int -1", rd_int, B(0x02, 0x01, 0xff), DER_OK},
        {"int 128", rd_int, B(0x02, 0x02, 0x00, 0x80), DER_OK},
        {"int -129", rd_int, B(0x02, 0x02, 0xff, 0x7f), DER_OK},
        {"int empty", rd_int, B(0x02, 0x00), DER_E_INTEGER},
        {"int 00 7f non-minimal", rd_int, B(0x02, 0x02, 0x00, 0x7f), DER_E_INTEGER},
        {"int ff 80 non-minimal", rd_int, B(0x02, 0x02, 0xff, 0x80), DER_E_INTEGER},
        {"int wrong tag", rd_int, B(0x0a, 0x01, 0x00), DER_E_TAG},
        {"u64 max", rd_u64, B(0x02, 0x09, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), DER_OK},
        {"u64 too big", rd_u64, B(0x02, 0x09, 0x01, 0, 0, 0, 0, 0, 0, 0, 0), DER_E_RANGE},
        {"u64 negative", rd_u64, B(0x02, 0x01, 0x80), DER_E_RANGE},
        {"oid ecPublicKey", rd_oid, B(0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01), DER_OK},
        {"oid empty", rd_oid, B(0x06, 0x00), DER_E_OID},
        {"oid unterminated", rd_oid, B(0x06, 0x02, 0x2a, 0x86), DER_E_OID},
        {"oid 0x80 padding", rd_oid, B(0x06, 0x03, 0x2a, 0x80, 0x01), DER_E_OID},
        {"oid 0x80 first", rd_oid, B(0x06, 0x02, 0x80, 0x01), DER_E_OID},
        {"oid constructed", rd_oid, B(0x26, 0x01, 0x2a), DER_E_TAG},
        {"bits empty", rd_bits, B(0x03, 0x00), DER_E_BIT_STRING},
        {"bits zero-length ok", rd_bits, B(0x03, 0x01, 0x00), DER_OK},
        {"bits zero-length unused", rd_bits, B(0x03, 0x01, 0x03), DER_E_BIT_STRING},
        {"bits unused 8", rd_bits, B(0x03, 0x02, 0x08, 0x00), DER_E_BIT_STRING},
        {"bits unused 3 clean", rd_bits, B(0x03, 0x02, 0x03, 0xf8), DER_OK},
        {"bits unused 3 dirty", rd_bits, B(0x03, 0x02, 0x03, 0xf9), DER_E_BIT_STRING},
        {"bits constructed", rd_bits, B(0x23, 0x03, 0x03, 0x01, 0x00), DER_E_TAG},
        {"bool true", rd_bool, B(0x01, 0x01, 0xff), DER_OK},
        {"bool false", rd_bool, B(0x01, 0x01, 0x00), DER_OK},
        {"bool 0x01", rd_bool, B(0x01, 0x01, 0x01), DER_E_BOOLEAN},
        {"bool 2 octets", rd_bool, B(0x01, 0x02, 0xff, 0xff), DER_E_BOOLEAN},
        {"null", rd_null, B(0x05, 0x00), DER_OK},
        {"null content", rd_null, B(0x05, 0x01, 0x00), DER_E_NULL},
        {"octets", rd_octets, B(0x04, 0x02, 0xaa, 0xbb), DER_OK},
        {"octets constructed", rd_octets, B(0x24, 0x04, 0x04, 0x02, 0xaa, 0xbb), DER_E_TAG},
        {"octets trailing", rd_octets, B(0x04, 0x01, 0xaa, 0x00), DER_E_TRAILING},
        {"tree ok", rd_tree, B(0x30, 0x05, 0x31, 0x03, 0x04, 0x01, 0x00, 0x05, 0x00), DER_OK},
        {"tree primitive garbage ok", rd_tree, B(0x04, 0x03, 0x30, 0x80, 0xff), DER_OK},
        {"tree inner indefinite", rd_tree, B(0x30, 0x04, 0x30, 0x80, 0x00, 0x00), DER_E_INDEFINITE},
        {"tree inner overrun", rd_tree, B(0x30, 0x03, 0x04, 0x05, 0x00), DER_E_OVERRUN},
        {"tree too deep", rd_tree, B(0x30, 0x08, 0x30, 0x06, 0x30, 0x04, 0x30, 0x02, 0x30, 0x00), DER_E_DEPTH},
        {"tree depth 4 too deep", rd_tree, B(0x30, 0x06, 0x30, 0x04, 0x30, 0x02, 0x30, 0x00), DER_E_DEPTH},
        {"tree depth 3 ok", rd_tree, B(0x30, 0x04, 0x30, 0x02, 0x30, 0x00), DER_OK},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int e = rows[i].fn(rows[i].in, rows[i].len);
        if (e != rows[i].want)
            fail_msg("%s: got %d (%s), want %d (%s)", rows[i].label, e, der_strerror(e),
                     rows[i].want, der_strerror(rows[i].want));
    }
}

/* test_unsigned - magnitude without the sign octet */
static void test_unsigned(void **state)
{
    (void)state;
    const uint8_t buf[] = {0x02, 0x02, 0x00, 0x80, 0x02, 0x01, 0x00, 0x02, 0x01, 0x7f};
    struct der_cur c;
    const uint8_t *m;
    size_t n;
    der_init(&c, buf, sizeof buf);
    assert_int_equal(der_read_unsigned(&c, &m, &n), DER_OK);
    assert_int_equal(n, 1);
    assert_int_equal(m[0], 0x80);
    assert_int_equal(der_read_unsigned(&c, &m, &n), DER_OK);
    assert_int_equal(n, 1);
    assert_int_equal(m[0], 0x00);
    assert_int_equal(der_read_unsigned(&c, &m, &n), DER_OK);
    assert_int_equal(m[0], 0x7f);
    assert_true(der_at_end(&c));
}

/* test_oid_text - dotted rendering, names and truncation */
static void test_oid_text(void **state)
{
    (void)state;
    char out[64];
    const uint8_t ec[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
    const uint8_t p384[] = {0x2b, 0x81, 0x04, 0x00, 0x22};
    const uint8_t ex[] = {0x88, 0x37, 0x01};            /* 2.999.1 */
    const uint8_t zero[] = {0x00};                      /* 0.0 */
    const uint8_t big[] = {0x2a, 0x82, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x05};
    assert_int_equal(der_oid_text(ec, sizeof ec, out, sizeof out), strlen("1.2.840.10045.2.1"));
    assert_string_equal(out, "1.2.840.10045.2.1");
    der_oid_text(p384, sizeof p384, out, sizeof out);
    assert_string_equal(out, "1.3.132.0.34");
    der_oid_text(ex, sizeof ex, out, sizeof out);
    assert_string_equal(out, "2.999.1");
    der_oid_text(zero, sizeof zero, out, sizeof out);
    assert_string_equal(out, "0.0");
    der_oid_text(big, sizeof big, out, sizeof out);
    assert_string_equal(out, "1.2.?.5");
    der_oid_text(ec, sizeof ec, out, 8);
    assert_string_equal(out, "1.2....");
    der_oid_text(ec, sizeof ec, out, 2);
    assert_string_equal(out, "");
    /* a long OID is cut with "..." and never overflows */
    uint8_t longoid[400];
    memset(longoid, 0x01, sizeof longoid);
    char wide[600];
    size_t n = der_oid_text(longoid, sizeof longoid, wide, sizeof wide);
    assert_int_equal(n, strlen(wide));
    assert_true(n < 260);
    assert_string_equal(wide + n - 3, "...");
}

/* test_oid_eq - content comparison */
static void test_oid_eq(void **state)
{
    (void)state;
    const uint8_t buf[] = {0x06, 0x03, 0x55, 0x1d, 0x11};
    const uint8_t san[] = {0x55, 0x1d, 0x11}, ku[] = {0x55, 0x1d, 0x0f};
    struct der_cur c;
    struct der_tlv t;
    der_init(&c, buf, sizeof buf);
    assert_int_equal(der_read_oid(&c, &t), DER_OK);
    assert_true(der_oid_eq(&t, san, sizeof san));
    assert_false(der_oid_eq(&t, ku, sizeof ku));
    assert_false(der_oid_eq(&t, san, 2));
}

/* test_strerror - every code has its own phrase */
static void test_strerror(void **state)
{
    (void)state;
    for (int e = DER_OK; e >= DER_E_DEPTH; e--) {
        const char *s = der_strerror(e);
        assert_non_null(s);
        assert_string_not_equal(s, "unknown DER error");
    }
    assert_string_equal(der_strerror(-999), "unknown DER error");
}

/* test_random_no_crash - random input never reads out of bounds (ASan) */
static void test_random_no_crash(void **state)
{
    (void)state;
    uint32_t x = 12345;
    uint8_t buf[64];
    for (int it = 0; it < 200000; it++) {
        size_t n = 1 + (it % 63);
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (uint8_t)(x >> 16);
            if ((x >> 8 & 7) == 0)
                buf[i] = 0x30;          /* more structure */
        }
        (void)der_check_tree(buf, n, 8);
        struct der_cur c;
        struct der_tlv t;
        der_init(&c, buf, n);
        while (der_next(&c, &t) == DER_OK)
            ;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next_table),
        cmocka_unit_test(test_long_form_128),
        cmocka_unit_test(test_enter_expect_finish),
        cmocka_unit_test(test_typed_table),
        cmocka_unit_test(test_unsigned),
        cmocka_unit_test(test_oid_text),
        cmocka_unit_test(test_oid_eq),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_random_no_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
