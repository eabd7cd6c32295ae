/*
 * tests/abi/test_pagemacros.c - loads the page-macro drivers built for 4 KiB
 * and 8 KiB pages and checks their results and ABI marker.
 *
 * Spec: spec/memory.md 1; include/ddk/wdm/base.h (wdmsim_driver_abi).
 * Invariants: the modules have no kernel imports, so a plain dlopen works
 * without a running wdmsim.
 */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

struct pagemacro_result {
    uint32_t page_size;
    uint32_t failures;
    uint32_t first_failed_line;
};
typedef __attribute__((ms_abi)) void pagemacro_check_fn(struct pagemacro_result *r);

struct driver_abi { /* include/ddk/wdm/base.h: struct _WDMSIM_DRIVER_ABI */
    uint32_t magic, version, page_shift, wchar_size;
};

static void check_module(const char *path, uint32_t page_shift)
{
    void *module = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!module)
        fail_msg("dlopen %s: %s", path, dlerror());

    const struct driver_abi *abi = dlsym(module, "wdmsim_driver_abi");
    assert_non_null(abi);
    assert_int_equal(abi->magic, 0x534d4457);
    assert_int_equal(abi->page_shift, page_shift);
    assert_int_equal(abi->wchar_size, 2);

    pagemacro_check_fn *check = (pagemacro_check_fn *)dlsym(module, "pagemacro_check");
    assert_non_null(check);
    struct pagemacro_result r = {0, 99, 0};
    check(&r);
    assert_int_equal(r.page_size, 1u << page_shift);
    if (r.failures)
        fail_msg("%s: %u page-macro checks failed, first at pagemacros_drv.c:%u", path, r.failures,
                 r.first_failed_line);
    dlclose(module);
}

static void page_macros_4k(void **state)
{
    (void)state;
    check_module(PAGEMACROS12, 12);
}

static void page_macros_8k(void **state)
{
    (void)state;
    check_module(PAGEMACROS13, 13);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(page_macros_4k),
        cmocka_unit_test(page_macros_8k),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
