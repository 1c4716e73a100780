/* eui64.h - EUI-64 device and party identifiers (SPEC.md section 3).
 *
 * Accepted spellings: "00-DB-12-34-56-78-90-A4" (hyphens, either case) or 16 hex
 * digits without hyphens, either case.  Canonical form: upper case with hyphens.
 * Pure functions; no allocation; safe from any thread.
 */
#ifndef SMKI_EUI64_H
#define SMKI_EUI64_H

#include <stddef.h>
#include <stdint.h>

#define EUI64_TEXT_LEN 23   /* canonical length, without the NUL */

/* eui64_parse - decode s[0..len) into 8 octets; 0 on success, -1 if malformed.
 * Syntax only: all-zero and all-ones values parse (see eui64_is_valid). */
int eui64_parse(const char *s, size_t len, uint8_t out[8]);

/* eui64_is_valid - syntax ok and neither all zeros nor all ones */
int eui64_is_valid(const uint8_t id[8]);

/* eui64_format - canonical text into out (at least EUI64_TEXT_LEN + 1 bytes) */
void eui64_format(const uint8_t id[8], char *out);

/* eui64_hex16 - 16 upper-case hex digits, no hyphens (store keys, file names) */
void eui64_hex16(const uint8_t id[8], char *out /* 17 bytes */);

#endif
