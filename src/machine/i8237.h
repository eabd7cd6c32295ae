/*
 * src/machine/i8237.h - the PC/AT system DMA controller pair (two Intel
 * 8237A), included by machine.h.
 *
 * Models: DMA1 (channels 0-3, bytes, ports 0x00-0x0F) cascaded into DMA2
 * (channels 4-7, words, ports 0xC0-0xDE even); page registers 0x81-0x8F;
 * base and current address and count, the byte-pointer flip-flop, mask,
 * mode (demand, single, block, cascade; verify, write, read; auto-initialize;
 * decrement), command (disable, rotating priority), status with terminal
 * count, software requests, the address wrap inside the 64/128 KiB block.
 * Slave device models raise DREQ and exchange units through callbacks.
 * Spec: spec/i8237.md (whole); the HAL side is spec/dma.md 6.
 * Invariants: knows nothing of Windows; every memory access of a transfer
 * goes through bus->access when the layer above installed one; a channel
 * is serviced only if unmasked, not cascade, its chip enabled and (for
 * DMA1) DMA2 channel 4 is an unmasked cascade channel.
 * Not modelled: memory-to-memory transfers (command bit 0: accepted,
 * ignored, reported), compressed/extended timing, DACK/DREQ polarity bits.
 */
#ifndef WDMSIM_MACHINE_I8237_H
#define WDMSIM_MACHINE_I8237_H

#include <stdbool.h>
#include <stdint.h>

struct machine;
struct vclock;

enum {
    /* Virtual time per unit on a booted machine: about an ISA DMA cycle
     * (spec/i8237.md 9 leaves the rate open; it moves race windows only). */
    i8237_isa_unit_ns = 500,
    i8237_channels = 8,
    i8237_cascade_channel = 4, /* DMA2 channel 0: DMA1's request enters here */
};

/* Mode register bits (port 0x0B / 0xD6). Transfer types are named from
 * memory's side, as in the datasheet: "write" fills memory. */
enum {
    i8237_mode_verify = 0x00,
    i8237_mode_write = 0x04, /* device -> memory */
    i8237_mode_read = 0x08,  /* memory -> device */
    i8237_mode_illegal = 0x0C,
    i8237_mode_type_mask = 0x0C,
    i8237_mode_autoinit = 0x10,
    i8237_mode_decrement = 0x20,
    i8237_mode_demand = 0x00,
    i8237_mode_single = 0x40,
    i8237_mode_block = 0x80,
    i8237_mode_cascade = 0xC0,
    i8237_mode_service_mask = 0xC0,
};

/* Command register bits (port 0x08 / 0xD0). */
enum {
    i8237_cmd_mem_to_mem = 0x01,
    i8237_cmd_disable = 0x04,
    i8237_cmd_rotating = 0x10,
    i8237_cmd_honoured = i8237_cmd_disable | i8237_cmd_rotating,
};

/* What the controller noticed that the layer above may want to report
 * (sdma.* rules). value: a physical address, a mode or a command byte. */
enum i8237_event {
    i8237_ev_block_wrap,          /* the address wrapped inside its 64/128 KiB block */
    i8237_ev_illegal_mode,        /* transfer type 11: treated as verify */
    i8237_ev_unsupported_command, /* command bits other than disable/rotating */
    i8237_ev_software_request,    /* software request on a non-block channel: ignored */
    i8237_ev_foreign_port_write,  /* an owned channel programmed by someone else */
};

/* A slave device on a channel. read_unit gives the next byte/word for a
 * device -> memory unit, write_unit takes one for memory -> device, tc is
 * terminal count (or EOP) on the channel. Any may be NULL. */
struct i8237_device_ops {
    uint16_t (*read_unit)(void *ctx, unsigned channel);
    void (*write_unit)(void *ctx, unsigned channel, uint16_t value);
    void (*tc)(void *ctx, unsigned channel);
};

/* Installed by the layer above (the HAL's bus check). access moves len
 * bytes between memory at pa and buf (to_memory: device -> memory) and
 * returns 0, or -1 when the access was refused (the unit is then lost:
 * reads see 0xFF). Without it memory is reached through the direct map. */
struct i8237_bus_ops {
    int (*access)(void *ctx, unsigned channel, uint64_t pa, void *buf, unsigned len,
                  bool to_memory);
    void (*event)(void *ctx, enum i8237_event ev, unsigned channel, uint64_t value);
};

struct i8237_channel {
    uint16_t base_addr, base_count; /* written together with the current ones */
    uint16_t cur_addr, cur_count;   /* DMA2: address in words (A16-A1) */
    uint8_t mode;                   /* mode byte, channel-select bits cleared */
    uint8_t page;                   /* A23-A16 (DMA2: bit 0 ignored) */
    uint8_t high_page;              /* A31-A24, EISA only */
    bool dreq;                      /* the device's request line */
    bool owned;                     /* programmed only by its owner (the HAL) */
    const struct i8237_device_ops *dev;
    void *dev_ctx;
    uint64_t units; /* statistics: units moved */
};

struct i8237_chip {
    uint8_t command;
    uint8_t tc;      /* status bits 0-3: terminal count reached, cleared by reading */
    uint8_t request; /* software request bits */
    uint8_t mask;    /* 1 = masked */
    uint8_t temp;
    bool flipflop; /* false: next 16-bit access is the low byte */
    uint8_t last;  /* rotating priority: channel served last (0-3) */
};

struct i8237 {
    struct i8237_channel ch[i8237_channels];
    struct i8237_chip chip[2];
    uint8_t latch[16]; /* page ports 0x80-0x8F that no channel uses */
    bool eisa;         /* high page registers 0x48x decoded */
    bool owner_access; /* set by the owner while it programs its channels */
    int holding;       /* channel holding the bus in demand/block service, -1 none */
    struct machine *machine;
    const struct i8237_bus_ops *bus;
    void *bus_ctx;
    /* timing on the virtual clock (optional) */
    struct vclock *clock;
    uint64_t unit_ns; /* virtual time per unit */
    unsigned burst;   /* units per clock event */
    uint64_t tick;    /* pending event id, 0 none */
};

/* Power-on state plus what PC firmware does: channel 4 set to cascade and
 * unmasked, every other channel masked. Cannot fail. */
void i8237_init(struct i8237 *d, struct machine *m);
/* Master clear of one chip (0 = DMA1, 1 = DMA2): the datasheet's reset. */
void i8237_master_clear(struct i8237 *d, unsigned chip);
void i8237_set_bus(struct i8237 *d, const struct i8237_bus_ops *bus, void *ctx);
/* Moves units as virtual time passes: unit_ns per unit, burst units per
 * event. Without a clock, transfers move only in i8237_run. */
void i8237_use_clock(struct i8237 *d, struct vclock *clock, uint64_t unit_ns, unsigned burst);

/* Port access. Returns false (and leaves *value alone) for a port the pair
 * does not decode. Write-only registers read as 0xFF. */
bool i8237_port_read(struct i8237 *d, uint16_t port, uint8_t *value);
bool i8237_port_write(struct i8237 *d, uint16_t port, uint8_t value);
bool i8237_decodes(const struct i8237 *d, uint16_t port);

/* Device side (channel 0-7 except 4; others are ignored). */
void i8237_attach(struct i8237 *d, unsigned channel, const struct i8237_device_ops *ops, void *ctx);
void i8237_assert_dreq(struct i8237 *d, unsigned channel);
void i8237_release_dreq(struct i8237 *d, unsigned channel);
/* External end of process: ends the channel's service as terminal count does. */
void i8237_eop(struct i8237 *d, unsigned channel);

/* Ownership: writes to an owned channel's registers outside owner_access
 * raise i8237_ev_foreign_port_write (and still take effect). */
void i8237_set_owned(struct i8237 *d, unsigned channel, bool owned);

/* Services requests until none is active or max_units moved; returns the
 * units moved. */
uint64_t i8237_run(struct i8237 *d, uint64_t max_units);
/* True when some channel would be serviced now. */
bool i8237_busy(const struct i8237 *d);

/* The physical address the channel's next unit uses, and bytes it still
 * has to move in this pass (0 after terminal count without auto-init). */
uint64_t i8237_next_address(const struct i8237 *d, unsigned channel);
uint32_t i8237_bytes_left(const struct i8237 *d, unsigned channel);

/* Internal to i8237*.c: re-arms the clock event after a state change. */
void i8237_kick(struct i8237 *d);
void i8237_event(struct i8237 *d, enum i8237_event ev, unsigned channel, uint64_t value);

#endif
