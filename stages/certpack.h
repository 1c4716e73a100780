/* certpack.h - a device certificate stored as what differs from its template.
 *
 * Every certificate the signer issues under one CA and profile is the same
 * DER but for a few fields at fixed places in its TBSCertificate (serial,
 * notBefore, the key's point, the keyUsage bits, hwSerialNum, the key
 * identifier) and its signature.  The signer describes that shape as a
 * struct cert_tmpl; a record packed against it holds the template's id, the
 * varying fields and the signature: about 190 octets instead of about 470,
 * which is what the store keeps (pipeline/store.c), so that its memtables
 * and compactions carry a third of the octets.
 *
 * Exactness: certpack_pack refuses (0) any DER that is not exactly the
 * template with its fields replaced and a signature appended, so a packed
 * record always unpacks to the very octets that were signed; the writer
 * unpacks each record again before committing it all the same.
 *
 * Layout of a template as stored (certpack_tmpl_encode): "CTP1", then
 * little-endian u32s tbs_len, alg_len, nfield, then (off, len) per field,
 * then the TBS octets and the AlgorithmIdentifier octets.  Its id is the
 * first 8 octets of SHA-256 over that encoding.
 * A packed record: 0x01, the template id (8), each field's octets in order,
 * then the signature (an ECDSA-Sig-Value, the BIT STRING's content after its
 * 00 octet).
 *
 * Pure functions on caller buffers; no allocation but certpack_tmpl_decode's.
 */
#ifndef SMKI_CERTPACK_H
#define SMKI_CERTPACK_H

#include <stddef.h>
#include <stdint.h>

#define CERTPACK_FIELDS_MAX 8
#define CERTPACK_FORMAT     0x01   /* first octet of a packed record (a DER
                                      certificate starts with 0x30) */
#define CERTPACK_ID_LEN     8

struct cert_tmpl {
    const uint8_t *tbs;        /* the TBSCertificate with placeholders */
    size_t tbs_len;
    const uint8_t *alg;        /* the signatureAlgorithm, DER */
    size_t alg_len;
    size_t nfield;
    size_t off[CERTPACK_FIELDS_MAX], len[CERTPACK_FIELDS_MAX];   /* in tbs, ascending, disjoint */
    uint8_t id[CERTPACK_ID_LEN];   /* set by certpack_tmpl_id / _decode */
};

/* certpack_tmpl_size - the length of t's stored form; 0 if t is malformed */
size_t certpack_tmpl_size(const struct cert_tmpl *t);

/* certpack_tmpl_encode - the stored form of t into out (cap octets);
 * returns its length, or 0 if it does not fit or t is malformed */
size_t certpack_tmpl_encode(const struct cert_tmpl *t, uint8_t *out, size_t cap);

/* certpack_tmpl_id - compute t->id from its encoding; 0, or -1 if malformed */
int certpack_tmpl_id(struct cert_tmpl *t);

/* certpack_tmpl_decode - a template from its stored form: *t points into a
 * copy held in *storage (malloc'd; free it when done with t); 0, or -1 when
 * the octets are not a well-formed template */
int certpack_tmpl_decode(const uint8_t *in, size_t len, struct cert_tmpl *t, uint8_t **storage);

/* certpack_pack - der -> record against t; its length, or 0 when der is not
 * t's shape (or cap is too small) */
size_t certpack_pack(const struct cert_tmpl *t, const uint8_t *der, size_t der_len,
                     uint8_t *out, size_t cap);

/* certpack_record_id - the template id a record was packed against; 0, or
 * -1 if rec is not a packed record */
int certpack_record_id(const uint8_t *rec, size_t len, uint8_t id[CERTPACK_ID_LEN]);

/* certpack_unpack - record -> DER; its length, or 0 when rec is not a record
 * of t or cap is too small */
size_t certpack_unpack(const struct cert_tmpl *t, const uint8_t *rec, size_t len,
                       uint8_t *der, size_t cap);

#endif
