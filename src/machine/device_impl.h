/*
 * src/machine/device_impl.h - the device instance and bus state shared by
 * device.c, bus.c and bus_pci.c (private to src/machine; other layers use
 * machine.h).
 * Invariants: a resource range belongs to exactly one instance (validated
 * at creation); line_users[n] counts instances driving line n now.
 */
#ifndef WDMSIM_MACHINE_DEVICE_IMPL_H
#define WDMSIM_MACHINE_DEVICE_IMPL_H

#include <stdio.h>

#include <wdmsim/device.h>

#include "machine/machine.h"

enum { dev_max_report_kinds = 16 };

struct wdmsim_dev {
    const struct wdmsim_device_model *model;
    const struct machine_device_config *cfg; /* in machine->cfg */
    struct machine *machine;
    unsigned index;
    void *state;    /* model_state_size bytes, zeroed at create */
    struct rng rng; /* seed ^ hash(name) */
    /* resources, fixed at creation */
    uint64_t bar_base[WDMSIM_MAX_BARS];
    uint32_t isa_port_base;
    int irq; /* controller line, -1 none */
    int dma; /* DMA channel, -1 none */
    unsigned pci_slot;
    /* PCI config registers that are not constant */
    uint16_t command;
    uint32_t bar_reg[WDMSIM_MAX_BARS]; /* what software wrote (sizing) */
    /* interrupt */
    bool irq_level;  /* what the model asks for */
    bool irq_driven; /* counted in line_users */
    /* reports */
    struct {
        char rule[40];
        unsigned count;
    } reports[dev_max_report_kinds];
    unsigned violations;
};

struct machine_devices {
    unsigned count;
    struct wdmsim_dev dev[machine_max_devices];
    uint8_t line_users[intc_max_lines];
    FILE *log; /* device reports (stderr) */
};

/* device_models.c: "a, b, c" for messages. */
void machine_model_names(char *buf, size_t len);
/* bus.c: resource assignment and checks over every instance. */
int bus_assign(struct machine *m, struct machine_error *err);
/* bus.c: re-evaluates the line after level or Interrupt Disable changed. */
void bus_update_irq(struct wdmsim_dev *dev);

#endif
