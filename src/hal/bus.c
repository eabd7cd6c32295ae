/*
 * src/hal/bus.c - device accesses to memory: logical address -> frame
 * through the adapter's live mappings, checked, copied with the direct map.
 *
 * Models: the system bus between a DMA-capable device and RAM as the HAL
 * arranges it (spec/dma.md 4; spec/verifier.md 9): the device emits a
 * logical address no wider than its address width; the address must fall
 * in a mapped register's byte range (or a common buffer of the adapter) and
 * the register's direction must match the access. A direct list's page is
 * resolved to the record its register would hold (hal_mapreg_resolve); a
 * fault on one expands the list so the report can name the register.
 * Invariants: nothing is copied past the first faulting byte; a copy never
 * crosses a page boundary in one step (frames behind two logical pages are
 * unrelated); no syscall per access.
 * With the logical-offset option a master's logical address is its
 * physical one XOR a fixed high bit inside its width (adapter.c), so a
 * physical address handed to the device misses (dma.physical-address-used).
 * Not modelled: partial-line cache effects; IOMMU faults (an adapter here
 * is the translation).
 */
#include <string.h>

#include "hal/hal.h"
#include "ke/ke.h"

struct hal_common_buffer *hal_common_find(struct hal_adapter *a, uint64_t logical, uint64_t len)
{
    for (struct hal_common_buffer *c = a->commons; c; c = c->next)
        if (logical >= c->logical && logical + len <= c->logical + (c->npages << a->lim.page_shift))
            return c;
    return NULL;
}

static enum hal_bus_fault fail(struct hal_bus_fault_info *info, enum hal_bus_fault f,
                               uint64_t logical, enum hal_dir dir, int reg)
{
    if (info) {
        info->fault = f;
        info->logical = logical;
        info->dir = dir;
        info->nearest_reg = reg;
    }
    return f;
}

/* Register r as a fault report names it (hal_bus_report reads its
 * record): a direct list's page is expanded into per-page registers first
 * (mapdirect.c). */
static int named(struct hal_adapter *a, int r)
{
    if (a->regs.reg[r].state != hal_reg_mapped) {
        int op = hal_mapreg_direct_of(&a->regs, (unsigned)r);
        if (op >= 0)
            hal_mapreg_expand(&a->regs, (unsigned)op);
    }
    return r;
}

static void copy_run(struct machine *m, uint64_t pa, uint8_t *p, uint64_t len, enum hal_dir dir)
{
    if (!len)
        return;
    if (dir == hal_dir_from_device)
        memcpy(machine_pa_ptr(m, pa), p, len);
    else
        memcpy(p, machine_pa_ptr(m, pa), len);
}

enum hal_bus_fault hal_bus_access(struct hal_adapter *a, uint64_t logical, void *buf, size_t len,
                                  enum hal_dir dir, struct hal_bus_fault_info *info)
{
    struct machine *m = a->hal->machine;
    unsigned shift = a->lim.page_shift;
    uint64_t psize = 1ULL << shift;
    uint8_t *p = buf;
    const size_t total = len;
    if (info)
        info->fault = hal_bus_ok;
    if (len == 0)
        return hal_bus_ok;
    ke_observe_current(ke_ev_dma_bus, ke_dma_arg(a->id, dir, 0, (uint32_t)len), logical);
    if (a->width < 64) {
        uint64_t limit = 1ULL << a->width;
        if (logical >= limit || len > limit - logical)
            return fail(info, hal_bus_beyond_reach, logical >= limit ? logical : limit, dir, -1);
    }
    /* Pages whose frames follow each other are copied as one run. */
    uint64_t run_pa = 0, run_len = 0;
    const uint64_t lx = a->lim.logical_xor; /* logical-offset option: 0 = identity */
    while (len) {
        uint64_t off = logical & (psize - 1);
        uint64_t chunk = psize - off < len ? psize - off : len;
        uint64_t frame;
        struct hal_mapreg reg;
        int r = hal_mapreg_resolve(&a->regs, (logical ^ lx) >> shift, &reg);
        if (r >= 0) {
            enum hal_bus_fault f = hal_bus_ok;
            uint64_t at = logical;
            if (off < reg.offset)
                f = hal_bus_unmapped;
            else if (off + chunk > (uint64_t)reg.offset + reg.length)
                f = hal_bus_unmapped, at = (logical & ~(psize - 1)) + reg.offset + reg.length;
            else if (reg.dir != dir)
                f = hal_bus_wrong_direction;
            if (f) {
                copy_run(m, run_pa, p, run_len, dir);
                return fail(info, f, at, dir, named(a, r));
            }
            frame = reg.target;
            if (dir == hal_dir_from_device)
                hal_mapreg_mark_written(&a->regs, (unsigned)r);
        } else {
            /* Common buffers are device-reachable by construction and
             * shared both ways: only the range is checked. */
            struct hal_common_buffer *c = hal_common_find(a, logical, chunk);
            if (!c) {
                copy_run(m, run_pa, p, run_len, dir);
                return fail(info, hal_bus_unmapped, logical, dir, -1);
            }
            frame = (logical ^ lx) >> shift;
        }
        uint64_t pa = (frame << shift) + off;
        if (!machine_is_ram(m, pa)) {
            copy_run(m, run_pa, p, run_len, dir);
            return fail(info, hal_bus_not_ram, logical, dir, r >= 0 ? named(a, r) : r);
        }
        if (run_len && run_pa + run_len == pa) {
            run_len += chunk;
        } else {
            copy_run(m, run_pa, p, run_len, dir);
            p += run_len;
            run_pa = pa;
            run_len = chunk;
        }
        logical += chunk;
        len -= chunk;
    }
    copy_run(m, run_pa, p, run_len, dir);
    if (dir == hal_dir_from_device)
        a->bus_from_device += total;
    else
        a->bus_to_device += total;
    return hal_bus_ok;
}
