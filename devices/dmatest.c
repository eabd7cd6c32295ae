/*
 * devices/dmatest.c - DMT-1, the minimal DMA test device (PCI `dmatest`,
 * ISA `dmatest_isa`).
 *
 * Models: docs/devices/dmatest.md (no datasheet in shared/devices: a test
 * device). One command at a time between the internal buffer and memory:
 * mode single (one logical address/length pair), mode table (a table of
 * (logical address, length) descriptors the device fetches through the
 * bus), mode slave (DREQ on the device's 8237 channel; the controller moves
 * bytes or words through the slave callbacks; terminal count, or LENGTH
 * with STREAM, ends it). Bus-master data moves after LATENCY in
 * transactions that never cross a 4 KiB logical boundary (devices/README.md
 * 7); DONE latches, and the interrupt is DONE while IEN.
 * Spec: docs/devices/dmatest.md; devices/README.md 5-9 (conventions).
 * Invariants: busy == a command is latched; at most one clock event pending;
 * the device never drives an address its width cannot carry (checked before
 * any byte moves); every memory access goes through wdmsim_dma_read/write or
 * the 8237, so the HAL's bus checks apply; a driver-written value never
 * breaks the model (reports instead).
 * Not modelled: timing of the data phase (all transactions of a bus-master
 * command happen in one event), ISA bus-master cascade mode (the ISA model
 * masters the bus without a cascade channel), descriptor write-back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wdmsim/device.h>

#include "dmatest.h"

enum {
    dmt_page = 4096, /* transactions never cross a 4 KiB logical boundary */
    dmt_pci_bus_master = 1u << 2,
    dmt_ctrl_stored =
        dmatest_ctrl_to_device | dmatest_ctrl_mode_mask | dmatest_ctrl_ien | dmatest_ctrl_stream,
    dmt_ctrl_valid = dmt_ctrl_stored | dmatest_ctrl_go | dmatest_ctrl_reset,
};

enum dmt_acc { dmt_ro, dmt_rw, dmt_rw1c };

struct dmt_regdef {
    uint32_t offset;
    enum dmt_acc acc;
    uint32_t valid; /* writable bits; others reserved */
    const char *name;
};

/* The register map (docs/devices/dmatest.md 1). */
static const struct dmt_regdef dmt_regs[] = {
    {dmatest_reg_id, dmt_ro, 0, "ID"},
    {dmatest_reg_caps, dmt_ro, 0, "CAPS"},
    {dmatest_reg_bufsize, dmt_ro, 0, "BUFSIZE"},
    {dmatest_reg_addr_lo, dmt_rw, 0xFFFFFFFF, "ADDR_LO"},
    {dmatest_reg_addr_hi, dmt_rw, 0xFFFFFFFF, "ADDR_HI"},
    {dmatest_reg_length, dmt_rw, 0xFFFFFFFF, "LENGTH"},
    {dmatest_reg_devoff, dmt_rw, 0xFFFFFFFF, "DEVOFF"},
    {dmatest_reg_ndesc, dmt_rw, 0xFFFFFFFF, "NDESC"},
    {dmatest_reg_control, dmt_rw, dmt_ctrl_valid, "CONTROL"},
    {dmatest_reg_status, dmt_rw1c, dmatest_st_done | dmatest_st_error, "STATUS"},
    {dmatest_reg_xferred, dmt_ro, 0, "XFERRED"},
    {dmatest_reg_err_lo, dmt_ro, 0, "ERR_ADDR_LO"},
    {dmatest_reg_err_hi, dmt_ro, 0, "ERR_ADDR_HI"},
    {dmatest_reg_tccount, dmt_ro, 0, "TCCOUNT"},
};

enum { dmt_nregs = sizeof(dmt_regs) / sizeof(dmt_regs[0]) };

/* A command as latched at GO. */
struct dmt_cmd {
    uint64_t addr;
    uint32_t length, devoff, ndesc;
    uint32_t control;
};

struct dmatest {
    wdmsim_dev *dev;
    bool pci;
    /* knobs and resources (fixed after realize) */
    unsigned width;
    int channel; /* -1 none */
    uint64_t latency_ns;
    uint32_t max_desc;
    uint8_t *buf;
    uint32_t bufsize;
    /* registers */
    struct dmt_cmd regs; /* ADDR, LENGTH, DEVOFF, NDESC, CONTROL as written */
    bool busy, done, error;
    uint8_t errcode;
    uint32_t xferred, tccount;
    uint64_t err_addr;
    /* the latched command while busy */
    struct dmt_cmd cur;
    uint32_t pos;           /* bytes moved so far */
    uint64_t ev;            /* pending clock event, 0 none */
    bool dreq;              /* slave: our request line */
    uint64_t units_at_done; /* slave: stats.units when the last command ended */
    bool line;
    struct dmatest_stats stats;
};

static const char *const dmt_knobs[] = {"address_width", "buffer_size", "latency_ns", "max_desc",
                                        NULL};

static enum dmatest_mode mode_of(const struct dmt_cmd *c)
{
    return (enum dmatest_mode)((c->control & dmatest_ctrl_mode_mask) >> dmatest_ctrl_mode_shift);
}

static bool to_device(const struct dmt_cmd *c)
{
    return c->control & dmatest_ctrl_to_device;
}

static unsigned unit(const struct dmatest *s)
{
    return s->channel >= 4 ? 2 : 1;
}

/* True when [addr, addr + len) fits the device's address width. */
static bool fits(const struct dmatest *s, uint64_t addr, uint64_t len)
{
    if (s->width >= 64)
        return addr + len >= addr || addr + len == 0;
    uint64_t top = 1ULL << s->width;
    return addr <= top && len <= top - addr;
}

static void update_line(struct dmatest *s)
{
    bool want = s->done && (s->regs.control & dmatest_ctrl_ien);
    if (want && !s->line)
        s->stats.irq_rises++;
    s->line = want;
    wdmsim_dev_irq(s->dev, want);
}

static void set_dreq(struct dmatest *s, bool level)
{
    if (s->dreq == level)
        return;
    s->dreq = level;
    wdmsim_dma_request(s->dev, level);
}

static void complete(struct dmatest *s)
{
    s->busy = false;
    s->done = true;
    s->xferred = s->pos;
    s->units_at_done = s->stats.units;
    if (s->error)
        s->stats.errors++;
    if (s->channel >= 0)
        set_dreq(s, false);
    update_line(s);
}

static void fail(struct dmatest *s, enum dmatest_err code, const char *rule, const char *why)
{
    s->error = true;
    s->errcode = (uint8_t)code;
    wdmsim_dev_report(s->dev,
                      code == dmatest_err_dma ? WDMSIM_REPORT_EVENT : WDMSIM_REPORT_VIOLATION, rule,
                      "[%s: ADDR %#llx LENGTH %u DEVOFF %u NDESC %u CONTROL %#x, width %u, "
                      "buffer %u]",
                      why, (unsigned long long)s->cur.addr, s->cur.length, s->cur.devoff,
                      s->cur.ndesc, s->cur.control, s->width, s->bufsize);
}

/* ---- bus master ------------------------------------------------------------------- */

/* Moves [devoff, devoff + len) of the buffer to or from logical, in
 * transactions split at 4 KiB logical boundaries. False when the bus
 * refused one (ERR_ADDR set, the bytes before it moved). */
static bool move(struct dmatest *s, uint64_t logical, uint32_t devoff, uint32_t len, bool out)
{
    uint32_t a = 0;
    while (a < len) {
        uint32_t room = dmt_page - (uint32_t)((logical + a) & (dmt_page - 1));
        uint32_t n = len - a < room ? len - a : room;
        if (s->pci && !(wdmsim_dev_pci_command(s->dev) & dmt_pci_bus_master)) {
            s->err_addr = logical + a;
            fail(s, dmatest_err_no_bus_master, "NO_BUS_MASTER",
                 "Bus Master turned off during the command");
            return false;
        }
        int rc = out ? wdmsim_dma_read(s->dev, logical + a, s->buf + devoff + a, n)
                     : wdmsim_dma_write(s->dev, logical + a, s->buf + devoff + a, n);
        if (rc) {
            s->err_addr = logical + a;
            fail(s, dmatest_err_dma, "DMA_ERROR", "the bus refused a transaction");
            return false;
        }
        if (out)
            s->stats.bytes_to_device += n;
        else
            s->stats.bytes_from_device += n;
        s->stats.transactions++;
        a += n;
        s->pos += n;
    }
    return true;
}

static void run_single(struct dmatest *s)
{
    move(s, s->cur.addr, s->cur.devoff, s->cur.length, to_device(&s->cur));
}

/* Fetches the whole table, checks every element, then moves the data. */
static void run_table(struct dmatest *s)
{
    uint32_t n = s->cur.ndesc;
    struct dmatest_desc *d = calloc(n, sizeof(*d));
    if (!d) {
        fail(s, dmatest_err_bad_table, "BAD_TABLE", "host memory exhausted fetching the table");
        return;
    }
    uint64_t bytes = (uint64_t)n * sizeof(*d), at = 0;
    while (at < bytes) {
        uint64_t room = dmt_page - ((s->cur.addr + at) & (dmt_page - 1));
        uint64_t k = bytes - at < room ? bytes - at : room;
        if (wdmsim_dma_read(s->dev, s->cur.addr + at, (uint8_t *)d + at, (size_t)k)) {
            s->err_addr = s->cur.addr + at;
            fail(s, dmatest_err_dma, "DMA_ERROR", "the bus refused a descriptor fetch");
            free(d);
            return;
        }
        s->stats.transactions++;
        at += k;
    }
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (d[i].length == 0 || !fits(s, d[i].address, d[i].length)) {
            s->err_addr = d[i].address;
            fail(s, d[i].length ? dmatest_err_addr_width : dmatest_err_bad_table,
                 d[i].length ? "ADDR_WIDTH" : "BAD_TABLE",
                 d[i].length ? "an element lies beyond the device's address width"
                             : "an element of length 0");
            free(d);
            return;
        }
        total += d[i].length;
    }
    if (s->cur.devoff + total > s->bufsize) {
        fail(s, dmatest_err_bad_length, "BAD_LENGTH", "the elements overrun the buffer");
        free(d);
        return;
    }
    uint32_t off = s->cur.devoff;
    for (uint32_t i = 0; i < n; i++) {
        if (!move(s, d[i].address, off, d[i].length, to_device(&s->cur)))
            break;
        off += d[i].length;
    }
    free(d);
}

/* ---- slave ------------------------------------------------------------------------ */

/* A cycle the device should not see: reported, nothing moves. */
static bool slave_cycle_ok(struct dmatest *s, bool out)
{
    if (s->busy && mode_of(&s->cur) == dmatest_mode_slave && s->dreq && to_device(&s->cur) == out &&
        s->pos < s->cur.length)
        return true;
    wdmsim_dev_report(s->dev, WDMSIM_REPORT_VIOLATION, "CYCLE_UNEXPECTED",
                      "[8237 %s cycle on channel %d while %s]",
                      out ? "memory->device" : "device->memory", s->channel,
                      !s->busy   ? "idle"
                      : !s->dreq ? "DREQ is low"
                                 : "the command goes the other way");
    return false;
}

static void slave_step(struct dmatest *s)
{
    s->pos += unit(s);
    s->stats.units++;
    if (s->pos >= s->cur.length)
        complete(s); /* drops DREQ: the controller stops after this unit */
}

static uint16_t slave_read_unit(void *state)
{
    struct dmatest *s = state;
    if (!slave_cycle_ok(s, false))
        return 0xFFFF;
    uint8_t *p = s->buf + s->cur.devoff + s->pos;
    uint16_t v = unit(s) == 2 ? (uint16_t)(p[0] | p[1] << 8) : p[0];
    s->stats.bytes_from_device += unit(s);
    slave_step(s);
    return v;
}

static void slave_write_unit(void *state, uint16_t value)
{
    struct dmatest *s = state;
    if (!slave_cycle_ok(s, true))
        return;
    uint8_t *p = s->buf + s->cur.devoff + s->pos;
    p[0] = (uint8_t)value;
    if (unit(s) == 2)
        p[1] = (uint8_t)(value >> 8);
    s->stats.bytes_to_device += unit(s);
    slave_step(s);
}

static void slave_tc(void *state)
{
    struct dmatest *s = state;
    s->stats.terminal_counts++;
    if (s->busy) {
        s->tccount++;
        if (!(s->cur.control & dmatest_ctrl_stream))
            complete(s);
    } else if (s->stats.units == s->units_at_done) {
        s->tccount++; /* the terminal count of the unit that ended the command */
    }
}

static const struct wdmsim_dma_slave_ops dmt_slave_ops = {
    .read_unit = slave_read_unit,
    .write_unit = slave_write_unit,
    .terminal_count = slave_tc,
};

/* ---- commands ----------------------------------------------------------------------- */

static void execute(struct dmatest *s)
{
    switch (mode_of(&s->cur)) {
    case dmatest_mode_single:
        run_single(s);
        break;
    case dmatest_mode_table:
        run_table(s);
        break;
    default: /* slave: the controller moves the data; the callbacks end it */
        wdmsim_dma_slave_attach(s->dev, &dmt_slave_ops, s);
        set_dreq(s, true);
        return;
    }
    complete(s);
}

static void event_fire(void *arg)
{
    struct dmatest *s = arg;
    s->ev = 0;
    if (s->busy)
        execute(s);
}

/* The checks at GO, in order; the first failure decides. */
static bool go_checks(struct dmatest *s)
{
    const struct dmt_cmd *c = &s->cur;
    enum dmatest_mode m = mode_of(c);
    if (s->pci && m != dmatest_mode_slave && !(wdmsim_dev_pci_command(s->dev) & dmt_pci_bus_master))
        return fail(s, dmatest_err_no_bus_master, "NO_BUS_MASTER", "GO with Bus Master = 0"), false;
    if (m == 3 || (m == dmatest_mode_slave && s->pci))
        return fail(s, dmatest_err_bad_mode, "BAD_MODE", "no such mode on this device"), false;
    if (m == dmatest_mode_slave && s->channel < 0)
        return fail(s, dmatest_err_no_channel, "NO_CHANNEL", "slave mode without a DMA channel"),
               false;
    if (m == dmatest_mode_table) {
        if (c->ndesc == 0 || c->ndesc > s->max_desc)
            return fail(s, dmatest_err_bad_table, "BAD_TABLE", "NDESC out of range"), false;
        if (c->devoff > s->bufsize)
            return fail(s, dmatest_err_bad_length, "BAD_LENGTH", "DEVOFF past the buffer"), false;
        if (!fits(s, c->addr, (uint64_t)c->ndesc * sizeof(struct dmatest_desc)))
            return fail(s, dmatest_err_addr_width, "ADDR_WIDTH",
                        "the table lies beyond the address width"),
                   false;
        return true;
    }
    if (c->length == 0 || (uint64_t)c->devoff + c->length > s->bufsize ||
        (m == dmatest_mode_slave && ((c->length | c->devoff) & (unit(s) - 1))))
        return fail(s, dmatest_err_bad_length, "BAD_LENGTH", "LENGTH/DEVOFF do not fit"), false;
    if (m == dmatest_mode_single && !fits(s, c->addr, c->length))
        return fail(s, dmatest_err_addr_width, "ADDR_WIDTH",
                    "the range lies beyond the address width"),
               false;
    return true;
}

static void go(struct dmatest *s)
{
    s->cur = s->regs;
    s->busy = true;
    s->done = s->error = false;
    s->errcode = 0;
    s->xferred = s->tccount = s->pos = 0;
    s->err_addr = 0;
    update_line(s);
    if (!go_checks(s)) {
        complete(s);
        return;
    }
    s->stats.commands++;
    if (s->latency_ns == 0) {
        execute(s);
        return;
    }
    s->ev = wdmsim_dev_schedule(s->dev, wdmsim_dev_now(s->dev) + s->latency_ns, event_fire, s);
}

static void dmt_reset(void *state)
{
    struct dmatest *s = state;
    if (s->ev)
        wdmsim_dev_cancel(s->dev, s->ev);
    s->ev = 0;
    if (s->dreq)
        set_dreq(s, false);
    memset(&s->regs, 0, sizeof(s->regs));
    s->busy = s->done = s->error = false;
    s->errcode = 0;
    s->xferred = s->tccount = s->pos = 0;
    s->err_addr = 0;
    s->line = false;
    wdmsim_dev_irq(s->dev, false);
}

/* ---- registers -------------------------------------------------------------------- */

static uint32_t reg_read(const struct dmatest *s, uint32_t off)
{
    switch (off) {
    case dmatest_reg_id:
        return dmatest_id;
    case dmatest_reg_caps:
        return s->width | (s->channel >= 0 ? dmatest_caps_slave : 0) |
               (uint32_t)(s->channel >= 0 ? s->channel : 0xF) << dmatest_caps_channel_shift;
    case dmatest_reg_bufsize:
        return s->bufsize;
    case dmatest_reg_addr_lo:
        return (uint32_t)s->regs.addr;
    case dmatest_reg_addr_hi:
        return (uint32_t)(s->regs.addr >> 32);
    case dmatest_reg_length:
        return s->regs.length;
    case dmatest_reg_devoff:
        return s->regs.devoff;
    case dmatest_reg_ndesc:
        return s->regs.ndesc;
    case dmatest_reg_control:
        return s->regs.control & dmt_ctrl_stored;
    case dmatest_reg_status:
        return (s->busy ? dmatest_st_busy : 0) | (s->done ? dmatest_st_done : 0) |
               (s->error ? dmatest_st_error : 0) | (uint32_t)s->errcode << dmatest_st_errcode_shift;
    case dmatest_reg_xferred:
        return s->busy ? s->pos : s->xferred;
    case dmatest_reg_err_lo:
        return (uint32_t)s->err_addr;
    case dmatest_reg_err_hi:
        return (uint32_t)(s->err_addr >> 32);
    case dmatest_reg_tccount:
        return s->tccount;
    default:
        return 0;
    }
}

static const struct dmt_regdef *find_reg(uint64_t off)
{
    for (size_t i = 0; i < dmt_nregs; i++)
        if (dmt_regs[i].offset == off)
            return &dmt_regs[i];
    return NULL;
}

static void bad_access(struct dmatest *s, uint64_t off, unsigned w, bool write, const char *why)
{
    wdmsim_dev_report(s->dev, WDMSIM_REPORT_VIOLATION, "BAD_ACCESS", "[%s +%#llx, %u bytes: %s]",
                      write ? "write" : "read", (unsigned long long)off, w, why);
}

static void control_write(struct dmatest *s, uint32_t v)
{
    if (v & dmatest_ctrl_reset) {
        dmt_reset(s);
        return;
    }
    if (s->busy) {
        wdmsim_dev_report(s->dev, WDMSIM_REPORT_VIOLATION, "WRITE_WHILE_BUSY",
                          "[CONTROL = %#x ignored while BUSY]", v);
        return;
    }
    s->regs.control = v & dmt_ctrl_stored;
    update_line(s);
    if (v & dmatest_ctrl_go)
        go(s);
}

static void reg_write(struct dmatest *s, const struct dmt_regdef *d, uint32_t v)
{
    if (v & ~d->valid) {
        wdmsim_dev_report(s->dev, WDMSIM_REPORT_VIOLATION, "RESERVED",
                          "[%s written %#x, reserved bits %#x ignored]", d->name, v, v & ~d->valid);
        v &= d->valid;
    }
    switch (d->offset) {
    case dmatest_reg_addr_lo:
        s->regs.addr = (s->regs.addr & ~0xFFFFFFFFULL) | v;
        break;
    case dmatest_reg_addr_hi:
        s->regs.addr = (s->regs.addr & 0xFFFFFFFFULL) | (uint64_t)v << 32;
        break;
    case dmatest_reg_length:
        s->regs.length = v;
        break;
    case dmatest_reg_devoff:
        s->regs.devoff = v;
        break;
    case dmatest_reg_ndesc:
        s->regs.ndesc = v;
        break;
    case dmatest_reg_control:
        control_write(s, v);
        break;
    case dmatest_reg_status:
        if (v & dmatest_st_done)
            s->done = false;
        if (v & dmatest_st_error)
            s->error = false;
        update_line(s);
        break;
    default:
        break;
    }
}

static uint64_t dmt_read(void *state, unsigned region, uint64_t offset, unsigned width)
{
    struct dmatest *s = state;
    if (width != 4 || offset % 4) {
        bad_access(s, offset, width, false, "registers take aligned 32-bit accesses only");
        return ~0ULL;
    }
    return reg_read(s, (uint32_t)offset);
}

static void dmt_write(void *state, unsigned region, uint64_t offset, unsigned width, uint64_t value)
{
    struct dmatest *s = state;
    if (width != 4 || offset % 4) {
        bad_access(s, offset, width, true, "registers take aligned 32-bit accesses only");
        return;
    }
    const struct dmt_regdef *d = find_reg(offset);
    if (!d || d->acc == dmt_ro) {
        bad_access(s, offset, width, true, d ? "register is read-only" : "no register here");
        return;
    }
    reg_write(s, d, (uint32_t)value);
}

/* ---- lifecycle ---------------------------------------------------------------------- */

static void dmt_create(void *state, wdmsim_dev *dev)
{
    struct dmatest *s = state;
    s->dev = dev;
    s->channel = -1;
}

static int realize(struct dmatest *s, wdmsim_dev *dev, bool pci, char *err, size_t errlen)
{
    uint64_t v;
    s->pci = pci;
    if (wdmsim_dev_knob_u64(dev, "address_width", pci ? 64 : 24, 16, 64, &v, err, errlen))
        return -1;
    s->width = (unsigned)v;
    if (wdmsim_dev_knob_u64(dev, "buffer_size", 256 << 10, 4096, 64 << 20, &v, err, errlen))
        return -1;
    s->bufsize = (uint32_t)v;
    if (wdmsim_dev_knob_u64(dev, "latency_ns", 1000, 0, 1000000000, &s->latency_ns, err, errlen) ||
        wdmsim_dev_knob_u64(dev, "max_desc", 512, 1, 65536, &v, err, errlen))
        return -1;
    s->max_desc = (uint32_t)v;
    struct wdmsim_dev_resources r;
    wdmsim_dev_get_resources(dev, &r);
    s->channel = pci ? -1 : r.dma;
    s->buf = calloc(1, s->bufsize);
    if (!s->buf) {
        snprintf(err, errlen, "device '%s': out of host memory for a %u-byte buffer",
                 wdmsim_dev_name(dev), s->bufsize);
        return -1;
    }
    return 0;
}

static int dmt_realize_pci(void *state, wdmsim_dev *dev, char *err, size_t errlen)
{
    return realize(state, dev, true, err, errlen);
}

static int dmt_realize_isa(void *state, wdmsim_dev *dev, char *err, size_t errlen)
{
    return realize(state, dev, false, err, errlen);
}

static void dmt_destroy(void *state)
{
    struct dmatest *s = state;
    free(s->buf);
    s->buf = NULL;
}

const struct wdmsim_device_model wdmsim_model_dmatest = {
    .name = "dmatest",
    .prefix = "DMT",
    .bus = WDMSIM_BUS_PCI,
    .vendor_id = 0x5744,
    .device_id = 0x00D7,
    .revision = 0x01,
    .class_code = {0x00, 0x00, 0xFF},
    .bar = {[0] = {WDMSIM_BAR_MEM32, 4096}},
    .isa_irq = -1,
    .isa_dma = -1,
    .knobs = dmt_knobs,
    .state_size = sizeof(struct dmatest),
    .create = dmt_create,
    .realize = dmt_realize_pci,
    .reset = dmt_reset,
    .destroy = dmt_destroy,
    .read = dmt_read,
    .write = dmt_write,
};

const struct wdmsim_device_model wdmsim_model_dmatest_isa = {
    .name = "dmatest_isa",
    .prefix = "DMT",
    .bus = WDMSIM_BUS_ISA,
    .isa_ports = dmatest_reg_span,
    .isa_port_base = 0x300,
    .isa_irq = -1,
    .isa_dma = 3,
    .knobs = dmt_knobs,
    .state_size = sizeof(struct dmatest),
    .create = dmt_create,
    .realize = dmt_realize_isa,
    .reset = dmt_reset,
    .destroy = dmt_destroy,
    .read = dmt_read,
    .write = dmt_write,
};

/* ---- test hooks ----------------------------------------------------------------------- */

uint8_t *dmatest_buffer(wdmsim_dev *dev, size_t *size)
{
    struct dmatest *s = wdmsim_dev_state(dev);
    if (size)
        *size = s->bufsize;
    return s->buf;
}

uint32_t dmatest_reg(wdmsim_dev *dev, uint32_t offset)
{
    return reg_read(wdmsim_dev_state(dev), offset);
}

void dmatest_get_stats(wdmsim_dev *dev, struct dmatest_stats *out)
{
    struct dmatest *s = wdmsim_dev_state(dev);
    *out = s->stats;
}
