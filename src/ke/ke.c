/*
 * src/ke/ke.c - processors and the way into driver code.
 *
 * Models: the virtual processors' state (number, IRQL) and ke_call(), the
 * single door through which the host runs driver code. A bug check unwinds
 * to the innermost door; the machine then stays stopped.
 * Not modelled yet: several processors running (the execution issue brings
 * fibers and the scheduler; until then processor 0 runs everything).
 */
#include <string.h>

#include "sys.h"

__thread struct sys *sys_current;

int ke_init(struct ke *ke, const struct machine *m)
{
    memset(ke, 0, sizeof(*ke));
    ke->nprocessors = m->cfg.processors;
    for (unsigned i = 0; i < ke->nprocessors; i++)
        ke->processor[i].number = i;
    return 0;
}

void ke_fini(struct ke *ke)
{
    (void)ke;
}

int ke_call(struct ke *ke, void (*fn)(void *arg), void *arg)
{
    if (ke_stopped(ke))
        return -1;
    sigjmp_buf target;
    sigjmp_buf *outer = ke->stop_target;
    /* Driver code that stops the machine lands here; the mask is saved so
     * a stop from inside a signal handler (page faults) restores it. */
    if (sigsetjmp(target, 1)) {
        ke->stop_target = outer;
        ke->depth--;
        return -1;
    }
    ke->stop_target = &target;
    ke->depth++;
    fn(arg);
    ke->depth--;
    ke->stop_target = outer;
    return 0;
}
