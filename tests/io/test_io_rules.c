/*
 * tests/io/test_io_rules.c - every MDL / IRP / I/O rule of issue 5 stops its
 * buggy-driver fixture with the exact bug check code and parameter 1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/fixture.h"

static void mdl_unlock_unlocked(void **s)
{
    fixture_expect_stop("mdl-unlock-unlocked", NULL, 0xC4, 0x7C);
}
static void mdl_map_unlocked(void **s)
{
    fixture_expect_stop("mdl-map-unlocked", NULL, 0xC4, 0x85);
}
static void mdl_unmap_wrong_address(void **s)
{
    fixture_expect_stop("mdl-unmap-wrong-address", NULL, 0xC4, 0x5700000D);
}
static void mdl_bad_flags(void **s)
{
    fixture_expect_stop("mdl-bad-flags", NULL, 0xC4, 0xB0);
}
static void mdl_free_locked(void **s)
{
    /* 0xCB: P1 is where the pages were locked (inside the fixture). */
    struct fixture_run r;
    fixture_run("mdl-free-locked", NULL, NULL, 1, &r);
    assert_true(r.stopped);
    assert_int_equal(r.code, 0xCB);
    assert_string_equal(r.rule, "mdl.free-locked");
    assert_true(r.param[0] != 0);
}
static void io_double_complete(void **s)
{
    struct fixture_run r;
    fixture_run("io-double-complete", NULL, NULL, 1, &r);
    assert_true(r.stopped);
    assert_int_equal(r.code, 0x44);
    assert_true(r.param[0] != 0); /* the IRP */
    assert_string_equal(r.rule, "io.double-complete");
}
static void io_complete_with_cancel_routine(void **s)
{
    fixture_expect_stop("io-complete-with-cancel-routine", NULL, 0xC9, 0x07);
}
static void io_pending_unmarked(void **s)
{
    fixture_expect_stop("io-pending-unmarked", NULL, 0xC9, 0x23D);
}
static void io_use_after_complete(void **s)
{
    fixture_expect_stop("io-use-after-complete", NULL, 0xC9, 0x57000003);
}
static void io_unclaimed_port(void **s)
{
    fixture_expect_stop("io-unclaimed-port", NULL, 0xC4, 0x5700000A);
}

/* The leak shows only after REMOVE, so the fixture serves a piofifo. */
static void iospace_leak_at_remove(void **s)
{
    char ini[] = "/tmp/wdmsim-h7-leak-XXXXXX";
    int fd = mkstemp(ini);
    assert_true(fd >= 0);
    const char *text = "[device pio0]\nmodel = piofifo\ndriver = mm-iospace-leak-at-remove\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct wdmsim_config cfg = {.machine_path = ini, .seed = 1};
    wdmsim *sim;
    struct wdmsim_error err;
    assert_int_equal(wdmsim_boot(&cfg, &sim, &err), WDMSIM_OK);
    assert_int_equal(wdmsim_load_driver(sim, fixture_path("mm-iospace-leak-at-remove"), &err),
                     WDMSIM_OK);
    assert_int_equal(wdmsim_start_devices(sim), WDMSIM_OK);
    assert_int_equal(wdmsim_unload_drivers(sim), WDMSIM_STOPPED);
    const struct wdmsim_bugcheck *bc = wdmsim_get_bugcheck(sim);
    assert_non_null(bc);
    assert_int_equal(bc->code, 0xC4);
    assert_int_equal(bc->parameters[0], 0x5700000B);
    wdmsim_shutdown(sim);
    unlink(ini);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mdl_unlock_unlocked),
        cmocka_unit_test(mdl_map_unlocked),
        cmocka_unit_test(mdl_unmap_wrong_address),
        cmocka_unit_test(mdl_bad_flags),
        cmocka_unit_test(mdl_free_locked),
        cmocka_unit_test(io_double_complete),
        cmocka_unit_test(io_complete_with_cancel_routine),
        cmocka_unit_test(io_pending_unmarked),
        cmocka_unit_test(io_use_after_complete),
        cmocka_unit_test(io_unclaimed_port),
        cmocka_unit_test(iospace_leak_at_remove),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
