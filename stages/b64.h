/* b64.h - strict base64 (RFC 4648 section 4, standard alphabet) without
 * allocation: the caller owns every buffer.
 *
 * Decoding is strict: padding is required and must be right ("xx==", "xxx="
 * only in the last quantum, nothing but whitespace after it), the unused low
 * bits before the padding must be zero (so every byte string has exactly one
 * accepted encoding, apart from whitespace), and any character outside the
 * alphabet is an error.  XML whitespace (space, tab, CR, LF) is ignored
 * anywhere, as in an XML element's text.  Empty input decodes to 0 octets.
 *
 * Encoding writes one unbroken line, with padding, and no NUL.
 * Pure functions; safe from any thread.
 */
#ifndef SMKI_B64_H
#define SMKI_B64_H

#include <stddef.h>
#include <stdint.h>

/* B64_ENCODED_LEN - characters b64_encode writes for n octets */
#define B64_ENCODED_LEN(n) ((((size_t)(n) + 2) / 3) * 4)
/* B64_DECODED_MAX - an upper bound of the octets n characters decode to */
#define B64_DECODED_MAX(n) (((size_t)(n) / 4) * 3)

/* Why a decode failed, and where. */
struct b64_err {
    size_t pos;        /* 0-based index in the input of the offending character
                          (inlen when the input ended too early) */
    const char *why;   /* static ASCII phrase, e.g. "invalid character" */
    int no_room;       /* 1: the input was fine so far but out is too small */
};

/* b64_decode - decode in[0..inlen) into out[0..outcap).  Returns the number of
 * octets written, or -1 on invalid input or when out is too small (err, if
 * not NULL, says why and where; out's content is then unspecified).
 * outcap >= B64_DECODED_MAX(inlen) always suffices. */
ptrdiff_t b64_decode(const char *in, size_t inlen, uint8_t *out, size_t outcap,
                     struct b64_err *err);

/* b64_encode - encode in[0..inlen) into out[0..outcap) without line breaks
 * and without a NUL.  Returns B64_ENCODED_LEN(inlen), or -1 (nothing
 * written) when outcap is smaller than that. */
ptrdiff_t b64_encode(const uint8_t *in, size_t inlen, char *out, size_t outcap);

#endif
