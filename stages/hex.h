/* hex.h - octets as hexadecimal text and back: the serials, DeviceIDs and
 * key hashes of store keys, responses, audit entries and the command line
 * all use these two.  Pure functions, safe from any thread. */
#ifndef SMKI_HEX_H
#define SMKI_HEX_H

#include <stddef.h>
#include <stdint.h>

/* hex_upper - the n octets as 2n upper-case hex digits, then a NUL
 * (out holds 2n + 1) */
void hex_upper(const uint8_t *in, size_t n, char *out);

/* hex_decode - exactly 2n hex digits (either case; nothing else, not even
 * a sign or a space) into n octets; 0, or -1 (out may be partly written) */
int hex_decode(const char *in, size_t n, uint8_t *out);

#endif
