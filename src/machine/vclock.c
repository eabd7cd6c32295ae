/*
 * src/machine/vclock.c - the machine's virtual clock and its event queue.
 *
 * Models: time as the simulated machine sees it, in nanoseconds since power
 * on. Nothing here follows the host's clock: time moves only when the
 * scheduler says so (every scheduling point costs a small fixed amount, and
 * when no processor can run, time jumps to the next event). Device models
 * and kernel timers schedule callbacks at a virtual time.
 * Invariants: events fire in (time, sequence) order, so two events due at
 * the same instant fire in the order they were scheduled; an event fires
 * at most once and never before its time; now never goes backwards.
 * Not modelled: clock drift, per-processor clocks. The queue is a sorted
 * list: insertion is O(n), fine for the tens of timers and device events a
 * run has (the same trade ae.c makes for its timers).
 */
#include <stdlib.h>

#include "machine/machine.h"

struct vclock_event {
    uint64_t when;
    uint64_t id; /* also the sequence: ids grow */
    void (*fn)(void *arg);
    void *arg;
    struct vclock_event *next;
};

void vclock_init(struct vclock *c)
{
    c->now = 0;
    c->next_id = 1;
    c->head = NULL;
    c->pending = 0;
}

void vclock_fini(struct vclock *c)
{
    while (c->head) {
        struct vclock_event *e = c->head;
        c->head = e->next;
        free(e);
    }
    c->pending = 0;
}

uint64_t vclock_schedule(struct vclock *c, uint64_t when, void (*fn)(void *arg), void *arg)
{
    struct vclock_event *e = malloc(sizeof(*e));
    if (!e)
        return 0;
    if (when < c->now)
        when = c->now;
    e->when = when;
    e->id = c->next_id++;
    e->fn = fn;
    e->arg = arg;
    struct vclock_event **pp = &c->head;
    while (*pp && (*pp)->when <= when)
        pp = &(*pp)->next;
    e->next = *pp;
    *pp = e;
    c->pending++;
    return e->id;
}

bool vclock_cancel(struct vclock *c, uint64_t id)
{
    for (struct vclock_event **pp = &c->head; *pp; pp = &(*pp)->next) {
        if ((*pp)->id == id) {
            struct vclock_event *e = *pp;
            *pp = e->next;
            free(e);
            c->pending--;
            return true;
        }
    }
    return false;
}

bool vclock_next(const struct vclock *c, uint64_t *when)
{
    if (!c->head)
        return false;
    *when = c->head->when;
    return true;
}

unsigned vclock_run_due(struct vclock *c)
{
    unsigned n = 0;
    /* A callback may schedule more events, even at now: they run in this
     * same pass, after the ones already due (their ids are larger). */
    while (c->head && c->head->when <= c->now) {
        struct vclock_event *e = c->head;
        c->head = e->next;
        c->pending--;
        void (*fn)(void *) = e->fn;
        void *arg = e->arg;
        free(e);
        fn(arg);
        n++;
    }
    return n;
}

void vclock_advance(struct vclock *c, uint64_t to)
{
    if (to > c->now)
        c->now = to;
}
