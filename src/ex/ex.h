/*
 * src/ex/ex.h - the executive: pools, lookaside lists, interlocked lists.
 * The whole interface of src/ex to the other layers.
 *
 * Models: the executive pools of spec/memory.md 4: three kinds of pool
 * (nonpaged executable, nonpaged NX, paged), made of simulated pages mapped
 * in system space. Small blocks (<= PAGE_SIZE - 32 bytes) live inside pool
 * pages behind a 16-byte header of the legacy x64 POOL_HEADER shape; larger
 * ones take whole pages ("big pool", tracked by address). Per-tag counters
 * are always kept (poolmon); per-driver counters feed the unload leak check.
 *
 * Concept notes (pool_heap.c and pool_cache.c have the details):
 * - a pool page = one page header unit + blocks chained by PreviousSize /
 *   BlockSize in 16-byte units; coalescing never crosses a page, so a block
 *   under a page never crosses a page boundary;
 * - a central heap of each kind keeps one free list per unit count and a
 *   bitmap of the non-empty ones (best fit in O(1)); a lock guards it; the
 *   processors share heap 0, each attached host slot has its own;
 * - in front of it, one cache per processor (or per host thread that
 *   attached with ex_pool_thread_attach) keeps LIFO lists of freed blocks
 *   per unit count, bounded in bytes: most allocations and frees touch only
 *   their processor's cache. Between the two, each heap's depot passes
 *   whole batches of parked blocks from caches that free to caches that
 *   allocate, without coalescing. Tag and driver counters are per cache
 *   too and are summed when read.
 * Spec: spec/memory.md 4, 6; spec/verifier.md 1-3.
 * Invariants: see pool_heap.c (headers), pool_cache.c (lists) and pool_big.c
 * (big pool table).
 */
#ifndef WDMSIM_EX_H
#define WDMSIM_EX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "machine/machine.h"

struct sys;
struct io_driver;
struct vf_rule;
struct vf_rule_list;

enum ex_kind {
    ex_kind_nonpaged = 0, /* NonPagedPool (executable) */
    ex_kind_paged = 1,
    ex_kind_nx = 2, /* NonPagedPoolNx */
    ex_kind_count = 3,
};

enum {
    ex_unit = 16,                 /* pool block granularity and header size */
    ex_max_page_units = 512,      /* 8 KiB pages */
    ex_max_owners = 64,           /* drivers with their own counters; 0 = kernel */
    ex_tag_slots = 512,           /* per-cache tag table */
    ex_host_slots = 8,            /* caches for attached host threads (pool_init.c) */
    ex_big_keep = 32,             /* freed big blocks kept per kind and size (pool_big.c) */
    ex_heaps = 1 + ex_host_slots, /* heap 0: the processors'; then one per host slot */
};

/* A test-and-test-and-set lock: uncontended in deterministic mode. */
struct ex_lock {
    int v;
};

/* poolmon counters of one (tag, kind). */
struct ex_tag_stat {
    uint32_t tag;
    uint8_t kind;
    uint8_t used;
    int64_t allocs, frees, bytes; /* bytes: live, per cache may go negative */
};

struct ex_tag_table {
    struct ex_tag_stat slot[ex_tag_slots];
    unsigned used;
};

/* A parked block (its header) and where it was freed, which a report of
 * its header found corrupt later names. */
struct ex_cslot {
    void *h;
    void *site;
};

/* A depot batch: parked blocks a cache gave up, of one unit count. */
struct ex_batch {
    struct ex_batch *next;
    unsigned n;
    struct ex_cslot slot[];
};

/* One processor's (or host thread's) front cache. Touched only by its owner. */
struct ex_cache {
    struct ex_cache_kind {
        /* LIFO of parked blocks by units, as an array (nothing is written
         * into a parked block): what one allocation or free reads of it
         * in one 16-byte entry */
        struct ex_clist {
            struct ex_cslot *slot; /* limit + 1 entries (pool_init.c) */
            uint16_t count;
            uint16_t limit; /* ex->cache_limit[units] */
            uint32_t want;  /* a parked header's type and size word (pool_impl.h) */
        } list[ex_max_page_units];
    } kind[ex_kind_count];
    struct ex_tag_table tags;
    struct ex_tag_stat *last; /* last tag touched */
    uint32_t tag_ok;          /* last tag that passed the tag rules (never 0) */
    int64_t owner_blocks[ex_max_owners];
    int64_t owner_bytes[ex_max_owners];
    struct ex_cslot *slots; /* every list's entries, one allocation */
    uint8_t heap;           /* the heaps (ex->heaps[heap]) its refills take from */
};

/* Per small-pool page, host side (a driver cannot scribble on it), 32
 * bytes: every free reads its page's. live counts the live blocks. While
 * bits is 0 the first live of them are listed, in no order: unit[i] is
 * the unit of a header, units[i] its block's size, so that a free need
 * not read the block's header; a page that needs more than
 * ex_prec_list entries (or has 8 KiB pages, whose units do not fit a
 * byte) switches to its bitmap in ex->meta (one bit per unit, set at each
 * live header) until it is empty again, and its frees read the headers.
 * tag and owner are set by the first block that goes live in an empty
 * page; other counts the live blocks whose tag or owner differ. While
 * other is 0 a free knows both without the header (pool.c). lock is held
 * while the record and the bitmap change when several host threads use
 * the pool (ex->mt). */
enum { ex_prec_list = 11 };
struct ex_prec {
    uint32_t tag;
    uint8_t owner;
    uint8_t other;
    uint8_t live;
    uint8_t lock;
    uint8_t bits;
    uint8_t unit[ex_prec_list];
    uint8_t units[ex_prec_list];
    uint8_t spare;
};
_Static_assert(sizeof(struct ex_prec) == 32, "two page records per cache line");

/* A central heap of one kind of pool. Fields under lock but remote. Each
 * host slot has its own heaps and the processors share heap 0: a page is
 * carved only by the heap that owns it (its page record says which), so
 * two host threads' blocks do not share pages. A block of another heap's
 * page that must go back to the free lists (coalesced) goes on that
 * heap's remote stack, which its owner empties under its own lock. */
struct ex_heap {
    struct ex_lock lock;
    uint8_t id; /* index in ex->heaps */
    uint64_t nonempty[ex_max_page_units / 64];
    void *head[ex_max_page_units]; /* struct ex_free lists by units */
    void *empty;                   /* wholly free pages kept for reuse */
    uint64_t nempty;
    uint64_t pages; /* small-pool pages held (incl. empty) */
    /* The depot: whole batches of parked blocks that caches flushed, by
     * unit count, handed to the next cache that runs dry of that count
     * without splitting or coalescing (pool_cache.c). */
    struct ex_batch *depot[ex_max_page_units]; /* stack of batches */
    uint64_t depot_bytes;                      /* in all batches (bounded: pool_cache.c) */
    /* Blocks of this heap's pages given back by other heaps (lock-free
     * push, taken whole by the owner): its own cache line, since other
     * threads write it. */
    _Alignas(64) void *remote;
    char pad_remote[56];
};

/* A big-pool block (> PAGE_SIZE - 32): whole pages, found by address. */
struct ex_big {
    uintptr_t va; /* 0 = empty slot */
    uint64_t bytes;
    uint32_t pages;
    uint32_t tag;
    uint16_t owner;
    uint8_t kind;
    uint8_t quota;
};

/* The big blocks one heap's caches allocated (the processors share table
 * 0, each host slot has its own, so two host threads do not share a lock
 * or a line here): open addressing on the page number, and the freed 1-4
 * page blocks kept for reuse, host side (a driver's write after free
 * cannot reach the list). */
struct ex_bigtab {
    struct ex_lock lock;
    struct ex_big *big;
    uint64_t cap, count;
    void *kept[ex_kind_count][4][ex_big_keep];
    unsigned nkept[ex_kind_count][4];
} __attribute__((aligned(64)));

/* One special-pool slot: a data page and a guard page. */
struct ex_special {
    uint8_t state; /* ex_special_* */
    uint8_t kind;
    uint8_t start; /* verify start (block at page start) */
    uint16_t owner;
    uint32_t tag;
    uint64_t bytes;
    uintptr_t va; /* the block */
};

/* ---- lookaside lists (lookaside.c) -------------------------------------------
 * One live lookaside list, as the system list records it. Kept host-side so
 * that a driver scribbling over its list head cannot corrupt the record. */
struct ex_lookaside_rec {
    void *list;       /* GENERAL_LOOKASIDE / GENERAL_LOOKASIDE_POOL */
    uintptr_t caller; /* return address of the init call: the owner */
    uint8_t paged;    /* 1: paged pool entries (scanned on the paged tick) */
    uint8_t ex;       /* 1: ExInitializeLookasideListEx (Ex callbacks) */
};

struct ex_lookaside_set {
    struct ex_lookaside_rec *recs; /* live lists, in init order */
    unsigned count, cap;
    uint64_t ticks;      /* balance-set ticks run (1 s each) */
    uint64_t tick_event; /* pending vclock event id, 0 = none */
};

struct ex {
    struct sys *sys;
    unsigned page_shift;
    uint64_t page_size;
    unsigned page_units; /* page_size / 16 */
    unsigned max_units;  /* largest block: page_units - 1 */
    uint64_t small_max;  /* largest small request: page_size - 32 */
    uint32_t secret;     /* header cookies */
    uint64_t link_key;   /* list links in freed blocks' bodies (pool_impl.h: ex_link_put) */
    uint8_t fill;        /* seeded fill byte for uninitialized blocks */

    uint16_t cache_limit[ex_max_page_units]; /* parked blocks per cache list (pool_cache.c) */
    uint16_t unit_class[ex_max_page_units];  /* block units for a request of u (pool_cache.c) */

    struct ex_cache *caches; /* ncaches: processors, then host threads */
    unsigned ncaches;
    struct ex_heap (*heaps)[ex_kind_count]; /* ex_heaps, 64-byte aligned */
    /* per kind, a bit per heap that has carved a page of it (never
     * cleared): with one bit set, every block's heap is known without
     * reading its page record */
    uint16_t carvers[ex_kind_count];
    struct ex_lock mm_lock; /* every call into mm from the pool */

    uint8_t *page_map; /* per system page: enum ex_pm */
    uint64_t page_map_len, pm_lo, pm_hi;
    /* Small-pool pages, host side: per page a struct ex_prec (prec), and
     * one record of 1 << meta_shift bytes (meta): one bit per 16-byte
     * unit, set at the header of each live block while the page has more
     * than its record lists (struct ex_prec: bits), and in its last byte
     * the heap that owns the page. prec_cap: ex_prec_list with 4 KiB
     * pages, 0 with 8 KiB (units above 255). */
    struct ex_prec *prec;
    unsigned prec_cap;
    uint8_t *meta;
    unsigned meta_shift;
    bool mt; /* several host threads: page records change under their lock */
    /* What the fast paths test instead of the options behind them
     * (ex_pool_gates keeps them): free_gate, every free takes the full
     * path (live lookaside lists, which a free checks; --trace; the
     * verifier's pool tracking); alloc_gate, every allocation does
     * (special pool, low resources, code integrity; --trace); alloc_fill,
     * allocations are filled (pool tracking) */
    uint8_t free_gate, alloc_gate, alloc_fill;
    /* ex_pool_host_threads' n (0: never called); host slots attached since */
    unsigned mt_declared, mt_slots;

    /* big pool: one table per heap (pool_big.c), 64-byte aligned */
    struct ex_bigtab *bigtabs;

    struct ex_lock tag_lock; /* overflow table and owner registry */
    struct ex_tag_table overflow;
    const struct io_driver *owner[ex_max_owners];
    char owner_name[ex_max_owners][64];
    unsigned nowners;
    uintptr_t owner_lo, owner_hi; /* image range of owner_id */
    uint16_t owner_id;

    /* special pool (pool_special.c) */
    struct ex_lock special_lock;
    uint8_t *special_base; /* region of nspecial slots of 2 pages */
    struct ex_special *special;
    uint64_t nspecial, special_next, special_live, special_fallbacks;

    /* statistics */
    uint64_t pages_mapped, peak_pages;
    uint64_t contiguous_pages;

    struct ex_lookaside_set lookaside; /* lookaside.c */
    /* list_slist.c: SLIST push/pop use lock cmpxchg16b only when several
     * host threads may run this machine (parallel mode, pool benchmarks'
     * attached threads); one host thread needs no bus lock, and on VMs the
     * locked 16-byte CAS costs 20-70 ns. */
    bool slist_atomic;
};

/* Boot and shutdown: ex_init after mm_init (cannot fail but for host
 * memory: -1 with err), ex_fini before mm_fini. ex.c calls the parts. */
int ex_init(struct ex *ex, struct sys *sys, struct machine_error *err);
void ex_fini(struct ex *ex);
int ex_pool_init(struct ex *ex, struct sys *sys, struct machine_error *err);
/* Recomputes the bytes the fast paths test (struct ex: free_gate,
 * alloc_gate, alloc_fill) after the verifier's options, --trace or the live
 * lookaside lists change. */
void ex_pool_gates(struct ex *ex);
void ex_pool_fini(struct ex *ex);

/* Lets the calling host thread use cache slot `slot` (0-based beyond the
 * processors, below ex_host_slots; another slot aborts: one cache per
 * thread) of ex's pool: for parallel mode and the benchmarks. */
void ex_pool_thread_attach(struct ex *ex, unsigned slot);
/* Says how many host threads will use the pool at once (the machine's own
 * thread not among them while they do): with one, the page bits need no
 * atomic updates. Without this call, an attach assumes several; so does
 * an attach of more distinct slots than n. */
void ex_pool_host_threads(struct ex *ex, unsigned n);

/* DriverUnload returned: with pool tracking on, a driver that still owns
 * pool gets pool.leak-at-unload (0xC4/0x62) listing its blocks. Returns 0,
 * or -1 when that stopped the machine (the check runs inside ke_call). */
int ex_pool_check_unload(struct io_driver *drv);

/* poolmon-style table: Tag, Type, Allocs, Frees, Diff, Bytes. */
void ex_pool_usage_print(struct ex *ex, FILE *out);
/* Per-tag totals, summed over caches; kind -1 = every kind. */
struct ex_tag_stat ex_pool_tag_stat(struct ex *ex, uint32_t tag, int kind);
/* Every (tag, kind) with its totals, summed over caches, in no order; at
 * most cap. Returns how many were written. */
unsigned ex_pool_tag_stats(struct ex *ex, struct ex_tag_stat *out, unsigned cap);

/* Bytes a live pool block occupies (header and page rounding included), 0
 * when p is not a live block start. */
uint64_t ex_pool_block_bytes(struct ex *ex, const void *p);
/* Gives every parked block back to the heaps and the wholly free pages
 * beyond a few back to mm. Only while no other host thread uses the pool
 * (it empties every processor's cache). */
void ex_pool_trim(struct ex *ex);
/* Checks the headers of every parked block (the fast free parks a block
 * without reading its header; a corrupt one is otherwise found when the
 * block is handed out again or coalesced): a driver that unloads has its
 * overruns reported. A corrupt header stops the machine: call inside the
 * machine (ke_call), with no host thread in the pool. */
void ex_pool_check_parked(struct ex *ex);
/* Pages the pool holds now (small, big, special). */
uint64_t ex_pool_pages(const struct ex *ex);

/* The special-pool fault resolver for mm_fault (registered by ex_init). */
int ex_special_fault(struct sys *sys, void *addr, int access, void *pc);

/* The pool's verifier rules (and mm's contiguous-memory one), for
 * src/vf/catalogue.c. */
extern const struct vf_rule *const ex_pool_vf_rules[];
enum { ex_pool_vf_rule_count = 24 };

/* ---- interlocked and checked lists (list.c, list_slist.c) ---------------------- */
extern const struct vf_rule ex_rule_list_corrupt, ex_rule_list_slist_misaligned;
extern const struct vf_rule *const ex_list_vf_rules[];
enum { ex_list_vf_rule_count = 2 };

/* ---- lookaside lists (lookaside.c, lookaside_tune.c) ------------------------------ */
extern const struct vf_rule *const ex_lookaside_vf_rules[];
enum { ex_lookaside_vf_rule_count = 6 };
/* 4, or 0 when lookasides are disabled (special pool on): every entry then
 * goes through pool. */
unsigned ex_lookaside_minimum_depth(struct sys *sys);
/* Frees the system list's records (lists still live are the unload check's). */
void ex_lookaside_fini(struct ex *ex);
/* One balance-set tick (1 virtual second): tick 0 re-tunes the nonpaged
 * lists, tick 1 the paged ones, tick 2 the pool lists (none modelled), so
 * each list is re-tuned every 3 s. Runs from a vclock event while any list
 * is live; tests may call it directly. */
void ex_lookaside_tick(struct sys *sys);
/* The WRK depth rule (spec/memory.md 5) over one list's counters, given its
 * scan period in seconds and the minimum depth (4; 0 = lookasides off). */
struct ex_lookaside_counters {
    uint16_t depth, maximum_depth;
    uint32_t total_allocates, allocate_misses;
    uint32_t last_total_allocates, last_allocate_misses;
};
void ex_lookaside_adjust(struct ex_lookaside_counters *c, unsigned scan_period, unsigned minimum);
/* Verifier hooks: a pool block [va, va+bytes) is being freed (la.free-
 * containing); a driver image [lo, hi) is unloading (la.live-at-unload).
 * Both must run inside driver context (ke_call): they may stop the machine. */
void ex_lookaside_check_free(struct sys *sys, const void *va, uint64_t bytes);
void ex_lookaside_check_unload(struct sys *sys, uintptr_t lo, uintptr_t hi);

#endif
