/* fuzz_parse.c - libFuzzer harness for the streaming request reader
 * (stages/parse.c).  Every input is read twice, as the service reads files:
 *
 *   1. intake:     parse_open(schema = the request XSD, keep_csrs = 0) over
 *                  the bytes in the read sizes libxml2 asks for; then
 *                  parse_next_chunk in a loop and parse_finish;
 *   2. processing: parse_open(schema = NULL, keep_csrs = 1) over the same
 *                  bytes cut into small reads (1..13 octets, from the input
 *                  size), parse_next_chunk into a 3-request chunk until the
 *                  end, then parse_finish.
 *
 * Checks beyond the sanitizers: every verdict is one the reader may give
 * (OK, E_XML, E_TOO_MANY, E_SCHEMA); error texts are NUL-terminated inside
 * their buffer; a chunk never holds more than its capacity; every kept field
 * is NUL-terminated within its bound; every CSRBody lies inside the chunk's
 * arena; CSR counts never run past max_csrs + 1; and a parse without a
 * schema agrees with a validating one that the file is well-formed (a file
 * the validating reader finds well-formed is never E_XML without the schema:
 * else intake accepts a file that processing cannot read back).
 *
 * FUZZ_MAX_CSRS (environment, default 50000 as in production) sets max_csrs;
 * a small value (e.g. 4) reaches E_TOO_MANY with small inputs (and, with
 * more than 2 * (max_csrs + 1) distinct RequestIDs, the RequestID set's hang).
 * FUZZ_PARSE_CROSSCHECK=0 turns the with/without-schema agreement check off,
 * to look past a known disagreement for other faults.
 * FUZZ_SCHEMA (environment) overrides the path of the request XSD.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "parse.h"
#include "request.h"

#ifndef FUZZ_SCHEMA_PATH
#define FUZZ_SCHEMA_PATH "schemas/batched-csr-request.xsd"
#endif

static void *schema;
static uint64_t max_csrs = 50000;
static int crosscheck = 1;

struct mem {
    const uint8_t *p;
    size_t n, off;
    size_t step;        /* 0: whatever the reader asks for */
    int ended;          /* 0 was returned once */
};

static int mem_read(void *io, char *buf, int len)
{
    struct mem *m = io;
    if (len < 0)
        abort();
    if (m->off >= m->n) {
        m->ended++;
        return 0;
    }
    size_t k = m->n - m->off;
    if (k > (size_t)len)
        k = (size_t)len;
    if (m->step && k > m->step)
        k = m->step;
    memcpy(buf, m->p + m->off, k);
    m->off += k;
    return (int)k;
}

static void silent(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

static void check_str(const char *s, size_t cap, const char *what)
{
    if (!memchr(s, '\0', cap)) {
        fprintf(stderr, "fuzz_parse: %s not NUL-terminated within %zu octets\n", what, cap);
        abort();
    }
}

static void check_chunk(const struct chunk *c, int n)
{
    if (n < 0)
        return;
    if ((uint32_t)n != c->n || c->n > c->cap) {
        fprintf(stderr, "fuzz_parse: chunk n %u (returned %d), cap %u\n", c->n, n, c->cap);
        abort();
    }
    for (uint32_t i = 0; i < c->n; i++) {
        const struct request *r = &c->req[i];
        check_str(r->request_id, sizeof r->request_id, "request_id");
        check_str(r->device_text, sizeof r->device_text, "device_text");
        check_str(r->usage_text, sizeof r->usage_text, "usage_text");
        if (r->csr_len) {
            if ((size_t)r->csr_off + r->csr_len >= c->arena_len + 1 || r->csr_len > REQ_CSR_B64_MAX + 64) {
                fprintf(stderr, "fuzz_parse: CSRBody [%u, +%u) outside the arena (%zu) or over its bound\n",
                        r->csr_off, r->csr_len, c->arena_len);
                abort();
            }
            if (chunk_csr(c, r)[r->csr_len] != '\0') {
                fprintf(stderr, "fuzz_parse: CSRBody not NUL-terminated\n");
                abort();
            }
        }
    }
}

static void check_header(const struct parser *p)
{
    const struct parse_header *h = parse_header(p);
    check_str(h->batch_id, sizeof h->batch_id, "batch_id");
    check_str(h->party_text, sizeof h->party_text, "party_text");
    if (parse_csr_count(p) > max_csrs + 1) {
        fprintf(stderr, "fuzz_parse: counted %llu CSRs past max_csrs %llu + 1\n",
                (unsigned long long)parse_csr_count(p), (unsigned long long)max_csrs);
        abort();
    }
}

static enum batch_code run(const uint8_t *data, size_t size, void *xsd, int keep, size_t step, uint32_t cap)
{
    struct mem m = {.p = data, .n = size, .step = step};
    char err[512];
    struct parser *p = parse_open(mem_read, &m, xsd, max_csrs, keep);
    struct chunk *c = chunk_new(cap);
    int n, rounds = 0;
    while ((n = parse_next_chunk(p, c)) > 0) {
        check_chunk(c, n);
        check_header(p);
        if (++rounds > 200000)
            abort();
    }
    check_chunk(c, n);
    memset(err, 0x5a, sizeof err);
    enum batch_code bc = parse_finish(p, err, sizeof err);
    check_str(err, sizeof err, "parse_finish err");
    check_header(p);
    if (bc != BC_OK && bc != BC_XML && bc != BC_TOO_MANY && bc != BC_SCHEMA) {
        fprintf(stderr, "fuzz_parse: parse_finish gave %s\n", batch_code_name(bc));
        abort();
    }
    if (bc != BC_OK && !err[0]) {
        fprintf(stderr, "fuzz_parse: %s without a message\n", batch_code_name(bc));
        abort();
    }
    chunk_free(c);
    parse_close(p);
    return bc;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[512];
    const char *path = getenv("FUZZ_SCHEMA");
    const char *mc = getenv("FUZZ_MAX_CSRS");
    const char *cc = getenv("FUZZ_PARSE_CROSSCHECK");
    if (mc && *mc)
        max_csrs = strtoull(mc, NULL, 10);
    if (cc && *cc == '0')
        crosscheck = 0;
    xmlInitParser();
    xmlSetGenericErrorFunc(NULL, silent);
    schema = parse_schema_load(path ? path : FUZZ_SCHEMA_PATH, err, sizeof err);
    if (!schema) {
        fprintf(stderr, "fuzz_parse: %s (run from the repository root, or set FUZZ_SCHEMA)\n", err);
        exit(1);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum batch_code with = run(data, size, schema, 0, 0, 512);
    enum batch_code without = run(data, size, NULL, 1, 1 + size % 13, 3);
    /* the schema only adds faults: a file well-formed for the validating
     * reader is well-formed without it (else intake accepts what processing
     * cannot read back), and E_TOO_MANY is seen by both */
    if (!crosscheck)
        return 0;
    if ((with == BC_OK || with == BC_SCHEMA) && without == BC_XML) {
        fprintf(stderr, "fuzz_parse: %s with the schema, E_XML without it\n", batch_code_name(with));
        abort();
    }
    if (with == BC_OK && without != BC_OK) {
        fprintf(stderr, "fuzz_parse: valid with the schema, %s without it\n", batch_code_name(without));
        abort();
    }
    return 0;
}
