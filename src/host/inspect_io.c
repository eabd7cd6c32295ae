/*
 * src/host/inspect_io.c - I/O objects: !irp, !devobj, !drvobj, !devstack.
 *
 * Models: WinDbg's views of IRPs (header, then each stack location with
 * '>' on the current one), device objects (driver, flags, extension,
 * current IRP, attached device), driver objects (their devices and
 * dispatch table) and device stacks (top to bottom, '>' on the one asked).
 * Objects are read from simulated memory (insp_read); the device name and
 * the lower device come from the I/O manager's DEVOBJ_EXTENSION
 * (io/io_impl.h), which Windows keeps in the object header instead.
 * Invariants: every object is copied before it is printed; a pointer
 * that does not read back is printed as "(not readable)".
 */
#include <string.h>

#include "host/inspect.h"
#include "io/io_impl.h"

static const char *const major_names[IRP_MJ_MAXIMUM_FUNCTION + 1] = {
    "IRP_MJ_CREATE",
    "IRP_MJ_CREATE_NAMED_PIPE",
    "IRP_MJ_CLOSE",
    "IRP_MJ_READ",
    "IRP_MJ_WRITE",
    "IRP_MJ_QUERY_INFORMATION",
    "IRP_MJ_SET_INFORMATION",
    "IRP_MJ_QUERY_EA",
    "IRP_MJ_SET_EA",
    "IRP_MJ_FLUSH_BUFFERS",
    "IRP_MJ_QUERY_VOLUME_INFORMATION",
    "IRP_MJ_SET_VOLUME_INFORMATION",
    "IRP_MJ_DIRECTORY_CONTROL",
    "IRP_MJ_FILE_SYSTEM_CONTROL",
    "IRP_MJ_DEVICE_CONTROL",
    "IRP_MJ_INTERNAL_DEVICE_CONTROL",
    "IRP_MJ_SHUTDOWN",
    "IRP_MJ_LOCK_CONTROL",
    "IRP_MJ_CLEANUP",
    "IRP_MJ_CREATE_MAILSLOT",
    "IRP_MJ_QUERY_SECURITY",
    "IRP_MJ_SET_SECURITY",
    "IRP_MJ_POWER",
    "IRP_MJ_SYSTEM_CONTROL",
    "IRP_MJ_DEVICE_CHANGE",
    "IRP_MJ_QUERY_QUOTA",
    "IRP_MJ_SET_QUOTA",
    "IRP_MJ_PNP",
};

const char *insp_major_name(unsigned major);
const char *insp_major_name(unsigned major)
{
    return major <= IRP_MJ_MAXIMUM_FUNCTION ? major_names[major] : "IRP_MJ_?";
}

/* ---- finding device objects ----------------------------------------------------- */

/* The device objects wdmsim knows: every driver's list (PnP PDOs under the
 * bus driver included). fn returns true to stop. */
static PDEVICE_OBJECT each_device(struct sys *sys, bool (*fn)(PDEVICE_OBJECT d, void *ctx),
                                  void *ctx)
{
    PDRIVER_OBJECT drivers[66];
    unsigned n = 0;
    for (struct io_driver *d = sys->io.drivers; d && n < 64; d = d->next)
        if (d->object && (d->state == io_driver_started || d->state == io_driver_loaded))
            drivers[n++] = d->object;
    if (sys->io.pci_driver)
        drivers[n++] = sys->io.pci_driver;
    for (unsigned i = 0; i < n; i++)
        for (PDEVICE_OBJECT d = drivers[i]->DeviceObject; d; d = d->NextDevice)
            if (fn(d, ctx))
                return d;
    return NULL;
}

static bool is_addr(PDEVICE_OBJECT d, void *ctx)
{
    return (uintptr_t)d == *(uint64_t *)ctx;
}

/* A live device object by address or by name (\Device\X, \\.\X). */
static PDEVICE_OBJECT device_arg(struct insp *c, int i)
{
    if (i >= c->argc) {
        insp_error(c, "missing device object (address or \\Device\\NAME)");
        return NULL;
    }
    if (c->argv[i][0] == '\\') {
        PDEVICE_OBJECT d = io_device_by_name(&c->sys->io, c->argv[i]);
        if (!d)
            insp_error(c, "no device named %s", c->argv[i]);
        return d;
    }
    uint64_t va;
    if (insp_number(c, c->argv[i], &va))
        return NULL;
    PDEVICE_OBJECT d = each_device(c->sys, is_addr, &va);
    if (!d)
        insp_error(c, "%s is not a live device object", INSP_ADDR(va));
    return d;
}

static void driver_name(PDEVICE_OBJECT d, char *buf, size_t len)
{
    struct sys *sys = sys_get();
    insp_ustr(sys, (uintptr_t)&d->DriverObject->DriverName, buf, len);
}

static void print_flags(FILE *out, ULONG f)
{
    static const struct {
        ULONG bit;
        const char *name;
    } names[] = {
        {DO_BUFFERED_IO, "DO_BUFFERED_IO"},
        {DO_DIRECT_IO, "DO_DIRECT_IO"},
        {DO_EXCLUSIVE, "DO_EXCLUSIVE"},
        {DO_DEVICE_INITIALIZING, "DO_DEVICE_INITIALIZING"},
        {DO_POWER_PAGABLE, "DO_POWER_PAGABLE"},
        {DO_BUS_ENUMERATED_DEVICE, "DO_BUS_ENUMERATED_DEVICE"},
    };
    fprintf(out, "Flags: %08x", (unsigned)f);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (f & names[i].bit)
            fprintf(out, "  %s", names[i].name);
    fputc('\n', out);
}

/* ---- commands ---------------------------------------------------------------------- */

int insp_devobj(struct insp *c)
{
    PDEVICE_OBJECT d = device_arg(c, 1);
    if (!d)
        return -1;
    char drv[96];
    driver_name(d, drv, sizeof(drv));
    struct _DEVOBJ_EXTENSION *x = io_devext(d);
    fprintf(c->out, "Device object (%s) is for:\n %s %s DriverObject %s\n", INSP_ADDR((uintptr_t)d),
            x->name[0] ? x->name : "(unnamed)", drv, INSP_ADDR((uintptr_t)d->DriverObject));
    fprintf(c->out, "Current Irp %s RefCount %d Type %08x StackSize %d\n",
            INSP_ADDR((uintptr_t)d->CurrentIrp), (int)d->ReferenceCount, (unsigned)d->DeviceType,
            d->StackSize);
    print_flags(c->out, d->Flags);
    fprintf(c->out, "DevExt %s DevObjExt %s\n", INSP_ADDR((uintptr_t)d->DeviceExtension),
            INSP_ADDR((uintptr_t)x));
    if (d->AttachedDevice)
        fprintf(c->out, "AttachedDevice (Upper) %s\n", INSP_ADDR((uintptr_t)d->AttachedDevice));
    if (x->AttachedTo)
        fprintf(c->out, "AttachedTo (Lower) %s\n", INSP_ADDR((uintptr_t)x->AttachedTo));
    if (x->deleted)
        fprintf(c->out, "Deleted (IoDeleteDevice called)\n");
    return 0;
}

int insp_devstack(struct insp *c)
{
    PDEVICE_OBJECT d = device_arg(c, 1);
    if (!d)
        return -1;
    PDEVICE_OBJECT top = io_device_top(d);
    fprintf(c->out, "  %-17s %-17s %-17s %s\n", "!DevObj", "!DrvObj", "!DevExt", "ObjectName");
    unsigned n = 0;
    for (PDEVICE_OBJECT s = top; s && n < 32; s = io_devext(s)->AttachedTo, n++) {
        char drv[96];
        driver_name(s, drv, sizeof(drv));
        fprintf(c->out, "%c %s %s %s %s  %s\n", s == d ? '>' : ' ', INSP_ADDR((uintptr_t)s),
                INSP_ADDR((uintptr_t)s->DriverObject), INSP_ADDR((uintptr_t)s->DeviceExtension),
                io_devext(s)->name[0] ? io_devext(s)->name : "(unnamed)", drv);
    }
    return 0;
}

static void drvobj_print(struct insp *c, struct io_driver *drv)
{
    PDRIVER_OBJECT o = drv->object;
    char name[96], sym[256];
    insp_ustr(c->sys, (uintptr_t)&o->DriverName, name, sizeof(name));
    fprintf(c->out, "Driver object (%s) is for:\n %s  (%s, image %s-%s)\n", INSP_ADDR((uintptr_t)o),
            name, drv->path, INSP_ADDR(drv->image_base), INSP_ADDR(drv->image_end));
    fprintf(c->out, "Device Object list:\n");
    unsigned n = 0;
    for (PDEVICE_OBJECT d = o->DeviceObject; d && n < 256; d = d->NextDevice, n++)
        fprintf(c->out, " %s  %s\n", INSP_ADDR((uintptr_t)d),
                io_devext(d)->name[0] ? io_devext(d)->name : "(unnamed)");
    if (!n)
        fprintf(c->out, " (none)\n");
    insp_symbol((uintptr_t)o->DriverUnload, sym, sizeof(sym));
    fprintf(c->out, "DriverUnload %s\n", o->DriverUnload ? sym : "(none)");
    if (o->DriverStartIo) {
        insp_symbol((uintptr_t)o->DriverStartIo, sym, sizeof(sym));
        fprintf(c->out, "DriverStartIo %s\n", sym);
    }
    fprintf(c->out, "Dispatch routines (others: invalid device request):\n");
    for (unsigned i = 0; i <= IRP_MJ_MAXIMUM_FUNCTION; i++) {
        uintptr_t fn = (uintptr_t)o->MajorFunction[i];
        if (!io_driver_by_address(&c->sys->io, fn))
            continue;
        insp_symbol(fn, sym, sizeof(sym));
        fprintf(c->out, "[%02x] %-32s %s\n", i, major_names[i], sym);
    }
}

int insp_drvobj(struct insp *c)
{
    uint64_t va = 0;
    bool by_addr = c->argc > 1 && c->argv[1][0] >= '0' && c->argv[1][0] <= '9';
    if (by_addr && insp_number(c, c->argv[1], &va))
        return -1;
    unsigned shown = 0;
    for (struct io_driver *d = c->sys->io.drivers; d; d = d->next) {
        if (!d->object || d->state == io_driver_failed || d->state == io_driver_unloaded)
            continue;
        if (c->argc > 1 && (by_addr ? (uintptr_t)d->object != va : strcmp(d->service, c->argv[1])))
            continue;
        drvobj_print(c, d);
        shown++;
    }
    if (c->argc > 1 && !shown)
        return insp_error(c, "no loaded driver %s", c->argv[1]);
    if (!shown)
        fprintf(c->out, "no driver loaded\n");
    return 0;
}

int insp_irp(struct insp *c)
{
    uint64_t va;
    if (insp_arg(c, 1, &va))
        return -1;
    IRP irp;
    if (insp_read_all(c, va, &irp, sizeof(irp)))
        return -1;
    if (irp.Type != 6 || irp.StackCount < 1 || irp.StackCount > 64)
        return insp_error(c, "%s is not an IRP (Type %d, StackCount %d)", INSP_ADDR(va), irp.Type,
                          irp.StackCount);
    bool done = irp.CurrentLocation > irp.StackCount;
    fprintf(c->out, "Irp is active with %d stacks %d is current (= %s)\n", irp.StackCount,
            irp.CurrentLocation, INSP_ADDR((uintptr_t)irp.Tail.Overlay.CurrentStackLocation));
    fprintf(c->out, " Mdl=%s SystemBuffer=%s UserBuffer=%s\n", INSP_ADDR((uintptr_t)irp.MdlAddress),
            INSP_ADDR((uintptr_t)irp.AssociatedIrp.SystemBuffer),
            INSP_ADDR((uintptr_t)irp.UserBuffer));
    if (done)
        fprintf(c->out, " No stack location is current (not sent yet, or completed)\n");
    fprintf(c->out, " Flags = %08x  Status %08x  Information %llx  RequestorMode %s%s%s\n",
            (unsigned)irp.Flags, (unsigned)irp.IoStatus.Status,
            (unsigned long long)irp.IoStatus.Information, irp.RequestorMode ? "User" : "Kernel",
            irp.PendingReturned ? "  PendingReturned" : "", irp.Cancel ? "  Cancel" : "");
    fprintf(c->out, "     cmd  flg cl Device            Completion-Context\n");
    for (int i = 1; i <= irp.StackCount; i++) {
        IO_STACK_LOCATION s;
        uint64_t at = va + sizeof(IRP) + (uint64_t)(i - 1) * sizeof(IO_STACK_LOCATION);
        if (insp_read(c->sys, at, &s, sizeof(s)) != sizeof(s)) {
            fprintf(c->out, " (stack location %d not readable)\n", i);
            break;
        }
        char sym[256];
        insp_symbol((uintptr_t)s.CompletionRoutine, sym, sizeof(sym));
        fprintf(c->out, "%c[%s(%x), %x]\n", i == irp.CurrentLocation ? '>' : ' ',
                insp_major_name(s.MajorFunction), s.MajorFunction, s.MinorFunction);
        fprintf(c->out, "          %2x %2x %s %s %s\n", s.Flags, s.Control,
                INSP_ADDR((uintptr_t)s.DeviceObject), s.CompletionRoutine ? sym : "-",
                INSP_ADDR((uintptr_t)s.Context));
        fprintf(c->out, "          Args: %s %s %s %s\n",
                INSP_ADDR((uintptr_t)s.Parameters.Others.Argument1),
                INSP_ADDR((uintptr_t)s.Parameters.Others.Argument2),
                INSP_ADDR((uintptr_t)s.Parameters.Others.Argument3),
                INSP_ADDR((uintptr_t)s.Parameters.Others.Argument4));
    }
    return 0;
}
