/*
 * tests/ex/test_pool_bugs.c - seeded random driver bugs against the pool:
 * wdmsim stops with a bug check or carries on, and never crashes.
 *
 * Spec: spec/verifier.md 1 (the pool rules); the project's standard that a
 * driver bug gets a bug check report, never a host crash or hang. Each seed
 * runs random allocations and frees of random sizes and tags (small and
 * big pool, cache-aligned too) and, at random points, the bugs drivers
 * make, on pool blocks and on entries of a lookaside list: a double free, a free with the wrong
 * tag, a free of an address inside a block or near one, an overrun or underrun of a few bytes, and
 * writes into a block after its free (every third seed: only those, at a
 * high rate, since the pool may not notice them and the run goes on). The
 * run must end normally or stop
 * with one of the pool's codes (0x19, 0xC2, 0xC4), a page fault in
 * nonpaged memory (0x50: a write into a page the pool gave back), or an
 * access violation (0x1E: a lookaside entry's link written after the free
 * sends the next allocation to that address). Both
 * with pool tracking off and on, and with 4 and 8 KiB pages. WDMSIM_POOL_BUG_SEEDS=N runs N seeds
 * (default 40).
 */
/* WDK tags are multi-character constants. */
#pragma GCC diagnostic ignored "-Wmultichar"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <wdm.h>
#include <wdmsim/wdmsim.h>

#include "support/fixture.h"

enum { nslots = 256, nops = 3000 };

struct slot {
    uint8_t *p;
    size_t n;
    ULONG tag;
    bool freed; /* p is stale: its block was freed */
    bool la;    /* from the lookaside list (64 bytes) */
};

static NPAGED_LOOKASIDE_LIST la;

static void release(struct slot *x)
{
    if (x->la)
        ExFreeToNPagedLookasideList(&la, x->p);
    else
        ExFreePoolWithTag(x->p, x->tag);
}

static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static const ULONG tags[] = {'AgbB', 'BgbB', 'CgbB'};

static size_t random_size(uint64_t *s)
{
    uint64_t r = next(s);
    switch (r % 4) {
    case 0:
        return 1 + (r >> 8) % 64;
    case 1:
        return 1 + (r >> 8) % 1024;
    case 2:
        return 1 + (r >> 8) % 4096;
    default:
        return 4000 + (r >> 8) % 9000; /* big pool, 1-4 pages */
    }
}

/* One injected bug on slot x (live or stale); quiet: only writes after
 * free, which the pool may not notice, so that the run goes on and meets
 * many of them. */
static void bug(uint64_t *s, struct slot *x, bool quiet)
{
    uint64_t r = next(s);
    switch (quiet ? 5 + r % 2 : r % 7) {
    case 0: /* double free, or a free of a stale pointer */
        if (!x->freed) {
            release(x);
            x->freed = true;
        }
        release(x);
        break;
    case 1: /* the wrong tag */
        if (!x->freed && !x->la)
            ExFreePoolWithTag(x->p, x->tag ^ 0x0101);
        break;
    case 2: /* an address inside or just before the block */
        if (!x->freed)
            ExFreePool(x->p + 1 + (r >> 8) % (x->n + 32) - 16);
        break;
    case 3: /* an overrun of 1-32 bytes */
        if (!x->freed)
            memset(x->p + x->n, (int)(r >> 8), 1 + (r >> 16) % 32);
        break;
    case 4: /* an underrun of 1-16 bytes: the header */
        if (!x->freed)
            memset(x->p - 1 - (r >> 8) % 16, (int)(r >> 24), 1 + (r >> 8) % 16);
        break;
    case 5: /* a write after free: a pointer, NULL or a number */
        if (x->freed) {
            uint64_t v = (r >> 8) % 3 == 0 ? 0 : (r >> 8) % 3 == 1 ? r : (uint64_t)(x->p + 64);
            memcpy(x->p + ((r >> 16) % 2) * 8, &v, sizeof(v));
        }
        break;
    default: /* a write after free of 16 bytes anywhere in the first 64 */
        if (x->freed)
            memset(x->p + ((r >> 8) % 49), (int)(r >> 16), 16);
        break;
    }
}

static void body(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    uint64_t s = seed * 0x9E3779B97F4A7C15ULL | 1;
    bool quiet = seed % 3 == 0;
    unsigned rate = quiet ? 20 : 500;
    static struct slot slots[nslots];
    memset(slots, 0, sizeof(slots));
    ExInitializeNPagedLookasideList(&la, NULL, NULL, POOL_NX_ALLOCATION, 64, 'aLgB', 0);
    for (int op = 0; op < nops; op++) {
        uint64_t r = next(&s);
        struct slot *x = &slots[r % nslots];
        if ((r >> 32) % rate == 0 && x->p) {
            bug(&s, x, quiet);
            continue;
        }
        if (x->p && !x->freed) {
            release(x);
            x->freed = true; /* kept: a later bug may use the stale pointer */
            continue;
        }
        x->n = random_size(&s);
        x->tag = tags[(r >> 40) % 3];
        x->la = (r >> 52) % 6 == 0;
        POOL_TYPE type = (r >> 48) % 8 == 0 ? NonPagedPoolNxCacheAligned : NonPagedPoolNx;
        if (x->la) {
            x->n = 64;
            x->tag = 'aLgB';
            x->p = ExAllocateFromNPagedLookasideList(&la);
        } else {
            x->p = ExAllocatePoolWithTag(type, x->n, x->tag);
        }
        x->freed = x->p == NULL;
        if (x->p)
            memset(x->p, 0x5A, x->n);
    }
    ExDeleteNPagedLookasideList(&la);
}

static void test_random_bugs(void **state)
{
    (void)state;
    const char *e = getenv("WDMSIM_POOL_BUG_SEEDS");
    unsigned seeds = e ? (unsigned)strtoul(e, NULL, 10) : 40;
    unsigned stopped = 0, codes[5] = {0};
    char path[32];
    write_machine_8k(path);
    for (unsigned seed = 1; seed <= seeds; seed++) {
        /* every fifth seed on a machine with 8 KiB pages */
        struct wdmsim_config cfg = {.seed = seed,
                                    .verifier = seed % 2 ? "none" : "standard",
                                    .machine_path = seed % 5 == 0 ? path : NULL};
        wdmsim *sim;
        struct wdmsim_error err;
        assert_int_equal(wdmsim_boot(&cfg, &sim, &err), WDMSIM_OK);
        int rc = wdmsim_call(sim, body, (void *)(uintptr_t)seed);
        if (rc == WDMSIM_STOPPED) {
            uint32_t code = wdmsim_get_bugcheck(sim)->code;
            if (code != 0x19 && code != 0xC2 && code != 0xC4 && code != 0x50 && code != 0x1E) {
                fprintf(stderr, "seed %u: unexpected stop\n", seed);
                wdmsim_report_print(sim, stderr);
                fail();
            }
            stopped++;
            codes[code == 0x19 ? 0 : code == 0xC2 ? 1 : code == 0xC4 ? 2 : code == 0x50 ? 3 : 4]++;
        } else {
            assert_int_equal(rc, WDMSIM_OK);
        }
        wdmsim_shutdown(sim);
    }
    unlink(path);
    print_message("%u of %u runs stopped (0x19 %u, 0xC2 %u, 0xC4 %u, 0x50 %u, 0x1E %u)\n", stopped,
                  seeds, codes[0], codes[1], codes[2], codes[3], codes[4]);
    /* the bugs are real: most runs must have stopped */
    assert_true(stopped * 2 > seeds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_random_bugs)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
