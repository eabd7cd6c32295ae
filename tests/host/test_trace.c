/*
 * tests/host/test_trace.c - wdmsim_trace_write: the Perfetto trace of a
 * run is valid trace-event JSON (tests/host/trace_check.py, python3's json
 * module plus the format's nesting and pairing rules) and shows what the
 * run did, counted: every DPC run, every ISR, every dispatch routine call,
 * every DMA transfer; the counters exist. Tracing does not change the run
 * (same trace hash with and without it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <wdm.h>

#include <wdmsim/wdmsim.h>

#include "host/inspect.h"
#include "support/fixture.h"
#include "sys.h"

static wdmsim *boot(int trace, uint64_t seed, const char *machine)
{
    struct wdmsim_config cfg = {.seed = seed, .trace = trace, .machine_path = machine};
    struct wdmsim_error err;
    wdmsim *sim;
    if (wdmsim_boot(&cfg, &sim, &err) != WDMSIM_OK)
        fail_msg("boot: %s", err.text);
    return sim;
}

static uint64_t dpcs_run(wdmsim *sim)
{
    struct ke *ke = &wdmsim_sys(sim)->ke;
    uint64_t n = 0;
    for (unsigned p = 0; p < ke->nprocessors; p++)
        n += ke->processor[p].dpcs;
    return n;
}

static uint64_t isrs_run(wdmsim *sim)
{
    struct ke *ke = &wdmsim_sys(sim)->ke;
    uint64_t n = 0;
    for (unsigned p = 0; p < ke->nprocessors; p++)
        n += ke->processor[p].isrs;
    return n;
}

/* Writes the trace and runs the checker with the expectations. */
static void check(wdmsim *sim, const char *expect)
{
    char path[] = "/tmp/wdmsim-trace-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_int_equal(wdmsim_trace_write(sim, f), WDMSIM_OK);
    fclose(f);
    const char *src = getenv("WDMSIM_SOURCE");
    assert_non_null(src);
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "python3 %s/tests/host/trace_check.py %s %s", src, path, expect);
    int st = system(cmd);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("trace_check failed (trace kept at %s): %s", path, cmd);
    unlink(path);
}

/* The inspect fixture: 3 DMA transfers (map+flush, S/G list, one left
 * mapped at the stop), 3 DPCs, 1 dispatch routine; it stops. */
static void t_fixture(void **state)
{
    (void)state;
    wdmsim *sim = boot(1, 5, NULL);
    struct wdmsim_error err;
    assert_int_equal(wdmsim_load_driver(sim, fixture_path("inspect_known"), &err), WDMSIM_STOPPED);
    uint64_t dpcs = dpcs_run(sim);
    assert_int_equal(dpcs, 3);
    char expect[256];
    snprintf(expect, sizeof(expect),
             "dpc=%llu dma=3 dispatch=1 isr=0 'counter:pool bytes Insp (NonpNx)' "
             "'counter:outstanding IRPs' 'counter:map registers in use' 'counter:IRQL CPU 0'",
             (unsigned long long)dpcs);
    check(sim, expect);
    wdmsim_shutdown(sim);
}

/* ---- an interrupting device: ISR -> DpcForIsr, n times --------------------------- */

enum { line = 4, rounds = 5 };

struct dev {
    DEVICE_OBJECT object;
    PKINTERRUPT interrupt;
    KEVENT done;
};

static void raise_line(void *arg)
{
    (void)arg;
    intc_assert(&sys_get()->machine.intc, line);
}

static BOOLEAN NTAPI isr(PKINTERRUPT Interrupt, PVOID Context)
{
    struct dev *d = Context;
    (void)Interrupt;
    intc_deassert(&sys_get()->machine.intc, line);
    IoRequestDpc(&d->object, NULL, d);
    return TRUE;
}

static VOID NTAPI dpc_for_isr(PKDPC Dpc, PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    struct dev *d = Context;
    (void)Dpc, (void)DeviceObject, (void)Irp;
    KeSetEvent(&d->done, 0, FALSE);
}

static void interrupts(void *arg)
{
    struct dev *d = arg;
    struct sys *sys = sys_get();
    ULONG vector = ke_line_vector(line);
    KIRQL dirql = (KIRQL)(vector >> 4);
    IoInitializeDpcRequest(&d->object, dpc_for_isr);
    assert_int_equal(IoConnectInterrupt(&d->interrupt, isr, d, NULL, vector, dirql, dirql,
                                        LevelSensitive, FALSE, 3, FALSE),
                     STATUS_SUCCESS);
    for (int i = 0; i < rounds; i++) {
        KeInitializeEvent(&d->done, NotificationEvent, FALSE);
        vclock_schedule(&sys->machine.clock, sys->machine.clock.now + 100000, raise_line, NULL);
        LARGE_INTEGER timeout = {.QuadPart = -10 * 10000};
        assert_int_equal(KeWaitForSingleObject(&d->done, Executive, KernelMode, FALSE, &timeout),
                         STATUS_SUCCESS);
        void *p = ExAllocatePoolWithTag(NonPagedPoolNx, 64 * (i + 1), 0x63725449u);
        ExFreePoolWithTag(p, 0x63725449u);
    }
    IoDisconnectInterrupt(d->interrupt);
}

static void t_interrupts(void **state)
{
    (void)state;
    char ini[] = "/tmp/wdmsim-trace-ini-XXXXXX";
    int fd = mkstemp(ini);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "[machine]\nprocessors = 3\n", 25), 25);
    close(fd);
    wdmsim *sim = boot(1, 9, ini);
    struct dev d;
    memset(&d, 0, sizeof(d));
    assert_int_equal(wdmsim_call(sim, interrupts, &d), WDMSIM_OK);
    assert_int_equal(isrs_run(sim), rounds);
    char expect[256];
    snprintf(expect, sizeof(expect),
             "isr=%d interrupt=%d dpc=%llu dma=0 'counter:pool bytes ITrc (NonpNx)' "
             "'counter:IRQL CPU '",
             rounds, rounds, (unsigned long long)dpcs_run(sim));
    check(sim, expect);
    wdmsim_shutdown(sim);
    unlink(ini);
}

/* Tracing keeps every record, and changes nothing the run does. */
static void t_same_run(void **state)
{
    (void)state;
    uint64_t hash[2], count[2];
    for (int trace = 0; trace < 2; trace++) {
        wdmsim *sim = boot(trace, 5, NULL);
        struct wdmsim_error err;
        assert_int_equal(wdmsim_load_driver(sim, fixture_path("inspect_known"), &err),
                         WDMSIM_STOPPED);
        struct ke_trace *t = &wdmsim_sys(sim)->ke.trace;
        hash[trace] = t->hash;
        count[trace] = t->count;
        if (trace)
            assert_true(t->observed > 0);
        else
            assert_int_equal(wdmsim_trace_write(sim, stdout), WDMSIM_EINPUT); /* off */
        wdmsim_shutdown(sim);
    }
    assert_int_equal(hash[0], hash[1]);
    assert_int_equal(count[0], count[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_fixture),
        cmocka_unit_test(t_interrupts),
        cmocka_unit_test(t_same_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
