/*
 * src/hal/bus.c - device accesses to memory: logical address -> frame
 * through the adapter's live mappings, checked, copied with the direct map.
 *
 * Models: the system bus between a DMA-capable device and RAM as the HAL
 * arranges it (spec/dma.md 4; spec/verifier.md 9): the device emits a
 * logical address no wider than its address width; the address must fall
 * in a mapped register's byte range (or a common buffer of the adapter) and
 * the register's direction must match the access.
 * Invariants: nothing is copied past the first faulting byte; a copy never
 * crosses a page boundary in one step (frames behind two logical pages are
 * unrelated); no syscall per access.
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

enum hal_bus_fault hal_bus_access(struct hal_adapter *a, uint64_t logical, void *buf, size_t len,
                                  enum hal_dir dir, struct hal_bus_fault_info *info)
{
    struct machine *m = a->hal->machine;
    unsigned shift = a->lim.page_shift;
    uint64_t psize = 1ULL << shift;
    uint8_t *p = buf;
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
    while (len) {
        uint64_t off = logical & (psize - 1);
        uint64_t chunk = psize - off < len ? psize - off : len;
        uint64_t frame;
        int r = hal_mapreg_lookup(&a->regs, logical >> shift);
        if (r >= 0) {
            const struct hal_mapreg *reg = &a->regs.reg[r];
            if (off < reg->offset)
                return fail(info, hal_bus_unmapped, logical, dir, r);
            if (off + chunk > (uint64_t)reg->offset + reg->length)
                return fail(info, hal_bus_unmapped,
                            (logical & ~(psize - 1)) + reg->offset + reg->length, dir, r);
            if (reg->dir != dir)
                return fail(info, hal_bus_wrong_direction, logical, dir, r);
            frame = reg->target;
        } else {
            /* Common buffers are device-reachable by construction and
             * shared both ways: only the range is checked. */
            struct hal_common_buffer *c = hal_common_find(a, logical, chunk);
            if (!c)
                return fail(info, hal_bus_unmapped, logical, dir, -1);
            frame = logical >> shift;
        }
        uint64_t pa = (frame << shift) + off;
        if (!machine_is_ram(m, pa))
            return fail(info, hal_bus_not_ram, logical, dir, r);
        if (dir == hal_dir_from_device)
            memcpy(machine_pa_ptr(m, pa), p, chunk);
        else
            memcpy(p, machine_pa_ptr(m, pa), chunk);
        p += chunk;
        logical += chunk;
        len -= chunk;
    }
    return hal_bus_ok;
}
