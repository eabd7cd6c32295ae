/*
 * src/rtl/nls.c - the system code page (1252) and Unicode case mapping.
 *
 * Models: Windows' ANSI code page 1252 as MultiByteToWideChar maps it (the
 * five undefined bytes 0x81 0x8D 0x8F 0x90 0x9D become the C1 controls of
 * the same value, so every byte round-trips), and the simple one-to-one
 * case mapping of RtlUpcaseUnicodeChar / RtlDowncaseUnicodeChar.
 * Spec: spec/ke_rtl_registry.md 5.
 * Invariants: rtl_downcase(rtl_upcase(c)) == c for every lower-case c in the
 * table except final sigma; both are identity outside the table.
 * Not modelled: other code pages and DBCS; Latin Extended-B, Greek
 * Extended, Georgian, Cherokee and the other scripts past those listed in
 * case_ranges; locale-dependent mappings (Turkish dotted/dotless i, the
 * micro sign and long s stay unchanged).
 */
#include <wdm.h>

#include "rtl/rtl.h"

/* 0x80..0x9F; everything else in 1252 is the Latin-1 code point itself. */
static const uint16_t cp1252_high[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

uint16_t rtl_cp1252_to_unicode(unsigned char c)
{
    return c >= 0x80 && c < 0xA0 ? cp1252_high[c - 0x80] : c;
}

int rtl_unicode_to_cp1252(uint16_t w)
{
    if (w < 0x80 || (w >= 0xA0 && w <= 0xFF))
        return w;
    for (unsigned k = 0; k < 32; k++)
        if (cp1252_high[k] == w)
            return 0x80 + k;
    return -1;
}

/* Upper-case letters from lo to hi, every step-th one, whose lower-case
 * form is delta above: step 1 is a block (A-Z), step 2 the alternating
 * upper/lower pairs of Latin Extended-A and Cyrillic. */
struct case_range {
    uint16_t lo, hi;
    int16_t delta; /* negative for Y diaeresis: its lower case is below */
    uint8_t step;
};

static const struct case_range case_ranges[] = {
    {0x0041, 0x005A, 32, 1}, /* Basic Latin */
    {0x00C0, 0x00D6, 32, 1}, /* Latin-1 Supplement (not the multiplication sign) */
    {0x00D8, 0x00DE, 32, 1},
    {0x0100, 0x012E, 1, 2}, /* Latin Extended-A */
    {0x0132, 0x0136, 1, 2},
    {0x0139, 0x0147, 1, 2},
    {0x014A, 0x0176, 1, 2},
    {0x0178, 0x0178, 0x00FF - 0x0178, 1}, /* Y diaeresis: lower case is in Latin-1 */
    {0x0179, 0x017D, 1, 2},
    {0x0386, 0x0386, 0x03AC - 0x0386, 1}, /* Greek */
    {0x0388, 0x038A, 0x03AD - 0x0388, 1},
    {0x038C, 0x038C, 0x03CC - 0x038C, 1},
    {0x038E, 0x038F, 0x03CD - 0x038E, 1},
    {0x0391, 0x03A1, 32, 1},
    {0x03A3, 0x03AB, 32, 1},
    {0x0400, 0x040F, 80, 1}, /* Cyrillic */
    {0x0410, 0x042F, 32, 1},
    {0x0460, 0x0480, 1, 2},
    {0x048A, 0x04BE, 1, 2},
    {0x04C0, 0x04C0, 0x04CF - 0x04C0, 1},
    {0x04C1, 0x04CD, 1, 2},
    {0x04D0, 0x052E, 1, 2},
    {0x0531, 0x0556, 48, 1}, /* Armenian */
    {0xFF21, 0xFF3A, 32, 1}, /* Fullwidth Latin */
};

static bool in_range(const struct case_range *r, int w)
{
    return w >= r->lo && w <= r->hi && (w - r->lo) % r->step == 0;
}

uint16_t rtl_upcase(uint16_t w)
{
    if (w < 0x80) /* the common case, without the table walk */
        return w >= 'a' && w <= 'z' ? w - 32 : w;
    if (w == 0x03C2) /* final sigma has no upper case of its own */
        return 0x03A3;
    for (size_t k = 0; k < sizeof case_ranges / sizeof case_ranges[0]; k++) {
        const struct case_range *r = &case_ranges[k];
        if (in_range(r, w - r->delta))
            return (uint16_t)(w - r->delta);
    }
    return w;
}

uint16_t rtl_downcase(uint16_t w)
{
    if (w < 0x80)
        return w >= 'A' && w <= 'Z' ? w + 32 : w;
    for (size_t k = 0; k < sizeof case_ranges / sizeof case_ranges[0]; k++) {
        const struct case_range *r = &case_ranges[k];
        if (in_range(r, w))
            return (uint16_t)(w + r->delta);
    }
    return w;
}
