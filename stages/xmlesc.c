/* xmlesc.c - escaping for written XML; see xmlesc.h. */
#include "xmlesc.h"

#include <string.h>

size_t xml_escape(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    if (cap == 0) return 0;
    for (; *s; s++) {
        const char *rep;
        char one[2] = {0, 0};
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        default:
            one[0] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
            rep = one;
        }
        size_t n = strlen(rep);
        if (o + n + 1 > cap) break;
        memcpy(out + o, rep, n);
        o += n;
    }
    out[o] = '\0';
    return o;
}
