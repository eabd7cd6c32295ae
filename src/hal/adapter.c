/*
 * src/hal/adapter.c - building a DMA adapter from a DEVICE_DESCRIPTION:
 * reach, map-register count, splitting limits, the bounce area.
 *
 * Models: what IoGetDmaAdapter decides (spec/dma.md 1): bus master or
 * subordinate, address width from the version's fields, the count policy
 * min(BYTES_TO_PAGES(MaximumLength) + 1, cap), refusals that return NULL.
 * Each adapter owns its map-register file and, when it may ever bounce, one
 * physically contiguous run of bounce frames (one per register) below its
 * reach: below 16 MiB and inside one 64/128 KiB block for system DMA, never
 * across a 4 GiB line for masters.
 * Spec: spec/dma.md 1, 4. Rule ids: dma.bad-description (by the caller).
 * Invariants: lim.reach_frames << page_shift <= 2^width; the bounce area's
 * frames are allocated in the PFN database until the adapter is destroyed.
 * Not modelled: EISA/MCA specifics beyond the reach table; DmaSpeed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hal/hal.h"
#include "vf/vf.h"

void hal_init(struct hal *hal, struct machine *m)
{
    memset(hal, 0, sizeof(*hal));
    hal->machine = m;
    hal->cfg.master_cap = 256;
    hal->cfg.slave8_cap = 16;
    hal->cfg.slave16_cap = 32;
    hal->next_id = 1;
    hal_sysdma_init(hal);
}

void hal_fini(struct hal *hal)
{
    while (hal->adapters)
        hal_adapter_destroy(hal->adapters);
    for (unsigned i = 0; i < sizeof(hal->sg_quarantine) / sizeof(hal->sg_quarantine[0]); i++)
        free(hal->sg_quarantine[i]);
    hal_xferlog_stop(hal);
    hal_own_fini(hal);
}

void hal_violation(struct hal *hal, const struct vf_rule *rule, uint64_t a, uint64_t b, uint64_t c,
                   const char *fmt, ...)
{
    if (hal->violation_hook) {
        hal->violation_hook(hal->violation_ctx, rule, a, b, c);
        return;
    }
    char text[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    vf_fire(rule, a, b, c, "%s", text);
}

unsigned hal_desc_width(const DEVICE_DESCRIPTION *d)
{
    if (!d->Master)
        return 24; /* the 8237's reach; EISA high pages are not modelled here */
    if (d->Version >= DEVICE_DESCRIPTION_VERSION3)
        return d->DmaAddressWidth;
    if (d->Dma64BitAddresses)
        return 64;
    if (d->Dma32BitAddresses || d->ScatterGather)
        return 32;
    if (d->InterfaceType == Isa || d->InterfaceType == Eisa)
        return 24;
    return 32; /* PCI master without flags: Open in spec/dma.md 9 */
}

/* NULL when the description is acceptable, else the reason. */
static const char *refuse(const DEVICE_DESCRIPTION *d)
{
    if (d->Version > DEVICE_DESCRIPTION_VERSION3)
        return "unknown DEVICE_DESCRIPTION version";
    if (d->Reserved1)
        return "Reserved1 is TRUE";
    if (d->Master) {
        if (d->Version >= DEVICE_DESCRIPTION_VERSION3 &&
            (d->DmaAddressWidth == 0 || d->DmaAddressWidth > 64))
            return "DmaAddressWidth must be 1..64 for a version-3 master";
        return NULL;
    }
    if (d->DmaChannel == 4 || d->DmaChannel > 7)
        return "system DMA channel must be 0-3 or 5-7";
    if (d->DmaChannel < 4 && d->DmaWidth != Width8Bits)
        return "channels 0-3 need Width8Bits";
    if (d->DmaChannel > 4 && d->DmaWidth != Width16Bits)
        return "channels 5-7 need Width16Bits";
    return NULL;
}

static uint64_t ram_top(const struct machine *m)
{
    uint64_t top = 0;
    for (unsigned i = 0; i < m->cfg.nranges; i++)
        if (m->cfg.ranges[i].end > top)
            top = m->cfg.ranges[i].end;
    return top;
}

static unsigned reg_count(const struct hal *hal, const DEVICE_DESCRIPTION *d, unsigned shift)
{
    uint64_t len = d->MaximumLength;
    uint64_t pages = (len + (1ULL << shift) - 1) >> shift;
    uint64_t want = len ? pages + 1 : 1;
    unsigned cap = d->Master ? hal->cfg.master_cap
                             : (d->DmaChannel < 4 ? hal->cfg.slave8_cap : hal->cfg.slave16_cap);
    if (cap > 0xFFFF)
        cap = 0xFFFF; /* a register index fits a MapRegisterBase token */
    return want < cap ? (unsigned)want : cap;
}

/* One contiguous run of bounce frames, one per register. */
static int bounce_area(struct hal_adapter *a)
{
    struct machine *m = a->hal->machine;
    unsigned shift = a->lim.page_shift;
    uint64_t hi = a->lim.reach_frames;
    uint64_t boundary = a->lim.block ? a->lim.block >> shift : (4ULL << 30) >> shift;
    uint64_t top = ram_top(m) >> shift;
    if (hi > top)
        hi = top;
    uint64_t n = a->nregs;
    if (a->lim.block && n > boundary)
        n = boundary;
    uint64_t f = pfn_alloc_run(&m->pfn, n, 0, hi, boundary);
    if (f == UINT64_MAX)
        return -1;
    a->bounce_base = f;
    a->bounce_frames = n;
    return 0;
}

struct hal_adapter *hal_adapter_create(struct hal *hal, const DEVICE_DESCRIPTION *d,
                                       const char **why)
{
    struct machine *m = hal->machine;
    unsigned shift = m->page_shift;
    const char *bad = refuse(d);
    if (bad) {
        *why = bad;
        return NULL;
    }
    struct hal_adapter *a = calloc(1, sizeof(*a));
    if (!a) {
        *why = "host memory exhausted";
        return NULL;
    }
    a->magic = hal_adapter_magic;
    a->hal = hal;
    a->id = hal->next_id++ & 0xFFF;
    if (!a->id)
        a->id = hal->next_id++ & 0xFFF;
    a->desc_version = d->Version;
    a->master = d->Master;
    a->ignore_count = d->Version >= 1 && d->IgnoreCount;
    a->auto_init = d->AutoInitialize;
    a->demand_mode = d->DemandMode;
    a->channel = d->Master ? -1 : (int)d->DmaChannel;
    a->width = hal_desc_width(d);
    a->max_length = d->MaximumLength;
    a->alignment = 1;
    a->nregs = reg_count(hal, d, shift);
    a->bounce_base = UINT64_MAX;
    a->lim.page_shift = shift;
    a->lim.reach_frames = a->width >= 64 ? UINT64_MAX : (1ULL << a->width) >> shift;
    a->lim.scatter_gather = d->Master && d->ScatterGather;
    /* Boundary: none by default. The 4 GiB line of spec/dma.md 3 cannot be
     * crossed by a <= 32-bit device anyway (it cannot reach past it). */
    a->lim.boundary = 0;
    a->lim.block = d->Master ? 0 : (d->DmaChannel < 4 ? 64u << 10 : 128u << 10);
    a->lim.bounce_all = hal->double_buffer;
    /* logical-offset: a bijection that keeps every address inside the
     * device's width and moves it off its physical value (bit 40 for wide
     * devices: above any RAM; the top bit of narrower ones). System DMA
     * stays 1:1: the 8237 emits physical addresses. */
    if (hal->logical_offset && d->Master)
        a->lim.logical_xor = 1ULL << (a->width > 40 ? 40 : a->width - 1);
    a->pub.Version = 1;
    a->pub.Size = sizeof(DMA_ADAPTER);
    if (hal_mapreg_init(&a->regs, a->nregs)) {
        free(a);
        *why = "host memory exhausted";
        return NULL;
    }
    bool full_reach = a->lim.reach_frames >= (ram_top(m) >> shift);
    bool may_bounce = !a->master || !full_reach || !a->lim.scatter_gather || a->lim.bounce_all;
    if (may_bounce && bounce_area(a)) {
        hal_mapreg_fini(&a->regs);
        free(a);
        *why = "no frames below the device's reach for bounce buffers";
        return NULL;
    }
    a->next = hal->adapters;
    hal->adapters = a;
    return a;
}

void hal_adapter_destroy(struct hal_adapter *a)
{
    struct hal *hal = a->hal;
    for (struct hal_adapter **pp = &hal->adapters; *pp; pp = &(*pp)->next)
        if (*pp == a) {
            *pp = a->next;
            break;
        }
    if (a->channel >= 0 && hal->channel_owner[a->channel] == a)
        hal->channel_owner[a->channel] = NULL;
    while (a->commons) {
        struct hal_common_buffer *c = a->commons;
        a->commons = c->next;
        free(c); /* frames and VA belong to the machine being torn down */
    }
    while (a->chan_head) {
        struct hal_chan_req *r = a->chan_head;
        a->chan_head = r->next;
        free(r);
    }
    free(a->chan_active);
    for (uint64_t i = 0; i < a->bounce_frames; i++)
        pfn_free(&hal->machine->pfn, a->bounce_base + i);
    hal_mapreg_fini(&a->regs);
    a->magic = 0;
    free(a);
}

void hal_adapter_bind(struct hal_adapter *a, struct wdmsim_dev *dev)
{
    a->dev = dev;
}

struct hal_adapter *hal_adapter_of_dev(struct hal *hal, const struct wdmsim_dev *dev)
{
    for (struct hal_adapter *a = hal->adapters; a; a = a->next)
        if (a->dev == dev && !a->dead)
            return a;
    return NULL;
}

struct hal_adapter *hal_adapter_by_id(struct hal *hal, unsigned id)
{
    for (struct hal_adapter *a = hal->adapters; a; a = a->next)
        if (a->id == id)
            return a;
    return NULL;
}
