/*
 * src/host/inspect_pool.c - pool commands: !pool, !poolused, !lookaside.
 *
 * Models: WinDbg's !pool (walk the pool page holding an address, block by
 * block, '*' on the block holding it), !poolused (poolmon's table) and
 * !lookaside (the system's list of lookaside lists with their counters).
 * The pool page layout is src/ex's (legacy x64 POOL_HEADER, 16-byte units;
 * ex/pool_impl.h): read here as a debugger reads it, which is why this
 * file includes the pool's private header.
 * Invariants: reads only; a corrupt header ends the walk with a line
 * saying so (the free path is what reports corruption as a bug check).
 */
#include <stdlib.h>
#include <string.h>
#include <wdm.h>

#include "sys.h"
#include "ex/pool_impl.h"
#include "host/inspect.h"

static const char *const kind_names[ex_kind_count] = {"Nonpaged pool", "Paged pool",
                                                      "NonpagedNx pool"};

static void tag4(uint32_t tag, char out[5])
{
    for (int i = 0; i < 4; i++) {
        unsigned char ch = (unsigned char)(tag >> (8 * i));
        out[i] = ch >= 0x20 && ch < 0x7F ? (char)ch : ch ? '.' : ' ';
    }
    out[4] = 0;
}

static const char *owner_name(struct ex *ex, uint16_t owner)
{
    return owner && owner <= ex->nowners ? ex->owner_name[owner] : "kernel";
}

/* Walks a copy of the page (a paged-pool page may be trimmed); cookies are
 * computed from the real addresses. */
static int small_page(struct insp *c, const uint8_t *page, uint64_t pva, uint64_t va, unsigned kind)
{
    struct ex *ex = &c->sys->ex;
    fprintf(c->out, "Pool page %s region is %s\n", INSP_ADDR(va), kind_names[kind]);
    unsigned off = 0;
    while (off < ex->page_units) {
        const struct ex_hdr *h = (const struct ex_hdr *)(page + (size_t)off * ex_unit);
        uint64_t real = pva + (uint64_t)off * ex_unit;
        unsigned u = off ? hdr_size(h) : 1;
        if (u == 0 || off + u > ex->page_units ||
            h->cookie != hdr_cookie_of(ex, (const void *)(uintptr_t)real, hdr_size(h))) {
            fprintf(c->out, " %s corrupt pool header (size %u units): walk stops\n",
                    INSP_ADDR(real), u);
            return 0;
        }
        bool here = va >= real && va < real + (uint64_t)u * ex_unit;
        /* a busy header whose block is not live was parked by a free */
        bool busy = off && (h->type & ex_hdr_busy) &&
                    ex_hdr_live(ex, (const struct ex_hdr *)(uintptr_t)real);
        const char *state = off == 0       ? "(page header)"
                            : h->type == 0 ? "(Free)"
                            : !busy        ? "(Free, cached)"
                                           : "(Allocated)";
        char t[5];
        tag4(h->tag, t);
        fprintf(c->out, "%c%s size: %4x previous size: %4x  %-15s %c%s", here ? '*' : ' ',
                INSP_ADDR(real), u * ex_unit, off ? hdr_prev(h) * ex_unit : 0, state,
                here ? '*' : ' ', busy || off == 0 ? t : "");
        if (busy)
            fprintf(c->out, "  (body %s, owner %s)", INSP_ADDR(real + ex_unit),
                    owner_name(ex, h->owner));
        fputc('\n', c->out);
        off += u;
    }
    return 0;
}

static int big_block(struct insp *c, uint64_t va, uint64_t idx)
{
    struct ex *ex = &c->sys->ex;
    uint8_t *base = c->sys->mm.system.base;
    while (idx > 0 && ex_pm_get(ex, idx) == ex_pm_big_tail)
        idx--;
    uint8_t pm = ex_pm_get(ex, idx);
    uintptr_t start = (uintptr_t)base + (idx << ex->page_shift);
    struct ex_big b;
    if (pm < ex_pm_big || pm >= ex_pm_big + ex_kind_count || !ex_big_lookup(ex, start, &b))
        return insp_error(c, "%s: big pool page without a block record", INSP_ADDR(va));
    char t[5];
    tag4(b.tag, t);
    fprintf(c->out, "%s is inside a big pool allocation of %s\n", INSP_ADDR(va),
            kind_names[b.kind < ex_kind_count ? b.kind : 0]);
    fprintf(c->out, "*%s size: %llx (%u pages)  (Allocated) *%s  (owner %s)\n", INSP_ADDR(b.va),
            (unsigned long long)b.bytes, b.pages, t, owner_name(ex, b.owner));
    return 0;
}

static int special_block(struct insp *c, uint64_t va)
{
    struct ex *ex = &c->sys->ex;
    uint64_t slot = (va - (uintptr_t)ex->special_base) >> (ex->page_shift + 1);
    const struct ex_special *s = slot < ex->nspecial ? &ex->special[slot] : NULL;
    if (!s)
        return insp_error(c, "%s: special pool slot out of range", INSP_ADDR(va));
    uint64_t page = (uintptr_t)ex->special_base + (slot << (ex->page_shift + 1));
    char t[5];
    tag4(s->tag, t);
    fprintf(c->out, "%s is in special pool slot %llx (data page %s, guard page %s)\n",
            INSP_ADDR(va), (unsigned long long)slot, INSP_ADDR(page),
            INSP_ADDR(page + ex->page_size));
    fprintf(c->out, "*%s size: %llx  state %u  *%s  %s (owner %s)\n", INSP_ADDR(s->va),
            (unsigned long long)s->bytes, s->state, t,
            kind_names[s->kind < ex_kind_count ? s->kind : 0], owner_name(ex, s->owner));
    return 0;
}

int insp_pool(struct insp *c)
{
    uint64_t va;
    if (insp_arg(c, 1, &va))
        return -1;
    struct ex *ex = &c->sys->ex;
    struct mm *mm = &c->sys->mm;
    if (ex->special_base && ex_special_owns(ex, (const void *)(uintptr_t)va))
        return special_block(c, va);
    uint64_t rel = va - (uintptr_t)mm->system.base;
    uint8_t pm = rel < mm->system.bytes ? ex_pm_get(ex, rel >> ex->page_shift) : ex_pm_none;
    if (pm >= ex_pm_small && pm < ex_pm_small + ex_kind_count) {
        uint8_t page[ex_max_page_units * ex_unit];
        uint64_t pva = va & ~(mm->page_size - 1);
        if (insp_read_all(c, pva, page, mm->page_size))
            return -1;
        return small_page(c, page, pva, va, pm - ex_pm_small);
    }
    if (pm >= ex_pm_big && pm <= ex_pm_big_tail)
        return big_block(c, va, rel >> ex->page_shift);
    if (pm == ex_pm_big_freed) {
        fprintf(c->out, "%s is in a freed big pool block kept for reuse\n", INSP_ADDR(va));
        return 0;
    }
    fprintf(c->out, "%s is not a valid pool address\n", INSP_ADDR(va));
    return 0;
}

/* poolmon's '*' and '?' over the 4 tag characters. */
static bool tag_match(const char *pattern, const char *tag)
{
    for (int i = 0; i < 4; i++, pattern++) {
        if (*pattern == '*')
            return true;
        if (!*pattern)
            return tag[i] == ' ' || !tag[i];
        if (*pattern != '?' && *pattern != tag[i])
            return false;
    }
    return true;
}

int insp_poolused(struct insp *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return insp_error(c, "out of host memory");
    ex_pool_usage_print(&c->sys->ex, m);
    fclose(m);
    unsigned line = 0, shown = 0;
    for (char *p = text, *nl; p && *p; p = nl ? nl + 1 : NULL, line++) {
        nl = strchr(p, '\n');
        int n = nl ? (int)(nl - p) : (int)strlen(p);
        bool header = line < 2;
        if (header || c->argc < 2 || (n > 5 && tag_match(c->argv[1], p + 1))) {
            fprintf(c->out, "%.*s\n", n, p);
            shown += !header;
        }
    }
    free(text);
    if (c->argc >= 2 && !shown)
        fprintf(c->out, " (no pool with tag %s)\n", c->argv[1]);
    return 0;
}

int insp_lookaside(struct insp *c)
{
    struct ex_lookaside_set *set = &c->sys->ex.lookaside;
    uint64_t only = 0;
    if (c->argc > 1 && insp_arg(c, 1, &only))
        return -1;
    fprintf(c->out, "%-17s %-6s %-4s %6s %5s %5s %10s %10s %10s\n", "Lookaside", "Type", "Tag",
            "Size", "Depth", "Max", "Allocates", "Misses", "Frees");
    unsigned shown = 0;
    for (unsigned i = 0; i < set->count; i++) {
        uint64_t la = (uintptr_t)set->recs[i].list;
        if (only && la != only)
            continue;
        GENERAL_LOOKASIDE l;
        if (insp_read(c->sys, la, &l, sizeof(l)) != sizeof(l)) {
            fprintf(c->out, "%s (not readable)\n", INSP_ADDR(la));
            continue;
        }
        char t[5];
        tag4(l.Tag, t);
        fprintf(c->out, "%s %-6s %-4s %6u %5u %5u %10u %10u %10u\n", INSP_ADDR(la),
                set->recs[i].paged ? "Paged" : "NonPg", t, l.Size, l.Depth, l.MaximumDepth,
                l.TotalAllocates, l.AllocateMisses, l.TotalFrees);
        shown++;
    }
    fprintf(c->out, "%u lookaside list%s%s\n", shown, shown == 1 ? "" : "s",
            only && !shown ? " (no live list at that address)" : "");
    return 0;
}
