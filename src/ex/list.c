/*
 * src/ex/list.c - list integrity failures and the spin-lock interlocked lists.
 *
 * Models: RtlFailFast (the __fastfail intrinsic the WDK's inline list checks
 * end in): bug check 0x139 KERNEL_SECURITY_CHECK_FAILURE with P1 = the fast
 * fail code; ExInterlocked{Insert,Remove}*List and ExInterlocked{Push,Pop}
 * EntryList, which hold the caller's spin lock with interrupts off around
 * the same checked inline operations a driver uses.
 * Spec: spec/ke_rtl_registry.md 7; spec/verifier.md 8 (list.corrupt).
 * Invariants: an interlocked routine leaves the processor at the IRQL it
 * found and the lock released.
 * Not modelled: the trap frame and exception record (P2, P3 are 0); an
 * IRQL check (Windows allows any IRQL when every user of the lock uses
 * these routines, which wdmsim cannot see).
 */
#include <wdm.h>

#include "sys.h"

const struct vf_rule ex_rule_list_corrupt = {
    .id = "list.corrupt",
    .code = 0x139,
    .p1 = FAST_FAIL_CORRUPT_LIST_ENTRY,
    .params = {"trap frame (0: not modelled)", "exception record (0: not modelled)", "reserved"},
    .text = "a LIST_ENTRY neighbour check failed (double insert or remove, a freed entry still "
            "linked, or unsynchronised use)",
    .option = vf_opt_os,
    .fixture = "tests/fixtures/list-corrupt",
};

const struct vf_rule *const ex_list_vf_rules[ex_list_vf_rule_count] = {
    &ex_rule_list_corrupt,
    &ex_rule_list_slist_misaligned,
};

NTSYSAPI DECLSPEC_NORETURN VOID NTAPI RtlFailFast(ULONG Code)
{
    char where[256];
    vf_backtrace_describe(__builtin_return_address(0), where, sizeof(where));
    if (Code == FAST_FAIL_CORRUPT_LIST_ENTRY)
        vf_fire(&ex_rule_list_corrupt, 0, 0, 0,
                "LIST_ENTRY neighbour check failed in the list operation called from %s", where);
    /* list.corrupt is an OS rule and always stops; any other code is a
     * driver's own __fastfail. */
    ke_bugcheck(0x139, Code, 0, 0, 0, NULL, "fast fail code %u raised from %s", Code, where);
}

/* Interrupts off and the lock held: the processor goes to HIGH_LEVEL (no
 * interrupt or DPC can run) and takes the lock word with the kernel's
 * checks (recursion, Force IRQL trimming); lowering back is where pending
 * interrupts and DPCs catch up. */
static KIRQL lock_acquire(PKSPIN_LOCK lock)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    KIRQL old = ke_raise_irql(ke, HIGH_LEVEL);
    ke_lock_take(ke, lock);
    return old;
}

static void lock_release(PKSPIN_LOCK lock, KIRQL old)
{
    struct ke *ke = &sys_get()->ke;
    ke_lock_drop(ke, lock);
    ke_lower_irql(ke, old);
}

NTKERNELAPI PLIST_ENTRY NTAPI ExInterlockedInsertHeadList(PLIST_ENTRY ListHead,
                                                          PLIST_ENTRY ListEntry, PKSPIN_LOCK Lock)
{
    KIRQL old = lock_acquire(Lock);
    PLIST_ENTRY first = ListHead->Flink;
    InsertHeadList(ListHead, ListEntry);
    lock_release(Lock, old);
    return first == ListHead ? NULL : first;
}

NTKERNELAPI PLIST_ENTRY NTAPI ExInterlockedInsertTailList(PLIST_ENTRY ListHead,
                                                          PLIST_ENTRY ListEntry, PKSPIN_LOCK Lock)
{
    KIRQL old = lock_acquire(Lock);
    PLIST_ENTRY last = ListHead->Blink;
    InsertTailList(ListHead, ListEntry);
    lock_release(Lock, old);
    return last == ListHead ? NULL : last;
}

NTKERNELAPI PLIST_ENTRY NTAPI ExInterlockedRemoveHeadList(PLIST_ENTRY ListHead, PKSPIN_LOCK Lock)
{
    KIRQL old = lock_acquire(Lock);
    PLIST_ENTRY entry = NULL;
    if (!IsListEmpty(ListHead))
        entry = RemoveHeadList(ListHead);
    lock_release(Lock, old);
    return entry;
}

NTKERNELAPI PSINGLE_LIST_ENTRY NTAPI ExInterlockedPushEntryList(PSINGLE_LIST_ENTRY ListHead,
                                                                PSINGLE_LIST_ENTRY ListEntry,
                                                                PKSPIN_LOCK Lock)
{
    KIRQL old = lock_acquire(Lock);
    PSINGLE_LIST_ENTRY first = ListHead->Next;
    PushEntryList(ListHead, ListEntry);
    lock_release(Lock, old);
    return first;
}

NTKERNELAPI PSINGLE_LIST_ENTRY NTAPI ExInterlockedPopEntryList(PSINGLE_LIST_ENTRY ListHead,
                                                               PKSPIN_LOCK Lock)
{
    KIRQL old = lock_acquire(Lock);
    PSINGLE_LIST_ENTRY entry = PopEntryList(ListHead);
    lock_release(Lock, old);
    return entry;
}
