/*
 * src/hal/sg.c - building scatter/gather elements from an MDL chain.
 *
 * Models: what GetScatterGatherList / MapTransfer do to pages (spec/dma.md
 * 3, 4): walk the chain from CurrentVa through each MDL's PFN array, give
 * every page a map register that maps it directly or through a bounce
 * frame, merge neighbours contiguous in logical space, split at the
 * device's maximum segment length and boundary. No element cap: the
 * caller sizes the array from the registers (ReactOS's 16/48 cap is
 * spec/dma.md 8's first defect).
 * Invariants: register first + k maps the k-th page of the transfer; a
 * bounce frame of register r is bounce_base + r, so bounced runs are
 * logically contiguous; to-device bounces are copied before return.
 * Not modelled: MDLs describing I/O space (MDL_IO_SPACE) - mapped like RAM.
 */
#include <string.h>

#include "hal/hal.h"

/* The PFN array follows the 48-byte MDL header (spec/mdl.md 1). */
static inline const PFN_NUMBER *mdl_pfns(const MDL *mdl)
{
    return (const PFN_NUMBER *)(mdl + 1);
}

static inline uintptr_t mdl_va(const MDL *mdl)
{
    return (uintptr_t)mdl->StartVa + mdl->ByteOffset;
}

/* One piece of the transfer inside one MDL. */
struct part {
    const MDL *mdl;
    uintptr_t va;
    uint64_t len;
};

/* Walks the pieces of a transfer, MDL by MDL. After the last piece, left
 * is nonzero when the chain was shorter than the transfer. */
struct part_iter {
    const MDL *m;
    uintptr_t va;
    uint64_t left;
};

static inline struct part_iter parts_begin(const struct hal_sg_walk *w)
{
    return (struct part_iter){w->mdl, w->cur_va, w->length};
}

static inline bool parts_next(struct part_iter *it, struct part *p)
{
    if (!it->left || !it->m)
        return false;
    uintptr_t end = mdl_va(it->m) + it->m->ByteCount;
    uint64_t avail = end > it->va ? end - it->va : 0;
    *p = (struct part){it->m, it->va, avail < it->left ? avail : it->left};
    it->left -= p->len;
    it->m = it->m->Next;
    if (it->m)
        it->va = mdl_va(it->m);
    return true;
}

static bool first_va_ok(const struct hal_sg_walk *w)
{
    if (!w->mdl)
        return false;
    uintptr_t start = mdl_va(w->mdl);
    return w->cur_va >= start && w->cur_va < start + w->mdl->ByteCount;
}

int hal_sg_span(const struct hal_sg_walk *w, unsigned shift, uint64_t *pages)
{
    uint64_t n = 0, mask = (1ULL << shift) - 1;
    if (!first_va_ok(w))
        return -1;
    struct part_iter it = parts_begin(w);
    struct part p;
    while (parts_next(&it, &p))
        if (p.len)
            n += (((p.va & mask) + p.len + mask) >> shift);
    if (it.left)
        return -1;
    *pages = n;
    return 0;
}

/* Elements being produced: the open one is cur_addr/cur_len. */
struct emitter {
    const struct hal_dma_limits *lim;
    struct hal_sg_out *out;
    uint64_t cur_addr, cur_len;
    bool open;
    bool simple; /* no segment limit, no boundary, no page split */
};

static void close_el(struct emitter *e)
{
    struct hal_sg_out *o = e->out;
    if (!e->open)
        return;
    if (o->count < o->cap) {
        o->el[o->count].Address.QuadPart = (LONGLONG)e->cur_addr;
        o->el[o->count].Length = (ULONG)e->cur_len;
        o->el[o->count].Reserved = 0;
    }
    o->count++;
    e->open = false;
}

/* Room left in the open element (or a new one at addr) under the limits. */
static uint64_t room(const struct emitter *e, uint64_t start, uint64_t len_so_far)
{
    uint64_t r = UINT64_MAX;
    if (e->lim->max_segment)
        r = e->lim->max_segment - len_so_far;
    if (e->lim->boundary) {
        uint64_t b = e->lim->boundary;
        /* An element [start, end) must not cross a multiple of b. */
        uint64_t to_line = b - (start & (b - 1)) - len_so_far;
        if (to_line < r)
            r = to_line;
    }
    return r;
}

static void emit_slow(struct emitter *e, uint64_t addr, uint64_t len)
{
    while (len) {
        bool joins = e->open && !e->lim->split_pages && e->cur_addr + e->cur_len == addr;
        if (!joins) {
            close_el(e);
            e->open = true;
            e->cur_addr = addr;
            e->cur_len = 0;
        }
        uint64_t r = room(e, e->cur_addr, e->cur_len);
        if (r == 0) {
            close_el(e);
            continue;
        }
        uint64_t take = len < r ? len : r;
        e->cur_len += take;
        addr += take;
        len -= take;
        if (len)
            close_el(e);
    }
    if (e->lim->split_pages)
        close_el(e);
}

static inline void emit(struct emitter *e, uint64_t addr, uint64_t len)
{
    if (e->simple) {
        if (e->open && e->cur_addr + e->cur_len == addr) {
            e->cur_len += len;
            return;
        }
        close_el(e);
        e->open = true;
        e->cur_addr = addr;
        e->cur_len = len;
        return;
    }
    emit_slow(e, addr, len);
}

/* Adapters without S/G map directly only a reachable, physically
 * consecutive range that (system DMA) stays inside one block. */
static int packet_direct_ok(const struct hal_sg_walk *w, const struct hal_dma_limits *lim, bool *ok)
{
    unsigned shift = lim->page_shift;
    uint64_t mask = (1ULL << shift) - 1, expect = UINT64_MAX, first_pa = 0, last_pa = 0;
    bool any = false;
    *ok = true;
    struct part_iter it = parts_begin(w);
    struct part p;
    while (parts_next(&it, &p)) {
        const PFN_NUMBER *pfn = mdl_pfns(p.mdl);
        uint64_t idx = (p.va - (uintptr_t)p.mdl->StartVa) >> shift;
        uint64_t npages = p.len ? ((p.va & mask) + p.len + mask) >> shift : 0;
        for (uint64_t k = 0; k < npages && *ok; k++) {
            uint64_t f = pfn[idx + k];
            if (f >= lim->reach_frames || (expect != UINT64_MAX && f != expect))
                *ok = false;
            expect = f + 1;
        }
        if (p.len && *ok) {
            uint64_t pa = ((uint64_t)pfn[idx] << shift) | (p.va & mask);
            if (!any)
                first_pa = pa;
            last_pa = pa + p.len - 1;
            any = true;
        }
    }
    if (it.left)
        return -1;
    if (*ok && lim->block && any && (first_pa / lim->block) != (last_pa / lim->block))
        *ok = false;
    return 0;
}

/* The common case of a build: every page direct (no double buffering, all
 * frames reachable, S/G or a packet range already found consecutive), no
 * segment limit, boundary or page split. One pass over the PFN arrays with
 * the open element in registers and no call per page. Returns the element
 * count, or -2 at the first unreachable frame (the caller starts over on
 * the general path, which rewrites every register it touched). */
static long sg_fast(const struct hal_sg_walk *w, const struct hal_dma_limits *lim,
                    struct hal_mapreg_file *f, unsigned first, enum hal_dir dir,
                    struct hal_sg_out *out)
{
    const unsigned shift = lim->page_shift;
    const uint64_t psize = 1ULL << shift, mask = psize - 1;
    const uint64_t reach = lim->reach_frames, lx = lim->logical_xor;
    SCATTER_GATHER_ELEMENT *el = out->el;
    const unsigned cap = out->cap;
    unsigned count = 0, newly = 0;
    struct hal_mapreg *reg = f ? f->reg + first : NULL;
    uint64_t cur_addr = 0, cur_len = 0, left = w->length;
    const MDL *m = w->mdl;
    uintptr_t va = w->cur_va;
    for (; m && left; m = m->Next) {
        uintptr_t start = mdl_va(m), end = start + m->ByteCount;
        if (m != w->mdl)
            va = start;
        uint64_t len = end > va ? end - va : 0;
        if (len > left)
            len = left;
        left -= len;
        const PFN_NUMBER *pfn = mdl_pfns(m) + ((va - (uintptr_t)m->StartVa) >> shift);
        uint64_t off = va & mask;
        while (len) {
            uint64_t chunk = psize - off < len ? psize - off : len;
            uint64_t frame = *pfn++;
            if (__builtin_expect(frame >= reach, 0)) {
                if (f)
                    f->nmapped += newly; /* registers marked so far stay counted */
                return -2;
            }
            if (reg) {
                newly += reg->state != hal_reg_mapped;
                reg->target = frame;
                reg->source = frame;
                reg->offset = (uint16_t)off;
                reg->length = (uint16_t)chunk;
                reg->state = hal_reg_mapped;
                reg->dir = (uint8_t)dir;
                reg->bounce = false;
                reg->op_start = false;
                reg->written = false;
                reg++;
            }
            uint64_t addr = ((frame << shift) + off) ^ lx;
            if (cur_len && cur_addr + cur_len == addr) {
                cur_len += chunk;
            } else {
                if (cur_len) {
                    if (count < cap) {
                        el[count].Address.QuadPart = (LONGLONG)cur_addr;
                        el[count].Length = (ULONG)cur_len;
                        el[count].Reserved = 0;
                    }
                    count++;
                }
                cur_addr = addr;
                cur_len = chunk;
            }
            len -= chunk;
            off = 0;
        }
    }
    if (left)
        return -1;
    if (cur_len) {
        if (count < cap) {
            el[count].Address.QuadPart = (LONGLONG)cur_addr;
            el[count].Length = (ULONG)cur_len;
            el[count].Reserved = 0;
        }
        count++;
    }
    if (f) {
        f->nmapped += newly;
        f->index_dirty = true;
        out->registers = (uint64_t)(reg - (f->reg + first));
    }
    out->count = count;
    return (long)count;
}

/* The page loop shared by build and count; f NULL = count only. */
static long sg_walk(const struct hal_sg_walk *w, const struct hal_dma_limits *lim,
                    struct hal_mapreg_file *f, unsigned first, uint64_t bounce_base,
                    enum hal_dir dir, struct ram *ram, struct hal_sg_out *out)
{
    unsigned shift = lim->page_shift;
    uint64_t psize = 1ULL << shift, mask = psize - 1;
    bool direct_ok = !lim->bounce_all;
    if (!first_va_ok(w))
        return -1;
    if (!lim->scatter_gather && direct_ok && packet_direct_ok(w, lim, &direct_ok))
        return -1;
    if (direct_ok && f && !lim->max_segment && !lim->boundary && !lim->split_pages) {
        long n = sg_fast(w, lim, f, first, dir, out);
        if (n != -2)
            return n;
        out->count = 0; /* an unreachable frame: the general path redoes it all */
    }
    struct emitter e = {
        .lim = lim,
        .out = out,
        .simple = !lim->max_segment && !lim->boundary && !lim->split_pages,
    };
    unsigned r = first;
    uint64_t reach = lim->reach_frames;
    uint64_t cur_addr = 0, cur_len = 0;
    bool open = false;
    struct part_iter it = parts_begin(w);
    struct part p;
    while (parts_next(&it, &p)) {
        const PFN_NUMBER *pfn = mdl_pfns(p.mdl);
        uint64_t idx = (p.va - (uintptr_t)p.mdl->StartVa) >> shift;
        uint64_t off = p.va & mask, len = p.len;
        while (len) {
            uint64_t chunk = psize - off < len ? psize - off : len;
            uint64_t frame = pfn[idx];
            bool bounce = !direct_ok || frame >= reach;
            uint64_t target = frame;
            if (bounce) {
                if (bounce_base == UINT64_MAX)
                    return -1;
                target = bounce_base + r;
            }
            if (f) {
                struct hal_mapreg *reg = &f->reg[r];
                f->nmapped += reg->state != hal_reg_mapped;
                *reg = (struct hal_mapreg){
                    .target = target,
                    .source = frame,
                    .gen = reg->gen,
                    .run = reg->run,
                    .offset = (uint16_t)off,
                    .length = (uint16_t)chunk,
                    .state = hal_reg_mapped,
                    .dir = (uint8_t)dir,
                    .bounce = bounce,
                };
                if (bounce && dir == hal_dir_to_device && ram) {
                    memcpy(ram->direct + (target << shift) + off,
                           ram->direct + (frame << shift) + off, chunk);
                    f->bounce_bytes += chunk;
                }
            }
            uint64_t addr = ((target << shift) + off) ^ lim->logical_xor;
            if (e.simple) {
                /* The common case inline, the emitter's state in registers. */
                if (open && cur_addr + cur_len == addr) {
                    cur_len += chunk;
                } else {
                    if (open) {
                        if (out->count < out->cap)
                            out->el[out->count] = (SCATTER_GATHER_ELEMENT){
                                .Address.QuadPart = (LONGLONG)cur_addr, .Length = (ULONG)cur_len};
                        out->count++;
                    }
                    open = true;
                    cur_addr = addr;
                    cur_len = chunk;
                }
            } else {
                emit(&e, addr, chunk);
            }
            r++;
            idx++;
            off = 0;
            len -= chunk;
        }
    }
    if (it.left)
        return -1;
    if (e.simple && open) {
        e.open = true;
        e.cur_addr = cur_addr;
        e.cur_len = cur_len;
    }
    close_el(&e);
    if (f)
        f->index_dirty = true;
    out->registers = r - first;
    return (long)out->count;
}

long hal_sg_build(const struct hal_sg_walk *w, const struct hal_dma_limits *lim,
                  struct hal_mapreg_file *f, unsigned first, uint64_t bounce_base, enum hal_dir dir,
                  struct ram *ram, struct hal_sg_out *out)
{
    out->count = 0;
    out->registers = 0;
    return sg_walk(w, lim, f, first, bounce_base, dir, ram, out);
}

long hal_sg_count(const struct hal_sg_walk *w, const struct hal_dma_limits *lim,
                  uint64_t bounce_base)
{
    struct hal_sg_out out = {0};
    return sg_walk(w, lim, NULL, 0, bounce_base == UINT64_MAX ? 0 : bounce_base, hal_dir_none, NULL,
                   &out);
}

void hal_sg_unmap(struct hal_mapreg_file *f, unsigned first, unsigned n, bool copy_back,
                  struct ram *ram, unsigned shift)
{
    for (unsigned i = first; i < first + n; i++) {
        struct hal_mapreg *reg = &f->reg[i];
        if (reg->state != hal_reg_mapped)
            continue;
        /* Only bounced device->memory data goes back; a direct register's
         * frame already holds it (spec/dma.md 8: ReactOS copies anyway). */
        if (copy_back && reg->bounce && reg->dir == hal_dir_from_device && ram) {
            memcpy(ram->direct + (reg->source << shift) + reg->offset,
                   ram->direct + (reg->target << shift) + reg->offset, reg->length);
            f->bounce_bytes += reg->length;
        }
        hal_mapreg_set_unmapped(f, i);
    }
}
