/*
 * devices/piofifo.h - test hooks of the PIO-1 model (devices/piofifo.md 8).
 * Host-side only: no side effects on the FIFO unless the name says push/pop.
 */
#ifndef WDMSIM_DEVICES_PIOFIFO_H
#define WDMSIM_DEVICES_PIOFIFO_H

#include <stddef.h>
#include <stdint.h>

#include <wdmsim/device.h>

enum piofifo_path { piofifo_path_port, piofifo_path_mmio, piofifo_path_host, piofifo_paths };

struct piofifo_stats {
    uint64_t accesses[piofifo_paths][4]; /* by width 1, 2, 4, 8 */
    uint64_t pushed[piofifo_paths], popped[piofifo_paths];
    uint64_t ovf_total, unf_total; /* not cleared by CLRERR */
    uint32_t max_level;
    uint64_t irq_edges; /* INTA# rising edges */
    uint32_t level;
};

/* Copies up to max bytes of the FIFO, oldest first; returns LEVEL. */
size_t piofifo_contents(wdmsim_dev *dev, uint8_t *buf, size_t max);
void piofifo_get_stats(wdmsim_dev *dev, struct piofifo_stats *out);
/* A data access from the host side at the current virtual time. */
void piofifo_host_push(wdmsim_dev *dev, const uint8_t *bytes, size_t n);
size_t piofifo_host_pop(wdmsim_dev *dev, uint8_t *bytes, size_t n);

#endif
