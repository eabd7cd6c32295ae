/*
 * src/machine/device.c - device instances: creation from the config, knobs,
 * and the services a model calls (include/wdmsim/device.h).
 *
 * Models: devices/README.md 5, 8, 9: power-on equals reset; knobs by name
 * with ranges; a PRNG stream per instance derived from the machine seed and
 * the instance name, so adding a device does not perturb another; reports
 * that never stop the machine.
 * Invariants: every instance is realized and reset before any access; an
 * unknown knob or model is an input error naming file:line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "machine/device_impl.h"

static const char *where(const struct machine *m)
{
    return m->cfg.path[0] ? m->cfg.path : "(machine config)";
}

static uint64_t hash_name(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

static bool resource_knob(const struct wdmsim_device_model *model, const char *key)
{
    if (!strcmp(key, "irq"))
        return true;
    if (model->bus == WDMSIM_BUS_ISA)
        return !strcmp(key, "port") || !strcmp(key, "dma");
    return !strncmp(key, "bar", 3) && key[3] >= '0' && key[3] <= '5' && !key[4];
}

static int check_knobs(struct machine *m, const struct machine_device_config *c,
                       const struct wdmsim_device_model *model, struct machine_error *err)
{
    for (unsigned k = 0; k < c->nknobs; k++) {
        const char *key = c->knobs[k].key;
        bool ok = resource_knob(model, key);
        for (const char *const *n = model->knobs; !ok && n && *n; n++)
            ok = !strcmp(*n, key);
        if (!ok) {
            machine_error_set(err, "%s:%d: device '%s': model %s has no knob '%s'", where(m),
                              c->knobs[k].line, c->name, model->name, key);
            return -1;
        }
    }
    return 0;
}

int machine_devices_create(struct machine *m, struct machine_error *err)
{
    struct machine_devices *ds = calloc(1, sizeof(*ds));
    if (!ds) {
        machine_error_set(err, "out of host memory creating devices");
        return -1;
    }
    ds->log = stderr;
    m->devices = ds;
    for (unsigned i = 0; i < m->cfg.ndevices; i++) {
        const struct machine_device_config *c = &m->cfg.devices[i];
        const struct wdmsim_device_model *model = machine_model_find(c->model);
        if (!model) {
            char names[256];
            machine_model_names(names, sizeof(names));
            machine_error_set(err, "%s:%d: device '%s': unknown model '%s' (known: %s)", where(m),
                              c->line, c->name, c->model, names);
            goto fail;
        }
        if (check_knobs(m, c, model, err))
            goto fail;
        struct wdmsim_dev *d = &ds->dev[ds->count++];
        d->model = model;
        d->cfg = c;
        d->machine = m;
        d->index = i;
        d->irq = -1;
        d->dma = -1;
        rng_seed(&d->rng, m->seed ^ hash_name(c->name));
    }
    if (bus_assign(m, err))
        goto fail;
    for (unsigned i = 0; i < ds->count; i++) {
        struct wdmsim_dev *d = &ds->dev[i];
        d->state = calloc(1, d->model->state_size ? d->model->state_size : 1);
        if (!d->state) {
            machine_error_set(err, "out of host memory creating device '%s'", d->cfg->name);
            goto fail;
        }
        if (d->model->create)
            d->model->create(d->state, d);
        char why[400] = "";
        if (d->model->realize && d->model->realize(d->state, d, why, sizeof(why))) {
            machine_error_set(err, "%s", why);
            free(d->state); /* realize failed: nothing of its own to destroy */
            d->state = NULL;
            goto fail;
        }
        if (d->model->reset)
            d->model->reset(d->state);
    }
    /* A booted machine's 8237 moves units as virtual time passes, so slave
     * devices need not call wdmsim_dma_run themselves (spec/i8237.md 6). */
    i8237_use_clock(&m->dma, &m->clock, i8237_isa_unit_ns, 1);
    return 0;
fail:
    machine_devices_destroy(m);
    return -1;
}

void machine_devices_destroy(struct machine *m)
{
    struct machine_devices *ds = m->devices;
    if (!ds)
        return;
    for (unsigned i = 0; i < ds->count; i++) {
        struct wdmsim_dev *d = &ds->dev[i];
        if (d->state && d->model->destroy)
            d->model->destroy(d->state);
        free(d->state);
    }
    free(ds);
    m->devices = NULL;
}

unsigned machine_device_count(const struct machine *m)
{
    return m->devices ? m->devices->count : 0;
}

struct wdmsim_dev *machine_device_at(struct machine *m, unsigned index)
{
    return m->devices && index < m->devices->count ? &m->devices->dev[index] : NULL;
}

const struct wdmsim_device_model *machine_device_model(const struct wdmsim_dev *dev)
{
    return dev->model;
}

const struct machine_device_config *machine_device_config_of(const struct wdmsim_dev *dev)
{
    return dev->cfg;
}

unsigned machine_device_violations(const struct machine *m)
{
    unsigned n = 0;
    for (unsigned i = 0; i < machine_device_count(m); i++)
        n += m->devices->dev[i].violations;
    return n;
}

/* ---- services of include/wdmsim/device.h ------------------------------------- */

const char *wdmsim_dev_name(const wdmsim_dev *dev)
{
    return dev->cfg->name;
}

void *wdmsim_dev_state(wdmsim_dev *dev)
{
    return dev->state;
}

void wdmsim_dev_get_resources(const wdmsim_dev *dev, struct wdmsim_dev_resources *out)
{
    memset(out, 0, sizeof(*out));
    for (unsigned b = 0; b < WDMSIM_MAX_BARS; b++)
        out->bar[b] = dev->bar_base[b];
    out->isa_port_base = dev->isa_port_base;
    out->irq = dev->irq;
    out->dma = dev->dma;
}

uint16_t wdmsim_dev_pci_command(const wdmsim_dev *dev)
{
    return dev->model->bus == WDMSIM_BUS_PCI ? dev->command : 0;
}

static int knob_index(const wdmsim_dev *dev, const char *key)
{
    for (unsigned k = 0; k < dev->cfg->nknobs; k++)
        if (!strcmp(dev->cfg->knobs[k].key, key))
            return (int)k;
    return -1;
}

const char *wdmsim_dev_knob(const wdmsim_dev *dev, const char *key)
{
    int k = knob_index(dev, key);
    return k < 0 ? NULL : dev->cfg->knobs[k].value;
}

int wdmsim_dev_knob_u64(const wdmsim_dev *dev, const char *key, uint64_t def, uint64_t min,
                        uint64_t max, uint64_t *out, char *err, size_t errlen)
{
    int k = knob_index(dev, key);
    if (k < 0) {
        *out = def;
        return 0;
    }
    const char *v = dev->cfg->knobs[k].value;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 0);
    if (errno || end == v || *end || *v == '-' || x < min || x > max) {
        snprintf(err, errlen, "%s:%d: device '%s': %s = %s: must be a number from %llu to %llu",
                 where(dev->machine), dev->cfg->knobs[k].line, dev->cfg->name, key, v,
                 (unsigned long long)min, (unsigned long long)max);
        return -1;
    }
    *out = x;
    return 0;
}

void wdmsim_dev_irq(wdmsim_dev *dev, bool level)
{
    dev->irq_level = level;
    bus_update_irq(dev);
}

uint64_t wdmsim_dev_now(const wdmsim_dev *dev)
{
    return dev->machine->clock.now;
}

uint64_t wdmsim_dev_schedule(wdmsim_dev *dev, uint64_t when, void (*fn)(void *arg), void *arg)
{
    return vclock_schedule(&dev->machine->clock, when, fn, arg);
}

bool wdmsim_dev_cancel(wdmsim_dev *dev, uint64_t id)
{
    return vclock_cancel(&dev->machine->clock, id);
}

uint64_t wdmsim_dev_random(wdmsim_dev *dev)
{
    return rng_next(&dev->rng);
}

void wdmsim_dev_report(wdmsim_dev *dev, enum wdmsim_report_kind kind, const char *rule,
                       const char *fmt, ...)
{
    char name[40];
    snprintf(name, sizeof(name), "%s_%s", dev->model->prefix, rule);
    for (unsigned i = 0; i < dev_max_report_kinds; i++) {
        if (!dev->reports[i].rule[0])
            snprintf(dev->reports[i].rule, sizeof(dev->reports[i].rule), "%s", name);
        if (!strcmp(dev->reports[i].rule, name)) {
            dev->reports[i].count++;
            break;
        }
    }
    if (kind == WDMSIM_REPORT_VIOLATION)
        dev->violations++;
    FILE *log = dev->machine->devices->log;
    if (!log)
        return;
    fprintf(log,
            "wdmsim: device [%llu ns] %s %s (%s): ", (unsigned long long)dev->machine->clock.now,
            dev->cfg->name, name, kind == WDMSIM_REPORT_VIOLATION ? "violation" : "event");
    va_list ap;
    va_start(ap, fmt);
    vfprintf(log, fmt, ap);
    va_end(ap);
    fputc('\n', log);
}

unsigned wdmsim_dev_report_count(const wdmsim_dev *dev, const char *rule)
{
    for (unsigned i = 0; i < dev_max_report_kinds; i++)
        if (!strcmp(dev->reports[i].rule, rule))
            return dev->reports[i].count;
    return 0;
}
