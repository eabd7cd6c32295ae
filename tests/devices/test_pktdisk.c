/*
 * tests/devices/test_pktdisk.c - the PKD-1 model driven as its driver
 * would: identity, a write and a read through a common buffer with the
 * datasheet's timing and transaction split, every GO check in order,
 * BUSY rules, reset, a refused transaction, injected media errors,
 * register access rules and the knob checks.
 * Spec: devices/pktdisk.md 1-7; devices/README.md 2, 6, 7.
 */
#include "dev_test.h"

#include "../../devices/diskstore.h"
#include "../../devices/pktdisk.h"

enum {
    r_id = 0x00,
    r_version = 0x04,
    r_maxxfer = 0x08,
    r_align = 0x0C,
    r_cap_lo = 0x10,
    r_cap_hi = 0x14,
    r_sector_lo = 0x18,
    r_sector_hi = 0x1C,
    r_count = 0x20,
    r_dma_addr = 0x24,
    r_control = 0x28,
    r_status = 0x2C,
    r_xferred = 0x30,
    r_err_addr = 0x34,
    r_int_status = 0x38,
    r_int_enable = 0x3C,
    go = 1,
    dir_write = 2,
    st_busy = 1,
    st_done = 2,
    st_error = 4,
    lat = 20000, /* cmd_latency_ns default */
};
#define BW 100000000ULL /* bandwidth_Bps default */

static const char *ini = "[device pkd0]\nmodel = pktdisk\n";

static uint64_t ns_for(uint64_t bytes)
{
    return (bytes * 1000000000ULL + BW - 1) / BW;
}

static void command(struct dt *t, uint64_t sector, uint32_t count, uint32_t addr, uint32_t ctl)
{
    dt_mmio_w(t, r_sector_lo, (uint32_t)sector);
    dt_mmio_w(t, r_sector_hi, (uint32_t)(sector >> 32));
    dt_mmio_w(t, r_count, count);
    dt_mmio_w(t, r_dma_addr, addr);
    dt_mmio_w(t, r_control, ctl);
}

/* ---- identity ------------------------------------------------------------- */

static void ids_body(void *arg)
{
    struct dt *t = arg;
    assert_int_equal(pci_config_read(t->dev, 0, 4), 0x00025744);
    assert_int_equal(pci_config_read(t->dev, 0x08, 4), 0x01800001);
    assert_int_equal(pci_config_read(t->dev, 0x2C, 4), 0x00025744);
    dt_pci_command(t, pci_cmd_memory);
    assert_int_equal(dt_mmio_r(t, r_id), 0x00025744);
    assert_int_equal(dt_mmio_r(t, r_version), 0x00010000);
    assert_int_equal(dt_mmio_r(t, r_maxxfer), 65536);
    assert_int_equal(dt_mmio_r(t, r_align), 1);
    assert_int_equal(dt_mmio_r(t, r_cap_lo), 131072);
    assert_int_equal(dt_mmio_r(t, r_cap_hi), 0);
    assert_int_equal(dt_mmio_r(t, r_status), 0);
}

static void test_pkd_identity(void **state)
{
    struct dt t;
    dt_boot(&t, ini, "pkd0", 1);
    dt_run(&t, ids_body);
    assert_int_equal(wdmsim_device_violations(t.sim), 0);
    dt_done(&t);
}

/* ---- write then read ---------------------------------------------------------- */

static void roundtrip_body(void *arg)
{
    struct dt *t = arg;
    PDMA_ADAPTER a = dt_master(t, 32, 65536);
    uint64_t la;
    uint8_t *buf = dt_common(a, 5 * 4096, &la);
    dt_pci_command(t, pci_cmd_memory | pci_cmd_bus_master);
    dt_mmio_w(t, r_int_enable, 1);
    /* 3 sectors starting 512 bytes into a page: transactions 3584 + ... */
    uint32_t off = 512, count = 9 * 512;
    dt_fill(buf + off, count, 3);
    uint64_t t0 = dt_now();
    command(t, 100, count, (uint32_t)(la + off), go | dir_write);
    assert_int_equal(dt_mmio_r(t, r_status), st_busy);
    /* first transaction [0, 3584) at t0 + LAT + ceil(3584e9/BW) */
    dt_until(t0 + lat + ns_for(3584) - 1);
    struct pktdisk_stats st;
    pktdisk_get_stats(t->dev, &st);
    assert_int_equal(st.transactions, 0);
    dt_until(t0 + lat + ns_for(3584));
    pktdisk_get_stats(t->dev, &st);
    assert_int_equal(st.transactions, 1);
    assert_false(dt_line(t));
    dt_until(t0 + lat + ns_for(count) - 1);
    assert_int_equal(dt_mmio_r(t, r_status) & st_busy, st_busy);
    dt_until(t0 + lat + ns_for(count));
    assert_int_equal(dt_mmio_r(t, r_status), st_done);
    assert_int_equal(dt_mmio_r(t, r_xferred), count);
    assert_int_equal(dt_mmio_r(t, r_int_status), 1);
    assert_true(dt_line(t));
    pktdisk_get_stats(t->dev, &st);
    assert_int_equal(st.transactions, 2);
    assert_int_equal(st.bytes_to_disk, count);
    assert_int_equal(st.commands[pktdisk_dir_write][0], 1);
    uint8_t disk[9 * 512];
    assert_int_equal(pktdisk_disk_read(t->dev, 100, 9, disk), 0);
    assert_memory_equal(disk, buf + off, count);
    assert_int_equal(pktdisk_crc32(t->dev, 100, 9), dev_crc32(0, buf + off, count));
    /* acknowledge: the line drops */
    dt_mmio_w(t, r_int_status, 1);
    assert_false(dt_line(t));
    /* read it back elsewhere (a new GO while DONE is set is legal) */
    memset(buf, 0, 5 * 4096);
    t0 = dt_now();
    command(t, 100, count, (uint32_t)(la + 4096), go);
    dt_until(t0 + lat + ns_for(count));
    assert_int_equal(dt_mmio_r(t, r_status), st_done);
    assert_memory_equal(buf + 4096, disk, count);
    assert_true(dt_line(t));
    struct pktdisk_cmd_record h[4];
    assert_int_equal(pktdisk_history(t->dev, h, 4), 2);
    assert_int_equal(h[1].sector, 100);
    assert_int_equal(h[1].dir, pktdisk_dir_read);
    assert_int_equal(h[1].go_time, t0);
    assert_int_equal(h[1].done_time, t0 + lat + ns_for(count));
    assert_int_equal(h[1].xferred, count);
    pktdisk_get_stats(t->dev, &st);
    assert_int_equal(st.irq_edges, 2);
    assert_int_equal(st.bytes_to_host, count);
}

static void test_pkd_write_read(void **state)
{
    struct dt t;
    dt_boot(&t, ini, "pkd0", 1);
    dt_run(&t, roundtrip_body);
    assert_int_equal(wdmsim_device_violations(t.sim), 0);
    assert_int_equal(t.bus_faults, 0);
    dt_done(&t);
}

/* ---- GO checks ----------------------------------------------------------------- */

struct check_case {
    uint16_t command;
    uint64_t sector;
    uint32_t count, addr;
    uint8_t errcode;
    const char *rule;
};

static void checks_body(void *arg)
{
    struct dt *t = arg;
    PDMA_ADAPTER a = dt_master(t, 32, 65536);
    uint64_t la;
    dt_common(a, 4096, &la);
    uint16_t on = pci_cmd_memory | pci_cmd_bus_master;
    const struct check_case cases[] = {
        {pci_cmd_memory, 0, 512, (uint32_t)la, 0x01, "PKD_NO_BUS_MASTER"},
        /* several failures: the first in order decides */
        {pci_cmd_memory, 1ULL << 40, 0, 3, 0x01, "PKD_NO_BUS_MASTER"},
        {on, 0, 0, (uint32_t)la, 0x02, "PKD_BAD_COUNT"},
        {on, 0, 100, (uint32_t)la, 0x02, "PKD_BAD_COUNT"},
        {on, 0, 65536 + 512, (uint32_t)la, 0x02, "PKD_BAD_COUNT"},
        {on, 131072 - 1, 1024, (uint32_t)la, 0x03, "PKD_LBA_RANGE"},
        {on, 1ULL << 63, 512, 3, 0x03, "PKD_LBA_RANGE"},
        {on, 0, 512, (uint32_t)la + 4, 0x04, "PKD_BAD_ALIGN"},
        {on, 0, 8192, 0xFFFFF000u, 0x05, "PKD_ADDR_OVERFLOW"},
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct check_case *c = &cases[i];
        unsigned before = wdmsim_dev_report_count(t->dev, c->rule);
        dt_pci_command(t, c->command);
        uint64_t t0 = dt_now();
        command(t, c->sector, c->count, c->addr, go);
        assert_int_equal(dt_mmio_r(t, r_status), st_busy | st_error | c->errcode << 8);
        dt_until(t0 + lat);
        assert_int_equal(dt_mmio_r(t, r_status), st_done | st_error | c->errcode << 8);
        assert_int_equal(dt_mmio_r(t, r_xferred), 0);
        assert_int_equal(wdmsim_dev_report_count(t->dev, c->rule), before + 1);
        dt_mmio_w(t, r_int_status, 1);
    }
    struct pktdisk_stats st;
    pktdisk_get_stats(t->dev, &st);
    assert_int_equal(st.transactions, 0);
    assert_int_equal(st.commands[pktdisk_dir_read][2], 3);
}

static void test_pkd_go_checks(void **state)
{
    struct dt t;
    dt_boot(&t, "[device pkd0]\nmodel = pktdisk\ndma_align = 512\n", "pkd0", 1);
    dt_run(&t, checks_body);
    dt_done(&t);
}

/* ---- BUSY, reset -------------------------------------------------------------------- */

static void busy_body(void *arg)
{
    struct dt *t = arg;
    PDMA_ADAPTER a = dt_master(t, 32, 65536);
    uint64_t la;
    uint8_t *buf = dt_common(a, 4 * 4096, &la);
    dt_fill(buf, 4 * 4096, 9);
    dt_pci_command(t, pci_cmd_memory | pci_cmd_bus_master);
    dt_mmio_w(t, r_int_enable, 1);
    uint64_t t0 = dt_now();
    command(t, 8, 16384, (uint32_t)la, go | dir_write);
    dt_mmio_w(t, r_count, 512); /* ignored while BUSY */
    dt_mmio_w(t, r_control, go);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "PKD_WRITE_WHILE_BUSY"), 1);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "PKD_GO_WHILE_BUSY"), 1);
    assert_int_equal(dt_mmio_r(t, r_count), 16384);
    /* let two of four transactions happen, then reset */
    dt_until(t0 + lat + ns_for(8192));
    dt_mmio_w(t, r_control, 0x80000000u);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "PKD_RESET_WHILE_BUSY"), 1);
    assert_int_equal(dt_mmio_r(t, r_status), 0);
    assert_int_equal(dt_mmio_r(t, r_count), 0);
    assert_int_equal(dt_mmio_r(t, r_int_enable), 0);
    assert_false(dt_line(t));
    dt_wait(10000000);
    assert_int_equal(dt_mmio_r(t, r_int_status), 0);
    struct pktdisk_stats st;
    pktdisk_get_stats(t->dev, &st);
    assert_int_equal(st.transactions, 2);
    assert_int_equal(st.go_while_busy, 1);
    /* disk contents survive the reset: the first 8 KiB were written */
    uint8_t disk[8192];
    pktdisk_disk_read(t->dev, 8, 16, disk);
    assert_memory_equal(disk, buf, 8192);
    struct pktdisk_cmd_record h;
    pktdisk_history(t->dev, &h, 1);
    assert_true(h.reset);
}

static void test_pkd_busy_and_reset(void **state)
{
    struct dt t;
    dt_boot(&t, ini, "pkd0", 1);
    dt_run(&t, busy_body);
    dt_done(&t);
}

/* ---- refused transaction ---------------------------------------------------------------- */

static void dma_error_body(void *arg)
{
    struct dt *t = arg;
    PDMA_ADAPTER a = dt_master(t, 32, 65536);
    uint64_t la;
    dt_common(a, 4096, &la); /* one page: the next is not mapped */
    dt_pci_command(t, pci_cmd_memory | pci_cmd_bus_master);
    uint64_t t0 = dt_now();
    command(t, 0, 8192, (uint32_t)la, go);
    dt_until(t0 + lat + ns_for(8192));
    assert_int_equal(dt_mmio_r(t, r_status), st_done | st_error | 0x06 << 8);
    assert_int_equal(dt_mmio_r(t, r_xferred), 4096);
    assert_int_equal(dt_mmio_r(t, r_err_addr), (uint32_t)la + 4096);
    struct pktdisk_dma_error e;
    pktdisk_last_dma_error(t->dev, &e);
    assert_true(e.valid);
    assert_int_equal(e.logical, (uint32_t)la + 4096);
    assert_int_equal(e.offset, 4096);
    assert_int_equal(e.time, t0 + lat + ns_for(8192));
    assert_int_equal(wdmsim_dev_report_count(t->dev, "PKD_DMA_ERROR"), 1);
}

static void test_pkd_dma_error(void **state)
{
    struct dt t;
    dt_boot(&t, ini, "pkd0", 1);
    dt_run(&t, dma_error_body);
    assert_int_equal(t.bus_faults, 1);
    dt_done(&t);
}

/* ---- injected media error ----------------------------------------------------------------- */

static void media_body(void *arg)
{
    struct dt *t = arg;
    PDMA_ADAPTER a = dt_master(t, 32, 65536);
    uint64_t la;
    uint8_t *buf = dt_common(a, 8192, &la);
    memset(buf, 0x5A, 8192);
    dt_pci_command(t, pci_cmd_memory | pci_cmd_bus_master);
    uint64_t t0 = dt_now();
    command(t, 5, 8192, (uint32_t)la, go); /* sectors 5-20 touch 10 */
    dt_until(t0 + lat + ns_for(8192) - 1);
    assert_int_equal(dt_mmio_r(t, r_status), st_busy);
    dt_until(t0 + lat + ns_for(8192));
    assert_int_equal(dt_mmio_r(t, r_status), st_done | st_error | 0x07 << 8);
    assert_int_equal(dt_mmio_r(t, r_xferred), 0);
    assert_int_equal(buf[0], 0x5A); /* nothing moved */
    assert_int_equal(wdmsim_dev_report_count(t->dev, "PKD_INJECTED"), 1);
    t0 = dt_now();
    command(t, 11, 512, (uint32_t)la, go); /* does not touch 10 */
    dt_until(t0 + lat + ns_for(512));
    assert_int_equal(dt_mmio_r(t, r_status), st_done);
}

static void test_pkd_injected_media_error(void **state)
{
    struct dt t;
    dt_boot(&t, "[device pkd0]\nmodel = pktdisk\ninject_media_error_lba = 10, 99\n", "pkd0", 1);
    dt_run(&t, media_body);
    dt_done(&t);
}

/* ---- access rules ------------------------------------------------------------------------ */

static void access_body(void *arg)
{
    struct dt *t = arg;
    struct sys *sys = dt_sys();
    uint64_t v = 0;
    /* Memory Space off: all ones, DECODE_DISABLED */
    bus_mmio_read(&sys->machine, t->res.bar[0], 4, &v);
    assert_int_equal((uint32_t)v, 0xFFFFFFFFu);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "PKD_DECODE_DISABLED"), 1);
    dt_pci_command(t, pci_cmd_memory);
    bus_mmio_read(&sys->machine, t->res.bar[0] + r_id, 2, &v);
    assert_int_equal(v, 0xFFFF);
    bus_mmio_read(&sys->machine, t->res.bar[0] + 2, 4, &v);
    assert_int_equal(v, 0xFFFFFFFFu);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "PKD_BAD_ACCESS"), 2);
    assert_int_equal(dt_mmio_r(t, 0x100), 0); /* unlisted: 0, not reported */
    assert_int_equal(wdmsim_dev_report_count(t->dev, "PKD_BAD_ACCESS"), 2);
    dt_mmio_w(t, 0x100, 1);
    dt_mmio_w(t, r_id, 1);
    dt_mmio_w(t, r_status, 1);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "PKD_BAD_ACCESS"), 5);
    assert_int_equal(dt_mmio_r(t, r_id), 0x00025744);
    dt_mmio_w(t, r_int_enable, 0xF1);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "PKD_RESERVED"), 1);
    assert_int_equal(dt_mmio_r(t, r_int_enable), 1);
    dt_mmio_w(t, r_control, 0x20 | dir_write); /* reserved bit 5; DIR stored */
    assert_int_equal(wdmsim_dev_report_count(t->dev, "PKD_RESERVED"), 2);
    assert_int_equal(dt_mmio_r(t, r_control), dir_write);
    assert_int_equal(dt_mmio_r(t, r_status), 0); /* no GO */
    pktdisk_reg(t->dev, r_status);               /* the hook has no side effect */
    assert_int_equal(pktdisk_reg(t->dev, r_maxxfer), 65536);
}

static void test_pkd_access_rules(void **state)
{
    struct dt t;
    dt_boot(&t, ini, "pkd0", 1);
    dt_run(&t, access_body);
    dt_done(&t);
}

/* ---- knobs -------------------------------------------------------------------------------- */

static void test_pkd_knobs(void **state)
{
    dt_boot_fails("[device pkd0]\nmodel = pktdisk\nmax_transfer = 1000\n", "max_transfer");
    dt_boot_fails("[device pkd0]\nmodel = pktdisk\ndma_align = 3\n", "dma_align");
    dt_boot_fails("[device pkd0]\nmodel = pktdisk\ncapacity_sectors = 0\n", "capacity_sectors");
    dt_boot_fails("[device pkd0]\nmodel = pktdisk\ninject_media_error_lba = x\n",
                  "inject_media_error_lba");
    dt_boot_fails("[device pkd0]\nmodel = pktdisk\nimage = /nonexistent/disk.img\n", "image");
    /* an image preloads the disk; the CRC hook sees it */
    char img[] = "/tmp/wdmsim-devtest-img-XXXXXX";
    int fd = mkstemp(img);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "123456789", 9), 9);
    close(fd);
    char text[200];
    snprintf(text, sizeof(text),
             "[device pkd0]\nmodel = pktdisk\ncapacity_sectors = 4\nimage = %s\n", img);
    struct dt t;
    dt_boot(&t, text, "pkd0", 1);
    uint8_t s0[512];
    assert_int_equal(pktdisk_disk_read(t.dev, 0, 1, s0), 0);
    assert_memory_equal(s0, "123456789", 9);
    assert_int_equal(s0[9], 0);
    assert_int_equal(dev_crc32(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(pktdisk_crc32(t.dev, 0, 1), dev_crc32(0, s0, 512));
    assert_int_equal(pktdisk_disk_read(t.dev, 3, 2, s0), -1);
    dt_done(&t);
    unlink(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pkd_identity),     cmocka_unit_test(test_pkd_write_read),
        cmocka_unit_test(test_pkd_go_checks),    cmocka_unit_test(test_pkd_busy_and_reset),
        cmocka_unit_test(test_pkd_dma_error),    cmocka_unit_test(test_pkd_injected_media_error),
        cmocka_unit_test(test_pkd_access_rules), cmocka_unit_test(test_pkd_knobs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
