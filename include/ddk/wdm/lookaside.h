/*
 * include/ddk/wdm/lookaside.h - part of wdm.h: lookaside lists.
 *
 * Models: the classic (NPAGED_/PAGED_LOOKASIDE_LIST) and Ex
 * (LOOKASIDE_LIST_EX) lookaside lists with their x64 layouts. As in the
 * WDK, allocate and free are inline here and read the layout directly: an
 * SLIST of free entries capped at Depth (tuned by the system, 4..256), the
 * pool callbacks on a miss, and the hit/miss counters the tuning reads.
 * Spec: spec/memory.md 5; rules la.* (spec/verifier.md 6).
 * Not modelled: the per-processor and system pool lookasides.
 */
#pragma once

#define DECLSPEC_CACHEALIGN DECLSPEC_ALIGN(64)
#define LOOKASIDE_ALIGN     DECLSPEC_CACHEALIGN

/* One SLIST link: the smallest entry a lookaside list can hold. */
#define LOOKASIDE_MINIMUM_BLOCK_SIZE (RTL_SIZEOF_THROUGH_FIELD(SLIST_ENTRY, Next))

#define EX_LOOKASIDE_LIST_EX_FLAGS_RAISE_ON_FAIL 0x00000001UL
#define EX_LOOKASIDE_LIST_EX_FLAGS_FAIL_NO_RAISE 0x00000002UL
#define EX_MAXIMUM_LOOKASIDE_DEPTH_BASE          256
#define EX_MAXIMUM_LOOKASIDE_DEPTH_LIMIT         1024

struct _LOOKASIDE_LIST_EX;

typedef PVOID NTAPI ALLOCATE_FUNCTION(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag);
typedef ALLOCATE_FUNCTION *PALLOCATE_FUNCTION;
typedef VOID NTAPI FREE_FUNCTION(PVOID Buffer);
typedef FREE_FUNCTION *PFREE_FUNCTION;
typedef PVOID NTAPI ALLOCATE_FUNCTION_EX(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag,
                                         struct _LOOKASIDE_LIST_EX *Lookaside);
typedef ALLOCATE_FUNCTION_EX *PALLOCATE_FUNCTION_EX;
typedef VOID NTAPI FREE_FUNCTION_EX(PVOID Buffer, struct _LOOKASIDE_LIST_EX *Lookaside);
typedef FREE_FUNCTION_EX *PFREE_FUNCTION_EX;

/* The shared body (x64 offsets): ListHead 0, Depth 16, MaximumDepth 18,
 * TotalAllocates 20, AllocateMisses 24, TotalFrees 28, FreeMisses 32, Type 36,
 * Tag 40, Size 44, Allocate 48, Free 56, ListEntry 64, LastTotalAllocates 80,
 * LastAllocateMisses 84, Future 88; 96 bytes. */
#define GENERAL_LOOKASIDE_LAYOUT          \
    union {                               \
        SLIST_HEADER ListHead;            \
        SINGLE_LIST_ENTRY SingleListHead; \
    };                                    \
    USHORT Depth;                         \
    USHORT MaximumDepth;                  \
    ULONG TotalAllocates;                 \
    union {                               \
        ULONG AllocateMisses;             \
        ULONG AllocateHits;               \
    };                                    \
    ULONG TotalFrees;                     \
    union {                               \
        ULONG FreeMisses;                 \
        ULONG FreeHits;                   \
    };                                    \
    POOL_TYPE Type;                       \
    ULONG Tag;                            \
    ULONG Size;                           \
    union {                               \
        PALLOCATE_FUNCTION_EX AllocateEx; \
        PALLOCATE_FUNCTION Allocate;      \
    };                                    \
    union {                               \
        PFREE_FUNCTION_EX FreeEx;         \
        PFREE_FUNCTION Free;              \
    };                                    \
    LIST_ENTRY ListEntry;                 \
    ULONG LastTotalAllocates;             \
    union {                               \
        ULONG LastAllocateMisses;         \
        ULONG LastAllocateHits;           \
    };                                    \
    ULONG Future[2];

typedef struct LOOKASIDE_ALIGN _GENERAL_LOOKASIDE {
    GENERAL_LOOKASIDE_LAYOUT
} GENERAL_LOOKASIDE, *PGENERAL_LOOKASIDE;

typedef struct _GENERAL_LOOKASIDE_POOL {
    GENERAL_LOOKASIDE_LAYOUT
} GENERAL_LOOKASIDE_POOL, *PGENERAL_LOOKASIDE_POOL;

typedef struct LOOKASIDE_ALIGN _NPAGED_LOOKASIDE_LIST {
    GENERAL_LOOKASIDE L;
} NPAGED_LOOKASIDE_LIST, *PNPAGED_LOOKASIDE_LIST;

typedef struct LOOKASIDE_ALIGN _PAGED_LOOKASIDE_LIST {
    GENERAL_LOOKASIDE L;
} PAGED_LOOKASIDE_LIST, *PPAGED_LOOKASIDE_LIST;

typedef struct _LOOKASIDE_LIST_EX {
    GENERAL_LOOKASIDE_POOL L;
} LOOKASIDE_LIST_EX, *PLOOKASIDE_LIST_EX;

C_ASSERT(FIELD_OFFSET(GENERAL_LOOKASIDE, Depth) == 16);
C_ASSERT(FIELD_OFFSET(GENERAL_LOOKASIDE, Type) == 36);
C_ASSERT(FIELD_OFFSET(GENERAL_LOOKASIDE, Allocate) == 48);
C_ASSERT(FIELD_OFFSET(GENERAL_LOOKASIDE, ListEntry) == 64);
C_ASSERT(FIELD_OFFSET(GENERAL_LOOKASIDE, Future) == 88);
C_ASSERT(sizeof(GENERAL_LOOKASIDE_POOL) == 96);
C_ASSERT(sizeof(NPAGED_LOOKASIDE_LIST) == 128);
C_ASSERT(sizeof(PAGED_LOOKASIDE_LIST) == 128);
C_ASSERT(sizeof(LOOKASIDE_LIST_EX) == 96);

/* ---- classic lists -----------------------------------------------------------
 * Init/delete: nonpaged <= DISPATCH_LEVEL, paged <= APC_LEVEL; not thread-
 * safe. Depth must be 0 (la.depth-nonzero); Size >= LOOKASIDE_MINIMUM_BLOCK_SIZE
 * (la.size-too-small); Allocate/Free NULL select ExAllocatePoolWithTag /
 * ExFreePool. The head must stay in nonpaged memory until deleted. */
NTKERNELAPI VOID NTAPI ExInitializeNPagedLookasideList(PNPAGED_LOOKASIDE_LIST Lookaside,
                                                       PALLOCATE_FUNCTION Allocate,
                                                       PFREE_FUNCTION Free, ULONG Flags,
                                                       SIZE_T Size, ULONG Tag, USHORT Depth);
NTKERNELAPI VOID NTAPI ExDeleteNPagedLookasideList(PNPAGED_LOOKASIDE_LIST Lookaside);
NTKERNELAPI VOID NTAPI ExInitializePagedLookasideList(PPAGED_LOOKASIDE_LIST Lookaside,
                                                      PALLOCATE_FUNCTION Allocate,
                                                      PFREE_FUNCTION Free, ULONG Flags, SIZE_T Size,
                                                      ULONG Tag, USHORT Depth);
NTKERNELAPI VOID NTAPI ExDeletePagedLookasideList(PPAGED_LOOKASIDE_LIST Lookaside);

/* <= DISPATCH_LEVEL (paged lists: <= APC_LEVEL). NULL when the list is empty
 * and the allocator fails. */
FORCEINLINE PVOID ExAllocateFromNPagedLookasideList(PNPAGED_LOOKASIDE_LIST Lookaside)
{
    PVOID Entry;
    Lookaside->L.TotalAllocates += 1;
    Entry = InterlockedPopEntrySList(&Lookaside->L.ListHead);
    if (Entry == NULL) {
        Lookaside->L.AllocateMisses += 1;
        Entry = (Lookaside->L.Allocate)(Lookaside->L.Type, Lookaside->L.Size, Lookaside->L.Tag);
    }
    return Entry;
}

FORCEINLINE VOID ExFreeToNPagedLookasideList(PNPAGED_LOOKASIDE_LIST Lookaside, PVOID Entry)
{
    Lookaside->L.TotalFrees += 1;
    if (ExQueryDepthSList(&Lookaside->L.ListHead) >= Lookaside->L.Depth) {
        Lookaside->L.FreeMisses += 1;
        (Lookaside->L.Free)(Entry);
    } else {
        InterlockedPushEntrySList(&Lookaside->L.ListHead, (PSLIST_ENTRY)Entry);
    }
}

FORCEINLINE PVOID ExAllocateFromPagedLookasideList(PPAGED_LOOKASIDE_LIST Lookaside)
{
    PVOID Entry;
    Lookaside->L.TotalAllocates += 1;
    Entry = InterlockedPopEntrySList(&Lookaside->L.ListHead);
    if (Entry == NULL) {
        Lookaside->L.AllocateMisses += 1;
        Entry = (Lookaside->L.Allocate)(Lookaside->L.Type, Lookaside->L.Size, Lookaside->L.Tag);
    }
    return Entry;
}

FORCEINLINE VOID ExFreeToPagedLookasideList(PPAGED_LOOKASIDE_LIST Lookaside, PVOID Entry)
{
    Lookaside->L.TotalFrees += 1;
    if (ExQueryDepthSList(&Lookaside->L.ListHead) >= Lookaside->L.Depth) {
        Lookaside->L.FreeMisses += 1;
        (Lookaside->L.Free)(Entry);
    } else {
        InterlockedPushEntrySList(&Lookaside->L.ListHead, (PSLIST_ENTRY)Entry);
    }
}

/* ---- Ex lists ------------------------------------------------------------------
 * STATUS_SUCCESS, STATUS_INVALID_PARAMETER_4 (pool type) or _5 (flags:
 * RAISE_ON_FAIL and FAIL_NO_RAISE together, unknown bits, or FAIL_NO_RAISE
 * with the default allocator). Same IRQL rules as the classic lists. */
NTKERNELAPI NTSTATUS NTAPI ExInitializeLookasideListEx(PLOOKASIDE_LIST_EX Lookaside,
                                                       PALLOCATE_FUNCTION_EX Allocate,
                                                       PFREE_FUNCTION_EX Free, POOL_TYPE PoolType,
                                                       ULONG Flags, SIZE_T Size, ULONG Tag,
                                                       USHORT Depth);
NTKERNELAPI VOID NTAPI ExDeleteLookasideListEx(PLOOKASIDE_LIST_EX Lookaside);
/* Hands every held entry to the Free callback; the list stays usable. */
NTKERNELAPI VOID NTAPI ExFlushLookasideListEx(PLOOKASIDE_LIST_EX Lookaside);

FORCEINLINE PVOID ExAllocateFromLookasideListEx(PLOOKASIDE_LIST_EX Lookaside)
{
    PVOID Entry;
    Lookaside->L.TotalAllocates += 1;
    Entry = InterlockedPopEntrySList(&Lookaside->L.ListHead);
    if (Entry == NULL) {
        Lookaside->L.AllocateMisses += 1;
        Entry = (Lookaside->L.AllocateEx)(Lookaside->L.Type, Lookaside->L.Size, Lookaside->L.Tag,
                                          Lookaside);
    }
    return Entry;
}

FORCEINLINE VOID ExFreeToLookasideListEx(PLOOKASIDE_LIST_EX Lookaside, PVOID Entry)
{
    Lookaside->L.TotalFrees += 1;
    if (ExQueryDepthSList(&Lookaside->L.ListHead) >= Lookaside->L.Depth) {
        Lookaside->L.FreeMisses += 1;
        (Lookaside->L.FreeEx)(Entry, Lookaside);
    } else {
        InterlockedPushEntrySList(&Lookaside->L.ListHead, (PSLIST_ENTRY)Entry);
    }
}
