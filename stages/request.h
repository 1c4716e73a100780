/* request.h - one CSR of a batch as it walks through the stages, and the chunk
 * that carries a run of them from stage to stage.
 *
 * Ownership: a chunk belongs to exactly one stage at a time; it is handed over
 * whole through a bounded queue and comes back to the pool when the writer is
 * done with it.  Nothing inside a chunk is allocated per request: the text the
 * parser copies (CSR base64) lives in the chunk's arena, which keeps its
 * capacity when the chunk is recycled, and certificates live inline.
 *
 *   parse    fills  request_id, device_text, usage_text, csr_b64 (arena)
 *   validate fills  code, errtext, device, usage, point, key_hash
 *   dedup    may set code to RC_DUPLICATE_REQUEST / RC_DUPLICATE_KEY
 *   sign     fills  serial, cert, cert_len (or code = RC_INTERNAL)
 *   write    reads everything, then the chunk goes back to the pool.
 */
#ifndef SMKI_REQUEST_H
#define SMKI_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "codes.h"

#define REQ_ID_MAX      128    /* RequestID digits kept; longer is E_SCHEMA (a size limit) */
#define REQ_DEVICE_MAX  64     /* DeviceID as written (XSD bound) */
#define REQ_USAGE_MAX   16     /* CertificateUsage as written (XSD bound) */
#define REQ_CSR_B64_MAX 8192   /* CSRBody characters (XSD bound) */
#define REQ_CERT_MAX    1024   /* a device certificate is about 500 octets, with
                                  room for a CA subject name of about 550 (sign.c
                                  refuses a CA whose name would not fit) */
#define REQ_ERR_MAX     160

struct request {
    /* parse */
    char     request_id[REQ_ID_MAX + 1];      /* canonical decimal, no leading zeros */
    char     device_text[REQ_DEVICE_MAX + 1]; /* as written, whitespace-trimmed */
    char     usage_text[REQ_USAGE_MAX + 1];
    uint32_t csr_off, csr_len;                /* base64 text in chunk->arena */
    /* validate (and dedup) */
    enum req_code code;
    char     errtext[REQ_ERR_MAX];
    uint8_t  device[8];                       /* valid when code > RC_DEVICE_ID or OK */
    enum usage usage;
    uint8_t  point[65];                       /* uncompressed P-256 point, 04||X||Y */
    uint8_t  key_hash[32];                    /* SHA-256 of point: the key's identity */
    /* sign */
    uint8_t  serial[16];
    uint16_t cert_len;
    uint8_t  cert[REQ_CERT_MAX];              /* DER */
};

struct chunk {
    uint64_t seq;          /* 0, 1, 2 ... within the batch: restores order */
    uint32_t first_index;  /* index in the batch of req[0] */
    uint32_t n;            /* requests used */
    uint32_t cap;          /* requests allocated */
    struct request *req;
    char    *arena;        /* CSR base64 text of all requests */
    size_t   arena_len, arena_cap;
};

/* chunk_new - a chunk for up to cap requests; never returns NULL */
struct chunk *chunk_new(uint32_t cap);
/* chunk_reset - empty it for reuse, keeping its capacity */
void chunk_reset(struct chunk *c);
/* chunk_free - release it and its arena */
void chunk_free(struct chunk *c);
/* chunk_add_text - append text to the arena; returns its offset */
uint32_t chunk_add_text(struct chunk *c, const char *s, size_t len);
/* chunk_csr - the base64 text of request r */
static inline const char *chunk_csr(const struct chunk *c, const struct request *r)
{
    return c->arena + r->csr_off;
}

#endif
