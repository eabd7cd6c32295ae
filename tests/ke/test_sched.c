/*
 * tests/ke/test_sched.c - the deterministic scheduler (src/ke/sched.c): the
 * same seed gives a byte-identical event trace; different seeds give
 * different interleavings; fibers' stacks are simulated memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <wdm.h>

#include "ke/kesim.h"
#include "sys.h"

struct load {
    KSPIN_LOCK lock;
    KDPC dpc[3];
    KTIMER timer;
    KEVENT done;
    LONG counter, dpcs;
    int order[64];
    int norder;
};

static VOID NTAPI count_dpc(PKDPC Dpc, PVOID Context, PVOID A1, PVOID A2)
{
    struct load *l = Context;
    (void)Dpc, (void)A1, (void)A2;
    KeAcquireSpinLockAtDpcLevel(&l->lock);
    l->dpcs++;
    KeReleaseSpinLockFromDpcLevel(&l->lock);
}

static void step(struct load *l, int who)
{
    KIRQL old;
    KeAcquireSpinLock(&l->lock, &old);
    l->counter++;
    if (l->norder < 64)
        l->order[l->norder++] = who;
    KeReleaseSpinLock(&l->lock, old);
}

static VOID NTAPI load_thread(PVOID Context)
{
    struct load *l = Context;
    for (int i = 0; i < 200; i++) {
        step(l, 1);
        if (i == 150) {
            LARGE_INTEGER d = {.QuadPart = -10};
            KeDelayExecutionThread(KernelMode, FALSE, &d);
        }
    }
    KeSetEvent(&l->done, 0, FALSE);
}

static void workload(void *arg)
{
    struct load *l = arg;
    HANDLE h;
    KeInitializeSpinLock(&l->lock);
    KeInitializeEvent(&l->done, NotificationEvent, FALSE);
    for (int i = 0; i < 3; i++) {
        KeInitializeDpc(&l->dpc[i], count_dpc, l);
        KeSetTargetProcessorDpc(&l->dpc[i], (CCHAR)i);
    }
    KeInitializeTimer(&l->timer);
    PsCreateSystemThread(&h, 0, NULL, NULL, NULL, load_thread, l);
    LARGE_INTEGER due = {.QuadPart = -5000};
    KeSetTimer(&l->timer, due, &l->dpc[0]);
    testdev_raise_after(5, 30000);
    for (int i = 0; i < 200; i++) {
        step(l, 0);
        if (i % 40 == 0) {
            KeInsertQueueDpc(&l->dpc[1], NULL, NULL);
            KeInsertQueueDpc(&l->dpc[2], NULL, NULL);
        }
    }
    KeWaitForSingleObject(&l->done, Executive, KernelMode, FALSE, NULL);
    KeWaitForSingleObject(h, Executive, KernelMode, FALSE, NULL);
}

struct result {
    uint64_t hash, count;
    int order[64];
};

static void read_trace(void *arg)
{
    struct result *r = arg;
    r->hash = kesim_trace_hash();
    r->count = kesim_trace_count();
}

static void run_on(unsigned processors, uint64_t seed, struct result *r)
{
    wdmsim *sim = kesim_boot(processors, seed, NULL);
    struct load l;
    memset(&l, 0, sizeof(l));
    kesim_call(sim, workload, &l);
    assert_int_equal(l.counter, 400);
    kesim_call(sim, read_trace, r);
    memcpy(r->order, l.order, sizeof(r->order));
    wdmsim_shutdown(sim);
}

static void run(uint64_t seed, struct result *r)
{
    run_on(3, seed, r);
}

/* The same workload on the smallest and the largest machine. */
static void test_one_and_64_processors(void **state)
{
    (void)state;
    struct result r;
    run_on(1, 9, &r);
    run_on(64, 9, &r);
}

static void test_same_seed_same_trace(void **state)
{
    (void)state;
    struct result a, b;
    run(42, &a);
    run(42, &b);
    assert_true(a.count > 1000);
    assert_int_equal(a.count, b.count);
    assert_int_equal(a.hash, b.hash);
    assert_memory_equal(a.order, b.order, sizeof(a.order));
}

static void test_different_seeds_differ(void **state)
{
    (void)state;
    struct result a, b;
    run(42, &a);
    int differ = 0;
    for (uint64_t seed = 43; seed < 48; seed++) {
        run(seed, &b);
        if (getenv("KE_TEST_VERBOSE")) {
            printf("seed %llu hash %016llx count %llu order ", (unsigned long long)seed,
                   (unsigned long long)b.hash, (unsigned long long)b.count);
            for (int i = 0; i < 64; i++)
                printf("%d", b.order[i]);
            printf("\n");
        }
        if (b.hash != a.hash && memcmp(a.order, b.order, sizeof(a.order)))
            differ++;
    }
    /* Interleavings (who got the lock when), not only the hash, differ. */
    assert_true(differ >= 4);
}

static void stack_is_simulated(void *arg)
{
    (void)arg;
    struct sys *sys = sys_get();
    char local[64];
    uint64_t pa;
    memset(local, 1, sizeof(local));
    assert_true(mm_va_to_pa(&sys->mm, local, &pa));
    struct ke_thread *t = ke_current_thread(&sys->ke);
    uintptr_t lo, hi;
    ke_fiber_bounds(&t->fiber, &lo, &hi);
    assert_true((uintptr_t)local >= lo && (uintptr_t)local < hi);
    /* The guard page below the stack is never mapped. */
    uint64_t *guard = mm_pte_of(&sys->mm, (void *)(lo - 1));
    assert_non_null(guard);
    assert_false(*guard & mm_pte_valid);
}

static void test_fiber_stack(void **state)
{
    (void)state;
    wdmsim *sim = kesim_boot(1, 1, NULL);
    kesim_call(sim, stack_is_simulated, NULL);
    wdmsim_shutdown(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fiber_stack),
        cmocka_unit_test(test_one_and_64_processors),
        cmocka_unit_test(test_same_seed_same_trace),
        cmocka_unit_test(test_different_seeds_differ),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
