/*
 * tests/ke/test_wait.c - waits, timers, time, semaphores, mutexes, fast
 * mutexes, system threads and work items (src/ke/wait.c, event.c,
 * timer.c, fastmutex.c, thread.c, worker.c), all in virtual time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <wdm.h>

#include "ke/kesim.h"
#include "sys.h"

#define MS(n) ((LONGLONG)(n)*10000)

static void timeouts(void *arg)
{
    (void)arg;
    KEVENT e;
    KeInitializeEvent(&e, NotificationEvent, FALSE);
    ULONGLONG t0 = KeQueryInterruptTime();
    LARGE_INTEGER to = {.QuadPart = -MS(10)};
    assert_int_equal(KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, &to), STATUS_TIMEOUT);
    ULONGLONG t1 = KeQueryInterruptTime();
    assert_true(t1 - t0 >= (ULONGLONG)MS(10));
    assert_true(t1 - t0 < (ULONGLONG)MS(11));
    /* Poll: zero timeout never waits. */
    LARGE_INTEGER zero = {.QuadPart = 0};
    assert_int_equal(KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, &zero),
                     STATUS_TIMEOUT);
    /* Absolute timeout 5 ms from now. */
    LARGE_INTEGER now;
    KeQuerySystemTime(&now);
    LARGE_INTEGER abs = {.QuadPart = now.QuadPart + MS(5)};
    assert_int_equal(KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, &abs), STATUS_TIMEOUT);
    LARGE_INTEGER after;
    KeQuerySystemTime(&after);
    assert_true(after.QuadPart >= abs.QuadPart);
    /* Delay. */
    t0 = KeQueryInterruptTime();
    LARGE_INTEGER d = {.QuadPart = -MS(3)};
    KeDelayExecutionThread(KernelMode, FALSE, &d);
    assert_true(KeQueryInterruptTime() - t0 >= (ULONGLONG)MS(3));
    /* Signaled: no wait. */
    KeSetEvent(&e, 0, FALSE);
    assert_int_equal(KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, &to), STATUS_SUCCESS);
    assert_int_equal(KeReadStateEvent(&e), 1); /* notification: stays signaled */
    KEVENT s;
    KeInitializeEvent(&s, SynchronizationEvent, TRUE);
    assert_int_equal(KeWaitForSingleObject(&s, Executive, KernelMode, FALSE, &to), STATUS_SUCCESS);
    assert_int_equal(KeReadStateEvent(&s), 0); /* synchronization: auto-reset */
    /* Stall: a busy wait that also moves virtual time. */
    LARGE_INTEGER f, c0 = KeQueryPerformanceCounter(&f), c1;
    KeStallExecutionProcessor(20);
    c1 = KeQueryPerformanceCounter(NULL);
    assert_int_equal(f.QuadPart, 10000000);
    assert_true(c1.QuadPart - c0.QuadPart >= 200);
}

static void test_timeouts(void **state)
{
    (void)state;
    wdmsim *sim = kesim_boot(2, 3, NULL);
    kesim_call(sim, timeouts, NULL);
    wdmsim_shutdown(sim);
}

/* ---- clock events: order, their own time, and "due now" ------------------------- */

struct seen {
    uint64_t at[4];
    int n;
};

static void note_time(void *arg)
{
    struct seen *s = arg;
    s->at[s->n++] = sys_get()->machine.clock.now;
}

/* Events fire in time order, each seeing the clock at its own time, even
 * when one scheduling point moves the clock past several of them at once
 * (before, they all saw the end time). */
static void clock_events(void *arg)
{
    struct seen *s = arg;
    struct ke *ke = &sys_get()->ke;
    struct vclock *c = &sys_get()->machine.clock;
    uint64_t t0 = c->now;
    assert_true(ke->point_ns >= 3);
    vclock_schedule(c, t0 + 2, note_time, s);
    vclock_schedule(c, t0 + 1, note_time, s);
    ke_sched_point(ke); /* the clock moves by point_ns, past both */
    assert_int_equal(s->n, 2);
    assert_int_equal(s->at[0], t0 + 1);
    assert_int_equal(s->at[1], t0 + 2);
    /* and the scheduler's idle loop fires an event due later */
    vclock_schedule(c, c->now + 50000, note_time, s);
    LARGE_INTEGER d = {.QuadPart = -MS(1)};
    KeDelayExecutionThread(KernelMode, FALSE, &d);
    assert_int_equal(s->n, 3);
    assert_true(s->at[2] >= t0 + 50000);
}

static void test_clock_events(void **state)
{
    (void)state;
    struct seen s = {.n = 0};
    wdmsim *sim = kesim_boot(2, 9, NULL);
    kesim_call(sim, clock_events, &s);
    wdmsim_shutdown(sim);
}

/* ---- timers with DPCs ----------------------------------------------------------- */

struct tctx {
    KTIMER timer;
    KDPC dpc;
    KEVENT done;
    int fired;
    ULONGLONG fired_at;
};

static VOID NTAPI timer_dpc(PKDPC Dpc, PVOID Context, PVOID A1, PVOID A2)
{
    struct tctx *t = Context;
    (void)Dpc, (void)A1, (void)A2;
    t->fired++;
    t->fired_at = KeQueryInterruptTime();
    if (t->fired == 3) {
        KeCancelTimer(&t->timer);
        KeSetEvent(&t->done, 0, FALSE);
    }
}

static void timers(void *arg)
{
    struct tctx *t = arg;
    KeInitializeTimerEx(&t->timer, SynchronizationTimer);
    KeInitializeDpc(&t->dpc, timer_dpc, t);
    KeInitializeEvent(&t->done, NotificationEvent, FALSE);
    ULONGLONG t0 = KeQueryInterruptTime();
    LARGE_INTEGER due = {.QuadPart = -MS(5)};
    assert_false(KeSetTimerEx(&t->timer, due, 2 /* ms */, &t->dpc));
    assert_int_equal(KeWaitForSingleObject(&t->timer, Executive, KernelMode, FALSE, NULL),
                     STATUS_SUCCESS);
    assert_true(KeQueryInterruptTime() - t0 >= (ULONGLONG)MS(5));
    assert_int_equal(KeWaitForSingleObject(&t->done, Executive, KernelMode, FALSE, NULL),
                     STATUS_SUCCESS);
    assert_int_equal(t->fired, 3);
    assert_true(t->fired_at - t0 >= (ULONGLONG)MS(9));
    KTIMER other;
    KeInitializeTimer(&other);
    assert_false(KeCancelTimer(&other));
    KeSetTimer(&other, due, NULL);
    assert_true(KeCancelTimer(&other));
}

static void test_timers(void **state)
{
    (void)state;
    wdmsim *sim = kesim_boot(2, 4, NULL);
    struct tctx t;
    memset(&t, 0, sizeof(t));
    kesim_call(sim, timers, &t);
    wdmsim_shutdown(sim);
}

/* ---- a system thread waits on an event set from a DPC ------------------------------ */

struct xctx {
    KEVENT from_dpc, thread_done;
    KDPC dpc;
    int thread_woke;
    PKTHREAD thread, request;
};

static VOID NTAPI set_from_dpc(PKDPC Dpc, PVOID Context, PVOID A1, PVOID A2)
{
    struct xctx *x = Context;
    (void)Dpc, (void)A1, (void)A2;
    KeSetEvent(&x->from_dpc, 0, FALSE);
}

static VOID NTAPI system_thread(PVOID Context)
{
    struct xctx *x = Context;
    x->thread = KeGetCurrentThread();
    assert_int_equal(KeGetCurrentIrql(), PASSIVE_LEVEL);
    KeWaitForSingleObject(&x->from_dpc, Executive, KernelMode, FALSE, NULL);
    x->thread_woke = 1;
    KeSetEvent(&x->thread_done, 0, FALSE);
    PsTerminateSystemThread(STATUS_SUCCESS);
}

static void thread_waits_for_dpc(void *arg)
{
    struct xctx *x = arg;
    HANDLE h;
    CLIENT_ID cid;
    x->request = KeGetCurrentThread();
    KeInitializeEvent(&x->from_dpc, SynchronizationEvent, FALSE);
    KeInitializeEvent(&x->thread_done, NotificationEvent, FALSE);
    KeInitializeDpc(&x->dpc, set_from_dpc, x);
    assert_int_equal(PsCreateSystemThread(&h, 0, NULL, NULL, &cid, system_thread, x),
                     STATUS_SUCCESS);
    LARGE_INTEGER d = {.QuadPart = -MS(1)};
    KeDelayExecutionThread(KernelMode, FALSE, &d); /* the thread is waiting by now */
    assert_int_equal(x->thread_woke, 0);
    KeSetTargetProcessorDpc(&x->dpc, 1);
    KeInsertQueueDpc(&x->dpc, NULL, NULL);
    assert_int_equal(KeWaitForSingleObject(&x->thread_done, Executive, KernelMode, FALSE, NULL),
                     STATUS_SUCCESS);
    assert_int_equal(KeWaitForSingleObject(h, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    assert_int_equal(x->thread_woke, 1);
    assert_ptr_not_equal(x->thread, x->request);
}

static void test_system_thread_waits_on_dpc_event(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 10; seed++) {
        wdmsim *sim = kesim_boot(2, seed, NULL);
        struct xctx x;
        memset(&x, 0, sizeof(x));
        kesim_call(sim, thread_waits_for_dpc, &x);
        wdmsim_shutdown(sim);
    }
}

/* ---- semaphores, mutexes, fast mutexes, WaitAll, work items ------------------------- */

struct sctx {
    KSEMAPHORE sem;
    KMUTEX mutex;
    FAST_MUTEX fm;
    KEVENT a, b, done;
    LONG counter;
    int workers_done;
    KIRQL item_irql;
    PKTHREAD item_thread;
};

static VOID NTAPI fm_worker(PVOID Context)
{
    struct sctx *s = Context;
    for (int i = 0; i < 500; i++) {
        ExAcquireFastMutex(&s->fm);
        assert_int_equal(KeGetCurrentIrql(), APC_LEVEL);
        LONG v = s->counter;
        (void)KeGetCurrentIrql();
        s->counter = v + 1;
        ExReleaseFastMutex(&s->fm);
    }
    KeWaitForSingleObject(&s->mutex, Executive, KernelMode, FALSE, NULL);
    s->workers_done++;
    KeReleaseMutex(&s->mutex, FALSE);
    KeReleaseSemaphore(&s->sem, 0, 1, FALSE);
}

static VOID NTAPI work_routine(PDEVICE_OBJECT DeviceObject, PVOID Context)
{
    struct sctx *s = Context;
    (void)DeviceObject;
    s->item_irql = KeGetCurrentIrql();
    s->item_thread = KeGetCurrentThread();
    KeSetEvent(&s->done, 0, FALSE);
}

static void sync_objects(void *arg)
{
    struct sctx *s = arg;
    KeInitializeSemaphore(&s->sem, 0, 10);
    KeInitializeMutex(&s->mutex, 0);
    ExInitializeFastMutex(&s->fm);
    HANDLE h;
    for (int i = 0; i < 3; i++)
        assert_int_equal(PsCreateSystemThread(&h, 0, NULL, NULL, NULL, fm_worker, s),
                         STATUS_SUCCESS);
    for (int i = 0; i < 3; i++)
        KeWaitForSingleObject(&s->sem, Executive, KernelMode, FALSE, NULL);
    assert_int_equal(s->counter, 1500);
    assert_int_equal(s->workers_done, 3);
    /* The mutex is recursive for its owner. */
    KeWaitForSingleObject(&s->mutex, Executive, KernelMode, FALSE, NULL);
    KeWaitForSingleObject(&s->mutex, Executive, KernelMode, FALSE, NULL);
    assert_int_equal(KeReleaseMutex(&s->mutex, FALSE), -1);
    assert_int_equal(KeReleaseMutex(&s->mutex, FALSE), 0);
    /* WaitAll / WaitAny. */
    KeInitializeEvent(&s->a, NotificationEvent, TRUE);
    KeInitializeEvent(&s->b, NotificationEvent, FALSE);
    PVOID objs[2] = {&s->a, &s->b};
    LARGE_INTEGER to = {.QuadPart = -MS(1)};
    assert_int_equal(
        KeWaitForMultipleObjects(2, objs, WaitAll, Executive, KernelMode, FALSE, &to, NULL),
        STATUS_TIMEOUT);
    assert_int_equal(
        KeWaitForMultipleObjects(2, objs, WaitAny, Executive, KernelMode, FALSE, &to, NULL),
        STATUS_WAIT_0);
    KeSetEvent(&s->b, 0, FALSE);
    assert_int_equal(
        KeWaitForMultipleObjects(2, objs, WaitAll, Executive, KernelMode, FALSE, &to, NULL),
        STATUS_SUCCESS);
    /* A work item runs at PASSIVE_LEVEL on a worker thread. */
    KeInitializeEvent(&s->done, NotificationEvent, FALSE);
    static DEVICE_OBJECT dev;
    PIO_WORKITEM item = IoAllocateWorkItem(&dev);
    assert_non_null(item);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    IoQueueWorkItem(item, work_routine, DelayedWorkQueue, s);
    KeLowerIrql(old);
    KeWaitForSingleObject(&s->done, Executive, KernelMode, FALSE, NULL);
    assert_int_equal(s->item_irql, PASSIVE_LEVEL);
    assert_ptr_not_equal(s->item_thread, KeGetCurrentThread());
    IoFreeWorkItem(item);
}

static void test_sync_objects(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        wdmsim *sim = kesim_boot(2, seed, NULL);
        struct sctx s;
        memset(&s, 0, sizeof(s));
        kesim_call(sim, sync_objects, &s);
        wdmsim_shutdown(sim);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timeouts),
        cmocka_unit_test(test_clock_events),
        cmocka_unit_test(test_timers),
        cmocka_unit_test(test_system_thread_waits_on_dpc_event),
        cmocka_unit_test(test_sync_objects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
