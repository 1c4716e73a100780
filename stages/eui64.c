/* eui64.c - parse and format EUI-64 identifiers; see eui64.h. */
#include "eui64.h"

#include <string.h>

#include "hex.h"

/* eui64_parse - accept XX-XX-..-XX or 16 hex digits */
int eui64_parse(const char *s, size_t len, uint8_t out[8])
{
    int hyphens;
    if (len == 23)
        hyphens = 1;
    else if (len == 16)
        hyphens = 0;
    else
        return -1;
    for (int i = 0; i < 8; i++) {
        const char *p = s + (hyphens ? 3 * i : 2 * i);
        if (hex_decode(p, 1, &out[i]) != 0)
            return -1;
        if (hyphens && i < 7 && p[2] != '-')
            return -1;
    }
    return 0;
}

/* eui64_is_valid - reject the all-zeros and all-ones values */
int eui64_is_valid(const uint8_t id[8])
{
    static const uint8_t zeros[8], ones[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    return memcmp(id, zeros, 8) != 0 && memcmp(id, ones, 8) != 0;
}

/* eui64_format - canonical upper-case hyphenated text */
void eui64_format(const uint8_t id[8], char *out)
{
    for (int i = 0; i < 8; i++) {
        hex_upper(&id[i], 1, out + 3 * i);   /* its NUL becomes the hyphen */
        out[3 * i + 2] = i < 7 ? '-' : '\0';
    }
}

/* eui64_hex16 - 16 hex digits without separators */
void eui64_hex16(const uint8_t id[8], char *out)
{
    hex_upper(id, 8, out);
}
