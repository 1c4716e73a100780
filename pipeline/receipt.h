/* receipt.h - the synchronous answer to every taken file (SPEC.md 3.2),
 * published atomically as spool/receipts/STEM.receipt.xml.
 * Accepted receipts carry Turn, ScheduledNight and RetrieveNotBefore;
 * Rejected ones carry ErrorCode and ErrorText and never the schedule.
 * Every receipt validates against schemas/batched-csr-receipt.xsd.
 */
#ifndef SMKI_RECEIPT_H
#define SMKI_RECEIPT_H

#include <stdint.h>
#include <time.h>

#include "parse.h"

struct receipt {
    const char *file;          /* STEM.xml as taken */
    int accepted;
    int have_party;
    uint8_t party[8];
    const char *batch_id;      /* NULL or "" when unknown */
    int have_count;
    uint64_t csr_count;
    uint64_t turn;             /* accepted only */
    time_t received_at;
    const char *scheduled_night;
    time_t retrieve_not_before;
    enum batch_code code;      /* rejected only */
    const char *error_text;
};

/* receipt_render - the document into buf; returns its length */
size_t receipt_render(const struct receipt *r, char *buf, size_t cap);

/* receipt_publish - write receipts_dir/STEM.receipt.xml atomically; 0 or -errno */
int receipt_publish(const char *receipts_dir, const char *stem, const struct receipt *r);

#endif
