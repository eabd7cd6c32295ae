/*
 * tests/devices/test_isastream.c - the IST-1 model with the 8237 and the
 * HAL's system DMA as its driver uses them: the stream and CRC check
 * values, the port map and DATA latch, capture and playback through an
 * auto-initialize common buffer, 16-bit channel 5, start refusals, overrun
 * on a masked channel, terminal-count stop, interrupt edges on acknowledge.
 * Spec: devices/isastream.md 1-9; devices/README.md 3, 6.
 */
#include "dev_test.h"

#include "../../devices/diskstore.h"
#include "../../devices/isastream.h"

enum {
    p_id = 0x0,
    p_rev = 0x1,
    p_ctrl = 0x2,
    p_status = 0x3,
    p_ien = 0x4,
    p_isr = 0x5,
    p_index = 0x6,
    p_data = 0x8,
    run = 1,
    dir_play = 2,
    w16 = 4,
    tcstop = 8,
    i_block = 1,
    i_tc = 2,
    i_xrun = 4,
    ix_rate = 0,
    ix_block = 1,
    ix_seed = 2,
    ix_xferred = 3,
    ix_streampos = 4,
    ix_ovrcnt = 5,
    ix_crc = 7,
};

static const char *ini1 = "[device ist0]\nmodel = isastream\n";
static const char *ini5 = "[device ist0]\nmodel = isastream\ndma = 5\nport = 0x240\nirq = 10\n";

static void set_ix(struct dt *t, uint8_t ix, uint32_t v)
{
    dt_port_w(t, p_index, 1, ix);
    dt_port_w(t, p_data, 4, v);
}

static uint32_t get_ix(struct dt *t, uint8_t ix)
{
    dt_port_w(t, p_index, 1, ix);
    return dt_port_r(t, p_data, 4);
}

/* ---- the stream ------------------------------------------------------------------ */

static void test_ist_stream_vectors(void **state)
{
    static const uint8_t s0[8] = {0x00, 0xC0, 0x81, 0xDD, 0xD1, 0x3E, 0xBB, 0xE6};
    static const uint8_t s1[8] = {0x96, 0x73, 0x28, 0x32, 0x2F, 0x14, 0xA4, 0xB8};
    for (unsigned i = 0; i < 8; i++) {
        assert_int_equal(isastream_stream_byte(i, 0), s0[i]);
        assert_int_equal(isastream_stream_byte(i, 0x12345678), s1[i]);
    }
    assert_int_equal(isastream_stream_crc(0, 0, 4096), 0x80D986F2u);
    assert_int_equal(dev_crc32(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(dev_crc32(0, "", 0), 0);
}

/* ---- registers ------------------------------------------------------------------- */

static void regs_body(void *arg)
{
    struct dt *t = arg;
    assert_int_equal(dt_port_r(t, p_id, 1), 0x49);
    assert_int_equal(dt_port_r(t, p_rev, 1), 0x01);
    assert_int_equal(dt_port_r(t, p_status, 1), 0x20);
    assert_int_equal(dt_port_r(t, p_id, 2), 0x0149); /* 16-bit: ascending ports */
    assert_int_equal(get_ix(t, ix_rate), 8000);
    assert_int_equal(get_ix(t, 9), 16); /* FIFODEPTH */
    /* byte-wise latch: bytes 0-2 wait, byte 3 stores */
    dt_port_w(t, p_index, 1, ix_seed);
    dt_port_w(t, p_data, 1, 0x78);
    dt_port_w(t, p_data + 1, 1, 0x56);
    dt_port_w(t, p_data + 2, 1, 0x34);
    assert_int_equal(isastream_indirect(t->dev, ix_seed), 0);
    dt_port_w(t, p_data + 3, 1, 0x12);
    assert_int_equal(isastream_indirect(t->dev, ix_seed), 0x12345678);
    assert_int_equal(dt_port_r(t, p_data, 2), 0x5678);
    assert_int_equal(isastream_reg(t->dev, p_data + 3), 0x12);
    /* bad index, read-only index, reserved bits, bad widths, reserved ports */
    set_ix(t, 0x20, 5);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "IST_BAD_INDEX"), 1);
    assert_int_equal(get_ix(t, 0x20), 0);
    set_ix(t, ix_xferred, 5);
    dt_port_w(t, p_id, 1, 1);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "IST_BAD_ACCESS"), 2);
    assert_int_equal(dt_port_r(t, p_rev, 2), 0xFFFF); /* odd port */
    assert_int_equal(dt_port_r(t, p_ctrl, 4), 0xFFFFFFFFu);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "IST_BAD_ACCESS"), 4);
    assert_int_equal(dt_port_r(t, 0xC, 1), 0);
    dt_port_w(t, p_ien, 1, 0x0F);
    dt_port_w(t, p_ctrl, 1, 0x10);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "IST_RESERVED"), 2);
    assert_int_equal(dt_port_r(t, p_ien, 1), 0x07);
}

static void test_ist_registers(void **state)
{
    struct dt t;
    dt_boot(&t, ini1, "ist0", 1);
    dt_run(&t, regs_body);
    dt_done(&t);
}

/* ---- capture into an auto-initialize common buffer --------------------------------- */

struct ctl {
    PDMA_ADAPTER a;
    PMDL mdl;
    ULONG len;
    BOOLEAN write;
    PVOID base;
    unsigned calls;
};

static DRIVER_CONTROL control;
static IO_ALLOCATION_ACTION NTAPI control(PDEVICE_OBJECT dev, PIRP irp, PVOID base, PVOID ctx)
{
    struct ctl *c = ctx;
    c->base = base;
    c->calls++;
    ULONG l = c->len;
    c->a->DmaOperations->MapTransfer(c->a, c->mdl, base, MmGetMdlVirtualAddress(c->mdl), &l,
                                     c->write);
    return KeepObject;
}

/* Adapter, common buffer and a programmed channel, as isastream.md 6. */
static uint8_t *program(struct dt *t, unsigned channel, ULONG S, bool autoinit, bool play,
                        struct ctl *c, const uint8_t *fill)
{
    DEVICE_DESCRIPTION d;
    memset(&d, 0, sizeof(d));
    d.Version = DEVICE_DESCRIPTION_VERSION2;
    d.InterfaceType = Isa;
    d.DmaChannel = channel;
    d.DmaWidth = channel < 4 ? Width8Bits : Width16Bits;
    d.AutoInitialize = autoinit;
    d.MaximumLength = S;
    ULONG n = 0;
    memset(c, 0, sizeof(*c));
    c->a = IoGetDmaAdapter(NULL, &d, &n);
    assert_non_null(c->a);
    PHYSICAL_ADDRESS la;
    uint8_t *va = c->a->DmaOperations->AllocateCommonBuffer(c->a, S, &la, FALSE);
    assert_non_null(va);
    if (fill)
        memcpy(va, fill, S);
    else
        memset(va, 0xEE, S);
    c->mdl = IoAllocateMdl(va, S, FALSE, FALSE, NULL);
    MmBuildMdlForNonPagedPool(c->mdl);
    c->len = S;
    c->write = play;
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    assert_int_equal(c->a->DmaOperations->AllocateAdapterChannel(c->a, NULL, 1, control, c), 0);
    KeLowerIrql(old);
    assert_int_equal(c->calls, 1);
    return va;
}

static void capture_body(void *arg)
{
    struct dt *t = arg;
    const ULONG S = 256;
    struct ctl c;
    uint8_t *va = program(t, 1, S, true, false, &c, NULL);
    set_ix(t, ix_seed, 0x12345678);
    set_ix(t, ix_rate, 100000); /* one tick every 10 us */
    set_ix(t, ix_block, S / 2);
    dt_port_w(t, p_ien, 1, i_block | i_tc);
    uint64_t t0 = dt_now();
    dt_port_w(t, p_ctrl, 1, run);
    assert_int_equal(dt_port_r(t, p_status, 1) & 1, 1);
    /* 100 ticks: 100 bytes captured and moved at once (the FIFO never fills) */
    dt_until(t0 + 100 * 10000);
    assert_int_equal(get_ix(t, ix_streampos), 100);
    assert_int_equal(get_ix(t, ix_xferred), 100);
    assert_int_equal(get_ix(t, ix_ovrcnt), 0);
    for (unsigned i = 0; i < 100; i++)
        assert_int_equal(va[i], isastream_stream_byte(i, 0x12345678));
    assert_int_equal(va[100], 0xEE);
    assert_int_equal(c.a->DmaOperations->ReadDmaCounter(c.a), S - 100);
    assert_false(dt_line(t));
    /* byte 128: BLOCK */
    dt_until(t0 + 128 * 10000);
    assert_int_equal(dt_port_r(t, p_isr, 1), i_block);
    assert_true(dt_line(t));
    dt_port_w(t, p_isr, 1, i_block);
    assert_false(dt_line(t));
    /* byte 256: TC and BLOCK; auto-initialize wraps to the start */
    dt_until(t0 + 300 * 10000);
    assert_int_equal(dt_port_r(t, p_isr, 1), i_block | i_tc);
    assert_int_equal(get_ix(t, ix_xferred), 300);
    for (unsigned i = 0; i < 44; i++)
        assert_int_equal(va[i], isastream_stream_byte(256 + i, 0x12345678));
    assert_int_equal(get_ix(t, ix_crc), isastream_stream_crc(0x12345678, 0, 300));
    assert_int_equal(c.a->DmaOperations->ReadDmaCounter(c.a), S - 44);
    struct isastream_stats st;
    isastream_get_stats(t->dev, &st);
    assert_int_equal(st.dma_cycles, 300);
    assert_int_equal(st.tc_cycles, 1);
    assert_int_equal(st.irq_edges, 2);
    struct isastream_edge e[2];
    assert_int_equal(isastream_edges(t->dev, e, 2), 2);
    assert_int_equal(e[0].xferred, 128);
    assert_int_equal(e[1].xferred, 256);
    assert_int_equal(e[1].streampos, 256);
    /* stop */
    dt_port_w(t, p_ctrl, 1, 0);
    assert_int_equal(dt_port_r(t, p_status, 1) & 3, 0);
    struct isastream_run r;
    assert_int_equal(isastream_runs(t->dev, &r, 1), 1);
    assert_int_equal(r.xferred, 300);
    assert_true(r.stop_time >= t0 + 300 * 10000); /* ReadDmaCounter costs a scheduling point */
    c.a->DmaOperations->FlushAdapterBuffers(c.a, c.mdl, c.base, MmGetMdlVirtualAddress(c.mdl), S,
                                            FALSE);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    c.a->DmaOperations->FreeAdapterChannel(c.a);
    KeLowerIrql(old);
}

static void test_ist_capture_autoinit(void **state)
{
    struct dt t;
    dt_boot(&t, ini1, "ist0", 1);
    dt_run(&t, capture_body);
    assert_int_equal(wdmsim_device_violations(t.sim), 0);
    dt_done(&t);
}

/* ---- playback on 16-bit channel 5 ---------------------------------------------------- */

static void playback_body(void *arg)
{
    struct dt *t = arg;
    const ULONG S = 512;
    uint8_t pattern[512];
    dt_fill(pattern, S, 4);
    struct ctl c;
    program(t, 5, S, true, true, &c, pattern);
    assert_int_equal(dt_port_r(t, p_status, 1), 0x30);
    set_ix(t, ix_rate, 1000000);
    set_ix(t, ix_block, 0);
    uint64_t t0 = dt_now();
    dt_port_w(t, p_ctrl, 1, run | dir_play | w16);
    /* DREQ at t0: the FIFO (16) fills at once */
    assert_int_equal(get_ix(t, ix_xferred), 16);
    dt_until(t0 + 600 * 1000);
    /* 600 bytes played; the FIFO refilled each time two bytes left */
    uint32_t x = get_ix(t, ix_xferred);
    assert_int_equal(x, 600 + 16);
    uint8_t moved[616];
    for (unsigned i = 0; i < 616; i++)
        moved[i] = pattern[i % S];
    assert_int_equal(get_ix(t, ix_crc), dev_crc32(0, moved, 616));
    assert_int_equal(isastream_recorded(t->dev, moved, 0), 616);
    uint8_t rec[616];
    isastream_recorded(t->dev, rec, sizeof(rec));
    assert_memory_equal(rec, moved, 616);
    assert_int_equal(get_ix(t, 6), 0); /* UNRCNT */
    dt_port_w(t, p_ctrl, 1, 0);
}

static void test_ist_playback_16bit(void **state)
{
    struct dt t;
    char text[160];
    snprintf(text, sizeof(text), "%srecord = on\n", ini5);
    dt_boot(&t, text, "ist0", 1);
    dt_run(&t, playback_body);
    assert_int_equal(wdmsim_device_violations(t.sim), 0);
    dt_done(&t);
}

/* ---- start refusals, overrun on an unprogrammed channel --------------------------------- */

static void refuse_body(void *arg)
{
    struct dt *t = arg;
    dt_port_w(t, p_ctrl, 1, run | w16); /* 8-bit channel */
    assert_int_equal(dt_port_r(t, p_status, 1), 0xA0);
    assert_int_equal(dt_port_r(t, p_ctrl, 1), w16);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "IST_WIDTH_MISMATCH"), 1);
    set_ix(t, ix_rate, 0);
    dt_port_w(t, p_ctrl, 1, run);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "IST_BAD_RATE"), 1);
    set_ix(t, ix_rate, 2000000); /* > max_rate */
    dt_port_w(t, p_ctrl, 1, run);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "IST_BAD_RATE"), 2);
    /* capture with nothing programmed on the channel: overrun once full */
    set_ix(t, ix_rate, 1000);
    dt_port_w(t, p_ien, 1, i_xrun);
    uint64_t t0 = dt_now();
    dt_port_w(t, p_ctrl, 1, run);
    assert_int_equal(dt_port_r(t, p_status, 1) & 0x80, 0); /* ERR cleared */
    dt_until(t0 + 16 * 1000000);
    assert_int_equal(dt_port_r(t, p_status, 1) & 0x47, 0x43); /* FULL, DREQ, RUNNING */
    assert_false(dt_line(t));
    dt_until(t0 + 20 * 1000000);
    assert_int_equal(get_ix(t, ix_ovrcnt), 4);
    assert_int_equal(get_ix(t, ix_streampos), 20);
    assert_true(dt_line(t));
    assert_int_equal(dt_port_r(t, p_status, 1) & 4, 4);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "IST_OVERRUN"), 1);
    uint8_t f[16];
    assert_int_equal(isastream_fifo(t->dev, f, 16), 16);
    assert_int_equal(f[15], isastream_stream_byte(15, 0));
    /* RATE while running is ignored; so is a mode change */
    set_ix(t, ix_rate, 5);
    dt_port_w(t, p_ctrl, 1, run | dir_play);
    assert_int_equal(wdmsim_dev_report_count(t->dev, "IST_CFG_WHILE_RUNNING"), 2);
    /* acknowledging while another enabled bit is set makes a fresh edge */
    dt_port_w(t, p_ien, 1, i_xrun | i_tc);
    struct isastream_stats st0, st1;
    isastream_get_stats(t->dev, &st0);
    dt_port_w(t, p_isr, 1, 0); /* ack nothing: still high */
    isastream_get_stats(t->dev, &st1);
    assert_int_equal(st1.irq_edges, st0.irq_edges + 1);
    /* RST stops and clears */
    dt_port_w(t, p_ctrl, 1, 0x80);
    assert_int_equal(dt_port_r(t, p_status, 1), 0x20);
    assert_false(dt_line(t));
    assert_int_equal(get_ix(t, ix_rate), 8000);
    assert_int_equal(get_ix(t, ix_ovrcnt), 0);
}

static void test_ist_refusals_and_overrun(void **state)
{
    struct dt t;
    dt_boot(&t, ini1, "ist0", 1);
    dt_run(&t, refuse_body);
    dt_done(&t);
    dt_boot(&t, ini5, "ist0", 1);
    dt_done(&t);
    dt_boot_fails("[device ist0]\nmodel = isastream\nfifo_depth = 7\n", "fifo_depth");
    dt_boot_fails("[device ist0]\nmodel = isastream\nio_base = 0x240\n", "io_base");
    dt_boot_fails("[device ist0]\nmodel = isastream\nirq = 6\n", "irq");
}

/* ---- terminal count stop ------------------------------------------------------------------- */

static void tcstop_body(void *arg)
{
    struct dt *t = arg;
    const ULONG S = 64;
    struct ctl c;
    uint8_t *va = program(t, 1, S, false, false, &c, NULL);
    set_ix(t, ix_rate, 1000000);
    dt_port_w(t, p_ien, 1, i_tc);
    uint64_t t0 = dt_now();
    dt_port_w(t, p_ctrl, 1, run | tcstop);
    dt_until(t0 + 200 * 1000);
    assert_int_equal(dt_port_r(t, p_status, 1) & 1, 0); /* stopped at TC */
    assert_int_equal(get_ix(t, ix_xferred), 64);
    assert_int_equal(get_ix(t, ix_streampos), 64);
    assert_int_equal(dt_port_r(t, p_isr, 1), i_tc);
    assert_true(dt_line(t));
    for (unsigned i = 0; i < S; i++)
        assert_int_equal(va[i], isastream_stream_byte(i, 0));
    c.a->DmaOperations->FlushAdapterBuffers(c.a, c.mdl, c.base, MmGetMdlVirtualAddress(c.mdl), S,
                                            FALSE);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    c.a->DmaOperations->FreeAdapterChannel(c.a);
    KeLowerIrql(old);
}

static void test_ist_tc_stop(void **state)
{
    struct dt t;
    dt_boot(&t, ini1, "ist0", 1);
    dt_run(&t, tcstop_body);
    dt_done(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ist_stream_vectors),       cmocka_unit_test(test_ist_registers),
        cmocka_unit_test(test_ist_capture_autoinit),     cmocka_unit_test(test_ist_playback_16bit),
        cmocka_unit_test(test_ist_refusals_and_overrun), cmocka_unit_test(test_ist_tc_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
