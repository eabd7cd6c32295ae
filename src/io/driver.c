/*
 * src/io/driver.c - loading a driver image and running its entry points.
 *
 * Models: the I/O manager's driver load (spec/io.md; issue "Foundation" 6):
 * map the image, build a DRIVER_OBJECT in nonpaged memory, call
 * DriverEntry(DriverObject, RegistryPath) at PASSIVE_LEVEL with the
 * service key path \Registry\Machine\System\CurrentControlSet\Services\NAME;
 * at the end call DriverUnload and unmap the image. A DriverEntry that fails
 * is unloaded without DriverUnload, as Windows does.
 * Invariants: an image is mapped iff state is loaded or started.
 * Not modelled: the image lives in host memory (dlopen), not simulated RAM.
 */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <wdm.h>

#include "sys.h"

static const char services_prefix[] = "\\Registry\\Machine\\System\\CurrentControlSet\\Services\\";

/* Every MajorFunction slot a driver leaves alone points here. */
static NTSTATUS NTAPI io_invalid_request(PDEVICE_OBJECT device, PIRP irp)
{
    (void)device;
    (void)irp;
    return STATUS_INVALID_DEVICE_REQUEST;
}

struct image_range {
    const char *path;
    uintptr_t lo, hi;
    uintptr_t bias; /* dlpi_addr: ELF addresses + bias = mapped addresses */
};

static int find_image(struct dl_phdr_info *info, size_t size, void *data)
{
    struct image_range *r = data;
    (void)size;
    if (!info->dlpi_name || strcmp(info->dlpi_name, r->path))
        return 0;
    r->bias = info->dlpi_addr;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (!r->lo || lo < r->lo)
            r->lo = lo;
        if (hi > r->hi)
            r->hi = hi;
    }
    return 1;
}

static void service_name(const char *path, char *out, size_t len)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(out, len, "%s", base);
    size_t n = strlen(out);
    if (n > 3 && !strcmp(out + n - 3, ".so"))
        out[n - 3] = 0;
}

int io_driver_load(struct io *io, const char *path, struct io_driver **out,
                   struct machine_error *err)
{
    struct sys *sys = sys_get();
    struct stat st;
    if (stat(path, &st) != 0) {
        machine_error_set(err, "%s: cannot open driver: %s", path, strerror(errno));
        return -1;
    }
    char service[64];
    service_name(path, service, sizeof(service));
    for (struct io_driver *d = io->drivers; d; d = d->next) {
        if (!strcmp(d->service, service)) {
            machine_error_set(err, "%s: a driver named '%s' is already loaded", path, service);
            return -1;
        }
    }
    /* dlopen needs a path with a slash to not search the library path. */
    char full[512];
    if (!realpath(path, full)) {
        machine_error_set(err, "%s: %s", path, strerror(errno));
        return -1;
    }
    void *h = dlopen(full, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        const char *undef = why ? strstr(why, "undefined symbol: ") : NULL;
        if (undef)
            machine_error_set(err, "%s: the driver imports %s, which wdmsim does not provide", path,
                              undef + strlen("undefined symbol: "));
        else
            machine_error_set(err, "%s: not a loadable driver image: %s", path,
                              why ? why : "unknown error");
        return -1;
    }
    const struct _WDMSIM_DRIVER_ABI {
        ULONG Magic, Version, PageShift, WcharSize;
    } *abi = dlsym(h, "wdmsim_driver_abi");
    if (!abi || abi->Magic != 0x534d4457) {
        machine_error_set(err,
                          "%s: not built with wdmsim's headers (build with "
                          "$(pkg-config --cflags wdmsim) so <wdm.h> marks the image)",
                          path);
        dlclose(h);
        return -1;
    }
    if (abi->PageShift != sys->machine.page_shift) {
        machine_error_set(err,
                          "%s: built for %u-byte pages but this machine has %llu-byte pages "
                          "(rebuild with -DWDMSIM_PAGE_SHIFT=%u, or set page_size in the "
                          "machine config)",
                          path, 1u << abi->PageShift, (unsigned long long)sys->machine.page_size,
                          sys->machine.page_shift);
        dlclose(h);
        return -1;
    }
    if (abi->WcharSize != 2) {
        machine_error_set(err, "%s: built without -fshort-wchar (WCHAR must be 16-bit)", path);
        dlclose(h);
        return -1;
    }
    if (!dlsym(h, "DriverEntry")) {
        machine_error_set(err, "%s: the image has no DriverEntry", path);
        dlclose(h);
        return -1;
    }
    struct io_driver *drv = calloc(1, sizeof(*drv));
    if (!drv) {
        dlclose(h);
        machine_error_set(err, "%s: out of host memory", path);
        return -1;
    }
    snprintf(drv->service, sizeof(drv->service), "%s", service);
    snprintf(drv->path, sizeof(drv->path), "%s", full);
    drv->handle = h;
    struct image_range r = {.path = full};
    dl_iterate_phdr(find_image, &r);
    drv->image_base = r.lo;
    drv->image_end = r.hi;
    drv->mm_image = mm_image_register(&sys->mm, full, r.bias, r.lo, r.hi);
    drv->state = io_driver_loaded;
    /* keep load order: the first loaded is unloaded last */
    drv->next = io->drivers;
    io->drivers = drv;
    io->ndrivers++;
    *out = drv;
    return 0;
}

/* Writes an ASCII string as a counted 16-bit string into buf. */
static void widen(UNICODE_STRING *us, WCHAR *buf, const char *a, const char *b)
{
    USHORT n = 0;
    for (const char *p = a; *p; p++)
        buf[n++] = (WCHAR)(unsigned char)*p;
    for (const char *p = b; p && *p; p++)
        buf[n++] = (WCHAR)(unsigned char)*p;
    buf[n] = 0;
    us->Buffer = buf;
    us->Length = (USHORT)(n * sizeof(WCHAR));
    us->MaximumLength = (USHORT)((n + 1) * sizeof(WCHAR));
}

/* The objects a driver is handed, laid out in one nonpaged page. */
struct driver_block {
    DRIVER_OBJECT object;
    DRIVER_EXTENSION extension;
    UNICODE_STRING registry_path;
    UNICODE_STRING hardware_database;
    WCHAR name_buf[96];
    WCHAR path_buf[160];
    WCHAR hwdb_buf[64];
};

struct entry_call {
    struct io_driver *drv;
    NTSTATUS status;
};

static void call_entry(void *arg)
{
    struct entry_call *c = arg;
    DRIVER_OBJECT *obj = c->drv->object;
    c->status = obj->DriverInit(obj, c->drv->registry_path);
}

static void call_unload(void *arg)
{
    DRIVER_OBJECT *obj = arg;
    obj->DriverUnload(obj);
    uintptr_t lo = (uintptr_t)obj->DriverStart;
    ex_lookaside_check_unload(sys_get(), lo, lo + obj->DriverSize);
    hal_check_unload(&sys_get()->hal, lo, lo + obj->DriverSize);
}

int io_driver_start(struct io_driver *drv)
{
    struct sys *sys = sys_get();
    /* DriverEntry may read its Services key (RegistryPath): it must exist. */
    if (cm_ensure_service_key(&sys->cm, drv->service)) {
        drv->entry_status = STATUS_INSUFFICIENT_RESOURCES;
        drv->state = io_driver_failed;
        return 0;
    }
    _Static_assert(sizeof(struct driver_block) <= 4096, "driver block fits one page");
    struct driver_block *blk = mm_alloc_pages(&sys->mm, 1, UINT64_MAX);
    if (!blk) {
        drv->entry_status = STATUS_INSUFFICIENT_RESOURCES;
        drv->state = io_driver_failed;
        return 0;
    }
    memset(blk, 0, sizeof(*blk));
    DRIVER_OBJECT *obj = &blk->object;
    obj->Type = IO_TYPE_DRIVER;
    obj->Size = sizeof(DRIVER_OBJECT);
    obj->DriverStart = (PVOID)drv->image_base;
    obj->DriverSize = (ULONG)(drv->image_end - drv->image_base);
    obj->DriverExtension = &blk->extension;
    blk->extension.DriverObject = obj;
    widen(&obj->DriverName, blk->name_buf, "\\Driver\\", drv->service);
    widen(&blk->extension.ServiceKeyName, blk->name_buf + 8, drv->service, NULL);
    widen(&blk->registry_path, blk->path_buf, services_prefix, drv->service);
    widen(&blk->hardware_database, blk->hwdb_buf,
          "\\REGISTRY\\MACHINE\\HARDWARE\\DESCRIPTION\\SYSTEM", NULL);
    obj->HardwareDatabase = &blk->hardware_database;
    obj->DriverInit = (PDRIVER_INITIALIZE)dlsym(drv->handle, "DriverEntry");
    for (int i = 0; i <= IRP_MJ_MAXIMUM_FUNCTION; i++)
        obj->MajorFunction[i] = io_invalid_request;
    drv->object = obj;
    drv->registry_path = &blk->registry_path;

    struct entry_call c = {.drv = drv};
    if (ke_call(&sys->ke, call_entry, &c))
        return -1;
    drv->entry_status = c.status;
    if (!NT_SUCCESS(c.status)) {
        drv->state = io_driver_failed;
        mm_image_unregister(&sys->mm, drv->mm_image);
        drv->mm_image = NULL;
        dlclose(drv->handle);
        drv->handle = NULL;
        return 0;
    }
    drv->state = io_driver_started;
    mm_image_discard_init(&sys->mm, drv->mm_image);
    return 0;
}

int io_driver_unload(struct io_driver *drv)
{
    struct sys *sys = sys_get();
    if (drv->state == io_driver_started && drv->object->DriverUnload) {
        drv->object->Flags |= DRVO_UNLOAD_INVOKED;
        if (ke_call(&sys->ke, call_unload, drv->object))
            return -1;
        if (ex_pool_check_unload(drv))
            return -1;
    }
    if (drv->handle) {
        mm_image_unregister(&sys->mm, drv->mm_image);
        drv->mm_image = NULL;
        dlclose(drv->handle);
        drv->handle = NULL;
    }
    if (drv->object) {
        mm_free_pages(&sys->mm, drv->object, 1);
        drv->object = NULL;
    }
    drv->state = io_driver_unloaded;
    return 0;
}

struct io_driver *io_driver_by_address(struct io *io, uintptr_t pc)
{
    for (struct io_driver *d = io->drivers; d; d = d->next)
        if (pc >= d->image_base && pc < d->image_end)
            return d;
    return NULL;
}

int io_init(struct io *io)
{
    memset(io, 0, sizeof(*io));
    return 0;
}

void io_fini(struct io *io)
{
    struct io_driver *d = io->drivers;
    while (d) {
        struct io_driver *next = d->next;
        if (d->handle) {
            if (sys_get())
                mm_image_unregister(&sys_get()->mm, d->mm_image);
            dlclose(d->handle);
        }
        free(d);
        d = next;
    }
    memset(io, 0, sizeof(*io));
}
