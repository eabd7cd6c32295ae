/*
 * tests/hal/hal_test.h - helpers for HAL machinery tests: a booted bare
 * machine (no kernel), hand-built MDLs over chosen frames.
 */
#ifndef WDMSIM_TESTS_HAL_TEST_H
#define WDMSIM_TESTS_HAL_TEST_H

#include <stdlib.h>
#include <string.h>

#include "hal/hal.h"

struct hal_env {
    struct machine m;
    struct hal hal;
    unsigned violations;
    const struct vf_rule *last_rule;
    uint64_t last[3];
};

static void hal_env_violation(void *ctx, const struct vf_rule *rule, uint64_t a, uint64_t b,
                              uint64_t c)
{
    struct hal_env *e = ctx;
    e->violations++;
    e->last_rule = rule;
    e->last[0] = a, e->last[1] = b, e->last[2] = c;
}

/* ram: "" for the default machine, else RAM ranges as "start-end,..." in
 * MiB (e.g. "1-8192" for an 8 GiB machine). */
static inline struct hal_env *hal_env_boot(uint64_t top_mib, enum frame_placement placement)
{
    struct hal_env *e = calloc(1, sizeof(*e));
    struct machine_config cfg;
    struct machine_error err;
    machine_config_default(&cfg);
    cfg.placement = placement;
    if (top_mib) {
        cfg.nranges = 2;
        cfg.ranges[0] = (struct ram_range){0, 640ULL << 10};
        cfg.ranges[1] = (struct ram_range){1ULL << 20, top_mib << 20};
    }
    if (machine_create(&e->m, &cfg, 42, &err))
        abort();
    hal_init(&e->hal, &e->m);
    e->hal.violation_hook = hal_env_violation;
    e->hal.violation_ctx = e;
    return e;
}

static inline void hal_env_free(struct hal_env *e)
{
    hal_fini(&e->hal);
    machine_destroy(&e->m);
    free(e);
}

/* An MDL for [va, va + len) whose pages are the given frames. Never
 * dereferences va. Free with free(). */
static inline MDL *test_mdl(uintptr_t va, ULONG len, const uint64_t *frames, unsigned shift)
{
    uint64_t mask = (1ULL << shift) - 1;
    uint64_t pages = ((va & mask) + len + mask) >> shift;
    MDL *m = calloc(1, sizeof(MDL) + pages * sizeof(PFN_NUMBER));
    m->StartVa = (PVOID)(va & ~mask);
    m->ByteOffset = (ULONG)(va & mask);
    m->ByteCount = len;
    m->MdlFlags = MDL_PAGES_LOCKED;
    m->Size = (CSHORT)(sizeof(MDL) + pages * sizeof(PFN_NUMBER));
    memcpy(m + 1, frames, pages * sizeof(PFN_NUMBER));
    return m;
}

static inline uint8_t *frame_ptr(struct hal_env *e, uint64_t frame)
{
    return machine_pa_ptr(&e->m, frame << e->m.page_shift);
}

static inline DEVICE_DESCRIPTION test_desc_master(bool sg, unsigned bits, ULONG maxlen)
{
    DEVICE_DESCRIPTION d;
    memset(&d, 0, sizeof(d));
    d.Version = DEVICE_DESCRIPTION_VERSION3;
    d.Master = TRUE;
    d.ScatterGather = sg;
    d.InterfaceType = PCIBus;
    d.MaximumLength = maxlen;
    d.DmaAddressWidth = bits;
    return d;
}

static inline DEVICE_DESCRIPTION test_desc_slave(unsigned channel, ULONG maxlen)
{
    DEVICE_DESCRIPTION d;
    memset(&d, 0, sizeof(d));
    d.Version = DEVICE_DESCRIPTION_VERSION2;
    d.Master = FALSE;
    d.DmaChannel = channel;
    d.DmaWidth = channel < 4 ? Width8Bits : Width16Bits;
    d.InterfaceType = Isa;
    d.MaximumLength = maxlen;
    return d;
}

#endif
