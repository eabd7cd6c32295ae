/*
 * tests/mm/test_mm_rules.c - every MmMapIoSpace and MDL rule of src/mm
 * (iospace.c, mdl.c, mdl_map.c) stops its buggy-driver fixture with the
 * exact bug check code and parameter 1, and names the rule.
 * Spec: spec/verifier.md (mm., mdl. rules); spec/mdl.md 3-5.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "support/fixture.h"

static const struct {
    const char *fixture;
    const char *rule;
    uint32_t code;
    uint64_t p1;
} cases[] = {
    {"mm-mapiospace-irql", "mm.mapiospace-irql", 0xC4, 0x73},
    {"mm-unmapiospace-irql", "mm.unmapiospace-irql", 0xC4, 0x7B},
    {"mm-unmapiospace-bad-address", "mm.unmapiospace-bad-address", 0xC4, 0x57000010},
    {"mdl-probe-irql", "mdl.probe-irql", 0xC4, 0x70},
    {"mdl-unlock-nonpaged", "mdl.unlock-nonpaged", 0xC4, 0x7D},
    {"mdl-build-from-paged", "mdl.build-from-paged", 0xC4, 0x7F},
    {"mdl-partial-unlock", "mdl.partial-unlock", 0xC4, 0xB4},
    {"mdl-free-mapped", "mdl.free-mapped", 0xC4, 0xB8},
    {"mdl-secondary-without-primary", "mdl.secondary-without-primary", 0xC4, 0x57000003},
    {"mdl-map-irql", "mdl.map-irql", 0xC4, 0x76},
    {"mdl-legacy-map", "mdl.legacy-map", 0xC4, 0x81},
    {"mdl-bugcheck-on-failure", "mdl.bugcheck-on-failure", 0xC4, 0x82},
    {"mdl-partial-unmap", "mdl.partial-unmap", 0xC4, 0xB5},
    {"mdl-unmap-unmapped", "mdl.unmap-unmapped", 0xC4, 0xB6},
    {"mdl-unmap-irql", "mdl.unmap-irql", 0xC4, 0x79},
    {"mdl-pages-for-mdl-irql", "mdl.pages-for-mdl-irql", 0xC4, 0x7E},
};

static void each_fixture(void **state)
{
    (void)state;
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fixture_expect_stop(cases[i].fixture, NULL, cases[i].code, cases[i].p1);
        struct fixture_run r;
        fixture_run(cases[i].fixture, NULL, NULL, 1, &r);
        if (strcmp(r.rule, cases[i].rule))
            fail_msg("fixture %s stopped on rule '%s', expected %s", cases[i].fixture, r.rule,
                     cases[i].rule);
    }
}

/* A probed MDL freed while locked is still mdl.free-locked (0xCB), not
 * mdl.free-mapped: only MmAllocatePagesForMdl's MDLs skip that check. */
static void free_locked_still_first(void **state)
{
    (void)state;
    struct fixture_run r;
    fixture_run("mdl-free-locked", NULL, NULL, 1, &r);
    assert_true(r.stopped);
    assert_int_equal(r.code, 0xCB);
    assert_string_equal(r.rule, "mdl.free-locked");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_fixture),
        cmocka_unit_test(free_locked_still_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
