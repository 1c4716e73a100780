/* der.c - strict DER reader, and the header writer; see der.h. */
#include "der.h"

#include <stdio.h>
#include <string.h>

/* der_init - a cursor over buf[0..len) */
void der_init(struct der_cur *c, const void *buf, size_t len)
{
    c->p = buf;
    c->end = c->p + len;
}

/* der_finish - nothing may be left */
int der_finish(const struct der_cur *c)
{
    return c->p < c->end ? DER_E_TRAILING : DER_OK;
}

/* der_peek_tag - identifier octet of the next element */
int der_peek_tag(const struct der_cur *c)
{
    return c->p < c->end ? c->p[0] : -1;
}

/* der_next - decode one TLV header and check that the value fits */
int der_next(struct der_cur *c, struct der_tlv *t)
{
    const uint8_t *p = c->p, *end = c->end;
    if (p >= end)
        return DER_E_END;
    uint8_t tag = *p++;
    if ((tag & 0x1f) == 0x1f)
        return DER_E_HIGH_TAG;
    if (p >= end)
        return DER_E_TRUNC;
    size_t len = *p++;
    if (len & 0x80) {
        size_t n = len & 0x7f;
        if (n == 0)
            return DER_E_INDEFINITE;
        if (n > 4)
            return DER_E_LEN_OCTETS;
        if ((size_t)(end - p) < n)
            return DER_E_TRUNC;
        if (p[0] == 0)
            return DER_E_NONMINIMAL;
        len = 0;
        for (size_t i = 0; i < n; i++)
            len = len << 8 | *p++;
        if (len < 0x80)
            return DER_E_NONMINIMAL;
    }
    if (len > (size_t)(end - p))
        return DER_E_OVERRUN;
    t->tag = tag;
    t->start = c->p;
    t->val = p;
    t->len = len;
    c->p = p + len;
    return DER_OK;
}

/* der_expect - read the next TLV with a given identifier octet */
int der_expect(struct der_cur *c, uint8_t tag, struct der_tlv *t)
{
    struct der_tlv tmp;
    struct der_cur save = *c;
    if (!t)
        t = &tmp;
    int e = der_next(c, t);
    if (e)
        return e;
    if (t->tag != tag) {
        *c = save;
        return DER_E_TAG;
    }
    return DER_OK;
}

/* der_enter - read a TLV and give a cursor over its content */
int der_enter(struct der_cur *c, uint8_t tag, struct der_cur *inner, struct der_tlv *t)
{
    struct der_tlv tmp;
    if (!t)
        t = &tmp;
    int e = der_expect(c, tag, t);
    if (e)
        return e;
    inner->p = t->val;
    inner->end = t->val + t->len;
    return DER_OK;
}

/* der_oid_check - validate OID content octets */
int der_oid_check(const uint8_t *v, size_t len)
{
    if (len == 0 || (v[len - 1] & 0x80))
        return DER_E_OID;
    int first = 1;   /* at the start of a sub-identifier */
    for (size_t i = 0; i < len; i++) {
        if (first && v[i] == 0x80)
            return DER_E_OID;
        first = !(v[i] & 0x80);
    }
    return DER_OK;
}

/* der_read_oid - read and check an OBJECT IDENTIFIER */
int der_read_oid(struct der_cur *c, struct der_tlv *t)
{
    struct der_cur save = *c;
    int e = der_expect(c, DER_OID, t);
    if (e)
        return e;
    if ((e = der_oid_check(t->val, t->len))) {
        *c = save;
        return e;
    }
    return DER_OK;
}

/* der_oid_eq - compare OID content octets */
int der_oid_eq(const struct der_tlv *t, const uint8_t *oid, size_t len)
{
    return t->len == len && memcmp(t->val, oid, len) == 0;
}

/* der_oid_text - dotted decimal rendering of OID content */
size_t der_oid_text(const uint8_t *v, size_t len, char *out, size_t cap)
{
    char buf[256];
    size_t n = 0;
    int first = 1, overflow = 0;
    uint64_t arc = 0;
    size_t i;
    if (cap == 0)
        return 0;
    for (i = 0; i < len && n < sizeof buf - 32; i++) {
        if (arc >> 57)
            overflow = 1;
        arc = arc << 7 | (v[i] & 0x7f);
        if (v[i] & 0x80)
            continue;
        char num[48];
        if (overflow)
            snprintf(num, sizeof num, "?");
        else if (first)
            snprintf(num, sizeof num, "%u.%llu", arc < 40 ? 0u : arc < 80 ? 1u : 2u,
                     (unsigned long long)(arc < 80 ? arc % 40 : arc - 80));
        else
            snprintf(num, sizeof num, "%llu", (unsigned long long)arc);
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", first ? "" : ".", num);
        first = 0;
        arc = 0;
        overflow = 0;
    }
    size_t limit = sizeof buf - 32;   /* buf holds at least this much when cut */
    if (i < len || n + 1 > cap) {     /* too long: keep what fits, then "..." */
        if (cap < 4) {
            out[0] = '\0';
            return 0;
        }
        size_t keep = cap - 4 < limit ? cap - 4 : limit;
        if (keep > n)
            keep = n;
        memcpy(out, buf, keep);
        memcpy(out + keep, "...", 4);
        return keep + 3;
    }
    memcpy(out, buf, n);
    out[n] = '\0';
    return n;
}

/* der_integer_check - INTEGER content non-empty and minimal */
int der_integer_check(const uint8_t *v, size_t len)
{
    if (len == 0)
        return DER_E_INTEGER;
    if (len > 1 && ((v[0] == 0x00 && !(v[1] & 0x80)) || (v[0] == 0xff && (v[1] & 0x80))))
        return DER_E_INTEGER;
    return DER_OK;
}

/* der_read_integer - read and check an INTEGER */
int der_read_integer(struct der_cur *c, struct der_tlv *t)
{
    struct der_cur save = *c;
    int e = der_expect(c, DER_INTEGER, t);
    if (e)
        return e;
    if ((e = der_integer_check(t->val, t->len))) {
        *c = save;
        return e;
    }
    return DER_OK;
}

/* der_read_unsigned - a non-negative INTEGER as a magnitude */
int der_read_unsigned(struct der_cur *c, const uint8_t **mag, size_t *len)
{
    struct der_cur save = *c;
    struct der_tlv t;
    int e = der_read_integer(c, &t);
    if (e)
        return e;
    if (t.val[0] & 0x80) {
        *c = save;
        return DER_E_RANGE;
    }
    *mag = t.val;
    *len = t.len;
    if (t.len > 1 && t.val[0] == 0) {
        (*mag)++;
        (*len)--;
    }
    return DER_OK;
}

/* der_read_uint64 - a small non-negative INTEGER */
int der_read_uint64(struct der_cur *c, uint64_t *out)
{
    struct der_cur save = *c;
    const uint8_t *m;
    size_t n;
    int e = der_read_unsigned(c, &m, &n);
    if (e)
        return e;
    if (n > 8) {
        *c = save;
        return DER_E_RANGE;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | m[i];
    *out = v;
    return DER_OK;
}

/* der_read_bit_string - read a BIT STRING and check its padding */
int der_read_bit_string(struct der_cur *c, const uint8_t **bits, size_t *nbytes,
                        unsigned *unused)
{
    struct der_cur save = *c;
    struct der_tlv t;
    int e = der_expect(c, DER_BIT_STRING, &t);
    if (e)
        return e;
    if (t.len == 0 || t.val[0] > 7 || (t.len == 1 && t.val[0] != 0) ||
        (t.len > 1 && (t.val[t.len - 1] & ((1u << t.val[0]) - 1)))) {
        *c = save;
        return DER_E_BIT_STRING;
    }
    *unused = t.val[0];
    *bits = t.val + 1;
    *nbytes = t.len - 1;
    return DER_OK;
}

/* der_read_octet_string - read an OCTET STRING */
int der_read_octet_string(struct der_cur *c, const uint8_t **v, size_t *len)
{
    struct der_tlv t;
    int e = der_expect(c, DER_OCTET_STRING, &t);
    if (e)
        return e;
    *v = t.val;
    *len = t.len;
    return DER_OK;
}

/* der_read_boolean - read a BOOLEAN (0x00 or 0xFF only) */
int der_read_boolean(struct der_cur *c, int *val)
{
    struct der_cur save = *c;
    struct der_tlv t;
    int e = der_expect(c, DER_BOOLEAN, &t);
    if (e)
        return e;
    if (t.len != 1 || (t.val[0] != 0x00 && t.val[0] != 0xff)) {
        *c = save;
        return DER_E_BOOLEAN;
    }
    *val = t.val[0] != 0;
    return DER_OK;
}

/* der_read_null - read a NULL */
int der_read_null(struct der_cur *c)
{
    struct der_cur save = *c;
    struct der_tlv t;
    int e = der_expect(c, DER_NULL, &t);
    if (e)
        return e;
    if (t.len != 0) {
        *c = save;
        return DER_E_NULL;
    }
    return DER_OK;
}

/* der_check_tree - every TLV well formed, constructed ones recursively */
int der_check_tree(const uint8_t *buf, size_t len, int max_depth)
{
    struct der_cur c;
    struct der_tlv t;
    if (max_depth < 0)
        return DER_E_DEPTH;
    der_init(&c, buf, len);
    while (!der_at_end(&c)) {
        int e = der_next(&c, &t);
        if (e)
            return e;
        if ((t.tag & DER_CONSTRUCTED) && (e = der_check_tree(t.val, t.len, max_depth - 1)))
            return e;
    }
    return DER_OK;
}

/* der_strerror - short description of an error code */
const char *der_strerror(int err)
{
    switch (err) {
    case DER_OK:           return "no error";
    case DER_E_END:        return "element missing";
    case DER_E_TRUNC:      return "truncated identifier or length";
    case DER_E_HIGH_TAG:   return "unsupported high tag number";
    case DER_E_INDEFINITE: return "indefinite length";
    case DER_E_LEN_OCTETS: return "length of more than 4 octets";
    case DER_E_NONMINIMAL: return "non-minimal length";
    case DER_E_OVERRUN:    return "length overruns the enclosing data";
    case DER_E_TAG:        return "unexpected tag";
    case DER_E_TRAILING:   return "trailing octets";
    case DER_E_INTEGER:    return "malformed INTEGER";
    case DER_E_OID:        return "malformed OBJECT IDENTIFIER";
    case DER_E_BIT_STRING: return "malformed BIT STRING";
    case DER_E_BOOLEAN:    return "malformed BOOLEAN";
    case DER_E_NULL:       return "malformed NULL";
    case DER_E_RANGE:      return "INTEGER out of range";
    case DER_E_DEPTH:      return "nesting too deep";
    }
    return "unknown DER error";
}

/* ---- writing ---- */

/* der_hdr_len - octets of tag + definite length for content of len octets */
size_t der_hdr_len(size_t len)
{
    if (len < 0x80) return 2;
    if (len < 0x100) return 3;
    if (len < 0x10000) return 4;
    return 5;
}

/* der_put_hdr - write tag and DER length; returns octets written */
size_t der_put_hdr(uint8_t *out, uint8_t tag, size_t len)
{
    size_t n = der_hdr_len(len), i;
    out[0] = tag;
    if (n == 2) {
        out[1] = (uint8_t)len;
        return 2;
    }
    out[1] = (uint8_t)(0x80 | (n - 2));
    for (i = 0; i < n - 2; i++)
        out[n - 1 - i] = (uint8_t)(len >> (8 * i));
    return n;
}
