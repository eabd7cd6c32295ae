/*
 * src/hal/own.c - buffers the device owns: protected from the CPU between
 * the map and the flush / Put, and the fault resolver that reports a touch.
 *
 * Models: the DMA ownership rule (spec/dma.md 3; spec/verifier.md 9): from
 * MapTransfer or Get/BuildScatterGatherList until the matching
 * FlushAdapterBuffers or PutScatterGatherList the buffer belongs to the
 * device. A device->memory buffer may not be touched at all (its data is
 * not there yet: with double buffering it sits in the bounce frame), a
 * memory->device buffer may be read but not written (the device may have
 * copied it already).
 * Mechanism: the virtual addresses that map the owned frames are found from
 * the MDL itself (its StartVa-based range and MappedSystemVa), not from a
 * PFN reverse map: those are the addresses a driver has for the buffer.
 * Every system-space page wholly inside the transferred bytes is mprotect'ed
 * (PROT_NONE or PROT_READ) and restored from its PTE at the end; the
 * SIGSEGV resolver (src/mm/fault.c) finds the window and fires
 * dma.cpu-touch-owned, or dma.stale-read for a read of bytes the device
 * already wrote (the bus marks the register, or a direct list's page:
 * hal_mapreg_view reads both).
 * Invariants: a protected page is valid in its PTE with the frame it had at
 * the map; a page covered by several windows gets the strictest protection
 * of those still live.
 * Not modelled: other aliases of the frames (a second MDL mapping, user
 * VAs of a probed buffer: user spaces switch their own protection), and
 * partly covered pages (pool neighbours share them): those accesses go
 * unseen. Common buffers are exempt by contract.
 */
#include <stdlib.h>
#include <sys/mman.h>

#include "sys.h"

/* Host protection a page gets from its PTE. */
static int pte_prot(uint64_t pte)
{
    int prot = PROT_READ;
    if (pte & mm_pte_write)
        prot |= PROT_WRITE;
    if (pte & mm_pte_exec)
        prot |= PROT_EXEC;
    return prot;
}

static int own_prot(enum hal_dir dir)
{
    return dir == hal_dir_to_device ? PROT_READ : PROT_NONE;
}

static bool in_system(struct mm *mm, uintptr_t va)
{
    return va >= (uintptr_t)mm->system.base && va < (uintptr_t)mm->system.base + mm->system.bytes;
}

/* Protects the whole pages of [va, va + len) that are valid in system
 * space, as one window. */
static void protect_range(struct hal_adapter *a, uintptr_t va, uint64_t len, void *owner,
                          unsigned first, unsigned regs, enum hal_dir dir)
{
    struct hal *hal = a->hal;
    struct mm *mm = &sys_get()->mm;
    uintptr_t psize = mm->page_size;
    uintptr_t lo = (va + psize - 1) & ~(psize - 1), hi = (va + len) & ~(psize - 1);
    if (lo >= hi || !in_system(mm, lo) || !in_system(mm, hi - 1))
        return;
    for (uintptr_t p = lo; p < hi; p += psize) {
        uint64_t *pte = mm_pte_of(mm, (void *)p);
        if (!pte || !(*pte & mm_pte_valid) || (*pte & (mm_pte_io | mm_pte_trimmed)))
            return;
    }
    if (hal->nown == hal->own_cap) {
        unsigned cap = hal->own_cap ? hal->own_cap * 2 : 16;
        struct hal_own *n = realloc(hal->own, cap * sizeof(*n));
        if (!n)
            return; /* unwatched, not wrong */
        hal->own = n;
        hal->own_cap = cap;
    }
    if (mprotect((void *)lo, hi - lo, own_prot(dir)))
        return;
    hal->own[hal->nown++] = (struct hal_own){.lo = lo,
                                             .hi = hi,
                                             .owner = owner,
                                             .adapter = a->id,
                                             .first = first,
                                             .regs = regs,
                                             .dir = (uint8_t)dir};
}

void hal_own_begin(struct hal_adapter *a, const struct hal_sg_walk *w, void *owner, unsigned first,
                   unsigned regs, enum hal_dir dir)
{
    struct hal *hal = a->hal;
    if (!hal->own_protect || dir == hal_dir_none)
        return;
    if (hal_common_holds(a, w->mdl, w->cur_va, w->length))
        return;
    struct sys *sys = sys_get();
    mm_fault_register(hal_own_resolve);
    uintptr_t va = w->cur_va;
    uint64_t left = w->length;
    for (const MDL *m = w->mdl; m && left; m = m->Next) {
        uintptr_t start = (uintptr_t)m->StartVa + m->ByteOffset;
        uintptr_t end = start + m->ByteCount;
        if (m != w->mdl)
            va = start;
        uint64_t len = end > va ? end - va : 0;
        if (len > left)
            len = left;
        protect_range(a, va, len, owner, first, regs, dir);
        /* The system mapping of a probed or partial MDL is a second alias. */
        if ((m->MdlFlags & MDL_MAPPED_TO_SYSTEM_VA) && m->MappedSystemVa &&
            (uintptr_t)m->MappedSystemVa != start)
            protect_range(a, (uintptr_t)m->MappedSystemVa + (va - start), len, owner, first, regs,
                          dir);
        left -= len;
    }
    (void)sys;
}

/* Protection page p should have now: its PTE's, or the strictest live
 * window's. */
static void restore_page(struct hal *hal, struct mm *mm, uintptr_t p)
{
    uint64_t *pte = mm_pte_of(mm, (void *)p);
    if (!pte || !(*pte & mm_pte_valid) || (*pte & mm_pte_trimmed))
        return; /* unmapped or trimmed since: its owner set it already */
    int prot = pte_prot(*pte);
    for (unsigned i = 0; i < hal->nown; i++)
        if (p >= hal->own[i].lo && p < hal->own[i].hi)
            prot &= own_prot((enum hal_dir)hal->own[i].dir);
    mprotect((void *)p, mm->page_size, prot);
}

static void own_drop(struct hal *hal, unsigned i)
{
    struct mm *mm = &sys_get()->mm;
    struct hal_own w = hal->own[i];
    hal->own[i] = hal->own[--hal->nown];
    for (uintptr_t p = w.lo; p < w.hi; p += mm->page_size)
        restore_page(hal, mm, p);
}

void hal_own_end_slow(struct hal_adapter *a, unsigned first, unsigned n)
{
    struct hal *hal = a->hal;
    for (unsigned i = hal->nown; i-- > 0;) {
        const struct hal_own *w = &hal->own[i];
        if (w->adapter == a->id && w->first >= first && w->first < first + n)
            own_drop(hal, i);
    }
}

void hal_own_fini(struct hal *hal)
{
    free(hal->own);
    hal->own = NULL;
    hal->nown = hal->own_cap = 0;
}

/* Bytes the device wrote through the window's registers. */
static uint64_t written_bytes(struct hal *hal, const struct hal_own *w)
{
    struct hal_adapter *a = hal_adapter_by_id(hal, w->adapter);
    uint64_t bytes = 0;
    if (!a)
        return 0;
    struct hal_mapreg v; /* a direct list's pages are derived (mapdirect.c) */
    for (unsigned r = w->first; r < w->first + w->regs && r < a->regs.count; r++)
        if (hal_mapreg_view(&a->regs, r, &v) && v.state == hal_reg_mapped && v.written)
            bytes += v.length;
    return bytes;
}

int hal_own_resolve(struct sys *sys, void *addr, int access, void *pc)
{
    struct hal *hal = &sys->hal;
    uintptr_t va = (uintptr_t)addr;
    (void)pc;
    for (unsigned i = 0; i < hal->nown; i++) {
        const struct hal_own *w = &hal->own[i];
        if (va < w->lo || va >= w->hi)
            continue;
        if (w->dir == hal_dir_to_device && access == 0)
            continue; /* readable: not this window's fault */
        uint64_t wrote = w->dir == hal_dir_from_device ? written_bytes(hal, w) : 0;
        if (access == 0 && wrote)
            hal_violation(hal, &hal_rule_stale_read, va, (uintptr_t)w->owner, wrote,
                          "CPU read %p of a device->memory buffer (%p) the device wrote %llu "
                          "bytes into: FlushAdapterBuffers / PutScatterGatherList first, the "
                          "data is not there yet",
                          addr, w->owner, (unsigned long long)wrote);
        else
            hal_violation(
                hal, &hal_rule_cpu_touch_owned, va, (uintptr_t)w->owner, (uint64_t)(access == 1),
                "CPU %s %p while the device owns buffer %p (mapped %s, not yet flushed "
                "/ put)",
                access == 1 ? "wrote" : "read", addr, w->owner, hal_dir_name((enum hal_dir)w->dir));
        /* Reported and continuing: the window is given up. */
        own_drop(hal, i);
        return mm_fault_handled;
    }
    return mm_fault_declined;
}
