/*
 * tests/ex/test_pool_rules.c - every pool and special-pool rule: its buggy
 * driver fixture stops with the exact bug check code and parameter 1 (for
 * 0xC1, parameter 4). Spec: spec/verifier.md 1-3.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/fixture.h"

static const struct {
    const char *fixture, *verifier;
    uint32_t code;
    uint64_t p1;
} stops[] = {
    {"pool-zero-size", "standard", 0xC4, 0x00},
    {"pool-paged-above-apc", "standard", 0xC4, 0x01},
    {"pool-nonpaged-above-dispatch", "standard", 0xC4, 0x02},
    {"pool-must-succeed", "standard", 0xC2, 0x9A},
    {"pool-tag-zero", "standard", 0xC2, 0x9B},
    /* the fast path open (no pool tracking), a block of the size parked,
     * no tag checked on this cache yet */
    {"pool-tag-zero-cached", "misc", 0xC2, 0x9B},
    {"pool-tag-big", "standard", 0xC2, 0x9C},
    {"pool-tag-chars", "standard", 0xC2, 0x9D},
    {"pool-bad-type", "standard", 0xC2, 0x57000001},
    {"pool-free-bad-address", "standard", 0xC4, 0x10},
    {"pool-free-mid-block", "standard", 0xC2, 0x41286},
    {"pool-free-paged-above-apc", "standard", 0xC4, 0x11},
    {"pool-free-nonpaged-above-dispatch", "standard", 0xC4, 0x12},
    {"pool-double-free", "standard", 0xC4, 0x13},
    {"pool-double-free", "none", 0xC4, 0x13},
    {"pool-free-wrong-tag", "standard", 0xC2, 0x0A},
    {"pool-free-wrong-tag", "none", 0xC2, 0x0A},
    {"pool-leak-at-unload", "standard", 0xC4, 0x62},
    {"pool-executable", "standard,code-integrity", 0xC4, 0x2000},
    {"pool-header-corrupt", "standard", 0x19, 0x20},
    /* verifier off: the free does not read the header; the unload check does */
    {"pool-header-corrupt", "none", 0x19, 0x20},
    {"pool-freelist-corrupt", "standard", 0x19, 0x3},
    {"pool-freelist-corrupt", "none", 0x19, 0x3},
    {"pool-free-mid-block", "none", 0xC2, 0x41286},
    {"pool-free-bad-address", "none", 0xC4, 0x10},
    {"pool-contiguous-bad-free", "standard", 0xC2, 0x60},
    {"spool-corrupt-at-free", "standard,special-pool", 0xC1, 0x24},
    {"spool-bad-irql", "standard,special-pool", 0xC1, 0x30},
    /* special pool: the same bugs in a freed or mid block */
    {"pool-double-free", "standard,special-pool", 0xC1, 0x20},
    {"pool-free-mid-block", "standard,special-pool", 0xC1, 0x21},
};

static void test_rule_stops(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++) {
        fprintf(stderr, "fixture %s --verifier %s\n", stops[i].fixture, stops[i].verifier);
        fixture_expect_stop(stops[i].fixture, stops[i].verifier, stops[i].code, stops[i].p1);
    }
}

/* Faults: parameter 1 is the faulting address, which the fixture prints. */
static void expect_fault(const char *name, uint32_t code, const char *rule)
{
    struct fixture_run r;
    fixture_run(name, NULL, "standard,special-pool", 1, &r);
    if (!r.stopped)
        fail_msg("fixture %s did not stop (load rc %d: %s)", name, r.load_rc, r.error);
    assert_int_equal(r.code, code);
    assert_string_equal(r.rule, rule);
    const char *at = strstr(r.output, "fault at ");
    assert_non_null(at);
    uint64_t addr = strtoull(at + 9, NULL, 16);
    assert_int_equal(r.param[0], addr);
}

static void test_special_pool_faults(void **state)
{
    (void)state;
    expect_fault("spool-overrun", 0xD6, "spool.overrun");
    expect_fault("spool-underrun", 0xD6, "spool.underrun");
    expect_fault("spool-use-after-free", 0xD5, "spool.use-after-free");
}

static void test_leak_needs_pool_tracking(void **state)
{
    (void)state;
    struct fixture_run r;
    fixture_run("pool-leak-at-unload", NULL, "none", 1, &r);
    assert_int_equal(r.stopped, 0);
    fixture_run("pool-leak-at-unload", NULL, "pool-tracking", 1, &r);
    assert_int_equal(r.stopped, 1);
    assert_string_equal(r.rule, "pool.leak-at-unload");
    assert_int_equal(r.param[3], 1); /* one block */
}

static void test_good_driver_runs_clean(void **state)
{
    (void)state;
    const char *verifiers[] = {"none", "standard", "all", "all,code-integrity"};
    for (int i = 0; i < 4; i++) {
        struct fixture_run r;
        fixture_run("pool_good", NULL, verifiers[i], 3, &r);
        if (i == 3) {
            assert_int_equal(r.code, 0xC4); /* NonPagedPool under code integrity */
            continue;
        }
        if (r.stopped)
            fail_msg("pool_good stopped with 0x%X under %s", r.code, verifiers[i]);
        assert_int_equal(r.load_rc, 0);
        assert_int_equal(r.entry_status, 0);
        assert_int_equal(r.unload_rc, 0);
        assert_non_null(strstr(r.output, "pool_good: ok"));
    }
}

static void failures(const char *verifier, unsigned *a, unsigned *b, unsigned *c)
{
    struct fixture_run r;
    fixture_run("pool_lowres", NULL, verifier, 11, &r);
    assert_int_equal(r.stopped, 0);
    const char *s = strstr(r.output, "failed A=");
    assert_non_null(s);
    assert_int_equal(sscanf(s, "failed A=%u B=%u C=%u", a, b, c), 3);
}

static void test_low_resources(void **state)
{
    (void)state;
    unsigned a, b, c, a2, b2, c2;
    failures("standard", &a, &b, &c);
    assert_true(a == 0 && b == 0 && c == 0);
    failures("standard,low-resources=500", &a, &b, &c);
    assert_in_range(a, 25, 75);
    assert_in_range(b, 25, 75);
    assert_in_range(c, 2, 18);
    failures("standard,low-resources=500", &a2, &b2, &c2); /* same seed, same run */
    assert_true(a == a2 && b == b2 && c == c2);
    failures("standard,low-resources=1000,low-resources-tag=Aa*", &a, &b, &c);
    assert_int_equal(a, 100);
    assert_int_equal(b, 0);
    assert_int_equal(c, 0); /* untagged: the filter excludes it */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_stops),
        cmocka_unit_test(test_special_pool_faults),
        cmocka_unit_test(test_leak_needs_pool_tracking),
        cmocka_unit_test(test_good_driver_runs_clean),
        cmocka_unit_test(test_low_resources),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
