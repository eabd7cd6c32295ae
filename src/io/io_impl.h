/*
 * src/io/io_impl.h - private to src/io: the I/O manager's own part of a
 * device object (the WDK's opaque DEVOBJ_EXTENSION), PnP device nodes and
 * symbolic links. Other layers use io.h.
 */
#ifndef WDMSIM_IO_IMPL_H
#define WDMSIM_IO_IMPL_H

#include <wdm.h>

#include "sys.h"

struct io_devnode;

/* The OVERLAPPED layout of <wdmsim/win32.h> (not included here: its
 * WINAPI declarations are the exports of win32_*.c). */
typedef struct {
    ULONG_PTR Internal;
    ULONG_PTR InternalHigh;
    ULONG_PTR Offset;
    HANDLE hEvent;
} OVERLAPPED_WDMSIM;

/* Pool tags, as the WDK spells them in reverse ("IDev" reads as 'veDI'). */
enum {
    io_tag_device = 0x76654449, /* IDev */
    io_tag_irp = 0x20707249,    /* Irp  */
    io_tag_mdl = 0x206c644d,    /* Mdl  */
    io_tag_sysbuf = 0x66754249, /* IBuf */
    io_tag_res = 0x73655249,    /* IRes */
    io_tag_file = 0x656c6946,   /* File */
    io_tag_event = 0x746e7645,  /* Evnt */
};

/* DeviceObject->DeviceObjectExtension. */
struct _DEVOBJ_EXTENSION {
    CSHORT Type;
    USHORT Size;
    PDEVICE_OBJECT DeviceObject;
    PDEVICE_OBJECT AttachedTo;  /* the device below (IoAttachDeviceToDeviceStack) */
    struct io_devnode *devnode; /* stack of a PnP device, or NULL */
    char name[96];              /* ASCII \Device\X, "" if unnamed */
    PDEVICE_OBJECT next_named;
    LIST_ENTRY start_queue; /* IoStartPacket queue (IRPs through Tail.Overlay.ListEntry) */
    BOOLEAN busy;           /* StartIo owns CurrentIrp */
    BOOLEAN deleted;
};

struct io_symlink {
    char link[96];   /* ASCII, without the \DosDevices\ or \??\ prefix */
    char target[96]; /* \Device\X */
    struct io_symlink *next;
};

enum io_devnode_state {
    io_node_none,
    io_node_added,
    io_node_started,
    io_node_stopped,
    io_node_removed
};

struct io_devnode {
    struct wdmsim_dev *hw; /* machine device */
    unsigned index;
    PDEVICE_OBJECT pdo;
    struct io_driver *driver; /* bound function driver */
    enum io_devnode_state state;
    PCM_RESOURCE_LIST raw, translated;
    bool ever_started; /* START succeeded once (reports after REMOVE) */
};

/* ---- the user-mode front (app.c, win32_*.c) -------------------------------------- */
enum io_handle_kind { io_handle_free, io_handle_file, io_handle_event };

/* An overlapped request in flight: its OVERLAPPED (a user address) shows
 * completion (Internal != STATUS_PENDING, written at the last stage). */
struct io_pending {
    PIRP irp;
    OVERLAPPED_WDMSIM *ov;
    struct io_pending *next;
};

struct io_file {
    PDEVICE_OBJECT dev; /* the stack's top at open */
    void *file_object;  /* opaque FILE_OBJECT stand-in, in nonpaged pool */
    bool overlapped;    /* FILE_FLAG_OVERLAPPED */
    PKEVENT done;       /* signalled by overlapped requests without hEvent */
    struct io_pending *pending;
};

enum { io_max_handles = 256 };
struct io_process {
    struct {
        enum io_handle_kind kind;
        void *object; /* struct io_file *, or PKEVENT */
    } handle[io_max_handles];
    uint32_t last_error; /* GetLastError: one thread per process */
    int exit_code;
    void *exit_jmp[5]; /* __builtin_setjmp buffer of io_app_run */
};

/* The current thread's process and its I/O state (NULL outside an app). */
struct io_process *io_process_current(struct ke_process **p);
/* Win32 error for an NTSTATUS (RtlNtStatusToDosError's table, abridged). */
uint32_t io_win32_error(NTSTATUS st);
/* Closes every handle of the process: pending I/O cancelled and waited
 * for, IRP_MJ_CLEANUP and IRP_MJ_CLOSE sent. */
void io_process_rundown(struct io_process *st);

static inline struct _DEVOBJ_EXTENSION *io_devext(PDEVICE_OBJECT d)
{
    return d->DeviceObjectExtension;
}

/* ASCII copy of a counted string (non-ASCII becomes '?'). */
void io_ascii(const UNICODE_STRING *us, char *out, size_t len);
/* irp.c: the last stage of completion for IRPs the I/O manager built. */
PDEVICE_OBJECT io_create_pdo(struct io_devnode *node);
/* irp.c: frees what the I/O manager built for an IRP: the SystemBuffer (if
 * IRP_DEALLOCATE_BUFFER) and the MDL chain, unlocking locked pages. Used at
 * completion and when building a request fails half way. */
void io_irp_release_buffers(PIRP irp);

#endif
