/*
 * src/machine/bitmap.h - bits in arrays of 64-bit words.
 *
 * The PFN database's used map, the address spaces' reservation maps and the
 * pager's resident maps are all plain word bitmaps; these are their one set
 * of accessors. (Drivers' RTL_BITMAP is the Rtl layer's, with Windows'
 * semantics; this is machinery.)
 */
#ifndef WDMSIM_MACHINE_BITMAP_H
#define WDMSIM_MACHINE_BITMAP_H

#include <stdbool.h>
#include <stdint.h>

static inline bool bitmap_get(const uint64_t *bm, uint64_t i)
{
    return (bm[i >> 6] >> (i & 63)) & 1;
}

static inline void bitmap_set(uint64_t *bm, uint64_t i)
{
    bm[i >> 6] |= 1ULL << (i & 63);
}

static inline void bitmap_clear(uint64_t *bm, uint64_t i)
{
    bm[i >> 6] &= ~(1ULL << (i & 63));
}

static inline void bitmap_put(uint64_t *bm, uint64_t i, bool v)
{
    if (v)
        bitmap_set(bm, i);
    else
        bitmap_clear(bm, i);
}

#endif
