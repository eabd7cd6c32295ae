/*
 * tests/host/test_api.c - the host API: a bug check from driver code comes
 * back as data, and a stopped machine runs nothing more.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "support/fixture.h"

static void test_bugcheck_as_data(void **state)
{
    (void)state;
    struct fixture_run r;
    fixture_run("kebugcheck", NULL, NULL, 5, &r);
    assert_int_equal(r.load_rc, WDMSIM_STOPPED);
    assert_true(r.stopped);
    assert_int_equal(r.code, 0xE2);
    assert_int_equal(r.param[0], 0x11);
    assert_int_equal(r.param[1], 0x22);
    assert_int_equal(r.param[2], 0x33);
    assert_int_equal(r.param[3], 0x44);
    assert_string_equal(r.rule, "");
    assert_string_equal(r.output, "kebugcheck: about to stop\n");
}

static void test_clean_fixture(void **state)
{
    (void)state;
    struct fixture_run r;
    fixture_run("hello_fixture", NULL, NULL, 5, &r);
    assert_int_equal(r.load_rc, WDMSIM_OK);
    assert_int_equal(r.unload_rc, WDMSIM_OK);
    assert_false(r.stopped);
    assert_int_equal(r.entry_status, 0);
    assert_string_equal(r.output, "hello_fixture: entry 42\nhello_fixture: unload\n");
}

static void test_stopped_machine_runs_nothing(void **state)
{
    (void)state;
    struct wdmsim_config cfg = {.seed = 1};
    struct wdmsim_error err;
    wdmsim *sim;
    assert_int_equal(wdmsim_boot(&cfg, &sim, &err), WDMSIM_OK);
    assert_int_equal(wdmsim_load_driver(sim, fixture_path("kebugcheck"), &err), WDMSIM_STOPPED);
    assert_int_equal(wdmsim_load_driver(sim, fixture_path("hello_fixture"), &err), WDMSIM_STOPPED);
    assert_non_null(wdmsim_get_bugcheck(sim));
    assert_int_equal(wdmsim_get_bugcheck(sim)->code, 0xE2);
    wdmsim_shutdown(sim);
}

static void test_two_machines_in_one_process(void **state)
{
    (void)state;
    struct wdmsim_config cfg = {.seed = 1};
    struct wdmsim_error err;
    wdmsim *a, *b;
    assert_int_equal(wdmsim_boot(&cfg, &a, &err), WDMSIM_OK);
    assert_int_equal(wdmsim_boot(&cfg, &b, &err), WDMSIM_OK);
    assert_int_equal(wdmsim_load_driver(a, fixture_path("kebugcheck"), &err), WDMSIM_STOPPED);
    assert_null(wdmsim_get_bugcheck(b));
    wdmsim_shutdown(a);
    wdmsim_shutdown(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bugcheck_as_data),
        cmocka_unit_test(test_clean_fixture),
        cmocka_unit_test(test_stopped_machine_runs_nothing),
        cmocka_unit_test(test_two_machines_in_one_process),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
