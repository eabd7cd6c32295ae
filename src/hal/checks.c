/*
 * src/hal/checks.c - the Linux dma-debug style checks of a new mapping and
 * of a driver's unload.
 *
 * Models: spec/verifier.md 9, second table: mapping stack memory
 * (dma.stack-buffer), overlapping device-writable mappings of one cache
 * line (dma.overlap), mappings left when the driver goes away
 * (dma.leak-at-unload; Windows looks only at PutDmaAdapter).
 * Invariants: the checks read registers, direct lists' records
 * (mapdirect.c) and MDLs only; a refused map leaves every register as it
 * was.
 * Not modelled: dma.image-buffer: driver images are dlopen'ed host memory
 * without frames, so no MDL can describe them (MmBuildMdlForNonPagedPool
 * stops with 0x50 first). dma.sg-segment-limit: the HAL builds every
 * element itself and the register count, not MaximumLength, bounds a
 * MapTransfer (drivers legitimately map count * PAGE_SIZE), so no driver
 * can hand the device an over-long segment through the DMA API.
 */
#include "sys.h"

enum { cache_line = 64 };

/* The fiber stack holding va, if any (every thread, idle ones included). */
static bool on_a_stack(struct ke *ke, uintptr_t va, uint64_t len)
{
    for (struct ke_thread *t = ke->threads; t; t = t->next) {
        uintptr_t lo, hi;
        ke_fiber_bounds(&t->fiber, &lo, &hi);
        if (va < hi && va + len > lo)
            return true;
    }
    for (unsigned p = 0; p < ke->nprocessors; p++) {
        const struct ke_thread *t = ke->processor[p].idle;
        uintptr_t lo, hi;
        if (!t)
            continue;
        ke_fiber_bounds(&t->fiber, &lo, &hi);
        if (va < hi && va + len > lo)
            return true;
    }
    return false;
}

/* Another live device->memory mapping of a that shares a cache line with
 * the page bytes [off, off + len) of frame, other than the same bytes. */
static void *overlapping(struct hal_adapter *a, uint64_t frame, uint64_t off, uint64_t len)
{
    struct hal_mapreg_file *f = &a->regs;
    if (!f->nmapped)
        return NULL;
    uint64_t lo = off & ~(uint64_t)(cache_line - 1);
    uint64_t hi = (off + len + cache_line - 1) & ~(uint64_t)(cache_line - 1);
    for (unsigned i = 0; i < f->count; i++) {
        const struct hal_mapreg *r = &f->reg[i];
        if (r->state != hal_reg_mapped || r->dir != hal_dir_from_device || r->source != frame)
            continue;
        /* The same bytes mapped again (a list not put, then rebuilt) is a
         * remap, reported as what it is (double-map / put-with-sg-lists). */
        if (r->offset == off && r->length == len)
            continue;
        if (r->offset < hi && (uint64_t)r->offset + r->length > lo) {
            unsigned s = i; /* the operation's first register names the owner */
            while (s > 0 && !f->reg[s].op_start && f->reg[s - 1].state == hal_reg_mapped)
                s--;
            return f->reg[s].op_start ? f->op[s].owner : NULL;
        }
    }
    /* Direct lists (mapdirect.c): the page of each run that lies on frame. */
    for (unsigned d = 0; d < f->ndirect; d++) {
        unsigned op = f->direct[d];
        if (f->op[op].dir != hal_dir_from_device)
            continue;
        for (unsigned k = op; k < op + f->op[op].nruns; k++) {
            struct hal_mapreg v;
            if (hal_maprun_page(f, op, k, frame ^ f->lx_page, &v) < 0)
                continue;
            if (v.offset == off && v.length == len)
                continue;
            if (v.offset < hi && (uint64_t)v.offset + v.length > lo)
                return f->op[op].owner;
        }
    }
    return NULL;
}

bool hal_check_map(struct hal_adapter *a, const struct hal_sg_walk *w, void *owner,
                   enum hal_dir dir)
{
    struct sys *sys = sys_get();
    unsigned shift = a->lim.page_shift;
    uint64_t psize = 1ULL << shift;
    uintptr_t va = w->cur_va;
    uint64_t left = w->length;
    for (const MDL *m = w->mdl; m && left; m = m->Next) {
        uintptr_t start = (uintptr_t)m->StartVa + m->ByteOffset;
        if (m != w->mdl)
            va = start;
        uint64_t len = start + m->ByteCount > va ? start + m->ByteCount - va : 0;
        if (len > left)
            len = left;
        if (len && on_a_stack(&sys->ke, va, len)) {
            hal_violation(a->hal, &hal_rule_stack_buffer, va, (uintptr_t)m, 0,
                          "DMA %s of %llu bytes at %#lx (MDL %p): that is a kernel stack",
                          hal_dir_name(dir), (unsigned long long)len, (unsigned long)va, (void *)m);
            return false;
        }
        if (dir == hal_dir_from_device && len) {
            const PFN_NUMBER *pfn = (const PFN_NUMBER *)(m + 1);
            uint64_t idx = (va - ((uintptr_t)m->StartVa & ~(psize - 1))) >> shift;
            uint64_t off = va & (psize - 1), l = len;
            for (; l; idx++) {
                uint64_t chunk = psize - off < l ? psize - off : l;
                void *other = overlapping(a, pfn[idx], off, chunk);
                if (other && other != owner) {
                    hal_violation(a->hal, &hal_rule_overlap, va, (uintptr_t)owner, (uintptr_t)other,
                                  "device->memory mapping of %#lx (%p) shares a cache line with "
                                  "the live device->memory mapping %p: the device's writes of "
                                  "one clobber the other",
                                  (unsigned long)va, owner, other);
                    return false;
                }
                l -= chunk;
                off = 0;
            }
        }
        left -= len;
    }
    return true;
}

void hal_check_unload(struct hal *hal, uintptr_t lo, uintptr_t hi)
{
    for (struct hal_adapter *a = hal->adapters; a; a = a->next) {
        if (a->dead || a->caller < lo || a->caller >= hi)
            continue;
        unsigned held = a->regs.count - a->regs.nfree;
        if (!held && !a->common_buffers && !a->sg_lists)
            continue;
        hal_violation(hal, &hal_rule_leak_at_unload, (uintptr_t)a, held,
                      a->common_buffers + a->sg_lists,
                      "driver unloaded while its DMA adapter %p holds %u map registers, %u common "
                      "buffers and %u scatter/gather lists",
                      (void *)a, held, a->common_buffers, a->sg_lists);
    }
}
