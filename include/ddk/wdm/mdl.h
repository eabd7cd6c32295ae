/*
 * include/ddk/wdm/mdl.h - part of wdm.h: the MDL routines and macros,
 * I/O-space mapping and user-buffer probes.
 * Spec: spec/mdl.md 2-6; spec/memory.md 6 (MmMapIoSpace).
 */
#pragma once

/* ---- macros (spec/mdl.md 2) ------------------------------------------------- */
#define MmGetMdlPfnArray(Mdl)       ((PPFN_NUMBER)((PMDL)(Mdl) + 1))
#define MmGetMdlVirtualAddress(Mdl) ((PVOID)((PCHAR)((Mdl)->StartVa) + (Mdl)->ByteOffset))
#define MmGetMdlByteCount(Mdl)      ((Mdl)->ByteCount)
#define MmGetMdlByteOffset(Mdl)     ((Mdl)->ByteOffset)
#define MmGetMdlBaseVa(Mdl)         ((Mdl)->StartVa)

/* Any IRQL. 48 + 8 bytes per spanned page. */
NTKERNELAPI SIZE_T NTAPI MmSizeOfMdl(PVOID Base, SIZE_T Length);

#ifndef WDMSIM_HOST
#define MmInitializeMdl(MemoryDescriptorList, BaseVa, Length)                                    \
    do {                                                                                         \
        (MemoryDescriptorList)->Next = (PMDL)NULL;                                               \
        (MemoryDescriptorList)->Size =                                                           \
            (CSHORT)(sizeof(MDL) +                                                               \
                     (sizeof(PFN_NUMBER) * ADDRESS_AND_SIZE_TO_SPAN_PAGES((BaseVa), (Length)))); \
        (MemoryDescriptorList)->MdlFlags = 0;                                                    \
        (MemoryDescriptorList)->StartVa = (PVOID)PAGE_ALIGN((BaseVa));                           \
        (MemoryDescriptorList)->ByteOffset = BYTE_OFFSET((BaseVa));                              \
        (MemoryDescriptorList)->ByteCount = (ULONG)(Length);                                     \
    } while (0)
#endif

/* ---- allocation (spec/mdl.md 3) --------------------------------------------- */
/* <= DISPATCH_LEVEL. NULL on failure. Header only: PFNs are not filled. */
NTKERNELAPI PMDL NTAPI IoAllocateMdl(PVOID VirtualAddress, ULONG Length, BOOLEAN SecondaryBuffer,
                                     BOOLEAN ChargeQuota, PIRP Irp);
/* <= DISPATCH_LEVEL. One MDL (not the chain); pages must be unlocked. */
NTKERNELAPI VOID NTAPI IoFreeMdl(PMDL Mdl);
NTKERNELAPI VOID NTAPI IoBuildPartialMdl(PMDL SourceMdl, PMDL TargetMdl, PVOID VirtualAddress,
                                         ULONG Length);
/* Unmaps a partial MDL's own mapping so the MDL can describe another range. */
NTKERNELAPI VOID NTAPI MmPrepareMdlForReuse(PMDL Mdl);

/* ---- describing pages (spec/mdl.md 4) --------------------------------------- */
NTKERNELAPI VOID NTAPI MmBuildMdlForNonPagedPool(PMDL MemoryDescriptorList);
/* Raises STATUS_ACCESS_VIOLATION (call inside __try). */
NTKERNELAPI VOID NTAPI MmProbeAndLockPages(PMDL MemoryDescriptorList, KPROCESSOR_MODE AccessMode,
                                           LOCK_OPERATION Operation);
NTKERNELAPI VOID NTAPI MmUnlockPages(PMDL MemoryDescriptorList);

#define MM_DONT_ZERO_ALLOCATION               0x00000001
#define MM_ALLOCATE_FROM_LOCAL_NODE_ONLY      0x00000002
#define MM_ALLOCATE_FULLY_REQUIRED            0x00000004
#define MM_ALLOCATE_NO_WAIT                   0x00000008
#define MM_ALLOCATE_PREFER_CONTIGUOUS         0x00000010
#define MM_ALLOCATE_REQUIRE_CONTIGUOUS_CHUNKS 0x00000020
NTKERNELAPI PMDL NTAPI MmAllocatePagesForMdl(PHYSICAL_ADDRESS LowAddress,
                                             PHYSICAL_ADDRESS HighAddress,
                                             PHYSICAL_ADDRESS SkipBytes, SIZE_T TotalBytes);
NTKERNELAPI PMDL NTAPI MmAllocatePagesForMdlEx(PHYSICAL_ADDRESS LowAddress,
                                               PHYSICAL_ADDRESS HighAddress,
                                               PHYSICAL_ADDRESS SkipBytes, SIZE_T TotalBytes,
                                               MEMORY_CACHING_TYPE CacheType, ULONG Flags);
NTKERNELAPI VOID NTAPI MmFreePagesFromMdl(PMDL MemoryDescriptorList);

/* ---- mapping (spec/mdl.md 5) ------------------------------------------------ */
NTKERNELAPI PVOID NTAPI MmMapLockedPagesSpecifyCache(PMDL MemoryDescriptorList,
                                                     KPROCESSOR_MODE AccessMode,
                                                     MEMORY_CACHING_TYPE CacheType,
                                                     PVOID RequestedAddress,
                                                     ULONG BugCheckOnFailure, ULONG Priority);
/* Legacy: reported as mdl.legacy-map. */
NTKERNELAPI PVOID NTAPI MmMapLockedPages(PMDL MemoryDescriptorList, KPROCESSOR_MODE AccessMode);
NTKERNELAPI VOID NTAPI MmUnmapLockedPages(PVOID BaseAddress, PMDL MemoryDescriptorList);

/* <= DISPATCH_LEVEL. The existing system VA, or a new second mapping of the
 * MDL's frames; NULL on failure. */
FORCEINLINE PVOID MmGetSystemAddressForMdlSafe(PMDL Mdl, ULONG Priority)
{
    if (Mdl->MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_SOURCE_IS_NONPAGED_POOL))
        return Mdl->MappedSystemVa;
    return MmMapLockedPagesSpecifyCache(Mdl, KernelMode, MmCached, NULL, FALSE, Priority);
}

/* ---- I/O space (spec/memory.md 6, spec/io.md 7) ------------------------------
 * wdmsim: device memory is never mapped to host memory. The returned VA is
 * real system VA whose PTEs name the device's physical pages; only the
 * READ_/WRITE_REGISTER_* routines reach the device through it. A plain
 * dereference faults (docs/io.md). */
NTKERNELAPI PVOID NTAPI MmMapIoSpace(PHYSICAL_ADDRESS PhysicalAddress, SIZE_T NumberOfBytes,
                                     MEMORY_CACHING_TYPE CacheType);
NTKERNELAPI PVOID NTAPI MmMapIoSpaceEx(PHYSICAL_ADDRESS PhysicalAddress, SIZE_T NumberOfBytes,
                                       ULONG Protect);
NTKERNELAPI VOID NTAPI MmUnmapIoSpace(PVOID BaseAddress, SIZE_T NumberOfBytes);

/* ---- probes (spec/mdl.md 6) --------------------------------------------------- */
NTKERNELAPI VOID NTAPI ProbeForRead(const volatile VOID *Address, SIZE_T Length, ULONG Alignment);
NTKERNELAPI VOID NTAPI ProbeForWrite(volatile VOID *Address, SIZE_T Length, ULONG Alignment);
