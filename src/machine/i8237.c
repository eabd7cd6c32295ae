/*
 * src/machine/i8237.c - the 8237 pair's registers and I/O ports.
 *
 * Models: the register file of both chips as one const table indexed by the
 * register's offset inside its chip (DMA1: port - 0x00; DMA2: (port - 0xC0)
 * / 2), the byte-pointer flip-flop shared by all 16-bit registers of a chip,
 * page registers at 0x81-0x8F (and 0x481-0x48F with EISA high pages).
 * Spec: spec/i8237.md 2, 3, 5, 8 (the register behaviour kept from QEMU:
 * the high byte restarts the current register; reading status clears TC).
 * Invariants: a write to an address or count port loads base and current;
 * reads return current registers; every 16-bit access toggles the flip-flop.
 * Not modelled: the temporary register's memory-to-memory content (always
 * the last value, 0 after clear).
 */
#include <string.h>

#include "machine/machine.h"

/* Channel numbers behind page ports 0x80-0x8F (-1: a latch only). */
static const int8_t page_port_channel[16] = {
    -1, 2, 3, 1, -1, -1, -1, 0, -1, 6, 7, 5, -1, -1, -1, -1,
};

typedef uint8_t reg_read_fn(struct i8237 *d, unsigned chip, unsigned off);
typedef void reg_write_fn(struct i8237 *d, unsigned chip, unsigned off, uint8_t v);

struct i8237_reg {
    const char *read_name, *write_name; /* NULL: that access is not decoded */
    reg_read_fn *read;
    reg_write_fn *write;
};

static unsigned chan_of(unsigned chip, unsigned i)
{
    return chip * 4 + i;
}

static bool ff_toggle(struct i8237_chip *c)
{
    bool high = c->flipflop;
    c->flipflop = !c->flipflop;
    return high;
}

/* A write from someone other than the owner to an owned channel. */
static void check_owner(struct i8237 *d, unsigned channel, uint8_t value)
{
    if (d->ch[channel].owned && !d->owner_access)
        i8237_event(d, i8237_ev_foreign_port_write, channel, value);
}

static uint8_t read_addr_count(struct i8237 *d, unsigned chip, unsigned off)
{
    const struct i8237_channel *ch = &d->ch[chan_of(chip, off >> 1)];
    uint16_t v = (off & 1) ? ch->cur_count : ch->cur_addr;
    return ff_toggle(&d->chip[chip]) ? (uint8_t)(v >> 8) : (uint8_t)v;
}

static void set_byte(uint16_t *r, bool high, uint8_t v)
{
    *r = high ? (uint16_t)((*r & 0x00FF) | (v << 8)) : (uint16_t)((*r & 0xFF00) | v);
}

static void write_addr_count(struct i8237 *d, unsigned chip, unsigned off, uint8_t v)
{
    unsigned n = chan_of(chip, off >> 1);
    struct i8237_channel *ch = &d->ch[n];
    check_owner(d, n, v);
    bool high = ff_toggle(&d->chip[chip]);
    if (off & 1) {
        set_byte(&ch->base_count, high, v);
        ch->cur_count = ch->base_count;
    } else {
        set_byte(&ch->base_addr, high, v);
        ch->cur_addr = ch->base_addr;
    }
}

static uint8_t read_status(struct i8237 *d, unsigned chip, unsigned off)
{
    struct i8237_chip *c = &d->chip[chip];
    uint8_t req = c->request;
    for (unsigned i = 0; i < 4; i++)
        if (d->ch[chan_of(chip, i)].dreq)
            req |= 1u << i;
    uint8_t v = (uint8_t)(c->tc | (req << 4));
    c->tc = 0;
    return v;
}

static void write_command(struct i8237 *d, unsigned chip, unsigned off, uint8_t v)
{
    d->chip[chip].command = v;
    if (v & ~i8237_cmd_honoured)
        i8237_event(d, i8237_ev_unsupported_command, chan_of(chip, 0), v);
    i8237_kick(d);
}

static void write_request(struct i8237 *d, unsigned chip, unsigned off, uint8_t v)
{
    unsigned i = v & 3, n = chan_of(chip, i);
    struct i8237_chip *c = &d->chip[chip];
    if (!(v & 4)) {
        c->request &= (uint8_t) ~(1u << i);
        return;
    }
    /* Honoured only in block mode (spec/i8237.md 3, Open). */
    if ((d->ch[n].mode & i8237_mode_service_mask) != i8237_mode_block) {
        i8237_event(d, i8237_ev_software_request, n, d->ch[n].mode);
        return;
    }
    c->request |= (uint8_t)(1u << i);
    i8237_kick(d);
}

static void write_single_mask(struct i8237 *d, unsigned chip, unsigned off, uint8_t v)
{
    unsigned i = v & 3;
    check_owner(d, chan_of(chip, i), v);
    if (v & 4)
        d->chip[chip].mask |= (uint8_t)(1u << i);
    else
        d->chip[chip].mask &= (uint8_t) ~(1u << i);
    i8237_kick(d);
}

static void write_mode(struct i8237 *d, unsigned chip, unsigned off, uint8_t v)
{
    unsigned n = chan_of(chip, v & 3);
    check_owner(d, n, v);
    d->ch[n].mode = v & 0xFC;
    if ((v & i8237_mode_service_mask) != i8237_mode_cascade &&
        (v & i8237_mode_type_mask) == i8237_mode_illegal)
        i8237_event(d, i8237_ev_illegal_mode, n, v);
    i8237_kick(d);
}

static void write_clear_ff(struct i8237 *d, unsigned chip, unsigned off, uint8_t v)
{
    d->chip[chip].flipflop = false;
}

static uint8_t read_temp(struct i8237 *d, unsigned chip, unsigned off)
{
    return d->chip[chip].temp;
}

/* Mask writes touching owned channels count as programming them. */
static void set_mask_all(struct i8237 *d, unsigned chip, uint8_t mask)
{
    for (unsigned i = 0; i < 4; i++)
        if (((d->chip[chip].mask ^ mask) >> i) & 1)
            check_owner(d, chan_of(chip, i), mask);
    d->chip[chip].mask = mask & 0x0F;
    i8237_kick(d);
}

static void write_master_clear(struct i8237 *d, unsigned chip, unsigned off, uint8_t v)
{
    set_mask_all(d, chip, 0x0F);
    i8237_master_clear(d, chip);
}

static void write_clear_mask(struct i8237 *d, unsigned chip, unsigned off, uint8_t v)
{
    set_mask_all(d, chip, 0);
}

static void write_all_mask(struct i8237 *d, unsigned chip, unsigned off, uint8_t v)
{
    set_mask_all(d, chip, v & 0x0F);
}

#define CHANNEL_REGS(n)                                                            \
    [2 * (n)] = {"address " #n, "address " #n, read_addr_count, write_addr_count}, \
         [2 * (n) + 1] = {"count " #n, "count " #n, read_addr_count, write_addr_count}

/* The chip's 16 registers by offset; both chips share it. */
static const struct i8237_reg i8237_regs[16] = {
    CHANNEL_REGS(0),
    CHANNEL_REGS(1),
    CHANNEL_REGS(2),
    CHANNEL_REGS(3),
    [8] = {"status", "command", read_status, write_command},
    [9] = {NULL, "request", NULL, write_request},
    [10] = {NULL, "single mask", NULL, write_single_mask},
    [11] = {NULL, "mode", NULL, write_mode},
    [12] = {NULL, "clear flip-flop", NULL, write_clear_ff},
    [13] = {"temporary", "master clear", read_temp, write_master_clear},
    [14] = {NULL, "clear mask", NULL, write_clear_mask},
    [15] = {NULL, "write all mask", NULL, write_all_mask},
};

/* Chip and register offset of a controller port; false if not one. */
static bool decode_chip(uint16_t port, unsigned *chip, unsigned *off)
{
    if (port <= 0x0F) {
        *chip = 0;
        *off = port;
        return true;
    }
    if (port >= 0xC0 && port <= 0xDF && !(port & 1)) {
        *chip = 1;
        *off = (port - 0xC0u) >> 1;
        return true;
    }
    return false;
}

/* Page port: 0x80-0x8F (0x80 is the POST port: not ours), or 0x480-0x48F
 * for EISA high pages. */
static bool decode_page(const struct i8237 *d, uint16_t port, unsigned *idx, bool *high)
{
    if (port >= 0x81 && port <= 0x8F) {
        *idx = port - 0x80u;
        *high = false;
        return true;
    }
    if (d->eisa && port >= 0x481 && port <= 0x48F && page_port_channel[port - 0x480] >= 0) {
        *idx = port - 0x480u;
        *high = true;
        return true;
    }
    return false;
}

bool i8237_decodes(const struct i8237 *d, uint16_t port)
{
    unsigned chip, off, idx;
    bool high;
    return decode_chip(port, &chip, &off) || decode_page(d, port, &idx, &high);
}

bool i8237_port_read(struct i8237 *d, uint16_t port, uint8_t *value)
{
    unsigned chip, off, idx;
    bool high;
    if (decode_chip(port, &chip, &off)) {
        const struct i8237_reg *r = &i8237_regs[off];
        *value = r->read ? r->read(d, chip, off) : 0xFF;
        return true;
    }
    if (decode_page(d, port, &idx, &high)) {
        int n = page_port_channel[idx];
        if (n < 0)
            *value = d->latch[idx];
        else
            *value = high ? d->ch[n].high_page : d->ch[n].page;
        return true;
    }
    return false;
}

bool i8237_port_write(struct i8237 *d, uint16_t port, uint8_t value)
{
    unsigned chip, off, idx;
    bool high;
    if (decode_chip(port, &chip, &off)) {
        i8237_regs[off].write(d, chip, off, value);
        return true;
    }
    if (decode_page(d, port, &idx, &high)) {
        int n = page_port_channel[idx];
        if (n < 0) {
            d->latch[idx] = value;
            return true;
        }
        check_owner(d, (unsigned)n, value);
        if (high)
            d->ch[n].high_page = value;
        else
            d->ch[n].page = value;
        return true;
    }
    return false;
}

void i8237_master_clear(struct i8237 *d, unsigned chip)
{
    struct i8237_chip *c = &d->chip[chip];
    c->command = 0;
    c->tc = 0;
    c->request = 0;
    c->temp = 0;
    c->flipflop = false;
    c->mask = 0x0F;
    c->last = 3;
    if (d->holding >= 0 && (unsigned)d->holding / 4 == chip)
        d->holding = -1;
}

void i8237_init(struct i8237 *d, struct machine *m)
{
    memset(d, 0, sizeof(*d));
    d->machine = m;
    d->holding = -1;
    i8237_master_clear(d, 0);
    i8237_master_clear(d, 1);
    /* Firmware: DMA1 reaches the bus only through DMA2 channel 0. */
    d->ch[i8237_cascade_channel].mode = i8237_mode_cascade;
    d->chip[1].mask &= (uint8_t)~1u;
}

void i8237_set_bus(struct i8237 *d, const struct i8237_bus_ops *bus, void *ctx)
{
    d->bus = bus;
    d->bus_ctx = ctx;
}

void i8237_set_owned(struct i8237 *d, unsigned channel, bool owned)
{
    if (channel < i8237_channels)
        d->ch[channel].owned = owned;
}

void i8237_event(struct i8237 *d, enum i8237_event ev, unsigned channel, uint64_t value)
{
    if (d->bus && d->bus->event)
        d->bus->event(d->bus_ctx, ev, channel, value);
}
