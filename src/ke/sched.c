/*
 * src/ke/sched.c - the deterministic scheduler.
 *
 * Models: several processors running kernel code at once, as Windows runs
 * it, on one host thread. Each processor has a current thread; a thread is
 * a fiber; a processor "runs" when its current thread's fiber executes.
 * At every scheduling point (every WDK entry, every IRQL lowering, every
 * spin on a held lock, every wait) a seeded PRNG picks which processor
 * runs next and whether a pending interrupt is delivered now, so one seed
 * gives one interleaving and `--seed N` replays it (docs/execution.md).
 * Threads switch on a processor only below DISPATCH_LEVEL: when the
 * running one waits or ends, or is preempted at a point (PRNG).
 * Virtual time: each scheduling point costs point_ns; when no processor can
 * run (halted, waiting, spinning on a lock whose owner is suspended...),
 * time jumps to the next clock event or stall deadline.
 * Invariants: exactly one fiber executes: processor[current].thread's, or
 * the host's stack (on_host) running the loop in sched_run(); a processor
 * switch happens only inside this file; nothing here depends on host time
 * or addresses, so the trace is a function of the seed.
 * Not modelled: priorities, quantum accounting, thread affinity beyond the
 * first dispatch of a request thread, parallel mode (one host thread per
 * processor).
 */
#include <stdlib.h>
#include <string.h>

#include <wdm.h>

#include "sys.h"

/* ---- the ready queue -------------------------------------------------------------- */

static bool can_run_on(const struct ke_thread *t, unsigned p)
{
    return t->affinity < 0 || (unsigned)t->affinity == p;
}

static bool ready_for(const struct ke *ke, unsigned p)
{
    for (const struct ke_thread *t = ke->ready_head; t; t = t->next_ready)
        if (can_run_on(t, p))
            return true;
    return false;
}

static struct ke_thread *ready_pop_for(struct ke *ke, unsigned p)
{
    struct ke_thread *prev = NULL;
    for (struct ke_thread *t = ke->ready_head; t; prev = t, t = t->next_ready) {
        if (!can_run_on(t, p))
            continue;
        if (prev)
            prev->next_ready = t->next_ready;
        else
            ke->ready_head = t->next_ready;
        if (ke->ready_tail == t)
            ke->ready_tail = prev;
        t->next_ready = NULL;
        return t;
    }
    return NULL;
}

void ke_thread_ready(struct ke *ke, struct ke_thread *t)
{
    t->state = ke_state_ready;
    t->next_ready = NULL;
    if (ke->ready_tail)
        ke->ready_tail->next_ready = t;
    else
        ke->ready_head = t;
    ke->ready_tail = t;
    ke_trace(ke, ke_ev_wake, t->id);
}

/* ---- choosing a processor --------------------------------------------------------- */

static bool runnable(struct ke *ke, unsigned q)
{
    const struct ke_processor *pr = &ke->processor[q];
    if (ke_interrupt_deliverable(ke, q) >= 0)
        return true;
    if (pr->halted)
        return pr->dpc_count || ready_for(ke, q);
    if (pr->spin_on && *pr->spin_on)
        return false;
    if (pr->busy_until > ke->machine->clock.now)
        return false;
    return true;
}

/* A runnable processor chosen by the PRNG, or -1 when none is. */
static int pick(struct ke *ke)
{
    unsigned cand[machine_max_processors], n = 0;
    for (unsigned q = 0; q < ke->nprocessors; q++)
        if (runnable(ke, q))
            cand[n++] = q;
    if (!n)
        return -1;
    return (int)cand[n == 1 ? 0 : rng_below(&ke->rng, n)];
}

static struct ke_thread *running_thread(struct ke *ke)
{
    return ke->processor[ke->current].thread;
}

struct ke_thread *ke_current_thread(struct ke *ke)
{
    return ke->running ? running_thread(ke) : NULL;
}

/* Suspends the running fiber and resumes processor q's. Returns when some
 * other fiber (or the host loop) switches back to this one. */
static void switch_processor(struct ke *ke, unsigned q)
{
    struct ke_thread *from = running_thread(ke);
    ke->current = q;
    ke_trace(ke, ke_ev_switch_processor, q);
    ke_process_sync(ke);
    ke_fiber_switch(&from->fiber, &ke->processor[q].thread->fiber);
}

/* Gives the host loop control (nothing is runnable); returns when the host
 * resumes this processor. */
static void switch_to_host(struct ke *ke)
{
    struct ke_thread *from = running_thread(ke);
    ke->on_host = true;
    ke_fiber_switch(&from->fiber, &ke->host);
}

/* Runs some runnable processor, possibly this one (then returns at once). */
static void reschedule(struct ke *ke)
{
    int q = pick(ke);
    if (q == (int)ke->current)
        return;
    if (q < 0)
        switch_to_host(ke);
    else
        switch_processor(ke, (unsigned)q);
}

/* Switches the current processor from its thread to next (same processor). */
static void switch_thread(struct ke *ke, struct ke_thread *next)
{
    struct ke_processor *pr = ke_current_processor(ke);
    struct ke_thread *t = pr->thread;
    t->saved_irql = pr->irql;
    pr->thread = next;
    next->processor = pr->number;
    next->state = ke_state_running;
    pr->irql = next->saved_irql;
    ke_trace(ke, ke_ev_switch_thread, next->id);
    ke_process_sync(ke);
    ke_fiber_switch(&t->fiber, &next->fiber);
}

/* What a processor does when it resumes at an ordinary scheduling point. */
static void on_resume(struct ke *ke)
{
    struct ke_processor *pr = ke_current_processor(ke);
    int line = ke_interrupt_deliverable(ke, pr->number);
    if (line >= 0 && rng_below(&ke->rng, 1000) < ke->deliver_permille)
        ke_interrupt_deliver(ke, (unsigned)line);
    if (pr->irql >= DISPATCH_LEVEL)
        return;
    /* A DPC queued here by another processor: Windows sends a DPC
     * interrupt, which fires as soon as IRQL is below DISPATCH_LEVEL. */
    if (pr->dpc_count && !pr->dpc_active)
        ke_dpc_drain(ke);
    struct ke_thread *t = pr->thread;
    if (!t->idle && ready_for(ke, pr->number) && rng_below(&ke->rng, 1000) < ke->preempt_permille) {
        struct ke_thread *next = ready_pop_for(ke, pr->number);
        ke_thread_ready(ke, t);
        switch_thread(ke, next);
    }
}

void ke_sched_point(struct ke *ke)
{
    if (!ke->running || ke->on_host || ke_stopped(ke))
        return;
    ke->points++;
    ke_clock_advance(ke, ke->machine->clock.now + ke->point_ns);
    reschedule(ke);
    on_resume(ke);
}

/* ---- threads ---------------------------------------------------------------------- */

static void thread_main(void *arg)
{
    struct ke_thread *t = arg;
    struct ke *ke = &sys_get()->ke;
    t->start(t->arg);
    ke_thread_exit(ke, 0);
}

static void idle_main(void *arg)
{
    struct ke *ke = &sys_get()->ke;
    (void)arg;
    for (;;) {
        struct ke_processor *pr = ke_current_processor(ke);
        pr->halted = false;
        int line;
        while ((line = ke_interrupt_deliverable(ke, pr->number)) >= 0)
            ke_interrupt_deliver(ke, (unsigned)line);
        if (pr->dpc_count)
            ke_dpc_drain(ke);
        struct ke_thread *t = ready_pop_for(ke, pr->number);
        if (t) {
            switch_thread(ke, t);
            continue;
        }
        pr->halted = true;
        reschedule(ke);
    }
}

/* Fibers of ended threads, kept for the next thread: mapping 16 pages per
 * request would otherwise dominate a short wdmsim_call. */
enum { fiber_cache_max = 8 };
struct fiber_cache {
    unsigned n;
    struct ke_fiber f[fiber_cache_max];
};
static struct fiber_cache *cache_of(struct ke *ke)
{
    return (struct fiber_cache *)ke->stack_cache;
}

static int fiber_for(struct ke *ke, struct ke_fiber *f, void (*entry)(void *), void *arg)
{
    struct fiber_cache *c = cache_of(ke);
    if (c && c->n) {
        *f = c->f[--c->n];
        ke_fiber_reset(f, entry, arg);
        return 0;
    }
    return ke_fiber_create(f, entry, arg);
}

struct ke_thread *ke_thread_create(struct ke *ke, const char *name, void (*start)(void *),
                                   void *arg, int affinity)
{
    struct ke_thread *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->header.type = 6; /* ThreadObject */
    t->header.size = sizeof(struct ke_header) / 4;
    t->header.wait_list.flink = t->header.wait_list.blink = &t->header.wait_list;
    t->id = ++ke->next_thread_id;
    t->name = name;
    t->start = start;
    t->arg = arg;
    t->affinity = affinity;
    t->saved_irql = PASSIVE_LEVEL;
    if (fiber_for(ke, &t->fiber, start ? thread_main : idle_main, t)) {
        free(t);
        return NULL;
    }
    t->next = ke->threads;
    ke->threads = t;
    if (start)
        ke_thread_ready(ke, t);
    return t;
}

_Noreturn void ke_thread_exit(struct ke *ke, int32_t status)
{
    struct ke_processor *pr = ke_current_processor(ke);
    struct ke_thread *t = pr->thread;
    t->exit_status = status;
    t->state = ke_state_terminated;
    ke_trace(ke, ke_ev_thread_exit, t->id);
    t->header.signal_state = 1;
    ke_object_signal(ke, &t->header);
    /* A thread ends at PASSIVE_LEVEL; whatever it left raised dies with it. */
    t->saved_irql = PASSIVE_LEVEL;
    pr->irql = PASSIVE_LEVEL;
    struct ke_thread *next = ready_pop_for(ke, pr->number);
    switch_thread(ke, next ? next : pr->idle);
    abort(); /* a terminated thread is never resumed */
}

void ke_thread_block(struct ke *ke)
{
    struct ke_processor *pr = ke_current_processor(ke);
    ke_trace(ke, ke_ev_wait, pr->thread->id);
    struct ke_thread *next = ready_pop_for(ke, pr->number);
    switch_thread(ke, next ? next : pr->idle);
    /* Resumed by a processor's idle loop or by a blocking thread there. */
}

/* Frees what ended threads left: on the host stack, where no fiber runs. */
static void reap(struct ke *ke)
{
    struct fiber_cache *c = cache_of(ke);
    if (!c) {
        c = calloc(1, sizeof(*c));
        ke->stack_cache = (struct ke_thread *)c;
    }
    for (struct ke_thread **pp = &ke->threads; *pp;) {
        struct ke_thread *t = *pp;
        /* Only request threads are freed: PsCreateSystemThread handles may
         * still be waited on by the driver. */
        if (t->state == ke_state_terminated && t->fiber.base) {
            if (c && c->n < fiber_cache_max)
                c->f[c->n++] = t->fiber;
            else
                ke_fiber_destroy(&t->fiber);
            t->fiber.base = NULL;
        }
        if (t->state == ke_state_terminated && t->name && !strcmp(t->name, "request") &&
            t->header.wait_list.flink == &t->header.wait_list) {
            *pp = t->next;
            free(t);
            continue;
        }
        pp = &t->next;
    }
}

/* ---- spinning ------------------------------------------------------------------- */

const struct vf_rule ke_rule_lock_order = {
    .id = "lock.order",
    .code = 0xC4,
    .p1 = 0x1001,
    .params = {"lock the processor spins on", "processor spinning", "processor holding it"},
    .text = "deadlock: processors spin on spin locks that can never be released (a lock-order "
            "cycle, or a lock whose holder will not run again)",
    .option = vf_opt_deadlock,
    .fixture = "tests/fixtures/lock-order",
};

/* Owner of a held lock: the value is the owning processor number + 1. */
static int lock_owner(const struct ke *ke, uint64_t v)
{
    return (v >= 1 && v <= ke->nprocessors) ? (int)(v - 1) : -1;
}

static void check_cycle(struct ke *ke, volatile unsigned long long *lock)
{
    unsigned me = ke->current;
    int holder = lock_owner(ke, *lock);
    volatile unsigned long long *l = lock;
    for (unsigned hops = 0; hops <= ke->nprocessors; hops++) {
        int owner = lock_owner(ke, *l);
        if (owner < 0)
            return;
        if ((unsigned)owner == me)
            vf_fire(&ke_rule_lock_order, (uint64_t)(uintptr_t)lock, me, (uint64_t)holder,
                    "[lock %p] processor %u spins on a lock held by processor %d, whose chain "
                    "of spins comes back to processor %u",
                    (void *)lock, me, holder, me);
        l = ke->processor[owner].spin_on;
        if (!l)
            return;
    }
}

void ke_spin_wait(struct ke *ke, volatile unsigned long long *lock)
{
    struct ke_processor *pr = ke_current_processor(ke);
    ke_trace_addr(ke, ke_ev_lock_spin, (const void *)lock);
    check_cycle(ke, lock);
    pr->spin_on = lock;
    while (*lock && !ke_stopped(ke)) {
        reschedule(ke);
        pr = ke_current_processor(ke);
        /* Spinning at DISPATCH_LEVEL or DIRQL still takes higher interrupts. */
        int line;
        while ((line = ke_interrupt_deliverable(ke, pr->number)) >= 0)
            ke_interrupt_deliver(ke, (unsigned)line);
    }
    pr->spin_on = NULL;
}

void ke_stall(struct ke *ke, uint64_t until)
{
    struct ke_processor *pr = ke_current_processor(ke);
    pr->busy_until = until;
    while (ke->machine->clock.now < until && !ke_stopped(ke)) {
        reschedule(ke);
        pr = ke_current_processor(ke);
        int line;
        while ((line = ke_interrupt_deliverable(ke, pr->number)) >= 0)
            ke_interrupt_deliver(ke, (unsigned)line);
    }
    pr->busy_until = 0;
}

/* ---- the host side ------------------------------------------------------------------- */

const struct vf_rule ke_rule_wait_forever = {
    .id = "ke.wait-forever",
    .code = 0xC4,
    .p1 = 0x5700000C,
    .params = {"waiting thread (KTHREAD)", "object waited on", "threads waiting"},
    .text = "every thread waits for something that nothing left can signal: no processor can "
            "run, no timer or device event is pending (Windows hangs here)",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/ke-wait-forever",
};

static void deadlock(struct ke *ke)
{
    for (unsigned q = 0; q < ke->nprocessors; q++) {
        struct ke_processor *pr = &ke->processor[q];
        if (pr->spin_on) {
            int owner = lock_owner(ke, *pr->spin_on);
            ke->current = q;
            vf_fire(&ke_rule_lock_order, (uint64_t)(uintptr_t)pr->spin_on, q, (uint64_t)owner,
                    "[lock %p] processor %u spins forever; holder: %s", (void *)pr->spin_on, q,
                    owner < 0 ? "none (never initialized or corrupt)"
                              : "a processor that "
                                "cannot release it");
        }
    }
    struct ke_thread *w = ke->request;
    unsigned waiting = 0;
    for (struct ke_thread *t = ke->threads; t; t = t->next)
        if (t->state == ke_state_waiting)
            waiting++;
    void *obj = w && w->nwait ? w->wb[0].object : NULL;
    vf_fire(&ke_rule_wait_forever, (uint64_t)(uintptr_t)w, (uint64_t)(uintptr_t)obj, waiting,
            "[thread %u] the request waits forever; %u thread(s) waiting, nothing can wake them",
            w ? w->id : 0, waiting);
}

static void sched_run(struct ke *ke)
{
    for (;;) {
        if (ke_stopped(ke))
            return;
        int q = pick(ke);
        if (q >= 0) {
            ke->current = (unsigned)q;
            ke->on_host = false;
            ke_trace(ke, ke_ev_switch_processor, (unsigned)q);
            ke_process_sync(ke);
            ke_fiber_switch(&ke->host, &ke->processor[q].thread->fiber);
            ke->on_host = true;
            continue;
        }
        if (ke->request->state == ke_state_terminated)
            return;
        uint64_t now = ke->machine->clock.now, next = UINT64_MAX, t;
        if (vclock_next(&ke->machine->clock, &t))
            next = t;
        for (unsigned p = 0; p < ke->nprocessors; p++)
            if (ke->processor[p].busy_until > now && ke->processor[p].busy_until < next)
                next = ke->processor[p].busy_until;
        if (next != UINT64_MAX) {
            ke_clock_advance(ke, next);
            continue;
        }
        deadlock(ke);
        return; /* a rule turned off: give up this call rather than spin */
    }
}

static int start_processors(struct ke *ke)
{
    for (unsigned p = 0; p < ke->nprocessors; p++) {
        struct ke_processor *pr = &ke->processor[p];
        if (pr->idle)
            continue;
        pr->idle = ke_thread_create(ke, "idle", NULL, NULL, (int)p);
        if (!pr->idle)
            return -1;
        pr->idle->idle = true;
        pr->idle->processor = p;
        pr->idle->state = ke_state_running;
        pr->thread = pr->idle;
        pr->halted = true;
    }
    return 0;
}

struct request {
    void (*fn)(void *);
    void *arg;
};

static void request_main(void *arg)
{
    struct request *r = arg;
    struct ke *ke = &sys_get()->ke;
    /* Free to run elsewhere after its first dispatch on processor 0. */
    ke_current_thread(ke)->affinity = -1;
    r->fn(r->arg);
}

int ke_sched_call(struct ke *ke, void (*fn)(void *), void *arg)
{
    struct request r = {fn, arg};
    struct ke_thread *t = NULL;
    if (!start_processors(ke))
        t = ke_thread_create(ke, "request", request_main, &r, 0);
    if (!t)
        ke_bugcheck(0x7D, ke->machine->pfn.ram_frames, 0, 0, 0, NULL,
                    "no simulated memory left for a kernel stack");
    ke->request = t;
    ke->running = true;
    ke->on_host = true;
    sched_run(ke);
    ke->running = false;
    ke->request = NULL;
    if (!ke_stopped(ke))
        reap(ke);
    return ke_stopped(ke) ? -1 : 0;
}

/* A bug check on a fiber: the stack it happened on is abandoned and the
 * host loop, seeing the machine stopped, returns to the host's ke_call. */
_Noreturn void ke_sched_abort(struct ke *ke)
{
    struct ke_fiber dead;
    ke->on_host = true;
    ke_fiber_switch(&dead, &ke->host);
    abort();
}

void ke_sched_recover(struct ke *ke)
{
    struct ke_processor *pr = &ke->processor[ke->current];
    struct ke_thread *t = pr->thread;
    if (t && !t->idle) {
        t->state = ke_state_terminated;
        pr->thread = pr->idle;
    }
    pr->irql = PASSIVE_LEVEL;
    pr->dpc_active = false;
    pr->isr_depth = 0;
    pr->spin_on = NULL;
    pr->busy_until = 0;
    ke->in_service = 0;
    ke->running = false;
    ke->on_host = false;
    ke->request = NULL;
    ke->depth = 0;
    ke->stop_target = NULL;
}

void ke_sched_fini(struct ke *ke)
{
    /* Fiber stacks live in the system address space, which mm tears down
     * whole; only host memory is freed here. */
    while (ke->threads) {
        struct ke_thread *t = ke->threads;
        ke->threads = t->next;
        free(t);
    }
    free(ke->stack_cache);
    ke->stack_cache = NULL;
}
