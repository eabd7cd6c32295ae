/*
 * src/ke/dpc.c - deferred procedure calls.
 *
 * Models: KDPC objects queued per processor (spec ke_rtl_registry.md 3): an
 * object is queued at most once; HighImportance goes to the head, others to
 * the tail; the routine runs at DISPATCH_LEVEL on the processor it was
 * queued to (the inserting one, or the one KeSetTargetProcessorDpc chose)
 * as soon as that processor's IRQL is below DISPATCH_LEVEL: at once when
 * inserted there at PASSIVE/APC, at the next lowering, at a scheduling
 * point (the "DPC interrupt" another processor sends), or in the idle loop.
 * Also IoInitializeDpcRequest / IoRequestDpc, the DpcForIsr pair.
 * Layout use: DpcListEntry.Next links the queue; DpcData points at the
 * processor while queued (NULL otherwise); Number is 0 for "the inserting
 * processor", or target + 64 after KeSetTargetProcessorDpc.
 * Invariants: dpc_count = length of the processor's list; a routine never
 * starts while its processor was at or above DISPATCH_LEVEL.
 * Not modelled: threaded DPCs (run as ordinary DPCs), DPC watchdog
 * timeouts, 0xC7 checks on freed DPC objects.
 */
#include <string.h>

#include <wdm.h>

#include "sys.h"

enum { dpc_object_type = 19, target_bias = 64 };

static PKDPC next_of(PKDPC d)
{
    return d->DpcListEntry.Next ? CONTAINING_RECORD(d->DpcListEntry.Next, KDPC, DpcListEntry)
                                : NULL;
}

NTKERNELAPI VOID NTAPI KeInitializeDpc(PRKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine,
                                       PVOID DeferredContext)
{
    RtlZeroMemory(Dpc, sizeof(*Dpc));
    Dpc->Type = dpc_object_type;
    Dpc->Importance = MediumImportance;
    Dpc->DeferredRoutine = DeferredRoutine;
    Dpc->DeferredContext = DeferredContext;
}

NTKERNELAPI VOID NTAPI KeInitializeThreadedDpc(PRKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine,
                                               PVOID DeferredContext)
{
    KeInitializeDpc(Dpc, DeferredRoutine, DeferredContext);
}

NTKERNELAPI VOID NTAPI KeSetImportanceDpc(PRKDPC Dpc, KDPC_IMPORTANCE Importance)
{
    Dpc->Importance = (UCHAR)Importance;
}

NTKERNELAPI VOID NTAPI KeSetTargetProcessorDpc(PRKDPC Dpc, CCHAR Number)
{
    Dpc->Number = (USHORT)((UCHAR)Number + target_bias);
}

bool ke_dpc_insert(struct ke *ke, struct _KDPC *dpc, void *a1, void *a2, unsigned processor)
{
    if (dpc->DpcData)
        return false;
    unsigned p = dpc->Number >= target_bias ? (unsigned)dpc->Number - target_bias : processor;
    if (p >= ke->nprocessors)
        p = processor;
    struct ke_processor *pr = &ke->processor[p];
    dpc->SystemArgument1 = a1;
    dpc->SystemArgument2 = a2;
    dpc->DpcData = pr;
    if (dpc->Importance == HighImportance || !pr->dpc_head) {
        dpc->DpcListEntry.Next = pr->dpc_head ? &pr->dpc_head->DpcListEntry : NULL;
        pr->dpc_head = dpc;
        if (!pr->dpc_tail)
            pr->dpc_tail = dpc;
    } else {
        dpc->DpcListEntry.Next = NULL;
        pr->dpc_tail->DpcListEntry.Next = &dpc->DpcListEntry;
        pr->dpc_tail = dpc;
    }
    pr->dpc_count++;
    return true;
}

NTKERNELAPI BOOLEAN NTAPI KeInsertQueueDpc(PRKDPC Dpc, PVOID SystemArgument1, PVOID SystemArgument2)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    if (!ke_dpc_insert(ke, Dpc, SystemArgument1, SystemArgument2, ke->current))
        return FALSE;
    struct ke_processor *pr = ke_current_processor(ke);
    if (Dpc->DpcData == pr && pr->irql < DISPATCH_LEVEL && !pr->dpc_active && ke->running)
        ke_dpc_drain(ke);
    return TRUE;
}

NTKERNELAPI BOOLEAN NTAPI KeRemoveQueueDpc(PRKDPC Dpc)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    struct ke_processor *pr = Dpc->DpcData;
    if (!pr)
        return FALSE;
    PKDPC prev = NULL;
    for (PKDPC d = pr->dpc_head; d; prev = d, d = next_of(d)) {
        if (d != Dpc)
            continue;
        if (prev)
            prev->DpcListEntry.Next = d->DpcListEntry.Next;
        else
            pr->dpc_head = next_of(d);
        if (pr->dpc_tail == d)
            pr->dpc_tail = prev;
        pr->dpc_count--;
        break;
    }
    Dpc->DpcData = NULL;
    Dpc->DpcListEntry.Next = NULL;
    return TRUE;
}

void ke_dpc_drain(struct ke *ke)
{
    struct ke_processor *pr = ke_current_processor(ke);
    if (pr->dpc_active || !pr->dpc_count || pr->irql >= DISPATCH_LEVEL)
        return;
    uint8_t old = ke_raise_irql(ke, DISPATCH_LEVEL);
    pr->dpc_active = true;
    ke_process_sync(ke); /* DPCs run in no process context */
    while (pr->dpc_count && !ke_stopped(ke)) {
        PKDPC d = pr->dpc_head;
        pr->dpc_head = next_of(d);
        if (!pr->dpc_head)
            pr->dpc_tail = NULL;
        pr->dpc_count--;
        d->DpcListEntry.Next = NULL;
        d->DpcData = NULL;
        PKDEFERRED_ROUTINE routine = d->DeferredRoutine;
        pr->dpcs++;
        ke_trace_addr(ke, ke_ev_dpc, (const void *)routine);
        routine(d, d->DeferredContext, d->SystemArgument1, d->SystemArgument2);
        ke_observe(ke, ke_ev_dpc_end, (uint64_t)(uintptr_t)routine, 0);
        /* A DPC must return at DISPATCH_LEVEL; what it left is not
         * carried into the next one. */
        pr->irql = DISPATCH_LEVEL;
    }
    pr->dpc_active = false;
    ke_process_sync(ke);
    pr->irql = old;
    ke_trace(ke, ke_ev_irql, old);
}

NTKERNELAPI VOID NTAPI KeFlushQueuedDpcs(VOID)
{
    struct ke *ke = &sys_get()->ke;
    ke_check_irql_max(ke, PASSIVE_LEVEL, 0, "KeFlushQueuedDpcs");
    for (;;) {
        bool pending = false;
        for (unsigned p = 0; p < ke->nprocessors; p++)
            if (ke->processor[p].dpc_count || ke->processor[p].dpc_active)
                pending = true;
        if (!pending || !ke->running)
            return;
        ke_sched_point(ke);
    }
}

/* ---- DpcForIsr ------------------------------------------------------------------- */

NTKERNELAPI VOID NTAPI IoInitializeDpcRequest(PDEVICE_OBJECT DeviceObject,
                                              PIO_DPC_ROUTINE DpcRoutine)
{
    /* The WDK's own inline does this cast: both are NTAPI routines taking
     * the KDPC and three pointers, and KeInsertQueueDpc passes the IRP and
     * context where a KDEFERRED_ROUTINE gets its system arguments. */
    KeInitializeDpc(&DeviceObject->Dpc, (PKDEFERRED_ROUTINE)(void (*)(void))DpcRoutine,
                    DeviceObject);
}

NTKERNELAPI VOID NTAPI IoRequestDpc(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    KeInsertQueueDpc(&DeviceObject->Dpc, Irp, Context);
}
