/*
 * src/hal/stats.c - what the run did with DMA, for `wdmsim run`'s summary
 * and the host API (wdmsim_get_stats).
 *
 * Models: nothing of Windows; the counters are wdmsim's own. Each adapter
 * keeps its bus bytes and S/G counts, its register file the bounce bytes
 * and high-water mark; dead adapters stay on hal->adapters until hal_fini,
 * so a summary taken after the drivers unloaded still sees them.
 * Invariants: counters only grow; reading them changes nothing.
 */
#include "hal/hal.h"

void hal_stats_get(struct hal *hal, struct hal_stats *out)
{
    *out = (struct hal_stats){0};
    for (struct hal_adapter *a = hal->adapters; a; a = a->next) {
        out->adapters++;
        out->bus_to_device += a->bus_to_device;
        out->bus_from_device += a->bus_from_device;
        out->sg_lists += a->sg_built;
        out->sg_elements += a->sg_elements;
        out->bounce_bytes += a->regs.bounce_bytes;
        if (a->regs.high_water >= out->mapreg_high_water) {
            out->mapreg_high_water = a->regs.high_water;
            out->mapreg_count = a->nregs;
        }
    }
}
