/*
 * drivers/pktdisk/pktdisk.c - sample WDM function driver for PKD-1, the PCI
 * packet-DMA RAM disk (shared/devices/pktdisk.md): packet-based bus-master
 * DMA without scatter/gather.
 *
 * Shows (spec/dma.md 5 (b)): IoGetDmaAdapter at START with Master = TRUE,
 * ScatterGather = FALSE, Dma32BitAddresses = TRUE; per request
 * KeFlushIoBuffers and AllocateAdapterChannel for as many map registers as
 * the buffer spans (at most the adapter's count); an AdapterControl routine
 * that maps the first piece with MapTransfer, programs the device and
 * returns DeallocateObjectKeepRegisters; a level-triggered shared ISR that
 * acknowledges DONE and queues the DpcForIsr; the DPC that calls
 * FlushAdapterBuffers for the piece, maps and starts the next piece in the
 * same registers while bytes are left (a request larger than the registers
 * cover is split, each piece a whole number of sectors), and finally
 * FreeMapRegisters and IoCompleteRequest. Requests wait in a driver queue
 * whose IRPs can be cancelled; the one on the device cannot (it ends within
 * one device command). Written only against <wdm.h>.
 *
 * The device needs COUNT a multiple of 512 and a 32-bit logical address;
 * buffers above 4 GiB or spread over scattered pages reach it through map
 * registers (and bounce pages when needed): the HAL makes every piece one
 * logically contiguous range, so the device sees DMA_ADDR + COUNT only.
 */
#include <wdm.h>
#include <ntstrsafe.h>

#include "pktdisk_ioctl.h"

/* PKD-1 registers (BAR0, 32-bit) and bits (devices/pktdisk.md 1). */
enum {
    REG_ID = 0x00,
    REG_MAXXFER = 0x08,
    REG_ALIGN = 0x0C,
    REG_CAPACITY_LO = 0x10,
    REG_CAPACITY_HI = 0x14,
    REG_SECTOR_LO = 0x18,
    REG_SECTOR_HI = 0x1C,
    REG_COUNT = 0x20,
    REG_DMA_ADDR = 0x24,
    REG_CONTROL = 0x28,
    REG_STATUS = 0x2C,
    REG_XFERRED = 0x30,
    REG_INT_STATUS = 0x38,
    REG_INT_ENABLE = 0x3C,
    CONTROL_GO = 0x1,
    CONTROL_DIR_WRITE = 0x2,
    CONTROL_RESET = 0x80000000,
    STATUS_BUSY = 0x1,
    STATUS_ERROR = 0x4,
    INT_DONE = 0x1,
    PKD_ID = 0x00025744,
    ERRCODE_DMA = 0x06,
    ERRCODE_MEDIA = 0x07,
};

typedef struct _PKD_EXT {
    PDEVICE_OBJECT Self;
    PDEVICE_OBJECT Lower;
    PDEVICE_OBJECT Pdo;

    /* Hardware, valid between a successful START and STOP/REMOVE. */
    PUCHAR Regs; /* BAR0 through MmMapIoSpace */
    SIZE_T RegsLength;
    PKINTERRUPT Interrupt;
    PDMA_ADAPTER Adapter;
    ULONG MapRegisters; /* most registers one AllocateAdapterChannel may ask */
    ULONG MaxTransfer;  /* MAXXFER */
    ULONG Alignment;    /* ALIGN (a power of two) */
    ULONGLONG Capacity; /* sectors */

    /* The request queue: QueueLock guards Queue, Current and Started. */
    KSPIN_LOCK QueueLock;
    LIST_ENTRY Queue;
    PIRP Current;     /* the request on the device, NULL when idle */
    BOOLEAN Started;  /* accepting requests */
    KEVENT IdleEvent; /* signalled while Current == NULL */

    /* The current request's transfer: touched only by the code that owns
     * Current (StartIo-like path, AdapterControl, DPC), one at a time. */
    PMDL Mdl;
    PUCHAR CurrentVa;      /* MapTransfer's index into the MDL: next piece */
    ULONG Left;            /* bytes not yet transferred */
    ULONG Piece;           /* bytes of the piece on the device */
    ULONG Done;            /* bytes transferred */
    ULONGLONG Sector;      /* first sector of the next piece */
    BOOLEAN WriteToDevice; /* IRP_MJ_WRITE */
    PVOID MapRegisterBase; /* from AdapterControl, until FreeMapRegisters */
    ULONG RegistersHeld;

    /* ISR -> DPC: STATUS of the command that finished. */
    ULONG DoneStatus;

    /* Counters for IOCTL_PKTDISK_GET_INFO. */
    ULONGLONG Requests, Pieces, DeviceErrors;

    UNICODE_STRING Link;
    WCHAR LinkBuf[32];
} PKD_EXT, *PPKD_EXT;

static ULONG g_Instances;

DRIVER_ADD_DEVICE PkdAddDevice;
DRIVER_UNLOAD PkdUnload;
DRIVER_DISPATCH PkdCreateClose;
DRIVER_DISPATCH PkdReadWrite;
DRIVER_DISPATCH PkdIoctl;
DRIVER_DISPATCH PkdPnp;
DRIVER_CANCEL PkdCancel;
DRIVER_CONTROL PkdAdapterControl;
KSERVICE_ROUTINE PkdIsr;
IO_DPC_ROUTINE PkdDpc;
IO_COMPLETION_ROUTINE PkdStartCompletion;

static ULONG RegRead(PPKD_EXT x, ULONG off)
{
    return READ_REGISTER_ULONG((volatile ULONG *)(x->Regs + off));
}

static VOID RegWrite(PPKD_EXT x, ULONG off, ULONG value)
{
    WRITE_REGISTER_ULONG((volatile ULONG *)(x->Regs + off), value);
}

static NTSTATUS Complete(PIRP Irp, NTSTATUS Status, ULONG_PTR Info)
{
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = Info;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return Status;
}

/* ---- the request queue ------------------------------------------------------ */

/* The cancel routine of a queued IRP. The cancel spin lock is held on entry;
 * the queue has its own lock, so drop the cancel lock first. */
VOID PkdCancel(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PPKD_EXT x = DeviceObject->DeviceExtension;
    KIRQL irql;
    IoReleaseCancelSpinLock(Irp->CancelIrql);
    KeAcquireSpinLock(&x->QueueLock, &irql);
    /* The dequeuer may have unlinked it already; it left the entry pointing
     * at itself, so removing it again is harmless. */
    RemoveEntryList(&Irp->Tail.Overlay.ListEntry);
    InitializeListHead(&Irp->Tail.Overlay.ListEntry);
    KeReleaseSpinLock(&x->QueueLock, irql);
    Complete(Irp, STATUS_CANCELLED, 0);
}

/* The oldest queued IRP that is not being cancelled, its cancel routine
 * cleared; NULL when none. Called with QueueLock held. */
static PIRP Dequeue(PPKD_EXT x)
{
    while (!IsListEmpty(&x->Queue)) {
        PLIST_ENTRY e = RemoveHeadList(&x->Queue);
        PIRP irp = CONTAINING_RECORD(e, IRP, Tail.Overlay.ListEntry);
        InitializeListHead(e);
        if (IoSetCancelRoutine(irp, NULL) != NULL)
            return irp;
        /* PkdCancel owns this one and completes it. */
    }
    return NULL;
}

static VOID StartTransfer(PPKD_EXT x, PIRP Irp);

/* Puts the next queued request on the device if it is idle. At
 * DISPATCH_LEVEL (AllocateAdapterChannel's IRQL). */
static VOID StartNext(PPKD_EXT x)
{
    KeAcquireSpinLockAtDpcLevel(&x->QueueLock);
    PIRP irp = NULL;
    if (!x->Current && x->Started) {
        irp = Dequeue(x);
        if (irp) {
            x->Current = irp;
            KeClearEvent(&x->IdleEvent);
        }
    }
    KeReleaseSpinLockFromDpcLevel(&x->QueueLock);
    if (irp)
        StartTransfer(x, irp);
}

/* Queues a validated read/write and starts it if the device is idle. */
static NTSTATUS QueueRequest(PPKD_EXT x, PIRP Irp)
{
    KIRQL irql;
    KeAcquireSpinLock(&x->QueueLock, &irql);
    if (!x->Started) {
        KeReleaseSpinLock(&x->QueueLock, irql);
        return Complete(Irp, STATUS_DEVICE_NOT_READY, 0);
    }
    IoSetCancelRoutine(Irp, PkdCancel);
    if (Irp->Cancel && IoSetCancelRoutine(Irp, NULL) != NULL) {
        /* Cancelled before it was queued and the routine was not called. */
        KeReleaseSpinLock(&x->QueueLock, irql);
        return Complete(Irp, STATUS_CANCELLED, 0);
    }
    IoMarkIrpPending(Irp);
    InsertTailList(&x->Queue, &Irp->Tail.Overlay.ListEntry);
    KeReleaseSpinLock(&x->QueueLock, irql);

    KeRaiseIrql(DISPATCH_LEVEL, &irql);
    StartNext(x);
    KeLowerIrql(irql);
    return STATUS_PENDING;
}

/* Fails every queued request (STOP / REMOVE). */
static VOID FlushQueue(PPKD_EXT x, NTSTATUS Status)
{
    for (;;) {
        KIRQL irql;
        KeAcquireSpinLock(&x->QueueLock, &irql);
        PIRP irp = Dequeue(x);
        KeReleaseSpinLock(&x->QueueLock, irql);
        if (!irp)
            return;
        Complete(irp, Status, 0);
    }
}

/* ---- one transfer: pieces through the map registers -------------------------- */

/* Bytes of the next piece: what the held registers cover from CurrentVa,
 * at most MAXXFER, cut to whole sectors unless it is the last piece. */
static ULONG PieceLength(PPKD_EXT x)
{
    ULONG cover = x->RegistersHeld * PAGE_SIZE - BYTE_OFFSET(x->CurrentVa);
    ULONG n = x->Left;
    if (n > cover)
        n = cover;
    if (n > x->MaxTransfer)
        n = x->MaxTransfer;
    if (n < x->Left)
        n &= ~(PKTDISK_SECTOR - 1);
    return n;
}

/* Maps the next piece and starts the device on it (DISPATCH_LEVEL). */
static VOID StartPiece(PPKD_EXT x)
{
    ULONG length = PieceLength(x);
    /* A bus master without S/G: the HAL maps all `length` bytes as one
     * logically contiguous range and leaves Length unchanged. */
    PHYSICAL_ADDRESS la = x->Adapter->DmaOperations->MapTransfer(
        x->Adapter, x->Mdl, x->MapRegisterBase, x->CurrentVa, &length, x->WriteToDevice);
    x->Piece = length;
    x->Pieces++;
    RegWrite(x, REG_SECTOR_LO, (ULONG)x->Sector);
    RegWrite(x, REG_SECTOR_HI, (ULONG)(x->Sector >> 32));
    RegWrite(x, REG_COUNT, length);
    RegWrite(x, REG_DMA_ADDR, la.LowPart); /* the adapter keeps it below 4 GiB */
    RegWrite(x, REG_CONTROL, CONTROL_GO | (x->WriteToDevice ? CONTROL_DIR_WRITE : 0));
}

/* Runs at DISPATCH_LEVEL when the channel and the registers are ours. */
IO_ALLOCATION_ACTION PkdAdapterControl(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID MapRegisterBase,
                                       PVOID Context)
{
    PPKD_EXT x = Context;
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
    x->MapRegisterBase = MapRegisterBase;
    StartPiece(x);
    /* The device queues nothing: release the channel, keep the registers
     * until the last piece is flushed. */
    return DeallocateObjectKeepRegisters;
}

/* Ends the current request and starts the next (DISPATCH_LEVEL). */
static VOID FinishTransfer(PPKD_EXT x, NTSTATUS Status)
{
    PIRP irp = x->Current;
    if (x->MapRegisterBase) {
        x->Adapter->DmaOperations->FreeMapRegisters(x->Adapter, x->MapRegisterBase,
                                                    x->RegistersHeld);
        x->MapRegisterBase = NULL;
    }
    x->Requests++;
    ULONG done = x->Done;
    KeAcquireSpinLockAtDpcLevel(&x->QueueLock);
    x->Current = NULL;
    KeSetEvent(&x->IdleEvent, IO_NO_INCREMENT, FALSE);
    KeReleaseSpinLockFromDpcLevel(&x->QueueLock);
    Complete(irp, Status, NT_SUCCESS(Status) ? done : 0);
    StartNext(x);
}

/* Sets up the request's transfer and asks for the adapter (DISPATCH_LEVEL). */
static VOID StartTransfer(PPKD_EXT x, PIRP Irp)
{
    PIO_STACK_LOCATION sl = IoGetCurrentIrpStackLocation(Irp);
    x->Mdl = Irp->MdlAddress;
    x->CurrentVa = MmGetMdlVirtualAddress(x->Mdl);
    x->Left = sl->Parameters.Read.Length;
    x->Done = 0;
    x->Piece = 0;
    x->Sector = (ULONGLONG)sl->Parameters.Read.ByteOffset.QuadPart / PKTDISK_SECTOR;
    x->WriteToDevice = sl->MajorFunction == IRP_MJ_WRITE;
    x->MapRegisterBase = NULL;
    /* Processor caches and DMA (a no-op on x86/x64, required by the v1/v2
     * contract before each transfer). */
    KeFlushIoBuffers(x->Mdl, !x->WriteToDevice, TRUE);
    ULONG span = ADDRESS_AND_SIZE_TO_SPAN_PAGES(x->CurrentVa, x->Left);
    x->RegistersHeld = span < x->MapRegisters ? span : x->MapRegisters;
    NTSTATUS st = x->Adapter->DmaOperations->AllocateAdapterChannel(
        x->Adapter, x->Self, x->RegistersHeld, PkdAdapterControl, x);
    if (!NT_SUCCESS(st))
        FinishTransfer(x, st);
}

/* ---- interrupt and DPC --------------------------------------------------------- */

/* DIRQL. The PCI line may be shared: claim it only if DONE is ours. */
BOOLEAN PkdIsr(PKINTERRUPT Interrupt, PVOID ServiceContext)
{
    PPKD_EXT x = ServiceContext;
    UNREFERENCED_PARAMETER(Interrupt);
    if (!(RegRead(x, REG_INT_STATUS) & INT_DONE))
        return FALSE;
    x->DoneStatus = RegRead(x, REG_STATUS);
    RegWrite(x, REG_INT_STATUS, INT_DONE); /* acknowledge: INTA# drops */
    IoRequestDpc(x->Self, NULL, NULL);
    return TRUE;
}

static NTSTATUS ErrorStatus(ULONG status)
{
    ULONG code = (status >> 8) & 0xFF;
    if (code == ERRCODE_MEDIA)
        return STATUS_DEVICE_DATA_ERROR;
    return STATUS_IO_DEVICE_ERROR; /* DMA_ERROR or a failed GO check: a driver bug */
}

/* DISPATCH_LEVEL, after each device command. */
VOID PkdDpc(PKDPC Dpc, PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    PPKD_EXT x = DeviceObject->DeviceExtension;
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Irp);
    UNREFERENCED_PARAMETER(Context);
    if (!x->Current || !x->MapRegisterBase)
        return; /* a stale DONE (after a reset): nothing is on the device */
    /* The piece is over: its mapping ends, and data the device wrote into
     * bounce pages reaches the caller's buffer now. */
    x->Adapter->DmaOperations->FlushAdapterBuffers(x->Adapter, x->Mdl, x->MapRegisterBase,
                                                   x->CurrentVa, x->Piece, x->WriteToDevice);
    if (x->DoneStatus & STATUS_ERROR) {
        x->DeviceErrors++;
        FinishTransfer(x, ErrorStatus(x->DoneStatus));
        return;
    }
    x->Done += x->Piece;
    x->Left -= x->Piece;
    x->CurrentVa += x->Piece;
    x->Sector += x->Piece / PKTDISK_SECTOR;
    if (x->Left) {
        StartPiece(x); /* the registers are free again after the flush */
        return;
    }
    FinishTransfer(x, STATUS_SUCCESS);
}

/* ---- dispatch routines ------------------------------------------------------------ */

NTSTATUS PkdCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    return Complete(Irp, STATUS_SUCCESS, 0);
}

/* Whole sectors at a sector offset inside the disk, a buffer as aligned as
 * the device needs; anything else is refused as a raw disk refuses it. */
NTSTATUS PkdReadWrite(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PPKD_EXT x = DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION sl = IoGetCurrentIrpStackLocation(Irp);
    ULONG length = sl->Parameters.Read.Length;
    LONGLONG offset = sl->Parameters.Read.ByteOffset.QuadPart;
    if (!x->Started)
        return Complete(Irp, STATUS_DEVICE_NOT_READY, 0);
    if (length == 0)
        return Complete(Irp, STATUS_SUCCESS, 0);
    if (offset < 0 || (offset % PKTDISK_SECTOR) || (length % PKTDISK_SECTOR))
        return Complete(Irp, STATUS_INVALID_PARAMETER, 0);
    ULONGLONG first = (ULONGLONG)offset / PKTDISK_SECTOR;
    if (first > x->Capacity || length / PKTDISK_SECTOR > x->Capacity - first)
        return Complete(Irp, STATUS_INVALID_PARAMETER, 0);
    if ((ULONG_PTR)MmGetMdlVirtualAddress(Irp->MdlAddress) & (x->Alignment - 1))
        return Complete(Irp, STATUS_INVALID_PARAMETER, 0);
    return QueueRequest(x, Irp);
}

NTSTATUS PkdIoctl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PPKD_EXT x = DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION sl = IoGetCurrentIrpStackLocation(Irp);
    if (!x->Started)
        return Complete(Irp, STATUS_DEVICE_NOT_READY, 0);
    if (sl->Parameters.DeviceIoControl.IoControlCode != IOCTL_PKTDISK_GET_INFO)
        return Complete(Irp, STATUS_INVALID_DEVICE_REQUEST, 0);
    if (sl->Parameters.DeviceIoControl.OutputBufferLength < sizeof(PKTDISK_INFO))
        return Complete(Irp, STATUS_BUFFER_TOO_SMALL, 0);
    PKTDISK_INFO *info = Irp->AssociatedIrp.SystemBuffer;
    RtlZeroMemory(info, sizeof(*info));
    info->CapacitySectors = x->Capacity;
    info->MaxTransfer = x->MaxTransfer;
    info->Alignment = x->Alignment;
    info->MapRegisters = x->MapRegisters;
    info->Requests = x->Requests;
    info->Pieces = x->Pieces;
    info->DeviceErrors = x->DeviceErrors;
    return Complete(Irp, STATUS_SUCCESS, sizeof(*info));
}

/* ---- PnP: start and stop the hardware -------------------------------------------- */

NTSTATUS PkdStartCompletion(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
    KeSetEvent((PKEVENT)Context, IO_NO_INCREMENT, FALSE);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

static NTSTATUS ForwardAndWait(PPKD_EXT x, PIRP Irp)
{
    KEVENT ev;
    KeInitializeEvent(&ev, NotificationEvent, FALSE);
    IoCopyCurrentIrpStackLocationToNext(Irp);
    IoSetCompletionRoutine(Irp, PkdStartCompletion, &ev, TRUE, TRUE, TRUE);
    NTSTATUS st = IoCallDriver(x->Lower, Irp);
    if (st == STATUS_PENDING) {
        KeWaitForSingleObject(&ev, Executive, KernelMode, FALSE, NULL);
        st = Irp->IoStatus.Status;
    }
    return st;
}

/* Releases what StartHardware acquired, in reverse order (PASSIVE_LEVEL).
 * Safe on a partly started device. */
static VOID StopHardware(PPKD_EXT x)
{
    if (x->Regs)
        RegWrite(x, REG_INT_ENABLE, 0);
    if (x->Interrupt) {
        IoDisconnectInterrupt(x->Interrupt);
        x->Interrupt = NULL;
    }
    if (x->Adapter) {
        x->Adapter->DmaOperations->PutDmaAdapter(x->Adapter);
        x->Adapter = NULL;
    }
    if (x->Regs) {
        MmUnmapIoSpace(x->Regs, x->RegsLength);
        x->Regs = NULL;
    }
}

static NTSTATUS StartHardware(PPKD_EXT x, PCM_RESOURCE_LIST list)
{
    PCM_PARTIAL_RESOURCE_DESCRIPTOR irq = NULL;
    if (!list || list->Count < 1)
        return STATUS_DEVICE_CONFIGURATION_ERROR;
    PCM_PARTIAL_RESOURCE_LIST pl = &list->List[0].PartialResourceList;
    for (ULONG i = 0; i < pl->Count; i++) {
        PCM_PARTIAL_RESOURCE_DESCRIPTOR d = &pl->PartialDescriptors[i];
        if (d->Type == CmResourceTypeMemory && !x->Regs) {
            x->Regs = MmMapIoSpace(d->u.Memory.Start, d->u.Memory.Length, MmNonCached);
            if (!x->Regs)
                return STATUS_INSUFFICIENT_RESOURCES;
            x->RegsLength = d->u.Memory.Length;
        } else if (d->Type == CmResourceTypeInterrupt && !irq) {
            irq = d;
        }
    }
    if (!x->Regs || !irq)
        return STATUS_DEVICE_CONFIGURATION_ERROR;
    if (RegRead(x, REG_ID) != PKD_ID)
        return STATUS_DEVICE_CONFIGURATION_ERROR;
    RegWrite(x, REG_CONTROL, CONTROL_RESET); /* a known state, INTA# low */
    x->MaxTransfer = RegRead(x, REG_MAXXFER);
    x->Alignment = RegRead(x, REG_ALIGN);
    x->Capacity = RegRead(x, REG_CAPACITY_LO) | (ULONGLONG)RegRead(x, REG_CAPACITY_HI) << 32;
    if (x->MaxTransfer < PKTDISK_SECTOR || x->Alignment == 0 || x->Capacity == 0)
        return STATUS_DEVICE_CONFIGURATION_ERROR;

    DEVICE_DESCRIPTION dd;
    RtlZeroMemory(&dd, sizeof(dd));
    dd.Version = DEVICE_DESCRIPTION_VERSION2;
    dd.Master = TRUE;
    dd.ScatterGather = FALSE;
    dd.Dma32BitAddresses = TRUE;
    dd.InterfaceType = PCIBus;
    dd.MaximumLength = x->MaxTransfer;
    x->Adapter = IoGetDmaAdapter(x->Pdo, &dd, &x->MapRegisters);
    if (!x->Adapter)
        return STATUS_INSUFFICIENT_RESOURCES;
    if (x->MapRegisters < 2) /* a piece of whole sectors needs two pages */
        return STATUS_INSUFFICIENT_RESOURCES;
    ULONG align = x->Adapter->DmaOperations->GetDmaAlignment(x->Adapter);
    if (align > x->Alignment)
        x->Alignment = align;
    if (x->Alignment - 1 > x->Self->AlignmentRequirement)
        x->Self->AlignmentRequirement = x->Alignment - 1;

    NTSTATUS st = IoConnectInterrupt(
        &x->Interrupt, PkdIsr, x, NULL, irq->u.Interrupt.Vector, (KIRQL)irq->u.Interrupt.Level,
        (KIRQL)irq->u.Interrupt.Level,
        (irq->Flags & CM_RESOURCE_INTERRUPT_LATCHED) ? Latched : LevelSensitive,
        irq->ShareDisposition == CmResourceShareShared, irq->u.Interrupt.Affinity, FALSE);
    if (!NT_SUCCESS(st)) {
        x->Interrupt = NULL;
        return st;
    }
    RegWrite(x, REG_INT_ENABLE, INT_DONE);
    return STATUS_SUCCESS;
}

/* Stops accepting requests, fails the queued ones and waits for the one on
 * the device (PASSIVE_LEVEL). */
static VOID Quiesce(PPKD_EXT x, NTSTATUS Status)
{
    KIRQL irql;
    KeAcquireSpinLock(&x->QueueLock, &irql);
    x->Started = FALSE;
    KeReleaseSpinLock(&x->QueueLock, irql);
    FlushQueue(x, Status);
    KeWaitForSingleObject(&x->IdleEvent, Executive, KernelMode, FALSE, NULL);
}

NTSTATUS PkdPnp(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PPKD_EXT x = DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION sl = IoGetCurrentIrpStackLocation(Irp);
    NTSTATUS st;
    switch (sl->MinorFunction) {
    case IRP_MN_START_DEVICE:
        st = ForwardAndWait(x, Irp);
        if (NT_SUCCESS(st)) {
            st = StartHardware(x, sl->Parameters.StartDevice.AllocatedResourcesTranslated);
            if (NT_SUCCESS(st))
                x->Started = TRUE;
            else
                StopHardware(x);
        }
        return Complete(Irp, st, 0);
    case IRP_MN_STOP_DEVICE:
        Quiesce(x, STATUS_DEVICE_NOT_READY);
        StopHardware(x);
        Irp->IoStatus.Status = STATUS_SUCCESS;
        IoSkipCurrentIrpStackLocation(Irp);
        return IoCallDriver(x->Lower, Irp);
    case IRP_MN_REMOVE_DEVICE:
        Quiesce(x, STATUS_DELETE_PENDING);
        StopHardware(x);
        IoDeleteSymbolicLink(&x->Link);
        Irp->IoStatus.Status = STATUS_SUCCESS;
        IoSkipCurrentIrpStackLocation(Irp);
        st = IoCallDriver(x->Lower, Irp);
        IoDetachDevice(x->Lower);
        IoDeleteDevice(DeviceObject);
        return st;
    default:
        IoSkipCurrentIrpStackLocation(Irp);
        return IoCallDriver(x->Lower, Irp);
    }
}

NTSTATUS PkdAddDevice(PDRIVER_OBJECT DriverObject, PDEVICE_OBJECT Pdo)
{
    WCHAR nameBuf[32];
    UNICODE_STRING name;
    PDEVICE_OBJECT fdo;
    ULONG n = g_Instances++;
    NTSTATUS st = RtlStringCbPrintfW(nameBuf, sizeof(nameBuf), L"\\Device\\PktDisk%u", n);
    if (!NT_SUCCESS(st))
        return st;
    RtlInitUnicodeString(&name, nameBuf);
    st = IoCreateDevice(DriverObject, sizeof(PKD_EXT), &name, FILE_DEVICE_DISK,
                        FILE_DEVICE_SECURE_OPEN, FALSE, &fdo);
    if (!NT_SUCCESS(st))
        return st;
    PPKD_EXT x = fdo->DeviceExtension;
    RtlZeroMemory(x, sizeof(*x));
    x->Self = fdo;
    x->Pdo = Pdo;
    KeInitializeSpinLock(&x->QueueLock);
    InitializeListHead(&x->Queue);
    KeInitializeEvent(&x->IdleEvent, NotificationEvent, TRUE);
    IoInitializeDpcRequest(fdo, PkdDpc);
    st = RtlStringCbPrintfW(x->LinkBuf, sizeof(x->LinkBuf), L"\\DosDevices\\PktDisk%u", n);
    if (!NT_SUCCESS(st)) {
        IoDeleteDevice(fdo);
        return st;
    }
    RtlInitUnicodeString(&x->Link, x->LinkBuf);
    st = IoCreateSymbolicLink(&x->Link, &name);
    if (!NT_SUCCESS(st)) {
        IoDeleteDevice(fdo);
        return st;
    }
    x->Lower = IoAttachDeviceToDeviceStack(fdo, Pdo);
    if (!x->Lower) {
        IoDeleteSymbolicLink(&x->Link);
        IoDeleteDevice(fdo);
        return STATUS_NO_SUCH_DEVICE;
    }
    fdo->Flags |= DO_DIRECT_IO | (Pdo->Flags & DO_POWER_PAGABLE);
    fdo->Flags &= ~DO_DEVICE_INITIALIZING;
    return STATUS_SUCCESS;
}

VOID PkdUnload(PDRIVER_OBJECT DriverObject)
{
    /* Every device object went with IRP_MN_REMOVE_DEVICE. */
    UNREFERENCED_PARAMETER(DriverObject);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->MajorFunction[IRP_MJ_CREATE] = PkdCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = PkdCreateClose;
    DriverObject->MajorFunction[IRP_MJ_READ] = PkdReadWrite;
    DriverObject->MajorFunction[IRP_MJ_WRITE] = PkdReadWrite;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = PkdIoctl;
    DriverObject->MajorFunction[IRP_MJ_PNP] = PkdPnp;
    DriverObject->DriverExtension->AddDevice = PkdAddDevice;
    DriverObject->DriverUnload = PkdUnload;
    return STATUS_SUCCESS;
}
