/*
 * tests/devices/test_dmatest.c - the DMT-1 test device model itself:
 * identity and resources of both models, the latency before the data
 * phase, single and table commands through a bound adapter, every GO check
 * in order, a bus refusal, register access rules, RESET, the knob checks.
 * The HAL tests it drives are tests/hal/test_dmatest_*.c.
 * Spec: docs/devices/dmatest.md; devices/README.md 5-9.
 */
#include "dev_test.h"

#include "../../devices/dmatest.h"

static const char *ini_pci = "[device dmt]\nmodel = dmatest\nlatency_ns = 5000\n";
static const char *ini_isa = "[device dmi]\nmodel = dmatest_isa\nport = 0x300\ndma = 5\n";
static const char *ini_pci32 = "[device dmt]\nmodel = dmatest\naddress_width = 32\n"
                               "buffer_size = 8192\nmax_desc = 4\n";

static uint32_t status(struct dt *t)
{
    return dt_mmio_r(t, dmatest_reg_status);
}

static void go(struct dt *t, uint64_t addr, uint32_t len, uint32_t devoff, uint32_t ndesc,
               uint32_t control)
{
    dt_mmio_w(t, dmatest_reg_addr_lo, (uint32_t)addr);
    dt_mmio_w(t, dmatest_reg_addr_hi, (uint32_t)(addr >> 32));
    dt_mmio_w(t, dmatest_reg_length, len);
    dt_mmio_w(t, dmatest_reg_devoff, devoff);
    dt_mmio_w(t, dmatest_reg_ndesc, ndesc);
    dt_mmio_w(t, dmatest_reg_control, control | dmatest_ctrl_go);
}

static uint32_t ctrl(enum dmatest_mode m, bool to_device)
{
    return (uint32_t)m << dmatest_ctrl_mode_shift | (to_device ? dmatest_ctrl_to_device : 0);
}

/* ---- identity ---------------------------------------------------------------------- */

static void ids_pci(void *arg)
{
    struct dt *t = arg;
    assert_int_equal(pci_config_read(t->dev, 0, 4), 0x00D75744);
    dt_pci_command(t, pci_cmd_memory);
    assert_int_equal(dt_mmio_r(t, dmatest_reg_id), dmatest_id);
    assert_int_equal(dt_mmio_r(t, dmatest_reg_caps), 64 | 0xF << dmatest_caps_channel_shift);
    assert_int_equal(dt_mmio_r(t, dmatest_reg_bufsize), 256 << 10);
    assert_int_equal(status(t), 0);
    assert_int_equal(dt_mmio_r(t, dmatest_reg_control), 0);
}

static void ids_isa(void *arg)
{
    struct dt *t = arg;
    assert_int_equal(t->res.isa_port_base, 0x300);
    assert_int_equal(t->res.dma, 5);
    assert_int_equal(dt_port_r(t, dmatest_reg_id, 4), dmatest_id);
    assert_int_equal(dt_port_r(t, dmatest_reg_caps, 4),
                     24 | dmatest_caps_slave | 5 << dmatest_caps_channel_shift);
}

static void test_identity(void **state)
{
    struct dt t;
    dt_boot(&t, ini_pci, "dmt", 1);
    dt_run(&t, ids_pci);
    assert_int_equal(wdmsim_device_violations(t.sim), 0);
    dt_done(&t);
    dt_boot(&t, ini_isa, "dmi", 1);
    dt_run(&t, ids_isa);
    assert_int_equal(wdmsim_device_violations(t.sim), 0);
    dt_done(&t);
}

/* ---- data through a bound adapter ------------------------------------------------------ */

static void data_body(void *arg)
{
    struct dt *t = arg;
    PDMA_ADAPTER a = dt_master(t, 64, 65536);
    uint64_t la, tla;
    /* the table first: what lies right after cb is then no common buffer */
    struct dmatest_desc *tbl = (struct dmatest_desc *)dt_common(a, 4096, &tla);
    uint8_t *cb = dt_common(a, 3 * 4096, &la);
    dt_pci_command(t, pci_cmd_memory | pci_cmd_bus_master);
    uint8_t *dev = dmatest_buffer(t->dev, NULL);
    /* single, memory -> device, at DEVOFF 100, after the 5 us latency */
    dt_fill(cb + 10, 9000, 1);
    uint64_t t0 = dt_now();
    go(t, la + 10, 9000, 100, 0, ctrl(dmatest_mode_single, true));
    assert_int_equal(status(t), dmatest_st_busy);
    dt_until(t0 + 5000 - 1);
    assert_int_equal(status(t), dmatest_st_busy);
    dt_until(t0 + 5000);
    assert_int_equal(status(t), dmatest_st_done);
    assert_int_equal(dt_mmio_r(t, dmatest_reg_xferred), 9000);
    assert_memory_equal(dev + 100, cb + 10, 9000);
    struct dmatest_stats st;
    dmatest_get_stats(t->dev, &st);
    assert_int_equal(st.transactions, 3); /* 4086, 4096, 818: split at 4 KiB lines */
    assert_int_equal(st.bytes_to_device, 9000);
    /* DONE is RW1C */
    dt_mmio_w(t, dmatest_reg_status, dmatest_st_done);
    assert_int_equal(status(t), 0);
    /* table, device -> memory: two pieces, in reverse order */
    tbl[0] = (struct dmatest_desc){la + 8192, 1000, 0};
    tbl[1] = (struct dmatest_desc){la, 3000, 0};
    dt_fill(dev, 4000, 2);
    memset(cb, 0, 3 * 4096);
    go(t, tla, 0, 0, 2, ctrl(dmatest_mode_table, false));
    dt_wait(5000);
    assert_int_equal(status(t), dmatest_st_done);
    assert_int_equal(dt_mmio_r(t, dmatest_reg_xferred), 4000);
    assert_memory_equal(cb + 8192, dev, 1000);
    assert_memory_equal(cb, dev + 1000, 3000);
    assert_int_equal(t->bus_faults, 0);
    /* a refused transaction: the second page of a single command is
     * beyond the common buffer */
    go(t, la + 2 * 4096, 8192, 0, 0, ctrl(dmatest_mode_single, true));
    dt_wait(5000);
    uint32_t s = status(t);
    assert_int_equal(s & 0xFF, dmatest_st_done | dmatest_st_error);
    assert_int_equal(s >> dmatest_st_errcode_shift, dmatest_err_dma);
    assert_int_equal(dt_mmio_r(t, dmatest_reg_xferred), 4096);
    assert_int_equal(dt_mmio_r(t, dmatest_reg_err_lo), (uint32_t)(la + 3 * 4096));
    assert_int_equal(dt_mmio_r(t, dmatest_reg_err_hi), (uint32_t)((la + 3 * 4096) >> 32));
    assert_int_equal(t->bus_faults, 1);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "DMT_DMA_ERROR"), 1);
}

static void test_data(void **state)
{
    struct dt t;
    dt_boot(&t, ini_pci, "dmt", 1);
    dt_run(&t, data_body);
    assert_int_equal(wdmsim_device_violations(t.sim), 0); /* DMA_ERROR is an event */
    dt_done(&t);
}

/* ---- GO checks ------------------------------------------------------------------------ */

static void expect_err(struct dt *t, enum dmatest_err code, const char *rule)
{
    /* a refused GO completes at once, without bus access */
    uint32_t s = status(t);
    assert_int_equal(s & 0xFF, dmatest_st_done | dmatest_st_error);
    assert_int_equal(s >> dmatest_st_errcode_shift, code);
    assert_int_equal(wdmsim_dev_report_count(t->dev, rule), 1);
    dt_mmio_w(t, dmatest_reg_status, dmatest_st_done | dmatest_st_error);
}

static void checks_body(void *arg)
{
    struct dt *t = arg;
    dt_pci_command(t, pci_cmd_memory);
    go(t, 0x1000, 512, 0, 0, ctrl(dmatest_mode_single, true));
    expect_err(t, dmatest_err_no_bus_master, "DMT_NO_BUS_MASTER");
    dt_pci_command(t, pci_cmd_memory | pci_cmd_bus_master);
    go(t, 0x1000, 512, 0, 0, 3u << dmatest_ctrl_mode_shift);
    expect_err(t, dmatest_err_bad_mode, "DMT_BAD_MODE");
    go(t, 0x1000, 0, 0, 0, ctrl(dmatest_mode_single, true));
    expect_err(t, dmatest_err_bad_length, "DMT_BAD_LENGTH");
    go(t, 0xFFFFF000, 0x2000, 0, 0, ctrl(dmatest_mode_single, true));
    expect_err(t, dmatest_err_addr_width, "DMT_ADDR_WIDTH");
    go(t, 0x1000, 0, 0, 5, ctrl(dmatest_mode_table, true));
    expect_err(t, dmatest_err_bad_table, "DMT_BAD_TABLE");
    assert_int_equal(t->bus_faults, 0);
    /* slave mode on a PCI device */
    go(t, 0, 512, 0, 0, ctrl(dmatest_mode_slave, true));
    assert_int_equal(status(t) >> dmatest_st_errcode_shift, dmatest_err_bad_mode);
}

static void test_go_checks(void **state)
{
    struct dt t;
    dt_boot(&t, ini_pci32, "dmt", 1);
    dt_run(&t, checks_body);
    assert_int_equal(wdmsim_device_violations(t.sim), 6);
    dt_done(&t);
}

/* ---- access rules, busy, reset --------------------------------------------------------- */

static void access_body(void *arg)
{
    struct dt *t = arg;
    PDMA_ADAPTER a = dt_master(t, 32, 8192);
    uint64_t la;
    dt_common(a, 4096, &la);
    dt_pci_command(t, pci_cmd_memory | pci_cmd_bus_master);
    bus_mmio_write(&sys_get()->machine, t->res.bar[0] + dmatest_reg_length, 2, 5);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "DMT_BAD_ACCESS"), 1);
    dt_mmio_w(t, dmatest_reg_id, 0);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "DMT_BAD_ACCESS"), 2);
    dt_mmio_w(t, dmatest_reg_status, 0x100);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "DMT_RESERVED"), 1);
    go(t, la, 4096, 0, 0, ctrl(dmatest_mode_single, false));
    assert_true(status(t) & dmatest_st_busy);
    dt_mmio_w(t, dmatest_reg_control, dmatest_ctrl_go);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "DMT_WRITE_WHILE_BUSY"), 1);
    dt_mmio_w(t, dmatest_reg_control, dmatest_ctrl_reset);
    assert_int_equal(status(t), 0);
    dt_wait(100000); /* the abandoned command never completes */
    assert_int_equal(status(t), 0);
    struct dmatest_stats st;
    dmatest_get_stats(t->dev, &st);
    assert_int_equal(st.bytes_from_device, 0);
}

static void test_access_rules(void **state)
{
    struct dt t;
    dt_boot(&t, ini_pci32, "dmt", 1);
    dt_run(&t, access_body);
    assert_int_equal(wdmsim_device_violations(t.sim), 4);
    dt_done(&t);
}

static void test_knobs(void **state)
{
    dt_boot_fails("[device d]\nmodel = dmatest\naddress_width = 8\n", "address_width");
    dt_boot_fails("[device d]\nmodel = dmatest_isa\nbuffer_size = 100\n", "buffer_size");
    dt_boot_fails("[device d]\nmodel = dmatest\nmax_desc = 0\n", "max_desc");
    dt_boot_fails("[device d]\nmodel = dmatest\ncolour = red\n", "colour");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity),  cmocka_unit_test(test_data),
        cmocka_unit_test(test_go_checks), cmocka_unit_test(test_access_rules),
        cmocka_unit_test(test_knobs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
