/*
 * src/ke/ke.c - the kernel's state and the way into driver code.
 *
 * Models: the virtual processors (number, IRQL, current thread) and
 * ke_call(), the single door through which the host runs driver code: the
 * host's work becomes a kernel thread, and the scheduler (sched.c) runs
 * until that thread and everything it set going are done. A bug check on
 * any fiber comes back to this door; the machine then stays stopped.
 * Spec: ARCHITECTURE.md 4; docs/execution.md.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <wdm.h>

#include "sys.h"

__thread struct sys *sys_current;

int ke_init(struct ke *ke, struct machine *m)
{
    memset(ke, 0, sizeof(*ke));
    ke->machine = m;
    ke->nprocessors = m->cfg.processors;
    if (ke->nprocessors < 1)
        ke->nprocessors = 1;
    if (ke->nprocessors > machine_max_processors)
        ke->nprocessors = machine_max_processors;
    for (unsigned i = 0; i < ke->nprocessors; i++)
        ke->processor[i].number = i;
    /* A stream of its own, so that scheduling does not disturb frame
     * placement and the other way round. */
    rng_seed(&ke->rng, m->seed ^ 0x5343484544554c45ULL);
    ke->point_ns = 10;
    ke->preempt_permille = 100;
    ke->deliver_permille = 500;
    return 0;
}

void ke_fini(struct ke *ke)
{
    ke_worker_fini(ke);
    ke_interrupt_fini(ke);
    ke_process_fini(ke);
    ke_sched_fini(ke);
    free(ke->trace.rec);
    ke->trace.rec = NULL;
}

/* True when the caller runs on the current thread's fiber stack. Flags
 * alone cannot tell: a test harness may longjmp out of a fiber (a failed
 * cmocka assertion), leaving them stale. */
static bool on_fiber(struct ke *ke)
{
    if (!ke->running || ke->on_host)
        return false;
    struct ke_thread *t = ke->processor[ke->current].thread;
    uintptr_t lo, hi, here = (uintptr_t)__builtin_frame_address(0);
    if (!t || !t->fiber.base)
        return false;
    ke_fiber_bounds(&t->fiber, &lo, &hi);
    return here >= lo && here < hi;
}

int ke_call(struct ke *ke, void (*fn)(void *arg), void *arg)
{
    if (ke_stopped(ke))
        return -1;
    if (on_fiber(ke)) {
        /* Already kernel code on a thread: no new door. */
        fn(arg);
        return 0;
    }
    if (ke->running)
        ke_sched_recover(ke);
    sigjmp_buf target;
    sigjmp_buf *outer = ke->stop_target;
    pthread_sigmask(SIG_SETMASK, NULL, &ke->host_mask);
    /* A stop raised on the host stack (by the scheduler loop itself) lands
     * here; one raised on a fiber comes back through sched_run. */
    if (sigsetjmp(target, 1)) {
        ke->stop_target = outer;
        ke->depth--;
        ke->running = false;
        ke->on_host = false;
        return -1;
    }
    ke->stop_target = &target;
    ke->depth++;
    int rc = ke_sched_call(ke, fn, arg);
    ke->depth--;
    ke->stop_target = outer;
    if (rc)
        /* A stop inside a signal handler left that signal blocked. */
        pthread_sigmask(SIG_SETMASK, &ke->host_mask, NULL);
    return rc;
}
