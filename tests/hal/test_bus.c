/*
 * tests/hal/test_bus.c - device accesses through an adapter: mapped ranges
 * copy byte for byte, anything else is refused with the right fault:
 * outside every mapping, wrong direction, beyond the device's width;
 * common buffers pass both ways. Also adapter construction: reach, counts,
 * refusals, the bounce area's placement.
 * Spec: spec/dma.md 1, 4; spec/verifier.md 9.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "hal_test.h"

enum { shift = 12, psize = 4096 };

/* Maps an MDL over `frames` through a's registers from register 0. */
static long map(struct hal_adapter *a, MDL *m, uintptr_t va, uint64_t len, enum hal_dir dir,
                SCATTER_GATHER_ELEMENT *el, unsigned cap)
{
    struct hal_sg_walk w = {m, va, len};
    struct hal_sg_out out = {.el = el, .cap = cap};
    return hal_sg_build(&w, &a->lim, &a->regs, 0, a->bounce_base, dir, &a->hal->machine->ram, &out);
}

static void test_mapped_access_and_faults(void **state)
{
    struct hal_env *e = hal_env_boot(0, frame_placement_scattered);
    DEVICE_DESCRIPTION d = test_desc_master(true, 64, 16 * psize);
    const char *why = NULL;
    struct hal_adapter *a = hal_adapter_create(&e->hal, &d, &why);
    assert_non_null(a);
    uint64_t fr[2] = {pfn_alloc(&e->m.pfn, UINT64_MAX), pfn_alloc(&e->m.pfn, UINT64_MAX)};
    for (unsigned i = 0; i < psize; i++) {
        frame_ptr(e, fr[0])[i] = (uint8_t)i;
        frame_ptr(e, fr[1])[i] = (uint8_t)(i * 7);
    }
    MDL *m = test_mdl(0x4000 + 100, 2 * psize - 200, fr, shift);
    SCATTER_GATHER_ELEMENT el[4];
    assert_int_equal(map(a, m, 0x4000 + 100, 2 * psize - 200, hal_dir_to_device, el, 4), 2);
    uint8_t buf[2 * psize];
    struct hal_bus_fault_info info;
    /* The device reads what the driver put there, element by element. */
    assert_int_equal(
        hal_bus_access(a, el[0].Address.QuadPart, buf, el[0].Length, hal_dir_to_device, &info),
        hal_bus_ok);
    assert_memory_equal(buf, frame_ptr(e, fr[0]) + 100, el[0].Length);
    assert_int_equal(
        hal_bus_access(a, el[1].Address.QuadPart, buf, el[1].Length, hal_dir_to_device, &info),
        hal_bus_ok);
    assert_memory_equal(buf, frame_ptr(e, fr[1]), el[1].Length);
    /* One byte before the mapped range of the first page. */
    assert_int_equal(
        hal_bus_access(a, el[0].Address.QuadPart - 1, buf, 4, hal_dir_to_device, &info),
        hal_bus_unmapped);
    assert_int_equal(info.logical, el[0].Address.QuadPart - 1);
    /* One byte past the end of the last element. */
    uint64_t end = el[1].Address.QuadPart + el[1].Length;
    assert_int_equal(hal_bus_access(a, end - 4, buf, 5, hal_dir_to_device, &info),
                     hal_bus_unmapped);
    assert_int_equal(info.logical, end);
    /* Writing a memory->device mapping. */
    assert_int_equal(hal_bus_access(a, el[0].Address.QuadPart, buf, 4, hal_dir_from_device, &info),
                     hal_bus_wrong_direction);
    assert_int_equal(frame_ptr(e, fr[0])[100], 100); /* nothing written */
    /* A frame no register maps. */
    uint64_t other = pfn_alloc(&e->m.pfn, UINT64_MAX);
    assert_int_equal(hal_bus_access(a, other << shift, buf, 4, hal_dir_to_device, &info),
                     hal_bus_unmapped);
    /* After unmapping nothing is reachable any more. */
    hal_sg_unmap(&a->regs, 0, 2, true, &e->m.ram, shift);
    assert_int_equal(hal_bus_access(a, el[0].Address.QuadPart, buf, 4, hal_dir_to_device, &info),
                     hal_bus_unmapped);
    free(m);
    hal_env_free(e);
}

/* Device -> memory through a bounce register: the data sits in the bounce
 * frame until the unmap (the flush) copies it back. */
static void test_bounced_write_visible_after_flush(void **state)
{
    struct hal_env *e = hal_env_boot(8192, frame_placement_scattered);
    DEVICE_DESCRIPTION d = test_desc_master(true, 32, 4 * psize);
    const char *why;
    struct hal_adapter *a = hal_adapter_create(&e->hal, &d, &why);
    assert_non_null(a);
    assert_true(a->bounce_base != UINT64_MAX);
    assert_true(((a->bounce_base + a->bounce_frames) << shift) <= (4ULL << 30));
    uint64_t hi = pfn_alloc(&e->m.pfn, UINT64_MAX);
    assert_true((hi << shift) >= (4ULL << 30));
    memset(frame_ptr(e, hi), 0, psize);
    MDL *m = test_mdl(0x8000, psize, &hi, shift);
    SCATTER_GATHER_ELEMENT el[2];
    assert_int_equal(map(a, m, 0x8000, psize, hal_dir_from_device, el, 2), 1);
    assert_true((uint64_t)el[0].Address.QuadPart < (4ULL << 30));
    uint8_t data[psize];
    for (unsigned i = 0; i < psize; i++)
        data[i] = (uint8_t)(i ^ 0x5A);
    assert_int_equal(
        hal_bus_access(a, el[0].Address.QuadPart, data, psize, hal_dir_from_device, NULL),
        hal_bus_ok);
    assert_int_equal(frame_ptr(e, hi)[1], 0); /* stale until the flush */
    hal_sg_unmap(&a->regs, 0, 1, true, &e->m.ram, shift);
    assert_memory_equal(frame_ptr(e, hi), data, psize);
    free(m);
    hal_env_free(e);
}

/* A 24-bit device cannot emit an address at or above 16 MiB. */
static void test_beyond_reach(void **state)
{
    struct hal_env *e = hal_env_boot(0, frame_placement_scattered);
    DEVICE_DESCRIPTION d = test_desc_master(false, 24, psize);
    const char *why;
    struct hal_adapter *a = hal_adapter_create(&e->hal, &d, &why);
    assert_non_null(a);
    uint8_t buf[8];
    struct hal_bus_fault_info info;
    assert_int_equal(hal_bus_access(a, (16 << 20) - 4, buf, 8, hal_dir_to_device, &info),
                     hal_bus_beyond_reach);
    assert_int_equal(info.logical, 16 << 20);
    assert_int_equal(hal_bus_access(a, 1ULL << 32, buf, 1, hal_dir_to_device, &info),
                     hal_bus_beyond_reach);
    hal_env_free(e);
}

/* Common buffers pass both ways without registers; their neighbours don't. */
static void test_common_buffer_access(void **state)
{
    struct hal_env *e = hal_env_boot(0, frame_placement_scattered);
    DEVICE_DESCRIPTION d = test_desc_master(true, 64, psize);
    const char *why;
    struct hal_adapter *a = hal_adapter_create(&e->hal, &d, &why);
    uint64_t f = pfn_alloc_run(&e->m.pfn, 2, 0, UINT64_MAX, 0);
    struct hal_common_buffer cb = {.logical = f << shift, .bytes = 5000, .npages = 2};
    a->commons = &cb;
    uint8_t buf[16] = "common buffer!!";
    assert_int_equal(hal_bus_access(a, (f << shift) + 4090, buf, 16, hal_dir_from_device, NULL),
                     hal_bus_ok);
    assert_memory_equal(frame_ptr(e, f) + 4090, buf, 6);
    assert_memory_equal(frame_ptr(e, f + 1), buf + 6, 10);
    assert_int_equal(hal_bus_access(a, (f + 2) << shift, buf, 1, hal_dir_to_device, NULL),
                     hal_bus_unmapped);
    a->commons = NULL;
    hal_env_free(e);
}

/* spec/dma.md 1: reach table, count policy, refusals. */
static void test_adapter_policy(void **state)
{
    struct hal_env *e = hal_env_boot(0, frame_placement_scattered);
    const char *why = NULL;
    DEVICE_DESCRIPTION d = test_desc_master(true, 0, 5000);
    d.Version = DEVICE_DESCRIPTION_VERSION2;
    d.Dma64BitAddresses = TRUE;
    assert_int_equal(hal_desc_width(&d), 64);
    d.Dma64BitAddresses = FALSE;
    assert_int_equal(hal_desc_width(&d), 32); /* S/G PCI master */
    d.ScatterGather = FALSE;
    d.InterfaceType = Isa;
    assert_int_equal(hal_desc_width(&d), 24);
    d.Dma32BitAddresses = TRUE;
    assert_int_equal(hal_desc_width(&d), 32);

    struct hal_adapter *a = hal_adapter_create(&e->hal, &d, &why);
    assert_non_null(a);
    assert_int_equal(a->nregs, 3); /* BYTES_TO_PAGES(5000) + 1 */
    assert_int_equal(a->pub.Version, 1);
    assert_int_equal(a->pub.Size, sizeof(DMA_ADAPTER));
    d.MaximumLength = 0;
    assert_int_equal(hal_adapter_create(&e->hal, &d, &why)->nregs, 1);
    d.MaximumLength = 100 << 20;
    assert_int_equal(hal_adapter_create(&e->hal, &d, &why)->nregs, 256);

    DEVICE_DESCRIPTION s = test_desc_slave(2, 1 << 20);
    a = hal_adapter_create(&e->hal, &s, &why);
    assert_non_null(a);
    assert_int_equal(a->nregs, 16);
    assert_int_equal(a->width, 24);
    /* the bounce area: below 16 MiB, inside one 64 KiB block */
    uint64_t lo = a->bounce_base << shift, hi = (a->bounce_base + a->bounce_frames) << shift;
    assert_true(hi <= (16 << 20));
    assert_int_equal(lo >> 16, (hi - 1) >> 16);
    s = test_desc_slave(6, 1 << 20);
    a = hal_adapter_create(&e->hal, &s, &why);
    assert_int_equal(a->nregs, 32);
    lo = a->bounce_base << shift, hi = (a->bounce_base + a->bounce_frames) << shift;
    assert_int_equal(lo >> 17, (hi - 1) >> 17);

    s = test_desc_slave(4, 100);
    assert_null(hal_adapter_create(&e->hal, &s, &why));
    s = test_desc_slave(8, 100);
    assert_null(hal_adapter_create(&e->hal, &s, &why));
    s = test_desc_slave(1, 100);
    s.DmaWidth = Width16Bits;
    assert_null(hal_adapter_create(&e->hal, &s, &why));
    s = test_desc_slave(5, 100);
    s.DmaWidth = Width8Bits;
    assert_null(hal_adapter_create(&e->hal, &s, &why));
    d = test_desc_master(true, 0, 100);
    assert_null(hal_adapter_create(&e->hal, &d, &why));
    d = test_desc_master(true, 65, 100);
    assert_null(hal_adapter_create(&e->hal, &d, &why));
    d = test_desc_master(true, 64, 100);
    d.Version = 4;
    assert_null(hal_adapter_create(&e->hal, &d, &why));
    d.Version = 1;
    d.Reserved1 = TRUE;
    assert_null(hal_adapter_create(&e->hal, &d, &why));
    assert_non_null(why);
    /* A 64-bit S/G master never needs a bounce area (double buffer off). */
    d = test_desc_master(true, 64, 100);
    assert_int_equal(hal_adapter_create(&e->hal, &d, &why)->bounce_base, UINT64_MAX);
    e->hal.double_buffer = true;
    assert_true(hal_adapter_create(&e->hal, &d, &why)->bounce_base != UINT64_MAX);
    uint64_t before = pfn_free_frames(&e->m.pfn);
    hal_fini(&e->hal); /* every bounce frame goes back */
    assert_true(pfn_free_frames(&e->m.pfn) > before);
    hal_env_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mapped_access_and_faults),
        cmocka_unit_test(test_bounced_write_visible_after_flush),
        cmocka_unit_test(test_beyond_reach),
        cmocka_unit_test(test_common_buffer_access),
        cmocka_unit_test(test_adapter_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
