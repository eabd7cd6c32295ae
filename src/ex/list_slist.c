/*
 * src/ex/list_slist.c - sequenced singly linked lists (SLIST), lock-free.
 *
 * Models: the x64 SLIST_HEADER: one 16-byte word holding Depth (16 bits),
 * Sequence (48 bits) and the first entry, updated by one 16-byte compare-
 * and-swap (lock cmpxchg16b), so push and pop are lock-free at any IRQL.
 * Sequence grows on every push, which defeats the ABA race of pop.
 * Spec: spec/ke_rtl_registry.md 7; spec/verifier.md 8 (list.slist-misaligned).
 * Invariants: Depth equals the number of entries reachable from the header
 * (for lists used only through these routines).
 * Not modelled: the 0x139 an entry freed by one processor while another
 * pops it would cause on Windows (here the stale Next is read and the CAS
 * fails or succeeds as on real hardware).
 */
#include <wdm.h>

#include "sys.h"

const struct vf_rule ex_rule_list_slist_misaligned = {
    .id = "list.slist-misaligned",
    .code = 0x139,
    .p1 = 0x57000001,
    .params = {"entry or header", "operation: 0 init, 1 push, 2 pop, 3 flush", "reserved"},
    .text = "an SLIST header or entry is not 16-byte aligned (x64 requires it; allocate it "
            "from pool or declare it DECLSPEC_ALIGN(16))",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/list-slist-misaligned",
};

static const char *const op_name[] = {"InitializeSListHead", "push", "pop", "flush"};

static void check_aligned(const void *p, unsigned op, const char *what)
{
    if ((uintptr_t)p & 15)
        vf_fire(&ex_rule_list_slist_misaligned, (uintptr_t)p, op, 0,
                "SLIST %s: the %s at %p is not 16-byte aligned", op_name[op], what, p);
}

/* 16-byte compare-and-swap of the header; on failure *lo, *hi get the
 * current value. */
static inline bool cas128(PSLIST_HEADER h, uint64_t *lo, uint64_t *hi, uint64_t nlo, uint64_t nhi)
{
    bool ok;
    __asm__ __volatile__("lock cmpxchg16b %1"
                         : "=@ccz"(ok), "+m"(*h), "+a"(*lo), "+d"(*hi)
                         : "b"(nlo), "c"(nhi)
                         : "memory");
    return ok;
}

/* Without sharing, the same update as plain stores: nothing else runs
 * between the read and the write on the one host thread (a fiber switch
 * happens only at a scheduling point, never inside these routines). */
static inline bool update(PSLIST_HEADER h, uint64_t *lo, uint64_t *hi, uint64_t nlo, uint64_t nhi)
{
    struct sys *sys = sys_get();
    if (!sys || sys->ex.slist_atomic)
        return cas128(h, lo, hi, nlo, nhi);
    h->Alignment = nlo;
    h->Region = nhi;
    return true;
}

NTSYSAPI VOID NTAPI RtlInitializeSListHead(PSLIST_HEADER SListHead)
{
    check_aligned(SListHead, 0, "header");
    SListHead->Alignment = 0;
    SListHead->Region = 0;
}

NTKERNELAPI PSLIST_ENTRY NTAPI ExpInterlockedPushEntrySList(PSLIST_HEADER ListHead,
                                                            PSLIST_ENTRY ListEntry)
{
    check_aligned(ListHead, 1, "header");
    check_aligned(ListEntry, 1, "entry");
    uint64_t lo = ListHead->Alignment, hi = ListHead->Region;
    for (;;) {
        ListEntry->Next = (PSLIST_ENTRY)(uintptr_t)(hi & ~(uint64_t)15);
        /* Depth + 1 and Sequence + 1 in one add; Depth wraps at 16 bits as
         * on Windows, but never carries into Sequence. */
        uint64_t depth = ((lo & 0xFFFF) + 1) & 0xFFFF;
        uint64_t nlo = ((lo & ~(uint64_t)0xFFFF) + 0x10000) | depth;
        if (update(ListHead, &lo, &hi, nlo, (uintptr_t)ListEntry))
            return ListEntry->Next;
    }
}

NTKERNELAPI PSLIST_ENTRY NTAPI ExpInterlockedPopEntrySList(PSLIST_HEADER ListHead)
{
    check_aligned(ListHead, 2, "header");
    uint64_t lo = ListHead->Alignment, hi = ListHead->Region;
    for (;;) {
        PSLIST_ENTRY first = (PSLIST_ENTRY)(uintptr_t)(hi & ~(uint64_t)15);
        if (!first)
            return NULL;
        uint64_t nlo = (lo & ~(uint64_t)0xFFFF) | (((lo & 0xFFFF) - 1) & 0xFFFF);
        if (update(ListHead, &lo, &hi, nlo, (uintptr_t)first->Next))
            return first;
    }
}

NTKERNELAPI PSLIST_ENTRY NTAPI ExpInterlockedFlushSList(PSLIST_HEADER ListHead)
{
    check_aligned(ListHead, 3, "header");
    uint64_t lo = ListHead->Alignment, hi = ListHead->Region;
    for (;;) {
        if (!(hi & ~(uint64_t)15))
            return NULL;
        if (update(ListHead, &lo, &hi, lo & ~(uint64_t)0xFFFF, 0))
            return (PSLIST_ENTRY)(uintptr_t)(hi & ~(uint64_t)15);
    }
}
