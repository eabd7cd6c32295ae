/*
 * src/machine/bus.c - the PC's I/O and memory buses: who owns which port
 * and which physical address, and routing a processor's access there.
 *
 * Models: devices/README.md 2-4: PCI BARs (I/O and 32-bit memory) placed by
 * the machine unless the config pins them (barN = ADDRESS), ISA port ranges
 * from the model's default or the config (port = BASE); IRQ lines (PCI:
 * level, shareable; ISA: edge, exclusive); DMA channels (ISA).
 * Fixed decoders come first: the 8237 pair's ports (spec/i8237.md 2).
 * Config checks (input errors naming file:line): overlapping port or memory
 * ranges, a BAR that is misaligned, beyond 4 GiB or on RAM, an IRQ or DMA
 * channel out of range or shared where it cannot be.
 * Not modelled: bus numbers other than 0, bridges, 64-bit BARs, ISA aliasing
 * (10-bit decode), prefetchable memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "machine/device_impl.h"

enum {
    bus_io_pci_first = 0xC000, /* where PCI I/O BARs go */
    bus_io_limit = 0x10000,
    bus_pci_irq_first = 16, /* PCI INTx lines as an I/O APIC routes them */
    bus_pci_irq_count = 8,
};
#define BUS_MEM_PCI_FIRST 0xE0000000ULL /* where PCI memory BARs go */
#define BUS_MEM_LIMIT     0x100000000ULL

static const char *cfg_where(const struct machine *m)
{
    return m->cfg.path[0] ? m->cfg.path : "(machine config)";
}

static int knob_line(const struct wdmsim_dev *d, const char *key)
{
    for (unsigned k = 0; k < d->cfg->nknobs; k++)
        if (!strcmp(d->cfg->knobs[k].key, key))
            return d->cfg->knobs[k].line;
    return d->cfg->line;
}

static int knob_addr(struct machine *m, const struct wdmsim_dev *d, const char *key, bool *set,
                     uint64_t *out, struct machine_error *err)
{
    const char *v = wdmsim_dev_knob(d, key);
    *set = v != NULL;
    if (!v)
        return 0;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 0);
    if (errno || end == v || *end || *v == '-') {
        machine_error_set(err, "%s:%d: device '%s': %s = %s: expected a number", cfg_where(m),
                          knob_line(d, key), d->cfg->name, key, v);
        return -1;
    }
    *out = x;
    return 0;
}

/* One claimed range, for the overlap checks. */
struct claim {
    const struct wdmsim_dev *dev;
    bool io;
    uint64_t start, end;
    const char *what;
};

static bool overlaps_ram(const struct machine *m, uint64_t s, uint64_t e)
{
    for (unsigned i = 0; i < m->cfg.nranges; i++)
        if (s < m->cfg.ranges[i].end && m->cfg.ranges[i].start < e)
            return true;
    return false;
}

static const struct claim *find_overlap(const struct claim *c, unsigned n, bool io, uint64_t s,
                                        uint64_t e)
{
    for (unsigned i = 0; i < n; i++)
        if (c[i].io == io && s < c[i].end && c[i].start < e)
            return &c[i];
    return NULL;
}

static int claim_range(struct machine *m, struct claim *claims, unsigned *n,
                       const struct wdmsim_dev *d, const char *key, bool io, uint64_t s,
                       uint64_t len, struct machine_error *err)
{
    const struct claim *o = find_overlap(claims, *n, io, s, s + len);
    if (o) {
        machine_error_set(err,
                          "%s:%d: device '%s': %s %s %#llx-%#llx overlaps device '%s' (%s "
                          "%#llx-%#llx)",
                          cfg_where(m), knob_line(d, key), d->cfg->name, key,
                          io ? "ports" : "memory", (unsigned long long)s,
                          (unsigned long long)(s + len - 1), o->dev->cfg->name, o->what,
                          (unsigned long long)o->start, (unsigned long long)(o->end - 1));
        return -1;
    }
    claims[(*n)++] = (struct claim){d, io, s, s + len, key};
    return 0;
}

/* Places or checks one PCI BAR. */
static int assign_bar(struct machine *m, struct wdmsim_dev *d, unsigned b, struct claim *claims,
                      unsigned *n, struct machine_error *err)
{
    const struct wdmsim_bar *bar = &d->model->bar[b];
    char key[8];
    snprintf(key, sizeof(key), "bar%u", b);
    bool io = bar->kind == WDMSIM_BAR_IO;
    uint64_t size = bar->size, limit = io ? bus_io_limit : BUS_MEM_LIMIT;
    bool set;
    uint64_t base;
    if (knob_addr(m, d, key, &set, &base, err))
        return -1;
    if (set) {
        const char *why = NULL;
        if (base & (size - 1))
            why = "is not aligned to the BAR size";
        else if (base + size > limit || base + size < base)
            why = io ? "does not fit below port 0x10000" : "does not fit below 4 GiB";
        else if (!io && overlaps_ram(m, base, base + size))
            why = "lies on RAM";
        else if (base == 0)
            why = "is 0 (unassigned)";
        if (why) {
            machine_error_set(err,
                              "%s:%d: device '%s': %s = %#llx: a %llu-byte %s BAR at this address "
                              "%s",
                              cfg_where(m), knob_line(d, key), d->cfg->name, key,
                              (unsigned long long)base, (unsigned long long)size,
                              io ? "I/O" : "memory", why);
            return -1;
        }
    } else {
        /* First free aligned slot from the PCI window up. */
        base = io ? bus_io_pci_first : BUS_MEM_PCI_FIRST;
        while (base + size <= limit && (find_overlap(claims, *n, io, base, base + size) ||
                                        (!io && overlaps_ram(m, base, base + size))))
            base += size;
        if (base + size > limit) {
            machine_error_set(err, "%s:%d: device '%s': no room for %s (%llu-byte %s BAR)",
                              cfg_where(m), d->cfg->line, d->cfg->name, key,
                              (unsigned long long)size, io ? "I/O" : "memory");
            return -1;
        }
    }
    if (claim_range(m, claims, n, d, key, io, base, size, err))
        return -1;
    d->bar_base[b] = base;
    d->bar_reg[b] = (uint32_t)base | (io ? 1u : 0u);
    return 0;
}

static int assign_line(struct machine *m, struct wdmsim_dev *d, struct machine_error *err)
{
    bool set;
    uint64_t v;
    if (knob_addr(m, d, "irq", &set, &v, err))
        return -1;
    bool isa = d->model->bus == WDMSIM_BUS_ISA;
    if (!set) {
        if (isa && d->model->isa_irq < 0)
            return 0;
        v = isa ? (uint64_t)d->model->isa_irq : bus_pci_irq_first + d->pci_slot % bus_pci_irq_count;
    }
    if (v >= intc_max_lines || (isa && v >= 16) || v == 0 || v == 2) {
        machine_error_set(err, "%s:%d: device '%s': irq = %llu: must be %s", cfg_where(m),
                          knob_line(d, "irq"), d->cfg->name, (unsigned long long)v,
                          isa ? "an ISA IRQ 1 or 3..15" : "a line from 1 to 63 (not 2)");
        return -1;
    }
    /* Edge lines cannot be shared, and a line is either edge or level. */
    for (unsigned i = 0; i < m->devices->count; i++) {
        struct wdmsim_dev *o = &m->devices->dev[i];
        if (o == d || o->irq != (int)v)
            continue;
        if (isa || o->model->bus == WDMSIM_BUS_ISA) {
            machine_error_set(err,
                              "%s:%d: device '%s': irq %llu is already device '%s''s; an ISA "
                              "(edge) interrupt cannot be shared",
                              cfg_where(m), knob_line(d, "irq"), d->cfg->name,
                              (unsigned long long)v, o->cfg->name);
            return -1;
        }
    }
    d->irq = (int)v;
    intc_configure(&m->intc, (unsigned)v, isa);
    return 0;
}

static int assign_dma(struct machine *m, struct wdmsim_dev *d, struct machine_error *err)
{
    bool set;
    uint64_t v;
    if (knob_addr(m, d, "dma", &set, &v, err))
        return -1;
    if (!set) {
        if (d->model->isa_dma < 0)
            return 0;
        v = (uint64_t)d->model->isa_dma;
    }
    if (v > 7 || v == 4) {
        machine_error_set(err, "%s:%d: device '%s': dma = %llu: must be a channel 0-3 or 5-7",
                          cfg_where(m), knob_line(d, "dma"), d->cfg->name, (unsigned long long)v);
        return -1;
    }
    for (unsigned i = 0; i < m->devices->count; i++) {
        struct wdmsim_dev *o = &m->devices->dev[i];
        if (o != d && o->dma == (int)v) {
            machine_error_set(err, "%s:%d: device '%s': DMA channel %llu is already device '%s''s",
                              cfg_where(m), knob_line(d, "dma"), d->cfg->name,
                              (unsigned long long)v, o->cfg->name);
            return -1;
        }
    }
    d->dma = (int)v;
    return 0;
}

int bus_assign(struct machine *m, struct machine_error *err)
{
    struct machine_devices *ds = m->devices;
    struct claim *claims = calloc(machine_max_devices * (WDMSIM_MAX_BARS + 1), sizeof(*claims));
    unsigned n = 0, slot = 0;
    int rc = -1;
    if (!claims) {
        machine_error_set(err, "out of host memory assigning device resources");
        return -1;
    }
    /* Pinned resources first, so that automatic placement avoids them. */
    for (int pass = 0; pass < 2; pass++) {
        for (unsigned i = 0; i < ds->count; i++) {
            struct wdmsim_dev *d = &ds->dev[i];
            if (d->model->bus == WDMSIM_BUS_ISA) {
                bool set;
                uint64_t base;
                if (knob_addr(m, d, "port", &set, &base, err))
                    goto out;
                if (set != (pass == 0))
                    continue;
                if (!set)
                    base = d->model->isa_port_base;
                if (base + d->model->isa_ports > 0x400 || base < 0x100) {
                    machine_error_set(err,
                                      "%s:%d: device '%s': port = %#llx: an ISA range of %u "
                                      "ports must lie in 0x100-0x3FF",
                                      cfg_where(m), knob_line(d, "port"), d->cfg->name,
                                      (unsigned long long)base, d->model->isa_ports);
                    goto out;
                }
                if (claim_range(m, claims, &n, d, "port", true, base, d->model->isa_ports, err))
                    goto out;
                d->isa_port_base = (uint32_t)base;
                continue;
            }
            if (pass == 0)
                d->pci_slot = slot++;
            for (unsigned b = 0; b < WDMSIM_MAX_BARS; b++) {
                char key[8];
                snprintf(key, sizeof(key), "bar%u", b);
                if (d->model->bar[b].kind == WDMSIM_BAR_NONE)
                    continue;
                if ((wdmsim_dev_knob(d, key) != NULL) != (pass == 0))
                    continue;
                if (assign_bar(m, d, b, claims, &n, err))
                    goto out;
            }
        }
    }
    for (unsigned i = 0; i < ds->count; i++) {
        struct wdmsim_dev *d = &ds->dev[i];
        for (unsigned b = 0; b < WDMSIM_MAX_BARS; b++) {
            char key[8];
            snprintf(key, sizeof(key), "bar%u", b);
            if (d->model->bar[b].kind == WDMSIM_BAR_NONE && wdmsim_dev_knob(d, key)) {
                machine_error_set(err, "%s:%d: device '%s': model %s has no %s", cfg_where(m),
                                  knob_line(d, key), d->cfg->name, d->model->name, key);
                goto out;
            }
        }
        if (assign_line(m, d, err))
            goto out;
        if (d->model->bus == WDMSIM_BUS_ISA && assign_dma(m, d, err))
            goto out;
    }
    rc = 0;
out:
    free(claims);
    return rc;
}

/* ---- resources for PnP ---------------------------------------------------------- */

bool machine_device_is_pci(const struct wdmsim_dev *dev)
{
    return dev->model->bus == WDMSIM_BUS_PCI;
}

unsigned machine_device_pci_slot(const struct wdmsim_dev *dev)
{
    return dev->pci_slot;
}

unsigned machine_device_resources(const struct wdmsim_dev *d, struct machine_resource *out)
{
    unsigned n = 0;
    if (d->model->bus == WDMSIM_BUS_ISA) {
        out[n++] = (struct machine_resource){machine_res_port, d->isa_port_base,
                                             d->model->isa_ports, false};
    } else {
        for (unsigned b = 0; b < WDMSIM_MAX_BARS; b++) {
            const struct wdmsim_bar *bar = &d->model->bar[b];
            if (bar->kind == WDMSIM_BAR_NONE)
                continue;
            out[n++] = (struct machine_resource){bar->kind == WDMSIM_BAR_IO ? machine_res_port
                                                                            : machine_res_memory,
                                                 d->bar_base[b], bar->size, false};
        }
    }
    if (d->irq >= 0)
        out[n++] = (struct machine_resource){machine_res_irq, (uint64_t)d->irq, 0,
                                             d->model->bus == WDMSIM_BUS_ISA};
    if (d->dma >= 0)
        out[n++] = (struct machine_resource){machine_res_dma, (uint64_t)d->dma, 0, false};
    return n;
}

/* ---- routing ------------------------------------------------------------------------ */

/* The instance and region decoding (io, addr); false when none does. A PCI
 * BAR whose Command decode bit is clear still "claims" the address so the
 * model can report <DEV>_DECODE_DISABLED. */
static struct wdmsim_dev *decode(struct machine *m, bool io, uint64_t addr, unsigned *region,
                                 uint64_t *offset)
{
    struct machine_devices *ds = m->devices;
    for (unsigned i = 0; ds && i < ds->count; i++) {
        struct wdmsim_dev *d = &ds->dev[i];
        if (d->model->bus == WDMSIM_BUS_ISA) {
            if (io && addr >= d->isa_port_base && addr < d->isa_port_base + d->model->isa_ports) {
                *region = 0;
                *offset = addr - d->isa_port_base;
                return d;
            }
            continue;
        }
        for (unsigned b = 0; b < WDMSIM_MAX_BARS; b++) {
            const struct wdmsim_bar *bar = &d->model->bar[b];
            if (bar->kind == WDMSIM_BAR_NONE || (bar->kind == WDMSIM_BAR_IO) != io)
                continue;
            if (addr >= d->bar_base[b] && addr < d->bar_base[b] + bar->size) {
                *region = b;
                *offset = addr - d->bar_base[b];
                return d;
            }
        }
    }
    return NULL;
}

static bool decode_enabled(struct wdmsim_dev *d, bool io)
{
    if (d->model->bus == WDMSIM_BUS_ISA)
        return true;
    return d->command & (io ? pci_cmd_io : pci_cmd_memory);
}

static uint64_t ones(unsigned width)
{
    return width >= 8 ? ~0ULL : (1ULL << (8 * width)) - 1;
}

/* Fixed decoders: motherboard chips at fixed ports, ahead of the devices.
 * The 8237 pair answers byte accesses to its ports (0x00-0x0F, 0x81-0x8F,
 * 0xC0-0xDF, EISA 0x48x); it has an 8-bit data bus, so a wider access there
 * is not decoded and ends as an unclaimed port. Returns true if served. */
static bool fixed_port(struct machine *m, uint64_t port, unsigned width, bool write,
                       uint64_t *value)
{
    if (width != 1 || port >= bus_io_limit || !i8237_decodes(&m->dma, (uint16_t)port))
        return false;
    uint8_t v = (uint8_t)*value;
    if (write)
        i8237_port_write(&m->dma, (uint16_t)port, v);
    else if (i8237_port_read(&m->dma, (uint16_t)port, &v))
        *value = v;
    return true;
}

static int access(struct machine *m, bool io, uint64_t addr, unsigned width, bool write,
                  uint64_t *value)
{
    unsigned region;
    uint64_t off;
    if (io && fixed_port(m, addr, width, write, value))
        return 0;
    struct wdmsim_dev *d = decode(m, io, addr, &region, &off);
    if (!d) {
        if (!write)
            *value = ones(width);
        return -1;
    }
    if (!decode_enabled(d, io)) {
        wdmsim_dev_report(d, WDMSIM_REPORT_VIOLATION, "DECODE_DISABLED",
                          "%s %s %#llx (BAR%u +%#llx, %u bytes) with Command.%s = 0",
                          write ? "write to" : "read of", io ? "port" : "address",
                          (unsigned long long)addr, region, (unsigned long long)off, width,
                          io ? "I/O Space" : "Memory Space");
        if (!write)
            *value = ones(width);
        return 0;
    }
    if (write)
        d->model->write(d->state, region, off, width, *value & ones(width));
    else
        *value = d->model->read(d->state, region, off, width) & ones(width);
    return 0;
}

int bus_port_read(struct machine *m, uint32_t port, unsigned width, uint64_t *value)
{
    return access(m, true, port, width, false, value);
}

int bus_port_write(struct machine *m, uint32_t port, unsigned width, uint64_t value)
{
    return access(m, true, port, width, true, &value);
}

int bus_mmio_read(struct machine *m, uint64_t pa, unsigned width, uint64_t *value)
{
    return access(m, false, pa, width, false, value);
}

int bus_mmio_write(struct machine *m, uint64_t pa, unsigned width, uint64_t value)
{
    return access(m, false, pa, width, true, &value);
}

bool bus_mmio_claimed(struct machine *m, uint64_t pa)
{
    unsigned region;
    uint64_t off;
    return decode(m, false, pa, &region, &off) != NULL;
}

/* ---- interrupt lines ------------------------------------------------------------------ */

void bus_update_irq(struct wdmsim_dev *d)
{
    if (d->irq < 0)
        return;
    struct machine *m = d->machine;
    bool drive =
        d->irq_level && !(d->model->bus == WDMSIM_BUS_PCI && (d->command & pci_cmd_int_disable));
    if (drive == d->irq_driven)
        return;
    d->irq_driven = drive;
    uint8_t *users = &m->devices->line_users[d->irq];
    if (drive) {
        if ((*users)++ == 0)
            intc_assert(&m->intc, (unsigned)d->irq);
    } else {
        if (--(*users) == 0)
            intc_deassert(&m->intc, (unsigned)d->irq);
    }
}
