/*
 * src/hal/sgops.c - GetScatterGatherList, BuildScatterGatherList,
 * PutScatterGatherList, CalculateScatterGatherList,
 * BuildMdlFromScatterGatherList.
 *
 * Models: spec/dma.md 3 and 5 (a). A list is [SCATTER_GATHER_LIST header,
 * elements, wdmsim context] in one block: pool memory for Get, the
 * caller's buffer for Build (CalculateScatterGatherList's size counts the
 * context). list->Reserved points at the context, as the HAL keeps its
 * own data there. Registers come from the adapter's file (FIFO); when they
 * are short the list is built and the routine called later, at
 * DISPATCH_LEVEL, from the free that made room. No element cap: the list
 * is sized by counting first (spec/dma.md 8).
 * Rule ids: dma.sg-double-put, dma.wrong-release-api, dma.zero-length,
 * dma.buffer-too-small, dma.unchecked-failure; hal_check_map's
 * (checks.c); the ownership window of own.c.
 * Invariants: a Get list's memory stays valid (quarantined) for a while
 * after its Put, so a second Put is reported instead of reading freed
 * memory.
 * Not modelled: the Irp argument of the list routine beyond CurrentIrp.
 */
#include <stdlib.h>
#include <string.h>

#include "sys.h"

enum { sg_ctx_magic = 0x4C475348 /* 'HSGL' */ };

struct hal_sg_ctx {
    uint32_t magic;
    bool from_get, put, mdl_built;
    struct hal_adapter *adapter;
    unsigned first, n;
    enum hal_dir dir;
    PMDL mdl; /* the transfer's first MDL */
    uintptr_t va;
    ULONG length;
    unsigned nel;
    PMDL built_mdl; /* BuildMdlFromScatterGatherList */
    PDEVICE_OBJECT device;
    PIRP irp;
    PDRIVER_LIST_CONTROL routine;
    PVOID context;
    struct hal_mapreg_waiter wait;
    PSCATTER_GATHER_LIST list;
};

static size_t list_bytes(unsigned nel)
{
    size_t b = sizeof(SCATTER_GATHER_LIST) + (size_t)nel * sizeof(SCATTER_GATHER_ELEMENT);
    return (b + 15) & ~(size_t)15;
}

ULONG hal_sg_list_size(unsigned nel)
{
    return (ULONG)(list_bytes(nel) + sizeof(struct hal_sg_ctx));
}

static void quarantine(struct hal *hal, void *block)
{
    enum { slots = sizeof(hal->sg_quarantine) / sizeof(hal->sg_quarantine[0]) };
    unsigned i = hal->sg_q_next++ % slots;
    free(hal->sg_quarantine[i]);
    hal->sg_quarantine[i] = block;
}

/* Builds the list into its registers and calls the routine at D. */
static void sg_run(struct hal_sg_ctx *c, unsigned first, uint32_t gen)
{
    struct hal_adapter *a = c->adapter;
    struct sys *sys = sys_get();
    c->first = first;
    struct hal_sg_walk w = {c->mdl, c->va, c->length};
    struct hal_sg_out out = {.el = c->list->Elements, .cap = c->nel};
    long ne = hal_sg_build_list(&w, &a->lim, &a->regs, first, a->bounce_base, c->dir,
                                &sys->machine.ram, &out);
    c->list->NumberOfElements = ne > 0 ? (ULONG)ne : 0;
    a->sg_built++;
    a->sg_elements += c->list->NumberOfElements;
    ke_observe(&sys->ke, ke_ev_dma_map, ke_dma_arg(a->id, c->dir, first, c->length),
               ne > 0 ? (uint64_t)c->list->Elements[0].Address.QuadPart : 0);
    hal_xferlog_map(a, hal_xfer_list, c->mdl, c->va, c->length, c->dir, first, c->n,
                    c->list->Elements, c->list->NumberOfElements, c->device);
    /* The list's operation; a direct one keeps its runs (mapdirect.c). */
    struct hal_mapop *op = &a->regs.op[first];
    a->regs.reg[first].op_start = true;
    op->va = c->va;
    op->owner = c->list;
    op->len = c->length;
    op->regs = (uint16_t)c->n;
    op->dir = (uint8_t)c->dir;
    if (!out.direct)
        op->nruns = 0;
    hal_own_begin(a, &w, c->list, first, c->n, c->dir);
    a->sg_lists++;
    uint8_t old = ke_raise_irql(&sys->ke, DISPATCH_LEVEL);
    a->in_control++;
    if (c->routine)
        c->routine(c->device, c->irp, c->list, c->context);
    a->in_control--;
    ke_lower_irql(&sys->ke, old);
}

static void on_grant(void *ctx, unsigned first, unsigned n, uint32_t gen)
{
    sg_run(ctx, first, gen);
}

/* The chain from CurrentVa is shorter than Length (or CurrentVa is outside
 * the first MDL): dma.buffer-too-small with the bytes no MDL accounts for. */
static void report_too_small(struct hal_adapter *a, const struct hal_sg_walk *w)
{
    uint64_t have = 0;
    uintptr_t va = w->cur_va;
    for (const MDL *m = w->mdl; m; m = m->Next) {
        uintptr_t start = (uintptr_t)m->StartVa + m->ByteOffset, end = start + m->ByteCount;
        if (m != w->mdl)
            va = start;
        if (va >= start && va < end)
            have += end - va;
        else if (m == w->mdl)
            break;
    }
    uint64_t missing = w->length > have ? w->length - have : w->length;
    hal_violation(a->hal, &hal_rule_buffer_too_small, missing, (uintptr_t)w->mdl, 0,
                  "scatter/gather transfer of %llu bytes at %#lx: the MDL chain %p holds %llu "
                  "of them",
                  (unsigned long long)w->length, (unsigned long)w->cur_va, (void *)w->mdl,
                  (unsigned long long)have);
}

/* Checks shared by Get and Build; fills pages and element count. */
static NTSTATUS sg_prepare(struct hal_adapter *a, PMDL Mdl, PVOID CurrentVa, ULONG Length,
                           BOOLEAN WriteToDevice, unsigned *pages, unsigned *nel)
{
    if (Length == 0) {
        hal_violation(a->hal, &hal_rule_zero_length, (uintptr_t)Mdl, 0, 0,
                      "scatter/gather list of 0 bytes (MDL %p)", (void *)Mdl);
        return STATUS_INVALID_PARAMETER;
    }
    struct hal_sg_walk w = {Mdl, (uintptr_t)CurrentVa, Length};
    uint64_t p;
    if (!Mdl || hal_sg_span(&w, a->lim.page_shift, &p)) {
        report_too_small(a, &w);
        return STATUS_BUFFER_TOO_SMALL;
    }
    if (p > a->nregs)
        return STATUS_INSUFFICIENT_RESOURCES;
    if (!hal_check_map(a, &w, NULL, WriteToDevice ? hal_dir_to_device : hal_dir_from_device))
        return STATUS_INVALID_PARAMETER;
    long ne = hal_sg_count(&w, &a->lim, a->bounce_base);
    if (ne < 0)
        return STATUS_BUFFER_TOO_SMALL;
    *pages = (unsigned)p;
    *nel = (unsigned)ne;
    return STATUS_SUCCESS;
}

NTSTATUS hal_sg_start(struct hal_adapter *a, PDEVICE_OBJECT dev, PMDL Mdl, PVOID CurrentVa,
                      ULONG Length, PDRIVER_LIST_CONTROL routine, PVOID Context,
                      BOOLEAN WriteToDevice, void *buffer, ULONG buflen,
                      PSCATTER_GATHER_LIST *sync_out)
{
    unsigned pages, nel;
    NTSTATUS st = sg_prepare(a, Mdl, CurrentVa, Length, WriteToDevice, &pages, &nel);
    if (!NT_SUCCESS(st))
        return st;
    bool from_get = buffer == NULL;
    if (!from_get && buflen < hal_sg_list_size(nel))
        return STATUS_BUFFER_TOO_SMALL;
    if (from_get) {
        buffer = calloc(1, hal_sg_list_size(nel));
        if (!buffer)
            return STATUS_INSUFFICIENT_RESOURCES;
    }
    PSCATTER_GATHER_LIST list = buffer;
    struct hal_sg_ctx *c = (struct hal_sg_ctx *)((char *)buffer + list_bytes(nel));
    *c = (struct hal_sg_ctx){
        .magic = sg_ctx_magic,
        .from_get = from_get,
        .adapter = a,
        .n = pages,
        .dir = WriteToDevice ? hal_dir_to_device : hal_dir_from_device,
        .mdl = Mdl,
        .va = (uintptr_t)CurrentVa,
        .length = Length,
        .nel = nel,
        .device = dev,
        .irp = dev ? dev->CurrentIrp : NULL,
        .routine = routine,
        .context = Context,
        .list = list,
    };
    list->NumberOfElements = 0;
    list->Reserved = (ULONG_PTR)c;
    uint32_t gen;
    int first = hal_mapreg_alloc(&a->regs, pages, &gen);
    if (sync_out) {
        if (first < 0) {
            if (from_get)
                free(buffer);
            return STATUS_INSUFFICIENT_RESOURCES;
        }
        sg_run(c, (unsigned)first, gen);
        *sync_out = list;
        return STATUS_SUCCESS;
    }
    if (first < 0) {
        c->wait = (struct hal_mapreg_waiter){.n = pages, .grant = on_grant, .ctx = c};
        hal_mapreg_wait(&a->regs, &c->wait);
        return STATUS_SUCCESS;
    }
    sg_run(c, (unsigned)first, gen);
    return STATUS_SUCCESS;
}

NTSTATUS NTAPI hal_op_get_scatter_gather_list(PDMA_ADAPTER DmaAdapter, PDEVICE_OBJECT DeviceObject,
                                              PMDL Mdl, PVOID CurrentVa, ULONG Length,
                                              PDRIVER_LIST_CONTROL ExecutionRoutine, PVOID Context,
                                              BOOLEAN WriteToDevice)
{
    struct hal_adapter *a = hal_enter(DmaAdapter, hal_irql_dispatch, "GetScatterGatherList");
    if (!a)
        return STATUS_INVALID_PARAMETER;
    return hal_sg_start(a, DeviceObject, Mdl, CurrentVa, Length, ExecutionRoutine, Context,
                        WriteToDevice, NULL, 0, NULL);
}

NTSTATUS NTAPI hal_op_build_scatter_gather_list(
    PDMA_ADAPTER DmaAdapter, PDEVICE_OBJECT DeviceObject, PMDL Mdl, PVOID CurrentVa, ULONG Length,
    PDRIVER_LIST_CONTROL ExecutionRoutine, PVOID Context, BOOLEAN WriteToDevice,
    PVOID ScatterGatherBuffer, ULONG ScatterGatherLength)
{
    struct hal_adapter *a = hal_enter(DmaAdapter, hal_irql_dispatch, "BuildScatterGatherList");
    if (!a)
        return STATUS_INVALID_PARAMETER;
    if (!ScatterGatherBuffer)
        return STATUS_INVALID_PARAMETER;
    return hal_sg_start(a, DeviceObject, Mdl, CurrentVa, Length, ExecutionRoutine, Context,
                        WriteToDevice, ScatterGatherBuffer, ScatterGatherLength, NULL);
}

static struct hal_sg_ctx *ctx_of(struct hal_adapter *a, PSCATTER_GATHER_LIST list)
{
    struct hal_sg_ctx *c = list ? (struct hal_sg_ctx *)list->Reserved : NULL;
    if (!c || c->magic != sg_ctx_magic || c->adapter != a || c->list != list) {
        hal_violation(a->hal, &hal_rule_wrong_release_api, (uintptr_t)list, 0, 0,
                      "scatter/gather list %p was not made by Get/BuildScatterGatherList of "
                      "adapter %p",
                      (void *)list, (void *)a);
        return NULL;
    }
    return c;
}

VOID NTAPI hal_op_put_scatter_gather_list(PDMA_ADAPTER DmaAdapter,
                                          PSCATTER_GATHER_LIST ScatterGather, BOOLEAN WriteToDevice)
{
    struct hal_adapter *a = hal_enter(DmaAdapter, hal_irql_dispatch, "PutScatterGatherList");
    if (!a)
        return;
    if (!ScatterGather) {
        hal_violation(a->hal, &hal_rule_unchecked_failure, 2, 0, 0,
                      "PutScatterGatherList(NULL): the list was never built (a failed "
                      "Get/BuildScatterGatherList status not checked?)");
        return;
    }
    struct hal_sg_ctx *c = ctx_of(a, ScatterGather);
    if (!c)
        return;
    if (c->put) {
        hal_violation(a->hal, &hal_rule_sg_double_put, 1, 2, 0,
                      "PutScatterGatherList(%p) of a list already put", (void *)ScatterGather);
        return;
    }
    struct sys *sys = sys_get();
    c->put = true;
    a->sg_lists--;
    ke_observe(&sys->ke, ke_ev_dma_unmap, ke_dma_arg(a->id, c->dir, c->first, 0), 0);
    hal_xferlog_unmap(a, c->first);
    hal_unmap(a, c->first, c->n, true, &sys->machine.ram);
    free(c->built_mdl);
    c->built_mdl = NULL;
    uint8_t old = ke_raise_irql(&sys->ke, DISPATCH_LEVEL);
    hal_mapreg_free(&a->regs, c->first, c->n);
    ke_lower_irql(&sys->ke, old);
    if (c->from_get)
        quarantine(a->hal, ScatterGather);
}

NTSTATUS NTAPI hal_op_calculate_scatter_gather_list(PDMA_ADAPTER DmaAdapter, PMDL Mdl,
                                                    PVOID CurrentVa, ULONG Length,
                                                    PULONG ScatterGatherListSize,
                                                    PULONG pNumberOfMapRegisters)
{
    struct hal_adapter *a = hal_enter(DmaAdapter, hal_irql_any, "CalculateScatterGatherList");
    if (!a || !ScatterGatherListSize)
        return STATUS_INVALID_PARAMETER;
    unsigned shift = a->lim.page_shift;
    uint64_t mask = (1ULL << shift) - 1;
    uint64_t pages = (((uintptr_t)CurrentVa & mask) + Length + mask) >> shift;
    if (pages > a->nregs)
        return STATUS_INSUFFICIENT_RESOURCES;
    uint64_t nel = pages;
    if (Mdl) {
        struct hal_sg_walk w = {Mdl, (uintptr_t)CurrentVa, Length};
        long ne = hal_sg_count(&w, &a->lim, a->bounce_base);
        if (ne < 0)
            return STATUS_BUFFER_TOO_SMALL;
        nel = (uint64_t)ne;
    } else if (a->lim.max_segment && a->lim.max_segment < (1ULL << shift)) {
        nel = pages * (((1ULL << shift) + a->lim.max_segment - 1) / a->lim.max_segment);
    }
    *ScatterGatherListSize = hal_sg_list_size((unsigned)nel);
    if (pNumberOfMapRegisters)
        *pNumberOfMapRegisters = (ULONG)pages;
    return STATUS_SUCCESS;
}

NTSTATUS NTAPI hal_op_build_mdl_from_scatter_gather_list(PDMA_ADAPTER DmaAdapter,
                                                         PSCATTER_GATHER_LIST ScatterGather,
                                                         PMDL OriginalMdl, PMDL *TargetMdl)
{
    struct hal_adapter *a = hal_enter(DmaAdapter, hal_irql_max_d, "BuildMdlFromScatterGatherList");
    if (!a || !OriginalMdl || !TargetMdl)
        return STATUS_INVALID_PARAMETER;
    struct hal_sg_ctx *c = ctx_of(a, ScatterGather);
    if (!c)
        return STATUS_INVALID_PARAMETER;
    if (c->mdl_built)
        return STATUS_NONE_MAPPED;
    c->mdl_built = true;
    bool bounced = false;
    if (!hal_mapreg_is_direct(&a->regs, c->first)) /* a direct list bounces nothing */
        for (unsigned i = c->first; i < c->first + c->n; i++)
            bounced |= a->regs.reg[i].bounce;
    if (!bounced) {
        *TargetMdl = OriginalMdl;
        return STATUS_SUCCESS;
    }
    /* The pages the device really touches: the original's with each
     * bounced page replaced by its bounce frame. */
    unsigned shift = a->lim.page_shift;
    uint64_t mask = (1ULL << shift) - 1;
    uintptr_t start = (uintptr_t)OriginalMdl->StartVa + OriginalMdl->ByteOffset;
    uint64_t pages = ((start & mask) + OriginalMdl->ByteCount + mask) >> shift;
    PMDL m = calloc(1, sizeof(MDL) + pages * sizeof(PFN_NUMBER));
    if (!m)
        return STATUS_INSUFFICIENT_RESOURCES;
    *m = *OriginalMdl;
    m->Next = NULL;
    m->MdlFlags = (CSHORT)((OriginalMdl->MdlFlags & ~MDL_MAPPED_TO_SYSTEM_VA) | MDL_PAGES_LOCKED);
    m->MappedSystemVa = NULL;
    PFN_NUMBER *pfn = (PFN_NUMBER *)(m + 1);
    memcpy(pfn, OriginalMdl + 1, pages * sizeof(PFN_NUMBER));
    uint64_t k0 = (c->va - ((uintptr_t)OriginalMdl->StartVa)) >> shift;
    for (unsigned i = 0; i < c->n && k0 + i < pages; i++)
        pfn[k0 + i] = a->regs.reg[c->first + i].target;
    c->built_mdl = m;
    *TargetMdl = m;
    return STATUS_SUCCESS;
}
