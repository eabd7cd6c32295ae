/*
 * src/io/pnp.c - Plug and Play: enumerating the machine's devices, AddDevice,
 * IRP_MN_START_DEVICE with CM_RESOURCE_LIST, STOP and REMOVE at shutdown.
 *
 * Models: spec/io.md 5; devices/README.md 4. The simulated PCI/ISA bus
 * driver (\Driver\PCI, inside wdmsim) owns one PDO per machine device; it
 * completes the PnP IRPs that reach the bottom of a stack with success and
 * enables the PCI decode bits before the function driver sees START, as
 * Windows does. Resource lists: one full descriptor (PCIBus or Isa, bus 0),
 * partial descriptors in BAR order, then the interrupt, then DMA; raw and
 * translated differ only for the interrupt (raw Level = Vector = line;
 * translated Level = DIRQL, Vector = system vector, Affinity = all
 * processors).
 * Invariants: a node is started only after AddDevice succeeded; REMOVE is
 * sent only to started or stopped nodes, last started first.
 * Bus Master is set with the decode bits for PCI devices (devices/README.md
 * 2: Windows' PCI driver enables it before START), and io_pnp_hw_of_pdo
 * tells the HAL which device model sits behind a PDO, so that
 * IoGetDmaAdapter(Pdo, ...) binds the adapter the model's bus accesses go
 * through (src/hal/device_dma.c).
 * Not modelled: QUERY_* IRPs, resource arbitration and rebalancing, power,
 * surprise removal.
 */
#include <stdlib.h>
#include <string.h>

#include "io/io_impl.h"
#include "io/irp.h"

static NTSTATUS NTAPI pdo_dispatch(PDEVICE_OBJECT dev, PIRP irp)
{
    (void)dev;
    PIO_STACK_LOCATION loc = IoGetCurrentIrpStackLocation(irp);
    NTSTATUS st = irp->IoStatus.Status;
    if (loc->MajorFunction == IRP_MJ_PNP) {
        switch (loc->MinorFunction) {
        case IRP_MN_START_DEVICE:
        case IRP_MN_STOP_DEVICE:
        case IRP_MN_REMOVE_DEVICE:
        case IRP_MN_QUERY_STOP_DEVICE:
        case IRP_MN_QUERY_REMOVE_DEVICE:
            st = STATUS_SUCCESS;
            break;
        default:
            break;
        }
    } else if (loc->MajorFunction != IRP_MJ_POWER) {
        st = STATUS_INVALID_DEVICE_REQUEST;
    }
    irp->IoStatus.Status = st;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    return st;
}

static DRIVER_OBJECT *bus_driver(struct io *io)
{
    if (io->pci_driver)
        return io->pci_driver;
    DRIVER_OBJECT *d = ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(*d), io_tag_device);
    if (!d)
        return NULL;
    memset(d, 0, sizeof(*d));
    d->Type = IO_TYPE_DRIVER;
    d->Size = sizeof(*d);
    for (int i = 0; i <= IRP_MJ_MAXIMUM_FUNCTION; i++)
        d->MajorFunction[i] = pdo_dispatch;
    io->pci_driver = d;
    return d;
}

/* ---- resource lists ------------------------------------------------------------------ */

static PCM_RESOURCE_LIST build_list(struct io_devnode *n, bool translated)
{
    struct sys *sys = sys_get();
    struct machine_resource res[machine_max_resources];
    unsigned count = machine_device_resources(n->hw, res);
    size_t bytes =
        sizeof(CM_RESOURCE_LIST) + (count ? count - 1 : 0) * sizeof(CM_PARTIAL_RESOURCE_DESCRIPTOR);
    PCM_RESOURCE_LIST l = ExAllocatePoolWithTag(PagedPool, bytes, io_tag_res);
    if (!l)
        return NULL;
    memset(l, 0, bytes);
    l->Count = 1;
    PCM_FULL_RESOURCE_DESCRIPTOR f = &l->List[0];
    f->InterfaceType = machine_device_is_pci(n->hw) ? PCIBus : Isa;
    f->BusNumber = 0;
    f->PartialResourceList.Version = 1;
    f->PartialResourceList.Revision = 1;
    f->PartialResourceList.Count = count;
    for (unsigned i = 0; i < count; i++) {
        PCM_PARTIAL_RESOURCE_DESCRIPTOR d = &f->PartialResourceList.PartialDescriptors[i];
        d->ShareDisposition = CmResourceShareDeviceExclusive;
        switch (res[i].kind) {
        case machine_res_port:
            d->Type = CmResourceTypePort;
            d->Flags = CM_RESOURCE_PORT_IO | CM_RESOURCE_PORT_16_BIT_DECODE;
            d->u.Port.Start.QuadPart = (LONGLONG)res[i].start;
            d->u.Port.Length = (ULONG)res[i].length;
            break;
        case machine_res_memory:
            d->Type = CmResourceTypeMemory;
            d->Flags = CM_RESOURCE_MEMORY_READ_WRITE;
            d->u.Memory.Start.QuadPart = (LONGLONG)res[i].start;
            d->u.Memory.Length = (ULONG)res[i].length;
            break;
        case machine_res_irq: {
            unsigned line = (unsigned)res[i].start;
            d->Type = CmResourceTypeInterrupt;
            d->ShareDisposition =
                res[i].edge ? CmResourceShareDeviceExclusive : CmResourceShareShared;
            d->Flags =
                res[i].edge ? CM_RESOURCE_INTERRUPT_LATCHED : CM_RESOURCE_INTERRUPT_LEVEL_SENSITIVE;
            if (translated) {
                unsigned vector = ke_line_vector(line);
                d->u.Interrupt.Level = (USHORT)(vector >> 4);
                d->u.Interrupt.Vector = vector;
            } else {
                d->u.Interrupt.Level = (USHORT)line;
                d->u.Interrupt.Vector = line;
            }
            d->u.Interrupt.Affinity = sys->ke.nprocessors >= 64
                                          ? ~(KAFFINITY)0
                                          : (((KAFFINITY)1 << sys->ke.nprocessors) - 1);
            break;
        }
        case machine_res_dma:
            d->Type = CmResourceTypeDma;
            d->Flags = res[i].start >= 4 ? CM_RESOURCE_DMA_16 : CM_RESOURCE_DMA_8;
            d->u.Dma.Channel = (ULONG)res[i].start;
            d->u.Dma.Port = 0;
            break;
        }
    }
    return l;
}

/* ---- sending a PnP IRP and waiting ------------------------------------------------------- */

static NTSTATUS send_pnp(PDEVICE_OBJECT pdo, UCHAR minor, struct io_devnode *n)
{
    PDEVICE_OBJECT top = io_device_top(pdo);
    PIRP irp = io_irp_alloc(top->StackSize, true);
    if (!irp)
        return STATUS_INSUFFICIENT_RESOURCES;
    KEVENT *ev = ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(KEVENT), io_tag_irp);
    if (!ev) {
        IoFreeIrp(irp);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    KeInitializeEvent(ev, NotificationEvent, FALSE);
    IO_STATUS_BLOCK iosb = {0};
    irp->UserEvent = ev;
    irp->UserIosb = &iosb;
    irp->IoStatus.Status = STATUS_NOT_SUPPORTED;
    PIO_STACK_LOCATION loc = IoGetNextIrpStackLocation(irp);
    loc->MajorFunction = IRP_MJ_PNP;
    loc->MinorFunction = minor;
    if (minor == IRP_MN_START_DEVICE) {
        loc->Parameters.StartDevice.AllocatedResources = n->raw;
        loc->Parameters.StartDevice.AllocatedResourcesTranslated = n->translated;
    }
    NTSTATUS st = IoCallDriver(top, irp);
    if (st == STATUS_PENDING) {
        KeWaitForSingleObject(ev, Executive, KernelMode, FALSE, NULL);
        st = iosb.Status;
    }
    ExFreePoolWithTag(ev, io_tag_irp);
    return st;
}

/* ---- start --------------------------------------------------------------------------------- */

static const char *bound_service(struct io *io, struct io_devnode *n)
{
    const struct machine_device_config *c = machine_device_config_of(n->hw);
    for (const char *const *b = io->binds; b && *b; b++) {
        const char *eq = strchr(*b, '=');
        if (eq && (size_t)(eq - *b) == strlen(c->model) && !strncmp(*b, c->model, eq - *b))
            return eq + 1;
    }
    return c->driver;
}

static void start_node(void *arg)
{
    struct io_devnode *n = arg;
    struct sys *sys = sys_get();
    DRIVER_OBJECT *bus = bus_driver(&sys->io);
    if (!bus || IoCreateDevice(bus, 0, NULL, 0x1B /* FILE_DEVICE_BUS_EXTENDER */, 0, FALSE,
                               &n->pdo) != STATUS_SUCCESS)
        return;
    n->pdo->Flags &= ~(ULONG)DO_DEVICE_INITIALIZING;
    n->pdo->Flags |= DO_BUS_ENUMERATED_DEVICE;
    io_devext(n->pdo)->devnode = n;
    DRIVER_OBJECT *drv = n->driver->object;
    if (!drv->DriverExtension->AddDevice ||
        !NT_SUCCESS(drv->DriverExtension->AddDevice(drv, n->pdo)))
        return;
    n->state = io_node_added;
    if (machine_device_is_pci(n->hw)) {
        uint32_t cmd =
            pci_config_read(n->hw, 0x04, 2) | pci_cmd_io | pci_cmd_memory | pci_cmd_bus_master;
        pci_config_write(n->hw, 0x04, 2, cmd);
    }
    n->raw = build_list(n, false);
    n->translated = build_list(n, true);
    NTSTATUS st = send_pnp(n->pdo, IRP_MN_START_DEVICE, n);
    if (NT_SUCCESS(st)) {
        n->state = io_node_started;
        n->ever_started = true;
    } else
        fprintf(stderr, "wdmsim: %s: IRP_MN_START_DEVICE failed with %#x\n",
                machine_device_config_of(n->hw)->name, (unsigned)st);
}

int io_pnp_start_all(struct io *io)
{
    struct sys *sys = sys_get();
    struct machine *m = &sys->machine;
    unsigned count = machine_device_count(m);
    if (!io->devnodes && count) {
        io->devnodes = calloc(count, sizeof(*io->devnodes));
        if (!io->devnodes)
            return 0;
        io->ndevnodes = count;
    }
    for (unsigned i = 0; i < io->ndevnodes; i++) {
        struct io_devnode *n = &io->devnodes[i];
        if (n->state != io_node_none)
            continue;
        n->hw = machine_device_at(m, i);
        n->index = i;
        const char *svc = bound_service(io, n);
        if (!svc || !*svc)
            continue;
        for (struct io_driver *d = io->drivers; d; d = d->next)
            if (!strcmp(d->service, svc) && d->state == io_driver_started)
                n->driver = d;
        if (!n->driver)
            continue;
        if (ke_call(&sys->ke, start_node, n))
            return -1;
    }
    return 0;
}

/* ---- stop and remove ------------------------------------------------------------------------- */

static void remove_node(void *arg)
{
    struct io_devnode *n = arg;
    struct sys *sys = sys_get();
    if (n->state == io_node_started)
        send_pnp(n->pdo, IRP_MN_STOP_DEVICE, n);
    n->state = io_node_stopped;
    send_pnp(n->pdo, IRP_MN_REMOVE_DEVICE, n);
    n->state = io_node_removed;
    struct machine_resource res[machine_max_resources];
    unsigned count = machine_device_resources(n->hw, res);
    for (unsigned i = 0; i < count; i++)
        if (res[i].kind == machine_res_memory)
            mm_iomap_check_removed(&sys->mm, res[i].start, res[i].length,
                                   machine_device_config_of(n->hw)->name);
    if (n->raw)
        ExFreePoolWithTag(n->raw, io_tag_res);
    if (n->translated)
        ExFreePoolWithTag(n->translated, io_tag_res);
    n->raw = n->translated = NULL;
    IoDeleteDevice(n->pdo);
    n->pdo = NULL;
}

int io_pnp_remove_all(struct io *io)
{
    struct sys *sys = sys_get();
    for (unsigned i = io->ndevnodes; i-- > 0;) {
        struct io_devnode *n = &io->devnodes[i];
        if (n->state != io_node_started && n->state != io_node_stopped && n->state != io_node_added)
            continue;
        if (ke_call(&sys->ke, remove_node, n))
            return -1;
    }
    return 0;
}

const char *io_pnp_service(struct io *io, unsigned index, bool *started)
{
    *started = false;
    if (index >= io->ndevnodes || !io->devnodes[index].driver)
        return NULL;
    *started = io->devnodes[index].ever_started;
    return io->devnodes[index].driver->service;
}

struct wdmsim_dev *io_pnp_hw_of_pdo(PDEVICE_OBJECT pdo)
{
    /* Drivers pass their PDO; a device attached above it is accepted too. */
    struct io *io = &sys_get()->io;
    if (!pdo)
        return NULL;
    for (unsigned i = 0; i < io->ndevnodes; i++) {
        struct io_devnode *n = &io->devnodes[i];
        if (!n->pdo)
            continue;
        for (PDEVICE_OBJECT d = n->pdo; d; d = d->AttachedDevice)
            if (d == pdo)
                return n->hw;
    }
    return NULL;
}

PDEVICE_OBJECT io_pnp_device(struct io *io, unsigned index)
{
    if (index >= io->ndevnodes || io->devnodes[index].state != io_node_started)
        return NULL;
    return io_device_top(io->devnodes[index].pdo);
}
