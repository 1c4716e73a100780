/* test_digest.c - unit tests of stages/digest.c: FIPS 180-2 vectors, lengths
 * around the 64-octet block, agreement with OpenSSL's SHA256() on random
 * input, and use from several threads at once (the first call fetches). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>

#include <cmocka.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "digest.h"

static void hex(const uint8_t *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", d[i]);
}

/* test_vectors - the empty string, "abc", and the two-block message */
static void test_vectors(void **state)
{
    static const struct { const char *in, *want; } V[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof V / sizeof V[0]; i++) {
        uint8_t md[32];
        char got[65];
        sha256(V[i].in, strlen(V[i].in), md);
        hex(md, 32, got);
        assert_string_equal(got, V[i].want);
    }
}

/* test_agrees - every length 0..300 and one of 1 MiB, against SHA256() */
static void test_agrees(void **state)
{
    static uint8_t buf[1 << 20];
    uint8_t a[32], b[32];
    (void)state;
    assert_int_equal(RAND_bytes(buf, sizeof buf), 1);
    for (size_t n = 0; n <= 300; n++) {
        sha256(buf, n, a);
        SHA256(buf, n, b);
        assert_memory_equal(a, b, 32);
    }
    sha256(buf, sizeof buf, a);
    SHA256(buf, sizeof buf, b);
    assert_memory_equal(a, b, 32);
}

static void *hash_many(void *arg)
{
    uint8_t *out = arg, in[65] = {4};
    for (int i = 0; i < 20000; i++) {
        in[1] = (uint8_t)i;
        sha256(in, sizeof in, out);
    }
    return NULL;
}

/* test_threads - four threads hash at once, each ends with the same digest */
static void test_threads(void **state)
{
    pthread_t t[4];
    uint8_t out[4][32], want[32], in[65] = {4};
    (void)state;
    for (int i = 0; i < 4; i++) assert_int_equal(pthread_create(&t[i], NULL, hash_many, out[i]), 0);
    for (int i = 0; i < 4; i++) assert_int_equal(pthread_join(t[i], NULL), 0);
    in[1] = (uint8_t)19999;
    SHA256(in, sizeof in, want);
    for (int i = 0; i < 4; i++) assert_memory_equal(out[i], want, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads),   /* first: the fetch happens under contention */
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_agrees),
    };
    return cmocka_run_group_tests_name("digest", tests, NULL, NULL);
}
