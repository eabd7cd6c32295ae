/*
 * tests/ke/test_rules_device.c - the interrupt rules, from drivers that
 * serve a PIO-1 (piofifo) which really interrupts: irql.isr (the ISR
 * returns at HIGH_LEVEL) and io.interrupt-storm (the ISR never dismisses
 * the level-triggered INTA#). Exact stop code and parameter 1.
 * Spec: spec/verifier.md 4 and 8; shared/devices/piofifo.md 4.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "support/fixture_device.h"

static void expect(const char *fixture, const char *rule, uint64_t p1)
{
    struct fixture_run r;
    fixture_run_device(fixture, "piofifo", &r);
    if (!r.stopped)
        fail_msg("fixture %s did not stop (load rc %d: %s)", fixture, r.load_rc, r.error);
    assert_int_equal(r.code, 0xC4);
    assert_int_equal(r.param[0], p1);
    assert_string_equal(r.rule, rule);
}

static void isr(void **s)
{
    (void)s;
    expect("irql-isr", "irql.isr", 0x111);
}
static void storm(void **s)
{
    (void)s;
    expect("io-interrupt-storm", "io.interrupt-storm", 0x57000009);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(isr),
        cmocka_unit_test(storm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
