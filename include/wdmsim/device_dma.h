/*
 * include/wdmsim/device_dma.h - how a device model reaches memory: bus-
 * master accesses at logical addresses, and system DMA through the 8237.
 * Included by device.h.
 *
 * Models: a device never touches RAM directly. A bus master emits logical
 * addresses (what the driver programmed from MapTransfer, an S/G list or a
 * common buffer); the bus checks them against the device's address width
 * and its adapter's live DMA mappings (range and direction) and copies
 * through the machine's direct map. A slave device raises DREQ on its
 * channel and exchanges bytes (channels 0-3) or words (5-7) with the
 * controller, which addresses memory itself.
 * Spec: spec/dma.md 4, spec/i8237.md 6, spec/verifier.md 9 (dma.device-*).
 * Failure: an access the bus refuses is a verifier violation naming the
 * device, the address, the direction and the nearest mapping; in
 * report-and-continue mode the call returns -1 and nothing past the first
 * refused byte moved.
 */
#ifndef WDMSIM_DEVICE_DMA_H
#define WDMSIM_DEVICE_DMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wdmsim_dev wdmsim_dev;

/* Bus master: memory -> device (read) and device -> memory (write).
 * Return 0, or -1 when the bus refused the access. */
int wdmsim_dma_read(wdmsim_dev *dev, uint64_t logical, void *buf, size_t len);
int wdmsim_dma_write(wdmsim_dev *dev, uint64_t logical, const void *buf, size_t len);

/* System DMA (slave) side, on the device's DMA channel. read_unit gives the
 * next byte/word for a device -> memory transfer; write_unit receives one
 * for memory -> device; terminal_count is the controller's TC (or EOP).
 * Any may be NULL. Returns 0, or -1 when the device has no DMA channel. */
struct wdmsim_dma_slave_ops {
    uint16_t (*read_unit)(void *state);
    void (*write_unit)(void *state, uint16_t value);
    void (*terminal_count)(void *state);
};
int wdmsim_dma_slave_attach(wdmsim_dev *dev, const struct wdmsim_dma_slave_ops *ops, void *state);
/* DREQ level; the controller moves units as virtual time passes (or at
 * once with wdmsim_dma_run). */
void wdmsim_dma_request(wdmsim_dev *dev, bool asserted);
/* External end of process: ends the current transfer early. */
void wdmsim_dma_eop(wdmsim_dev *dev);
/* Lets the controller move up to max units now; returns units moved. */
uint64_t wdmsim_dma_run(wdmsim_dev *dev, uint64_t max_units);

#ifdef __cplusplus
}
#endif

#endif
