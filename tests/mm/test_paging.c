/*
 * tests/mm/test_paging.c - trimming pageable memory and the fault rules
 * (src/mm/paging.c, src/mm/paging_image.c).
 *
 * The test executable itself carries a PAGE section (paged_triple below),
 * registered as an image the way the loader registers a driver's, so the
 * DISPATCH_LEVEL stop can be checked against a known function and address.
 */
#include <link.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

/* pool tags are multi-character constants, as in driver code */
#pragma GCC diagnostic ignored "-Wmultichar"

#include <wdm.h>
#include <wdmsim/wdmsim.h>

#include "sys.h"
#include "support/fixture.h"

/* What <wdm.h> emits for a driver build: the PAGE section page-aligned. */
__asm__(".section PAGE,\"ax\",@progbits\n.balign 4096\n.previous\n");

__attribute__((section("PAGE"), noinline, noipa)) int paged_triple(int x)
{
    return 3 * x;
}

/* An executable (unlike a -nostdlib driver) has .fini right after PAGE:
 * pad PAGE to a page end so its page is its own. Source order is kept by
 * -fno-toplevel-reorder (tests/mm/CMakeLists.txt). */
__asm__(".section PAGE,\"ax\",@progbits\n.balign 4096\n.previous\n");

static wdmsim *sim;

static int setup(void **state)
{
    (void)state;
    struct wdmsim_config cfg = {.seed = 21};
    struct wdmsim_error err;
    return wdmsim_boot(&cfg, &sim, &err);
}

static int teardown(void **state)
{
    (void)state;
    wdmsim_shutdown(sim);
    return 0;
}

struct self_range {
    uintptr_t bias, lo, hi;
};

static int find_self(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct self_range *r = data;
    if (info->dlpi_name && info->dlpi_name[0])
        return 0; /* the main program has the empty name */
    r->bias = info->dlpi_addr;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (!r->lo || lo < r->lo)
            r->lo = lo;
        if (hi > r->hi)
            r->hi = hi;
    }
    return 1;
}

/* Registers this executable as a "driver" image of the running machine. */
static struct mm_image *register_self(void)
{
    struct self_range r = {0};
    dl_iterate_phdr(find_self, &r);
    struct mm_image *img = mm_image_register(&sys_get()->mm, "/proc/self/exe", r.bias, r.lo, r.hi);
    assert_non_null(img);
    return img;
}

static struct mm_image_section *paged_section(struct mm_image *img)
{
    for (unsigned i = 0; i < img->nsections; i++)
        if (!strcmp(img->section[i].name, "PAGE"))
            return &img->section[i];
    return NULL;
}

/* ---- pageable code ----------------------------------------------------------- */

static void code_at_passive(void *arg)
{
    (void)arg;
    struct mm *mm = &sys_get()->mm;
    struct mm_image *img = register_self();
    struct mm_image_section *s = paged_section(img);
    assert_non_null(s);
    uintptr_t fn = (uintptr_t)paged_triple;
    assert_true(fn >= s->lo && fn < s->hi); /* a whole page of its own */
    assert_true(mm_trim_all(mm) >= 1);
    assert_true(s->trimmed);
    uint64_t before = mm->paging.pageins;
    assert_int_equal(paged_triple(5), 15); /* PASSIVE_LEVEL: paged back in */
    assert_false(s->trimmed);
    assert_true(mm->paging.pageins > before);

    /* a locked section is not trimmed */
    PVOID h = MmLockPagableCodeSection((PVOID)paged_triple);
    assert_ptr_equal(h, s);
    mm_trim_all(mm);
    assert_false(s->trimmed);
    MmLockPagableSectionByHandle(h);
    MmUnlockPagableImageSection(h);
    mm_trim_all(mm);
    assert_false(s->trimmed);
    MmUnlockPagableImageSection(h);
    mm_trim_all(mm);
    assert_true(s->trimmed);
    /* locking pages it in */
    h = MmLockPagableCodeSection((PVOID)paged_triple);
    assert_false(s->trimmed);
    MmUnlockPagableImageSection(h);
    mm_image_unregister(mm, img);
}

static void paged_code_passive(void **state)
{
    (void)state;
    assert_int_equal(wdmsim_call(sim, code_at_passive, NULL), WDMSIM_OK);
}

static void code_at_dispatch(void *arg)
{
    (void)arg;
    struct sys *sys = sys_get();
    register_self();
    mm_trim_all(&sys->mm);
    ke_raise_irql(&sys->ke, DISPATCH_LEVEL);
    paged_triple(7); /* not resident, no fault can be serviced */
    fail_msg("the call at DISPATCH_LEVEL should have stopped the machine");
}

static void paged_code_dispatch(void **state)
{
    (void)state;
    wdmsim *m;
    struct wdmsim_config cfg = {.seed = 22};
    struct wdmsim_error err;
    assert_int_equal(wdmsim_boot(&cfg, &m, &err), WDMSIM_OK);
    assert_int_equal(wdmsim_call(m, code_at_dispatch, NULL), WDMSIM_STOPPED);
    const struct wdmsim_bugcheck *bc = wdmsim_get_bugcheck(m);
    assert_non_null(bc);
    assert_int_equal(bc->code, 0xD1);
    assert_int_equal(bc->parameters[0], (uintptr_t)paged_triple); /* address */
    assert_int_equal(bc->parameters[1], DISPATCH_LEVEL);
    assert_int_equal(bc->parameters[2], 8);                       /* execute */
    assert_int_equal(bc->parameters[3], (uintptr_t)paged_triple); /* instruction */
    assert_string_equal(bc->rule, "irql.pageable-access");
    if (!strstr(bc->text, "paged_triple"))
        fail_msg("report text: %s", bc->text);
    wdmsim_shutdown(m);
}

/* ---- paged pool ---------------------------------------------------------------------- */

static volatile uint32_t *pool_block;

static void pool_passive(void *arg)
{
    (void)arg;
    struct mm *mm = &sys_get()->mm;
    pool_block = ExAllocatePoolWithTag(PagedPool, 256, 'gaP');
    assert_non_null((void *)pool_block);
    pool_block[3] = 0xfeed;
    assert_true(mm_trim_all(mm) >= 1);
    uint64_t *pte = mm_pte_of(mm, (void *)pool_block);
    assert_true(*pte & mm_pte_trimmed);
    assert_int_equal(pool_block[3], 0xfeed); /* paged in: contents kept */
    assert_false(*pte & mm_pte_trimmed);
    pool_block[4] = 1; /* and writable */
    mm_trim_all(mm);
    ExFreePool((void *)pool_block); /* the pool's own header read pages it in */
}

static void paged_pool(void **state)
{
    (void)state;
    assert_int_equal(wdmsim_call(sim, pool_passive, NULL), WDMSIM_OK);
}

static volatile uint32_t *dispatch_block;

static void pool_dispatch(void *arg)
{
    (void)arg;
    struct sys *sys = sys_get();
    volatile uint32_t *p = ExAllocatePoolWithTag(PagedPool, 64, 'gaP');
    dispatch_block = p;
    p[0] = 1;
    mm_trim_all(&sys->mm);
    ke_raise_irql(&sys->ke, DISPATCH_LEVEL);
    p[1] = 2; /* write at DISPATCH_LEVEL */
}

static void paged_pool_dispatch(void **state)
{
    (void)state;
    wdmsim *m;
    struct wdmsim_config cfg = {.seed = 23};
    struct wdmsim_error err;
    assert_int_equal(wdmsim_boot(&cfg, &m, &err), WDMSIM_OK);
    assert_int_equal(wdmsim_call(m, pool_dispatch, NULL), WDMSIM_STOPPED);
    const struct wdmsim_bugcheck *bc = wdmsim_get_bugcheck(m);
    /* the faulting instruction is in no driver image: the kernel's 0x0A */
    assert_int_equal(bc->code, 0x0A);
    assert_int_equal(bc->parameters[1], DISPATCH_LEVEL);
    assert_int_equal(bc->parameters[2], 1); /* write */
    assert_int_equal(bc->parameters[0], (uintptr_t)&dispatch_block[1]);
    wdmsim_shutdown(m);
}

/* ---- drivers ---------------------------------------------------------------------------- */

static void trim(void *arg)
{
    *(uint64_t *)arg = mm_trim_all(&sys_get()->mm);
}

static void entire_driver(void **state)
{
    (void)state;
    wdmsim *m;
    char out[4096] = {0};
    FILE *cap = fmemopen(out, sizeof(out) - 1, "w");
    struct wdmsim_config cfg = {.seed = 24, .out = cap};
    struct wdmsim_error err;
    assert_int_equal(wdmsim_boot(&cfg, &m, &err), WDMSIM_OK);
    assert_int_equal(wdmsim_load_driver(m, fixture_path("paged-entire"), &err), WDMSIM_OK);
    int32_t status = -1;
    wdmsim_driver_status(m, "paged-entire", &status);
    assert_int_equal(status, STATUS_SUCCESS);
    uint64_t trimmed = 0;
    assert_int_equal(wdmsim_call(m, trim, &trimmed), WDMSIM_OK);
    assert_true(trimmed >= 2); /* its code and its data */
    assert_int_equal(wdmsim_unload_drivers(m), WDMSIM_OK);
    fflush(cap);
    assert_non_null(strstr(out, "unload ran, counter 42"));
    wdmsim_shutdown(m);
    fclose(cap);
}

static void fixtures(void **state)
{
    (void)state;
    struct fixture_run r;
    /* the same driver, the same calls: with Force IRQL checking the page is
     * trimmed at the raise and the DISPATCH_LEVEL call stops, naming it */
    fixture_run("irql-pageable-access", NULL, "standard,irql-checking", 1, &r);
    assert_true(r.stopped);
    assert_int_equal(r.code, 0xD1);
    assert_int_equal(r.param[1], DISPATCH_LEVEL);
    assert_int_equal(r.param[2], 8);
    assert_int_equal(r.param[0], r.param[3]); /* executing the function itself */
    assert_string_equal(r.rule, "irql.pageable-access");

    fixture_run("paged-call-passive", NULL, "standard,irql-checking", 1, &r);
    assert_false(r.stopped);
    assert_int_equal(r.entry_status, STATUS_SUCCESS);

    fixture_run("mm-init-after-entry", NULL, NULL, 1, &r);
    assert_true(r.stopped);
    assert_int_equal(r.code, 0x50);           /* P1: the address in the discarded page */
    assert_int_equal(r.param[0], r.param[2]); /* executing it */
    assert_string_equal(r.rule, "mm.init-after-entry");
    assert_int_equal(r.param[1], 0x10); /* execute */
    fixture_expect_stop("mm-section-unlock-underflow", NULL, 0xC4, 0x57000005);
}

static void pageable_name_in_report(void **state)
{
    (void)state;
    wdmsim *m;
    struct wdmsim_config cfg = {.seed = 1, .verifier = "standard,irql-checking"};
    struct wdmsim_error err;
    assert_int_equal(wdmsim_boot(&cfg, &m, &err), WDMSIM_OK);
    assert_int_equal(wdmsim_load_driver(m, fixture_path("irql-pageable-access"), &err),
                     WDMSIM_STOPPED);
    const struct wdmsim_bugcheck *bc = wdmsim_get_bugcheck(m);
    assert_non_null(bc);
    assert_non_null(strstr(bc->text, "PagedWork"));
    wdmsim_shutdown(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paged_code_passive),
        cmocka_unit_test(paged_code_dispatch),
        cmocka_unit_test(paged_pool),
        cmocka_unit_test(paged_pool_dispatch),
        cmocka_unit_test(entire_driver),
        cmocka_unit_test(fixtures),
        cmocka_unit_test(pageable_name_in_report),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
