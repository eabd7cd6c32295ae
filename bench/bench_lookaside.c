/*
 * bench/bench_lookaside.c - lookaside allocate + free against malloc + free.
 *
 * The pair a driver's hot path runs: ExAllocateFromNPagedLookasideList then
 * ExFreeToNPagedLookasideList of a 64-byte entry (header-inline counters
 * around the exported lock-free SLIST pop and push), and the same with a
 * LOOKASIDE_LIST_EX; baselines in the same run: jemalloc's malloc + free of
 * 64 bytes (dlopen'ed RTLD_LOCAL, never replacing this process's malloc)
 * and glibc's. Target (issue 4): the lookaside pair at or under jemalloc's.
 * jemalloc uses initial-exec TLS, which dlopen usually cannot place; then
 * the jemalloc figure comes from this program re-run as a child with
 * LD_PRELOAD=libjemalloc.so.2 (so malloc there is jemalloc's).
 * Each figure is the median of 7 runs of N pairs, in ns per pair.
 * Usage: bench_lookaside [quick]
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wdm.h>
#include <wdmsim/wdmsim.h>

#include "bench_util.h"

enum { runs = 7 };
static uint64_t pairs = 20000000;

static void *(*je_malloc)(size_t);
static void (*je_free)(void *);

typedef double (*bench_fn)(void);

static double per_pair(uint64_t t0, uint64_t t1)
{
    return (double)(t1 - t0) / (double)pairs;
}

static double run_nonpaged(void)
{
    static NPAGED_LOOKASIDE_LIST la;
    ExInitializeNPagedLookasideList(&la, NULL, NULL, POOL_NX_ALLOCATION, 64, 'hcnB', 0);
    PVOID warm = ExAllocateFromNPagedLookasideList(&la);
    ExFreeToNPagedLookasideList(&la, warm);
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < pairs; i++) {
        volatile char *p = ExAllocateFromNPagedLookasideList(&la);
        p[0] = (char)i;
        ExFreeToNPagedLookasideList(&la, (PVOID)p);
    }
    uint64_t t1 = bench_now_ns();
    ExDeleteNPagedLookasideList(&la);
    return per_pair(t0, t1);
}

static double run_ex(void)
{
    static LOOKASIDE_LIST_EX la;
    ExInitializeLookasideListEx(&la, NULL, NULL, NonPagedPoolNx, 0, 64, 'hcnB', 0);
    PVOID warm = ExAllocateFromLookasideListEx(&la);
    ExFreeToLookasideListEx(&la, warm);
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < pairs; i++) {
        volatile char *p = ExAllocateFromLookasideListEx(&la);
        p[0] = (char)i;
        ExFreeToLookasideListEx(&la, (PVOID)p);
    }
    uint64_t t1 = bench_now_ns();
    ExDeleteLookasideListEx(&la);
    return per_pair(t0, t1);
}

static double run_malloc(void *(*m)(size_t), void (*f)(void *))
{
    f(m(64));
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < pairs; i++) {
        volatile char *p = m(64);
        p[0] = (char)i;
        f((void *)p);
    }
    uint64_t t1 = bench_now_ns();
    return per_pair(t0, t1);
}

static void *(*volatile glibc_malloc)(size_t) = malloc;
static void (*volatile glibc_free)(void *) = free;

static double run_jemalloc(void)
{
    return run_malloc(je_malloc, je_free);
}

static double run_glibc(void)
{
    return run_malloc(glibc_malloc, glibc_free);
}

struct job {
    bench_fn fn;
    double result;
};

static void in_machine(void *arg)
{
    struct job *j = arg;
    j->result = j->fn();
}

static double median_of(wdmsim *sim, bench_fn fn)
{
    uint64_t v[runs];
    for (int r = 0; r < runs; r++) {
        struct job j = {fn, 0};
        if (sim)
            wdmsim_call(sim, in_machine, &j);
        else
            j.result = fn();
        v[r] = (uint64_t)(j.result * 1000.0); /* picoseconds */
    }
    return (double)bench_median(v, runs) / 1000.0;
}

/* The jemalloc pair measured by a preloaded child; 0 when unavailable. */
static double jemalloc_by_preload(const char *self)
{
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "LD_PRELOAD=libjemalloc.so.2 '%s' malloc-child %llu 2>/dev/null",
             self, (unsigned long long)pairs);
    FILE *p = popen(cmd, "r");
    if (!p)
        return 0;
    char line[128] = "";
    double v = 0;
    char name[64] = "";
    if (fgets(line, sizeof(line), p) && sscanf(line, "%63s %lf", name, &v) == 2 &&
        strcmp(name, "jemalloc"))
        v = 0; /* the preload did not take: that was glibc */
    pclose(p);
    return v;
}

int main(int argc, char **argv)
{
    if (argc > 2 && !strcmp(argv[1], "malloc-child")) {
        pairs = strtoull(argv[2], NULL, 10);
        const char *pre = getenv("LD_PRELOAD");
        double v = median_of(NULL, run_glibc); /* malloc is whatever is preloaded */
        printf("%s %f\n", pre && strstr(pre, "jemalloc") ? "jemalloc" : "glibc", v);
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "quick"))
        pairs /= 10;
    void *h = dlopen("libjemalloc.so.2", RTLD_NOW | RTLD_LOCAL);
    if (h) {
        je_malloc = (void *(*)(size_t))dlsym(h, "malloc");
        je_free = (void (*)(void *))dlsym(h, "free");
    }
    struct wdmsim_config cfg = {.seed = 1, .verifier = "none"};
    struct wdmsim_error err;
    wdmsim *sim;
    if (wdmsim_boot(&cfg, &sim, &err) != WDMSIM_OK) {
        fprintf(stderr, "bench_lookaside: boot failed: %s\n", err.text);
        return 2;
    }
    double np = median_of(sim, run_nonpaged);
    double ex = median_of(sim, run_ex);
    double gl = median_of(NULL, run_glibc);
    double je = je_malloc && je_free ? median_of(NULL, run_jemalloc) : jemalloc_by_preload(argv[0]);
    printf("lookaside allocate+free, 64 B, ns per pair (median of %d x %llu pairs)\n", runs,
           (unsigned long long)pairs);
    printf("  %-34s %7.2f\n", "NPAGED_LOOKASIDE_LIST", np);
    printf("  %-34s %7.2f\n", "LOOKASIDE_LIST_EX", ex);
    printf("  %-34s %7.2f\n", "glibc malloc+free", gl);
    if (je)
        printf("  %-34s %7.2f   target: lookaside <= this (ratio %.2f)\n", "jemalloc malloc+free",
               je, np / je);
    else
        printf("  jemalloc: libjemalloc.so.2 could not be loaded\n");
    wdmsim_shutdown(sim);
    return 0;
}
