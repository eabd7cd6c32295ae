/*
 * tests/devices/dev_test.h - driving a device model as a driver would, from
 * host test code running as kernel code (wdmsim_call): a booted machine from
 * INI text, register accesses through the buses, a DMA adapter bound to the
 * device with common buffers at known logical addresses, and virtual time
 * moved by hand (interrupt lines stay masked: the tests read them).
 */
#ifndef WDMSIM_TESTS_DEV_TEST_H
#define WDMSIM_TESTS_DEV_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <wdm.h>
#include <wdmsim/device.h>
#include <wdmsim/wdmsim.h>

#include "sys.h"

struct dt {
    wdmsim *sim;
    char ini[64];
    struct wdmsim_dev *dev;
    struct wdmsim_dev_resources res;
    unsigned bus_faults; /* refusals the HAL reported (violation hook) */
};

static inline void dt_hal_fault(void *ctx, const struct vf_rule *rule, uint64_t a, uint64_t b,
                                uint64_t c)
{
    ((struct dt *)ctx)->bus_faults++;
}

/* Boots a machine from INI text; dev = the instance named `name`. */
static inline void dt_boot(struct dt *t, const char *ini_text, const char *name, uint64_t seed)
{
    memset(t, 0, sizeof(*t));
    strcpy(t->ini, "/tmp/wdmsim-devtest-XXXXXX");
    int fd = mkstemp(t->ini);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, ini_text, strlen(ini_text)), (ssize_t)strlen(ini_text));
    close(fd);
    struct wdmsim_config cfg = {.machine_path = t->ini, .seed = seed};
    struct wdmsim_error err;
    if (wdmsim_boot(&cfg, &t->sim, &err) != WDMSIM_OK)
        fail_msg("boot: %s", err.text);
    t->dev = wdmsim_device(t->sim, name);
    assert_non_null(t->dev);
    wdmsim_dev_get_resources(t->dev, &t->res);
}

/* Boot must fail with `want` in the message. */
static inline void dt_boot_fails(const char *ini_text, const char *want)
{
    char path[64] = "/tmp/wdmsim-devtest-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, ini_text, strlen(ini_text)), (ssize_t)strlen(ini_text));
    close(fd);
    struct wdmsim_config cfg = {.machine_path = path, .seed = 1};
    struct wdmsim_error err;
    wdmsim *sim;
    int rc = wdmsim_boot(&cfg, &sim, &err);
    unlink(path);
    assert_int_equal(rc, WDMSIM_EINPUT);
    if (!strstr(err.text, want))
        fail_msg("error '%s' lacks '%s'", err.text, want);
}

static inline void dt_done(struct dt *t)
{
    wdmsim_shutdown(t->sim);
    unlink(t->ini);
}

/* Runs fn(t) as kernel code; the machine must not stop. */
static inline void dt_run(struct dt *t, void (*fn)(void *))
{
    int rc = wdmsim_call(t->sim, fn, t);
    const struct wdmsim_bugcheck *bc = wdmsim_get_bugcheck(t->sim);
    if (rc != WDMSIM_OK)
        fail_msg("stopped: 0x%X %s: %s", bc ? bc->code : 0, bc && bc->rule ? bc->rule : "-",
                 bc && bc->text ? bc->text : "");
}

/* ---- inside dt_run ---------------------------------------------------------- */

static inline struct sys *dt_sys(void)
{
    return sys_get();
}

static inline uint64_t dt_now(void)
{
    return sys_get()->machine.clock.now;
}

/* Moves virtual time to `when`, firing each device event at its own time
 * (one jump would run them all with the clock already at `when`). */
static inline void dt_until(uint64_t when)
{
    struct sys *sys = sys_get();
    uint64_t next;
    while (vclock_next(&sys->machine.clock, &next) && next <= when) {
        if (next > sys->machine.clock.now)
            ke_clock_advance(&sys->ke, next);
        else
            vclock_run_due(&sys->machine.clock);
    }
    ke_clock_advance(&sys->ke, when);
}

static inline void dt_wait(uint64_t ns)
{
    dt_until(dt_now() + ns);
}

static inline void dt_mmio_w(struct dt *t, uint32_t off, uint32_t v)
{
    bus_mmio_write(&sys_get()->machine, t->res.bar[0] + off, 4, v);
}

static inline uint32_t dt_mmio_r(struct dt *t, uint32_t off)
{
    uint64_t v = 0;
    bus_mmio_read(&sys_get()->machine, t->res.bar[0] + off, 4, &v);
    return (uint32_t)v;
}

static inline void dt_port_w(struct dt *t, uint32_t off, unsigned w, uint32_t v)
{
    bus_port_write(&sys_get()->machine, t->res.isa_port_base + off, w, v);
}

static inline uint32_t dt_port_r(struct dt *t, uint32_t off, unsigned w)
{
    uint64_t v = 0;
    bus_port_read(&sys_get()->machine, t->res.isa_port_base + off, w, &v);
    return (uint32_t)v;
}

static inline void dt_pci_command(struct dt *t, uint16_t bits)
{
    pci_config_write(t->dev, 0x04, 2, bits);
}

static inline bool dt_line(struct dt *t)
{
    return sys_get()->machine.intc.line[t->res.irq].asserted;
}

/* A bus-master adapter bound to the device (as IoGetDmaAdapter on its PDO
 * binds it), with HAL bus refusals counted instead of stopping the run. */
static inline PDMA_ADAPTER dt_master(struct dt *t, unsigned width, ULONG maxlen)
{
    DEVICE_DESCRIPTION d;
    memset(&d, 0, sizeof(d));
    d.Version = DEVICE_DESCRIPTION_VERSION3;
    d.Master = TRUE;
    d.ScatterGather = TRUE;
    d.InterfaceType = PCIBus;
    d.MaximumLength = maxlen;
    d.DmaAddressWidth = width;
    ULONG n = 0;
    PDMA_ADAPTER a = IoGetDmaAdapter(NULL, &d, &n);
    assert_non_null(a);
    hal_adapter_bind((struct hal_adapter *)a, t->dev);
    sys_get()->hal.violation_hook = dt_hal_fault;
    sys_get()->hal.violation_ctx = t;
    return a;
}

/* A common buffer: host-visible va and the logical address the device uses. */
static inline uint8_t *dt_common(PDMA_ADAPTER a, ULONG len, uint64_t *logical)
{
    PHYSICAL_ADDRESS la;
    uint8_t *va = a->DmaOperations->AllocateCommonBuffer(a, len, &la, FALSE);
    assert_non_null(va);
    memset(va, 0, len);
    *logical = (uint64_t)la.QuadPart;
    return va;
}

static inline void dt_fill(uint8_t *b, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 8));
}

#endif
