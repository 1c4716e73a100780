/* parse.h - the streaming reader of a Batched CSR request (SPEC.md 3.1),
 * over libxml2's xmlReader.  Never holds the whole file: memory is the
 * reader's window plus one chunk of requests.
 *
 * Used twice:
 *   intake      parse_open(schema != NULL, keep_csrs = 0): validates against
 *               the request XSD as it reads, counts CSR elements, keeps the
 *               header; parse_finish gives the batch-level verdict.
 *   processing  parse_open(schema == NULL, keep_csrs = 1) over the archived
 *               (already validated) file: parse_next_chunk fills chunks.
 *
 * HOSTILE INPUT: no DTD is loaded, no entity is substituted, nothing is
 * fetched (XML_PARSE_NONET); any DOCTYPE is E_XML; the encoding must be UTF-8
 * (a BOM is fine); libxml2's own depth (256) and text-node (10 MB) limits
 * hold (no XML_PARSE_HUGE); the CSR count stops at max_csrs + 1 (E_TOO_MANY);
 * field text is copied only up to its XSD bound.
 * Bytes come from a caller's read function, so the parser never sees how the
 * file is read (io_uring, zstd) - and never an SQE.
 * Threads: one parser per thread; the xmlSchema may be shared read-only.
 */
#ifndef SMKI_PARSE_H
#define SMKI_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "request.h"

/* Batch-level verdicts of SPEC.md 3.2, in precedence order (section 5) */
enum batch_code {
    BC_OK = 0,
    BC_FILE,            /* E_FILE */
    BC_TOO_LARGE,       /* E_TOO_LARGE */
    BC_XML,             /* E_XML */
    BC_TOO_MANY,        /* E_TOO_MANY */
    BC_SCHEMA,          /* E_SCHEMA */
    BC_TOO_FEW,         /* E_TOO_FEW */
    BC_COUNT_MISMATCH,  /* E_COUNT_MISMATCH */
    BC_UNKNOWN_PARTY,   /* E_UNKNOWN_PARTY */
    BC_DUPLICATE_BATCH, /* E_DUPLICATE_BATCH */
    BC_COUNT_
};
const char *batch_code_name(enum batch_code c);

/* read function: up to len bytes into buf; bytes read, 0 at end, -1 error */
typedef int (*parse_read_fn)(void *io, char *buf, int len);

struct parse_header {
    char     batch_id[257];     /* 64 characters of UTF-8 (XSD bound), as written */
    char     party_text[257];
    uint8_t  party[8];
    int      have_party;        /* party_text parsed as an EUI-64 */
    uint64_t declared_count;    /* CSRCount */
    int      have_count;
};

struct parser;

/* parse_schema_load - compile the request XSD once (an opaque xmlSchemaPtr);
 * NULL with err on failure */
void *parse_schema_load(const char *xsd_path, char *err, size_t errlen);
void parse_schema_free(void *schema);

/* parse_open - a parser over io; schema may be NULL (no validation).
 * max_csrs: the CSR element that exceeds it stops the parse (BC_TOO_MANY). */
struct parser *parse_open(parse_read_fn rd, void *io, void *schema,
                          uint64_t max_csrs, int keep_csrs);
void parse_close(struct parser *p);

/* parse_keep_text_max - a CSRBody text longer than max octets is kept
 * empty (csr_len 0) instead of copied into the chunk: for a parser over a
 * file not yet validated, whose texts are bounded only by the file size.
 * 0 (the default) keeps every text whole. */
void parse_keep_text_max(struct parser *p, size_t max);

/* parse_next_chunk - fill c (up to c->cap requests) with the next CSRs;
 * returns the number added (0 at the end of the file) or -1 when the parse
 * stopped on a batch-level fault (see parse_finish).  Sets c->first_index. */
int parse_next_chunk(struct parser *p, struct chunk *c);

/* parse_finish - read to the end (if not there yet) and give the verdict for
 * what the reader alone can judge: BC_OK, BC_XML, BC_TOO_MANY or BC_SCHEMA,
 * with a message naming the line in err.  Header and count stay readable. */
enum batch_code parse_finish(struct parser *p, char *err, size_t errlen);

const struct parse_header *parse_header(const struct parser *p);
uint64_t parse_csr_count(const struct parser *p);

#endif
