/* test_parse.c - unit tests of the streaming request reader (stages/parse.c)
 * over an in-memory parse_read_fn:
 *   processing mode (no schema, keep_csrs): header, count, chunk contents,
 *     RequestID canonical, DeviceID trimmed, CSR text in the arena, chunking;
 *   intake mode (request XSD, counting only): E_SCHEMA, E_XML (hostile
 *     input: DOCTYPE, entities, UTF-16), E_TOO_MANY and its precedence
 *     (SPEC 5), messages naming the line.
 * Every document is also fed in small pieces: the verdict must not depend on
 * how the bytes arrive.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

#include "parse.h"

#define XSD "schemas/batched-csr-request.xsd"

static void *g_schema;

static int group_setup(void **state)
{
    (void)state;
    char err[512];
    g_schema = parse_schema_load(XSD, err, sizeof err);
    if (!g_schema) {
        print_error("parse_schema_load(%s): %s (run from the repository root)\n", XSD, err);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    parse_schema_free(g_schema);
    return 0;
}

/* ---- building documents ---- */

struct sb { char *s; size_t len; FILE *f; };

static void sb_open(struct sb *b) { b->s = NULL; b->len = 0; b->f = open_memstream(&b->s, &b->len); }
static char *sb_close(struct sb *b) { fclose(b->f); return b->s; }

/* replace1 - s with the first `from` replaced by `to` (malloc'd); from must occur */
static char *replace1(const char *s, const char *from, const char *to)
{
    const char *at = strstr(s, from);
    if (!at) fail_msg("fixture: '%s' not found", from);
    struct sb b;
    sb_open(&b);
    fwrite(s, 1, (size_t)(at - s), b.f);
    fputs(to, b.f);
    fputs(at + strlen(from), b.f);
    return sb_close(&b);
}

/* strcat3 - a + b + c (malloc'd) */
static char *strcat3(const char *a, const char *b, const char *c)
{
    struct sb x;
    sb_open(&x);
    fputs(a, x.f);
    fputs(b, x.f);
    fputs(c, x.f);
    return sb_close(&x);
}

/* with_text - s with `after` (its first occurrence) followed by text, and
 * the first CSRBody's text replaced when after is NULL */
static char *with_text(const char *s, const char *after, const char *text)
{
    const char *from = after ? after : "<CSRBody>TUlJQg==</CSRBody>";
    char *to = after ? strcat3(after, text, "") : strcat3("<CSRBody>", text, "</CSRBody>");
    char *out = replace1(s, from, to);
    free(to);
    return out;
}

#define NS "urn:smki:batched-csr:1"
#define DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

/* header_xml - the standard header (count as given) */
static void put_header(FILE *f, const char *count)
{
    fprintf(f, "  <Header>\n"
               "    <BatchID>ACME-20261122-0001</BatchID>\n"
               "    <PartyID>90-B3-D5-1F-30-01-00-00</PartyID>\n"
               "    <CSRCount>%s</CSRCount>\n"
               "  </Header>\n", count);
}

static void put_csr(FILE *f, const char *id, const char *dev, const char *usage, const char *body)
{
    fprintf(f, "    <CSR>\n      <RequestID>%s</RequestID>\n      <DeviceID>%s</DeviceID>\n"
               "      <CertificateUsage>%s</CertificateUsage>\n      <CSRBody>%s</CSRBody>\n    </CSR>\n",
            id, dev, usage, body);
}

/* simple_doc - n CSRs with RequestID 1..n (on line 9 + 6k onwards) */
static char *simple_doc(int n, const char *count)
{
    struct sb b;
    sb_open(&b);
    fputs(DECL "<BatchedCSRRequest xmlns=\"" NS "\">\n", b.f);
    put_header(b.f, count);
    fputs("  <CSRs>\n", b.f);
    for (int i = 1; i <= n; i++) {
        char id[16], dev[32];
        snprintf(id, sizeof id, "%d", i);
        snprintf(dev, sizeof dev, "00-DB-12-34-56-78-%02X-%02X", (i >> 8) & 0xff, i & 0xff);
        put_csr(b.f, id, dev, i % 2 ? "DS" : "KA", "TUlJQg==");
    }
    fputs("  </CSRs>\n</BatchedCSRRequest>\n", b.f);
    return sb_close(&b);
}

/* ---- running the parser ---- */

struct verdict {
    enum batch_code code;
    char err[512];
    uint64_t count;
    struct parse_header hdr;
};

/* run_intake - intake mode over doc (len bytes) in pieces of `piece` */
static void run_intake(const char *doc, size_t len, int piece, uint64_t max_csrs, void *schema, struct verdict *v)
{
    struct tu_mem m = {doc, len, 0, piece};
    struct parser *p = parse_open(tu_mem_read, &m, schema, max_csrs, 0);
    assert_non_null(p);
    v->code = parse_finish(p, v->err, sizeof v->err);
    v->count = parse_csr_count(p);
    v->hdr = *parse_header(p);
    parse_close(p);
}

static const int PIECES[] = {0, 1, 7, 4096};

/* ---- processing mode ---- */

/* test_good_request - header, count, one chunk with every field */
static void test_good_request(void **state)
{
    (void)state;
    const char *doc =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<BatchedCSRRequest xmlns=\"urn:smki:batched-csr:1\">\n"
        "  <Header>\n"
        "    <BatchID> ACME-20261122-0001 </BatchID>\n"
        "    <PartyID>90-b3-d5-1f-30-01-00-00</PartyID>\n"
        "    <CSRCount>3</CSRCount>\n"
        "  </Header>\n"
        "  <CSRs>\n"
        "    <CSR><RequestID>007</RequestID><DeviceID>\n   00-DB-12-34-56-78-90-A4\t\n</DeviceID>"
        "<CertificateUsage>DS</CertificateUsage><CSRBody>MIIBzzCCAXUCAQAw</CSRBody></CSR>\n"
        "    <CSR><RequestID>2</RequestID><DeviceID>00db1234567890a5</DeviceID>"
        "<CertificateUsage> KA </CertificateUsage><CSRBody>QUJD\nREVG</CSRBody></CSR>\n"
        "    <CSR><RequestID>  +30 </RequestID><DeviceID>not-an-eui64</DeviceID>"
        "<CertificateUsage>XX</CertificateUsage>"
        "<CSRBody><![CDATA[QUJD]]>RE<!-- split -->VG</CSRBody></CSR>\n"
        "  </CSRs>\n"
        "</BatchedCSRRequest>\n";
    for (size_t k = 0; k < TU_N(PIECES); k++) {
        struct tu_mem m = {doc, strlen(doc), 0, PIECES[k]};
        struct parser *p = parse_open(tu_mem_read, &m, NULL, 50000, 1);
        struct chunk *c = chunk_new(8);
        assert_int_equal(parse_next_chunk(p, c), 3);
        assert_int_equal(c->n, 3);
        assert_int_equal(c->first_index, 0);

        const struct parse_header *h = parse_header(p);
        assert_string_equal(h->batch_id, "ACME-20261122-0001");
        assert_string_equal(h->party_text, "90-b3-d5-1f-30-01-00-00");
        assert_true(h->have_party);
        const uint8_t party[8] = {0x90, 0xB3, 0xD5, 0x1F, 0x30, 0x01, 0x00, 0x00};
        assert_memory_equal(h->party, party, 8);
        assert_true(h->have_count);
        assert_int_equal(h->declared_count, 3);
        assert_int_equal(parse_csr_count(p), 3);

        assert_string_equal(c->req[0].request_id, "7");
        assert_string_equal(c->req[0].device_text, "00-DB-12-34-56-78-90-A4");
        assert_string_equal(c->req[0].usage_text, "DS");
        assert_string_equal(chunk_csr(c, &c->req[0]), "MIIBzzCCAXUCAQAw");
        assert_int_equal(c->req[0].csr_len, 16);
        assert_int_equal(c->req[0].code, RC_OK);

        assert_string_equal(c->req[1].request_id, "2");
        assert_string_equal(c->req[1].device_text, "00db1234567890a5");
        assert_string_equal(c->req[1].usage_text, "KA");
        assert_string_equal(chunk_csr(c, &c->req[1]), "QUJD\nREVG");

        assert_string_equal(c->req[2].request_id, "30");
        assert_string_equal(c->req[2].device_text, "not-an-eui64");
        assert_string_equal(c->req[2].usage_text, "XX");
        /* CDATA and text around a comment are one value */
        assert_string_equal(chunk_csr(c, &c->req[2]), "QUJDREVG");
        assert_int_equal(c->req[2].csr_len, 8);

        /* the end */
        assert_int_equal(parse_next_chunk(p, c), 0);
        assert_int_equal(c->n, 0);
        char err[256];
        assert_int_equal(parse_finish(p, err, sizeof err), BC_OK);
        assert_string_equal(err, "");
        chunk_free(c);
        parse_close(p);
    }
}

struct rid_row { const char *in, *want; };

/* test_request_id_canonical - no sign, no leading zeros, trimmed */
static void test_request_id_canonical(void **state)
{
    (void)state;
    const struct rid_row rows[] = {
        {"1", "1"}, {"007", "7"}, {"0000000010", "10"}, {"+5", "5"}, {" 42 ", "42"},
        {"\n 0100\n", "100"}, {"50000", "50000"}, {"123456789012345678901234567890", "123456789012345678901234567890"},
    };
    int nfail = 0;
    for (size_t i = 0; i < TU_N(rows); i++) {
        struct sb b;
        sb_open(&b);
        fputs(DECL "<BatchedCSRRequest xmlns=\"" NS "\">\n", b.f);
        put_header(b.f, "1");
        fputs("  <CSRs>\n", b.f);
        put_csr(b.f, rows[i].in, "00-DB-12-34-56-78-90-A4", "DS", "QUJD");
        fputs("  </CSRs>\n</BatchedCSRRequest>\n", b.f);
        char *doc = sb_close(&b);
        struct tu_mem m = {doc, strlen(doc), 0, 0};
        struct parser *p = parse_open(tu_mem_read, &m, NULL, 50000, 1);
        struct chunk *c = chunk_new(2);
        int n = parse_next_chunk(p, c);
        if (n != 1) TU_ROW_FAIL(nfail, "'%s': parse_next_chunk = %d", rows[i].in, n);
        else if (strcmp(c->req[0].request_id, rows[i].want) != 0)
            TU_ROW_FAIL(nfail, "'%s': request_id '%s', want '%s'", rows[i].in, c->req[0].request_id, rows[i].want);
        chunk_free(c);
        parse_close(p);
        free(doc);
    }
    TU_ROWS_DONE(nfail, "RequestID canonical form");
}

/* test_chunking - cap 2 over 3 CSRs: 2 then 1 then 0; cap 1 over 5 */
static void test_chunking(void **state)
{
    (void)state;
    char *doc = simple_doc(3, "3");
    struct tu_mem m = {doc, strlen(doc), 0, 0};
    struct parser *p = parse_open(tu_mem_read, &m, NULL, 50000, 1);
    struct chunk *c = chunk_new(2);
    assert_int_equal(parse_next_chunk(p, c), 2);
    assert_int_equal(c->first_index, 0);
    assert_string_equal(c->req[0].request_id, "1");
    assert_string_equal(c->req[1].request_id, "2");
    assert_string_equal(c->req[1].usage_text, "KA");
    assert_int_equal(parse_next_chunk(p, c), 1);
    assert_int_equal(c->first_index, 2);
    assert_string_equal(c->req[0].request_id, "3");
    assert_string_equal(c->req[0].device_text, "00-DB-12-34-56-78-00-03");
    assert_string_equal(chunk_csr(c, &c->req[0]), "TUlJQg==");
    assert_int_equal(parse_next_chunk(p, c), 0);
    assert_int_equal(parse_csr_count(p), 3);
    chunk_free(c);
    parse_close(p);
    free(doc);

    /* exactly full chunks: 4 CSRs, cap 2 -> 2, 2, 0 */
    doc = simple_doc(4, "4");
    m = (struct tu_mem){doc, strlen(doc), 0, 3};
    p = parse_open(tu_mem_read, &m, NULL, 50000, 1);
    c = chunk_new(2);
    assert_int_equal(parse_next_chunk(p, c), 2);
    assert_int_equal(parse_next_chunk(p, c), 2);
    assert_int_equal(c->first_index, 2);
    assert_string_equal(c->req[1].request_id, "4");
    assert_int_equal(parse_next_chunk(p, c), 0);
    chunk_free(c);
    parse_close(p);
    free(doc);

    /* many: 1000 CSRs in chunks of 64, indexes continuous, arena reused */
    doc = simple_doc(1000, "1000");
    m = (struct tu_mem){doc, strlen(doc), 0, 0};
    p = parse_open(tu_mem_read, &m, NULL, 50000, 1);
    c = chunk_new(64);
    uint32_t seen = 0;
    int n;
    while ((n = parse_next_chunk(p, c)) > 0) {
        assert_int_equal(c->first_index, seen);
        for (int i = 0; i < n; i++) {
            char want[16];
            snprintf(want, sizeof want, "%u", seen + (uint32_t)i + 1);
            assert_string_equal(c->req[i].request_id, want);
            assert_string_equal(chunk_csr(c, &c->req[i]), "TUlJQg==");
        }
        seen += (uint32_t)n;
    }
    assert_int_equal(n, 0);
    assert_int_equal(seen, 1000);
    char err[256];
    assert_int_equal(parse_finish(p, err, sizeof err), BC_OK);
    chunk_free(c);
    parse_close(p);
    free(doc);
}

/* test_keep_text_max - intake with a prover: CSRBody texts over the limit
 * are kept empty, the others whole, the verdict is intake's own */
static void test_keep_text_max(void **state)
{
    (void)state;
    static const size_t LENS[] = {8192, 8193, 100000};
    for (size_t k = 0; k < sizeof LENS / sizeof LENS[0]; k++) {
        char *body = malloc(LENS[k] + 1);
        memset(body, 'A', LENS[k]);
        body[LENS[k]] = '\0';
        char *base = simple_doc(3, "3");
        char *doc = with_text(base, NULL, body);
        struct verdict v;
        run_intake(doc, strlen(doc), 0, 50000, g_schema, &v);
        struct tu_mem m = {doc, strlen(doc), 0, 4096};
        struct parser *p = parse_open(tu_mem_read, &m, g_schema, 50000, 1);
        parse_keep_text_max(p, REQ_CSR_B64_MAX);
        struct chunk *c = chunk_new(64);
        assert_int_equal(parse_next_chunk(p, c), 3);
        assert_int_equal(c->req[0].csr_len, LENS[k] <= REQ_CSR_B64_MAX ? LENS[k] : 0);
        assert_int_equal(c->req[1].csr_len, 8);
        assert_string_equal(chunk_csr(c, &c->req[1]), "TUlJQg==");
        assert_true(c->arena_len < REQ_CSR_B64_MAX + 64);
        char err[512];
        assert_int_equal(parse_finish(p, err, sizeof err), v.code);
        assert_string_equal(err, v.err);
        assert_int_equal(v.code, LENS[k] <= REQ_CSR_B64_MAX ? BC_OK : BC_SCHEMA);
        chunk_free(c);
        parse_close(p);
        free(doc);
        free(base);
        free(body);
    }
}

/* parse_all - every request of doc, parsed with or without the schema
 * (intake's and processing's parsers), into one chunk */
static struct chunk *parse_all(const char *doc, void *schema, size_t keep_max, int piece, struct parse_header *h)
{
    struct tu_mem m = {doc, strlen(doc), 0, piece};
    struct parser *p = parse_open(tu_mem_read, &m, schema, 50000, 1);
    if (keep_max) parse_keep_text_max(p, keep_max);
    struct chunk *c = chunk_new(64);
    assert_true(parse_next_chunk(p, c) > 0);
    char err[512];
    enum batch_code bc = parse_finish(p, err, sizeof err);
    if (bc != BC_OK) fail_msg("%s: %s", batch_code_name(bc), err);
    *h = *parse_header(p);
    parse_close(p);
    return c;
}

/* test_intake_chunks_as_processing - intake's parser (with the XSD, texts
 * kept up to 4 octets a character of their bound, as for the request
 * cache) gives every request exactly as processing's parser does, in
 * every legal form of the text: CDATA (which libxml2 hid from a reader with
 * a schema when CDATA was parsed as text), character references, comments
 * and processing instructions inside it, read in pieces of any size; and
 * the header the same way */
static void test_intake_chunks_as_processing(void **state)
{
    (void)state;
    char *base = simple_doc(3, "3");
    char *cdata = with_text(base, NULL, "<![CDATA[TUlJQg==]]>");
    char *refs1 = replace1(cdata, "<DeviceID>00-DB-12-34-56-78-00-02</DeviceID>",
                           "<DeviceID>&#x30;0-DB-12-34-56-78-00-02</DeviceID>");
    char *refs = replace1(refs1, "<CSRBody>TUlJQg==</CSRBody>", "<CSRBody>&#84;U<!-- c --><?pi x?>lJQg&#61;=</CSRBody>");
    char *mixed1 = replace1(refs, "<CSRBody>TUlJQg==</CSRBody>", "<CSRBody>TU<![CDATA[lJ]]>Qg==</CSRBody>");
    char *mixed = replace1(mixed1, "<BatchID>ACME-20261122-0001</BatchID>",
                           "<BatchID><![CDATA[ACME-]]>2026<!-- c -->1122-0001</BatchID>");
    const char *docs[] = {base, cdata, refs, mixed};
    for (size_t d = 0; d < sizeof docs / sizeof docs[0]; d++)
        for (size_t k = 0; k < sizeof PIECES / sizeof PIECES[0]; k++) {
            struct parse_header ha, hb;
            struct chunk *a = parse_all(docs[d], g_schema, 4 * REQ_CSR_B64_MAX, PIECES[k], &ha);
            struct chunk *b = parse_all(docs[d], NULL, 0, PIECES[k], &hb);
            assert_string_equal(ha.batch_id, "ACME-20261122-0001");
            assert_string_equal(hb.batch_id, "ACME-20261122-0001");
            assert_int_equal(a->n, 3);
            assert_int_equal(b->n, 3);
            for (uint32_t i = 0; i < 3; i++) {
                const struct request *x = &a->req[i], *y = &b->req[i];
                assert_string_equal(x->request_id, y->request_id);
                assert_string_equal(x->device_text, y->device_text);
                assert_string_equal(x->usage_text, y->usage_text);
                assert_int_equal(x->csr_len, y->csr_len);
                assert_string_equal(chunk_csr(a, x), chunk_csr(b, y));
                assert_string_equal(chunk_csr(a, x), "TUlJQg==");
            }
            assert_string_equal(a->req[1].device_text, "00-DB-12-34-56-78-00-02");
            chunk_free(a);
            chunk_free(b);
        }
    free(mixed);
    free(mixed1);
    free(refs);
    free(refs1);
    free(cdata);
    free(base);
}

/* test_field_bounds - field text is kept only up to its XSD bound */
static void test_field_bounds(void **state)
{
    (void)state;
    char dev[200], usage[100];
    memset(dev, 'D', 150);
    dev[150] = '\0';
    memset(usage, 'U', 40);
    usage[40] = '\0';
    struct sb b;
    sb_open(&b);
    fputs(DECL "<BatchedCSRRequest xmlns=\"" NS "\">\n", b.f);
    put_header(b.f, "1");
    fputs("  <CSRs>\n", b.f);
    put_csr(b.f, "1", dev, usage, "QUJD");
    fputs("  </CSRs>\n</BatchedCSRRequest>\n", b.f);
    char *doc = sb_close(&b);
    struct tu_mem m = {doc, strlen(doc), 0, 0};
    struct parser *p = parse_open(tu_mem_read, &m, NULL, 50000, 1);
    struct chunk *c = chunk_new(2);
    assert_int_equal(parse_next_chunk(p, c), 1);
    assert_int_equal(strlen(c->req[0].device_text), REQ_DEVICE_MAX);
    assert_int_equal(strlen(c->req[0].usage_text), REQ_USAGE_MAX);
    chunk_free(c);
    parse_close(p);
    /* the same document in intake mode is E_SCHEMA (maxLength) */
    struct verdict v;
    run_intake(doc, strlen(doc), 0, 50000, g_schema, &v);
    assert_int_equal(v.code, BC_SCHEMA);
    free(doc);
}

/* test_processing_stops_on_xml_fault - parse_next_chunk -1, parse_finish E_XML */
static void test_processing_stops_on_xml_fault(void **state)
{
    (void)state;
    char *good = simple_doc(3, "3");
    char *cut = strstr(good, "<CSR>\n      <RequestID>3");
    assert_non_null(cut);
    strcpy(cut, "<CSR><RequestID>3</Oops>\n");   /* mismatched end tag */
    struct tu_mem m = {good, strlen(good), 0, 0};
    struct parser *p = parse_open(tu_mem_read, &m, NULL, 50000, 1);
    struct chunk *c = chunk_new(8);
    int n = parse_next_chunk(p, c);
    assert_int_equal(n, -1);
    char err[256];
    assert_int_equal(parse_finish(p, err, sizeof err), BC_XML);
    tu_assert_contains(err, "line ");
    chunk_free(c);
    parse_close(p);
    free(good);
}

/* ---- intake mode: verdicts ---- */

struct vrow {
    const char *label;
    const char *doc;
    size_t len;            /* 0: strlen */
    uint64_t max_csrs;
    enum batch_code want;
    const char *want_text;     /* substring of the message, or NULL */
};

/* count_bad_rows - every row, every piece size of pieces[]: failures reported, counted */
static int count_bad_rows(const struct vrow *rows, size_t n, const int *pieces, size_t npieces)
{
    int nfail = 0;
    for (size_t i = 0; i < n; i++) {
        const struct vrow *r = &rows[i];
        size_t len = r->len ? r->len : strlen(r->doc);
        for (size_t k = 0; k < npieces; k++) {
            struct verdict v;
            run_intake(r->doc, len, pieces[k], r->max_csrs ? r->max_csrs : 50000, g_schema, &v);
            if (v.code != r->want) {
                TU_ROW_FAIL(nfail, "%s (pieces of %d): %s, want %s: %s", r->label, pieces[k],
                            batch_code_name(v.code), batch_code_name(r->want), v.err);
                break;
            }
            if (r->want != BC_OK && !strstr(v.err, "line ")) {
                TU_ROW_FAIL(nfail, "%s (pieces of %d): message names no line: %s", r->label, pieces[k], v.err);
                break;
            }
            if (r->want_text && !strstr(v.err, r->want_text)) {
                TU_ROW_FAIL(nfail, "%s (pieces of %d): '%s' not in: %s", r->label, pieces[k], r->want_text, v.err);
                break;
            }
        }
    }
    return nfail;
}

/* check_rows_in - the same, failing the test on any bad row */
static void check_rows_in(const struct vrow *rows, size_t n, const int *pieces, size_t npieces, const char *what)
{
    int nfail = count_bad_rows(rows, n, pieces, npieces);
    TU_ROWS_DONE(nfail, what);
}

/* check_rows - every row, every piece size */
static void check_rows(const struct vrow *rows, size_t n, const char *what)
{
    check_rows_in(rows, n, PIECES, TU_N(PIECES), what);
}

/* test_intake_ok - good documents, BOMs, declarations */
static void test_intake_ok(void **state)
{
    (void)state;
    char *doc = simple_doc(3, "3");
    char bom[8192];
    snprintf(bom, sizeof bom, "\xEF\xBB\xBF%s", doc);
    const char *nodecl = strstr(doc, "<BatchedCSRRequest");
    char lower[8192];
    snprintf(lower, sizeof lower, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n%s", nodecl);
    char prefixed[8192];
    snprintf(prefixed, sizeof prefixed,
             "<b:BatchedCSRRequest xmlns:b=\"" NS "\"><b:Header><b:BatchID>X</b:BatchID>"
             "<b:PartyID>90B3D51F30010000</b:PartyID><b:CSRCount>0</b:CSRCount></b:Header>"
             "<b:CSRs/></b:BatchedCSRRequest>");
    char hint[8192];
    snprintf(hint, sizeof hint,
             "<BatchedCSRRequest xmlns=\"" NS "\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
             "xsi:schemaLocation=\"" NS " http://127.0.0.1:9/never-fetched.xsd\">%s",
             strstr(doc, "<BatchedCSRRequest") + strlen("<BatchedCSRRequest xmlns=\"" NS "\">"));
    const struct vrow rows[] = {
        {"plain", doc, 0, 0, BC_OK, NULL},
        {"UTF-8 BOM", bom, 0, 0, BC_OK, NULL},
        {"no declaration", nodecl, 0, 0, BC_OK, NULL},
        {"encoding utf-8 lower case", lower, 0, 0, BC_OK, NULL},
        {"namespace prefix, zero CSRs", prefixed, 0, 0, BC_OK, NULL},
        {"schemaLocation hint ignored", hint, 0, 0, BC_OK, NULL},
        {"exactly max_csrs", doc, 0, 3, BC_OK, NULL},
    };
    check_rows(rows, TU_N(rows), "good documents");
    struct verdict v;
    run_intake(bom, strlen(bom), 0, 50000, g_schema, &v);
    assert_int_equal(v.count, 3);
    assert_string_equal(v.hdr.batch_id, "ACME-20261122-0001");
    assert_true(v.hdr.have_party);
    assert_int_equal(v.hdr.declared_count, 3);
    run_intake(prefixed, strlen(prefixed), 0, 50000, g_schema, &v);
    assert_int_equal(v.count, 0);
    assert_true(v.hdr.have_count);
    assert_int_equal(v.hdr.declared_count, 0);
    free(doc);
}

/* test_intake_schema - E_SCHEMA faults, with the line */
static void test_intake_schema(void **state)
{
    (void)state;
    char *doc = simple_doc(2, "2");
    const char *root = "<BatchedCSRRequest xmlns=\"" NS "\">";
    const char *after_root = strstr(doc, root) + strlen(root);
    /* a missing element: no CSRCount (line 6) */
    char *no_count = replace1(doc, "    <CSRCount>2</CSRCount>\n", "");
    /* duplicate RequestID: 1 and 1, and 1 and 01 (the same integer) */
    char *dup_plain = replace1(doc, "<RequestID>2</RequestID>", "<RequestID>1</RequestID>");
    char *dup01 = replace1(doc, "<RequestID>2</RequestID>", "<RequestID>01</RequestID>");
    char *dup_plus = replace1(doc, "<RequestID>2</RequestID>", "<RequestID>+1</RequestID>");
    char *many_ok = simple_doc(3000, "3000");
    char *dup_far = replace1(many_ok, "<RequestID>2999</RequestID>", "<RequestID>0000007</RequestID>");
    /* wrong namespace, and none */
    char *wrong_ns = strcat3(DECL "<BatchedCSRRequest xmlns=\"urn:smki:batched-csr:2\">", after_root, "");
    char *no_ns = strcat3(DECL "<BatchedCSRRequest>", after_root, "");
    /* an unknown element in a CSR */
    char *extra = replace1(doc, "<CertificateUsage>KA", "<Colour>red</Colour><CertificateUsage>KA");
    /* RequestID 0 (positiveInteger) */
    char *zero_id = replace1(doc, "<RequestID>2<", "<RequestID>0<");
    /* CSRBody of 8193 characters; 8192 is fine */
    char big[8200];
    memset(big, 'A', 8193);
    big[8193] = '\0';
    char *body_big = with_text(doc, NULL, big);
    big[8192] = '\0';
    char *body_max = with_text(doc, NULL, big);
    /* header values */
    char *bad_party = replace1(doc, "90-B3-D5", "90:B3:D5");
    char *bad_count = replace1(doc, "<CSRCount>2<", "<CSRCount>x<");
    char *bad_batch = replace1(doc, "ACME-2026", "ACME 2026");

    const struct vrow rows[] = {
        {"missing CSRCount", no_count, 0, 0, BC_SCHEMA, "line 6"},
        {"duplicate RequestID 1 and 1", dup_plain, 0, 0, BC_SCHEMA, "line 16"},
        {"duplicate RequestID 1 and 01", dup01, 0, 0, BC_SCHEMA, "line 16"},
        {"duplicate RequestID 1 and +1", dup_plus, 0, 0, BC_SCHEMA, "line 16"},
        {"duplicate RequestID far apart", dup_far, 0, 0, BC_SCHEMA, NULL},
        {"3000 distinct RequestIDs", many_ok, 0, 0, BC_OK, NULL},
        {"wrong namespace", wrong_ns, 0, 0, BC_SCHEMA, NULL},
        {"no namespace", no_ns, 0, 0, BC_SCHEMA, NULL},
        {"unknown element", extra, 0, 0, BC_SCHEMA, NULL},
        {"RequestID 0", zero_id, 0, 0, BC_SCHEMA, NULL},
        {"CSRBody 8193 chars", body_big, 0, 0, BC_SCHEMA, NULL},
        {"PartyID with colons", bad_party, 0, 0, BC_SCHEMA, "line 5"},
        {"CSRCount not a number", bad_count, 0, 0, BC_SCHEMA, "line 6"},
        {"BatchID with a space", bad_batch, 0, 0, BC_SCHEMA, "line 4"},
        {"CSRBody 8192 chars is fine", body_max, 0, 0, BC_OK, NULL},
    };
    check_rows(rows, TU_N(rows), "schema faults");

    /* RequestID length: a positive integer of any size (SPEC 5: no upper
     * bound in the XSD; the XSD uses a pattern because libxml2's
     * xs:positiveInteger stops at 24 digits); the reader keeps 128 digits
     * and refuses more, as an element size limit */
    char *id24 = replace1(doc, "<RequestID>2<", "<RequestID>999999999999999999999999<");
    char *id25 = replace1(doc, "<RequestID>2<", "<RequestID>9999999999999999999999999<");
    char bigid[200] = "<RequestID>";
    for (int i = 0; i < 129; i++) strcat(bigid, "9");
    strcat(bigid, "<");
    char *id129 = replace1(doc, "<RequestID>2<", bigid);
    struct verdict v;
    run_intake(id24, strlen(id24), 0, 50000, g_schema, &v);
    assert_int_equal(v.code, BC_OK);
    run_intake(id25, strlen(id25), 0, 50000, g_schema, &v);
    assert_int_equal(v.code, BC_OK);
    run_intake(id129, strlen(id129), 0, 50000, g_schema, &v);
    assert_int_equal(v.code, BC_SCHEMA);
    free(id129);
    free(id24);
    free(id25);
    /* the duplicate's message names both places */
    run_intake(dup01, strlen(dup01), 0, 50000, g_schema, &v);
    tu_assert_contains(v.err, "line 16");
    tu_assert_contains(v.err, "10");
    free(dup_plus); free(many_ok); free(dup_far);
    free(no_count); free(dup_plain); free(dup01); free(wrong_ns); free(no_ns); free(extra);
    free(zero_id); free(body_big); free(body_max); free(bad_party); free(bad_count); free(bad_batch);
    free(doc);
}

/* test_long_text_runs - a text run over 1 MiB that is not whitespace is
 * E_SCHEMA from the byte tap (libxml2's check of it would be quadratic);
 * 2 MiB of whitespace between elements is still fine; a CSR over the limit
 * before the long run keeps E_TOO_MANY */
static void test_long_text_runs(void **state)
{
    (void)state;
    char *doc = simple_doc(2, "2");
    size_t big_n = 2u << 20;
    char *big = malloc(big_n + 1);
    assert_non_null(big);
    memset(big, 'A', big_n);
    big[big_n] = '\0';
    char *long_body = with_text(doc, NULL, big);
    memset(big, ' ', big_n);
    big[big_n - 1] = '\n';
    char *long_ws = with_text(doc, "</CSRCount>", big);
    struct verdict v;
    run_intake(long_body, strlen(long_body), 0, 50000, g_schema, &v);
    assert_int_equal(v.code, BC_SCHEMA);
    tu_assert_contains(v.err, "CSRBody");
    tu_assert_contains(v.err, "over 1 MiB");
    run_intake(long_ws, strlen(long_ws), 0, 50000, g_schema, &v);
    assert_int_equal(v.code, BC_OK);
    /* the long body in CSR 2, which is over a limit of 1: E_TOO_MANY */
    memset(big, 'A', big_n);
    char *csr2 = strstr(doc, "<RequestID>2</RequestID>");
    assert_non_null(csr2);
    char *t = with_text(csr2, NULL, big);
    *csr2 = '\0';
    char *long_body2 = strcat3(doc, t, "");
    *csr2 = '<';
    free(t);
    run_intake(long_body2, strlen(long_body2), 0, 2, g_schema, &v);
    assert_int_equal(v.code, BC_SCHEMA);
    run_intake(long_body2, strlen(long_body2), 0, 1, g_schema, &v);
    assert_int_equal(v.code, BC_TOO_MANY);
    free(long_body2);
    /* 11 MiB of whitespace in CSRBody passes the tap; libxml2 stops the
     * text node at 10 MB: E_SCHEMA naming the element */
    size_t ws_n = 11u << 20;
    char *ws = malloc(ws_n + 1);
    assert_non_null(ws);
    memset(ws, ' ', ws_n);
    ws[ws_n] = '\0';
    t = with_text(doc, NULL, ws);
    run_intake(t, strlen(t), 0, 50000, g_schema, &v);
    assert_int_equal(v.code, BC_SCHEMA);
    tu_assert_contains(v.err, "CSRBody");
    tu_assert_contains(v.err, "10 MB");
    free(t);
    free(ws);
    /* an error message that quotes "huge text node" from the input is not
     * libxml2's limit (found by fuzz_parse: E_SCHEMA with the schema, E_XML
     * without it): an unterminated document is E_XML */
    const char *quoted = "<?xml version=\"1.0\" encoding=\"UTF-7\"?>\n<BetcahdCSRRequest "
                         "xmlns=\"urn#:smki:batched-csr:1\">\n <HeadeBatchequest "
                         "xmlns=\"uhuge text nodern#:smki:batcd-csr:1\">\n\n";
    run_intake(quoted, strlen(quoted), 0, 50000, g_schema, &v);
    assert_int_equal(v.code, BC_XML);
    free(long_body);
    free(long_ws);
    free(big);
    free(doc);
}

/* utf16le - ASCII text as UTF-16LE, with a BOM when bom */
static size_t utf16(const char *s, char *out, int bom, int big_endian)
{
    size_t o = 0;
    if (bom) {
        out[o++] = big_endian ? '\xFE' : '\xFF';
        out[o++] = big_endian ? '\xFF' : '\xFE';
    }
    for (; *s; s++) {
        if (big_endian) { out[o++] = 0; out[o++] = *s; }
        else { out[o++] = *s; out[o++] = 0; }
    }
    return o;
}

/* test_intake_xml - E_XML: hostile or broken input */
static void test_intake_xml(void **state)
{
    (void)state;
    char *doc = simple_doc(2, "2");
    const char *body = strstr(doc, "<BatchedCSRRequest");
    char *doctype = strcat3(DECL "<!DOCTYPE BatchedCSRRequest>\n", body, "");
    char *xxe0 = strcat3(DECL "<!DOCTYPE BatchedCSRRequest [\n  <!ENTITY xxe SYSTEM \"file:///etc/passwd\">\n]>\n",
                         body, "");
    char *xxe = replace1(xxe0, "ACME-20261122-0001", "&xxe;");
    char *internal_ent = strcat3(DECL "<!DOCTYPE BatchedCSRRequest [ <!ENTITY a \"aaaaaaaaaa\"> ]>\n", body, "");
    char *undeclared = replace1(doc, "ACME-20261122-0001", "&nope;");
    char *latin1 = strcat3("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n", body, "");
    char *broken = replace1(doc, "</CSRCount>", "</CSRCoun7>");   /* line 6 */
    char *trailing = strcat3(doc, "junk after the root\n", "");
    char *two_roots = strcat3(doc, "<BatchedCSRRequest xmlns=\"" NS "\"/>\n", "");
    const struct vrow rows[] = {
        {"DOCTYPE", doctype, 0, 0, BC_XML, "DOCTYPE"},
        {"external entity", xxe, 0, 0, BC_XML, NULL},
        {"internal entity declaration", internal_ent, 0, 0, BC_XML, NULL},
        {"undeclared entity", undeclared, 0, 0, BC_XML, NULL},
        {"ISO-8859-1 declared", latin1, 0, 0, BC_XML, NULL},
        {"not well-formed", broken, 0, 0, BC_XML, "line 6"},
        {"text after the root", trailing, 0, 0, BC_XML, NULL},
        {"two roots", two_roots, 0, 0, BC_XML, NULL},
        {"empty file", "", 0, 0, BC_XML, NULL},
        {"truncated", "<BatchedCSRRequest xmlns=\"" NS "\"><Header>", 0, 0, BC_XML, NULL},
        {"invalid UTF-8", DECL "<BatchedCSRRequest xmlns=\"" NS "\"><Header><BatchID>\xC3\x28</BatchID>",
         0, 0, BC_XML, NULL},
    };
    check_rows(rows, TU_N(rows), "XML faults");
    /* the entity was not substituted, nothing was read from /etc/passwd */
    struct verdict v;
    run_intake(xxe, strlen(xxe), 0, 50000, g_schema, &v);
    assert_null(strstr(v.hdr.batch_id, "root"));
    free(doctype); free(xxe0); free(xxe); free(internal_ent); free(undeclared); free(latin1);
    free(broken); free(trailing); free(two_roots);
    free(doc);
}

/* utf16_rows - UTF-16 documents (SPEC 3: UTF-8 only; a BOM says UTF-16) */
static void utf16_check(const int *pieces, size_t npieces, const char *what)
{
    char *doc = simple_doc(2, "2");
    const char *body = strstr(doc, "<BatchedCSRRequest");
    char *decl16 = strcat3("<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n", body, "");
    static char le_bom[16384], be_bom[16384], le[16384], le_bom_nodecl[16384], le_decl16[16384];
    size_t n_le_bom = utf16(doc, le_bom, 1, 0);          /* declaration says UTF-8 */
    size_t n_be_bom = utf16(doc, be_bom, 1, 1);
    size_t n_le = utf16(body, le, 0, 0);
    size_t n_le_bom_nodecl = utf16(body, le_bom_nodecl, 1, 0);
    size_t n_le_decl16 = utf16(decl16, le_decl16, 1, 0);
    const struct vrow rows[] = {
        {"UTF-16LE, BOM, declared UTF-8", le_bom, n_le_bom, 0, BC_XML, NULL},
        {"UTF-16BE, BOM, declared UTF-8", be_bom, n_be_bom, 0, BC_XML, NULL},
        {"UTF-16LE, BOM, no declaration", le_bom_nodecl, n_le_bom_nodecl, 0, BC_XML, NULL},
        {"UTF-16LE, BOM, declared UTF-16", le_decl16, n_le_decl16, 0, BC_XML, NULL},
        {"UTF-16LE, no BOM, no declaration", le, n_le, 0, BC_XML, NULL},
    };
    int nfail = count_bad_rows(rows, TU_N(rows), pieces, npieces);
    free(decl16);
    free(doc);
    TU_ROWS_DONE(nfail, what);
}

/* test_utf16 - E_XML, whole or in reads of 2 or more bytes */
static void test_utf16(void **state)
{
    (void)state;
    const int pieces[] = {0, 2, 3, 7, 4096};
    utf16_check(pieces, TU_N(pieces), "UTF-16 documents");
}

/* test_utf16_one_byte_reads - the same documents when the read function
 * hands out one byte at a time (parse_read_fn may return fewer bytes than
 * asked).
 * BUG (parse.c io_read): the UTF-16/UCS-4 sniff looks only at the FIRST
 * read's bytes and needs n >= 2; with a 1-byte first read it never fires,
 * libxml2 then decodes the UTF-16 by its BOM, and a document with a BOM and
 * no declaration (or one declaring UTF-8) is accepted as BC_OK. */
static void test_utf16_one_byte_reads(void **state)
{
    (void)state;
    const int pieces[] = {1};
    utf16_check(pieces, TU_N(pieces), "UTF-16 documents, 1-byte reads (BUG)");
}

/* test_too_many - the (max+1)th CSR stops the read: E_TOO_MANY */
static void test_too_many(void **state)
{
    (void)state;
    char *four = simple_doc(4, "4");
    /* four CSRs and a schema fault (no CSRCount): E_TOO_MANY outranks E_SCHEMA */
    char *four_schema = replace1(four, "    <CSRCount>4</CSRCount>\n", "");
    /* a schema fault in CSR 2 (before the limit), with 4 CSRs */
    char *four_schema_csr = replace1(four, "<RequestID>2<", "<RequestID>0<");
    /* three CSRs and a schema fault: E_SCHEMA (not too many) */
    char *four_dup = replace1(four, "<RequestID>4<", "<RequestID>1<");
    char *four_dup2 = replace1(four, "<RequestID>2<", "<RequestID>1<");
    char *three = simple_doc(3, "3");
    char *three_schema = replace1(three, "    <CSRCount>3</CSRCount>\n", "");
    const struct vrow rows[] = {
        {"4 CSRs, max 3", four, 0, 3, BC_TOO_MANY, NULL},
        {"4 CSRs, max 3, header schema fault", four_schema, 0, 3, BC_TOO_MANY, NULL},
        {"4 CSRs, max 3, schema fault in CSR 2", four_schema_csr, 0, 3, BC_TOO_MANY, NULL},
        {"3 CSRs, max 3, schema fault", three_schema, 0, 3, BC_SCHEMA, NULL},
        {"4 CSRs, max 4", four, 0, 4, BC_OK, NULL},
        {"4 CSRs, max 3, duplicate RequestID in CSR 4", four_dup, 0, 3, BC_TOO_MANY, NULL},
        {"4 CSRs, max 3, duplicate RequestID in CSR 2", four_dup2, 0, 3, BC_TOO_MANY, NULL},
    };
    /* E_TOO_MANY names no line; check the code and the count only */
    int nfail = 0;
    for (size_t i = 0; i < TU_N(rows); i++) {
        for (size_t k = 0; k < TU_N(PIECES); k++) {
            struct verdict v;
            run_intake(rows[i].doc, strlen(rows[i].doc), PIECES[k], rows[i].max_csrs, g_schema, &v);
            if (v.code != rows[i].want) {
                TU_ROW_FAIL(nfail, "%s (pieces of %d): %s, want %s: %s", rows[i].label, PIECES[k],
                            batch_code_name(v.code), batch_code_name(rows[i].want), v.err);
                break;
            }
            if (v.code == BC_TOO_MANY && v.count != rows[i].max_csrs + 1)
                TU_ROW_FAIL(nfail, "%s: count %llu, want %llu (stop at the first one too many)", rows[i].label,
                            (unsigned long long)v.count, (unsigned long long)rows[i].max_csrs + 1);
        }
    }
    TU_ROWS_DONE(nfail, "E_TOO_MANY");
    struct verdict v;
    run_intake(four, strlen(four), 0, 3, g_schema, &v);
    tu_assert_contains(v.err, "3");
    /* processing mode: parse_next_chunk -1 at the limit */
    struct tu_mem m = {four, strlen(four), 0, 0};
    struct parser *p = parse_open(tu_mem_read, &m, NULL, 3, 1);
    struct chunk *c = chunk_new(8);
    assert_int_equal(parse_next_chunk(p, c), -1);
    char err[256];
    assert_int_equal(parse_finish(p, err, sizeof err), BC_TOO_MANY);
    chunk_free(c);
    parse_close(p);
    free(four); free(four_schema); free(four_schema_csr); free(three); free(three_schema);
    free(four_dup); free(four_dup2);
}

/* test_xml_vs_too_many - SPEC 5 puts E_XML before E_TOO_MANY, and the reader
 * streams: a well-formedness fault met BEFORE the (max+1)th CSR gives E_XML;
 * one that lies well AFTER it is never read (the read stops at the limit),
 * so the file is E_TOO_MANY ("the 50,001st is E_TOO_MANY whatever else is
 * wrong").  Observed: a fault in the header -> E_XML; a fault after 200 CSRs
 * (max 3) -> E_TOO_MANY, for every piece size. */
static void test_xml_vs_too_many(void **state)
{
    (void)state;
    char *four = simple_doc(4, "4");
    char *early = replace1(four, "</CSRCount>", "</CSRCoun7>");
    char *many0 = simple_doc(200, "200");
    char *many = replace1(many0, "</BatchedCSRRequest>", "</Oops>");
    /* a DOCTYPE is met first of all */
    char *doctype_many = strcat3(DECL "<!DOCTYPE x>\n", strstr(many, "<BatchedCSRRequest"), "");
    const struct vrow rows[] = {
        {"XML fault in the header, 4 CSRs, max 3", early, 0, 3, BC_XML, "line 6"},
        {"XML fault after 200 CSRs, max 3", many, 0, 3, BC_TOO_MANY, NULL},
        {"DOCTYPE then 200 CSRs, max 3", doctype_many, 0, 3, BC_XML, NULL},
    };
    int nfail = 0;
    for (size_t i = 0; i < TU_N(rows); i++) {
        for (size_t k = 0; k < TU_N(PIECES); k++) {
            struct verdict v;
            run_intake(rows[i].doc, strlen(rows[i].doc), PIECES[k], rows[i].max_csrs, g_schema, &v);
            if (v.code != rows[i].want)
                TU_ROW_FAIL(nfail, "%s (pieces of %d): %s, want %s: %s", rows[i].label, PIECES[k],
                            batch_code_name(v.code), batch_code_name(rows[i].want), v.err);
            else if (rows[i].want_text && !strstr(v.err, rows[i].want_text))
                TU_ROW_FAIL(nfail, "%s: '%s' not in %s", rows[i].label, rows[i].want_text, v.err);
        }
    }
    TU_ROWS_DONE(nfail, "E_XML vs E_TOO_MANY");
    free(four); free(early); free(many0); free(many); free(doctype_many);
}

/* test_read_error - the read function failing is a batch-level fault, not OK */
static int failing_read(void *io, char *buf, int len)
{
    int *calls = io;
    if ((*calls)++ == 0) {
        const char *s = DECL "<BatchedCSRRequest xmlns=\"" NS "\"><Header>";
        int n = (int)strlen(s);
        if (n > len) n = len;
        memcpy(buf, s, (size_t)n);
        return n;
    }
    return -1;
}

static void test_read_error(void **state)
{
    (void)state;
    int calls = 0;
    struct parser *p = parse_open(failing_read, &calls, g_schema, 50000, 0);
    char err[256];
    enum batch_code code = parse_finish(p, err, sizeof err);
    parse_close(p);
    if (code == BC_OK) fail_msg("a failing read gave OK");
}

/* test_code_names - the SPEC spellings */
static void test_code_names(void **state)
{
    (void)state;
    assert_string_equal(batch_code_name(BC_OK), "OK");
    assert_string_equal(batch_code_name(BC_XML), "E_XML");
    assert_string_equal(batch_code_name(BC_TOO_MANY), "E_TOO_MANY");
    assert_string_equal(batch_code_name(BC_SCHEMA), "E_SCHEMA");
    assert_string_equal(batch_code_name(BC_TOO_FEW), "E_TOO_FEW");
    assert_string_equal(batch_code_name(BC_COUNT_MISMATCH), "E_COUNT_MISMATCH");
    assert_string_equal(batch_code_name(BC_DUPLICATE_BATCH), "E_DUPLICATE_BATCH");
    assert_true(BC_FILE < BC_TOO_LARGE && BC_TOO_LARGE < BC_XML && BC_XML < BC_TOO_MANY &&
                BC_TOO_MANY < BC_SCHEMA && BC_SCHEMA < BC_TOO_FEW && BC_TOO_FEW < BC_COUNT_MISMATCH &&
                BC_COUNT_MISMATCH < BC_UNKNOWN_PARTY && BC_UNKNOWN_PARTY < BC_DUPLICATE_BATCH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_request),
        cmocka_unit_test(test_request_id_canonical),
        cmocka_unit_test(test_chunking),
        cmocka_unit_test(test_keep_text_max),
        cmocka_unit_test(test_intake_chunks_as_processing),
        cmocka_unit_test(test_field_bounds),
        cmocka_unit_test(test_processing_stops_on_xml_fault),
        cmocka_unit_test(test_intake_ok),
        cmocka_unit_test(test_intake_schema),
        cmocka_unit_test(test_long_text_runs),
        cmocka_unit_test(test_intake_xml),
        cmocka_unit_test(test_utf16),
        cmocka_unit_test(test_utf16_one_byte_reads),
        cmocka_unit_test(test_too_many),
        cmocka_unit_test(test_xml_vs_too_many),
        cmocka_unit_test(test_read_error),
        cmocka_unit_test(test_code_names),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
