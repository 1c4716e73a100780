/* respwrite.c - response XML from preformatted pieces; see respwrite.h. */
#include "respwrite.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "eui64.h"
#include "hex.h"
#include "xmem.h"
#include "xmlesc.h"

void resp_buf_reset(struct resp_buf *b) { b->len = 0; }

void resp_buf_free(struct resp_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* reserve - room for n more bytes */
static char *reserve(struct resp_buf *b, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (b->len + n + 1 > cap) cap *= 2;
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
    }
    return b->data + b->len;
}

static void put(struct resp_buf *b, const char *s, size_t n)
{
    memcpy(reserve(b, n), s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void resp_buf_append(struct resp_buf *b, const char *s, size_t n)
{
    put(b, s, n);
}

#define PUTS(b, lit) put((b), (lit), sizeof(lit) - 1)

static void putf(struct resp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct resp_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void put_escaped(struct resp_buf *b, const char *s)
{
    char esc[6 * 256 + 1];
    size_t n = xml_escape(s, esc, sizeof esc);
    put(b, esc, n);
}

void resp_serial_hex(const uint8_t serial[16], char out[33])
{
    hex_upper(serial, 16, out);
}

static void put_time(struct resp_buf *b, const char *tag, time_t t)
{
    struct tm tm;
    char s[32];
    gmtime_r(&t, &tm);
    strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    putf(b, "<%s>%s</%s>", tag, s, tag);
}

void resp_render_header(struct resp_buf *b, const struct resp_header *h)
{
    char party[EUI64_TEXT_LEN + 1];
    eui64_format(h->party, party);
    PUTS(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<BatchedCSRResponse xmlns=\"urn:smki:batched-csr:1\">\n  <Header>\n    <BatchID>");
    put_escaped(b, h->batch_id);
    putf(b, "</BatchID>\n    <PartyID>%s</PartyID>\n    <Turn>%" PRIu64 "</Turn>\n    ", party, h->turn);
    put_time(b, "ReceivedAt", h->received_at);
    PUTS(b, "\n    ");
    put_time(b, "CompletedAt", h->completed_at);
    putf(b, "\n    <Issued>%u</Issued>\n    <Rejected>%u</Rejected>\n  </Header>\n  <Results>\n",
         h->issued, h->rejected);
}

void resp_render_chunk(struct resp_buf *b, const struct chunk *c, uint32_t *issued, uint32_t *rejected)
{
    for (uint32_t i = 0; i < c->n; i++) {
        const struct request *r = &c->req[i];
        PUTS(b, "    <Result><RequestID>");
        put(b, r->request_id, strlen(r->request_id));
        PUTS(b, "</RequestID><DeviceID>");
        if (r->code == RC_DEVICE_ID) {
            put_escaped(b, r->device_text);
        } else {
            char dev[EUI64_TEXT_LEN + 1];
            eui64_format(r->device, dev);
            put(b, dev, EUI64_TEXT_LEN);
        }
        PUTS(b, "</DeviceID><CertificateUsage>");
        if (r->code == RC_DEVICE_ID || r->code == RC_USAGE) put_escaped(b, r->usage_text);
        else if (r->usage == USAGE_DS) PUTS(b, "DS");
        else PUTS(b, "KA");
        if (r->code == RC_OK) {
            char serial[33];
            resp_serial_hex(r->serial, serial);
            PUTS(b, "</CertificateUsage><Status>Issued</Status><CertificateSerial>");
            put(b, serial, 32);
            PUTS(b, "</CertificateSerial><CertificateBody>");
            char *p = reserve(b, B64_ENCODED_LEN(r->cert_len));
            ptrdiff_t n = b64_encode(r->cert, r->cert_len, p, B64_ENCODED_LEN(r->cert_len) + 1);
            b->len += (size_t)(n > 0 ? n : 0);
            PUTS(b, "</CertificateBody></Result>\n");
            (*issued)++;
        } else {
            PUTS(b, "</CertificateUsage><Status>Rejected</Status><ErrorCode>");
            const char *code = req_code_name(r->code);
            put(b, code, strlen(code));
            PUTS(b, "</ErrorCode><ErrorText>");
            put_escaped(b, r->errtext);
            PUTS(b, "</ErrorText></Result>\n");
            (*rejected)++;
        }
    }
}

void resp_render_footer(struct resp_buf *b)
{
    PUTS(b, "  </Results>\n</BatchedCSRResponse>\n");
}
