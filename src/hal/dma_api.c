/*
 * src/hal/dma_api.c - IoGetDmaAdapter, PutDmaAdapter, the operations
 * tables, and the checks every DMA_OPERATIONS entry makes.
 *
 * Models: spec/dma.md 1-3. The returned DMA_ADAPTER has Version 1 always;
 * the table depends on DEVICE_DESCRIPTION.Version (0-1: v1, 2: v2, 3: v3).
 * Every slot is filled at compile time with a correctly typed NTAPI
 * function (no casts: STYLE.md on HalpDmaOperations).
 * Rule ids: dma.null-adapter, dma.adapter-after-put, dma.irql,
 * dma.unknown-description-version, dma.bad-description,
 * dma.desc-not-zeroed, dma.put-with-*, dma.unchecked-failure (NULL base).
 * Invariants: a put adapter stays allocated (dead) until the machine shuts
 * down, so later calls through it are reported, not undefined.
 */
#include <stdio.h>
#include <string.h>

#include "sys.h"

#define V1_SLOTS                                                                            \
    .PutDmaAdapter = hal_op_put_dma_adapter,                                                \
    .AllocateCommonBuffer = hal_op_allocate_common_buffer,                                  \
    .FreeCommonBuffer = hal_op_free_common_buffer,                                          \
    .AllocateAdapterChannel = hal_op_allocate_adapter_channel,                              \
    .FlushAdapterBuffers = hal_op_flush_adapter_buffers,                                    \
    .FreeAdapterChannel = hal_op_free_adapter_channel,                                      \
    .FreeMapRegisters = hal_op_free_map_registers, .MapTransfer = hal_op_map_transfer,      \
    .GetDmaAlignment = hal_op_get_dma_alignment, .ReadDmaCounter = hal_op_read_dma_counter, \
    .GetScatterGatherList = hal_op_get_scatter_gather_list,                                 \
    .PutScatterGatherList = hal_op_put_scatter_gather_list

#define V2_SLOTS                                                                  \
    V1_SLOTS, .CalculateScatterGatherList = hal_op_calculate_scatter_gather_list, \
              .BuildScatterGatherList = hal_op_build_scatter_gather_list,         \
              .BuildMdlFromScatterGatherList = hal_op_build_mdl_from_scatter_gather_list

const DMA_OPERATIONS hal_ops_v1 = {
    .Size = offsetof(DMA_OPERATIONS, CalculateScatterGatherList),
    V1_SLOTS,
};

const DMA_OPERATIONS hal_ops_v2 = {
    .Size = offsetof(DMA_OPERATIONS, GetDmaAdapterInfo),
    V2_SLOTS,
};

const DMA_OPERATIONS hal_ops_v3 = {
    .Size = sizeof(DMA_OPERATIONS),
    V2_SLOTS,
    .GetDmaAdapterInfo = hal_op_get_dma_adapter_info,
    .GetDmaTransferInfo = hal_op_get_dma_transfer_info,
    .InitializeDmaTransferContext = hal_op_initialize_dma_transfer_context,
    .AllocateCommonBufferEx = hal_op_allocate_common_buffer_ex,
    .AllocateAdapterChannelEx = hal_op_allocate_adapter_channel_ex,
    .ConfigureAdapterChannel = hal_op_configure_adapter_channel,
    .CancelAdapterChannel = hal_op_cancel_adapter_channel,
    .MapTransferEx = hal_op_map_transfer_ex,
    .GetScatterGatherListEx = hal_op_get_scatter_gather_list_ex,
    .BuildScatterGatherListEx = hal_op_build_scatter_gather_list_ex,
    .FlushAdapterBuffersEx = hal_op_flush_adapter_buffers_ex,
    .FreeAdapterObject = hal_op_free_adapter_object,
    .CancelMappedTransfer = hal_op_cancel_mapped_transfer,
    .AllocateDomainCommonBuffer = hal_op_allocate_domain_common_buffer,
    .FlushDmaBuffer = hal_op_flush_dma_buffer,
    .JoinDmaDomain = hal_op_join_dma_domain,
    .LeaveDmaDomain = hal_op_leave_dma_domain,
    .GetDmaDomain = hal_op_get_dma_domain,
};

_Static_assert(offsetof(DMA_OPERATIONS, CalculateScatterGatherList) == 104, "v1 table 104");
_Static_assert(offsetof(DMA_OPERATIONS, GetDmaAdapterInfo) == 128, "v2 table 128");
_Static_assert(sizeof(DMA_OPERATIONS) == 8 + 33 * 8, "v3 table");

static void check_irql(struct sys *sys, enum hal_irql_rule rule, const char *routine)
{
    uint8_t irql = ke_irql(&sys->ke);
    switch (rule) {
    case hal_irql_passive:
        if (irql != PASSIVE_LEVEL)
            hal_violation(&sys->hal, &hal_rule_irql, 1, PASSIVE_LEVEL, irql,
                          "%s at IRQL %u: it must be called at PASSIVE_LEVEL", routine, irql);
        break;
    case hal_irql_dispatch:
        if (irql != DISPATCH_LEVEL)
            hal_violation(&sys->hal, &hal_rule_irql, 1, DISPATCH_LEVEL, irql,
                          "%s at IRQL %u: it must be called at DISPATCH_LEVEL", routine, irql);
        break;
    case hal_irql_max_d:
        if (irql > DISPATCH_LEVEL)
            hal_violation(&sys->hal, &hal_rule_irql, 2, DISPATCH_LEVEL, irql,
                          "%s at IRQL %u: the maximum is DISPATCH_LEVEL", routine, irql);
        break;
    default:
        break;
    }
}

struct hal_adapter *hal_enter(PDMA_ADAPTER p, enum hal_irql_rule rule, const char *routine)
{
    struct sys *sys = sys_get();
    ke_sched_point(&sys->ke);
    struct hal_adapter *a = (struct hal_adapter *)p;
    if (!a || a->magic != hal_adapter_magic) {
        hal_violation(&sys->hal, &hal_rule_null_adapter, 0, 0, 0,
                      "%s with DmaAdapter %p, which IoGetDmaAdapter did not return", routine, p);
        return NULL;
    }
    if (a->dead) {
        hal_violation(&sys->hal, &hal_rule_adapter_after_put, (uintptr_t)a, 0, 0,
                      "%s on adapter %p after PutDmaAdapter", routine, (void *)a);
        return NULL;
    }
    check_irql(sys, rule, routine);
    return a;
}

/* The PnP binding of a PDO to its device model is the I/O manager's; until
 * it exports one (io_pnp_hw_of_pdo), adapters are bound by the host
 * (hal_adapter_bind) or, for system DMA, by channel. */
__attribute__((weak)) struct wdmsim_dev *io_pnp_hw_of_pdo(PDEVICE_OBJECT pdo);

/* spec/dma.md 1: fields a version does not use must be zero. */
static void check_zeroed(struct hal *hal, const DEVICE_DESCRIPTION *d)
{
    if (d->Version >= DEVICE_DESCRIPTION_VERSION3)
        return;
    if (d->DmaAddressWidth || d->DmaControllerInstance || d->DmaRequestLine ||
        d->DeviceAddress.QuadPart)
        hal_violation(hal, &hal_rule_desc_not_zeroed, offsetof(DEVICE_DESCRIPTION, DmaAddressWidth),
                      0, 0, "DEVICE_DESCRIPTION version %u has version-3 fields set: zero-fill it",
                      (unsigned)d->Version);
}

NTKERNELAPI PDMA_ADAPTER NTAPI IoGetDmaAdapter(PDEVICE_OBJECT PhysicalDeviceObject,
                                               PDEVICE_DESCRIPTION DeviceDescription,
                                               PULONG NumberOfMapRegisters)
{
    struct sys *sys = sys_get();
    ke_sched_point(&sys->ke);
    check_irql(sys, hal_irql_passive, "IoGetDmaAdapter");
    if (!DeviceDescription || !NumberOfMapRegisters)
        return NULL;
    if (DeviceDescription->Version > DEVICE_DESCRIPTION_VERSION3) {
        hal_violation(&sys->hal, &hal_rule_unknown_description_version, 0, 0, 0,
                      "DEVICE_DESCRIPTION.Version %u is unknown",
                      (unsigned)DeviceDescription->Version);
        return NULL;
    }
    check_zeroed(&sys->hal, DeviceDescription);
    const char *why = NULL;
    struct hal_adapter *a = hal_adapter_create(&sys->hal, DeviceDescription, &why);
    if (!a) {
        hal_violation(&sys->hal, &hal_rule_bad_description, 0, 0, 0,
                      "IoGetDmaAdapter returns NULL: %s", why);
        return NULL;
    }
    a->pdo = PhysicalDeviceObject;
    a->caller = (uintptr_t)__builtin_return_address(0);
    switch (DeviceDescription->Version) {
    case DEVICE_DESCRIPTION_VERSION3:
        a->pub.DmaOperations = (PDMA_OPERATIONS)&hal_ops_v3;
        break;
    case DEVICE_DESCRIPTION_VERSION2:
        a->pub.DmaOperations = (PDMA_OPERATIONS)&hal_ops_v2;
        break;
    default:
        a->pub.DmaOperations = (PDMA_OPERATIONS)&hal_ops_v1;
        break;
    }
    if (PhysicalDeviceObject && io_pnp_hw_of_pdo)
        hal_adapter_bind(a, io_pnp_hw_of_pdo(PhysicalDeviceObject));
    if (a->channel >= 0) {
        sys->hal.channel_owner[a->channel] = a;
        i8237_set_owned(&sys->machine.dma, (unsigned)a->channel, true);
    }
    *NumberOfMapRegisters = a->nregs;
    return &a->pub;
}

/* Returns what a dead adapter no longer needs; the struct itself stays. */
static void adapter_retire(struct hal_adapter *a)
{
    struct hal *hal = a->hal;
    if (a->channel >= 0 && hal->channel_owner[a->channel] == a) {
        hal->channel_owner[a->channel] = NULL;
        hal_sysdma_mask(a);
        i8237_set_owned(&hal->machine->dma, (unsigned)a->channel, false);
    }
    a->dead = true;
}

VOID NTAPI hal_op_put_dma_adapter(PDMA_ADAPTER DmaAdapter)
{
    struct hal_adapter *a = hal_enter(DmaAdapter, hal_irql_max_d, "PutDmaAdapter");
    if (!a)
        return;
    struct hal *hal = a->hal;
    if (a->common_buffers)
        hal_violation(hal, &hal_rule_put_with_common_buffers, (uintptr_t)a, a->common_buffers, 0,
                      "PutDmaAdapter(%p) with %u common buffers still allocated", (void *)a,
                      a->common_buffers);
    else if (a->channel_held || a->chan_head)
        hal_violation(hal, &hal_rule_put_with_channels, (uintptr_t)a, 1, 0,
                      "PutDmaAdapter(%p) while the adapter channel is held or requested",
                      (void *)a);
    else if (a->sg_lists)
        hal_violation(hal, &hal_rule_put_with_sg_lists, (uintptr_t)a, a->sg_lists, 0,
                      "PutDmaAdapter(%p) with %u scatter/gather lists not put", (void *)a,
                      a->sg_lists);
    else if (a->regs.nfree != a->regs.count)
        hal_violation(hal, &hal_rule_put_with_map_registers, (uintptr_t)a,
                      a->regs.count - a->regs.nfree, 0,
                      "PutDmaAdapter(%p) with %u map registers still allocated", (void *)a,
                      a->regs.count - a->regs.nfree);
    adapter_retire(a);
}

bool hal_base_check(struct hal_adapter *a, PVOID base, unsigned *first, unsigned *n)
{
    unsigned id, f;
    uint32_t gen;
    if (!base) {
        hal_violation(a->hal, &hal_rule_unchecked_failure, 3, 0, (uintptr_t)a,
                      "MapRegisterBase NULL on adapter %p: no grant ever returned it (a failed "
                      "allocation's status not checked?)",
                      (void *)a);
        return false;
    }
    if (hal_base_decode(base, &id, &f, &gen) && id == a->id) {
        if (f == 0xFFFF) { /* a grant of zero registers */
            *first = 0;
            *n = 0;
            return true;
        }
        if (f < a->regs.count && a->regs.reg[f].state != hal_reg_free && a->regs.reg[f].run &&
            a->regs.reg[f].gen == gen) {
            *first = f;
            *n = a->regs.reg[f].run;
            return true;
        }
    }
    hal_violation(a->hal, &hal_rule_map_register_use_after_free, (uintptr_t)base, (uintptr_t)a, 0,
                  "MapRegisterBase %p is not a live grant of adapter %p (freed, or another "
                  "adapter's)",
                  base, (void *)a);
    return false;
}

NTKERNELAPI VOID NTAPI KeFlushIoBuffers(PMDL Mdl, BOOLEAN ReadOperation, BOOLEAN DmaOperation)
{
    struct sys *sys = sys_get();
    ke_sched_point(&sys->ke);
    sys->hal.flush_io_buffers++;
}
