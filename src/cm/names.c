/*
 * src/cm/names.c - registry names: case-insensitive order, UTF-8 <-> UTF-16.
 *
 * Models: the registry compares names without regard to case (upcase table
 * of src/rtl: ASCII, Latin-1 and the other ranges rtl_upcase knows) and
 * keeps them in the case they were created with.
 * Invariants: cm_name_cmp is a total order consistent with equality of the
 * upcased strings, so sorted children can be binary-searched.
 * Not modelled: locale-specific case rules; unpaired surrogates are carried
 * through UTF-16 but rejected when converting to UTF-8.
 */
#include <stdlib.h>
#include <string.h>

#include "cm/cm.h"
#include "rtl/rtl.h"

int cm_name_cmp(const uint16_t *a, size_t an, const uint16_t *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    for (size_t i = 0; i < n; i++) {
        uint16_t x = rtl_upcase(a[i]), y = rtl_upcase(b[i]);
        if (x != y)
            return x < y ? -1 : 1;
    }
    return an < bn ? -1 : an > bn ? 1 : 0;
}

bool cm_name_eq_ascii(const uint16_t *a, size_t an, const char *b)
{
    size_t bn = strlen(b);
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++)
        if (rtl_upcase(a[i]) != rtl_upcase((unsigned char)b[i]))
            return false;
    return true;
}

size_t cm_wcslen(const uint16_t *w)
{
    size_t n = 0;
    while (w[n])
        n++;
    return n;
}

uint16_t *cm_utf8_to_w(const char *s, size_t n, size_t *len)
{
    uint16_t *out = malloc((n + 1) * sizeof(uint16_t));
    if (!out)
        return NULL;
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        uint32_t c = *p++;
        int more = 0;
        if (c >= 0xF0 && c < 0xF5)
            c &= 0x07, more = 3;
        else if (c >= 0xF0)
            more = -1;
        else if (c >= 0xE0)
            c &= 0x0F, more = 2;
        else if (c >= 0xC2 && c < 0xE0)
            c &= 0x1F, more = 1;
        else if (c >= 0x80)
            more = -1;
        if (more < 0 || end - p < more)
            goto bad;
        for (int i = 0; i < more; i++) {
            if ((*p & 0xC0) != 0x80)
                goto bad;
            c = (c << 6) | (*p++ & 0x3F);
        }
        if ((more == 2 && c < 0x800) || (more == 3 && (c < 0x10000 || c > 0x10FFFF)))
            goto bad;
        if (c >= 0x10000) {
            c -= 0x10000;
            out[o++] = (uint16_t)(0xD800 + (c >> 10));
            out[o++] = (uint16_t)(0xDC00 + (c & 0x3FF));
        } else {
            out[o++] = (uint16_t)c;
        }
    }
    out[o] = 0;
    if (len)
        *len = o;
    return out;
bad:
    free(out);
    return NULL;
}

char *cm_w_to_utf8(const uint16_t *w, size_t n, size_t *len)
{
    char *out = malloc(n * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = w[i];
        if (c >= 0xD800 && c < 0xDC00 && i + 1 < n && w[i + 1] >= 0xDC00 && w[i + 1] < 0xE000) {
            c = 0x10000 + ((c - 0xD800) << 10) + (w[i + 1] - 0xDC00);
            i++;
        } else if (c >= 0xD800 && c < 0xE000) {
            free(out);
            return NULL;
        }
        if (c < 0x80) {
            out[o++] = (char)c;
        } else if (c < 0x800) {
            out[o++] = (char)(0xC0 | (c >> 6));
            out[o++] = (char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            out[o++] = (char)(0xE0 | (c >> 12));
            out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (c & 0x3F));
        } else {
            out[o++] = (char)(0xF0 | (c >> 18));
            out[o++] = (char)(0x80 | ((c >> 12) & 0x3F));
            out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (c & 0x3F));
        }
    }
    out[o] = 0;
    if (len)
        *len = o;
    return out;
}
