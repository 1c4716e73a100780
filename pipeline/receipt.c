/* receipt.c - render and publish receipts; see receipt.h. */
#include "receipt.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "eui64.h"
#include "fsutil.h"
#include "xmlesc.h"

size_t receipt_render(const struct receipt *r, char *buf, size_t cap)
{
    char esc[1024], t1[RFC3339_LEN + 1];
    size_t n = 0;
#define OUT(...) do { if (n < cap) n += (size_t)snprintf(buf + n, cap - n, __VA_ARGS__); } while (0)
    OUT("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    OUT("<BatchedCSRReceipt xmlns=\"urn:smki:batched-csr:1\">\n");
    xml_escape(r->file, esc, sizeof esc);
    OUT("  <File>%s</File>\n", esc);
    OUT("  <Status>%s</Status>\n", r->accepted ? "Accepted" : "Rejected");
    if (r->have_party) {
        char id[EUI64_TEXT_LEN + 1];
        eui64_format(r->party, id);
        OUT("  <PartyID>%s</PartyID>\n", id);
    }
    if (r->batch_id && *r->batch_id) {
        xml_escape(r->batch_id, esc, sizeof esc);
        OUT("  <BatchID>%s</BatchID>\n", esc);
    }
    if (r->have_count) OUT("  <CSRCount>%" PRIu64 "</CSRCount>\n", r->csr_count);
    if (r->accepted) OUT("  <Turn>%" PRIu64 "</Turn>\n", r->turn);
    clock_format(r->received_at, t1);
    OUT("  <ReceivedAt>%s</ReceivedAt>\n", t1);
    if (r->accepted) {
        OUT("  <ScheduledNight>%s</ScheduledNight>\n", r->scheduled_night);
        clock_format(r->retrieve_not_before, t1);
        OUT("  <RetrieveNotBefore>%s</RetrieveNotBefore>\n", t1);
    } else {
        OUT("  <ErrorCode>%s</ErrorCode>\n", batch_code_name(r->code));
        xml_escape(r->error_text ? r->error_text : "", esc, sizeof esc);
        OUT("  <ErrorText>%s</ErrorText>\n", esc);
    }
    OUT("</BatchedCSRReceipt>\n");
#undef OUT
    return n < cap ? n : cap - 1;
}

int receipt_publish(const char *receipts_dir, const char *stem, const struct receipt *r)
{
    char buf[4096], name[300];
    size_t n = receipt_render(r, buf, sizeof buf);
    snprintf(name, sizeof name, "%s.receipt.xml", stem);
    return fs_write_atomic(receipts_dir, name, buf, n, 0644);
}
