/* test_b64.c - unit tests of strict base64 (stages/b64.c): RFC 4648 vectors,
 * whitespace, every rejection rule with its position, buffer limits and a
 * round trip over random data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "b64.h"

struct dec_row {
    const char *label;
    const char *in;
    ptrdiff_t want;        /* decoded length, or -1 */
    const char *out;       /* expected octets when want >= 0 */
    size_t pos;            /* expected error position when want < 0 */
};

/* test_decode_table - good and bad inputs, with error positions */
static void test_decode_table(void **state)
{
    (void)state;
    const struct dec_row rows[] = {
        {"empty", "", 0, "", 0},
        {"only whitespace", " \t\r\n", 0, "", 0},
        {"f", "Zg==", 1, "f", 0},
        {"fo", "Zm8=", 2, "fo", 0},
        {"foo", "Zm9v", 3, "foo", 0},
        {"foob", "Zm9vYg==", 4, "foob", 0},
        {"fooba", "Zm9vYmE=", 5, "fooba", 0},
        {"foobar", "Zm9vYmFy", 6, "foobar", 0},
        {"whitespace everywhere", " Zm\t9v\r\nYm E=\n", 5, "fooba", 0},
        {"whitespace between pads", "Zg= =", 1, "f", 0},
        {"trailing whitespace", "Zm9v\r\n\r\n", 3, "foo", 0},
        {"all 64 symbols", "+/+/", 3, "\xfb\xff\xbf", 0},
        {"missing padding 2", "Zg", -1, NULL, 2},
        {"missing padding 3", "Zm8", -1, NULL, 3},
        {"missing padding 1", "Zm9vY", -1, NULL, 5},
        {"incomplete padding", "Zg=", -1, NULL, 3},
        {"pad then data", "Zg=x", -1, NULL, 3},
        {"misplaced pad 1st", "=Zg=", -1, NULL, 0},
        {"misplaced pad 2nd", "Z===", -1, NULL, 1},
        {"four pads", "====", -1, NULL, 0},
        {"three pads", "Zm8==", -1, NULL, 4},
        {"data after padding", "Zg==Zg==", -1, NULL, 4},
        {"data after padding 1", "Zm8=Zm9v", -1, NULL, 4},
        {"non-zero pad bits ==", "Zh==", -1, NULL, 1},
        {"non-zero pad bits =", "Zm9=", -1, NULL, 2},
        {"bang", "Zm9v!", -1, NULL, 4},
        {"url-safe minus", "Zm-v", -1, NULL, 2},
        {"url-safe underscore", "Zm_v", -1, NULL, 2},
        {"vertical tab", "Zm9v\v", -1, NULL, 4},
        {"form feed", "Zm\f9v", -1, NULL, 2},
        {"non-ascii", "Zm9v\xc3\xa9", -1, NULL, 4},
        {"nbsp", "Zm\xa0" "9v", -1, NULL, 2},
        {"dot", "Zm9v.", -1, NULL, 4},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct dec_row *r = &rows[i];
        uint8_t out[64];
        struct b64_err err = {999, NULL, 0};
        ptrdiff_t n = b64_decode(r->in, strlen(r->in), out, sizeof out, &err);
        if (n != r->want)
            fail_msg("%s: got %td (%s at %zu), want %td", r->label, n,
                     err.why ? err.why : "-", err.pos, r->want);
        if (n >= 0) {
            if (memcmp(out, r->out, (size_t)n) != 0)
                fail_msg("%s: wrong octets", r->label);
        } else {
            assert_non_null(err.why);
            if (err.pos != r->pos)
                fail_msg("%s: error '%s' at %zu, want at %zu", r->label, err.why, err.pos, r->pos);
        }
    }
}

/* test_embedded_nul - a NUL byte is not whitespace */
static void test_embedded_nul(void **state)
{
    (void)state;
    const char in[] = "Zm9v\0Zm9v";
    uint8_t out[16];
    struct b64_err err;
    assert_int_equal(b64_decode(in, sizeof in - 1, out, sizeof out, &err), -1);
    assert_int_equal(err.pos, 4);
    assert_string_equal(err.why, "invalid character");
    /* err may be NULL */
    assert_int_equal(b64_decode(in, sizeof in - 1, out, sizeof out, NULL), -1);
}

/* test_decode_buffer_limits - exact fit works, one short fails */
static void test_decode_buffer_limits(void **state)
{
    (void)state;
    uint8_t out[6];
    struct b64_err err;
    assert_int_equal(b64_decode("Zm9vYmFy", 8, out, 6, &err), 6);
    assert_int_equal(b64_decode("Zm9vYmFy", 8, out, 5, &err), -1);
    assert_string_equal(err.why, "decoded data larger than the buffer");
    assert_int_equal(err.no_room, 1);
    assert_int_equal(b64_decode("Zm9v!", 5, out, 6, &err), -1);
    assert_int_equal(err.no_room, 0);
    assert_int_equal(b64_decode("Zm9vYmE=", 8, out, 5, &err), 5);
    assert_int_equal(b64_decode("Zm9vYmE=", 8, out, 4, &err), -1);
    assert_int_equal(b64_decode("Zm9vYg==", 8, out, 3, &err), -1);
    assert_int_equal(b64_decode("Z m 9 v", 7, out, 2, &err), -1);
    assert_int_equal(b64_decode("", 0, out, 0, &err), 0);
    assert_int_equal(b64_decode("Zg==", 4, NULL, 0, &err), -1);
}

struct enc_row {
    const char *in;
    const char *out;
};

/* test_encode_vectors - RFC 4648 section 10 */
static void test_encode_vectors(void **state)
{
    (void)state;
    const struct enc_row rows[] = {
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char out[16];
        memset(out, '#', sizeof out);
        size_t n = strlen(rows[i].in);
        ptrdiff_t m = b64_encode((const uint8_t *)rows[i].in, n, out, sizeof out);
        assert_int_equal(m, B64_ENCODED_LEN(n));
        assert_int_equal(m, strlen(rows[i].out));
        assert_memory_equal(out, rows[i].out, (size_t)m);
        assert_int_equal(out[m], '#');       /* no NUL, nothing beyond */
    }
}

/* test_encode_buffer_limits - too small writes nothing */
static void test_encode_buffer_limits(void **state)
{
    (void)state;
    char out[8];
    memset(out, '#', sizeof out);
    assert_int_equal(b64_encode((const uint8_t *)"foob", 4, out, 7), -1);
    assert_int_equal(out[0], '#');
    assert_int_equal(b64_encode((const uint8_t *)"foob", 4, out, 8), 8);
    assert_int_equal(b64_encode(NULL, 0, out, 0), 0);
}

/* test_round_trip - random data of every length up to 600 */
static void test_round_trip(void **state)
{
    (void)state;
    uint8_t in[600], back[600];
    char txt[800 + 400];
    uint32_t x = 7;
    for (size_t n = 0; n <= sizeof in; n++) {
        for (size_t i = 0; i < n; i++) {
            x = x * 1664525u + 1013904223u;
            in[i] = (uint8_t)(x >> 24);
        }
        ptrdiff_t m = b64_encode(in, n, txt, sizeof txt);
        assert_int_equal(m, B64_ENCODED_LEN(n));
        assert_true(B64_DECODED_MAX(m) >= n);
        struct b64_err err;
        ptrdiff_t d = b64_decode(txt, (size_t)m, back, B64_DECODED_MAX(m), &err);
        assert_int_equal(d, n);
        assert_memory_equal(in, back, n);
        /* the same with a line break every 64 characters (PEM style) */
        char wrapped[1300];
        size_t w = 0;
        for (ptrdiff_t i = 0; i < m; i++) {
            if (i && i % 64 == 0) {
                wrapped[w++] = '\r';
                wrapped[w++] = '\n';
            }
            wrapped[w++] = txt[i];
        }
        d = b64_decode(wrapped, w, back, sizeof back, &err);
        assert_int_equal(d, n);
        assert_memory_equal(in, back, n);
    }
}

/* test_every_single_corruption - any one character replaced by a character
 * outside the alphabet is reported at that position */
static void test_every_single_corruption(void **state)
{
    (void)state;
    char txt[] = "TWFueSBoYW5kcyBtYWtlIGxpZ2h0IHdvcmsu";
    uint8_t out[64];
    for (size_t i = 0; i < sizeof txt - 1; i++) {
        char save = txt[i];
        txt[i] = '*';
        struct b64_err err;
        assert_int_equal(b64_decode(txt, sizeof txt - 1, out, sizeof out, &err), -1);
        assert_int_equal(err.pos, i);
        txt[i] = save;
    }
    assert_int_equal(b64_decode(txt, sizeof txt - 1, out, sizeof out, NULL), 27);
    assert_memory_equal(out, "Many hands make light work.", 27);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_table),
        cmocka_unit_test(test_embedded_nul),
        cmocka_unit_test(test_decode_buffer_limits),
        cmocka_unit_test(test_encode_vectors),
        cmocka_unit_test(test_encode_buffer_limits),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_every_single_corruption),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
