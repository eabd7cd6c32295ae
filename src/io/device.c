/*
 * src/io/device.c - device objects, device stacks and symbolic links.
 *
 * Models: IoCreateDevice / IoDeleteDevice (extension zeroed, Flags with
 * DO_DEVICE_INITIALIZING, StackSize 1), IoAttachDeviceToDeviceStack (on top
 * of the current top, StackSize = below + 1, AlignmentRequirement and
 * SectorSize inherited) / IoDetachDevice, IoCreateSymbolicLink so that
 * \\.\Name reaches \Device\X. Spec: spec/io.md 1, 5.
 * Invariants: AttachedDevice of a device is the one directly above it; its
 * DEVOBJ_EXTENSION's AttachedTo the one directly below.
 * Not modelled: security descriptors, exclusive opens, device characteristics.
 */
#include <stdlib.h>
#include <string.h>

#include "io/io_impl.h"

void io_ascii(const UNICODE_STRING *us, char *out, size_t len)
{
    size_t n = 0;
    if (us && us->Buffer)
        for (size_t i = 0; i < us->Length / 2 && n + 1 < len; i++)
            out[n++] = us->Buffer[i] < 0x80 ? (char)us->Buffer[i] : '?';
    out[n] = 0;
}

static int name_eq(const char *a, const char *b)
{
    return !strcasecmp(a, b);
}

NTKERNELAPI NTSTATUS NTAPI IoCreateDevice(PDRIVER_OBJECT DriverObject, ULONG DeviceExtensionSize,
                                          PUNICODE_STRING DeviceName, DEVICE_TYPE DeviceType,
                                          ULONG DeviceCharacteristics, BOOLEAN Exclusive,
                                          PDEVICE_OBJECT *DeviceObject)
{
    struct sys *sys = sys_get();
    ke_sched_point(&sys->ke);
    char name[96] = "";
    io_ascii(DeviceName, name, sizeof(name));
    if (name[0])
        for (PDEVICE_OBJECT d = sys->io.named; d; d = io_devext(d)->next_named)
            if (name_eq(io_devext(d)->name, name))
                return STATUS_OBJECT_NAME_COLLISION;
    size_t ext = (DeviceExtensionSize + 15) & ~(size_t)15;
    size_t bytes = sizeof(DEVICE_OBJECT) + ext + sizeof(struct _DEVOBJ_EXTENSION);
    uint8_t *mem = ExAllocatePoolWithTag(NonPagedPoolNx, bytes, io_tag_device);
    if (!mem)
        return STATUS_INSUFFICIENT_RESOURCES;
    memset(mem, 0, bytes);
    PDEVICE_OBJECT d = (PDEVICE_OBJECT)mem;
    struct _DEVOBJ_EXTENSION *x = (void *)(mem + sizeof(DEVICE_OBJECT) + ext);
    d->Type = IO_TYPE_DEVICE;
    d->Size = (USHORT)(sizeof(DEVICE_OBJECT) + DeviceExtensionSize);
    d->ReferenceCount = 0;
    d->DriverObject = DriverObject;
    d->Flags = DO_DEVICE_INITIALIZING | (Exclusive ? DO_EXCLUSIVE : 0);
    d->Characteristics = DeviceCharacteristics;
    d->DeviceExtension = DeviceExtensionSize ? mem + sizeof(DEVICE_OBJECT) : NULL;
    d->DeviceType = DeviceType;
    d->StackSize = 1;
    d->SectorSize = 512;
    d->DeviceObjectExtension = x;
    x->Type = 13; /* IO_TYPE_DEVICE_OBJECT_EXTENSION */
    x->Size = sizeof(*x);
    x->DeviceObject = d;
    InitializeListHead(&x->start_queue);
    snprintf(x->name, sizeof(x->name), "%s", name);
    if (name[0]) {
        x->next_named = sys->io.named;
        sys->io.named = d;
    }
    if (DriverObject) {
        d->NextDevice = DriverObject->DeviceObject;
        DriverObject->DeviceObject = d;
    }
    *DeviceObject = d;
    return STATUS_SUCCESS;
}

NTKERNELAPI VOID NTAPI IoDeleteDevice(PDEVICE_OBJECT DeviceObject)
{
    struct sys *sys = sys_get();
    ke_sched_point(&sys->ke);
    struct _DEVOBJ_EXTENSION *x = io_devext(DeviceObject);
    for (PDEVICE_OBJECT *pp = &sys->io.named; *pp; pp = &io_devext(*pp)->next_named)
        if (*pp == DeviceObject) {
            *pp = x->next_named;
            break;
        }
    if (DeviceObject->DriverObject)
        for (PDEVICE_OBJECT *pp = &DeviceObject->DriverObject->DeviceObject; *pp;
             pp = &(*pp)->NextDevice)
            if (*pp == DeviceObject) {
                *pp = DeviceObject->NextDevice;
                break;
            }
    /* A device still attached to another is detached, as Windows does when
     * the last reference goes; REMOVE checks for it first (io.remove-not-detached). */
    if (x->AttachedTo && x->AttachedTo->AttachedDevice == DeviceObject)
        x->AttachedTo->AttachedDevice = NULL;
    x->deleted = TRUE;
    ExFreePoolWithTag(DeviceObject, io_tag_device);
}

static const char *strip_link_prefix(const char *s)
{
    static const char *const prefixes[] = {"\\DosDevices\\", "\\??\\", "\\GLOBAL??\\", "\\\\.\\"};
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (!strncasecmp(s, prefixes[i], strlen(prefixes[i])))
            return s + strlen(prefixes[i]);
    return NULL;
}

NTKERNELAPI NTSTATUS NTAPI IoCreateSymbolicLink(PUNICODE_STRING SymbolicLinkName,
                                                PUNICODE_STRING DeviceName)
{
    struct sys *sys = sys_get();
    ke_sched_point(&sys->ke);
    char link[96], target[96];
    io_ascii(SymbolicLinkName, link, sizeof(link));
    io_ascii(DeviceName, target, sizeof(target));
    const char *name = strip_link_prefix(link);
    if (!name || !*name)
        return STATUS_OBJECT_NAME_INVALID;
    for (struct io_symlink *l = sys->io.links; l; l = l->next)
        if (name_eq(l->link, name))
            return STATUS_OBJECT_NAME_COLLISION;
    struct io_symlink *l = calloc(1, sizeof(*l));
    if (!l)
        return STATUS_INSUFFICIENT_RESOURCES;
    snprintf(l->link, sizeof(l->link), "%s", name);
    snprintf(l->target, sizeof(l->target), "%s", target);
    l->next = sys->io.links;
    sys->io.links = l;
    return STATUS_SUCCESS;
}

NTKERNELAPI NTSTATUS NTAPI IoDeleteSymbolicLink(PUNICODE_STRING SymbolicLinkName)
{
    struct sys *sys = sys_get();
    char link[96];
    io_ascii(SymbolicLinkName, link, sizeof(link));
    const char *name = strip_link_prefix(link);
    for (struct io_symlink **pp = &sys->io.links; name && *pp; pp = &(*pp)->next) {
        if (name_eq((*pp)->link, name)) {
            struct io_symlink *l = *pp;
            *pp = l->next;
            free(l);
            return STATUS_SUCCESS;
        }
    }
    return STATUS_OBJECT_NAME_NOT_FOUND;
}

PDEVICE_OBJECT io_device_top(PDEVICE_OBJECT d)
{
    while (d && d->AttachedDevice)
        d = d->AttachedDevice;
    return d;
}

NTKERNELAPI PDEVICE_OBJECT NTAPI IoAttachDeviceToDeviceStack(PDEVICE_OBJECT SourceDevice,
                                                             PDEVICE_OBJECT TargetDevice)
{
    struct sys *sys = sys_get();
    ke_sched_point(&sys->ke);
    PDEVICE_OBJECT top = io_device_top(TargetDevice);
    if (!top || io_devext(top)->deleted)
        return NULL;
    top->AttachedDevice = SourceDevice;
    io_devext(SourceDevice)->AttachedTo = top;
    io_devext(SourceDevice)->devnode = io_devext(top)->devnode;
    SourceDevice->StackSize = (CCHAR)(top->StackSize + 1);
    SourceDevice->AlignmentRequirement = top->AlignmentRequirement;
    SourceDevice->SectorSize = top->SectorSize;
    return top;
}

NTKERNELAPI VOID NTAPI IoDetachDevice(PDEVICE_OBJECT TargetDevice)
{
    struct sys *sys = sys_get();
    ke_sched_point(&sys->ke);
    PDEVICE_OBJECT above = TargetDevice->AttachedDevice;
    if (above)
        io_devext(above)->AttachedTo = NULL;
    TargetDevice->AttachedDevice = NULL;
}

PDEVICE_OBJECT io_device_by_name(struct io *io, const char *name)
{
    const char *link = strip_link_prefix(name);
    char target[96];
    snprintf(target, sizeof(target), "%s", name);
    if (link) {
        const struct io_symlink *l = io->links;
        while (l && !name_eq(l->link, link))
            l = l->next;
        if (!l)
            return NULL;
        snprintf(target, sizeof(target), "%s", l->target);
    }
    for (PDEVICE_OBJECT d = io->named; d; d = io_devext(d)->next_named)
        if (name_eq(io_devext(d)->name, target))
            return d;
    return NULL;
}

/* IoGetCurrentProcess: src/ke/process.c, with the processes. */
