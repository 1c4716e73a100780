/* respwrite.h - the write stage's text: the response document of SPEC.md
 * 3.3 rendered from preformatted pieces.  One Result per request, in
 * request order (the caller hands chunks in sequence order).
 *
 * Ownership: struct resp_buf is the caller's growable buffer, reused from
 * chunk to chunk (reset, never freed in between); rendering appends to it.
 * DeviceID is echoed canonical when valid, else escaped as written; every
 * echoed value is escaped (xmlesc.h).  Pure formatting: no I/O, no threads.
 */
#ifndef SMKI_RESPWRITE_H
#define SMKI_RESPWRITE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "request.h"

struct resp_buf {
    char *data;
    size_t len, cap;
};

void resp_buf_reset(struct resp_buf *b);
/* resp_buf_append - raw bytes */
void resp_buf_append(struct resp_buf *b, const char *s, size_t n);
void resp_buf_free(struct resp_buf *b);

struct resp_header {
    const char *batch_id;
    uint8_t party[8];
    uint64_t turn;
    time_t received_at, completed_at;
    uint32_t issued, rejected;
};

/* resp_render_header - XML declaration up to and including <Results> */
void resp_render_header(struct resp_buf *b, const struct resp_header *h);

/* resp_render_chunk - the Results of every request of c; counts added */
void resp_render_chunk(struct resp_buf *b, const struct chunk *c, uint32_t *issued, uint32_t *rejected);

/* resp_render_footer - </Results></BatchedCSRResponse> */
void resp_render_footer(struct resp_buf *b);

/* resp_serial_hex - 32 upper-case hex digits (+ NUL) */
void resp_serial_hex(const uint8_t serial[16], char out[33]);

#endif
