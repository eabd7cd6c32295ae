/*
 * devices/piofifo.c - PIO-1, the PCI programmed-I/O loopback FIFO.
 *
 * Models: devices/piofifo.md: one byte FIFO (fifo_depth) reached through
 * BAR0 (16 I/O ports) and BAR1 (4 KiB MMIO: registers and a 2 KiB data
 * window); threshold, overflow and underflow events latch in ISR; INTA# is
 * asserted while ISR & IEN is non-zero. No DMA: the model never touches
 * memory.
 * Spec: devices/piofifo.md 1-8, devices/README.md 2, 5, 6, 8.
 * Invariants: level <= depth; the line follows (isr & ien) after every
 * access; a driver-written value never breaks the model (reports instead).
 * Not modelled: io_cost_ns / mmio_cost_ns are accepted and range-checked
 * but do not yet advance the virtual clock (they change timing only).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wdmsim/device.h>

#include "piofifo.h"

enum {
    pio_id = 0x00045744,
    pio_version = 0x00010000,
    /* STATUS bits */
    pio_st_empty = 1u << 0,
    pio_st_full = 1u << 1,
    pio_st_above = 1u << 2,
    pio_st_ovf = 1u << 3,
    pio_st_unf = 1u << 4,
    /* CTRL bits */
    pio_ctrl_flush = 1u << 0,
    pio_ctrl_clrerr = 1u << 1,
    pio_ctrl_reset = 1u << 7,
    pio_ctrl_valid = pio_ctrl_flush | pio_ctrl_clrerr | pio_ctrl_reset,
    /* IEN / ISR bits */
    pio_int_up = 1u << 0,
    pio_int_down = 1u << 1,
    pio_int_ovf = 1u << 2,
    pio_int_unf = 1u << 3,
    pio_int_valid = 0xF,
    /* BAR1 layout */
    pio_window = 0x800,
    pio_bar0 = 0,
    pio_bar1 = 1,
    pio_max_inject = 32,
};

/* Register identities shared by both BARs. */
enum pio_reg {
    pio_reg_none,
    pio_reg_id,
    pio_reg_version,
    pio_reg_depth,
    pio_reg_level,
    pio_reg_status,
    pio_reg_ctrl,
    pio_reg_thresh,
    pio_reg_ien,
    pio_reg_isr,
    pio_reg_ovfcnt,
    pio_reg_unfcnt,
    pio_reg_data,
};

enum pio_acc { pio_ro, pio_rw, pio_w1, pio_rw1c };

/* The register maps as tables (STYLE.md): offset, width, access, name. */
struct pio_regdef {
    uint32_t offset;
    unsigned width; /* exact width; data accepts several, see below */
    enum pio_acc acc;
    enum pio_reg reg;
    const char *name;
};

static const struct pio_regdef bar1_regs[] = {
    {0x000, 4, pio_ro, pio_reg_id, "ID"},         {0x004, 4, pio_ro, pio_reg_version, "VERSION"},
    {0x008, 4, pio_ro, pio_reg_depth, "DEPTH"},   {0x00C, 4, pio_ro, pio_reg_level, "LEVEL"},
    {0x010, 4, pio_ro, pio_reg_status, "STATUS"}, {0x014, 4, pio_w1, pio_reg_ctrl, "CTRL"},
    {0x018, 4, pio_rw, pio_reg_thresh, "THRESH"}, {0x01C, 4, pio_rw, pio_reg_ien, "IEN"},
    {0x020, 4, pio_rw1c, pio_reg_isr, "ISR"},     {0x024, 4, pio_ro, pio_reg_ovfcnt, "OVFCNT"},
    {0x028, 4, pio_ro, pio_reg_unfcnt, "UNFCNT"},
};

static const struct pio_regdef bar0_regs[] = {
    {0x0, 0, pio_rw, pio_reg_data, "DATA"}, /* width 1, 2 or 4 */
    {0x4, 1, pio_ro, pio_reg_status, "STATUS"}, {0x5, 1, pio_w1, pio_reg_ctrl, "CTRL"},
    {0x6, 1, pio_rw, pio_reg_ien, "IEN"},       {0x7, 1, pio_rw1c, pio_reg_isr, "ISR"},
    {0x8, 4, pio_ro, pio_reg_level, "LEVEL"},   {0xC, 4, pio_rw, pio_reg_thresh, "THRESH"},
};

struct pio_inject {
    uint64_t when;
    uint32_t bytes;
};

struct piofifo {
    wdmsim_dev *dev;
    uint32_t depth;
    uint8_t *fifo; /* ring of depth bytes */
    uint32_t head; /* index of the oldest byte */
    uint32_t level;
    uint32_t sticky; /* STATUS.OVF | STATUS.UNF */
    uint32_t thresh, ien, isr, ovfcnt, unfcnt;
    bool line; /* INTA# as last driven */
    uint64_t io_cost_ns, mmio_cost_ns;
    struct pio_inject inject[pio_max_inject];
    unsigned ninject;
    struct piofifo_stats stats;
};

static const char *const piofifo_knobs[] = {"fifo_depth", "io_cost_ns", "mmio_cost_ns",
                                            "inject_push", NULL};

/* ---- FIFO core -------------------------------------------------------------- */

static void update_line(struct piofifo *p)
{
    bool want = (p->isr & p->ien) != 0;
    if (want && !p->line)
        p->stats.irq_edges++;
    p->line = want;
    wdmsim_dev_irq(p->dev, want);
}

static void threshold(struct piofifo *p, uint32_t l0, uint32_t l1)
{
    uint32_t t = p->thresh;
    if (t == 0 || t > p->depth)
        return;
    if (l0 < t && t <= l1)
        p->isr |= pio_int_up;
    if (l1 < t && t <= l0)
        p->isr |= pio_int_down;
}

static void push(struct piofifo *p, enum piofifo_path path, uint64_t value, unsigned w)
{
    uint32_t l0 = p->level, dropped = 0;
    for (unsigned i = 0; i < w; i++) {
        if (p->level == p->depth) {
            dropped++;
            continue;
        }
        p->fifo[(p->head + p->level) % p->depth] = (uint8_t)(value >> (8 * i));
        p->level++;
    }
    p->stats.pushed[path] += w - dropped;
    if (dropped) {
        p->ovfcnt += dropped;
        p->stats.ovf_total += dropped;
        p->sticky |= pio_st_ovf;
        p->isr |= pio_int_ovf;
        wdmsim_dev_report(p->dev, WDMSIM_REPORT_VIOLATION, "OVERFLOW",
                          "[dropped %u bytes, LEVEL %u, %u-byte push]", dropped, p->level, w);
    }
    if (p->level > p->stats.max_level)
        p->stats.max_level = p->level;
    threshold(p, l0, p->level);
    update_line(p);
}

static uint64_t pop(struct piofifo *p, enum piofifo_path path, unsigned w)
{
    uint32_t l0 = p->level, missing = 0;
    uint64_t v = 0;
    for (unsigned i = 0; i < w; i++) {
        uint8_t b = 0xFF;
        if (p->level) {
            b = p->fifo[p->head];
            p->head = (p->head + 1) % p->depth;
            p->level--;
        } else {
            missing++;
        }
        v |= (uint64_t)b << (8 * i);
    }
    p->stats.popped[path] += w - missing;
    if (missing) {
        p->unfcnt += missing;
        p->stats.unf_total += missing;
        p->sticky |= pio_st_unf;
        p->isr |= pio_int_unf;
        wdmsim_dev_report(p->dev, WDMSIM_REPORT_VIOLATION, "UNDERFLOW",
                          "[missing %u bytes, LEVEL %u, %u-byte pop]", missing, l0, w);
    }
    threshold(p, l0, p->level);
    update_line(p);
    return v;
}

static uint32_t status(const struct piofifo *p)
{
    uint32_t s = p->sticky;
    if (p->level == 0)
        s |= pio_st_empty;
    if (p->level == p->depth)
        s |= pio_st_full;
    if (p->thresh && p->level >= p->thresh)
        s |= pio_st_above;
    return s;
}

static void piofifo_reset(void *state)
{
    struct piofifo *p = state;
    p->head = p->level = 0;
    p->sticky = p->thresh = p->ien = p->isr = p->ovfcnt = p->unfcnt = 0;
    p->line = false;
    wdmsim_dev_irq(p->dev, false);
}

static void ctrl(struct piofifo *p, uint32_t v, uint32_t valid_mask)
{
    if (v & ~valid_mask)
        wdmsim_dev_report(p->dev, WDMSIM_REPORT_VIOLATION, "RESERVED",
                          "[CTRL written %#x, reserved bits %#x]", v, v & ~valid_mask);
    if (v & pio_ctrl_reset) {
        piofifo_reset(p);
        return;
    }
    if (v & pio_ctrl_clrerr) {
        p->sticky = 0;
        p->ovfcnt = p->unfcnt = 0;
    }
    if (v & pio_ctrl_flush) {
        uint32_t l0 = p->level;
        p->head = p->level = 0;
        threshold(p, l0, 0);
        update_line(p);
    }
}

static uint32_t reg_read(struct piofifo *p, enum pio_reg r)
{
    switch (r) {
    case pio_reg_id:
        return pio_id;
    case pio_reg_version:
        return pio_version;
    case pio_reg_depth:
        return p->depth;
    case pio_reg_level:
        return p->level;
    case pio_reg_status:
        return status(p);
    case pio_reg_thresh:
        return p->thresh;
    case pio_reg_ien:
        return p->ien;
    case pio_reg_isr:
        return p->isr;
    case pio_reg_ovfcnt:
        return p->ovfcnt;
    case pio_reg_unfcnt:
        return p->unfcnt;
    default:
        return 0; /* CTRL (W1) and unlisted offsets read 0 */
    }
}

static void reg_write(struct piofifo *p, const struct pio_regdef *d, uint32_t v)
{
    switch (d->reg) {
    case pio_reg_ctrl:
        ctrl(p, v, pio_ctrl_valid);
        break;
    case pio_reg_thresh:
        if (v > p->depth)
            wdmsim_dev_report(p->dev, WDMSIM_REPORT_VIOLATION, "THRESH_RANGE",
                              "[THRESH %u > DEPTH %u, stored anyway]", v, p->depth);
        p->thresh = v;
        break;
    case pio_reg_ien:
    case pio_reg_isr:
        if (v & ~(uint32_t)pio_int_valid)
            wdmsim_dev_report(p->dev, WDMSIM_REPORT_VIOLATION, "RESERVED",
                              "[%s written %#x, reserved bits %#x]", d->name, v,
                              v & ~(uint32_t)pio_int_valid);
        if (d->reg == pio_reg_ien)
            p->ien = v & pio_int_valid;
        else
            p->isr &= ~(v & pio_int_valid);
        update_line(p);
        break;
    default:
        break;
    }
}

static const struct pio_regdef *find_reg(const struct pio_regdef *t, size_t n, uint64_t off)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].offset == off)
            return &t[i];
    return NULL;
}

static unsigned width_index(unsigned w)
{
    return w == 1 ? 0 : w == 2 ? 1 : w == 4 ? 2 : 3;
}

static void bad_access(struct piofifo *p, unsigned bar, uint64_t off, unsigned w, bool write,
                       const char *why)
{
    wdmsim_dev_report(p->dev, WDMSIM_REPORT_VIOLATION, "BAD_ACCESS",
                      "[%s BAR%u +%#llx, %u bytes: %s]", write ? "write" : "read", bar,
                      (unsigned long long)off, w, why);
}

/* One access to either BAR; value in/out. Returns the value read. */
static uint64_t do_access(struct piofifo *p, unsigned bar, uint64_t off, unsigned w, bool write,
                          uint64_t value)
{
    enum piofifo_path path = bar == pio_bar0 ? piofifo_path_port : piofifo_path_mmio;
    uint64_t all = w >= 8 ? ~0ULL : (1ULL << (8 * w)) - 1;
    p->stats.accesses[path][width_index(w)]++;
    const struct pio_regdef *d;
    bool data;
    if (bar == pio_bar1) {
        data = off >= pio_window;
        if (data && (off % w || (w != 1 && w != 2 && w != 4 && w != 8))) {
            bad_access(p, bar, off, w, write, "data window needs a naturally aligned access");
            return all;
        }
        d = data ? NULL : find_reg(bar1_regs, sizeof(bar1_regs) / sizeof(bar1_regs[0]), off);
        if (!data && (w != 4 || off % 4)) {
            bad_access(p, bar, off, w, write, "registers take aligned 32-bit accesses only");
            return all;
        }
    } else {
        d = find_reg(bar0_regs, sizeof(bar0_regs) / sizeof(bar0_regs[0]), off);
        data = d && d->reg == pio_reg_data;
        if (data && w != 1 && w != 2 && w != 4) {
            bad_access(p, bar, off, w, write, "DATA takes 8, 16 or 32-bit accesses");
            return all;
        }
        if (d && !data && d->width != w) {
            bad_access(p, bar, off, w, write, "wrong width for this port");
            return all;
        }
    }
    if (data) {
        if (write) {
            push(p, path, value, w);
            return 0;
        }
        return pop(p, path, w);
    }
    if (!d) {
        if (write)
            bad_access(p, bar, off, w, write, "no register at this offset");
        return 0;
    }
    if (!write)
        return reg_read(p, d->reg);
    if (d->acc == pio_ro) {
        bad_access(p, bar, off, w, write, "register is read-only");
        return 0;
    }
    reg_write(p, d, (uint32_t)value);
    return 0;
}

static uint64_t piofifo_read(void *state, unsigned region, uint64_t offset, unsigned width)
{
    return do_access(state, region, offset, width, false, 0);
}

static void piofifo_write(void *state, unsigned region, uint64_t offset, unsigned width,
                          uint64_t value)
{
    do_access(state, region, offset, width, true, value);
}

/* ---- lifecycle ---------------------------------------------------------------- */

static void piofifo_create(void *state, wdmsim_dev *dev)
{
    struct piofifo *p = state;
    p->dev = dev;
    p->depth = 4096;
}

struct inject_ev {
    struct piofifo *p;
    unsigned index;
};

static void inject_fire(void *arg)
{
    struct piofifo *p = arg;
    uint64_t now = wdmsim_dev_now(p->dev);
    for (unsigned i = 0; i < p->ninject; i++) {
        if (p->inject[i].when != now || !p->inject[i].bytes)
            continue;
        uint32_t n = p->inject[i].bytes;
        p->inject[i].bytes = 0; /* fired */
        for (uint32_t k = 0; k < n; k++)
            push(p, piofifo_path_host, wdmsim_dev_random(p->dev) & 0xFF, 1);
        wdmsim_dev_report(p->dev, WDMSIM_REPORT_EVENT, "INJECTED", "[%u bytes, LEVEL %u]", n,
                          p->level);
    }
}

/* inject_push = "TIME:BYTES, TIME:BYTES ..." (virtual ns, byte count). */
static int parse_inject(struct piofifo *p, const char *text, char *err, size_t errlen)
{
    const char *s = text;
    while (*s) {
        while (*s == ' ' || *s == ',' || *s == '(' || *s == ')')
            s++;
        if (!*s)
            break;
        char *end;
        unsigned long long t = strtoull(s, &end, 0);
        if (end == s || (*end != ':' && *end != ' ') || p->ninject == pio_max_inject)
            goto bad;
        s = end + 1;
        unsigned long long n = strtoull(s, &end, 0);
        if (end == s || n == 0 || n > 65536)
            goto bad;
        s = end;
        p->inject[p->ninject++] = (struct pio_inject){t, (uint32_t)n};
    }
    return 0;
bad:
    snprintf(err, errlen,
             "device '%s': inject_push = %s: expected up to %d TIME:BYTES pairs (BYTES 1..65536)",
             wdmsim_dev_name(p->dev), text, pio_max_inject);
    return -1;
}

static int piofifo_realize(void *state, wdmsim_dev *dev, char *err, size_t errlen)
{
    struct piofifo *p = state;
    uint64_t v;
    if (wdmsim_dev_knob_u64(dev, "fifo_depth", 4096, 1, 65536, &v, err, errlen))
        return -1;
    p->depth = (uint32_t)v;
    if (wdmsim_dev_knob_u64(dev, "io_cost_ns", 0, 0, 1000000, &p->io_cost_ns, err, errlen) ||
        wdmsim_dev_knob_u64(dev, "mmio_cost_ns", 0, 0, 1000000, &p->mmio_cost_ns, err, errlen))
        return -1;
    const char *inj = wdmsim_dev_knob(dev, "inject_push");
    if (inj && parse_inject(p, inj, err, errlen))
        return -1;
    p->fifo = calloc(p->depth, 1);
    if (!p->fifo) {
        snprintf(err, errlen, "device '%s': out of host memory for the FIFO", wdmsim_dev_name(dev));
        return -1;
    }
    for (unsigned i = 0; i < p->ninject; i++)
        wdmsim_dev_schedule(dev, p->inject[i].when, inject_fire, p);
    return 0;
}

static void piofifo_destroy(void *state)
{
    struct piofifo *p = state;
    free(p->fifo);
    p->fifo = NULL;
}

const struct wdmsim_device_model wdmsim_model_piofifo = {
    .name = "piofifo",
    .prefix = "PIO",
    .bus = WDMSIM_BUS_PCI,
    .vendor_id = 0x5744,
    .device_id = 0x0004,
    .revision = 0x01,
    .class_code = {0x00, 0x00, 0xFF},
    .bar = {[0] = {WDMSIM_BAR_IO, 16}, [1] = {WDMSIM_BAR_MEM32, 4096}},
    .isa_irq = -1,
    .isa_dma = -1,
    .knobs = piofifo_knobs,
    .state_size = sizeof(struct piofifo),
    .create = piofifo_create,
    .realize = piofifo_realize,
    .reset = piofifo_reset,
    .destroy = piofifo_destroy,
    .read = piofifo_read,
    .write = piofifo_write,
};

/* ---- test hooks ---------------------------------------------------------------- */

size_t piofifo_contents(wdmsim_dev *dev, uint8_t *buf, size_t max)
{
    struct piofifo *p = wdmsim_dev_state(dev);
    for (size_t i = 0; i < p->level && i < max; i++)
        buf[i] = p->fifo[(p->head + i) % p->depth];
    return p->level;
}

void piofifo_get_stats(wdmsim_dev *dev, struct piofifo_stats *out)
{
    struct piofifo *p = wdmsim_dev_state(dev);
    *out = p->stats;
    out->level = p->level;
}

void piofifo_host_push(wdmsim_dev *dev, const uint8_t *bytes, size_t n)
{
    struct piofifo *p = wdmsim_dev_state(dev);
    for (size_t i = 0; i < n; i++)
        push(p, piofifo_path_host, bytes[i], 1);
}

size_t piofifo_host_pop(wdmsim_dev *dev, uint8_t *bytes, size_t n)
{
    struct piofifo *p = wdmsim_dev_state(dev);
    size_t got = n < p->level ? n : p->level;
    for (size_t i = 0; i < got; i++)
        bytes[i] = (uint8_t)pop(p, piofifo_path_host, 1);
    return got;
}
