/*
 * src/io/request.c - what the I/O manager builds for a read, a write or a
 * device I/O control request, and the wait for its completion.
 *
 * Models: spec/io.md 3 and 4. Read/write: DO_BUFFERED_IO gives a nonpaged
 * SystemBuffer (write: copied in; read: copied out at completion up to
 * Information); DO_DIRECT_IO gives a probed and locked MDL of the caller's
 * buffer (read -> IoWriteAccess, write -> IoReadAccess; none for length 0);
 * neither gives the raw UserBuffer. IOCTLs follow the method in the code:
 * BUFFERED one max(In, Out) buffer; IN_/OUT_DIRECT SystemBuffer for the
 * input and an MDL of the output probed for read / for write; NEITHER raw
 * Type3InputBuffer and UserBuffer. The last stage of completion (irp.c)
 * copies back, unlocks and frees.
 * User-mode requests (requestor mode 1, from an app's Win32 calls): the
 * buffers must lie in the current process's user space (the probe), and
 * the direct-I/O MDLs are probed UserMode; NEITHER passes them unchecked.
 * Invariants: runs on a kernel thread at PASSIVE_LEVEL (it may wait).
 * Not modelled: file objects beyond an opaque pointer per handle,
 * FILE_*_ACCESS checks against a handle, byte offsets.
 */
#include <string.h>

#include "io/io_impl.h"
#include "io/irp.h"

/* The caller's buffer must be mapped (and writable when the device writes
 * it): the I/O manager's probe, done before building so that host code
 * needs no __try. */
static bool buffer_ok(void *buf, uint32_t len, bool device_writes, int mode)
{
    struct mm *mm = &sys_get()->mm;
    /* A user caller's buffer must lie in its own user space (the probe
     * against MmUserProbeAddress); NULL with length 0 is fine. */
    if (mode == UserMode && len && !mm_user_range(mm, buf, len))
        return false;
    uint8_t *p = (uint8_t *)((uintptr_t)buf & ~(uintptr_t)(mm->page_size - 1));
    for (; p < (uint8_t *)buf + len; p += mm->page_size) {
        uint64_t *pte = mm_pte_of(mm, p);
        if (!pte || !(*pte & mm_pte_valid) || (device_writes && !(*pte & mm_pte_write)))
            return false;
    }
    return true;
}

static NTSTATUS lock_mdl(PIRP irp, void *buf, uint32_t len, bool device_writes, int mode)
{
    if (!buffer_ok(buf, len, device_writes, mode))
        return STATUS_ACCESS_VIOLATION;
    PMDL m = IoAllocateMdl(buf, len, FALSE, FALSE, irp);
    if (!m)
        return STATUS_INSUFFICIENT_RESOURCES;
    /* buffer_ok made the probe's checks, so this cannot raise. */
    MmProbeAndLockPages(m, (KPROCESSOR_MODE)mode, device_writes ? IoWriteAccess : IoReadAccess);
    return STATUS_SUCCESS;
}

static NTSTATUS system_buffer(PIRP irp, uint32_t bytes, void *in, uint32_t in_len, void *out,
                              uint32_t out_len, int mode)
{
    if (!bytes)
        return STATUS_SUCCESS;
    /* The I/O manager probes a user caller's buffers before copying. */
    if (mode == UserMode &&
        (!buffer_ok(in, in_len, false, mode) || !buffer_ok(out, out_len, true, mode)))
        return STATUS_ACCESS_VIOLATION;
    void *b = ExAllocatePoolWithTag(NonPagedPoolNx, bytes, io_tag_sysbuf);
    if (!b)
        return STATUS_INSUFFICIENT_RESOURCES;
    memset(b, 0, bytes);
    if (in_len)
        memcpy(b, in, in_len);
    irp->AssociatedIrp.SystemBuffer = b;
    irp->Flags |= IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER;
    return STATUS_SUCCESS;
}

static NTSTATUS build(PIRP irp, PDEVICE_OBJECT top, uint8_t major, uint32_t code, void *in,
                      uint32_t in_len, void *out, uint32_t out_len, int mode)
{
    PIO_STACK_LOCATION loc = IoGetNextIrpStackLocation(irp);
    loc->MajorFunction = major;
    NTSTATUS st = STATUS_SUCCESS;
    if (major == IRP_MJ_READ || major == IRP_MJ_WRITE) {
        bool read = major == IRP_MJ_READ;
        void *buf = read ? out : in;
        uint32_t len = read ? out_len : in_len;
        loc->Parameters.Read.Length = len;
        irp->Flags |= read ? IRP_READ_OPERATION : IRP_WRITE_OPERATION;
        irp->UserBuffer = buf;
        if (top->Flags & DO_BUFFERED_IO) {
            st = system_buffer(irp, len, read ? NULL : buf, read ? 0 : len, read ? buf : NULL,
                               read ? len : 0, mode);
            if (read && len)
                irp->Flags |= IRP_INPUT_OPERATION;
            io_irp_set_out_len(irp, len);
        } else if ((top->Flags & DO_DIRECT_IO) && len) {
            st = lock_mdl(irp, buf, len, read, mode);
        }
        return st;
    }
    loc->Parameters.DeviceIoControl.IoControlCode = code;
    loc->Parameters.DeviceIoControl.InputBufferLength = in_len;
    loc->Parameters.DeviceIoControl.OutputBufferLength = out_len;
    irp->UserBuffer = out;
    switch (METHOD_FROM_CTL_CODE(code)) {
    case METHOD_BUFFERED:
        st =
            system_buffer(irp, in_len > out_len ? in_len : out_len, in, in_len, out, out_len, mode);
        if (out_len)
            irp->Flags |= IRP_INPUT_OPERATION;
        io_irp_set_out_len(irp, out_len);
        break;
    case METHOD_IN_DIRECT:
    case METHOD_OUT_DIRECT:
        st = system_buffer(irp, in_len, in, in_len, NULL, 0, mode);
        if (NT_SUCCESS(st) && out_len)
            st = lock_mdl(irp, out, out_len, METHOD_FROM_CTL_CODE(code) == METHOD_OUT_DIRECT, mode);
        break;
    default: /* METHOD_NEITHER */
        loc->Parameters.DeviceIoControl.Type3InputBuffer = in;
        break;
    }
    return st;
}

int32_t io_request_submit(PDEVICE_OBJECT dev, void *file, uint8_t major, uint32_t code, void *in,
                          uint32_t in_len, void *out, uint32_t out_len, int mode, void *event,
                          void *iosb, void **irp_out)
{
    return io_request_submit_at(dev, file, major, code, in, in_len, out, out_len, 0, mode, event,
                                iosb, irp_out);
}

int32_t io_request_submit_at(PDEVICE_OBJECT dev, void *file, uint8_t major, uint32_t code, void *in,
                             uint32_t in_len, void *out, uint32_t out_len, int64_t byte_offset,
                             int mode, void *event, void *iosb, void **irp_out)
{
    PDEVICE_OBJECT top = io_device_top(dev);
    PIRP irp = io_irp_alloc(top->StackSize, true);
    if (irp_out)
        *irp_out = irp;
    if (!irp)
        return STATUS_INSUFFICIENT_RESOURCES;
    irp->RequestorMode = (KPROCESSOR_MODE)mode;
    irp->Tail.Overlay.Thread = (PETHREAD)ke_current_thread(&sys_get()->ke);
    irp->Tail.Overlay.OriginalFileObject = file;
    IoGetNextIrpStackLocation(irp)->FileObject = file;
    NTSTATUS st = STATUS_SUCCESS;
    if (major == IRP_MJ_READ || major == IRP_MJ_WRITE || major == IRP_MJ_DEVICE_CONTROL)
        st = build(irp, top, major, code, in, in_len, out, out_len, mode);
    else
        IoGetNextIrpStackLocation(irp)->MajorFunction = major; /* CREATE, CLEANUP, CLOSE */
    if (major == IRP_MJ_READ || major == IRP_MJ_WRITE)
        IoGetNextIrpStackLocation(irp)->Parameters.Read.ByteOffset.QuadPart = byte_offset;
    if (!NT_SUCCESS(st)) {
        /* Nothing reached a driver: undo as completion would. */
        irp->IoStatus.Status = st;
        IoCompleteRequest(irp, IO_NO_INCREMENT);
        if (irp_out)
            *irp_out = NULL;
        return st;
    }
    irp->UserEvent = event;
    irp->UserIosb = iosb;
    hal_xferlog_irp(&sys_get()->hal, irp, top, major, code, in, in_len, out, out_len);
    return IoCallDriver(top, irp);
}

int32_t io_request(PDEVICE_OBJECT dev, uint8_t major, uint32_t code, void *in, uint32_t in_len,
                   void *out, uint32_t out_len, int mode, uint64_t *information)
{
    *information = 0;
    KEVENT *ev = ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(KEVENT), io_tag_irp);
    if (!ev)
        return STATUS_INSUFFICIENT_RESOURCES;
    KeInitializeEvent(ev, NotificationEvent, FALSE);
    IO_STATUS_BLOCK iosb = {.Status = STATUS_PENDING};
    NTSTATUS st =
        io_request_submit(dev, NULL, major, code, in, in_len, out, out_len, mode, ev, &iosb, NULL);
    if (st == STATUS_PENDING) {
        KeWaitForSingleObject(ev, Executive, KernelMode, FALSE, NULL);
        st = iosb.Status;
    }
    *information = iosb.Information;
    ExFreePoolWithTag(ev, io_tag_irp);
    return st;
}

/* ---- IoBuild*Request: the same buffers, for a driver sending its own IRP ------------- */

static PIRP build_for_driver(uint8_t major, PDEVICE_OBJECT dev, uint32_t code, PVOID in,
                             ULONG in_len, PVOID out, ULONG out_len, bool io_owned, PKEVENT event,
                             PIO_STATUS_BLOCK iosb)
{
    ke_sched_point(&sys_get()->ke);
    PIRP irp = io_irp_alloc(dev->StackSize, io_owned);
    if (!irp)
        return NULL;
    irp->RequestorMode = KernelMode;
    irp->UserEvent = event;
    irp->UserIosb = iosb;
    irp->Tail.Overlay.Thread = (PETHREAD)ke_current_thread(&sys_get()->ke);
    uint8_t m = major == IRP_MJ_INTERNAL_DEVICE_CONTROL ? IRP_MJ_DEVICE_CONTROL : major;
    if (!NT_SUCCESS(build(irp, dev, m, code, in, in_len, out, out_len, KernelMode))) {
        /* Undo what was built; the IRP never reached a driver. */
        irp->UserEvent = NULL;
        irp->UserIosb = NULL;
        irp->IoStatus.Status = STATUS_INSUFFICIENT_RESOURCES;
        io_irp_release_buffers(irp);
        IoFreeIrp(irp);
        return NULL;
    }
    IoGetNextIrpStackLocation(irp)->MajorFunction = major;
    return irp;
}

NTKERNELAPI PIRP NTAPI IoBuildDeviceIoControlRequest(ULONG IoControlCode,
                                                     PDEVICE_OBJECT DeviceObject, PVOID InputBuffer,
                                                     ULONG InputBufferLength, PVOID OutputBuffer,
                                                     ULONG OutputBufferLength,
                                                     BOOLEAN InternalDeviceIoControl, PKEVENT Event,
                                                     PIO_STATUS_BLOCK IoStatusBlock)
{
    return build_for_driver(InternalDeviceIoControl ? IRP_MJ_INTERNAL_DEVICE_CONTROL
                                                    : IRP_MJ_DEVICE_CONTROL,
                            DeviceObject, IoControlCode, InputBuffer, InputBufferLength,
                            OutputBuffer, OutputBufferLength, true, Event, IoStatusBlock);
}

static PIRP build_fsd(ULONG major, PDEVICE_OBJECT dev, PVOID buf, ULONG len, PLARGE_INTEGER offset,
                      bool io_owned, PKEVENT event, PIO_STATUS_BLOCK iosb)
{
    if (major != IRP_MJ_READ && major != IRP_MJ_WRITE) {
        PIRP irp = io_irp_alloc(dev->StackSize, io_owned);
        if (irp) {
            irp->UserEvent = event;
            irp->UserIosb = iosb;
            IoGetNextIrpStackLocation(irp)->MajorFunction = (UCHAR)major;
        }
        return irp;
    }
    bool read = major == IRP_MJ_READ;
    PIRP irp = build_for_driver((uint8_t)major, dev, 0, read ? NULL : buf, read ? 0 : len,
                                read ? buf : NULL, read ? len : 0, io_owned, event, iosb);
    if (irp && offset)
        IoGetNextIrpStackLocation(irp)->Parameters.Read.ByteOffset = *offset;
    return irp;
}

NTKERNELAPI PIRP NTAPI IoBuildSynchronousFsdRequest(ULONG MajorFunction,
                                                    PDEVICE_OBJECT DeviceObject, PVOID Buffer,
                                                    ULONG Length, PLARGE_INTEGER StartingOffset,
                                                    PKEVENT Event, PIO_STATUS_BLOCK IoStatusBlock)
{
    return build_fsd(MajorFunction, DeviceObject, Buffer, Length, StartingOffset, true, Event,
                     IoStatusBlock);
}

NTKERNELAPI PIRP NTAPI IoBuildAsynchronousFsdRequest(ULONG MajorFunction,
                                                     PDEVICE_OBJECT DeviceObject, PVOID Buffer,
                                                     ULONG Length, PLARGE_INTEGER StartingOffset,
                                                     PIO_STATUS_BLOCK IoStatusBlock)
{
    /* The caller's completion routine frees it (IoFreeIrp, then
     * STATUS_MORE_PROCESSING_REQUIRED). */
    return build_fsd(MajorFunction, DeviceObject, Buffer, Length, StartingOffset, false, NULL,
                     IoStatusBlock);
}
