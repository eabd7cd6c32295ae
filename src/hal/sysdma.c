/*
 * src/hal/sysdma.c - system (subordinate) DMA through the 8237 pair:
 * programming a channel from MapTransfer, masking it at the flush,
 * ReadDmaCounter, and the controller's memory side checked by the bus.
 *
 * Models: spec/dma.md 6 (order: mask, flip-flop, mode, address, page,
 * count, unmask; mode bits; 16-bit channels' A16-A1 address and even
 * page) and spec/i8237.md 5. The HAL programs through the real ports with
 * owner_access set, so a driver writing the same ports is told apart
 * (sdma.driver-port-access). Every unit the controller moves is checked
 * against the owning adapter's live mappings like a bus master's access.
 * Rule ids: sdma.block-wrap, sdma.driver-port-access, sdma.illegal-mode,
 * sdma.unsupported-command, sdma.flush-active-channel,
 * dma.counter-on-master, dma.device-*.
 * Not modelled: EISA high page registers from the HAL side (24-bit reach).
 */
#include "sys.h"

static const uint8_t page_port[8] = {0x87, 0x83, 0x81, 0x82, 0x8F, 0x8B, 0x89, 0x8A};

static uint16_t port_of(unsigned ch, unsigned off)
{
    return ch < 4 ? (uint16_t)off : (uint16_t)(0xC0 + 2 * off);
}

static void out(struct i8237 *d, uint16_t port, uint8_t v)
{
    i8237_port_write(d, port, v);
}

void hal_sysdma_program(struct hal_adapter *a, uint64_t pa, uint32_t len, bool to_device)
{
    struct i8237 *d = &a->hal->machine->dma;
    unsigned ch = (unsigned)a->channel, i = ch & 3;
    bool word = ch >= 4;
    uint16_t addr = word ? (uint16_t)((pa >> 1) & 0xFFFF) : (uint16_t)(pa & 0xFFFF);
    uint8_t page = word ? (uint8_t)((pa >> 16) & 0xFE) : (uint8_t)((pa >> 16) & 0xFF);
    uint16_t count = (uint16_t)((word ? len / 2 : len) - 1);
    uint8_t mode = (uint8_t)(i | (to_device ? i8237_mode_read : i8237_mode_write) |
                             (a->auto_init ? i8237_mode_autoinit : 0) |
                             (a->demand_mode ? i8237_mode_demand : i8237_mode_single));
    d->owner_access = true;
    out(d, port_of(ch, 10), (uint8_t)(4 | i));
    out(d, port_of(ch, 12), 0);
    out(d, port_of(ch, 11), mode);
    out(d, port_of(ch, 2 * i), (uint8_t)addr);
    out(d, port_of(ch, 2 * i), (uint8_t)(addr >> 8));
    out(d, page_port[ch], page);
    out(d, port_of(ch, 2 * i + 1), (uint8_t)count);
    out(d, port_of(ch, 2 * i + 1), (uint8_t)(count >> 8));
    out(d, port_of(ch, 10), (uint8_t)i);
    d->owner_access = false;
}

void hal_sysdma_mask(struct hal_adapter *a)
{
    struct i8237 *d = &a->hal->machine->dma;
    unsigned ch = (unsigned)a->channel;
    d->owner_access = true;
    out(d, port_of(ch, 10), (uint8_t)(4 | (ch & 3)));
    d->owner_access = false;
}

/* Whether the channel is still transferring, for sdma.flush-active-channel
 * at the flush. Masked: cancelled, or complete (terminal count and EOP mask
 * a channel without auto-initialize). Unmasked without auto-initialize: short
 * of terminal count, whatever DREQ says (single mode drops DREQ between
 * units). Auto-initialize never completes and the driver cannot mask an
 * owned channel, so stopping the device (DREQ low) is how it cancels. */
bool hal_sysdma_active(const struct hal_adapter *a)
{
    const struct i8237 *d = &a->hal->machine->dma;
    unsigned ch = (unsigned)a->channel;
    if (d->chip[ch >> 2].mask & (1u << (ch & 3)))
        return false;
    return !(d->ch[ch].mode & i8237_mode_autoinit) || d->ch[ch].dreq;
}

/* Bytes not yet moved: the live count register, read as the HAL does
 * (re-read until the high byte is stable). */
uint32_t hal_sysdma_remaining(struct hal_adapter *a)
{
    struct i8237 *d = &a->hal->machine->dma;
    unsigned ch = (unsigned)a->channel, i = ch & 3;
    uint8_t lo, hi, hi2;
    d->owner_access = true;
    do {
        out(d, port_of(ch, 12), 0);
        i8237_port_read(d, port_of(ch, 2 * i + 1), &lo);
        i8237_port_read(d, port_of(ch, 2 * i + 1), &hi);
        out(d, port_of(ch, 12), 0);
        i8237_port_read(d, port_of(ch, 2 * i + 1), &hi2);
        i8237_port_read(d, port_of(ch, 2 * i + 1), &hi2);
    } while (hi != hi2);
    d->owner_access = false;
    uint32_t count = (uint32_t)lo | (uint32_t)hi << 8;
    return ((count + 1) & 0xFFFF) << (ch >= 5);
}

ULONG NTAPI hal_op_read_dma_counter(PDMA_ADAPTER DmaAdapter)
{
    struct hal_adapter *a = hal_enter(DmaAdapter, hal_irql_max_d, "ReadDmaCounter");
    if (!a)
        return 0;
    if (a->channel < 0) {
        hal_violation(a->hal, &hal_rule_counter_on_master, (uintptr_t)a, 0, 0,
                      "ReadDmaCounter on bus-master adapter %p", (void *)a);
        return 0;
    }
    return hal_sysdma_remaining(a);
}

/* ---- the controller's side ------------------------------------------------ */

static int ctl_access(void *ctx, unsigned ch, uint64_t pa, void *buf, unsigned len, bool to_memory)
{
    struct hal *hal = ctx;
    struct hal_adapter *a = hal->channel_owner[ch];
    enum hal_dir dir = to_memory ? hal_dir_from_device : hal_dir_to_device;
    struct hal_bus_fault_info info = {
        .fault = hal_bus_unmapped, .logical = pa, .dir = dir, .nearest_reg = -1};
    if (a && hal_bus_access(a, pa, buf, len, dir, &info) == hal_bus_ok)
        return 0;
    if (a) {
        hal_bus_report(a, &info, len);
    } else {
        hal_violation(hal, &hal_rule_device_outside_mapping, ch, pa, 0x57000011,
                      "8237 channel %u moved %u bytes %s at %#llx, but no adapter owns the "
                      "channel",
                      ch, len, hal_dir_name(dir), (unsigned long long)pa);
    }
    return -1;
}

static void ctl_event(void *ctx, enum i8237_event ev, unsigned ch, uint64_t value)
{
    struct hal *hal = ctx;
    switch (ev) {
    case i8237_ev_block_wrap:
        hal_violation(hal, &hal_rule_sdma_block_wrap, ch, value, 0,
                      "8237 channel %u wrapped inside its %u KiB block to %#llx", ch,
                      ch < 4 ? 64 : 128, (unsigned long long)value);
        break;
    case i8237_ev_foreign_port_write:
        hal_violation(hal, &hal_rule_sdma_driver_port_access, ch, value, 0,
                      "a driver programmed 8237 channel %u, which a DMA adapter owns", ch);
        break;
    case i8237_ev_illegal_mode:
        hal_violation(hal, &hal_rule_sdma_illegal_mode, ch, value, 0,
                      "8237 channel %u mode %#llx has transfer type 11", ch,
                      (unsigned long long)value);
        break;
    case i8237_ev_unsupported_command:
        hal_violation(hal, &hal_rule_sdma_unsupported_command, ch, value, 0,
                      "8237 command %#llx sets bits wdmsim does not model",
                      (unsigned long long)value);
        break;
    default:
        break;
    }
}

static const struct i8237_bus_ops hal_i8237_ops = {
    .access = ctl_access,
    .event = ctl_event,
};

void hal_sysdma_init(struct hal *hal)
{
    i8237_set_bus(&hal->machine->dma, &hal_i8237_ops, hal);
}
