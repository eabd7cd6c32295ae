/*
 * devices/dmatest.h - DMT-1, the minimal DMA test device: register map,
 * descriptor layout and host-side test hooks (docs/devices/dmatest.md).
 *
 * Models: a test device with no datasheet in shared/devices: one command at
 * a time moving bytes between its internal buffer and memory, as a bus
 * master (one logical address/length pair, or a descriptor table of them)
 * or as an ISA slave through the 8237. Two models share this interface:
 * `dmatest` (PCI, registers in BAR0 MMIO) and `dmatest_isa` (ISA, registers
 * in 64 I/O ports, a DMA channel).
 * Invariants: the hooks have no side effect on the device, except that a
 * test may write the buffer dmatest_buffer returns (the device's data).
 */
#ifndef WDMSIM_DEVICES_DMATEST_H
#define WDMSIM_DEVICES_DMATEST_H

#include <stddef.h>
#include <stdint.h>

#include <wdmsim/device.h>

/* Register offsets (32-bit registers, aligned 4-byte accesses only). */
enum dmatest_reg_offset {
    dmatest_reg_id = 0x00,      /* RO dmatest_id */
    dmatest_reg_caps = 0x04,    /* RO width, slave, channel */
    dmatest_reg_bufsize = 0x08, /* RO internal buffer bytes */
    dmatest_reg_addr_lo = 0x10, /* RW logical address (mode table: of the table) */
    dmatest_reg_addr_hi = 0x14, /* RW */
    dmatest_reg_length = 0x18,  /* RW bytes (modes single and slave) */
    dmatest_reg_devoff = 0x1C,  /* RW first buffer byte of the command */
    dmatest_reg_ndesc = 0x20,   /* RW descriptors (mode table) */
    dmatest_reg_control = 0x24, /* RW DIR, MODE, IEN, STREAM; W1 GO, RESET */
    dmatest_reg_status = 0x28,  /* RO BUSY, ERRCODE; RW1C DONE, ERROR */
    dmatest_reg_xferred = 0x2C, /* RO bytes moved by the last command */
    dmatest_reg_err_lo = 0x30,  /* RO logical address of the refused transaction */
    dmatest_reg_err_hi = 0x34,  /* RO */
    dmatest_reg_tccount = 0x38, /* RO terminal counts seen by the last command */
    dmatest_reg_span = 0x40,    /* registers end here (ISA: 64 ports) */
};

enum {
    dmatest_id = 0x31544D44, /* "DMT1" */
    /* CAPS */
    dmatest_caps_width_mask = 0xFF,  /* address bits the device drives */
    dmatest_caps_slave = 1u << 9,    /* it has a DMA channel */
    dmatest_caps_channel_shift = 12, /* [15:12] channel, 0xF none */
    /* CONTROL */
    dmatest_ctrl_go = 1u << 0,
    dmatest_ctrl_to_device = 1u << 1, /* DIR: 1 memory -> device, 0 device -> memory */
    dmatest_ctrl_mode_shift = 4,      /* [5:4] */
    dmatest_ctrl_mode_mask = 3u << 4,
    dmatest_ctrl_ien = 1u << 8,    /* interrupt while DONE */
    dmatest_ctrl_stream = 1u << 9, /* slave: terminal count does not end the command */
    dmatest_ctrl_reset = 1u << 31,
    /* STATUS */
    dmatest_st_busy = 1u << 0,
    dmatest_st_done = 1u << 1,
    dmatest_st_error = 1u << 2,
    dmatest_st_errcode_shift = 8, /* [15:8] */
};

enum dmatest_mode {
    dmatest_mode_single = 0, /* bus master: ADDR, LENGTH */
    dmatest_mode_table = 1,  /* bus master: NDESC descriptors at ADDR */
    dmatest_mode_slave = 2,  /* DREQ on the 8237 channel, LENGTH bytes */
};

/* STATUS.ERRCODE. */
enum dmatest_err {
    dmatest_err_none = 0,
    dmatest_err_no_bus_master = 1, /* PCI Command.Bus Master is 0 */
    dmatest_err_bad_length = 2,    /* 0, past the buffer, or odd on a 16-bit channel */
    dmatest_err_addr_width = 3,    /* an address range the device's width cannot carry */
    dmatest_err_dma = 4,           /* the bus refused a transaction */
    dmatest_err_no_channel = 5,    /* slave mode without a DMA channel */
    dmatest_err_bad_mode = 6,      /* MODE 3, or slave mode on a PCI device */
    dmatest_err_bad_table = 7,     /* NDESC 0 or too many; an element of length 0 */
};

/* One descriptor of mode table, little-endian, 16 bytes, in memory the
 * device reads through the bus (a common buffer). */
struct dmatest_desc {
    uint64_t address; /* logical */
    uint32_t length;  /* bytes, > 0 */
    uint32_t reserved;
};
_Static_assert(sizeof(struct dmatest_desc) == 16, "descriptor layout");

struct dmatest_stats {
    uint64_t commands, errors;       /* GOs accepted; commands that ended with ERROR */
    uint64_t bytes_to_device;        /* memory -> device */
    uint64_t bytes_from_device;      /* device -> memory */
    uint64_t transactions;           /* bus-master transactions that moved data */
    uint64_t units, terminal_counts; /* slave cycles served, TCs seen */
    uint64_t irq_rises;              /* interrupt request rising */
};

/* The internal buffer (the device's data) and its size. */
uint8_t *dmatest_buffer(wdmsim_dev *dev, size_t *size);
/* A register as a driver would read it (no register has a read side
 * effect); unknown offsets give 0. */
uint32_t dmatest_reg(wdmsim_dev *dev, uint32_t offset);
void dmatest_get_stats(wdmsim_dev *dev, struct dmatest_stats *out);

#endif
