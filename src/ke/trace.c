/*
 * src/ke/trace.c - the scheduler's event trace.
 *
 * Models: nothing of Windows: a record of (virtual time, processor, kind,
 * argument) for every scheduling decision, IRQL change, DPC, ISR, lock
 * acquisition and wait. The determinism tests compare the hash of two runs
 * with one seed; `wdmsim trace` will read the kept records.
 * Invariants: the hash covers every record ever made, in order; addresses
 * enter the hash only when trace.addresses is set, because ASLR moves them
 * between processes while the interleaving stays the same. Observations
 * (ke_observe: DPC and ISR ends, dispatch routines, DMA, pool, IRPs) are
 * kept only while trace.observe is set and never enter the hash or the
 * count, so `wdmsim run --trace` replays the same run as without it.
 * src/host/trace*.c turns the kept records into a Perfetto trace.
 */
#include <stdlib.h>

#include "sys.h"

enum { trace_keep = 1u << 16, trace_observe_max = 1u << 23 };

/* A word at a time: bytewise FNV-1a cost more than the rest of a
 * scheduling point (bench/bench_ke.c). Order-sensitive, which is what a
 * trace comparison needs; not a cryptographic hash. */
static void mix(uint64_t *h, uint64_t v)
{
    *h = (*h ^ v) * 0x9e3779b97f4a7c15ULL;
    *h ^= *h >> 29;
}

/* Observing: the buffer grows (doubling) up to trace_observe_max records;
 * index counts every kept record, observations included. */
static struct ke_trace_rec *slot(struct ke_trace *t, uint64_t index)
{
    if (!t->rec && !t->cap) {
        t->rec = calloc(trace_keep, sizeof(*t->rec));
        t->cap = t->rec ? trace_keep : 1; /* 1: do not retry a failed calloc */
    }
    if (t->rec && index >= t->cap && t->observe && t->cap < trace_observe_max) {
        struct ke_trace_rec *r = realloc(t->rec, 2 * t->cap * sizeof(*r));
        if (r) {
            t->rec = r;
            t->cap *= 2;
        }
    }
    return t->rec && index < t->cap ? &t->rec[index] : NULL;
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
    struct ke_trace_rec *r = slot(t, t->count + t->observed);
    if (r)
        *r = (struct ke_trace_rec){now, (uint16_t)ke->current, (uint16_t)kind, 0, arg, 0};
    t->count++;
}

void ke_trace_observed(struct ke *ke, enum ke_trace_kind kind, uint64_t arg, uint64_t arg2)
{
    struct ke_trace *t = &ke->trace;
    struct ke_trace_rec *r = slot(t, t->count + t->observed);
    if (!r)
        return;
    const struct ke_thread *th = ke->processor[ke->current].thread;
    *r = (struct ke_trace_rec){ke->machine ? ke->machine->clock.now : 0,
                               (uint16_t)ke->current,
                               (uint16_t)kind,
                               th ? th->id : 0,
                               arg,
                               arg2};
    t->observed++;
}

void ke_observe_current(enum ke_trace_kind kind, uint64_t arg, uint64_t arg2)
{
    struct sys *sys = sys_get();
    if (sys)
        ke_observe(&sys->ke, kind, arg, arg2);
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
