/*
 * src/ke/timer.c - kernel timers and the time routines, in virtual time.
 *
 * Models: KTIMER (notification or synchronization, one-shot or periodic,
 * with an optional DPC) on the machine's virtual clock; KeQuerySystemTime,
 * KeQueryInterruptTime, KeQueryTickCount, KeQueryPerformanceCounter (10 MHz)
 * and KeStallExecutionProcessor, which busy-waits: the processor is busy
 * until the deadline, and virtual time moves there once nothing else can
 * run (spec ke_rtl_registry.md 4).
 * Layout use: DueTime holds the absolute virtual due time in 100 ns;
 * TimerListEntry.Blink points at the entry itself while the timer is set
 * (NULL otherwise) and Flink carries the clock event id; Processor is the
 * processor whose "clock interrupt" queues the DPC.
 * Invariants: a set timer has exactly one pending clock event.
 * Not modelled: tolerable delay (KeSetCoalescableTimer), high-resolution
 * timers, ke.long-stall reports, 0xC7 for a freed set timer.
 */
#include <wdm.h>

#include "sys.h"

enum { ddi_ke_dispatch_lte = 0x00020011, time_increment = 156250 /* 15.625 ms in 100 ns */ };

uint64_t ke_now(struct ke *ke)
{
    return ke->machine->clock.now;
}

void ke_clock_advance(struct ke *ke, uint64_t t)
{
    /* Events fire in time order, each seeing the clock at its own time; an
     * event due exactly now fires too (returning early on t == now left the
     * idle scheduler spinning on it). */
    struct vclock *c = &ke->machine->clock;
    uint64_t next;
    while (vclock_next(c, &next) && next <= t) {
        vclock_advance(c, next);
        vclock_run_due(c);
    }
    vclock_advance(c, t);
}

static bool timer_set(const KTIMER *t)
{
    return t->TimerListEntry.Blink == &((KTIMER *)t)->TimerListEntry;
}

static void timer_expired(void *arg);

static void timer_arm(struct ke *ke, PKTIMER t, uint64_t due_ns)
{
    t->DueTime.QuadPart = due_ns / 100;
    uint64_t id = vclock_schedule(&ke->machine->clock, due_ns, timer_expired, t);
    t->TimerListEntry.Flink = (PLIST_ENTRY)(uintptr_t)id;
    t->TimerListEntry.Blink = &t->TimerListEntry;
}

static void timer_disarm(struct ke *ke, PKTIMER t)
{
    if (!timer_set(t))
        return;
    vclock_cancel(&ke->machine->clock, (uint64_t)(uintptr_t)t->TimerListEntry.Flink);
    t->TimerListEntry.Flink = t->TimerListEntry.Blink = NULL;
}

static void timer_expired(void *arg)
{
    PKTIMER t = arg;
    struct ke *ke = &sys_get()->ke;
    t->TimerListEntry.Flink = t->TimerListEntry.Blink = NULL;
    if (t->Period)
        timer_arm(ke, t, ke->machine->clock.now + (uint64_t)t->Period * 1000000);
    t->Header.SignalState = 1;
    ke_object_signal(ke, &t->Header);
    if (t->Dpc) {
        unsigned p = t->Processor < ke->nprocessors ? t->Processor : 0;
        ke_dpc_insert(ke, t->Dpc, (void *)(uintptr_t)t->DueTime.LowPart,
                      (void *)(uintptr_t)t->DueTime.HighPart, p);
    }
}

NTKERNELAPI VOID NTAPI KeInitializeTimerEx(PKTIMER Timer, TIMER_TYPE Type)
{
    struct ke *ke = &sys_get()->ke;
    ke_check_irql_max(ke, DISPATCH_LEVEL, ddi_ke_dispatch_lte, "KeInitializeTimerEx");
    Timer->Header.Type = (UCHAR)(8 + Type);
    Timer->Header.Signalling = 0;
    Timer->Header.Size = sizeof(KTIMER) / sizeof(LONG);
    Timer->Header.Reserved1 = 0;
    Timer->Header.SignalState = 0;
    InitializeListHead(&Timer->Header.WaitListHead);
    Timer->DueTime.QuadPart = 0;
    Timer->TimerListEntry.Flink = Timer->TimerListEntry.Blink = NULL;
    Timer->Dpc = NULL;
    Timer->Processor = 0;
    Timer->Period = 0;
}

NTKERNELAPI VOID NTAPI KeInitializeTimer(PKTIMER Timer)
{
    KeInitializeTimerEx(Timer, NotificationTimer);
}

NTKERNELAPI BOOLEAN NTAPI KeSetTimerEx(PKTIMER Timer, LARGE_INTEGER DueTime, LONG Period, PKDPC Dpc)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    ke_check_irql_max(ke, DISPATCH_LEVEL, ddi_ke_dispatch_lte, "KeSetTimerEx");
    BOOLEAN was = timer_set(Timer) ? TRUE : FALSE;
    timer_disarm(ke, Timer);
    bool poll;
    uint64_t due = DueTime.QuadPart == 0 ? ke_now(ke) : ke_due_time(ke, DueTime.QuadPart, &poll);
    Timer->Header.SignalState = 0;
    Timer->Dpc = Dpc;
    Timer->Period = Period > 0 ? (ULONG)Period : 0;
    Timer->Processor = ke->current;
    timer_arm(ke, Timer, due);
    return was;
}

NTKERNELAPI BOOLEAN NTAPI KeSetTimer(PKTIMER Timer, LARGE_INTEGER DueTime, PKDPC Dpc)
{
    return KeSetTimerEx(Timer, DueTime, 0, Dpc);
}

NTKERNELAPI BOOLEAN NTAPI KeCancelTimer(PKTIMER Timer)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    ke_check_irql_max(ke, DISPATCH_LEVEL, ddi_ke_dispatch_lte, "KeCancelTimer");
    BOOLEAN was = timer_set(Timer) ? TRUE : FALSE;
    timer_disarm(ke, Timer);
    return was;
}

NTKERNELAPI BOOLEAN NTAPI KeReadStateTimer(PKTIMER Timer)
{
    return Timer->Header.SignalState ? TRUE : FALSE;
}

/* ---- time ------------------------------------------------------------------------------ */

NTKERNELAPI VOID NTAPI KeQuerySystemTime(PLARGE_INTEGER CurrentTime)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    CurrentTime->QuadPart = (LONGLONG)ke_system_time(ke);
}

NTKERNELAPI VOID NTAPI KeQuerySystemTimePrecise(PLARGE_INTEGER CurrentTime)
{
    KeQuerySystemTime(CurrentTime);
}

NTKERNELAPI ULONGLONG NTAPI KeQueryInterruptTime(VOID)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    return ke_now(ke) / 100;
}

NTKERNELAPI VOID NTAPI KeQueryTickCount(PLARGE_INTEGER CurrentCount)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    CurrentCount->QuadPart = (LONGLONG)(ke_now(ke) / 100 / time_increment);
}

NTKERNELAPI ULONG NTAPI KeQueryTimeIncrement(VOID)
{
    return time_increment;
}

NTHALAPI LARGE_INTEGER NTAPI KeQueryPerformanceCounter(PLARGE_INTEGER PerformanceFrequency)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    if (PerformanceFrequency)
        PerformanceFrequency->QuadPart = 10000000;
    LARGE_INTEGER v;
    v.QuadPart = (LONGLONG)(ke_now(ke) / 100);
    return v;
}

NTHALAPI VOID NTAPI KeStallExecutionProcessor(ULONG MicroSeconds)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    if (!ke->running || ke->on_host) {
        ke_clock_advance(ke, ke_now(ke) + (uint64_t)MicroSeconds * 1000);
        return;
    }
    ke_stall(ke, ke_now(ke) + (uint64_t)MicroSeconds * 1000);
}
