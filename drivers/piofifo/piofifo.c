/*
 * drivers/piofifo/piofifo.c - sample WDM function driver for PIO-1, the PCI
 * programmed-I/O loopback FIFO (shared/devices/piofifo.md).
 *
 * Shows: AddDevice with a symbolic link (\\.\PioFifo0); IRP_MN_START_DEVICE
 * forwarded down and finished in a completion routine, then the translated
 * resources: BAR0 ports used directly, BAR1 mapped with MmMapIoSpace;
 * STOP / REMOVE unmapping it; direct I/O for ReadFile / WriteFile (PIO
 * through MmGetSystemAddressForMdlSafe); one IOCTL per transfer method
 * (piofifo_ioctl.h). Written only against <wdm.h>.
 */
#include <wdm.h>
#include <ntstrsafe.h>

#include "piofifo_ioctl.h"

enum {
    REG_ID = 0x000,
    REG_DEPTH = 0x008,
    REG_LEVEL = 0x00C,
    REG_STATUS = 0x010,
    REG_DATA = 0x800,
    PORT_DATA = 0x0,
    PORT_LEVEL = 0x8,
    WINDOW = 2048,
};

typedef struct _PIO_EXT {
    PDEVICE_OBJECT Self;
    PDEVICE_OBJECT Lower;
    PUCHAR Port; /* BAR0 translated port base */
    PUCHAR Regs; /* BAR1 through MmMapIoSpace */
    SIZE_T RegsLength;
    ULONG Depth;
    UNICODE_STRING Link;
    WCHAR LinkBuf[32];
} PIO_EXT, *PPIO_EXT;

static ULONG g_Instances;

DRIVER_ADD_DEVICE PioAddDevice;
DRIVER_UNLOAD PioUnload;
DRIVER_DISPATCH PioCreateClose;
DRIVER_DISPATCH PioReadWrite;
DRIVER_DISPATCH PioIoctl;
DRIVER_DISPATCH PioPnp;
IO_COMPLETION_ROUTINE PioStartCompletion;

static ULONG Level(PPIO_EXT x)
{
    return READ_REGISTER_ULONG((volatile ULONG *)(x->Regs + REG_LEVEL));
}

/* FIFO -> buffer through the MMIO data window: whole ULONGs, then bytes. */
static ULONG PopMmio(PPIO_EXT x, PUCHAR buf, ULONG want)
{
    ULONG n = Level(x);
    if (n > want)
        n = want;
    ULONG done = 0;
    while (n - done >= 4) {
        ULONG chunk = (n - done) & ~3u;
        if (chunk > WINDOW)
            chunk = WINDOW;
        READ_REGISTER_BUFFER_ULONG((volatile ULONG *)(x->Regs + REG_DATA), (PULONG)(buf + done),
                                   chunk / 4);
        done += chunk;
    }
    while (done < n)
        buf[done++] = READ_REGISTER_UCHAR(x->Regs + REG_DATA);
    return n;
}

static ULONG PushMmio(PPIO_EXT x, PUCHAR buf, ULONG n)
{
    ULONG room = x->Depth - Level(x);
    if (n > room)
        n = room;
    ULONG done = 0;
    while (n - done >= 4) {
        ULONG chunk = (n - done) & ~3u;
        if (chunk > WINDOW)
            chunk = WINDOW;
        WRITE_REGISTER_BUFFER_ULONG((volatile ULONG *)(x->Regs + REG_DATA), (PULONG)(buf + done),
                                    chunk / 4);
        done += chunk;
    }
    while (done < n)
        WRITE_REGISTER_UCHAR(x->Regs + REG_DATA, buf[done++]);
    return n;
}

static ULONG PushPort(PPIO_EXT x, PUCHAR buf, ULONG n)
{
    ULONG room = x->Depth - READ_PORT_ULONG((PULONG)(x->Port + PORT_LEVEL));
    if (n > room)
        n = room;
    WRITE_PORT_BUFFER_UCHAR(x->Port + PORT_DATA, buf, n);
    return n;
}

static ULONG PopPort(PPIO_EXT x, PUCHAR buf, ULONG want)
{
    ULONG n = READ_PORT_ULONG((PULONG)(x->Port + PORT_LEVEL));
    if (n > want)
        n = want;
    READ_PORT_BUFFER_UCHAR(x->Port + PORT_DATA, buf, n);
    return n;
}

static NTSTATUS Complete(PIRP Irp, NTSTATUS Status, ULONG_PTR Info)
{
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = Info;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return Status;
}

NTSTATUS PioCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    return Complete(Irp, STATUS_SUCCESS, 0);
}

NTSTATUS PioReadWrite(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PPIO_EXT x = DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION sl = IoGetCurrentIrpStackLocation(Irp);
    ULONG len = sl->Parameters.Read.Length;
    if (!x->Regs)
        return Complete(Irp, STATUS_DEVICE_NOT_READY, 0);
    if (len == 0)
        return Complete(Irp, STATUS_SUCCESS, 0);
    PUCHAR va =
        MmGetSystemAddressForMdlSafe(Irp->MdlAddress, NormalPagePriority | MdlMappingNoExecute);
    if (!va)
        return Complete(Irp, STATUS_INSUFFICIENT_RESOURCES, 0);
    ULONG n = sl->MajorFunction == IRP_MJ_READ ? PopMmio(x, va, len) : PushPort(x, va, len);
    return Complete(Irp, STATUS_SUCCESS, n);
}

NTSTATUS PioIoctl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PPIO_EXT x = DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION sl = IoGetCurrentIrpStackLocation(Irp);
    ULONG in = sl->Parameters.DeviceIoControl.InputBufferLength;
    ULONG out = sl->Parameters.DeviceIoControl.OutputBufferLength;
    PUCHAR sys = Irp->AssociatedIrp.SystemBuffer;
    PUCHAR va;
    if (!x->Regs)
        return Complete(Irp, STATUS_DEVICE_NOT_READY, 0);
    switch (sl->Parameters.DeviceIoControl.IoControlCode) {
    case IOCTL_PIOFIFO_PUSH_BUFFERED:
        return Complete(Irp, STATUS_SUCCESS, in ? PushPort(x, sys, in) : 0);
    case IOCTL_PIOFIFO_POP_BUFFERED:
        return Complete(Irp, STATUS_SUCCESS, out ? PopPort(x, sys, out) : 0);
    case IOCTL_PIOFIFO_PUSH_IN_DIRECT:
        if (!out)
            return Complete(Irp, STATUS_SUCCESS, 0);
        va = MmGetSystemAddressForMdlSafe(Irp->MdlAddress, NormalPagePriority);
        if (!va)
            return Complete(Irp, STATUS_INSUFFICIENT_RESOURCES, 0);
        return Complete(Irp, STATUS_SUCCESS, PushMmio(x, va, out));
    case IOCTL_PIOFIFO_POP_OUT_DIRECT:
        if (!out)
            return Complete(Irp, STATUS_SUCCESS, 0);
        va = MmGetSystemAddressForMdlSafe(Irp->MdlAddress, NormalPagePriority);
        if (!va)
            return Complete(Irp, STATUS_INSUFFICIENT_RESOURCES, 0);
        return Complete(Irp, STATUS_SUCCESS, PopMmio(x, va, out));
    case IOCTL_PIOFIFO_LOOP_NEITHER: {
        PUCHAR src = sl->Parameters.DeviceIoControl.Type3InputBuffer;
        PUCHAR dst = Irp->UserBuffer;
        NTSTATUS status = STATUS_SUCCESS;
        volatile ULONG n = 0;
        /* Raw caller addresses: probe (user callers) and touch inside __try. */
        __try {
            if (Irp->RequestorMode != KernelMode) {
                ProbeForRead(src, in, 1);
                ProbeForWrite(dst, out, 1);
            }
            PushPort(x, src, in);
            n = PopPort(x, dst, out);
        } __except (EXCEPTION_EXECUTE_HANDLER) {
            status = GetExceptionCode();
        }
        return Complete(Irp, status, NT_SUCCESS(status) ? n : 0);
    }
    case IOCTL_PIOFIFO_GET_STATUS: {
        if (out < sizeof(PIOFIFO_STATUS))
            return Complete(Irp, STATUS_BUFFER_TOO_SMALL, 0);
        PIOFIFO_STATUS *s = (PIOFIFO_STATUS *)sys;
        s->Depth = x->Depth;
        s->Level = Level(x);
        s->Status = READ_REGISTER_ULONG((volatile ULONG *)(x->Regs + REG_STATUS));
        s->Id = READ_REGISTER_ULONG((volatile ULONG *)(x->Regs + REG_ID));
        return Complete(Irp, STATUS_SUCCESS, sizeof(*s));
    }
    default:
        return Complete(Irp, STATUS_INVALID_DEVICE_REQUEST, 0);
    }
}

NTSTATUS PioStartCompletion(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
    KeSetEvent((PKEVENT)Context, IO_NO_INCREMENT, FALSE);
    return STATUS_MORE_PROCESSING_REQUIRED;
}

static NTSTATUS ForwardAndWait(PPIO_EXT x, PIRP Irp)
{
    KEVENT ev;
    KeInitializeEvent(&ev, NotificationEvent, FALSE);
    IoCopyCurrentIrpStackLocationToNext(Irp);
    IoSetCompletionRoutine(Irp, PioStartCompletion, &ev, TRUE, TRUE, TRUE);
    NTSTATUS st = IoCallDriver(x->Lower, Irp);
    if (st == STATUS_PENDING) {
        KeWaitForSingleObject(&ev, Executive, KernelMode, FALSE, NULL);
        st = Irp->IoStatus.Status;
    }
    return st;
}

static NTSTATUS StartHardware(PPIO_EXT x, PCM_RESOURCE_LIST list)
{
    if (!list || list->Count < 1)
        return STATUS_DEVICE_CONFIGURATION_ERROR;
    PCM_PARTIAL_RESOURCE_LIST pl = &list->List[0].PartialResourceList;
    for (ULONG i = 0; i < pl->Count; i++) {
        PCM_PARTIAL_RESOURCE_DESCRIPTOR d = &pl->PartialDescriptors[i];
        if (d->Type == CmResourceTypePort && !x->Port)
            x->Port = (PUCHAR)(ULONG_PTR)d->u.Port.Start.QuadPart;
        else if (d->Type == CmResourceTypeMemory && !x->Regs) {
            x->Regs = MmMapIoSpace(d->u.Memory.Start, d->u.Memory.Length, MmNonCached);
            x->RegsLength = d->u.Memory.Length;
        }
    }
    if (!x->Port || !x->Regs)
        return STATUS_DEVICE_CONFIGURATION_ERROR;
    if (READ_REGISTER_ULONG((volatile ULONG *)(x->Regs + REG_ID)) != 0x00045744)
        return STATUS_DEVICE_CONFIGURATION_ERROR;
    x->Depth = READ_REGISTER_ULONG((volatile ULONG *)(x->Regs + REG_DEPTH));
    return STATUS_SUCCESS;
}

static VOID StopHardware(PPIO_EXT x)
{
    if (x->Regs)
        MmUnmapIoSpace(x->Regs, x->RegsLength);
    x->Regs = NULL;
    x->Port = NULL;
}

NTSTATUS PioPnp(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PPIO_EXT x = DeviceObject->DeviceExtension;
    PIO_STACK_LOCATION sl = IoGetCurrentIrpStackLocation(Irp);
    NTSTATUS st;
    switch (sl->MinorFunction) {
    case IRP_MN_START_DEVICE:
        st = ForwardAndWait(x, Irp);
        if (NT_SUCCESS(st))
            st = StartHardware(x, sl->Parameters.StartDevice.AllocatedResourcesTranslated);
        return Complete(Irp, st, 0);
    case IRP_MN_STOP_DEVICE:
        StopHardware(x);
        Irp->IoStatus.Status = STATUS_SUCCESS;
        IoSkipCurrentIrpStackLocation(Irp);
        return IoCallDriver(x->Lower, Irp);
    case IRP_MN_REMOVE_DEVICE:
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

NTSTATUS PioAddDevice(PDRIVER_OBJECT DriverObject, PDEVICE_OBJECT Pdo)
{
    WCHAR nameBuf[32];
    UNICODE_STRING name;
    PDEVICE_OBJECT fdo;
    ULONG n = g_Instances++;
    RtlStringCbPrintfW(nameBuf, sizeof(nameBuf), L"\\Device\\PioFifo%u", n);
    RtlInitUnicodeString(&name, nameBuf);
    NTSTATUS st = IoCreateDevice(DriverObject, sizeof(PIO_EXT), &name, FILE_DEVICE_UNKNOWN,
                                 FILE_DEVICE_SECURE_OPEN, FALSE, &fdo);
    if (!NT_SUCCESS(st))
        return st;
    PPIO_EXT x = fdo->DeviceExtension;
    x->Self = fdo;
    RtlStringCbPrintfW(x->LinkBuf, sizeof(x->LinkBuf), L"\\DosDevices\\PioFifo%u", n);
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

VOID PioUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->MajorFunction[IRP_MJ_CREATE] = PioCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = PioCreateClose;
    DriverObject->MajorFunction[IRP_MJ_READ] = PioReadWrite;
    DriverObject->MajorFunction[IRP_MJ_WRITE] = PioReadWrite;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = PioIoctl;
    DriverObject->MajorFunction[IRP_MJ_PNP] = PioPnp;
    DriverObject->DriverExtension->AddDevice = PioAddDevice;
    DriverObject->DriverUnload = PioUnload;
    return STATUS_SUCCESS;
}
