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

/* Pool tags, as the WDK spells them in reverse ("IDev" reads as 'veDI'). */
enum {
    io_tag_device = 0x76654449, /* IDev */
    io_tag_irp = 0x20707249,    /* Irp  */
    io_tag_mdl = 0x206c644d,    /* Mdl  */
    io_tag_sysbuf = 0x66754249, /* IBuf */
    io_tag_res = 0x73655249,    /* IRes */
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
};

static inline struct _DEVOBJ_EXTENSION *io_devext(PDEVICE_OBJECT d)
{
    return d->DeviceObjectExtension;
}

/* ASCII copy of a counted string (non-ASCII becomes '?'). */
void io_ascii(const UNICODE_STRING *us, char *out, size_t len);
/* irp.c: the last stage of completion for IRPs the I/O manager built. */
PDEVICE_OBJECT io_create_pdo(struct io_devnode *node);

#endif
