/*
 * tests/hal/test_sgdirect.c - direct lists (src/hal/mapdirect.c): an S/G
 * list of a 1:1 adapter kept as one record per element must behave exactly
 * like per-page registers - the same elements, the same register records
 * when read through hal_mapreg_view or after expansion, the same bus
 * checks and faults, stale-read's written pages - and fall back to
 * per-page registers where it cannot be direct.
 * Spec: spec/dma.md 3, 4; spec/verifier.md 9.
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
        .page_shift = shift, .reach_frames = UINT64_MAX >> shift, .scatter_gather = true};
}

struct pair {
    struct hal_mapreg_file pp, dl; /* per-page (hal_sg_build) and list (hal_sg_build_list) */
    SCATTER_GATHER_ELEMENT el_pp[64], el_dl[64];
    struct hal_sg_out out_pp, out_dl;
    long n_pp, n_dl;
};

/* Builds the walk both ways into two fresh files of 64 registers. */
static void build_both(struct pair *p, const struct hal_sg_walk *w,
                       const struct hal_dma_limits *lim, enum hal_dir dir)
{
    uint32_t gen;
    hal_mapreg_init(&p->pp, 64);
    hal_mapreg_init(&p->dl, 64);
    assert_int_equal(hal_mapreg_alloc(&p->pp, 64, &gen), 0);
    assert_int_equal(hal_mapreg_alloc(&p->dl, 64, &gen), 0);
    p->out_pp = (struct hal_sg_out){.el = p->el_pp, .cap = 64};
    p->out_dl = (struct hal_sg_out){.el = p->el_dl, .cap = 64};
    p->n_pp = hal_sg_build(w, lim, &p->pp, 0, UINT64_MAX, dir, NULL, &p->out_pp);
    p->n_dl = hal_sg_build_list(w, lim, &p->dl, 0, UINT64_MAX, dir, NULL, &p->out_dl);
}

static void free_both(struct pair *p)
{
    hal_mapreg_fini(&p->pp);
    hal_mapreg_fini(&p->dl);
}

/* Same elements, same register count, and every register of the direct
 * list reads as the per-page build wrote it. */
static void expect_same(struct pair *p)
{
    assert_int_equal(p->n_dl, p->n_pp);
    assert_int_equal(p->out_dl.registers, p->out_pp.registers);
    assert_int_equal(p->dl.nmapped, p->pp.nmapped);
    for (long i = 0; i < p->n_pp; i++) {
        assert_int_equal(p->el_dl[i].Address.QuadPart, p->el_pp[i].Address.QuadPart);
        assert_int_equal(p->el_dl[i].Length, p->el_pp[i].Length);
        assert_int_equal(p->el_dl[i].Reserved, 0);
    }
    for (unsigned r = 0; r < p->out_pp.registers; r++) {
        struct hal_mapreg v;
        const struct hal_mapreg *want = &p->pp.reg[r];
        assert_true(hal_mapreg_view(&p->dl, r, &v));
        assert_int_equal(v.state, hal_reg_mapped);
        assert_int_equal(v.target, want->target);
        assert_int_equal(v.source, want->source);
        assert_int_equal(v.offset, want->offset);
        assert_int_equal(v.length, want->length);
        assert_int_equal(v.dir, want->dir);
        assert_int_equal(v.bounce, want->bounce);
    }
    struct hal_mapreg v;
    assert_false(hal_mapreg_view(&p->dl, (unsigned)p->out_pp.registers, &v));
    assert_true(hal_mapreg_check(&p->dl));
}

/* Scattered, contiguous and partial pages, one MDL and chains whose MDLs
 * meet on page boundaries: direct, and the same as per-page registers. */
static void test_same_as_per_page(void **state)
{
    struct hal_dma_limits lim = sg64();
    struct pair p;
    uint64_t fr[6] = {0x900, 0x700, 0x701, 0x702, 0x300, 0x200};
    MDL *m = test_mdl(0x10000 + 0x123, 6 * psize - 0x200, fr, shift);
    struct hal_sg_walk w = {m, 0x10000 + 0x123, 6 * psize - 0x200};
    build_both(&p, &w, &lim, hal_dir_from_device);
    assert_true(p.out_dl.direct);
    assert_true(hal_mapreg_is_direct(&p.dl, 0));
    assert_int_equal(p.n_dl, 4);
    expect_same(&p);
    free_both(&p);
    /* From the middle, a few bytes. */
    w = (struct hal_sg_walk){m, 0x10000 + psize + 10, 20};
    build_both(&p, &w, &lim, hal_dir_to_device);
    assert_true(p.out_dl.direct);
    expect_same(&p);
    free_both(&p);

    /* A chain: the first MDL ends on a page boundary whose next frame is
     * the second MDL's first: one element across the two MDLs. */
    uint64_t a[2] = {0x40, 0x41}, b[2] = {0x42, 0x80};
    MDL *m1 = test_mdl(0x20000, 2 * psize, a, shift);
    MDL *m2 = test_mdl(0x50000, 2 * psize - 100, b, shift);
    m1->Next = m2;
    w = (struct hal_sg_walk){m1, 0x20000 + 8, 4 * psize - 108};
    build_both(&p, &w, &lim, hal_dir_to_device);
    assert_true(p.out_dl.direct);
    assert_int_equal(p.n_dl, 2);
    expect_same(&p);
    free_both(&p);
    free(m1);
    free(m2);
    free(m);
}

/* Two MDLs meeting inside a page whose bytes follow each other merge into
 * one element but take two registers: that list keeps per-page registers
 * (the same elements). So does a frame beyond reach (it bounces). */
static void test_falls_back(void **state)
{
    struct hal_dma_limits lim = sg64();
    struct pair p;
    uint64_t a[1] = {0x55}, b[1] = {0x55};
    MDL *m1 = test_mdl(0x30000, 0x800, a, shift);
    MDL *m2 = test_mdl(0x60800, 0x800, b, shift);
    m1->Next = m2;
    struct hal_sg_walk w = {m1, 0x30000, 0x1000};
    build_both(&p, &w, &lim, hal_dir_to_device);
    assert_false(p.out_dl.direct);
    assert_false(hal_mapreg_is_direct(&p.dl, 0));
    assert_int_equal(p.n_dl, 1);
    assert_int_equal(p.out_dl.registers, 2);
    expect_same(&p);
    free_both(&p);
    free(m1);
    free(m2);

    /* Double buffering, or a segment limit: never direct. */
    uint64_t fr[2] = {0x10, 0x20};
    MDL *m = test_mdl(0x8000, 2 * psize, fr, shift);
    w = (struct hal_sg_walk){m, 0x8000, 2 * psize};
    lim.max_segment = 1024;
    build_both(&p, &w, &lim, hal_dir_to_device);
    assert_false(p.out_dl.direct);
    expect_same(&p);
    free_both(&p);
    free(m);
}

/* Elements beyond the caller's array are counted, not written; the run
 * records stay complete (the bus still sees every page). */
static void test_cap_counts(void **state)
{
    struct hal_dma_limits lim = sg64();
    uint64_t fr[4] = {0x10, 0x30, 0x50, 0x70};
    MDL *m = test_mdl(0x8000, 4 * psize, fr, shift);
    struct hal_sg_walk w = {m, 0x8000, 4 * psize};
    struct hal_mapreg_file f;
    hal_mapreg_init(&f, 8);
    SCATTER_GATHER_ELEMENT el[3];
    memset(el, 0, sizeof(el));
    el[2].Length = 0xDEAD;
    struct hal_sg_out out = {.el = el, .cap = 2};
    assert_int_equal(hal_sg_build_list(&w, &lim, &f, 0, UINT64_MAX, hal_dir_to_device, NULL, &out),
                     4);
    assert_true(out.direct);
    assert_int_equal(el[1].Address.QuadPart, 0x30 << shift);
    assert_int_equal(el[2].Length, 0xDEAD);
    assert_int_equal(hal_mapreg_lookup(&f, 0x70), 3);
    /* Counting only (CalculateScatterGatherList) agrees. */
    assert_int_equal(hal_sg_count(&w, &lim, UINT64_MAX), 4);
    /* Unmapped: nothing left, registers still allocated by their owner. */
    hal_sg_unmap(&f, 0, 4, true, NULL, shift);
    assert_false(hal_mapreg_is_direct(&f, 0));
    assert_int_equal(f.nmapped, 0);
    assert_int_equal(hal_mapreg_lookup(&f, 0x70), -1);
    hal_mapreg_fini(&f);
    free(m);
}

/* A device through a direct list: data, faults at the exact byte, the
 * register a fault names reads as the per-page one, device writes mark
 * their pages, and the logical-offset bit applies. */
static void test_bus_through_direct_list(void **state)
{
    struct hal_env *e = hal_env_boot(0, frame_placement_scattered);
    DEVICE_DESCRIPTION d = test_desc_master(true, 64, 16 * psize);
    const char *why = NULL;
    struct hal_adapter *a = hal_adapter_create(&e->hal, &d, &why);
    assert_non_null(a);
    uint64_t fr[3];
    for (unsigned k = 0; k < 3; k++) {
        /* Frames apart, so that each page is its own element. */
        do
            fr[k] = pfn_alloc(&e->m.pfn, UINT64_MAX);
        while (k && (fr[k] == fr[k - 1] + 1 || fr[k] + 1 == fr[k - 1]));
        for (unsigned i = 0; i < psize; i++)
            frame_ptr(e, fr[k])[i] = (uint8_t)(i * (k + 3));
    }
    MDL *m = test_mdl(0x4000 + 100, 3 * psize - 200, fr, shift);
    uint32_t gen;
    assert_int_equal(hal_mapreg_alloc(&a->regs, 3, &gen), 0);
    SCATTER_GATHER_ELEMENT el[4];
    struct hal_sg_walk w = {m, 0x4000 + 100, 3 * psize - 200};
    struct hal_sg_out out = {.el = el, .cap = 4};
    long n = hal_sg_build_list(&w, &a->lim, &a->regs, 0, a->bounce_base, hal_dir_from_device,
                               &e->m.ram, &out);
    assert_true(out.direct);
    assert_int_equal(n, 3);
    uint8_t buf[psize];
    struct hal_bus_fault_info info;
    /* The device writes the middle element: its page is marked, no other. */
    memset(buf, 0x5A, sizeof(buf));
    assert_int_equal(
        hal_bus_access(a, el[1].Address.QuadPart, buf, el[1].Length, hal_dir_from_device, &info),
        hal_bus_ok);
    assert_int_equal(frame_ptr(e, fr[1])[77], 0x5A);
    struct hal_mapreg v;
    assert_true(hal_mapreg_view(&a->regs, 1, &v) && v.written);
    assert_true(hal_mapreg_view(&a->regs, 0, &v) && !v.written);
    /* The view keeps the register's own run start fields (what !dma prints). */
    assert_int_equal(v.run, 3);
    assert_int_equal(v.gen, gen);
    assert_true(v.op_start);
    /* One byte before the first element's bytes: outside the mapping. */
    assert_int_equal(
        hal_bus_access(a, el[0].Address.QuadPart - 1, buf, 4, hal_dir_from_device, &info),
        hal_bus_unmapped);
    assert_int_equal(info.logical, el[0].Address.QuadPart - 1);
    assert_int_equal(info.nearest_reg, 0);
    /* The report reads the named register: the list was expanded into
     * per-page registers, written flag carried over. */
    assert_false(hal_mapreg_is_direct(&a->regs, 0));
    assert_int_equal(a->regs.reg[0].state, hal_reg_mapped);
    assert_int_equal(a->regs.reg[0].offset, 100);
    assert_int_equal(a->regs.reg[0].target, fr[0]);
    assert_true(a->regs.reg[1].written);
    assert_true(a->regs.reg[0].op_start);
    assert_true(hal_mapreg_check(&a->regs));
    /* Expanded, the list goes on working. */
    assert_int_equal(
        hal_bus_access(a, el[2].Address.QuadPart, buf, el[2].Length, hal_dir_from_device, &info),
        hal_bus_ok);
    hal_sg_unmap(&a->regs, 0, 3, true, &e->m.ram, shift);

    /* Rebuilt direct, reading against the direction: wrong direction. */
    n = hal_sg_build_list(&w, &a->lim, &a->regs, 0, a->bounce_base, hal_dir_from_device, &e->m.ram,
                          &out);
    assert_true(out.direct);
    assert_int_equal(hal_bus_access(a, el[2].Address.QuadPart, buf, 8, hal_dir_to_device, &info),
                     hal_bus_wrong_direction);
    assert_int_equal(info.nearest_reg, 2);
    assert_int_equal(a->regs.reg[2].dir, hal_dir_from_device);
    hal_sg_unmap(&a->regs, 0, 3, true, &e->m.ram, shift);
    assert_int_equal(hal_bus_access(a, el[1].Address.QuadPart, buf, 4, hal_dir_from_device, &info),
                     hal_bus_unmapped);
    assert_int_equal(a->regs.nmapped, 0);

    /* logical-offset: the elements carry the XORed address; the physical
     * one misses but is still found as a mapping's page. */
    a->lim.logical_xor = 1ULL << 40;
    n = hal_sg_build_list(&w, &a->lim, &a->regs, 0, a->bounce_base, hal_dir_to_device, &e->m.ram,
                          &out);
    assert_true(out.direct);
    assert_int_equal(el[0].Address.QuadPart, (int64_t)(((fr[0] << shift) + 100) ^ (1ULL << 40)));
    assert_int_equal(
        hal_bus_access(a, el[0].Address.QuadPart, buf, el[0].Length, hal_dir_to_device, &info),
        hal_bus_ok);
    assert_memory_equal(buf, frame_ptr(e, fr[0]) + 100, el[0].Length);
    assert_int_equal(hal_bus_access(a, (fr[0] << shift) + 100, buf, 4, hal_dir_to_device, &info),
                     hal_bus_unmapped);
    assert_int_equal(hal_mapreg_lookup(&a->regs, fr[1]), 1);
    hal_sg_unmap(&a->regs, 0, 3, true, &e->m.ram, shift);
    a->lim.logical_xor = 0;

    hal_mapreg_free(&a->regs, 0, 3);
    assert_int_equal(a->regs.nfree, a->regs.count);
    free(m);
    hal_env_free(e);
}

/* Two direct lists and per-page registers live in one file: every page is
 * found (the page index holds both), freeing a run ends its list. */
static void test_lookup_mixed(void **state)
{
    struct hal_dma_limits lim = sg64();
    struct hal_mapreg_file f;
    hal_mapreg_init(&f, 16);
    uint64_t f1[3] = {0x100, 0x101, 0x300}, f2[2] = {0x500, 0x200}, f3[1] = {0x777};
    MDL *m1 = test_mdl(0x1000, 3 * psize, f1, shift);
    MDL *m2 = test_mdl(0x9000, 2 * psize, f2, shift);
    MDL *m3 = test_mdl(0xA000, psize, f3, shift);
    SCATTER_GATHER_ELEMENT el[4];
    struct hal_sg_out out = {.el = el, .cap = 4};
    uint32_t gen;
    assert_int_equal(hal_mapreg_alloc(&f, 3, &gen), 0);
    assert_int_equal(hal_mapreg_alloc(&f, 1, &gen), 3);
    assert_int_equal(hal_mapreg_alloc(&f, 2, &gen), 4);
    struct hal_sg_walk w1 = {m1, 0x1000, 3 * psize}, w2 = {m2, 0x9000, 2 * psize},
                       w3 = {m3, 0xA000, psize};
    hal_sg_build_list(&w1, &lim, &f, 0, UINT64_MAX, hal_dir_to_device, NULL, &out);
    hal_sg_build(&w3, &lim, &f, 3, UINT64_MAX, hal_dir_to_device, NULL, &out);
    hal_sg_build_list(&w2, &lim, &f, 4, UINT64_MAX, hal_dir_from_device, NULL, &out);
    assert_int_equal(f.nmapped, 6);
    assert_true(hal_mapreg_check(&f));
    assert_int_equal(hal_mapreg_lookup(&f, 0x200), 5);
    assert_int_equal(hal_mapreg_lookup(&f, 0x777), 3);
    assert_int_equal(hal_mapreg_lookup(&f, 0x101), 1);
    assert_int_equal(hal_mapreg_lookup(&f, 0x300), 2);
    assert_int_equal(hal_mapreg_lookup(&f, 0x500), 4);
    assert_int_equal(hal_mapreg_lookup(&f, 0x102), -1);
    assert_int_equal(hal_mapreg_direct_of(&f, 5), 4);
    assert_int_equal(hal_mapreg_direct_of(&f, 3), -1);
    /* Freeing the second list's registers without a Put still ends it. */
    hal_mapreg_free(&f, 4, 2);
    assert_int_equal(hal_mapreg_lookup(&f, 0x500), -1);
    assert_int_equal(f.nmapped, 4);
    while (f.ndirect) /* what a bus fault does, for every list left */
        hal_mapreg_expand(&f, f.direct[f.ndirect - 1]);
    assert_int_equal(f.ndirect, 0);
    assert_int_equal(f.reg[2].target, 0x300);
    assert_int_equal(hal_mapreg_lookup(&f, 0x300), 2);
    assert_true(hal_mapreg_check(&f));
    hal_mapreg_fini(&f);
    free(m1);
    free(m2);
    free(m3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_as_per_page), cmocka_unit_test(test_falls_back),
        cmocka_unit_test(test_cap_counts),       cmocka_unit_test(test_bus_through_direct_list),
        cmocka_unit_test(test_lookup_mixed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
