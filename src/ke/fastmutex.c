/*
 * src/ke/fastmutex.c - fast mutexes.
 *
 * Models: FAST_MUTEX (and KGUARDED_MUTEX, same layout here): acquiring at
 * IRQL <= APC_LEVEL raises to APC_LEVEL and keeps the old IRQL in the
 * mutex; a contended acquire waits on the embedded synchronization event;
 * the release must come at APC_LEVEL and restores the saved IRQL.
 * Count is 1 when free, 0 when owned; Owner is the owning thread.
 * Spec: verifier.md 4 lock.fast-mutex (0x33 acquire above APC_LEVEL, 0x34
 * release at an IRQL other than APC_LEVEL), lock.recursive (a thread
 * acquiring a fast mutex it owns deadlocks on Windows).
 * Not modelled: the Unsafe variants' critical-region requirement.
 */
#include <wdm.h>

#include "sys.h"

const struct vf_rule ke_rule_fast_mutex = {
    .id = "lock.fast-mutex",
    .code = 0xC4,
    .p1 = 0x33,
    .params = {"current IRQL", "fast mutex", "0"},
    .text = "ExAcquireFastMutex above APC_LEVEL (0x33) or ExReleaseFastMutex at an IRQL other "
            "than APC_LEVEL (0x34)",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/lock-fast-mutex",
};

NTKERNELAPI VOID NTAPI ExInitializeFastMutex(PFAST_MUTEX FastMutex)
{
    FastMutex->Count = 1;
    FastMutex->Owner = NULL;
    FastMutex->Contention = 0;
    FastMutex->OldIrql = PASSIVE_LEVEL;
    KeInitializeEvent(&FastMutex->Event, SynchronizationEvent, FALSE);
}

static void take(struct ke *ke, PFAST_MUTEX m)
{
    void *me = ke_current_thread(ke);
    if (m->Owner == me && me)
        vf_fire(&ke_rule_recursive, (uint64_t)(uintptr_t)m, (uint64_t)(uintptr_t)me, 0,
                "[fast mutex %p] the owning thread acquires it again", (void *)m);
    while (m->Count != 1) {
        m->Contention++;
        void *ev = &m->Event;
        ke_wait(ke, 1, &ev, false, NULL);
    }
    m->Count = 0;
    m->Owner = me;
}

static void give(struct ke *ke, PFAST_MUTEX m)
{
    m->Owner = NULL;
    m->Count = 1;
    if (m->Event.Header.WaitListHead.Flink &&
        m->Event.Header.WaitListHead.Flink != &m->Event.Header.WaitListHead) {
        m->Event.Header.SignalState = 1;
        ke_object_signal(ke, &m->Event.Header);
    }
}

NTKERNELAPI VOID FASTCALL ExAcquireFastMutex(PFAST_MUTEX FastMutex)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    uint8_t cur = ke_irql(ke);
    if (cur > APC_LEVEL)
        ke_violation(&ke_rule_fast_mutex, 0x33, cur, (uint64_t)(uintptr_t)FastMutex, 0,
                     "[fast mutex %p] ExAcquireFastMutex at IRQL %u", (void *)FastMutex, cur);
    uint8_t old = ke_raise_irql(ke, APC_LEVEL);
    take(ke, FastMutex);
    FastMutex->OldIrql = old;
}

NTKERNELAPI BOOLEAN FASTCALL ExTryToAcquireFastMutex(PFAST_MUTEX FastMutex)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    uint8_t cur = ke_irql(ke);
    if (cur > APC_LEVEL)
        ke_violation(&ke_rule_fast_mutex, 0x33, cur, (uint64_t)(uintptr_t)FastMutex, 0,
                     "[fast mutex %p] ExTryToAcquireFastMutex at IRQL %u", (void *)FastMutex, cur);
    if (FastMutex->Count != 1)
        return FALSE;
    uint8_t old = ke_raise_irql(ke, APC_LEVEL);
    take(ke, FastMutex);
    FastMutex->OldIrql = old;
    return TRUE;
}

NTKERNELAPI VOID FASTCALL ExReleaseFastMutex(PFAST_MUTEX FastMutex)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    uint8_t cur = ke_irql(ke);
    if (cur != APC_LEVEL)
        ke_violation(&ke_rule_fast_mutex, 0x34, cur, (uint64_t)(uintptr_t)FastMutex, 0,
                     "[fast mutex %p] ExReleaseFastMutex at IRQL %u", (void *)FastMutex, cur);
    uint8_t old = (uint8_t)FastMutex->OldIrql;
    give(ke, FastMutex);
    ke_lower_irql(ke, old);
}

NTKERNELAPI VOID FASTCALL ExAcquireFastMutexUnsafe(PFAST_MUTEX FastMutex)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    take(ke, FastMutex);
}

NTKERNELAPI VOID FASTCALL ExReleaseFastMutexUnsafe(PFAST_MUTEX FastMutex)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    give(ke, FastMutex);
}
