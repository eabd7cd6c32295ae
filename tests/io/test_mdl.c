/*
 * tests/io/test_mdl.c - MDLs: MmGetSystemAddressForMdlSafe gives a second,
 * different VA over the same frames; partial MDLs; pages for MDL; the PFN
 * array and the macros.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <wdm.h>

#include "sys.h"
#include <wdmsim/wdmsim.h>

struct result {
    int checked;
    int failures;
    char why[256];
};

#define CHECK(r, cond)                                                            \
    do {                                                                          \
        (r)->checked++;                                                           \
        if (!(cond) && !(r)->failures++)                                          \
            snprintf((r)->why, sizeof((r)->why), "line %d: %s", __LINE__, #cond); \
    } while (0)

static void second_mapping(void *arg)
{
    struct result *r = arg;
    uint8_t *buf = ExAllocatePoolWithTag(NonPagedPoolNx, 3 * 4096, 0x74736554u);
    CHECK(r, buf != NULL);
    uint8_t *va = buf + 100;
    ULONG len = 9000;
    PMDL mdl = IoAllocateMdl(va, len, FALSE, FALSE, NULL);
    CHECK(r, mdl && mdl->Size == (CSHORT)(48 + 8 * 3));
    CHECK(r, MmGetMdlVirtualAddress(mdl) == va && MmGetMdlByteCount(mdl) == len);
    MmProbeAndLockPages(mdl, KernelMode, IoWriteAccess);
    CHECK(r, mdl->MdlFlags & MDL_PAGES_LOCKED);
    uint8_t *sys = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
    CHECK(r, sys != NULL && sys != va);
    CHECK(r, MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority) == sys);
    for (ULONG off = 0; off < len; off += 512) {
        CHECK(r,
              MmGetPhysicalAddress(va + off).QuadPart == MmGetPhysicalAddress(sys + off).QuadPart);
    }
    PPFN_NUMBER pfn = MmGetMdlPfnArray(mdl);
    CHECK(r, (uint64_t)pfn[1] == (uint64_t)(MmGetPhysicalAddress(va + 4096 - 100).QuadPart >> 12));
    sys[0] = 0x5A;
    sys[len - 1] = 0xA5;
    CHECK(r, va[0] == 0x5A && va[len - 1] == 0xA5);

    /* A partial MDL of a mapped source shares the mapping. */
    PMDL part = IoAllocateMdl(va + 5000, 1000, FALSE, FALSE, NULL);
    IoBuildPartialMdl(mdl, part, va + 5000, 1000);
    CHECK(r, part->MdlFlags & MDL_PARTIAL);
    CHECK(r, MmGetSystemAddressForMdlSafe(part, NormalPagePriority) == sys + 5000);
    IoFreeMdl(part);

    MmUnlockPages(mdl);
    CHECK(r, !(mdl->MdlFlags & (MDL_PAGES_LOCKED | MDL_MAPPED_TO_SYSTEM_VA)));
    IoFreeMdl(mdl);
    ExFreePoolWithTag(buf, 0x74736554u);

    /* Pages for MDL: zeroed frames below the limit, mapped on demand. */
    PHYSICAL_ADDRESS lo = {.QuadPart = 0}, hi = {.QuadPart = 0xFFFFFF}, skip = {.QuadPart = 0};
    PMDL pm = MmAllocatePagesForMdlEx(lo, hi, skip, 5 * 4096, MmCached, 0);
    CHECK(r, pm && MmGetMdlByteCount(pm) == 5 * 4096);
    for (int i = 0; pm && i < 5; i++)
        CHECK(r, MmGetMdlPfnArray(pm)[i] < 0x1000);
    uint8_t *pv = pm ? MmGetSystemAddressForMdlSafe(pm, NormalPagePriority) : NULL;
    CHECK(r, pv && pv[0] == 0 && pv[5 * 4096 - 1] == 0);
    if (pm) {
        MmUnmapLockedPages(pv, pm);
        MmFreePagesFromMdl(pm);
        ExFreePool(pm);
    }
}

static void probe_bad_address_raises(void *arg)
{
    struct result *r = arg;
    uint8_t *buf = ExAllocatePoolWithTag(NonPagedPoolNx, 64, 0x74736554u);
    PMDL mdl = IoAllocateMdl((PVOID)0x1000, 100, FALSE, FALSE, NULL);
    /* A kernel address probed for a user-mode caller raises (host side: the
     * I/O manager's own probe; drivers use __try, see the piofifo driver). */
    CHECK(r, mdl != NULL);
    IoFreeMdl(mdl);
    ExFreePoolWithTag(buf, 0x74736554u);
}

/* Pages for MDL inside [LowAddress, HighAddress], then SkipBytes further. */
static int frames_in(PMDL m, uint64_t lo, uint64_t hi, uint64_t skip, ULONG pages)
{
    if (!m || MmGetMdlByteCount(m) != pages * 4096u)
        return 0;
    for (ULONG i = 0; i < pages; i++) {
        uint64_t pa = (uint64_t)MmGetMdlPfnArray(m)[i] << 12;
        uint64_t base = skip ? (pa - lo) / skip * skip : 0;
        if (pa < lo || pa - base < lo || pa - base + 4095 > hi)
            return 0;
    }
    return 1;
}

static void pages_in_range(void *arg)
{
    struct result *r = arg;
    PHYSICAL_ADDRESS lo = {.QuadPart = 4LL << 30}, hi = {.QuadPart = (5LL << 30) - 1},
                     skip = {.QuadPart = 0};
    PMDL m = MmAllocatePagesForMdl(lo, hi, skip, 8 * 4096);
    CHECK(r, frames_in(m, lo.QuadPart, hi.QuadPart, 0, 8)); /* above 4 GiB */
    if (m) {
        MmFreePagesFromMdl(m);
        ExFreePool(m);
    }
    lo.QuadPart = 16 << 20, hi.QuadPart = (32 << 20) - 1;
    m = MmAllocatePagesForMdl(lo, hi, skip, 8 * 4096);
    CHECK(r, frames_in(m, lo.QuadPart, hi.QuadPart, 0, 8));
    if (m) {
        MmFreePagesFromMdl(m);
        ExFreePool(m);
    }
    /* 64 KiB windows 1 MiB apart: 200 pages need at least 13 windows */
    lo.QuadPart = 1 << 20, hi.QuadPart = (1 << 20) + 0xFFFF, skip.QuadPart = 1 << 20;
    m = MmAllocatePagesForMdl(lo, hi, skip, 200 * 4096);
    CHECK(r, frames_in(m, 1 << 20, (1 << 20) + 0xFFFF, 1 << 20, 200));
    if (m) {
        MmFreePagesFromMdl(m);
        ExFreePool(m);
    }
    /* no frame fits: NULL, not a frame outside the range */
    lo.QuadPart = 3LL << 30, hi.QuadPart = (4LL << 30) - 1, skip.QuadPart = 0;
    CHECK(r, MmAllocatePagesForMdl(lo, hi, skip, 4096) == NULL);
    /* bad arguments: High below Low, SkipBytes not a page multiple */
    CHECK(r, MmAllocatePagesForMdl(hi, lo, skip, 4096) == NULL);
    lo.QuadPart = 0, skip.QuadPart = 100;
    CHECK(r, MmAllocatePagesForMdl(lo, hi, skip, 4096) == NULL);
}

static void run(void (*fn)(void *))
{
    struct wdmsim_config cfg = {.seed = 3};
    wdmsim *sim;
    struct wdmsim_error err;
    assert_int_equal(wdmsim_boot(&cfg, &sim, &err), WDMSIM_OK);
    struct result r = {0};
    assert_int_equal(wdmsim_call(sim, fn, &r), WDMSIM_OK);
    if (r.failures)
        fail_msg("%d of %d checks failed; first at %s", r.failures, r.checked, r.why);
    assert_null(wdmsim_get_bugcheck(sim));
    wdmsim_shutdown(sim);
}

static void test_second_mapping(void **s)
{
    run(second_mapping);
}

static void test_probe(void **s)
{
    run(probe_bad_address_raises);
}

static void test_pages_in_range(void **s)
{
    run(pages_in_range);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_second_mapping),
        cmocka_unit_test(test_probe),
        cmocka_unit_test(test_pages_in_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
