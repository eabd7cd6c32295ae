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
 * Lists of adapters that map every page 1:1 (no bounce, no limit) are
 * built as direct operations (hal_sg_build_list, mapdirect.c): one record
 * per element instead of a register per page - the build then costs what
 * writing the driver's elements costs (issue 6: <= 2 ns per page).
 * Invariants: register first + k maps the k-th page of the transfer (for
 * a direct list: is derived so); a bounce frame of register r is
 * bounce_base + r, so bounced runs are logically contiguous; to-device
 * bounces are copied before return; hal_sg_count, hal_sg_build and
 * hal_sg_build_list give the same elements.
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

/* The elements of a direct build being produced: the open one is
 * [start, end); closed ones go to run[] and, up to eend, to the driver's
 * elements. How (compile-time flags of each loop):
 * - direct_checked: elements beyond eend are only counted (extra); without
 *   it the caller made sure they fit;
 * - direct_stream: run records are written with non-temporal stores. A big
 *   list's records do not fit in the caches beside its elements; written
 *   normally, each line of them is first read in (the store misses), which
 *   made a 64 MiB list's build ~40 % slower. Nothing reads them before the
 *   device's first access. Small lists keep them in cache. */
enum {
    direct_checked = 1,
    direct_stream = 2,
    direct_stream_min = 4096, /* elements possible (pages): 64 KiB of records, beyond L1 */
};
struct direct_out {
    struct hal_maprun *run;
    SCATTER_GATHER_ELEMENT *e, *eend;
    unsigned extra;
    uint64_t start, end;
};

/* Per element: the record (logical, length; the register is derived when
 * something first needs it, hal_mapreg_direct_regs) and the element. */
static inline __attribute__((always_inline)) void direct_close(struct direct_out *d, unsigned mode)
{
    uint64_t len = d->end - d->start;
#if defined(__x86_64__)
    if (mode & direct_stream) {
        /* Both 8-byte halves, so that write-combining sees whole lines
         * (length and a zero register). */
        __builtin_ia32_movnti64((long long *)&d->run->logical, (long long)d->start);
        __builtin_ia32_movnti64((long long *)&d->run->length, (long long)len);
    } else
#endif
    {
        d->run->logical = d->start;
        d->run->length = (uint32_t)len;
    }
    d->run++;
    if (!(mode & direct_checked) || __builtin_expect(d->e < d->eend, 1)) {
        d->e->Address.QuadPart = (LONGLONG)d->start;
        d->e->Length = (ULONG)len;
        d->e->Reserved = 0;
        d->e++;
    } else {
        d->extra++;
    }
}

/* The next chunk [addr, addr + len): joins the open element or closes it
 * and opens one. */
static inline __attribute__((always_inline)) void direct_chunk(struct direct_out *d, uint64_t addr,
                                                               uint64_t len, unsigned mode)
{
    if (addr == d->end) {
        d->end += len;
    } else {
        direct_close(d, mode);
        d->start = addr;
        d->end = addr + len;
    }
}

/* The whole pages [pfn, stop) of a part: the loop a scattered list spends
 * its time in, with its state in locals (stores through d->run and d->e
 * could alias d's fields) and in its own function (the callers' state does
 * not crowd its registers). */
static inline __attribute__((always_inline)) bool
direct_pages(struct direct_out *d, const PFN_NUMBER *pfn, const PFN_NUMBER *stop, unsigned shift,
             uint64_t reach, uint64_t lx, unsigned mode)
{
    struct direct_out s = *d;
    bool ok = true;
    while (pfn != stop) {
        uint64_t frame = *pfn++;
        if (__builtin_expect(frame >= reach, 0)) {
            ok = false;
            break;
        }
        direct_chunk(&s, (frame << shift) ^ lx, 1ULL << shift, mode);
    }
    *d = s;
    return ok;
}

/* 4 KiB pages, room for every element: the common build. */
static __attribute__((noinline)) bool direct_pages_12(struct direct_out *d, const PFN_NUMBER *pfn,
                                                      const PFN_NUMBER *stop, uint64_t reach,
                                                      uint64_t lx, unsigned mode)
{
    return mode & direct_stream ? direct_pages(d, pfn, stop, 12, reach, lx, direct_stream)
                                : direct_pages(d, pfn, stop, 12, reach, lx, 0);
}

static __attribute__((noinline)) bool direct_pages_any(struct direct_out *d, const PFN_NUMBER *pfn,
                                                       const PFN_NUMBER *stop, unsigned shift,
                                                       uint64_t reach, uint64_t lx, unsigned mode)
{
    return mode & direct_checked ? direct_pages(d, pfn, stop, shift, reach, lx, direct_checked)
                                 : direct_pages(d, pfn, stop, shift, reach, lx, 0);
}

/* One part (the transfer's bytes inside one MDL): its first and last
 * chunks may be partial pages; the whole pages between take the short
 * loop. False when the build cannot be direct. */
static inline __attribute__((always_inline)) bool
direct_part(struct direct_out *d, const PFN_NUMBER *pfn, uint64_t off, uint64_t len, unsigned shift,
            uint64_t reach, uint64_t lx, unsigned mode)
{
    const uint64_t psize = 1ULL << shift;
    /* First chunk: it may start inside a page. A merge there would join
     * two MDLs inside one page (two registers, one logical page): the
     * records could not give each page its register. */
    uint64_t chunk = psize - off < len ? psize - off : len;
    uint64_t frame = *pfn++;
    if (frame >= reach)
        return false;
    uint64_t addr = ((frame << shift) + off) ^ lx;
    if (addr == d->end) {
        if (off)
            return false;
        d->end += chunk;
    } else {
        if (d->end != UINT64_MAX) /* an element is open */
            direct_close(d, mode);
        d->start = addr;
        d->end = addr + chunk;
    }
    len -= chunk;
    if (len >> shift) {
        bool ok = shift == 12 && !(mode & direct_checked)
                      ? direct_pages_12(d, pfn, pfn + (len >> shift), reach, lx, mode)
                      : direct_pages_any(d, pfn, pfn + (len >> shift), shift, reach, lx, mode);
        if (!ok)
            return false;
        pfn += len >> shift;
    }
    len &= psize - 1;
    if (len) {
        frame = *pfn;
        if (frame >= reach)
            return false;
        direct_chunk(d, (frame << shift) ^ lx, len, mode);
    }
    return true;
}

/* A list's build as a direct operation (hal.h, mapdirect.c): per page only
 * the PFN is read; per element a run record (private to the HAL) and the
 * driver's element are written, no map register. Returns the element
 * count, or -2 when the transfer cannot be direct - a frame beyond reach,
 * or two MDLs meeting in the middle of a page and merging - with nothing
 * recorded. */
static inline __attribute__((always_inline)) long
sg_direct_shift(const struct hal_sg_walk *w, const struct hal_dma_limits *lim,
                struct hal_mapreg_file *f, unsigned first, struct hal_sg_out *out, unsigned shift,
                unsigned mode)
{
    const uint64_t mask = (1ULL << shift) - 1;
    const uint64_t reach = lim->reach_frames, lx = lim->logical_xor;
    /* end starts at an address no page has (frames are far below 2^52). */
    struct direct_out d = {
        .run = f->runs + first,
        .e = out->el,
        .eend = out->el + out->cap,
        .end = UINT64_MAX,
    };
    uint64_t left = w->length, chunks = 0;
    const MDL *m = w->mdl;
    uintptr_t va = w->cur_va;
    bool ok = true;
    for (; m && left && ok; m = m->Next) {
        uintptr_t mstart = mdl_va(m), mend = mstart + m->ByteCount;
        if (m != w->mdl)
            va = mstart;
        uint64_t len = mend > va ? mend - va : 0;
        if (len > left)
            len = left;
        left -= len;
        if (!len)
            continue;
        const PFN_NUMBER *pfn = mdl_pfns(m) + ((va - (uintptr_t)m->StartVa) >> shift);
        ok = direct_part(&d, pfn, va & mask, len, shift, reach, lx, mode);
        chunks += ((va & mask) + len + mask) >> shift;
    }
    if (ok && !left && chunks)
        direct_close(&d, mode);
#if defined(__x86_64__)
    if (mode & direct_stream)
        __builtin_ia32_sfence(); /* the records before anything that follows */
#endif
    if (!ok)
        return -2;
    if (left)
        return -1;
    out->count = (unsigned)(d.e - out->el) + d.extra;
    out->registers = chunks;
    return (long)out->count;
}

/* Pages (chunks) of the transfer, each at most one element. */
static uint64_t chunks_of(const struct hal_sg_walk *w, unsigned shift)
{
    uint64_t mask = (1ULL << shift) - 1, n = 0;
    struct part_iter it = parts_begin(w);
    struct part p;
    while (parts_next(&it, &p))
        if (p.len)
            n += ((p.va & mask) + p.len + mask) >> shift;
    return n;
}

static long sg_direct(const struct hal_sg_walk *w, const struct hal_dma_limits *lim,
                      struct hal_mapreg_file *f, unsigned first, struct hal_sg_out *out)
{
    uint64_t chunks = chunks_of(w, lim->page_shift);
    if (lim->page_shift != 12 || out->cap < chunks)
        return sg_direct_shift(w, lim, f, first, out, lim->page_shift, direct_checked);
    /* 4 KiB pages (constant shifts), room for every element. */
    if (chunks >= direct_stream_min)
        return sg_direct_shift(w, lim, f, first, out, 12, direct_stream);
    return sg_direct_shift(w, lim, f, first, out, 12, 0);
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
    out->direct = false;
    if (f && hal_mapreg_is_direct(f, first))
        hal_mapreg_direct_release(f, first); /* rebuilt over a direct list: it ends */
    return sg_walk(w, lim, f, first, bounce_base, dir, ram, out);
}

long hal_sg_build_list(const struct hal_sg_walk *w, const struct hal_dma_limits *lim,
                       struct hal_mapreg_file *f, unsigned first, uint64_t bounce_base,
                       enum hal_dir dir, struct ram *ram, struct hal_sg_out *out)
{
    out->count = 0;
    out->registers = 0;
    out->direct = false;
    if (f && lim->scatter_gather && !lim->bounce_all && !lim->max_segment && !lim->boundary &&
        !lim->split_pages && !lim->block && first_va_ok(w)) {
        /* Any operation left at first (a list rebuilt without its Put) ends
         * before its run records are overwritten. */
        if (hal_mapreg_is_direct(f, first))
            hal_mapreg_direct_release(f, first);
        long n = sg_direct(w, lim, f, first, out);
        if (n > 0) {
            f->shift = lim->page_shift;
            f->lx_page = lim->logical_xor >> lim->page_shift;
            hal_mapreg_direct_add(f, first, (unsigned)n, (unsigned)out->registers, dir);
            out->direct = true;
            return n;
        }
        if (n == 0)
            return 0;
        if (n == -1)
            return -1;
        out->count = 0;
        out->registers = 0;
    }
    return sg_walk(w, lim, f, first, bounce_base, dir, ram, out);
}

/* hal_sg_count's common case: every page direct and merged without limits
 * (what sg_direct builds). Reads only the PFNs. Returns the element count,
 * -1 when the chain is short, -2 at a frame beyond reach (it would bounce:
 * the general loop counts that). */
static inline __attribute__((always_inline)) long
count_direct_shift(const struct hal_sg_walk *w, const struct hal_dma_limits *lim, unsigned shift)
{
    const uint64_t psize = 1ULL << shift, mask = psize - 1;
    const uint64_t reach = lim->reach_frames, lx = lim->logical_xor;
    uint64_t end = UINT64_MAX, n = 0;
    struct part_iter it = parts_begin(w);
    struct part p;
    while (parts_next(&it, &p)) {
        if (!p.len)
            continue;
        const PFN_NUMBER *pfn = mdl_pfns(p.mdl) + ((p.va - (uintptr_t)p.mdl->StartVa) >> shift);
        uint64_t off = p.va & mask, len = p.len;
        /* first chunk, whole pages, last partial page */
        uint64_t chunk = psize - off < len ? psize - off : len;
        if (*pfn >= reach)
            return -2;
        uint64_t addr = ((*pfn++ << shift) + off) ^ lx;
        n += addr != end;
        end = addr + chunk;
        len -= chunk;
        for (const PFN_NUMBER *stop = pfn + (len >> shift); pfn != stop; pfn++) {
            if (__builtin_expect(*pfn >= reach, 0))
                return -2;
            addr = (*pfn << shift) ^ lx;
            n += addr != end;
            end = addr + psize;
        }
        if (len & mask) {
            if (*pfn >= reach)
                return -2;
            addr = (*pfn << shift) ^ lx;
            n += addr != end;
            end = addr + (len & mask);
        }
    }
    return it.left ? -1 : (long)n;
}

static long count_direct(const struct hal_sg_walk *w, const struct hal_dma_limits *lim)
{
    if (lim->page_shift == 12)
        return count_direct_shift(w, lim, 12);
    return count_direct_shift(w, lim, lim->page_shift);
}

long hal_sg_count(const struct hal_sg_walk *w, const struct hal_dma_limits *lim,
                  uint64_t bounce_base)
{
    if (lim->scatter_gather && !lim->bounce_all && !lim->max_segment && !lim->boundary &&
        !lim->split_pages && first_va_ok(w)) {
        long n = count_direct(w, lim);
        if (n != -2)
            return n;
    }
    struct hal_sg_out out = {0};
    return sg_walk(w, lim, NULL, 0, bounce_base == UINT64_MAX ? 0 : bounce_base, hal_dir_none, NULL,
                   &out);
}

void hal_sg_unmap(struct hal_mapreg_file *f, unsigned first, unsigned n, bool copy_back,
                  struct ram *ram, unsigned shift)
{
    for (unsigned i = first; i < first + n; i++) {
        struct hal_mapreg *reg = &f->reg[i];
        if (reg->state != hal_reg_mapped) {
            /* A direct operation bounced nothing: it just ends. */
            if (reg->op_start && f->op[i].nruns) {
                unsigned regs = f->op[i].regs;
                hal_mapreg_direct_release(f, i);
                i += regs ? regs - 1 : 0;
            }
            continue;
        }
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
