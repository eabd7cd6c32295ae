/*
 * tests/ke/test_dpc.c - IRQL routines and DPCs (src/ke/irql.c, dpc.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <wdm.h>

#include "ke/kesim.h"

static void irql_basics(void *arg)
{
    (void)arg;
    assert_int_equal(KeGetCurrentIrql(), PASSIVE_LEVEL);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    assert_int_equal(old, PASSIVE_LEVEL);
    assert_int_equal(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KIRQL old2 = KeRaiseIrqlToSynchLevel();
    assert_int_equal(old2, DISPATCH_LEVEL);
    assert_int_equal(KeGetCurrentIrql(), SYNCH_LEVEL);
    KeLowerIrql(old2);
    KeLowerIrql(old);
    assert_int_equal(KeRaiseIrqlToDpcLevel(), PASSIVE_LEVEL);
    KeLowerIrql(PASSIVE_LEVEL);
    KAFFINITY a;
    assert_int_equal(KeQueryActiveProcessorCount(&a), 3);
    assert_int_equal(a, 7);
    PROCESSOR_NUMBER pn;
    ULONG n = KeGetCurrentProcessorNumberEx(&pn);
    assert_true(n < 3);
    assert_int_equal(pn.Number, n);
}

static void test_irql(void **state)
{
    (void)state;
    wdmsim *sim = kesim_boot(3, 1, NULL);
    kesim_call(sim, irql_basics, NULL);
    wdmsim_shutdown(sim);
}

/* ---- DPCs ---------------------------------------------------------------------- */

struct dpc_log {
    int runs;
    KIRQL irql_in_dpc;
    ULONG processor;
    int order[4];
    int norder;
    int ran_while_raised; /* set if a DPC ran while the queuing code held DISPATCH */
    volatile int raised;
};

static VOID NTAPI log_dpc(PKDPC Dpc, PVOID Context, PVOID A1, PVOID A2)
{
    struct dpc_log *log = Context;
    (void)Dpc, (void)A2;
    log->runs++;
    log->irql_in_dpc = KeGetCurrentIrql();
    log->processor = KeGetCurrentProcessorNumber();
    if (log->norder < 4)
        log->order[log->norder++] = (int)(uintptr_t)A1;
    if (log->raised && log->processor == 0)
        log->ran_while_raised = 1;
}

static void dpc_at_passive_runs_now(void *arg)
{
    struct dpc_log *log = arg;
    KDPC dpc;
    KeInitializeDpc(&dpc, log_dpc, log);
    assert_true(KeInsertQueueDpc(&dpc, (PVOID)1, NULL));
    assert_int_equal(log->runs, 1);
    assert_int_equal(log->irql_in_dpc, DISPATCH_LEVEL);
    assert_int_equal(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

static void dpc_waits_for_lowering(void *arg)
{
    struct dpc_log *log = arg;
    KDPC dpc;
    KIRQL old;
    KeInitializeDpc(&dpc, log_dpc, log);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    ULONG me = KeGetCurrentProcessorNumber();
    log->raised = 1;
    assert_true(KeInsertQueueDpc(&dpc, (PVOID)1, NULL));
    assert_false(KeInsertQueueDpc(&dpc, (PVOID)2, NULL)); /* queued once at most */
    for (int i = 0; i < 100; i++)
        (void)KeGetCurrentIrql(); /* scheduling points: other processors run */
    assert_int_equal(log->runs, 0);
    log->raised = 0;
    KeLowerIrql(old);
    assert_int_equal(log->runs, 1);
    assert_int_equal(log->processor, me);
    assert_int_equal(log->irql_in_dpc, DISPATCH_LEVEL);
}

static void dpc_importance_and_remove(void *arg)
{
    struct dpc_log *log = arg;
    KDPC a, b, c;
    KIRQL old;
    KeInitializeDpc(&a, log_dpc, log);
    KeInitializeDpc(&b, log_dpc, log);
    KeInitializeDpc(&c, log_dpc, log);
    KeSetImportanceDpc(&b, HighImportance);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeInsertQueueDpc(&a, (PVOID)1, NULL);
    KeInsertQueueDpc(&b, (PVOID)2, NULL);
    KeInsertQueueDpc(&c, (PVOID)3, NULL);
    assert_true(KeRemoveQueueDpc(&c));
    assert_false(KeRemoveQueueDpc(&c));
    KeLowerIrql(old);
    assert_int_equal(log->runs, 2);
    assert_int_equal(log->order[0], 2); /* HighImportance went to the head */
    assert_int_equal(log->order[1], 1);
}

static void dpc_targeted(void *arg)
{
    struct dpc_log *log = arg;
    KDPC dpc;
    KeInitializeDpc(&dpc, log_dpc, log);
    KeSetTargetProcessorDpc(&dpc, 1);
    KeInsertQueueDpc(&dpc, (PVOID)1, NULL);
    KeFlushQueuedDpcs();
    assert_int_equal(log->runs, 1);
    assert_int_equal(log->processor, 1);
}

static void test_dpc(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        wdmsim *sim = kesim_boot(2, seed, NULL);
        struct dpc_log log;
        memset(&log, 0, sizeof(log));
        kesim_call(sim, dpc_at_passive_runs_now, &log);
        memset(&log, 0, sizeof(log));
        kesim_call(sim, dpc_waits_for_lowering, &log);
        assert_int_equal(log.ran_while_raised, 0);
        memset(&log, 0, sizeof(log));
        kesim_call(sim, dpc_importance_and_remove, &log);
        memset(&log, 0, sizeof(log));
        kesim_call(sim, dpc_targeted, &log);
        wdmsim_shutdown(sim);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_irql),
        cmocka_unit_test(test_dpc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
