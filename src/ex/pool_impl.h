/*
 * src/ex/pool_impl.h - private to the pool files of src/ex.
 *
 * The block header, the locks, and the calls between the pool's files:
 * pool.c (WDK entry points, argument rules) -> pool_heap.c (small blocks),
 * pool_big.c (whole pages), pool_special.c (special pool), pool_track.c
 * (tags, drivers, leaks).
 */
#ifndef WDMSIM_EX_POOL_IMPL_H
#define WDMSIM_EX_POOL_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "ex/ex.h"
#include "sys.h"
#include "vf/vf.h"

/* The legacy x64 POOL_HEADER shape, 16 bytes before every small block.
 * PreviousSize and BlockSize count 16-byte units; with 8 KiB pages their
 * ninth bit lives in PoolIndex (bit 0 previous, bit 1 size), which Windows
 * used for the pool descriptor index. ProcessBilled holds wdmsim's own
 * words: the owning driver, the bytes of the body beyond the request, and
 * a cookie that marks a header wdmsim wrote for this address. */
struct ex_hdr {
    uint8_t prev;  /* PreviousSize */
    uint8_t index; /* PoolIndex */
    uint8_t size;  /* BlockSize */
    uint8_t type;  /* PoolType: 0 = free in the heap, else ex_hdr_* bits */
    uint32_t tag;
    uint16_t owner;
    uint16_t slack;
    uint32_t cookie;
};
_Static_assert(sizeof(struct ex_hdr) == 16, "POOL_HEADER is 16 bytes on x64");

enum {
    ex_hdr_kind = 0x03,   /* enum ex_kind */
    ex_hdr_quota = 0x08,  /* charged to quota */
    ex_hdr_page = 0x10,   /* the page header unit */
    ex_hdr_pad = 0x20,    /* cache-aligned block: the real header is prev units back */
    ex_hdr_cached = 0x40, /* freed, parked in a processor cache */
    ex_hdr_busy = 0x80,   /* handed out */
};

/* page_map values, one byte per system page. */
enum ex_pm {
    ex_pm_none = 0,
    ex_pm_small = 1, /* + kind */
    ex_pm_big = 4,   /* + kind: first page of a big block */
    ex_pm_big_tail = 7,
    ex_pm_big_freed = 8, /* a freed big block kept for reuse */
};

/* Free-list links in the body of a free block. */
struct ex_free {
    struct ex_free *next, *prev;
};

/* PreviousSize, PoolIndex and BlockSize are read as one 4-byte load and
 * written as one 2-byte store each (x86: a single access inside a cache
 * line is not torn): with 8 KiB pages a unit count's ninth bit lives in
 * PoolIndex, and another host thread may read a header (a free's or a
 * settle's checks) while its heap rewrites it under the lock. PoolType is
 * never part of a store here: other threads write it without the lock. */
static inline uint32_t hdr_word(const struct ex_hdr *h)
{
    uint32_t w;
    memcpy(&w, h, sizeof(w));
    return w;
}
static inline unsigned hdr_size(const struct ex_hdr *h)
{
    uint32_t w = hdr_word(h);
    return ((w >> 16) & 0xFFu) | ((w >> 1) & 0x100u);
}
static inline unsigned hdr_prev(const struct ex_hdr *h)
{
    uint32_t w = hdr_word(h);
    return (w & 0xFFu) | (w & 0x100u);
}
static inline void hdr_set_size(struct ex_hdr *h, unsigned units)
{
    uint16_t v = (uint16_t)(((h->index & ~2u) | ((units >> 7) & 2u)) | ((units & 0xFFu) << 8));
    memcpy((uint8_t *)h + 1, &v, sizeof(v)); /* PoolIndex, BlockSize */
}
static inline void hdr_set_prev(struct ex_hdr *h, unsigned units)
{
    uint16_t v = (uint16_t)((units & 0xFFu) | (((h->index & ~1u) | ((units >> 8) & 1u)) << 8));
    memcpy((uint8_t *)h, &v, sizeof(v)); /* PreviousSize, PoolIndex */
}
static inline uint32_t hdr_cookie(const struct ex *ex, const void *h)
{
    return (uint32_t)(((uintptr_t)h >> 4) * 0x9E3779B1u) ^ ex->secret;
}

static inline void ex_lock(struct ex_lock *l)
{
    while (__atomic_exchange_n(&l->v, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&l->v, __ATOMIC_RELAXED))
            __builtin_ia32_pause();
}
static inline void ex_unlock(struct ex_lock *l)
{
    __atomic_store_n(&l->v, 0, __ATOMIC_RELEASE);
}

enum { ex_tag_protected = 0x80000000u }; /* PROTECTED_POOL */

/* ---- live bits and page meta (ex.h: union ex_pmeta) ----------------------- */

static inline __attribute__((always_inline)) uint64_t ex_page_index(const struct ex *ex,
                                                                    const void *va)
{
    return (uint64_t)((const uint8_t *)va - ex->sys->mm.system.base) >> ex->page_shift;
}

static inline __attribute__((always_inline)) union ex_pmeta *ex_pmeta_of(const struct ex *ex,
                                                                         uint64_t idx)
{
    return (union ex_pmeta *)(ex->meta + (idx << ex->meta_shift));
}

/* The live-bit word of the block whose header is h (page idx); *bit its bit. */
static inline __attribute__((always_inline)) uint64_t *
ex_live_word(const struct ex *ex, uint64_t idx, const struct ex_hdr *h, uint64_t *bit)
{
    unsigned unit = (unsigned)(((uintptr_t)h & (ex->page_size - 1)) >> 4);
    *bit = 1ULL << (unit & 63);
    return (uint64_t *)(ex_pmeta_of(ex, idx) + 1) + (unit >> 6);
}

/* h is a live block's header (allocated, not freed since): the host-side
 * truth, which a driver's overrun cannot fake. */
static inline __attribute__((always_inline)) bool ex_hdr_live(const struct ex *ex,
                                                              const struct ex_hdr *h)
{
    uint64_t bit, *w = ex_live_word(ex, ex_page_index(ex, h), h, &bit);
    return (__atomic_load_n(w, __ATOMIC_RELAXED) & bit) != 0;
}

/* The heap (ex->heaps index) that owns small page idx: the record's last
 * byte, beyond the live bits (40 of 64 bytes used with 4 KiB pages, 72 of
 * 128 with 8 KiB). Written when its heap carves the page, while no block
 * of it can be anywhere. */
static inline __attribute__((always_inline)) uint8_t *ex_page_heap(const struct ex *ex,
                                                                   uint64_t idx)
{
    return ex->meta + ((idx + 1) << ex->meta_shift) - 1;
}

/* The first live block of an empty page sets its tag and clears other: a
 * header whose tag was overwritten before its free (ex_unmark) can leave
 * other above the truth, which would send every later free of this page,
 * in any of its lives, down the full path. */
static inline __attribute__((always_inline)) void pmeta_add(union ex_pmeta *m, uint32_t tag)
{
    if (m->f.live++ == 0) {
        m->f.tag = tag;
        m->f.other = 0;
    } else if (m->f.tag != tag) {
        m->f.other++;
    }
}

/* The block at h, of tag, goes live. */
static inline __attribute__((always_inline)) void ex_mark_live(struct ex *ex,
                                                               const struct ex_hdr *h, uint32_t tag)
{
    uint64_t idx = ex_page_index(ex, h), bit, *w = ex_live_word(ex, idx, h, &bit);
    union ex_pmeta *m = ex_pmeta_of(ex, idx);
    if (__builtin_expect(!ex->mt, 1)) {
        *w |= bit;
        pmeta_add(m, tag);
        return;
    }
    __atomic_fetch_or(w, bit, __ATOMIC_RELAXED);
    union ex_pmeta o, n;
    o.v = __atomic_load_n(&m->v, __ATOMIC_RELAXED);
    do {
        n = o;
        pmeta_add(&n, tag);
    } while (
        !__atomic_compare_exchange_n(&m->v, &o.v, n.v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
}

/* The free path's test without the header: h's block is live and every
 * live block of its page carries the page's tag, which is the tag given
 * (0: ExFreePool, checked only for protected tags). Then the block is not
 * live any more and true is returned; false leaves everything as it was. */
static inline __attribute__((always_inline)) bool
ex_unmark_fast(struct ex *ex, uint64_t idx, const struct ex_hdr *h, uint32_t tag)
{
    uint64_t bit, *w = ex_live_word(ex, idx, h, &bit);
    union ex_pmeta *m = ex_pmeta_of(ex, idx);
    if (__builtin_expect(!ex->mt, 1)) {
        union ex_pmeta o = *m;
        if (!(*w & bit) || o.f.other || (o.f.tag != tag && (tag || (o.f.tag & ex_tag_protected))))
            return false;
        *w &= ~bit;
        m->f.live = (uint16_t)(o.f.live - 1);
        return true;
    }
    if (!(__atomic_fetch_and(w, ~bit, __ATOMIC_RELAXED) & bit))
        return false;
    union ex_pmeta o, n;
    o.v = __atomic_load_n(&m->v, __ATOMIC_RELAXED);
    do {
        if (o.f.other || (o.f.tag != tag && (tag || (o.f.tag & ex_tag_protected)))) {
            __atomic_fetch_or(w, bit, __ATOMIC_RELAXED);
            return false;
        }
        n = o;
        n.f.live--;
    } while (
        !__atomic_compare_exchange_n(&m->v, &o.v, n.v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    return true;
}

/* The full free path: h is a live block's header, read and checked. */
static inline __attribute__((always_inline)) void ex_unmark(struct ex *ex, const struct ex_hdr *h)
{
    uint64_t idx = ex_page_index(ex, h), bit, *w = ex_live_word(ex, idx, h, &bit);
    union ex_pmeta *m = ex_pmeta_of(ex, idx);
    uint32_t tag = h->tag;
    __atomic_fetch_and(w, ~bit, __ATOMIC_RELAXED);
    union ex_pmeta o, n;
    o.v = __atomic_load_n(&m->v, __ATOMIC_RELAXED);
    do {
        n = o;
        if (n.f.live)
            n.f.live--;
        /* a header whose tag was overwritten must not drive other below 0 */
        if (n.f.tag != tag && n.f.other)
            n.f.other--;
    } while (
        !__atomic_compare_exchange_n(&m->v, &o.v, n.v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
}

/* What one allocation asks for, after the entry point checked it. */
struct ex_req {
    enum ex_kind kind;
    uint64_t bytes;
    uint32_t tag;
    bool cache_aligned;
    bool quota;
    bool zero;
    int special; /* 0 normal, 1 special verify end, 2 verify start */
    uint16_t owner;
    void *caller;
};

/* The cache of the calling host thread when it attached to this pool,
 * else the running processor's (pool_init.c). */
struct ex_attach {
    struct ex *ex;
    struct ex_cache *cache;
};
extern __thread struct ex_attach ex_attached;
static inline struct ex_cache *ex_cache_get(struct ex *ex)
{
    if (__builtin_expect(ex_attached.ex == ex, 0))
        return ex_attached.cache;
    return &ex->caches[ex->sys->ke.current];
}

/* pool_heap.c */
void ex_cache_limits_init(struct ex *ex);
/* A cache list ran dry: refill it (depot batch or free lists) and return
 * one block taken from it; NULL when no memory. */
struct ex_hdr *ex_cache_refill(struct ex *ex, struct ex_cache *c, enum ex_kind kind, unsigned u);
/* A cache list passed its limit: its older half goes to the depot. */
__attribute__((ms_abi)) void ex_cache_flush(struct ex *ex, struct ex_cache_kind *ck,
                                            enum ex_kind kind, unsigned u);

/* The fast paths' out-of-line calls are ms_abi: see pool.c. */

/* Takes the newest parked block of u units, NULL when the list is empty.
 * The next one's header is prefetched: the list is LIFO, so it may have
 * been parked long ago, and its next use is this list's next pop. */
static inline struct ex_hdr *ex_cache_pop(struct ex_cache_kind *ck, unsigned u)
{
    struct ex_hdr *h = ck->head[u];
    if (__builtin_expect(h != NULL, 1)) {
        struct ex_hdr *next = *(void **)(h + 1);
        ck->head[u] = next;
        ck->count[u]--;
        if (next) {
            __builtin_prefetch(next, 1);
            __builtin_prefetch(next + 1, 1);
        }
    }
    return h;
}

/* Parks a block just freed (its header checked) on the cache list of its
 * unit count. */
static inline void ex_cache_push(struct ex *ex, struct ex_cache_kind *ck, enum ex_kind kind,
                                 struct ex_hdr *h, unsigned u)
{
    h->type = (uint8_t)(ex_hdr_cached | kind);
    *(void **)(h + 1) = ck->head[u];
    ck->head[u] = h;
    if (__builtin_expect(++ck->count[u] > ex->cache_limit[u], 0))
        ex_cache_flush(ex, ck, kind, u);
}

/* Sorts c's pending frees onto its lists and counts them (pool.c's free
 * path defers both: their header reads then overlap). */
__attribute__((ms_abi)) void ex_cache_settle(struct ex *ex, struct ex_cache *c);

int ex_heap_init(struct ex *ex);
void ex_heap_fini(struct ex *ex);
void *ex_small_alloc(struct ex *ex, struct ex_cache *c, const struct ex_req *r, uint64_t *occupied);
/* The header of the block p starts, found by the full checks when the one
 * before p did not pass; NULL when a rule fired (it reports itself). */
__attribute__((ms_abi)) struct ex_hdr *ex_small_header(struct ex *ex, void *p);
uint64_t ex_small_occupied(const struct ex_hdr *h);
/* Maps n new pool pages of kind (contiguous frames when it can). */
void *ex_pages_map(struct ex *ex, enum ex_kind kind, uint64_t n);
void ex_pages_unmap(struct ex *ex, void *va, uint64_t n);
void ex_pm_set(struct ex *ex, const void *va, uint64_t n, uint8_t v);
static inline uint8_t ex_pm_get(const struct ex *ex, uint64_t idx)
{
    return idx < ex->page_map_len ? ex->page_map[idx] : ex_pm_none;
}

/* h carries its address's cookie; true when the rest of it describes a
 * block its page (of kind, from page_map) can hold. An overrun that stops
 * short of the cookie (the header's last 4 bytes) rewrites the other
 * fields, and the free path indexes the caches, the heaps and the owner
 * counters with them. (An owner below ex_max_owners but unknown only
 * misattributes the block.) */
static inline bool ex_hdr_fits(const struct ex *ex, const struct ex_hdr *h)
{
    /* a live header is never in a page's last unit (blocks have 2 or more) */
    unsigned unit = (unsigned)(((uintptr_t)h & (ex->page_size - 1)) >> 4);
    return h->owner < ex_max_owners && !(h->index & ~3u) &&
           hdr_size(h) - 2 <= ex->page_units - 2 - unit && hdr_prev(h) - 1 < unit;
}
static inline bool ex_hdr_sane(const struct ex *ex, const struct ex_hdr *h, unsigned kind)
{
    return (h->type & ex_hdr_kind) == kind && ex_hdr_fits(ex, h);
}

/* The kind of the small-pool page holding va (page_map says it is one). */
static inline unsigned ex_small_kind(const struct ex *ex, const void *va)
{
    return (unsigned)(ex_pm_get(ex, ex_page_index(ex, va)) - ex_pm_small);
}

/* The block header a cache-aligned block's pad header (ex_hdr_pad) points
 * back to: 1 to 3 units before it (ex_small_alloc), in its page; NULL
 * when the pad's prev says otherwise (not a pad wdmsim wrote). */
static inline struct ex_hdr *ex_pad_real(const struct ex *ex, const struct ex_hdr *pad)
{
    unsigned unit = (unsigned)(((uintptr_t)pad & (ex->page_size - 1)) >> 4);
    unsigned back = hdr_prev(pad);
    if (back < 1 || back > 3 || back >= unit)
        return NULL;
    return (struct ex_hdr *)((uintptr_t)pad - (uintptr_t)back * ex_unit);
}

/* A pending free (ex_cache.pend): the block's header, with its page's kind
 * in the low bits (headers are 16-byte aligned), so that the settle need
 * not look the page up. */
static inline void *ex_pend_make(struct ex_hdr *h, unsigned kind)
{
    return (void *)((uintptr_t)h | kind);
}
static inline struct ex_hdr *ex_pend_hdr(const void *e)
{
    return (struct ex_hdr *)((uintptr_t)e & ~(uintptr_t)(ex_unit - 1));
}
static inline unsigned ex_pend_kind(const void *e)
{
    return (unsigned)((uintptr_t)e & ex_hdr_kind);
}

/* A pending free's header (pool.c parks the block without reading it) is
 * still one wdmsim wrote: its cookie, busy, sane for its page. */
static inline bool ex_pend_hdr_ok(const struct ex *ex, const void *e)
{
    const struct ex_hdr *h = ex_pend_hdr(e);
    return h->cookie == hdr_cookie(ex, h) &&
           (h->type & (ex_hdr_busy | ex_hdr_pad | ex_hdr_cached | ex_hdr_kind)) ==
               (ex_hdr_busy | ex_pend_kind(e)) &&
           ex_hdr_fits(ex, h);
}

/* Calls fn for every live small block (leak listing). */
void ex_small_foreach(struct ex *ex, void (*fn)(void *ctx, const struct ex_hdr *h, void *p),
                      void *ctx);

/* pool_big.c */
void *ex_big_alloc(struct ex *ex, const struct ex_req *r);
bool ex_big_lookup(struct ex *ex, uintptr_t va, struct ex_big *copy);
void ex_big_free(struct ex *ex, uintptr_t va);
void ex_big_foreach(struct ex *ex, void (*fn)(void *ctx, const struct ex_big *b), void *ctx);
void ex_big_fini(struct ex *ex);

/* pool_special.c */
int ex_special_init(struct ex *ex);
void ex_special_fini(struct ex *ex);
void *ex_special_alloc(struct ex *ex, const struct ex_req *r);
bool ex_special_owns(const struct ex *ex, const void *p);
/* p (which ex_special_owns) is the start of a live special-pool block. */
bool ex_special_live_at(const struct ex *ex, const void *p);
/* Frees p (checks it); returns the slot's record for tracking, or NULL if
 * the checks stopped nothing but the block was not live (never returns
 * then: the rules stop). */
struct ex_special *ex_special_lookup(struct ex *ex, void *p);
void ex_special_free(struct ex *ex, struct ex_special *s, void *p);
/* spool.bad-irql (0xC1 P4 0x30 / 0x31) when IRQL is too high for kind. */
void ex_special_check_irql(struct ex *ex, bool alloc, enum ex_kind kind, uint64_t type,
                           uint64_t what);

/* pool_track.c */
__attribute__((ms_abi)) void ex_track(struct ex *ex, struct ex_cache *c, uint32_t tag,
                                      unsigned kind, uint16_t owner, int64_t bytes, bool alloc);
__attribute__((ms_abi)) uint16_t ex_owner_of_slow(struct ex *ex, void *caller);
/* The driver whose image holds caller (0: none): the last one found is
 * cached by range, and with no driver loaded there is nothing to look up. */
static inline uint16_t ex_owner_of(struct ex *ex, void *caller)
{
    uintptr_t pc = (uintptr_t)caller;
    if (pc >= ex->owner_lo && pc < ex->owner_hi)
        return ex->owner_id;
    if (!ex->sys->io.drivers)
        return 0;
    return ex_owner_of_slow(ex, caller);
}
/* ke_observe (wdmsim run --trace) of one allocation or free. */
__attribute__((ms_abi)) void ex_track_observe(struct ex *ex, uint32_t tag, unsigned kind,
                                              int64_t bytes, bool alloc);
/* Counts one allocation (alloc) or free of a block of `bytes` occupied;
 * the cache's last (tag, kind) is the common case. */
static inline void ex_track_fast(struct ex *ex, struct ex_cache *c, uint32_t tag, unsigned kind,
                                 uint16_t owner, int64_t bytes, bool alloc)
{
    struct ex_tag_stat *s = c->last;
    if (__builtin_expect(!s || s->tag != tag || s->kind != kind, 0)) {
        ex_track(ex, c, tag, kind, owner, bytes, alloc);
        return;
    }
    /* Separate 8-byte updates: gcc would otherwise merge frees and bytes
     * into one 16-byte load and store, and that load cannot take its value
     * from the allocation's 8-byte store to bytes just before it (a store
     * forwarding stall on every free). */
    if (alloc) {
        s->allocs++;
        __asm__("" ::: "memory");
        s->bytes += bytes;
    } else {
        s->frees++;
        __asm__("" ::: "memory");
        s->bytes -= bytes;
    }
    if (__builtin_expect(ex->sys->ke.trace.observe, 0))
        ex_track_observe(ex, tag, kind, bytes, alloc);
    c->owner_blocks[owner] += alloc ? 1 : -1;
    c->owner_bytes[owner] += alloc ? bytes : -bytes;
}
bool ex_tag_valid_chars(uint32_t tag, bool *has_alnum);

/* Rules, each beside its check. */
extern const struct vf_rule ex_rule_zero_size, ex_rule_paged_above_apc,
    ex_rule_nonpaged_above_dispatch, ex_rule_must_succeed, ex_rule_tag_zero, ex_rule_tag_big,
    ex_rule_tag_chars, ex_rule_bad_type, ex_rule_free_bad_address, ex_rule_free_mid_block,
    ex_rule_free_paged_above_apc, ex_rule_free_nonpaged_above_dispatch, ex_rule_double_free,
    ex_rule_free_wrong_tag, ex_rule_leak_at_unload, ex_rule_executable, ex_rule_header_corrupt,
    ex_rule_spool_overrun, ex_rule_spool_underrun, ex_rule_spool_use_after_free,
    ex_rule_spool_corrupt_at_free, ex_rule_spool_bad_irql;

#endif
