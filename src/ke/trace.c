/*
 * src/ke/trace.c - the scheduler's event trace.
 *
 * Models: nothing of Windows: a record of (virtual time, processor, kind,
 * argument) for every scheduling decision, IRQL change, DPC, ISR, lock
 * acquisition and wait. The determinism tests compare the hash of two runs
 * with one seed; `wdmsim trace` will read the kept records.
 * Invariants: the hash covers every record ever made, in order; addresses
 * enter the hash only when trace.addresses is set, because ASLR moves them
 * between processes while the interleaving stays the same.
 */
#include <stdlib.h>

#include "sys.h"

enum { trace_keep = 1u << 16 };

/* A word at a time: bytewise FNV-1a cost more than the rest of a
 * scheduling point (bench/bench_ke.c). Order-sensitive, which is what a
 * trace comparison needs; not a cryptographic hash. */
static void mix(uint64_t *h, uint64_t v)
{
    *h = (*h ^ v) * 0x9e3779b97f4a7c15ULL;
    *h ^= *h >> 29;
}

static void record(struct ke *ke, enum ke_trace_kind kind, uint64_t arg, uint64_t hashed)
{
    struct ke_trace *t = &ke->trace;
    uint64_t now = ke->machine ? ke->machine->clock.now : 0;
    if (!t->count)
        t->hash = 0xcbf29ce484222325ULL;
    mix(&t->hash, now);
    mix(&t->hash, ((uint64_t)ke->current << 16) | kind);
    mix(&t->hash, hashed);
    if (!t->rec && !t->cap) {
        t->rec = calloc(trace_keep, sizeof(*t->rec));
        t->cap = t->rec ? trace_keep : 1; /* 1: do not retry a failed calloc */
    }
    if (t->rec && t->count < t->cap)
        t->rec[t->count] =
            (struct ke_trace_rec){now, (uint16_t)ke->current, (uint16_t)kind, 0, arg};
    t->count++;
}

void ke_trace(struct ke *ke, enum ke_trace_kind kind, uint64_t arg)
{
    record(ke, kind, arg, arg);
}

void ke_trace_addr(struct ke *ke, enum ke_trace_kind kind, const void *addr)
{
    uint64_t a = (uint64_t)(uintptr_t)addr;
    record(ke, kind, a, ke->trace.addresses ? a : 0);
}
