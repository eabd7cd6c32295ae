/*
 * src/io/io.h - the I/O manager: drivers, their objects and their loading.
 * The whole interface of src/io to the other layers.
 *
 * Models: the I/O manager loading a driver image, giving it a
 * DRIVER_OBJECT and its Services key path, calling DriverEntry and, at the
 * end, DriverUnload. Spec: spec/io.md; issue "Foundation" item 6.
 */
#ifndef WDMSIM_IO_H
#define WDMSIM_IO_H

#include <stdbool.h>
#include <stdint.h>

#include "machine/machine.h"

struct _DRIVER_OBJECT;
struct _UNICODE_STRING;

enum io_driver_state {
    io_driver_loaded,   /* image mapped, DriverEntry not yet called */
    io_driver_started,  /* DriverEntry returned success */
    io_driver_failed,   /* DriverEntry returned failure; image unmapped */
    io_driver_unloaded,
};

struct io_driver {
    char service[64];              /* file name without .so */
    char path[512];
    void *handle;                  /* dlopen handle */
    uintptr_t image_base, image_end; /* for backtraces and 0xCE checks */
    enum io_driver_state state;
    int32_t entry_status;          /* NTSTATUS DriverEntry returned */
    struct _DRIVER_OBJECT *object; /* in simulated nonpaged memory */
    struct _UNICODE_STRING *registry_path;
    struct io_driver *next;
};

struct io {
    struct io_driver *drivers;
    unsigned ndrivers;
};

int io_init(struct io *io);
void io_fini(struct io *io);

/* Maps a driver image and checks it was built for this machine (headers,
 * page size). Returns 0, or -1 with err (file and problem). */
int io_driver_load(struct io *io, const char *path, struct io_driver **out,
                   struct machine_error *err);
/* Builds the DRIVER_OBJECT and calls DriverEntry. Returns 0 when DriverEntry
 * ran (its status is in entry_status), -1 when the machine stopped. */
int io_driver_start(struct io_driver *drv);
/* Calls DriverUnload (if any and if started), then unmaps the image.
 * Returns 0, or -1 when the machine stopped. */
int io_driver_unload(struct io_driver *drv);

/* The driver whose image holds pc, or NULL. */
struct io_driver *io_driver_by_address(struct io *io, uintptr_t pc);

#endif
