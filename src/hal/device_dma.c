/*
 * src/hal/device_dma.c - include/wdmsim/device_dma.h: device models'
 * memory accesses and their system DMA channel.
 *
 * Models: the bus side of spec/dma.md 4. A device's accesses go through the
 * adapter bound to it (IoGetDmaAdapter on its PDO); a device with no live
 * adapter has no mapping, so every access is refused. Reports name device,
 * logical address, direction and the nearest register's mapping.
 * Rule ids: dma.device-outside-mapping, dma.device-wrong-direction,
 * dma.device-beyond-reach (0xE6/0x26 with the wdmsim subcode in P4).
 */
#include <stdio.h>

#include <wdmsim/device.h>

#include "sys.h"

void hal_bus_report(struct hal_adapter *a, const struct hal_bus_fault_info *info, size_t len)
{
    const struct vf_rule *rule = &hal_rule_device_outside_mapping;
    uint64_t sub = 0x57000011;
    if (info->fault == hal_bus_wrong_direction)
        rule = &hal_rule_device_wrong_direction, sub = 0x57000012;
    else if (info->fault == hal_bus_beyond_reach)
        rule = &hal_rule_device_beyond_reach, sub = 0x57000013;
    else if (a->lim.logical_xor && info->fault == hal_bus_unmapped &&
             (hal_mapreg_lookup(&a->regs, info->logical >> a->lim.page_shift) >= 0 ||
              hal_common_find(a, info->logical ^ a->lim.logical_xor, 1)))
        /* logical-offset: the address is a live mapping's physical one. */
        rule = &hal_rule_physical_address_used;
    char nearest[160] = "no mapping of the adapter is live";
    if (info->nearest_reg >= 0) {
        const struct hal_mapreg *r = &a->regs.reg[info->nearest_reg];
        snprintf(nearest, sizeof(nearest), "map register %d maps [%#llx, +%u) %s",
                 info->nearest_reg,
                 (unsigned long long)((r->target << a->lim.page_shift) + r->offset), r->length,
                 hal_dir_name((enum hal_dir)r->dir));
    }
    const char *name = a->dev ? wdmsim_dev_name(a->dev) : "(unbound)";
    hal_violation(a->hal, rule, (uintptr_t)(a->pdo ? (void *)a->pdo : (void *)a->dev),
                  info->logical, sub,
                  "device %s accessed logical %#llx (%zu bytes, %s, %u-bit device): %s; %s", name,
                  (unsigned long long)info->logical, len, hal_dir_name(info->dir), a->width,
                  info->fault == hal_bus_beyond_reach      ? "beyond its address width"
                  : info->fault == hal_bus_wrong_direction ? "against the mapping's direction"
                                                           : "outside every live mapping",
                  nearest);
}

static int dev_access(wdmsim_dev *dev, uint64_t logical, void *buf, size_t len, enum hal_dir dir)
{
    struct sys *sys = sys_get();
    struct hal_adapter *a = hal_adapter_of_dev(&sys->hal, dev);
    if (!a) {
        hal_violation(&sys->hal, &hal_rule_device_outside_mapping, (uintptr_t)dev, logical,
                      0x57000011,
                      "device %s accessed logical %#llx (%zu bytes, %s) with no DMA "
                      "adapter",
                      wdmsim_dev_name(dev), (unsigned long long)logical, len, hal_dir_name(dir));
        return -1;
    }
    struct hal_bus_fault_info info;
    if (hal_bus_access(a, logical, buf, len, dir, &info) == hal_bus_ok)
        return 0;
    hal_bus_report(a, &info, len);
    return -1;
}

int wdmsim_dma_read(wdmsim_dev *dev, uint64_t logical, void *buf, size_t len)
{
    return dev_access(dev, logical, buf, len, hal_dir_to_device);
}

int wdmsim_dma_write(wdmsim_dev *dev, uint64_t logical, const void *buf, size_t len)
{
    return dev_access(dev, logical, (void *)buf, len, hal_dir_from_device);
}

/* ---- system DMA ---------------------------------------------------------- */

static int channel_of(wdmsim_dev *dev)
{
    struct machine_resource res[machine_max_resources];
    unsigned n = machine_device_resources(dev, res);
    for (unsigned i = 0; i < n; i++)
        if (res[i].kind == machine_res_dma)
            return (int)res[i].start;
    return -1;
}

static uint16_t tramp_read(void *ctx, unsigned ch)
{
    const struct hal_slave *s = ctx;
    return s->ops->read_unit ? s->ops->read_unit(s->state) : 0xFFFF;
}

static void tramp_write(void *ctx, unsigned ch, uint16_t v)
{
    const struct hal_slave *s = ctx;
    if (s->ops->write_unit)
        s->ops->write_unit(s->state, v);
}

static void tramp_tc(void *ctx, unsigned ch)
{
    const struct hal_slave *s = ctx;
    if (s->ops->terminal_count)
        s->ops->terminal_count(s->state);
}

static const struct i8237_device_ops tramp = {
    .read_unit = tramp_read,
    .write_unit = tramp_write,
    .tc = tramp_tc,
};

int wdmsim_dma_slave_attach(wdmsim_dev *dev, const struct wdmsim_dma_slave_ops *ops, void *state)
{
    struct sys *sys = sys_get();
    int ch = channel_of(dev);
    if (ch < 0 || ch == i8237_cascade_channel || ch >= i8237_channels)
        return -1;
    sys->hal.slave[ch] = (struct hal_slave){.ops = ops, .state = state, .dev = dev};
    i8237_attach(&sys->machine.dma, (unsigned)ch, &tramp, &sys->hal.slave[ch]);
    return 0;
}

void wdmsim_dma_request(wdmsim_dev *dev, bool asserted)
{
    struct sys *sys = sys_get();
    int ch = channel_of(dev);
    if (ch < 0)
        return;
    if (asserted)
        i8237_assert_dreq(&sys->machine.dma, (unsigned)ch);
    else
        i8237_release_dreq(&sys->machine.dma, (unsigned)ch);
}

void wdmsim_dma_eop(wdmsim_dev *dev)
{
    struct sys *sys = sys_get();
    int ch = channel_of(dev);
    if (ch >= 0)
        i8237_eop(&sys->machine.dma, (unsigned)ch);
}

uint64_t wdmsim_dma_run(wdmsim_dev *dev, uint64_t max_units)
{
    struct sys *sys = sys_get();
    return i8237_run(&sys->machine.dma, max_units);
}
