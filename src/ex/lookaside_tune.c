/*
 * src/ex/lookaside_tune.c - lookaside depth tuning on the virtual clock.
 *
 * Models: the balance-set manager's lookaside scan (Windows Research Kernel
 * algorithm, spec/memory.md 5): a tick every virtual second rotating over
 * the general nonpaged lists (tick 0), the general paged lists (tick 1) and
 * the pool lists (tick 2), so each list is re-tuned every 3 s from the
 * allocations and misses it saw since its last scan.
 * Invariants: minimum <= Depth <= MaximumDepth after every adjustment (Depth
 * 0 when lookasides are disabled).
 * Not modelled: the per-processor pool lookasides (tick 2 does nothing).
 */
#include <string.h>

#include <wdm.h>

#include "sys.h"

enum { scan_period = 3 }; /* seconds between two scans of one general list */

void ex_lookaside_adjust(struct ex_lookaside_counters *c, unsigned period, unsigned minimum)
{
    uint32_t allocates = c->total_allocates - c->last_total_allocates;
    uint32_t misses = c->allocate_misses - c->last_allocate_misses;
    c->last_total_allocates = c->total_allocates;
    c->last_allocate_misses = c->allocate_misses;
    if (minimum == 0) {
        c->depth = 0;
        return;
    }
    unsigned depth = c->depth, maximum = c->maximum_depth;
    if (allocates < 25u * period) {
        /* Little use: shrink fast, so idle lists give their memory back. */
        depth = depth > minimum + 10 ? depth - 10 : minimum;
    } else {
        uint64_t ratio = (uint64_t)misses * 1000 / allocates; /* misses per mille */
        if (ratio < 5) {
            depth = depth > minimum ? depth - 1 : minimum;
        } else {
            uint64_t room = maximum > depth ? maximum - depth : 0;
            uint64_t delta = ratio * room / 2000 + 5;
            if (delta > 30)
                delta = 30;
            depth = depth + delta > maximum ? maximum : depth + (unsigned)delta;
        }
    }
    if (depth < minimum)
        depth = minimum;
    c->depth = (uint16_t)depth;
}

/* Reads and writes one list's counters; the body sits at offset 0 of
 * every list type, as GENERAL_LOOKASIDE_POOL. */
static void adjust_list(void *list, unsigned minimum)
{
    GENERAL_LOOKASIDE_POOL body;
    memcpy(&body, list, sizeof(body));
    struct ex_lookaside_counters c = {
        .depth = body.Depth,
        .maximum_depth = body.MaximumDepth,
        .total_allocates = body.TotalAllocates,
        .allocate_misses = body.AllocateMisses,
        .last_total_allocates = body.LastTotalAllocates,
        .last_allocate_misses = body.LastAllocateMisses,
    };
    ex_lookaside_adjust(&c, scan_period, minimum);
    /* Write back only what the scan owns: the inline allocate and free
     * keep counting meanwhile (one host thread: nothing runs between). */
    char *l = list;
    USHORT depth = c.depth;
    ULONG last_total = c.last_total_allocates, last_misses = c.last_allocate_misses;
    memcpy(l + FIELD_OFFSET(GENERAL_LOOKASIDE_POOL, Depth), &depth, sizeof(depth));
    memcpy(l + FIELD_OFFSET(GENERAL_LOOKASIDE_POOL, LastTotalAllocates), &last_total,
           sizeof(last_total));
    memcpy(l + FIELD_OFFSET(GENERAL_LOOKASIDE_POOL, LastAllocateMisses), &last_misses,
           sizeof(last_misses));
}

void ex_lookaside_tick(struct sys *sys)
{
    struct ex_lookaside_set *set = &sys->ex.lookaside;
    unsigned phase = (unsigned)(set->ticks++ % 3);
    if (phase == 2)
        return; /* pool lookasides: not modelled */
    unsigned minimum = ex_lookaside_minimum_depth(sys);
    for (unsigned i = 0; i < set->count; i++)
        if (set->recs[i].paged == (phase == 1))
            adjust_list(set->recs[i].list, minimum);
}
