/*
 * src/hal/v3.c - the version-3 DMA operations (Windows 8+) and the first
 * Win10 members.
 *
 * Models: spec/dma.md 2 and 5 (v3 sequence). Offsets are relative to the
 * MDL's first byte (MmGetMdlVirtualAddress); the Ex routines reuse the v1/v2
 * machinery. The transfer context is 128 bytes the driver owns; wdmsim
 * stamps it so a context never initialized is recognised.
 * Rule ids: dma.zero-length (AllocateCommonBufferEx of 0 bytes),
 * dma.free-while-mapped (FreeAdapterObject(DeallocateObject) of a grant
 * with an unflushed transfer), dma.channel-double-free (FreeAdapterObject
 * with no channel held); test_dmatest_ops.c.
 * Not modelled: DMA completion routines (never called: wdmsim's transfers
 * complete when the driver flushes, as for v2), DMA domains (Join/Leave
 * return STATUS_NOT_SUPPORTED, the domain handle of
 * AllocateDomainCommonBuffer must be NULL), ConfigureAdapterChannel
 * functions (none exist for the 8237).
 */
#include <stdlib.h>
#include <string.h>

#include "sys.h"

enum { ctx_magic = 0x58544344 /* 'DCTX' */ };

static PVOID mdl_offset_va(PMDL Mdl, ULONGLONG Offset)
{
    return (PVOID)((uintptr_t)Mdl->StartVa + Mdl->ByteOffset + (uintptr_t)Offset);
}

NTSTATUS NTAPI hal_op_get_dma_adapter_info(PDMA_ADAPTER DmaAdapter, PDMA_ADAPTER_INFO AdapterInfo)
{
    struct hal_adapter *a = hal_enter(DmaAdapter, hal_irql_max_d, "GetDmaAdapterInfo");
    if (!a || !AdapterInfo || AdapterInfo->Version != DMA_ADAPTER_INFO_VERSION1)
        return STATUS_INVALID_PARAMETER;
    AdapterInfo->V1.ReadDmaCounterAvailable = a->channel >= 0;
    AdapterInfo->V1.ScatterGatherLimit = a->nregs;
    AdapterInfo->V1.DmaAddressWidth = a->width;
    AdapterInfo->V1.Flags = 0;
    AdapterInfo->V1.MinimumTransferUnit = a->channel >= 4 ? 2 : 1;
    return STATUS_SUCCESS;
}

NTSTATUS NTAPI hal_op_get_dma_transfer_info(PDMA_ADAPTER DmaAdapter, PMDL Mdl, ULONGLONG Offset,
                                            ULONG Length, BOOLEAN WriteOnly,
                                            PDMA_TRANSFER_INFO TransferInfo)
{
    struct hal_adapter *a = hal_enter(DmaAdapter, hal_irql_max_d, "GetDmaTransferInfo");
    if (!a || !Mdl || !TransferInfo ||
        (TransferInfo->Version != DMA_TRANSFER_INFO_VERSION1 &&
         TransferInfo->Version != DMA_TRANSFER_INFO_VERSION2))
        return STATUS_INVALID_PARAMETER;
    struct hal_sg_walk w = {Mdl, (uintptr_t)mdl_offset_va(Mdl, Offset), Length};
    uint64_t pages;
    if (hal_sg_span(&w, a->lim.page_shift, &pages))
        return STATUS_BUFFER_TOO_SMALL;
    long nel = hal_sg_count(&w, &a->lim, a->bounce_base);
    if (nel < 0)
        return STATUS_BUFFER_TOO_SMALL;
    TransferInfo->V1.MapRegisterCount = (ULONG)pages;
    TransferInfo->V1.ScatterGatherElementCount = (ULONG)nel;
    TransferInfo->V1.ScatterGatherListSize = hal_sg_list_size((unsigned)nel);
    if (TransferInfo->Version == DMA_TRANSFER_INFO_VERSION2)
        TransferInfo->V2.LogicalPageCount = (ULONG)pages;
    return STATUS_SUCCESS;
}

NTSTATUS NTAPI hal_op_initialize_dma_transfer_context(PDMA_ADAPTER DmaAdapter,
                                                      PVOID DmaTransferContext)
{
    struct hal_adapter *a = hal_enter(DmaAdapter, hal_irql_max_d, "InitializeDmaTransferContext");
    if (!a || !DmaTransferContext)
        return STATUS_INVALID_PARAMETER;
    memset(DmaTransferContext, 0, DMA_TRANSFER_CONTEXT_SIZE_V1);
    ((uint32_t *)DmaTransferContext)[0] = ctx_magic;
    return STATUS_SUCCESS;
}

PVOID NTAPI hal_op_allocate_common_buffer_ex(PDMA_ADAPTER DmaAdapter,
                                             PPHYSICAL_ADDRESS MaximumAddress, ULONG Length,
                                             PPHYSICAL_ADDRESS LogicalAddress, BOOLEAN CacheEnabled,
                                             NODE_REQUIREMENT PreferredNode)
{
    struct hal_adapter *a = hal_enter(DmaAdapter, hal_irql_passive, "AllocateCommonBufferEx");
    if (!a || !LogicalAddress)
        return NULL;
    if (Length == 0) {
        hal_violation(a->hal, &hal_rule_zero_length, 0, 0, 0,
                      "AllocateCommonBufferEx of 0 bytes on adapter %p", (void *)a);
        return NULL;
    }
    uint64_t max = MaximumAddress ? (uint64_t)MaximumAddress->QuadPart + 1 : 0;
    return hal_common_alloc(a, Length, max, CacheEnabled, LogicalAddress);
}

NTSTATUS NTAPI hal_op_allocate_adapter_channel_ex(PDMA_ADAPTER DmaAdapter,
                                                  PDEVICE_OBJECT DeviceObject,
                                                  PVOID DmaTransferContext,
                                                  ULONG NumberOfMapRegisters, ULONG Flags,
                                                  PDRIVER_CONTROL ExecutionRoutine,
                                                  PVOID ExecutionContext, PVOID *MapRegisterBase)
{
    if (!(Flags & DMA_SYNCHRONOUS_CALLBACK) || !MapRegisterBase)
        return hal_op_allocate_adapter_channel(DmaAdapter, DeviceObject, NumberOfMapRegisters,
                                               ExecutionRoutine, ExecutionContext);
    /* Synchronous: now or STATUS_INSUFFICIENT_RESOURCES; the caller holds
     * the channel and registers (as after KeepObject). */
    struct hal_adapter *a = hal_enter(DmaAdapter, hal_irql_max_d, "AllocateAdapterChannelEx");
    if (!a)
        return STATUS_INVALID_PARAMETER;
    if (NumberOfMapRegisters > a->nregs || a->channel_held)
        return STATUS_INSUFFICIENT_RESOURCES;
    uint32_t gen = 0;
    int first = NumberOfMapRegisters ? hal_mapreg_alloc(&a->regs, NumberOfMapRegisters, &gen) : 0;
    if (first < 0)
        return STATUS_INSUFFICIENT_RESOURCES;
    a->channel_held = true;
    a->channel_owner = DeviceObject;
    a->chan_regs = NumberOfMapRegisters > 0;
    a->chan_first = (unsigned)first;
    a->chan_n = NumberOfMapRegisters;
    a->chan_gen = gen;
    *MapRegisterBase = hal_base_encode(a->id, NumberOfMapRegisters ? (unsigned)first : 0xFFFF, gen);
    return STATUS_SUCCESS;
}

NTSTATUS NTAPI hal_op_configure_adapter_channel(PDMA_ADAPTER DmaAdapter, ULONG FunctionNumber,
                                                PVOID Context)
{
    struct hal_adapter *a = hal_enter(DmaAdapter, hal_irql_max_d, "ConfigureAdapterChannel");
    return a ? STATUS_NOT_IMPLEMENTED : STATUS_INVALID_PARAMETER;
}

BOOLEAN NTAPI hal_op_cancel_adapter_channel(PDMA_ADAPTER DmaAdapter, PDEVICE_OBJECT DeviceObject,
                                            PVOID DmaTransferContext)
{
    struct hal_adapter *a = hal_enter(DmaAdapter, hal_irql_max_d, "CancelAdapterChannel");
    if (!a)
        return FALSE;
    struct hal_chan_req **pp = &a->chan_head, *prev = NULL;
    for (; *pp; prev = *pp, pp = &(*pp)->next) {
        if ((*pp)->device != DeviceObject)
            continue;
        struct hal_chan_req *r = *pp;
        *pp = r->next;
        if (a->chan_tail == r)
            a->chan_tail = prev;
        free(r);
        return TRUE;
    }
    struct hal_chan_req *act = a->chan_active;
    if (act && act->device == DeviceObject && hal_mapreg_cancel(&a->regs, &act->wait)) {
        free(act);
        a->chan_active = NULL;
        hal_channel_release(a);
        return TRUE;
    }
    return FALSE;
}

NTSTATUS NTAPI hal_op_map_transfer_ex(PDMA_ADAPTER DmaAdapter, PMDL Mdl, PVOID MapRegisterBase,
                                      ULONGLONG Offset, ULONG DeviceOffset, PULONG Length,
                                      BOOLEAN WriteToDevice,
                                      PSCATTER_GATHER_LIST ScatterGatherBuffer,
                                      ULONG ScatterGatherBufferLength,
                                      PDMA_COMPLETION_ROUTINE DmaCompletionRoutine,
                                      PVOID CompletionContext)
{
    if (!Mdl || !Length || !ScatterGatherBuffer ||
        ScatterGatherBufferLength < sizeof(SCATTER_GATHER_LIST) + sizeof(SCATTER_GATHER_ELEMENT))
        return STATUS_INVALID_PARAMETER;
    PHYSICAL_ADDRESS la = hal_op_map_transfer(DmaAdapter, Mdl, MapRegisterBase,
                                              mdl_offset_va(Mdl, Offset), Length, WriteToDevice);
    if (!la.QuadPart)
        return STATUS_INVALID_PARAMETER;
    ScatterGatherBuffer->NumberOfElements = 1;
    ScatterGatherBuffer->Reserved = 0;
    ScatterGatherBuffer->Elements[0].Address = la;
    ScatterGatherBuffer->Elements[0].Length = *Length;
    ScatterGatherBuffer->Elements[0].Reserved = 0;
    return STATUS_SUCCESS;
}

NTSTATUS NTAPI hal_op_get_scatter_gather_list_ex(
    PDMA_ADAPTER DmaAdapter, PDEVICE_OBJECT DeviceObject, PVOID DmaTransferContext, PMDL Mdl,
    ULONGLONG Offset, ULONG Length, ULONG Flags, PDRIVER_LIST_CONTROL ExecutionRoutine,
    PVOID Context, BOOLEAN WriteToDevice, PDMA_COMPLETION_ROUTINE DmaCompletionRoutine,
    PVOID CompletionContext, PSCATTER_GATHER_LIST *ScatterGatherList)
{
    bool sync = (Flags & DMA_SYNCHRONOUS_CALLBACK) || !ExecutionRoutine;
    struct hal_adapter *a =
        hal_enter(DmaAdapter, sync ? hal_irql_max_d : hal_irql_dispatch, "GetScatterGatherListEx");
    if (!a || !Mdl || (sync && !ScatterGatherList))
        return STATUS_INVALID_PARAMETER;
    return hal_sg_start(a, DeviceObject, Mdl, mdl_offset_va(Mdl, Offset), Length,
                        sync ? NULL : ExecutionRoutine, Context, WriteToDevice, NULL, 0,
                        sync ? ScatterGatherList : NULL);
}

NTSTATUS NTAPI hal_op_build_scatter_gather_list_ex(
    PDMA_ADAPTER DmaAdapter, PDEVICE_OBJECT DeviceObject, PVOID DmaTransferContext, PMDL Mdl,
    ULONGLONG Offset, ULONG Length, ULONG Flags, PDRIVER_LIST_CONTROL ExecutionRoutine,
    PVOID Context, BOOLEAN WriteToDevice, PVOID ScatterGatherBuffer, ULONG ScatterGatherLength,
    PDMA_COMPLETION_ROUTINE DmaCompletionRoutine, PVOID CompletionContext, PVOID ScatterGatherList)
{
    bool sync = (Flags & DMA_SYNCHRONOUS_CALLBACK) || !ExecutionRoutine;
    struct hal_adapter *a = hal_enter(DmaAdapter, sync ? hal_irql_max_d : hal_irql_dispatch,
                                      "BuildScatterGatherListEx");
    if (!a || !Mdl || !ScatterGatherBuffer || (sync && !ScatterGatherList))
        return STATUS_INVALID_PARAMETER;
    return hal_sg_start(a, DeviceObject, Mdl, mdl_offset_va(Mdl, Offset), Length,
                        sync ? NULL : ExecutionRoutine, Context, WriteToDevice, ScatterGatherBuffer,
                        ScatterGatherLength,
                        sync ? (PSCATTER_GATHER_LIST *)ScatterGatherList : NULL);
}

NTSTATUS NTAPI hal_op_flush_adapter_buffers_ex(PDMA_ADAPTER DmaAdapter, PMDL Mdl,
                                               PVOID MapRegisterBase, ULONGLONG Offset,
                                               ULONG Length, BOOLEAN WriteToDevice)
{
    if (!Mdl)
        return STATUS_INVALID_PARAMETER;
    return hal_op_flush_adapter_buffers(DmaAdapter, Mdl, MapRegisterBase,
                                        mdl_offset_va(Mdl, Offset), Length, WriteToDevice)
               ? STATUS_SUCCESS
               : STATUS_INVALID_PARAMETER;
}

VOID NTAPI hal_op_free_adapter_object(PDMA_ADAPTER DmaAdapter,
                                      IO_ALLOCATION_ACTION AllocationAction)
{
    struct hal_adapter *a = hal_enter(DmaAdapter, hal_irql_max_d, "FreeAdapterObject");
    if (!a)
        return;
    if (!a->channel_held) {
        /* the same bug as FreeAdapterChannel twice (packet.c) */
        hal_violation(a->hal, &hal_rule_channel_double_free, 1, 0, 0,
                      "FreeAdapterObject(%p) with no adapter channel held", (void *)a);
        return;
    }
    struct sys *sys = sys_get();
    uint8_t old = ke_raise_irql(&sys->ke, DISPATCH_LEVEL);
    if (AllocationAction == DeallocateObject && a->chan_regs &&
        hal_report_still_mapped(a, a->chan_first, a->chan_n,
                                "FreeAdapterObject(DeallocateObject)")) {
        ke_lower_irql(&sys->ke, old); /* state unchanged, as FreeAdapterChannel leaves it */
        return;
    }
    if (AllocationAction == DeallocateObject && a->chan_regs) {
        hal_unmap(a, a->chan_first, a->chan_n, true, &sys->machine.ram);
        hal_mapreg_free(&a->regs, a->chan_first, a->chan_n);
    }
    if (AllocationAction != KeepObject) {
        a->chan_regs = false;
        hal_channel_release(a);
    }
    ke_lower_irql(&sys->ke, old);
}

NTSTATUS NTAPI hal_op_cancel_mapped_transfer(PDMA_ADAPTER DmaAdapter, PVOID DmaTransferContext)
{
    struct hal_adapter *a = hal_enter(DmaAdapter, hal_irql_max_d, "CancelMappedTransfer");
    if (!a)
        return STATUS_INVALID_PARAMETER;
    if (a->channel < 0)
        return STATUS_NOT_SUPPORTED;
    hal_sysdma_mask(a);
    return STATUS_SUCCESS;
}

NTSTATUS NTAPI hal_op_allocate_domain_common_buffer(PDMA_ADAPTER DmaAdapter, HANDLE DomainHandle,
                                                    PPHYSICAL_ADDRESS MaximumAddress, ULONG Length,
                                                    ULONG Flags, MEMORY_CACHING_TYPE *CacheType,
                                                    NODE_REQUIREMENT PreferredNode,
                                                    PPHYSICAL_ADDRESS LogicalAddress,
                                                    PVOID *VirtualAddress)
{
    if (DomainHandle || !VirtualAddress)
        return STATUS_NOT_SUPPORTED;
    BOOLEAN cached = !CacheType || *CacheType != MmNonCached;
    *VirtualAddress = hal_op_allocate_common_buffer_ex(DmaAdapter, MaximumAddress, Length,
                                                       LogicalAddress, cached, PreferredNode);
    return *VirtualAddress ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
}

NTSTATUS NTAPI hal_op_flush_dma_buffer(PDMA_ADAPTER DmaAdapter, PMDL Mdl, BOOLEAN ReadOperation)
{
    return hal_enter(DmaAdapter, hal_irql_max_d, "FlushDmaBuffer") ? STATUS_SUCCESS
                                                                   : STATUS_INVALID_PARAMETER;
}

NTSTATUS NTAPI hal_op_join_dma_domain(PDMA_ADAPTER DmaAdapter, HANDLE DomainHandle)
{
    hal_enter(DmaAdapter, hal_irql_passive, "JoinDmaDomain");
    return STATUS_NOT_SUPPORTED;
}

NTSTATUS NTAPI hal_op_leave_dma_domain(PDMA_ADAPTER DmaAdapter)
{
    hal_enter(DmaAdapter, hal_irql_passive, "LeaveDmaDomain");
    return STATUS_NOT_SUPPORTED;
}

HANDLE NTAPI hal_op_get_dma_domain(PDMA_ADAPTER DmaAdapter)
{
    hal_enter(DmaAdapter, hal_irql_max_d, "GetDmaDomain");
    return NULL;
}
