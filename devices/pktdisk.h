/*
 * devices/pktdisk.h - test hooks of the PKD-1 model (devices/pktdisk.md 7,
 * devices/README.md 10). Host-side only; none has a side effect on the
 * device except the disk writes, which act like the image knob.
 */
#ifndef WDMSIM_DEVICES_PKTDISK_H
#define WDMSIM_DEVICES_PKTDISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <wdmsim/device.h>

enum {
    pktdisk_dir_read = 0,  /* disk -> host */
    pktdisk_dir_write = 1, /* host -> disk */
    pktdisk_errcodes = 8,  /* ERRCODE 0x00-0x07 */
};

struct pktdisk_stats {
    uint64_t commands[2][pktdisk_errcodes]; /* by DIR and final ERRCODE */
    uint64_t bytes_to_host, bytes_to_disk;
    uint64_t transactions; /* bus transactions that moved data */
    uint64_t irq_edges;    /* INTA# rising edges (before Interrupt Disable) */
    uint64_t go_while_busy;
};

/* The last transaction the bus refused. */
struct pktdisk_dma_error {
    bool valid;
    uint64_t time;
    uint32_t logical; /* ERR_ADDR */
    unsigned dir;     /* pktdisk_dir_* of the command */
    uint32_t offset;  /* command offset of the transaction */
};

/* One command from GO to completion (or abandonment by RESET). */
struct pktdisk_cmd_record {
    uint64_t sector;
    uint32_t count, dma_addr;
    unsigned dir;
    uint64_t go_time, done_time; /* done_time 0: still running or reset */
    uint8_t errcode;
    uint32_t xferred;
    bool reset; /* abandoned by CONTROL.RESET */
};

/* A register as the driver would read it, without side effects (PKD-1 has
 * none anyway); unlisted offsets give 0. */
uint32_t pktdisk_reg(wdmsim_dev *dev, uint32_t offset);
/* Disk sectors. Return 0, or -1 when the range passes the capacity. */
int pktdisk_disk_read(wdmsim_dev *dev, uint64_t lba, uint64_t nsect, void *buf);
int pktdisk_disk_write(wdmsim_dev *dev, uint64_t lba, uint64_t nsect, const void *buf);
/* CRC-32 (zlib) of sectors [lba, lba + nsect); 0 when out of range. */
uint32_t pktdisk_crc32(wdmsim_dev *dev, uint64_t lba, uint64_t nsect);
void pktdisk_get_stats(wdmsim_dev *dev, struct pktdisk_stats *out);
void pktdisk_last_dma_error(wdmsim_dev *dev, struct pktdisk_dma_error *out);
/* Commands so far (the latest kept ones, oldest first): copies up to max
 * records and returns how many commands were ever started. */
uint64_t pktdisk_history(wdmsim_dev *dev, struct pktdisk_cmd_record *out, size_t max);

#endif
