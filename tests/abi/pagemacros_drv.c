/*
 * tests/abi/pagemacros_drv.c - the page macros' worked examples, evaluated
 * inside a driver built for 4 KiB (PAGE_SHIFT 12) or 8 KiB (13) pages.
 *
 * Models: the driver-side page macros of include/ddk/wdm/base.h.
 * Spec: spec/memory.md 1 (examples are for 4 KiB pages unless stated; the
 * 8 KiB column is the same formula, worked by hand here).
 * Invariants: built twice (pagemacros12.so, pagemacros13.so) and run by
 * tests/abi/test_pagemacros.c, which calls pagemacro_check with the ms_abi
 * convention, as the kernel calls a driver.
 */
#include <wdm.h>

#if PAGE_SHIFT == 12
#define BY_PAGE(four_k, eight_k) (four_k)
#else
#define BY_PAGE(four_k, eight_k) (eight_k)
#endif

/* Compile-time half: the macros on constants are integer constant expressions. */
_Static_assert(PAGE_SIZE == BY_PAGE(4096, 8192), "PAGE_SIZE");
_Static_assert(ROUND_TO_PAGES(0) == 0, "ROUND_TO_PAGES(0)");
_Static_assert(ROUND_TO_PAGES(1) == BY_PAGE(4096, 8192), "ROUND_TO_PAGES(1)");
_Static_assert(ROUND_TO_PAGES(4096) == BY_PAGE(4096, 8192), "ROUND_TO_PAGES(4096)");
_Static_assert(ROUND_TO_PAGES(4097) == 8192, "ROUND_TO_PAGES(4097)");
_Static_assert(BYTES_TO_PAGES(5000) == BY_PAGE(2, 1), "BYTES_TO_PAGES(5000)");
_Static_assert(BYTES_TO_PAGES(0) == 0, "BYTES_TO_PAGES(0)");

struct pagemacro_result {
    ULONG PageSize;
    ULONG Failures;
    ULONG FirstFailedLine;
};

/* Volatile inputs keep the run-time half from being folded at compile time,
 * so the code a driver really executes is what gets checked. */
static volatile ULONG_PTR va_12345678 = 0x12345678, va_12345fff = 0x12345fff,
                          va_12345000 = 0x12345000, va_12345001 = 0x12345001,
                          va_12344000 = 0x12344000; /* aligned for both page sizes */
static volatile SIZE_T size_0 = 0, size_1 = 1, size_2 = 2, size_4096 = 4096, size_4097 = 4097,
                       size_5000 = 5000;

#define CHECK(r, cond)                       \
    do {                                     \
        if (!(cond) && (r)->Failures++ == 0) \
            (r)->FirstFailedLine = __LINE__; \
    } while (0)

__attribute__((visibility("default"))) VOID NTAPI pagemacro_check(struct pagemacro_result *r)
{
    r->PageSize = (ULONG)PAGE_SIZE;
    r->Failures = 0;
    r->FirstFailedLine = 0;

    CHECK(r, ROUND_TO_PAGES(size_0) == 0);
    CHECK(r, ROUND_TO_PAGES(size_1) == BY_PAGE(4096, 8192));
    CHECK(r, ROUND_TO_PAGES(size_4096) == BY_PAGE(4096, 8192));
    CHECK(r, ROUND_TO_PAGES(size_4097) == 8192);
    CHECK(r, BYTES_TO_PAGES(size_5000) == BY_PAGE(2, 1));
    CHECK(r, BYTES_TO_PAGES(size_0) == 0);
    CHECK(r, BYTE_OFFSET(va_12345678) == BY_PAGE(0x678, 0x1678));
    CHECK(r, sizeof(BYTE_OFFSET(va_12345678)) == sizeof(ULONG));
    CHECK(r, PAGE_ALIGN(va_12345678) == (PVOID)BY_PAGE(0x12345000, 0x12344000));
    CHECK(r, ADDRESS_AND_SIZE_TO_SPAN_PAGES(va_12345fff, size_2) == 2);
    CHECK(r, ADDRESS_AND_SIZE_TO_SPAN_PAGES(va_12345000, size_4096) == 1);
    CHECK(r, ADDRESS_AND_SIZE_TO_SPAN_PAGES(va_12345001, size_4096) == BY_PAGE(2, 2));
    CHECK(r, ADDRESS_AND_SIZE_TO_SPAN_PAGES(va_12344000, size_0) == 0);
    /* 0x12345000 is 4 KiB- but not 8 KiB-aligned: offset 0x1000 on 8 KiB pages. */
    CHECK(r, ADDRESS_AND_SIZE_TO_SPAN_PAGES(va_12345000, size_0) == BY_PAGE(0, 1));
    CHECK(r, COMPUTE_PAGES_SPANNED(va_12345001, size_5000) == 2);
    /* The DMA example: 5000 bytes from a page start span 2 pages of 4 KiB. */
    CHECK(r, ADDRESS_AND_SIZE_TO_SPAN_PAGES(va_12344000, size_5000) == BY_PAGE(2, 1));
    CHECK(r, sizeof(ADDRESS_AND_SIZE_TO_SPAN_PAGES(va_12344000, size_5000)) == sizeof(ULONG));
    CHECK(r, BYTE_OFFSET(va_12345000) == BY_PAGE(0, 0x1000));
}
