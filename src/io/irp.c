/*
 * src/io/irp.c - IRPs: allocation, IoCallDriver, the completion walk.
 *
 * Models: spec/io.md 2: an IRP of 0xD0 bytes followed by StackCount stack
 * locations; IoCallDriver moves to the next location and calls the
 * dispatch routine; IoCompleteRequest walks the locations upward calling
 * completion routines whose SL_INVOKE_ON_* bit matches, stops at
 * STATUS_MORE_PROCESSING_REQUIRED, and finishes with the I/O manager's last
 * stage: METHOD_BUFFERED / buffered read copy-back, MDLs unlocked and
 * freed, *UserIosb and UserEvent, and the IRP freed if the I/O manager
 * built it.
 * wdmsim: every IRP sits on its own pages of system VA, and a freed IRP's
 * VA is not reused soon (next-fit), so a driver touching an IRP after it
 * completed faults and is reported (io.use-after-complete). Host-side
 * records (struct irp_rec) keep what the checks need after the IRP is gone.
 * Spec rules: io.double-complete 0x44, io.no-stack-location 0x35,
 * io.complete-irql 0xC9/0x0E, io.call-irql 0xC9/0x10,
 * io.dispatch-irql-changed 0xC9/0x05, io.complete-pending-status
 * 0xC9/0x06, io.complete-with-cancel-routine 0xC9/0x07,
 * io.pending-unmarked 0xC9/0x23D, io.info-exceeds-output 0xC9/0x57000002,
 * io.use-after-complete 0xC9/0x57000003.
 * User-mode IRPs: the last stage runs attached to the requester's process
 * (Windows: an APC in the requesting thread).
 * Not modelled: APC-based completion to the requesting thread (the
 * requester waits on UserEvent), IRP zones and lookasides, quota.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "io/io_impl.h"
#include "io/irp.h"

static const struct vf_rule rule_double_complete = {
    .id = "io.double-complete",
    .code = 0x44,
    .p1 = 0,
    .params = {"reserved", "reserved", "reserved"},
    .text = "IoCompleteRequest of an IRP that was already completed",
    .option = vf_opt_os,
    .fixture = "tests/fixtures/io-double-complete",
};
static const struct vf_rule rule_no_stack = {
    .id = "io.no-stack-location",
    .code = 0x35,
    .params = {"reserved", "reserved", "reserved"},
    .text = "IoCallDriver with no stack location left (StackSize too small)",
    .option = vf_opt_os,
    .fixture = "tests/fixtures/io-no-stack-location",
};
static const struct vf_rule rule_complete_irql = {
    .id = "io.complete-irql",
    .code = 0xC9,
    .p1 = 0x0E,
    .params = {"IRQL", "IRP", "reserved"},
    .text = "IoCompleteRequest above DISPATCH_LEVEL",
    .option = vf_opt_io,
    .fixture = "tests/fixtures/io-complete-irql",
};
static const struct vf_rule rule_call_irql = {
    .id = "io.call-irql",
    .code = 0xC9,
    .p1 = 0x10,
    .params = {"IRQL", "IRP", "reserved"},
    .text = "IoCallDriver above DISPATCH_LEVEL",
    .option = vf_opt_io,
    .fixture = "tests/fixtures/io-call-irql",
};
static const struct vf_rule rule_irql_changed = {
    .id = "io.dispatch-irql-changed",
    .code = 0xC9,
    .p1 = 0x05,
    .params = {"device object", "IRQL before", "IRQL after"},
    .text = "a dispatch routine returned at another IRQL than it was called at",
    .option = vf_opt_io,
    .fixture = "tests/fixtures/io-dispatch-irql-changed",
};
static const struct vf_rule rule_pending_status = {
    .id = "io.complete-pending-status",
    .code = 0xC9,
    .p1 = 0x06,
    .params = {"status", "IRP", "reserved"},
    .text = "IoCompleteRequest with STATUS_PENDING or 0xFFFFFFFF in IoStatus.Status",
    .option = vf_opt_io,
    .fixture = "tests/fixtures/io-complete-pending-status",
};
static const struct vf_rule rule_cancel_set = {
    .id = "io.complete-with-cancel-routine",
    .code = 0xC9,
    .p1 = 0x07,
    .params = {"cancel routine", "IRP", "reserved"},
    .text = "IoCompleteRequest of an IRP whose cancel routine is still set",
    .option = vf_opt_io,
    .fixture = "tests/fixtures/io-complete-with-cancel-routine",
};
static const struct vf_rule rule_pending_unmarked = {
    .id = "io.pending-unmarked",
    .code = 0xC9,
    .p1 = 0x23D,
    .params = {"dispatch routine", "IRP", "status"},
    .text = "a dispatch routine returned STATUS_PENDING without IoMarkIrpPending",
    .option = vf_opt_io,
    .fixture = "tests/fixtures/io-pending-unmarked",
};
static const struct vf_rule rule_info_exceeds = {
    .id = "io.info-exceeds-output",
    .code = 0xC9,
    .p1 = 0x57000002,
    .params = {"IRP", "Information", "OutputBufferLength"},
    .text = "METHOD_BUFFERED completion with Information larger than the output buffer",
    .option = vf_opt_io,
    .continues = true,
    .fixture = "tests/fixtures/io-info-exceeds-output",
};
static const struct vf_rule rule_use_after_complete = {
    .id = "io.use-after-complete",
    .code = 0xC9,
    .p1 = 0x57000003,
    .params = {"IRP", "address touched", "0 read / 1 write"},
    .text = "a driver touched an IRP after it was completed (and freed)",
    .option = vf_opt_io,
    .fixture = "tests/fixtures/io-use-after-complete",
};

const struct vf_rule *const io_irp_rules[io_irp_rule_count] = {
    &rule_double_complete, &rule_no_stack,           &rule_complete_irql, &rule_call_irql,
    &rule_irql_changed,    &rule_pending_status,     &rule_cancel_set,    &rule_pending_unmarked,
    &rule_info_exceeds,    &rule_use_after_complete,
};

/* ---- host-side records --------------------------------------------------------- */

enum { irp_max_stack = 64, irp_freed_ring = 256 };

struct irp_rec {
    PIRP irp;
    uint64_t pages;
    bool completed, freed;
    bool io_owned;                    /* the I/O manager frees it at the last stage */
    uint32_t out_len;                 /* METHOD_BUFFERED output length, for the clip */
    UCHAR control[irp_max_stack + 2]; /* Control of each location when completion began */
    struct irp_rec *next;
};

/* Records live in the I/O manager's state; freed ones stay in a ring so a
 * late touch or a late check still finds them. */
struct io_irps {
    struct irp_rec *live;
    struct irp_rec *ring[irp_freed_ring];
    unsigned ring_next;
};

static struct io_irps *irps(void)
{
    struct sys *sys = sys_get();
    if (!sys->io.irp_state)
        sys->io.irp_state = calloc(1, sizeof(struct io_irps));
    return sys->io.irp_state;
}

static struct irp_rec *rec_of(PIRP irp)
{
    struct io_irps *t = irps();
    for (struct irp_rec *r = t->live; r; r = r->next)
        if (r->irp == irp)
            return r;
    for (unsigned i = 0; i < irp_freed_ring; i++) {
        struct irp_rec *r = t->ring[(t->ring_next + irp_freed_ring - 1 - i) % irp_freed_ring];
        if (r && r->irp == irp)
            return r;
    }
    return NULL;
}

static int use_after_complete(struct sys *sys, void *addr, int access, void *pc)
{
    struct io_irps *t = sys->io.irp_state;
    struct mm *mm = &sys->mm;
    if (!t)
        return mm_fault_declined;
    for (unsigned i = 0; i < irp_freed_ring; i++) {
        struct irp_rec *r = t->ring[i];
        if (!r)
            continue;
        uint8_t *lo = (uint8_t *)r->irp;
        if ((uint8_t *)addr >= lo && (uint8_t *)addr < lo + (r->pages << mm->page_shift)) {
            sigset_t s;
            sigemptyset(&s);
            sigaddset(&s, SIGSEGV);
            pthread_sigmask(SIG_UNBLOCK, &s, NULL);
            vf_fire(&rule_use_after_complete, (uint64_t)(uintptr_t)r->irp,
                    (uint64_t)(uintptr_t)addr, access == 1,
                    "[IRP %p, address %p, %s] touched after IoCompleteRequest freed it", r->irp,
                    addr, access == 1 ? "write" : "read");
            return mm_fault_declined;
        }
    }
    return mm_fault_declined;
}

/* ---- allocation -------------------------------------------------------------------- */

PIRP io_irp_alloc(CCHAR stack, bool io_owned)
{
    struct sys *sys = sys_get();
    if (stack < 1 || stack > irp_max_stack)
        return NULL;
    mm_fault_register(use_after_complete);
    size_t bytes = sizeof(IRP) + (size_t)stack * sizeof(IO_STACK_LOCATION);
    uint64_t pages = (bytes + sys->mm.page_size - 1) >> sys->mm.page_shift;
    struct irp_rec *r = calloc(1, sizeof(*r));
    PIRP irp = r ? mm_alloc_pages(&sys->mm, pages, UINT64_MAX) : NULL;
    if (!irp) {
        free(r);
        return NULL;
    }
    memset(irp, 0, bytes);
    irp->Type = 6; /* IO_TYPE_IRP */
    irp->Size = (USHORT)bytes;
    irp->StackCount = stack;
    irp->CurrentLocation = (CHAR)(stack + 1);
    irp->Tail.Overlay.CurrentStackLocation = (PIO_STACK_LOCATION)(irp + 1) + stack;
    InitializeListHead(&irp->ThreadListEntry);
    r->irp = irp;
    r->pages = pages;
    r->io_owned = io_owned;
    struct io_irps *t = irps();
    r->next = t->live;
    t->live = r;
    sys->io.irps_live++;
    ke_observe(&sys->ke, ke_ev_irps, sys->io.irps_live, 0);
    return irp;
}

void io_irp_set_out_len(PIRP irp, uint32_t out_len)
{
    struct irp_rec *r = rec_of(irp);
    if (r)
        r->out_len = out_len;
}

static void irp_free(PIRP irp)
{
    struct sys *sys = sys_get();
    struct io_irps *t = irps();
    for (struct irp_rec **pp = &t->live; *pp; pp = &(*pp)->next) {
        struct irp_rec *r = *pp;
        if (r->irp != irp)
            continue;
        *pp = r->next;
        mm_free_pages(&sys->mm, irp, r->pages);
        r->freed = true;
        free(t->ring[t->ring_next]);
        t->ring[t->ring_next] = r;
        t->ring_next = (t->ring_next + 1) % irp_freed_ring;
        sys->io.irps_live--;
        ke_observe(&sys->ke, ke_ev_irps, sys->io.irps_live, 0);
        return;
    }
}

NTKERNELAPI PIRP NTAPI IoAllocateIrp(CCHAR StackSize, BOOLEAN ChargeQuota)
{
    (void)ChargeQuota;
    ke_sched_point(&sys_get()->ke);
    return io_irp_alloc(StackSize, false);
}

NTKERNELAPI VOID NTAPI IoFreeIrp(PIRP Irp)
{
    ke_sched_point(&sys_get()->ke);
    irp_free(Irp);
}

void io_irp_fini(struct io *io)
{
    struct io_irps *t = io->irp_state;
    if (!t)
        return;
    while (t->live) {
        struct irp_rec *r = t->live;
        t->live = r->next;
        free(r); /* the pages go with the system space */
    }
    for (unsigned i = 0; i < irp_freed_ring; i++)
        free(t->ring[i]);
    free(t);
    io->irp_state = NULL;
}

/* ---- IoCallDriver --------------------------------------------------------------------- */

NTKERNELAPI NTSTATUS FASTCALL IofCallDriver(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    struct sys *sys = sys_get();
    ke_sched_point(&sys->ke);
    uint8_t irql = ke_irql(&sys->ke);
    if (irql > DISPATCH_LEVEL)
        vf_fire(&rule_call_irql, irql, (uint64_t)(uintptr_t)Irp, 0,
                "[IRP %p] IoCallDriver at IRQL %u", (void *)Irp, irql);
    if (Irp->CurrentLocation <= 1)
        ke_bugcheck(0x35, (uint64_t)(uintptr_t)Irp, 0, 0, 0, &rule_no_stack,
                    "[IRP %p, device %p] IoCallDriver with no stack location left (StackCount %d)",
                    (void *)Irp, (void *)DeviceObject, Irp->StackCount);
    IoSetNextIrpStackLocation(Irp);
    PIO_STACK_LOCATION loc = IoGetCurrentIrpStackLocation(Irp);
    int level = Irp->CurrentLocation;
    loc->DeviceObject = DeviceObject;
    PDRIVER_DISPATCH fn = DeviceObject->DriverObject->MajorFunction[loc->MajorFunction];
    ke_observe(&sys->ke, ke_ev_dispatch, (uint64_t)(uintptr_t)fn,
               (uint64_t)(uintptr_t)Irp | (uint64_t)loc->MajorFunction << 56);
    NTSTATUS st = fn(DeviceObject, Irp);
    ke_observe(&sys->ke, ke_ev_dispatch_end, (uint64_t)(uintptr_t)fn, (uint32_t)st);
    uint8_t after = ke_irql(&sys->ke);
    if (after != irql)
        vf_fire(&rule_irql_changed, (uint64_t)(uintptr_t)DeviceObject, irql, after,
                "[device %p, IRP %p] dispatch routine returned at IRQL %u, called at %u",
                (void *)DeviceObject, (void *)Irp, after, irql);
    if (st == STATUS_PENDING) {
        /* The IRP may be complete and gone: read the record, not the IRP. */
        struct irp_rec *r = rec_of(Irp);
        UCHAR control = r && r->completed ? r->control[level] : loc->Control;
        if (!(control & SL_PENDING_RETURNED)) {
            char fnname[160];
            vf_backtrace_describe((void *)(uintptr_t)fn, fnname, sizeof(fnname));
            vf_fire(&rule_pending_unmarked, (uint64_t)(uintptr_t)fn, (uint64_t)(uintptr_t)Irp,
                    (uint32_t)st,
                    "[device %p, IRP %p, dispatch %s] returned STATUS_PENDING without "
                    "IoMarkIrpPending",
                    (void *)DeviceObject, (void *)Irp, fnname);
        }
    }
    return st;
}

/* ---- completion -------------------------------------------------------------------------- */

static void last_stage(struct sys *sys, PIRP irp, struct irp_rec *r)
{
    NTSTATUS st = irp->IoStatus.Status;
    /* Windows finishes a user request in an APC on the requesting thread:
     * in its process, where UserBuffer and UserIosb are valid. wdmsim
     * attaches to that process for the copy-back and the IOSB. */
    struct ke_process *owner = irp->RequestorMode == UserMode
                                   ? ke_thread_process((struct ke_thread *)irp->Tail.Overlay.Thread)
                                   : NULL;
    struct ke_process *prev = owner ? ke_process_attach(&sys->ke, owner) : NULL;
    if ((irp->Flags & IRP_BUFFERED_IO) && (irp->Flags & IRP_INPUT_OPERATION) && !NT_ERROR(st) &&
        irp->UserBuffer && irp->AssociatedIrp.SystemBuffer) {
        ULONG_PTR n = irp->IoStatus.Information;
        if (r && n > r->out_len) {
            vf_fire(&rule_info_exceeds, (uint64_t)(uintptr_t)irp, n, r->out_len,
                    "[IRP %p] Information %llu > OutputBufferLength %u: copy clipped", (void *)irp,
                    (unsigned long long)n, r->out_len);
            n = r->out_len;
        }
        memcpy(irp->UserBuffer, irp->AssociatedIrp.SystemBuffer, n);
    }
    io_irp_release_buffers(irp);
    if (irp->UserIosb)
        *irp->UserIosb = irp->IoStatus;
    if (owner)
        ke_process_detach(&sys->ke, prev);
    PKEVENT ev = irp->UserEvent;
    if (r && r->io_owned)
        irp_free(irp);
    if (ev)
        KeSetEvent(ev, 0, FALSE);
    (void)sys;
}

/* Run statistics: the outcome, and the bytes of reads and writes. */
static void count_completion(struct io_stats *s, PIRP irp)
{
    NTSTATUS st = irp->IoStatus.Status;
    s->completed++;
    if (st == STATUS_CANCELLED)
        s->cancelled++;
    else if (!NT_SUCCESS(st))
        s->failed++;
    if (!NT_SUCCESS(st) || irp->CurrentLocation > irp->StackCount)
        return;
    UCHAR major = IoGetCurrentIrpStackLocation(irp)->MajorFunction;
    if (major == IRP_MJ_READ) {
        s->reads++;
        s->read_bytes += irp->IoStatus.Information;
    } else if (major == IRP_MJ_WRITE) {
        s->writes++;
        s->written_bytes += irp->IoStatus.Information;
    }
}

NTKERNELAPI VOID FASTCALL IofCompleteRequest(PIRP Irp, CCHAR PriorityBoost)
{
    (void)PriorityBoost;
    struct sys *sys = sys_get();
    ke_sched_point(&sys->ke);
    uint8_t irql = ke_irql(&sys->ke);
    struct irp_rec *r = rec_of(Irp);
    if (r && (r->completed || r->freed))
        ke_bugcheck(0x44, (uint64_t)(uintptr_t)Irp, 0, 0, 0, &rule_double_complete,
                    "[IRP %p] IoCompleteRequest of an IRP already completed", (void *)Irp);
    if (irql > DISPATCH_LEVEL)
        vf_fire(&rule_complete_irql, irql, (uint64_t)(uintptr_t)Irp, 0,
                "[IRP %p] IoCompleteRequest at IRQL %u", (void *)Irp, irql);
    NTSTATUS st = Irp->IoStatus.Status;
    if (st == STATUS_PENDING || st == (NTSTATUS)0xFFFFFFFF)
        vf_fire(&rule_pending_status, (uint32_t)st, (uint64_t)(uintptr_t)Irp, 0,
                "[IRP %p] IoCompleteRequest with status %#x", (void *)Irp, (unsigned)st);
    if (Irp->CancelRoutine)
        vf_fire(&rule_cancel_set, (uint64_t)(uintptr_t)Irp->CancelRoutine, (uint64_t)(uintptr_t)Irp,
                0, "[IRP %p] IoCompleteRequest with cancel routine %p still set", (void *)Irp,
                (void *)Irp->CancelRoutine);
    count_completion(&sys->io.stats, Irp);
    if (r) {
        r->completed = true;
        PIO_STACK_LOCATION base = (PIO_STACK_LOCATION)(Irp + 1);
        for (int l = 1; l <= Irp->StackCount && l <= irp_max_stack; l++)
            r->control[l] = base[l - 1].Control;
    }
    PIO_STACK_LOCATION loc = IoGetCurrentIrpStackLocation(Irp);
    while (Irp->CurrentLocation <= Irp->StackCount) {
        Irp->PendingReturned = (loc->Control & SL_PENDING_RETURNED) != 0;
        PIO_COMPLETION_ROUTINE routine = loc->CompletionRoutine;
        PVOID ctx = loc->Context;
        UCHAR ctl = loc->Control;
        loc->CompletionRoutine = NULL;
        loc->Control = 0;
        IoSkipCurrentIrpStackLocation(Irp);
        loc++;
        PDEVICE_OBJECT up = Irp->CurrentLocation <= Irp->StackCount ? loc->DeviceObject : NULL;
        st = Irp->IoStatus.Status;
        bool invoke = (NT_SUCCESS(st) && (ctl & SL_INVOKE_ON_SUCCESS)) ||
                      (!NT_SUCCESS(st) && (ctl & SL_INVOKE_ON_ERROR)) ||
                      (Irp->Cancel && (ctl & SL_INVOKE_ON_CANCEL));
        if (routine && invoke) {
            if (routine(up, Irp, ctx) == STATUS_MORE_PROCESSING_REQUIRED) {
                /* Ownership back to that driver: it may complete it again. */
                if (r && !r->freed)
                    r->completed = false;
                return;
            }
        } else if (Irp->PendingReturned && Irp->CurrentLocation <= Irp->StackCount) {
            loc->Control |= SL_PENDING_RETURNED;
        }
    }
    last_stage(sys, Irp, r);
}

NTKERNELAPI NTSTATUS NTAPI IoSetCompletionRoutineEx(PDEVICE_OBJECT DeviceObject, PIRP Irp,
                                                    PIO_COMPLETION_ROUTINE CompletionRoutine,
                                                    PVOID Context, BOOLEAN InvokeOnSuccess,
                                                    BOOLEAN InvokeOnError, BOOLEAN InvokeOnCancel)
{
    /* wdmsim unmaps an unloaded driver's image, so the "Ex" reference that
     * keeps the driver loaded is not needed to make the call safe. */
    (void)DeviceObject;
    IoSetCompletionRoutine(Irp, CompletionRoutine, Context, InvokeOnSuccess, InvokeOnError,
                           InvokeOnCancel);
    return STATUS_SUCCESS;
}

/* ---- cancel ------------------------------------------------------------------------------ */

NTKERNELAPI VOID NTAPI IoAcquireCancelSpinLock(PKIRQL Irql)
{
    struct sys *sys = sys_get();
    KeAcquireSpinLock((PKSPIN_LOCK)&sys->io.cancel_lock, Irql);
}

NTKERNELAPI VOID NTAPI IoReleaseCancelSpinLock(KIRQL Irql)
{
    struct sys *sys = sys_get();
    KeReleaseSpinLock((PKSPIN_LOCK)&sys->io.cancel_lock, Irql);
}

NTKERNELAPI BOOLEAN NTAPI IoCancelIrp(PIRP Irp)
{
    ke_sched_point(&sys_get()->ke);
    KIRQL irql;
    IoAcquireCancelSpinLock(&irql);
    Irp->Cancel = TRUE;
    PDRIVER_CANCEL routine = IoSetCancelRoutine(Irp, NULL);
    if (!routine) {
        IoReleaseCancelSpinLock(irql);
        return FALSE;
    }
    Irp->CancelIrql = irql;
    PDEVICE_OBJECT dev = Irp->CurrentLocation <= Irp->StackCount
                             ? IoGetCurrentIrpStackLocation(Irp)->DeviceObject
                             : NULL;
    routine(dev, Irp); /* releases the cancel spin lock */
    return TRUE;
}

/* ---- StartIo --------------------------------------------------------------------------------- */

NTKERNELAPI VOID NTAPI IoStartPacket(PDEVICE_OBJECT DeviceObject, PIRP Irp, PULONG Key,
                                     PDRIVER_CANCEL CancelFunction)
{
    (void)Key; /* sorted queues: not modelled, tail insertion */
    ke_sched_point(&sys_get()->ke);
    KIRQL old;
    IoAcquireCancelSpinLock(&old);
    if (CancelFunction)
        IoSetCancelRoutine(Irp, CancelFunction);
    struct _DEVOBJ_EXTENSION *x = io_devext(DeviceObject);
    if (x->busy) {
        InsertTailList(&x->start_queue, &Irp->Tail.Overlay.ListEntry);
        IoReleaseCancelSpinLock(old);
        return;
    }
    x->busy = TRUE;
    DeviceObject->CurrentIrp = Irp;
    IoReleaseCancelSpinLock(DISPATCH_LEVEL);
    DeviceObject->DriverObject->DriverStartIo(DeviceObject, Irp);
    KeLowerIrql(old);
}

NTKERNELAPI VOID NTAPI IoStartNextPacket(PDEVICE_OBJECT DeviceObject, BOOLEAN Cancelable)
{
    (void)Cancelable;
    ke_sched_point(&sys_get()->ke);
    KIRQL old;
    IoAcquireCancelSpinLock(&old);
    struct _DEVOBJ_EXTENSION *x = io_devext(DeviceObject);
    DeviceObject->CurrentIrp = NULL;
    if (IsListEmpty(&x->start_queue)) {
        x->busy = FALSE;
        IoReleaseCancelSpinLock(old);
        return;
    }
    PLIST_ENTRY e = RemoveHeadList(&x->start_queue);
    PIRP irp = CONTAINING_RECORD(e, IRP, Tail.Overlay.ListEntry);
    DeviceObject->CurrentIrp = irp;
    IoReleaseCancelSpinLock(DISPATCH_LEVEL);
    DeviceObject->DriverObject->DriverStartIo(DeviceObject, irp);
    KeLowerIrql(old);
}

void io_irp_release_buffers(PIRP irp)
{
    if ((irp->Flags & IRP_DEALLOCATE_BUFFER) && irp->AssociatedIrp.SystemBuffer) {
        ExFreePoolWithTag(irp->AssociatedIrp.SystemBuffer, io_tag_sysbuf);
        irp->AssociatedIrp.SystemBuffer = NULL;
    }
    PMDL m = irp->MdlAddress;
    irp->MdlAddress = NULL;
    while (m) {
        PMDL next = m->Next;
        if (m->MdlFlags & MDL_PAGES_LOCKED)
            MmUnlockPages(m);
        IoFreeMdl(m);
        m = next;
    }
}
