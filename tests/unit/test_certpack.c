/* test_certpack.c - unit tests of certificates packed against their template
 * (stages/certpack.c): a record unpacks to the very DER it was packed from,
 * for every length of signature; any octet outside the fields that differs
 * from the template makes pack refuse; a template survives its stored form
 * and its id names exactly that form; malformed templates and records are
 * refused, never read out of bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "certpack.h"

/* a TBS of 380 octets (so the certificate takes a 4-octet header) with three
 * fields, and an AlgorithmIdentifier */
static uint8_t TBS[380];
static const uint8_t ALG[12] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};

static struct cert_tmpl tmpl(void)
{
    struct cert_tmpl t = {.tbs = TBS, .tbs_len = sizeof TBS, .alg = ALG, .alg_len = sizeof ALG, .nfield = 3};
    for (size_t i = 0; i < sizeof TBS; i++) TBS[i] = (uint8_t)(i * 31 + 7);
    t.off[0] = 15, t.len[0] = 16;    /* a serial */
    t.off[1] = 100, t.len[1] = 65;   /* a point */
    t.off[2] = 370, t.len[2] = 10;   /* up to the end of the TBS */
    assert_int_equal(certpack_tmpl_id(&t), 0);
    return t;
}

/* make_der - the certificate of t with fields filled from seed and a
 * signature of siglen octets; its length */
static size_t make_der(const struct cert_tmpl *t, uint8_t seed, size_t siglen, uint8_t *der, size_t cap)
{
    uint8_t rec[600];
    size_t n = 0;
    rec[n++] = CERTPACK_FORMAT;
    memcpy(rec + n, t->id, CERTPACK_ID_LEN);
    n += CERTPACK_ID_LEN;
    for (size_t i = 0; i < t->nfield; i++)
        for (size_t k = 0; k < t->len[i]; k++) rec[n++] = (uint8_t)(seed + 3 * k + i);
    for (size_t k = 0; k < siglen; k++) rec[n++] = (uint8_t)(seed ^ k);
    return certpack_unpack(t, rec, n, der, cap);
}

static void test_round_trip(void **state)
{
    (void)state;
    struct cert_tmpl t = tmpl();
    uint8_t der[700], rec[700], back[700];
    for (size_t siglen = 1; siglen <= 126; siglen++) {
        size_t n = make_der(&t, (uint8_t)siglen, siglen, der, sizeof der);
        assert_int_equal(n, 4 + sizeof TBS + sizeof ALG + 3 + siglen);
        assert_int_equal(der[0], 0x30);
        assert_int_equal(der[1], 0x82);
        assert_int_equal((der[2] << 8) | der[3], n - 4);
        size_t r = certpack_pack(&t, der, n, rec, sizeof rec);
        assert_int_equal(r, 1 + CERTPACK_ID_LEN + 16 + 65 + 10 + siglen);
        uint8_t id[CERTPACK_ID_LEN];
        assert_int_equal(certpack_record_id(rec, r, id), 0);
        assert_memory_equal(id, t.id, CERTPACK_ID_LEN);
        assert_int_equal(certpack_unpack(&t, rec, r, back, sizeof back), n);
        assert_memory_equal(back, der, n);
        /* too small a buffer: refused, not overrun */
        assert_int_equal(certpack_unpack(&t, rec, r, back, n - 1), 0);
        assert_int_equal(certpack_pack(&t, der, n, rec, r - 1), 0);
    }
}

/* a short certificate (content under 128 and under 256 octets) takes a
 * 2- and 3-octet header: the lengths still come out right */
static void test_short_headers(void **state)
{
    (void)state;
    static uint8_t small[40];
    struct cert_tmpl t = {.tbs = small, .tbs_len = sizeof small, .alg = ALG, .alg_len = sizeof ALG,
                          .nfield = 1, .off = {4}, .len = {8}};
    assert_int_equal(certpack_tmpl_id(&t), 0);
    uint8_t der[400], rec[400], back[400];
    for (size_t siglen = 1; siglen <= 126; siglen++) {
        size_t n = make_der(&t, 9, siglen, der, sizeof der);
        size_t content = sizeof small + sizeof ALG + 3 + siglen;
        assert_int_equal(n, content + (content < 128 ? 2 : 3));
        size_t r = certpack_pack(&t, der, n, rec, sizeof rec);
        assert_true(r > 0);
        assert_int_equal(certpack_unpack(&t, rec, r, back, sizeof back), n);
        assert_memory_equal(back, der, n);
    }
}

/* every octet outside the fields is the template's: one changed anywhere
 * there makes pack refuse; inside a field it is carried */
static void test_refuses_other_shapes(void **state)
{
    (void)state;
    struct cert_tmpl t = tmpl();
    uint8_t der[700], bad[700], rec[700], back[700];
    size_t n = make_der(&t, 42, 71, der, sizeof der);
    for (size_t i = 0; i < n; i++) {
        memcpy(bad, der, n);
        bad[i] ^= 0x01;
        size_t r = certpack_pack(&t, bad, n, rec, sizeof rec);
        size_t tbs_at = i - 4;   /* the header is 4 octets */
        int in_field = 0;
        for (size_t f = 0; i >= 4 && f < t.nfield; f++)
            in_field |= tbs_at >= t.off[f] && tbs_at < t.off[f] + t.len[f];
        int in_sig = i >= n - 71;
        if (in_field || in_sig) {
            if (!r) fail_msg("octet %zu (a field or the signature) refused", i);
            assert_int_equal(certpack_unpack(&t, rec, r, back, sizeof back), n);
            assert_memory_equal(back, bad, n);
        } else if (r) {
            fail_msg("octet %zu changed outside the fields, yet packed", i);
        }
    }
    /* shorter, longer, empty */
    assert_int_equal(certpack_pack(&t, der, n - 1, rec, sizeof rec), 0);
    memcpy(bad, der, n);
    bad[n] = 0;
    assert_int_equal(certpack_pack(&t, bad, n + 1, rec, sizeof rec), 0);
    assert_int_equal(certpack_pack(&t, der, 0, rec, sizeof rec), 0);
    /* a certificate of another template */
    struct cert_tmpl u = tmpl();
    u.off[1] = 101;
    assert_int_equal(certpack_tmpl_id(&u), 0);
    assert_memory_not_equal(u.id, t.id, CERTPACK_ID_LEN);
    size_t r = certpack_pack(&t, der, n, rec, sizeof rec);
    assert_true(r > 0);
    assert_int_equal(certpack_unpack(&u, rec, r, back, sizeof back), 0);   /* its id is not u's */
}

static void test_template_stored_form(void **state)
{
    (void)state;
    struct cert_tmpl t = tmpl(), d;
    uint8_t enc[1024], *storage;
    size_t n = certpack_tmpl_encode(&t, enc, sizeof enc);
    assert_int_equal(n, 16 + 8 * 3 + sizeof TBS + sizeof ALG);
    assert_int_equal(certpack_tmpl_encode(&t, enc, n - 1), 0);
    assert_int_equal(certpack_tmpl_decode(enc, n, &d, &storage), 0);
    assert_memory_equal(d.id, t.id, CERTPACK_ID_LEN);
    assert_int_equal(d.tbs_len, t.tbs_len);
    assert_memory_equal(d.tbs, TBS, sizeof TBS);
    assert_memory_equal(d.alg, ALG, sizeof ALG);
    assert_int_equal(d.nfield, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(d.off[i], t.off[i]);
        assert_int_equal(d.len[i], t.len[i]);
    }
    /* a record of t unpacks the same under the decoded copy */
    uint8_t der[700], rec[700], back[700];
    size_t dl = make_der(&t, 5, 70, der, sizeof der);
    size_t r = certpack_pack(&t, der, dl, rec, sizeof rec);
    assert_int_equal(certpack_unpack(&d, rec, r, back, sizeof back), dl);
    assert_memory_equal(back, der, dl);
    free(storage);

    /* every truncation, and every single-octet change of the header part, is
     * refused or decodes to a well-formed template (never read past the end) */
    for (size_t cut = 0; cut < n; cut++) {
        assert_int_equal(certpack_tmpl_decode(enc, cut, &d, &storage), -1);
        assert_null(storage);
    }
    for (size_t i = 0; i < 16 + 8 * 3; i++)
        for (int bit = 0; bit < 8; bit++) {
            uint8_t bad[1024];
            memcpy(bad, enc, n);
            bad[i] ^= (uint8_t)(1 << bit);
            if (certpack_tmpl_decode(bad, n, &d, &storage) == 0) {
                /* only a change that keeps the fields inside the TBS */
                for (size_t f = 0; f < d.nfield; f++)
                    assert_true(d.off[f] + d.len[f] <= d.tbs_len);
                assert_memory_not_equal(d.id, t.id, CERTPACK_ID_LEN);
                free(storage);
            }
        }
    /* overlapping or empty fields are not a template */
    struct cert_tmpl o = tmpl();
    o.off[1] = 20;   /* inside field 0 */
    assert_int_equal(certpack_tmpl_id(&o), -1);
    assert_int_equal(certpack_tmpl_encode(&o, enc, sizeof enc), 0);
    o = tmpl();
    o.len[2] = 11;   /* past the TBS */
    assert_int_equal(certpack_tmpl_id(&o), -1);
    o = tmpl();
    o.len[0] = 0;
    assert_int_equal(certpack_tmpl_id(&o), -1);
}

static void test_bad_records(void **state)
{
    (void)state;
    struct cert_tmpl t = tmpl();
    uint8_t der[700], rec[700], back[700], id[CERTPACK_ID_LEN];
    size_t n = make_der(&t, 1, 72, der, sizeof der);
    size_t r = certpack_pack(&t, der, n, rec, sizeof rec);
    for (size_t cut = 0; cut <= 1 + CERTPACK_ID_LEN + 16 + 65 + 10; cut++)
        assert_int_equal(certpack_unpack(&t, rec, cut, back, sizeof back), 0);
    rec[0] = 0x30;   /* a whole certificate is not a record */
    assert_int_equal(certpack_record_id(rec, r, id), -1);
    assert_int_equal(certpack_unpack(&t, rec, r, back, sizeof back), 0);
    rec[0] = CERTPACK_FORMAT;
    rec[3] ^= 1;     /* another template's id */
    assert_int_equal(certpack_unpack(&t, rec, r, back, sizeof back), 0);
    rec[3] ^= 1;
    /* a signature longer than one length octet can say */
    uint8_t big[1024];
    memcpy(big, rec, r);
    memset(big + r, 0x55, 60);
    assert_int_equal(certpack_unpack(&t, big, r + 60, back, sizeof back), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_short_headers),
        cmocka_unit_test(test_refuses_other_shapes),
        cmocka_unit_test(test_template_stored_form),
        cmocka_unit_test(test_bad_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
