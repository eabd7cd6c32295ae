/*
 * bench/bench_sgdisk.c - the SGD-1 sample through the whole stack: an app's
 * WriteFile / ReadFile, the I/O manager, the sample driver, the HAL's
 * scatter/gather lists, the device model's DMA through the bus, the
 * interrupt and DPC, completion back in the app.
 *
 * Throughput: bench_sgdisk_app moves N MiB out and back in 1 MiB requests
 * (4 in flight); the rate is the bytes moved over host time, with the
 * app's start and end cancelled out by (T(N2) - T(N1)). Beside it, memcpy
 * of the same bytes in the same run (the ceiling of any data path on this
 * host). IOPS: 4 KiB reads with 32 in flight, refilled as each completes.
 * Each row also gives what the simulated machine saw (virtual time): the
 * device model's latency and bandwidth knobs, not the host, set those.
 * Medians of 5; the 2-core VM is noisy, compare rows, not runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <wdmsim/wdmsim.h>

#include "bench_util.h"

static char app[1200], drv[1200];

struct sample {
    uint64_t host_ns, virtual_ns;
};

static struct sample run_app(wdmsim *sim, const char *kind, unsigned n)
{
    char count[16];
    snprintf(count, sizeof(count), "%u", n);
    char *args[] = {(char *)kind, count};
    int code;
    struct wdmsim_error err;
    struct wdmsim_stats s0, s1;
    wdmsim_get_stats(sim, &s0);
    uint64_t t0 = bench_now_ns();
    int rc = wdmsim_run_app(sim, app, 2, args, &code, &err);
    uint64_t t = bench_now_ns() - t0;
    wdmsim_get_stats(sim, &s1);
    if (rc != WDMSIM_OK || code != 0) {
        fprintf(stderr, "bench_sgdisk: app %s %u: rc %d exit %d %s\n", kind, n, rc, code,
                rc == WDMSIM_EINPUT ? err.text : "");
        exit(1);
    }
    return (struct sample){t, s1.virtual_ns - s0.virtual_ns};
}

/* Host and virtual ns for the (n2 - n1) extra units, medians of 5. */
static struct sample marginal(wdmsim *sim, const char *kind, unsigned n1, unsigned n2)
{
    enum { reps = 5 };
    uint64_t h[reps], v[reps];
    for (int r = 0; r < reps; r++) {
        struct sample a = run_app(sim, kind, n1), b = run_app(sim, kind, n2);
        h[r] = b.host_ns > a.host_ns ? b.host_ns - a.host_ns : 1;
        v[r] = b.virtual_ns > a.virtual_ns ? b.virtual_ns - a.virtual_ns : 1;
    }
    return (struct sample){bench_median(h, reps), bench_median(v, reps)};
}

/* memcpy of `bytes` in 1 MiB blocks between two buffers, MiB/s. */
static double memcpy_mibs(uint64_t bytes)
{
    enum { block = 1 << 20, reps = 5 };
    unsigned char *a = malloc(block), *b = malloc(block);
    memset(a, 1, block);
    memset(b, 2, block);
    uint64_t v[reps];
    for (int r = 0; r < reps; r++) {
        uint64_t t0 = bench_now_ns();
        for (uint64_t done = 0; done < bytes; done += block) {
            memcpy((done / block) & 1 ? a : b, (done / block) & 1 ? b : a, block);
            __asm__ volatile("" ::: "memory");
        }
        v[r] = bench_now_ns() - t0;
    }
    free(a);
    free(b);
    return (double)bytes / (1 << 20) / (bench_median(v, reps) / 1e9);
}

int main(void)
{
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s", WDMSIM_BENCH_BIN);
    *strrchr(dir, '/') = 0;
    snprintf(drv, sizeof(drv), "%s/drivers/sgdisk.so", dir);
    snprintf(app, sizeof(app), "%s/bench/bench_sgdisk_app.so", dir);
    char ini[] = "/tmp/wdmsim-bench-sgdisk-XXXXXX";
    int fd = mkstemp(ini);
    const char *text = "[memory]\nram = 0 - 640K\nram = 1M - 3G\nram = 4G - 5G\n"
                       "[device sgd0]\nmodel = sgdisk\ndriver = sgdisk\n";
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        return 1;
    close(fd);
    struct wdmsim_config cfg = {.machine_path = ini, .seed = 1};
    wdmsim *sim;
    struct wdmsim_error err;
    if (wdmsim_boot(&cfg, &sim, &err) || wdmsim_load_driver(sim, drv, &err) ||
        wdmsim_start_devices(sim)) {
        fprintf(stderr, "bench_sgdisk: %s\n", err.text);
        return 1;
    }
    enum { mib1 = 8, mib2 = 72, io1 = 256, io2 = 4352 };
    struct sample t = marginal(sim, "tput", mib1, mib2);
    double bytes = 2.0 * (mib2 - mib1) * (1 << 20); /* out and back */
    double stack = bytes / (1 << 20) / (t.host_ns / 1e9);
    double virt = bytes / (1 << 20) / (t.virtual_ns / 1e9);
    double copy = memcpy_mibs((uint64_t)bytes);
    struct sample io = marginal(sim, "iops", io1, io2);
    double iops = (io2 - io1) / (io.host_ns / 1e9);
    double viops = (io2 - io1) / (io.virtual_ns / 1e9);

    printf("%-58s %12s %10s\n", "SGD-1 sample, app -> driver -> device -> app (median of 5)",
           "host", "virtual");
    printf("%-58s %7.0f MiB/s %6.0f MiB/s\n",
           "throughput, 1 MiB requests, 4 in flight, out and back", stack, virt);
    printf("%-58s %7.0f MiB/s %10s\n", "memcpy of the same bytes, same run (host ceiling)", copy,
           "-");
    printf("%-58s %7.1f %%\n", "  whole stack / memcpy", 100.0 * stack / copy);
    printf("%-58s %7.0f IOPS  %6.0f IOPS\n", "4 KiB reads, 32 in flight", iops, viops);
    printf("%-58s %7.1f us\n", "  host time per 4 KiB request", 1e6 / iops);
    wdmsim_unload_drivers(sim);
    if (wdmsim_get_bugcheck(sim) || wdmsim_violations(sim)) {
        fprintf(stderr, "bench_sgdisk: the run was not clean\n");
        return 1;
    }
    wdmsim_shutdown(sim);
    unlink(ini);
    return 0;
}
