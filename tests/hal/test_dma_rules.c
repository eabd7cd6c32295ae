/*
 * tests/hal/test_dma_rules.c - the DMA rules added with the ownership
 * windows and the dma-debug style checks: each buggy-driver fixture stops
 * with its exact bug check code and parameter 1.
 *
 * dma-stale-read and dma-physical-address-used need a device access between
 * the driver's map and its next step: the test plays the device through
 * the bus (hal_bus_access, as device models do through wdmsim_dma_write)
 * from kernel context with wdmsim_call.
 * Spec: spec/verifier.md 7, 9.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <wdm.h>
#include <wdmsim/wdmsim.h>

#include "support/fixture.h"
#include "sys.h"

static const struct {
    const char *name;
    uint64_t p1;
    const char *rule;
} fixtures[] = {
    {"dma-flush-past-end", 0x00, "dma.flush-past-end"},
    {"dma-flush-unmapped-register", 0x20, "dma.flush-unmapped-register"},
    {"dma-buffer-too-small", 0x24, "dma.buffer-too-small"},
    {"dma-cpu-touch-owned", 0x57000010, "dma.cpu-touch-owned"},
    {"dma-unchecked-failure", 0x57000034, "dma.unchecked-failure"},
    {"dma-stack-buffer", 0x57000035, "dma.stack-buffer"},
    {"dma-overlap", 0x57000037, "dma.overlap"},
    {"dma-leak-at-unload", 0x57000039, "dma.leak-at-unload"},
};

static void stopping_fixtures(void **state)
{
    (void)state;
    for (unsigned i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
        struct fixture_run r;
        fixture_expect_stop(fixtures[i].name, "standard", 0xE6, fixtures[i].p1);
        fixture_run(fixtures[i].name, NULL, NULL, 1, &r);
        assert_string_equal(r.rule, fixtures[i].rule);
    }
    struct fixture_run r;
    fixture_run("dma-flush-past-end", NULL, NULL, 1, &r);
    assert_int_equal(r.param[1], 1);    /* subcode: flush past the end */
    assert_int_equal(r.param[2], 4096); /* bytes left in the MDL */
    assert_int_equal(r.param[3], 8192); /* bytes asked */
    fixture_run("dma-cpu-touch-owned", NULL, NULL, 1, &r);
    assert_int_equal(r.param[3], 1); /* a write */
    fixture_run("dma-unchecked-failure", NULL, NULL, 1, &r);
    assert_int_equal(r.param[1], 1); /* FreeCommonBuffer */
    /* Without the device's write, the read at unload is a plain touch. */
    fixture_run("dma-stale-read", NULL, NULL, 1, &r);
    assert_string_equal(r.rule, "dma.cpu-touch-owned");
    assert_int_equal(r.param[0], 0x57000010);
    assert_int_equal(r.param[3], 0); /* a read */
}

/* The one adapter the fixture made and its first mapped operation. */
static struct hal_adapter *mapped_op(unsigned *reg)
{
    struct hal_adapter *a = sys_get()->hal.adapters;
    assert_non_null(a);
    for (unsigned i = 0; i < a->regs.count; i++)
        if (a->regs.reg[i].state == hal_reg_mapped && a->regs.reg[i].op_start) {
            *reg = i;
            return a;
        }
    fail_msg("no mapped operation");
    return NULL;
}

static void device_writes(void *arg)
{
    (void)arg;
    unsigned r;
    struct hal_adapter *a = mapped_op(&r);
    const struct hal_mapreg *m = &a->regs.reg[r];
    uint64_t logical = ((m->target << a->lim.page_shift) + m->offset) ^ a->lim.logical_xor;
    static uint8_t data[12288];
    memset(data, 0xA5, sizeof(data));
    assert_int_equal(hal_bus_access(a, logical, data, sizeof(data), hal_dir_from_device, NULL),
                     hal_bus_ok);
}

static void stale_read(void **state)
{
    (void)state;
    struct wdmsim_config cfg = {.seed = 1, .verifier = "standard"};
    struct wdmsim_error err = {{0}};
    wdmsim *sim;
    assert_int_equal(wdmsim_boot(&cfg, &sim, &err), WDMSIM_OK);
    assert_int_equal(wdmsim_load_driver(sim, fixture_path("dma-stale-read"), &err), WDMSIM_OK);
    assert_int_equal(wdmsim_call(sim, device_writes, NULL), WDMSIM_OK);
    wdmsim_unload_drivers(sim);
    const struct wdmsim_bugcheck *bc = wdmsim_get_bugcheck(sim);
    assert_non_null(bc);
    assert_int_equal(bc->code, 0xE6);
    assert_int_equal(bc->parameters[0], 0xD);
    assert_int_equal(bc->parameters[3], 12288); /* bytes the device wrote */
    assert_string_equal(bc->rule, "dma.stale-read");
    wdmsim_shutdown(sim);
}

/* The device emits the buffer's physical address; with logical-offset the
 * logical one differs, so the bus refuses it and names the mistake. */
static void device_uses_physical(void *arg)
{
    (void)arg;
    unsigned r;
    struct hal_adapter *a = mapped_op(&r);
    const struct hal_mapreg *m = &a->regs.reg[r];
    assert_true(a->lim.logical_xor != 0);
    uint64_t pa = (m->source << a->lim.page_shift) + m->offset;
    uint8_t data[16] = {0};
    struct hal_bus_fault_info info;
    /* The logical address works. */
    assert_int_equal(
        hal_bus_access(a, pa ^ a->lim.logical_xor, data, sizeof(data), hal_dir_from_device, &info),
        hal_bus_ok);
    assert_int_equal(hal_bus_access(a, pa, data, sizeof(data), hal_dir_from_device, &info),
                     hal_bus_unmapped);
    hal_bus_report(a, &info, sizeof(data));
}

static void physical_address_used(void **state)
{
    (void)state;
    struct wdmsim_config cfg = {.seed = 1, .verifier = "standard,logical-offset"};
    struct wdmsim_error err = {{0}};
    wdmsim *sim;
    assert_int_equal(wdmsim_boot(&cfg, &sim, &err), WDMSIM_OK);
    assert_int_equal(wdmsim_load_driver(sim, fixture_path("dma-physical-address-used"), &err),
                     WDMSIM_OK);
    wdmsim_call(sim, device_uses_physical, NULL);
    const struct wdmsim_bugcheck *bc = wdmsim_get_bugcheck(sim);
    assert_non_null(bc);
    assert_int_equal(bc->code, 0xE6);
    assert_int_equal(bc->parameters[0], 0x26);
    assert_int_equal(bc->parameters[3], 0x57000011);
    assert_string_equal(bc->rule, "dma.physical-address-used");
    wdmsim_shutdown(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stopping_fixtures),
        cmocka_unit_test(stale_read),
        cmocka_unit_test(physical_address_used),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
