/*
 * tests/hal/test_dmatest_ops.c - the DMA_OPERATIONS routines the call
 * sequences of test_dmatest_sequences.c / test_dmatest_sysdma.c do not
 * need, with DMT-1 moving the data: CancelAdapterChannel while the holder's
 * transfer runs, CancelMappedTransfer stopping a system DMA transfer
 * midway (what moved is copied back, nothing more), the routines wdmsim
 * does not model (domains, ConfigureAdapterChannel: status only); and the
 * bus checks applied to the model: a device using a list after its Put,
 * against its direction, or a physical address under logical-offset is
 * stopped; a driver that overstates the device's width is caught by the
 * device; the completion interrupt.
 * The table of every routine and the test that covers it is in docs/dma.md
 * "Testing".
 * Spec: spec/dma.md 2, 3; spec/verifier.md 9; docs/devices/dmatest.md.
 */
#include "dmatest_env.h"

static void expect_stop(enum setup setup, const char *verifier, void (*body)(struct env *e),
                        uint32_t code, uint64_t p1, const char *rule)
{
    struct env e;
    env_boot(&e, setup, verifier);
    assert_int_equal(env_exec(&e, body), WDMSIM_STOPPED);
    const struct wdmsim_bugcheck *bc = wdmsim_get_bugcheck(e.sim);
    assert_non_null(bc);
    assert_int_equal(bc->code, code);
    assert_int_equal(bc->parameters[0], p1);
    assert_non_null(bc->rule);
    assert_string_equal(bc->rule, rule);
    wdmsim_shutdown(e.sim);
}

static DRIVER_LIST_CONTROL keep_list;
static VOID NTAPI keep_list(PDEVICE_OBJECT dev, PIRP irp, PSCATTER_GATHER_LIST sg, PVOID ctx)
{
    *(PSCATTER_GATHER_LIST *)ctx = sg;
}

/* ---- CancelAdapterChannel ------------------------------------------------------------- */

static unsigned cancelled_calls;

static DRIVER_CONTROL never_control;
static IO_ALLOCATION_ACTION NTAPI never_control(PDEVICE_OBJECT dev, PIRP irp, PVOID base, PVOID ctx)
{
    cancelled_calls++;
    return DeallocateObject;
}

/* Device object 1 holds the channel (synchronous AllocateAdapterChannelEx)
 * and moves data; device object 2 queues behind it and cancels. */
static void body_cancel_channel(struct env *e)
{
    enum { len = 3 * PG + 10 };
    DEVICE_DESCRIPTION d = desc_master(e, DEVICE_DESCRIPTION_VERSION3, false, len);
    ULONG n = 0;
    PDMA_ADAPTER a = get_master(e, &d, &n);
    PDMA_OPERATIONS ops = a->DmaOperations;
    DEVICE_OBJECT d1, d2;
    memset(&d1, 0, sizeof(d1));
    memset(&d2, 0, sizeof(d2));
    uint8_t ctx1[DMA_TRANSFER_CONTEXT_SIZE_V1], ctx2[DMA_TRANSFER_CONTEXT_SIZE_V1];
    assert_int_equal(ops->InitializeDmaTransferContext(a, ctx1), STATUS_SUCCESS);
    assert_int_equal(ops->InitializeDmaTransferContext(a, ctx2), STATUS_SUCCESS);
    struct buf b = buf_new(len);
    fill(b.va, len, 70);
    uint8_t *dev = dmt_buf(e->dmt);
    memset(dev, 0, len);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    PVOID base = NULL;
    assert_int_equal(ops->AllocateAdapterChannelEx(a, &d1, ctx1, PAGES(len),
                                                   DMA_SYNCHRONOUS_CALLBACK, NULL, NULL, &base),
                     STATUS_SUCCESS);
    cancelled_calls = 0;
    assert_int_equal(ops->AllocateAdapterChannelEx(a, &d2, ctx2, 1, 0, never_control, NULL, NULL),
                     STATUS_SUCCESS);
    union {
        SCATTER_GATHER_LIST l;
        uint8_t raw[sizeof(SCATTER_GATHER_LIST) + sizeof(SCATTER_GATHER_ELEMENT)];
    } sg;
    ULONG l = len;
    assert_int_equal(
        ops->MapTransferEx(a, b.mdl, base, 0, 0, &l, TRUE, &sg.l, sizeof(sg), NULL, NULL),
        STATUS_SUCCESS);
    dmt_go(e->dmt, (uint64_t)sg.l.Elements[0].Address.QuadPart, l, 0, 0,
           dmt_ctrl(dmatest_mode_single, true));
    /* the waiter gives up while the holder's device is busy */
    assert_true(ops->CancelAdapterChannel(a, &d2, ctx2));
    assert_false(ops->CancelAdapterChannel(a, &d2, ctx2));
    dmt_done(e->dmt, len);
    assert_int_equal(ops->FlushAdapterBuffersEx(a, b.mdl, base, 0, l, TRUE), STATUS_SUCCESS);
    ops->FreeAdapterObject(a, DeallocateObject);
    KeLowerIrql(old);
    assert_int_equal(cancelled_calls, 0); /* never granted, after the holder freed either */
    expect_pat(dev, len, 70, "memory -> device beside a cancelled request");
    buf_free(&b);
    ops->PutDmaAdapter(a);
}

static void test_cancel_adapter_channel(void **state)
{
    env_run(setup_default, body_cancel_channel, "standard");
    env_run(setup_8g, body_cancel_channel, "standard");
}

/* ---- requests that wait for map registers ---------------------------------------------- */

struct waiter {
    const struct env *e;
    PDMA_ADAPTER a;
    struct buf *b;
    BOOLEAN write;
    PVOID base;
    PSCATTER_GATHER_LIST list;
    PHYSICAL_ADDRESS tla;
    struct dmatest_desc *tbl;
    unsigned calls;
};

/* ListControl: the list into the device's table, the device started. */
static DRIVER_LIST_CONTROL start_list;
static VOID NTAPI start_list(PDEVICE_OBJECT dev, PIRP irp, PSCATTER_GATHER_LIST sg, PVOID ctx)
{
    struct waiter *w = ctx;
    assert_int_equal(KeGetCurrentIrql(), DISPATCH_LEVEL);
    w->list = sg;
    w->calls++;
    for (ULONG i = 0; i < sg->NumberOfElements; i++)
        w->tbl[i] = (struct dmatest_desc){(uint64_t)sg->Elements[i].Address.QuadPart,
                                          sg->Elements[i].Length, 0};
    dmt_go(w->e->dmt, (uint64_t)w->tla.QuadPart, 0, 0, sg->NumberOfElements,
           dmt_ctrl(dmatest_mode_table, w->write));
}

/* Two lists on an adapter whose registers hold only one: the second
 * ListControl runs from the first's Put, and its device command then. */
static void body_sg_queue(struct env *e)
{
    enum { len = 4 * PG };
    DEVICE_DESCRIPTION d = desc_master(e, DEVICE_DESCRIPTION_VERSION3, true, 5 * PG);
    ULONG n = 0;
    PDMA_ADAPTER a = get_master(e, &d, &n);
    assert_int_equal(n, 6);
    PDMA_OPERATIONS ops = a->DmaOperations;
    struct buf b1 = buf_new(len), b2 = buf_new(len);
    fill(b1.va, len, 74);
    memset(b2.va, 0xEE, len);
    uint8_t *dev = dmt_buf(e->dmt);
    memset(dev, 0, 2 * len);
    struct waiter w1 = {.e = e, .a = a, .b = &b1, .write = TRUE};
    struct waiter w2 = {.e = e, .a = a, .b = &b2, .write = FALSE};
    w1.tbl = ops->AllocateCommonBuffer(a, PG, &w1.tla, FALSE);
    w2.tbl = ops->AllocateCommonBuffer(a, PG, &w2.tla, FALSE);
    assert_non_null(w1.tbl);
    assert_non_null(w2.tbl);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    DEVICE_OBJECT d1, d2;
    memset(&d1, 0, sizeof(d1));
    memset(&d2, 0, sizeof(d2));
    assert_int_equal(ops->GetScatterGatherList(a, &d1, b1.mdl, b1.va, len, start_list, &w1, TRUE),
                     STATUS_SUCCESS);
    assert_int_equal(w1.calls, 1);
    assert_int_equal(ops->GetScatterGatherList(a, &d2, b2.mdl, b2.va, len, start_list, &w2, FALSE),
                     STATUS_SUCCESS);
    assert_int_equal(w2.calls, 0); /* 4 + 4 registers > 6 */
    dmt_done(e->dmt, len);
    expect_pat(dev, len, 74, "memory -> device (first list)");
    fill(dev, len, 75); /* what the device will send for the second list */
    ops->PutScatterGatherList(a, w1.list, TRUE);
    assert_int_equal(w2.calls, 1); /* granted by the Put; its command started */
    dmt_done(e->dmt, len);
    ops->PutScatterGatherList(a, w2.list, FALSE);
    KeLowerIrql(old);
    expect_pat(b2.va, len, 75, "device -> memory (queued list)");
    expect_pat(b1.va, len, 74, "the first buffer, unchanged");
    buf_free(&b1);
    buf_free(&b2);
    ops->FreeCommonBuffer(a, PG, w1.tla, w1.tbl, FALSE);
    ops->FreeCommonBuffer(a, PG, w2.tla, w2.tbl, FALSE);
    ops->PutDmaAdapter(a);
}

/* AdapterControl: one MapTransfer of the whole buffer, the device started. */
static DRIVER_CONTROL start_packet;
static IO_ALLOCATION_ACTION NTAPI start_packet(PDEVICE_OBJECT dev, PIRP irp, PVOID base, PVOID ctx)
{
    struct waiter *w = ctx;
    w->base = base;
    w->calls++;
    ULONG l = w->b->len;
    PHYSICAL_ADDRESS la = w->a->DmaOperations->MapTransfer(
        w->a, w->b->mdl, base, MmGetMdlVirtualAddress(w->b->mdl), &l, w->write);
    assert_int_equal(l, w->b->len);
    dmt_go(w->e->dmt, (uint64_t)la.QuadPart, l, 0, 0, dmt_ctrl(dmatest_mode_single, w->write));
    return DeallocateObjectKeepRegisters;
}

/* Packet DMA: the second device object's AdapterControl waits for map
 * registers and runs from the first's FreeMapRegisters. */
static void body_packet_queue(struct env *e)
{
    enum { len = 3 * PG };
    DEVICE_DESCRIPTION d = desc_master(e, DEVICE_DESCRIPTION_VERSION2, false, 4 * PG);
    ULONG n = 0;
    PDMA_ADAPTER a = get_master(e, &d, &n);
    assert_int_equal(n, 5);
    PDMA_OPERATIONS ops = a->DmaOperations;
    struct buf b1 = buf_new(len), b2 = buf_new(len);
    fill(b1.va, len, 76);
    memset(b2.va, 0xEE, len);
    uint8_t *dev = dmt_buf(e->dmt);
    memset(dev, 0, len);
    struct waiter w1 = {.e = e, .a = a, .b = &b1, .write = TRUE};
    struct waiter w2 = {.e = e, .a = a, .b = &b2, .write = FALSE};
    DEVICE_OBJECT d1, d2;
    memset(&d1, 0, sizeof(d1));
    memset(&d2, 0, sizeof(d2));
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    assert_int_equal(ops->AllocateAdapterChannel(a, &d1, 3, start_packet, &w1), STATUS_SUCCESS);
    assert_int_equal(ops->AllocateAdapterChannel(a, &d2, 3, start_packet, &w2), STATUS_SUCCESS);
    assert_int_equal(w1.calls, 1);
    assert_int_equal(w2.calls, 0); /* channel free again, registers not */
    dmt_done(e->dmt, len);
    expect_pat(dev, len, 76, "memory -> device (first request)");
    fill(dev, len, 77);
    assert_true(
        ops->FlushAdapterBuffers(a, b1.mdl, w1.base, MmGetMdlVirtualAddress(b1.mdl), len, TRUE));
    ops->FreeMapRegisters(a, w1.base, 3);
    assert_int_equal(w2.calls, 1);
    dmt_done(e->dmt, len);
    assert_true(
        ops->FlushAdapterBuffers(a, b2.mdl, w2.base, MmGetMdlVirtualAddress(b2.mdl), len, FALSE));
    ops->FreeMapRegisters(a, w2.base, 3);
    KeLowerIrql(old);
    expect_pat(b2.va, len, 77, "device -> memory (queued request)");
    buf_free(&b1);
    buf_free(&b2);
    ops->PutDmaAdapter(a);
}

static void body_queues(struct env *e)
{
    body_sg_queue(e);
    body_packet_queue(e);
}

static void test_queued_requests(void **state)
{
    env_run(setup_default, body_queues, "standard");
    env_run(setup_8g, body_queues, "standard");
    env_run(setup_isa24, body_queues, "standard");
}

/* ---- an MDL chain ------------------------------------------------------------------------ */

/* GetScatterGatherList follows Mdl->Next (spec/dma.md 3): three buffers
 * chained, the transfer starting inside the first; the device sees their
 * bytes in chain order and writes back across all three. */
static void body_chain(struct env *e)
{
    enum { nb = 3, off = 300 };
    static const ULONG size[nb] = {5000, 2 * PG, 777};
    DEVICE_DESCRIPTION d = desc_master(e, DEVICE_DESCRIPTION_VERSION3, true, 8 * PG);
    ULONG n = 0;
    PDMA_ADAPTER a = get_master(e, &d, &n);
    PDMA_OPERATIONS ops = a->DmaOperations;
    struct buf b[nb];
    ULONG total = 0;
    for (unsigned i = 0; i < nb; i++) {
        b[i] = buf_new(size[i]);
        if (i)
            b[i - 1].mdl->Next = b[i].mdl;
        total += size[i];
    }
    ULONG len = total - off;
    PHYSICAL_ADDRESS tla;
    struct dmatest_desc *tbl = ops->AllocateCommonBuffer(a, PG, &tla, FALSE);
    assert_non_null(tbl);
    uint8_t *dev = dmt_buf(e->dmt);
    for (int pass = 0; pass < 2; pass++) {
        BOOLEAN write = pass == 0;
        unsigned seed = write ? 78 : 79;
        /* the chain's bytes from `off` are pat(seed, 0 ...) */
        for (unsigned i = 0, at = 0; i < nb; at += size[i], i++)
            for (ULONG k = 0; k < size[i]; k++)
                b[i].va[k] = write && at + k >= off ? pat(seed, at + k - off) : 0xEE;
        if (write)
            memset(dev, 0, len);
        else
            fill(dev, len, seed);
        KIRQL old;
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        PSCATTER_GATHER_LIST list = NULL;
        assert_int_equal(ops->GetScatterGatherList(a, NULL, b[0].mdl, b[0].va + off, len, keep_list,
                                                   &list, write),
                         STATUS_SUCCESS);
        assert_non_null(list);
        ULONG sum = 0;
        for (ULONG i = 0; i < list->NumberOfElements; i++) {
            expect_reach(e, (uint64_t)list->Elements[i].Address.QuadPart, list->Elements[i].Length);
            tbl[i] = (struct dmatest_desc){(uint64_t)list->Elements[i].Address.QuadPart,
                                           list->Elements[i].Length, 0};
            sum += list->Elements[i].Length;
        }
        assert_int_equal(sum, len);
        dmt_go(e->dmt, (uint64_t)tla.QuadPart, 0, 0, list->NumberOfElements,
               dmt_ctrl(dmatest_mode_table, write));
        dmt_done(e->dmt, len);
        ops->PutScatterGatherList(a, list, write);
        KeLowerIrql(old);
        if (write) {
            expect_pat(dev, len, seed, "MDL chain -> device");
        } else {
            expect_byte(b[0].va, off, 0xEE, "chain before the transfer");
            for (unsigned i = 0, at = 0; i < nb; at += size[i], i++)
                for (ULONG k = at < off ? off - at : 0; k < size[i]; k++)
                    if (b[i].va[k] != pat(seed, at + k - off))
                        fail_msg("MDL %u byte %lu: %#x, want %#x", i, (unsigned long)k, b[i].va[k],
                                 pat(seed, at + k - off));
        }
    }
    for (unsigned i = 0; i < nb; i++) {
        b[i].mdl->Next = NULL;
        buf_free(&b[i]);
    }
    ops->FreeCommonBuffer(a, PG, tla, tbl, FALSE);
    ops->PutDmaAdapter(a);
}

static void test_mdl_chain(void **state)
{
    env_run(setup_default, body_chain, "standard");
    env_run(setup_8g, body_chain, "standard");
    env_run(setup_isa24, body_chain, "standard");
    env_run(setup_8g, body_chain, "all");
}

/* ---- CancelMappedTransfer ------------------------------------------------------------------ */

/* Device -> memory on a slave channel, cancelled once part has moved: the
 * channel is masked, the device stalls with DREQ up, the flush copies back
 * exactly what the controller moved (Length - ReadDmaCounter). */
static void cancel_mapped_on(struct wdmsim_dev *dev)
{
    enum { len = 8000 };
    ULONG n = 0;
    PDMA_ADAPTER a = get_slave(dev, DEVICE_DESCRIPTION_VERSION3, len, false, false, &n);
    PDMA_OPERATIONS ops = a->DmaOperations;
    struct buf b = buf_new(len);
    memset(b.va, 0xEE, len);
    fill(dmt_buf(dev), len, 71);
    uint8_t ctx[DMA_TRANSFER_CONTEXT_SIZE_V1];
    assert_int_equal(ops->InitializeDmaTransferContext(a, ctx), STATUS_SUCCESS);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    PVOID base = NULL;
    assert_int_equal(ops->AllocateAdapterChannelEx(a, NULL, ctx, PAGES(len),
                                                   DMA_SYNCHRONOUS_CALLBACK, NULL, NULL, &base),
                     STATUS_SUCCESS);
    union {
        SCATTER_GATHER_LIST l;
        uint8_t raw[sizeof(SCATTER_GATHER_LIST) + sizeof(SCATTER_GATHER_ELEMENT)];
    } sg;
    ULONG l = len;
    assert_int_equal(
        ops->MapTransferEx(a, b.mdl, base, 0, 0, &l, FALSE, &sg.l, sizeof(sg), NULL, NULL),
        STATUS_SUCCESS);
    dmt_go(dev, 0, len, 0, 0, dmt_ctrl(dmatest_mode_slave, false));
    while (dmt_r(dev, dmatest_reg_xferred) < 3000)
        env_step();
    assert_int_equal(ops->CancelMappedTransfer(a, ctx), STATUS_SUCCESS);
    ULONG moved = dmt_r(dev, dmatest_reg_xferred);
    assert_int_equal(ops->ReadDmaCounter(a), len - moved);
    env_wait_ns(100000); /* time passes: the masked channel moves nothing */
    assert_int_equal(dmt_r(dev, dmatest_reg_xferred), moved);
    assert_true(dmt_r(dev, dmatest_reg_status) & dmatest_st_busy);
    assert_int_equal(ops->FlushAdapterBuffersEx(a, b.mdl, base, 0, len, FALSE), STATUS_SUCCESS);
    ops->FreeAdapterObject(a, DeallocateObject);
    KeLowerIrql(old);
    dmt_w(dev, dmatest_reg_control, dmatest_ctrl_reset);
    expect_pat(b.va, moved, 71, "device -> memory before the cancel");
    expect_byte(b.va + moved, len - moved, 0xEE, "device -> memory after the cancel");
    buf_free(&b);
    ops->PutDmaAdapter(a);
}

static void body_cancel_mapped(struct env *e)
{
    cancel_mapped_on(e->dmi1);
    cancel_mapped_on(e->dmi5);
    /* a bus master has no system DMA transfer to cancel */
    DEVICE_DESCRIPTION d = desc_master(e, DEVICE_DESCRIPTION_VERSION3, true, PG);
    ULONG n;
    PDMA_ADAPTER a = get_master(e, &d, &n);
    uint8_t ctx[DMA_TRANSFER_CONTEXT_SIZE_V1];
    assert_int_equal(a->DmaOperations->InitializeDmaTransferContext(a, ctx), STATUS_SUCCESS);
    assert_int_equal(a->DmaOperations->CancelMappedTransfer(a, ctx), STATUS_NOT_SUPPORTED);
    a->DmaOperations->PutDmaAdapter(a);
}

static void test_cancel_mapped_transfer(void **state)
{
    env_run(setup_default, body_cancel_mapped, "standard");
    env_run(setup_8g, body_cancel_mapped, "standard");
    env_run(setup_isa24, body_cancel_mapped, "standard");
}

/* ---- FreeAdapterObject over an unflushed transfer ------------------------------------------ */

/* The device wrote through a MapTransferEx mapping; the driver frees the
 * channel and its registers without FlushAdapterBuffersEx. As with
 * FreeAdapterChannel this is dma.free-while-mapped, not a silent flush. */
static void body_free_object_unflushed(struct env *e)
{
    DEVICE_DESCRIPTION d = desc_master(e, DEVICE_DESCRIPTION_VERSION3, false, 2 * PG);
    ULONG n = 0;
    PDMA_ADAPTER a = get_master(e, &d, &n);
    PDMA_OPERATIONS ops = a->DmaOperations;
    struct buf b = buf_new(PG);
    uint8_t ctx[DMA_TRANSFER_CONTEXT_SIZE_V1];
    assert_int_equal(ops->InitializeDmaTransferContext(a, ctx), STATUS_SUCCESS);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    PVOID base = NULL;
    assert_int_equal(
        ops->AllocateAdapterChannelEx(a, NULL, ctx, 1, DMA_SYNCHRONOUS_CALLBACK, NULL, NULL, &base),
        STATUS_SUCCESS);
    union {
        SCATTER_GATHER_LIST l;
        uint8_t raw[sizeof(SCATTER_GATHER_LIST) + sizeof(SCATTER_GATHER_ELEMENT)];
    } sg;
    ULONG l = PG;
    assert_int_equal(
        ops->MapTransferEx(a, b.mdl, base, 0, 0, &l, FALSE, &sg.l, sizeof(sg), NULL, NULL),
        STATUS_SUCCESS);
    dmt_go(e->dmt, (uint64_t)sg.l.Elements[0].Address.QuadPart, l, 0, 0,
           dmt_ctrl(dmatest_mode_single, false));
    dmt_done(e->dmt, l);
    ops->FreeAdapterObject(a, DeallocateObject); /* no FlushAdapterBuffersEx */
    fail_msg("FreeAdapterObject freed registers still mapped");
}

static void test_free_object_unflushed(void **state)
{
    expect_stop(setup_8g, "standard", body_free_object_unflushed, 0xE6, 0x10,
                "dma.free-while-mapped");
}

/* FreeAdapterObject twice: the second has no channel to free, the bug
 * FreeAdapterChannel reports as dma.channel-double-free. */
static void body_free_object_twice(struct env *e)
{
    DEVICE_DESCRIPTION d = desc_master(e, DEVICE_DESCRIPTION_VERSION3, false, 2 * PG);
    ULONG n = 0;
    PDMA_ADAPTER a = get_master(e, &d, &n);
    PDMA_OPERATIONS ops = a->DmaOperations;
    uint8_t ctx[DMA_TRANSFER_CONTEXT_SIZE_V1];
    assert_int_equal(ops->InitializeDmaTransferContext(a, ctx), STATUS_SUCCESS);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    PVOID base = NULL;
    assert_int_equal(
        ops->AllocateAdapterChannelEx(a, NULL, ctx, 1, DMA_SYNCHRONOUS_CALLBACK, NULL, NULL, &base),
        STATUS_SUCCESS);
    ops->FreeAdapterObject(a, DeallocateObject);
    ops->FreeAdapterObject(a, DeallocateObject);
    fail_msg("a second FreeAdapterObject went unreported");
}

static void test_free_object_twice(void **state)
{
    expect_stop(setup_default, "standard", body_free_object_twice, 0xE6, 0x4,
                "dma.channel-double-free");
}

/* ---- routines wdmsim does not model (docs/dma.md Decisions) ---------------------------- */

static void not_modelled(PDMA_ADAPTER a)
{
    PDMA_OPERATIONS ops = a->DmaOperations;
    assert_int_equal(ops->JoinDmaDomain(a, NULL), STATUS_NOT_SUPPORTED);
    assert_int_equal(ops->LeaveDmaDomain(a), STATUS_NOT_SUPPORTED);
    assert_null(ops->GetDmaDomain(a));
    assert_int_equal(ops->ConfigureAdapterChannel(a, 0, NULL), STATUS_NOT_IMPLEMENTED);
    HANDLE domain = (HANDLE)1;
    PVOID va = NULL;
    PHYSICAL_ADDRESS la;
    assert_int_equal(
        ops->AllocateDomainCommonBuffer(a, domain, NULL, PG, 0, NULL, MM_ANY_NODE_OK, &la, &va),
        STATUS_NOT_SUPPORTED);
}

static void body_not_modelled(struct env *e)
{
    DEVICE_DESCRIPTION d = desc_master(e, DEVICE_DESCRIPTION_VERSION3, true, PG);
    ULONG n;
    PDMA_ADAPTER a = get_master(e, &d, &n);
    not_modelled(a);
    a->DmaOperations->PutDmaAdapter(a);
    a = get_slave(e->dmi5, DEVICE_DESCRIPTION_VERSION3, PG, false, false, &n);
    not_modelled(a);
    a->DmaOperations->PutDmaAdapter(a);
}

static void test_not_modelled(void **state)
{
    env_run(setup_default, body_not_modelled, "standard");
}

/* ---- the bus checks, applied to the model ------------------------------------------- */

struct listed {
    PDMA_ADAPTER a;
    PSCATTER_GATHER_LIST list;
    PHYSICAL_ADDRESS tla;
    struct dmatest_desc *tbl;
    struct buf b;
};

/* An S/G list of len bytes mapped `write`, its elements in the device's
 * table; at DISPATCH_LEVEL on return. */
static void list_for_device(const struct env *e, ULONG version, ULONG len, BOOLEAN write,
                            struct listed *t)
{
    DEVICE_DESCRIPTION d = desc_master(e, version, true, len);
    if (e->setup == setup_8g && version == DEVICE_DESCRIPTION_VERSION2)
        d.Dma64BitAddresses = TRUE; /* the driver overstates the device */
    ULONG n;
    t->a = get_master(e, &d, &n);
    t->tbl = t->a->DmaOperations->AllocateCommonBuffer(t->a, PG, &t->tla, FALSE);
    assert_non_null(t->tbl);
    t->b = buf_new(len);
    fill(t->b.va, len, 72);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    assert_int_equal(t->a->DmaOperations->GetScatterGatherList(t->a, NULL, t->b.mdl,
                                                               MmGetMdlVirtualAddress(t->b.mdl),
                                                               len, keep_list, &t->list, write),
                     STATUS_SUCCESS);
    for (ULONG i = 0; i < t->list->NumberOfElements; i++)
        t->tbl[i] = (struct dmatest_desc){(uint64_t)t->list->Elements[i].Address.QuadPart,
                                          t->list->Elements[i].Length, 0};
}

/* The device walks a list the driver already put. */
static void body_after_put(struct env *e)
{
    struct listed t;
    list_for_device(e, DEVICE_DESCRIPTION_VERSION3, 2 * PG, TRUE, &t);
    ULONG nel = t.list->NumberOfElements;
    t.a->DmaOperations->PutScatterGatherList(t.a, t.list, TRUE);
    dmt_go(e->dmt, (uint64_t)t.tla.QuadPart, 0, 0, nel, dmt_ctrl(dmatest_mode_table, true));
    dmt_wait(e->dmt);
    fail_msg("the bus let the device use a list after PutScatterGatherList");
}

/* The device writes into a list mapped memory -> device. */
static void body_wrong_direction(struct env *e)
{
    struct listed t;
    list_for_device(e, DEVICE_DESCRIPTION_VERSION3, 2 * PG, TRUE, &t);
    dmt_go(e->dmt, (uint64_t)t.tla.QuadPart, 0, 0, t.list->NumberOfElements,
           dmt_ctrl(dmatest_mode_table, false));
    dmt_wait(e->dmt);
    fail_msg("the bus let the device write memory mapped for reading");
}

/* Under logical-offset the driver programs the physical address. */
static void body_physical(struct env *e)
{
    struct listed t;
    list_for_device(e, DEVICE_DESCRIPTION_VERSION3, PG, TRUE, &t);
    PHYSICAL_ADDRESS pa = MmGetPhysicalAddress(t.b.va);
    assert_true(pa.QuadPart != t.list->Elements[0].Address.QuadPart);
    dmt_go(e->dmt, (uint64_t)pa.QuadPart, PG, 0, 0, dmt_ctrl(dmatest_mode_single, true));
    dmt_wait(e->dmt);
    fail_msg("the bus let the device use a physical address");
}

static void test_bus_checks(void **state)
{
    expect_stop(setup_default, "standard", body_after_put, 0xE6, 0x26,
                "dma.device-outside-mapping");
    expect_stop(setup_8g, "standard", body_wrong_direction, 0xE6, 0x26,
                "dma.device-wrong-direction");
    expect_stop(setup_default, "standard,logical-offset", body_physical, 0xE6, 0x26,
                "dma.physical-address-used");
}

/* A driver describing the 32-bit device as 64-bit gets elements above
 * 4 GiB; the device refuses to drive them (ADDR_WIDTH), no byte moves. */
static void body_overstated(struct env *e)
{
    struct listed t;
    list_for_device(e, DEVICE_DESCRIPTION_VERSION2, 6 * PG, TRUE, &t);
    uint64_t high = 0; /* the first element the device cannot carry */
    for (ULONG i = 0; i < t.list->NumberOfElements && !high; i++)
        if ((uint64_t)t.list->Elements[i].Address.QuadPart + t.list->Elements[i].Length >
            (4ULL << 30))
            high = (uint64_t)t.list->Elements[i].Address.QuadPart;
    assert_true(high != 0);
    struct dmatest_stats before, after;
    dmatest_get_stats(e->dmt, &before);
    dmt_go(e->dmt, (uint64_t)t.tla.QuadPart, 0, 0, t.list->NumberOfElements,
           dmt_ctrl(dmatest_mode_table, true));
    uint32_t st = dmt_wait(e->dmt);
    assert_true(st & dmatest_st_error);
    assert_int_equal((st >> dmatest_st_errcode_shift) & 0xFF, dmatest_err_addr_width);
    assert_int_equal(dmt_r(e->dmt, dmatest_reg_xferred), 0);
    dmatest_get_stats(e->dmt, &after);
    assert_int_equal(after.bytes_to_device, before.bytes_to_device);
    uint64_t err =
        (uint64_t)dmt_r(e->dmt, dmatest_reg_err_hi) << 32 | dmt_r(e->dmt, dmatest_reg_err_lo);
    assert_int_equal(err, high);
    t.a->DmaOperations->PutScatterGatherList(t.a, t.list, TRUE);
    KeLowerIrql(PASSIVE_LEVEL);
    buf_free(&t.b);
    t.a->DmaOperations->FreeCommonBuffer(t.a, PG, t.tla, t.tbl, FALSE);
    t.a->DmaOperations->PutDmaAdapter(t.a);
}

static void test_overstated_width(void **state)
{
    struct env e;
    env_boot(&e, setup_8g, "standard");
    assert_int_equal(env_exec(&e, body_overstated), WDMSIM_OK);
    assert_int_equal(wdmsim_violations(e.sim), 0);
    assert_int_equal(wdmsim_device_violations(e.sim), 1); /* DMT_ADDR_WIDTH */
    assert_int_equal(wdmsim_dev_report_count(e.dmt, "DMT_ADDR_WIDTH"), 1);
    wdmsim_shutdown(e.sim);
}

/* ---- the completion interrupt -------------------------------------------------------------- */

static bool line_of(struct wdmsim_dev *d)
{
    struct wdmsim_dev_resources r;
    wdmsim_dev_get_resources(d, &r);
    assert_true(r.irq >= 0);
    return sys_get()->machine.intc.line[r.irq].asserted;
}

static void body_interrupt(struct env *e)
{
    PHYSICAL_ADDRESS la;
    DEVICE_DESCRIPTION d = desc_master(e, DEVICE_DESCRIPTION_VERSION2, true, PG);
    ULONG n;
    PDMA_ADAPTER a = get_master(e, &d, &n);
    uint8_t *cb = a->DmaOperations->AllocateCommonBuffer(a, PG, &la, FALSE);
    fill(cb, PG, 73);
    dmt_go(e->dmt, (uint64_t)la.QuadPart, PG, 0, 0,
           dmt_ctrl(dmatest_mode_single, true) | dmatest_ctrl_ien);
    assert_false(line_of(e->dmt));
    assert_true(dmt_wait(e->dmt) & dmatest_st_done);
    assert_true(line_of(e->dmt)); /* INTA# while DONE and IEN */
    dmt_w(e->dmt, dmatest_reg_status, dmatest_st_done);
    assert_false(line_of(e->dmt));
    expect_pat(dmt_buf(e->dmt), PG, 73, "common buffer -> device");
    a->DmaOperations->FreeCommonBuffer(a, PG, la, cb, FALSE);
    a->DmaOperations->PutDmaAdapter(a);
}

static void test_interrupt(void **state)
{
    env_run(setup_default, body_interrupt, "standard");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queued_requests),
        cmocka_unit_test(test_mdl_chain),
        cmocka_unit_test(test_cancel_adapter_channel),
        cmocka_unit_test(test_cancel_mapped_transfer),
        cmocka_unit_test(test_free_object_unflushed),
        cmocka_unit_test(test_free_object_twice),
        cmocka_unit_test(test_not_modelled),
        cmocka_unit_test(test_bus_checks),
        cmocka_unit_test(test_overstated_width),
        cmocka_unit_test(test_interrupt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
