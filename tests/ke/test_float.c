/*
 * tests/ke/test_float.c - KeSaveFloatingPointState / KeRestoreFloatingPointState
 * and ke.fpsave-mismatch (src/ke/float.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <wdm.h>
#include <wdmsim/wdmsim.h>

#include "ke/kesim.h"
#include "support/fixture.h"
#include "sys.h"

static volatile double sink;

static void nested_ok(void *arg)
{
    (void)arg;
    struct ke *ke = &sys_get()->ke;
    KFLOATING_SAVE outer, inner;
    assert_int_equal(KeSaveFloatingPointState(&outer), STATUS_SUCCESS);
    sink = sink * 1.5 + 2.0; /* FP use between save and restore */
    uint8_t old = ke_raise_irql(ke, DISPATCH_LEVEL);
    assert_int_equal(KeSaveFloatingPointState(&inner), STATUS_SUCCESS);
    sink = sink / 3.0;
    assert_int_equal(KeRestoreFloatingPointState(&inner), STATUS_SUCCESS);
    ke_lower_irql(ke, old);
    assert_int_equal(KeRestoreFloatingPointState(&outer), STATUS_SUCCESS);
    assert_int_equal(outer.Dummy, 0); /* consumed */
}

static void save_restore(void **state)
{
    (void)state;
    wdmsim *sim = kesim_boot(1, 1, NULL);
    kesim_call(sim, nested_ok, NULL);
    wdmsim_shutdown(sim);
}

static void other_irql(void *arg)
{
    (void)arg;
    struct ke *ke = &sys_get()->ke;
    static KFLOATING_SAVE save;
    KeSaveFloatingPointState(&save);
    ke_raise_irql(ke, DISPATCH_LEVEL);
    KeRestoreFloatingPointState(&save);
}

static void out_of_order(void *arg)
{
    (void)arg;
    static KFLOATING_SAVE a, b;
    KeSaveFloatingPointState(&a);
    KeSaveFloatingPointState(&b);
    KeRestoreFloatingPointState(&a); /* b is the innermost */
}

static void never_saved(void *arg)
{
    (void)arg;
    static KFLOATING_SAVE s;
    KeRestoreFloatingPointState(&s);
}

static void expect_mismatch(void (*fn)(void *), uint64_t p3, uint64_t p4)
{
    wdmsim *sim = kesim_boot(1, 2, NULL);
    assert_int_equal(wdmsim_call(sim, fn, NULL), WDMSIM_STOPPED);
    const struct wdmsim_bugcheck *bc = wdmsim_get_bugcheck(sim);
    assert_int_equal(bc->code, 0xC4);
    assert_int_equal(bc->parameters[0], 0x57000002);
    assert_int_equal(bc->parameters[2], p3);
    assert_int_equal(bc->parameters[3], p4);
    assert_string_equal(bc->rule, "ke.fpsave-mismatch");
    wdmsim_shutdown(sim);
}

static void mismatches(void **state)
{
    (void)state;
    expect_mismatch(other_irql, PASSIVE_LEVEL, DISPATCH_LEVEL);
    expect_mismatch(out_of_order, PASSIVE_LEVEL, PASSIVE_LEVEL);
    expect_mismatch(never_saved, 0, PASSIVE_LEVEL);
    fixture_expect_stop("ke-fpsave-mismatch", NULL, 0xC4, 0x57000002);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(save_restore),
        cmocka_unit_test(mismatches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
