/*
 * bench/bench_ioctl.c - IOCTL round trips per second from an app, for each
 * transfer method of the PIO-1 sample driver, beside a plain function call
 * measured in the same run; and the user-context switch.
 *
 * One machine (default config + a PIO-1) runs bench_ioctl_app.so again and
 * again (apps run one after another on one machine). A round trip's cost is
 * (T(N2) - T(N1)) / (N2 - N1): the process's creation and end cancel out.
 * Medians of 7; the 2-core VM is noisy, compare rows, not runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <wdmsim/wdmsim.h>

#include "bench_util.h"
#include "sys.h"

static volatile uint64_t sink;

__attribute__((noinline)) static void plain_call(uint64_t x)
{
    sink += x;
    __asm__ volatile("" ::: "memory");
}

static double plain_ns(void)
{
    uint64_t v[15];
    for (int r = 0; r < 15; r++) {
        uint64_t t0 = bench_now_ns();
        for (uint64_t i = 0; i < 200000; i++)
            plain_call(i);
        v[r] = bench_now_ns() - t0;
    }
    return (double)bench_median(v, 15) / 200000.0;
}

static char app[1200], drv[1200];

static uint64_t run_app(wdmsim *sim, const char *kind, int n)
{
    char count[16];
    snprintf(count, sizeof(count), "%d", n);
    char *args[] = {(char *)kind, count};
    int code;
    struct wdmsim_error err;
    uint64_t t0 = bench_now_ns();
    int rc = wdmsim_run_app(sim, app, 2, args, &code, &err);
    uint64_t t = bench_now_ns() - t0;
    if (rc != WDMSIM_OK || code != 0) {
        fprintf(stderr, "bench_ioctl: app %s %d: rc %d exit %d %s\n", kind, n, rc, code,
                rc == WDMSIM_EINPUT ? err.text : "");
        exit(1);
    }
    return t;
}

static double round_trip_ns(wdmsim *sim, const char *kind)
{
    enum { n1 = 200, n2 = 2200, reps = 7 };
    uint64_t v[reps];
    for (int r = 0; r < reps; r++) {
        uint64_t a = run_app(sim, kind, n1), b = run_app(sim, kind, n2);
        v[r] = b > a ? b - a : 0;
    }
    return (double)bench_median(v, reps) / (n2 - n1);
}

/* Two user spaces switched back and forth: the mprotect passes only. */
struct switch_arg {
    double ns;
    uint64_t pages;
};

static void switch_bench(void *arg)
{
    struct switch_arg *s = arg;
    struct sys *sys = sys_get();
    struct ke_process *a = ke_process_create(&sys->ke, "a", 1 << 26);
    struct ke_process *b = ke_process_create(&sys->ke, "b", 1 << 26);
    /* What an app has: its stack, argv, a heap chunk, a buffer. */
    uint64_t sizes[] = {256 * 1024, 4096, 256 * 1024, 12288};
    for (unsigned i = 0; i < 4; i++) {
        mm_user_alloc(&sys->mm, a->space, sizes[i]);
        mm_user_alloc(&sys->mm, b->space, sizes[i]);
    }
    s->pages = a->space->committed;
    uint64_t v[7];
    for (int r = 0; r < 7; r++) {
        uint64_t t0 = bench_now_ns();
        for (int i = 0; i < 1000; i++) {
            mm_user_switch(&sys->mm, a->space);
            mm_user_switch(&sys->mm, b->space);
        }
        v[r] = bench_now_ns() - t0;
    }
    mm_user_switch(&sys->mm, NULL);
    s->ns = (double)bench_median(v, 7) / 2000.0;
    ke_process_destroy(&sys->ke, a);
    ke_process_destroy(&sys->ke, b);
}

int main(void)
{
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s", WDMSIM_BENCH_BIN);
    *strrchr(dir, '/') = 0;
    snprintf(drv, sizeof(drv), "%s/drivers/piofifo.so", dir);
    snprintf(app, sizeof(app), "%s/bench/bench_ioctl_app.so", dir);
    char ini[] = "/tmp/wdmsim-bench-ioctl-XXXXXX";
    int fd = mkstemp(ini);
    const char *text = "[device pio0]\nmodel = piofifo\ndriver = piofifo\n";
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        return 1;
    close(fd);
    struct wdmsim_config cfg = {.machine_path = ini, .seed = 1};
    wdmsim *sim;
    struct wdmsim_error err;
    if (wdmsim_boot(&cfg, &sim, &err) || wdmsim_load_driver(sim, drv, &err) ||
        wdmsim_start_devices(sim)) {
        fprintf(stderr, "bench_ioctl: %s\n", err.text);
        return 1;
    }
    double call = plain_ns();
    printf("%-52s %12s %10s %9s\n", "operation (median of 7)", "ns/op", "per second", "x call");
    printf("%-52s %12.1f %10.0f %9.1f\n", "plain function call (baseline)", call, 1e9 / call, 1.0);
    static const char *const kinds[][2] = {
        {"status", "GET_STATUS (METHOD_BUFFERED, 16 bytes out)"},
        {"buffered", "PUSH/POP_BUFFERED (METHOD_BUFFERED, 64 B)"},
        {"direct", "PUSH_IN_DIRECT/POP_OUT_DIRECT (MDL, 64 B)"},
        {"neither", "LOOP_NEITHER (METHOD_NEITHER, 64 B in + out)"},
        {"readwrite", "WriteFile/ReadFile (direct I/O, 64 B)"},
    };
    for (unsigned i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        double ns = round_trip_ns(sim, kinds[i][0]);
        printf("%-52s %12.1f %10.0f %9.1f\n", kinds[i][1], ns, 1e9 / ns, ns / call);
    }
    struct switch_arg s = {0};
    wdmsim_call(sim, switch_bench, &s);
    char label[80];
    snprintf(label, sizeof(label), "user context switch (%llu committed pages)",
             (unsigned long long)s.pages);
    printf("%-52s %12.1f %10.0f %9.1f\n", label, s.ns, 1e9 / s.ns, s.ns / call);
    wdmsim_unload_drivers(sim);
    wdmsim_shutdown(sim);
    unlink(ini);
    return 0;
}
