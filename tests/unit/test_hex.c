/* test_hex.c - unit tests of hexadecimal text (stages/hex.c): encoding,
 * decoding of either case, every kind of non-digit refused, a round trip
 * over all 256 octet values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hex.h"

/* test_upper - upper-case digits and a NUL, nothing past it */
static void test_upper(void **state)
{
    (void)state;
    static const uint8_t in[4] = {0x00, 0x9f, 0xa0, 0xff};
    char out[10];
    memset(out, 'x', sizeof out);
    hex_upper(in, 4, out);
    assert_string_equal(out, "009FA0FF");
    assert_int_equal(out[9], 'x');
    hex_upper(in, 0, out);
    assert_string_equal(out, "");
}

/* test_decode - both cases; each refused character, at each position */
static void test_decode(void **state)
{
    (void)state;
    uint8_t out[4];
    assert_int_equal(hex_decode("00DB12aF", 4, out), 0);
    static const uint8_t want[4] = {0x00, 0xdb, 0x12, 0xaf};
    assert_memory_equal(out, want, 4);
    static const char bad[] = {'g', 'G', ' ', '+', '-', 'x', '/', ':', '@', '`', '\0'};
    for (size_t b = 0; b < sizeof bad; b++) {
        for (int pos = 0; pos < 8; pos++) {
            char in[9] = "00DB12AF";
            in[pos] = bad[b];
            if (hex_decode(in, 4, out) != -1) fail_msg("'%c' at %d was taken", bad[b], pos);
        }
    }
    assert_int_equal(hex_decode("", 0, out), 0);
}

/* test_round_trip - every octet value */
static void test_round_trip(void **state)
{
    (void)state;
    uint8_t in[256], back[256];
    char text[513];
    for (int i = 0; i < 256; i++) in[i] = (uint8_t)i;
    hex_upper(in, 256, text);
    assert_int_equal(strlen(text), 512);
    assert_int_equal(hex_decode(text, 256, back), 0);
    assert_memory_equal(back, in, 256);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upper),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
