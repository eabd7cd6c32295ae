/*
 * tests/hal/test_dmatest_sysdma.c - the system DMA call sequences of
 * spec/dma.md 5 driven by DMT-1 as an ISA slave through the 8237: (c)
 * packet-based system DMA (pieces, ReadDmaCounter while the controller
 * runs, terminal count), and (d) a common buffer the channel cycles over in
 * auto-initialize mode, the driver refilling (or emptying) the half the
 * controller is not using; on 8-bit channel 1 and 16-bit channel 5 of the
 * three machines of dmatest_env.h, both directions, every byte checked.
 * Versions 1-3 (MapTransferEx, FlushAdapterBuffersEx on a slave).
 * Spec: spec/dma.md 5 (c), (d), 6; spec/i8237.md 4, 6; docs/dma.md "Testing".
 */
#include "dmatest_env.h"

struct spkt {
    struct wdmsim_dev *dev;
    PDMA_ADAPTER a;
    struct buf *b;
    PVOID base;
    PUCHAR cva;
    ULONG l;
    ULONG devoff;
    BOOLEAN write;
    uint32_t control; /* the device command besides GO */
    unsigned calls;
};

/* MapTransfer programs and unmasks the channel; the device then raises
 * DREQ. Right after it, the whole piece is still to move. */
static void map_and_start(struct spkt *p)
{
    ULONG want = p->l;
    PHYSICAL_ADDRESS la =
        p->a->DmaOperations->MapTransfer(p->a, p->b->mdl, p->base, p->cva, &p->l, p->write);
    assert_int_equal(p->l, want);
    uint64_t block = dev_channel(p->dev) < 4 ? 64 << 10 : 128 << 10;
    assert_true((uint64_t)la.QuadPart + p->l <= (16u << 20));
    assert_int_equal((uint64_t)la.QuadPart / block, ((uint64_t)la.QuadPart + p->l - 1) / block);
    assert_int_equal(p->a->DmaOperations->ReadDmaCounter(p->a), p->l);
    dmt_go(p->dev, 0, p->l, p->devoff, 0, p->control);
}

static DRIVER_CONTROL sys_control;
static IO_ALLOCATION_ACTION NTAPI sys_control(PDEVICE_OBJECT dev, PIRP irp, PVOID base, PVOID ctx)
{
    struct spkt *p = ctx;
    assert_int_equal(KeGetCurrentIrql(), DISPATCH_LEVEL);
    p->base = base;
    p->calls++;
    map_and_start(p);
    return KeepObject;
}

/* ReadDmaCounter against the device's own count, mid-transfer, for a
 * command that started where the channel's pass (of pass_len bytes) did. */
static void check_counter_midway(PDMA_ADAPTER a, struct wdmsim_dev *dev, ULONG pass_len,
                                 ULONG at_least)
{
    while (dmt_r(dev, dmatest_reg_xferred) < at_least)
        env_step();
    ULONG rem = a->DmaOperations->ReadDmaCounter(a);
    ULONG moved = dmt_r(dev, dmatest_reg_xferred);
    assert_true(dmt_r(dev, dmatest_reg_status) & dmatest_st_busy);
    assert_int_equal(rem, pass_len - moved % pass_len);
}

/* spec/dma.md 5 (c): pieces of at most what the registers cover, each
 * flushed after the device's terminal count, FreeAdapterChannel after the
 * last. */
static void seq_sysdma_in(struct wdmsim_dev *dev, ULONG version, bool demand, ULONG maxlen,
                          struct buf b, unsigned *pieces)
{
    ULONG n = 0, len = b.len;
    PDMA_ADAPTER a = get_slave(dev, version, maxlen, false, demand, &n);
    PDMA_OPERATIONS ops = a->DmaOperations;
    uint8_t *dbuf = dmt_buf(dev);
    uint64_t bounced = bounced_bytes();
    for (int pass = 0; pass < 2; pass++) {
        BOOLEAN write = pass == 0;
        if (write) {
            fill(b.va, len, 50);
            memset(dbuf, 0, len);
        } else {
            memset(b.va, 0xEE, len);
            fill(dbuf, len, 51);
        }
        KIRQL old;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        KeFlushIoBuffers(b.mdl, !write, TRUE);
        PUCHAR va = MmGetMdlVirtualAddress(b.mdl);
        ULONG r = SPAN_PAGES(va, len) < n ? SPAN_PAGES(va, len) : n;
        ULONG cap = r * PG - PG_OFFSET(va);
        struct spkt p = {.dev = dev,
                         .a = a,
                         .b = &b,
                         .cva = va,
                         .l = len < cap ? len : cap,
                         .write = write,
                         .control = dmt_ctrl(dmatest_mode_slave, write)};
        assert_int_equal(ops->AllocateAdapterChannel(a, NULL, r, sys_control, &p), STATUS_SUCCESS);
        assert_int_equal(p.calls, 1);
        *pieces = 0;
        for (;;) {
            if (*pieces == 0)
                check_counter_midway(a, dev, p.l, p.l / 2);
            dmt_done(dev, p.l); /* terminal count: the device's interrupt */
            assert_int_equal(dmt_r(dev, dmatest_reg_tccount), 1);
            assert_int_equal(ops->ReadDmaCounter(a), 0);
            assert_true(ops->FlushAdapterBuffers(a, b.mdl, p.base, p.cva, p.l, write));
            (*pieces)++;
            p.devoff += p.l;
            if (p.devoff == len)
                break;
            p.cva += p.l;
            ULONG left = len - p.devoff;
            cap = r * PG - PG_OFFSET(p.cva);
            p.l = left < cap ? left : cap;
            map_and_start(&p);
        }
        ops->FreeAdapterChannel(a);
        KeLowerIrql(old);
        if (write)
            expect_pat(dbuf, len, 50, "memory -> device (8237)");
        else
            expect_pat(b.va, len, 51, "device -> memory (8237)");
    }
    assert_true(bounced_bytes() > bounced); /* beyond 16 MiB, or across a block */
    ops->PutDmaAdapter(a);
}

static void seq_sysdma(struct wdmsim_dev *dev, ULONG version, bool demand, ULONG maxlen, ULONG len,
                       unsigned *pieces)
{
    struct buf b = buf_new(len);
    seq_sysdma_in(dev, version, demand, maxlen, b, pieces);
    buf_free(&b);
}

/* The same with the version-3 routines: a synchronous channel, MapTransferEx
 * (which programs the 8237), FlushAdapterBuffersEx, FreeAdapterObject. */
static void seq_sysdma_ex(struct wdmsim_dev *dev, ULONG maxlen, ULONG len)
{
    ULONG n = 0;
    PDMA_ADAPTER a = get_slave(dev, DEVICE_DESCRIPTION_VERSION3, maxlen, false, false, &n);
    PDMA_OPERATIONS ops = a->DmaOperations;
    DMA_ADAPTER_INFO info = {.Version = DMA_ADAPTER_INFO_VERSION1};
    assert_int_equal(ops->GetDmaAdapterInfo(a, &info), STATUS_SUCCESS);
    assert_true(info.V1.ReadDmaCounterAvailable);
    assert_int_equal(info.V1.DmaAddressWidth, 24);
    assert_int_equal(info.V1.MinimumTransferUnit, dev_channel(dev) >= 4 ? 2 : 1);
    struct buf b = buf_new(len);
    uint8_t *dbuf = dmt_buf(dev);
    uint8_t ctx[DMA_TRANSFER_CONTEXT_SIZE_V1];
    assert_int_equal(ops->InitializeDmaTransferContext(a, ctx), STATUS_SUCCESS);
    for (int pass = 0; pass < 2; pass++) {
        BOOLEAN write = pass == 0;
        if (write) {
            fill(b.va, len, 52);
            memset(dbuf, 0, len);
        } else {
            memset(b.va, 0xEE, len);
            fill(dbuf, len, 53);
        }
        ULONG r = PAGES(len) < n ? PAGES(len) : n;
        KIRQL old;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        PVOID base = NULL;
        assert_int_equal(ops->AllocateAdapterChannelEx(a, NULL, ctx, r, DMA_SYNCHRONOUS_CALLBACK,
                                                       NULL, NULL, &base),
                         STATUS_SUCCESS);
        for (ULONG off = 0; off < len;) {
            union {
                SCATTER_GATHER_LIST l;
                uint8_t raw[sizeof(SCATTER_GATHER_LIST) + sizeof(SCATTER_GATHER_ELEMENT)];
            } sg;
            ULONG l = len - off < r * PG ? len - off : r * PG;
            assert_int_equal(ops->MapTransferEx(a, b.mdl, base, off, 0, &l, write, &sg.l,
                                                sizeof(sg), NULL, NULL),
                             STATUS_SUCCESS);
            assert_true((uint64_t)sg.l.Elements[0].Address.QuadPart + l <= (16u << 20));
            assert_int_equal(ops->ReadDmaCounter(a), l);
            dmt_go(dev, 0, l, off, 0, dmt_ctrl(dmatest_mode_slave, write));
            dmt_done(dev, l);
            assert_int_equal(ops->FlushAdapterBuffersEx(a, b.mdl, base, off, l, write),
                             STATUS_SUCCESS);
            off += l;
        }
        ops->FreeAdapterObject(a, DeallocateObject);
        KeLowerIrql(old);
        if (write)
            expect_pat(dbuf, len, 52, "memory -> device (MapTransferEx, 8237)");
        else
            expect_pat(b.va, len, 53, "device -> memory (MapTransferEx, 8237)");
    }
    buf_free(&b);
    ops->PutDmaAdapter(a);
}

static void sysdma_on(struct wdmsim_dev *dev)
{
    unsigned pieces;
    seq_sysdma(dev, DEVICE_DESCRIPTION_VERSION2, false, 20000, 9000, &pieces);
    assert_int_equal(pieces, 1);
    /* demand mode: the controller holds the bus while DREQ stays up */
    seq_sysdma(dev, DEVICE_DESCRIPTION_VERSION2, true, 64 << 10, 40000, &pieces);
    assert_int_equal(pieces, 1);
    /* two registers: pieces of 8 KiB */
    seq_sysdma(dev, DEVICE_DESCRIPTION_VERSION1, false, PG, 5 * PG + 1000, &pieces);
    assert_int_equal(pieces, 3);
    seq_sysdma_ex(dev, 3 * PG, 30000);
}

/* Two physically contiguous pages below 16 MiB straddling a 64 KiB line
 * (channels 0-3) or 128 KiB line (5-7): reachable, but the 8237 cannot
 * cross the line (its address wraps inside the block), so MapTransfer
 * bounces the run into one block. */
static void block_crossing_on(struct wdmsim_dev *dev)
{
    uint64_t block = dev_channel(dev) < 4 ? 64 << 10 : 128 << 10;
    struct buf b = {.len = 2 * PG};
    for (uint64_t line = 8u << 20; !b.va && line < (16u << 20); line += block) {
        PHYSICAL_ADDRESS lo = {.QuadPart = (LONGLONG)(line - PG)};
        PHYSICAL_ADDRESS hi = {.QuadPart = (LONGLONG)(line + PG - 1)};
        PHYSICAL_ADDRESS none = {.QuadPart = 0};
        b.va = MmAllocateContiguousMemorySpecifyCache(b.len, lo, hi, none, MmNonCached);
    }
    assert_non_null(b.va);
    uint64_t pa = (uint64_t)MmGetPhysicalAddress(b.va).QuadPart;
    assert_int_equal((pa + PG) % block, 0);
    b.mdl = IoAllocateMdl(b.va, b.len, FALSE, FALSE, NULL);
    assert_non_null(b.mdl);
    MmBuildMdlForNonPagedPool(b.mdl);
    unsigned pieces;
    seq_sysdma_in(dev, DEVICE_DESCRIPTION_VERSION2, false, 2 * PG, b, &pieces);
    assert_int_equal(pieces, 1);
    IoFreeMdl(b.mdl);
    MmFreeContiguousMemorySpecifyCache(b.va, b.len, MmNonCached);
}

static void body_block_crossing(struct env *e)
{
    block_crossing_on(e->dmi1);
    block_crossing_on(e->dmi5);
}

static void test_block_crossing(void **state)
{
    env_run(setup_default, body_block_crossing, "standard");
}

static void body_sysdma(struct env *e)
{
    sysdma_on(e->dmi1);
    sysdma_on(e->dmi5);
}

static void test_sysdma_default(void **state)
{
    env_run(setup_default, body_sysdma, "standard");
}

static void test_sysdma_8g(void **state)
{
    env_run(setup_8g, body_sysdma, "standard");
}

static void test_sysdma_isa24(void **state)
{
    env_run(setup_isa24, body_sysdma, "standard");
}

/* ---- (d) system DMA, common buffer, auto-initialize ------------------------------------ */

struct ring {
    PDMA_ADAPTER a;
    PMDL mdl;
    ULONG L;
    BOOLEAN write;
    PVOID base;
    unsigned calls;
};

/* spec/dma.md 5 (d) step 3: MapTransfer of the whole buffer, once. */
static DRIVER_CONTROL ring_control;
static IO_ALLOCATION_ACTION NTAPI ring_control(PDEVICE_OBJECT dev, PIRP irp, PVOID base, PVOID ctx)
{
    struct ring *r = ctx;
    r->base = base;
    r->calls++;
    ULONG l = r->L;
    PHYSICAL_ADDRESS la = r->a->DmaOperations->MapTransfer(
        r->a, r->mdl, base, MmGetMdlVirtualAddress(r->mdl), &l, r->write);
    assert_int_equal(l, r->L);
    /* a common buffer is reachable and inside one block: mapped directly */
    assert_int_equal(la.QuadPart, MmGetPhysicalAddress(MmGetMdlVirtualAddress(r->mdl)).QuadPart);
    return KeepObject;
}

/* The stream the device plays (or captures) is pat(seed, i) for i in
 * [0, turns * L): one command per half buffer, DEVOFF advancing, STREAM so
 * that the controller's terminal count (every second half) does not end
 * it. The channel cycles over the buffer; after each half the driver finds
 * the controller's position with ReadDmaCounter and refills (or empties)
 * the half it just left. */
static void seq_autoinit(struct wdmsim_dev *dev, ULONG L, unsigned turns, BOOLEAN write)
{
    unsigned seed = write ? 60 : 61;
    ULONG n = 0, half = L / 2, chunks = 2 * turns;
    PDMA_ADAPTER a = get_slave(dev, DEVICE_DESCRIPTION_VERSION2, L, true, false, &n);
    PDMA_OPERATIONS ops = a->DmaOperations;
    PHYSICAL_ADDRESS la;
    uint8_t *cb = ops->AllocateCommonBuffer(a, L, &la, FALSE);
    assert_non_null(cb);
    uint64_t block = dev_channel(dev) < 4 ? 64 << 10 : 128 << 10;
    assert_true((uint64_t)la.QuadPart + L <= (16u << 20));
    assert_int_equal((uint64_t)la.QuadPart / block, ((uint64_t)la.QuadPart + L - 1) / block);
    PMDL mdl = IoAllocateMdl(cb, L, FALSE, FALSE, NULL);
    assert_non_null(mdl);
    MmBuildMdlForNonPagedPool(mdl);
    uint8_t *dbuf = dmt_buf(dev);
    if (write) {
        fill(cb, L, seed); /* the stream's first two halves */
        memset(dbuf, 0, turns * L);
    } else {
        memset(cb, 0xEE, L);
        fill(dbuf, turns * L, seed);
    }
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    struct ring r = {.a = a, .mdl = mdl, .L = L, .write = write};
    assert_int_equal(ops->AllocateAdapterChannel(a, NULL, PAGES(L), ring_control, &r),
                     STATUS_SUCCESS);
    assert_int_equal(r.calls, 1);
    uint32_t control = dmt_ctrl(dmatest_mode_slave, write) | dmatest_ctrl_stream;
    for (ULONG k = 0; k < chunks; k++) {
        dmt_go(dev, 0, half, k * half, 0, control);
        if (k == 2)
            check_counter_midway(a, dev, L, half / 2);
        dmt_done(dev, half);
        /* the half that ended at the buffer's end ended at terminal count */
        assert_int_equal(dmt_r(dev, dmatest_reg_tccount), k & 1);
        ULONG pos = (L - ops->ReadDmaCounter(a)) % L;
        assert_int_equal(pos, ((k + 1) * half) % L);
        uint8_t *done = cb + (k & 1) * half; /* the half the controller just left */
        if (write) {
            for (ULONG i = 0; i < half && k + 2 < chunks; i++)
                done[i] = pat(seed, (k + 2) * half + i);
        } else {
            for (ULONG i = 0; i < half; i++)
                if (done[i] != pat(seed, k * half + i))
                    fail_msg("half %lu byte %lu: %#x, want %#x", (unsigned long)k, (unsigned long)i,
                             done[i], pat(seed, k * half + i));
        }
    }
    /* stop streaming: the device is idle (DREQ low), the channel still cycles */
    assert_true(ops->FlushAdapterBuffers(a, mdl, r.base, MmGetMdlVirtualAddress(mdl), L, write));
    ops->FreeAdapterChannel(a);
    KeLowerIrql(old);
    if (write)
        expect_pat(dbuf, turns * L, seed, "memory -> device (auto-initialize)");
    IoFreeMdl(mdl);
    ops->FreeCommonBuffer(a, L, la, cb, FALSE);
    ops->PutDmaAdapter(a);
}

static void body_autoinit(struct env *e)
{
    seq_autoinit(e->dmi1, 4096, 3, TRUE);
    seq_autoinit(e->dmi1, 4096, 3, FALSE);
    seq_autoinit(e->dmi5, 8192, 2, TRUE);
    seq_autoinit(e->dmi5, 2 * 8192, 2, FALSE);
}

static void test_autoinit_default(void **state)
{
    env_run(setup_default, body_autoinit, "standard");
}

static void test_autoinit_8g(void **state)
{
    env_run(setup_8g, body_autoinit, "standard");
}

static void test_autoinit_isa24(void **state)
{
    env_run(setup_isa24, body_autoinit, "standard");
}

/* Again with double buffering and the rest of "all" (system DMA stays 1:1;
 * the common buffer of (d) is never double-buffered). */
static void body_all(struct env *e)
{
    body_sysdma(e);
    body_autoinit(e);
}

static void test_verifier_all(void **state)
{
    env_run(setup_default, body_all, "all");
    env_run(setup_8g, body_all, "all");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sysdma_default), cmocka_unit_test(test_sysdma_8g),
        cmocka_unit_test(test_sysdma_isa24),   cmocka_unit_test(test_autoinit_default),
        cmocka_unit_test(test_autoinit_8g),    cmocka_unit_test(test_autoinit_isa24),
        cmocka_unit_test(test_block_crossing), cmocka_unit_test(test_verifier_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
