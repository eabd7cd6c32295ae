/*
 * src/hal/packet.c - packet-based DMA: AllocateAdapterChannel and its
 * queue, AdapterControl results, MapTransfer, FlushAdapterBuffers,
 * FreeMapRegisters, FreeAdapterChannel.
 *
 * Models: spec/dma.md 3 (contracts), 4 (registers), 5 (b) and (c). The
 * channel is one per adapter, FIFO; registers come from the adapter's file
 * (FIFO too). A request that cannot be served runs later at DISPATCH_LEVEL
 * from the FreeMapRegisters / FreeAdapterChannel that made room.
 * MapTransfer claims the lowest free registers of the grant that fit the
 * range, maps each page directly or through a bounce frame (sg.c) and
 * records the operation (CurrentVa, Length, MDL) in its first register;
 * the flush finds it by CurrentVa, copies bounced device->memory data back
 * and unmaps it.
 * Rule ids: dma.channel-twice, dma.map-registers-over-max,
 * dma.bad-allocation-action, dma.zero-length, dma.unlocked-buffer,
 * dma.va-outside-mdl, dma.bad-buffer, dma.map-beyond-grant, dma.double-map,
 * dma.flush-unmapped-buffer, dma.flush-range, dma.flush-direction-mismatch,
 * dma.free-while-mapped, dma.map-registers-double-free,
 * dma.free-count-mismatch, dma.channel-double-free, dma.flush-past-end,
 * dma.flush-unmapped-register, dma.flush-missing, dma.wrong-release-api,
 * sdma.flush-active-channel (hal_sysdma_active); through hal_check_map
 * dma.stack-buffer, dma.overlap;
 * hal_own_begin starts the window of dma.cpu-touch-owned / dma.stale-read
 * (own.c).
 * Not modelled: CurrentVa pointing into another process (never dereferenced
 * here, so nothing to model).
 */
#include <stdlib.h>
#include <string.h>

#include "sys.h"

static const char *action_name(IO_ALLOCATION_ACTION act)
{
    switch (act) {
    case KeepObject:
        return "KeepObject";
    case DeallocateObject:
        return "DeallocateObject";
    case DeallocateObjectKeepRegisters:
        return "DeallocateObjectKeepRegisters";
    default:
        return "?";
    }
}

void hal_channel_release(struct hal_adapter *a)
{
    a->channel_held = false;
    a->channel_owner = NULL;
    a->chan_regs = false;
    struct hal_chan_req *next = a->chan_head;
    if (!next)
        return;
    a->chan_head = next->next;
    if (!a->chan_head)
        a->chan_tail = NULL;
    a->channel_held = true;
    a->channel_owner = next->device;
    uint32_t gen = 0;
    int first = next->n ? hal_mapreg_alloc(&a->regs, next->n, &gen) : 0;
    if (first < 0) {
        a->chan_active = next;
        hal_mapreg_wait(&a->regs, &next->wait);
        return;
    }
    hal_run_control(next, (unsigned)first, next->n, gen);
}

/* Registers [first, first + n) still mapped: a missing flush, reported as
 * dma.free-while-mapped naming `routine`. */
bool hal_report_still_mapped(struct hal_adapter *a, unsigned first, unsigned n, const char *routine)
{
    for (unsigned i = first; i < first + n; i++) {
        const struct hal_mapreg *r = &a->regs.reg[i];
        if (r->state != hal_reg_mapped || !r->op_start)
            continue;
        const struct hal_mapop *o = &a->regs.op[i];
        hal_violation(a->hal, &hal_rule_free_while_mapped, o->len, 0, 0,
                      "%s while [%#lx, +%u) of MDL %p is still mapped %s: FlushAdapterBuffers "
                      "missing",
                      routine, (unsigned long)o->va, o->len, o->owner,
                      hal_dir_name((enum hal_dir)r->dir));
        return true;
    }
    return false;
}

void hal_run_control(struct hal_chan_req *req, unsigned first, unsigned n, uint32_t gen)
{
    struct hal_adapter *a = req->adapter;
    struct sys *sys = sys_get();
    a->chan_active = NULL;
    a->chan_regs = n > 0;
    a->chan_first = first;
    a->chan_n = n;
    a->chan_gen = gen;
    void *base = hal_base_encode(a->id, n ? first : 0xFFFF, gen);
    uint8_t old = ke_raise_irql(&sys->ke, DISPATCH_LEVEL);
    a->in_control++;
    IO_ALLOCATION_ACTION act = req->routine(req->device, req->irp, base, req->context);
    a->in_control--;
    free(req);
    switch (act) {
    case KeepObject:
        break;
    case DeallocateObject:
        /* The HAL would free registers the driver mapped in its routine
         * (it meant KeepObject or DeallocateObjectKeepRegisters): reported
         * here, as FreeAdapterChannel would be, not when the freed
         * registers are next used. The state stays as it was. */
        if (a->chan_regs &&
            hal_report_still_mapped(a, first, n, "AdapterControl returning DeallocateObject"))
            break;
        if (a->chan_regs) {
            a->chan_regs = false;
            hal_unmap(a, first, n, true, &sys->machine.ram);
            hal_mapreg_free(&a->regs, first, n);
        }
        hal_channel_release(a);
        break;
    case DeallocateObjectKeepRegisters:
        a->chan_regs = false;
        hal_channel_release(a);
        break;
    default:
        hal_violation(a->hal, &hal_rule_bad_allocation_action, (uint64_t)act, 0, 0,
                      "AdapterControl of adapter %p returned %d, which is no "
                      "IO_ALLOCATION_ACTION (%s/%s/%s)",
                      (void *)a, (int)act, action_name(KeepObject), action_name(DeallocateObject),
                      action_name(DeallocateObjectKeepRegisters));
        break;
    }
    ke_lower_irql(&sys->ke, old);
}

static void on_grant(void *ctx, unsigned first, unsigned n, uint32_t gen)
{
    hal_run_control(ctx, first, n, gen);
}

NTSTATUS NTAPI hal_op_allocate_adapter_channel(PDMA_ADAPTER DmaAdapter, PDEVICE_OBJECT DeviceObject,
                                               ULONG NumberOfMapRegisters,
                                               PDRIVER_CONTROL ExecutionRoutine, PVOID Context)
{
    struct hal_adapter *a = hal_enter(DmaAdapter, hal_irql_dispatch, "AllocateAdapterChannel");
    if (!a)
        return STATUS_INVALID_PARAMETER;
    if (NumberOfMapRegisters > a->nregs) {
        hal_violation(a->hal, &hal_rule_map_registers_over_max, NumberOfMapRegisters, a->nregs, 0,
                      "AllocateAdapterChannel asks %lu map registers; IoGetDmaAdapter granted %u",
                      (unsigned long)NumberOfMapRegisters, a->nregs);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    /* One pending request per device object, none from its own routine. */
    bool twice =
        a->channel_held && a->channel_owner == DeviceObject && (DeviceObject || a->in_control);
    for (struct hal_chan_req *r = a->chan_head; r && !twice; r = r->next)
        twice = r->device == DeviceObject;
    if (a->chan_active && a->chan_active->device == DeviceObject)
        twice = true;
    if (twice) {
        hal_violation(a->hal, &hal_rule_channel_twice, 1, 0, 0,
                      "AllocateAdapterChannel by device %p while it already holds or waits for "
                      "the channel of adapter %p",
                      (void *)DeviceObject, (void *)a);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    struct hal_chan_req *req = calloc(1, sizeof(*req));
    if (!req)
        return STATUS_INSUFFICIENT_RESOURCES;
    *req = (struct hal_chan_req){
        .adapter = a,
        .device = DeviceObject,
        .irp = DeviceObject ? DeviceObject->CurrentIrp : NULL,
        .n = NumberOfMapRegisters,
        .routine = ExecutionRoutine,
        .context = Context,
    };
    req->wait = (struct hal_mapreg_waiter){.n = req->n, .grant = on_grant, .ctx = req};
    if (a->channel_held) {
        if (a->chan_tail)
            a->chan_tail->next = req;
        else
            a->chan_head = req;
        a->chan_tail = req;
        return STATUS_SUCCESS;
    }
    a->channel_held = true;
    a->channel_owner = DeviceObject;
    uint32_t gen = 0;
    int first = req->n ? hal_mapreg_alloc(&a->regs, req->n, &gen) : 0;
    if (first < 0) {
        a->chan_active = req;
        hal_mapreg_wait(&a->regs, &req->wait);
        return STATUS_SUCCESS;
    }
    hal_run_control(req, (unsigned)first, req->n, gen);
    return STATUS_SUCCESS;
}

static bool mdl_locked(const MDL *m)
{
    return m->MdlFlags &
           (MDL_PAGES_LOCKED | MDL_SOURCE_IS_NONPAGED_POOL | MDL_PARTIAL | MDL_IO_SPACE);
}

/* Lowest k consecutive unmapped registers inside the grant, or -1. */
static int claim(struct hal_adapter *a, unsigned first, unsigned n, unsigned k)
{
    unsigned run = 0;
    for (unsigned i = first; i < first + n; i++) {
        run = a->regs.reg[i].state == hal_reg_mapped ? 0 : run + 1;
        if (run == k)
            return (int)(i + 1 - k);
    }
    return -1;
}

/* The live operation started by CurrentVa on this MDL inside the grant. */
static int find_op(struct hal_adapter *a, unsigned first, unsigned n, const MDL *mdl, uintptr_t va)
{
    for (unsigned i = first; i < first + n; i++) {
        const struct hal_mapreg *r = &a->regs.reg[i];
        const struct hal_mapop *o = &a->regs.op[i];
        if (r->state == hal_reg_mapped && r->op_start && o->owner == mdl && o->va == va)
            return (int)i;
    }
    return -1;
}

static bool check_range(struct hal_adapter *a, PMDL Mdl, uintptr_t va, ULONG len)
{
    uintptr_t start = (uintptr_t)Mdl->StartVa + Mdl->ByteOffset;
    if (va < start || va >= start + Mdl->ByteCount) {
        hal_violation(a->hal, &hal_rule_va_outside_mdl, va, (uintptr_t)Mdl, 0,
                      "CurrentVa %#lx is outside MDL %p [%#lx, %#lx)", (unsigned long)va,
                      (void *)Mdl, (unsigned long)start, (unsigned long)(start + Mdl->ByteCount));
        return false;
    }
    if (len > start + Mdl->ByteCount - va) {
        hal_violation(a->hal, &hal_rule_bad_buffer, 2, va + len, (uintptr_t)Mdl,
                      "CurrentVa %#lx + Length %lu runs past the end of MDL %p", (unsigned long)va,
                      (unsigned long)len, (void *)Mdl);
        return false;
    }
    if (a->alignment > 1 && ((va | len) & (a->alignment - 1))) {
        hal_violation(a->hal, &hal_rule_bad_buffer, (va & (a->alignment - 1)) ? 4 : 5,
                      (va & (a->alignment - 1)) ? va : len, (uintptr_t)Mdl,
                      "transfer at %#lx, %lu bytes, breaks the adapter's alignment of %u",
                      (unsigned long)va, (unsigned long)len, a->alignment);
        return false;
    }
    return true;
}

PHYSICAL_ADDRESS NTAPI hal_op_map_transfer(PDMA_ADAPTER DmaAdapter, PMDL Mdl, PVOID MapRegisterBase,
                                           PVOID CurrentVa, PULONG Length, BOOLEAN WriteToDevice)
{
    PHYSICAL_ADDRESS none = {.QuadPart = 0};
    struct hal_adapter *a = hal_enter(DmaAdapter, hal_irql_max_d, "MapTransfer");
    unsigned first, n;
    if (!a || !Mdl || !Length || !hal_base_check(a, MapRegisterBase, &first, &n))
        return none;
    struct sys *sys = sys_get();
    uintptr_t va = (uintptr_t)CurrentVa;
    ULONG len = *Length;
    unsigned shift = a->lim.page_shift;
    if (len == 0) {
        hal_violation(a->hal, &hal_rule_zero_length, (uintptr_t)Mdl, 0, 0,
                      "MapTransfer of 0 bytes (MDL %p)", (void *)Mdl);
        return none;
    }
    if (!mdl_locked(Mdl)) {
        hal_violation(a->hal, &hal_rule_unlocked_buffer, (uintptr_t)Mdl, 0, 0,
                      "MapTransfer of MDL %p whose pages are not locked (flags %#x)", (void *)Mdl,
                      (unsigned)(uint16_t)Mdl->MdlFlags);
        return none;
    }
    if (!check_range(a, Mdl, va, len))
        return none;
    uint64_t mask = (1ULL << shift) - 1;
    unsigned span = (unsigned)(((va & mask) + len + mask) >> shift);
    for (unsigned i = first; i < first + n; i++) {
        const struct hal_mapreg *r = &a->regs.reg[i];
        const struct hal_mapop *o = &a->regs.op[i];
        if (r->state == hal_reg_mapped && r->op_start && o->owner == Mdl && va < o->va + o->len &&
            o->va < va + len) {
            hal_violation(a->hal, &hal_rule_double_map, va, va + len, o->va,
                          "MapTransfer of [%#lx, +%lu) while [%#lx, +%u) of MDL %p is still "
                          "mapped",
                          (unsigned long)va, (unsigned long)len, (unsigned long)o->va, o->len,
                          (void *)Mdl);
            return none;
        }
    }
    if (span > n) {
        hal_violation(a->hal, &hal_rule_map_beyond_grant, span, n, 0,
                      "MapTransfer of %lu bytes at %#lx spans %u pages; the grant has %u map "
                      "registers (split the transfer)",
                      (unsigned long)len, (unsigned long)va, span, n);
        return none;
    }
    int r0 = claim(a, first, n, span);
    if (r0 < 0) {
        /* The grant is big enough: earlier transfers were never flushed. */
        hal_violation(a->hal, &hal_rule_flush_missing, len, (uint64_t)n << shift, 0,
                      "MapTransfer needs %u map registers of a grant of %u, but earlier "
                      "transfers still hold them: FlushAdapterBuffers missing",
                      span, n);
        return none;
    }
    /* The MDL alone: MapTransfer never follows Mdl->Next. */
    MDL *saved_next = Mdl->Next;
    Mdl->Next = NULL;
    SCATTER_GATHER_ELEMENT el[1];
    struct hal_sg_out out = {.el = el, .cap = 1};
    struct hal_sg_walk w = {Mdl, va, len};
    enum hal_dir dir = WriteToDevice ? hal_dir_to_device : hal_dir_from_device;
    if (!hal_check_map(a, &w, Mdl, dir)) {
        Mdl->Next = saved_next;
        return none;
    }
    struct hal_dma_limits lim = a->lim;
    if (lim.bounce_all && hal_common_holds(a, Mdl, va, len))
        lim.bounce_all = false; /* shared by contract: see common.c */
    long ne = hal_sg_build(&w, &lim, &a->regs, (unsigned)r0, a->bounce_base, dir, &sys->machine.ram,
                           &out);
    if (ne < 1) {
        Mdl->Next = saved_next;
        return none;
    }
    ULONG mapped = len;
    if (a->lim.scatter_gather && ne > 1) {
        /* S/G master: Length out = the first logically contiguous run. */
        mapped = el[0].Length;
        unsigned used = (unsigned)(((va & mask) + mapped + mask) >> shift);
        for (unsigned i = (unsigned)r0 + used; i < (unsigned)r0 + span; i++)
            hal_mapreg_set_unmapped(&a->regs, i);
        span = used;
        *Length = mapped;
        w.length = mapped;
    }
    hal_own_begin(a, &w, Mdl, (unsigned)r0, span, dir);
    Mdl->Next = saved_next;
    a->regs.reg[r0].op_start = true;
    a->regs.op[r0] =
        (struct hal_mapop){.va = va, .owner = Mdl, .len = mapped, .regs = (uint16_t)span};
    hal_xferlog_map(a, hal_xfer_packet, Mdl, va, mapped, dir, (unsigned)r0, span, el, 1,
                    a->channel_owner);
    ke_observe(&sys->ke, ke_ev_dma_map, ke_dma_arg(a->id, dir, (unsigned)r0, mapped),
               (uint64_t)el[0].Address.QuadPart);
    if (a->channel >= 0)
        hal_sysdma_program(a, (uint64_t)el[0].Address.QuadPart, mapped, WriteToDevice);
    return el[0].Address;
}

BOOLEAN NTAPI hal_op_flush_adapter_buffers(PDMA_ADAPTER DmaAdapter, PMDL Mdl, PVOID MapRegisterBase,
                                           PVOID CurrentVa, ULONG Length, BOOLEAN WriteToDevice)
{
    struct hal_adapter *a = hal_enter(DmaAdapter, hal_irql_max_d, "FlushAdapterBuffers");
    unsigned first, n;
    if (!a || !hal_base_check(a, MapRegisterBase, &first, &n))
        return FALSE;
    struct sys *sys = sys_get();
    uintptr_t va = (uintptr_t)CurrentVa;
    int r0 = find_op(a, first, n, Mdl, va);
    if (r0 < 0 && Mdl && find_op(a, 0, a->regs.count, Mdl, va) >= 0) {
        hal_violation(a->hal, &hal_rule_flush_unmapped_register, (uintptr_t)MapRegisterBase, va,
                      (uintptr_t)Mdl,
                      "FlushAdapterBuffers of CurrentVa %#lx (MDL %p) through MapRegisterBase %p, "
                      "whose registers do not map it: another grant of adapter %p does",
                      (unsigned long)va, (void *)Mdl, MapRegisterBase, (void *)a);
        return FALSE;
    }
    if (r0 < 0) {
        hal_violation(a->hal, &hal_rule_flush_unmapped_buffer, va, (uintptr_t)Mdl, 0,
                      "FlushAdapterBuffers of CurrentVa %#lx (MDL %p): no MapTransfer of this "
                      "grant mapped it, or it was flushed already",
                      (unsigned long)va, (void *)Mdl);
        return FALSE;
    }
    const struct hal_mapreg *op = &a->regs.reg[r0];
    const struct hal_mapop *o = &a->regs.op[r0];
    enum hal_dir dir = WriteToDevice ? hal_dir_to_device : hal_dir_from_device;
    if (op->dir != dir) {
        hal_violation(a->hal, &hal_rule_flush_direction_mismatch, va, op->dir, dir,
                      "FlushAdapterBuffers %s of a range mapped %s", hal_dir_name(dir),
                      hal_dir_name((enum hal_dir)op->dir));
        return FALSE;
    }
    uintptr_t mdl_end = (uintptr_t)Mdl->StartVa + Mdl->ByteOffset + Mdl->ByteCount;
    if (Length > mdl_end - va) {
        hal_violation(a->hal, &hal_rule_flush_past_end, 1, mdl_end - va, Length,
                      "FlushAdapterBuffers of %lu bytes at %#lx: MDL %p holds only %lu bytes "
                      "from there",
                      (unsigned long)Length, (unsigned long)va, (void *)Mdl,
                      (unsigned long)(mdl_end - va));
        return FALSE;
    }
    if (Length != o->len) {
        hal_violation(a->hal, &hal_rule_flush_range, va, o->len, Length,
                      "FlushAdapterBuffers of %lu bytes at %#lx; MapTransfer mapped %u",
                      (unsigned long)Length, (unsigned long)va, o->len);
        return FALSE;
    }
    if (a->channel >= 0 && hal_sysdma_active(a)) {
        /* Reported, then flushed anyway: the mask below stops the channel. */
        hal_violation(a->hal, &hal_rule_sdma_flush_active_channel, 0, a->channel >= 4,
                      (uint64_t)a->channel,
                      "FlushAdapterBuffers of system DMA channel %d while it is still running: "
                      "unmasked, %s",
                      a->channel,
                      a->auto_init ? "auto-initialize, the device still requesting"
                                   : "short of terminal count");
    }
    unsigned regs = o->regs;
    ke_observe(&sys->ke, ke_ev_dma_unmap, ke_dma_arg(a->id, dir, (unsigned)r0, 0), 0);
    hal_xferlog_unmap(a, (unsigned)r0);
    if (a->channel >= 0) {
        /* A system DMA read copies back what the controller moved. */
        uint32_t left = a->ignore_count ? 0 : hal_sysdma_remaining(a);
        hal_sysdma_mask(a);
        uint32_t moved = Length > left ? Length - left : 0;
        for (unsigned i = (unsigned)r0; i < (unsigned)r0 + regs; i++) {
            struct hal_mapreg *r = &a->regs.reg[i];
            uint32_t take = r->length < moved ? r->length : moved;
            if (r->bounce && dir == hal_dir_from_device && take) {
                memcpy(machine_pa_ptr(&sys->machine, (r->source << a->lim.page_shift) + r->offset),
                       machine_pa_ptr(&sys->machine, (r->target << a->lim.page_shift) + r->offset),
                       take);
                a->regs.bounce_bytes += take;
            }
            moved -= take;
        }
        hal_unmap(a, (unsigned)r0, regs, false, &sys->machine.ram);
        return TRUE;
    }
    hal_unmap(a, (unsigned)r0, regs, true, &sys->machine.ram);
    return TRUE;
}

VOID NTAPI hal_op_free_map_registers(PDMA_ADAPTER DmaAdapter, PVOID MapRegisterBase,
                                     ULONG NumberOfMapRegisters)
{
    struct hal_adapter *a = hal_enter(DmaAdapter, hal_irql_dispatch, "FreeMapRegisters");
    if (!a)
        return;
    struct sys *sys = sys_get();
    unsigned id, f;
    uint32_t gen;
    if (hal_base_decode(MapRegisterBase, &id, &f, &gen) && id == a->id && f < a->regs.count &&
        !hal_mapreg_run_valid(&a->regs, f, a->regs.reg[f].run, gen)) {
        hal_violation(a->hal, &hal_rule_map_registers_double_free, NumberOfMapRegisters, 0, 0,
                      "FreeMapRegisters(%p): those map registers are already free",
                      MapRegisterBase);
        return;
    }
    unsigned first, n;
    if (!hal_base_check(a, MapRegisterBase, &first, &n))
        return;
    if (n != NumberOfMapRegisters) {
        hal_violation(a->hal, &hal_rule_free_count_mismatch, (uintptr_t)MapRegisterBase,
                      NumberOfMapRegisters, n,
                      "FreeMapRegisters(%p, %lu): the grant was %u registers", MapRegisterBase,
                      (unsigned long)NumberOfMapRegisters, n);
        return;
    }
    if (a->channel_held && a->chan_regs && a->chan_first == first) {
        hal_violation(a->hal, &hal_rule_wrong_release_api, (uintptr_t)MapRegisterBase, 0, 0,
                      "FreeMapRegisters on registers kept with the channel (KeepObject): use "
                      "FreeAdapterChannel");
        return;
    }
    if (hal_report_still_mapped(a, first, n, "FreeMapRegisters"))
        return;
    hal_unmap(a, first, n, false, &sys->machine.ram);
    uint8_t old = ke_raise_irql(&sys->ke, DISPATCH_LEVEL);
    hal_mapreg_free(&a->regs, first, n);
    ke_lower_irql(&sys->ke, old);
}

VOID NTAPI hal_op_free_adapter_channel(PDMA_ADAPTER DmaAdapter)
{
    struct hal_adapter *a = hal_enter(DmaAdapter, hal_irql_dispatch, "FreeAdapterChannel");
    if (!a)
        return;
    struct sys *sys = sys_get();
    if (!a->channel_held || a->chan_active) {
        hal_violation(a->hal, &hal_rule_channel_double_free, 1, 0, 0,
                      "FreeAdapterChannel(%p) with no channel held", (void *)a);
        return;
    }
    uint8_t old = ke_raise_irql(&sys->ke, DISPATCH_LEVEL);
    if (a->chan_regs) {
        if (hal_report_still_mapped(a, a->chan_first, a->chan_n, "FreeAdapterChannel")) {
            ke_lower_irql(&sys->ke, old);
            return;
        }
        a->chan_regs = false;
        hal_mapreg_free(&a->regs, a->chan_first, a->chan_n);
    }
    hal_channel_release(a);
    ke_lower_irql(&sys->ke, old);
}
