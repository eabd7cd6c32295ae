/*
 * tests/ke/test_interrupt.c - interrupts (src/ke/interrupt.c, src/machine/
 * intc.c): a test device raises a line on the virtual clock; the ISR runs
 * at DIRQL with its lock held, its DpcForIsr at DISPATCH_LEVEL after it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <wdm.h>

#include "ke/kesim.h"
#include "sys.h"

enum { line = 3 };

struct dev {
    DEVICE_OBJECT object;
    PKINTERRUPT interrupt;
    KEVENT done;
    int isr_runs, dpc_runs;
    KIRQL isr_irql, dpc_irql, sync_irql;
    int dpc_saw_isr_done; /* the DPC ran after the ISR returned */
    int isr_active;
    int order_ok;
    uint64_t raised_at, isr_at;
};

static BOOLEAN NTAPI isr(PKINTERRUPT Interrupt, PVOID Context)
{
    struct dev *d = Context;
    (void)Interrupt;
    d->isr_active = 1;
    d->isr_runs++;
    d->isr_irql = KeGetCurrentIrql();
    d->isr_at = ke_now(&sys_get()->ke);
    testdev_lower(line); /* dismiss the device's interrupt */
    IoRequestDpc(&d->object, NULL, d);
    d->isr_active = 0;
    return TRUE;
}

static VOID NTAPI dpc_for_isr(PKDPC Dpc, PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    struct dev *d = Context;
    (void)Dpc, (void)Irp;
    d->dpc_runs++;
    d->dpc_irql = KeGetCurrentIrql();
    d->dpc_saw_isr_done = d->isr_runs == 1 && !d->isr_active && DeviceObject == &d->object;
    KeSetEvent(&d->done, 0, FALSE);
}

static BOOLEAN NTAPI sync_routine(PVOID Context)
{
    struct dev *d = Context;
    d->sync_irql = KeGetCurrentIrql();
    return TRUE;
}

static void isr_then_dpc(void *arg)
{
    struct dev *d = arg;
    ULONG vector = ke_line_vector(line);
    KIRQL dirql = (KIRQL)(vector >> 4);
    KeInitializeEvent(&d->done, NotificationEvent, FALSE);
    IoInitializeDpcRequest(&d->object, dpc_for_isr);
    assert_int_equal(IoConnectInterrupt(&d->interrupt, isr, d, NULL, vector, dirql, dirql,
                                        LevelSensitive, FALSE, 3, FALSE),
                     STATUS_SUCCESS);
    assert_true(KeSynchronizeExecution(d->interrupt, sync_routine, d));
    assert_int_equal(d->sync_irql, dirql);
    d->raised_at = ke_now(&sys_get()->ke) + 1000000;
    testdev_raise_after(line, 1000000);                /* 1 ms of virtual time */
    LARGE_INTEGER timeout = {.QuadPart = -10 * 10000}; /* 10 ms */
    assert_int_equal(KeWaitForSingleObject(&d->done, Executive, KernelMode, FALSE, &timeout),
                     STATUS_SUCCESS);
    IoDisconnectInterrupt(d->interrupt);
}

static void test_isr_at_dirql_then_dpc(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 10; seed++) {
        for (unsigned n = 1; n <= 3; n++) {
            wdmsim *sim = kesim_boot(n, seed, NULL);
            struct dev d;
            memset(&d, 0, sizeof(d));
            kesim_call(sim, isr_then_dpc, &d);
            assert_int_equal(d.isr_runs, 1);
            assert_int_equal(d.isr_irql, ke_line_vector(line) >> 4);
            assert_int_equal(d.dpc_runs, 1);
            assert_int_equal(d.dpc_irql, DISPATCH_LEVEL);
            assert_true(d.dpc_saw_isr_done);
            assert_true(d.isr_at >= d.raised_at);
            wdmsim_shutdown(sim);
        }
    }
}

static void vectors(void **state)
{
    (void)state;
    for (unsigned l = 0; l < 64; l++) {
        unsigned v = ke_line_vector(l);
        assert_true(v >= 0x30 && v <= 0xBF);
        assert_true((v >> 4) >= 3 && (v >> 4) <= 11);
        assert_int_equal(ke_vector_line(v), (int)l);
    }
    assert_int_equal(ke_vector_line(0x2F), -1);
}

static void bad_connect(void *arg)
{
    (void)arg;
    PKINTERRUPT k;
    assert_int_equal(IoConnectInterrupt(&k, isr, NULL, NULL, 0x10, 5, 5, Latched, FALSE, 1, FALSE),
                     STATUS_INVALID_PARAMETER);
    IO_CONNECT_INTERRUPT_PARAMETERS p;
    memset(&p, 0, sizeof(p));
    p.Version = CONNECT_LINE_BASED;
    assert_int_equal(IoConnectInterruptEx(&p), STATUS_NOT_SUPPORTED);
}

static void test_bad_connect(void **state)
{
    (void)state;
    wdmsim *sim = kesim_boot(1, 1, NULL);
    kesim_call(sim, bad_connect, NULL);
    wdmsim_shutdown(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vectors),
        cmocka_unit_test(test_isr_at_dirql_then_dpc),
        cmocka_unit_test(test_bad_connect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
