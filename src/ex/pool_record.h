/*
 * src/ex/pool_record.h - the small-pool page records (ex.h: struct ex_prec),
 * the page map, and the links kept in freed blocks' bodies: what the free
 * path reads and checks instead of a block's header.
 *
 * Included by pool_impl.h only, after the block header's helpers.
 * Invariants: a block is live iff its page record lists it (or its bit is
 * set while the record says bits); a record and its bitmap change under
 * the record's lock when several host threads use the pool.
 */
#ifndef WDMSIM_EX_POOL_RECORD_H
#define WDMSIM_EX_POOL_RECORD_H

/* ---- page records (ex.h: struct ex_prec) ------------------------------------ */

static inline uint8_t ex_pm_get(const struct ex *ex, uint64_t idx)
{
    return idx < ex->page_map_len ? ex->page_map[idx] : ex_pm_none;
}

/* ---- links in freed blocks' bodies --------------------------------------------
 * The heaps' free lists, their empty pages and remote stacks link free
 * blocks through their bodies (cache lists and depot batches are arrays
 * in host memory, pool_cache.c), which a driver can
 * still write (a use after free). Each link is stored XORed with a
 * per-boot key and checked before it is followed: a pointer, NULL or
 * anything else a driver writes there decodes to an address that is not a
 * block's, and the pool reports pool.freelist-corrupt instead of
 * following it. */
static inline void *ex_link_put(const struct ex *ex, const void *p)
{
    return (void *)((uintptr_t)p ^ ex->link_key);
}
static inline void *ex_link_get(const struct ex *ex, const void *stored)
{
    return (void *)((uintptr_t)stored ^ ex->link_key);
}
/* The first word of the body of the freed block whose header is h: its
 * list link, as stored. */
static inline const void *ex_body_link(const void *h)
{
    return *(void *const *)((const struct ex_hdr *)h + 1);
}

static inline __attribute__((always_inline)) uint64_t ex_page_index(const struct ex *ex,
                                                                    const void *va)
{
    return (uint64_t)((const uint8_t *)va - ex->sys->mm.system.base) >> ex->page_shift;
}

static inline __attribute__((always_inline)) struct ex_prec *ex_prec_of(const struct ex *ex,
                                                                        uint64_t idx)
{
    return &ex->prec[idx];
}

static inline __attribute__((always_inline)) unsigned ex_hdr_unit(const struct ex *ex,
                                                                  const struct ex_hdr *h)
{
    return (unsigned)(((uintptr_t)h & (ex->page_size - 1)) >> 4);
}

/* A decoded link: NULL, or the header of a block (not a page header) in a
 * small page of kind. */
static inline __attribute__((always_inline)) bool ex_link_ok(const struct ex *ex, const void *h,
                                                             unsigned kind)
{
    uint64_t off = (uint64_t)((const uint8_t *)h - ex->sys->mm.system.base);
    return !h || (!(off & (ex_unit - 1)) && off < ex->sys->mm.system.bytes &&
                  (off & (ex->page_size - 1)) >= ex_unit &&
                  ex_pm_get(ex, off >> ex->page_shift) == ex_pm_small + kind);
}

/* Reports the link raw (as stored) in the body of the freed block at h
 * (of kind), which ex_link_ok refused: a write after the block was freed.
 * pool_heap.c. */
__attribute__((ms_abi)) void ex_link_corrupt(struct ex *ex, const void *h, const void *raw,
                                             unsigned kind, const char *where);

/* Page idx's bitmap word of unit, *bit its bit. */
static inline __attribute__((always_inline)) uint64_t *
ex_live_word(const struct ex *ex, uint64_t idx, unsigned unit, uint64_t *bit)
{
    *bit = 1ULL << (unit & 63);
    return (uint64_t *)(ex->meta + (idx << ex->meta_shift)) + (unit >> 6);
}

/* The heap (ex->heaps index) that owns small page idx: the meta record's
 * last byte, beyond the bitmap (32 of 64 bytes used with 4 KiB pages, 64
 * of 128 with 8 KiB). Written when its heap carves the page, while no
 * block of it can be anywhere. */
static inline __attribute__((always_inline)) uint8_t *ex_page_heap(const struct ex *ex,
                                                                   uint64_t idx)
{
    return ex->meta + ((idx + 1) << ex->meta_shift) - 1;
}

/* With several host threads a record changes under its lock byte: pages
 * are carved by one heap each, so two threads meet on one only when a
 * block crosses threads, and one locked instruction per call is cheaper
 * than making each field's update atomic. */
static inline __attribute__((always_inline)) bool prec_lock(const struct ex *ex, struct ex_prec *r)
{
    /* read once: an attach may turn mt on meanwhile, and the unlock must
     * match the lock */
    bool mt = __atomic_load_n(&ex->mt, __ATOMIC_RELAXED);
    if (__builtin_expect(!mt, 1))
        return false;
    while (__atomic_exchange_n(&r->lock, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&r->lock, __ATOMIC_RELAXED))
            __builtin_ia32_pause();
    return true;
}
static inline __attribute__((always_inline)) void prec_unlock(struct ex_prec *r, bool locked)
{
    if (__builtin_expect(locked, 0))
        __atomic_store_n(&r->lock, 0, __ATOMIC_RELEASE);
}

/* List form (bits 0): the index of unit in r->unit, or -1. One compare
 * of 16 bytes (the list and the start of units), masked to the live. */
static inline __attribute__((always_inline)) int prec_find(const struct ex_prec *r, unsigned unit)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)r->unit);
    unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8((char)unit)));
    m &= (1u << r->live) - 1;
    return m ? __builtin_ctz(m) : -1;
}

static inline bool prec_has(const struct ex *ex, uint64_t idx, const struct ex_prec *r,
                            unsigned unit)
{
    if (!r->bits)
        return prec_find(r, unit) >= 0;
    uint64_t bit, *w = ex_live_word(ex, idx, unit, &bit);
    return (*w & bit) != 0;
}

/* The page's list becomes its bitmap (pool_heap.c): written whole, since
 * it is stale while the list is in use. */
__attribute__((ms_abi)) void ex_prec_to_bits(struct ex *ex, uint64_t idx, struct ex_prec *r);

/* The block at unit, of units, tag and owner, goes live. The first live
 * block of an empty page sets tag and owner and clears other: a header
 * whose tag was overwritten before its free (ex_unmark) can leave other
 * above the truth, which would send every later free of this page, in any
 * of its lives, down the full path. r is locked. */
static inline __attribute__((always_inline)) void prec_add(struct ex *ex, uint64_t idx,
                                                           struct ex_prec *r, unsigned unit,
                                                           unsigned units, uint32_t tag,
                                                           unsigned owner)
{
    unsigned n = r->live;
    if (__builtin_expect(!r->bits && n < ex->prec_cap, 1)) {
        r->unit[n] = (uint8_t)unit;
        r->units[n] = (uint8_t)units;
    } else {
        if (!r->bits)
            ex_prec_to_bits(ex, idx, r);
        uint64_t bit, *w = ex_live_word(ex, idx, unit, &bit);
        *w |= bit;
    }
    r->live = (uint8_t)(n + 1);
    if (n == 0) {
        r->tag = tag;
        r->owner = (uint8_t)owner;
        r->other = 0;
    } else if (r->tag != tag || r->owner != owner) {
        r->other++;
    }
}

/* Takes list entry i off r. */
static inline __attribute__((always_inline)) void prec_drop(struct ex_prec *r, int i)
{
    unsigned last = r->live - 1u;
    r->unit[i] = r->unit[last];
    r->units[i] = r->units[last];
    r->live = (uint8_t)last;
}

/* Takes unit off r's live blocks; false (nothing changed) when it is not
 * one. r is locked. */
static inline bool prec_remove(struct ex *ex, uint64_t idx, struct ex_prec *r, unsigned unit)
{
    if (!r->bits) {
        int i = prec_find(r, unit);
        if (i < 0)
            return false;
        prec_drop(r, i);
        return true;
    }
    uint64_t bit, *w = ex_live_word(ex, idx, unit, &bit);
    if (!(*w & bit))
        return false;
    *w &= ~bit;
    if (--r->live == 0)
        r->bits = 0;
    return true;
}

/* h is a live block's header (allocated, not freed since): the host-side
 * truth, which a driver's overrun cannot fake. */
static inline bool ex_hdr_live(const struct ex *ex, const struct ex_hdr *h)
{
    uint64_t idx = ex_page_index(ex, h);
    struct ex_prec *r = ex_prec_of(ex, idx);
    bool locked = prec_lock(ex, r);
    bool live = prec_has(ex, idx, r, ex_hdr_unit(ex, h));
    prec_unlock(r, locked);
    return live;
}

/* The block at h, of units, tag and owner, goes live. */
static inline __attribute__((always_inline)) void
ex_mark_live(struct ex *ex, const struct ex_hdr *h, unsigned units, uint32_t tag, unsigned owner)
{
    uint64_t idx = ex_page_index(ex, h);
    struct ex_prec *r = ex_prec_of(ex, idx);
    bool locked = prec_lock(ex, r);
    prec_add(ex, idx, r, ex_hdr_unit(ex, h), units, tag, owner);
    prec_unlock(r, locked);
}

/* What the free path learns from the page record alone. */
struct ex_freed {
    unsigned units;
    unsigned owner;
    uint32_t tag;
};

/* The free path's test without the header: the page's record lists h,
 * and every live block of its page has the page's tag and owner, the tag
 * being the one given (0: ExFreePool, checked only for protected tags).
 * A page whose record is its bitmap (small blocks, whose headers are
 * likely in cache) gives the size from the header. Then the
 * block is not live any more and true is returned, with its size, tag and
 * owner in *f; false leaves everything as it was. */
static inline __attribute__((always_inline)) bool ex_unmark_fast(struct ex *ex, uint64_t idx,
                                                                 const struct ex_hdr *h,
                                                                 uint32_t tag, unsigned kind,
                                                                 struct ex_freed *f)
{
    struct ex_prec *r = ex_prec_of(ex, idx);
    bool locked = prec_lock(ex, r);
    bool ok = false;
    if (!r->other && (r->tag == tag || (!tag && !(r->tag & ex_tag_protected)))) {
        unsigned unit = ex_hdr_unit(ex, h);
        if (__builtin_expect(!r->bits, 1)) {
            int i = prec_find(r, unit);
            if (i >= 0) {
                f->units = r->units[i];
                prec_drop(r, i);
                ok = true;
            }
        } else {
            /* The size and the cookie that covers it (one line): the
             * free counts the size and parks the block by it; the rest is
             * checked when the block is handed out again (ex_parked_ok). */
            uint64_t bit, *w = ex_live_word(ex, idx, unit, &bit);
            unsigned units = hdr_size(h);
            if ((*w & bit) && units - 2 <= ex->max_units - 2 &&
                h->cookie == hdr_cookie_of(ex, h, units) &&
                (h->type & (ex_hdr_busy | ex_hdr_pad | ex_hdr_padded)) == ex_hdr_busy) {
                f->units = units;
                *w &= ~bit;
                if (--r->live == 0)
                    r->bits = 0;
                ok = true;
            }
        }
        f->owner = r->owner;
        f->tag = r->tag;
    }
    prec_unlock(r, locked);
    return ok;
}

/* The full free path: h is the header of a block that was live when the
 * caller checked, read and checked. False when it is not live any more
 * (another thread freed it since): a double free. */
static inline bool ex_unmark(struct ex *ex, const struct ex_hdr *h)
{
    uint64_t idx = ex_page_index(ex, h);
    struct ex_prec *r = ex_prec_of(ex, idx);
    uint32_t tag = h->tag;
    unsigned owner = h->owner;
    bool locked = prec_lock(ex, r);
    bool ok = prec_remove(ex, idx, r, ex_hdr_unit(ex, h));
    /* a header whose tag was overwritten must not drive other below 0 */
    if (ok && (r->tag != tag || r->owner != owner) && r->other)
        r->other--;
    prec_unlock(r, locked);
    return ok;
}

#endif
