/*
 * devices/isastream.h - test hooks of the IST-1 model (devices/isastream.md
 * 9, devices/README.md 10). Host-side only and without side effects: the
 * register hooks neither pop nor latch.
 */
#ifndef WDMSIM_DEVICES_ISASTREAM_H
#define WDMSIM_DEVICES_ISASTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <wdmsim/device.h>

/* Byte n of the capture stream for seed (devices/isastream.md 3). */
uint8_t isastream_stream_byte(uint32_t n, uint32_t seed);
/* CRC-32 (zlib) of stream bytes [first, first + count). */
uint32_t isastream_stream_crc(uint32_t seed, uint32_t first, uint64_t count);

/* One run, from a start to its stop (or now, while running). */
struct isastream_run {
    bool running;
    uint64_t start_time, stop_time;
    uint32_t rate, block, seed;
    bool playback, w16, tcstop;
    uint32_t xferred, streampos, ovrcnt, unrcnt, crc;
    uint32_t fifo_at_stop;
};

struct isastream_stats {
    uint64_t dma_cycles;       /* cycles that moved data */
    uint64_t bad_cycles;       /* cycles refused (no DREQ, wrong kind) */
    uint64_t tc_cycles;        /* terminal counts seen */
    uint64_t irq_edges;        /* rising edges of the IRQ output */
    uint64_t block_events;     /* ISR.BLOCK settings */
    uint64_t dreq_unserved_ns; /* virtual time with DREQ high */
    uint64_t runs;             /* starts accepted */
};

/* The IRQ edge log entry. */
struct isastream_edge {
    uint64_t time;
    uint32_t xferred, streampos;
};

/* A port register (offset 0x0-0xF) without side effects: DATA offsets give
 * the latch bytes as they are. */
uint8_t isastream_reg(wdmsim_dev *dev, uint32_t offset);
/* An indirect register by index (0 for unknown indices). */
uint32_t isastream_indirect(wdmsim_dev *dev, uint8_t index);
/* FIFO contents, oldest first; returns the level. */
size_t isastream_fifo(wdmsim_dev *dev, uint8_t *buf, size_t max);
void isastream_current_run(wdmsim_dev *dev, struct isastream_run *out);
/* Finished runs (latest kept, oldest first); returns how many ever ended. */
uint64_t isastream_runs(wdmsim_dev *dev, struct isastream_run *out, size_t max);
void isastream_get_stats(wdmsim_dev *dev, struct isastream_stats *out);
/* IRQ edge log (latest kept, oldest first); returns edges ever logged. */
uint64_t isastream_edges(wdmsim_dev *dev, struct isastream_edge *out, size_t max);
/* With the `record` knob: every byte moved by DMA, in order (copies up to
 * max from the first); returns the total recorded. */
uint64_t isastream_recorded(wdmsim_dev *dev, uint8_t *buf, size_t max);

#endif
