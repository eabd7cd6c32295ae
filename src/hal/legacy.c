/*
 * src/hal/legacy.c - the obsolete HAL and Io DMA exports, as wrappers of
 * the adapter's operations.
 *
 * Models: HalGetAdapter, IoAllocateAdapterChannel, IoMapTransfer,
 * IoFlushAdapterBuffers, IoFreeMapRegisters, IoFreeAdapterChannel,
 * HalAllocateCommonBuffer, HalFreeCommonBuffer, HalReadDmaCounter: still
 * exported by Windows for old drivers; each does what its DmaOperations
 * counterpart does. A PADAPTER_OBJECT here is the DMA_ADAPTER IoGetDmaAdapter
 * returns. Every call is reported (dma.legacy-hal-call, continuing).
 * Spec: spec/dma.md 2; spec/verifier.md 7 (0x1E).
 */
#include "sys.h"

static PDMA_ADAPTER legacy(PADAPTER_OBJECT AdapterObject, const char *routine)
{
    struct sys *sys = sys_get();
    hal_violation(&sys->hal, &hal_rule_legacy_hal_call, 0, 0, 0,
                  "%s is obsolete: call the routine through DmaAdapter->DmaOperations", routine);
    return (PDMA_ADAPTER)AdapterObject;
}

NTHALAPI PADAPTER_OBJECT NTAPI HalGetAdapter(PDEVICE_DESCRIPTION DeviceDescription,
                                             PULONG NumberOfMapRegisters)
{
    legacy(NULL, "HalGetAdapter");
    return (PADAPTER_OBJECT)IoGetDmaAdapter(NULL, DeviceDescription, NumberOfMapRegisters);
}

NTKERNELAPI NTSTATUS NTAPI IoAllocateAdapterChannel(PADAPTER_OBJECT AdapterObject,
                                                    PDEVICE_OBJECT DeviceObject,
                                                    ULONG NumberOfMapRegisters,
                                                    PDRIVER_CONTROL ExecutionRoutine, PVOID Context)
{
    return hal_op_allocate_adapter_channel(legacy(AdapterObject, "IoAllocateAdapterChannel"),
                                           DeviceObject, NumberOfMapRegisters, ExecutionRoutine,
                                           Context);
}

NTHALAPI PHYSICAL_ADDRESS NTAPI IoMapTransfer(PADAPTER_OBJECT AdapterObject, PMDL Mdl,
                                              PVOID MapRegisterBase, PVOID CurrentVa, PULONG Length,
                                              BOOLEAN WriteToDevice)
{
    return hal_op_map_transfer(legacy(AdapterObject, "IoMapTransfer"), Mdl, MapRegisterBase,
                               CurrentVa, Length, WriteToDevice);
}

NTHALAPI BOOLEAN NTAPI IoFlushAdapterBuffers(PADAPTER_OBJECT AdapterObject, PMDL Mdl,
                                             PVOID MapRegisterBase, PVOID CurrentVa, ULONG Length,
                                             BOOLEAN WriteToDevice)
{
    return hal_op_flush_adapter_buffers(legacy(AdapterObject, "IoFlushAdapterBuffers"), Mdl,
                                        MapRegisterBase, CurrentVa, Length, WriteToDevice);
}

NTHALAPI VOID NTAPI IoFreeMapRegisters(PADAPTER_OBJECT AdapterObject, PVOID MapRegisterBase,
                                       ULONG NumberOfMapRegisters)
{
    hal_op_free_map_registers(legacy(AdapterObject, "IoFreeMapRegisters"), MapRegisterBase,
                              NumberOfMapRegisters);
}

NTHALAPI VOID NTAPI IoFreeAdapterChannel(PADAPTER_OBJECT AdapterObject)
{
    hal_op_free_adapter_channel(legacy(AdapterObject, "IoFreeAdapterChannel"));
}

NTHALAPI PVOID NTAPI HalAllocateCommonBuffer(PADAPTER_OBJECT AdapterObject, ULONG Length,
                                             PPHYSICAL_ADDRESS LogicalAddress, BOOLEAN CacheEnabled)
{
    return hal_op_allocate_common_buffer(legacy(AdapterObject, "HalAllocateCommonBuffer"), Length,
                                         LogicalAddress, CacheEnabled);
}

NTHALAPI VOID NTAPI HalFreeCommonBuffer(PADAPTER_OBJECT AdapterObject, ULONG Length,
                                        PHYSICAL_ADDRESS LogicalAddress, PVOID VirtualAddress,
                                        BOOLEAN CacheEnabled)
{
    hal_op_free_common_buffer(legacy(AdapterObject, "HalFreeCommonBuffer"), Length, LogicalAddress,
                              VirtualAddress, CacheEnabled);
}

NTHALAPI ULONG NTAPI HalReadDmaCounter(PADAPTER_OBJECT AdapterObject)
{
    return hal_op_read_dma_counter(legacy(AdapterObject, "HalReadDmaCounter"));
}
