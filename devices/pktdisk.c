/*
 * devices/pktdisk.c - PKD-1, the PCI packet-DMA RAM disk.
 *
 * Models: devices/pktdisk.md: a bus master without scatter/gather: one
 * command at a time (SECTOR, COUNT, DMA_ADDR, CONTROL.GO), one logically
 * contiguous 32-bit buffer, data moved in transactions split at every 4 KiB
 * logical boundary on the virtual clock (t + LAT + ceil(e * 10^9 / BW)),
 * DONE latched in INT_STATUS; INTA# while INT_STATUS & INT_ENABLE.
 * Spec: devices/pktdisk.md 1-7; devices/README.md 2, 5-10.
 * Invariants: busy == (a command is latched); at most one clock event is
 * pending, and one is pending whenever busy outside a step; the device never drives an address
 * >= 2^32 (ADDR_OVERFLOW is checked at GO); a driver-written value never
 * breaks the model (reports instead).
 * Not modelled: `wdmsim trace` output of the per-command records (the trace
 * tool does not exist yet; the records are in the test hooks).
 */
#include <stdio.h>
#include <string.h>

#include <wdmsim/device.h>

#include "diskstore.h"
#include "pktdisk.h"

enum {
    pkd_id = 0x00025744,
    pkd_version = 0x00010000,
    pkd_sector = 512,
    pkd_page = 4096, /* transactions never cross a 4 KiB logical boundary */
    pkd_max_inject = 64,
    pkd_hist = 64,
    /* CONTROL */
    pkd_ctrl_go = 1u << 0,
    pkd_ctrl_dir = 1u << 1,
    pkd_ctrl_reset = 1u << 31,
    /* STATUS */
    pkd_st_busy = 1u << 0,
    pkd_st_done = 1u << 1,
    pkd_st_error = 1u << 2,
    /* INT_STATUS / INT_ENABLE */
    pkd_int_done = 1u << 0,
    /* PCI Command */
    pkd_pci_bus_master = 1u << 2,
};

/* STATUS.ERRCODE (devices/pktdisk.md 2). */
enum pkd_err {
    pkd_err_none = 0x00,
    pkd_err_no_bus_master = 0x01,
    pkd_err_bad_count = 0x02,
    pkd_err_lba_range = 0x03,
    pkd_err_bad_align = 0x04,
    pkd_err_addr_overflow = 0x05,
    pkd_err_dma = 0x06,
    pkd_err_media = 0x07,
};

enum pkd_reg {
    pkd_reg_id,
    pkd_reg_version,
    pkd_reg_maxxfer,
    pkd_reg_align,
    pkd_reg_capacity_lo,
    pkd_reg_capacity_hi,
    pkd_reg_sector_lo,
    pkd_reg_sector_hi,
    pkd_reg_count,
    pkd_reg_dma_addr,
    pkd_reg_control,
    pkd_reg_status,
    pkd_reg_xferred,
    pkd_reg_err_addr,
    pkd_reg_int_status,
    pkd_reg_int_enable,
};

enum pkd_acc { pkd_ro, pkd_rw, pkd_rw1c };

/* The register map (devices/pktdisk.md 1): offset, access, writable bits
 * (others reserved), and whether BUSY locks it. */
struct pkd_regdef {
    uint32_t offset;
    enum pkd_acc acc;
    enum pkd_reg reg;
    uint32_t valid;
    bool busy_locked;
    const char *name;
};

static const struct pkd_regdef pkd_regs[] = {
    {0x00, pkd_ro, pkd_reg_id, 0, false, "ID"},
    {0x04, pkd_ro, pkd_reg_version, 0, false, "VERSION"},
    {0x08, pkd_ro, pkd_reg_maxxfer, 0, false, "MAXXFER"},
    {0x0C, pkd_ro, pkd_reg_align, 0, false, "ALIGN"},
    {0x10, pkd_ro, pkd_reg_capacity_lo, 0, false, "CAPACITY_LO"},
    {0x14, pkd_ro, pkd_reg_capacity_hi, 0, false, "CAPACITY_HI"},
    {0x18, pkd_rw, pkd_reg_sector_lo, 0xFFFFFFFF, true, "SECTOR_LO"},
    {0x1C, pkd_rw, pkd_reg_sector_hi, 0xFFFFFFFF, true, "SECTOR_HI"},
    {0x20, pkd_rw, pkd_reg_count, 0xFFFFFFFF, true, "COUNT"},
    {0x24, pkd_rw, pkd_reg_dma_addr, 0xFFFFFFFF, true, "DMA_ADDR"},
    {0x28, pkd_rw, pkd_reg_control, pkd_ctrl_go | pkd_ctrl_dir | pkd_ctrl_reset, true, "CONTROL"},
    {0x2C, pkd_ro, pkd_reg_status, 0, false, "STATUS"},
    {0x30, pkd_ro, pkd_reg_xferred, 0, false, "XFERRED"},
    {0x34, pkd_ro, pkd_reg_err_addr, 0, false, "ERR_ADDR"},
    {0x38, pkd_rw1c, pkd_reg_int_status, pkd_int_done, false, "INT_STATUS"},
    {0x3C, pkd_rw, pkd_reg_int_enable, pkd_int_done, false, "INT_ENABLE"},
};

enum { pkd_nregs = sizeof(pkd_regs) / sizeof(pkd_regs[0]) };

struct pktdisk {
    wdmsim_dev *dev;
    struct diskstore disk;
    /* knobs (fixed after realize) */
    uint64_t capacity; /* sectors */
    uint32_t max_transfer, align;
    uint64_t latency_ns, jitter_ns, bandwidth;
    uint64_t inject_lba[pkd_max_inject];
    unsigned ninject;
    uint64_t fail_permille;
    /* registers */
    uint64_t sector;
    uint32_t count, dma_addr;
    uint32_t control; /* DIR as last written */
    bool busy, done, error;
    bool media; /* the latched command ends with an injected MEDIA_ERROR */
    uint8_t errcode;
    uint32_t xferred, err_addr, int_status, int_enable;
    /* the latched command while busy */
    struct pktdisk_cmd_record cur;
    uint64_t data_start; /* t + LAT: time origin of the transactions */
    uint32_t next_off;   /* first command byte not yet moved */
    uint64_t due;        /* time of the next step while busy */
    uint64_t ev;         /* pending clock event, 0 none */
    bool line;           /* INTA# request as last driven */
    /* test hooks */
    struct pktdisk_stats stats;
    struct pktdisk_dma_error last_error;
    struct pktdisk_cmd_record hist[pkd_hist];
    uint64_t nhist; /* commands ever started; hist[n % pkd_hist] */
};

static const char *const pktdisk_knobs[] = {"capacity_sectors",
                                            "max_transfer",
                                            "dma_align",
                                            "cmd_latency_ns",
                                            "latency_jitter_ns",
                                            "bandwidth_Bps",
                                            "inject_media_error_lba",
                                            "inject_fail_permille",
                                            "image",
                                            NULL};

static const char *dir_name(unsigned dir)
{
    return dir == pktdisk_dir_write ? "WRITE (host->disk)" : "READ (disk->host)";
}

/* ---- interrupt --------------------------------------------------------------- */

static void update_line(struct pktdisk *p)
{
    bool want = (p->int_status & p->int_enable) != 0;
    if (want && !p->line)
        p->stats.irq_edges++;
    p->line = want;
    wdmsim_dev_irq(p->dev, want);
}

/* ---- command execution ------------------------------------------------------- */

static void complete(struct pktdisk *p)
{
    p->busy = false;
    p->done = true;
    p->cur.done_time = wdmsim_dev_now(p->dev);
    p->cur.errcode = p->errcode;
    p->cur.xferred = p->xferred;
    p->hist[(p->nhist - 1) % pkd_hist] = p->cur;
    p->stats.commands[p->cur.dir][p->errcode & 7]++;
    p->int_status |= pkd_int_done;
    update_line(p);
}

static void fail_dma(struct pktdisk *p, uint32_t a, const char *why)
{
    p->error = true;
    p->errcode = pkd_err_dma;
    p->xferred = a;
    p->err_addr = p->cur.dma_addr + a;
    p->last_error =
        (struct pktdisk_dma_error){true, wdmsim_dev_now(p->dev), p->err_addr, p->cur.dir, a};
    wdmsim_dev_report(p->dev, WDMSIM_REPORT_EVENT, "DMA_ERROR",
                      "[%s: logical %#x, %s, command offset %u, SECTOR %llu COUNT %u DMA_ADDR "
                      "%#x]",
                      why, p->err_addr, dir_name(p->cur.dir), a, (unsigned long long)p->cur.sector,
                      p->cur.count, p->cur.dma_addr);
}

/* One transaction: command bytes [a, e), all or nothing. Returns false when
 * the bus refused it. */
static bool transaction(struct pktdisk *p, uint32_t a, uint32_t e)
{
    uint8_t buf[pkd_page];
    uint32_t n = e - a;
    uint64_t logical = (uint64_t)p->cur.dma_addr + a;
    uint64_t disk = p->cur.sector * pkd_sector + a;
    if (!(wdmsim_dev_pci_command(p->dev) & pkd_pci_bus_master)) {
        fail_dma(p, a, "Bus Master turned off during the command");
        return false;
    }
    if (p->cur.dir == pktdisk_dir_write) {
        if (wdmsim_dma_read(p->dev, logical, buf, n)) {
            fail_dma(p, a, "the bus refused the transaction");
            return false;
        }
        diskstore_write(&p->disk, disk, buf, n);
        p->stats.bytes_to_disk += n;
    } else {
        diskstore_read(&p->disk, disk, buf, n);
        if (wdmsim_dma_write(p->dev, logical, buf, n)) {
            fail_dma(p, a, "the bus refused the transaction");
            return false;
        }
        p->stats.bytes_to_host += n;
    }
    p->stats.transactions++;
    return true;
}

static uint32_t transaction_end(const struct pktdisk *p, uint32_t a)
{
    uint32_t room = pkd_page - ((p->cur.dma_addr + a) & (pkd_page - 1));
    return p->cur.count - a < room ? p->cur.count : a + room;
}

static void event_fire(void *arg);

/* One step due now: the completion of a failed or injected command, or the
 * next transaction (and the completion after the last one). */
static void step(struct pktdisk *p)
{
    if (p->media) {
        /* ERROR and ERRCODE appear at the end of the (empty) data phase */
        p->media = false;
        p->error = true;
        p->errcode = pkd_err_media;
        wdmsim_dev_report(p->dev, WDMSIM_REPORT_EVENT, "INJECTED",
                          "[MEDIA_ERROR: SECTOR %llu COUNT %u, %s]",
                          (unsigned long long)p->cur.sector, p->cur.count, dir_name(p->cur.dir));
    }
    if (p->error) {
        complete(p);
        return;
    }
    uint32_t a = p->next_off, e = transaction_end(p, a);
    if (!transaction(p, a, e)) {
        complete(p);
        return;
    }
    p->next_off = e;
    if (e == p->cur.count) {
        p->xferred = p->cur.count;
        complete(p);
        return;
    }
    p->due = p->data_start + dev_ns_for(transaction_end(p, e), p->bandwidth);
}

/* Runs every step due by now (a loop, not an event at the current
 * instant), then arms the clock for the next one. */
static void run(struct pktdisk *p)
{
    while (p->busy && p->due <= wdmsim_dev_now(p->dev))
        step(p);
    if (p->busy && !p->ev)
        p->ev = wdmsim_dev_schedule(p->dev, p->due, event_fire, p);
}

static void event_fire(void *arg)
{
    struct pktdisk *p = arg;
    p->ev = 0;
    run(p);
}

static bool touches_injected(const struct pktdisk *p)
{
    uint64_t first = p->cur.sector, end = first + p->cur.count / pkd_sector;
    for (unsigned i = 0; i < p->ninject; i++)
        if (p->inject_lba[i] >= first && p->inject_lba[i] < end)
            return true;
    return false;
}

/* The GO checks of devices/pktdisk.md 2 in order; the first failure decides.
 * Returns its ERRCODE (0 = passed). */
static enum pkd_err go_checks(struct pktdisk *p, const char **rule)
{
    const struct pktdisk_cmd_record *c = &p->cur;
    if (!(wdmsim_dev_pci_command(p->dev) & pkd_pci_bus_master))
        return *rule = "NO_BUS_MASTER", pkd_err_no_bus_master;
    if (c->count == 0 || c->count % pkd_sector || c->count > p->max_transfer)
        return *rule = "BAD_COUNT", pkd_err_bad_count;
    if (c->sector > p->capacity || c->count / pkd_sector > p->capacity - c->sector)
        return *rule = "LBA_RANGE", pkd_err_lba_range;
    if (c->dma_addr & (p->align - 1))
        return *rule = "BAD_ALIGN", pkd_err_bad_align;
    if ((uint64_t)c->dma_addr + c->count > (1ULL << 32))
        return *rule = "ADDR_OVERFLOW", pkd_err_addr_overflow;
    return pkd_err_none;
}

static uint64_t draw_below(struct pktdisk *p, uint64_t bound)
{
    return (uint64_t)(((unsigned __int128)wdmsim_dev_random(p->dev) * bound) >> 64);
}

static void go(struct pktdisk *p, uint32_t control)
{
    uint64_t t = wdmsim_dev_now(p->dev);
    p->cur = (struct pktdisk_cmd_record){
        .sector = p->sector,
        .count = p->count,
        .dma_addr = p->dma_addr,
        .dir = (control & pkd_ctrl_dir) ? pktdisk_dir_write : pktdisk_dir_read,
        .go_time = t,
    };
    p->hist[p->nhist++ % pkd_hist] = p->cur;
    p->busy = true;
    p->done = p->error = p->media = false;
    p->errcode = 0;
    p->xferred = p->err_addr = 0;
    p->next_off = 0;
    uint64_t lat = p->latency_ns + (p->jitter_ns ? draw_below(p, p->jitter_ns + 1) : 0);
    p->data_start = t + lat;
    const char *rule = NULL;
    enum pkd_err err = go_checks(p, &rule);
    if (err) {
        p->error = true;
        p->errcode = (uint8_t)err;
        wdmsim_dev_report(p->dev, WDMSIM_REPORT_VIOLATION, rule,
                          "[GO refused, ERRCODE %#x: SECTOR %llu COUNT %u DMA_ADDR %#x %s; "
                          "capacity %llu, MAXXFER %u, ALIGN %u, Command %#x]",
                          err, (unsigned long long)p->cur.sector, p->cur.count, p->cur.dma_addr,
                          dir_name(p->cur.dir), (unsigned long long)p->capacity, p->max_transfer,
                          p->align, wdmsim_dev_pci_command(p->dev));
        p->due = p->data_start;
        run(p);
        return;
    }
    bool fail = touches_injected(p) || (p->fail_permille && draw_below(p, 1000) < p->fail_permille);
    if (fail) {
        p->media = true;
        p->due = p->data_start + dev_ns_for(p->cur.count, p->bandwidth);
        run(p);
        return;
    }
    p->due = p->data_start + dev_ns_for(transaction_end(p, 0), p->bandwidth);
    run(p);
}

static void pktdisk_reset(void *state)
{
    struct pktdisk *p = state;
    if (p->ev)
        wdmsim_dev_cancel(p->dev, p->ev);
    p->ev = 0;
    p->sector = 0;
    p->count = p->dma_addr = p->control = 0;
    p->busy = p->done = p->error = p->media = false;
    p->errcode = 0;
    p->xferred = p->err_addr = p->int_status = p->int_enable = 0;
    p->line = false;
    wdmsim_dev_irq(p->dev, false);
}

/* ---- registers --------------------------------------------------------------- */

static uint32_t reg_read(const struct pktdisk *p, enum pkd_reg r)
{
    switch (r) {
    case pkd_reg_id:
        return pkd_id;
    case pkd_reg_version:
        return pkd_version;
    case pkd_reg_maxxfer:
        return p->max_transfer;
    case pkd_reg_align:
        return p->align;
    case pkd_reg_capacity_lo:
        return (uint32_t)p->capacity;
    case pkd_reg_capacity_hi:
        return (uint32_t)(p->capacity >> 32);
    case pkd_reg_sector_lo:
        return (uint32_t)p->sector;
    case pkd_reg_sector_hi:
        return (uint32_t)(p->sector >> 32);
    case pkd_reg_count:
        return p->count;
    case pkd_reg_dma_addr:
        return p->dma_addr;
    case pkd_reg_control:
        return p->control & pkd_ctrl_dir; /* GO and RESET are W1: read 0 */
    case pkd_reg_status:
        return (p->busy ? pkd_st_busy : 0) | (p->done ? pkd_st_done : 0) |
               (p->error ? pkd_st_error : 0) | (uint32_t)p->errcode << 8;
    case pkd_reg_xferred:
        return p->xferred;
    case pkd_reg_err_addr:
        return p->err_addr;
    case pkd_reg_int_status:
        return p->int_status;
    case pkd_reg_int_enable:
        return p->int_enable;
    }
    return 0;
}

static void control_write(struct pktdisk *p, uint32_t v)
{
    if (v & pkd_ctrl_reset) {
        if (p->busy) {
            p->cur.reset = true;
            p->hist[(p->nhist - 1) % pkd_hist] = p->cur;
            wdmsim_dev_report(p->dev, WDMSIM_REPORT_EVENT, "RESET_WHILE_BUSY",
                              "[command abandoned: SECTOR %llu COUNT %u DMA_ADDR %#x %s, %u "
                              "bytes moved]",
                              (unsigned long long)p->cur.sector, p->cur.count, p->cur.dma_addr,
                              dir_name(p->cur.dir), p->next_off);
        }
        pktdisk_reset(p);
        return;
    }
    p->control = v & pkd_ctrl_dir;
    if (v & pkd_ctrl_go)
        go(p, v);
}

static void reg_write(struct pktdisk *p, const struct pkd_regdef *d, uint32_t v)
{
    if (v & ~d->valid) {
        wdmsim_dev_report(p->dev, WDMSIM_REPORT_VIOLATION, "RESERVED",
                          "[%s written %#x, reserved bits %#x ignored]", d->name, v, v & ~d->valid);
        v &= d->valid;
    }
    if (d->busy_locked && p->busy && !(d->reg == pkd_reg_control && (v & pkd_ctrl_reset))) {
        bool is_go = d->reg == pkd_reg_control && (v & pkd_ctrl_go);
        if (is_go)
            p->stats.go_while_busy++;
        wdmsim_dev_report(
            p->dev, WDMSIM_REPORT_VIOLATION, is_go ? "GO_WHILE_BUSY" : "WRITE_WHILE_BUSY",
            "[%s = %#x ignored while BUSY: SECTOR %llu COUNT %u DMA_ADDR %#x %s]", d->name, v,
            (unsigned long long)p->cur.sector, p->cur.count, p->cur.dma_addr, dir_name(p->cur.dir));
        return;
    }
    switch (d->reg) {
    case pkd_reg_sector_lo:
        p->sector = (p->sector & ~0xFFFFFFFFULL) | v;
        break;
    case pkd_reg_sector_hi:
        p->sector = (p->sector & 0xFFFFFFFFULL) | (uint64_t)v << 32;
        break;
    case pkd_reg_count:
        p->count = v;
        break;
    case pkd_reg_dma_addr:
        p->dma_addr = v;
        break;
    case pkd_reg_control:
        control_write(p, v);
        break;
    case pkd_reg_int_status:
        p->int_status &= ~v;
        update_line(p);
        break;
    case pkd_reg_int_enable:
        p->int_enable = v;
        update_line(p);
        break;
    default:
        break;
    }
}

static const struct pkd_regdef *find_reg(uint64_t off)
{
    for (size_t i = 0; i < pkd_nregs; i++)
        if (pkd_regs[i].offset == off)
            return &pkd_regs[i];
    return NULL;
}

static void bad_access(struct pktdisk *p, uint64_t off, unsigned w, bool write, const char *why)
{
    wdmsim_dev_report(p->dev, WDMSIM_REPORT_VIOLATION, "BAD_ACCESS",
                      "[%s BAR0 +%#llx, %u bytes: %s]", write ? "write" : "read",
                      (unsigned long long)off, w, why);
}

static uint64_t pktdisk_read(void *state, unsigned region, uint64_t offset, unsigned width)
{
    struct pktdisk *p = state;
    if (width != 4 || offset % 4) {
        bad_access(p, offset, width, false, "registers take aligned 32-bit accesses only");
        return ~0ULL;
    }
    const struct pkd_regdef *d = find_reg(offset);
    return d ? reg_read(p, d->reg) : 0;
}

static void pktdisk_write(void *state, unsigned region, uint64_t offset, unsigned width,
                          uint64_t value)
{
    struct pktdisk *p = state;
    if (width != 4 || offset % 4) {
        bad_access(p, offset, width, true, "registers take aligned 32-bit accesses only");
        return;
    }
    const struct pkd_regdef *d = find_reg(offset);
    if (!d) {
        bad_access(p, offset, width, true, "no register at this offset");
        return;
    }
    if (d->acc == pkd_ro) {
        bad_access(p, offset, width, true, "register is read-only");
        return;
    }
    reg_write(p, d, (uint32_t)value);
}

/* ---- lifecycle --------------------------------------------------------------- */

static void pktdisk_create(void *state, wdmsim_dev *dev)
{
    struct pktdisk *p = state;
    p->dev = dev;
}

static int knob_error(struct pktdisk *p, char *err, size_t errlen, const char *knob,
                      const char *what)
{
    snprintf(err, errlen, "device '%s': %s = %s: %s", wdmsim_dev_name(p->dev), knob,
             wdmsim_dev_knob(p->dev, knob), what);
    return -1;
}

static int pktdisk_realize(void *state, wdmsim_dev *dev, char *err, size_t errlen)
{
    struct pktdisk *p = state;
    uint64_t v;
    if (wdmsim_dev_knob_u64(dev, "capacity_sectors", 131072, 1, 1ULL << 40, &p->capacity, err,
                            errlen))
        return -1;
    if (wdmsim_dev_knob_u64(dev, "max_transfer", 65536, 512, 16 << 20, &v, err, errlen))
        return -1;
    p->max_transfer = (uint32_t)v;
    if (v % pkd_sector)
        return knob_error(p, err, errlen, "max_transfer", "must be a multiple of 512");
    if (wdmsim_dev_knob_u64(dev, "dma_align", 1, 1, 4096, &v, err, errlen))
        return -1;
    p->align = (uint32_t)v;
    if (v & (v - 1))
        return knob_error(p, err, errlen, "dma_align", "must be a power of two");
    if (wdmsim_dev_knob_u64(dev, "cmd_latency_ns", 20000, 0, 1000000000, &p->latency_ns, err,
                            errlen) ||
        wdmsim_dev_knob_u64(dev, "latency_jitter_ns", 0, 0, 1000000000, &p->jitter_ns, err,
                            errlen) ||
        wdmsim_dev_knob_u64(dev, "bandwidth_Bps", 100000000, 1000, 1000000000000ULL, &p->bandwidth,
                            err, errlen) ||
        wdmsim_dev_knob_u64(dev, "inject_fail_permille", 0, 0, 1000, &p->fail_permille, err,
                            errlen))
        return -1;
    const char *list = wdmsim_dev_knob(dev, "inject_media_error_lba");
    if (list) {
        int n = dev_parse_u64_list(list, p->inject_lba, pkd_max_inject);
        if (n < 0)
            return knob_error(p, err, errlen, "inject_media_error_lba",
                              "expected up to 64 sector numbers");
        p->ninject = (unsigned)n;
    }
    diskstore_init(&p->disk, p->capacity * pkd_sector);
    const char *image = wdmsim_dev_knob(dev, "image");
    if (image) {
        char why[300];
        if (diskstore_load(&p->disk, image, why, sizeof(why))) {
            diskstore_fini(&p->disk);
            snprintf(err, errlen, "device '%s': %s", wdmsim_dev_name(dev), why);
            return -1;
        }
    }
    return 0;
}

static void pktdisk_destroy(void *state)
{
    struct pktdisk *p = state;
    diskstore_fini(&p->disk);
}

const struct wdmsim_device_model wdmsim_model_pktdisk = {
    .name = "pktdisk",
    .prefix = "PKD",
    .bus = WDMSIM_BUS_PCI,
    .vendor_id = 0x5744,
    .device_id = 0x0002,
    .revision = 0x01,
    .class_code = {0x00, 0x80, 0x01},
    .bar = {[0] = {WDMSIM_BAR_MEM32, 4096}},
    .isa_irq = -1,
    .isa_dma = -1,
    .knobs = pktdisk_knobs,
    .state_size = sizeof(struct pktdisk),
    .create = pktdisk_create,
    .realize = pktdisk_realize,
    .reset = pktdisk_reset,
    .destroy = pktdisk_destroy,
    .read = pktdisk_read,
    .write = pktdisk_write,
};

/* ---- test hooks ---------------------------------------------------------------- */

uint32_t pktdisk_reg(wdmsim_dev *dev, uint32_t offset)
{
    const struct pkd_regdef *d = find_reg(offset);
    return d ? reg_read(wdmsim_dev_state(dev), d->reg) : 0;
}

static bool in_range(const struct pktdisk *p, uint64_t lba, uint64_t nsect)
{
    return lba <= p->capacity && nsect <= p->capacity - lba;
}

int pktdisk_disk_read(wdmsim_dev *dev, uint64_t lba, uint64_t nsect, void *buf)
{
    struct pktdisk *p = wdmsim_dev_state(dev);
    if (!in_range(p, lba, nsect))
        return -1;
    diskstore_read(&p->disk, lba * pkd_sector, buf, nsect * pkd_sector);
    return 0;
}

int pktdisk_disk_write(wdmsim_dev *dev, uint64_t lba, uint64_t nsect, const void *buf)
{
    struct pktdisk *p = wdmsim_dev_state(dev);
    if (!in_range(p, lba, nsect))
        return -1;
    return diskstore_write(&p->disk, lba * pkd_sector, buf, nsect * pkd_sector);
}

uint32_t pktdisk_crc32(wdmsim_dev *dev, uint64_t lba, uint64_t nsect)
{
    struct pktdisk *p = wdmsim_dev_state(dev);
    if (!in_range(p, lba, nsect))
        return 0;
    return diskstore_crc32(&p->disk, lba * pkd_sector, nsect * pkd_sector);
}

void pktdisk_get_stats(wdmsim_dev *dev, struct pktdisk_stats *out)
{
    struct pktdisk *p = wdmsim_dev_state(dev);
    *out = p->stats;
}

void pktdisk_last_dma_error(wdmsim_dev *dev, struct pktdisk_dma_error *out)
{
    struct pktdisk *p = wdmsim_dev_state(dev);
    *out = p->last_error;
}

uint64_t pktdisk_history(wdmsim_dev *dev, struct pktdisk_cmd_record *out, size_t max)
{
    struct pktdisk *p = wdmsim_dev_state(dev);
    uint64_t kept = p->nhist < pkd_hist ? p->nhist : pkd_hist;
    uint64_t n = kept < max ? kept : max;
    for (uint64_t i = 0; i < n; i++)
        out[i] = p->hist[(p->nhist - n + i) % pkd_hist];
    return p->nhist;
}
