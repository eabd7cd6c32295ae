/*
 * tests/hal/test_dmatest_sequences.c - the bus-master call sequences of
 * spec/dma.md 5 driven by the DMT-1 test device: (a) scatter/gather with
 * GetScatterGatherList (descriptor table in a common buffer), (b) packet
 * DMA through map registers, and common-buffer bus-master DMA; each on the
 * three machines of dmatest_env.h (64-bit master; 8 GiB with a 32-bit
 * master, buffers above 4 GiB, bouncing; 24-bit ISA master), both
 * directions, every byte that arrives checked, plus the 5000 = 4096 + 904
 * split through one map register. Versions 1-3 of DMA_OPERATIONS; the
 * coverage table is docs/dma.md "Testing". The system DMA sequences (c),
 * (d) are in test_dmatest_sysdma.c.
 * Spec: spec/dma.md 3, 5 (a), (b); docs/devices/dmatest.md.
 */
#include "dmatest_env.h"

/* On the 8g and isa24 machines the buffer reaches past the device's width
 * (above 4 GiB / 16 MiB), so the transfer bounced. */
static void expect_beyond_reach(const struct env *e, PMDL mdl, uint64_t bounced_before)
{
    if (e->setup == setup_default)
        return;
    assert_true(mdl_top_pa(mdl) > (1ULL << env_width(e)));
    assert_true(bounced_bytes() > bounced_before);
}

/* ---- (a) bus master, scatter/gather ------------------------------------------------ */

struct sg_state {
    PSCATTER_GATHER_LIST list;
    unsigned calls;
};

static DRIVER_LIST_CONTROL list_control;
static VOID NTAPI list_control(PDEVICE_OBJECT dev, PIRP irp, PSCATTER_GATHER_LIST sg, PVOID ctx)
{
    struct sg_state *s = ctx;
    assert_int_equal(KeGetCurrentIrql(), DISPATCH_LEVEL);
    s->list = sg;
    s->calls++;
}

/* ListControl's work: the elements into the device's descriptor table.
 * Returns the bytes the list covers. */
static ULONG load_table(const struct env *e, struct dmatest_desc *tbl, ULONG cap,
                        const SCATTER_GATHER_LIST *l)
{
    ULONG total = 0;
    assert_true(l->NumberOfElements >= 1 && l->NumberOfElements <= cap);
    for (ULONG i = 0; i < l->NumberOfElements; i++) {
        const SCATTER_GATHER_ELEMENT *el = &l->Elements[i];
        expect_reach(e, (uint64_t)el->Address.QuadPart, el->Length);
        tbl[i] = (struct dmatest_desc){(uint64_t)el->Address.QuadPart, el->Length, 0};
        total += el->Length;
    }
    return total;
}

/* The device reads the table and moves the list's bytes at DEVOFF 0. */
static void run_table(const struct env *e, uint64_t tla, const SCATTER_GATHER_LIST *l, ULONG len,
                      bool to_device)
{
    dmt_go(e->dmt, tla, 0, 0, l->NumberOfElements, dmt_ctrl(dmatest_mode_table, to_device));
    dmt_done(e->dmt, len);
}

/* spec/dma.md 5 (a) with the v1 routines (and, from version 2, Calculate,
 * Build and BuildMdlFromScatterGatherList): memory -> device through a Get
 * list, device -> memory through a Build list (a Get list for v1). */
static void seq_sg(const struct env *e, ULONG version, ULONG len, ULONG off)
{
    DEVICE_DESCRIPTION d = desc_master(e, version, true, len + off);
    ULONG n = 0;
    PDMA_ADAPTER a = get_master(e, &d, &n);
    PDMA_OPERATIONS ops = a->DmaOperations;
    assert_int_equal(ops->Size, version <= 1 ? 104 : version == 2 ? 128 : sizeof(DMA_OPERATIONS));
    assert_true(n >= SPAN_PAGES(off, len));
    ULONG size = 0, regs = 0;
    if (version >= 2) {
        /* START: the worst case, to preallocate list buffers */
        assert_int_equal(ops->CalculateScatterGatherList(a, NULL, NULL, len, &size, &regs),
                         STATUS_SUCCESS);
        assert_int_equal(regs, PAGES(len));
    }
    PHYSICAL_ADDRESS tla;
    struct dmatest_desc *tbl = ops->AllocateCommonBuffer(a, PG, &tla, FALSE);
    assert_non_null(tbl);
    expect_reach(e, (uint64_t)tla.QuadPart, PG);
    struct buf b = buf_new(len + off);
    fill(b.va, len + off, 1);
    uint8_t *dev = dmt_buf(e->dmt);
    memset(dev, 0, len);
    PUCHAR va = (PUCHAR)MmGetMdlVirtualAddress(b.mdl) + off;
    uint64_t bounced = bounced_bytes();
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);

    /* memory -> device */
    KeFlushIoBuffers(b.mdl, FALSE, TRUE);
    struct sg_state s = {0};
    assert_int_equal(ops->GetScatterGatherList(a, NULL, b.mdl, va, len, list_control, &s, TRUE),
                     STATUS_SUCCESS);
    assert_int_equal(s.calls, 1);
    assert_int_equal(load_table(e, tbl, PG / sizeof(*tbl), s.list), len);
    run_table(e, (uint64_t)tla.QuadPart, s.list, len, true);
    ops->PutScatterGatherList(a, s.list, TRUE);
    for (ULONG i = 0; i < len; i++)
        if (dev[i] != pat(1, off + i))
            fail_msg("device byte %lu: %#x, want %#x", (unsigned long)i, dev[i], pat(1, off + i));

    /* device -> memory */
    KeLowerIrql(old);
    memset(b.va, 0xEE, len + off);
    fill(dev, len, 2);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeFlushIoBuffers(b.mdl, TRUE, TRUE);
    static uint8_t listbuf[1 << 16];
    s = (struct sg_state){0};
    if (version >= 2) {
        assert_int_equal(ops->CalculateScatterGatherList(a, b.mdl, va, len, &size, &regs),
                         STATUS_SUCCESS);
        assert_int_equal(regs, SPAN_PAGES(va, len));
        assert_true(size <= sizeof(listbuf));
        assert_int_equal(ops->BuildScatterGatherList(a, NULL, b.mdl, va, len, list_control, &s,
                                                     FALSE, listbuf, size),
                         STATUS_SUCCESS);
        assert_ptr_equal(s.list, listbuf);
    } else {
        assert_int_equal(
            ops->GetScatterGatherList(a, NULL, b.mdl, va, len, list_control, &s, FALSE),
            STATUS_SUCCESS);
    }
    assert_int_equal(s.calls, 1);
    assert_int_equal(load_table(e, tbl, PG / sizeof(*tbl), s.list), len);
    run_table(e, (uint64_t)tla.QuadPart, s.list, len, false);
    if (version >= 2) {
        /* The memory the device really wrote: the bounce frames, not yet
         * copied back, or the buffer itself. */
        PMDL target = NULL;
        assert_int_equal(ops->BuildMdlFromScatterGatherList(a, s.list, b.mdl, &target),
                         STATUS_SUCCESS);
        assert_non_null(target);
        for (ULONG i = 0; i < len; i++)
            if (mdl_byte(target, off + i) != pat(2, i))
                fail_msg("target MDL byte %lu: %#x, want %#x", (unsigned long)i,
                         mdl_byte(target, off + i), pat(2, i));
    }
    ops->PutScatterGatherList(a, s.list, FALSE);
    KeLowerIrql(old);
    expect_byte(b.va, off, 0xEE, "before the transfer");
    expect_pat(b.va + off, len, 2, "device -> memory");
    expect_beyond_reach(e, b.mdl, bounced);
    buf_free(&b);
    ops->FreeCommonBuffer(a, PG, tla, tbl, FALSE);
    ops->PutDmaAdapter(a);
}

/* spec/dma.md 5 (a) with the version-3 routines: transfer info, context,
 * GetScatterGatherListEx with a routine (to the device) and synchronous
 * (from it), BuildScatterGatherListEx into the driver's buffer, the table
 * in a domain common buffer, FlushDmaBuffer before each Put. */
static void seq_sg_ex(const struct env *e, ULONG len, ULONG off)
{
    DEVICE_DESCRIPTION d = desc_master(e, DEVICE_DESCRIPTION_VERSION3, true, len + off);
    ULONG n = 0;
    PDMA_ADAPTER a = get_master(e, &d, &n);
    PDMA_OPERATIONS ops = a->DmaOperations;
    DMA_ADAPTER_INFO info = {.Version = DMA_ADAPTER_INFO_VERSION1};
    assert_int_equal(ops->GetDmaAdapterInfo(a, &info), STATUS_SUCCESS);
    assert_int_equal(info.V1.DmaAddressWidth, env_width(e));
    assert_false(info.V1.ReadDmaCounterAvailable);
    PHYSICAL_ADDRESS tla;
    PVOID tva = NULL;
    assert_int_equal(
        ops->AllocateDomainCommonBuffer(a, NULL, NULL, PG, 0, NULL, MM_ANY_NODE_OK, &tla, &tva),
        STATUS_SUCCESS);
    struct dmatest_desc *tbl = tva;
    expect_reach(e, (uint64_t)tla.QuadPart, PG);
    struct buf b = buf_new(len + off);
    fill(b.va, len + off, 3);
    uint8_t *dev = dmt_buf(e->dmt);
    memset(dev, 0, len);
    uint8_t ctx[DMA_TRANSFER_CONTEXT_SIZE_V1];
    assert_int_equal(ops->InitializeDmaTransferContext(a, ctx), STATUS_SUCCESS);
    DMA_TRANSFER_INFO ti = {.Version = DMA_TRANSFER_INFO_VERSION1};
    assert_int_equal(ops->GetDmaTransferInfo(a, b.mdl, off, len, TRUE, &ti), STATUS_SUCCESS);
    assert_int_equal(ti.V1.MapRegisterCount, SPAN_PAGES(off, len));
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    struct sg_state s = {0};
    assert_int_equal(ops->GetScatterGatherListEx(a, NULL, ctx, b.mdl, off, len, 0, list_control, &s,
                                                 TRUE, NULL, NULL, NULL),
                     STATUS_SUCCESS);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.list->NumberOfElements, ti.V1.ScatterGatherElementCount);
    assert_int_equal(load_table(e, tbl, PG / sizeof(*tbl), s.list), len);
    run_table(e, (uint64_t)tla.QuadPart, s.list, len, true);
    assert_int_equal(ops->FlushDmaBuffer(a, b.mdl, FALSE), STATUS_SUCCESS);
    ops->PutScatterGatherList(a, s.list, TRUE);
    for (ULONG i = 0; i < len; i++)
        if (dev[i] != pat(3, off + i))
            fail_msg("device byte %lu: %#x, want %#x", (unsigned long)i, dev[i], pat(3, off + i));
    KeLowerIrql(old);

    memset(b.va, 0xEE, len + off);
    fill(dev, len, 4);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    PSCATTER_GATHER_LIST list = NULL;
    assert_int_equal(ops->GetScatterGatherListEx(a, NULL, ctx, b.mdl, off, len,
                                                 DMA_SYNCHRONOUS_CALLBACK, NULL, NULL, FALSE, NULL,
                                                 NULL, &list),
                     STATUS_SUCCESS);
    assert_non_null(list);
    assert_int_equal(load_table(e, tbl, PG / sizeof(*tbl), list), len);
    run_table(e, (uint64_t)tla.QuadPart, list, len, false);
    assert_int_equal(ops->FlushDmaBuffer(a, b.mdl, TRUE), STATUS_SUCCESS);
    ops->PutScatterGatherList(a, list, FALSE);
    KeLowerIrql(old);
    expect_byte(b.va, off, 0xEE, "before the transfer");
    expect_pat(b.va + off, len, 4, "device -> memory (GetScatterGatherListEx)");

    /* BuildScatterGatherListEx, synchronous, into the driver's buffer */
    fill(dev, len, 5);
    static uint8_t lb[1 << 16];
    assert_true(ti.V1.ScatterGatherListSize <= sizeof(lb));
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    list = NULL;
    assert_int_equal(ops->BuildScatterGatherListEx(a, NULL, ctx, b.mdl, off, len,
                                                   DMA_SYNCHRONOUS_CALLBACK, NULL, NULL, FALSE, lb,
                                                   sizeof(lb), NULL, NULL, &list),
                     STATUS_SUCCESS);
    assert_ptr_equal(list, lb);
    assert_int_equal(load_table(e, tbl, PG / sizeof(*tbl), list), len);
    run_table(e, (uint64_t)tla.QuadPart, list, len, false);
    ops->PutScatterGatherList(a, list, FALSE);
    KeLowerIrql(old);
    expect_pat(b.va + off, len, 5, "device -> memory (BuildScatterGatherListEx)");
    buf_free(&b);
    ops->FreeCommonBuffer(a, PG, tla, tva, FALSE);
    ops->PutDmaAdapter(a);
}

/* The older S/G pattern: AllocateAdapterChannel, then MapTransfer in a
 * loop, each call mapping the next logically contiguous run (Length out),
 * all runs in the device's table for one command, one flush per
 * MapTransfer (spec/dma.md 3, "master, S/G, frames apart"). */
struct run {
    PUCHAR cva;
    ULONG len;
};

struct sgmap {
    const struct env *e;
    PDMA_ADAPTER a;
    struct buf *b;
    struct dmatest_desc *tbl;
    PUCHAR va;
    ULONG len;
    BOOLEAN write;
    PVOID base;
    struct run runs[64];
    unsigned nruns;
};

static DRIVER_CONTROL sg_map_control;
static IO_ALLOCATION_ACTION NTAPI sg_map_control(PDEVICE_OBJECT dev, PIRP irp, PVOID base,
                                                 PVOID ctx)
{
    struct sgmap *m = ctx;
    m->base = base;
    ULONG done = 0;
    while (done < m->len) {
        assert_true(m->nruns < 64);
        struct run *r = &m->runs[m->nruns];
        r->cva = m->va + done;
        r->len = m->len - done;
        PHYSICAL_ADDRESS la =
            m->a->DmaOperations->MapTransfer(m->a, m->b->mdl, base, r->cva, &r->len, m->write);
        assert_true(r->len > 0 && r->len <= m->len - done);
        expect_reach(m->e, (uint64_t)la.QuadPart, r->len);
        m->tbl[m->nruns++] = (struct dmatest_desc){(uint64_t)la.QuadPart, r->len, 0};
        done += r->len;
    }
    return DeallocateObjectKeepRegisters;
}

static void seq_sg_maptransfer(const struct env *e, ULONG version, ULONG len, ULONG off)
{
    DEVICE_DESCRIPTION d = desc_master(e, version, true, len + off);
    ULONG n = 0;
    PDMA_ADAPTER a = get_master(e, &d, &n);
    PDMA_OPERATIONS ops = a->DmaOperations;
    PHYSICAL_ADDRESS tla;
    struct dmatest_desc *tbl = ops->AllocateCommonBuffer(a, PG, &tla, FALSE);
    assert_non_null(tbl);
    struct buf b = buf_new(len + off);
    uint8_t *dev = dmt_buf(e->dmt);
    for (int pass = 0; pass < 2; pass++) {
        BOOLEAN write = pass == 0;
        if (write) {
            fill(b.va, len + off, 11);
            memset(dev, 0, len);
        } else {
            memset(b.va, 0xEE, len + off);
            fill(dev, len, 12);
        }
        KIRQL old;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        KeFlushIoBuffers(b.mdl, !write, TRUE);
        struct sgmap m = {.e = e,
                          .a = a,
                          .b = &b,
                          .tbl = tbl,
                          .va = (PUCHAR)MmGetMdlVirtualAddress(b.mdl) + off,
                          .len = len,
                          .write = write};
        ULONG r = SPAN_PAGES(m.va, len);
        assert_true(r <= n);
        assert_int_equal(ops->AllocateAdapterChannel(a, NULL, r, sg_map_control, &m),
                         STATUS_SUCCESS);
        assert_true(m.nruns >= 1);
        dmt_go(e->dmt, (uint64_t)tla.QuadPart, 0, 0, m.nruns, dmt_ctrl(dmatest_mode_table, write));
        dmt_done(e->dmt, len);
        for (unsigned i = 0; i < m.nruns; i++)
            assert_true(
                ops->FlushAdapterBuffers(a, b.mdl, m.base, m.runs[i].cva, m.runs[i].len, write));
        ops->FreeMapRegisters(a, m.base, r);
        KeLowerIrql(old);
        if (write) {
            for (ULONG i = 0; i < len; i++)
                if (dev[i] != pat(11, off + i))
                    fail_msg("device byte %lu: %#x, want %#x", (unsigned long)i, dev[i],
                             pat(11, off + i));
        } else {
            expect_byte(b.va, off, 0xEE, "before the transfer");
            expect_pat(b.va + off, len, 12, "device -> memory (MapTransfer runs)");
        }
    }
    buf_free(&b);
    ops->FreeCommonBuffer(a, PG, tla, tbl, FALSE);
    ops->PutDmaAdapter(a);
}

static void body_sg(struct env *e)
{
    if (e->setup != setup_isa24) {
        seq_sg(e, DEVICE_DESCRIPTION_VERSION1, 40000, 100);
        seq_sg(e, DEVICE_DESCRIPTION_VERSION2, 12345, 7);
        seq_sg(e, DEVICE_DESCRIPTION_VERSION2, 64 << 10, 0);
    }
    seq_sg(e, DEVICE_DESCRIPTION_VERSION3, 100000, 4000);
    seq_sg_ex(e, 30000, 333);
    seq_sg_maptransfer(e, DEVICE_DESCRIPTION_VERSION3, 5000, 0);
    seq_sg_maptransfer(e, DEVICE_DESCRIPTION_VERSION3, 70000, 1234);
}

static void test_sg_default(void **state)
{
    env_run(setup_default, body_sg, "standard");
}

static void test_sg_8g(void **state)
{
    env_run(setup_8g, body_sg, "standard");
}

static void test_sg_isa24(void **state)
{
    env_run(setup_isa24, body_sg, "standard");
}

/* ---- (b) bus master, packet, no scatter/gather --------------------------------------- */

struct pkt {
    const struct env *e;
    PDMA_ADAPTER a;
    struct buf *b;
    PVOID base;
    PUCHAR cva;
    ULONG l;
    ULONG devoff; /* where in the device's buffer this piece goes */
    BOOLEAN write;
    unsigned calls;
    IO_ALLOCATION_ACTION result;
};

/* MapTransfer, then the device programmed with (logical, length). */
static void map_and_start(struct pkt *p)
{
    ULONG want = p->l;
    PHYSICAL_ADDRESS la =
        p->a->DmaOperations->MapTransfer(p->a, p->b->mdl, p->base, p->cva, &p->l, p->write);
    assert_int_equal(p->l, want); /* a packet adapter maps the whole piece */
    expect_reach(p->e, (uint64_t)la.QuadPart, p->l);
    dmt_go(p->e->dmt, (uint64_t)la.QuadPart, p->l, p->devoff, 0,
           dmt_ctrl(dmatest_mode_single, p->write));
}

static DRIVER_CONTROL adapter_control;
static IO_ALLOCATION_ACTION NTAPI adapter_control(PDEVICE_OBJECT dev, PIRP irp, PVOID base,
                                                  PVOID ctx)
{
    struct pkt *p = ctx;
    assert_int_equal(KeGetCurrentIrql(), DISPATCH_LEVEL);
    p->base = base;
    p->calls++;
    map_and_start(p);
    return p->result;
}

/* spec/dma.md 5 (b): pieces of at most what the registers cover; each
 * piece flushed after the device's completion, the next one mapped into
 * the same registers. `lens` gets the piece lengths. */
static void seq_packet(const struct env *e, ULONG version, ULONG maxlen, ULONG len,
                       IO_ALLOCATION_ACTION result, ULONG *lens, unsigned *pieces)
{
    DEVICE_DESCRIPTION d = desc_master(e, version, false, maxlen);
    ULONG n = 0;
    PDMA_ADAPTER a = get_master(e, &d, &n);
    PDMA_OPERATIONS ops = a->DmaOperations;
    struct buf b = buf_new(len);
    uint8_t *dev = dmt_buf(e->dmt);
    uint64_t bounced = bounced_bytes();
    for (int pass = 0; pass < 2; pass++) {
        BOOLEAN write = pass == 0;
        if (write) {
            fill(b.va, len, 6);
            memset(dev, 0, len);
        } else {
            memset(b.va, 0xEE, len);
            fill(dev, len, 7);
        }
        KIRQL old;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        KeFlushIoBuffers(b.mdl, !write, TRUE);
        PUCHAR va = MmGetMdlVirtualAddress(b.mdl);
        ULONG r = SPAN_PAGES(va, len) < n ? SPAN_PAGES(va, len) : n;
        ULONG cap = r * PG - PG_OFFSET(va);
        struct pkt p = {.e = e,
                        .a = a,
                        .b = &b,
                        .cva = va,
                        .l = len < cap ? len : cap,
                        .write = write,
                        .result = result};
        assert_int_equal(ops->AllocateAdapterChannel(a, NULL, r, adapter_control, &p),
                         STATUS_SUCCESS);
        assert_int_equal(p.calls, 1);
        *pieces = 0;
        for (;;) {
            dmt_done(e->dmt, p.l); /* the ISR and DpcForIsr */
            lens[(*pieces)++] = p.l;
            assert_true(ops->FlushAdapterBuffers(a, b.mdl, p.base, p.cva, p.l, write));
            p.devoff += p.l;
            if (p.devoff == len)
                break;
            p.cva += p.l;
            ULONG left = len - p.devoff;
            cap = r * PG - PG_OFFSET(p.cva);
            p.l = left < cap ? left : cap;
            map_and_start(&p);
        }
        if (result == KeepObject)
            ops->FreeAdapterChannel(a);
        else
            ops->FreeMapRegisters(a, p.base, r);
        KeLowerIrql(old);
        if (write)
            expect_pat(dev, len, 6, "memory -> device");
        else
            expect_pat(b.va, len, 7, "device -> memory");
    }
    expect_beyond_reach(e, b.mdl, bounced);
    buf_free(&b);
    ops->PutDmaAdapter(a);
}

static DRIVER_CONTROL control_ex;
static IO_ALLOCATION_ACTION NTAPI control_ex(PDEVICE_OBJECT dev, PIRP irp, PVOID base, PVOID ctx)
{
    struct pkt *p = ctx;
    p->base = base;
    p->calls++;
    return KeepObject;
}

/* The version-3 packet sequence: GetDmaTransferInfo, AllocateAdapterChannelEx
 * (synchronous to the device, with a routine from it), MapTransferEx with
 * offsets from the MDL's start, FlushAdapterBuffersEx, FreeAdapterObject. */
static void seq_packet_ex(const struct env *e, ULONG maxlen, ULONG len)
{
    DEVICE_DESCRIPTION d = desc_master(e, DEVICE_DESCRIPTION_VERSION3, false, maxlen);
    ULONG n = 0;
    PDMA_ADAPTER a = get_master(e, &d, &n);
    PDMA_OPERATIONS ops = a->DmaOperations;
    struct buf b = buf_new(len);
    uint8_t *dev = dmt_buf(e->dmt);
    uint8_t ctx[DMA_TRANSFER_CONTEXT_SIZE_V1];
    assert_int_equal(ops->InitializeDmaTransferContext(a, ctx), STATUS_SUCCESS);
    for (int pass = 0; pass < 2; pass++) {
        BOOLEAN write = pass == 0;
        if (write) {
            fill(b.va, len, 8);
            memset(dev, 0, len);
        } else {
            memset(b.va, 0xEE, len);
            fill(dev, len, 9);
        }
        DMA_TRANSFER_INFO ti = {.Version = DMA_TRANSFER_INFO_VERSION1};
        assert_int_equal(ops->GetDmaTransferInfo(a, b.mdl, 0, len, write, &ti), STATUS_SUCCESS);
        assert_int_equal(ti.V1.MapRegisterCount, PAGES(len));
        ULONG r = ti.V1.MapRegisterCount < n ? ti.V1.MapRegisterCount : n;
        KIRQL old;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        struct pkt p = {.e = e};
        if (write) {
            assert_int_equal(ops->AllocateAdapterChannelEx(
                                 a, NULL, ctx, r, DMA_SYNCHRONOUS_CALLBACK, NULL, NULL, &p.base),
                             STATUS_SUCCESS);
        } else {
            assert_int_equal(
                ops->AllocateAdapterChannelEx(a, NULL, ctx, r, 0, control_ex, &p, NULL),
                STATUS_SUCCESS);
            assert_int_equal(p.calls, 1);
        }
        ULONGLONG offset = 0;
        while (offset < len) {
            union {
                SCATTER_GATHER_LIST l;
                uint8_t raw[sizeof(SCATTER_GATHER_LIST) + 2 * sizeof(SCATTER_GATHER_ELEMENT)];
            } sg;
            ULONG l = len - (ULONG)offset < r * PG ? len - (ULONG)offset : r * PG;
            assert_int_equal(ops->MapTransferEx(a, b.mdl, p.base, offset, 0, &l, write, &sg.l,
                                                sizeof(sg), NULL, NULL),
                             STATUS_SUCCESS);
            assert_int_equal(sg.l.NumberOfElements, 1);
            assert_int_equal(sg.l.Elements[0].Length, l);
            expect_reach(e, (uint64_t)sg.l.Elements[0].Address.QuadPart, l);
            dmt_go(e->dmt, (uint64_t)sg.l.Elements[0].Address.QuadPart, l, (uint32_t)offset, 0,
                   dmt_ctrl(dmatest_mode_single, write));
            dmt_done(e->dmt, l);
            assert_int_equal(ops->FlushAdapterBuffersEx(a, b.mdl, p.base, offset, l, write),
                             STATUS_SUCCESS);
            offset += l;
        }
        ops->FreeAdapterObject(a, DeallocateObject);
        KeLowerIrql(old);
        if (write)
            expect_pat(dev, len, 8, "memory -> device (MapTransferEx)");
        else
            expect_pat(b.va, len, 9, "device -> memory (MapTransferEx)");
    }
    buf_free(&b);
    ops->PutDmaAdapter(a);
}

static void body_packet(struct env *e)
{
    ULONG lens[16];
    unsigned pieces;
    seq_packet(e, DEVICE_DESCRIPTION_VERSION2, 64 << 10, 50000, DeallocateObjectKeepRegisters, lens,
               &pieces);
    assert_int_equal(pieces, 1);
    /* 12 pages through 5 registers: 3 pieces (spec/dma.md 3) */
    seq_packet(e, DEVICE_DESCRIPTION_VERSION1, 4 * PG - 1, 12 * PG, KeepObject, lens, &pieces);
    assert_int_equal(pieces, 3);
    assert_int_equal(lens[0], 5 * PG);
    assert_int_equal(lens[2], 2 * PG);
    seq_packet_ex(e, 3 * PG, 30000);
}

static void test_packet_default(void **state)
{
    env_run(setup_default, body_packet, "standard");
}

static void test_packet_8g(void **state)
{
    env_run(setup_8g, body_packet, "standard");
}

static void test_packet_isa24(void **state)
{
    env_run(setup_isa24, body_packet, "standard");
}

/* 5000 bytes from a page start through a device without S/G and one map
 * register (MaximumLength 0): 4096 + 904, two device commands. */
static void body_split(struct env *e)
{
    ULONG lens[4];
    unsigned pieces;
    seq_packet(e, DEVICE_DESCRIPTION_VERSION2, 0, 5000, DeallocateObjectKeepRegisters, lens,
               &pieces);
    assert_int_equal(pieces, 2);
    assert_int_equal(lens[0], 4096);
    assert_int_equal(lens[1], 904);
}

static void test_split_4096_904(void **state)
{
    env_run(setup_default, body_split, "standard");
    env_run(setup_8g, body_split, "standard");
    env_run(setup_isa24, body_split, "standard");
}

/* ---- common-buffer bus master ------------------------------------------------------- */

/* A queue as a common-buffer device has one: data buffers and the
 * descriptor table all in common buffers, no map registers; the device
 * moves data with single commands and through the table. */
static void seq_common(const struct env *e, ULONG version)
{
    enum { nbuf = 3 };
    static const ULONG size[nbuf] = {PG, 3 * PG + 100, 10000};
    DEVICE_DESCRIPTION d =
        desc_master(e, version, e->setup != setup_isa24 || version >= 3, 64 << 10);
    ULONG n = 0;
    PDMA_ADAPTER a = get_master(e, &d, &n);
    PDMA_OPERATIONS ops = a->DmaOperations;
    uint8_t *va[nbuf + 1];
    PHYSICAL_ADDRESS la[nbuf + 1];
    for (unsigned i = 0; i < nbuf; i++) {
        if (version >= 3) {
            PHYSICAL_ADDRESS max = {.QuadPart = (LONGLONG)(0xFFFFFFFFull >> (i & 1) * 4)};
            va[i] = ops->AllocateCommonBufferEx(a, &max, size[i], &la[i], i == 0, MM_ANY_NODE_OK);
            assert_non_null(va[i]);
            /* MaximumAddress bounds the physical address (logical-offset
             * may move the logical one) */
            assert_true((uint64_t)MmGetPhysicalAddress(va[i] + size[i] - 1).QuadPart <=
                        (uint64_t)max.QuadPart);
        } else {
            va[i] = ops->AllocateCommonBuffer(a, size[i], &la[i], i == 0);
            assert_non_null(va[i]);
        }
        expect_reach(e, (uint64_t)la[i].QuadPart, size[i]);
    }
    va[nbuf] = ops->AllocateCommonBuffer(a, PG, &la[nbuf], FALSE);
    assert_non_null(va[nbuf]);
    struct dmatest_desc *tbl = (struct dmatest_desc *)va[nbuf];
    uint8_t *dev = dmt_buf(e->dmt);
    ULONG total = 0;
    for (unsigned i = 0; i < nbuf; i++)
        total += size[i];
    /* single commands, one per buffer, both directions */
    for (unsigned i = 0; i < nbuf; i++) {
        fill(va[i], size[i], 10 + i);
        dmt_go(e->dmt, (uint64_t)la[i].QuadPart, size[i], 0, 0,
               dmt_ctrl(dmatest_mode_single, true));
        dmt_done(e->dmt, size[i]);
        expect_pat(dev, size[i], 10 + i, "common buffer -> device");
        fill(dev, size[i], 20 + i);
        dmt_go(e->dmt, (uint64_t)la[i].QuadPart, size[i], 0, 0,
               dmt_ctrl(dmatest_mode_single, false));
        dmt_done(e->dmt, size[i]);
        expect_pat(va[i], size[i], 20 + i, "device -> common buffer");
    }
    /* one table command over all of them, both directions */
    for (unsigned i = 0; i < nbuf; i++) {
        tbl[i] = (struct dmatest_desc){(uint64_t)la[i].QuadPart, size[i], 0};
        fill(va[i], size[i], 30 + i);
    }
    memset(dev, 0, total);
    dmt_go(e->dmt, (uint64_t)la[nbuf].QuadPart, 0, 0, nbuf, dmt_ctrl(dmatest_mode_table, true));
    dmt_done(e->dmt, total);
    for (unsigned i = 0, at = 0; i < nbuf; at += size[i], i++)
        expect_pat(dev + at, size[i], 30 + i, "common buffers -> device (table)");
    for (unsigned i = 0, at = 0; i < nbuf; at += size[i], i++) {
        fill(dev + at, size[i], 40 + i);
        memset(va[i], 0xEE, size[i]);
    }
    dmt_go(e->dmt, (uint64_t)la[nbuf].QuadPart, 0, 0, nbuf, dmt_ctrl(dmatest_mode_table, false));
    dmt_done(e->dmt, total);
    for (unsigned i = 0; i < nbuf; i++)
        expect_pat(va[i], size[i], 40 + i, "device -> common buffers (table)");
    for (unsigned i = 0; i < nbuf; i++)
        ops->FreeCommonBuffer(a, size[i], la[i], va[i], i == 0);
    ops->FreeCommonBuffer(a, PG, la[nbuf], va[nbuf], FALSE);
    ops->PutDmaAdapter(a);
}

static void body_common(struct env *e)
{
    if (e->setup != setup_isa24)
        seq_common(e, DEVICE_DESCRIPTION_VERSION2);
    seq_common(e, DEVICE_DESCRIPTION_VERSION3);
}

static void test_common_default(void **state)
{
    env_run(setup_default, body_common, "standard");
}

static void test_common_8g(void **state)
{
    env_run(setup_8g, body_common, "standard");
}

static void test_common_isa24(void **state)
{
    env_run(setup_isa24, body_common, "standard");
}

/* Everything again with the verifier's "all": double buffering (every
 * page bounces) and logical-offset (logical != physical for masters), so a
 * device using a physical address would be refused. */
static void body_all(struct env *e)
{
    body_sg(e);
    body_packet(e);
    body_common(e);
}

static void test_verifier_all(void **state)
{
    env_run(setup_default, body_all, "all");
    env_run(setup_8g, body_all, "all");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sg_default),     cmocka_unit_test(test_sg_8g),
        cmocka_unit_test(test_sg_isa24),       cmocka_unit_test(test_packet_default),
        cmocka_unit_test(test_packet_8g),      cmocka_unit_test(test_packet_isa24),
        cmocka_unit_test(test_split_4096_904), cmocka_unit_test(test_common_default),
        cmocka_unit_test(test_common_8g),      cmocka_unit_test(test_common_isa24),
        cmocka_unit_test(test_verifier_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
