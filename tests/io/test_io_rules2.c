/*
 * tests/io/test_io_rules2.c - the IRP rules of src/io/irp.c not covered by
 * test_io_rules.c: each buggy-driver fixture stops with the exact bug
 * check code and parameter 1 (io.no-stack-location: P1 is the IRP, which
 * the fixture prints), and the report-and-continue rule
 * io.info-exceeds-output is reported with its code and P1.
 * Spec: spec/verifier.md (io. rules); spec/io.md 2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "support/fixture_device.h"

static void expect(const char *fixture, const char *rule, uint32_t code, uint64_t p1)
{
    fixture_expect_stop(fixture, NULL, code, p1);
    struct fixture_run r;
    fixture_run(fixture, NULL, NULL, 1, &r);
    assert_string_equal(r.rule, rule);
}

static void complete_irql(void **s)
{
    (void)s;
    expect("io-complete-irql", "io.complete-irql", 0xC9, 0x0E);
}
static void call_irql(void **s)
{
    (void)s;
    expect("io-call-irql", "io.call-irql", 0xC9, 0x10);
}
static void dispatch_irql_changed(void **s)
{
    (void)s;
    expect("io-dispatch-irql-changed", "io.dispatch-irql-changed", 0xC9, 0x05);
}
static void complete_pending_status(void **s)
{
    (void)s;
    expect("io-complete-pending-status", "io.complete-pending-status", 0xC9, 0x06);
}

/* 0x35 NO_MORE_IRP_STACK_LOCATIONS: P1 is the IRP's address. */
static void no_stack_location(void **s)
{
    (void)s;
    struct fixture_run r;
    fixture_run("io-no-stack-location", NULL, NULL, 1, &r);
    assert_true(r.stopped);
    assert_int_equal(r.code, 0x35);
    assert_string_equal(r.rule, "io.no-stack-location");
    const char *at = strstr(r.output, "irp ");
    assert_non_null(at);
    unsigned long long irp = 0;
    assert_int_equal(sscanf(at, "irp %llx", &irp), 1);
    assert_int_equal(r.param[0], irp);
}

static void info_exceeds_output(void **s)
{
    (void)s;
    struct fixture_run r;
    unsigned n = fixture_run_reported("io-info-exceeds-output", &r);
    assert_false(r.stopped);
    assert_int_equal(r.load_rc, WDMSIM_OK);
    assert_int_equal(n, 1);
    if (!strstr(r.output, "io.info-exceeds-output (0xC9/0x57000002)"))
        fail_msg("no report in: %s", r.output);
    /* The copy-back was clipped to the 16-byte buffer. */
    assert_non_null(strstr(r.output, "status 0, Information 64"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(complete_irql),         cmocka_unit_test(call_irql),
        cmocka_unit_test(dispatch_irql_changed), cmocka_unit_test(complete_pending_status),
        cmocka_unit_test(no_stack_location),     cmocka_unit_test(info_exceeds_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
