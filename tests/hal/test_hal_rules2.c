/*
 * tests/hal/test_hal_rules2.c - the DMA rules whose fixtures are not in
 * test_fixtures.c: the three report-and-continue description rules
 * (reported with their code and P1; stop when broken on), and the three
 * device-side rules, whose fixtures serve a real PKD-1 (pktdisk) and
 * program it wrongly: 0xE6, P1 0x26, wdmsim subcode in P4.
 * Spec: spec/verifier.md 7, 9; spec/dma.md 1, 4; shared/devices/pktdisk.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "support/fixture_device.h"

static void reported(const char *fixture, const char *rule, uint64_t p1, unsigned count)
{
    struct fixture_run r;
    unsigned n = fixture_run_reported(fixture, &r);
    if (r.stopped)
        fail_msg("fixture %s stopped (0x%X, rule %s)", fixture, r.code, r.rule);
    assert_int_equal(r.load_rc, WDMSIM_OK);
    assert_int_equal(n, count);
    char want[128];
    snprintf(want, sizeof(want), "%s (0xE6/0x%llX)", rule, (unsigned long long)p1);
    if (!strstr(r.output, want))
        fail_msg("fixture %s: no '%s' in: %s", fixture, want, r.output);

    /* --break-on RULE: the same call stops with that code and P1. */
    struct wdmsim_config cfg = {.seed = 1};
    struct wdmsim_error err = {{0}};
    wdmsim *sim;
    assert_int_equal(wdmsim_boot(&cfg, &sim, &err), WDMSIM_OK);
    assert_int_equal(wdmsim_break_on(sim, rule, &err), WDMSIM_OK);
    assert_int_equal(wdmsim_load_driver(sim, fixture_path(fixture), &err), WDMSIM_STOPPED);
    const struct wdmsim_bugcheck *bc = wdmsim_get_bugcheck(sim);
    assert_non_null(bc);
    assert_int_equal(bc->code, 0xE6);
    assert_int_equal(bc->parameters[0], p1);
    assert_string_equal(bc->rule, rule);
    wdmsim_shutdown(sim);
}

static void legacy_hal_call(void **s)
{
    (void)s;
    /* HalGetAdapter and HalAllocateCommonBuffer: one report each. */
    reported("dma-legacy-hal-call", "dma.legacy-hal-call", 0x1E, 2);
}
static void desc_not_zeroed(void **s)
{
    (void)s;
    reported("dma-desc-not-zeroed", "dma.desc-not-zeroed", 0x57000006, 1);
}
static void bad_description(void **s)
{
    (void)s;
    reported("dma-bad-description", "dma.bad-description", 0x57000005, 1);
}

static void device_rule(const char *fixture, const char *rule, uint64_t p4)
{
    struct fixture_run r;
    fixture_run_device(fixture, "pktdisk", &r);
    if (!r.stopped)
        fail_msg("fixture %s did not stop (load rc %d: %s)", fixture, r.load_rc, r.error);
    assert_int_equal(r.code, 0xE6);
    assert_int_equal(r.param[0], 0x26);
    assert_int_equal(r.param[3], p4);
    assert_string_equal(r.rule, rule);
}

static void device_outside_mapping(void **s)
{
    (void)s;
    device_rule("dma-device-outside-mapping", "dma.device-outside-mapping", 0x57000011);
}
static void device_wrong_direction(void **s)
{
    (void)s;
    device_rule("dma-device-wrong-direction", "dma.device-wrong-direction", 0x57000012);
}
static void device_beyond_reach(void **s)
{
    (void)s;
    device_rule("dma-device-beyond-reach", "dma.device-beyond-reach", 0x57000013);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(legacy_hal_call),        cmocka_unit_test(desc_not_zeroed),
        cmocka_unit_test(bad_description),        cmocka_unit_test(device_outside_mapping),
        cmocka_unit_test(device_wrong_direction), cmocka_unit_test(device_beyond_reach),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
