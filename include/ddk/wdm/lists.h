/*
 * include/ddk/wdm/lists.h - part of wdm.h: doubly and singly linked lists,
 * SLISTs, the interlocked list routines and their integrity checks.
 *
 * Models: the WDK's header-inline LIST_ENTRY routines with the Win8+
 * neighbour checks (always on here: NO_KERNEL_LIST_ENTRY_CHECKS is
 * ignored), which stop with KERNEL_SECURITY_CHECK_FAILURE 0x139 / 3 through
 * RtlFailFast; the x64 SLIST_HEADER (16 bytes, 16-aligned: Depth:16 and
 * Sequence:48 in the first quadword, the first entry >> 4 in the second).
 * Spec: spec/ke_rtl_registry.md 7; rules list.corrupt, list.slist-misaligned.
 * Not modelled: RtlFailFast's trap frame and exception record (P2, P3 are 0).
 */
#pragma once

/* ---- fail fast ----------------------------------------------------------- */
#define FAST_FAIL_LEGACY_GS_VIOLATION        0
#define FAST_FAIL_VTGUARD_CHECK_FAILURE      1
#define FAST_FAIL_STACK_COOKIE_CHECK_FAILURE 2
#define FAST_FAIL_CORRUPT_LIST_ENTRY         3
#define FAST_FAIL_INCORRECT_STACK            4
#define FAST_FAIL_INVALID_ARG                5
#define FAST_FAIL_GS_COOKIE_INIT             6
#define FAST_FAIL_FATAL_APP_EXIT             7
#define FAST_FAIL_RANGE_CHECK_FAILURE        8
#define FAST_FAIL_UNSAFE_REGISTRY_ACCESS     9
#define FAST_FAIL_INVALID_FAST_FAIL_CODE     0xFFFFFFFF

/* Any IRQL. Stops the machine with 0x139, P1 = Code (the WDK inlines this
 * as the __fastfail intrinsic; here it is a kernel export). Never returns. */
NTSYSAPI DECLSPEC_NORETURN VOID NTAPI RtlFailFast(ULONG Code);
#ifndef __fastfail
#define __fastfail(Code) RtlFailFast(Code)
#endif

/* ---- LIST_ENTRY (inline, any IRQL, caller synchronises) ------------------- */
FORCEINLINE VOID FatalListEntryError(PVOID P1, PVOID P2, PVOID P3)
{
    UNREFERENCED_PARAMETER(P1);
    UNREFERENCED_PARAMETER(P2);
    UNREFERENCED_PARAMETER(P3);
    RtlFailFast(FAST_FAIL_CORRUPT_LIST_ENTRY);
}

FORCEINLINE VOID RtlpCheckListEntry(PLIST_ENTRY Entry)
{
    if (Entry->Flink->Blink != Entry || Entry->Blink->Flink != Entry)
        FatalListEntryError(Entry->Blink, Entry, Entry->Flink);
}

FORCEINLINE VOID InitializeListHead(PLIST_ENTRY ListHead)
{
    ListHead->Flink = ListHead->Blink = ListHead;
}

FORCEINLINE BOOLEAN IsListEmpty(const LIST_ENTRY *ListHead)
{
    return (BOOLEAN)(ListHead->Flink == ListHead);
}

/* TRUE when the list became empty. */
FORCEINLINE BOOLEAN RemoveEntryListUnsafe(PLIST_ENTRY Entry)
{
    PLIST_ENTRY Flink = Entry->Flink, Blink = Entry->Blink;
    Blink->Flink = Flink;
    Flink->Blink = Blink;
    return (BOOLEAN)(Flink == Blink);
}

FORCEINLINE BOOLEAN RemoveEntryList(PLIST_ENTRY Entry)
{
    PLIST_ENTRY Flink = Entry->Flink, Blink = Entry->Blink;
    if (Flink->Blink != Entry || Blink->Flink != Entry)
        FatalListEntryError(Blink, Entry, Flink);
    Blink->Flink = Flink;
    Flink->Blink = Blink;
    return (BOOLEAN)(Flink == Blink);
}

/* Returns the first entry, or ListHead itself when the list is empty. */
FORCEINLINE PLIST_ENTRY RemoveHeadList(PLIST_ENTRY ListHead)
{
    PLIST_ENTRY Entry = ListHead->Flink, Flink = Entry->Flink;
    if (Entry->Blink != ListHead || Flink->Blink != Entry)
        FatalListEntryError(ListHead, Entry, Flink);
    ListHead->Flink = Flink;
    Flink->Blink = ListHead;
    return Entry;
}

/* Returns the last entry, or ListHead itself when the list is empty. */
FORCEINLINE PLIST_ENTRY RemoveTailList(PLIST_ENTRY ListHead)
{
    PLIST_ENTRY Entry = ListHead->Blink, Blink = Entry->Blink;
    if (Entry->Flink != ListHead || Blink->Flink != Entry)
        FatalListEntryError(Blink, Entry, ListHead);
    ListHead->Blink = Blink;
    Blink->Flink = ListHead;
    return Entry;
}

FORCEINLINE VOID InsertTailList(PLIST_ENTRY ListHead, PLIST_ENTRY Entry)
{
    PLIST_ENTRY Blink = ListHead->Blink;
    if (Blink->Flink != ListHead)
        FatalListEntryError(Blink, ListHead, Blink->Flink);
    Entry->Flink = ListHead;
    Entry->Blink = Blink;
    Blink->Flink = Entry;
    ListHead->Blink = Entry;
}

FORCEINLINE VOID InsertHeadList(PLIST_ENTRY ListHead, PLIST_ENTRY Entry)
{
    PLIST_ENTRY Flink = ListHead->Flink;
    if (Flink->Blink != ListHead)
        FatalListEntryError(ListHead, Flink, Flink->Blink);
    Entry->Flink = Flink;
    Entry->Blink = ListHead;
    Flink->Blink = Entry;
    ListHead->Flink = Entry;
}

/* Splices the ring that ListToAppend is part of (its first entry, with no
 * separate head) onto the tail of ListHead. */
FORCEINLINE VOID AppendTailList(PLIST_ENTRY ListHead, PLIST_ENTRY ListToAppend)
{
    PLIST_ENTRY ListEnd = ListHead->Blink;
    RtlpCheckListEntry(ListHead);
    RtlpCheckListEntry(ListToAppend);
    ListHead->Blink->Flink = ListToAppend;
    ListHead->Blink = ListToAppend->Blink;
    ListToAppend->Blink->Flink = ListHead;
    ListToAppend->Blink = ListEnd;
}

/* ---- SINGLE_LIST_ENTRY (inline) --------------------------------------------- */
/* Returns the first entry, or NULL when the list is empty. */
FORCEINLINE PSINGLE_LIST_ENTRY PopEntryList(PSINGLE_LIST_ENTRY ListHead)
{
    PSINGLE_LIST_ENTRY FirstEntry = ListHead->Next;
    if (FirstEntry != NULL)
        ListHead->Next = FirstEntry->Next;
    return FirstEntry;
}

FORCEINLINE VOID PushEntryList(PSINGLE_LIST_ENTRY ListHead, PSINGLE_LIST_ENTRY Entry)
{
    Entry->Next = ListHead->Next;
    ListHead->Next = Entry;
}

/* ---- interlocked lists (spin lock held, interrupts off) --------------------
 * Any IRQL when every user of the lock uses these routines. Each returns the
 * previous first entry (insert, push) or the removed one (remove, pop), NULL
 * when the list was empty. Never mix with the plain routines on one list. */
NTKERNELAPI PLIST_ENTRY NTAPI ExInterlockedInsertHeadList(PLIST_ENTRY ListHead,
                                                          PLIST_ENTRY ListEntry, PKSPIN_LOCK Lock);
NTKERNELAPI PLIST_ENTRY NTAPI ExInterlockedInsertTailList(PLIST_ENTRY ListHead,
                                                          PLIST_ENTRY ListEntry, PKSPIN_LOCK Lock);
NTKERNELAPI PLIST_ENTRY NTAPI ExInterlockedRemoveHeadList(PLIST_ENTRY ListHead, PKSPIN_LOCK Lock);
NTKERNELAPI PSINGLE_LIST_ENTRY NTAPI ExInterlockedPushEntryList(PSINGLE_LIST_ENTRY ListHead,
                                                                PSINGLE_LIST_ENTRY ListEntry,
                                                                PKSPIN_LOCK Lock);
NTKERNELAPI PSINGLE_LIST_ENTRY NTAPI ExInterlockedPopEntryList(PSINGLE_LIST_ENTRY ListHead,
                                                               PKSPIN_LOCK Lock);

/* ---- SLIST (x64 layout) ------------------------------------------------------ */
typedef struct DECLSPEC_ALIGN(16) _SLIST_ENTRY {
    struct _SLIST_ENTRY *Next;
} SLIST_ENTRY, *PSLIST_ENTRY;

typedef union DECLSPEC_ALIGN(16) _SLIST_HEADER {
    struct {
        ULONGLONG Alignment; /* Depth in bits 0-15, Sequence in 16-63 */
        ULONGLONG Region;    /* first entry, whose low 4 bits are zero */
    };
    struct {
        ULONGLONG Depth : 16;
        ULONGLONG Sequence : 48;
        ULONGLONG Reserved : 4;
        ULONGLONG NextEntry : 60; /* first entry >> 4 */
    } HeaderX64;
} SLIST_HEADER, *PSLIST_HEADER;

C_ASSERT(sizeof(SLIST_ENTRY) == 16);
C_ASSERT(sizeof(SLIST_HEADER) == 16);

/* Any IRQL. Empties the header; a header not 16-byte aligned stops the
 * machine (list.slist-misaligned). */
NTSYSAPI VOID NTAPI RtlInitializeSListHead(PSLIST_HEADER SListHead);
FORCEINLINE VOID InitializeSListHead(PSLIST_HEADER SListHead)
{
    RtlInitializeSListHead(SListHead);
}

/* Any IRQL; lock-free. Push returns the previous first entry, pop and flush
 * the removed one(s), NULL when empty. Entries must be 16-byte aligned
 * (list.slist-misaligned). The spin lock argument of the ExInterlocked
 * forms is ignored on x64, as on Windows. */
NTKERNELAPI PSLIST_ENTRY NTAPI ExpInterlockedPushEntrySList(PSLIST_HEADER ListHead,
                                                            PSLIST_ENTRY ListEntry);
NTKERNELAPI PSLIST_ENTRY NTAPI ExpInterlockedPopEntrySList(PSLIST_HEADER ListHead);
NTKERNELAPI PSLIST_ENTRY NTAPI ExpInterlockedFlushSList(PSLIST_HEADER ListHead);

#define InterlockedPushEntrySList(Head, Entry)         ExpInterlockedPushEntrySList(Head, Entry)
#define InterlockedPopEntrySList(Head)                 ExpInterlockedPopEntrySList(Head)
#define InterlockedFlushSList(Head)                    ExpInterlockedFlushSList(Head)
#define ExInterlockedPushEntrySList(Head, Entry, Lock) ExpInterlockedPushEntrySList(Head, Entry)
#define ExInterlockedPopEntrySList(Head, Lock)         ExpInterlockedPopEntrySList(Head)
#define ExInterlockedFlushSList(Head)                  ExpInterlockedFlushSList(Head)

/* <= DISPATCH_LEVEL. Entries on the list now (a snapshot). */
FORCEINLINE USHORT ExQueryDepthSList(PSLIST_HEADER SListHead)
{
    return (USHORT)(SListHead->Alignment & 0xFFFF);
}
#define QueryDepthSList(Head) ExQueryDepthSList(Head)

FORCEINLINE PSLIST_ENTRY FirstEntrySList(const SLIST_HEADER *SListHead)
{
    return (PSLIST_ENTRY)(ULONG_PTR)(SListHead->Region & ~(ULONGLONG)0xF);
}
