/*
 * tests/hal/test_ops.c - DMA_OPERATIONS end to end on a booted system: the
 * four call sequences of spec/dma.md 5 on the default machine, an 8 GiB
 * machine with a 32-bit device and a 24-bit ISA slave; data checked byte
 * for byte. The device side is the bus itself (hal_bus_access, what a
 * device model's wdmsim_dma_read/write call) and the 8237 for slaves.
 * Spec: spec/dma.md 3, 5, 6.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <wdm.h>
#include <wdmsim/wdmsim.h>

#include "sys.h"

/* Host code has no PAGE_SIZE (wdmsim reads it from the machine); these
 * machines use 4 KiB pages. */
#define PAGE_SIZE_HOST         4096u
#define BYTE_OFFSET_HOST(va)   ((ULONG)((uintptr_t)(va) & (PAGE_SIZE_HOST - 1)))
#define BYTES_TO_PAGES_HOST(n) (((n) + PAGE_SIZE_HOST - 1) / PAGE_SIZE_HOST)
#define ROUND_TO_PAGES_HOST(n) (BYTES_TO_PAGES_HOST(n) * PAGE_SIZE_HOST)
#define ADDRESS_AND_SIZE_TO_SPAN_PAGES(va, n) \
    ((ULONG)BYTES_TO_PAGES_HOST(BYTE_OFFSET_HOST(va) + (n)))

static const char *machine_ini; /* NULL: default machine */

static wdmsim *boot(const char *verifier)
{
    struct wdmsim_config cfg = {.seed = 11, .verifier = verifier, .machine_path = machine_ini};
    wdmsim *sim;
    struct wdmsim_error err;
    if (wdmsim_boot(&cfg, &sim, &err) != WDMSIM_OK)
        fail_msg("boot: %s", err.text);
    return sim;
}

static void run_ok(void (*fn)(void *), void *arg, const char *verifier)
{
    wdmsim *sim = boot(verifier);
    int rc = wdmsim_call(sim, fn, arg);
    const struct wdmsim_bugcheck *bc = wdmsim_get_bugcheck(sim);
    if (rc != WDMSIM_OK)
        fail_msg("stopped: 0x%X/0x%llX %s: %s", bc ? bc->code : 0,
                 bc ? (unsigned long long)bc->parameters[0] : 0ULL, bc && bc->rule ? bc->rule : "-",
                 bc && bc->text ? bc->text : "");
    wdmsim_shutdown(sim);
}

static void run_stop(void (*fn)(void *), void *arg, uint32_t code, uint64_t p1, const char *rule)
{
    wdmsim *sim = boot("standard");
    assert_int_equal(wdmsim_call(sim, fn, arg), WDMSIM_STOPPED);
    const struct wdmsim_bugcheck *bc = wdmsim_get_bugcheck(sim);
    assert_non_null(bc);
    assert_int_equal(bc->code, code);
    assert_int_equal(bc->parameters[0], p1);
    if (rule)
        assert_string_equal(bc->rule, rule);
    wdmsim_shutdown(sim);
}

/* ---- helpers --------------------------------------------------------------- */

struct buf {
    uint8_t *va;
    ULONG len;
    PMDL mdl;
};

static struct buf buf_new(ULONG len, unsigned seed)
{
    struct buf b = {.len = len};
    b.va = MmAllocateNonCachedMemory(ROUND_TO_PAGES_HOST(len));
    assert_non_null(b.va);
    for (ULONG i = 0; i < len; i++)
        b.va[i] = (uint8_t)(i * 13 + seed);
    b.mdl = IoAllocateMdl(b.va, len, FALSE, FALSE, NULL);
    assert_non_null(b.mdl);
    MmBuildMdlForNonPagedPool(b.mdl);
    return b;
}

static void buf_free(struct buf *b)
{
    IoFreeMdl(b->mdl);
    MmFreeNonCachedMemory(b->va, ROUND_TO_PAGES_HOST(b->len));
}

static struct hal_adapter *adapter_of(PDMA_ADAPTER p)
{
    return (struct hal_adapter *)p;
}

/* The device reads [logical, +len) and must see the buffer's bytes at off. */
static void device_reads(PDMA_ADAPTER a, uint64_t logical, const uint8_t *expect, ULONG len)
{
    static uint8_t tmp[1 << 20];
    assert_true(len <= sizeof(tmp));
    assert_int_equal(hal_bus_access(adapter_of(a), logical, tmp, len, hal_dir_to_device, NULL),
                     hal_bus_ok);
    assert_memory_equal(tmp, expect, len);
}

static void device_writes(PDMA_ADAPTER a, uint64_t logical, unsigned seed, ULONG len)
{
    static uint8_t tmp[1 << 20];
    for (ULONG i = 0; i < len; i++)
        tmp[i] = (uint8_t)(i * 7 + seed);
    assert_int_equal(hal_bus_access(adapter_of(a), logical, tmp, len, hal_dir_from_device, NULL),
                     hal_bus_ok);
}

static void expect_written(const uint8_t *p, unsigned seed, ULONG len)
{
    for (ULONG i = 0; i < len; i++)
        if (p[i] != (uint8_t)(i * 7 + seed))
            fail_msg("byte %lu: %#x, want %#x", (unsigned long)i, p[i], (uint8_t)(i * 7 + seed));
}

static DEVICE_DESCRIPTION master_desc(ULONG version, bool sg, bool dma64, ULONG maxlen)
{
    DEVICE_DESCRIPTION d;
    memset(&d, 0, sizeof(d));
    d.Version = version;
    d.Master = TRUE;
    d.ScatterGather = sg;
    d.Dma32BitAddresses = TRUE;
    d.Dma64BitAddresses = dma64;
    d.InterfaceType = PCIBus;
    d.MaximumLength = maxlen;
    if (version == DEVICE_DESCRIPTION_VERSION3)
        d.DmaAddressWidth = dma64 ? 64 : 32;
    return d;
}

static DEVICE_DESCRIPTION slave_desc(ULONG channel, ULONG maxlen, bool autoinit)
{
    DEVICE_DESCRIPTION d;
    memset(&d, 0, sizeof(d));
    d.Version = DEVICE_DESCRIPTION_VERSION2;
    d.DmaChannel = channel;
    d.DmaWidth = channel < 4 ? Width8Bits : Width16Bits;
    d.InterfaceType = Isa;
    d.MaximumLength = maxlen;
    d.AutoInitialize = autoinit;
    return d;
}

/* ---- (a) bus master, scatter/gather -------------------------------------------- */

struct sg_state {
    PDMA_ADAPTER a;
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

static void seq_sg(ULONG version, bool dma64, ULONG len, ULONG offset)
{
    DEVICE_DESCRIPTION d = master_desc(version, true, dma64, len + offset);
    ULONG n = 0;
    PDMA_ADAPTER a = IoGetDmaAdapter(NULL, &d, &n);
    assert_non_null(a);
    assert_int_equal(a->Version, 1);
    assert_true(n >= BYTES_TO_PAGES_HOST(len + offset));
    ULONG size = 0, regs = 0;
    if (version >= 2) {
        assert_int_equal(
            a->DmaOperations->CalculateScatterGatherList(a, NULL, NULL, len, &size, &regs),
            STATUS_SUCCESS);
        assert_true(size >= sizeof(SCATTER_GATHER_LIST));
    }
    struct buf b = buf_new(len + offset, 3);
    PVOID va = (uint8_t *)MmGetMdlVirtualAddress(b.mdl) + offset;
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeFlushIoBuffers(b.mdl, FALSE, TRUE);
    /* memory -> device */
    struct sg_state s = {.a = a};
    assert_int_equal(
        a->DmaOperations->GetScatterGatherList(a, NULL, b.mdl, va, len, list_control, &s, TRUE),
        STATUS_SUCCESS);
    assert_int_equal(s.calls, 1);
    ULONG at = 0;
    for (ULONG i = 0; i < s.list->NumberOfElements; i++) {
        SCATTER_GATHER_ELEMENT *e = &s.list->Elements[i];
        if (!dma64)
            assert_true((uint64_t)e->Address.QuadPart + e->Length <= (4ULL << 30));
        device_reads(a, (uint64_t)e->Address.QuadPart, b.va + offset + at, e->Length);
        at += e->Length;
    }
    assert_int_equal(at, len);
    a->DmaOperations->PutScatterGatherList(a, s.list, TRUE);
    /* device -> memory, into the caller's buffer (v2 Build) or a Get list */
    static uint8_t listbuf[1 << 18];
    s.calls = 0;
    if (version >= 2) {
        assert_int_equal(
            a->DmaOperations->CalculateScatterGatherList(a, b.mdl, va, len, &size, &regs),
            STATUS_SUCCESS);
        assert_true(size <= sizeof(listbuf));
        assert_int_equal(a->DmaOperations->BuildScatterGatherList(
                             a, NULL, b.mdl, va, len, list_control, &s, FALSE, listbuf, size - 1),
                         STATUS_BUFFER_TOO_SMALL);
        assert_int_equal(a->DmaOperations->BuildScatterGatherList(
                             a, NULL, b.mdl, va, len, list_control, &s, FALSE, listbuf, size),
                         STATUS_SUCCESS);
        assert_ptr_equal(s.list, listbuf);
    } else {
        assert_int_equal(a->DmaOperations->GetScatterGatherList(a, NULL, b.mdl, va, len,
                                                                list_control, &s, FALSE),
                         STATUS_SUCCESS);
    }
    at = 0;
    for (ULONG i = 0; i < s.list->NumberOfElements; i++) {
        SCATTER_GATHER_ELEMENT *e = &s.list->Elements[i];
        device_writes(a, (uint64_t)e->Address.QuadPart, (uint8_t)(at * 7 + 1), e->Length);
        at += e->Length;
    }
    if (version >= 2) {
        PMDL target = NULL;
        assert_int_equal(a->DmaOperations->BuildMdlFromScatterGatherList(a, s.list, b.mdl, &target),
                         STATUS_SUCCESS);
        assert_non_null(target);
        assert_int_equal(a->DmaOperations->BuildMdlFromScatterGatherList(a, s.list, b.mdl, &target),
                         STATUS_NONE_MAPPED);
    }
    a->DmaOperations->PutScatterGatherList(a, s.list, FALSE);
    expect_written(b.va + offset, 1, len);
    KeLowerIrql(old);
    buf_free(&b);
    a->DmaOperations->PutDmaAdapter(a);
}

static void body_sg(void *arg)
{
    seq_sg(DEVICE_DESCRIPTION_VERSION1, true, 40000, 100);
    seq_sg(DEVICE_DESCRIPTION_VERSION2, true, 12345, 7);
    seq_sg(DEVICE_DESCRIPTION_VERSION2, false, 64 << 10, 0);
    seq_sg(DEVICE_DESCRIPTION_VERSION3, false, 100000, 4000);
}

static void test_sequence_sg(void **state)
{
    run_ok(body_sg, NULL, "standard");
}

static void test_sequence_sg_double_buffer(void **state)
{
    run_ok(body_sg, NULL, "all");
}

/* ---- (b) bus master, packet, no S/G ---------------------------------------------- */

struct pkt {
    PDMA_ADAPTER a;
    struct buf *b;
    PVOID base;
    PVOID cva;
    ULONG l;
    BOOLEAN write;
    PHYSICAL_ADDRESS la;
    unsigned calls;
    IO_ALLOCATION_ACTION result;
};

static DRIVER_CONTROL adapter_control;
static IO_ALLOCATION_ACTION NTAPI adapter_control(PDEVICE_OBJECT dev, PIRP irp, PVOID base,
                                                  PVOID ctx)
{
    struct pkt *p = ctx;
    assert_int_equal(KeGetCurrentIrql(), DISPATCH_LEVEL);
    assert_non_null(base);
    p->base = base;
    p->calls++;
    p->la = p->a->DmaOperations->MapTransfer(p->a, p->b->mdl, base, p->cva, &p->l, p->write);
    return p->result;
}

/* Splits len into transfers of at most the registers' reach, as spec/dma.md
 * 5 (b) step 4 does. */
static void seq_packet(ULONG maxlen, ULONG len, unsigned *transfers)
{
    DEVICE_DESCRIPTION d = master_desc(DEVICE_DESCRIPTION_VERSION2, false, false, maxlen);
    ULONG n = 0;
    PDMA_ADAPTER a = IoGetDmaAdapter(NULL, &d, &n);
    assert_non_null(a);
    struct buf b = buf_new(len, 5);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    for (int pass = 0; pass < 2; pass++) {
        BOOLEAN write = pass == 0;
        ULONG done = 0;
        *transfers = 0;
        PVOID va = MmGetMdlVirtualAddress(b.mdl);
        ULONG r = ADDRESS_AND_SIZE_TO_SPAN_PAGES(va, len);
        if (r > n)
            r = n;
        struct pkt p = {
            .a = a, .b = &b, .cva = va, .write = write, .result = DeallocateObjectKeepRegisters};
        ULONG reach = r * PAGE_SIZE_HOST - BYTE_OFFSET_HOST(va);
        p.l = len < reach ? len : reach;
        assert_int_equal(a->DmaOperations->AllocateAdapterChannel(a, NULL, r, adapter_control, &p),
                         STATUS_SUCCESS);
        assert_int_equal(p.calls, 1);
        for (;;) {
            (*transfers)++;
            if (write)
                device_reads(a, (uint64_t)p.la.QuadPart, b.va + done, p.l);
            else
                device_writes(a, (uint64_t)p.la.QuadPart, (uint8_t)(done * 7 + 9), p.l);
            assert_true(a->DmaOperations->FlushAdapterBuffers(a, b.mdl, p.base, p.cva, p.l, write));
            done += p.l;
            if (done == len)
                break;
            p.cva = (uint8_t *)p.cva + p.l;
            ULONG left = len - done, cap = r * PAGE_SIZE_HOST - BYTE_OFFSET_HOST(p.cva);
            p.l = left < cap ? left : cap;
            p.la = a->DmaOperations->MapTransfer(a, b.mdl, p.base, p.cva, &p.l, write);
        }
        a->DmaOperations->FreeMapRegisters(a, p.base, r);
        if (!write)
            expect_written(b.va, 9, len);
    }
    KeLowerIrql(old);
    buf_free(&b);
    a->DmaOperations->PutDmaAdapter(a);
}

static void body_packet(void *arg)
{
    unsigned t;
    seq_packet(64 << 10, 50000, &t);
    assert_int_equal(t, 1);
    /* 5000 bytes, one map register: 4096 + 904 */
    seq_packet(0, 5000, &t);
    assert_int_equal(t, 2);
    /* 12 pages, 5 registers: 3 transfers (spec/dma.md 3) */
    seq_packet(4 * 4096 - 1, 12 * 4096, &t);
    assert_int_equal(t, 3);
}

static void test_sequence_packet(void **state)
{
    run_ok(body_packet, NULL, "standard");
}

/* ---- (c) system DMA, packet; (d) common buffer, auto-initialize --------------------- */

struct isa_dev {
    uint16_t next;
    unsigned tcs;
    uint8_t got[1 << 17];
    unsigned ngot;
};
static uint16_t isa_read(void *ctx, unsigned ch)
{
    struct isa_dev *d = ctx;
    return d->next++;
}
static void isa_write(void *ctx, unsigned ch, uint16_t v)
{
    struct isa_dev *d = ctx;
    d->got[d->ngot++] = (uint8_t)v;
    if (ch >= 4)
        d->got[d->ngot++] = (uint8_t)(v >> 8);
}
static void isa_tc(void *ctx, unsigned ch)
{
    ((struct isa_dev *)ctx)->tcs++;
}
static const struct i8237_device_ops isa_ops = {isa_read, isa_write, isa_tc};

static void seq_slave_packet(ULONG channel, ULONG len)
{
    struct sys *sys = sys_get();
    DEVICE_DESCRIPTION d = slave_desc(channel, len, false);
    ULONG n = 0;
    PDMA_ADAPTER a = IoGetDmaAdapter(NULL, &d, &n);
    assert_non_null(a);
    assert_true(n >= BYTES_TO_PAGES_HOST(len));
    static struct isa_dev dev;
    memset(&dev, 0, sizeof(dev));
    i8237_attach(&sys->machine.dma, channel, &isa_ops, &dev);
    struct buf b = buf_new(len, 1);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    for (int pass = 0; pass < 2; pass++) {
        BOOLEAN write = pass == 0;
        struct pkt p = {.a = a,
                        .b = &b,
                        .cva = MmGetMdlVirtualAddress(b.mdl),
                        .l = len,
                        .write = write,
                        .result = KeepObject};
        assert_int_equal(a->DmaOperations->AllocateAdapterChannel(
                             a, NULL, BYTES_TO_PAGES_HOST(len) + 1, adapter_control, &p),
                         STATUS_SUCCESS);
        assert_int_equal(p.calls, 1);
        assert_true((uint64_t)p.la.QuadPart + len <= (16 << 20));
        assert_int_equal(a->DmaOperations->ReadDmaCounter(a), len);
        dev.tcs = 0;
        dev.ngot = 0;
        dev.next = 0x30;
        i8237_assert_dreq(&sys->machine.dma, channel);
        uint64_t units = i8237_run(&sys->machine.dma, 1 << 20);
        i8237_release_dreq(&sys->machine.dma, channel);
        assert_int_equal(units, channel >= 4 ? len / 2 : len);
        assert_int_equal(dev.tcs, 1);
        assert_int_equal(a->DmaOperations->ReadDmaCounter(a), 0);
        assert_true(a->DmaOperations->FlushAdapterBuffers(a, b.mdl, p.base, p.cva, len, write));
        a->DmaOperations->FreeAdapterChannel(a);
        if (write) {
            assert_int_equal(dev.ngot, len);
            assert_memory_equal(dev.got, b.va, len);
        } else {
            for (ULONG i = 0; i < len; i += channel >= 4 ? 2 : 1) {
                uint16_t v = (uint16_t)(0x30 + (channel >= 4 ? i / 2 : i));
                assert_int_equal(b.va[i], (uint8_t)v);
            }
        }
    }
    KeLowerIrql(old);
    buf_free(&b);
    i8237_attach(&sys->machine.dma, channel, NULL, NULL);
    a->DmaOperations->PutDmaAdapter(a);
}

static void seq_slave_common_autoinit(ULONG channel, ULONG L)
{
    struct sys *sys = sys_get();
    DEVICE_DESCRIPTION d = slave_desc(channel, L, true);
    ULONG n = 0;
    PDMA_ADAPTER a = IoGetDmaAdapter(NULL, &d, &n);
    assert_non_null(a);
    PHYSICAL_ADDRESS la;
    uint8_t *va = a->DmaOperations->AllocateCommonBuffer(a, L, &la, FALSE);
    assert_non_null(va);
    uint64_t block = channel < 4 ? 64 << 10 : 128 << 10;
    assert_true((uint64_t)la.QuadPart + L <= (16 << 20));
    assert_int_equal((uint64_t)la.QuadPart / block, ((uint64_t)la.QuadPart + L - 1) / block);
    assert_int_equal(MmGetPhysicalAddress(va).QuadPart, la.QuadPart);
    PMDL mdl = IoAllocateMdl(va, L, FALSE, FALSE, NULL);
    MmBuildMdlForNonPagedPool(mdl);
    static struct isa_dev dev;
    memset(&dev, 0, sizeof(dev));
    i8237_attach(&sys->machine.dma, channel, &isa_ops, &dev);
    struct buf b = {.va = va, .len = L, .mdl = mdl};
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    struct pkt p = {.a = a,
                    .b = &b,
                    .cva = MmGetMdlVirtualAddress(mdl),
                    .l = L,
                    .write = FALSE,
                    .result = KeepObject};
    assert_int_equal(a->DmaOperations->AllocateAdapterChannel(a, NULL, BYTES_TO_PAGES_HOST(L),
                                                              adapter_control, &p),
                     STATUS_SUCCESS);
    /* The common buffer is reachable and inside one block: mapped directly. */
    assert_int_equal(p.la.QuadPart, la.QuadPart);
    i8237_assert_dreq(&sys->machine.dma, channel);
    unsigned unit = channel >= 4 ? 2 : 1;
    uint64_t units = L / unit + L / unit / 2; /* one and a half turns */
    assert_int_equal(i8237_run(&sys->machine.dma, units), units);
    assert_int_equal(dev.tcs, 1);
    ULONG rem = a->DmaOperations->ReadDmaCounter(a);
    assert_int_equal(rem, L / 2);
    /* the second turn overwrote the first half */
    assert_int_equal(va[0], (uint8_t)(L / unit));
    assert_int_equal(va[L - unit], (uint8_t)(L / unit - 1));
    i8237_release_dreq(&sys->machine.dma, channel);
    assert_true(a->DmaOperations->FlushAdapterBuffers(a, mdl, p.base, p.cva, L, FALSE));
    a->DmaOperations->FreeAdapterChannel(a);
    KeLowerIrql(old);
    IoFreeMdl(mdl);
    a->DmaOperations->FreeCommonBuffer(a, L, la, va, FALSE);
    i8237_attach(&sys->machine.dma, channel, NULL, NULL);
    a->DmaOperations->PutDmaAdapter(a);
}

static void body_slave(void *arg)
{
    seq_slave_packet(2, 3000);
    seq_slave_packet(1, 5000);
    seq_slave_packet(6, 9000);
    seq_slave_common_autoinit(3, 4096);
    seq_slave_common_autoinit(5, 8192);
}

static void test_sequence_slave(void **state)
{
    run_ok(body_slave, NULL, "standard");
}

/* ---- the whole lot on an 8 GiB machine, where the 32-bit device bounces ------------ */

static void test_sequences_8g(void **state)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/tests/hal/machine-8g.ini", getenv("WDMSIM_SOURCE"));
    machine_ini = path;
    run_ok(body_sg, NULL, "standard");
    run_ok(body_packet, NULL, "standard");
    run_ok(body_slave, NULL, "standard");
    machine_ini = NULL;
}

/* ---- version 3 ------------------------------------------------------------------- */

static void body_v3(void *arg)
{
    DEVICE_DESCRIPTION d = master_desc(DEVICE_DESCRIPTION_VERSION3, true, true, 1 << 20);
    ULONG n;
    PDMA_ADAPTER a = IoGetDmaAdapter(NULL, &d, &n);
    assert_non_null(a);
    PDMA_OPERATIONS ops = a->DmaOperations;
    assert_int_equal(ops->Size, sizeof(DMA_OPERATIONS));
    DMA_ADAPTER_INFO info = {.Version = DMA_ADAPTER_INFO_VERSION1};
    assert_int_equal(ops->GetDmaAdapterInfo(a, &info), STATUS_SUCCESS);
    assert_int_equal(info.V1.DmaAddressWidth, 64);
    struct buf b = buf_new(20000, 2);
    DMA_TRANSFER_INFO ti = {.Version = DMA_TRANSFER_INFO_VERSION1};
    assert_int_equal(ops->GetDmaTransferInfo(a, b.mdl, 0, 20000, TRUE, &ti), STATUS_SUCCESS);
    assert_int_equal(ti.V1.MapRegisterCount, BYTES_TO_PAGES_HOST(20000));
    uint8_t ctx[DMA_TRANSFER_CONTEXT_SIZE_V1];
    assert_int_equal(ops->InitializeDmaTransferContext(a, ctx), STATUS_SUCCESS);
    PHYSICAL_ADDRESS la, max = {.QuadPart = 0xFFFFFFFF};
    void *cb = ops->AllocateCommonBufferEx(a, &max, 10000, &la, TRUE, MM_ANY_NODE_OK);
    assert_non_null(cb);
    assert_true((uint64_t)la.QuadPart + 10000 <= (4ULL << 30));
    ops->FreeCommonBuffer(a, 10000, la, cb, TRUE);

    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    /* synchronous channel, MapTransferEx, FlushAdapterBuffersEx, FreeAdapterObject */
    PVOID base = NULL;
    assert_int_equal(
        ops->AllocateAdapterChannelEx(a, NULL, ctx, 5, DMA_SYNCHRONOUS_CALLBACK, NULL, NULL, &base),
        STATUS_SUCCESS);
    uint8_t sgbuf[sizeof(SCATTER_GATHER_LIST) + 4 * sizeof(SCATTER_GATHER_ELEMENT)];
    PSCATTER_GATHER_LIST sg = (PSCATTER_GATHER_LIST)sgbuf;
    ULONG l = 4096;
    assert_int_equal(
        ops->MapTransferEx(a, b.mdl, base, 8192, 0, &l, TRUE, sg, sizeof(sgbuf), NULL, NULL),
        STATUS_SUCCESS);
    device_reads(a, (uint64_t)sg->Elements[0].Address.QuadPart, b.va + 8192,
                 sg->Elements[0].Length);
    assert_int_equal(ops->FlushAdapterBuffersEx(a, b.mdl, base, 8192, l, TRUE), STATUS_SUCCESS);
    ops->FreeAdapterObject(a, DeallocateObject);
    /* synchronous S/G list */
    PSCATTER_GATHER_LIST list = NULL;
    assert_int_equal(ops->GetScatterGatherListEx(a, NULL, ctx, b.mdl, 100, 15000,
                                                 DMA_SYNCHRONOUS_CALLBACK, NULL, NULL, FALSE, NULL,
                                                 NULL, &list),
                     STATUS_SUCCESS);
    ULONG at = 0;
    for (ULONG i = 0; i < list->NumberOfElements; i++) {
        device_writes(a, (uint64_t)list->Elements[i].Address.QuadPart, (uint8_t)(at * 7 + 4),
                      list->Elements[i].Length);
        at += list->Elements[i].Length;
    }
    ops->PutScatterGatherList(a, list, FALSE);
    expect_written(b.va + 100, 4, 15000);
    static uint8_t lb[8192];
    PSCATTER_GATHER_LIST list2 = NULL;
    assert_int_equal(ops->BuildScatterGatherListEx(a, NULL, ctx, b.mdl, 0, 5000,
                                                   DMA_SYNCHRONOUS_CALLBACK, NULL, NULL, TRUE, lb,
                                                   sizeof(lb), NULL, NULL, &list2),
                     STATUS_SUCCESS);
    ops->PutScatterGatherList(a, list2, TRUE);
    assert_false(ops->CancelAdapterChannel(a, NULL, ctx));
    assert_int_equal(ops->CancelMappedTransfer(a, ctx), STATUS_NOT_SUPPORTED);
    assert_int_equal(ops->ConfigureAdapterChannel(a, 0, NULL), STATUS_NOT_IMPLEMENTED);
    assert_int_equal(ops->FlushDmaBuffer(a, b.mdl, TRUE), STATUS_SUCCESS);
    assert_null(ops->GetDmaDomain(a));
    KeLowerIrql(old);
    PVOID dva = NULL;
    assert_int_equal(
        ops->AllocateDomainCommonBuffer(a, NULL, NULL, 4096, 0, NULL, MM_ANY_NODE_OK, &la, &dva),
        STATUS_SUCCESS);
    ops->FreeCommonBuffer(a, 4096, la, dva, TRUE);
    assert_int_equal(ops->JoinDmaDomain(a, NULL), STATUS_NOT_SUPPORTED);
    assert_int_equal(ops->LeaveDmaDomain(a), STATUS_NOT_SUPPORTED);
    assert_int_equal(ops->GetDmaAlignment(a), 1);
    buf_free(&b);
    ops->PutDmaAdapter(a);
}

static void test_v3(void **state)
{
    run_ok(body_v3, NULL, "standard");
}

/* Tables by version and the layout of their sizes. */
static void body_versions(void *arg)
{
    ULONG n;
    for (ULONG v = 0; v <= 3; v++) {
        DEVICE_DESCRIPTION d = master_desc(v, true, true, 4096);
        PDMA_ADAPTER a = IoGetDmaAdapter(NULL, &d, &n);
        assert_non_null(a);
        assert_int_equal(a->Version, 1);
        assert_int_equal(a->Size, sizeof(DMA_ADAPTER));
        assert_int_equal(a->DmaOperations->Size, v <= 1 ? 104 : v == 2 ? 128 : 272);
        assert_int_equal(n, 2);
        a->DmaOperations->PutDmaAdapter(a);
    }
    /* Queueing: a second AllocateAdapterChannel waits for the channel and
     * runs from FreeAdapterChannel, in order. */
    DEVICE_DESCRIPTION d = master_desc(2, false, true, 8192);
    PDMA_ADAPTER a = IoGetDmaAdapter(NULL, &d, &n);
    struct buf b = buf_new(8192, 0);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    struct pkt p1 = {.a = a, .b = &b, .cva = b.va, .l = 100, .write = TRUE, .result = KeepObject};
    struct pkt p2 = p1;
    DEVICE_OBJECT d1, d2;
    memset(&d1, 0, sizeof(d1));
    memset(&d2, 0, sizeof(d2));
    assert_int_equal(a->DmaOperations->AllocateAdapterChannel(a, &d1, 1, adapter_control, &p1),
                     STATUS_SUCCESS);
    assert_int_equal(a->DmaOperations->AllocateAdapterChannel(a, &d2, 1, adapter_control, &p2),
                     STATUS_SUCCESS);
    assert_int_equal(p1.calls, 1);
    assert_int_equal(p2.calls, 0);
    assert_true(a->DmaOperations->FlushAdapterBuffers(a, b.mdl, p1.base, p1.cva, 100, TRUE));
    a->DmaOperations->FreeAdapterChannel(a);
    assert_int_equal(p2.calls, 1);
    assert_true(a->DmaOperations->FlushAdapterBuffers(a, b.mdl, p2.base, p2.cva, 100, TRUE));
    a->DmaOperations->FreeAdapterChannel(a);
    KeLowerIrql(old);
    buf_free(&b);
    a->DmaOperations->PutDmaAdapter(a);
    /* unknown versions and bad descriptions give NULL */
    d = master_desc(2, true, true, 100);
    d.Reserved1 = TRUE;
    assert_null(IoGetDmaAdapter(NULL, &d, &n));
}

static void test_versions_and_queueing(void **state)
{
    run_ok(body_versions, NULL, "standard");
}

/* ---- rules (host-level; the driver fixtures are listed in docs/dma.md) ----------- */

static void bad_map_beyond_grant(void *arg)
{
    DEVICE_DESCRIPTION d = master_desc(2, false, false, 0); /* one register */
    ULONG n;
    PDMA_ADAPTER a = IoGetDmaAdapter(NULL, &d, &n);
    assert_int_equal(n, 1);
    struct buf b = buf_new(5000, 0);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    struct pkt p = {.a = a,
                    .b = &b,
                    .cva = b.va,
                    .l = 5000,
                    .write = TRUE,
                    .result = DeallocateObjectKeepRegisters};
    a->DmaOperations->AllocateAdapterChannel(a, NULL, 1, adapter_control, &p);
}

static void bad_free_while_mapped(void *arg)
{
    DEVICE_DESCRIPTION d = master_desc(2, false, false, 8192);
    ULONG n;
    PDMA_ADAPTER a = IoGetDmaAdapter(NULL, &d, &n);
    struct buf b = buf_new(4096, 0);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    struct pkt p = {.a = a,
                    .b = &b,
                    .cva = b.va,
                    .l = 4096,
                    .write = FALSE,
                    .result = DeallocateObjectKeepRegisters};
    a->DmaOperations->AllocateAdapterChannel(a, NULL, 1, adapter_control, &p);
    a->DmaOperations->FreeMapRegisters(a, p.base, 1); /* no flush */
}

static void bad_sg_double_put(void *arg)
{
    DEVICE_DESCRIPTION d = master_desc(2, true, true, 8192);
    ULONG n;
    PDMA_ADAPTER a = IoGetDmaAdapter(NULL, &d, &n);
    struct buf b = buf_new(4096, 0);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    struct sg_state s = {.a = a};
    a->DmaOperations->GetScatterGatherList(a, NULL, b.mdl, b.va, 4096, list_control, &s, TRUE);
    a->DmaOperations->PutScatterGatherList(a, s.list, TRUE);
    a->DmaOperations->PutScatterGatherList(a, s.list, TRUE);
}

static void bad_irql(void *arg)
{
    DEVICE_DESCRIPTION d = master_desc(2, true, true, 8192);
    ULONG n;
    PDMA_ADAPTER a = IoGetDmaAdapter(NULL, &d, &n);
    struct buf b = buf_new(4096, 0);
    struct sg_state s = {.a = a};
    a->DmaOperations->GetScatterGatherList(a, NULL, b.mdl, b.va, 4096, list_control, &s, TRUE);
}

static void bad_device_outside(void *arg)
{
    DEVICE_DESCRIPTION d = master_desc(2, true, true, 8192);
    ULONG n;
    PDMA_ADAPTER a = IoGetDmaAdapter(NULL, &d, &n);
    struct buf b = buf_new(4096, 0);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    struct sg_state s = {.a = a};
    a->DmaOperations->GetScatterGatherList(a, NULL, b.mdl, b.va, 4096, list_control, &s, TRUE);
    uint64_t la = (uint64_t)s.list->Elements[0].Address.QuadPart;
    a->DmaOperations->PutScatterGatherList(a, s.list, TRUE);
    /* the device keeps using the address after the Put */
    struct hal_bus_fault_info info;
    uint8_t x[4];
    hal_bus_access(adapter_of(a), la, x, 4, hal_dir_to_device, &info);
    hal_bus_report(adapter_of(a), &info, 4);
}

static void bad_put_with_registers(void *arg)
{
    DEVICE_DESCRIPTION d = master_desc(2, false, true, 8192);
    ULONG n;
    PDMA_ADAPTER a = IoGetDmaAdapter(NULL, &d, &n);
    struct buf b = buf_new(4096, 0);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    struct pkt p = {.a = a,
                    .b = &b,
                    .cva = b.va,
                    .l = 4096,
                    .write = TRUE,
                    .result = DeallocateObjectKeepRegisters};
    a->DmaOperations->AllocateAdapterChannel(a, NULL, 1, adapter_control, &p);
    a->DmaOperations->FlushAdapterBuffers(a, b.mdl, p.base, p.cva, 4096, TRUE);
    KeLowerIrql(old);
    a->DmaOperations->PutDmaAdapter(a);
}

static void bad_after_put(void *arg)
{
    DEVICE_DESCRIPTION d = master_desc(2, true, true, 8192);
    ULONG n;
    PDMA_ADAPTER a = IoGetDmaAdapter(NULL, &d, &n);
    a->DmaOperations->PutDmaAdapter(a);
    a->DmaOperations->GetDmaAlignment(a);
}

static void bad_version(void *arg)
{
    DEVICE_DESCRIPTION d = master_desc(2, true, true, 8192);
    ULONG n;
    d.Version = 7;
    IoGetDmaAdapter(NULL, &d, &n);
}

static void bad_common_zero(void *arg)
{
    DEVICE_DESCRIPTION d = master_desc(2, true, true, 8192);
    ULONG n;
    PHYSICAL_ADDRESS la;
    PDMA_ADAPTER a = IoGetDmaAdapter(NULL, &d, &n);
    a->DmaOperations->AllocateCommonBuffer(a, 0, &la, TRUE);
}

static void bad_counter_on_master(void *arg)
{
    DEVICE_DESCRIPTION d = master_desc(2, true, true, 8192);
    ULONG n;
    PDMA_ADAPTER a = IoGetDmaAdapter(NULL, &d, &n);
    a->DmaOperations->ReadDmaCounter(a);
}

static void test_rules(void **state)
{
    run_stop(bad_map_beyond_grant, NULL, 0xE6, 0x0C, "dma.map-beyond-grant");
    run_stop(bad_free_while_mapped, NULL, 0xE6, 0x10, "dma.free-while-mapped");
    run_stop(bad_sg_double_put, NULL, 0xE6, 0x06, "dma.sg-double-put");
    run_stop(bad_irql, NULL, 0xE6, 0x13, "dma.irql");
    run_stop(bad_device_outside, NULL, 0xE6, 0x26, "dma.device-outside-mapping");
    run_stop(bad_put_with_registers, NULL, 0xE6, 0x09, "dma.put-with-map-registers");
    run_stop(bad_after_put, NULL, 0xE6, 0x18, "dma.adapter-after-put");
    run_stop(bad_version, NULL, 0xE6, 0x25, "dma.unknown-description-version");
    run_stop(bad_common_zero, NULL, 0xE6, 0x21, "dma.zero-length");
    run_stop(bad_counter_on_master, NULL, 0xE6, 0x57000004, "dma.counter-on-master");
}

static int reset_ini(void **state)
{
    machine_ini = NULL;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_sequence_sg, reset_ini),
        cmocka_unit_test_setup(test_sequence_sg_double_buffer, reset_ini),
        cmocka_unit_test_setup(test_sequence_packet, reset_ini),
        cmocka_unit_test_setup(test_sequence_slave, reset_ini),
        cmocka_unit_test_setup(test_sequences_8g, reset_ini),
        cmocka_unit_test_setup(test_v3, reset_ini),
        cmocka_unit_test_setup(test_versions_and_queueing, reset_ini),
        cmocka_unit_test_setup(test_rules, reset_ini),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
