/*
 * tests/ke/test_spinlock.c - spin locks across processors (src/ke/spinlock.c,
 * sched.c): two processors contend, the protected counter is exact; without
 * the lock, the scheduler's interleavings lose updates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <wdm.h>

#include "ke/kesim.h"

enum { increments = 10000 };

struct shared {
    KSPIN_LOCK lock;
    volatile LONG counter;
    int mode;      /* 0 ordinary, 1 in-stack queued, 2 no lock */
    ULONG seen[2]; /* processors each worker ran on (bitmask) */
    KEVENT go;
};

static void one_increment(struct shared *s)
{
    LONG v = s->counter;
    /* A scheduling point between the read and the write: another
     * processor may run here, as on real hardware. */
    (void)KeGetCurrentIrql();
    s->counter = v + 1;
}

static void work(struct shared *s, int who)
{
    for (int i = 0; i < increments; i++) {
        if (s->mode == 0) {
            KIRQL old;
            KeAcquireSpinLock(&s->lock, &old);
            one_increment(s);
            KeReleaseSpinLock(&s->lock, old);
        } else if (s->mode == 1) {
            KLOCK_QUEUE_HANDLE h;
            KeAcquireInStackQueuedSpinLock(&s->lock, &h);
            one_increment(s);
            KeReleaseInStackQueuedSpinLock(&h);
        } else {
            one_increment(s);
        }
        s->seen[who] |= 1u << KeGetCurrentProcessorNumber();
    }
}

static VOID NTAPI worker(PVOID ctx)
{
    struct shared *s = ctx;
    KeWaitForSingleObject(&s->go, Executive, KernelMode, FALSE, NULL);
    work(s, 1);
}

static void contend(void *arg)
{
    struct shared *s = arg;
    HANDLE h;
    KeInitializeSpinLock(&s->lock);
    KeInitializeEvent(&s->go, NotificationEvent, FALSE);
    assert_int_equal(PsCreateSystemThread(&h, 0, NULL, NULL, NULL, worker, s), STATUS_SUCCESS);
    KeSetEvent(&s->go, 0, FALSE);
    work(s, 0);
    assert_int_equal(KeWaitForSingleObject(h, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
}

static void run(int mode, uint64_t seed, struct shared *s)
{
    wdmsim *sim = kesim_boot(2, seed, NULL);
    memset(s, 0, sizeof(*s));
    s->mode = mode;
    kesim_call(sim, contend, s);
    wdmsim_shutdown(sim);
}

static void test_two_processors_exact(void **state)
{
    (void)state;
    struct shared s;
    run(0, 7, &s);
    assert_int_equal(s.counter, 2 * increments);
    /* Both processors ran the increments. */
    assert_int_equal(s.seen[0] | s.seen[1], 3);
    run(1, 8, &s);
    assert_int_equal(s.counter, 2 * increments);
}

static void test_without_lock_updates_are_lost(void **state)
{
    (void)state;
    struct shared s;
    run(2, 7, &s);
    assert_true(s.counter < 2 * increments);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_processors_exact),
        cmocka_unit_test(test_without_lock_updates_are_lost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
