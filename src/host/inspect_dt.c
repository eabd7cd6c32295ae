/*
 * src/host/inspect_dt.c - dt TYPE ADDR: the WDK structures wdmsim knows.
 *
 * Models: WinDbg's dt over the WDK's x64 layouts: "+0xOFF Field : value".
 * Offsets and sizes come from include/ddk itself (offsetof on the types the
 * drivers compile against), so they cannot drift from the headers. For
 * _MDL the PFN array that follows the structure is printed too, and for
 * _SCATTER_GATHER_LIST its elements.
 * Not modelled: nested structures are shown by their first bytes only
 * (dt -r); bit fields; types outside the table ("dt" lists them).
 */
#include <stddef.h>
#include <string.h>
#include <wdm.h>

#include "sys.h"
#include "ex/pool_impl.h"
#include "host/inspect.h"

enum dt_fmt { dt_int, dt_ptr, dt_code, dt_ustr, dt_bytes };

struct dt_field {
    const char *name;
    size_t off, size;
    enum dt_fmt fmt;
};

#define F(T, f, k)                                 \
    {                                              \
#f, offsetof(T, f), sizeof(((T *)0)->f), k \
    }

static const struct dt_field mdl_fields[] = {
    F(MDL, Next, dt_ptr),      F(MDL, Size, dt_int),           F(MDL, MdlFlags, dt_int),
    F(MDL, Process, dt_ptr),   F(MDL, MappedSystemVa, dt_ptr), F(MDL, StartVa, dt_ptr),
    F(MDL, ByteCount, dt_int), F(MDL, ByteOffset, dt_int),     {0},
};
static const struct dt_field irp_fields[] = {
    F(IRP, Type, dt_int),
    F(IRP, Size, dt_int),
    F(IRP, MdlAddress, dt_ptr),
    F(IRP, Flags, dt_int),
    {"AssociatedIrp.SystemBuffer", offsetof(IRP, AssociatedIrp), sizeof(PVOID), dt_ptr},
    {"IoStatus.Status", offsetof(IRP, IoStatus.Status), sizeof(NTSTATUS), dt_int},
    {"IoStatus.Information", offsetof(IRP, IoStatus.Information), sizeof(ULONG_PTR), dt_int},
    F(IRP, RequestorMode, dt_int),
    F(IRP, PendingReturned, dt_int),
    F(IRP, StackCount, dt_int),
    F(IRP, CurrentLocation, dt_int),
    F(IRP, Cancel, dt_int),
    F(IRP, CancelIrql, dt_int),
    F(IRP, UserIosb, dt_ptr),
    F(IRP, UserEvent, dt_ptr),
    F(IRP, CancelRoutine, dt_code),
    F(IRP, UserBuffer, dt_ptr),
    {"Tail.Overlay.CurrentStackLocation", offsetof(IRP, Tail.Overlay.CurrentStackLocation),
     sizeof(PVOID), dt_ptr},
    {0},
};
static const struct dt_field stack_fields[] = {
    F(IO_STACK_LOCATION, MajorFunction, dt_int),
    F(IO_STACK_LOCATION, MinorFunction, dt_int),
    F(IO_STACK_LOCATION, Flags, dt_int),
    F(IO_STACK_LOCATION, Control, dt_int),
    {"Parameters.Others.Argument1", offsetof(IO_STACK_LOCATION, Parameters), 8, dt_ptr},
    {"Parameters.Others.Argument2", offsetof(IO_STACK_LOCATION, Parameters) + 8, 8, dt_ptr},
    {"Parameters.Others.Argument3", offsetof(IO_STACK_LOCATION, Parameters) + 16, 8, dt_ptr},
    {"Parameters.Others.Argument4", offsetof(IO_STACK_LOCATION, Parameters) + 24, 8, dt_ptr},
    F(IO_STACK_LOCATION, DeviceObject, dt_ptr),
    F(IO_STACK_LOCATION, FileObject, dt_ptr),
    F(IO_STACK_LOCATION, CompletionRoutine, dt_code),
    F(IO_STACK_LOCATION, Context, dt_ptr),
    {0},
};
static const struct dt_field devobj_fields[] = {
    F(DEVICE_OBJECT, Type, dt_int),
    F(DEVICE_OBJECT, Size, dt_int),
    F(DEVICE_OBJECT, ReferenceCount, dt_int),
    F(DEVICE_OBJECT, DriverObject, dt_ptr),
    F(DEVICE_OBJECT, NextDevice, dt_ptr),
    F(DEVICE_OBJECT, AttachedDevice, dt_ptr),
    F(DEVICE_OBJECT, CurrentIrp, dt_ptr),
    F(DEVICE_OBJECT, Flags, dt_int),
    F(DEVICE_OBJECT, Characteristics, dt_int),
    F(DEVICE_OBJECT, DeviceExtension, dt_ptr),
    F(DEVICE_OBJECT, DeviceType, dt_int),
    F(DEVICE_OBJECT, StackSize, dt_int),
    F(DEVICE_OBJECT, AlignmentRequirement, dt_int),
    F(DEVICE_OBJECT, Dpc, dt_bytes),
    F(DEVICE_OBJECT, SectorSize, dt_int),
    F(DEVICE_OBJECT, DeviceObjectExtension, dt_ptr),
    {0},
};
static const struct dt_field drvobj_fields[] = {
    F(DRIVER_OBJECT, Type, dt_int),
    F(DRIVER_OBJECT, Size, dt_int),
    F(DRIVER_OBJECT, DeviceObject, dt_ptr),
    F(DRIVER_OBJECT, Flags, dt_int),
    F(DRIVER_OBJECT, DriverStart, dt_ptr),
    F(DRIVER_OBJECT, DriverSize, dt_int),
    F(DRIVER_OBJECT, DriverExtension, dt_ptr),
    F(DRIVER_OBJECT, DriverName, dt_ustr),
    F(DRIVER_OBJECT, DriverInit, dt_code),
    F(DRIVER_OBJECT, DriverStartIo, dt_code),
    F(DRIVER_OBJECT, DriverUnload, dt_code),
    F(DRIVER_OBJECT, MajorFunction, dt_bytes),
    {0},
};
static const struct dt_field kdpc_fields[] = {
    F(KDPC, Type, dt_int),
    F(KDPC, Importance, dt_int),
    F(KDPC, Number, dt_int),
    F(KDPC, DpcListEntry, dt_ptr),
    F(KDPC, ProcessorHistory, dt_int),
    F(KDPC, DeferredRoutine, dt_code),
    F(KDPC, DeferredContext, dt_ptr),
    F(KDPC, SystemArgument1, dt_ptr),
    F(KDPC, SystemArgument2, dt_ptr),
    F(KDPC, DpcData, dt_ptr),
    {0},
};
static const struct dt_field kevent_fields[] = {
    {"Header.Type", offsetof(KEVENT, Header.Type), 1, dt_int},
    {"Header.SignalState", offsetof(KEVENT, Header.SignalState), 4, dt_int},
    {"Header.WaitListHead", offsetof(KEVENT, Header.WaitListHead), 16, dt_bytes},
    {0},
};
static const struct dt_field adapter_fields[] = {
    F(DMA_ADAPTER, Version, dt_int),
    F(DMA_ADAPTER, Size, dt_int),
    F(DMA_ADAPTER, DmaOperations, dt_ptr),
    {0},
};
static const struct dt_field sgl_fields[] = {
    F(SCATTER_GATHER_LIST, NumberOfElements, dt_int),
    F(SCATTER_GATHER_LIST, Reserved, dt_ptr),
    {0},
};
static const struct dt_field lookaside_fields[] = {
    F(GENERAL_LOOKASIDE, ListHead, dt_bytes),
    F(GENERAL_LOOKASIDE, Depth, dt_int),
    F(GENERAL_LOOKASIDE, MaximumDepth, dt_int),
    F(GENERAL_LOOKASIDE, TotalAllocates, dt_int),
    F(GENERAL_LOOKASIDE, AllocateMisses, dt_int),
    F(GENERAL_LOOKASIDE, TotalFrees, dt_int),
    F(GENERAL_LOOKASIDE, FreeMisses, dt_int),
    F(GENERAL_LOOKASIDE, Type, dt_int),
    F(GENERAL_LOOKASIDE, Tag, dt_int),
    F(GENERAL_LOOKASIDE, Size, dt_int),
    F(GENERAL_LOOKASIDE, Allocate, dt_code),
    F(GENERAL_LOOKASIDE, Free, dt_code),
    {0},
};
static const struct dt_field ustr_fields[] = {
    F(UNICODE_STRING, Length, dt_int),
    F(UNICODE_STRING, MaximumLength, dt_int),
    F(UNICODE_STRING, Buffer, dt_ptr),
    {0},
};
static const struct dt_field list_fields[] = {
    F(LIST_ENTRY, Flink, dt_ptr),
    F(LIST_ENTRY, Blink, dt_ptr),
    {0},
};
static const struct dt_field iosb_fields[] = {
    F(IO_STATUS_BLOCK, Status, dt_int),
    F(IO_STATUS_BLOCK, Information, dt_int),
    {0},
};
/* The 16 bytes before a small pool block (src/ex/pool_impl.h). */
static const struct dt_field pool_header_fields[] = {
    {"PreviousSize", offsetof(struct ex_hdr, prev), 1, dt_int},
    {"PoolIndex", offsetof(struct ex_hdr, index), 1, dt_int},
    {"BlockSize", offsetof(struct ex_hdr, size), 1, dt_int},
    {"PoolType", offsetof(struct ex_hdr, type), 1, dt_int},
    {"PoolTag", offsetof(struct ex_hdr, tag), 4, dt_int},
    {"ProcessBilled", offsetof(struct ex_hdr, owner), 8, dt_int},
    {0},
};

static const struct dt_type {
    const char *name;
    size_t size;
    const struct dt_field *fields;
} types[] = {
    {"_MDL", sizeof(MDL), mdl_fields},
    {"_IRP", sizeof(IRP), irp_fields},
    {"_IO_STACK_LOCATION", sizeof(IO_STACK_LOCATION), stack_fields},
    {"_DEVICE_OBJECT", sizeof(DEVICE_OBJECT), devobj_fields},
    {"_DRIVER_OBJECT", sizeof(DRIVER_OBJECT), drvobj_fields},
    {"_KDPC", sizeof(KDPC), kdpc_fields},
    {"_KEVENT", sizeof(KEVENT), kevent_fields},
    {"_DMA_ADAPTER", sizeof(DMA_ADAPTER), adapter_fields},
    {"_SCATTER_GATHER_LIST", sizeof(SCATTER_GATHER_LIST), sgl_fields},
    {"_GENERAL_LOOKASIDE", sizeof(GENERAL_LOOKASIDE), lookaside_fields},
    {"_UNICODE_STRING", sizeof(UNICODE_STRING), ustr_fields},
    {"_LIST_ENTRY", sizeof(LIST_ENTRY), list_fields},
    {"_IO_STATUS_BLOCK", sizeof(IO_STATUS_BLOCK), iosb_fields},
    {"_POOL_HEADER", sizeof(struct ex_hdr), pool_header_fields},
};

static const struct dt_type *find_type(const char *name)
{
    /* "nt!_MDL", "_MDL" and "MDL" all name it. */
    const char *bang = strchr(name, '!');
    if (bang)
        name = bang + 1;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (!strcmp(types[i].name, name) || !strcmp(types[i].name + 1, name))
            return &types[i];
    return NULL;
}

static void field(struct insp *c, const struct dt_field *f, const uint8_t *obj, uint64_t va)
{
    uint64_t v = 0;
    if (f->size <= 8)
        memcpy(&v, obj + f->off, f->size);
    fprintf(c->out, "   +0x%03zx %-20s : ", f->off, f->name);
    char text[256];
    switch (f->fmt) {
    case dt_int:
        fprintf(c->out, "0x%llx (0n%llu)\n", (unsigned long long)v, (unsigned long long)v);
        break;
    case dt_ptr:
        fprintf(c->out, "0x%s\n", INSP_ADDR(v));
        break;
    case dt_code:
        insp_symbol(v, text, sizeof(text));
        fprintf(c->out, "0x%s %s\n", INSP_ADDR(v), v ? text : "");
        break;
    case dt_ustr:
        insp_ustr(c->sys, va + f->off, text, sizeof(text));
        fprintf(c->out, "\"%s\"\n", text);
        break;
    case dt_bytes:
        for (size_t i = 0; i < f->size && i < 16; i++)
            fprintf(c->out, "%02x%s", obj[f->off + i], i + 1 < f->size && i < 15 ? " " : "");
        fprintf(c->out, "%s\n", f->size > 16 ? " ..." : "");
        break;
    }
}

static void mdl_pfns(struct insp *c, const MDL *m, uint64_t va)
{
    uint64_t ps = c->sys->mm.page_size;
    uint64_t start = (uintptr_t)m->StartVa + m->ByteOffset;
    uint64_t pages = ((start & (ps - 1)) + m->ByteCount + ps - 1) / ps;
    fprintf(c->out, "   PFN array (%llu page%s):", (unsigned long long)pages,
            pages == 1 ? "" : "s");
    for (uint64_t i = 0; i < pages && i < 64; i++) {
        uint64_t pfn;
        if (insp_read(c->sys, va + sizeof(MDL) + i * 8, &pfn, 8) != 8) {
            fprintf(c->out, " ?");
            break;
        }
        fprintf(c->out, " %llx", (unsigned long long)pfn);
    }
    fprintf(c->out, "%s\n", pages > 64 ? " ..." : "");
}

static void sg_elements(struct insp *c, const SCATTER_GATHER_LIST *l, uint64_t va)
{
    for (ULONG i = 0; i < l->NumberOfElements && i < 256; i++) {
        SCATTER_GATHER_ELEMENT e;
        uint64_t at = va + offsetof(SCATTER_GATHER_LIST, Elements) + i * sizeof(e);
        if (insp_read(c->sys, at, &e, sizeof(e)) != sizeof(e))
            break;
        fprintf(c->out, "   Elements[%u] Address %s Length 0x%x\n", i,
                INSP_ADDR((uint64_t)e.Address.QuadPart), e.Length);
    }
}

int insp_dt(struct insp *c)
{
    if (c->argc < 2) {
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
            fprintf(c->out, "%-22s %4zu bytes\n", types[i].name, types[i].size);
        return 0;
    }
    const struct dt_type *t = find_type(c->argv[1]);
    if (!t)
        return insp_error(c, "unknown type %s (dt alone lists the types)", c->argv[1]);
    if (c->argc < 3) {
        fprintf(c->out, "%s (%zu bytes)\n", t->name, t->size);
        for (const struct dt_field *f = t->fields; f->name; f++)
            fprintf(c->out, "   +0x%03zx %-20s : %zu bytes\n", f->off, f->name, f->size);
        return 0;
    }
    uint64_t va;
    if (insp_number(c, c->argv[2], &va))
        return -1;
    uint8_t obj[sizeof(IRP) + sizeof(DEVICE_OBJECT)];
    if (insp_read_all(c, va, obj, t->size))
        return -1;
    fprintf(c->out, "%s at %s\n", t->name, INSP_ADDR(va));
    for (const struct dt_field *f = t->fields; f->name; f++)
        field(c, f, obj, va);
    if (t->fields == mdl_fields)
        mdl_pfns(c, (const MDL *)obj, va);
    if (t->fields == sgl_fields)
        sg_elements(c, (const SCATTER_GATHER_LIST *)obj, va);
    return 0;
}
