/*
 * tests/devices/test_sgdisk.c - the SGD-1 model driven as its driver
 * would: rings and tables in a common buffer, commands through SQ_TAIL,
 * CQEs with the phase bit, data through descriptors, the fetch checks in
 * the datasheet's order, CQ-full holding, FLUSH ordering, coalescing,
 * enable/disable/reset and every fatal path tested here.
 * Spec: devices/sgdisk.md 1-10; devices/README.md 2, 6, 7.
 */
#include "dev_test.h"

#include "../../devices/diskstore.h"
#include "../../devices/sgdisk.h"

enum {
    r_cap0 = 0x008,
    r_cap1 = 0x00C,
    r_cap2 = 0x010,
    r_cap3 = 0x014,
    r_ctrl = 0x020,
    r_status = 0x024,
    r_isr = 0x028,
    r_ien = 0x02C,
    r_coalesce = 0x030,
    r_sq_lo = 0x040,
    r_sq_hi = 0x044,
    r_sq_size = 0x048,
    r_cq_lo = 0x050,
    r_cq_hi = 0x054,
    r_cq_size = 0x058,
    r_sq_tail = 0x060,
    r_cq_head = 0x064,
    r_sq_head = 0x068,
    r_cq_tail = 0x06C,
    op_read = 1,
    op_write = 2,
    op_flush = 3,
    op_identify = 4,
    lat = 20000,
    en_lat = 10000,
    dis_lat = 5000,
    /* layout of the test's common buffer */
    sq_off = 0,
    cq_off = 0x400,
    tab_off = 0x1000, /* 0x100 per SQ slot */
    data_off = 0x4000,
    area = 0x20000,
};

struct sg {
    struct dt *t;
    PDMA_ADAPTER a;
    uint8_t *va;
    uint64_t la;
    uint32_t sq_size, cq_size;
    uint32_t tail, head; /* host's SQ tail and CQ head */
    bool phase;          /* expected P */
};

static uint64_t ns_for(uint64_t bytes)
{
    return (bytes * 1000000000ULL + 999999999ULL) / 1000000000ULL; /* BW 10^9 */
}

static void sg_setup(struct sg *s, struct dt *t, uint32_t sq, uint32_t cq)
{
    memset(s, 0, sizeof(*s));
    s->t = t;
    s->a = dt_master(t, 64, 1 << 20);
    s->va = dt_common(s->a, area, &s->la);
    s->sq_size = sq;
    s->cq_size = cq;
    s->phase = true;
    dt_pci_command(t, pci_cmd_memory | pci_cmd_bus_master);
}

static void sg_enable(struct sg *s)
{
    struct dt *t = s->t;
    dt_mmio_w(t, r_sq_lo, (uint32_t)(s->la + sq_off));
    dt_mmio_w(t, r_sq_hi, (uint32_t)((s->la + sq_off) >> 32));
    dt_mmio_w(t, r_sq_size, s->sq_size);
    dt_mmio_w(t, r_cq_lo, (uint32_t)(s->la + cq_off));
    dt_mmio_w(t, r_cq_hi, (uint32_t)((s->la + cq_off) >> 32));
    dt_mmio_w(t, r_cq_size, s->cq_size);
    dt_mmio_w(t, r_ien, 3);
    dt_mmio_w(t, r_ctrl, 1);
    assert_int_equal(dt_mmio_r(t, r_status) & 1, 0);
    dt_wait(en_lat);
    assert_int_equal(dt_mmio_r(t, r_status) & 3, 1);
}

/* Descriptor i of the table of SQ slot `slot`. */
static void sg_desc(struct sg *s, unsigned slot, unsigned i, uint64_t addr, uint32_t len,
                    uint32_t flags)
{
    uint8_t *e = s->va + tab_off + slot * 0x100 + i * 16;
    memcpy(e, &addr, 8);
    memcpy(e + 8, &len, 4);
    memcpy(e + 12, &flags, 4);
}

static uint64_t sg_table(const struct sg *s, unsigned slot)
{
    return s->la + tab_off + slot * 0x100;
}

/* Writes the SQE at the host's tail (no doorbell). Returns its slot. */
static unsigned sg_sqe(struct sg *s, uint8_t opc, uint16_t cid, uint32_t nsect, uint64_t lba,
                       uint64_t dtaddr, uint16_t ndesc)
{
    unsigned slot = s->tail;
    uint8_t *e = s->va + sq_off + slot * 32;
    memset(e, 0, 32);
    e[0] = opc;
    memcpy(e + 2, &cid, 2);
    memcpy(e + 4, &nsect, 4);
    memcpy(e + 8, &lba, 8);
    memcpy(e + 16, &dtaddr, 8);
    memcpy(e + 24, &ndesc, 2);
    s->tail = (s->tail + 1) % s->sq_size;
    return slot;
}

static void sg_ring(struct sg *s)
{
    dt_mmio_w(s->t, r_sq_tail, s->tail);
}

/* One contiguous data command through SQ slot's table (1 descriptor). */
static void sg_simple(struct sg *s, uint8_t opc, uint16_t cid, uint64_t lba, uint32_t nsect,
                      uint32_t data)
{
    unsigned slot = s->tail;
    sg_desc(s, slot, 0, s->la + data, nsect * 512, 1);
    sg_sqe(s, opc, cid, nsect, lba, sg_table(s, slot), 1);
}

struct cqe {
    uint16_t cid, sqhd;
    uint32_t bytes;
    uint8_t sc, detail;
    uint16_t erridx;
    bool p;
};

/* Takes the next new CQE if there is one. */
static bool sg_poll(struct sg *s, struct cqe *c)
{
    const uint8_t *e = s->va + cq_off + s->head * 16;
    uint32_t w;
    memcpy(&w, e + 12, 4);
    if ((bool)(w & 1) != s->phase)
        return false;
    memcpy(&c->cid, e, 2);
    memcpy(&c->sqhd, e + 2, 2);
    memcpy(&c->bytes, e + 4, 4);
    c->sc = e[8];
    c->detail = e[9];
    memcpy(&c->erridx, e + 10, 2);
    c->p = w & 1;
    s->head = (s->head + 1) % s->cq_size;
    if (s->head == 0)
        s->phase = !s->phase;
    return true;
}

static void sg_consume(struct sg *s)
{
    dt_mmio_w(s->t, r_cq_head, s->head);
}

static void expect_cqe(struct sg *s, uint16_t cid, uint8_t sc, uint8_t detail, uint16_t erridx,
                       uint32_t bytes)
{
    struct cqe c;
    if (!sg_poll(s, &c)) {
        struct sgdisk_rings r;
        struct sgdisk_stats st;
        sgdisk_get_rings(s->t->dev, &r);
        sgdisk_get_stats(s->t->dev, &st);
        fail_msg("no CQE for CID %u at %llu: cq_tail %u out %u held %u tr %llu cqes %llu", cid,
                 (unsigned long long)dt_now(), r.cq_tail, r.outstanding, r.held,
                 (unsigned long long)st.transactions, (unsigned long long)st.cqes);
    }
    assert_int_equal(c.cid, cid);
    assert_int_equal(c.sc, sc);
    assert_int_equal(c.detail, detail);
    assert_int_equal(c.erridx, erridx);
    assert_int_equal(c.bytes, bytes);
}

static const char *ini = "[device sgd0]\nmodel = sgdisk\n";

/* ---- capabilities ---------------------------------------------------------------- */

static void caps_body(void *arg)
{
    struct dt *t = arg;
    dt_pci_command(t, pci_cmd_memory);
    assert_int_equal(pci_config_read(t->dev, 0, 4), 0x00015744);
    assert_int_equal(pci_config_read(t->dev, 0x08, 4), 0x01800001);
    assert_int_equal(dt_mmio_r(t, 0), 0x00015744);
    assert_int_equal(dt_mmio_r(t, 4), 0x00010000);
    /* AW 32, SALIGN log2(512) = 9, COAL, MAXDESC 16 */
    assert_int_equal(dt_mmio_r(t, r_cap0), 32 | 9 << 8 | 1 << 12 | 16 << 16);
    assert_int_equal(dt_mmio_r(t, r_cap1), 8192);
    assert_int_equal(dt_mmio_r(t, r_cap2), 12 | 4 << 16);
    assert_int_equal(dt_mmio_r(t, r_cap3), 64);
    assert_int_equal(dt_mmio_r(t, 0x18), 4096);
}

static void test_sgd_caps(void **state)
{
    struct dt t;
    dt_boot(&t,
            "[device sgd0]\nmodel = sgdisk\naddress_width = 32\nseg_align = 512\n"
            "coalescing = on\nmax_descriptors = 16\nmax_segment = 8192\nboundary_log2 = 12\n"
            "max_outstanding = 4\nmax_sectors = 64\ncapacity_sectors = 4096\n",
            "sgd0", 1);
    dt_run(&t, caps_body);
    dt_done(&t);
    dt_boot_fails("[device sgd0]\nmodel = sgdisk\naddress_width = 48\n", "address_width");
    dt_boot_fails("[device sgd0]\nmodel = sgdisk\nboundary_log2 = 5\n", "boundary_log2");
    dt_boot_fails("[device sgd0]\nmodel = sgdisk\nserial = 123456789012345678901\n", "serial");
    dt_boot_fails("[device sgd0]\nmodel = sgdisk\nseg_align = 8\nmax_segment = 1004\n",
                  "max_segment");
}

/* ---- write, read, identify -------------------------------------------------------------- */

static void io_body(void *arg)
{
    struct dt *t = arg;
    struct sg s;
    sg_setup(&s, t, 8, 8);
    sg_enable(&s);
    /* WRITE 8 sectors from three scattered segments: 1024 crossing a page,
     * 2048, 1024 */
    uint8_t *src = s.va + data_off;
    dt_fill(src, 0x6000, 5);
    unsigned slot = s.tail;
    sg_desc(&s, slot, 0, s.la + data_off + 0xE00, 1024, 0);
    sg_desc(&s, slot, 1, s.la + data_off + 0x3000, 2048, 0);
    sg_desc(&s, slot, 2, s.la + data_off + 0x5000, 1024, 1);
    sg_sqe(&s, op_write, 7, 8, 40, sg_table(&s, slot), 3);
    uint64_t t0 = dt_now();
    sg_ring(&s);
    assert_int_equal(dt_mmio_r(t, r_sq_head), 1);
    assert_int_equal(dt_mmio_r(t, r_status) >> 16, 1);
    dt_until(t0 + lat + ns_for(4096) - 1);
    struct cqe c;
    assert_false(sg_poll(&s, &c));
    assert_false(dt_line(t));
    dt_until(t0 + lat + ns_for(4096));
    expect_cqe(&s, 7, 0, 0, 0xFFFF, 4096);
    assert_true(dt_line(t));
    assert_int_equal(dt_mmio_r(t, r_isr), 1);
    assert_int_equal(dt_mmio_r(t, r_status) >> 16, 0);
    uint8_t disk[4096], want[4096];
    memcpy(want, src + 0xE00, 1024);
    memcpy(want + 1024, src + 0x3000, 2048);
    memcpy(want + 3072, src + 0x5000, 1024);
    sgdisk_disk_read(t->dev, 40, 8, disk);
    assert_memory_equal(disk, want, 4096);
    assert_int_equal(sgdisk_crc32(t->dev, 40, 8), dev_crc32(0, want, 4096));
    struct sgdisk_stats st;
    sgdisk_get_stats(t->dev, &st);
    assert_int_equal(st.transactions, 4); /* 512 + 512 (page split) + 2048 + 1024 */
    sg_consume(&s);
    dt_mmio_w(t, r_isr, 1);
    assert_false(dt_line(t));
    /* READ it back into one buffer, and IDENTIFY */
    uint8_t *dst = s.va + data_off + 0x8000;
    sg_simple(&s, op_read, 8, 40, 8, data_off + 0x8000);
    sg_simple(&s, op_identify, 9, 0, 1, data_off + 0xA000);
    t0 = dt_now();
    sg_ring(&s);
    /* both ready at t0 + LAT; the engine serves READ first, then IDENTIFY */
    dt_until(t0 + lat + ns_for(4096) + ns_for(512));
    expect_cqe(&s, 8, 0, 0, 0xFFFF, 4096);
    expect_cqe(&s, 9, 0, 0, 0xFFFF, 512);
    assert_memory_equal(dst, want, 4096);
    const uint8_t *id = s.va + data_off + 0xA000;
    assert_memory_equal(id, "SGD1", 4);
    uint64_t cap;
    memcpy(&cap, id + 8, 8);
    assert_int_equal(cap, 131072);
    assert_memory_equal(id + 32, "SGD1-0000000001     ", 20);
    assert_int_equal(id + 52 < id + 512 ? id[100] : 1, 0);
    struct sgdisk_cmd_record h[3];
    assert_int_equal(sgdisk_history(t->dev, h, 3), 3);
    assert_int_equal(h[1].cid, 8);
    assert_int_equal(h[1].r, t0 + lat);
    assert_int_equal(h[1].s, t0 + lat);
    assert_int_equal(h[1].end, t0 + lat + ns_for(4096));
    assert_int_equal(h[2].s, h[1].end);
    sg_consume(&s);
    struct sgdisk_rings r;
    sgdisk_get_rings(t->dev, &r);
    assert_int_equal(r.cq_tail, 3);
    assert_int_equal(r.cq_head, 3);
    assert_int_equal(r.outstanding, 0);
}

static void test_sgd_write_read_identify(void **state)
{
    struct dt t;
    dt_boot(&t, ini, "sgd0", 1);
    dt_run(&t, io_body);
    assert_int_equal(wdmsim_device_violations(t.sim), 0);
    assert_int_equal(t.bus_faults, 0);
    dt_done(&t);
}

/* ---- fetch checks ----------------------------------------------------------------------- */

static void checks_body(void *arg)
{
    struct dt *t = arg;
    struct sg s;
    sg_setup(&s, t, 32, 32);
    sg_enable(&s);
    unsigned n;
    uint64_t bad_tab = s.la + tab_off + 8; /* misaligned */
    /* 1 invalid opcode */
    sg_sqe(&s, 0x09, 1, 1, 0, 0, 0);
    /* 2 reserved byte */
    n = sg_sqe(&s, op_read, 2, 1, 0, sg_table(&s, s.tail), 1);
    s.va[sq_off + n * 32 + 27] = 1;
    /* 3 NSECT 0; IDENTIFY NSECT 2 */
    sg_sqe(&s, op_read, 3, 0, 0, sg_table(&s, s.tail), 1);
    sg_sqe(&s, op_identify, 4, 2, 0, sg_table(&s, s.tail), 1);
    /* 4 FLUSH with an LBA; IDENTIFY with an LBA */
    sg_sqe(&s, op_flush, 5, 0, 7, 0, 0);
    sg_sqe(&s, op_identify, 6, 1, 1, sg_table(&s, s.tail), 1);
    /* 5 LBA range (exact, no wrap) */
    sg_sqe(&s, op_read, 7, 2, 131071, sg_table(&s, s.tail), 1);
    sg_sqe(&s, op_read, 8, 1, UINT64_MAX, sg_table(&s, s.tail), 1);
    /* 6 NDESC 0, > MAXDESC (8), DTADDR misaligned */
    sg_sqe(&s, op_read, 9, 1, 0, sg_table(&s, s.tail), 0);
    sg_sqe(&s, op_read, 10, 1, 0, sg_table(&s, s.tail), 9);
    sg_sqe(&s, op_read, 11, 1, 0, bad_tab, 1);
    /* 7 descriptor checks, reported at the first bad index */
    n = s.tail;
    sg_desc(&s, n, 0, s.la + data_off, 256, 0);
    sg_desc(&s, n, 1, s.la + data_off + 2, 256, 1); /* ADDR not 4-aligned */
    sg_sqe(&s, op_read, 12, 1, 0, sg_table(&s, n), 2);
    n = s.tail;
    sg_desc(&s, n, 0, s.la + data_off, 510, 1); /* LEN not a multiple of 4 */
    sg_sqe(&s, op_read, 13, 1, 0, sg_table(&s, n), 1);
    n = s.tail;
    sg_desc(&s, n, 0, s.la + data_off, 8192 + 512, 1); /* LEN > MAXSEG */
    sg_sqe(&s, op_read, 14, 17, 0, sg_table(&s, n), 1);
    n = s.tail;
    sg_desc(&s, n, 0, s.la + data_off + 0xF00, 512, 1); /* crosses 4 KiB */
    sg_sqe(&s, op_read, 15, 1, 0, sg_table(&s, n), 1);
    n = s.tail;
    sg_desc(&s, n, 0, s.la + data_off, 512, 0); /* LAST missing */
    sg_sqe(&s, op_read, 16, 1, 0, sg_table(&s, n), 1);
    n = s.tail;
    sg_desc(&s, n, 0, s.la + data_off, 512, 1);
    sg_sqe(&s, op_read, 17, 2, 0, sg_table(&s, n), 1); /* sum 512 != 1024 */
    n = s.tail;
    sg_desc(&s, n, 0, 0xFFFFFFFFFFFFF000ULL, 512, 1); /* beyond AW 32 */
    sg_sqe(&s, op_read, 18, 1, 0, sg_table(&s, n), 1);
    uint64_t t0 = dt_now();
    sg_ring(&s);
    dt_until(t0 + lat);
    expect_cqe(&s, 1, 1, 0, 0xFFFF, 0);
    expect_cqe(&s, 2, 2, 1, 0xFFFF, 0);
    expect_cqe(&s, 3, 2, 2, 0xFFFF, 0);
    expect_cqe(&s, 4, 2, 2, 0xFFFF, 0);
    expect_cqe(&s, 5, 2, 3, 0xFFFF, 0);
    expect_cqe(&s, 6, 2, 3, 0xFFFF, 0);
    expect_cqe(&s, 7, 3, 0, 0xFFFF, 0);
    expect_cqe(&s, 8, 3, 0, 0xFFFF, 0);
    expect_cqe(&s, 9, 4, 1, 0xFFFE, 0);
    expect_cqe(&s, 10, 4, 1, 0xFFFE, 0);
    expect_cqe(&s, 11, 4, 2, 0xFFFE, 0);
    expect_cqe(&s, 12, 4, 4, 1, 0);
    expect_cqe(&s, 13, 4, 5, 0, 0);
    expect_cqe(&s, 14, 4, 6, 0, 0);
    expect_cqe(&s, 15, 4, 8, 0, 0);
    expect_cqe(&s, 16, 4, 9, 0, 0);
    expect_cqe(&s, 17, 4, 10, 0xFFFF, 0);
    expect_cqe(&s, 18, 4, 7, 0, 0);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "SGD_INVALID_OPCODE"), 1);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "SGD_INVALID_FIELD"), 5);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "SGD_LBA_RANGE"), 2);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "SGD_DESC_ERROR"), 10);
    struct sgdisk_stats st;
    sgdisk_get_stats(t->dev, &st);
    assert_int_equal(st.transactions, 0);
    assert_int_equal(st.commands[0][1], 1);
    assert_int_equal(st.commands[op_read][4], 10);
}

static void test_sgd_fetch_checks(void **state)
{
    struct dt t;
    dt_boot(&t,
            "[device sgd0]\nmodel = sgdisk\naddress_width = 32\nmax_descriptors = 8\n"
            "max_segment = 8192\nboundary_log2 = 12\n",
            "sgd0", 1);
    dt_run(&t, checks_body);
    dt_done(&t);
}

/* ---- CQ full, phase, FLUSH order --------------------------------------------------------- */

static void cqfull_body(void *arg)
{
    struct dt *t = arg;
    struct sg s;
    sg_setup(&s, t, 8, 4); /* the CQ holds 3 */
    sg_enable(&s);
    for (uint16_t i = 0; i < 5; i++)
        sg_simple(&s, op_write, (uint16_t)(100 + i), i, 1, data_off + i * 0x200);
    sg_sqe(&s, op_flush, 200, 0, 0, 0, 0);
    sg_ring(&s);
    dt_wait(1000000);
    struct sgdisk_rings r;
    sgdisk_get_rings(t->dev, &r);
    assert_int_equal(r.cq_tail, 3);
    assert_int_equal(r.held, 2); /* the FLUSH waits for their CQEs, not in the queue yet */
    assert_int_equal(r.outstanding, 3);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "SGD_CQ_FULL_STALL"), 1);
    for (uint16_t i = 0; i < 3; i++)
        expect_cqe(&s, (uint16_t)(100 + i), 0, 0, 0xFFFF, 512);
    sg_consume(&s); /* frees 3 slots: the held CQEs go out at once, in order */
    expect_cqe(&s, 103, 0, 0, 0xFFFF, 512);
    assert_false(s.phase); /* the host wrapped: now expects P = 0 */
    expect_cqe(&s, 104, 0, 0, 0xFFFF, 512);
    expect_cqe(&s, 200, 0, 0, 0xFFFF, 0);
    sg_consume(&s);
    sgdisk_get_rings(t->dev, &r);
    assert_int_equal(r.outstanding, 0);
    assert_false(r.phase);
    struct sgdisk_stats st;
    sgdisk_get_stats(t->dev, &st);
    assert_int_equal(st.cq_full_stalls, 1);
    assert_int_equal(st.cqes, 6);
    assert_int_equal(st.max_outstanding, 6);
    /* a CQ_HEAD past what the device wrote is fatal 0x03 */
    dt_mmio_w(t, r_cq_head, (s.head + 1) % 4);
    assert_int_equal(dt_mmio_r(t, r_status) & 0xFF03, 0x0303);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "SGD_CQ_HEAD_INVALID"), 1);
}

static void test_sgd_cq_full_and_phase(void **state)
{
    struct dt t;
    dt_boot(&t, ini, "sgd0", 1);
    dt_run(&t, cqfull_body);
    dt_done(&t);
}

/* ---- fatal, disable, config rules --------------------------------------------------------- */

static void fatal_body(void *arg)
{
    struct dt *t = arg;
    struct sg s;
    sg_setup(&s, t, 8, 8);
    sg_enable(&s);
    dt_mmio_w(t, r_sq_size, 16); /* config while enabled */
    assert_int_equal(wdmsim_dev_report_count(t->dev, "SGD_CFG_WHILE_ENABLED"), 1);
    assert_int_equal(dt_mmio_r(t, r_sq_size), 8);
    /* SQ_TAIL beyond the ring: fatal 0x02 */
    dt_mmio_w(t, r_sq_tail, 8);
    assert_int_equal(dt_mmio_r(t, r_status) & 0xFF03, 0x0203);
    assert_int_equal(dt_mmio_r(t, r_isr), 2);
    assert_true(dt_line(t));
    dt_mmio_w(t, r_sq_tail, 1);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "SGD_DOORBELL_NOT_READY"), 1);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "SGD_FATAL"), 1);
    /* disable: RDY and CFS clear after the disable latency */
    dt_mmio_w(t, r_ctrl, 0);
    dt_mmio_w(t, r_ctrl, 1); /* while the disable is pending */
    assert_int_equal(wdmsim_dev_report_count(t->dev, "SGD_ENABLE_NOT_IDLE"), 1);
    dt_wait(dis_lat - 1);
    assert_int_equal(dt_mmio_r(t, r_status) & 3, 3);
    dt_wait(1);
    assert_int_equal(dt_mmio_r(t, r_status), 0);
    assert_int_equal(dt_mmio_r(t, r_isr), 0);
    assert_false(dt_line(t));
    /* a bad queue configuration is fatal 0x01 at the end of the enable latency */
    dt_mmio_w(t, r_sq_size, 3);
    dt_mmio_w(t, r_ctrl, 1);
    dt_wait(en_lat);
    assert_int_equal(dt_mmio_r(t, r_status) & 0xFF03, 0x0102);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "SGD_QUEUE_CONFIG"), 1);
    dt_mmio_w(t, r_ctrl, 0);
    dt_wait(dis_lat);
    /* EN = 0 during the enable latency cancels the enable */
    dt_mmio_w(t, r_sq_size, 8);
    dt_mmio_w(t, r_ctrl, 1);
    dt_wait(en_lat / 2);
    dt_mmio_w(t, r_ctrl, 0);
    dt_wait(en_lat);
    assert_int_equal(dt_mmio_r(t, r_status), 0);
    /* Bus Master off when the device must fetch: fatal 0x06 */
    s.tail = 0;
    sg_enable(&s);
    dt_pci_command(t, pci_cmd_memory);
    sg_simple(&s, op_read, 1, 0, 1, data_off);
    sg_ring(&s);
    assert_int_equal(dt_mmio_r(t, r_status) & 0xFF03, 0x0603);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "SGD_NO_BUS_MASTER"), 1);
    /* RST: everything back to reset values at once */
    dt_mmio_w(t, r_ctrl, 2 | 1);
    assert_int_equal(dt_mmio_r(t, r_status), 0);
    assert_int_equal(dt_mmio_r(t, r_ctrl), 0);
    assert_int_equal(dt_mmio_r(t, r_sq_size), 0);
    assert_false(dt_line(t));
}

static void test_sgd_fatal_disable_reset(void **state)
{
    struct dt t;
    dt_boot(&t, ini, "sgd0", 1);
    dt_run(&t, fatal_body);
    dt_done(&t);
}

/* ---- refused data transaction ------------------------------------------------------------ */

static void dma_error_body(void *arg)
{
    struct dt *t = arg;
    struct sg s;
    sg_setup(&s, t, 8, 8);
    sg_enable(&s);
    unsigned slot = s.tail;
    sg_desc(&s, slot, 0, s.la + data_off, 1024, 0);
    sg_desc(&s, slot, 1, s.la + area, 1024, 1); /* just past the common buffer */
    sg_sqe(&s, op_read, 77, 4, 0, sg_table(&s, slot), 2);
    sg_ring(&s);
    dt_wait(lat + ns_for(2048));
    expect_cqe(&s, 77, 5, 0, 1, 1024);
    struct sgdisk_dma_error e;
    sgdisk_last_dma_error(t->dev, &e);
    assert_true(e.valid);
    assert_int_equal(e.logical, s.la + area);
    assert_int_equal(e.cid, 77);
    assert_int_equal(e.index, 1);
    assert_true(e.to_host);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "SGD_DMA_ERROR"), 1);
    /* the device is still usable */
    sg_simple(&s, op_read, 78, 0, 1, data_off);
    sg_ring(&s);
    dt_wait(lat + ns_for(512));
    expect_cqe(&s, 78, 0, 0, 0xFFFF, 512);
}

static void test_sgd_dma_error(void **state)
{
    struct dt t;
    dt_boot(&t, ini, "sgd0", 1);
    dt_run(&t, dma_error_body);
    assert_int_equal(t.bus_faults, 1);
    dt_done(&t);
}

/* ---- coalescing --------------------------------------------------------------------------- */

static void coalesce_body(void *arg)
{
    struct dt *t = arg;
    struct sg s;
    sg_setup(&s, t, 8, 8);
    dt_mmio_w(t, r_coalesce, 3 | 50u << 16); /* THRESH 3, TIME 50 us */
    sg_enable(&s);
    for (uint16_t i = 0; i < 2; i++)
        sg_simple(&s, op_read, i, 0, 1, data_off);
    uint64_t t0 = dt_now();
    sg_ring(&s);
    dt_until(t0 + lat + 2 * ns_for(512));
    assert_int_equal(dt_mmio_r(t, r_isr), 0); /* 2 < THRESH */
    /* the timer started at the first CQE */
    dt_until(t0 + lat + ns_for(512) + 50000 - 1);
    assert_int_equal(dt_mmio_r(t, r_isr), 0);
    dt_until(t0 + lat + ns_for(512) + 50000);
    assert_int_equal(dt_mmio_r(t, r_isr), 1);
    dt_mmio_w(t, r_isr, 1);
    for (uint16_t i = 0; i < 3; i++)
        sg_simple(&s, op_read, (uint16_t)(10 + i), 0, 1, data_off);
    t0 = dt_now();
    sg_ring(&s);
    dt_until(t0 + lat + 3 * ns_for(512));
    assert_int_equal(dt_mmio_r(t, r_isr), 1); /* THRESH reached */
    struct sgdisk_stats st;
    sgdisk_get_stats(t->dev, &st);
    assert_int_equal(st.irq_edges, 2);
}

static void test_sgd_coalescing(void **state)
{
    struct dt t;
    dt_boot(&t, "[device sgd0]\nmodel = sgdisk\ncoalescing = on\n", "sgd0", 1);
    dt_run(&t, coalesce_body);
    dt_done(&t);
}

/* ---- injected media error, DUP_CID ----------------------------------------------------------- */

static void media_body(void *arg)
{
    struct dt *t = arg;
    struct sg s;
    sg_setup(&s, t, 8, 8);
    sg_enable(&s);
    sg_simple(&s, op_write, 5, 8, 4, data_off); /* touches 10 */
    sg_simple(&s, op_read, 5, 0, 1, data_off);  /* same CID while outstanding */
    uint64_t t0 = dt_now();
    sg_ring(&s);
    dt_until(t0 + lat + ns_for(2048) + ns_for(512));
    expect_cqe(&s, 5, 6, 0, 0xFFFF, 0);
    expect_cqe(&s, 5, 0, 0, 0xFFFF, 512);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "SGD_INJECTED"), 1);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "SGD_DUP_CID"), 1);
}

static void test_sgd_media_error_dup_cid(void **state)
{
    struct dt t;
    dt_boot(&t, "[device sgd0]\nmodel = sgdisk\ninject_media_error_lba = 10\n", "sgd0", 1);
    dt_run(&t, media_body);
    dt_done(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgd_caps),
        cmocka_unit_test(test_sgd_write_read_identify),
        cmocka_unit_test(test_sgd_fetch_checks),
        cmocka_unit_test(test_sgd_cq_full_and_phase),
        cmocka_unit_test(test_sgd_fatal_disable_reset),
        cmocka_unit_test(test_sgd_dma_error),
        cmocka_unit_test(test_sgd_coalescing),
        cmocka_unit_test(test_sgd_media_error_dup_cid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
