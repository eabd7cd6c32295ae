/*
 * devices/sgdisk/sgdisk.c - SGD-1, the PCI scatter/gather RAM disk: shared
 * helpers, interrupt line and fatal state, the bus, lifecycle, test hooks.
 *
 * Models: devices/sgdisk.md: a bus master with a submission ring (32-byte
 * SQEs) and a completion ring (16-byte CQEs with a phase bit) in host
 * memory, per-command descriptor tables, one data engine moving
 * transactions split at descriptor ends and 4 KiB logical boundaries on the
 * virtual clock, completion coalescing, enable/disable latencies, fatal
 * states with FCODE. The model is split by concern: fetch.c (fetch and its
 * checks), engine.c (data engine, completions, run), control.c (enable,
 * disable, reset, doorbells, registers); sgdisk_impl.h holds the state.
 * Spec: devices/sgdisk.md 1-10; devices/README.md 2, 5-10.
 * Invariants: a slot is in use from fetch to its CQE write (outstanding =
 * slots in use); at most one command is in its data phase; nothing reaches
 * the bus while CFS = 1, after the disable instant t_off, or with Bus Master
 * = 0 (FCODE 0x06 instead); the device never drives an address >= 2^AW
 * (every table and segment is checked at fetch); sgdisk_run() is the only place
 * work happens, in the datasheet's order within one instant; a driver-
 * written value never breaks the model (reports instead).
 * Not modelled: `wdmsim trace` output of the per-command records (the
 * trace tool does not exist yet; the records are in the test hooks).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sgdisk_impl.h"

static const char *const sgdisk_knobs[] = {"capacity_sectors",
                                           "address_width",
                                           "max_descriptors",
                                           "max_outstanding",
                                           "max_segment",
                                           "seg_align",
                                           "boundary_log2",
                                           "max_sectors",
                                           "cmd_latency_ns",
                                           "latency_jitter_ns",
                                           "bandwidth_Bps",
                                           "enable_latency_ns",
                                           "disable_latency_ns",
                                           "coalescing",
                                           "reorder",
                                           "inject_media_error_lba",
                                           "inject_fail_permille",
                                           "image",
                                           "serial",
                                           NULL};

uint64_t sgdisk_now(const struct sgdisk *p)
{
    return wdmsim_dev_now(p->dev);
}

uint64_t sgdisk_draw_below(struct sgdisk *p, uint64_t bound)
{
    return (uint64_t)(((unsigned __int128)wdmsim_dev_random(p->dev) * bound) >> 64);
}

/* "Beyond AW": addr + len - 1 >= 2^AW, in unbounded arithmetic. */
bool sgdisk_beyond_aw(const struct sgdisk *p, uint64_t addr, uint64_t len)
{
    unsigned __int128 last = (unsigned __int128)addr + len - 1;
    return p->aw < 64 ? last >> p->aw != 0 : last >> 64 != 0;
}

/* ---- interrupt and fatal ------------------------------------------------------ */

void sgdisk_update_line(struct sgdisk *p)
{
    bool want = (p->isr & p->ien) != 0;
    if (want && !p->line)
        p->stats.irq_edges++;
    p->line = want;
    wdmsim_dev_irq(p->dev, want);
}

void sgdisk_cancel(struct sgdisk *p, uint64_t *id)
{
    if (*id)
        wdmsim_dev_cancel(p->dev, *id);
    *id = 0;
}

static const char *const fcode_name[] = {"none",
                                         "bad queue configuration",
                                         "bad SQ_TAIL",
                                         "bad CQ_HEAD",
                                         "bus refused an SQE read",
                                         "bus refused a CQE write",
                                         "Bus Master off when an access was needed"};

void sgdisk_fatal(struct sgdisk *p, enum sgd_fcode fc)
{
    p->cfs = true;
    p->fcode = (uint8_t)fc;
    p->isr |= sgd_int_fatal;
    sgdisk_cancel(p, &p->ev);
    wdmsim_dev_report(p->dev, WDMSIM_REPORT_EVENT, "FATAL",
                      "[FCODE %#x: %s; SQ_HEAD %u SQ_TAIL %u CQ_HEAD %u CQ_TAIL %u, %u "
                      "outstanding]",
                      fc, fcode_name[fc], p->sq_head, p->sq_tail, p->cq_head, p->cq_tail,
                      p->outstanding);
    sgdisk_update_line(p);
}

/* ---- the bus -------------------------------------------------------------------- */

static const char *cmd_dir(uint8_t opc)
{
    return opc == sgd_op_write ? "memory->device" : "device->memory";
}

/* One access, split at 4 KiB logical boundaries (a transaction never
 * crosses one). Returns 0, -1 when the bus refused (*fault = the refused
 * transaction's start), or -2 when Bus Master is off (fatal raised). */
int sgdisk_bus_access(struct sgdisk *p, uint64_t logical, void *buf, size_t len, bool to_host,
                      uint64_t *fault)
{
    uint8_t *b = buf;
    if (!(wdmsim_dev_pci_command(p->dev) & sgd_pci_bus_master)) {
        wdmsim_dev_report(p->dev, WDMSIM_REPORT_VIOLATION, "NO_BUS_MASTER",
                          "[%s of %zu bytes at logical %#llx needed with PCI Command.Bus "
                          "Master = 0]",
                          to_host ? "write" : "read", len, (unsigned long long)logical);
        sgdisk_fatal(p, sgd_fc_no_bus_master);
        *fault = logical;
        return -2;
    }
    while (len) {
        size_t n = sgd_page - (logical & (sgd_page - 1));
        if (n > len)
            n = len;
        int rc = to_host ? wdmsim_dma_write(p->dev, logical, b, n)
                         : wdmsim_dma_read(p->dev, logical, b, n);
        if (rc) {
            *fault = logical;
            return -1;
        }
        b += n;
        logical += n;
        len -= n;
    }
    return 0;
}

void sgdisk_note_error(struct sgdisk *p, uint64_t logical, bool to_host, const struct sgd_cmd *c,
                       uint16_t index, const char *what)
{
    p->last_error = (struct sgdisk_dma_error){true,           sgdisk_now(p), logical, to_host,
                                              c ? c->cid : 0, index,         what};
    if (c)
        wdmsim_dev_report(p->dev, WDMSIM_REPORT_EVENT, "DMA_ERROR",
                          "[CID %u %s: %s access refused at logical %#llx, %s, index %#x]", c->cid,
                          what, to_host ? "write" : "read", (unsigned long long)logical,
                          cmd_dir(c->opc), index);
    else
        wdmsim_dev_report(p->dev, WDMSIM_REPORT_EVENT, "DMA_ERROR",
                          "[%s %s refused at logical %#llx]", what, to_host ? "write" : "read",
                          (unsigned long long)logical);
}

/* ---- lifecycle ----------------------------------------------------------------- */

static void sgdisk_create(void *state, wdmsim_dev *dev)
{
    struct sgdisk *p = state;
    p->dev = dev;
    p->active = -1;
    p->phase = true;
}

static int knob_error(struct sgdisk *p, char *err, size_t errlen, const char *knob,
                      const char *what)
{
    snprintf(err, errlen, "device '%s': %s = %s: %s", wdmsim_dev_name(p->dev), knob,
             wdmsim_dev_knob(p->dev, knob), what);
    return -1;
}

static int knob_bool(struct sgdisk *p, const char *knob, bool *out, char *err, size_t errlen)
{
    const char *v = wdmsim_dev_knob(p->dev, knob);
    *out = false;
    if (!v || !strcmp(v, "off") || !strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no"))
        return 0;
    if (!strcmp(v, "on") || !strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes")) {
        *out = true;
        return 0;
    }
    return knob_error(p, err, errlen, knob, "expected on or off");
}

static void build_identify(struct sgdisk *p)
{
    uint8_t *b = p->identify;
    uint32_t id = sgd_id, caps[4];
    memset(b, 0, sizeof(p->identify));
    memcpy(b, "SGD1", 4);
    memcpy(b + 4, &id, 4);
    memcpy(b + 8, &p->capacity, 8);
    caps[0] = sgdisk_reg_read(p, sgd_reg_cap0);
    caps[1] = sgdisk_reg_read(p, sgd_reg_cap1);
    caps[2] = sgdisk_reg_read(p, sgd_reg_cap2);
    caps[3] = sgdisk_reg_read(p, sgd_reg_cap3);
    memcpy(b + 16, caps, 16);
    memset(b + 32, ' ', 20);
    memcpy(b + 32, p->serial, strlen(p->serial));
}

static int realize_knobs(struct sgdisk *p, char *err, size_t errlen)
{
    wdmsim_dev *dev = p->dev;
    uint64_t v;
    if (wdmsim_dev_knob_u64(dev, "capacity_sectors", 131072, 1, 1ULL << 40, &p->capacity, err,
                            errlen))
        return -1;
    if (wdmsim_dev_knob_u64(dev, "address_width", 64, 32, 64, &v, err, errlen))
        return -1;
    if (v != 32 && v != 64)
        return knob_error(p, err, errlen, "address_width", "must be 32 or 64");
    p->aw = (unsigned)v;
    if (wdmsim_dev_knob_u64(dev, "max_descriptors", 256, 1, 65535, &v, err, errlen))
        return -1;
    p->max_desc = (uint32_t)v;
    if (wdmsim_dev_knob_u64(dev, "max_outstanding", 32, 1, 1024, &v, err, errlen))
        return -1;
    p->max_q = (uint32_t)v;
    if (wdmsim_dev_knob_u64(dev, "seg_align", 4, 1, 4096, &v, err, errlen))
        return -1;
    p->seg_align = (uint32_t)v;
    if (v & (v - 1))
        return knob_error(p, err, errlen, "seg_align", "must be a power of two");
    if (wdmsim_dev_knob_u64(dev, "max_segment", 65536, 512, 1ULL << 31, &v, err, errlen))
        return -1;
    p->max_seg = (uint32_t)v;
    if (v % p->seg_align)
        return knob_error(p, err, errlen, "max_segment", "must be a multiple of seg_align");
    if (wdmsim_dev_knob_u64(dev, "boundary_log2", 32, 0, 63, &v, err, errlen))
        return -1;
    if (v != 0 && v < 12)
        return knob_error(p, err, errlen, "boundary_log2", "must be 0 (none) or 12..63");
    p->boundary_log2 = (uint32_t)v;
    if (wdmsim_dev_knob_u64(dev, "max_sectors", 2048, 1, 1u << 22, &v, err, errlen))
        return -1;
    p->max_sect = (uint32_t)v;
    if (wdmsim_dev_knob_u64(dev, "cmd_latency_ns", 20000, 0, 1000000000, &p->latency_ns, err,
                            errlen) ||
        wdmsim_dev_knob_u64(dev, "latency_jitter_ns", 0, 0, 1000000000, &p->jitter_ns, err,
                            errlen) ||
        wdmsim_dev_knob_u64(dev, "bandwidth_Bps", 1000000000, 1000, 1000000000000ULL, &p->bandwidth,
                            err, errlen) ||
        wdmsim_dev_knob_u64(dev, "enable_latency_ns", 10000, 0, 1000000000, &p->enable_ns, err,
                            errlen) ||
        wdmsim_dev_knob_u64(dev, "disable_latency_ns", 5000, 0, 1000000000, &p->disable_ns, err,
                            errlen) ||
        wdmsim_dev_knob_u64(dev, "inject_fail_permille", 0, 0, 1000, &p->fail_permille, err,
                            errlen))
        return -1;
    if (knob_bool(p, "coalescing", &p->coal, err, errlen) ||
        knob_bool(p, "reorder", &p->reorder, err, errlen))
        return -1;
    const char *list = wdmsim_dev_knob(dev, "inject_media_error_lba");
    if (list) {
        int n = dev_parse_u64_list(list, p->inject_lba, sgd_max_inject);
        if (n < 0)
            return knob_error(p, err, errlen, "inject_media_error_lba",
                              "expected up to 64 sector numbers");
        p->ninject = (unsigned)n;
    }
    const char *serial = wdmsim_dev_knob(dev, "serial");
    if (!serial)
        serial = "SGD1-0000000001";
    if (strlen(serial) > 20)
        return knob_error(p, err, errlen, "serial", "at most 20 ASCII characters");
    for (const char *s = serial; *s; s++)
        if (*s < 0x20 || *s > 0x7E)
            return knob_error(p, err, errlen, "serial", "printable ASCII only");
    snprintf(p->serial, sizeof(p->serial), "%s", serial);
    return 0;
}

static int sgdisk_realize(void *state, wdmsim_dev *dev, char *err, size_t errlen)
{
    struct sgdisk *p = state;
    if (realize_knobs(p, err, errlen))
        return -1;
    p->cmd = calloc(p->max_q, sizeof(*p->cmd));
    p->postq = calloc(p->max_q, sizeof(*p->postq));
    if (!p->cmd || !p->postq) {
        free(p->cmd);
        free(p->postq);
        snprintf(err, errlen, "device '%s': out of host memory", wdmsim_dev_name(dev));
        return -1;
    }
    diskstore_init(&p->disk, p->capacity * sgd_sector);
    const char *image = wdmsim_dev_knob(dev, "image");
    if (image) {
        char why[300];
        if (diskstore_load(&p->disk, image, why, sizeof(why))) {
            diskstore_fini(&p->disk);
            free(p->cmd);
            free(p->postq);
            snprintf(err, errlen, "device '%s': %s", wdmsim_dev_name(dev), why);
            return -1;
        }
    }
    build_identify(p);
    return 0;
}

static void sgdisk_destroy(void *state)
{
    struct sgdisk *p = state;
    sgdisk_drop_all(p);
    free(p->cmd);
    free(p->postq);
    p->cmd = NULL;
    diskstore_fini(&p->disk);
}

const struct wdmsim_device_model wdmsim_model_sgdisk = {
    .name = "sgdisk",
    .prefix = "SGD",
    .bus = WDMSIM_BUS_PCI,
    .vendor_id = 0x5744,
    .device_id = 0x0001,
    .revision = 0x01,
    .class_code = {0x00, 0x80, 0x01},
    .bar = {[0] = {WDMSIM_BAR_MEM32, 4096}},
    .isa_irq = -1,
    .isa_dma = -1,
    .knobs = sgdisk_knobs,
    .state_size = sizeof(struct sgdisk),
    .create = sgdisk_create,
    .realize = sgdisk_realize,
    .reset = sgdisk_reset,
    .destroy = sgdisk_destroy,
    .read = sgdisk_read,
    .write = sgdisk_write,
};

/* ---- test hooks ------------------------------------------------------------------ */

uint32_t sgdisk_reg(wdmsim_dev *dev, uint32_t offset)
{
    const struct sgd_regdef *d = sgdisk_find_reg(offset);
    return d ? sgdisk_reg_read(wdmsim_dev_state(dev), d->reg) : 0;
}

static bool in_range(const struct sgdisk *p, uint64_t lba, uint64_t nsect)
{
    return lba <= p->capacity && nsect <= p->capacity - lba;
}

int sgdisk_disk_read(wdmsim_dev *dev, uint64_t lba, uint64_t nsect, void *buf)
{
    struct sgdisk *p = wdmsim_dev_state(dev);
    if (!in_range(p, lba, nsect))
        return -1;
    diskstore_read(&p->disk, lba * sgd_sector, buf, nsect * sgd_sector);
    return 0;
}

int sgdisk_disk_write(wdmsim_dev *dev, uint64_t lba, uint64_t nsect, const void *buf)
{
    struct sgdisk *p = wdmsim_dev_state(dev);
    if (!in_range(p, lba, nsect))
        return -1;
    return diskstore_write(&p->disk, lba * sgd_sector, buf, nsect * sgd_sector);
}

uint32_t sgdisk_crc32(wdmsim_dev *dev, uint64_t lba, uint64_t nsect)
{
    struct sgdisk *p = wdmsim_dev_state(dev);
    if (!in_range(p, lba, nsect))
        return 0;
    return diskstore_crc32(&p->disk, lba * sgd_sector, nsect * sgd_sector);
}

void sgdisk_get_stats(wdmsim_dev *dev, struct sgdisk_stats *out)
{
    struct sgdisk *p = wdmsim_dev_state(dev);
    *out = p->stats;
}

void sgdisk_last_dma_error(wdmsim_dev *dev, struct sgdisk_dma_error *out)
{
    struct sgdisk *p = wdmsim_dev_state(dev);
    *out = p->last_error;
}

void sgdisk_get_rings(wdmsim_dev *dev, struct sgdisk_rings *out)
{
    struct sgdisk *p = wdmsim_dev_state(dev);
    *out = (struct sgdisk_rings){.sq_base = p->sq_base,
                                 .cq_base = p->cq_base,
                                 .sq_size = p->sq_size,
                                 .cq_size = p->cq_size,
                                 .sq_head = p->sq_head,
                                 .sq_tail = p->sq_tail,
                                 .cq_head = p->cq_head,
                                 .cq_tail = p->cq_tail,
                                 .phase = p->phase,
                                 .outstanding = p->outstanding,
                                 .held = p->post_n,
                                 .rdy = p->rdy,
                                 .cfs = p->cfs,
                                 .en = p->en,
                                 .fcode = p->fcode};
}

uint64_t sgdisk_history(wdmsim_dev *dev, struct sgdisk_cmd_record *out, size_t max)
{
    struct sgdisk *p = wdmsim_dev_state(dev);
    uint64_t kept = p->nhist < sgd_hist ? p->nhist : sgd_hist;
    uint64_t n = kept < max ? kept : max;
    for (uint64_t i = 0; i < n; i++)
        out[i] = p->hist[(p->nhist - n + i) % sgd_hist];
    return p->nhist;
}
