/*
 * src/ex/pool_special.c - special pool: one page per block, guard pages.
 *
 * Models: Driver Verifier's special pool (spec/verifier.md 2). A region of
 * system VA is cut into slots of two pages; a block takes one slot:
 *   verify end:   [data page: pattern ... block][guard]   (default)
 *   verify start: [guard][block ... pattern: data page]
 * The guard page is never mapped, so running off the block faults at once:
 * spool.overrun / spool.underrun, 0xD6 from driver code, 0xCD otherwise.
 * Bytes around the block inside the data page hold a pattern that is
 * checked at free (0xC1 P4 0x23 before the block, 0x24 after its end).
 * A freed block's page is unmapped and its slot quarantined until the
 * allocation cursor has gone round the region once (FIFO), so a stale
 * pointer faults: spool.use-after-free, 0xD5 / 0xCC.
 * Invariants: a slot's data page is mapped iff its state is live; records
 * live outside simulated memory, so a driver cannot corrupt them.
 * Not modelled: special pool by size class or by tag (wdmsim takes every
 * sub-page allocation of a driver while the option is on); exhaustion
 * falls back to normal pool and is counted, without Windows' warning.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ex/pool_impl.h"
#include "sys.h"

enum { special_slots = 4096, pattern = 0xAB };
enum { special_free = 0, special_live, special_freed };

const struct vf_rule ex_rule_spool_overrun = {
    .id = "spool.overrun",
    .code = 0xD6,
    .params = {"0 read / 1 write", "faulting instruction", "reserved"},
    .text = "access beyond the end of a special-pool block (guard page); 0xCD when the "
            "instruction is not in a driver",
    .option = vf_opt_special_pool,
    .fixture = "tests/fixtures/spool-overrun",
};
const struct vf_rule ex_rule_spool_underrun = {
    .id = "spool.underrun",
    .code = 0xD6,
    .params = {"0 read / 1 write", "faulting instruction", "reserved"},
    .text = "access before the start of a verify-start special-pool block (guard page)",
    .option = vf_opt_special_pool,
    .fixture = "tests/fixtures/spool-underrun",
};
const struct vf_rule ex_rule_spool_use_after_free = {
    .id = "spool.use-after-free",
    .code = 0xD5,
    .params = {"0 read / 1 write", "faulting instruction", "reserved"},
    .text = "access to a freed special-pool block; 0xCC when the instruction is not in a driver",
    .option = vf_opt_special_pool,
    .fixture = "tests/fixtures/spool-use-after-free",
};
const struct vf_rule ex_rule_spool_corrupt_at_free = {
    .id = "spool.corrupt-at-free",
    .code = 0xC1,
    .p1 = 0x24,
    .subcode_in_p4 = true,
    .params = {"block address", "corrupt address or size", "reserved"},
    .text = "special pool found its block damaged at free: 0x20 not allocated, 0x21 not the "
            "block start, 0x23 bytes before the block written, 0x24 bytes after its end written",
    .option = vf_opt_special_pool,
    .fixture = "tests/fixtures/spool-corrupt-at-free",
};
const struct vf_rule ex_rule_spool_bad_irql = {
    .id = "spool.bad-irql",
    .code = 0xC1,
    .p1 = 0x30,
    .subcode_in_p4 = true,
    .params = {"IRQL", "pool type", "bytes or address"},
    .text = "special pool allocation (0x30) or free (0x31) at a bad IRQL",
    .option = vf_opt_special_pool,
    .fixture = "tests/fixtures/spool-bad-irql",
};

static inline uint8_t *slot_page(const struct ex *ex, uint64_t slot, unsigned k)
{
    return ex->special_base + ((slot * 2 + k) << ex->page_shift);
}

int ex_special_init(struct ex *ex)
{
    ex->nspecial = special_slots;
    ex->special_base = mm_va_reserve(&ex->sys->mm, ex->nspecial * 2);
    ex->special = calloc(ex->nspecial, sizeof(*ex->special));
    return ex->special_base && ex->special ? 0 : -1;
}

void ex_special_fini(struct ex *ex)
{
    free(ex->special);
    ex->special = NULL;
}

bool ex_special_owns(const struct ex *ex, const void *p)
{
    const uint8_t *b = ex->special_base;
    return b && (const uint8_t *)p >= b &&
           (const uint8_t *)p < b + ((ex->nspecial * 2) << ex->page_shift);
}

bool ex_special_live_at(const struct ex *ex, const void *p)
{
    uint64_t slot = (uint64_t)((const uint8_t *)p - ex->special_base) >> (ex->page_shift + 1);
    return slot < ex->nspecial && ex->special[slot].state == special_live &&
           ex->special[slot].va == (uintptr_t)p;
}

void *ex_special_alloc(struct ex *ex, const struct ex_req *r)
{
    struct mm *mm = &ex->sys->mm;
    ex_lock(&ex->special_lock);
    uint64_t slot = UINT64_MAX;
    for (uint64_t i = 0; i < ex->nspecial; i++) {
        uint64_t s = (ex->special_next + i) % ex->nspecial;
        if (ex->special[s].state != special_live) {
            slot = s;
            break;
        }
    }
    if (slot == UINT64_MAX) {
        ex->special_fallbacks++;
        ex_unlock(&ex->special_lock);
        return NULL;
    }
    ex->special_next = (slot + 1) % ex->nspecial;
    bool start = r->special == 2;
    uint8_t *page = slot_page(ex, slot, start ? 1 : 0);
    ex_lock(&ex->mm_lock);
    uint64_t f = pfn_alloc(&mm->machine->pfn, UINT64_MAX);
    unsigned flags = mm_pte_write | (r->kind == ex_kind_paged ? mm_pte_pageable : 0) |
                     (r->kind == ex_kind_nonpaged ? mm_pte_exec : 0);
    if (f == UINT64_MAX || mm_map_page(mm, page, f, flags)) {
        if (f != UINT64_MAX)
            pfn_free(&mm->machine->pfn, f);
        ex_unlock(&ex->mm_lock);
        ex->special_fallbacks++;
        ex_unlock(&ex->special_lock);
        return NULL;
    }
    ex->pages_mapped++;
    if (ex->pages_mapped > ex->peak_pages)
        ex->peak_pages = ex->pages_mapped;
    ex_unlock(&ex->mm_lock);
    uint64_t body = (r->bytes + 15) & ~15ULL;
    if (r->cache_aligned)
        body = (r->bytes + 63) & ~63ULL;
    if (body == 0)
        body = 16;
    uint8_t *va = start ? page : page + ex->page_size - body;
    memset(page, pattern, ex->page_size);
    ex->special[slot] = (struct ex_special){.state = special_live,
                                            .kind = (uint8_t)r->kind,
                                            .start = start,
                                            .owner = r->owner,
                                            .tag = r->tag,
                                            .bytes = r->bytes,
                                            .va = (uintptr_t)va};
    ex->special_live++;
    ex_unlock(&ex->special_lock);
    return va;
}

static struct ex_special *slot_rec(struct ex *ex, const void *p, uint64_t *slot, unsigned *k)
{
    uint64_t pg = (uint64_t)((const uint8_t *)p - ex->special_base) >> ex->page_shift;
    *slot = pg / 2;
    *k = (unsigned)(pg & 1);
    return &ex->special[*slot];
}

/* 0xC1 carries its subtype in P4 and the rule has several: stop through
 * ke_bugcheck with the right one. Returns when the option is off. */
static void spool_stop(struct ex *ex, uint64_t sub, uint64_t p1, uint64_t p2, uint64_t p3,
                       const struct vf_rule *rule, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
static void spool_stop(struct ex *ex, uint64_t sub, uint64_t p1, uint64_t p2, uint64_t p3,
                       const struct vf_rule *rule, const char *fmt, ...)
{
    if (!vf_on(&ex->sys->vf, rule))
        return;
    uint64_t param[4] = {p1, p2, p3, sub};
    va_list ap;
    va_start(ap, fmt);
    ke_bugcheck_v(0xC1, param, rule, fmt, ap);
}

void ex_special_check_irql(struct ex *ex, bool alloc, enum ex_kind kind, uint64_t type,
                           uint64_t what)
{
    uint8_t irql = ke_irql(&ex->sys->ke);
    if (irql > (kind == ex_kind_paged ? 1 : 2))
        spool_stop(ex, alloc ? 0x30 : 0x31, irql, type, what, &ex_rule_spool_bad_irql,
                   "special pool %s of %s pool at IRQL %u", alloc ? "allocation" : "free",
                   kind == ex_kind_paged ? "paged" : "nonpaged", irql);
}

struct ex_special *ex_special_lookup(struct ex *ex, void *p)
{
    uint64_t slot;
    unsigned k;
    struct ex_special *s = slot_rec(ex, p, &slot, &k);
    if (s->state != special_live || k != (s->start ? 1u : 0u)) {
        spool_stop(ex, 0x20, (uint64_t)(uintptr_t)p, 0, 0, &ex_rule_spool_corrupt_at_free,
                   "%p is in special pool but no block is allocated there (freed twice?)", p);
        return NULL;
    }
    if ((uintptr_t)p != s->va) {
        spool_stop(ex, 0x21, s->va, s->bytes, (uint64_t)(uintptr_t)p,
                   &ex_rule_spool_corrupt_at_free,
                   "%p is not the start of the special-pool block at %p", p, (void *)s->va);
        return NULL;
    }
    return s;
}

static void corrupt(struct ex *ex, struct ex_special *s, const uint8_t *at, uint64_t sub,
                    const char *what)
{
    spool_stop(ex, sub, s->va, (uint64_t)(uintptr_t)at, s->bytes, &ex_rule_spool_corrupt_at_free,
               "special-pool block %p (%llu bytes, tag %.4s): %s at %p", (void *)s->va,
               (unsigned long long)s->bytes, (const char *)&s->tag, what, (const void *)at);
}

void ex_special_free(struct ex *ex, struct ex_special *s, void *p)
{
    (void)p;
    uint8_t *va = (uint8_t *)s->va;
    uint8_t *page = (uint8_t *)((uintptr_t)va & ~(uintptr_t)(ex->page_size - 1));
    for (uint8_t *q = page; q < va; q++)
        if (*q != pattern)
            corrupt(ex, s, q, 0x23, "bytes before the block were written");
    for (uint8_t *q = va + s->bytes; q < page + ex->page_size; q++)
        if (*q != pattern)
            corrupt(ex, s, q, 0x24, "bytes after the end of the block were written");
    ex_lock(&ex->special_lock);
    ex_lock(&ex->mm_lock);
    /* The VA stays reserved (it is the quarantined slot); the frame goes. */
    uint64_t *pte = mm_pte_of(&ex->sys->mm, page);
    uint64_t frame = mm_pte_frame(*pte);
    mm_unmap_pages(&ex->sys->mm, page, 1);
    pfn_free(&ex->sys->machine.pfn, frame);
    ex->pages_mapped--;
    ex_unlock(&ex->mm_lock);
    s->state = special_freed;
    ex->special_live--;
    ex_unlock(&ex->special_lock);
}

/* The fault resolver: guard pages and freed blocks. */
int ex_special_fault(struct sys *sys, void *addr, int access, void *pc)
{
    struct ex *ex = &sys->ex;
    if (!ex_special_owns(ex, addr))
        return mm_fault_declined;
    uint64_t slot;
    unsigned k;
    struct ex_special *s = slot_rec(ex, addr, &slot, &k);
    bool driver = io_driver_by_address(&sys->io, (uintptr_t)pc) != NULL;
    uint64_t rw = access == 1 ? 1 : 0;
    const char *how = access == 1 ? "write" : access == 8 ? "execution" : "read";
    bool data_page = s->state != special_free && k == (s->start ? 1u : 0u);
    if (data_page && s->state == special_freed) {
        if (!vf_on(&sys->vf, &ex_rule_spool_use_after_free))
            return mm_fault_declined;
        ke_bugcheck(driver ? 0xD5 : 0xCC, (uint64_t)(uintptr_t)addr, rw, (uint64_t)(uintptr_t)pc, 0,
                    &ex_rule_spool_use_after_free,
                    "%s of %p in the freed special-pool block %p (tag %.4s, %llu bytes) "
                    "[instruction %p]",
                    how, addr, (void *)s->va, (const char *)&s->tag, (unsigned long long)s->bytes,
                    pc);
    }
    /* A guard page: whose block ran into it? Verify-end blocks end just
     * below their own slot's guard; verify-start blocks begin just above
     * theirs. */
    const struct vf_rule *rule = &ex_rule_spool_overrun;
    const struct ex_special *b = NULL;
    if (k == 1 && !s->start && s->state != special_free) {
        b = s;
    } else if (k == 0 && s->start && s->state != special_free) {
        b = s;
        rule = &ex_rule_spool_underrun;
    } else if (k == 0 && slot > 0 && ex->special[slot - 1].start &&
               ex->special[slot - 1].state != special_free) {
        b = &ex->special[slot - 1]; /* ran off the end of a verify-start block */
    }
    if (b && b->state == special_freed)
        rule = &ex_rule_spool_use_after_free;
    if (!vf_on(&sys->vf, rule))
        return mm_fault_declined;
    uint32_t code =
        rule == &ex_rule_spool_use_after_free ? (driver ? 0xD5 : 0xCC) : (driver ? 0xD6 : 0xCD);
    ke_bugcheck(
        code, (uint64_t)(uintptr_t)addr, rw, (uint64_t)(uintptr_t)pc, 0, rule,
        "%s of %p, %s special-pool block %p (tag %.4s, %llu bytes) [instruction %p]", how, addr,
        rule == &ex_rule_spool_underrun ? "before the start of the" : "beyond the end of the",
        b ? (void *)b->va : NULL, b ? (const char *)&b->tag : "????",
        b ? (unsigned long long)b->bytes : 0ULL, pc);
}
