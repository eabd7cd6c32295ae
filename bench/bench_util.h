/*
 * bench/bench_util.h - timing helpers shared by the benchmarks.
 * Medians of repeated runs, because the machine is a noisy 2-core VM.
 */
#ifndef WDMSIM_BENCH_UTIL_H
#define WDMSIM_BENCH_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static inline uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int bench_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static inline uint64_t bench_median(uint64_t *v, size_t n)
{
    qsort(v, n, sizeof(v[0]), bench_cmp_u64);
    return v[n / 2];
}

#endif
