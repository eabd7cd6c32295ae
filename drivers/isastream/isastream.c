/*
 * drivers/isastream/isastream.c - sample WDM function driver for IST-1, the
 * ISA stream device (shared/devices/isastream.md): system DMA through the
 * 8237 with a common buffer in auto-initialize mode.
 *
 * Shows (spec/dma.md 5 (d), devices/isastream.md 6): at START,
 * IoGetDmaAdapter for the DMA channel of the resource list (Master FALSE,
 * AutoInitialize TRUE, 8- or 16-bit), AllocateCommonBuffer for the ring
 * (NULL: everything acquired is released and START fails with
 * STATUS_INSUFFICIENT_RESOURCES), IoAllocateMdl + MmBuildMdlForNonPagedPool
 * over it; to start a stream, AllocateAdapterChannel whose AdapterControl
 * saves MapRegisterBase, calls MapTransfer once for the whole ring (the
 * controller then cycles over it by itself), starts the device and returns
 * KeepObject; an edge-triggered ISR that acknowledges exactly the bits it
 * read; a DPC that follows the controller with ReadDmaCounter and moves data
 * with RtlMoveMemory between the ring and the callers' buffers; to stop,
 * FlushAdapterBuffers and FreeAdapterChannel; at STOP/REMOVE IoFreeMdl,
 * FreeCommonBuffer, PutDmaAdapter. Written only against <wdm.h>.
 *
 * Streams: ReadFile captures, WriteFile plays (isastream_ioctl.h). A stream
 * runs while requests of its direction are queued and stops when they are
 * done; the other direction waits. Capture restarts the device with SEED
 * advanced by the bytes already delivered, so the reads of an app see one
 * stream without gaps. Playback keeps the ring filled ahead of the
 * controller with the writes' bytes and zeros behind them, and stops once
 * the controller has passed the last written byte.
 *
 * Positions: RunPos counts the bytes the controller has moved in this run;
 * the ring index is RingSize - ReadDmaCounter(). BLOCK interrupts every half
 * ring keep the DPC within one lap; the device's XFERRED register (the same
 * count, kept by the device) tells a lost lap from a late DPC.
 * Length: about 800 lines on purpose. A WDK sample is read as one file,
 * top to bottom, beside the datasheet; splitting it would hide the flow it
 * exists to show.
 */
#include <wdm.h>
#include <ntstrsafe.h>

#include "isastream_ioctl.h"

/* IST-1 ports (base + offset) and bits (devices/isastream.md 1, 2). */
enum {
    PORT_ID = 0x0,
    PORT_CTRL = 0x2,
    PORT_STATUS = 0x3,
    PORT_IEN = 0x4,
    PORT_ISR = 0x5,
    PORT_INDEX = 0x6,
    PORT_DATA = 0x8, /* 32 bits at +0x8 = the four DATA bytes in order */
    CTRL_RUN = 0x01,
    CTRL_DIR_PLAYBACK = 0x02,
    CTRL_W16 = 0x04,
    CTRL_RST = 0x80,
    STATUS_CH16 = 0x10,
    STATUS_ERR = 0x80,
    INT_BLOCK = 0x01,
    INT_TC = 0x02,
    INT_XRUN = 0x04,
    IX_RATE = 0x00,
    IX_BLOCK = 0x01,
    IX_SEED = 0x02,
    IX_XFERRED = 0x03,
    IX_OVRCNT = 0x05,
    IX_UNRCNT = 0x06,
    IX_CRC = 0x07,
    IST_ID = 0x49,
};

#define IST_RING_SIZE 8192    /* two pages: BLOCK = half of it */
#define IST_RATE      1000000 /* bytes per second (the model's default max_rate) */
#define IST_SEED      0x12345678

typedef enum _IST_STATE { StreamIdle, StreamStarting, StreamRunning } IST_STATE;

typedef struct _IST_EXT {
    PDEVICE_OBJECT Self;
    PDEVICE_OBJECT Lower;
    PDEVICE_OBJECT Pdo;

    /* Hardware, valid between a successful START and STOP/REMOVE. */
    PUCHAR Port;
    PKINTERRUPT Interrupt;
    PDMA_ADAPTER Adapter;
    ULONG MapRegisters;
    ULONG Channel;
    BOOLEAN Wide; /* 16-bit channel (5-7) */
    PUCHAR Ring;  /* the common buffer: CPU view */
    PHYSICAL_ADDRESS RingLogical;
    PMDL RingMdl;

    /* Lock guards everything below and every INDEX/DATA register pair. */
    KSPIN_LOCK Lock;
    BOOLEAN Started;
    LIST_ENTRY ReadQueue, WriteQueue, DrainQueue;
    KEVENT IdleEvent; /* signalled while State == StreamIdle */
    IST_STATE State;
    BOOLEAN Capture;       /* direction of the stream while not idle */
    PVOID MapRegisterBase; /* from AdapterControl until FreeAdapterChannel */
    ULONG RunPos;          /* bytes the controller moved in this run */
    ULONG LastIndex;       /* ring index at the last look */
    ULONG Taken;           /* capture: bytes of this run given to reads */
    ULONG Written;         /* playback: bytes of writes put in this run's ring */
    ULONG Zeroed;          /* playback: ring positions zeroed after play, up to */
    ULONG AppBytes;        /* playback: bytes of writes in this run (Written less gaps) */
    ULONG Gaps;            /* playback: times the writes came after the data ran out */
    ULONGLONG Captured, Played;
    ULONG Runs, DeviceErrors;
    BOOLEAN LastWasPlayback;
    ISASTREAM_STATUS Last; /* PlaybackRuns, Last*, CaptureOverruns only */

    UNICODE_STRING Link;
    WCHAR LinkBuf[32];
} IST_EXT, *PIST_EXT;

static ULONG g_Instances;

DRIVER_ADD_DEVICE IstAddDevice;
DRIVER_UNLOAD IstUnload;
DRIVER_DISPATCH IstCreateClose;
DRIVER_DISPATCH IstReadWrite;
DRIVER_DISPATCH IstIoctl;
DRIVER_DISPATCH IstPnp;
DRIVER_CANCEL IstCancel;
DRIVER_CONTROL IstAdapterControl;
KSERVICE_ROUTINE IstIsr;
IO_DPC_ROUTINE IstDpc;
IO_COMPLETION_ROUTINE IstStartCompletion;

/* ---- registers ------------------------------------------------------------------ */

static UCHAR PortRead(PIST_EXT x, ULONG off)
{
    return READ_PORT_UCHAR(x->Port + off);
}

static VOID PortWrite(PIST_EXT x, ULONG off, UCHAR v)
{
    WRITE_PORT_UCHAR(x->Port + off, v);
}

/* Indirect registers: INDEX, then the 32-bit DATA latch. Lock held. */
static ULONG IndexRead(PIST_EXT x, UCHAR index)
{
    PortWrite(x, PORT_INDEX, index);
    return READ_PORT_ULONG((PULONG)(x->Port + PORT_DATA));
}

static VOID IndexWrite(PIST_EXT x, UCHAR index, ULONG value)
{
    PortWrite(x, PORT_INDEX, index);
    WRITE_PORT_ULONG((PULONG)(x->Port + PORT_DATA), value);
}

/* ---- requests --------------------------------------------------------------------- */

static NTSTATUS Complete(PIRP Irp, NTSTATUS Status, ULONG_PTR Info)
{
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = Info;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return Status;
}

/* Completes the IRPs gathered on a local list while the lock was held.
 * Each carries its final Status and Information already. */
static VOID CompleteList(PLIST_ENTRY done)
{
    while (!IsListEmpty(done)) {
        PIRP irp = CONTAINING_RECORD(RemoveHeadList(done), IRP, Tail.Overlay.ListEntry);
        IoCompleteRequest(irp, IO_NO_INCREMENT);
    }
}

/* Moves a queued IRP to `done` with a status, unless its cancel routine
 * owns it (it then completes it itself). Lock held. */
static VOID Retire(PIRP Irp, NTSTATUS Status, PLIST_ENTRY done)
{
    if (IoSetCancelRoutine(Irp, NULL) == NULL)
        return;
    RemoveEntryList(&Irp->Tail.Overlay.ListEntry);
    Irp->IoStatus.Status = Status;
    InsertTailList(done, &Irp->Tail.Overlay.ListEntry);
}

static VOID RetireAll(PLIST_ENTRY queue, NTSTATUS Status, PLIST_ENTRY done)
{
    PLIST_ENTRY e = queue->Flink;
    while (e != queue) {
        PLIST_ENTRY next = e->Flink;
        Retire(CONTAINING_RECORD(e, IRP, Tail.Overlay.ListEntry), Status, done);
        e = next;
    }
}

/* The cancel routine of every queued IRP (reads, writes, drains). A read or
 * write keeps the bytes it moved so far in IoStatus.Information. */
VOID IstCancel(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIST_EXT x = DeviceObject->DeviceExtension;
    KIRQL irql;
    IoReleaseCancelSpinLock(Irp->CancelIrql);
    KeAcquireSpinLock(&x->Lock, &irql);
    RemoveEntryList(&Irp->Tail.Overlay.ListEntry);
    KeReleaseSpinLock(&x->Lock, irql);
    Irp->IoStatus.Status = STATUS_CANCELLED;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
}

static VOID FillStatus(PIST_EXT x, ISASTREAM_STATUS *s)
{
    *s = x->Last;
    s->Channel = x->Channel;
    s->RingSize = IST_RING_SIZE;
    s->Rate = IST_RATE;
    s->Seed = IST_SEED;
    s->Captured = x->Captured;
    s->Played = x->Played;
    s->Runs = x->Runs;
    s->Running = x->State == StreamIdle ? 0 : x->Capture ? 1 : 2;
    s->DeviceErrors = x->DeviceErrors;
    s->PlaybackGaps = x->Gaps;
}

/* DRAIN requests complete once no write is queued and no playback runs. */
static VOID CompleteDrains(PIST_EXT x, PLIST_ENTRY done)
{
    if (!IsListEmpty(&x->WriteQueue) || (x->State != StreamIdle && !x->Capture))
        return;
    PLIST_ENTRY e = x->DrainQueue.Flink;
    while (e != &x->DrainQueue) {
        PLIST_ENTRY next = e->Flink;
        PIRP irp = CONTAINING_RECORD(e, IRP, Tail.Overlay.ListEntry);
        FillStatus(x, irp->AssociatedIrp.SystemBuffer);
        irp->IoStatus.Information = sizeof(ISASTREAM_STATUS);
        Retire(irp, STATUS_SUCCESS, done);
        e = next;
    }
}

/* ---- the ring ----------------------------------------------------------------------- */

/* Copies between the ring, starting at stream position pos, and buf. */
static VOID RingCopy(PIST_EXT x, ULONG pos, PUCHAR buf, ULONG n, BOOLEAN toRing)
{
    ULONG at = pos % IST_RING_SIZE;
    ULONG first = IST_RING_SIZE - at < n ? IST_RING_SIZE - at : n;
    if (toRing) {
        RtlMoveMemory(x->Ring + at, buf, first);
        RtlMoveMemory(x->Ring, buf + first, n - first);
    } else {
        RtlMoveMemory(buf, x->Ring + at, first);
        RtlMoveMemory(buf + first, x->Ring, n - first);
    }
}

/* Capture: ring bytes [Taken, RunPos) to the queued reads, oldest first.
 * Lock held. */
static VOID Deliver(PIST_EXT x, PLIST_ENTRY done)
{
    PLIST_ENTRY e = x->ReadQueue.Flink;
    while (e != &x->ReadQueue && x->Taken < x->RunPos) {
        PLIST_ENTRY next = e->Flink;
        PIRP irp = CONTAINING_RECORD(e, IRP, Tail.Overlay.ListEntry);
        ULONG want = IoGetCurrentIrpStackLocation(irp)->Parameters.Read.Length;
        ULONG have = (ULONG)irp->IoStatus.Information;
        PUCHAR dst =
            MmGetSystemAddressForMdlSafe(irp->MdlAddress, NormalPagePriority | MdlMappingNoExecute);
        if (!dst) {
            Retire(irp, STATUS_INSUFFICIENT_RESOURCES, done);
            e = next;
            continue;
        }
        ULONG n = want - have < x->RunPos - x->Taken ? want - have : x->RunPos - x->Taken;
        RingCopy(x, x->Taken, dst + have, n, FALSE);
        x->Taken += n;
        x->Captured += n;
        irp->IoStatus.Information = have + n;
        if (have + n < want)
            break;
        Retire(irp, STATUS_SUCCESS, done);
        e = next;
    }
}

/* Playback: the writes' bytes into the ring up to one lap ahead of the
 * controller (positions [Written, RunPos + RingSize)). Lock held. */
static VOID Refill(PIST_EXT x, PLIST_ENTRY done)
{
    ULONG limit = x->RunPos + IST_RING_SIZE;
    PLIST_ENTRY e = x->WriteQueue.Flink;
    if (e != &x->WriteQueue && x->Written < x->RunPos) {
        /* The controller played silence past the last data: the writes came
         * too late. Go on from where it is. */
        x->Gaps++;
        x->Written = x->RunPos;
    }
    while (e != &x->WriteQueue && x->Written < limit) {
        PLIST_ENTRY next = e->Flink;
        PIRP irp = CONTAINING_RECORD(e, IRP, Tail.Overlay.ListEntry);
        ULONG want = IoGetCurrentIrpStackLocation(irp)->Parameters.Write.Length;
        ULONG have = (ULONG)irp->IoStatus.Information;
        PUCHAR src =
            MmGetSystemAddressForMdlSafe(irp->MdlAddress, NormalPagePriority | MdlMappingNoExecute);
        if (!src) {
            Retire(irp, STATUS_INSUFFICIENT_RESOURCES, done);
            e = next;
            continue;
        }
        ULONG n = want - have < limit - x->Written ? want - have : limit - x->Written;
        RingCopy(x, x->Written, src + have, n, TRUE);
        x->Written += n;
        x->AppBytes += n;
        x->Played += n;
        irp->IoStatus.Information = have + n;
        if (have + n < want)
            break;
        Retire(irp, STATUS_SUCCESS, done);
        e = next;
    }
}

/* Playback: zeros over what the controller has played, so that whatever
 * it plays after the last written byte is silence. Lock held. */
static VOID ZeroPlayed(PIST_EXT x)
{
    while (x->Zeroed < x->RunPos) {
        ULONG at = x->Zeroed % IST_RING_SIZE;
        ULONG n =
            IST_RING_SIZE - at < x->RunPos - x->Zeroed ? IST_RING_SIZE - at : x->RunPos - x->Zeroed;
        RtlZeroMemory(x->Ring + at, n);
        x->Zeroed += n;
    }
}

/* Follows the controller: RunPos from the live count register. Returns
 * FALSE when the DPC lost a whole lap (the data is no longer there). */
static BOOLEAN Advance(PIST_EXT x)
{
    ULONG left = x->Adapter->DmaOperations->ReadDmaCounter(x->Adapter);
    ULONG index = left >= IST_RING_SIZE ? 0 : IST_RING_SIZE - left;
    x->RunPos += (index + IST_RING_SIZE - x->LastIndex) % IST_RING_SIZE;
    x->LastIndex = index;
    /* XFERRED counts the same bytes on the device's side; it may be a few
     * units ahead (the controller went on between the two reads). */
    ULONG xferred = IndexRead(x, IX_XFERRED);
    return xferred - x->RunPos < IST_RING_SIZE;
}

/* ---- starting and stopping a stream ------------------------------------------------ */

/* Stops the device and gives the channel back (DISPATCH_LEVEL, lock held). */
static VOID StopStream(PIST_EXT x)
{
    PortWrite(x, PORT_CTRL, 0); /* DREQ falls, the FIFO empties */
    if (x->Capture) {
        x->Last.CaptureOverruns += IndexRead(x, IX_OVRCNT);
    } else {
        x->Last.PlaybackRuns++;
        x->Last.LastXferred = IndexRead(x, IX_XFERRED);
        x->Last.LastCrc = IndexRead(x, IX_CRC);
        x->Last.LastUnderruns = IndexRead(x, IX_UNRCNT);
        x->Last.LastAppBytes = x->AppBytes;
    }
    /* The transfer is over: the flush masks the channel; then release the
     * channel and the map registers kept by KeepObject. */
    x->Adapter->DmaOperations->FlushAdapterBuffers(x->Adapter, x->RingMdl, x->MapRegisterBase,
                                                   MmGetMdlVirtualAddress(x->RingMdl),
                                                   IST_RING_SIZE, !x->Capture);
    x->Adapter->DmaOperations->FreeAdapterChannel(x->Adapter);
    x->MapRegisterBase = NULL;
    x->State = StreamIdle;
    x->LastWasPlayback = !x->Capture;
    x->Runs++;
}

/* Starts the device on the mapped ring. Lock held. Returns FALSE when the
 * device refused RUN (its STATUS.ERR). */
static BOOLEAN StartDevice(PIST_EXT x)
{
    UCHAR ctrl = CTRL_RUN | (x->Capture ? 0 : CTRL_DIR_PLAYBACK) | (x->Wide ? CTRL_W16 : 0);
    IndexWrite(x, IX_RATE, IST_RATE);
    IndexWrite(x, IX_BLOCK, IST_RING_SIZE / 2);
    /* Byte n of this run is stream byte Captured + n. */
    IndexWrite(x, IX_SEED, IST_SEED + (ULONG)x->Captured);
    PortWrite(x, PORT_ISR, INT_BLOCK | INT_TC | INT_XRUN);
    PortWrite(x, PORT_IEN, INT_BLOCK | INT_TC | INT_XRUN);
    PortWrite(x, PORT_CTRL, ctrl);
    return !(PortRead(x, PORT_STATUS) & STATUS_ERR);
}

/* Runs at DISPATCH_LEVEL once the channel and the ring's map registers are
 * ours: one MapTransfer programs the whole ring, auto-initialize keeps it
 * going. */
IO_ALLOCATION_ACTION IstAdapterControl(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID MapRegisterBase,
                                       PVOID Context)
{
    PIST_EXT x = Context;
    LIST_ENTRY done;
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
    InitializeListHead(&done);
    KeAcquireSpinLockAtDpcLevel(&x->Lock);
    x->MapRegisterBase = MapRegisterBase;
    ULONG length = IST_RING_SIZE;
    x->Adapter->DmaOperations->MapTransfer(x->Adapter, x->RingMdl, MapRegisterBase,
                                           MmGetMdlVirtualAddress(x->RingMdl), &length,
                                           !x->Capture);
    if (StartDevice(x)) {
        x->State = StreamRunning;
        KeReleaseSpinLockFromDpcLevel(&x->Lock);
        return KeepObject; /* channel and registers stay ours until the stop */
    }
    /* Refused: undo the mapping; returning DeallocateObject frees the
     * channel and the registers, as all the work ended here. */
    x->Adapter->DmaOperations->FlushAdapterBuffers(x->Adapter, x->RingMdl, MapRegisterBase,
                                                   MmGetMdlVirtualAddress(x->RingMdl),
                                                   IST_RING_SIZE, !x->Capture);
    x->MapRegisterBase = NULL;
    x->State = StreamIdle;
    x->DeviceErrors++;
    RetireAll(x->Capture ? &x->ReadQueue : &x->WriteQueue, STATUS_IO_DEVICE_ERROR, &done);
    KeSetEvent(&x->IdleEvent, IO_NO_INCREMENT, FALSE);
    KeReleaseSpinLockFromDpcLevel(&x->Lock);
    CompleteList(&done);
    return DeallocateObject;
}

/* Starts a stream if the device is idle and requests wait (DISPATCH_LEVEL,
 * lock not held). Playback first after a capture and the reverse, so
 * neither direction starves. */
static VOID Kick(PIST_EXT x)
{
    LIST_ENTRY done;
    InitializeListHead(&done);
    KeAcquireSpinLockAtDpcLevel(&x->Lock);
    CompleteDrains(x, &done);
    BOOLEAN reads = !IsListEmpty(&x->ReadQueue), writes = !IsListEmpty(&x->WriteQueue);
    if (x->State != StreamIdle || !x->Started || (!reads && !writes)) {
        KeReleaseSpinLockFromDpcLevel(&x->Lock);
        CompleteList(&done);
        return;
    }
    x->Capture = reads && (!writes || x->LastWasPlayback);
    x->State = StreamStarting;
    KeClearEvent(&x->IdleEvent);
    x->RunPos = x->LastIndex = x->Taken = x->Written = x->Zeroed = x->AppBytes = 0;
    if (!x->Capture) {
        /* Silence everywhere, then the first lap of data. */
        RtlZeroMemory(x->Ring, IST_RING_SIZE);
        Refill(x, &done);
    }
    KeReleaseSpinLockFromDpcLevel(&x->Lock);
    CompleteList(&done);
    NTSTATUS st = x->Adapter->DmaOperations->AllocateAdapterChannel(
        x->Adapter, x->Self, BYTES_TO_PAGES(IST_RING_SIZE), IstAdapterControl, x);
    if (!NT_SUCCESS(st)) {
        KeAcquireSpinLockAtDpcLevel(&x->Lock);
        x->State = StreamIdle;
        x->DeviceErrors++;
        RetireAll(x->Capture ? &x->ReadQueue : &x->WriteQueue, st, &done);
        KeSetEvent(&x->IdleEvent, IO_NO_INCREMENT, FALSE);
        KeReleaseSpinLockFromDpcLevel(&x->Lock);
        CompleteList(&done);
    }
}

/* One look at a running stream (DPC). Returns TRUE if it stopped. Lock held. */
static BOOLEAN Service(PIST_EXT x, PLIST_ENTRY done)
{
    BOOLEAN lap = Advance(x);
    if (x->Capture) {
        /* A byte the device dropped (its FIFO overran) leaves a gap: fail the
         * read waiting for it rather than deliver a shifted stream. */
        if (!lap || IndexRead(x, IX_OVRCNT) != 0) {
            x->DeviceErrors++;
            if (!IsListEmpty(&x->ReadQueue))
                Retire(CONTAINING_RECORD(x->ReadQueue.Flink, IRP, Tail.Overlay.ListEntry),
                       STATUS_DATA_OVERRUN, done);
            StopStream(x);
            return TRUE;
        }
        Deliver(x, done);
        if (IsListEmpty(&x->ReadQueue)) {
            StopStream(x);
            return TRUE;
        }
        return FALSE;
    }
    if (!lap)
        x->DeviceErrors++; /* the controller replayed a lap: reported in Last */
    ZeroPlayed(x);
    Refill(x, done);
    if (IsListEmpty(&x->WriteQueue) && x->RunPos >= x->Written) {
        StopStream(x);
        return TRUE;
    }
    return FALSE;
}

/* ---- interrupt and DPC ----------------------------------------------------------------- */

/* DIRQL, edge-triggered: acknowledge exactly the bits read, so an event
 * that arrives meanwhile makes a fresh edge (devices/isastream.md 5). */
BOOLEAN IstIsr(PKINTERRUPT Interrupt, PVOID ServiceContext)
{
    PIST_EXT x = ServiceContext;
    UNREFERENCED_PARAMETER(Interrupt);
    UCHAR bits = PortRead(x, PORT_ISR);
    if (!bits)
        return FALSE;
    PortWrite(x, PORT_ISR, bits);
    IoRequestDpc(x->Self, NULL, NULL);
    return TRUE;
}

VOID IstDpc(PKDPC Dpc, PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    PIST_EXT x = DeviceObject->DeviceExtension;
    LIST_ENTRY done;
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Irp);
    UNREFERENCED_PARAMETER(Context);
    InitializeListHead(&done);
    KeAcquireSpinLockAtDpcLevel(&x->Lock);
    BOOLEAN stopped = x->State == StreamRunning && Service(x, &done);
    if (stopped)
        KeSetEvent(&x->IdleEvent, IO_NO_INCREMENT, FALSE);
    KeReleaseSpinLockFromDpcLevel(&x->Lock);
    CompleteList(&done);
    if (stopped)
        Kick(x); /* the other direction, drains */
}

/* ---- dispatch routines ------------------------------------------------------------------- */

NTSTATUS IstCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    return Complete(Irp, STATUS_SUCCESS, 0);
}

/* Queues a request on `queue` (cancelable) and kicks the stream. */
static NTSTATUS QueueAndKick(PIST_EXT x, PIRP Irp, PLIST_ENTRY queue)
{
    KIRQL irql;
    KeAcquireSpinLock(&x->Lock, &irql);
    if (!x->Started) {
        KeReleaseSpinLock(&x->Lock, irql);
        return Complete(Irp, STATUS_DEVICE_NOT_READY, 0);
    }
    IoSetCancelRoutine(Irp, IstCancel);
    if (Irp->Cancel && IoSetCancelRoutine(Irp, NULL) != NULL) {
        KeReleaseSpinLock(&x->Lock, irql);
        return Complete(Irp, STATUS_CANCELLED, 0);
    }
    Irp->IoStatus.Information = 0; /* bytes moved so far */
    IoMarkIrpPending(Irp);
    InsertTailList(queue, &Irp->Tail.Overlay.ListEntry);
    LIST_ENTRY done;
    InitializeListHead(&done);
    if (queue == &x->WriteQueue && x->State == StreamRunning && !x->Capture) {
        /* A playback is running: put the bytes in the ring now rather than
         * at the next half-ring interrupt, which may come after the data
         * already there has run out. */
        Advance(x);
        ZeroPlayed(x);
        Refill(x, &done);
    }
    KeReleaseSpinLock(&x->Lock, DISPATCH_LEVEL);
    CompleteList(&done);
    Kick(x);
    KeLowerIrql(irql);
    return STATUS_PENDING;
}

NTSTATUS IstReadWrite(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIST_EXT x = DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION sl = IoGetCurrentIrpStackLocation(Irp);
    if (!x->Started)
        return Complete(Irp, STATUS_DEVICE_NOT_READY, 0);
    if (sl->Parameters.Read.Length == 0)
        return Complete(Irp, STATUS_SUCCESS, 0);
    return QueueAndKick(x, Irp, sl->MajorFunction == IRP_MJ_READ ? &x->ReadQueue : &x->WriteQueue);
}

NTSTATUS IstIoctl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIST_EXT x = DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION sl = IoGetCurrentIrpStackLocation(Irp);
    ULONG code = sl->Parameters.DeviceIoControl.IoControlCode;
    KIRQL irql;
    if (!x->Started)
        return Complete(Irp, STATUS_DEVICE_NOT_READY, 0);
    if (code != IOCTL_ISASTREAM_GET_STATUS && code != IOCTL_ISASTREAM_DRAIN)
        return Complete(Irp, STATUS_INVALID_DEVICE_REQUEST, 0);
    if (sl->Parameters.DeviceIoControl.OutputBufferLength < sizeof(ISASTREAM_STATUS))
        return Complete(Irp, STATUS_BUFFER_TOO_SMALL, 0);
    if (code == IOCTL_ISASTREAM_DRAIN)
        return QueueAndKick(x, Irp, &x->DrainQueue);
    KeAcquireSpinLock(&x->Lock, &irql);
    FillStatus(x, Irp->AssociatedIrp.SystemBuffer);
    KeReleaseSpinLock(&x->Lock, irql);
    return Complete(Irp, STATUS_SUCCESS, sizeof(ISASTREAM_STATUS));
}

/* ---- PnP ------------------------------------------------------------------------------------ */

NTSTATUS IstStartCompletion(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
    KeSetEvent((PKEVENT)Context, IO_NO_INCREMENT, FALSE);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

static NTSTATUS ForwardAndWait(PIST_EXT x, PIRP Irp)
{
    KEVENT ev;
    KeInitializeEvent(&ev, NotificationEvent, FALSE);
    IoCopyCurrentIrpStackLocationToNext(Irp);
    IoSetCompletionRoutine(Irp, IstStartCompletion, &ev, TRUE, TRUE, TRUE);
    NTSTATUS st = IoCallDriver(x->Lower, Irp);
    if (st == STATUS_PENDING) {
        KeWaitForSingleObject(&ev, Executive, KernelMode, FALSE, NULL);
        st = Irp->IoStatus.Status;
    }
    return st;
}

/* Releases what StartHardware acquired, in reverse order (PASSIVE_LEVEL).
 * Safe on a partly started device. */
static VOID StopHardware(PIST_EXT x)
{
    if (x->Port) {
        PortWrite(x, PORT_IEN, 0);
        PortWrite(x, PORT_CTRL, CTRL_RST);
    }
    if (x->Interrupt) {
        IoDisconnectInterrupt(x->Interrupt);
        x->Interrupt = NULL;
    }
    if (x->RingMdl) {
        IoFreeMdl(x->RingMdl);
        x->RingMdl = NULL;
    }
    if (x->Ring) {
        x->Adapter->DmaOperations->FreeCommonBuffer(x->Adapter, IST_RING_SIZE, x->RingLogical,
                                                    x->Ring, FALSE);
        x->Ring = NULL;
    }
    if (x->Adapter) {
        x->Adapter->DmaOperations->PutDmaAdapter(x->Adapter);
        x->Adapter = NULL;
    }
    x->Port = NULL;
}

static NTSTATUS StartHardware(PIST_EXT x, PCM_RESOURCE_LIST list)
{
    PCM_PARTIAL_RESOURCE_DESCRIPTOR irq = NULL;
    BOOLEAN dma = FALSE;
    if (!list || list->Count < 1)
        return STATUS_DEVICE_CONFIGURATION_ERROR;
    PCM_PARTIAL_RESOURCE_LIST pl = &list->List[0].PartialResourceList;
    for (ULONG i = 0; i < pl->Count; i++) {
        PCM_PARTIAL_RESOURCE_DESCRIPTOR d = &pl->PartialDescriptors[i];
        if (d->Type == CmResourceTypePort && !x->Port && d->u.Port.Length >= 16)
            x->Port = (PUCHAR)(ULONG_PTR)d->u.Port.Start.QuadPart;
        else if (d->Type == CmResourceTypeInterrupt && !irq)
            irq = d;
        else if (d->Type == CmResourceTypeDma && !dma) {
            x->Channel = d->u.Dma.Channel;
            dma = TRUE;
        }
    }
    if (!x->Port || !irq || !dma || x->Channel == 4 || x->Channel > 7)
        return STATUS_DEVICE_CONFIGURATION_ERROR;
    if (PortRead(x, PORT_ID) != IST_ID)
        return STATUS_DEVICE_CONFIGURATION_ERROR;
    PortWrite(x, PORT_CTRL, CTRL_RST);
    x->Wide = x->Channel >= 5;
    if (!!(PortRead(x, PORT_STATUS) & STATUS_CH16) != x->Wide)
        return STATUS_DEVICE_CONFIGURATION_ERROR;

    DEVICE_DESCRIPTION dd;
    RtlZeroMemory(&dd, sizeof(dd));
    dd.Version = DEVICE_DESCRIPTION_VERSION2;
    dd.Master = FALSE;
    dd.ScatterGather = FALSE;
    dd.DemandMode = FALSE; /* single mode: one unit per request */
    dd.AutoInitialize = TRUE;
    dd.InterfaceType = Isa;
    dd.DmaChannel = x->Channel;
    dd.DmaWidth = x->Wide ? Width16Bits : Width8Bits;
    dd.MaximumLength = IST_RING_SIZE;
    x->Adapter = IoGetDmaAdapter(x->Pdo, &dd, &x->MapRegisters);
    if (!x->Adapter) {
        DbgPrint("isastream: no DMA adapter for channel %u: START fails\n", x->Channel);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    if (x->MapRegisters < BYTES_TO_PAGES(IST_RING_SIZE))
        return STATUS_INSUFFICIENT_RESOURCES;
    /* The ring: below 16 MiB and inside one 64/128 KiB block, as the 8237
     * needs; best allocated now, while memory is plentiful. */
    x->Ring = x->Adapter->DmaOperations->AllocateCommonBuffer(x->Adapter, IST_RING_SIZE,
                                                              &x->RingLogical, FALSE);
    if (!x->Ring) {
        DbgPrint("isastream: AllocateCommonBuffer(%u) failed: START fails\n", IST_RING_SIZE);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    x->RingMdl = IoAllocateMdl(x->Ring, IST_RING_SIZE, FALSE, FALSE, NULL);
    if (!x->RingMdl)
        return STATUS_INSUFFICIENT_RESOURCES;
    MmBuildMdlForNonPagedPool(x->RingMdl);

    NTSTATUS st = IoConnectInterrupt(
        &x->Interrupt, IstIsr, x, NULL, irq->u.Interrupt.Vector, (KIRQL)irq->u.Interrupt.Level,
        (KIRQL)irq->u.Interrupt.Level,
        (irq->Flags & CM_RESOURCE_INTERRUPT_LATCHED) ? Latched : LevelSensitive,
        irq->ShareDisposition == CmResourceShareShared, irq->u.Interrupt.Affinity, FALSE);
    if (!NT_SUCCESS(st)) {
        x->Interrupt = NULL;
        return st;
    }
    return STATUS_SUCCESS;
}

/* Stops accepting requests, fails the queued ones and waits until the
 * stream has stopped (PASSIVE_LEVEL): a capture stops at its next DPC, a
 * playback once the bytes already in the ring have played. */
static VOID Quiesce(PIST_EXT x, NTSTATUS Status)
{
    LIST_ENTRY done;
    KIRQL irql;
    InitializeListHead(&done);
    KeAcquireSpinLock(&x->Lock, &irql);
    x->Started = FALSE;
    RetireAll(&x->ReadQueue, Status, &done);
    RetireAll(&x->WriteQueue, Status, &done);
    RetireAll(&x->DrainQueue, Status, &done);
    KeReleaseSpinLock(&x->Lock, irql);
    CompleteList(&done);
    KeWaitForSingleObject(&x->IdleEvent, Executive, KernelMode, FALSE, NULL);
}

NTSTATUS IstPnp(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIST_EXT x = DeviceObject->DeviceExtension;
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

NTSTATUS IstAddDevice(PDRIVER_OBJECT DriverObject, PDEVICE_OBJECT Pdo)
{
    WCHAR nameBuf[32];
    UNICODE_STRING name;
    PDEVICE_OBJECT fdo;
    ULONG n = g_Instances++;
    NTSTATUS st = RtlStringCbPrintfW(nameBuf, sizeof(nameBuf), L"\\Device\\IsaStream%u", n);
    if (!NT_SUCCESS(st))
        return st;
    RtlInitUnicodeString(&name, nameBuf);
    st = IoCreateDevice(DriverObject, sizeof(IST_EXT), &name, FILE_DEVICE_UNKNOWN,
                        FILE_DEVICE_SECURE_OPEN, FALSE, &fdo);
    if (!NT_SUCCESS(st))
        return st;
    PIST_EXT x = fdo->DeviceExtension;
    RtlZeroMemory(x, sizeof(*x));
    x->Self = fdo;
    x->Pdo = Pdo;
    KeInitializeSpinLock(&x->Lock);
    InitializeListHead(&x->ReadQueue);
    InitializeListHead(&x->WriteQueue);
    InitializeListHead(&x->DrainQueue);
    KeInitializeEvent(&x->IdleEvent, NotificationEvent, TRUE);
    IoInitializeDpcRequest(fdo, IstDpc);
    st = RtlStringCbPrintfW(x->LinkBuf, sizeof(x->LinkBuf), L"\\DosDevices\\IsaStream%u", n);
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

VOID IstUnload(PDRIVER_OBJECT DriverObject)
{
    /* Every device object went with IRP_MN_REMOVE_DEVICE. */
    UNREFERENCED_PARAMETER(DriverObject);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->MajorFunction[IRP_MJ_CREATE] = IstCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = IstCreateClose;
    DriverObject->MajorFunction[IRP_MJ_READ] = IstReadWrite;
    DriverObject->MajorFunction[IRP_MJ_WRITE] = IstReadWrite;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = IstIoctl;
    DriverObject->MajorFunction[IRP_MJ_PNP] = IstPnp;
    DriverObject->DriverExtension->AddDevice = IstAddDevice;
    DriverObject->DriverUnload = IstUnload;
    return STATUS_SUCCESS;
}
