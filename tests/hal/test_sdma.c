/*
 * tests/hal/test_sdma.c - the 8237 reached through real I/O ports and the
 * sdma.* rules with their buggy-driver fixtures.
 *
 * The bus routes byte accesses to 0x00-0x0F, 0x81-0x8F and 0xC0-0xDF to the
 * controller pair (a wider access there is nobody's port); a booted
 * machine's controller moves units on the virtual clock. Fixtures:
 * sdma-driver-port-access (0xE6/0x57000021), sdma-block-wrap
 * (0xE6/0x57000020), sdma-flush-active-channel (0xE6/0x23, P3 controller,
 * P4 channel) stop; sdma-illegal-mode (0x57000022) and
 * sdma-unsupported-command (0x57000023) are continuing reports, checked as
 * one violation each and, with `wdmsim_break_on`, as a stop with their
 * code and parameter 1.
 * Spec: spec/verifier.md 7, 9; spec/i8237.md 2, 5, 6.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <wdm.h>
#include <wdmsim/wdmsim.h>

#include "support/fixture.h"
#include "sys.h"

static void stopping_fixtures(void **state)
{
    (void)state;
    fixture_expect_stop("sdma-driver-port-access", "standard", 0xE6, 0x57000021);
    fixture_expect_stop("sdma-block-wrap", "standard", 0xE6, 0x57000020);
    struct fixture_run r;
    fixture_run("sdma-driver-port-access", NULL, NULL, 1, &r);
    assert_string_equal(r.rule, "sdma.driver-port-access");
    assert_int_equal(r.param[1], 1); /* channel */
    fixture_run("sdma-block-wrap", NULL, NULL, 1, &r);
    assert_string_equal(r.rule, "sdma.block-wrap");
    assert_int_equal(r.param[1], 3);       /* channel */
    assert_int_equal(r.param[2], 0x10000); /* wrapped to the start of page 1 */
}

/* A flush before terminal count: channel 5 is the 16-bit controller's. */
static void flush_active_channel(void **state)
{
    (void)state;
    fixture_expect_stop("sdma-flush-active-channel", "standard", 0xE6, 0x23);
    struct fixture_run r;
    fixture_run("sdma-flush-active-channel", NULL, NULL, 1, &r);
    assert_true(r.stopped);
    assert_int_equal(r.code, 0xE6);
    assert_string_equal(r.rule, "sdma.flush-active-channel");
    assert_int_equal(r.param[0], 0x23);
    assert_int_equal(r.param[1], 0); /* P2 */
    assert_int_equal(r.param[2], 1); /* controller: DMA2 */
    assert_int_equal(r.param[3], 5); /* channel */
}

/* A continuing rule reports once and goes on; broken on, it stops. */
static void continuing(const char *fixture, const char *rule, uint64_t p1, uint64_t value)
{
    for (int brk = 0; brk < 2; brk++) {
        struct wdmsim_config cfg = {.seed = 1};
        struct wdmsim_error err = {{0}};
        wdmsim *sim;
        assert_int_equal(wdmsim_boot(&cfg, &sim, &err), WDMSIM_OK);
        if (brk)
            assert_int_equal(wdmsim_break_on(sim, rule, &err), WDMSIM_OK);
        int rc = wdmsim_load_driver(sim, fixture_path(fixture), &err);
        const struct wdmsim_bugcheck *bc = wdmsim_get_bugcheck(sim);
        if (!brk) {
            assert_int_equal(rc, WDMSIM_OK);
            assert_null(bc);
            assert_int_equal(wdmsim_violations(sim), 1);
        } else {
            assert_int_equal(rc, WDMSIM_STOPPED);
            assert_non_null(bc);
            assert_int_equal(bc->code, 0xE6);
            assert_int_equal(bc->parameters[0], p1);
            assert_int_equal(bc->parameters[2], value);
            assert_string_equal(bc->rule, rule);
        }
        wdmsim_shutdown(sim);
    }
}

static void continuing_fixtures(void **state)
{
    (void)state;
    continuing("sdma-illegal-mode", "sdma.illegal-mode", 0x57000022, 0x4F);
    continuing("sdma-unsupported-command", "sdma.unsupported-command", 0x57000023, 0x01);
}

/* ---- the port decoder and the clock, from kernel code ------------------------ */

static void ports_body(void *arg)
{
    (void)arg;
    struct machine *m = &sys_get()->machine;
    uint64_t v = 0;
    /* Channel 3's address through the flip-flop: low, then high byte. */
    assert_int_equal(bus_port_write(m, 0x0C, 1, 0), 0);
    assert_int_equal(bus_port_write(m, 0x06, 1, 0x34), 0);
    assert_int_equal(bus_port_write(m, 0x06, 1, 0x12), 0);
    assert_int_equal(m->dma.ch[3].base_addr, 0x1234);
    assert_int_equal(bus_port_write(m, 0x0C, 1, 0), 0);
    assert_int_equal(bus_port_read(m, 0x06, 1, &v), 0);
    assert_int_equal(v, 0x34);
    assert_int_equal(bus_port_read(m, 0x06, 1, &v), 0);
    assert_int_equal(v, 0x12);
    /* A page register and a DMA2 port. */
    assert_int_equal(bus_port_write(m, 0x8B, 1, 0x42), 0);
    assert_int_equal(m->dma.ch[5].page, 0x42);
    assert_int_equal(bus_port_write(m, 0xD4, 1, 0x04 | 1), 0); /* mask channel 5 */
    assert_true(m->dma.chip[1].mask & 2);
    /* The controller's data bus is 8 bits: a word access is not decoded. */
    assert_int_equal(bus_port_read(m, 0x06, 2, &v), -1);
    /* A booted machine's controller runs on the virtual clock. */
    assert_ptr_equal(m->dma.clock, &m->clock);
    assert_int_equal(m->dma.unit_ns, i8237_isa_unit_ns);
}

static void port_decoder_and_clock(void **state)
{
    (void)state;
    struct wdmsim_config cfg = {.seed = 1, .verifier = "none"};
    struct wdmsim_error err = {{0}};
    wdmsim *sim;
    assert_int_equal(wdmsim_boot(&cfg, &sim, &err), WDMSIM_OK);
    assert_int_equal(wdmsim_call(sim, ports_body, NULL), WDMSIM_OK);
    wdmsim_shutdown(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stopping_fixtures),
        cmocka_unit_test(flush_active_channel),
        cmocka_unit_test(continuing_fixtures),
        cmocka_unit_test(port_decoder_and_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
