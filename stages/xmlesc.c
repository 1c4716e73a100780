/* xmlesc.c - escaping for written XML; see xmlesc.h. */
#include "xmlesc.h"

#include <string.h>

/* utf8_len - length of the valid UTF-8 sequence at s, or 0 */
static size_t utf8_len(const unsigned char *s)
{
    size_t n;
    unsigned int cp;
    if (s[0] < 0x80) return 1;
    else if ((s[0] & 0xE0) == 0xC0) { n = 2; cp = s[0] & 0x1F; }
    else if ((s[0] & 0xF0) == 0xE0) { n = 3; cp = s[0] & 0x0F; }
    else if ((s[0] & 0xF8) == 0xF0) { n = 4; cp = s[0] & 0x07; }
    else return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF)
        return 0;
    return n;
}

size_t xml_escape(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    const unsigned char *u = (const unsigned char *)s;
    if (cap == 0) return 0;
    while (*u) {
        const char *rep;
        size_t n = 1;
        char one[2] = {0, 0};
        switch (*u) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        default:
            if (*u >= 0x80) {
                n = utf8_len(u);
                if (n) {                       /* valid UTF-8: kept as it is */
                    if (o + n + 1 > cap) goto done;
                    memcpy(out + o, u, n);
                    o += n;
                    u += n;
                    continue;
                }
                n = 1;
                one[0] = '?';
            } else {
                one[0] = (*u < 0x20 && *u != '\t') || *u == 0x7f ? '?' : (char)*u;
            }
            rep = one;
        }
        size_t len = strlen(rep);
        if (o + len + 1 > cap) break;
        memcpy(out + o, rep, len);
        o += len;
        u += n;
    }
done:
    out[o] = '\0';
    return o;
}
