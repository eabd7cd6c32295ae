/*
 * src/machine/bus_pci.c - PCI configuration space of one function.
 *
 * Models: devices/README.md 2: a type 0 header of 256 bytes with no
 * capabilities; Command bits 0, 1, 2, 10 writable; Status bit 3 = the
 * device's interrupt request before Interrupt Disable; BAR sizing (write
 * all ones, read back the size mask); Interrupt Line / Pin.
 * Not modelled: configuration mechanism #1 ports (0xCF8/0xCFC); wdmsim's
 * PCI bus driver reaches the header through these calls.
 */
#include <string.h>

#include "machine/device_impl.h"

enum {
    pci_writable_command = pci_cmd_io | pci_cmd_memory | pci_cmd_bus_master | pci_cmd_int_disable,
    pci_status_interrupt = 1u << 3,
};

static uint32_t bar_value(const struct wdmsim_dev *d, unsigned b)
{
    const struct wdmsim_bar *bar = &d->model->bar[b];
    if (bar->kind == WDMSIM_BAR_NONE)
        return 0;
    uint32_t mask = ~(bar->size - 1);
    uint32_t low = bar->kind == WDMSIM_BAR_IO ? 1u : 0u;
    return (d->bar_reg[b] & mask) | low;
}

static uint8_t header_byte(const struct wdmsim_dev *d, unsigned off)
{
    const struct wdmsim_device_model *mo = d->model;
    uint32_t dword = 0;
    switch (off & ~3u) {
    case 0x00:
        dword = mo->vendor_id | (uint32_t)mo->device_id << 16;
        break;
    case 0x04:
        dword = d->command | (uint32_t)(d->irq_level ? pci_status_interrupt : 0) << 16;
        break;
    case 0x08:
        dword = mo->revision | (uint32_t)mo->class_code[0] << 8 |
                (uint32_t)mo->class_code[1] << 16 | (uint32_t)mo->class_code[2] << 24;
        break;
    case 0x0C:
        dword = 0;
        break; /* header type 0, single function */
    case 0x10:
    case 0x14:
    case 0x18:
    case 0x1C:
    case 0x20:
    case 0x24:
        dword = bar_value(d, ((off & ~3u) - 0x10) / 4);
        break;
    case 0x2C:
        dword = mo->vendor_id | (uint32_t)mo->device_id << 16;
        break;
    case 0x3C:
        dword = (d->irq >= 0 ? (uint32_t)d->irq & 0xFF : 0xFF) | 1u << 8;
        break;
    default:
        dword = 0;
        break;
    }
    return (uint8_t)(dword >> (8 * (off & 3)));
}

uint32_t pci_config_read(struct wdmsim_dev *d, unsigned offset, unsigned width)
{
    if (d->model->bus != WDMSIM_BUS_PCI || offset + width > 256 ||
        (width != 1 && width != 2 && width != 4))
        return ~0u;
    uint32_t v = 0;
    for (unsigned i = 0; i < width; i++)
        v |= (uint32_t)header_byte(d, offset + i) << (8 * i);
    return v;
}

void pci_config_write(struct wdmsim_dev *d, unsigned offset, unsigned width, uint32_t value)
{
    if (d->model->bus != WDMSIM_BUS_PCI || offset + width > 256)
        return;
    if (offset == 0x04 && width >= 2) {
        d->command = (uint16_t)(value & pci_writable_command);
        bus_update_irq(d);
    } else if (offset >= 0x10 && offset < 0x28 && width == 4 && !(offset & 3)) {
        /* Sizing writes change what reads back; decoding stays at the
         * machine's assignment (wdmsim does not move BARs). */
        d->bar_reg[(offset - 0x10) / 4] = value;
    }
}
