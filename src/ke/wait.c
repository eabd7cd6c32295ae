/*
 * src/ke/wait.c - dispatcher objects and waiting on them.
 *
 * Models: KeWaitForSingleObject / KeWaitForMultipleObjects /
 * KeDelayExecutionThread over events, semaphores, mutexes, timers and
 * threads (spec ke_rtl_registry.md 4), in virtual time. An object is
 * signaled when SignalState > 0 (a mutex also for its owner); satisfying
 * a wait consumes what the type says (synchronization event and timer
 * reset, semaphore count drops, mutex gets an owner). A wait that cannot be
 * satisfied links one wait block per object into the object's
 * WaitListHead, as Windows does, and blocks the thread; a timeout is a
 * virtual-clock event.
 * Timeouts: NULL = forever; 0 = poll; negative = relative, 100 ns units;
 * positive = absolute system time (KeQuerySystemTime's scale).
 * Spec: verifier.md 4 ke.wait-at-dispatch.
 * Invariants: a waiting thread's wait blocks are linked in exactly its
 * objects' lists; a ready or running thread has none linked; a waiter is
 * woken at most once per wait.
 * Not modelled: alerts and APCs (Alertable is ignored: no STATUS_ALERTED or
 * STATUS_USER_APC), abandoned mutexes, priority boosts (Increment),
 * KeSetEvent's Wait = TRUE fast path (treated as FALSE), wait-block arrays
 * supplied by the caller (ours are in the thread).
 */
#include <stddef.h>

#include <wdm.h>

#include "sys.h"

_Static_assert(sizeof(struct ke_header) == sizeof(DISPATCHER_HEADER), "header size");
_Static_assert(offsetof(struct ke_header, signal_state) == offsetof(DISPATCHER_HEADER, SignalState),
               "SignalState");
_Static_assert(offsetof(struct ke_header, wait_list) == offsetof(DISPATCHER_HEADER, WaitListHead),
               "WaitListHead");

enum {
    obj_event_notification = 0,
    obj_event_synchronization = 1,
    obj_mutant = 2,
    obj_semaphore = 5,
    obj_thread = 6,
    obj_timer_notification = 8,
    obj_timer_synchronization = 9,
};

static bool signaled_for(DISPATCHER_HEADER *h, struct ke_thread *t)
{
    if (h->Type == obj_mutant) {
        PKMUTANT m = (PKMUTANT)h;
        return h->SignalState > 0 || m->OwnerThread == (PKTHREAD)t;
    }
    return h->SignalState > 0;
}

static void consume(DISPATCHER_HEADER *h, struct ke_thread *t)
{
    switch (h->Type) {
    case obj_event_synchronization:
    case obj_timer_synchronization:
        h->SignalState = 0;
        break;
    case obj_semaphore:
        h->SignalState--;
        break;
    case obj_mutant:
        h->SignalState--;
        ((PKMUTANT)h)->OwnerThread = (PKTHREAD)t;
        break;
    default:
        break;
    }
}

static void unlink_block(struct ke_wait_block *wb)
{
    wb->link.blink->flink = wb->link.flink;
    wb->link.flink->blink = wb->link.blink;
    wb->link.flink = wb->link.blink = &wb->link;
}

/* Ends t's wait with status: unlinks its blocks, cancels its timeout. */
static void wake(struct ke *ke, struct ke_thread *t, int32_t status)
{
    for (unsigned i = 0; i < t->nwait; i++)
        unlink_block(&t->wb[i]);
    t->nwait = 0;
    if (t->timeout_event) {
        vclock_cancel(&ke->machine->clock, t->timeout_event);
        t->timeout_event = 0;
    }
    t->wait_status = status;
    ke_thread_ready(ke, t);
}

/* If t's whole wait can be satisfied now, consumes and wakes. */
static bool try_satisfy(struct ke *ke, struct ke_thread *t, unsigned index)
{
    if (t->wait_all) {
        for (unsigned i = 0; i < t->nwait; i++)
            if (!signaled_for(t->wb[i].object, t))
                return false;
        for (unsigned i = 0; i < t->nwait; i++)
            consume(t->wb[i].object, t);
        wake(ke, t, STATUS_SUCCESS);
        return true;
    }
    if (!signaled_for(t->wb[index].object, t))
        return false;
    consume(t->wb[index].object, t);
    wake(ke, t, (int32_t)(STATUS_WAIT_0 + index));
    return true;
}

void ke_object_signal(struct ke *ke, void *header)
{
    DISPATCHER_HEADER *h = header;
    struct ke_link *head = (struct ke_link *)&h->WaitListHead;
    if (!head->flink)
        return; /* never initialized: nobody can be waiting */
    /* A wake unlinks every block of that thread, possibly the next one in
     * this list: rescan from the head after each. Waiters are few. */
    for (bool progressed = true; progressed;) {
        progressed = false;
        for (struct ke_link *l = head->flink; l != head; l = l->flink) {
            struct ke_wait_block *wb = (struct ke_wait_block *)l;
            if (wb->thread->state == ke_state_waiting && try_satisfy(ke, wb->thread, wb->index)) {
                progressed = true;
                break;
            }
        }
    }
}

static void timeout_fired(void *arg)
{
    struct ke_thread *t = arg;
    struct ke *ke = &sys_get()->ke;
    t->timeout_event = 0;
    if (t->state == ke_state_waiting)
        wake(ke, t, STATUS_TIMEOUT);
}

/* Virtual boot time as system time (100 ns since 1601): 2024-01-01 00:00 UTC. */
static const uint64_t boot_system_time = 133485408000000000ULL;

uint64_t ke_system_time(struct ke *ke)
{
    return boot_system_time + ke->machine->clock.now / 100;
}

/* Absolute virtual ns for a WDK timeout; *poll for a zero or past one. */
uint64_t ke_due_time(struct ke *ke, int64_t q, bool *poll)
{
    uint64_t now = ke->machine->clock.now;
    *poll = false;
    if (q < 0) {
        uint64_t rel = (uint64_t)(-(q + 1)) + 1;
        return rel > (UINT64_MAX - now) / 100 ? UINT64_MAX : now + rel * 100;
    }
    uint64_t abs = (uint64_t)q;
    if (abs <= boot_system_time + now / 100) {
        *poll = true;
        return now;
    }
    return (abs - boot_system_time) * 100;
}

int32_t ke_wait(struct ke *ke, unsigned n, void *const *objects, bool wait_all,
                const LARGE_INTEGER *timeout)
{
    struct ke_thread *t = ke_current_thread(ke);
    if (wait_all && n) {
        bool all = true;
        for (unsigned i = 0; i < n; i++)
            all = all && signaled_for(objects[i], t);
        if (all) {
            for (unsigned i = 0; i < n; i++)
                consume(objects[i], t);
            return STATUS_SUCCESS;
        }
    } else {
        for (unsigned i = 0; i < n; i++) {
            if (signaled_for(objects[i], t)) {
                consume(objects[i], t);
                return (int32_t)(STATUS_WAIT_0 + i);
            }
        }
    }
    bool poll = false;
    uint64_t due = UINT64_MAX;
    if (timeout)
        due = timeout->QuadPart == 0 ? (poll = true, 0) : ke_due_time(ke, timeout->QuadPart, &poll);
    /* Never block where Windows cannot (the rule fired and was off) or
     * outside any thread: it becomes a poll. */
    if (poll || !t || !ke->running || t->idle || ke_irql(ke) >= DISPATCH_LEVEL)
        return STATUS_TIMEOUT;
    for (unsigned i = 0; i < n; i++) {
        DISPATCHER_HEADER *h = objects[i];
        struct ke_link *head = (struct ke_link *)&h->WaitListHead;
        if (!head->flink)
            head->flink = head->blink = head;
        struct ke_wait_block *wb = &t->wb[i];
        wb->object = h;
        wb->thread = t;
        wb->index = i;
        wb->link.flink = head;
        wb->link.blink = head->blink;
        head->blink->flink = &wb->link;
        head->blink = &wb->link;
    }
    t->nwait = n;
    t->wait_all = wait_all;
    t->wait_status = STATUS_TIMEOUT;
    if (due != UINT64_MAX)
        t->timeout_event = vclock_schedule(&ke->machine->clock, due, timeout_fired, t);
    t->state = ke_state_waiting;
    ke_thread_block(ke);
    return t->wait_status;
}

/* ---- the driver-facing waits ----------------------------------------------------- */

const struct vf_rule ke_rule_wait_at_dispatch = {
    .id = "ke.wait-at-dispatch",
    .code = 0xC4,
    .p1 = 0x120,
    .params = {"current IRQL", "object waited on", "timeout pointer"},
    .text = "a wait that may block at DISPATCH_LEVEL or above: 0x3B above DISPATCH_LEVEL; at "
            "DISPATCH_LEVEL with a NULL or nonzero timeout 0x120 (KeWaitForSingleObject), "
            "0x121 (KeWaitForMultipleObjects), 0x122 (KeDelayExecutionThread)",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/ke-wait-at-dispatch",
};

static void check_wait_irql(struct ke *ke, uint64_t at_dispatch_p1, const void *object,
                            const LARGE_INTEGER *timeout, const char *routine)
{
    uint8_t cur = ke_irql(ke);
    bool blocking = !timeout || timeout->QuadPart != 0;
    if (cur > DISPATCH_LEVEL)
        ke_violation(&ke_rule_wait_at_dispatch, 0x3B, cur, (uint64_t)(uintptr_t)object,
                     (uint64_t)(uintptr_t)timeout, "%s at IRQL %u", routine, cur);
    else if (cur == DISPATCH_LEVEL && blocking)
        ke_violation(&ke_rule_wait_at_dispatch, at_dispatch_p1, cur, (uint64_t)(uintptr_t)object,
                     (uint64_t)(uintptr_t)timeout,
                     "%s at DISPATCH_LEVEL with a %s timeout: only a zero timeout may be used "
                     "there",
                     routine, timeout ? "nonzero" : "NULL (infinite)");
}

NTKERNELAPI NTSTATUS NTAPI KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason,
                                                 KPROCESSOR_MODE WaitMode, BOOLEAN Alertable,
                                                 PLARGE_INTEGER Timeout)
{
    struct ke *ke = &sys_get()->ke;
    (void)WaitReason, (void)WaitMode, (void)Alertable;
    ke_sched_point(ke);
    check_wait_irql(ke, 0x120, Object, Timeout, "KeWaitForSingleObject");
    void *objs[1] = {Object};
    return ke_wait(ke, 1, objs, false, Timeout);
}

NTKERNELAPI NTSTATUS NTAPI KeWaitForMultipleObjects(ULONG Count, PVOID Object[], WAIT_TYPE WaitType,
                                                    KWAIT_REASON WaitReason,
                                                    KPROCESSOR_MODE WaitMode, BOOLEAN Alertable,
                                                    PLARGE_INTEGER Timeout,
                                                    PKWAIT_BLOCK WaitBlockArray)
{
    struct ke *ke = &sys_get()->ke;
    (void)WaitReason, (void)WaitMode, (void)Alertable;
    ke_sched_point(ke);
    check_wait_irql(ke, 0x121, Count ? Object[0] : NULL, Timeout, "KeWaitForMultipleObjects");
    /* MAXIMUM_WAIT_OBJECTS_EXCEEDED, as Windows stops on it. */
    if (Count > ke_max_wait_objects || (Count > THREAD_WAIT_OBJECTS && !WaitBlockArray))
        ke_bugcheck(0xC, Count, (uint64_t)(uintptr_t)WaitBlockArray, 0, 0, NULL,
                    "KeWaitForMultipleObjects with %u objects and %s wait-block array", Count,
                    WaitBlockArray ? "a" : "no");
    return ke_wait(ke, Count, Object, WaitType == WaitAll, Timeout);
}

NTKERNELAPI NTSTATUS NTAPI KeDelayExecutionThread(KPROCESSOR_MODE WaitMode, BOOLEAN Alertable,
                                                  PLARGE_INTEGER Interval)
{
    struct ke *ke = &sys_get()->ke;
    (void)WaitMode, (void)Alertable;
    ke_sched_point(ke);
    check_wait_irql(ke, 0x122, NULL, Interval, "KeDelayExecutionThread");
    if (!Interval || Interval->QuadPart == 0)
        return STATUS_SUCCESS;
    ke_wait(ke, 0, NULL, false, Interval);
    return STATUS_SUCCESS;
}
