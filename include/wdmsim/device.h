/*
 * include/wdmsim/device.h - the device-model API: how a simulated device
 * plugs into the machine.
 *
 * Models: a device model is the hardware behind a driver: PCI config space
 * and BARs or ISA resources, registers reached through port and MMIO
 * accesses that the bus routes to it, one interrupt line, events on the
 * virtual clock, and (device_dma.h) memory reached only through the bus.
 * A model knows nothing of Windows: no NTSTATUS, no IRQL, no MDL.
 * Spec: shared/devices/README.md (conventions every model follows).
 *
 * Lifecycle (STYLE.md "Device models"): the machine allocates state_size
 * zeroed bytes per instance, then calls
 *   create(state, dev)   cannot fail: set the fields that need no knob;
 *   realize(state, dev, err, errlen)  may fail: read knobs (0 or -1 with a
 *                        message naming the knob);
 *   reset(state)         power-on and soft reset (also the reset register);
 *   destroy(state)       free what realize allocated.
 * Register accesses arrive through read/write with the region (PCI BAR
 * number, or 0 for an ISA port range), the offset inside it and the width
 * in bytes (1, 2, 4, 8). The bus has already checked the decode enable
 * bits; the model checks widths and offsets against its register table.
 */
#ifndef WDMSIM_DEVICE_H
#define WDMSIM_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One device instance as the machine sees it (bus, resources, line, log). */
typedef struct wdmsim_dev wdmsim_dev;

enum wdmsim_bus_kind {
    WDMSIM_BUS_PCI = 1,
    WDMSIM_BUS_ISA = 2,
};

enum wdmsim_bar_kind {
    WDMSIM_BAR_NONE = 0,
    WDMSIM_BAR_IO,    /* I/O space, size a power of two >= 4 */
    WDMSIM_BAR_MEM32, /* 32-bit non-prefetchable memory, size a power of two >= 16 */
};

enum { WDMSIM_MAX_BARS = 6 };

struct wdmsim_bar {
    enum wdmsim_bar_kind kind;
    uint32_t size;
};

/* The static description of a model: what it is, what it needs, its ops.
 * One const instance per model, named wdmsim_model_<name>. */
struct wdmsim_device_model {
    const char *name;   /* config "model = NAME" */
    const char *prefix; /* report rule prefix: "PIO" gives PIO_BAD_ACCESS */
    enum wdmsim_bus_kind bus;
    /* PCI identity and BARs (bus == WDMSIM_BUS_PCI) */
    uint16_t vendor_id, device_id;
    uint8_t revision;
    uint8_t class_code[3]; /* prog-if, subclass, class */
    struct wdmsim_bar bar[WDMSIM_MAX_BARS];
    /* ISA resources (bus == WDMSIM_BUS_ISA): defaults; the config may move them */
    uint32_t isa_ports;     /* number of I/O ports */
    uint32_t isa_port_base; /* default base */
    int isa_irq;            /* default IRQ, -1 none */
    int isa_dma;            /* default DMA channel, -1 none */
    /* knob names the model accepts (NULL-terminated); resources are the bus's */
    const char *const *knobs;
    size_t state_size;
    void (*create)(void *state, wdmsim_dev *dev);
    int (*realize)(void *state, wdmsim_dev *dev, char *err, size_t errlen);
    void (*reset)(void *state);
    void (*destroy)(void *state);
    uint64_t (*read)(void *state, unsigned region, uint64_t offset, unsigned width);
    void (*write)(void *state, unsigned region, uint64_t offset, unsigned width, uint64_t value);
};

/* ---- services the machine gives a model ------------------------------------- */

/* The instance name ([device NAME]) and the model's state. */
const char *wdmsim_dev_name(const wdmsim_dev *dev);
void *wdmsim_dev_state(wdmsim_dev *dev);

/* A knob's text as the config wrote it, or NULL when unset. */
const char *wdmsim_dev_knob(const wdmsim_dev *dev, const char *key);
/* The resources the bus assigned (fixed at creation): BAR addresses (PCI),
 * the ISA port base, the interrupt line and the DMA channel (-1 none). */
struct wdmsim_dev_resources {
    uint64_t bar[WDMSIM_MAX_BARS];
    uint32_t isa_port_base;
    int irq;
    int dma;
};
void wdmsim_dev_get_resources(const wdmsim_dev *dev, struct wdmsim_dev_resources *out);
/* The PCI Command register as software last wrote it (0 for ISA): a bus
 * master checks bit 2 (Bus Master) before every bus access. */
uint16_t wdmsim_dev_pci_command(const wdmsim_dev *dev);

/* A numeric knob in [min, max] (decimal or 0x hex), or def when unset.
 * Returns 0, or -1 with err naming the config line, the knob and the range. */
int wdmsim_dev_knob_u64(const wdmsim_dev *dev, const char *key, uint64_t def, uint64_t min,
                        uint64_t max, uint64_t *out, char *err, size_t errlen);

/* Drives the device's interrupt line: asserted while `level` is true. A PCI
 * device's INTA# stays deasserted while Command.Interrupt Disable is set
 * (Status.Interrupt Status still follows `level`). An edge line (ISA) sees a
 * rising edge when level goes from false to true. */
void wdmsim_dev_irq(wdmsim_dev *dev, bool level);

/* Virtual time in nanoseconds, and events on it. schedule returns an id
 * (never 0; 0 = host out of memory); cancel returns false if it fired. */
uint64_t wdmsim_dev_now(const wdmsim_dev *dev);
uint64_t wdmsim_dev_schedule(wdmsim_dev *dev, uint64_t when, void (*fn)(void *arg), void *arg);
bool wdmsim_dev_cancel(wdmsim_dev *dev, uint64_t id);

/* A seeded random stream of this instance (machine seed + instance name). */
uint64_t wdmsim_dev_random(wdmsim_dev *dev);

enum wdmsim_report_kind {
    WDMSIM_REPORT_VIOLATION = 1, /* the host broke the device's protocol */
    WDMSIM_REPORT_EVENT = 2,     /* noteworthy device behaviour */
};
/* Writes a report to the host log: "<time> <instance> <PREFIX>_<rule> ...".
 * rule is the suffix ("BAD_ACCESS"). Never stops the machine. */
void wdmsim_dev_report(wdmsim_dev *dev, enum wdmsim_report_kind kind, const char *rule,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Reports of one rule so far ("PIO_BAD_ACCESS"), for tests. */
unsigned wdmsim_dev_report_count(const wdmsim_dev *dev, const char *rule);

#ifdef __cplusplus
}
#endif

#if __has_include(<wdmsim/device_dma.h>)
#include <wdmsim/device_dma.h>
#endif

#endif
