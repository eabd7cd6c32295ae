/*
 * src/ex/pool_impl.h - private to the pool files of src/ex.
 *
 * The block header, the locks (pool_record.h: the page records), and the
 * calls between the pool's files:
 * pool.c (WDK entry points, argument rules) -> pool_cache.c (small blocks:
 * caches, depot) -> pool_heap.c (pool pages, central heaps), pool_classify.c
 * (pointers the full free path places),
 * pool_big.c (whole pages), pool_special.c (special pool), pool_track.c
 * (tags, drivers, leaks).
 */
#ifndef WDMSIM_EX_POOL_IMPL_H
#define WDMSIM_EX_POOL_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <emmintrin.h>
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
    ex_hdr_padded = 0x40, /* cache-aligned: the body starts after a pad header */
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
/* Verifier options that take an allocation elsewhere or may refuse it:
 * with any of them on, every allocation takes the full path (pool.c). */
enum { ex_slow_options = vf_opt_special_pool | vf_opt_low_resources | vf_opt_code_integrity };

/* The page kinds whose frees can take the fast path (pool.c: pool_free). */
enum {
    ex_pm_fast_free = (1u << (ex_pm_small + ex_kind_nonpaged)) | (1u << (ex_pm_small + ex_kind_nx))
};

/* Free-list links in the body of a free block. */
struct ex_free {
    struct ex_free *next, *prev;
};

/* PreviousSize, PoolIndex and BlockSize are read as one 4-byte load and
 * written as one 2-byte store each (x86: a single access inside a cache
 * line is not torn): with 8 KiB pages a unit count's ninth bit lives in
 * PoolIndex, and another host thread may read a header (a free's or an
 * allocation's checks) while its heap rewrites it under the lock. PoolType is
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
/* The cookie of a header at h of units: its address's hash, and the size,
 * so that one compare checks both (an overrun that rewrites BlockSize or
 * PoolIndex and stops short of the cookie changes what the cookie should
 * be). units * 0x10001 stays below bit 26, and its complement (what an
 * invalidated header holds, ~cookie) has bit 31 set: no size's cookie is
 * another's complement. */
static inline uint32_t hdr_cookie_of(const struct ex *ex, const void *h, unsigned units)
{
    return ((uint32_t)(((uintptr_t)h >> 4) * 0x9E3779B1u) ^ ex->secret) ^ (units * 0x10001u);
}
static inline uint32_t hdr_cookie(const struct ex *ex, const struct ex_hdr *h)
{
    return hdr_cookie_of(ex, h, hdr_size(h));
}
/* The cookie follows: a header's size changes only while its block is
 * free or parked, under its heap's lock. */
static inline void hdr_set_size(const struct ex *ex, struct ex_hdr *h, unsigned units)
{
    uint16_t v = (uint16_t)(((h->index & ~2u) | ((units >> 7) & 2u)) | ((units & 0xFFu) << 8));
    memcpy((uint8_t *)h + 1, &v, sizeof(v)); /* PoolIndex, BlockSize */
    h->cookie = hdr_cookie_of(ex, h, units);
}
static inline void hdr_set_prev(struct ex_hdr *h, unsigned units)
{
    uint16_t v = (uint16_t)((units & 0xFFu) | (((h->index & ~1u) | ((units >> 8) & 1u)) << 8));
    memcpy((uint8_t *)h, &v, sizeof(v)); /* PreviousSize, PoolIndex */
}

/* h carries its address's cookie; true when the rest of it describes a
 * block its page (of kind, from page_map) can hold. An overrun that stops
 * short of the cookie (the header's last 4 bytes) rewrites the other
 * fields, and the free path indexes the caches, the heaps and the owner
 * counters with them. (An owner below ex_max_owners but unknown only
 * misattributes the block.) */
static inline __attribute__((always_inline)) bool ex_hdr_fits(const struct ex *ex,
                                                              const struct ex_hdr *h)
{
    /* a live header is never in a page's last unit (blocks have 2 or more) */
    unsigned unit = (unsigned)(((uintptr_t)h & (ex->page_size - 1)) >> 4);
    return h->owner < ex_max_owners && !(h->index & ~3u) &&
           hdr_size(h) - 2 <= ex->page_units - 2 - unit && hdr_prev(h) - 1 < unit;
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

#include "ex/pool_record.h"

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
/* A cache list ran dry: refill it from a depot batch (true, *h NULL: take
 * from the list) or from the free lists (true, *h one block, taken);
 * false when there is no memory. */
bool ex_cache_refill(struct ex *ex, struct ex_cache *c, enum ex_kind kind, unsigned u,
                     struct ex_hdr **h);
/* A cache list passed its limit: its older half goes to the depot. */
__attribute__((ms_abi)) void ex_cache_flush(struct ex *ex, struct ex_cache_kind *ck,
                                            enum ex_kind kind, unsigned u);

/* The fast paths' out-of-line calls are ms_abi: see pool.c. */

/* PoolIndex bits 2-7 clear, its bit 1 and BlockSize u, PoolType busy|kind
 * (the quota bit aside): ex_clist.want. */
static inline uint32_t ex_parked_want(unsigned kind, unsigned u)
{
    return ((ex_hdr_busy | kind) << 24) | ((u & 0xFFu) << 16) | ((u & 0x100u) << 1);
}

/* A parked block of kind and u units on a cache list is still as the pool
 * left it: busy, as its last allocation (or the refill that carved it)
 * left it, its page record saying it is not live. The free path parks a
 * block without reading its header, so an overrun of the block before it
 * (before or after its free) is found here, when the block is handed out
 * again, or when it is coalesced (pool_heap.c). The header is compared as
 * two words: PreviousSize, PoolIndex, BlockSize and PoolType, then owner
 * and cookie. */
static inline __attribute__((always_inline)) bool
ex_parked_ok(const struct ex *ex, const struct ex_hdr *h, unsigned u, uint32_t want)
{
    uint64_t w0, w1;
    memcpy(&w0, h, sizeof(w0));
    memcpy(&w1, (const uint8_t *)h + 8, sizeof(w1));
    return ((uint32_t)w0 & 0xF7FFFE00u) == want &&
           (unsigned)(w0 & 0x1FF) - 1 < ex_hdr_unit(ex, h) && /* PreviousSize */
           !(w1 & (0xFFFFu & ~(ex_max_owners - 1u))) &&       /* owner */
           (uint32_t)(w1 >> 32) == hdr_cookie_of(ex, h, u);
}

/* Takes the newest parked block of u units: NULL when the list is empty,
 * or, with *bad set, when it fails ex_parked_ok (the list is left as it
 * was). The next one's header is prefetched: the list is LIFO, so it may
 * have been parked long ago, and its next use is this list's next pop. */
static inline __attribute__((always_inline)) struct ex_hdr *
ex_cache_take(const struct ex *ex, struct ex_cache_kind *ck, unsigned u, bool *bad)
{
    struct ex_clist *l = &ck->list[u];
    unsigned n = l->count;
    if (!n)
        return NULL;
    struct ex_hdr *h = l->slot[n - 1].h;
    if (__builtin_expect(!ex_parked_ok(ex, h, u, l->want), 0)) {
        *bad = true;
        return NULL;
    }
    l->count = (uint16_t)(n - 1);
    if (n > 1)
        __builtin_prefetch(l->slot[n - 2].h, 1);
    return h;
}

/* Reports the newest block of ck's list of u units, which failed
 * ex_parked_ok, and drops it from the list. */
__attribute__((ms_abi)) void ex_parked_corrupt(struct ex *ex, struct ex_cache_kind *ck,
                                               unsigned kind, unsigned u);

/* Parks a block just freed on the cache list of its unit count: nothing is
 * written into the block, whose header keeps what its allocation wrote
 * for ex_parked_ok to check. */
static inline __attribute__((always_inline)) void ex_cache_push(struct ex *ex,
                                                                struct ex_cache_kind *ck,
                                                                enum ex_kind kind, struct ex_hdr *h,
                                                                unsigned u, void *site)
{
    struct ex_clist *l = &ck->list[u];
    struct ex_cslot *s = &l->slot[l->count];
    s->h = h;
    s->site = site;
    if (__builtin_expect(++l->count > l->limit, 0))
        ex_cache_flush(ex, ck, kind, u);
}

/* The header h + units units. */
static inline struct ex_hdr *hdr_at(const void *h, unsigned units)
{
    return (struct ex_hdr *)((uint8_t *)(uintptr_t)h + (size_t)units * ex_unit);
}

/* The heap that owns h's page. The one heap that carves pages of kind
 * (deterministic mode; a producer whose consumer only frees) owns them
 * all: then the page record, likely in another core's cache, is not read.
 * A heap sets its bit before any block of its pages exists, and a block
 * reaches another thread after its allocation, so that thread sees it. */
static inline struct ex_heap *ex_heap_owner(struct ex *ex, const struct ex_hdr *h,
                                            enum ex_kind kind)
{
    unsigned m = __atomic_load_n(&ex->carvers[kind], __ATOMIC_RELAXED);
    if (m && !(m & (m - 1)))
        return &ex->heaps[__builtin_ctz(m)][kind];
    uint8_t id = __atomic_load_n(ex_page_heap(ex, ex_page_index(ex, h)), __ATOMIC_RELAXED);
    return &ex->heaps[id < ex_heaps ? id : 0][kind];
}

/* hp's kind (heaps are ex->heaps[id][kind]). */
static inline unsigned ex_heap_kind(const struct ex *ex, const struct ex_heap *hp)
{
    return (unsigned)(hp - ex->heaps[hp->id]);
}

/* h is the last block of its page. */
static inline bool ex_last_in_page(const struct ex *ex, const struct ex_hdr *h)
{
    unsigned off = (unsigned)(((uintptr_t)h & (ex->page_size - 1)) >> 4);
    return off + hdr_size(h) >= ex->page_units;
}

/* pool_heap.c, the central heaps (hp->lock held unless said): */
void ex_hdr_init(struct ex *ex, struct ex_hdr *h, unsigned prev, unsigned size, uint8_t type);
/* A block of at least u units, split, its type left for the caller; NULL
 * when no memory. */
struct ex_hdr *ex_heap_take(struct ex *ex, enum ex_kind kind, struct ex_heap *hp, unsigned u);
/* h (parked) goes back to the free lists of its page's heap, coalesced:
 * hp's directly, another's through its remote stack. */
void ex_heap_put(struct ex *ex, struct ex_heap *hp, struct ex_hdr *h, enum ex_kind kind);
/* h, of hp's pages, goes back to hp's free lists, coalesced. */
void ex_heap_give(struct ex *ex, struct ex_heap *hp, struct ex_hdr *h);
void ex_heap_drain_remote(struct ex *ex, struct ex_heap *hp);
/* Takes hp->lock: empties its remote stack, returns empty pages beyond 16. */
void ex_heap_trim(struct ex *ex, struct ex_heap *hp);
/* pool_cache.c: gives the depot's batches back to the free lists. */
void ex_depot_consolidate(struct ex *ex, struct ex_heap *hp);

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

/* Calls fn for every live small block (leak listing). */
void ex_small_foreach(struct ex *ex, void (*fn)(void *ctx, const struct ex_hdr *h, void *p),
                      void *ctx);

/* pool_big.c */
/* From the table of heap (ex->heaps index) */
void *ex_big_alloc(struct ex *ex, const struct ex_req *r, unsigned heap);
int ex_big_init(struct ex *ex);
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
/* Counts one allocation (alloc) or free of a block of `bytes` occupied
 * when the cache's last (tag, kind) is the block's, the common case, and
 * says whether it did; else the caller counts it with ex_track. No
 * --trace observation: the fast paths are closed while it is on. */
static inline __attribute__((always_inline)) bool ex_count_fast(struct ex_cache *c, uint32_t tag,
                                                                unsigned kind, uint16_t owner,
                                                                int64_t bytes, bool alloc)
{
    struct ex_tag_stat *s = c->last;
    if (__builtin_expect(!s || s->tag != tag || s->kind != kind, 0))
        return false;
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
    c->owner_blocks[owner] += alloc ? 1 : -1;
    c->owner_bytes[owner] += alloc ? bytes : -bytes;
    return true;
}

/* Counts one allocation or free, observed by --trace. */
static inline void ex_track_fast(struct ex *ex, struct ex_cache *c, uint32_t tag, unsigned kind,
                                 uint16_t owner, int64_t bytes, bool alloc)
{
    if (!ex_count_fast(c, tag, kind, owner, bytes, alloc)) {
        ex_track(ex, c, tag, kind, owner, bytes, alloc);
        return;
    }
    if (__builtin_expect(ex->sys->ke.trace.observe, 0))
        ex_track_observe(ex, tag, kind, bytes, alloc);
}
bool ex_tag_valid_chars(uint32_t tag, bool *has_alnum);

/* Rules, each beside its check. */
extern const struct vf_rule ex_rule_zero_size, ex_rule_paged_above_apc,
    ex_rule_nonpaged_above_dispatch, ex_rule_must_succeed, ex_rule_tag_zero, ex_rule_tag_big,
    ex_rule_tag_chars, ex_rule_bad_type, ex_rule_free_bad_address, ex_rule_free_mid_block,
    ex_rule_free_paged_above_apc, ex_rule_free_nonpaged_above_dispatch, ex_rule_double_free,
    ex_rule_free_wrong_tag, ex_rule_leak_at_unload, ex_rule_executable, ex_rule_header_corrupt,
    ex_rule_freelist_corrupt, ex_rule_spool_overrun, ex_rule_spool_underrun,
    ex_rule_spool_use_after_free, ex_rule_spool_corrupt_at_free, ex_rule_spool_bad_irql;

#endif
