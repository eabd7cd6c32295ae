/*
 * tests/abi/layout.h - the x64 sizes and field offsets of every structure in
 * include/ddk, as compile-time assertions.
 *
 * Models: the Windows x64 WDK's layouts (LLP64), which a driver's compiled
 * code depends on (it indexes IRPs, MDLs and device objects by offset).
 * Spec: spec/io.md 1 and 5 (IRP, IO_STACK_LOCATION, DEVICE_OBJECT,
 * DRIVER_OBJECT, CM_RESOURCE_LIST), spec/mdl.md 1, spec/dma.md 1-3,
 * spec/ke_rtl_registry.md 5 and 7 (strings, lists); where the spec gives no
 * number (KDPC, KEVENT, KTIMER, KAPC, WAIT_CONTEXT_BLOCK ...), the values of
 * mingw-w64's ddk headers measured with x86_64-w64-mingw32-gcc, as the spec
 * README prescribes.
 * Invariants: included by two builds that must agree: the driver view
 * (tests/abi/layout_driver.c, -mabi=ms -fshort-wchar) and wdmsim's own host
 * view (tests/abi/test_layout.c, WDMSIM_HOST, glibc).
 * Not modelled: structures the spec marks Open; DMA_OPERATIONS' v3 members.
 */
#ifndef WDMSIM_TESTS_ABI_LAYOUT_H
#define WDMSIM_TESTS_ABI_LAYOUT_H

#define LAYOUT_SIZE(type, size) _Static_assert(sizeof(type) == (size), "sizeof " #type)
#define LAYOUT_AT(type, field, off) \
    _Static_assert(__builtin_offsetof(type, field) == (off), #type "." #field " offset")

/* ---- LLP64 basic types (ntdef.h) ------------------------------------------ */
LAYOUT_SIZE(CHAR, 1);
LAYOUT_SIZE(UCHAR, 1);
LAYOUT_SIZE(BOOLEAN, 1);
LAYOUT_SIZE(SHORT, 2);
LAYOUT_SIZE(USHORT, 2);
LAYOUT_SIZE(WCHAR, 2);
LAYOUT_SIZE(LONG, 4);
LAYOUT_SIZE(ULONG, 4);
LAYOUT_SIZE(NTSTATUS, 4);
LAYOUT_SIZE(LONGLONG, 8);
LAYOUT_SIZE(ULONGLONG, 8);
LAYOUT_SIZE(ULONG_PTR, 8);
LAYOUT_SIZE(SIZE_T, 8);
LAYOUT_SIZE(PVOID, 8);
LAYOUT_SIZE(HANDLE, 8);
LAYOUT_SIZE(KIRQL, 1);
LAYOUT_SIZE(KSPIN_LOCK, 8);
LAYOUT_SIZE(KAFFINITY, 8);
LAYOUT_SIZE(LARGE_INTEGER, 8);
LAYOUT_SIZE(PHYSICAL_ADDRESS, 8);
LAYOUT_AT(LARGE_INTEGER, HighPart, 4);
LAYOUT_AT(LARGE_INTEGER, u.HighPart, 4);
_Static_assert((LONG)-1 < 0 && (ULONG)-1 > 0, "LONG signed, ULONG unsigned");
_Static_assert((WCHAR)-1 > 0, "WCHAR unsigned");
_Static_assert((ULONG)MAXULONG == 0xffffffffU && MAXLONG == 0x7fffffff, "NT limits");

/* ---- NTSTATUS ------------------------------------------------------------- */
_Static_assert(NT_SUCCESS(STATUS_SUCCESS) && NT_SUCCESS(STATUS_PENDING), "NT_SUCCESS ok");
_Static_assert(!NT_SUCCESS(STATUS_UNSUCCESSFUL) && NT_ERROR(STATUS_CANCELLED), "NT_ERROR");
_Static_assert(NT_SUCCESS(STATUS_TIMEOUT) && NT_INFORMATION(STATUS_TIMEOUT) == 0, "TIMEOUT");
_Static_assert(NT_WARNING(STATUS_BUFFER_OVERFLOW) && !NT_SUCCESS(STATUS_BUFFER_OVERFLOW),
               "warnings are not success");
_Static_assert(STATUS_PENDING == 0x103 && STATUS_TIMEOUT == 0x102, "wait codes");
_Static_assert((ULONG)STATUS_BUFFER_OVERFLOW == 0x80000005U &&
                   (ULONG)STATUS_DATATYPE_MISALIGNMENT == 0x80000002U &&
                   (ULONG)STATUS_NO_MORE_ENTRIES == 0x8000001AU,
               "warning codes");
_Static_assert((ULONG)STATUS_ACCESS_VIOLATION == 0xC0000005U &&
                   (ULONG)STATUS_INVALID_PARAMETER == 0xC000000DU &&
                   (ULONG)STATUS_MORE_PROCESSING_REQUIRED == 0xC0000016U &&
                   (ULONG)STATUS_BUFFER_TOO_SMALL == 0xC0000023U &&
                   (ULONG)STATUS_OBJECT_NAME_NOT_FOUND == 0xC0000034U &&
                   (ULONG)STATUS_NONE_MAPPED == 0xC0000073U &&
                   (ULONG)STATUS_INSUFFICIENT_RESOURCES == 0xC000009AU &&
                   (ULONG)STATUS_INVALID_PARAMETER_4 == 0xC00000F2U &&
                   (ULONG)STATUS_INVALID_PARAMETER_5 == 0xC00000F3U &&
                   (ULONG)STATUS_CANCELLED == 0xC0000120U &&
                   (ULONG)STATUS_ILLEGAL_FLOAT_CONTEXT == 0xC000014AU,
               "error codes");

/* ---- strings and lists (spec/ke_rtl_registry.md 5, 7) ---------------------- */
LAYOUT_SIZE(UNICODE_STRING, 16);
LAYOUT_AT(UNICODE_STRING, Length, 0);
LAYOUT_AT(UNICODE_STRING, MaximumLength, 2);
LAYOUT_AT(UNICODE_STRING, Buffer, 8);
LAYOUT_SIZE(ANSI_STRING, 16);
LAYOUT_AT(ANSI_STRING, MaximumLength, 2);
LAYOUT_AT(ANSI_STRING, Buffer, 8);
LAYOUT_SIZE(STRING, 16);
LAYOUT_SIZE(LIST_ENTRY, 16);
LAYOUT_AT(LIST_ENTRY, Flink, 0);
LAYOUT_AT(LIST_ENTRY, Blink, 8);
LAYOUT_SIZE(SINGLE_LIST_ENTRY, 8);
_Static_assert(UNICODE_STRING_MAX_BYTES == 65534 && UNICODE_STRING_MAX_CHARS == 32767,
               "string limits");

/* ---- IRQL, pool types (spec/ke_rtl_registry.md 1, spec/memory.md 4) -------- */
_Static_assert(PASSIVE_LEVEL == 0 && APC_LEVEL == 1 && DISPATCH_LEVEL == 2, "IRQL");
_Static_assert(CLOCK_LEVEL == 13 && IPI_LEVEL == 14 && HIGH_LEVEL == 15, "IRQL high");
_Static_assert(NonPagedPool == 0 && PagedPool == 1 && NonPagedPoolMustSucceed == 2 &&
                   DontUseThisType == 3 && NonPagedPoolCacheAligned == 4 &&
                   PagedPoolCacheAligned == 5 && NonPagedPoolCacheAlignedMustS == 6 &&
                   MaxPoolType == 7 && NonPagedPoolSession == 32 && NonPagedPoolNx == 512 &&
                   NonPagedPoolNxCacheAligned == 516 && NonPagedPoolSessionNx == 544,
               "POOL_TYPE");
_Static_assert(KernelMode == 0 && UserMode == 1, "MODE");

/* ---- kernel objects (mingw-w64 witness) ------------------------------------ */
LAYOUT_SIZE(DISPATCHER_HEADER, 0x18);
LAYOUT_AT(DISPATCHER_HEADER, SignalState, 4);
LAYOUT_AT(DISPATCHER_HEADER, WaitListHead, 8);
LAYOUT_SIZE(KEVENT, 0x18);
LAYOUT_SIZE(KSEMAPHORE, 0x20);
LAYOUT_SIZE(KMUTEX, 0x38);
LAYOUT_AT(KMUTEX, OwnerThread, 0x28);
LAYOUT_SIZE(KTIMER, 0x40);
LAYOUT_AT(KTIMER, DueTime, 0x18);
LAYOUT_AT(KTIMER, Dpc, 0x30);
LAYOUT_SIZE(KDPC, 0x40);
LAYOUT_AT(KDPC, Type, 0);
LAYOUT_AT(KDPC, Importance, 1);
LAYOUT_AT(KDPC, Number, 2);
LAYOUT_AT(KDPC, DpcListEntry, 8);
LAYOUT_AT(KDPC, ProcessorHistory, 0x10);
LAYOUT_AT(KDPC, DeferredRoutine, 0x18);
LAYOUT_AT(KDPC, DeferredContext, 0x20);
LAYOUT_AT(KDPC, SystemArgument1, 0x28);
LAYOUT_AT(KDPC, SystemArgument2, 0x30);
LAYOUT_AT(KDPC, DpcData, 0x38);
LAYOUT_SIZE(KDEVICE_QUEUE_ENTRY, 0x18);
LAYOUT_AT(KDEVICE_QUEUE_ENTRY, SortKey, 0x10);
LAYOUT_AT(KDEVICE_QUEUE_ENTRY, Inserted, 0x14);
LAYOUT_SIZE(KDEVICE_QUEUE, 0x28);
LAYOUT_AT(KDEVICE_QUEUE, DeviceListHead, 8);
LAYOUT_AT(KDEVICE_QUEUE, Lock, 0x18);
LAYOUT_AT(KDEVICE_QUEUE, Busy, 0x20);
LAYOUT_SIZE(KSPIN_LOCK_QUEUE, 0x10);
LAYOUT_SIZE(KLOCK_QUEUE_HANDLE, 0x18);
LAYOUT_AT(KLOCK_QUEUE_HANDLE, OldIrql, 0x10);
LAYOUT_SIZE(FAST_MUTEX, 0x38);
LAYOUT_AT(FAST_MUTEX, Owner, 8);
LAYOUT_AT(FAST_MUTEX, Event, 0x18);
LAYOUT_AT(FAST_MUTEX, OldIrql, 0x30);
LAYOUT_SIZE(KFLOATING_SAVE, 4); /* spec/memory.md 8 */
LAYOUT_SIZE(KAPC, 0x58);
LAYOUT_AT(KAPC, Thread, 8);
LAYOUT_AT(KAPC, ApcListEntry, 0x10);
LAYOUT_AT(KAPC, NormalContext, 0x38);
LAYOUT_AT(KAPC, SystemArgument2, 0x48);
LAYOUT_AT(KAPC, ApcStateIndex, 0x50);
LAYOUT_AT(KAPC, Inserted, 0x52);

/* ---- MDL (spec/mdl.md 1) ------------------------------------------------------ */
LAYOUT_SIZE(MDL, 48);
LAYOUT_AT(MDL, Next, 0);
LAYOUT_AT(MDL, Size, 8);
LAYOUT_AT(MDL, MdlFlags, 10);
LAYOUT_AT(MDL, Process, 16);
LAYOUT_AT(MDL, MappedSystemVa, 24);
LAYOUT_AT(MDL, StartVa, 32);
LAYOUT_AT(MDL, ByteCount, 40);
LAYOUT_AT(MDL, ByteOffset, 44);
LAYOUT_SIZE(PFN_NUMBER, 8);
_Static_assert(MDL_MAPPED_TO_SYSTEM_VA == 0x1 && MDL_PAGES_LOCKED == 0x2 &&
                   MDL_SOURCE_IS_NONPAGED_POOL == 0x4 && MDL_ALLOCATED_FIXED_SIZE == 0x8 &&
                   MDL_PARTIAL == 0x10 && MDL_PARTIAL_HAS_BEEN_MAPPED == 0x20 &&
                   MDL_IO_PAGE_READ == 0x40 && MDL_WRITE_OPERATION == 0x80 &&
                   MDL_PARENT_MAPPED_SYSTEM_VA == 0x100 && MDL_FREE_EXTRA_PTES == 0x200 &&
                   MDL_DESCRIBES_AWE == 0x400 && MDL_IO_SPACE == 0x800 &&
                   MDL_NETWORK_HEADER == 0x1000 && MDL_MAPPING_CAN_FAIL == 0x2000 &&
                   MDL_ALLOCATED_MUST_SUCCEED == 0x4000 && MDL_INTERNAL == 0x8000,
               "MDL flags");
_Static_assert(IoReadAccess == 0 && IoWriteAccess == 1 && IoModifyAccess == 2, "LOCK_OPERATION");
_Static_assert(MmNonCached == 0 && MmCached == 1 && MmWriteCombined == 2 &&
                   MmHardwareCoherentCached == 3 && MmNonCachedUnordered == 4 &&
                   MmUSWCCached == 5 && MmMaximumCacheType == 6 && MmNotMapped == -1,
               "MEMORY_CACHING_TYPE");
_Static_assert(LowPagePriority == 0 && NormalPagePriority == 16 && HighPagePriority == 32,
               "MM_PAGE_PRIORITY");

/* ---- IRP and stack location (spec/io.md 1) ----------------------------------- */
LAYOUT_SIZE(IO_STATUS_BLOCK, 16);
LAYOUT_AT(IO_STATUS_BLOCK, Information, 8);
LAYOUT_SIZE(IRP, 0xD0);
LAYOUT_AT(IRP, MdlAddress, 0x08);
LAYOUT_AT(IRP, Flags, 0x10);
LAYOUT_AT(IRP, AssociatedIrp.SystemBuffer, 0x18);
LAYOUT_AT(IRP, IoStatus.Status, 0x30);
LAYOUT_AT(IRP, IoStatus.Information, 0x38);
LAYOUT_AT(IRP, RequestorMode, 0x40);
LAYOUT_AT(IRP, PendingReturned, 0x41);
LAYOUT_AT(IRP, StackCount, 0x42);
LAYOUT_AT(IRP, CurrentLocation, 0x43);
LAYOUT_AT(IRP, Cancel, 0x44);
LAYOUT_AT(IRP, CancelIrql, 0x45);
LAYOUT_AT(IRP, UserIosb, 0x48);
LAYOUT_AT(IRP, UserEvent, 0x50);
LAYOUT_AT(IRP, Overlay.AsynchronousParameters.UserApcRoutine, 0x58);
LAYOUT_AT(IRP, CancelRoutine, 0x68);
LAYOUT_AT(IRP, UserBuffer, 0x70);
LAYOUT_AT(IRP, Tail.Overlay.DriverContext, 0x78);
LAYOUT_AT(IRP, Tail.Overlay.DeviceQueueEntry, 0x78);
LAYOUT_AT(IRP, Tail.Overlay.Thread, 0x98);
LAYOUT_AT(IRP, Tail.Overlay.AuxiliaryBuffer, 0xA0);
LAYOUT_AT(IRP, Tail.Overlay.ListEntry, 0xA8);
LAYOUT_AT(IRP, Tail.Overlay.CurrentStackLocation, 0xB8);
LAYOUT_AT(IRP, Tail.Overlay.OriginalFileObject, 0xC0);
LAYOUT_AT(IRP, Tail.Apc, 0x78);
_Static_assert(IRP_NOCACHE == 0x1 && IRP_PAGING_IO == 0x2 && IRP_SYNCHRONOUS_API == 0x4 &&
                   IRP_ASSOCIATED_IRP == 0x8 && IRP_BUFFERED_IO == 0x10 &&
                   IRP_DEALLOCATE_BUFFER == 0x20 && IRP_INPUT_OPERATION == 0x40 &&
                   IRP_CREATE_OPERATION == 0x80 && IRP_READ_OPERATION == 0x100 &&
                   IRP_WRITE_OPERATION == 0x200 && IRP_CLOSE_OPERATION == 0x400 &&
                   IRP_DEFER_IO_COMPLETION == 0x800,
               "IRP flags");

LAYOUT_SIZE(IO_STACK_LOCATION, 0x48);
LAYOUT_AT(IO_STACK_LOCATION, MajorFunction, 0x00);
LAYOUT_AT(IO_STACK_LOCATION, MinorFunction, 0x01);
LAYOUT_AT(IO_STACK_LOCATION, Flags, 0x02);
LAYOUT_AT(IO_STACK_LOCATION, Control, 0x03);
LAYOUT_AT(IO_STACK_LOCATION, Parameters, 0x08);
_Static_assert(sizeof(((IO_STACK_LOCATION *)0)->Parameters) == 32, "Parameters is 32 bytes");
LAYOUT_AT(IO_STACK_LOCATION, Parameters.Read.Length, 0x08);
LAYOUT_AT(IO_STACK_LOCATION, Parameters.Read.Key, 0x10);
LAYOUT_AT(IO_STACK_LOCATION, Parameters.Read.ByteOffset, 0x18);
LAYOUT_AT(IO_STACK_LOCATION, Parameters.Write.Length, 0x08);
LAYOUT_AT(IO_STACK_LOCATION, Parameters.Write.Key, 0x10);
LAYOUT_AT(IO_STACK_LOCATION, Parameters.Write.ByteOffset, 0x18);
LAYOUT_AT(IO_STACK_LOCATION, Parameters.DeviceIoControl.OutputBufferLength, 0x08);
LAYOUT_AT(IO_STACK_LOCATION, Parameters.DeviceIoControl.InputBufferLength, 0x10);
LAYOUT_AT(IO_STACK_LOCATION, Parameters.DeviceIoControl.IoControlCode, 0x18);
LAYOUT_AT(IO_STACK_LOCATION, Parameters.DeviceIoControl.Type3InputBuffer, 0x20);
LAYOUT_AT(IO_STACK_LOCATION, Parameters.StartDevice.AllocatedResources, 0x08);
LAYOUT_AT(IO_STACK_LOCATION, Parameters.StartDevice.AllocatedResourcesTranslated, 0x10);
LAYOUT_AT(IO_STACK_LOCATION, Parameters.Create.FileAttributes, 0x18);
LAYOUT_AT(IO_STACK_LOCATION, Parameters.Create.EaLength, 0x20);
LAYOUT_AT(IO_STACK_LOCATION, DeviceObject, 0x28);
LAYOUT_AT(IO_STACK_LOCATION, FileObject, 0x30);
LAYOUT_AT(IO_STACK_LOCATION, CompletionRoutine, 0x38);
LAYOUT_AT(IO_STACK_LOCATION, Context, 0x40);
_Static_assert(SL_PENDING_RETURNED == 0x01 && SL_INVOKE_ON_CANCEL == 0x20 &&
                   SL_INVOKE_ON_SUCCESS == 0x40 && SL_INVOKE_ON_ERROR == 0x80,
               "SL_ flags");
_Static_assert(IRP_MJ_CREATE == 0 && IRP_MJ_READ == 3 && IRP_MJ_WRITE == 4 &&
                   IRP_MJ_DEVICE_CONTROL == 0x0E && IRP_MJ_INTERNAL_DEVICE_CONTROL == 0x0F &&
                   IRP_MJ_CLEANUP == 0x12 && IRP_MJ_POWER == 0x16 && IRP_MJ_PNP == 0x1B &&
                   IRP_MJ_MAXIMUM_FUNCTION == 0x1B,
               "IRP_MJ_");
_Static_assert(IRP_MN_START_DEVICE == 0 && IRP_MN_REMOVE_DEVICE == 2 && IRP_MN_STOP_DEVICE == 4 &&
                   IRP_MN_FILTER_RESOURCE_REQUIREMENTS == 0x0D && IRP_MN_SURPRISE_REMOVAL == 0x17,
               "IRP_MN_");
_Static_assert(CTL_CODE(0x22, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS) == 0x00222000,
               "CTL_CODE example of spec/io.md 4");
_Static_assert(METHOD_FROM_CTL_CODE(CTL_CODE(0x8000, 0x801, METHOD_NEITHER, FILE_READ_ACCESS)) ==
                   METHOD_NEITHER,
               "METHOD_FROM_CTL_CODE");

/* ---- driver and device objects (spec/io.md 1) --------------------------------- */
LAYOUT_SIZE(DRIVER_OBJECT, 0x150);
LAYOUT_AT(DRIVER_OBJECT, DeviceObject, 0x08);
LAYOUT_AT(DRIVER_OBJECT, DriverExtension, 0x30);
LAYOUT_AT(DRIVER_OBJECT, DriverName, 0x38);
LAYOUT_AT(DRIVER_OBJECT, DriverInit, 0x58);
LAYOUT_AT(DRIVER_OBJECT, DriverStartIo, 0x60);
LAYOUT_AT(DRIVER_OBJECT, DriverUnload, 0x68);
LAYOUT_AT(DRIVER_OBJECT, MajorFunction, 0x70);
_Static_assert(sizeof(((DRIVER_OBJECT *)0)->MajorFunction) == 28 * 8, "MajorFunction[28]");
LAYOUT_SIZE(DRIVER_EXTENSION, 0x28);
LAYOUT_AT(DRIVER_EXTENSION, AddDevice, 0x08);
LAYOUT_AT(DRIVER_EXTENSION, ServiceKeyName, 0x18);
LAYOUT_SIZE(WAIT_CONTEXT_BLOCK, 0x48);
LAYOUT_AT(WAIT_CONTEXT_BLOCK, DeviceRoutine, 0x18);
LAYOUT_AT(WAIT_CONTEXT_BLOCK, BufferChainingDpc, 0x40);
LAYOUT_SIZE(DEVICE_OBJECT, 0x150);
_Static_assert(_Alignof(DEVICE_OBJECT) == MEMORY_ALLOCATION_ALIGNMENT, "DEVICE_OBJECT align");
LAYOUT_AT(DEVICE_OBJECT, DriverObject, 0x08);
LAYOUT_AT(DEVICE_OBJECT, NextDevice, 0x10);
LAYOUT_AT(DEVICE_OBJECT, AttachedDevice, 0x18);
LAYOUT_AT(DEVICE_OBJECT, CurrentIrp, 0x20);
LAYOUT_AT(DEVICE_OBJECT, Flags, 0x30);
LAYOUT_AT(DEVICE_OBJECT, DeviceExtension, 0x40);
LAYOUT_AT(DEVICE_OBJECT, DeviceType, 0x48);
LAYOUT_AT(DEVICE_OBJECT, StackSize, 0x4C);
LAYOUT_AT(DEVICE_OBJECT, Queue, 0x50);
LAYOUT_AT(DEVICE_OBJECT, AlignmentRequirement, 0x98);
LAYOUT_AT(DEVICE_OBJECT, DeviceQueue, 0xA0);
LAYOUT_AT(DEVICE_OBJECT, Dpc, 0xC8);
LAYOUT_AT(DEVICE_OBJECT, DeviceLock, 0x118);
LAYOUT_AT(DEVICE_OBJECT, SectorSize, 0x130);
LAYOUT_AT(DEVICE_OBJECT, DeviceObjectExtension, 0x138);
LAYOUT_AT(DEVICE_OBJECT, Reserved, 0x140);
_Static_assert(DO_BUFFERED_IO == 0x4 && DO_DIRECT_IO == 0x10 && DO_DEVICE_INITIALIZING == 0x80 &&
                   DO_POWER_PAGABLE == 0x2000,
               "DO_ flags");

/* ---- hardware resources (spec/io.md 5; pack(4)) ------------------------------- */
LAYOUT_SIZE(CM_PARTIAL_RESOURCE_DESCRIPTOR, 20);
LAYOUT_AT(CM_PARTIAL_RESOURCE_DESCRIPTOR, Type, 0);
LAYOUT_AT(CM_PARTIAL_RESOURCE_DESCRIPTOR, ShareDisposition, 1);
LAYOUT_AT(CM_PARTIAL_RESOURCE_DESCRIPTOR, Flags, 2);
LAYOUT_AT(CM_PARTIAL_RESOURCE_DESCRIPTOR, u, 4);
LAYOUT_AT(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.Port.Start, 4);
LAYOUT_AT(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.Port.Length, 12);
LAYOUT_AT(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.Interrupt.Level, 4);
LAYOUT_AT(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.Interrupt.Group, 6);
LAYOUT_AT(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.Interrupt.Vector, 8);
LAYOUT_AT(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.Interrupt.Affinity, 12);
LAYOUT_AT(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.Memory.Start, 4);
LAYOUT_AT(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.Memory.Length, 12);
LAYOUT_AT(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.Dma.Channel, 4);
LAYOUT_AT(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.Dma.Port, 8);
LAYOUT_AT(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.Dma.Reserved1, 12);
LAYOUT_AT(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.DmaV3.RequestLine, 8);
LAYOUT_AT(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.DmaV3.TransferWidth, 12);
LAYOUT_AT(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.DeviceSpecificData.DataSize, 4);
LAYOUT_AT(CM_PARTIAL_RESOURCE_DESCRIPTOR, u.Memory64.Length64, 12);
_Static_assert(sizeof(((CM_PARTIAL_RESOURCE_DESCRIPTOR *)0)->u) == 16, "descriptor union 16");
LAYOUT_SIZE(CM_PARTIAL_RESOURCE_LIST, 28);
LAYOUT_AT(CM_PARTIAL_RESOURCE_LIST, Revision, 2);
LAYOUT_AT(CM_PARTIAL_RESOURCE_LIST, Count, 4);
LAYOUT_AT(CM_PARTIAL_RESOURCE_LIST, PartialDescriptors, 8);
LAYOUT_SIZE(CM_FULL_RESOURCE_DESCRIPTOR, 36);
LAYOUT_AT(CM_FULL_RESOURCE_DESCRIPTOR, BusNumber, 4);
LAYOUT_AT(CM_FULL_RESOURCE_DESCRIPTOR, PartialResourceList, 8);
LAYOUT_SIZE(CM_RESOURCE_LIST, 40);
LAYOUT_AT(CM_RESOURCE_LIST, List, 4);
_Static_assert(CmResourceTypePort == 1 && CmResourceTypeInterrupt == 2 &&
                   CmResourceTypeMemory == 3 && CmResourceTypeDma == 4 &&
                   CmResourceTypeDeviceSpecific == 5 && CmResourceTypeBusNumber == 6 &&
                   CmResourceTypeMemoryLarge == 7 && CmResourceTypeDevicePrivate == 129 &&
                   CmResourceTypeConnection == 132,
               "CmResourceType");
_Static_assert(CmResourceShareDeviceExclusive == 1 && CmResourceShareShared == 3, "share");
_Static_assert(CM_RESOURCE_PORT_IO == 0x1 && CM_RESOURCE_PORT_BAR == 0x100 &&
                   CM_RESOURCE_INTERRUPT_LATCHED == 0x1 && CM_RESOURCE_INTERRUPT_MESSAGE == 0x2 &&
                   CM_RESOURCE_MEMORY_PREFETCHABLE == 0x4 && CM_RESOURCE_MEMORY_LARGE_64 == 0x800 &&
                   CM_RESOURCE_DMA_16 == 0x1 && CM_RESOURCE_DMA_BUS_MASTER == 0x8 &&
                   CM_RESOURCE_DMA_V3 == 0x80,
               "CM_RESOURCE flags");
_Static_assert(InterfaceTypeUndefined == -1 && Isa == 1 && Eisa == 2 && PCIBus == 5,
               "INTERFACE_TYPE");

/* ---- DMA (spec/dma.md 1-3) ---------------------------------------------------- */
LAYOUT_SIZE(DEVICE_DESCRIPTION, 64);
LAYOUT_AT(DEVICE_DESCRIPTION, Version, 0);
LAYOUT_AT(DEVICE_DESCRIPTION, Master, 4);
LAYOUT_AT(DEVICE_DESCRIPTION, ScatterGather, 5);
LAYOUT_AT(DEVICE_DESCRIPTION, DemandMode, 6);
LAYOUT_AT(DEVICE_DESCRIPTION, AutoInitialize, 7);
LAYOUT_AT(DEVICE_DESCRIPTION, Dma32BitAddresses, 8);
LAYOUT_AT(DEVICE_DESCRIPTION, IgnoreCount, 9);
LAYOUT_AT(DEVICE_DESCRIPTION, Reserved1, 10);
LAYOUT_AT(DEVICE_DESCRIPTION, Dma64BitAddresses, 11);
LAYOUT_AT(DEVICE_DESCRIPTION, BusNumber, 12);
LAYOUT_AT(DEVICE_DESCRIPTION, DmaChannel, 16);
LAYOUT_AT(DEVICE_DESCRIPTION, InterfaceType, 20);
LAYOUT_AT(DEVICE_DESCRIPTION, DmaWidth, 24);
LAYOUT_AT(DEVICE_DESCRIPTION, DmaSpeed, 28);
LAYOUT_AT(DEVICE_DESCRIPTION, MaximumLength, 32);
LAYOUT_AT(DEVICE_DESCRIPTION, DmaPort, 36);
LAYOUT_AT(DEVICE_DESCRIPTION, DmaAddressWidth, 40);
LAYOUT_AT(DEVICE_DESCRIPTION, DmaControllerInstance, 44);
LAYOUT_AT(DEVICE_DESCRIPTION, DmaRequestLine, 48);
LAYOUT_AT(DEVICE_DESCRIPTION, DeviceAddress, 56);
_Static_assert(RTL_SIZEOF_THROUGH_FIELD(DEVICE_DESCRIPTION, DmaPort) == 40, "v0-2 header 40");
_Static_assert(Width8Bits == 0 && Width16Bits == 1 && Width32Bits == 2 && Width64Bits == 3,
               "DMA_WIDTH");
_Static_assert(Compatible == 0 && TypeA == 1 && TypeB == 2 && TypeC == 3 && TypeF == 4,
               "DMA_SPEED");
LAYOUT_SIZE(DMA_ADAPTER, 16);
LAYOUT_AT(DMA_ADAPTER, Size, 2);
LAYOUT_AT(DMA_ADAPTER, DmaOperations, 8);
LAYOUT_AT(DMA_OPERATIONS, Size, 0);
LAYOUT_AT(DMA_OPERATIONS, PutDmaAdapter, 8 + 8 * 0);
LAYOUT_AT(DMA_OPERATIONS, AllocateCommonBuffer, 8 + 8 * 1);
LAYOUT_AT(DMA_OPERATIONS, FreeCommonBuffer, 8 + 8 * 2);
LAYOUT_AT(DMA_OPERATIONS, AllocateAdapterChannel, 8 + 8 * 3);
LAYOUT_AT(DMA_OPERATIONS, FlushAdapterBuffers, 8 + 8 * 4);
LAYOUT_AT(DMA_OPERATIONS, FreeAdapterChannel, 8 + 8 * 5);
LAYOUT_AT(DMA_OPERATIONS, FreeMapRegisters, 8 + 8 * 6);
LAYOUT_AT(DMA_OPERATIONS, MapTransfer, 8 + 8 * 7);
LAYOUT_AT(DMA_OPERATIONS, GetDmaAlignment, 8 + 8 * 8);
LAYOUT_AT(DMA_OPERATIONS, ReadDmaCounter, 8 + 8 * 9);
LAYOUT_AT(DMA_OPERATIONS, GetScatterGatherList, 8 + 8 * 10);
LAYOUT_AT(DMA_OPERATIONS, PutScatterGatherList, 8 + 8 * 11);
LAYOUT_AT(DMA_OPERATIONS, CalculateScatterGatherList, 8 + 8 * 12);
LAYOUT_AT(DMA_OPERATIONS, BuildScatterGatherList, 8 + 8 * 13);
LAYOUT_AT(DMA_OPERATIONS, BuildMdlFromScatterGatherList, 8 + 8 * 14);
_Static_assert(RTL_SIZEOF_THROUGH_FIELD(DMA_OPERATIONS, PutScatterGatherList) == 104, "v1 104");
_Static_assert(RTL_SIZEOF_THROUGH_FIELD(DMA_OPERATIONS, BuildMdlFromScatterGatherList) == 128,
               "v2 128");
LAYOUT_SIZE(SCATTER_GATHER_ELEMENT, 24);
LAYOUT_AT(SCATTER_GATHER_ELEMENT, Address, 0);
LAYOUT_AT(SCATTER_GATHER_ELEMENT, Length, 8);
LAYOUT_AT(SCATTER_GATHER_ELEMENT, Reserved, 16);
LAYOUT_SIZE(SCATTER_GATHER_LIST, 16);
LAYOUT_AT(SCATTER_GATHER_LIST, Reserved, 8);
LAYOUT_AT(SCATTER_GATHER_LIST, Elements, 16);
_Static_assert(KeepObject == 1 && DeallocateObject == 2 && DeallocateObjectKeepRegisters == 3,
               "IO_ALLOCATION_ACTION");

#endif
