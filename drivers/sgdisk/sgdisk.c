/*
 * drivers/sgdisk/sgdisk.c - sample WDM function driver for SGD-1, the PCI
 * scatter/gather RAM disk (shared/devices/sgdisk.md).
 *
 * Shows: bus-master scatter/gather DMA as spec/dma.md 5(a) describes it.
 *  - START: BAR0 through MmMapIoSpace, the capability registers, an
 *    adapter from IoGetDmaAdapter sized by them, one common buffer holding
 *    the submission ring, the completion ring and one descriptor table per
 *    command slot, IoConnectInterrupt, then the enable handshake.
 *  - ReadFile / WriteFile (direct I/O): checked, marked pending, queued
 *    (cancelable while queued); up to QueueDepth requests are on the device
 *    at once, each in chunks of at most MaxTransfer bytes.
 *  - Per chunk: GetScatterGatherList on the IRP's MDL; its ExecutionRoutine
 *    (SgdListControl) writes the elements into the slot's descriptor table
 *    in the common buffer (split at the device's MAXSEG and BOUNDARY) and
 *    rings the submission doorbell.
 *  - ISR acknowledges and queues the DpcForIsr; the DPC drains completion
 *    entries by phase bit, PutScatterGatherList for each, then issues the
 *    next chunk or completes the IRP.
 *  - STOP / REMOVE: disable handshake, interrupt disconnected, common
 *    buffer freed, adapter put, BAR unmapped: unload leaves nothing behind.
 * Written only against <wdm.h>; every status is checked.
 * Length: about 800 lines on purpose. A WDK sample is read as one file,
 * top to bottom, beside the datasheet; splitting it would hide the flow it
 * exists to show.
 */
#include <wdm.h>
#include <ntstrsafe.h>

#include "sgdisk_ioctl.h"

#define SGD_TAG 'kDgS' /* reads "SgDk" in pool dumps */

/* Registers (sgdisk.md 1). */
enum {
    REG_ID = 0x000,
    REG_CAP0 = 0x008,
    REG_CAP1 = 0x00C,
    REG_CAP2 = 0x010,
    REG_CAP3 = 0x014,
    REG_CAPACITY_LO = 0x018,
    REG_CAPACITY_HI = 0x01C,
    REG_CTRL = 0x020,
    REG_STATUS = 0x024,
    REG_ISR = 0x028,
    REG_IEN = 0x02C,
    REG_SQ_BASE_LO = 0x040,
    REG_SQ_BASE_HI = 0x044,
    REG_SQ_SIZE = 0x048,
    REG_CQ_BASE_LO = 0x050,
    REG_CQ_BASE_HI = 0x054,
    REG_CQ_SIZE = 0x058,
    REG_SQ_TAIL = 0x060,
    REG_CQ_HEAD = 0x064,

    SGD_ID = 0x00015744,
    CTRL_EN = 0x1,
    STATUS_RDY = 0x1,
    STATUS_CFS = 0x2,
    INT_CQ = 0x1,
    INT_FATAL = 0x2,

    OPC_READ = 0x01,
    OPC_WRITE = 0x02,
    SC_SUCCESS = 0x00,
    SC_MEDIA_ERROR = 0x06,
    DESC_LAST = 0x1,

    MAX_SLOTS = 32,       /* commands this driver keeps on the device */
    RING_ENTRIES = 64,    /* SQ and CQ: a power of two above MAX_SLOTS */
    MAX_TABLE_DESC = 256, /* descriptors per table we reserve room for */
};

#pragma pack(push, 1)
typedef struct _SGD_SQE { /* 32 bytes */
    UCHAR Opcode;
    UCHAR Reserved0;
    USHORT Cid;
    ULONG Sectors;
    ULONGLONG Lba;
    ULONGLONG TableAddress; /* logical address of the descriptor table */
    USHORT Descriptors;
    UCHAR Reserved1[6];
} SGD_SQE;

typedef struct _SGD_DESC { /* 16 bytes */
    ULONGLONG Address;     /* logical */
    ULONG Length;
    ULONG Flags;
} SGD_DESC;

typedef struct _SGD_CQE { /* 16 bytes */
    USHORT Cid;
    USHORT SqHead;
    ULONG Bytes;
    UCHAR Status;
    UCHAR Detail;
    USHORT ErrorIndex;
    ULONG Phase; /* bit 0 */
} SGD_CQE;
#pragma pack(pop)

C_ASSERT(sizeof(SGD_SQE) == 32);
C_ASSERT(sizeof(SGD_DESC) == 16);
C_ASSERT(sizeof(SGD_CQE) == 16);

/* One command slot: one IRP on the device, one chunk at a time. CID = the
 * slot's index; its descriptor table is TableVa + index. */
typedef struct _SGD_SLOT {
    PIRP Irp;                /* NULL: slot free */
    PSCATTER_GATHER_LIST Sg; /* the current chunk's list, until Put */
    BOOLEAN Write;
    ULONG Done;    /* bytes of the IRP already transferred */
    ULONG Chunk;   /* bytes of the chunk on the device */
    ULONGLONG Lba; /* first sector of the IRP */
} SGD_SLOT, *PSGD_SLOT;

typedef struct _SGD_EXT {
    PDEVICE_OBJECT Self;
    PDEVICE_OBJECT Lower;
    PDEVICE_OBJECT Pdo;
    UNICODE_STRING Link;
    WCHAR LinkBuf[32];

    /* Hardware, set at START and cleared at STOP (PASSIVE_LEVEL). */
    PUCHAR Regs;
    ULONG RegsLength;
    PKINTERRUPT Interrupt;
    PDMA_ADAPTER Adapter;
    ULONG MapRegisters;
    PUCHAR CommonVa;
    PHYSICAL_ADDRESS CommonLa;
    ULONG CommonLength;
    SGD_SQE *Sq;
    SGD_CQE *Cq;
    SGD_DESC *Tables; /* Depth tables of TableEntries descriptors */
    ULONGLONG TablesLa;
    ULONG TableEntries;
    ULONG AddressWidth, SegAlign, MaxSegment, BoundaryLog2, MaxSectors;
    ULONGLONG Capacity; /* sectors */
    ULONG Depth;        /* slots in use: min(MAXQ, MAX_SLOTS) */
    ULONG MaxTransfer;  /* bytes per command */
    BOOLEAN Started;

    /* Guarded by Lock (DISPATCH_LEVEL). */
    KSPIN_LOCK Lock;
    LIST_ENTRY Queue; /* IRPs waiting for a slot (cancelable) */
    SGD_SLOT Slot[MAX_SLOTS];
    ULONG Busy; /* slots in use */
    ULONG SqTail;
    ULONG CqHead;
    ULONG Phase;          /* the P bit a new CQE carries */
    SGDISK_INFO Counters; /* Commands, Elements, Descriptors, MaxOutstanding */
    KEVENT Idle;          /* signalled while Busy == 0 and Queue is empty */
} SGD_EXT, *PSGD_EXT;

static ULONG g_Instances;

DRIVER_ADD_DEVICE SgdAddDevice;
DRIVER_UNLOAD SgdUnload;
DRIVER_DISPATCH SgdCreateClose;
DRIVER_DISPATCH SgdReadWrite;
DRIVER_DISPATCH SgdIoctl;
DRIVER_DISPATCH SgdPnp;
DRIVER_CANCEL SgdCancel;
DRIVER_LIST_CONTROL SgdListControl;
KSERVICE_ROUTINE SgdIsr;
IO_DPC_ROUTINE SgdDpcForIsr;
IO_COMPLETION_ROUTINE SgdStartCompletion;

static ULONG Rd(PSGD_EXT x, ULONG off)
{
    return READ_REGISTER_ULONG((volatile ULONG *)(x->Regs + off));
}

static VOID Wr(PSGD_EXT x, ULONG off, ULONG v)
{
    WRITE_REGISTER_ULONG((volatile ULONG *)(x->Regs + off), v);
}

static NTSTATUS Complete(PIRP Irp, NTSTATUS Status, ULONG_PTR Info)
{
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = Info;
    IoCompleteRequest(Irp, Status == STATUS_SUCCESS ? IO_DISK_INCREMENT : IO_NO_INCREMENT);
    return Status;
}

/* ---- issuing commands (DISPATCH_LEVEL) ---------------------------------------------- */

static VOID FinishSlot(PSGD_EXT x, PSGD_SLOT s, NTSTATUS Status);
static VOID StartQueued(PSGD_EXT x);

/* Maps the next chunk of the slot's IRP. The ExecutionRoutine may run now,
 * inside this call, or later when map registers come free. */
static VOID IssueChunk(PSGD_EXT x, PSGD_SLOT s)
{
    PMDL mdl = s->Irp->MdlAddress;
    ULONG total = IoGetCurrentIrpStackLocation(s->Irp)->Parameters.Read.Length;
    ULONG left = total - s->Done;
    s->Chunk = left < x->MaxTransfer ? left : x->MaxTransfer;
    KeFlushIoBuffers(mdl, !s->Write, TRUE);
    NTSTATUS st = x->Adapter->DmaOperations->GetScatterGatherList(
        x->Adapter, x->Self, mdl, (PUCHAR)MmGetMdlVirtualAddress(mdl) + s->Done, s->Chunk,
        SgdListControl, s, s->Write);
    if (!NT_SUCCESS(st)) {
        DbgPrint("sgdisk: GetScatterGatherList(%lu bytes) failed: %#lx\n", s->Chunk, st);
        FinishSlot(x, s, st);
    }
}

/* Descriptor i of table t, as the device will fetch it. */
static SGD_DESC *Desc(PSGD_EXT x, ULONG slot, ULONG i)
{
    return &x->Tables[slot * x->TableEntries + i];
}

/* Elements -> descriptors: split where the device's MAXSEG or BOUNDARY
 * requires (the HAL does not know either). Returns the count, or 0 when
 * the table is too small. */
static ULONG WriteTable(PSGD_EXT x, ULONG slot, PSCATTER_GATHER_LIST sg)
{
    ULONG n = 0;
    for (ULONG e = 0; e < sg->NumberOfElements; e++) {
        ULONGLONG addr = (ULONGLONG)sg->Elements[e].Address.QuadPart;
        ULONG len = sg->Elements[e].Length;
        while (len) {
            ULONG piece = len < x->MaxSegment ? len : x->MaxSegment;
            if (x->BoundaryLog2) {
                ULONGLONG next = ((addr >> x->BoundaryLog2) + 1) << x->BoundaryLog2;
                if (addr + piece > next)
                    piece = (ULONG)(next - addr);
            }
            if (n == x->TableEntries)
                return 0;
            SGD_DESC *d = Desc(x, slot, n++);
            d->Address = addr;
            d->Length = piece;
            d->Flags = 0;
            addr += piece;
            len -= piece;
        }
    }
    if (n)
        Desc(x, slot, n - 1)->Flags = DESC_LAST;
    x->Counters.Elements += sg->NumberOfElements;
    x->Counters.Descriptors += n;
    return n;
}

/* The ExecutionRoutine of GetScatterGatherList (DISPATCH_LEVEL): the list
 * is the slot's until PutScatterGatherList. Writes the descriptor table
 * into the common buffer, then the SQE, then rings the doorbell. */
VOID SgdListControl(PDEVICE_OBJECT DeviceObject, PIRP Irp, PSCATTER_GATHER_LIST ScatterGather,
                    PVOID Context)
{
    PSGD_EXT x = DeviceObject->DeviceExtension;
    PSGD_SLOT s = Context;
    ULONG slot = (ULONG)(s - x->Slot);
    UNREFERENCED_PARAMETER(Irp);
    s->Sg = ScatterGather;
    ULONG ndesc = WriteTable(x, slot, ScatterGather);
    if (!ndesc) {
        DbgPrint("sgdisk: %lu elements do not fit a %lu-entry table\n",
                 ScatterGather->NumberOfElements, x->TableEntries);
        FinishSlot(x, s, STATUS_INSUFFICIENT_RESOURCES);
        return;
    }
    KeAcquireSpinLockAtDpcLevel(&x->Lock);
    SGD_SQE *q = &x->Sq[x->SqTail];
    RtlZeroMemory(q, sizeof(*q));
    q->Opcode = s->Write ? OPC_WRITE : OPC_READ;
    q->Cid = (USHORT)slot;
    q->Sectors = s->Chunk / SGDISK_SECTOR;
    q->Lba = s->Lba + s->Done / SGDISK_SECTOR;
    q->TableAddress = x->TablesLa + (ULONGLONG)slot * x->TableEntries * sizeof(SGD_DESC);
    q->Descriptors = (USHORT)ndesc;
    x->SqTail = (x->SqTail + 1) % RING_ENTRIES;
    /* The register write orders the table and SQE stores before it. */
    Wr(x, REG_SQ_TAIL, x->SqTail);
    KeReleaseSpinLockFromDpcLevel(&x->Lock);
}

/* Ends the slot's IRP (DISPATCH_LEVEL): list put first, the buffer is the
 * CPU's again only after it. */
static VOID FinishSlot(PSGD_EXT x, PSGD_SLOT s, NTSTATUS Status)
{
    PIRP irp = s->Irp;
    if (s->Sg) {
        x->Adapter->DmaOperations->PutScatterGatherList(x->Adapter, s->Sg, s->Write);
        s->Sg = NULL;
    }
    KeAcquireSpinLockAtDpcLevel(&x->Lock);
    s->Irp = NULL;
    x->Busy--;
    if (x->Busy == 0 && IsListEmpty(&x->Queue))
        KeSetEvent(&x->Idle, IO_NO_INCREMENT, FALSE);
    KeReleaseSpinLockFromDpcLevel(&x->Lock);
    Complete(irp, Status, NT_SUCCESS(Status) ? s->Done : 0);
}

/* Takes IRPs off the queue while slots are free; IRQL <= DISPATCH_LEVEL. */
static VOID StartQueued(PSGD_EXT x)
{
    KIRQL irql;
    KeAcquireSpinLock(&x->Lock, &irql);
    while (x->Busy < x->Depth && !IsListEmpty(&x->Queue)) {
        PLIST_ENTRY e = RemoveHeadList(&x->Queue);
        PIRP irp = CONTAINING_RECORD(e, IRP, Tail.Overlay.ListEntry);
        if (IoSetCancelRoutine(irp, NULL) == NULL) {
            /* SgdCancel owns it now and will unlink this entry: keep it valid. */
            InitializeListHead(e);
            continue;
        }
        PSGD_SLOT s = NULL;
        for (ULONG i = 0; i < x->Depth && !s; i++)
            if (!x->Slot[i].Irp)
                s = &x->Slot[i];
        PIO_STACK_LOCATION sl = IoGetCurrentIrpStackLocation(irp);
        s->Irp = irp;
        s->Sg = NULL;
        s->Write = sl->MajorFunction == IRP_MJ_WRITE;
        s->Done = 0;
        s->Lba = (ULONGLONG)sl->Parameters.Read.ByteOffset.QuadPart / SGDISK_SECTOR;
        x->Busy++;
        if (x->Busy > x->Counters.MaxOutstanding)
            x->Counters.MaxOutstanding = x->Busy;
        /* The list routine may run inside GetScatterGatherList and takes
         * the lock: drop it, stay at DISPATCH_LEVEL. */
        KeReleaseSpinLockFromDpcLevel(&x->Lock);
        IssueChunk(x, s);
        KeAcquireSpinLockAtDpcLevel(&x->Lock);
    }
    KeReleaseSpinLock(&x->Lock, irql);
}

VOID SgdCancel(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PSGD_EXT x = DeviceObject->DeviceExtension;
    KIRQL irql;
    IoReleaseCancelSpinLock(Irp->CancelIrql);
    KeAcquireSpinLock(&x->Lock, &irql);
    RemoveEntryList(&Irp->Tail.Overlay.ListEntry);
    if (x->Busy == 0 && IsListEmpty(&x->Queue))
        KeSetEvent(&x->Idle, IO_NO_INCREMENT, FALSE);
    KeReleaseSpinLock(&x->Lock, irql);
    Complete(Irp, STATUS_CANCELLED, 0);
}

/* ---- interrupt and DPC ------------------------------------------------------------- */

BOOLEAN SgdIsr(PKINTERRUPT Interrupt, PVOID ServiceContext)
{
    PSGD_EXT x = ServiceContext;
    UNREFERENCED_PARAMETER(Interrupt);
    ULONG isr = Rd(x, REG_ISR) & (INT_CQ | INT_FATAL);
    if (!isr)
        return FALSE;    /* a shared line: not ours */
    Wr(x, REG_ISR, isr); /* RW1C: acknowledge what we saw */
    IoRequestDpc(x->Self, NULL, (PVOID)(ULONG_PTR)isr);
    return TRUE;
}

static NTSTATUS StatusOf(UCHAR sc)
{
    if (sc == SC_SUCCESS)
        return STATUS_SUCCESS;
    return sc == SC_MEDIA_ERROR ? STATUS_DEVICE_DATA_ERROR : STATUS_IO_DEVICE_ERROR;
}

/* Drains the completion ring (entries whose P equals our phase), then
 * finishes each command: Put, next chunk or IRP completion. */
VOID SgdDpcForIsr(PKDPC Dpc, PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    PSGD_EXT x = DeviceObject->DeviceExtension;
    struct {
        USHORT Cid;
        UCHAR Status;
        ULONG Bytes;
    } done[RING_ENTRIES];
    ULONG n = 0;
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Irp);
    if ((ULONG_PTR)Context & INT_FATAL)
        DbgPrint("sgdisk: device fatal, STATUS %#lx\n", Rd(x, REG_STATUS));
    KeAcquireSpinLockAtDpcLevel(&x->Lock);
    while (n < RING_ENTRIES && (x->Cq[x->CqHead].Phase & 1) == x->Phase) {
        SGD_CQE *c = &x->Cq[x->CqHead];
        done[n].Cid = c->Cid;
        done[n].Status = c->Status;
        done[n].Bytes = c->Bytes;
        n++;
        if (++x->CqHead == RING_ENTRIES) {
            x->CqHead = 0;
            x->Phase ^= 1;
        }
    }
    if (n)
        Wr(x, REG_CQ_HEAD, x->CqHead);
    x->Counters.Commands += n;
    KeReleaseSpinLockFromDpcLevel(&x->Lock);

    for (ULONG i = 0; i < n; i++) {
        if (done[i].Cid >= x->Depth || !x->Slot[done[i].Cid].Irp) {
            DbgPrint("sgdisk: completion for idle CID %u ignored\n", done[i].Cid);
            continue;
        }
        PSGD_SLOT s = &x->Slot[done[i].Cid];
        NTSTATUS st = StatusOf(done[i].Status);
        if (NT_SUCCESS(st) && done[i].Bytes != s->Chunk)
            st = STATUS_IO_DEVICE_ERROR;
        if (!NT_SUCCESS(st)) {
            DbgPrint("sgdisk: command %u failed: SC %#x, %lu of %lu bytes\n", done[i].Cid,
                     done[i].Status, done[i].Bytes, s->Chunk);
            FinishSlot(x, s, st);
            continue;
        }
        x->Adapter->DmaOperations->PutScatterGatherList(x->Adapter, s->Sg, s->Write);
        s->Sg = NULL;
        s->Done += s->Chunk;
        if (s->Done < IoGetCurrentIrpStackLocation(s->Irp)->Parameters.Read.Length)
            IssueChunk(x, s);
        else
            FinishSlot(x, s, STATUS_SUCCESS);
    }
    StartQueued(x);
}

/* ---- dispatch routines (PASSIVE_LEVEL) -------------------------------------------- */

NTSTATUS SgdCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    return Complete(Irp, STATUS_SUCCESS, 0);
}

NTSTATUS SgdReadWrite(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PSGD_EXT x = DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION sl = IoGetCurrentIrpStackLocation(Irp);
    ULONG len = sl->Parameters.Read.Length;
    LONGLONG off = sl->Parameters.Read.ByteOffset.QuadPart;
    KIRQL irql;
    if (len == 0)
        return Complete(Irp, STATUS_SUCCESS, 0);
    /* Whole sectors, inside the disk, from a buffer the device can address. */
    if (len % SGDISK_SECTOR || off < 0 || off % SGDISK_SECTOR ||
        (ULONGLONG)off / SGDISK_SECTOR + len / SGDISK_SECTOR > x->Capacity ||
        ((ULONG_PTR)MmGetMdlVirtualAddress(Irp->MdlAddress) & DeviceObject->AlignmentRequirement))
        return Complete(Irp, STATUS_INVALID_PARAMETER, 0);

    IoMarkIrpPending(Irp);
    KeAcquireSpinLock(&x->Lock, &irql);
    if (!x->Started) { /* not started yet, or stopping (Drain) */
        KeReleaseSpinLock(&x->Lock, irql);
        Complete(Irp, STATUS_DEVICE_NOT_READY, 0);
        return STATUS_PENDING;
    }
    IoSetCancelRoutine(Irp, SgdCancel);
    if (Irp->Cancel && IoSetCancelRoutine(Irp, NULL) != NULL) {
        /* Cancelled before it was queued, and the cancel routine will not run. */
        KeReleaseSpinLock(&x->Lock, irql);
        Complete(Irp, STATUS_CANCELLED, 0);
        return STATUS_PENDING;
    }
    InsertTailList(&x->Queue, &Irp->Tail.Overlay.ListEntry);
    KeClearEvent(&x->Idle);
    KeReleaseSpinLock(&x->Lock, irql);
    StartQueued(x);
    return STATUS_PENDING;
}

NTSTATUS SgdIoctl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PSGD_EXT x = DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION sl = IoGetCurrentIrpStackLocation(Irp);
    KIRQL irql;
    if (sl->Parameters.DeviceIoControl.IoControlCode != IOCTL_SGDISK_GET_INFO)
        return Complete(Irp, STATUS_INVALID_DEVICE_REQUEST, 0);
    if (sl->Parameters.DeviceIoControl.OutputBufferLength < (ULONG)sizeof(SGDISK_INFO))
        return Complete(Irp, STATUS_BUFFER_TOO_SMALL, 0);
    if (!x->Started)
        return Complete(Irp, STATUS_DEVICE_NOT_READY, 0);
    SGDISK_INFO *info = Irp->AssociatedIrp.SystemBuffer;
    KeAcquireSpinLock(&x->Lock, &irql);
    *info = x->Counters;
    KeReleaseSpinLock(&x->Lock, irql);
    info->CapacitySectors = x->Capacity;
    info->SectorSize = SGDISK_SECTOR;
    info->Alignment = DeviceObject->AlignmentRequirement;
    info->MaxTransfer = x->MaxTransfer;
    info->QueueDepth = x->Depth;
    info->AddressWidth = x->AddressWidth;
    info->MapRegisters = x->MapRegisters;
    return Complete(Irp, STATUS_SUCCESS, sizeof(*info));
}

/* ---- start and stop (PASSIVE_LEVEL) ----------------------------------------------- */

/* Polls STATUS until (STATUS & mask) == want, for at most about 100 ms. */
static BOOLEAN WaitStatus(PSGD_EXT x, ULONG mask, ULONG want)
{
    LARGE_INTEGER step = {.QuadPart = -10 * 10}; /* 10 us, relative */
    for (ULONG i = 0; i < 10000; i++) {
        if ((Rd(x, REG_STATUS) & mask) == want)
            return TRUE;
        KeDelayExecutionThread(KernelMode, FALSE, &step);
    }
    return FALSE;
}

static VOID ReadCapabilities(PSGD_EXT x)
{
    ULONG cap0 = Rd(x, REG_CAP0), cap2 = Rd(x, REG_CAP2);
    ULONG maxDesc = cap0 >> 16, maxQ = cap2 >> 16;
    x->AddressWidth = cap0 & 0xFF;
    x->SegAlign = 1u << ((cap0 >> 8) & 0xF);
    x->MaxSegment = Rd(x, REG_CAP1);
    x->BoundaryLog2 = cap2 & 0xFF;
    x->MaxSectors = Rd(x, REG_CAP3);
    x->Capacity = Rd(x, REG_CAPACITY_LO) | (ULONGLONG)Rd(x, REG_CAPACITY_HI) << 32;
    x->Depth = maxQ < MAX_SLOTS ? maxQ : MAX_SLOTS;
    x->TableEntries = maxDesc < MAX_TABLE_DESC ? maxDesc : MAX_TABLE_DESC;
}

/* Bytes per command: what the device takes in one command, what one S/G
 * list can map, and what a table holds even if every page is its own
 * element and MAXSEG splits pages further. Whole sectors. */
static ULONG ChunkLimit(PSGD_EXT x)
{
    ULONG perPage = x->MaxSegment >= PAGE_SIZE ? 1 : PAGE_SIZE / x->MaxSegment;
    ULONG pages = x->TableEntries / perPage;
    if (pages > x->MapRegisters)
        pages = x->MapRegisters;
    pages = pages > 1 ? pages - 1 : 1; /* an unaligned start spans one page more */
    ULONGLONG bytes = (ULONGLONG)pages * PAGE_SIZE;
    if (bytes > (ULONGLONG)x->MaxSectors * SGDISK_SECTOR)
        bytes = (ULONGLONG)x->MaxSectors * SGDISK_SECTOR;
    if (perPage > 1 && bytes > x->TableEntries * (ULONGLONG)x->MaxSegment)
        bytes = x->TableEntries * (ULONGLONG)x->MaxSegment;
    return (ULONG)(bytes / SGDISK_SECTOR * SGDISK_SECTOR);
}

static NTSTATUS GetAdapter(PSGD_EXT x)
{
    DEVICE_DESCRIPTION dd;
    RtlZeroMemory(&dd, sizeof(dd));
    dd.Version = DEVICE_DESCRIPTION_VERSION2;
    dd.Master = TRUE;
    dd.ScatterGather = TRUE;
    dd.Dma32BitAddresses = TRUE;
    dd.Dma64BitAddresses = x->AddressWidth >= 64;
    dd.InterfaceType = PCIBus;
    dd.MaximumLength = x->MaxSectors * SGDISK_SECTOR;
    x->Adapter = IoGetDmaAdapter(x->Pdo, &dd, &x->MapRegisters);
    if (!x->Adapter)
        return STATUS_INSUFFICIENT_RESOURCES;
    x->MaxTransfer = ChunkLimit(x);
    return x->MaxTransfer ? STATUS_SUCCESS : STATUS_DEVICE_CONFIGURATION_ERROR;
}

/* Rings and tables in one common buffer: device-reachable, contiguous. */
static NTSTATUS AllocRings(PSGD_EXT x)
{
    ULONG sq = RING_ENTRIES * sizeof(SGD_SQE), cq = RING_ENTRIES * sizeof(SGD_CQE);
    ULONG tables = x->Depth * x->TableEntries * sizeof(SGD_DESC);
    x->CommonLength = ROUND_TO_PAGES(sq + cq) + tables;
    x->CommonVa = x->Adapter->DmaOperations->AllocateCommonBuffer(x->Adapter, x->CommonLength,
                                                                  &x->CommonLa, FALSE);
    if (!x->CommonVa)
        return STATUS_INSUFFICIENT_RESOURCES;
    RtlZeroMemory(x->CommonVa, x->CommonLength); /* the CQ must start zeroed */
    x->Sq = (SGD_SQE *)x->CommonVa;
    x->Cq = (SGD_CQE *)(x->CommonVa + sq);
    x->Tables = (SGD_DESC *)(x->CommonVa + ROUND_TO_PAGES(sq + cq));
    x->TablesLa = (ULONGLONG)x->CommonLa.QuadPart + ROUND_TO_PAGES(sq + cq);
    return STATUS_SUCCESS;
}

static NTSTATUS EnableDevice(PSGD_EXT x)
{
    ULONGLONG sq = (ULONGLONG)x->CommonLa.QuadPart;
    ULONGLONG cq = sq + RING_ENTRIES * sizeof(SGD_SQE);
    Wr(x, REG_SQ_BASE_LO, (ULONG)sq);
    Wr(x, REG_SQ_BASE_HI, (ULONG)(sq >> 32));
    Wr(x, REG_SQ_SIZE, RING_ENTRIES);
    Wr(x, REG_CQ_BASE_LO, (ULONG)cq);
    Wr(x, REG_CQ_BASE_HI, (ULONG)(cq >> 32));
    Wr(x, REG_CQ_SIZE, RING_ENTRIES);
    Wr(x, REG_IEN, INT_CQ | INT_FATAL);
    x->SqTail = x->CqHead = 0;
    x->Phase = 1;
    Wr(x, REG_CTRL, CTRL_EN);
    if (!WaitStatus(x, STATUS_RDY | STATUS_CFS, STATUS_RDY)) {
        DbgPrint("sgdisk: enable failed, STATUS %#lx\n", Rd(x, REG_STATUS));
        return STATUS_DEVICE_CONFIGURATION_ERROR;
    }
    return STATUS_SUCCESS;
}

/* Undoes StartHardware in reverse; safe on a partial start. */
static VOID StopHardware(PSGD_EXT x)
{
    if (x->Regs) {
        /* Disable, and wait until the device has left the bus for good
         * before the rings and buffers go away (sgdisk.md 7). */
        Wr(x, REG_CTRL, 0);
        if (!WaitStatus(x, STATUS_RDY | STATUS_CFS, 0))
            DbgPrint("sgdisk: device did not go idle, STATUS %#lx\n", Rd(x, REG_STATUS));
        Wr(x, REG_IEN, 0);
    }
    x->Started = FALSE;
    if (x->Interrupt) {
        IoDisconnectInterrupt(x->Interrupt);
        /* A DpcForIsr queued by the last interrupt reads the rings: let it
         * finish before they go. */
        KeFlushQueuedDpcs();
    }
    x->Interrupt = NULL;
    if (x->CommonVa)
        x->Adapter->DmaOperations->FreeCommonBuffer(x->Adapter, x->CommonLength, x->CommonLa,
                                                    x->CommonVa, FALSE);
    x->CommonVa = NULL;
    if (x->Adapter)
        x->Adapter->DmaOperations->PutDmaAdapter(x->Adapter);
    x->Adapter = NULL;
    if (x->Regs)
        MmUnmapIoSpace(x->Regs, x->RegsLength);
    x->Regs = NULL;
}

static NTSTATUS StartHardware(PSGD_EXT x, PCM_RESOURCE_LIST list)
{
    PCM_PARTIAL_RESOURCE_DESCRIPTOR irq = NULL;
    NTSTATUS st;
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
    if (!x->Regs || !irq || Rd(x, REG_ID) != SGD_ID)
        return STATUS_DEVICE_CONFIGURATION_ERROR;
    ReadCapabilities(x);
    if (x->Depth == 0 || x->TableEntries == 0)
        return STATUS_DEVICE_CONFIGURATION_ERROR;
    x->Self->AlignmentRequirement = x->SegAlign - 1;
    if (!NT_SUCCESS(st = GetAdapter(x)) || !NT_SUCCESS(st = AllocRings(x)))
        return st;
    st = IoConnectInterrupt(&x->Interrupt, SgdIsr, x, NULL, irq->u.Interrupt.Vector,
                            (KIRQL)irq->u.Interrupt.Level, (KIRQL)irq->u.Interrupt.Level,
                            (irq->Flags & CM_RESOURCE_INTERRUPT_LATCHED) ? Latched : LevelSensitive,
                            irq->ShareDisposition == CmResourceShareShared,
                            irq->u.Interrupt.Affinity, FALSE);
    if (!NT_SUCCESS(st))
        return st;
    if (!NT_SUCCESS(st = EnableDevice(x)))
        return st;
    x->Started = TRUE;
    return STATUS_SUCCESS;
}

/* Fails what is queued and waits for what is on the device (PASSIVE). */
static VOID Drain(PSGD_EXT x)
{
    KIRQL irql;
    KeAcquireSpinLock(&x->Lock, &irql);
    x->Started = FALSE; /* no new requests */
    while (!IsListEmpty(&x->Queue)) {
        PLIST_ENTRY e = RemoveHeadList(&x->Queue);
        PIRP irp = CONTAINING_RECORD(e, IRP, Tail.Overlay.ListEntry);
        if (IoSetCancelRoutine(irp, NULL) == NULL) {
            InitializeListHead(e);
            continue;
        }
        KeReleaseSpinLock(&x->Lock, irql);
        Complete(irp, STATUS_DELETE_PENDING, 0);
        KeAcquireSpinLock(&x->Lock, &irql);
    }
    BOOLEAN idle = x->Busy == 0;
    if (idle)
        KeSetEvent(&x->Idle, IO_NO_INCREMENT, FALSE);
    KeReleaseSpinLock(&x->Lock, irql);
    if (!idle)
        KeWaitForSingleObject(&x->Idle, Executive, KernelMode, FALSE, NULL);
}

NTSTATUS SgdStartCompletion(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
    KeSetEvent((PKEVENT)Context, IO_NO_INCREMENT, FALSE);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

static NTSTATUS ForwardAndWait(PSGD_EXT x, PIRP Irp)
{
    KEVENT ev;
    KeInitializeEvent(&ev, NotificationEvent, FALSE);
    IoCopyCurrentIrpStackLocationToNext(Irp);
    IoSetCompletionRoutine(Irp, SgdStartCompletion, &ev, TRUE, TRUE, TRUE);
    NTSTATUS st = IoCallDriver(x->Lower, Irp);
    if (st == STATUS_PENDING) {
        KeWaitForSingleObject(&ev, Executive, KernelMode, FALSE, NULL);
        st = Irp->IoStatus.Status;
    }
    return st;
}

NTSTATUS SgdPnp(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PSGD_EXT x = DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION sl = IoGetCurrentIrpStackLocation(Irp);
    NTSTATUS st;
    switch (sl->MinorFunction) {
    case IRP_MN_START_DEVICE:
        st = ForwardAndWait(x, Irp);
        if (NT_SUCCESS(st))
            st = StartHardware(x, sl->Parameters.StartDevice.AllocatedResourcesTranslated);
        if (!NT_SUCCESS(st))
            StopHardware(x);
        return Complete(Irp, st, 0);
    case IRP_MN_STOP_DEVICE:
        Drain(x);
        StopHardware(x);
        Irp->IoStatus.Status = STATUS_SUCCESS;
        IoSkipCurrentIrpStackLocation(Irp);
        return IoCallDriver(x->Lower, Irp);
    case IRP_MN_REMOVE_DEVICE:
        Drain(x);
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

NTSTATUS SgdAddDevice(PDRIVER_OBJECT DriverObject, PDEVICE_OBJECT Pdo)
{
    WCHAR nameBuf[32];
    UNICODE_STRING name;
    PDEVICE_OBJECT fdo;
    ULONG n = g_Instances++;
    NTSTATUS st = RtlStringCbPrintfW(nameBuf, sizeof(nameBuf), L"\\Device\\SgDisk%u", n);
    if (!NT_SUCCESS(st))
        return st;
    RtlInitUnicodeString(&name, nameBuf);
    st = IoCreateDevice(DriverObject, sizeof(SGD_EXT), &name, FILE_DEVICE_DISK,
                        FILE_DEVICE_SECURE_OPEN, FALSE, &fdo);
    if (!NT_SUCCESS(st))
        return st;
    PSGD_EXT x = fdo->DeviceExtension;
    RtlZeroMemory(x, sizeof(*x));
    x->Self = fdo;
    x->Pdo = Pdo;
    KeInitializeSpinLock(&x->Lock);
    InitializeListHead(&x->Queue);
    KeInitializeEvent(&x->Idle, NotificationEvent, TRUE);
    IoInitializeDpcRequest(fdo, SgdDpcForIsr);
    st = RtlStringCbPrintfW(x->LinkBuf, sizeof(x->LinkBuf), L"\\DosDevices\\SgDisk%u", n);
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

VOID SgdUnload(PDRIVER_OBJECT DriverObject)
{
    /* Every device object went at REMOVE; nothing global to free. */
    UNREFERENCED_PARAMETER(DriverObject);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->MajorFunction[IRP_MJ_CREATE] = SgdCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = SgdCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLEANUP] = SgdCreateClose;
    DriverObject->MajorFunction[IRP_MJ_READ] = SgdReadWrite;
    DriverObject->MajorFunction[IRP_MJ_WRITE] = SgdReadWrite;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = SgdIoctl;
    DriverObject->MajorFunction[IRP_MJ_PNP] = SgdPnp;
    DriverObject->DriverExtension->AddDevice = SgdAddDevice;
    DriverObject->DriverUnload = SgdUnload;
    return STATUS_SUCCESS;
}
