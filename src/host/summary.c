/*
 * src/host/summary.c - the end-of-run report of `wdmsim run` and the run's
 * counters (wdmsim_get_stats, wdmsim_summary_print in include/wdmsim/
 * wdmsim.h).
 *
 * Models: nothing of Windows; a newcomer's view of one run in about
 * twenty lines: what ran (machine, devices and the drivers serving them,
 * the app and its exit code), what DMA did (bytes the bus moved, S/G
 * lists and elements, bounce bytes, map-register high-water mark), the
 * IRPs, the verifier's verdict and pool use by tag. Numbers come from
 * small counters kept by src/hal (hal_stats_get), src/io (io.stats) and
 * src/ex (ex_pool_tag_stats).
 * Invariants: reads only; safe after a bug check and after unload.
 * Not modelled: per-driver attribution of DMA bytes or pool (the tables
 * are per adapter and per tag).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <wdmsim/wdmsim.h>

#include "sys.h"

struct sys *wdmsim_sys(wdmsim *sim);

void wdmsim_get_stats(wdmsim *sim, struct wdmsim_stats *out)
{
    struct sys *sys = wdmsim_sys(sim);
    struct hal_stats h;
    hal_stats_get(&sys->hal, &h);
    const struct io_stats *io = &sys->io.stats;
    *out = (struct wdmsim_stats){
        .virtual_ns = sys->machine.clock.now,
        .dma_to_device = h.bus_to_device,
        .dma_from_device = h.bus_from_device,
        .dma_adapters = h.adapters,
        .sg_lists = h.sg_lists,
        .sg_elements = h.sg_elements,
        .bounce_bytes = h.bounce_bytes,
        .map_register_high_water = h.mapreg_high_water,
        .map_register_count = h.mapreg_count,
        .irps_completed = io->completed,
        .irps_failed = io->failed,
        .irps_cancelled = io->cancelled,
        .reads = io->reads,
        .writes = io->writes,
        .read_bytes = io->read_bytes,
        .written_bytes = io->written_bytes,
        .violations = wdmsim_violations(sim),
        .device_violations = wdmsim_device_violations(sim),
    };
}

/* "512 bytes", "12.0 KiB", "41.2 MiB", "1.50 GiB". */
static const char *size_text(uint64_t n, char buf[32])
{
    if (n < 1024)
        snprintf(buf, 32, "%" PRIu64 " bytes", n);
    else if (n < (1ull << 20))
        snprintf(buf, 32, "%.1f KiB", n / 1024.0);
    else if (n < (1ull << 30))
        snprintf(buf, 32, "%.1f MiB", n / 1048576.0);
    else
        snprintf(buf, 32, "%.2f GiB", n / 1073741824.0);
    return buf;
}

static void what_ran(struct sys *sys, const struct wdmsim_run_info *run, FILE *out)
{
    fprintf(out, "ran       machine %s (seed %" PRIu64 ", verifier %s), %.3f ms of virtual time\n",
            run->machine ? run->machine : "(built-in default)", run->seed,
            run->verifier ? run->verifier : "standard", sys->machine.clock.now / 1e6);
    for (const char *const *d = run->drivers; d && *d; d++)
        fprintf(out, "          driver  %s\n", *d);
    /* Devices: who served each, or that nothing did. */
    unsigned n = machine_device_count(&sys->machine), idle = 0;
    char idle_list[256] = "";
    for (unsigned i = 0; i < n; i++) {
        const struct machine_device_config *c =
            machine_device_config_of(machine_device_at(&sys->machine, i));
        bool started;
        const char *svc = io_pnp_service(&sys->io, i, &started);
        if (svc) {
            fprintf(out, "          device  %s (model %s): driver %s, %s\n", c->name, c->model, svc,
                    started ? "started" : "did NOT start");
        } else {
            size_t len = strlen(idle_list);
            snprintf(idle_list + len, sizeof(idle_list) - len, "%s%s", idle++ ? ", " : "", c->name);
        }
    }
    if (idle)
        fprintf(out, "          device  %s: no driver loaded for %s\n", idle_list,
                idle > 1 ? "them" : "it");
    if (run->app && run->app_ran)
        fprintf(out, "          app     %s, exit code %d\n", run->app, run->app_exit);
    else if (run->app)
        fprintf(out, "          app     %s, did not finish\n", run->app);
}

static void dma(const struct wdmsim_stats *s, FILE *out)
{
    char a[32], b[32], c[32];
    if (!s->dma_adapters) {
        fprintf(out, "DMA       none (no driver asked for a DMA adapter)\n");
        return;
    }
    fprintf(out, "DMA       %s moved by devices: %s from memory to devices, %s back\n",
            size_text(s->dma_to_device + s->dma_from_device, a), size_text(s->dma_to_device, b),
            size_text(s->dma_from_device, c));
    if (s->sg_lists)
        fprintf(out,
                "          %" PRIu64 " scatter/gather lists, %" PRIu64
                " elements (%.1f per list)\n",
                s->sg_lists, s->sg_elements, (double)s->sg_elements / (double)s->sg_lists);
    fprintf(out, "          %s copied through bounce buffers%s\n", size_text(s->bounce_bytes, a),
            s->bounce_bytes ? " (memory the device cannot reach, or double-buffering)" : "");
    fprintf(out,
            "          map registers: at most %u of %u in use at once (busiest of %u adapter%s)\n",
            s->map_register_high_water, s->map_register_count, s->dma_adapters,
            s->dma_adapters == 1 ? "" : "s");
}

static void irps(const struct wdmsim_stats *s, FILE *out)
{
    char a[32], b[32];
    fprintf(out,
            "I/O       %" PRIu64 " IRPs completed: %" PRIu64 " reads (%s), %" PRIu64
            " writes (%s), %" PRIu64 " cancelled, %" PRIu64 " refused or failed\n",
            s->irps_completed, s->reads, size_text(s->read_bytes, a), s->writes,
            size_text(s->written_bytes, b), s->irps_cancelled, s->irps_failed);
}

static void verdict(wdmsim *sim, const struct wdmsim_stats *s, FILE *out)
{
    const struct wdmsim_bugcheck *bc = wdmsim_get_bugcheck(sim);
    if (bc) {
        fprintf(out,
                "verifier  STOPPED: bug check 0x%X %s (0x%" PRIX64 ", 0x%" PRIX64 ", 0x%" PRIX64
                ", 0x%" PRIX64 ")%s%s; the report is on stderr\n",
                bc->code, bc->name ? bc->name : "", bc->parameters[0], bc->parameters[1],
                bc->parameters[2], bc->parameters[3], bc->rule ? ", rule " : "",
                bc->rule ? bc->rule : "");
    } else if (s->violations || s->device_violations) {
        fprintf(out,
                "verifier  VIOLATIONS: %u verifier, %u device-protocol (see the messages above)\n",
                s->violations, s->device_violations);
    } else {
        fprintf(out, "verifier  clean: no bug check, no violation (verifier or device protocol)\n");
    }
}

static int by_allocs(const void *x, const void *y)
{
    const struct ex_tag_stat *a = x, *b = y;
    return a->allocs < b->allocs ? 1 : a->allocs > b->allocs ? -1 : 0;
}

static void pool(struct sys *sys, bool stopped, FILE *out)
{
    enum { cap = 4096, shown = 6 };
    static const char *const kind[] = {"Nonpaged", "Paged", "NonpagedNx"};
    struct ex_tag_stat *all = calloc(cap, sizeof(*all));
    if (!all)
        return;
    unsigned n = ex_pool_tag_stats(&sys->ex, all, cap);
    if (!n) {
        fprintf(out, "pool      not used\n");
        free(all);
        return;
    }
    qsort(all, n, sizeof(*all), by_allocs);
    int64_t left = 0;
    for (unsigned i = 0; i < n; i++)
        left += all[i].allocs - all[i].frees;
    fprintf(out, "pool      %u tags, %" PRId64 " block%s left %s; busiest tags:\n", n, left,
            left == 1 ? "" : "s",
            stopped ? "(the run stopped before the drivers unloaded)"
                    : "(wdmsim's own: drivers' blocks are checked at unload)");
    fprintf(out, "          %-4s  %-10s %9s %9s %7s\n", "tag", "type", "allocs", "frees", "left");
    for (unsigned i = 0; i < n && i < shown; i++) {
        char t[5];
        for (int k = 0; k < 4; k++) {
            unsigned char ch = (unsigned char)(all[i].tag >> (8 * k));
            t[k] = ch >= 0x20 && ch <= 0x7E ? (char)ch : '.';
        }
        t[4] = 0;
        fprintf(out, "          %-4s  %-10s %9" PRId64 " %9" PRId64 " %7" PRId64 "\n", t,
                all[i].kind < 3 ? kind[all[i].kind] : "?", all[i].allocs, all[i].frees,
                all[i].allocs - all[i].frees);
    }
    if (n > shown)
        fprintf(out, "          ... %u more (wdmsim run --pool-usage lists them all)\n", n - shown);
    free(all);
}

void wdmsim_summary_print(wdmsim *sim, const struct wdmsim_run_info *run, FILE *out)
{
    struct sys *sys = wdmsim_sys(sim);
    struct wdmsim_stats s;
    wdmsim_get_stats(sim, &s);
    fprintf(out, "---- wdmsim run summary ----\n");
    what_ran(sys, run, out);
    dma(&s, out);
    irps(&s, out);
    verdict(sim, &s, out);
    pool(sys, wdmsim_get_bugcheck(sim) != NULL, out);
}
