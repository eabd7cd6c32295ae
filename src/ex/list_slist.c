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

/* Cold and ms_abi like its callers: an ms_abi routine that calls a sysv
 * one must save xmm6-15 around the call, and gcc does it in the prologue,
 * which would put ten stores on every push and pop. */
static NTAPI __attribute__((noinline, cold)) void misaligned(const void *p, unsigned op,
                                                             const char *what)
{
    vf_fire(&ex_rule_list_slist_misaligned, (uintptr_t)p, op, 0,
            "SLIST %s: the %s at %p is not 16-byte aligned", op_name[op], what, p);
}

static inline void check_aligned(const void *p, unsigned op, const char *what)
{
    if (__builtin_expect((uintptr_t)p & 15, 0))
        misaligned(p, op, what);
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

/* Shared by several host threads: the lock-free loops. */
static NTAPI __attribute__((noinline)) PSLIST_ENTRY push_atomic(PSLIST_HEADER h, PSLIST_ENTRY e)
{
    uint64_t lo = h->Alignment, hi = h->Region;
    for (;;) {
        e->Next = (PSLIST_ENTRY)(uintptr_t)(hi & ~(uint64_t)15);
        /* Depth + 1 and Sequence + 1; Depth wraps at 16 bits as on
         * Windows, but never carries into Sequence. */
        uint64_t nlo = ((lo & ~(uint64_t)0xFFFF) + 0x10000) | (((lo & 0xFFFF) + 1) & 0xFFFF);
        if (cas128(h, &lo, &hi, nlo, (uintptr_t)e))
            return e->Next;
    }
}

static NTAPI __attribute__((noinline)) PSLIST_ENTRY pop_atomic(PSLIST_HEADER h)
{
    uint64_t lo = h->Alignment, hi = h->Region;
    for (;;) {
        PSLIST_ENTRY first = (PSLIST_ENTRY)(uintptr_t)(hi & ~(uint64_t)15);
        if (!first)
            return NULL;
        uint64_t nlo = (lo & ~(uint64_t)0xFFFF) | (((lo & 0xFFFF) - 1) & 0xFFFF);
        if (cas128(h, &lo, &hi, nlo, (uintptr_t)first->Next))
            return first;
    }
}

static NTAPI __attribute__((noinline)) PSLIST_ENTRY flush_atomic(PSLIST_HEADER h)
{
    uint64_t lo = h->Alignment, hi = h->Region;
    for (;;) {
        if (!(hi & ~(uint64_t)15))
            return NULL;
        if (cas128(h, &lo, &hi, lo & ~(uint64_t)0xFFFF, 0))
            return (PSLIST_ENTRY)(uintptr_t)(hi & ~(uint64_t)15);
    }
}

/* One host thread: plain loads and stores do the same update, since
 * nothing else runs between them (a fiber switch happens only at a
 * scheduling point, never inside these routines). */
static inline bool shared(void)
{
    struct sys *sys = sys_get();
    return __builtin_expect(!sys || sys->ex.slist_atomic, 0);
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
    if (shared())
        return push_atomic(ListHead, ListEntry);
    PSLIST_ENTRY first = (PSLIST_ENTRY)(uintptr_t)(ListHead->Region & ~(uint64_t)15);
    uint64_t lo = ListHead->Alignment;
    ListEntry->Next = first;
    ListHead->Region = (uintptr_t)ListEntry;
    ListHead->Alignment = ((lo & ~(uint64_t)0xFFFF) + 0x10000) | (((lo & 0xFFFF) + 1) & 0xFFFF);
    return first;
}

NTKERNELAPI PSLIST_ENTRY NTAPI ExpInterlockedPopEntrySList(PSLIST_HEADER ListHead)
{
    check_aligned(ListHead, 2, "header");
    if (shared())
        return pop_atomic(ListHead);
    PSLIST_ENTRY first = (PSLIST_ENTRY)(uintptr_t)(ListHead->Region & ~(uint64_t)15);
    if (!first)
        return NULL;
    uint64_t lo = ListHead->Alignment;
    ListHead->Region = (uintptr_t)first->Next;
    ListHead->Alignment = (lo & ~(uint64_t)0xFFFF) | (((lo & 0xFFFF) - 1) & 0xFFFF);
    return first;
}

NTKERNELAPI PSLIST_ENTRY NTAPI ExpInterlockedFlushSList(PSLIST_HEADER ListHead)
{
    check_aligned(ListHead, 3, "header");
    if (shared())
        return flush_atomic(ListHead);
    PSLIST_ENTRY first = (PSLIST_ENTRY)(uintptr_t)(ListHead->Region & ~(uint64_t)15);
    ListHead->Region = 0;
    ListHead->Alignment &= ~(uint64_t)0xFFFF;
    return first;
}
