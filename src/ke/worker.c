/*
 * src/ke/worker.c - system worker threads and I/O work items.
 *
 * Models: the system work queue that IoQueueWorkItem feeds: work runs later
 * at PASSIVE_LEVEL on one of a few system worker threads (one per
 * processor, at most 4), made when the first item is queued. Work items
 * (IO_WORKITEM) are wdmsim-owned host objects: drivers see only the pointer.
 * Invariants: an item is queued at most once at a time; the queue's
 * semaphore count equals the number of queued items not yet taken.
 * Not modelled: queue types (Critical / Delayed / HyperCritical share one
 * queue), ExQueueWorkItem, IoInitializeWorkItem / IoSizeofWorkItem, the
 * driver-unload reference a queued item holds.
 */
#include <stdlib.h>

#include <wdm.h>

#include "sys.h"

struct ke_work {
    void (*fn)(void *arg);
    void *arg;
    struct ke_work *next;
};

struct ke_worker {
    KSEMAPHORE ready; /* one count per queued item */
    struct ke_work *head, *tail;
    unsigned threads;
};

static void worker_main(void *arg)
{
    struct ke *ke = &sys_get()->ke;
    struct ke_worker *w = arg;
    for (;;) {
        void *obj = &w->ready;
        ke_wait(ke, 1, &obj, false, NULL);
        struct ke_work *item = w->head;
        if (!item)
            continue;
        w->head = item->next;
        if (!w->head)
            w->tail = NULL;
        void (*fn)(void *) = item->fn;
        void *a = item->arg;
        free(item);
        fn(a);
        /* A work routine returns at PASSIVE_LEVEL; do not let a leak of
         * its raised IRQL run the next item. */
        if (ke_irql(ke) != PASSIVE_LEVEL)
            ke_lower_irql(ke, PASSIVE_LEVEL);
    }
}

static struct ke_worker *worker_get(struct ke *ke)
{
    if (ke->worker)
        return ke->worker;
    struct ke_worker *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->ready.Header.Type = 5;
    w->ready.Header.Size = sizeof(KSEMAPHORE) / sizeof(LONG);
    w->ready.Header.SignalState = 0;
    InitializeListHead(&w->ready.Header.WaitListHead);
    w->ready.Limit = 0x7fffffff;
    unsigned n = ke->nprocessors < 4 ? ke->nprocessors : 4;
    for (unsigned i = 0; i < n; i++)
        if (ke_thread_create(ke, "worker", worker_main, w, -1))
            w->threads++;
    if (!w->threads) {
        free(w);
        return NULL;
    }
    ke->worker = w;
    return w;
}

int ke_worker_queue(struct ke *ke, void (*fn)(void *), void *arg)
{
    struct ke_worker *w = worker_get(ke);
    struct ke_work *item = w ? malloc(sizeof(*item)) : NULL;
    if (!item)
        return -1;
    item->fn = fn;
    item->arg = arg;
    item->next = NULL;
    if (w->tail)
        w->tail->next = item;
    else
        w->head = item;
    w->tail = item;
    w->ready.Header.SignalState++;
    ke_object_signal(ke, &w->ready.Header);
    return 0;
}

void ke_worker_fini(struct ke *ke)
{
    struct ke_worker *w = ke->worker;
    if (!w)
        return;
    while (w->head) {
        struct ke_work *i = w->head;
        w->head = i->next;
        free(i);
    }
    free(w);
    ke->worker = NULL;
}

/* ---- IO_WORKITEM ------------------------------------------------------------------- */

struct _IO_WORKITEM {
    PDEVICE_OBJECT DeviceObject;
    PIO_WORKITEM_ROUTINE Routine;
    PVOID Context;
    bool queued;
};

static void run_item(void *arg)
{
    struct _IO_WORKITEM *item = arg;
    item->queued = false;
    item->Routine(item->DeviceObject, item->Context);
}

NTKERNELAPI PIO_WORKITEM NTAPI IoAllocateWorkItem(PDEVICE_OBJECT DeviceObject)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    ke_check_irql_max(ke, DISPATCH_LEVEL, 0, "IoAllocateWorkItem");
    struct _IO_WORKITEM *item = calloc(1, sizeof(*item));
    if (item)
        item->DeviceObject = DeviceObject;
    return item;
}

NTKERNELAPI VOID NTAPI IoFreeWorkItem(PIO_WORKITEM IoWorkItem)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    ke_check_irql_max(ke, DISPATCH_LEVEL, 0, "IoFreeWorkItem");
    /* Freeing a queued item is the driver's bug; keeping the memory turns
     * a use-after-free in wdmsim into a leak. */
    if (IoWorkItem && !IoWorkItem->queued)
        free(IoWorkItem);
}

NTKERNELAPI VOID NTAPI IoQueueWorkItem(PIO_WORKITEM IoWorkItem, PIO_WORKITEM_ROUTINE WorkerRoutine,
                                       WORK_QUEUE_TYPE QueueType, PVOID Context)
{
    struct ke *ke = &sys_get()->ke;
    (void)QueueType;
    ke_sched_point(ke);
    ke_check_irql_max(ke, DISPATCH_LEVEL, 0, "IoQueueWorkItem");
    if (IoWorkItem->queued)
        /* WORKER_INVALID: the item is already in a queue. */
        ke_bugcheck(0xE4, 0, (uint64_t)(uintptr_t)IoWorkItem, 0, 0, NULL,
                    "[work item %p] IoQueueWorkItem while it is still queued", (void *)IoWorkItem);
    IoWorkItem->Routine = WorkerRoutine;
    IoWorkItem->Context = Context;
    IoWorkItem->queued = true;
    if (ke_worker_queue(ke, run_item, IoWorkItem))
        ke_bugcheck(0x7D, 0, 0, 0, 0, NULL, "no simulated memory left for a worker thread");
}
