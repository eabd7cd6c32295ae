/*
 * src/machine/machine.h - the simulated hardware: the whole interface of
 * src/machine to the layers above.
 *
 * Models: a PC-like machine: processors, physical RAM with holes (one sparse
 * memfd; a physical address is an offset into it), a PFN database with
 * zones, a seeded PRNG for every random choice.
 * Spec: ARCHITECTURE.md 2, issue "Foundation" item 4.
 * Invariants: the machine knows nothing of Windows: no NTSTATUS, no IRQL.
 */
#ifndef WDMSIM_MACHINE_H
#define WDMSIM_MACHINE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "machine/i8237.h"

enum {
    machine_max_processors = 64,
    machine_max_ram_ranges = 32,
    machine_max_devices = 64,
    machine_max_device_knobs = 32,
};

/* Highest physical address this build maps (1 TiB): the direct map and the
 * PFN database are sized by it; a config asking for more is refused. */
#define MACHINE_PHYS_LIMIT (1ULL << 40)

/* An error in host terms: what failed, where (file:line) and why. */
struct machine_error {
    char text[512];
};
void machine_error_set(struct machine_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- configuration (config.c) -------------------------------------------- */

enum frame_placement {
    frame_placement_scattered = 0, /* seeded random frames: realistic fragmentation */
    frame_placement_contiguous,    /* lowest free frames first: easy to read */
};

struct ram_range {
    uint64_t start; /* page-aligned */
    uint64_t end;   /* exclusive, page-aligned */
};

/* A device instance as the config declares it; the model interprets knobs. */
struct machine_device_config {
    char name[64]; /* section name: [device NAME] */
    char model[32];
    char driver[64];
    int line; /* config line of the section, for messages */
    unsigned nknobs;
    struct {
        char key[32];
        char value[128];
        int line;
    } knobs[machine_max_device_knobs];
};

struct machine_config {
    char path[256]; /* "" for the built-in default */
    unsigned processors;
    unsigned page_shift; /* 12 or 13 */
    enum frame_placement placement;
    unsigned nranges;
    struct ram_range ranges[machine_max_ram_ranges];
    uint64_t system_va_bytes; /* size of the simulated system address space */
    unsigned ndevices;
    struct machine_device_config devices[machine_max_devices];
    char reg_file[512]; /* [registry] reg = FILE.reg, relative to the config */
};

/* The default machine: 2 processors, 4 KiB pages, RAM 0-640 KiB,
 * 1 MiB-3 GiB and 4 GiB-5 GiB, scattered placement. Cannot fail. */
void machine_config_default(struct machine_config *cfg);
/* Parses an INI file over the defaults. Returns 0, or -1 with err naming
 * file, line and problem; cfg is then unspecified. */
int machine_config_load(struct machine_config *cfg, const char *path, struct machine_error *err);
/* Checks cross-field rules (overlaps, limits). Returns 0 or -1 with err. */
int machine_config_validate(const struct machine_config *cfg, struct machine_error *err);
/* Parses "640K", "0x1000", "3G", "1T" into bytes. Returns 0 or -1. */
int machine_parse_size(const char *text, uint64_t *out);

/* ---- seeded PRNG (rng.c): xoshiro256** seeded through splitmix64 -------- */

struct rng {
    uint64_t s[4];
};
void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
/* Uniform in [0, bound); bound > 0. */
uint64_t rng_below(struct rng *r, uint64_t bound);

/* ---- physical RAM (ram.c) ------------------------------------------------ */

struct ram {
    int memfd;       /* backing store; PA == file offset */
    uint64_t span;   /* file size: highest RAM end */
    uint8_t *direct; /* direct map of [0, span): how the bus reaches RAM */
};

/* ---- PFN database (pfn.c) ------------------------------------------------ */

enum pfn_zone {
    pfn_zone_dma24 = 0, /* below 16 MiB: what an ISA device can reach */
    pfn_zone_dma32,     /* below 4 GiB */
    pfn_zone_high,      /* the rest */
    pfn_zone_count,
};

/* One entry per frame of the physical span; zero means "not RAM or free",
 * so the table costs only the pages touched. */
struct pfn_entry {
    uint32_t flags;     /* pfn_flag_* */
    uint32_t map_count; /* virtual mappings of this frame */
};

enum {
    pfn_flag_allocated = 1u << 0,
    pfn_flag_locked = 1u << 1,
};

struct pfn_db {
    uint64_t nframes; /* frames in the physical span */
    unsigned page_shift;
    struct pfn_entry *entries; /* nframes entries, anonymous sparse mapping */
    uint64_t *used;            /* bitmap: 1 = allocated or not RAM */
    uint64_t zone_start[pfn_zone_count], zone_end[pfn_zone_count]; /* frame numbers */
    uint64_t zone_free[pfn_zone_count];
    uint64_t ram_frames;
    enum frame_placement placement;
    struct rng rng; /* placement choices only */
};

/* ---- virtual clock (vclock.c) ---------------------------------------------
 * Nanoseconds since power on; moves only when the scheduler advances it.
 * Events fire in (time, scheduling order). */
struct vclock_event;
struct vclock {
    uint64_t now;
    uint64_t next_id;
    struct vclock_event *head; /* sorted by (when, id) */
    unsigned pending;
};
void vclock_init(struct vclock *c);
void vclock_fini(struct vclock *c);
/* Calls fn(arg) once virtual time reaches when (a past time means "now").
 * Returns the event id (never 0), or 0 when out of host memory. */
uint64_t vclock_schedule(struct vclock *c, uint64_t when, void (*fn)(void *arg), void *arg);
/* Removes a pending event; false if it already fired or never existed. */
bool vclock_cancel(struct vclock *c, uint64_t id);
/* Time of the earliest pending event; false when none. */
bool vclock_next(const struct vclock *c, uint64_t *when);
/* Sets now to `to` if later (never backwards). Fires nothing. */
void vclock_advance(struct vclock *c, uint64_t to);
/* Fires every event due at or before now; returns how many fired. */
unsigned vclock_run_due(struct vclock *c);

/* ---- interrupt controller (intc.c) ----------------------------------------
 * Lines a device asserts; level lines request service while asserted, edge
 * lines latch a rising edge until acknowledged. Masked lines never request. */
enum { intc_max_lines = 64 };
struct intc_line {
    bool edge; /* false: level-triggered */
    bool asserted;
    bool latched; /* edge seen, not yet acknowledged */
    bool masked;  /* true until the kernel connects a handler */
    uint64_t assertions, deliveries;
};
struct intc {
    struct intc_line line[intc_max_lines];
    uint64_t requesting; /* bit n: line n wants service */
};
void intc_init(struct intc *ic);
/* Returns 0, or -1 for a line number out of range. */
int intc_configure(struct intc *ic, unsigned line, bool edge);
void intc_set_masked(struct intc *ic, unsigned line, bool masked);
/* Device side: drive the line. Out-of-range lines are ignored. */
void intc_assert(struct intc *ic, unsigned line);
void intc_deassert(struct intc *ic, unsigned line);
/* Processor side: the interrupt was taken (clears an edge latch). */
void intc_ack(struct intc *ic, unsigned line);

/* ---- devices and buses (device.c, bus.c, bus_pci.c) --------------------------
 * Device instances built from the config's [device] sections by the models
 * of devices/ (include/wdmsim/device.h); the buses route port and MMIO
 * accesses to them. struct wdmsim_dev is one instance. */
struct wdmsim_dev;
struct wdmsim_device_model;
struct machine_devices;

/* Builds, validates and realizes every configured device (resources
 * assigned, knobs checked, models reset). Returns 0, or -1 with err naming
 * file:line, device and problem (unknown model, overlapping ports, a BAR
 * that does not fit, a bad knob); nothing is left allocated. */
int machine_devices_create(struct machine *m, struct machine_error *err);
void machine_devices_destroy(struct machine *m);
unsigned machine_device_count(const struct machine *m);
struct wdmsim_dev *machine_device_at(struct machine *m, unsigned index);
/* Model by name from devices/ (NULL when unknown). */
const struct wdmsim_device_model *machine_model_find(const char *name);
const struct wdmsim_device_model *machine_device_model(const struct wdmsim_dev *dev);
const struct machine_device_config *machine_device_config_of(const struct wdmsim_dev *dev);
/* Violations every device reported so far. */
unsigned machine_device_violations(const struct machine *m);

/* A device's resources in devices/README.md 4 order: BARs, interrupt, DMA. */
enum machine_res_kind {
    machine_res_port = 1,
    machine_res_memory,
    machine_res_irq,
    machine_res_dma,
};
struct machine_resource {
    enum machine_res_kind kind;
    uint64_t start;  /* port base, memory base, IRQ line, DMA channel */
    uint64_t length; /* bytes; 0 for irq and dma */
    bool edge;       /* irq: edge-triggered (ISA), else level and shared (PCI) */
};
enum { machine_max_resources = 8 };
unsigned machine_device_resources(const struct wdmsim_dev *dev, struct machine_resource *out);
bool machine_device_is_pci(const struct wdmsim_dev *dev);
unsigned machine_device_pci_slot(const struct wdmsim_dev *dev);

/* Accesses as a processor makes them. width 1, 2, 4 (ports) or 8 (MMIO).
 * Return 0, or -1 when no device decodes the address (reads give all ones). */
int bus_port_read(struct machine *m, uint32_t port, unsigned width, uint64_t *value);
int bus_port_write(struct machine *m, uint32_t port, unsigned width, uint64_t value);
int bus_mmio_read(struct machine *m, uint64_t pa, unsigned width, uint64_t *value);
int bus_mmio_write(struct machine *m, uint64_t pa, unsigned width, uint64_t value);
/* True when some device's memory BAR covers pa. */
bool bus_mmio_claimed(struct machine *m, uint64_t pa);

/* PCI configuration space of one function (the PCI bus driver's view). */
uint32_t pci_config_read(struct wdmsim_dev *dev, unsigned offset, unsigned width);
void pci_config_write(struct wdmsim_dev *dev, unsigned offset, unsigned width, uint32_t value);
enum {
    pci_cmd_io = 1u << 0,
    pci_cmd_memory = 1u << 1,
    pci_cmd_bus_master = 1u << 2,
    pci_cmd_int_disable = 1u << 10,
};

/* ---- the machine ---------------------------------------------------------- */

struct machine {
    struct machine_config cfg;
    unsigned page_shift;
    uint64_t page_size;
    uint64_t seed;
    struct rng rng; /* everything random that is not frame placement */
    struct ram ram;
    struct pfn_db pfn;
    struct vclock clock;
    struct intc intc;
    struct i8237 dma;                /* system DMA controller pair (i8237.c) */
    struct machine_devices *devices; /* device.c; NULL before machine_devices_create */
};

/* Builds RAM and the PFN database. Returns 0, or -1 with err (host errno
 * named) and nothing left allocated. */
int machine_create(struct machine *m, const struct machine_config *cfg, uint64_t seed,
                   struct machine_error *err);
void machine_destroy(struct machine *m);

bool machine_is_ram(const struct machine *m, uint64_t pa);
/* Host pointer for physical address pa through the direct map; pa must be RAM. */
static inline void *machine_pa_ptr(const struct machine *m, uint64_t pa)
{
    return m->ram.direct + pa;
}

/* Frames. Each returns a frame number or UINT64_MAX when none fits. */
uint64_t pfn_alloc(struct pfn_db *db, uint64_t max_frame_excl);
/* One frame in [lo_frame, hi_frame_excl), placed as pfn_alloc places. */
uint64_t pfn_alloc_range(struct pfn_db *db, uint64_t lo_frame, uint64_t hi_frame_excl);
/* n physically contiguous frames in [lo, hi) not crossing a multiple of
 * boundary frames (0 = none); lowest fit first. */
uint64_t pfn_alloc_run(struct pfn_db *db, uint64_t n, uint64_t lo, uint64_t hi, uint64_t boundary);
void pfn_free(struct pfn_db *db, uint64_t frame);
bool pfn_is_allocated(const struct pfn_db *db, uint64_t frame);
enum pfn_zone pfn_zone_of(const struct pfn_db *db, uint64_t frame);
uint64_t pfn_free_frames(const struct pfn_db *db);

#endif
