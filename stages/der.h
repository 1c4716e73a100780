/* der.h - a small strict DER reader (X.690 distinguished encoding rules),
 * and the header writer its encoders share.
 *
 * A cursor walks a buffer TLV by TLV; nothing is copied and nothing is
 * allocated: every value points into the caller's buffer, which must outlive
 * the cursor.  Pure functions, safe from any thread.
 *
 * Strictness (each violation is an error, see enum der_err):
 *   - identifier: single-octet tags only (tag numbers 0..30); the high-tag-
 *     number form (low five bits all ones) is rejected as unsupported;
 *   - length: definite form only (0x80, indefinite, is rejected); at most 4
 *     length octets; minimal (long form only for lengths >= 128, no leading
 *     zero octet); the value must fit in what is left of the enclosing buffer;
 *   - typed readers check the DER rules of their type: INTEGER minimal two's
 *     complement; OBJECT IDENTIFIER non-empty with minimal sub-identifiers;
 *     BIT STRING unused-bit count 0..7 (0 when empty) and unused bits zero;
 *     BOOLEAN 0x00 or 0xFF; NULL empty.
 *   - der_finish reports octets left over at the end of a constructed value
 *     (or after the outermost one).
 * Not checked: SET OF ordering and the contents of string types.
 *
 * Errors are small negative ints (enum der_err); 0 is success.  der_strerror
 * gives a short ASCII phrase for messages.
 *
 * Typical use:
 *     struct der_cur top, seq;
 *     struct der_tlv oid;
 *     der_init(&top, buf, len);
 *     if ((e = der_enter(&top, DER_SEQUENCE, &seq, NULL)) ||
 *         (e = der_finish(&top)) ||
 *         (e = der_read_oid(&seq, &oid)) || ...)
 *         ... der_strerror(e) ...
 */
#ifndef SMKI_DER_H
#define SMKI_DER_H

#include <stddef.h>
#include <stdint.h>

/* Identifier octets (class | constructed | number) */
#define DER_BOOLEAN          0x01
#define DER_INTEGER          0x02
#define DER_BIT_STRING       0x03
#define DER_OCTET_STRING     0x04
#define DER_NULL             0x05
#define DER_OID              0x06
#define DER_UTF8_STRING      0x0c
#define DER_PRINTABLE_STRING 0x13
#define DER_IA5_STRING       0x16
#define DER_UTC_TIME         0x17
#define DER_GENERALIZED_TIME 0x18
#define DER_SEQUENCE         0x30
#define DER_SET              0x31
#define DER_CONSTRUCTED      0x20
#define DER_CONTEXT(n)       (0x80 | (n))          /* [n] IMPLICIT, primitive */
#define DER_CONTEXT_CONS(n)  (0xa0 | (n))          /* [n] constructed / EXPLICIT */

enum der_err {
    DER_OK = 0,
    DER_E_END = -1,        /* an element was expected but the value ended */
    DER_E_TRUNC = -2,      /* identifier or length octets cut short */
    DER_E_HIGH_TAG = -3,   /* high-tag-number form (tag >= 31): unsupported */
    DER_E_INDEFINITE = -4, /* indefinite length (0x80) */
    DER_E_LEN_OCTETS = -5, /* more than 4 length octets (or reserved 0xFF) */
    DER_E_NONMINIMAL = -6, /* length not in its shortest form */
    DER_E_OVERRUN = -7,    /* value runs past the end of the enclosing buffer */
    DER_E_TAG = -8,        /* element has another tag than the one expected */
    DER_E_TRAILING = -9,   /* octets left after the last expected element */
    DER_E_INTEGER = -10,   /* INTEGER empty or not minimally encoded */
    DER_E_OID = -11,       /* OBJECT IDENTIFIER empty or badly encoded */
    DER_E_BIT_STRING = -12,/* BIT STRING unused-bit count or padding bits */
    DER_E_BOOLEAN = -13,   /* BOOLEAN not one octet of 0x00 / 0xFF */
    DER_E_NULL = -14,      /* NULL with content */
    DER_E_RANGE = -15,     /* INTEGER negative or too large for the caller */
    DER_E_DEPTH = -16,     /* nesting deeper than the caller allows */
};

/* A cursor over a run of consecutive TLVs: [p, end). */
struct der_cur {
    const uint8_t *p;
    const uint8_t *end;
};

/* One decoded element. */
struct der_tlv {
    uint8_t tag;            /* the identifier octet */
    const uint8_t *start;   /* first octet of the TLV (the identifier) */
    const uint8_t *val;     /* first content octet */
    size_t len;             /* content length */
};

/* der_tlv_size - octets of the whole TLV (identifier, length and content) */
static inline size_t der_tlv_size(const struct der_tlv *t)
{
    return (size_t)(t->val - t->start) + t->len;
}

/* der_init - a cursor over buf[0..len) */
void der_init(struct der_cur *c, const void *buf, size_t len);

/* der_left - octets not yet read */
static inline size_t der_left(const struct der_cur *c)
{
    return (size_t)(c->end - c->p);
}

/* der_at_end - nonzero when nothing is left */
static inline int der_at_end(const struct der_cur *c)
{
    return c->p >= c->end;
}

/* der_finish - DER_OK when nothing is left, DER_E_TRAILING otherwise
 * (der_left says how many octets) */
int der_finish(const struct der_cur *c);

/* der_peek_tag - identifier octet of the next element, or -1 at the end */
int der_peek_tag(const struct der_cur *c);

/* der_next - read the next TLV, whatever its tag, and step over it.
 * DER_E_END at the end of the cursor.  On error the cursor is unchanged. */
int der_next(struct der_cur *c, struct der_tlv *t);

/* der_expect - read the next TLV and require identifier octet tag
 * (DER_E_TAG otherwise, cursor unchanged).  t may be NULL. */
int der_expect(struct der_cur *c, uint8_t tag, struct der_tlv *t);

/* der_enter - der_expect, then set inner to a cursor over its content.
 * The outer cursor steps over the whole element.  t may be NULL. */
int der_enter(struct der_cur *c, uint8_t tag, struct der_cur *inner, struct der_tlv *t);

/* der_read_oid - an OBJECT IDENTIFIER, its encoding checked (der_oid_check) */
int der_read_oid(struct der_cur *c, struct der_tlv *t);

/* der_oid_check - content octets of an OID: non-empty, every sub-identifier
 * minimal (no leading 0x80) and terminated (last octet < 0x80) */
int der_oid_check(const uint8_t *v, size_t len);

/* der_oid_eq - nonzero when the OID content of t equals oid[0..len)
 * (content octets only, e.g. {0x2a,0x86,0x48,0xce,0x3d,0x02,0x01}) */
int der_oid_eq(const struct der_tlv *t, const uint8_t *oid, size_t len);

/* der_oid_text - dotted decimal form of OID content v[0..len) into out,
 * always NUL-terminated when cap > 0 (truncated with "..." if too small).
 * Arcs beyond 64 bits print as "?".  Returns the length written. */
size_t der_oid_text(const uint8_t *v, size_t len, char *out, size_t cap);

/* der_read_integer - an INTEGER, checked to be minimally encoded */
int der_read_integer(struct der_cur *c, struct der_tlv *t);

/* der_integer_check - content octets of an INTEGER: non-empty and minimal */
int der_integer_check(const uint8_t *v, size_t len);

/* der_read_uint64 - a non-negative INTEGER that fits in 64 bits
 * (DER_E_RANGE if negative or larger) */
int der_read_uint64(struct der_cur *c, uint64_t *out);

/* der_read_unsigned - a positive-or-zero INTEGER as a big-endian magnitude
 * without sign octet: *mag points at the first significant octet (a zero
 * value gives one octet 0x00).  DER_E_RANGE if negative. */
int der_read_unsigned(struct der_cur *c, const uint8_t **mag, size_t *len);

/* der_read_bit_string - a BIT STRING: *bits points at the octets after the
 * unused-bit count, *nbytes is their number, *unused the count (0..7).
 * DER padding rules are checked. */
int der_read_bit_string(struct der_cur *c, const uint8_t **bits, size_t *nbytes,
                        unsigned *unused);

/* der_read_octet_string - an OCTET STRING (primitive form only) */
int der_read_octet_string(struct der_cur *c, const uint8_t **v, size_t *len);

/* der_read_boolean - a BOOLEAN: *val = 0 or 1 */
int der_read_boolean(struct der_cur *c, int *val);

/* der_read_null - a NULL */
int der_read_null(struct der_cur *c);

/* der_check_tree - buf[0..len) is a run of well-formed TLVs, and so is the
 * content of every constructed one among them, recursively.  At most
 * max_depth constructed elements may nest (a SEQUENCE in a SEQUENCE is 2);
 * deeper is DER_E_DEPTH.  Primitive contents are not looked into.  Use it for
 * values a parser carries without interpreting (ANY). */
int der_check_tree(const uint8_t *buf, size_t len, int max_depth);

/* Writing, for the encoders (sign.c, certpack.c): a single-octet tag and a
 * minimal definite length, content up to 16 MiB.
 * der_hdr_len - octets of tag + length for content of len octets
 * der_put_hdr - write them to out; returns der_hdr_len(len) */
size_t der_hdr_len(size_t len);
size_t der_put_hdr(uint8_t *out, uint8_t tag, size_t len);

/* der_strerror - a short ASCII phrase for an error code */
const char *der_strerror(int err);

#endif
