/*
 * include/ddk/wdm/base.h - part of wdm.h: page macros, IRQLs, modes, pool
 * types. Spec: spec/memory.md 1, 4; spec/ke_rtl_registry.md 1.
 */
#pragma once

/* ---- pages ---------------------------------------------------------------
 * A driver is compiled for one page size (pkg-config passes
 * -DWDMSIM_PAGE_SHIFT=12; 13 selects 8 KiB). wdmsim itself reads the page
 * size from the machine at run time, so the macros exist only for drivers.
 * The loader refuses a driver whose page size differs from the machine's. */
#ifndef WDMSIM_HOST
#ifndef WDMSIM_PAGE_SHIFT
#define WDMSIM_PAGE_SHIFT 12
#endif
#if WDMSIM_PAGE_SHIFT != 12 && WDMSIM_PAGE_SHIFT != 13
#error "WDMSIM_PAGE_SHIFT must be 12 (4 KiB pages) or 13 (8 KiB pages)"
#endif
#define PAGE_SHIFT WDMSIM_PAGE_SHIFT
#define PAGE_SIZE  (1UL << PAGE_SHIFT)

#define ROUND_TO_PAGES(Size) (((ULONG_PTR)(Size) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))
#define BYTES_TO_PAGES(Size) (((Size) >> PAGE_SHIFT) + (((Size) & (PAGE_SIZE - 1)) != 0))
#define BYTE_OFFSET(Va)      ((ULONG)((LONG_PTR)(Va) & (PAGE_SIZE - 1)))
#define PAGE_ALIGN(Va)       ((PVOID)((ULONG_PTR)(Va) & ~(PAGE_SIZE - 1)))
#define ADDRESS_AND_SIZE_TO_SPAN_PAGES(Va, Size)                                         \
    ((ULONG)((((ULONG_PTR)(Size)) >> PAGE_SHIFT) +                                       \
             ((BYTE_OFFSET(Va) + ((ULONG)(Size) & (PAGE_SIZE - 1)) + (PAGE_SIZE - 1)) >> \
              PAGE_SHIFT)))
#define COMPUTE_PAGES_SPANNED(Va, Size) ADDRESS_AND_SIZE_TO_SPAN_PAGES(Va, Size)

/* Identifies a module built against these headers, and for which page size.
 * Weak and default-visibility so every translation unit may carry it and the
 * loader finds exactly one with dlsym. */
struct _WDMSIM_DRIVER_ABI {
    ULONG Magic; /* 'WDMS' */
    ULONG Version;
    ULONG PageShift;
    ULONG WcharSize;
};
__attribute__((weak, visibility("default"))) const struct _WDMSIM_DRIVER_ABI wdmsim_driver_abi = {
    0x534d4457, 1, WDMSIM_PAGE_SHIFT, sizeof(wchar_t)};
#endif /* !WDMSIM_HOST */

#define MEMORY_ALLOCATION_ALIGNMENT 16
#define SYSTEM_CACHE_ALIGNMENT_SIZE 64

/* ---- IRQL (x64) ---------------------------------------------------------- */
#define PASSIVE_LEVEL  0
#define LOW_LEVEL      0
#define APC_LEVEL      1
#define DISPATCH_LEVEL 2
#define CMCI_LEVEL     5
#define PROFILE_LEVEL  15
#define CLOCK_LEVEL    13
#define IPI_LEVEL      14
#define DRS_LEVEL      14
#define POWER_LEVEL    14
#define HIGH_LEVEL     15
#define SYNCH_LEVEL    12

typedef enum _MODE { KernelMode, UserMode, MaximumMode } MODE;

/* ---- pool types ---------------------------------------------------------- */
typedef enum _POOL_TYPE {
    NonPagedPool = 0,
    NonPagedPoolExecute = NonPagedPool,
    PagedPool = 1,
    NonPagedPoolMustSucceed = NonPagedPool + 2,
    DontUseThisType = 3,
    NonPagedPoolCacheAligned = NonPagedPool + 4,
    PagedPoolCacheAligned = 5,
    NonPagedPoolCacheAlignedMustS = NonPagedPool + 6,
    MaxPoolType = 7,
    NonPagedPoolBase = 0,
    NonPagedPoolBaseMustSucceed = NonPagedPoolBase + 2,
    NonPagedPoolBaseCacheAligned = NonPagedPoolBase + 4,
    NonPagedPoolBaseCacheAlignedMustS = NonPagedPoolBase + 6,
    NonPagedPoolSession = 32,
    PagedPoolSession = NonPagedPoolSession + 1,
    NonPagedPoolMustSucceedSession = PagedPoolSession + 1,
    DontUseThisTypeSession = NonPagedPoolMustSucceedSession + 1,
    NonPagedPoolCacheAlignedSession = DontUseThisTypeSession + 1,
    PagedPoolCacheAlignedSession = NonPagedPoolCacheAlignedSession + 1,
    NonPagedPoolCacheAlignedMustSSession = PagedPoolCacheAlignedSession + 1,
    NonPagedPoolNx = 512,
    NonPagedPoolNxCacheAligned = NonPagedPoolNx + 4,
    NonPagedPoolSessionNx = NonPagedPoolNx + 32,
} POOL_TYPE;

#define POOL_QUOTA_FAIL_INSTEAD_OF_RAISE 8
#define POOL_RAISE_IF_ALLOCATION_FAILURE 16
#define POOL_COLD_ALLOCATION             256
#define POOL_NX_ALLOCATION               512
