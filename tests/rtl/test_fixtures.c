/*
 * tests/rtl/test_fixtures.c - the runtime library from real driver builds:
 * buggy drivers for rtl.overlap and dbg.unicode-above-passive, and a
 * correct driver (rtl_strings) whose DbgPrint output shows the whole path
 * driver -> ms_abi varargs -> CRT archive -> kernel engine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "support/fixture.h"

static void test_rtl_overlap(void **state)
{
    fixture_expect_stop("rtl_overlap", NULL, 0xC4, 0xF0);
    struct fixture_run r;
    fixture_run("rtl_overlap", NULL, NULL, 1, &r);
    assert_string_equal(r.rule, "rtl.overlap");
    assert_int_equal(r.param[1] - r.param[2], 4); /* dest = src + 4 */
    assert_int_equal(r.param[3], 16);
    /* With the verifier off the copy just happens. */
    fixture_run("rtl_overlap", NULL, "none", 1, &r);
    assert_false(r.stopped);
    assert_int_equal(r.entry_status, 0);
}

/* Plain memcpy in a driver binds to the CRT archive, which checks overlap
 * on its small path and through the kernel bridge on its bulk path. */
static void test_rtl_overlap_plain_memcpy(void **state)
{
    (void)state;
    fixture_expect_stop("rtl_overlap_memcpy", NULL, 0xC4, 0xF0);
    fixture_expect_stop("rtl_overlap_memcpy_bulk", NULL, 0xC4, 0xF0);
}

static void test_dbg_unicode_above_passive(void **state)
{
    /* A report-and-continue rule: the driver runs on, the text is printed,
     * and the violation is counted (the run fails). */
    struct wdmsim_config cfg = {.seed = 1};
    char text[2048] = {0};
    cfg.out = fmemopen(text, sizeof text - 1, "w");
    wdmsim *sim;
    struct wdmsim_error err;
    assert_int_equal(wdmsim_boot(&cfg, &sim, &err), WDMSIM_OK);
    int rc = wdmsim_load_driver(sim, fixture_path("dbg_unicode_above_passive"), &err);
    if (rc != WDMSIM_OK)
        fail_msg("load: %s", err.text);
    assert_null(wdmsim_get_bugcheck(sim));
    assert_int_equal(wdmsim_violations(sim), 1);
    fflush(cfg.out);
    assert_non_null(strstr(text, "at dispatch \\Registry\\Machine\\System\\CurrentControlSet"
                                 "\\Services\\dbg_unicode_above_passive\n"));
    wdmsim_shutdown(sim);
    fclose(cfg.out);
}

static void test_rtl_strings(void **state)
{
    struct fixture_run r;
    fixture_run("rtl_strings", NULL, NULL, 1, &r);
    if (r.stopped || r.load_rc)
        fail_msg("rtl_strings: load %d stop 0x%X (%s) %s", r.load_rc, r.code, r.rule, r.error);
    const char *want =
        "path=\\Registry\\Machine\\System\\CurrentControlSet\\Services\\rtl_strings\n"
        "upcase=DEVICE max=12\n"
        "ansi=Device len=6\n"
        "built=Dev equal=1\n"
        "hex=2A\n"
        "integer=-16\n"
        "cbprintf=ab-1234 status=80000005\n"
        "cchcopy=wide! status=00000000\n"
        "usprintf=n12 status=80000005\n"
        "snprintf=-1|-1|abc|0000000000001000 n=26\n"
        "swprintf=w/n/c\n"
        "bitmap find=10 set=15 run=4294967295\n"
        "compare=3 equal=1\n"
        "copied=0 zero=0\n";
    assert_string_equal(r.output, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rtl_overlap),
        cmocka_unit_test(test_rtl_overlap_plain_memcpy),
        cmocka_unit_test(test_dbg_unicode_above_passive),
        cmocka_unit_test(test_rtl_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
