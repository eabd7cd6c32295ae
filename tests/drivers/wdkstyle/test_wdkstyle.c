/*
 * tests/drivers/wdkstyle/test_wdkstyle.c - runs the WDK-style driver's self
 * test: the memset the compiler made of a loop, the memcpy it made of a
 * struct copy, strlen/wcslen and a variadic ms_abi function, all executing
 * inside the module with the Windows calling convention.
 *
 * Spec: ARCHITECTURE.md 10; docs/abi.md.
 * Invariants: the module's kernel imports (DbgPrint, the CRT's rtl_crt_*
 * bridge) bind to the kernel linked into this executable; the self test
 * runs outside any machine and never calls DbgPrint.
 */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

struct wdkstyle_result { /* WDKSTYLE_RESULT in wdkstyle.c, x64 layout */
    uint64_t record_size;
    uint64_t name_length;
    uint64_t wide_name_length;
    uint32_t variadic_sum;
    uint32_t record_tag;
    uint8_t record_byte2;
    uint16_t record_name0;
};
typedef __attribute__((ms_abi)) void selftest_fn(uint8_t *buffer, size_t length, uint8_t value,
                                                 void *record, struct wdkstyle_result *result);

static void compiler_emitted_calls_run_in_module(void **state)
{
    (void)state;
    void *module = dlopen(WDKSTYLE_SO, RTLD_NOW | RTLD_LOCAL);
    if (!module)
        fail_msg("dlopen %s: %s", WDKSTYLE_SO, dlerror());
    selftest_fn *selftest = (selftest_fn *)dlsym(module, "wdkstyle_selftest");
    assert_non_null(selftest);

    /* Odd length and offset so memset's unaligned head and tail both run. */
    enum { len = 1000, record_bytes = 64 * 1024 };
    uint8_t *buffer = calloc(1, len + 16);
    uint8_t *record = malloc(record_bytes);
    assert_non_null(buffer);
    assert_non_null(record);
    memset(record, 0xEE, record_bytes);
    struct wdkstyle_result r;
    memset(&r, 0, sizeof(r));

    selftest(buffer + 3, len - 7, 0x5A, record, &r);

    for (size_t i = 0; i < len + 16; i++) {
        uint8_t want = (i >= 3 && i < 3 + len - 7) ? 0x5A : 0;
        if (buffer[i] != want)
            fail_msg("buffer[%zu] = %#x, want %#x", i, buffer[i], want);
    }
    assert_true(r.record_size > 16384 && r.record_size <= record_bytes);
    assert_int_equal(r.record_tag, 0x6c797453); /* 'lytS' */
    assert_int_equal(r.record_byte2, 3);
    assert_int_equal(r.record_name0, 'w');
    assert_int_equal(r.name_length, strlen("wdkstyle driver"));
    assert_int_equal(r.wide_name_length, strlen("wdkstyle"));
    assert_int_equal(r.variadic_sum, 42);
    assert_int_equal(record[r.record_size], 0xEE); /* copy stayed in bounds */
    free(buffer);
    free(record);
    dlclose(module);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(compiler_emitted_calls_run_in_module),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
