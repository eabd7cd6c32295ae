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
    io_driver_loaded,  /* image mapped, DriverEntry not yet called */
    io_driver_started, /* DriverEntry returned success */
    io_driver_failed,  /* DriverEntry returned failure; image unmapped */
    io_driver_unloaded,
};

struct io_driver {
    char service[64]; /* file name without .so */
    char path[512];
    void *handle;                    /* dlopen handle */
    uintptr_t image_base, image_end; /* for backtraces and 0xCE checks */
    enum io_driver_state state;
    int32_t entry_status;          /* NTSTATUS DriverEntry returned */
    struct _DRIVER_OBJECT *object; /* in simulated nonpaged memory */
    struct _UNICODE_STRING *registry_path;
    struct mm_image *mm_image; /* pageable / INIT sections (src/mm/paging_image.c) */
    struct io_driver *next;
};

struct vf_rule;
struct io_devnode;
struct io_irps;
struct io_symlink;
struct _WDMSIM_SEH_FRAME;
struct _DEVICE_OBJECT;
struct _IRP;

struct io {
    struct io_driver *drivers;
    unsigned ndrivers;
    /* pnp.c: one node per machine device, in enumeration order */
    struct io_devnode *devnodes;
    unsigned ndevnodes;
    struct _DRIVER_OBJECT *pci_driver; /* owns the PDOs (\Driver\PCI, \Driver\ISA) */
    const char *const *binds;          /* "MODEL=SERVICE" overrides, NULL-terminated */
    /* device.c */
    struct _DEVICE_OBJECT *named; /* every named device (chain through Reserved) */
    struct io_symlink *links;
    /* seh.c: __try frames of every thread, innermost first */
    struct _WDMSIM_SEH_FRAME *seh;
    /* irp.c */
    uint64_t cancel_lock; /* KSPIN_LOCK of IoAcquireCancelSpinLock */
    uint64_t irps_live;
    struct io_irps *irp_state;                 /* host-side IRP records */
    struct io_stats {                          /* run statistics (wdmsim run's summary) */
        uint64_t completed, failed, cancelled; /* IoCompleteRequest calls, by outcome */
        uint64_t reads, writes;                /* successful IRP_MJ_READ / IRP_MJ_WRITE */
        uint64_t read_bytes, written_bytes;    /* their IoStatus.Information */
    } stats;
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

/* ---- PnP (pnp.c) -------------------------------------------------------------
 * After the drivers are loaded: one PDO per machine device; the driver bound
 * to it (config driver =, or a --bind MODEL=SERVICE override) gets AddDevice
 * and IRP_MN_START_DEVICE with raw and translated CM_RESOURCE_LIST. Returns 0,
 * or -1 when the machine stopped. Devices with no bound driver stay off. */
int io_pnp_start_all(struct io *io);
/* STOP then REMOVE for every started device, last started first; checks
 * the I/O-space mappings of each removed device. 0, or -1 when stopped. */
int io_pnp_remove_all(struct io *io);
/* For reports: the service bound to machine device `index` (NULL when no
 * loaded driver serves it) and whether its START ever succeeded. */
const char *io_pnp_service(struct io *io, unsigned index, bool *started);
/* The machine device behind a PDO (or a device attached above it), NULL if
 * none: the HAL binds IoGetDmaAdapter's adapter to it (weak reference in
 * src/hal/dma_api.c). */
struct wdmsim_dev *io_pnp_hw_of_pdo(struct _DEVICE_OBJECT *pdo);
/* The FDO stack top of machine device `index` (NULL if none started). */
struct _DEVICE_OBJECT *io_pnp_device(struct io *io, unsigned index);

/* ---- devices (device.c) ---------------------------------------------------------- */
/* The device a name resolves to: "\\.\\X" / "\\??\\X" through the symbolic
 * links, or "\\Device\\X". NULL when none. Host (ASCII) name. */
struct _DEVICE_OBJECT *io_device_by_name(struct io *io, const char *name);
/* Top of the stack the device belongs to. */
struct _DEVICE_OBJECT *io_device_top(struct _DEVICE_OBJECT *dev);

/* ---- requests (request.c): what the I/O manager builds for a caller ---------------
 * major IRP_MJ_READ / WRITE / DEVICE_CONTROL (code), buffers in the caller's
 * context, requestor mode 0 kernel / 1 user. Sends the IRP to the top of the
 * device's stack; waits for completion (the call runs on a kernel thread).
 * Returns the final NTSTATUS, *information = IoStatus.Information. */
int32_t io_request(struct _DEVICE_OBJECT *dev, uint8_t major, uint32_t code, void *in,
                   uint32_t in_len, void *out, uint32_t out_len, int mode, uint64_t *information);

/* The same without waiting: file goes to FileObject; event (PKEVENT) and
 * iosb (PIO_STATUS_BLOCK, may be a user address: completion writes it in
 * the requester's context) are the IRP's UserEvent / UserIosb. Majors
 * CREATE, CLEANUP, CLOSE carry no buffers. Returns what IoCallDriver
 * returned (STATUS_PENDING: completion comes later), or the failure that
 * kept the IRP from any driver (event and iosb untouched). *irp_out: the
 * IRP sent (for IoCancelIrp), NULL when none was. */
int32_t io_request_submit(struct _DEVICE_OBJECT *dev, void *file, uint8_t major, uint32_t code,
                          void *in, uint32_t in_len, void *out, uint32_t out_len, int mode,
                          void *event, void *iosb, void **irp_out);
/* The same with the byte offset of a READ or WRITE (Parameters.Read.
 * ByteOffset: the OVERLAPPED's Offset/OffsetHigh of ReadFile/WriteFile). */
int32_t io_request_submit_at(struct _DEVICE_OBJECT *dev, void *file, uint8_t major, uint32_t code,
                             void *in, uint32_t in_len, void *out, uint32_t out_len,
                             int64_t byte_offset, int mode, void *event, void *iosb,
                             void **irp_out);

/* ---- apps (app.c, win32_*.c): the user-mode front ------------------------------------
 * Runs an app's main (ms_abi int main(int, char **), from its loaded image)
 * in a new process on the calling kernel thread (call it through ke_call):
 * main(argc, argv) on a user stack, then the process's rundown (pending
 * I/O cancelled, handles closed, mdl.left-locked check). argv[0] names the
 * process. Returns 0 with *exit_code, or -1 with err (process setup). */
int io_app_run(void *main_fn, int argc, char **argv, int *exit_code, char *err, size_t errlen);

/* Frees the host-side IRP records (shutdown). */
void io_irp_fini(struct io *io);

/* ---- SEH (seh.c) ----------------------------------------------------------------- */
/* True when the current thread has a __try frame (a fault may raise). */
bool io_seh_active(void);
/* Raises status to the innermost __try of the current thread; from a signal
 * handler too (unblocks SIGSEGV). Bug check 0x1E when there is none. */
_Noreturn void io_seh_raise(int32_t status, void *address);

/* ---- verifier rules of this layer (irp.c, access.c) ----------------------------------- */
extern const struct vf_rule *const io_irp_rules[];
enum { io_irp_rule_count = 10 };
extern const struct vf_rule *const io_access_rules[];
enum { io_access_rule_count = 1 };

/* The driver whose image holds pc, or NULL. */
struct io_driver *io_driver_by_address(struct io *io, uintptr_t pc);

#endif
