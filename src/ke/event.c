/*
 * src/ke/event.c - events, semaphores and mutexes.
 *
 * Models: the signalling half of the dispatcher objects (spec
 * ke_rtl_registry.md 4); waiting is wait.c. KeSetEvent wakes every waiter
 * of a notification event and one of a synchronization event; a semaphore
 * release wakes as many as its count allows; a mutex is recursive for its
 * owner and wakes one waiter when its owner lets go the last time.
 * Spec: verifier.md 4 ke.setevent-irql; irql.api (IrqlKeDispatchLte
 * 0x00020011 for the routines that allow at most DISPATCH_LEVEL).
 * Not modelled: priority increments, KeSetEvent(Wait = TRUE) keeping IRQL
 * raised, mutex levels and APC disabling, abandoned mutexes.
 */
#include <wdm.h>

#include "sys.h"

enum { ddi_ke_dispatch_lte = 0x00020011, ddi_ke_set_event = 0x00020016 };

static void header_init(DISPATCHER_HEADER *h, UCHAR type, UCHAR size_bytes, LONG state)
{
    h->Type = type;
    h->Signalling = 0;
    h->Size = (UCHAR)(size_bytes / sizeof(LONG));
    h->Reserved1 = 0;
    h->SignalState = state;
    InitializeListHead(&h->WaitListHead);
}

/* ---- events ------------------------------------------------------------------------- */

const struct vf_rule ke_rule_setevent_irql = {
    .id = "ke.setevent-irql",
    .code = 0xC4,
    .p1 = 0x80,
    .params = {"current IRQL", "event", "0"},
    .text = "KeSetEvent above DISPATCH_LEVEL",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/ke-setevent-irql",
};

NTKERNELAPI VOID NTAPI KeInitializeEvent(PRKEVENT Event, EVENT_TYPE Type, BOOLEAN State)
{
    header_init(&Event->Header, (UCHAR)Type, sizeof(KEVENT), State ? 1 : 0);
}

NTKERNELAPI LONG NTAPI KeSetEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait)
{
    struct ke *ke = &sys_get()->ke;
    (void)Increment, (void)Wait;
    ke_sched_point(ke);
    uint8_t cur = ke_irql(ke);
    if (cur > DISPATCH_LEVEL)
        vf_fire(&ke_rule_setevent_irql, cur, (uint64_t)(uintptr_t)Event, 0,
                "[event %p] KeSetEvent at IRQL %u", (void *)Event, cur);
    LONG prev = Event->Header.SignalState;
    Event->Header.SignalState = 1;
    ke_object_signal(ke, &Event->Header);
    return prev;
}

NTKERNELAPI LONG NTAPI KeResetEvent(PRKEVENT Event)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    ke_check_irql_max(ke, DISPATCH_LEVEL, ddi_ke_dispatch_lte, "KeResetEvent");
    LONG prev = Event->Header.SignalState;
    Event->Header.SignalState = 0;
    return prev;
}

NTKERNELAPI VOID NTAPI KeClearEvent(PRKEVENT Event)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    ke_check_irql_max(ke, DISPATCH_LEVEL, ddi_ke_dispatch_lte, "KeClearEvent");
    Event->Header.SignalState = 0;
}

NTKERNELAPI LONG NTAPI KeReadStateEvent(PRKEVENT Event)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    ke_check_irql_max(ke, DISPATCH_LEVEL, ddi_ke_dispatch_lte, "KeReadStateEvent");
    return Event->Header.SignalState;
}

NTKERNELAPI LONG NTAPI KePulseEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait)
{
    struct ke *ke = &sys_get()->ke;
    ke_check_irql_max(ke, DISPATCH_LEVEL, ddi_ke_dispatch_lte, "KePulseEvent");
    LONG prev = KeSetEvent(Event, Increment, Wait);
    Event->Header.SignalState = 0;
    return prev;
}

/* ---- semaphores ------------------------------------------------------------------- */

NTKERNELAPI VOID NTAPI KeInitializeSemaphore(PRKSEMAPHORE Semaphore, LONG Count, LONG Limit)
{
    struct ke *ke = &sys_get()->ke;
    ke_check_irql_max(ke, DISPATCH_LEVEL, ddi_ke_dispatch_lte, "KeInitializeSemaphore");
    header_init(&Semaphore->Header, 5, sizeof(KSEMAPHORE), Count);
    Semaphore->Limit = Limit;
}

NTKERNELAPI LONG NTAPI KeReleaseSemaphore(PRKSEMAPHORE Semaphore, KPRIORITY Increment,
                                          LONG Adjustment, BOOLEAN Wait)
{
    struct ke *ke = &sys_get()->ke;
    (void)Increment, (void)Wait;
    ke_sched_point(ke);
    ke_check_irql_max(ke, DISPATCH_LEVEL, ddi_ke_dispatch_lte, "KeReleaseSemaphore");
    LONG prev = Semaphore->Header.SignalState;
    if (Adjustment <= 0 || prev > Semaphore->Limit - Adjustment)
        /* Windows raises STATUS_SEMAPHORE_LIMIT_EXCEEDED; unhandled in a
         * driver, that is this stop. */
        ke_bugcheck(0x1E, 0xC0000047, (uint64_t)(uintptr_t)__builtin_return_address(0),
                    (uint64_t)(uintptr_t)Semaphore, (uint64_t)Adjustment, NULL,
                    "[semaphore %p] KeReleaseSemaphore(%d) past its limit %d (count %d)",
                    (void *)Semaphore, Adjustment, Semaphore->Limit, prev);
    Semaphore->Header.SignalState = prev + Adjustment;
    ke_object_signal(ke, &Semaphore->Header);
    return prev;
}

NTKERNELAPI LONG NTAPI KeReadStateSemaphore(PRKSEMAPHORE Semaphore)
{
    return Semaphore->Header.SignalState;
}

/* ---- mutexes ----------------------------------------------------------------------- */

NTKERNELAPI VOID NTAPI KeInitializeMutex(PRKMUTEX Mutex, ULONG Level)
{
    (void)Level;
    header_init(&Mutex->Header, 2, sizeof(KMUTEX), 1);
    InitializeListHead(&Mutex->MutantListEntry);
    Mutex->OwnerThread = NULL;
    Mutex->Abandoned = FALSE;
    Mutex->ApcDisable = 1;
}

NTKERNELAPI LONG NTAPI KeReleaseMutex(PRKMUTEX Mutex, BOOLEAN Wait)
{
    struct ke *ke = &sys_get()->ke;
    (void)Wait;
    ke_sched_point(ke);
    ke_check_irql_max(ke, DISPATCH_LEVEL, ddi_ke_dispatch_lte, "KeReleaseMutex");
    PKTHREAD me = (PKTHREAD)ke_current_thread(ke);
    LONG prev = Mutex->Header.SignalState;
    if (Mutex->OwnerThread != me || prev > 0)
        /* STATUS_MUTANT_NOT_OWNED, raised and unhandled. */
        ke_bugcheck(0x1E, 0xC0000046, (uint64_t)(uintptr_t)__builtin_return_address(0),
                    (uint64_t)(uintptr_t)Mutex, (uint64_t)(uintptr_t)Mutex->OwnerThread, NULL,
                    "[mutex %p] KeReleaseMutex by a thread that does not own it", (void *)Mutex);
    Mutex->Header.SignalState = prev + 1;
    if (Mutex->Header.SignalState == 1) {
        Mutex->OwnerThread = NULL;
        ke_object_signal(ke, &Mutex->Header);
    }
    return prev;
}

NTKERNELAPI LONG NTAPI KeReadStateMutex(PRKMUTEX Mutex)
{
    return Mutex->Header.SignalState;
}
