/* certpack.c - certificates as template deltas; see certpack.h. */
#include "certpack.h"

#include <stdlib.h>
#include <string.h>

#include "der.h"
#include "digest.h"
#include "xmem.h"

#define TMPL_MAGIC   "CTP1"
#define TMPL_MAX     65536      /* a TBS or an algorithm of a template, at most */
#define SIG_MAX_LEN  126        /* a BIT STRING of one length octet */

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* tmpl_ok - fields ascending, disjoint, non-empty, inside the TBS */
static int tmpl_ok(const struct cert_tmpl *t)
{
    if (!t->tbs || !t->alg || t->tbs_len == 0 || t->tbs_len > TMPL_MAX || t->alg_len == 0 ||
        t->alg_len > TMPL_MAX || t->nfield > CERTPACK_FIELDS_MAX)
        return 0;
    size_t end = 0;
    for (size_t i = 0; i < t->nfield; i++) {
        if (t->len[i] == 0 || t->off[i] < end || t->off[i] > t->tbs_len || t->len[i] > t->tbs_len - t->off[i])
            return 0;
        end = t->off[i] + t->len[i];
    }
    return 1;
}

/* enc_len - octets of a template's stored form: magic, three u32s, a
 * (off, len) pair per field, the TBS and the algorithm */
static size_t enc_len(size_t nfield, size_t tbs_len, size_t alg_len)
{
    return 16 + 8 * nfield + tbs_len + alg_len;
}

size_t certpack_tmpl_size(const struct cert_tmpl *t)
{
    return tmpl_ok(t) ? enc_len(t->nfield, t->tbs_len, t->alg_len) : 0;
}

static size_t fields_len(const struct cert_tmpl *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->nfield; i++) n += t->len[i];
    return n;
}

size_t certpack_tmpl_encode(const struct cert_tmpl *t, uint8_t *out, size_t cap)
{
    size_t need = certpack_tmpl_size(t);
    if (!need || need > cap) return 0;
    memcpy(out, TMPL_MAGIC, 4);
    put32(out + 4, (uint32_t)t->tbs_len);
    put32(out + 8, (uint32_t)t->alg_len);
    put32(out + 12, (uint32_t)t->nfield);
    size_t pos = 16;
    for (size_t i = 0; i < t->nfield; i++, pos += 8) {
        put32(out + pos, (uint32_t)t->off[i]);
        put32(out + pos + 4, (uint32_t)t->len[i]);
    }
    memcpy(out + pos, t->tbs, t->tbs_len);
    memcpy(out + pos + t->tbs_len, t->alg, t->alg_len);
    return need;
}

int certpack_tmpl_id(struct cert_tmpl *t)
{
    size_t cap = certpack_tmpl_size(t);
    if (!cap) return -1;
    uint8_t *buf = xmalloc(cap), md[32];
    size_t n = certpack_tmpl_encode(t, buf, cap);
    if (n) sha256(buf, n, md);
    free(buf);
    if (!n) return -1;
    memcpy(t->id, md, CERTPACK_ID_LEN);
    return 0;
}

int certpack_tmpl_decode(const uint8_t *in, size_t len, struct cert_tmpl *t, uint8_t **storage)
{
    *storage = NULL;
    memset(t, 0, sizeof *t);
    if (len < 16 || memcmp(in, TMPL_MAGIC, 4) != 0) return -1;
    uint32_t tbs_len = get32(in + 4), alg_len = get32(in + 8), nfield = get32(in + 12);
    if (nfield > CERTPACK_FIELDS_MAX || tbs_len > TMPL_MAX || alg_len > TMPL_MAX ||
        len != enc_len(nfield, tbs_len, alg_len))
        return -1;
    uint8_t *copy = xmalloc(len);
    memcpy(copy, in, len);
    t->nfield = nfield;
    for (size_t i = 0; i < nfield; i++) {
        t->off[i] = get32(copy + 16 + 8 * i);
        t->len[i] = get32(copy + 20 + 8 * i);
    }
    t->tbs = copy + 16 + 8 * nfield;
    t->tbs_len = tbs_len;
    t->alg = t->tbs + tbs_len;
    t->alg_len = alg_len;
    if (!tmpl_ok(t)) {
        free(copy);
        memset(t, 0, sizeof *t);
        return -1;
    }
    uint8_t md[32];
    sha256(copy, len, md);
    memcpy(t->id, md, CERTPACK_ID_LEN);
    *storage = copy;
    return 0;
}

size_t certpack_pack(const struct cert_tmpl *t, const uint8_t *der, size_t der_len,
                     uint8_t *out, size_t cap)
{
    if (!tmpl_ok(t)) return 0;
    /* the length of a signature decides the header; find it from the end */
    size_t fixed = t->tbs_len + t->alg_len + 3;
    if (der_len <= fixed) return 0;
    size_t rest = der_len - fixed;   /* header + signature */
    size_t siglen = 0;
    for (size_t hl = 2; hl <= 5 && hl < rest; hl++) {
        size_t s = rest - hl;
        if (s >= 1 && s <= SIG_MAX_LEN && der_hdr_len(fixed + s) == hl) {
            siglen = s;
            break;
        }
    }
    if (!siglen) return 0;
    size_t content = fixed + siglen, hl = der_hdr_len(content);
    uint8_t hdr[8];
    der_put_hdr(hdr, 0x30, content);
    if (memcmp(der, hdr, hl) != 0) return 0;
    const uint8_t *tbs = der + hl, *tail = tbs + t->tbs_len;
    /* the TBS is the template but for the fields */
    size_t at = 0;
    for (size_t i = 0; i <= t->nfield; i++) {
        size_t to = i < t->nfield ? t->off[i] : t->tbs_len;
        if (memcmp(tbs + at, t->tbs + at, to - at) != 0) return 0;
        if (i < t->nfield) at = t->off[i] + t->len[i];
    }
    if (memcmp(tail, t->alg, t->alg_len) != 0) return 0;
    tail += t->alg_len;
    if (tail[0] != 0x03 || tail[1] != siglen + 1 || tail[2] != 0x00) return 0;
    size_t need = 1 + CERTPACK_ID_LEN + fields_len(t) + siglen;
    if (need > cap) return 0;
    size_t pos = 0;
    out[pos++] = CERTPACK_FORMAT;
    memcpy(out + pos, t->id, CERTPACK_ID_LEN);
    pos += CERTPACK_ID_LEN;
    for (size_t i = 0; i < t->nfield; i++) {
        memcpy(out + pos, tbs + t->off[i], t->len[i]);
        pos += t->len[i];
    }
    memcpy(out + pos, tail + 3, siglen);
    return pos + siglen;
}

int certpack_record_id(const uint8_t *rec, size_t len, uint8_t id[CERTPACK_ID_LEN])
{
    if (len < 1 + CERTPACK_ID_LEN || rec[0] != CERTPACK_FORMAT) return -1;
    memcpy(id, rec + 1, CERTPACK_ID_LEN);
    return 0;
}

size_t certpack_unpack(const struct cert_tmpl *t, const uint8_t *rec, size_t len,
                       uint8_t *der, size_t cap)
{
    if (!tmpl_ok(t)) return 0;
    size_t head = 1 + CERTPACK_ID_LEN + fields_len(t);
    if (len <= head || rec[0] != CERTPACK_FORMAT || memcmp(rec + 1, t->id, CERTPACK_ID_LEN) != 0)
        return 0;
    size_t siglen = len - head;
    if (siglen > SIG_MAX_LEN) return 0;
    size_t content = t->tbs_len + t->alg_len + 3 + siglen, hl = der_hdr_len(content);
    if (hl + content > cap) return 0;
    size_t pos = der_put_hdr(der, 0x30, content);
    uint8_t *tbs = der + pos;
    memcpy(tbs, t->tbs, t->tbs_len);
    const uint8_t *f = rec + 1 + CERTPACK_ID_LEN;
    for (size_t i = 0; i < t->nfield; i++) {
        memcpy(tbs + t->off[i], f, t->len[i]);
        f += t->len[i];
    }
    pos += t->tbs_len;
    memcpy(der + pos, t->alg, t->alg_len);
    pos += t->alg_len;
    der[pos++] = 0x03;
    der[pos++] = (uint8_t)(siglen + 1);
    der[pos++] = 0x00;
    memcpy(der + pos, f, siglen);
    return pos + siglen;
}
