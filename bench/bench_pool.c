/*
 * bench/bench_pool.c - ExAllocatePoolWithTag / ExFreePoolWithTag against
 * glibc malloc, jemalloc and mimalloc, in one run.
 *
 * Workloads (issue 4, docs/performance.md):
 *   random-1t   100k live blocks of 16-4096 bytes; each op frees a random
 *               block and allocates a new random size in its place
 *   random-2t   the same split over two host threads (50k live each)
 *   cross       one thread allocates 16-1024 bytes, the other frees them
 *               (single-producer ring of 4096 slots)
 *   fixed64     batches of 1000 allocations of 64 bytes, then their frees
 * Each (allocator, workload) runs in its own forked process, three times,
 * and the median time is printed with the process's peak memory against
 * the peak live bytes. jemalloc runs in bench_pool_jemalloc, the same code
 * linked with libjemalloc (its TLS model forbids dlopen). The pool runs with the verifier off
 * ("none"): tag tracking stays on, as it always is. mimalloc is dlopen'ed RTLD_LOCAL, so it never
 * replaces malloc in this process. Usage: bench_pool [quick]   (quick: a tenth of the operations)
 */
#include <dlfcn.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <wdm.h>
#include <wdmsim/wdmsim.h>

#include "bench_util.h"
#include "ex/ex.h"
#include "sys.h"

/* ---- the allocators under test ------------------------------------------------------ */

struct alloc {
    const char *name;
    void *(*alloc)(size_t n);
    void (*free)(void *p);
};

static struct sys *pool_sys;

static void *pool_alloc(size_t n)
{
    return ExAllocatePoolWithTag(NonPagedPoolNx, n, 'hcnB');
}
static void pool_free(void *p)
{
    ExFreePoolWithTag(p, 'hcnB');
}

static void *(*dl_alloc)(size_t);
static void (*dl_free)(void *);
static void *dl_alloc_fn(size_t n)
{
    return dl_alloc(n);
}
static void dl_free_fn(void *p)
{
    dl_free(p);
}

static int open_lib(const char *lib, const char *m, const char *f)
{
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "bench_pool: %s: %s\n", lib, dlerror());
        return -1;
    }
    dl_alloc = (void *(*)(size_t))dlsym(h, m);
    dl_free = (void (*)(void *))dlsym(h, f);
    return dl_alloc && dl_free ? 0 : -1;
}

/* ---- workloads ------------------------------------------------------------------------ */

static uint64_t ops_scale = 10;
/* BENCH_POOL_CPU=1: time the one- and two-thread loops in thread CPU time
 * instead of wall time, so a shared machine's preemption does not count
 * (cache interference still does). Cross-thread stays in wall time. */
static bool cpu_clock;

static uint64_t loop_now_ns(void)
{
    if (!cpu_clock)
        return bench_now_ns();
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}
#ifdef BENCH_LINKED_JEMALLOC
static const bool linked_jemalloc = true;
#else
static const bool linked_jemalloc = false;
#endif
static uint64_t peak_live;

/* Experiments on the random workload, for docs/performance.md ("Why the
 * random rows stop short"); neither is something a driver could do.
 * BENCH_POOL_HINT=1 (pool only): prefetch the page record of the block
 * the next operation frees, one operation early, to measure what the
 * free's one cache miss costs. BENCH_POOL_PAD=N (any allocator): N
 * independent register adds before each allocation, to measure what one
 * more instruction per operation costs. */
static bool hint_records;
static unsigned pad_adds;

static inline void pad(unsigned n)
{
    uint64_t a = 0, b = 0, c = 0, d = 0;
    for (unsigned k = 0; k < n / 4; k++)
        __asm__ volatile("add $1, %0\n\tadd $1, %1\n\tadd $1, %2\n\tadd $1, %3"
                         : "+r"(a), "+r"(b), "+r"(c), "+r"(d));
}

static inline void hint_record(const void *q)
{
    uint64_t idx =
        (uint64_t)((const uint8_t *)q - pool_sys->mm.system.base) >> pool_sys->ex.page_shift;
    /* asm: gcc drops a __builtin_prefetch whose result nothing uses here */
    if (idx < pool_sys->ex.page_map_len)
        __asm__ volatile("prefetcht0 %0" ::"m"(pool_sys->ex.prec[idx]));
}

static inline uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

struct rnd_arg {
    const struct alloc *a;
    unsigned slot;
    uint64_t nlive, ops, seed, ns;
    uint64_t peak, bytes;
};

static void attach(unsigned slot)
{
    if (pool_sys) {
        sys_current = pool_sys;
        ex_pool_thread_attach(&pool_sys->ex, slot);
    }
}

static void *random_worker(void *argp)
{
    struct rnd_arg *r = argp;
    attach(r->slot);
    void **p = calloc(r->nlive, sizeof(void *));
    uint32_t *sz = calloc(r->nlive, sizeof(uint32_t));
    uint64_t s = r->seed, bytes = 0, peak = 0;
    for (uint64_t i = 0; i < r->nlive; i++) {
        sz[i] = 16 + (uint32_t)(xorshift(&s) % 4081);
        p[i] = r->a->alloc(sz[i]);
        *(volatile char *)p[i] = 1;
        bytes += sz[i];
    }
    peak = bytes;
    uint64_t t0 = loop_now_ns();
    for (uint64_t k = 0; k < r->ops; k++) {
        uint64_t x = xorshift(&s);
        uint64_t i = x % r->nlive;
        if (hint_records && pool_sys) {
            uint64_t s2 = s;
            hint_record(p[xorshift(&s2) % r->nlive]);
        }
        r->a->free(p[i]);
        bytes -= sz[i];
        sz[i] = 16 + (uint32_t)((x >> 32) % 4081);
        if (pad_adds)
            pad(pad_adds);
        p[i] = r->a->alloc(sz[i]);
        *(volatile char *)p[i] = 1;
        bytes += sz[i];
        if (bytes > peak)
            peak = bytes;
    }
    r->ns = loop_now_ns() - t0;
    for (uint64_t i = 0; i < r->nlive; i++)
        r->a->free(p[i]);
    free(p);
    free(sz);
    r->peak = peak;
    return NULL;
}

static uint64_t run_random(const struct alloc *a, int threads)
{
    struct rnd_arg args[2];
    pthread_t t[2];
    uint64_t nlive = 100000 / (uint64_t)threads, ops = 100000 * ops_scale / (uint64_t)threads;
    if (pool_sys)
        ex_pool_host_threads(&pool_sys->ex, (unsigned)threads);
    for (int i = 0; i < threads; i++) {
        args[i] = (struct rnd_arg){.a = a,
                                   .slot = (unsigned)i,
                                   .nlive = nlive,
                                   .ops = ops,
                                   .seed = 88172645463325252ULL + (uint64_t)i};
        pthread_create(&t[i], NULL, random_worker, &args[i]);
    }
    uint64_t ns = 0;
    peak_live = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        if (args[i].ns > ns)
            ns = args[i].ns;
        peak_live += args[i].peak;
    }
    return ns * 1000 / (ops * (uint64_t)threads); /* ps per op pair, summed over threads */
}

enum { ring_slots = 4096 };
struct ring {
    void *slot[ring_slots];
    uint64_t head __attribute__((aligned(64))); /* written by the producer */
    uint64_t tail __attribute__((aligned(64))); /* written by the consumer */
    const struct alloc *a;
    uint64_t n;
};

static void *producer(void *argp)
{
    struct ring *r = argp;
    attach(0);
    uint64_t s = 0x1234567;
    for (uint64_t i = 0; i < r->n; i++) {
        while (i - __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) >= ring_slots)
            __builtin_ia32_pause();
        void *p = r->a->alloc(16 + xorshift(&s) % 1009);
        *(volatile char *)p = 1;
        r->slot[i % ring_slots] = p;
        __atomic_store_n(&r->head, i + 1, __ATOMIC_RELEASE);
    }
    return NULL;
}

static void *consumer(void *argp)
{
    struct ring *r = argp;
    attach(1);
    for (uint64_t i = 0; i < r->n; i++) {
        while (__atomic_load_n(&r->head, __ATOMIC_ACQUIRE) <= i)
            __builtin_ia32_pause();
        r->a->free(r->slot[i % ring_slots]);
        __atomic_store_n(&r->tail, i + 1, __ATOMIC_RELEASE);
    }
    return NULL;
}

static uint64_t run_cross(const struct alloc *a)
{
    static struct ring r;
    memset(&r, 0, sizeof(r));
    r.a = a;
    r.n = 100000 * ops_scale;
    pthread_t t[2];
    uint64_t t0 = bench_now_ns();
    pthread_create(&t[0], NULL, producer, &r);
    pthread_create(&t[1], NULL, consumer, &r);
    pthread_join(t[0], NULL);
    pthread_join(t[1], NULL);
    peak_live = ring_slots * 520ULL;
    return (bench_now_ns() - t0) * 1000 / r.n;
}

static uint64_t run_fixed(const struct alloc *a)
{
    if (pool_sys)
        ex_pool_host_threads(&pool_sys->ex, 1);
    attach(0);
    enum { batch = 1000 };
    static void *p[batch];
    uint64_t rounds = 100 * ops_scale;
    uint64_t t0 = loop_now_ns();
    for (uint64_t k = 0; k < rounds; k++) {
        for (int i = 0; i < batch; i++) {
            p[i] = a->alloc(64);
            *(volatile char *)p[i] = 1;
        }
        for (int i = 0; i < batch; i++)
            a->free(p[i]);
    }
    peak_live = batch * 64;
    return (loop_now_ns() - t0) * 1000 / (rounds * batch);
}

/* ---- one measurement in a child process --------------------------------------------- */

static uint64_t rss_peak_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    uint64_t kb = 0;
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, "VmHWM:", 6))
            kb = strtoull(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

static uint64_t rss_now_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    uint64_t kb = 0;
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, "VmRSS:", 6))
            kb = strtoull(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

struct result {
    uint64_t ps_per_op, rss_kb, pool_kb, live_kb;
};

static void measure(int which, int workload, struct result *out)
{
    struct alloc a = {0};
    wdmsim *sim = NULL;
    if (which == 0) {
        /* BENCH_POOL_MACHINE: a machine config (e.g. a smaller system_va for valgrind). */
        struct wdmsim_config cfg = {
            .seed = 1, .verifier = "none", .machine_path = getenv("BENCH_POOL_MACHINE")};
        struct wdmsim_error err;
        if (wdmsim_boot(&cfg, &sim, &err) != WDMSIM_OK) {
            fprintf(stderr, "bench_pool: boot: %s\n", err.text);
            exit(1);
        }
        pool_sys = (struct sys *)sim; /* struct wdmsim begins with its struct sys */
        sys_current = pool_sys;
        a = (struct alloc){"pool", pool_alloc, pool_free};
    } else if (which == 1) {
        a = (struct alloc){"glibc", malloc, free};
    } else if (which == 2) {
        /* bench_pool_jemalloc links jemalloc, which then is its malloc
         * (libjemalloc cannot be dlopen'ed: its TLS is initial-exec). */
        a = (struct alloc){"jemalloc", malloc, free};
    } else {
        if (open_lib("libmimalloc.so.2", "mi_malloc", "mi_free"))
            exit(2);
        a = (struct alloc){"mimalloc", dl_alloc_fn, dl_free_fn};
    }
    uint64_t base = rss_now_kb();
    switch (workload) {
    case 0:
        out->ps_per_op = run_random(&a, 1);
        break;
    case 1:
        out->ps_per_op = run_random(&a, 2);
        break;
    case 2:
        out->ps_per_op = run_cross(&a);
        break;
    default:
        out->ps_per_op = run_fixed(&a);
        break;
    }
    out->rss_kb = rss_peak_kb() - base;
    out->pool_kb = pool_sys ? pool_sys->ex.peak_pages * pool_sys->ex.page_size / 1024 : 0;
    out->live_kb = peak_live / 1024;
}

static int fork_measure(int which, int workload, struct result *out)
{
    int fd[2];
    if (pipe(fd))
        return -1;
    pid_t pid = fork();
    if (pid == 0 && which == 2 && !linked_jemalloc) {
        char self[4096], w[8];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 32);
        if (n <= 0)
            _exit(4);
        self[n] = 0;
        strcat(self, "_jemalloc");
        snprintf(w, sizeof(w), "%d", workload);
        dup2(fd[1], 1);
        execl(self, self, "raw", "2", w, (char *)NULL);
        _exit(5);
    }
    if (pid == 0) {
        close(fd[0]);
        struct result r = {0};
        measure(which, workload, &r);
        if (write(fd[1], &r, sizeof(r)) != sizeof(r))
            _exit(3);
        _exit(0);
    }
    close(fd[1]);
    ssize_t n = read(fd[0], out, sizeof(*out));
    close(fd[0]);
    int st;
    waitpid(pid, &st, 0);
    return n == sizeof(*out) && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    /* BENCH_POOL_SCALE=N: N x 100k operations (default 10), e.g. for perf. */
    const char *scale = getenv("BENCH_POOL_SCALE");
    cpu_clock = getenv("BENCH_POOL_CPU") && atoi(getenv("BENCH_POOL_CPU"));
    hint_records = getenv("BENCH_POOL_HINT") && atoi(getenv("BENCH_POOL_HINT"));
    if (getenv("BENCH_POOL_PAD") && atoi(getenv("BENCH_POOL_PAD")) > 0)
        pad_adds = (unsigned)atoi(getenv("BENCH_POOL_PAD"));
    if (scale && atoi(scale) > 0)
        ops_scale = (uint64_t)atoi(scale);
    if (argc > 3 && !strcmp(argv[1], "raw")) {
        struct result r = {0};
        measure(atoi(argv[2]), atoi(argv[3]), &r);
        return write(1, &r, sizeof(r)) == sizeof(r) ? 0 : 3;
    }
    if (argc > 3 && !strcmp(argv[1], "one")) {
        struct result r = {0};
        measure(atoi(argv[2]), atoi(argv[3]), &r);
        printf("%llu ps/op, pool pages/live %.3f, RSS/live %.3f\n", (unsigned long long)r.ps_per_op,
               r.live_kb ? (double)r.pool_kb / r.live_kb : 0.0,
               r.live_kb ? (double)r.rss_kb / r.live_kb : 0.0);
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "quick"))
        ops_scale = 1;
    static const char *const names[] = {"ExAllocatePoolWithTag", "glibc malloc", "jemalloc",
                                        "mimalloc"};
    static const char *const works[] = {"random 16-4096, 100k live, 1 thread",
                                        "random 16-4096, 100k live, 2 threads",
                                        "cross-thread free (16-1024 B)", "fixed 64 B"};
    printf("| workload | allocator | ns/op | peak RSS MiB | peak live MiB | RSS/live | pool "
           "pages/live |\n|---|---|---|---|---|---|---|\n");
    for (int w = 0; w < 4; w++) {
        for (int a = 0; a < 4; a++) {
            uint64_t t[3];
            struct result r = {0}, best = {0};
            int ok = 0;
            for (int k = 0; k < 3; k++) {
                if (fork_measure(a, w, &r))
                    continue;
                t[ok++] = r.ps_per_op;
                best = r;
            }
            if (!ok) {
                printf("| %s | %s | failed | | | | |\n", works[w], names[a]);
                continue;
            }
            uint64_t ps = bench_median(t, (size_t)ok);
            double live = (double)best.live_kb;
            char pool[32] = "-";
            if (a == 0 && live > 0)
                snprintf(pool, sizeof(pool), "%.3f", best.pool_kb / live);
            printf("| %s | %s | %.1f | %.1f | %.1f | %.3f | %s |\n", works[w], names[a],
                   (double)ps / 1000.0, best.rss_kb / 1024.0, live / 1024.0,
                   live > 0 ? best.rss_kb / live : 0.0, pool);
            fflush(stdout);
        }
    }
    return 0;
}
