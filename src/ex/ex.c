/*
 * src/ex/ex.c - the executive layer's boot and shutdown.
 *
 * Boot order (src/host/wdmsim.c): machine -> ke -> mm -> ex -> io; ex_fini
 * runs before mm_fini because the pools give their pages back to mm.
 */
#include "sys.h"

int ex_init(struct ex *ex, struct sys *sys, struct machine_error *err)
{
    return ex_pool_init(ex, sys, err);
}

void ex_fini(struct ex *ex)
{
    ex_lookaside_fini(ex);
    ex_pool_fini(ex);
    /* mm's contiguous-block records: freed here until mm_fini does it. */
    mm_contig_fini(&ex->sys->mm);
}
