/*
 * src/rtl/bitmap.c - RTL_BITMAP: bit n is bit (n % 32) of Buffer[n / 32].
 *
 * Models: the Rtl bitmap routines, a word at a time. The Find routines
 * search from HintIndex to the end, then from the start, for a run lying
 * wholly inside the bitmap (a run never wraps), and return its first index
 * or 0xFFFFFFFF. The map-register allocator (src/hal) uses these.
 * Spec: docs/rtl.md (no spec section; Learn pages ddi/wdm/nf-wdm-rtl*bit*).
 * Invariants: nothing reads or writes a word past
 * (SizeOfBitMap + 31) / 32; bits beyond SizeOfBitMap in the last word are
 * never counted or found (RtlSetAllBits / RtlClearAllBits do fill them,
 * whole words, as Windows does).
 * Decisions: indexes or ranges past the end are clipped to the bitmap (no
 * write outside it; Windows would corrupt memory); NumberToFind 0 finds
 * index 0; RtlAreBitsClear/Set of an empty or out-of-range range is FALSE.
 */
#include <wdm.h>

#include "rtl/rtl.h"

enum { word_bits = 32 };
static const ULONG not_found = 0xFFFFFFFF;

static uint64_t words_of(const RTL_BITMAP *bm)
{
    return ((uint64_t)bm->SizeOfBitMap + word_bits - 1) / word_bits;
}

/* First index in [from, end) whose bit is value, or end. */
static uint64_t find_bit(const RTL_BITMAP *bm, uint64_t from, uint64_t end, bool value)
{
    while (from < end) {
        uint64_t w = from / word_bits;
        ULONG bits = value ? bm->Buffer[w] : ~bm->Buffer[w];
        bits &= ~0u << (from % word_bits);
        if (bits) {
            uint64_t idx = w * word_bits + (unsigned)__builtin_ctz(bits);
            return idx < end ? idx : end;
        }
        from = (w + 1) * word_bits;
    }
    return end;
}

/* Sets or clears [start, start + n), clipped to the bitmap. */
static void fill_range(RTL_BITMAP *bm, uint64_t start, uint64_t n, bool value)
{
    uint64_t end = start + n;
    if (end > bm->SizeOfBitMap)
        end = bm->SizeOfBitMap;
    while (start < end) {
        unsigned lo = start % word_bits;
        uint64_t span = word_bits - lo < end - start ? word_bits - lo : end - start;
        ULONG mask = (span == word_bits ? ~0u : ((1u << span) - 1)) << lo;
        if (value)
            bm->Buffer[start / word_bits] |= mask;
        else
            bm->Buffer[start / word_bits] &= ~mask;
        start += span;
    }
}

/* First run of n bits equal to value starting in [from, ...) and ending
 * by limit; not_found when none. */
static uint64_t find_run(const RTL_BITMAP *bm, uint64_t n, uint64_t from, uint64_t limit,
                         bool value)
{
    while (from + n <= limit) {
        uint64_t start = find_bit(bm, from, limit, value);
        if (start + n > limit)
            break;
        uint64_t stop = find_bit(bm, start, start + n, !value);
        if (stop == start + n)
            return start;
        from = stop;
    }
    return not_found;
}

static ULONG find_with_hint(const RTL_BITMAP *bm, ULONG n, ULONG hint, bool value)
{
    uint64_t size = bm->SizeOfBitMap;
    if (n == 0)
        return 0;
    if (n > size)
        return not_found;
    if (hint >= size)
        hint = 0;
    uint64_t at = find_run(bm, n, hint, size, value);
    if (at == not_found && hint > 0) {
        /* Wrap: runs starting before the hint. */
        uint64_t limit = (uint64_t)hint + n - 1 < size ? (uint64_t)hint + n - 1 : size;
        at = find_run(bm, n, 0, limit, value);
    }
    return (ULONG)at;
}

NTSYSAPI VOID NTAPI RtlInitializeBitMap(PRTL_BITMAP BitMapHeader, PULONG BitMapBuffer,
                                        ULONG SizeOfBitMap)
{
    BitMapHeader->SizeOfBitMap = SizeOfBitMap;
    BitMapHeader->Buffer = BitMapBuffer;
}

NTSYSAPI VOID NTAPI RtlClearAllBits(PRTL_BITMAP BitMapHeader)
{
    for (uint64_t w = 0; w < words_of(BitMapHeader); w++)
        BitMapHeader->Buffer[w] = 0;
}

NTSYSAPI VOID NTAPI RtlSetAllBits(PRTL_BITMAP BitMapHeader)
{
    for (uint64_t w = 0; w < words_of(BitMapHeader); w++)
        BitMapHeader->Buffer[w] = ~0u;
}

NTSYSAPI VOID NTAPI RtlClearBits(PRTL_BITMAP BitMapHeader, ULONG StartingIndex, ULONG NumberToClear)
{
    fill_range(BitMapHeader, StartingIndex, NumberToClear, false);
}

NTSYSAPI VOID NTAPI RtlSetBits(PRTL_BITMAP BitMapHeader, ULONG StartingIndex, ULONG NumberToSet)
{
    fill_range(BitMapHeader, StartingIndex, NumberToSet, true);
}

NTSYSAPI VOID NTAPI RtlClearBit(PRTL_BITMAP BitMapHeader, ULONG BitNumber)
{
    fill_range(BitMapHeader, BitNumber, 1, false);
}

NTSYSAPI VOID NTAPI RtlSetBit(PRTL_BITMAP BitMapHeader, ULONG BitNumber)
{
    fill_range(BitMapHeader, BitNumber, 1, true);
}

NTSYSAPI BOOLEAN NTAPI RtlTestBit(PRTL_BITMAP BitMapHeader, ULONG BitNumber)
{
    if (BitNumber >= BitMapHeader->SizeOfBitMap)
        return FALSE;
    return (BitMapHeader->Buffer[BitNumber / word_bits] >> (BitNumber % word_bits)) & 1;
}

static BOOLEAN all_equal(const RTL_BITMAP *bm, ULONG start, ULONG length, bool value)
{
    uint64_t end = (uint64_t)start + length;
    if (length == 0 || end > bm->SizeOfBitMap)
        return FALSE;
    return find_bit(bm, start, end, !value) == end;
}

NTSYSAPI BOOLEAN NTAPI RtlAreBitsClear(PRTL_BITMAP BitMapHeader, ULONG StartingIndex, ULONG Length)
{
    return all_equal(BitMapHeader, StartingIndex, Length, false);
}

NTSYSAPI BOOLEAN NTAPI RtlAreBitsSet(PRTL_BITMAP BitMapHeader, ULONG StartingIndex, ULONG Length)
{
    return all_equal(BitMapHeader, StartingIndex, Length, true);
}

NTSYSAPI ULONG NTAPI RtlFindClearBits(PRTL_BITMAP BitMapHeader, ULONG NumberToFind, ULONG HintIndex)
{
    return find_with_hint(BitMapHeader, NumberToFind, HintIndex, false);
}

NTSYSAPI ULONG NTAPI RtlFindSetBits(PRTL_BITMAP BitMapHeader, ULONG NumberToFind, ULONG HintIndex)
{
    return find_with_hint(BitMapHeader, NumberToFind, HintIndex, true);
}

NTSYSAPI ULONG NTAPI RtlFindClearBitsAndSet(PRTL_BITMAP BitMapHeader, ULONG NumberToFind,
                                            ULONG HintIndex)
{
    ULONG at = find_with_hint(BitMapHeader, NumberToFind, HintIndex, false);
    if (at != not_found)
        fill_range(BitMapHeader, at, NumberToFind, true);
    return at;
}

NTSYSAPI ULONG NTAPI RtlFindSetBitsAndClear(PRTL_BITMAP BitMapHeader, ULONG NumberToFind,
                                            ULONG HintIndex)
{
    ULONG at = find_with_hint(BitMapHeader, NumberToFind, HintIndex, true);
    if (at != not_found)
        fill_range(BitMapHeader, at, NumberToFind, false);
    return at;
}

NTSYSAPI ULONG NTAPI RtlNumberOfSetBits(PRTL_BITMAP BitMapHeader)
{
    uint64_t words = words_of(BitMapHeader);
    ULONG count = 0;
    for (uint64_t w = 0; w < words; w++) {
        ULONG bits = BitMapHeader->Buffer[w];
        unsigned tail = BitMapHeader->SizeOfBitMap % word_bits;
        if (w == words - 1 && tail)
            bits &= (1u << tail) - 1;
        count += (ULONG)__builtin_popcount(bits);
    }
    return count;
}

NTSYSAPI ULONG NTAPI RtlNumberOfClearBits(PRTL_BITMAP BitMapHeader)
{
    return BitMapHeader->SizeOfBitMap - RtlNumberOfSetBits(BitMapHeader);
}

NTSYSAPI ULONG NTAPI RtlFindFirstRunClear(PRTL_BITMAP BitMapHeader, PULONG StartingIndex)
{
    uint64_t size = BitMapHeader->SizeOfBitMap;
    uint64_t start = find_bit(BitMapHeader, 0, size, false);
    *StartingIndex = (ULONG)(start < size ? start : 0);
    if (start == size)
        return 0;
    return (ULONG)(find_bit(BitMapHeader, start, size, true) - start);
}

NTSYSAPI ULONG NTAPI RtlFindLongestRunClear(PRTL_BITMAP BitMapHeader, PULONG StartingIndex)
{
    uint64_t size = BitMapHeader->SizeOfBitMap;
    uint64_t best = 0, best_at = 0, pos = 0;
    while (pos < size) {
        uint64_t start = find_bit(BitMapHeader, pos, size, false);
        if (start == size)
            break;
        uint64_t stop = find_bit(BitMapHeader, start, size, true);
        if (stop - start > best) {
            best = stop - start;
            best_at = start;
        }
        pos = stop;
    }
    *StartingIndex = (ULONG)best_at;
    return (ULONG)best;
}
