/*
 * tests/hal/test_sg.c - scatter/gather building from hand-built MDL chains:
 * merging, splitting at segment and boundary, bouncing unreachable pages,
 * packet adapters' logical contiguity, system DMA blocks, no element cap.
 * Spec: spec/dma.md 3 (SCATTER_GATHER_LIST), 4.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "hal_test.h"

enum { shift = 12, psize = 4096 };

static struct hal_dma_limits sg64(void)
{
    return (struct hal_dma_limits){
        .page_shift = shift, .reach_frames = UINT64_MAX, .scatter_gather = true};
}

struct built {
    SCATTER_GATHER_ELEMENT el[2048];
    struct hal_sg_out out;
    long n;
};

static void build(struct built *b, MDL *mdl, uintptr_t va, uint64_t len,
                  const struct hal_dma_limits *lim, struct hal_mapreg_file *f, uint64_t bounce,
                  enum hal_dir dir, struct ram *ram)
{
    struct hal_sg_walk w = {mdl, va, len};
    b->out = (struct hal_sg_out){.el = b->el, .cap = 2048};
    b->n = hal_sg_build(&w, lim, f, 0, bounce, dir, ram, &b->out);
}

static void expect_el(const struct built *b, unsigned i, uint64_t addr, ULONG len)
{
    assert_int_equal(b->el[i].Address.QuadPart, addr);
    assert_int_equal(b->el[i].Length, len);
}

/* Contiguous frames merge into one element starting at the byte offset. */
static void test_contiguous_one_element(void **state)
{
    uint64_t frames[4] = {0x500, 0x501, 0x502, 0x503};
    MDL *m = test_mdl(0x7000100, 3 * psize, frames, shift);
    struct hal_mapreg_file f;
    struct hal_dma_limits lim = sg64();
    struct built b;
    hal_mapreg_init(&f, 8);
    build(&b, m, 0x7000100, 3 * psize, &lim, &f, UINT64_MAX, hal_dir_to_device, NULL);
    assert_int_equal(b.n, 1);
    expect_el(&b, 0, 0x500100, 3 * psize);
    assert_int_equal(b.out.registers, 4);
    assert_int_equal(f.nmapped, 4);
    assert_int_equal(f.reg[0].offset, 0x100);
    assert_int_equal(f.reg[0].length, psize - 0x100);
    assert_int_equal(f.reg[3].length, 0x100);
    assert_false(f.reg[1].bounce);
    hal_mapreg_fini(&f);
    free(m);
}

/* Scattered and partly adjacent frames: runs merge, the rest split; the
 * 5000-byte case of spec/dma.md 3 with frames apart gives 4096 + 904. */
static void test_scattered_and_5000(void **state)
{
    uint64_t frames[5] = {0x900, 0x700, 0x701, 0x300, 0x200};
    MDL *m = test_mdl(0x10000, 5 * psize, frames, shift);
    struct hal_dma_limits lim = sg64();
    struct built b;
    build(&b, m, 0x10000, 5 * psize, &lim, NULL, UINT64_MAX, hal_dir_to_device, NULL);
    assert_int_equal(b.n, 4);
    expect_el(&b, 0, 0x900000, psize);
    expect_el(&b, 1, 0x700000, 2 * psize);
    expect_el(&b, 2, 0x300000, psize);
    expect_el(&b, 3, 0x200000, psize);
    build(&b, m, 0x10000, 5000, &lim, NULL, UINT64_MAX, hal_dir_to_device, NULL);
    assert_int_equal(b.n, 2);
    expect_el(&b, 0, 0x900000, 4096);
    expect_el(&b, 1, 0x700000, 904);
    /* Starting in the middle (CurrentVa an index into the MDL). */
    build(&b, m, 0x10000 + psize + 10, 2 * psize, &lim, NULL, UINT64_MAX, hal_dir_to_device, NULL);
    assert_int_equal(b.n, 2);
    expect_el(&b, 0, 0x70000A, 2 * psize - 10);
    expect_el(&b, 1, 0x300000, 10);
    free(m);
}

/* Maximum segment and boundary split elements; split-pages forces one per page. */
static void test_segment_boundary_split(void **state)
{
    uint64_t frames[4] = {0x0F, 0x10, 0x11, 0x12};
    MDL *m = test_mdl(0x20000, 4 * psize, frames, shift);
    struct hal_dma_limits lim = sg64();
    struct built b;
    lim.max_segment = 5000;
    build(&b, m, 0x20000, 3 * psize, &lim, NULL, UINT64_MAX, hal_dir_to_device, NULL);
    assert_int_equal(b.n, 3);
    expect_el(&b, 0, 0xF000, 5000);
    expect_el(&b, 1, 0xF000 + 5000, 5000);
    expect_el(&b, 2, 0xF000 + 10000, 3 * psize - 10000);
    lim.max_segment = 0;
    lim.boundary = 64 << 10; /* frame 0x10 starts a 64 KiB block */
    build(&b, m, 0x20000, 4 * psize, &lim, NULL, UINT64_MAX, hal_dir_to_device, NULL);
    assert_int_equal(b.n, 2);
    expect_el(&b, 0, 0xF000, psize);
    expect_el(&b, 1, 0x10000, 3 * psize);
    lim.boundary = 0;
    lim.split_pages = true;
    build(&b, m, 0x20000 + 1, 2 * psize, &lim, NULL, UINT64_MAX, hal_dir_to_device, NULL);
    assert_int_equal(b.n, 3);
    expect_el(&b, 0, 0xF001, psize - 1);
    expect_el(&b, 1, 0x10000, psize);
    expect_el(&b, 2, 0x11000, 1);
    free(m);
}

/* A chain of MDLs: the transfer continues at the next MDL's first byte;
 * a chain shorter than Length and a CurrentVa outside the first MDL fail. */
static void test_chain_and_errors(void **state)
{
    uint64_t f1[2] = {0x40, 0x41}, f2[1] = {0x42};
    MDL *a = test_mdl(0x30000 + 0x800, psize, f1, shift); /* spans 2 pages */
    MDL *b2 = test_mdl(0x90000, 100, f2, shift);
    a->Next = b2;
    struct hal_dma_limits lim = sg64();
    struct built b;
    uint64_t pages;
    build(&b, a, 0x30800, psize + 100, &lim, NULL, UINT64_MAX, hal_dir_to_device, NULL);
    assert_int_equal(b.n, 2); /* 0x40800..0x417FF, then the next MDL at 0x42000 */
    expect_el(&b, 0, 0x40800, psize);
    expect_el(&b, 1, 0x42000, 100);
    struct hal_sg_walk w = {a, 0x30800, psize + 100};
    assert_int_equal(hal_sg_span(&w, shift, &pages), 0);
    assert_int_equal(pages, 3);
    w.length = psize + 101;
    assert_int_equal(hal_sg_span(&w, shift, &pages), -1);
    build(&b, a, 0x30800, psize + 101, &lim, NULL, UINT64_MAX, hal_dir_to_device, NULL);
    assert_int_equal(b.n, -1);
    build(&b, a, 0x30000, 10, &lim, NULL, UINT64_MAX, hal_dir_to_device, NULL);
    assert_int_equal(b.n, -1);
    free(a);
    free(b2);
}

/* A 32-bit device on an 8 GiB machine: pages above 4 GiB go through a
 * bounce frame; to-device data is copied at build, device->memory data at
 * unmap, and only for bounced registers. */
static void test_bounce_unreachable(void **state)
{
    struct hal_env *e = hal_env_boot(8192, frame_placement_scattered);
    uint64_t lo = pfn_alloc(&e->m.pfn, (4ULL << 30) >> shift);
    uint64_t hi = pfn_alloc(&e->m.pfn, UINT64_MAX);
    uint64_t bounce = pfn_alloc_run(&e->m.pfn, 4, 0, (4ULL << 30) >> shift, 0);
    assert_true(hi >= (4ULL << 30) >> shift);
    uint64_t frames[2] = {lo, hi};
    MDL *m = test_mdl(0x50000, 2 * psize, frames, shift);
    memset(frame_ptr(e, lo), 0x11, psize);
    memset(frame_ptr(e, hi), 0x22, psize);
    struct hal_dma_limits lim = sg64();
    lim.reach_frames = (4ULL << 30) >> shift;
    struct hal_mapreg_file f;
    struct built b;
    hal_mapreg_init(&f, 4);
    build(&b, m, 0x50000, 2 * psize, &lim, &f, bounce, hal_dir_to_device, &e->m.ram);
    assert_int_equal(b.n, 2);
    expect_el(&b, 0, lo << shift, psize);
    expect_el(&b, 1, (bounce + 1) << shift, psize);
    assert_true(f.reg[1].bounce);
    assert_int_equal(frame_ptr(e, bounce + 1)[100], 0x22);
    hal_sg_unmap(&f, 0, 2, true, &e->m.ram, shift);
    assert_int_equal(f.nmapped, 0);

    /* device -> memory: the device writes the bounce frame; unmap copies back */
    build(&b, m, 0x50000 + 8, 2 * psize - 16, &lim, &f, bounce, hal_dir_from_device, &e->m.ram);
    memset(frame_ptr(e, bounce + 1), 0x33, psize);
    assert_int_equal(frame_ptr(e, hi)[0], 0x22);
    hal_sg_unmap(&f, 0, 2, true, &e->m.ram, shift);
    assert_int_equal(frame_ptr(e, hi)[0], 0x33);
    assert_int_equal(frame_ptr(e, hi)[psize - 9], 0x33);
    assert_int_equal(frame_ptr(e, hi)[psize - 8], 0x22); /* past the transfer: untouched */
    assert_int_equal(frame_ptr(e, lo)[0], 0x11);         /* direct: never copied */
    hal_mapreg_fini(&f);
    free(m);
    hal_env_free(e);
}

/* An adapter without S/G: consecutive reachable frames map directly as
 * one run; scattered ones are bounced into consecutive registers, still
 * one logically contiguous element. */
static void test_packet_contiguity(void **state)
{
    struct hal_env *e = hal_env_boot(0, frame_placement_scattered);
    uint64_t bounce = pfn_alloc_run(&e->m.pfn, 4, 0, UINT64_MAX, 0);
    struct hal_dma_limits lim = sg64();
    lim.scatter_gather = false;
    struct hal_mapreg_file f;
    struct built b;
    hal_mapreg_init(&f, 4);
    uint64_t direct[2] = {0x600, 0x601};
    MDL *m = test_mdl(0x1000, 5000, direct, shift);
    build(&b, m, 0x1000, 5000, &lim, &f, bounce, hal_dir_to_device, &e->m.ram);
    assert_int_equal(b.n, 1);
    expect_el(&b, 0, 0x600000, 5000);
    assert_false(f.reg[0].bounce);
    hal_sg_unmap(&f, 0, 2, false, &e->m.ram, shift);
    free(m);

    uint64_t apart[2] = {pfn_alloc(&e->m.pfn, UINT64_MAX), pfn_alloc(&e->m.pfn, UINT64_MAX)};
    memset(frame_ptr(e, apart[0]), 0xA0, psize);
    memset(frame_ptr(e, apart[1]), 0xA1, psize);
    m = test_mdl(0x1000, 5000, apart, shift);
    build(&b, m, 0x1000, 5000, &lim, &f, bounce, hal_dir_to_device, &e->m.ram);
    assert_int_equal(b.n, 1);
    expect_el(&b, 0, bounce << shift, 5000);
    assert_true(f.reg[0].bounce && f.reg[1].bounce);
    assert_int_equal(frame_ptr(e, bounce)[4095], 0xA0);
    assert_int_equal(frame_ptr(e, bounce + 1)[903], 0xA1);
    hal_mapreg_fini(&f);
    free(m);
    hal_env_free(e);
}

/* System DMA: a consecutive run that crosses a 64 KiB block is bounced. */
static void test_block_forces_bounce(void **state)
{
    struct hal_dma_limits lim = {
        .page_shift = shift, .reach_frames = (16 << 20) >> shift, .block = 64 << 10};
    struct hal_mapreg_file f;
    struct built b;
    uint64_t frames[2] = {0x10F, 0x110};
    MDL *m = test_mdl(0x3000, 2 * psize, frames, shift);
    hal_mapreg_init(&f, 2);
    build(&b, m, 0x3000, 2 * psize, &lim, &f, 0x200, hal_dir_from_device, NULL);
    assert_int_equal(b.n, 1);
    expect_el(&b, 0, 0x200000, 2 * psize);
    hal_sg_unmap(&f, 0, 2, false, NULL, shift);
    build(&b, m, 0x3000, psize, &lim, &f, 0x200, hal_dir_from_device, NULL);
    expect_el(&b, 0, 0x10F000, psize);
    /* Without a bounce area the build fails instead of mapping the wrong thing. */
    hal_sg_unmap(&f, 0, 2, false, NULL, shift);
    build(&b, m, 0x3000, 2 * psize, &lim, &f, UINT64_MAX, hal_dir_from_device, NULL);
    assert_int_equal(b.n, -1);
    hal_mapreg_fini(&f);
    free(m);
}

/* No element cap: 1500 scattered pages give 1500 elements; counting
 * agrees with building; with a small array the rest is only counted. */
static void test_no_element_cap(void **state)
{
    enum { n = 1500 };
    static uint64_t frames[n];
    for (unsigned i = 0; i < n; i++)
        frames[i] = 0x10000 + 2 * i;
    MDL *m = test_mdl(0x100000, n * psize, frames, shift);
    struct hal_dma_limits lim = sg64();
    struct built *b = calloc(1, sizeof(*b));
    build(b, m, 0x100000, n * psize, &lim, NULL, UINT64_MAX, hal_dir_to_device, NULL);
    assert_int_equal(b->n, n);
    expect_el(b, n - 1, (0x10000 + 2ULL * (n - 1)) << shift, psize);
    struct hal_sg_walk w = {m, 0x100000, n * psize};
    assert_int_equal(hal_sg_count(&w, &lim, UINT64_MAX), n);
    b->out = (struct hal_sg_out){.el = b->el, .cap = 10};
    assert_int_equal(hal_sg_build(&w, &lim, NULL, 0, UINT64_MAX, hal_dir_to_device, NULL, &b->out),
                     n);
    free(b);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contiguous_one_element), cmocka_unit_test(test_scattered_and_5000),
        cmocka_unit_test(test_segment_boundary_split), cmocka_unit_test(test_chain_and_errors),
        cmocka_unit_test(test_bounce_unreachable),     cmocka_unit_test(test_packet_contiguity),
        cmocka_unit_test(test_block_forces_bounce),    cmocka_unit_test(test_no_element_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
