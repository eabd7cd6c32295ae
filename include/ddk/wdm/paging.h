/*
 * include/ddk/wdm/paging.h - part of wdm.h: pageable and discardable code
 * and data, and the Mm routines that lock or page them.
 *
 * Models: MSVC's `#pragma alloc_text(PAGE, f)` / `#pragma data_seg("PAGE")`
 * and the WDK's PAGED_CODE_SEG / INIT_CODE_SEG. gcc and clang have no
 * alloc_text, so a driver marks a function or variable with a section
 * attribute macro instead:
 *     PAGED_CODE_SEG NTSTATUS MyRead(...)   pageable code   (section PAGE)
 *     INIT_CODE_SEG  NTSTATUS DriverEntry(...) discarded after DriverEntry (INIT)
 *     PAGED_DATA_SEG ULONG MyTable[64];     pageable data   (section PAGEDATA)
 *     INIT_DATA_SEG  ULONG MyBootData[4];   discarded data  (section INITDATA)
 * The loader reads the image's section headers: any section whose name
 * starts with PAGE is pageable, with INIT discardable, as on Windows. The
 * top-level asm below page-aligns these sections (and .bss, which follows
 * the data ones) in every object that includes <wdm.h>, so each owns whole
 * pages that wdmsim can make inaccessible without touching its neighbours.
 * Spec: spec/memory.md 3, 7; docs/memory.md "Pageable sections".
 */
#pragma once

#define CODE_SEG(segment) __attribute__((section(segment)))
#define PAGED_CODE_SEG    CODE_SEG("PAGE")
#define INIT_CODE_SEG     CODE_SEG("INIT")
#define NONPAGED_CODE_SEG
#define PAGED_DATA_SEG __attribute__((section("PAGEDATA")))
#define INIT_DATA_SEG  __attribute__((section("INITDATA")))
/* MSVC's pragmas are accepted and ignored (with -Wno-unknown-pragmas): use
 * the macros above, or the function stays resident. */
#define ALLOC_PRAGMA      1
#define ALLOC_DATA_PRAGMA 1

#ifndef WDMSIM_HOST
#if WDMSIM_PAGE_SHIFT == 13
#define WDMSIM_SECTION_ALIGN "8192"
#else
#define WDMSIM_SECTION_ALIGN "4096"
#endif
__asm__(".section PAGE,\"ax\",@progbits\n.balign " WDMSIM_SECTION_ALIGN "\n.previous\n"
        ".section INIT,\"ax\",@progbits\n.balign " WDMSIM_SECTION_ALIGN "\n.previous\n"
        ".section PAGEDATA,\"aw\",@progbits\n.balign " WDMSIM_SECTION_ALIGN "\n.previous\n"
        ".section INITDATA,\"aw\",@progbits\n.balign " WDMSIM_SECTION_ALIGN "\n.previous\n"
        ".section .bss,\"aw\",@nobits\n.balign " WDMSIM_SECTION_ALIGN "\n.previous\n");
#endif

/* All <= APC_LEVEL. Lock the whole section holding the address (resident
 * until unlocked) and return a handle for the cheap relock; lock by handle;
 * unlock (pageable again at count 0; more unlocks than locks is
 * mm.section-unlock-underflow). */
NTKERNELAPI PVOID NTAPI MmLockPagableCodeSection(PVOID AddressWithinSection);
NTKERNELAPI PVOID NTAPI MmLockPagableDataSection(PVOID AddressWithinSection);
NTKERNELAPI VOID NTAPI MmLockPagableSectionByHandle(PVOID ImageSectionHandle);
NTKERNELAPI VOID NTAPI MmUnlockPagableImageSection(PVOID ImageSectionHandle);
/* Makes the whole driver image pageable (its code and writable data);
 * returns the image base. No ISR may be connected. */
NTKERNELAPI PVOID NTAPI MmPageEntireDriver(PVOID AddressWithinSection);
/* Back to the pageability the image was linked with. */
NTKERNELAPI VOID NTAPI MmResetDriverPaging(PVOID AddressWithinSection);
