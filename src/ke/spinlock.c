/*
 * src/ke/spinlock.c - spin locks: ordinary, at DPC level, for DPCs and
 * in-stack queued.
 *
 * Models: KSPIN_LOCK as on x64 (spec ke_rtl_registry.md 2): acquiring
 * raises to DISPATCH_LEVEL (or requires it, for the AtDpcLevel forms) and
 * spins while another processor holds the lock. A spin is a scheduling
 * point (the holder gets to run); a spin that can never end is reported as
 * lock.order (sched.c) instead of hanging.
 * The lock word holds the owning processor number + 1 (0 = free), which
 * gives recursion and unowned-release checks for free. Queued locks use the
 * same word: the queue discipline only changes who wins, which here is
 * the scheduler's choice anyway.
 * Spec: verifier.md 4: lock.release-not-dispatch, lock.atdpc-below-dispatch,
 * lock.acquire-above-dispatch, lock.kernel-release, lock.recursive,
 * lock.release-unowned.
 * Not modelled: lock.release-mismatch (queued vs ordinary), the lock
 * hierarchy of Driver Verifier's deadlock detection beyond spin cycles.
 */
#include <wdm.h>

#include "sys.h"

const struct vf_rule ke_rule_recursive = {
    .id = "lock.recursive",
    .code = 0xC4,
    .p1 = 0x1000,
    .params = {"lock", "processor (or thread for a mutex)", "0"},
    .text = "a processor acquires a spin lock (or a thread a fast mutex) it already holds: "
            "this deadlocks at once",
    .option = vf_opt_deadlock,
    .fixture = "tests/fixtures/lock-recursive",
};

const struct vf_rule ke_rule_release_unowned = {
    .id = "lock.release-unowned",
    .code = 0xC4,
    .p1 = 0x1007,
    .params = {"lock", "owner processor + 1 (0: not held)", "releasing processor"},
    .text = "release of a spin lock this processor does not hold",
    .option = vf_opt_deadlock,
    .fixture = "tests/fixtures/lock-release-unowned",
};

const struct vf_rule ke_rule_release_not_dispatch = {
    .id = "lock.release-not-dispatch",
    .code = 0xC4,
    .p1 = 0x32,
    .params = {"current IRQL", "lock", "0"},
    .text = "KeReleaseSpinLock at an IRQL other than DISPATCH_LEVEL (often a double release)",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/lock-release-not-dispatch",
};

const struct vf_rule ke_rule_atdpc_below_dispatch = {
    .id = "lock.atdpc-below-dispatch",
    .code = 0xC4,
    .p1 = 0x40,
    .params = {"current IRQL", "lock", "0"},
    .text = "KeAcquireSpinLockAtDpcLevel (0x40) or KeReleaseSpinLockFromDpcLevel (0x41) below "
            "DISPATCH_LEVEL",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/lock-atdpc-below-dispatch",
};

const struct vf_rule ke_rule_acquire_above_dispatch = {
    .id = "lock.acquire-above-dispatch",
    .code = 0xC4,
    .p1 = 0x42,
    .params = {"current IRQL", "lock", "0"},
    .text = "KeAcquireSpinLock above DISPATCH_LEVEL",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/lock-acquire-above-dispatch",
};

const struct vf_rule ke_rule_kernel_release = {
    .id = "lock.kernel-release",
    .code = 0xC4,
    .p1 = 0x35,
    .params = {"current IRQL", "lock", "old IRQL in the handle"},
    .text = "KeReleaseInStackQueuedSpinLock at an IRQL other than DISPATCH_LEVEL (0x35), or "
            "...FromDpcLevel below it (0x36)",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/lock-kernel-release",
};

void ke_lock_take(struct ke *ke, volatile unsigned long long *lock)
{
    ke_force_irql_trim(ke);
    uint64_t me = ke->current + 1;
    if (*lock == me)
        vf_fire(&ke_rule_recursive, (uint64_t)(uintptr_t)lock, ke->current, 0,
                "[lock %p] processor %u acquires a spin lock it holds", (void *)lock, ke->current);
    if (*lock)
        ke_spin_wait(ke, lock);
    *lock = ke->current + 1;
    ke_trace_addr(ke, ke_ev_lock_acquire, (const void *)lock);
}

bool ke_lock_try(struct ke *ke, volatile unsigned long long *lock)
{
    if (*lock)
        return false;
    *lock = ke->current + 1;
    ke_trace_addr(ke, ke_ev_lock_acquire, (const void *)lock);
    return true;
}

void ke_lock_drop(struct ke *ke, volatile unsigned long long *lock)
{
    uint64_t me = ke->current + 1;
    if (*lock != me)
        vf_fire(&ke_rule_release_unowned, (uint64_t)(uintptr_t)lock, *lock, ke->current,
                "[lock %p] processor %u releases a lock %s", (void *)lock, ke->current,
                *lock ? "another processor holds" : "nobody holds");
    *lock = 0;
}

NTKERNELAPI VOID NTAPI KeInitializeSpinLock(PKSPIN_LOCK SpinLock)
{
    *SpinLock = 0;
}

NTKERNELAPI KIRQL NTAPI KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK SpinLock)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    uint8_t cur = ke_irql(ke);
    if (cur > DISPATCH_LEVEL)
        vf_fire(&ke_rule_acquire_above_dispatch, cur, (uint64_t)(uintptr_t)SpinLock, 0,
                "[lock %p] KeAcquireSpinLock at IRQL %u", (void *)SpinLock, cur);
    uint8_t old = ke_raise_irql(ke, DISPATCH_LEVEL);
    ke_lock_take(ke, SpinLock);
    return old;
}

NTKERNELAPI VOID NTAPI KeReleaseSpinLock(PKSPIN_LOCK SpinLock, KIRQL NewIrql)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    uint8_t cur = ke_irql(ke);
    if (cur != DISPATCH_LEVEL)
        vf_fire(&ke_rule_release_not_dispatch, cur, (uint64_t)(uintptr_t)SpinLock, 0,
                "[lock %p] KeReleaseSpinLock at IRQL %u", (void *)SpinLock, cur);
    ke_lock_drop(ke, SpinLock);
    KeLowerIrql(NewIrql);
}

NTKERNELAPI VOID NTAPI KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    uint8_t cur = ke_irql(ke);
    if (cur < DISPATCH_LEVEL)
        ke_violation(&ke_rule_atdpc_below_dispatch, 0x40, cur, (uint64_t)(uintptr_t)SpinLock, 0,
                     "[lock %p] KeAcquireSpinLockAtDpcLevel at IRQL %u", (void *)SpinLock, cur);
    ke_lock_take(ke, SpinLock);
}

NTKERNELAPI VOID NTAPI KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK SpinLock)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    uint8_t cur = ke_irql(ke);
    if (cur < DISPATCH_LEVEL)
        ke_violation(&ke_rule_atdpc_below_dispatch, 0x41, cur, (uint64_t)(uintptr_t)SpinLock, 0,
                     "[lock %p] KeReleaseSpinLockFromDpcLevel at IRQL %u", (void *)SpinLock, cur);
    ke_lock_drop(ke, SpinLock);
}

NTKERNELAPI BOOLEAN NTAPI KeTryToAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    uint8_t cur = ke_irql(ke);
    if (cur < DISPATCH_LEVEL)
        ke_violation(&ke_rule_atdpc_below_dispatch, 0x40, cur, (uint64_t)(uintptr_t)SpinLock, 0,
                     "[lock %p] KeTryToAcquireSpinLockAtDpcLevel at IRQL %u", (void *)SpinLock,
                     cur);
    if (*SpinLock == ke->current + 1)
        vf_fire(&ke_rule_recursive, (uint64_t)(uintptr_t)SpinLock, ke->current, 0,
                "[lock %p] processor %u tries a spin lock it holds", (void *)SpinLock, ke->current);
    return ke_lock_try(ke, SpinLock) ? TRUE : FALSE;
}

NTKERNELAPI KIRQL NTAPI KeAcquireSpinLockForDpc(PKSPIN_LOCK SpinLock)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    uint8_t cur = ke_irql(ke);
    if (cur > DISPATCH_LEVEL)
        vf_fire(&ke_rule_acquire_above_dispatch, cur, (uint64_t)(uintptr_t)SpinLock, 0,
                "[lock %p] KeAcquireSpinLockForDpc at IRQL %u", (void *)SpinLock, cur);
    uint8_t old = ke_raise_irql(ke, DISPATCH_LEVEL);
    ke_lock_take(ke, SpinLock);
    return old;
}

NTKERNELAPI VOID NTAPI KeReleaseSpinLockForDpc(PKSPIN_LOCK SpinLock, KIRQL OldIrql)
{
    KeReleaseSpinLock(SpinLock, OldIrql);
}

/* ---- in-stack queued spin locks ------------------------------------------------- */

NTKERNELAPI VOID NTAPI KeAcquireInStackQueuedSpinLock(PKSPIN_LOCK SpinLock,
                                                      PKLOCK_QUEUE_HANDLE LockHandle)
{
    LockHandle->LockQueue.Next = NULL;
    LockHandle->LockQueue.Lock = SpinLock;
    LockHandle->OldIrql = KeAcquireSpinLockRaiseToDpc(SpinLock);
}

NTKERNELAPI VOID NTAPI KeReleaseInStackQueuedSpinLock(PKLOCK_QUEUE_HANDLE LockHandle)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    uint8_t cur = ke_irql(ke);
    PKSPIN_LOCK lock = LockHandle->LockQueue.Lock;
    if (cur != DISPATCH_LEVEL)
        ke_violation(&ke_rule_kernel_release, 0x35, cur, (uint64_t)(uintptr_t)lock,
                     LockHandle->OldIrql, "[lock %p] KeReleaseInStackQueuedSpinLock at IRQL %u",
                     (void *)lock, cur);
    if (!lock)
        vf_fire(&ke_rule_release_unowned, 0, 0, ke->current,
                "KeReleaseInStackQueuedSpinLock with a handle no acquisition filled");
    else
        ke_lock_drop(ke, lock);
    LockHandle->LockQueue.Lock = NULL;
    KeLowerIrql(LockHandle->OldIrql);
}

NTKERNELAPI VOID NTAPI KeAcquireInStackQueuedSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock,
                                                                PKLOCK_QUEUE_HANDLE LockHandle)
{
    LockHandle->LockQueue.Next = NULL;
    LockHandle->LockQueue.Lock = SpinLock;
    LockHandle->OldIrql = DISPATCH_LEVEL;
    KeAcquireSpinLockAtDpcLevel(SpinLock);
}

NTKERNELAPI VOID NTAPI KeReleaseInStackQueuedSpinLockFromDpcLevel(PKLOCK_QUEUE_HANDLE LockHandle)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    uint8_t cur = ke_irql(ke);
    PKSPIN_LOCK lock = LockHandle->LockQueue.Lock;
    if (cur < DISPATCH_LEVEL)
        ke_violation(
            &ke_rule_kernel_release, 0x36, cur, (uint64_t)(uintptr_t)lock, LockHandle->OldIrql,
            "[lock %p] KeReleaseInStackQueuedSpinLockFromDpcLevel at IRQL %u", (void *)lock, cur);
    if (!lock)
        vf_fire(&ke_rule_release_unowned, 0, 0, ke->current,
                "KeReleaseInStackQueuedSpinLockFromDpcLevel with an unfilled handle");
    else
        ke_lock_drop(ke, lock);
    LockHandle->LockQueue.Lock = NULL;
}
