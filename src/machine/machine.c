/*
 * src/machine/machine.c - putting the hardware together and taking it apart.
 */
#include <string.h>

#include "machine/machine.h"

int ram_create(struct ram *ram, uint64_t span, struct machine_error *err);
void ram_destroy(struct ram *ram);
int pfn_create(struct pfn_db *db, const struct machine_config *cfg, uint64_t span, uint64_t seed,
               struct machine_error *err);
void pfn_destroy(struct pfn_db *db);

int machine_create(struct machine *m, const struct machine_config *cfg, uint64_t seed,
                   struct machine_error *err)
{
    memset(m, 0, sizeof(*m));
    m->ram.memfd = -1;
    if (machine_config_validate(cfg, err))
        return -1;
    m->cfg = *cfg;
    m->page_shift = cfg->page_shift;
    m->page_size = 1ULL << cfg->page_shift;
    m->seed = seed;
    rng_seed(&m->rng, seed);
    vclock_init(&m->clock);
    intc_init(&m->intc);
    i8237_init(&m->dma, m);

    uint64_t span = 0;
    for (unsigned i = 0; i < cfg->nranges; i++)
        if (cfg->ranges[i].end > span)
            span = cfg->ranges[i].end;
    if (ram_create(&m->ram, span, err))
        return -1;
    if (pfn_create(&m->pfn, cfg, span, seed, err)) {
        ram_destroy(&m->ram);
        return -1;
    }
    return 0;
}

void machine_destroy(struct machine *m)
{
    vclock_fini(&m->clock);
    pfn_destroy(&m->pfn);
    ram_destroy(&m->ram);
}

bool machine_is_ram(const struct machine *m, uint64_t pa)
{
    for (unsigned i = 0; i < m->cfg.nranges; i++)
        if (pa >= m->cfg.ranges[i].start && pa < m->cfg.ranges[i].end)
            return true;
    return false;
}
