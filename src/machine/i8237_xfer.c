/*
 * src/machine/i8237_xfer.c - the 8237 pair moving data: arbitration,
 * units, terminal count, auto-initialize, the wrap inside the block.
 *
 * Models: each unit computes the physical address from page and current
 * address (DMA2: page bits 7-1 and address as A16-A1), asks the bus (or the
 * direct map) for the memory side and the device model for the I/O side,
 * steps the 16-bit address (wrapping inside the page, never carrying into
 * it) and decrements the count; the unit that rolls the count from 0 to
 * 0xFFFF is terminal count: TC status bit, software request cleared, mask
 * set unless auto-initialize (which reloads current from base), device told.
 * Demand mode holds the bus while DREQ stays up; block mode holds it to TC
 * once started; single mode re-arbitrates after every unit. Priority is
 * fixed (0 highest) or rotating per chip; DMA1 competes as DMA2 channel 0.
 * Spec: spec/i8237.md 4, 6, 7. Rule events: sdma.block-wrap, sdma.illegal-mode.
 * Invariants: holding is -1 or a channel that was active when last served.
 * Not modelled: bus cycles and wait states; a unit is atomic.
 */
#include <string.h>

#include "machine/machine.h"

static unsigned unit_bytes(unsigned n)
{
    return n >= 4 ? 2 : 1;
}

static uint8_t service_mode(const struct i8237_channel *ch)
{
    return ch->mode & i8237_mode_service_mask;
}

/* Would channel n be serviced if it won arbitration? */
static bool active(const struct i8237 *d, unsigned n)
{
    const struct i8237_chip *c = &d->chip[n >> 2];
    const struct i8237_channel *ch = &d->ch[n];
    unsigned bit = 1u << (n & 3);
    if ((c->mask & bit) || (c->command & i8237_cmd_disable))
        return false;
    switch (service_mode(ch)) {
    case i8237_mode_cascade:
        return false;
    case i8237_mode_block:
        return ch->dreq || (c->request & bit) || d->holding == (int)n;
    default:
        return ch->dreq;
    }
}

/* Highest-priority active channel of one chip (DMA2 channel 0 stands for
 * DMA1 when it is an unmasked cascade channel), or -1. */
static int pick_chip(const struct i8237 *d, unsigned chip)
{
    const struct i8237_chip *c = &d->chip[chip];
    unsigned first = (c->command & i8237_cmd_rotating) ? (c->last + 1u) & 3 : 0;
    for (unsigned k = 0; k < 4; k++) {
        unsigned i = (first + k) & 3, n = chip * 4 + i;
        if (chip == 1 && i == 0) {
            bool open = !(c->mask & 1) && !(c->command & i8237_cmd_disable) &&
                        service_mode(&d->ch[n]) == i8237_mode_cascade;
            int inner = open ? pick_chip(d, 0) : -1;
            if (inner >= 0)
                return inner;
            continue;
        }
        if (active(d, n))
            return (int)n;
    }
    return -1;
}

static int pick(const struct i8237 *d)
{
    if (d->holding >= 0 && active(d, (unsigned)d->holding))
        return d->holding;
    return pick_chip(d, 1);
}

bool i8237_busy(const struct i8237 *d)
{
    return pick(d) >= 0;
}

uint64_t i8237_next_address(const struct i8237 *d, unsigned n)
{
    const struct i8237_channel *ch = &d->ch[n];
    uint64_t high = d->eisa ? (uint64_t)ch->high_page << 24 : 0;
    if (n >= 4)
        return high | ((uint64_t)(ch->page & 0xFE) << 16) | ((uint64_t)ch->cur_addr << 1);
    return high | ((uint64_t)ch->page << 16) | ch->cur_addr;
}

uint32_t i8237_bytes_left(const struct i8237 *d, unsigned n)
{
    return (uint32_t)((d->ch[n].cur_count + 1u) & 0xFFFF) * unit_bytes(n);
}

/* The memory side of one unit; false when the bus refused it. */
static bool mem_access(struct i8237 *d, unsigned n, uint64_t pa, void *buf, unsigned len,
                       bool to_memory)
{
    if (d->bus && d->bus->access)
        return d->bus->access(d->bus_ctx, n, pa, buf, len, to_memory) == 0;
    struct machine *m = d->machine;
    if (!m || !machine_is_ram(m, pa) || !machine_is_ram(m, pa + len - 1))
        return false; /* open bus */
    if (to_memory)
        memcpy(machine_pa_ptr(m, pa), buf, len);
    else
        memcpy(buf, machine_pa_ptr(m, pa), len);
    return true;
}

static void terminal_count(struct i8237 *d, unsigned n)
{
    struct i8237_chip *c = &d->chip[n >> 2];
    struct i8237_channel *ch = &d->ch[n];
    unsigned bit = 1u << (n & 3);
    c->tc |= (uint8_t)bit;
    c->request &= (uint8_t)~bit;
    if (d->holding == (int)n)
        d->holding = -1;
    if (ch->mode & i8237_mode_autoinit) {
        ch->cur_addr = ch->base_addr;
        ch->cur_count = ch->base_count;
    } else {
        c->mask |= (uint8_t)bit;
    }
    if (ch->dev && ch->dev->tc)
        ch->dev->tc(ch->dev_ctx, n);
}

static void move_unit(struct i8237 *d, unsigned n)
{
    struct i8237_channel *ch = &d->ch[n];
    unsigned len = unit_bytes(n);
    uint64_t pa = i8237_next_address(d, n);
    uint8_t buf[2] = {0xFF, 0xFF};
    switch (ch->mode & i8237_mode_type_mask) {
    case i8237_mode_write: {
        uint16_t v = (ch->dev && ch->dev->read_unit) ? ch->dev->read_unit(ch->dev_ctx, n) : 0xFFFF;
        buf[0] = (uint8_t)v;
        buf[1] = (uint8_t)(v >> 8);
        mem_access(d, n, pa, buf, len, true);
        break;
    }
    case i8237_mode_read:
        mem_access(d, n, pa, buf, len, false);
        if (ch->dev && ch->dev->write_unit)
            ch->dev->write_unit(ch->dev_ctx, n, (uint16_t)(buf[0] | (len == 2 ? buf[1] << 8 : 0)));
        break;
    default: /* verify, and illegal treated as verify: no memory or I/O cycle */
        break;
    }
    ch->units++;
}

/* Steps address and count after a unit; returns true at terminal count. */
static bool step(struct i8237 *d, unsigned n)
{
    struct i8237_channel *ch = &d->ch[n];
    bool down = ch->mode & i8237_mode_decrement;
    uint16_t before = ch->cur_addr;
    ch->cur_addr = (uint16_t)(down ? before - 1 : before + 1);
    bool wrapped = down ? before == 0 : before == 0xFFFF;
    bool tc = ch->cur_count == 0;
    ch->cur_count--;
    if (tc)
        return true;
    /* The page register never changes: the next unit lands at the other
     * end of the same block. The HAL never programs this (spec 6). */
    if (wrapped)
        i8237_event(d, i8237_ev_block_wrap, n, i8237_next_address(d, n));
    return false;
}

static void serve(struct i8237 *d, unsigned n)
{
    struct i8237_chip *c = &d->chip[n >> 2];
    uint8_t sm = service_mode(&d->ch[n]);
    move_unit(d, n);
    c->last = n & 3;
    if (n < 4)
        d->chip[1].last = 0; /* DMA1 was served through channel 4 */
    bool tc = step(d, n);
    if (tc) {
        terminal_count(d, n);
        return;
    }
    d->holding = (sm == i8237_mode_block || sm == i8237_mode_demand) ? (int)n : -1;
}

uint64_t i8237_run(struct i8237 *d, uint64_t max_units)
{
    uint64_t moved = 0;
    while (moved < max_units) {
        int n = pick(d);
        if (n < 0) {
            d->holding = -1;
            break;
        }
        serve(d, (unsigned)n);
        moved++;
    }
    return moved;
}

void i8237_attach(struct i8237 *d, unsigned n, const struct i8237_device_ops *ops, void *ctx)
{
    if (n >= i8237_channels || n == i8237_cascade_channel)
        return;
    d->ch[n].dev = ops;
    d->ch[n].dev_ctx = ctx;
}

void i8237_assert_dreq(struct i8237 *d, unsigned n)
{
    if (n >= i8237_channels || n == i8237_cascade_channel)
        return;
    d->ch[n].dreq = true;
    i8237_kick(d);
}

void i8237_release_dreq(struct i8237 *d, unsigned n)
{
    if (n >= i8237_channels || n == i8237_cascade_channel)
        return;
    d->ch[n].dreq = false;
}

void i8237_eop(struct i8237 *d, unsigned n)
{
    if (n >= i8237_channels || n == i8237_cascade_channel)
        return;
    if (d->chip[n >> 2].mask & (1u << (n & 3)))
        return; /* not in service: EOP is only sampled during DACK */
    terminal_count(d, n);
}

/* ---- timing on the virtual clock ---------------------------------------- */

static void tick(void *arg)
{
    struct i8237 *d = arg;
    d->tick = 0;
    i8237_run(d, d->burst);
    i8237_kick(d);
}

void i8237_kick(struct i8237 *d)
{
    if (!d->clock || d->tick || !i8237_busy(d))
        return;
    d->tick = vclock_schedule(d->clock, d->clock->now + d->unit_ns * d->burst, tick, d);
}

void i8237_use_clock(struct i8237 *d, struct vclock *clock, uint64_t unit_ns, unsigned burst)
{
    if (d->clock && d->tick)
        vclock_cancel(d->clock, d->tick);
    d->tick = 0;
    d->clock = clock;
    d->unit_ns = unit_ns ? unit_ns : 1;
    d->burst = burst ? burst : 1;
    i8237_kick(d);
}
