/*
 * src/hal/xferlog.c - the transfer log: what the last DMA transfers and the
 * last requests' buffers looked like, for drawings (src/host/draw*.c).
 *
 * Models: nothing of Windows. It records, at the moment the HAL maps a
 * transfer (MapTransfer, a scatter/gather list built), each page of the
 * buffer (virtual page, the frame it sits on, the map register, the frame
 * the register targets, bounced or not) and the elements the device was
 * given (logical address, length); at the flush / put, that it ended and
 * how much was bounced back. For a request the I/O manager built
 * (src/io/request.c), the method and the caller's buffers, SystemBuffer and
 * MdlAddress, each page with its frame.
 * Spec: issue 9 item 3; docs/draw.md.
 * Invariants: off (hal->xlog NULL) nothing is recorded and each hook costs
 * one pointer test; records are copies, so a drawing never reads memory
 * that the run has since freed. Transfer numbers count every map, as the
 * trace's DMA slice ids do (src/host/trace_write.c), so transfer N is the
 * trace's slice N. A direct list's pages are read through hal_mapreg_view:
 * the same records as if it had per-page registers.
 * Not modelled: the bytes the device moved (a drawing shows the mapping,
 * not the data); for system DMA the copy-back counted is the bounced
 * mapped bytes, not Length - ReadDmaCounter.
 */
#include <stdlib.h>
#include <string.h>

#include "sys.h"

int hal_xferlog_start(struct hal *hal, unsigned cap, unsigned iocap)
{
    if (hal->xlog)
        return 0;
    struct hal_xferlog *l = calloc(1, sizeof(*l));
    if (!l)
        return -1;
    l->cap = cap ? cap : 256;
    l->iocap = iocap ? iocap : 64;
    l->ring = calloc(l->cap, sizeof(*l->ring));
    l->ioring = calloc(l->iocap, sizeof(*l->ioring));
    if (!l->ring || !l->ioring) {
        free(l->ring);
        free(l->ioring);
        free(l);
        return -1;
    }
    hal->xlog = l;
    return 0;
}

void hal_xferlog_stop(struct hal *hal)
{
    struct hal_xferlog *l = hal->xlog;
    if (!l)
        return;
    hal->xlog = NULL;
    free(l->ring);
    free(l->ioring);
    free(l);
}

const struct hal_xfer *hal_xferlog_get(const struct hal *hal, unsigned seq)
{
    const struct hal_xferlog *l = hal->xlog;
    if (!l || !seq)
        return NULL;
    const struct hal_xfer *x = &l->ring[seq % l->cap];
    return x->seq == seq ? x : NULL;
}

const struct hal_iobuf *hal_xferlog_get_io(const struct hal *hal, unsigned seq)
{
    const struct hal_xferlog *l = hal->xlog;
    if (!l || !seq)
        return NULL;
    const struct hal_iobuf *b = &l->ioring[seq % l->iocap];
    return b->seq == seq ? b : NULL;
}

static uint64_t now(void)
{
    struct sys *sys = sys_get();
    return sys ? ke_now(&sys->ke) : 0;
}

/* The transfer's pages in register order: register first + k holds the
 * k-th page (sg.c's invariant), walking the chain only for lists. */
static void fill_pages(struct hal_xfer *x, const struct hal_adapter *a, const MDL *mdl,
                       uintptr_t va, uint64_t len, bool chain)
{
    unsigned shift = a->lim.page_shift;
    uint64_t mask = (1ULL << shift) - 1;
    unsigned k = 0;
    for (const MDL *m = mdl; m && len && k < x->npages; m = chain ? m->Next : NULL) {
        uintptr_t start = (uintptr_t)m->StartVa + m->ByteOffset;
        uintptr_t v = m == mdl ? va : start;
        uintptr_t end = start + m->ByteCount;
        uint64_t part = end > v ? end - v : 0;
        if (part > len)
            part = len;
        len -= part;
        for (uintptr_t p = v & ~(uintptr_t)mask; p < v + part && k < x->npages;
             p += (uintptr_t)1 << shift, k++) {
            if (k >= hal_xfer_max_pages)
                continue;
            struct hal_mapreg r; /* a direct list's page is derived (mapdirect.c) */
            hal_mapreg_view(&a->regs, x->first_reg + k, &r);
            x->page[k] = (struct hal_xfer_page){
                .va = p,
                .frame = r.source,
                .target = r.target,
                .reg = x->first_reg + k,
                .offset = r.offset,
                .length = r.length,
                .bounce = r.bounce,
            };
            if (r.bounce && x->dir == hal_dir_to_device)
                x->copied_in += r.length;
        }
    }
}

void hal_xferlog_map_rec(struct hal_adapter *a, enum hal_xfer_kind kind, PMDL mdl, uintptr_t va,
                         uint32_t length, enum hal_dir dir, unsigned first, unsigned npages,
                         const SCATTER_GATHER_ELEMENT *els, unsigned nels, PDEVICE_OBJECT dev)
{
    struct hal_xferlog *l = a->hal->xlog;
    unsigned seq = ++l->next;
    struct hal_xfer *x = &l->ring[seq % l->cap];
    memset(x, 0, sizeof(*x));
    *x = (struct hal_xfer){
        .seq = seq,
        .kind = kind,
        .dir = dir,
        .adapter = a->id,
        .channel = a->channel,
        .master = a->master,
        .scatter_gather = a->lim.scatter_gather,
        .auto_init = a->auto_init,
        .width = a->width,
        .device = (uintptr_t)dev,
        .mdl = (uintptr_t)mdl,
        .mdl_start_va = mdl ? (uintptr_t)mdl->StartVa : 0,
        .mdl_byte_offset = mdl ? mdl->ByteOffset : 0,
        .mdl_byte_count = mdl ? mdl->ByteCount : 0,
        .va = va,
        .length = length,
        .first_reg = first,
        .npages = npages,
        .nels = nels,
        .t_map = now(),
    };
    if (first + npages > a->regs.count)
        x->npages = first < a->regs.count ? a->regs.count - first : 0;
    if (mdl)
        fill_pages(x, a, mdl, va, length, kind == hal_xfer_list);
    for (unsigned i = 0; i < nels && i < hal_xfer_max_els; i++)
        x->el[i] = (struct hal_xfer_el){(uint64_t)els[i].Address.QuadPart, els[i].Length};
}

void hal_xferlog_unmap_rec(struct hal_adapter *a, unsigned first)
{
    struct hal_xferlog *l = a->hal->xlog;
    unsigned n = l->next < l->cap ? l->next : l->cap;
    for (unsigned i = 0; i < n; i++) {
        struct hal_xfer *x = &l->ring[(l->next - i) % l->cap];
        if (x->seq && !x->done && x->adapter == a->id && x->first_reg == first) {
            x->done = true;
            x->t_done = now();
            for (unsigned k = 0; k < x->npages && first + k < a->regs.count; k++) {
                struct hal_mapreg r;
                if (hal_mapreg_view(&a->regs, first + k, &r) && r.state == hal_reg_mapped &&
                    r.bounce && r.dir == hal_dir_from_device)
                    x->copied_back += r.length;
            }
            return;
        }
    }
}

/* Each page of [va, va + len) with its frame, read from the PTEs of the
 * current context (the requester's, at submission). */
static void fill_area(struct hal_iobuf_area *ar, const void *va, uint32_t len)
{
    struct mm *mm = &sys_get()->mm;
    uint64_t page = mm->page_size;
    *ar = (struct hal_iobuf_area){.va = (uintptr_t)va, .length = len};
    if (!va || !len)
        return;
    uintptr_t p0 = (uintptr_t)va & ~(uintptr_t)(page - 1);
    ar->npages = (unsigned)(((uintptr_t)va + len - p0 + page - 1) / page);
    for (unsigned k = 0; k < ar->npages && k < hal_xfer_max_pages; k++) {
        uintptr_t p = p0 + k * page;
        uint64_t *pte = mm_pte_of(mm, (const void *)p);
        bool present = pte && (*pte & mm_pte_valid);
        ar->page[k] = (struct hal_iobuf_page){p, present ? mm_pte_frame(*pte) : 0, present};
    }
}

static uint32_t sysbuf_bytes(uint8_t major, enum hal_io_method method, uint32_t in_len,
                             uint32_t out_len)
{
    if (major == IRP_MJ_READ)
        return out_len;
    if (major == IRP_MJ_WRITE)
        return in_len;
    if (method == hal_io_buffered)
        return in_len > out_len ? in_len : out_len;
    return in_len; /* IN_/OUT_DIRECT: the input only */
}

void hal_xferlog_irp_rec(struct hal *hal, PIRP irp, PDEVICE_OBJECT dev, uint8_t major,
                         uint32_t code, void *in, uint32_t in_len, void *out, uint32_t out_len)
{
    struct hal_xferlog *l = hal->xlog;
    enum hal_io_method method = hal_io_neither;
    if (major == IRP_MJ_READ || major == IRP_MJ_WRITE) {
        code = 0;
        method = (dev->Flags & DO_BUFFERED_IO) ? hal_io_buffered
                 : (dev->Flags & DO_DIRECT_IO) ? hal_io_direct
                                               : hal_io_neither;
    } else if (major == IRP_MJ_DEVICE_CONTROL) {
        switch (METHOD_FROM_CTL_CODE(code)) {
        case METHOD_BUFFERED:
            method = hal_io_buffered;
            break;
        case METHOD_IN_DIRECT:
        case METHOD_OUT_DIRECT:
            method = hal_io_direct;
            break;
        default:
            method = hal_io_neither;
            break;
        }
    } else {
        return; /* CREATE, CLOSE ...: no buffers */
    }
    unsigned seq = ++l->ionext;
    struct hal_iobuf *b = &l->ioring[seq % l->iocap];
    memset(b, 0, sizeof(*b));
    b->seq = seq;
    b->irp = (uintptr_t)irp;
    b->device = (uintptr_t)dev;
    b->major = major;
    b->code = code;
    b->method = method;
    b->mode = irp->RequestorMode;
    b->t_submit = now();
    fill_area(&b->in, in, in_len);
    fill_area(&b->out, out, out_len);
    void *sb = irp->AssociatedIrp.SystemBuffer;
    if (sb && (irp->Flags & IRP_BUFFERED_IO))
        fill_area(&b->sysbuf, sb, sysbuf_bytes(major, method, in_len, out_len));
    PMDL m = irp->MdlAddress;
    if (m) {
        b->mdl = (uintptr_t)m;
        b->mdl_start_va = (uintptr_t)m->StartVa;
        b->mdl_byte_offset = m->ByteOffset;
        b->mdl_byte_count = m->ByteCount;
        uint64_t page = sys_get()->mm.page_size;
        b->mdl_npages = (unsigned)((m->ByteOffset + (uint64_t)m->ByteCount + page - 1) / page);
        const PFN_NUMBER *pfn = MmGetMdlPfnArray(m);
        for (unsigned k = 0; k < b->mdl_npages && k < hal_xfer_max_pages; k++)
            b->mdl_frames[k] = pfn[k];
    }
}
