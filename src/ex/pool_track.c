/*
 * src/ex/pool_track.c - pool tracking: per-tag counters, per-driver
 * counters, the leak check at unload, the poolmon table.
 *
 * Models: Windows' pool tag tracking (always on: poolmon, !poolused) and
 * Driver Verifier's pool tracking (spec/verifier.md 3): a driver that
 * unloads with pool still allocated is pool.leak-at-unload, 0xC4/0x62,
 * with its blocks listed in the report.
 * Counters live in each processor cache (no shared cache line on the hot
 * path) and are summed when read; a cache whose tag table is full spills
 * into one shared table under a lock. A block records its owner, the
 * driver whose code called the allocator: the return address of the
 * WDK entry point, mapped to a driver image once and then cached by range.
 * Invariants: summed over caches, allocs - frees == live blocks of that
 * (tag, kind) and bytes == the bytes they occupy.
 */
#include <stdlib.h>
#include <string.h>

#include "ex/pool_impl.h"
#include "sys.h"

const struct vf_rule ex_rule_leak_at_unload = {
    .id = "pool.leak-at-unload",
    .code = 0xC4,
    .p1 = 0x62,
    .params = {"driver name", "reserved", "blocks still allocated"},
    .text = "the driver unloaded without freeing all its pool (the report lists the blocks)",
    .option = vf_opt_pool_tracking,
    .fixture = "tests/fixtures/pool-leak-at-unload",
};

static inline unsigned tag_hash(uint32_t tag, unsigned kind)
{
    return ((tag * 0x9E3779B1u) >> 22 ^ kind) & (ex_tag_slots - 1);
}

static struct ex_tag_stat *tag_slot(struct ex_tag_table *t, uint32_t tag, unsigned kind)
{
    unsigned i = tag_hash(tag, kind);
    for (unsigned n = 0; n < ex_tag_slots; n++, i = (i + 1) & (ex_tag_slots - 1)) {
        struct ex_tag_stat *s = &t->slot[i];
        if (s->used && s->tag == tag && s->kind == kind)
            return s;
        if (!s->used) {
            if (t->used * 4 >= ex_tag_slots * 3)
                return NULL; /* keep probes short: spill instead */
            s->used = 1;
            s->tag = tag;
            s->kind = (uint8_t)kind;
            t->used++;
            return s;
        }
    }
    return NULL;
}

__attribute__((ms_abi)) void ex_track_observe(struct ex *ex, uint32_t tag, unsigned kind,
                                              int64_t bytes, bool alloc)
{
    ke_observe(&ex->sys->ke, ke_ev_pool, tag | (uint64_t)kind << 32,
               (uint64_t)(alloc ? bytes : -bytes));
}

__attribute__((ms_abi)) void ex_track(struct ex *ex, struct ex_cache *c, uint32_t tag,
                                      unsigned kind, uint16_t owner, int64_t bytes, bool alloc)
{
    struct ex_tag_stat *s = c->last;
    if (!s || s->tag != tag || s->kind != kind) {
        s = tag_slot(&c->tags, tag, kind);
        if (!s) {
            ex_lock(&ex->tag_lock);
            s = tag_slot(&ex->overflow, tag, kind);
            if (s) {
                if (alloc)
                    s->allocs++, s->bytes += bytes;
                else
                    s->frees++, s->bytes -= bytes;
            }
            ex_unlock(&ex->tag_lock);
            goto owner;
        }
        c->last = s;
    }
    if (alloc)
        s->allocs++, s->bytes += bytes;
    else
        s->frees++, s->bytes -= bytes;
owner:
    ke_observe(&ex->sys->ke, ke_ev_pool, tag | (uint64_t)kind << 32,
               (uint64_t)(alloc ? bytes : -bytes));
    c->owner_blocks[owner] += alloc ? 1 : -1;
    c->owner_bytes[owner] += alloc ? bytes : -bytes;
}

__attribute__((ms_abi)) uint16_t ex_owner_of_slow(struct ex *ex, void *caller)
{
    uintptr_t pc = (uintptr_t)caller;
    struct io_driver *d = io_driver_by_address(&ex->sys->io, pc);
    if (!d)
        return 0;
    ex_lock(&ex->tag_lock);
    uint16_t id = 0;
    for (unsigned i = 1; i <= ex->nowners; i++)
        if (ex->owner[i] == d)
            id = (uint16_t)i;
    if (!id && ex->nowners + 1 < ex_max_owners) {
        id = (uint16_t)++ex->nowners;
        ex->owner[id] = d;
        snprintf(ex->owner_name[id], sizeof(ex->owner_name[id]), "%.58s.sys", d->service);
    }
    if (id) {
        ex->owner_lo = d->image_base;
        ex->owner_hi = d->image_end;
        ex->owner_id = id;
    }
    ex_unlock(&ex->tag_lock);
    return id;
}

bool ex_tag_valid_chars(uint32_t tag, bool *has_alnum)
{
    bool zero_seen = false;
    *has_alnum = false;
    for (int i = 0; i < 4; i++) {
        unsigned char ch = (unsigned char)(tag >> (8 * i));
        if (!ch) {
            zero_seen = true;
            continue;
        }
        if (zero_seen || ch < 0x20 || ch > 0x7E)
            return false;
        if ((ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z'))
            *has_alnum = true;
    }
    return true;
}

/* ---- reading the counters ---------------------------------------------------- */

static void add_table(struct ex_tag_stat *out, unsigned *n, unsigned cap,
                      const struct ex_tag_table *t)
{
    for (unsigned i = 0; i < ex_tag_slots; i++) {
        const struct ex_tag_stat *s = &t->slot[i];
        if (!s->used)
            continue;
        unsigned k = 0;
        while (k < *n && (out[k].tag != s->tag || out[k].kind != s->kind))
            k++;
        if (k == *n) {
            if (*n == cap)
                continue;
            out[k] = *s;
            out[k].allocs = out[k].frees = out[k].bytes = 0;
            (*n)++;
        }
        out[k].allocs += s->allocs;
        out[k].frees += s->frees;
        out[k].bytes += s->bytes;
    }
}

static unsigned collect(struct ex *ex, struct ex_tag_stat *out, unsigned cap)
{
    unsigned n = 0;
    for (unsigned i = 0; i < ex->ncaches; i++)
        add_table(out, &n, cap, &ex->caches[i].tags);
    add_table(out, &n, cap, &ex->overflow);
    return n;
}

unsigned ex_pool_tag_stats(struct ex *ex, struct ex_tag_stat *out, unsigned cap)
{
    return collect(ex, out, cap);
}

struct ex_tag_stat ex_pool_tag_stat(struct ex *ex, uint32_t tag, int kind)
{
    struct ex_tag_stat r = {.tag = tag, .kind = (uint8_t)(kind < 0 ? 0 : kind)};
    enum { cap = 4096 };
    struct ex_tag_stat *all = calloc(cap, sizeof(*all));
    if (!all)
        return r;
    unsigned n = collect(ex, all, cap);
    for (unsigned i = 0; i < n; i++) {
        if (all[i].tag != tag || (kind >= 0 && all[i].kind != kind))
            continue;
        r.allocs += all[i].allocs;
        r.frees += all[i].frees;
        r.bytes += all[i].bytes;
    }
    free(all);
    return r;
}

static void tag_text(uint32_t tag, char out[5])
{
    for (int i = 0; i < 4; i++) {
        unsigned char ch = (unsigned char)(tag >> (8 * i));
        out[i] = ch >= 0x20 && ch <= 0x7E ? (char)ch : ch ? '.' : ' ';
    }
    out[4] = 0;
}

static int by_tag(const void *a, const void *b)
{
    const struct ex_tag_stat *x = a, *y = b;
    char tx[5], ty[5];
    tag_text(x->tag, tx);
    tag_text(y->tag, ty);
    int c = strcmp(tx, ty);
    return c ? c : (int)x->kind - (int)y->kind;
}

static const char *const kind_name[ex_kind_count] = {"Nonp", "Paged", "NonpNx"};

void ex_pool_usage_print(struct ex *ex, FILE *out)
{
    enum { cap = 4096 };
    struct ex_tag_stat *all = calloc(cap, sizeof(*all));
    if (!all)
        return;
    unsigned n = collect(ex, all, cap);
    qsort(all, n, sizeof(*all), by_tag);
    fprintf(out, "Pool usage (%llu pages held, peak %llu):\n",
            (unsigned long long)ex_pool_pages(ex), (unsigned long long)ex->peak_pages);
    fprintf(out, " %-4s  %-6s %10s %10s %10s %12s\n", "Tag", "Type", "Allocs", "Frees", "Diff",
            "Bytes");
    for (unsigned i = 0; i < n; i++) {
        char t[5];
        tag_text(all[i].tag, t);
        fprintf(out, " %-4s  %-6s %10lld %10lld %10lld %12lld\n", t, kind_name[all[i].kind],
                (long long)all[i].allocs, (long long)all[i].frees,
                (long long)(all[i].allocs - all[i].frees), (long long)all[i].bytes);
    }
    free(all);
}

/* ---- the leak check ------------------------------------------------------------ */

struct leak_list {
    struct ex *ex;
    uint16_t owner;
    unsigned count;
    char *text;
    size_t len, cap;
};

static void leak_add(struct leak_list *l, uint32_t tag, const void *va, uint64_t bytes,
                     unsigned kind)
{
    l->count++;
    if (l->count > 8 || l->len + 80 > l->cap)
        return;
    char t[5];
    tag_text(tag, t);
    l->len += (size_t)snprintf(l->text + l->len, l->cap - l->len, " [%s %s %llu bytes at %p]", t,
                               kind_name[kind], (unsigned long long)bytes, va);
}

static void leak_small(void *ctx, const struct ex_hdr *h, void *p)
{
    struct leak_list *l = ctx;
    if (h->owner == l->owner)
        leak_add(l, h->tag, p, (uint64_t)(hdr_size(h) - 1) * ex_unit - h->slack,
                 h->type & ex_hdr_kind);
}

static void leak_big(void *ctx, const struct ex_big *b)
{
    struct leak_list *l = ctx;
    if (b->owner == l->owner)
        leak_add(l, b->tag, (void *)b->va, b->bytes, b->kind);
}

static void check_unload(void *arg)
{
    struct io_driver *drv = arg;
    struct sys *sys = sys_get();
    struct ex *ex = &sys->ex;
    uint16_t id = 0;
    for (unsigned i = 1; i <= ex->nowners; i++)
        if (ex->owner[i] == drv)
            id = (uint16_t)i;
    if (!id)
        return;
    /* The image is gone after this: stop attributing its range. */
    if (ex->owner_id == id)
        ex->owner_lo = ex->owner_hi = ex->owner_id = 0;
    int64_t blocks = 0, bytes = 0;
    ex_pool_check_parked(ex);
    for (unsigned i = 0; i < ex->ncaches; i++) {
        blocks += ex->caches[i].owner_blocks[id];
        bytes += ex->caches[i].owner_bytes[id];
    }
    if (blocks <= 0 || !vf_on(&sys->vf, &ex_rule_leak_at_unload))
        return;
    char text[400];
    struct leak_list l = {.ex = ex, .owner = id, .text = text, .cap = sizeof(text)};
    text[0] = 0;
    ex_small_foreach(ex, leak_small, &l);
    ex_big_foreach(ex, leak_big, &l);
    for (uint64_t i = 0; ex->special && i < ex->nspecial; i++)
        if (ex->special[i].state == 1 && ex->special[i].owner == id)
            leak_add(&l, ex->special[i].tag, (void *)ex->special[i].va, ex->special[i].bytes,
                     ex->special[i].kind);
    vf_fire(&ex_rule_leak_at_unload, (uint64_t)(uintptr_t)ex->owner_name[id], 0, (uint64_t)blocks,
            "%s unloaded with %lld pool blocks (%lld bytes) allocated:%s%s", ex->owner_name[id],
            (long long)blocks, (long long)bytes, text, l.count > 8 ? " ..." : "");
}

int ex_pool_check_unload(struct io_driver *drv)
{
    return ke_call(&sys_get()->ke, check_unload, drv);
}
