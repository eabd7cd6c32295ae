/*
 * src/hal/mapreg.c - one adapter's map-register file: the bitmap allocator,
 * its FIFO wait queue, generations, and the page index the bus resolves
 * device addresses with (per-page registers and direct lists, mapdirect.c).
 *
 * Models: map registers as a per-adapter table (spec/dma.md 4). Allocation
 * takes the lowest run of n consecutive free registers; a request that
 * cannot be served now waits in FIFO order and is granted from the free
 * that makes room (spec/dma.md 3: a head waiter blocks later ones). There
 * is no system-wide cap: each adapter owns its IoGetDmaAdapter count, so a
 * request within the count is always eventually served.
 * Invariants: nfree == clear bits among the first count; bits past count
 * are set; a run start has run > 0 and covers exactly its registers;
 * index_key/index_reg hold the page of every mapped register and of every
 * direct list's page unless index_dirty; nmapped counts both; grants happen
 * only from the outermost hal_mapreg_free. Allocating one register with
 * nobody waiting takes the lowest clear bit (a scan for the first word with
 * one, no per-register loop, no call); freeing one with nobody waiting and
 * no live direct list clears its bit (issue 6: <= 30 ns a pair); the trace
 * counter is one flag test when tracing is off.
 * Not modelled: map registers shared between adapters (Windows' master
 * adapter): wdmsim gives each adapter its own file, so no adapter can
 * starve another.
 */
#include <stdlib.h>
#include <string.h>

#include "sys.h"

static unsigned words_for(unsigned count)
{
    return (count + 63) / 64;
}

int hal_mapreg_init(struct hal_mapreg_file *f, unsigned count)
{
    memset(f, 0, sizeof(*f));
    unsigned nw = words_for(count);
    unsigned cap = 16;
    while (cap < 2 * count)
        cap *= 2;
    f->bitmap = calloc(nw ? nw : 1, sizeof(uint64_t));
    f->reg = calloc(count ? count : 1, sizeof(struct hal_mapreg));
    f->op = calloc(count ? count : 1, sizeof(struct hal_mapop));
    f->index_key = calloc(cap, sizeof(uint64_t));
    f->index_reg = calloc(cap, sizeof(uint32_t));
    f->runs = calloc(count ? count : 1, sizeof(struct hal_maprun));
    f->written = calloc(nw ? nw : 1, sizeof(uint64_t));
    f->direct = calloc(count ? count : 1, sizeof(unsigned));
    if (!f->bitmap || !f->reg || !f->op || !f->index_key || !f->index_reg || !f->runs ||
        !f->written || !f->direct) {
        hal_mapreg_fini(f);
        return -1;
    }
    f->count = count;
    f->nfree = count;
    f->index_cap = cap;
    f->next_gen = 1;
    if (count % 64)
        f->bitmap[nw - 1] = ~0ULL << (count % 64); /* past the end: never free */
    return 0;
}

void hal_mapreg_fini(struct hal_mapreg_file *f)
{
    free(f->bitmap);
    free(f->reg);
    free(f->op);
    free(f->index_key);
    free(f->index_reg);
    free(f->runs);
    free(f->written);
    free(f->direct);
    memset(f, 0, sizeof(*f));
}

/* First clear bit at or after i, or count. */
static unsigned next_clear(const struct hal_mapreg_file *f, unsigned i)
{
    unsigned nw = words_for(f->count);
    for (unsigned w = i / 64; w < nw; w++) {
        uint64_t free_bits = ~f->bitmap[w];
        if (w == i / 64)
            free_bits &= ~0ULL << (i % 64);
        if (free_bits)
            return w * 64 + (unsigned)__builtin_ctzll(free_bits);
    }
    return f->count;
}

/* First set bit at or after i, or count (bits past count are set). */
static unsigned next_set(const struct hal_mapreg_file *f, unsigned i)
{
    unsigned nw = words_for(f->count);
    for (unsigned w = i / 64; w < nw; w++) {
        uint64_t bits = f->bitmap[w];
        if (w == i / 64)
            bits &= ~0ULL << (i % 64);
        if (bits) {
            unsigned at = w * 64 + (unsigned)__builtin_ctzll(bits);
            return at < f->count ? at : f->count;
        }
    }
    return f->count;
}

/* Starts of n consecutive set bits in x (n <= 64), as a bit mask. */
static inline uint64_t run_starts(uint64_t x, unsigned n)
{
    for (unsigned have = 1; have < n && x;) {
        unsigned step = have < n - have ? have : n - have;
        x &= x >> step;
        have += step;
    }
    return x;
}

/* Lowest run of n free registers, word by word: a run inside word w, or
 * one that starts in w's top free bits and continues into w + 1. */
static inline __attribute__((always_inline)) int find_run_small(const struct hal_mapreg_file *f,
                                                                unsigned n)
{
    unsigned nw = words_for(f->count);
    for (unsigned w = 0; w < nw; w++) {
        uint64_t free_bits = ~f->bitmap[w];
        if (!free_bits)
            continue;
        /* x >> step brings in zeros: no start lets its run pass bit 63 */
        uint64_t starts = run_starts(free_bits, n);
        int in_word = starts ? (int)(w * 64 + (unsigned)__builtin_ctzll(starts)) : -1;
        int across = -1;
        if (w + 1 < nw) {
            unsigned top = free_bits == ~0ULL ? 64 : (unsigned)__builtin_clzll(~free_bits);
            uint64_t next_free = ~f->bitmap[w + 1];
            unsigned low = next_free == ~0ULL ? 64 : (unsigned)__builtin_ctzll(~next_free);
            if (top && top < n && top + low >= n)
                across = (int)(w * 64 + 64 - top);
        }
        if (in_word >= 0 && (across < 0 || in_word < across))
            return in_word;
        if (across >= 0)
            return across;
    }
    return -1;
}

static inline __attribute__((always_inline)) int find_run(const struct hal_mapreg_file *f,
                                                          unsigned n)
{
    if (n == 1) {
        /* The common single-page request: the lowest clear bit. */
        unsigned nw = words_for(f->count);
        for (unsigned w = 0; w < nw; w++)
            if (~f->bitmap[w])
                return (int)(w * 64 + (unsigned)__builtin_ctzll(~f->bitmap[w]));
        return -1;
    }
    if (n <= 64)
        return find_run_small(f, n);
    unsigned i = 0;
    while (i + n <= f->count) {
        unsigned start = next_clear(f, i);
        if (start + n > f->count)
            return -1;
        unsigned end = next_set(f, start);
        if (end - start >= n)
            return (int)start;
        i = end;
    }
    return -1;
}

static inline __attribute__((always_inline)) void set_bits(uint64_t *bm, unsigned first, unsigned n,
                                                           bool on)
{
    if ((first % 64) + n <= 64) {
        uint64_t m = (n == 64 ? ~0ULL : ((1ULL << n) - 1)) << (first % 64);
        if (on)
            bm[first / 64] |= m;
        else
            bm[first / 64] &= ~m;
        return;
    }
    for (unsigned i = first; i < first + n;) {
        unsigned w = i / 64, b = i % 64, take = 64 - b;
        if (take > first + n - i)
            take = first + n - i;
        uint64_t m = (take == 64 ? ~0ULL : ((1ULL << take) - 1)) << b;
        if (on)
            bm[w] |= m;
        else
            bm[w] &= ~m;
        i += take;
    }
}

/* wdmsim run --trace's register counter (ke_ev_mapregs): one flag test
 * when tracing is off, as ke_observe, without ke_observe_current's call. */
static inline void observe_count(const struct hal_mapreg_file *f)
{
    struct sys *sys = sys_get();
    if (sys && __builtin_expect(sys->ke.trace.observe, 0))
        ke_trace_observed(&sys->ke, ke_ev_mapregs, (uint64_t)(uintptr_t)f, f->count - f->nfree);
}

/* Bookkeeping of n registers just taken: counts, high water, the next
 * generation (returned). */
static inline uint32_t account_take(struct hal_mapreg_file *f, unsigned n)
{
    f->nfree -= n;
    if (f->count - f->nfree > f->high_water)
        f->high_water = f->count - f->nfree;
    uint32_t g = f->next_gen;
    f->next_gen = (f->next_gen + 1) & 0xFFFFF;
    if (!f->next_gen)
        f->next_gen = 1;
    return g;
}

static int take_run(struct hal_mapreg_file *f, unsigned n, uint32_t *gen)
{
    int first = find_run(f, n);
    if (first < 0)
        return -1;
    set_bits(f->bitmap, (unsigned)first, n, true);
    uint32_t g = account_take(f, n);
    for (unsigned i = (unsigned)first; i < (unsigned)first + n; i++) {
        f->reg[i].state = hal_reg_allocated;
        f->reg[i].run = 0;
    }
    f->reg[first].run = (uint16_t)n;
    f->reg[first].gen = g;
    *gen = g;
    observe_count(f);
    return first;
}

int hal_mapreg_alloc(struct hal_mapreg_file *f, unsigned n, uint32_t *gen)
{
    if (n == 0 || n > f->count || n > f->nfree || f->wait_head)
        return -1;
    if (n != 1)
        return take_run(f, n, gen);
    /* One register (the common request): the lowest clear bit. nfree > 0,
     * so there is one. */
    unsigned w = 0;
    while (!~f->bitmap[w])
        w++;
    uint64_t free_bits = ~f->bitmap[w];
    unsigned i = w * 64 + (unsigned)__builtin_ctzll(free_bits);
    f->bitmap[w] |= free_bits & -free_bits;
    uint32_t g = account_take(f, 1);
    struct hal_mapreg *r = &f->reg[i];
    r->state = hal_reg_allocated;
    r->run = 1;
    r->gen = g;
    *gen = g;
    observe_count(f);
    return (int)i;
}

void hal_mapreg_wait(struct hal_mapreg_file *f, struct hal_mapreg_waiter *w)
{
    w->next = NULL;
    if (f->wait_tail)
        f->wait_tail->next = w;
    else
        f->wait_head = w;
    f->wait_tail = w;
}

bool hal_mapreg_cancel(struct hal_mapreg_file *f, struct hal_mapreg_waiter *w)
{
    struct hal_mapreg_waiter *prev = NULL;
    for (struct hal_mapreg_waiter *p = f->wait_head; p; prev = p, p = p->next) {
        if (p != w)
            continue;
        if (prev)
            prev->next = p->next;
        else
            f->wait_head = p->next;
        if (f->wait_tail == p)
            f->wait_tail = prev;
        return true;
    }
    return false;
}

void hal_mapreg_free(struct hal_mapreg_file *f, unsigned first, unsigned n)
{
    if (n == 1 && !f->ndirect && !f->wait_head) {
        /* One register, nobody waiting, no direct list to end. */
        f->bitmap[first / 64] &= ~(1ULL << (first % 64));
        f->nfree++;
        observe_count(f);
        struct hal_mapreg *r = &f->reg[first];
        if (r->state == hal_reg_mapped)
            hal_mapreg_set_unmapped(f, first);
        r->state = hal_reg_free;
        r->run = 0;
        return;
    }
    set_bits(f->bitmap, first, n, false);
    f->nfree += n;
    observe_count(f);
    for (unsigned i = f->ndirect; i-- > 0;)
        if (f->direct[i] >= first && f->direct[i] < first + n)
            hal_mapreg_direct_release(f, f->direct[i]);
    for (unsigned i = first; i < first + n; i++) {
        if (f->reg[i].state == hal_reg_mapped)
            hal_mapreg_set_unmapped(f, i);
        f->reg[i].state = hal_reg_free;
        f->reg[i].run = 0;
    }
    /* A grant may free registers itself (DeallocateObject): the outer loop
     * serves the queue, never a nested one, so order stays FIFO. */
    if (f->serving)
        return;
    f->serving = true;
    while (f->wait_head) {
        struct hal_mapreg_waiter *w = f->wait_head;
        uint32_t gen = 0;
        int at = w->n <= f->nfree ? find_run(f, w->n) : -1;
        if (at < 0)
            break;
        f->wait_head = w->next;
        if (!f->wait_head)
            f->wait_tail = NULL;
        at = take_run(f, w->n, &gen);
        w->grant(w->ctx, (unsigned)at, w->n, gen);
    }
    f->serving = false;
}

bool hal_mapreg_run_valid(const struct hal_mapreg_file *f, unsigned first, unsigned n, uint32_t gen)
{
    if (first >= f->count || n == 0 || n > f->count - first)
        return false;
    const struct hal_mapreg *r = &f->reg[first];
    return r->state != hal_reg_free && r->run == n && r->gen == gen;
}

void hal_mapreg_set_mapped(struct hal_mapreg_file *f, unsigned i)
{
    if (f->reg[i].state != hal_reg_mapped)
        f->nmapped++;
    f->reg[i].state = hal_reg_mapped;
    f->index_dirty = true;
}

void hal_mapreg_set_unmapped(struct hal_mapreg_file *f, unsigned i)
{
    if (f->reg[i].state == hal_reg_mapped)
        f->nmapped--;
    f->reg[i].state = hal_reg_allocated;
    f->reg[i].op_start = false;
    f->index_dirty = true;
}

static unsigned hash_page(uint64_t page, unsigned cap)
{
    return (unsigned)((page * 0x9E3779B97F4A7C15ULL) >> 32) & (cap - 1);
}

static void index_put(struct hal_mapreg_file *f, uint64_t page, unsigned r)
{
    uint64_t key = page + 1;
    unsigned h = hash_page(page, f->index_cap);
    while (f->index_key[h] && f->index_key[h] != key)
        h = (h + 1) & (f->index_cap - 1);
    if (!f->index_key[h]) {
        f->index_key[h] = key;
        f->index_reg[h] = r;
    }
}

/* The first mapping of a page wins (per-page registers in register order,
 * then direct operations' pages); a second mapping of the same page (two
 * live mappings of one frame) is not indexed. A mapped page takes one
 * register, so the index never holds more than count keys. */
static void index_rebuild(struct hal_mapreg_file *f)
{
    memset(f->index_key, 0, f->index_cap * sizeof(uint64_t));
    for (unsigned i = 0; i < f->count; i++)
        if (f->reg[i].state == hal_reg_mapped)
            index_put(f, f->reg[i].target, i);
    for (unsigned d = 0; d < f->ndirect; d++) {
        unsigned op = f->direct[d];
        if (!f->op[op].run_regs)
            hal_mapreg_direct_regs(f, op);
        for (unsigned k = op; k < op + f->op[op].nruns; k++) {
            const struct hal_maprun *run = &f->runs[k];
            uint64_t lp = run->logical >> f->shift;
            uint64_t last = (run->logical + run->length - 1) >> f->shift;
            for (unsigned r = run->reg; lp <= last; lp++, r++)
                index_put(f, lp ^ f->lx_page, r);
        }
    }
    f->index_dirty = false;
}

int hal_mapreg_resolve(struct hal_mapreg_file *f, uint64_t page, struct hal_mapreg *view)
{
    if (!f->nmapped)
        return -1;
    /* Devices walk lists in order: the last hit and its successor first. */
    if (f->last_direct) {
        unsigned op = f->last_op, k = f->last_run;
        uint64_t lp = page ^ f->lx_page;
        int r = hal_maprun_page(f, op, k, lp, view);
        if (r >= 0)
            return r;
        if (k + 1 < op + f->op[op].nruns && (r = hal_maprun_page(f, op, k + 1, lp, view)) >= 0) {
            f->last_run = k + 1;
            return r;
        }
    } else {
        for (unsigned k = 0; k < 2; k++) {
            unsigned i = f->last_hit + k;
            if (i < f->count && f->reg[i].state == hal_reg_mapped && f->reg[i].target == page) {
                f->last_hit = i;
                *view = f->reg[i];
                return (int)i;
            }
        }
    }
    if (f->index_dirty)
        index_rebuild(f);
    uint64_t key = page + 1;
    for (unsigned h = hash_page(page, f->index_cap); f->index_key[h];
         h = (h + 1) & (f->index_cap - 1)) {
        if (f->index_key[h] != key)
            continue;
        unsigned r = f->index_reg[h];
        if (f->reg[r].state == hal_reg_mapped) {
            f->last_direct = false;
            f->last_hit = r;
            *view = f->reg[r];
            return (int)r;
        }
        int op = hal_mapreg_direct_of(f, r);
        if (op < 0)
            return -1;
        unsigned k = hal_mapreg_run_of(f, (unsigned)op, r);
        int got = hal_maprun_page(f, (unsigned)op, k, page ^ f->lx_page, view);
        if (got >= 0) {
            f->last_direct = true;
            f->last_op = (unsigned)op;
            f->last_run = k;
        }
        return got;
    }
    return -1;
}

int hal_mapreg_lookup(struct hal_mapreg_file *f, uint64_t page)
{
    struct hal_mapreg view;
    return hal_mapreg_resolve(f, page, &view);
}

void hal_mapreg_mark_written(struct hal_mapreg_file *f, unsigned r)
{
    if (f->reg[r].state == hal_reg_mapped)
        f->reg[r].written = true;
    else
        f->written[r / 64] |= 1ULL << (r % 64);
}

bool hal_mapreg_check(const struct hal_mapreg_file *f)
{
    unsigned clear = 0, mapped = 0;
    for (unsigned i = 0; i < f->count; i++) {
        bool set = (f->bitmap[i / 64] >> (i % 64)) & 1;
        clear += !set;
        if (set != (f->reg[i].state != hal_reg_free))
            return false;
        mapped += f->reg[i].state == hal_reg_mapped;
    }
    for (unsigned d = 0; d < f->ndirect; d++) {
        unsigned op = f->direct[d];
        if (!hal_mapreg_is_direct(f, op) || f->reg[op].state != hal_reg_allocated)
            return false;
        mapped += f->op[op].regs;
    }
    if (clear != f->nfree || mapped != f->nmapped)
        return false;
    for (unsigned i = 0; i < f->count;) {
        if (f->reg[i].state == hal_reg_free) {
            i++;
            continue;
        }
        unsigned run = f->reg[i].run;
        if (!run || i + run > f->count)
            return false;
        for (unsigned k = i + 1; k < i + run; k++)
            if (f->reg[k].state == hal_reg_free || f->reg[k].run)
                return false;
        i += run;
    }
    return true;
}

/* ---- MapRegisterBase tokens ------------------------------------------------
 * bits 63-48 tag 0xFFFE, 47-36 adapter id, 35-16 generation, 15-0 first.
 * Non-canonical on purpose: a driver that dereferences it faults at once. */
enum { base_tag = 0xFFFE };

void *hal_base_encode(unsigned adapter_id, unsigned first, uint32_t gen)
{
    uint64_t v = ((uint64_t)base_tag << 48) | ((uint64_t)(adapter_id & 0xFFF) << 36) |
                 ((uint64_t)(gen & 0xFFFFF) << 16) | (first & 0xFFFF);
    return (void *)(uintptr_t)v;
}

bool hal_base_decode(const void *base, unsigned *adapter_id, unsigned *first, uint32_t *gen)
{
    uint64_t v = (uint64_t)(uintptr_t)base;
    if ((v >> 48) != base_tag)
        return false;
    *adapter_id = (unsigned)((v >> 36) & 0xFFF);
    *gen = (uint32_t)((v >> 16) & 0xFFFFF);
    *first = (unsigned)(v & 0xFFFF);
    return true;
}

const char *hal_dir_name(enum hal_dir dir)
{
    switch (dir) {
    case hal_dir_to_device:
        return "memory->device";
    case hal_dir_from_device:
        return "device->memory";
    default:
        return "none";
    }
}
