/*
 * bench/bench_ke.c - the cost of the execution model's basic operations.
 *
 * Reports ns per operation, each beside a plain (non-inlined) function call
 * measured in the same run: a fiber switch (wdmsim's assembly switch, and
 * glibc's swapcontext for comparison: the measurement behind the choice in
 * docs/execution.md), KeRaiseIrql+KeLowerIrql, an uncontended
 * KeAcquireSpinLock+KeReleaseSpinLock, and KeInsertQueueDpc at
 * PASSIVE_LEVEL (queue + drain + run). The Ke routines include their
 * scheduling points; the machine has the default 2 processors, the second
 * one idle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include <wdm.h>
#include <wdmsim/wdmsim.h>

#include "bench_util.h"
#include "sys.h"

enum { reps = 15, iters = 200000 };

static volatile uint64_t sink;

__attribute__((noinline)) static void plain_call(uint64_t x)
{
    sink += x;
    __asm__ volatile("" ::: "memory");
}

static uint64_t per_op(uint64_t t0, uint64_t t1, uint64_t n)
{
    return (t1 - t0) * 1000 / n; /* picoseconds, printed as ns with 3 decimals */
}

/* ---- fiber switches ---------------------------------------------------------------- */

static struct ke_fiber main_fiber, other_fiber;
static volatile int stop_ping;

static void pong(void *arg)
{
    (void)arg;
    for (;;)
        ke_fiber_switch(&other_fiber, &main_fiber);
}

static ucontext_t uc_main, uc_other;
static void upong(void)
{
    for (;;)
        swapcontext(&uc_other, &uc_main);
}

struct results {
    uint64_t call, fiber, uctx, irql, lock, dpc;
};

static VOID NTAPI empty_dpc(PKDPC Dpc, PVOID Context, PVOID A1, PVOID A2)
{
    (void)Dpc, (void)Context, (void)A1, (void)A2;
    sink++;
}

static void measure(void *arg)
{
    struct results *r = arg;
    uint64_t t0, t1;

    t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++)
        plain_call(i);
    t1 = bench_now_ns();
    r->call = per_op(t0, t1, iters);

    if (ke_fiber_create(&other_fiber, pong, NULL))
        exit(1);
    t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++)
        ke_fiber_switch(&main_fiber, &other_fiber);
    t1 = bench_now_ns();
    r->fiber = per_op(t0, t1, 2 * iters); /* two switches per round trip */
    ke_fiber_destroy(&other_fiber);

    static char ustack[64 * 1024];
    getcontext(&uc_other);
    uc_other.uc_stack.ss_sp = ustack;
    uc_other.uc_stack.ss_size = sizeof(ustack);
    uc_other.uc_link = NULL;
    makecontext(&uc_other, upong, 0);
    t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters / 10; i++)
        swapcontext(&uc_main, &uc_other);
    t1 = bench_now_ns();
    r->uctx = per_op(t0, t1, 2 * (iters / 10));

    KIRQL old;
    t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++) {
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        KeLowerIrql(old);
    }
    t1 = bench_now_ns();
    r->irql = per_op(t0, t1, iters);

    KSPIN_LOCK lock;
    KeInitializeSpinLock(&lock);
    t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++) {
        KeAcquireSpinLock(&lock, &old);
        KeReleaseSpinLock(&lock, old);
    }
    t1 = bench_now_ns();
    r->lock = per_op(t0, t1, iters);

    KDPC dpc;
    KeInitializeDpc(&dpc, empty_dpc, NULL);
    t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++)
        KeInsertQueueDpc(&dpc, NULL, NULL);
    t1 = bench_now_ns();
    r->dpc = per_op(t0, t1, iters);
}

static void row(const char *name, uint64_t *v, uint64_t call)
{
    uint64_t m = bench_median(v, reps);
    printf("%-44s %10.3f %9.1fx\n", name, m / 1000.0, call ? (double)m / (double)call : 0.0);
}

int main(void)
{
    static uint64_t call[reps], fiber[reps], uctx[reps], irql[reps], lock[reps], dpc[reps];
    struct wdmsim_config cfg = {.seed = 1};
    struct wdmsim_error err;
    wdmsim *sim;
    if (wdmsim_boot(&cfg, &sim, &err) != WDMSIM_OK) {
        fprintf(stderr, "bench_ke: %s\n", err.text);
        return 1;
    }
    for (int i = 0; i < reps; i++) {
        struct results r;
        if (wdmsim_call(sim, measure, &r) != WDMSIM_OK) {
            wdmsim_report_print(sim, stderr);
            return 1;
        }
        call[i] = r.call, fiber[i] = r.fiber, uctx[i] = r.uctx;
        irql[i] = r.irql, lock[i] = r.lock, dpc[i] = r.dpc;
    }
    wdmsim_shutdown(sim);
    uint64_t c = bench_median(call, reps);
    printf("bench_ke: median of %d runs of %d operations (2 processors)\n", reps, iters);
    printf("%-44s %10s %10s\n", "operation", "ns/op", "x call");
    row("plain function call (baseline)", call, c);
    row("fiber switch (wdmsim asm, chosen)", fiber, c);
    row("fiber switch (glibc swapcontext)", uctx, c);
    row("KeRaiseIrql + KeLowerIrql", irql, c);
    row("KeAcquireSpinLock + KeReleaseSpinLock", lock, c);
    row("KeInsertQueueDpc + DPC run (PASSIVE)", dpc, c);
    return 0;
}
