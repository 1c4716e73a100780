/* test_respwrite.c - unit tests of the response renderer (stages/respwrite.c),
 * SPEC.md 3.3: header fields, one Result per request (issued: serial hex and
 * base64 certificate; rejected: code name and escaped text), DeviceID echoed
 * canonical when valid and as written (escaped) for E_DEVICE_ID, counts
 * added, and the whole document valid against the response XSD.  The
 * rendered document is read back with libxml2, so escaping is checked by
 * what a client would read, not by string matching alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <openssl/evp.h>

#include "testutil.h"

#include "eui64.h"
#include "respwrite.h"

#define XSD "schemas/batched-csr-response.xsd"
#define NS "urn:smki:batched-csr:1"

static xmlSchemaPtr g_schema;

static int group_setup(void **state)
{
    (void)state;
    xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(XSD);
    g_schema = pc ? xmlSchemaParse(pc) : NULL;
    if (pc) xmlSchemaFreeParserCtxt(pc);
    if (!g_schema) {
        print_error("cannot load %s (run from the repository root)\n", XSD);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    xmlSchemaFree(g_schema);
    return 0;
}

/* ---- reading the rendered document back ---- */

struct doc {
    xmlDocPtr doc;
    xmlXPathContextPtr xp;
};

static void doc_open(struct doc *d, const struct resp_buf *b)
{
    d->doc = xmlReadMemory(b->data, (int)b->len, "response.xml", NULL, XML_PARSE_NONET);
    if (!d->doc) fail_msg("the rendered response is not well-formed XML:\n%s", b->data);
    d->xp = xmlXPathNewContext(d->doc);
    xmlXPathRegisterNs(d->xp, BAD_CAST "b", BAD_CAST NS);
}

static void doc_close(struct doc *d)
{
    xmlXPathFreeContext(d->xp);
    xmlFreeDoc(d->doc);
}

/* doc_text - string value of an XPath expression (static buffer) */
static const char *doc_text(struct doc *d, const char *expr)
{
    static char out[8192];
    xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, d->xp);
    if (!o) fail_msg("xpath %s", expr);
    xmlChar *s = xmlXPathCastToString(o);
    snprintf(out, sizeof out, "%s", (const char *)s);
    xmlFree(s);
    xmlXPathFreeObject(o);
    return out;
}

static double doc_num(struct doc *d, const char *expr)
{
    xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, d->xp);
    double v = xmlXPathCastToNumber(o);
    xmlXPathFreeObject(o);
    return v;
}

/* validate - against the response XSD; the first error in msg */
static void on_schema_err(void *arg, xmlErrorPtr e)
{
    char *msg = arg;
    if (!msg[0] && e) snprintf(msg, 512, "line %d: %s", e->line, e->message ? e->message : "?");
}

static int validate(struct doc *d, char msg[512])
{
    msg[0] = '\0';
    xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(g_schema);
    xmlSchemaSetValidStructuredErrors(vc, on_schema_err, msg);
    int rc = xmlSchemaValidateDoc(vc, d->doc);
    xmlSchemaFreeValidCtxt(vc);
    return rc;
}

/* ---- fixtures ---- */

static const uint8_t PARTY[8] = {0x90, 0xB3, 0xD5, 0x1F, 0x30, 0x01, 0x00, 0x00};

static void set_device(struct request *r, const char *text)
{
    snprintf(r->device_text, sizeof r->device_text, "%s", text);
    if (eui64_parse(text, strlen(text), r->device) != 0) memset(r->device, 0, 8);
}

static void mk_cert(struct request *r, int seed, uint16_t len)
{
    r->cert_len = len;
    for (uint16_t i = 0; i < len; i++) r->cert[i] = (uint8_t)(seed * 13 + i * 7);
    r->cert[0] = 0x30;
    for (int i = 0; i < 16; i++) r->serial[i] = (uint8_t)(seed * 31 + i * 17);
    r->serial[0] = (uint8_t)(0x4A ^ (seed & 0x0F));   /* top bit clear, non-zero */
}

/* b64 - reference encoding (OpenSSL) */
static char *b64(const uint8_t *in, size_t n)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    return out;
}

/* mixed_chunk - issued, rejected with hostile text, E_DEVICE_ID, E_USAGE,
 * a valid device written lower case without hyphens, E_INTERNAL */
static struct chunk *mixed_chunk(void)
{
    struct chunk *c = chunk_new(8);
    c->n = 7;
    struct request *r;

    r = &c->req[0];   /* issued, DS */
    strcpy(r->request_id, "1");
    set_device(r, "00-DB-12-34-56-78-90-A4");
    strcpy(r->usage_text, "DS");
    r->usage = USAGE_DS;
    r->code = RC_OK;
    mk_cert(r, 1, 517);

    r = &c->req[1];   /* rejected, errtext with < & " > */
    strcpy(r->request_id, "2");
    set_device(r, "00-DB-12-34-56-78-90-A5");
    strcpy(r->usage_text, "KA");
    r->usage = USAGE_KA;
    r->code = RC_CSR_SIGNATURE;
    strcpy(r->errtext, "signature <bad> & \"wrong\" key's");

    r = &c->req[2];   /* E_DEVICE_ID: echoed as written, escaped */
    strcpy(r->request_id, "3");
    snprintf(r->device_text, sizeof r->device_text, "%s", "00-DB<&>\"x");
    strcpy(r->usage_text, "D<S");
    r->code = RC_DEVICE_ID;
    strcpy(r->errtext, "not a valid EUI-64: 00-DB<&>\"x");

    r = &c->req[3];   /* valid device, other spelling: echoed canonical; issued KA */
    strcpy(r->request_id, "40");
    set_device(r, "00db1234567890a6");
    strcpy(r->usage_text, "KA");
    r->usage = USAGE_KA;
    r->code = RC_OK;
    mk_cert(r, 4, 3);   /* a tiny certificate: base64 with no padding */

    r = &c->req[4];   /* E_USAGE: usage as written */
    strcpy(r->request_id, "5");
    set_device(r, "00-DB-12-34-56-78-90-A7");
    strcpy(r->usage_text, "XX&");
    r->code = RC_USAGE;
    strcpy(r->errtext, "usage must be DS or KA");

    r = &c->req[5];   /* all-zero EUI-64 as written with hyphens: E_DEVICE_ID */
    strcpy(r->request_id, "6");
    set_device(r, "00-00-00-00-00-00-00-00");
    strcpy(r->usage_text, "DS");
    r->code = RC_DEVICE_ID;
    strcpy(r->errtext, "all zeros \xC3\xA9");   /* non-ASCII in a reason */

    r = &c->req[6];   /* E_INTERNAL */
    strcpy(r->request_id, "7");
    set_device(r, "00-DB-12-34-56-78-90-A8");
    strcpy(r->usage_text, "DS");
    r->usage = USAGE_DS;
    r->code = RC_INTERNAL;
    strcpy(r->errtext, "the signer failed");
    return c;
}

static void mk_header(struct resp_header *h, const char *batch_id)
{
    memset(h, 0, sizeof *h);
    h->batch_id = batch_id;
    memcpy(h->party, PARTY, 8);
    h->turn = 42;
    h->received_at = 1795375800;    /* 2026-11-22T19:30:00Z */
    h->completed_at = 1795435200;   /* 2026-11-23T12:00:00Z */
    h->issued = 2;
    h->rejected = 5;
}

/* test_serial_hex - 32 upper-case digits */
static void test_serial_hex(void **state)
{
    (void)state;
    const uint8_t s[16] = {0x4A, 0x07, 0xBC, 0x01, 0xD9, 0x25, 0x3B, 0x51, 0xFA, 0xF0, 0x1F, 0x7E, 0xC7, 0xDA, 0x5B, 0x2F};
    char out[33];
    memset(out, 'x', sizeof out);
    resp_serial_hex(s, out);
    assert_string_equal(out, "4A07BC01D9253B51FAF01F7EC7DA5B2F");
    const uint8_t z[16] = {0};
    resp_serial_hex(z, out);
    assert_string_equal(out, "00000000000000000000000000000000");
}

/* test_header - every header field, escaped BatchID */
static void test_header(void **state)
{
    (void)state;
    struct resp_buf b = {0};
    struct resp_header h;
    mk_header(&h, "ACME-20261122-0001");
    resp_render_header(&b, &h);
    assert_int_equal(strlen(b.data), b.len);
    tu_assert_contains(b.data, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    tu_assert_contains(b.data, "<BatchedCSRResponse xmlns=\"urn:smki:batched-csr:1\">");
    tu_assert_contains(b.data, "<BatchID>ACME-20261122-0001</BatchID>");
    tu_assert_contains(b.data, "<PartyID>90-B3-D5-1F-30-01-00-00</PartyID>");
    tu_assert_contains(b.data, "<Turn>42</Turn>");
    tu_assert_contains(b.data, "<ReceivedAt>2026-11-22T19:30:00Z</ReceivedAt>");
    tu_assert_contains(b.data, "<CompletedAt>2026-11-23T12:00:00Z</CompletedAt>");
    tu_assert_contains(b.data, "<Issued>2</Issued>");
    tu_assert_contains(b.data, "<Rejected>5</Rejected>");
    /* ends with the opening of Results */
    const char *tail = "<Results>\n";
    assert_true(b.len >= strlen(tail));
    assert_string_equal(b.data + b.len - strlen(tail), tail);
    resp_render_footer(&b);
    struct doc d;
    doc_open(&d, &b);
    assert_string_equal(doc_text(&d, "string(/b:BatchedCSRResponse/b:Header/b:BatchID)"), "ACME-20261122-0001");
    assert_true(doc_num(&d, "count(//b:Result)") == 0);
    char msg[512];
    if (validate(&d, msg) != 0) fail_msg("empty response invalid: %s\n%s", msg, b.data);
    doc_close(&d);

    /* a hostile batch id is escaped, and reads back as written */
    resp_buf_reset(&b);
    assert_int_equal(b.len, 0);
    mk_header(&h, "A&B<C>\"D");
    h.turn = 18446744073709551615ULL;
    resp_render_header(&b, &h);
    resp_render_footer(&b);
    doc_open(&d, &b);
    assert_string_equal(doc_text(&d, "string(//b:Header/b:BatchID)"), "A&B<C>\"D");
    assert_string_equal(doc_text(&d, "string(//b:Header/b:Turn)"), "18446744073709551615");
    doc_close(&d);
    resp_buf_free(&b);
    assert_null(b.data);
}

/* test_chunk - each Result, read back */
static void test_chunk(void **state)
{
    (void)state;
    struct resp_buf b = {0};
    struct resp_header h;
    mk_header(&h, "ACME-20261122-0001");
    resp_render_header(&b, &h);
    struct chunk *c = mixed_chunk();
    uint32_t issued = 10, rejected = 20;   /* counts are ADDED */
    resp_render_chunk(&b, c, &issued, &rejected);
    assert_int_equal(issued, 12);
    assert_int_equal(rejected, 25);
    resp_render_footer(&b);
    assert_int_equal(strlen(b.data), b.len);

    struct doc d;
    doc_open(&d, &b);
    assert_true(doc_num(&d, "count(//b:Result)") == 7);
    /* 1: issued */
    char *want_b64 = b64(c->req[0].cert, c->req[0].cert_len);
    char serial[33];
    resp_serial_hex(c->req[0].serial, serial);
    assert_string_equal(doc_text(&d, "string(//b:Result[1]/b:RequestID)"), "1");
    assert_string_equal(doc_text(&d, "string(//b:Result[1]/b:DeviceID)"), "00-DB-12-34-56-78-90-A4");
    assert_string_equal(doc_text(&d, "string(//b:Result[1]/b:CertificateUsage)"), "DS");
    assert_string_equal(doc_text(&d, "string(//b:Result[1]/b:Status)"), "Issued");
    assert_string_equal(doc_text(&d, "string(//b:Result[1]/b:CertificateSerial)"), serial);
    assert_string_equal(doc_text(&d, "string(//b:Result[1]/b:CertificateBody)"), want_b64);
    assert_true(doc_num(&d, "count(//b:Result[1]/b:ErrorCode)") == 0);
    free(want_b64);
    /* 2: rejected, hostile reason read back intact */
    assert_string_equal(doc_text(&d, "string(//b:Result[2]/b:Status)"), "Rejected");
    assert_string_equal(doc_text(&d, "string(//b:Result[2]/b:ErrorCode)"), "E_CSR_SIGNATURE");
    assert_string_equal(doc_text(&d, "string(//b:Result[2]/b:ErrorText)"), "signature <bad> & \"wrong\" key's");
    assert_string_equal(doc_text(&d, "string(//b:Result[2]/b:CertificateUsage)"), "KA");
    assert_true(doc_num(&d, "count(//b:Result[2]/b:CertificateSerial)") == 0);
    /* 3: E_DEVICE_ID: DeviceID and usage as written */
    assert_string_equal(doc_text(&d, "string(//b:Result[3]/b:DeviceID)"), "00-DB<&>\"x");
    assert_string_equal(doc_text(&d, "string(//b:Result[3]/b:CertificateUsage)"), "D<S");
    assert_string_equal(doc_text(&d, "string(//b:Result[3]/b:ErrorCode)"), "E_DEVICE_ID");
    /* 4: valid device in another spelling: canonical */
    assert_string_equal(doc_text(&d, "string(//b:Result[4]/b:RequestID)"), "40");
    assert_string_equal(doc_text(&d, "string(//b:Result[4]/b:DeviceID)"), "00-DB-12-34-56-78-90-A6");
    assert_string_equal(doc_text(&d, "string(//b:Result[4]/b:CertificateUsage)"), "KA");
    want_b64 = b64(c->req[3].cert, c->req[3].cert_len);
    assert_string_equal(doc_text(&d, "string(//b:Result[4]/b:CertificateBody)"), want_b64);
    free(want_b64);
    /* 5: E_USAGE: device canonical, usage as written */
    assert_string_equal(doc_text(&d, "string(//b:Result[5]/b:DeviceID)"), "00-DB-12-34-56-78-90-A7");
    assert_string_equal(doc_text(&d, "string(//b:Result[5]/b:CertificateUsage)"), "XX&");
    assert_string_equal(doc_text(&d, "string(//b:Result[5]/b:ErrorCode)"), "E_USAGE");
    /* 6: all-zero device as written; valid UTF-8 kept (the document parsed) */
    assert_string_equal(doc_text(&d, "string(//b:Result[6]/b:DeviceID)"), "00-00-00-00-00-00-00-00");
    const char *t6 = doc_text(&d, "string(//b:Result[6]/b:ErrorText)");
    tu_assert_contains(t6, "all zeros ");
    /* 7: E_INTERNAL */
    assert_string_equal(doc_text(&d, "string(//b:Result[7]/b:ErrorCode)"), "E_INTERNAL");

    /* the raw text: escaped, never a bare '<' or '&' from a value */
    tu_assert_contains(b.data, "signature &lt;bad&gt; &amp; &quot;wrong&quot;");
    tu_assert_contains(b.data, "<DeviceID>00-DB&lt;&amp;&gt;&quot;x</DeviceID>");

    char msg[512];
    if (validate(&d, msg) != 0) fail_msg("response invalid against %s: %s\n%s", XSD, msg, b.data);
    doc_close(&d);
    chunk_free(c);
    resp_buf_free(&b);
}

/* test_many_chunks - header + several chunks + footer, in order, valid;
 * the buffer grows past its first allocation; reset reuses it */
static void test_many_chunks(void **state)
{
    (void)state;
    struct resp_buf b = {0};
    struct resp_header h;
    mk_header(&h, "BIG");
    char *first = NULL;
    size_t first_len = 0;
    for (int round = 0; round < 2; round++) {
        resp_buf_reset(&b);
        resp_render_header(&b, &h);
        uint32_t issued = 0, rejected = 0;
        uint32_t id = 1;
        for (int k = 0; k < 5; k++) {
            struct chunk *c = chunk_new(64);
            c->n = 64;
            for (uint32_t i = 0; i < c->n; i++, id++) {
                struct request *r = &c->req[i];
                memset(r, 0, sizeof *r);
                snprintf(r->request_id, sizeof r->request_id, "%u", id);
                const uint8_t dev[8] = {0x00, 0xDB, 0x12, 0x34, 0, 0, (uint8_t)(id >> 8), (uint8_t)id};
                memcpy(r->device, dev, 8);
                eui64_format(dev, r->device_text);
                r->usage = (id & 1) ? USAGE_KA : USAGE_DS;
                if (id % 3) {
                    r->code = RC_OK;
                    mk_cert(r, (int)id, 1000);
                } else {
                    r->code = RC_DUPLICATE_KEY;
                    strcpy(r->errtext, "this public key is already certified");
                }
            }
            resp_render_chunk(&b, c, &issued, &rejected);
            chunk_free(c);
        }
        resp_render_footer(&b);
        assert_int_equal(issued + rejected, 320);
        assert_int_equal(rejected, 320 / 3);
        assert_true(b.len > 65536);   /* grew past the first allocation */
        struct doc d;
        doc_open(&d, &b);
        assert_true(doc_num(&d, "count(//b:Result)") == 320);
        /* order: RequestID i is the i-th Result */
        assert_string_equal(doc_text(&d, "string(//b:Result[1]/b:RequestID)"), "1");
        assert_string_equal(doc_text(&d, "string(//b:Result[65]/b:RequestID)"), "65");
        assert_string_equal(doc_text(&d, "string(//b:Result[320]/b:RequestID)"), "320");
        char msg[512];
        if (validate(&d, msg) != 0) fail_msg("invalid: %s", msg);
        doc_close(&d);
        if (round == 0) {
            first = malloc(b.len + 1);
            memcpy(first, b.data, b.len + 1);
            first_len = b.len;
        } else {
            assert_int_equal(b.len, first_len);
            assert_memory_equal(b.data, first, first_len);
        }
    }
    free(first);
    resp_buf_free(&b);
}

/* test_long_values - fields at their bounds, every character escaped */
static void test_long_values(void **state)
{
    (void)state;
    struct resp_buf b = {0};
    struct resp_header h;
    char bid[65];
    memset(bid, '&', 64);
    bid[64] = '\0';
    mk_header(&h, bid);
    resp_render_header(&b, &h);
    struct chunk *c = chunk_new(2);
    c->n = 2;
    struct request *r = &c->req[0];
    memset(r, 0, sizeof *r);
    /* 24 digits: the longest xs:positiveInteger libxml2 accepts (intake
     * rejects a longer RequestID as E_SCHEMA, so none reaches a response) */
    memset(r->request_id, '9', 24);
    r->request_id[24] = '\0';
    memset(r->device_text, '<', REQ_DEVICE_MAX);
    r->device_text[REQ_DEVICE_MAX] = '\0';
    memset(r->usage_text, '"', REQ_USAGE_MAX);
    r->usage_text[REQ_USAGE_MAX] = '\0';
    r->code = RC_DEVICE_ID;
    memset(r->errtext, '&', REQ_ERR_MAX - 1);
    r->errtext[REQ_ERR_MAX - 1] = '\0';
    r = &c->req[1];
    memset(r, 0, sizeof *r);
    strcpy(r->request_id, "2");
    set_device(r, "00-DB-12-34-56-78-90-A4");
    r->code = RC_OK;
    mk_cert(r, 2, REQ_CERT_MAX);
    uint32_t issued = 0, rejected = 0;
    resp_render_chunk(&b, c, &issued, &rejected);
    resp_render_footer(&b);
    struct doc d;
    doc_open(&d, &b);
    assert_string_equal(doc_text(&d, "string(//b:Header/b:BatchID)"), bid);
    assert_string_equal(doc_text(&d, "string(//b:Result[1]/b:DeviceID)"), c->req[0].device_text);
    assert_string_equal(doc_text(&d, "string(//b:Result[1]/b:CertificateUsage)"), c->req[0].usage_text);
    assert_string_equal(doc_text(&d, "string(//b:Result[1]/b:ErrorText)"), c->req[0].errtext);
    char *want = b64(c->req[1].cert, REQ_CERT_MAX);
    assert_string_equal(doc_text(&d, "string(//b:Result[2]/b:CertificateBody)"), want);
    free(want);
    char msg[512];
    if (validate(&d, msg) != 0) fail_msg("invalid: %s", msg);
    doc_close(&d);
    chunk_free(c);
    resp_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serial_hex),
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_chunk),
        cmocka_unit_test(test_many_chunks),
        cmocka_unit_test(test_long_values),
    };
    int rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
    xmlCleanupParser();
    return rc;
}
