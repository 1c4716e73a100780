/* b64.c - strict base64 decode and encode without allocation; see b64.h. */
#include "b64.h"

/* Character classes: B_BAD (0, the default), B_WS, B_PAD, or B_SYM | value
 * for the 64 alphabet characters. */
enum { B_BAD = 0x00, B_WS = 0x40, B_PAD = 0x41, B_SYM = 0x80 };

#define S(v) (B_SYM | (v))
static const uint8_t DEC[256] = {
    [' '] = B_WS, ['\t'] = B_WS, ['\r'] = B_WS, ['\n'] = B_WS, ['='] = B_PAD,
    ['A'] = S(0),  ['B'] = S(1),  ['C'] = S(2),  ['D'] = S(3),  ['E'] = S(4),  ['F'] = S(5),
    ['G'] = S(6),  ['H'] = S(7),  ['I'] = S(8),  ['J'] = S(9),  ['K'] = S(10), ['L'] = S(11),
    ['M'] = S(12), ['N'] = S(13), ['O'] = S(14), ['P'] = S(15), ['Q'] = S(16), ['R'] = S(17),
    ['S'] = S(18), ['T'] = S(19), ['U'] = S(20), ['V'] = S(21), ['W'] = S(22), ['X'] = S(23),
    ['Y'] = S(24), ['Z'] = S(25), ['a'] = S(26), ['b'] = S(27), ['c'] = S(28), ['d'] = S(29),
    ['e'] = S(30), ['f'] = S(31), ['g'] = S(32), ['h'] = S(33), ['i'] = S(34), ['j'] = S(35),
    ['k'] = S(36), ['l'] = S(37), ['m'] = S(38), ['n'] = S(39), ['o'] = S(40), ['p'] = S(41),
    ['q'] = S(42), ['r'] = S(43), ['s'] = S(44), ['t'] = S(45), ['u'] = S(46), ['v'] = S(47),
    ['w'] = S(48), ['x'] = S(49), ['y'] = S(50), ['z'] = S(51), ['0'] = S(52), ['1'] = S(53),
    ['2'] = S(54), ['3'] = S(55), ['4'] = S(56), ['5'] = S(57), ['6'] = S(58), ['7'] = S(59),
    ['8'] = S(60), ['9'] = S(61), ['+'] = S(62), ['/'] = S(63),
};
#undef S

static const char ENC[65] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static const char NO_ROOM[] = "decoded data larger than the buffer";

/* fail - record an error position and reason */
static ptrdiff_t fail(struct b64_err *err, size_t pos, const char *why)
{
    if (err) {
        err->pos = pos;
        err->why = why;
        err->no_room = why == NO_ROOM;
    }
    return -1;
}

/* b64_decode - strict decode, whitespace ignored */
ptrdiff_t b64_decode(const char *in, size_t inlen, uint8_t *out, size_t outcap,
                     struct b64_err *err)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0, o = 0;
    uint32_t q[4] = {0};
    size_t qpos[4] = {0};
    int n = 0;       /* characters of the current quantum */

    for (;;) {
        /* fast path: four alphabet characters in a row, at a quantum start */
        while (n == 0 && inlen - i >= 4) {
            uint32_t a = DEC[s[i]], b = DEC[s[i + 1]], c = DEC[s[i + 2]], d = DEC[s[i + 3]];
            if (!(a & b & c & d & B_SYM))
                break;
            a &= 63, b &= 63, c &= 63, d &= 63;
            if (outcap - o < 3)
                return fail(err, i, NO_ROOM);
            uint32_t v = a << 18 | b << 12 | c << 6 | d;
            out[o] = (uint8_t)(v >> 16);
            out[o + 1] = (uint8_t)(v >> 8);
            out[o + 2] = (uint8_t)v;
            o += 3;
            i += 4;
        }
        if (i >= inlen)
            break;
        uint8_t k = DEC[s[i]];
        if (k == B_WS) {
            i++;
            continue;
        }
        if (k == B_BAD)
            return fail(err, i, "invalid character");
        if (k == B_PAD) {
            /* padding: only at the 3rd or 4th place of the last quantum */
            if (n < 2)
                return fail(err, i, "misplaced padding");
            int pads = 1;
            i++;
            if (n == 2) {
                while (i < inlen && DEC[s[i]] == B_WS)
                    i++;
                if (i >= inlen)
                    return fail(err, inlen, "incomplete padding");
                if (DEC[s[i]] != B_PAD)
                    return fail(err, i, "incomplete padding");
                pads = 2;
                i++;
            }
            for (; i < inlen; i++)
                if (DEC[s[i]] != B_WS)
                    return fail(err, i, "data after padding");
            if (pads == 2) {
                if (q[1] & 0x0f)
                    return fail(err, qpos[1], "non-zero padding bits");
                if (outcap - o < 1)
                    return fail(err, qpos[0], NO_ROOM);
                out[o++] = (uint8_t)(q[0] << 2 | q[1] >> 4);
            } else {
                if (q[2] & 0x03)
                    return fail(err, qpos[2], "non-zero padding bits");
                if (outcap - o < 2)
                    return fail(err, qpos[0], NO_ROOM);
                out[o++] = (uint8_t)(q[0] << 2 | q[1] >> 4);
                out[o++] = (uint8_t)(q[1] << 4 | q[2] >> 2);
            }
            return (ptrdiff_t)o;
        }
        q[n] = k & 63;
        qpos[n] = i;
        i++;
        if (++n == 4) {
            if (outcap - o < 3)
                return fail(err, qpos[0], NO_ROOM);
            out[o] = (uint8_t)(q[0] << 2 | q[1] >> 4);
            out[o + 1] = (uint8_t)(q[1] << 4 | q[2] >> 2);
            out[o + 2] = (uint8_t)(q[2] << 6 | q[3]);
            o += 3;
            n = 0;
        }
    }
    if (n != 0)
        return fail(err, inlen, "missing padding");
    return (ptrdiff_t)o;
}

/* b64_encode - one unbroken line with padding */
ptrdiff_t b64_encode(const uint8_t *in, size_t inlen, char *out, size_t outcap)
{
    size_t need = B64_ENCODED_LEN(inlen), i = 0, o = 0;
    if (outcap < need)
        return -1;
    for (; inlen - i >= 3; i += 3, o += 4) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o] = ENC[v >> 18];
        out[o + 1] = ENC[(v >> 12) & 63];
        out[o + 2] = ENC[(v >> 6) & 63];
        out[o + 3] = ENC[v & 63];
    }
    if (inlen - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o] = ENC[v >> 18];
        out[o + 1] = ENC[(v >> 12) & 63];
        out[o + 2] = '=';
        out[o + 3] = '=';
    } else if (inlen - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o] = ENC[v >> 18];
        out[o + 1] = ENC[(v >> 12) & 63];
        out[o + 2] = ENC[(v >> 6) & 63];
        out[o + 3] = '=';
    }
    return (ptrdiff_t)need;
}
