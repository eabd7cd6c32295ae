/*
 * devices/sgdisk.h - test hooks of the SGD-1 model (devices/sgdisk.md 10,
 * devices/README.md 10). Host-side only; none has a side effect on the
 * device except the disk writes, which act like the image knob.
 */
#ifndef WDMSIM_DEVICES_SGDISK_H
#define WDMSIM_DEVICES_SGDISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <wdmsim/device.h>

enum {
    sgdisk_opcodes = 5, /* index 0: invalid opcode; 1 READ .. 4 IDENTIFY */
    sgdisk_codes = 7,   /* SC 0x00-0x06 */
    sgdisk_erridx_table = 0xFFFE,
    sgdisk_erridx_none = 0xFFFF,
};

struct sgdisk_stats {
    uint64_t commands[sgdisk_opcodes][sgdisk_codes]; /* by opcode and SC, at CQE write */
    uint64_t bytes_to_host, bytes_to_disk;
    uint64_t transactions; /* data transactions that moved bytes */
    uint64_t cqes;
    uint64_t cq_full_stalls; /* episodes of a CQE held for a full CQ */
    uint64_t irq_edges;      /* INTA# rising edges (before Interrupt Disable) */
    uint32_t max_outstanding;
    uint64_t dropped; /* commands dropped by disable or reset */
};

/* The last access the bus refused (or that Bus Master = 0 prevented). */
struct sgdisk_dma_error {
    bool valid;
    uint64_t time;
    uint64_t logical;
    bool to_host;     /* device -> memory */
    uint16_t cid;     /* data or table access: the command */
    uint16_t index;   /* descriptor, sgdisk_erridx_table, or sgdisk_erridx_none (SQE/CQE) */
    const char *what; /* "data", "table", "SQE", "CQE" */
};

struct sgdisk_rings {
    uint64_t sq_base, cq_base;
    uint32_t sq_size, cq_size;
    uint32_t sq_head, sq_tail, cq_head, cq_tail;
    bool phase; /* P the device writes next */
    uint32_t outstanding;
    uint32_t held; /* CQEs waiting for CQ space */
    bool rdy, cfs, en;
    uint8_t fcode;
};

/* One command, from fetch to its CQE (devices/sgdisk.md 5 times). */
struct sgdisk_cmd_record {
    uint16_t cid;
    uint8_t opc;
    uint64_t lba;
    uint32_t nsect;
    uint64_t f, r, s, end; /* fetch, ready, data start, data end (s = end = 0: no data phase) */
    uint64_t cqe_time;
    uint8_t sc, detail;
    uint16_t erridx;
    uint32_t bytes;
};

/* A register as the driver would read it (reads have no side effects). */
uint32_t sgdisk_reg(wdmsim_dev *dev, uint32_t offset);
/* Disk sectors. Return 0, or -1 when the range passes the capacity. */
int sgdisk_disk_read(wdmsim_dev *dev, uint64_t lba, uint64_t nsect, void *buf);
int sgdisk_disk_write(wdmsim_dev *dev, uint64_t lba, uint64_t nsect, const void *buf);
/* CRC-32 (zlib) of sectors [lba, lba + nsect); 0 when out of range. */
uint32_t sgdisk_crc32(wdmsim_dev *dev, uint64_t lba, uint64_t nsect);
void sgdisk_get_stats(wdmsim_dev *dev, struct sgdisk_stats *out);
void sgdisk_last_dma_error(wdmsim_dev *dev, struct sgdisk_dma_error *out);
void sgdisk_get_rings(wdmsim_dev *dev, struct sgdisk_rings *out);
/* Completed commands (the latest kept, oldest first): copies up to max and
 * returns how many CQEs were ever written. */
uint64_t sgdisk_history(wdmsim_dev *dev, struct sgdisk_cmd_record *out, size_t max);

#endif
