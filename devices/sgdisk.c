/*
 * devices/sgdisk.c - SGD-1, the PCI scatter/gather RAM disk.
 *
 * Models: devices/sgdisk.md: a bus master with a submission ring (32-byte
 * SQEs) and a completion ring (16-byte CQEs with a phase bit) in host
 * memory, per-command descriptor tables, one data engine moving
 * transactions split at descriptor ends and 4 KiB logical boundaries on the
 * virtual clock, completion coalescing, enable/disable latencies, fatal
 * states with FCODE.
 * Spec: devices/sgdisk.md 1-10; devices/README.md 2, 5-10.
 * Invariants: a slot is in use from fetch to its CQE write (outstanding =
 * slots in use); at most one command is in its data phase; nothing reaches
 * the bus while CFS = 1, after the disable instant t_off, or with Bus Master
 * = 0 (FCODE 0x06 instead); the device never drives an address >= 2^AW
 * (every table and segment is checked at fetch); run() is the only place
 * work happens, in the datasheet's order within one instant; a driver-
 * written value never breaks the model (reports instead).
 * Not modelled: `wdmsim trace` output of the per-command records (the
 * trace tool does not exist yet; the records are in the test hooks). The
 * file is longer than 800 lines because the fetch checks, the engine and
 * the queue state machine share one state and order; split they would
 * need a private header of the whole struct.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wdmsim/device.h>

#include "diskstore.h"
#include "sgdisk.h"

enum {
    sgd_id = 0x00015744,
    sgd_version = 0x00010000,
    sgd_sector = 512,
    sgd_page = 4096,
    sgd_sqe = 32,
    sgd_cqe = 16,
    sgd_desc_size = 16,
    sgd_max_inject = 64,
    sgd_hist = 256,
    /* CTRL */
    sgd_ctrl_en = 1u << 0,
    sgd_ctrl_rst = 1u << 1,
    /* ISR / IEN */
    sgd_int_cq = 1u << 0,
    sgd_int_fatal = 1u << 1,
    /* COALESCE */
    sgd_coal_valid = 0xFFFF00FFu,
    /* PCI Command */
    sgd_pci_bus_master = 1u << 2,
};

enum sgd_opc { sgd_op_read = 1, sgd_op_write = 2, sgd_op_flush = 3, sgd_op_identify = 4 };

enum sgd_sc {
    sgd_sc_success = 0,
    sgd_sc_invalid_opcode = 1,
    sgd_sc_invalid_field = 2,
    sgd_sc_lba_range = 3,
    sgd_sc_desc_error = 4,
    sgd_sc_dma_error = 5,
    sgd_sc_media_error = 6,
};

enum sgd_fcode {
    sgd_fc_queue_config = 1,
    sgd_fc_sq_tail = 2,
    sgd_fc_cq_head = 3,
    sgd_fc_sqe_read = 4,
    sgd_fc_cqe_write = 5,
    sgd_fc_no_bus_master = 6,
};

enum sgd_reg {
    sgd_reg_id,
    sgd_reg_version,
    sgd_reg_cap0,
    sgd_reg_cap1,
    sgd_reg_cap2,
    sgd_reg_cap3,
    sgd_reg_capacity_lo,
    sgd_reg_capacity_hi,
    sgd_reg_ctrl,
    sgd_reg_status,
    sgd_reg_isr,
    sgd_reg_ien,
    sgd_reg_coalesce,
    sgd_reg_sq_base_lo,
    sgd_reg_sq_base_hi,
    sgd_reg_sq_size,
    sgd_reg_cq_base_lo,
    sgd_reg_cq_base_hi,
    sgd_reg_cq_size,
    sgd_reg_sq_tail,
    sgd_reg_cq_head,
    sgd_reg_sq_head,
    sgd_reg_cq_tail,
};

enum sgd_acc { sgd_ro, sgd_rw, sgd_rw1c, sgd_cfg, sgd_doorbell };

/* The register map (devices/sgdisk.md 1): offset, access, writable bits. */
struct sgd_regdef {
    uint32_t offset;
    enum sgd_acc acc;
    enum sgd_reg reg;
    uint32_t valid;
    const char *name;
};

static const struct sgd_regdef sgd_regs[] = {
    {0x000, sgd_ro, sgd_reg_id, 0, "ID"},
    {0x004, sgd_ro, sgd_reg_version, 0, "VERSION"},
    {0x008, sgd_ro, sgd_reg_cap0, 0, "CAP0"},
    {0x00C, sgd_ro, sgd_reg_cap1, 0, "CAP1"},
    {0x010, sgd_ro, sgd_reg_cap2, 0, "CAP2"},
    {0x014, sgd_ro, sgd_reg_cap3, 0, "CAP3"},
    {0x018, sgd_ro, sgd_reg_capacity_lo, 0, "CAPACITY_LO"},
    {0x01C, sgd_ro, sgd_reg_capacity_hi, 0, "CAPACITY_HI"},
    {0x020, sgd_rw, sgd_reg_ctrl, sgd_ctrl_en | sgd_ctrl_rst, "CTRL"},
    {0x024, sgd_ro, sgd_reg_status, 0, "STATUS"},
    {0x028, sgd_rw1c, sgd_reg_isr, sgd_int_cq | sgd_int_fatal, "ISR"},
    {0x02C, sgd_rw, sgd_reg_ien, sgd_int_cq | sgd_int_fatal, "IEN"},
    {0x030, sgd_rw, sgd_reg_coalesce, sgd_coal_valid, "COALESCE"},
    {0x040, sgd_cfg, sgd_reg_sq_base_lo, 0xFFFFFFFF, "SQ_BASE_LO"},
    {0x044, sgd_cfg, sgd_reg_sq_base_hi, 0xFFFFFFFF, "SQ_BASE_HI"},
    {0x048, sgd_cfg, sgd_reg_sq_size, 0xFFFFFFFF, "SQ_SIZE"},
    {0x050, sgd_cfg, sgd_reg_cq_base_lo, 0xFFFFFFFF, "CQ_BASE_LO"},
    {0x054, sgd_cfg, sgd_reg_cq_base_hi, 0xFFFFFFFF, "CQ_BASE_HI"},
    {0x058, sgd_cfg, sgd_reg_cq_size, 0xFFFFFFFF, "CQ_SIZE"},
    {0x060, sgd_doorbell, sgd_reg_sq_tail, 0xFFFFFFFF, "SQ_TAIL"},
    {0x064, sgd_doorbell, sgd_reg_cq_head, 0xFFFFFFFF, "CQ_HEAD"},
    {0x068, sgd_ro, sgd_reg_sq_head, 0, "SQ_HEAD"},
    {0x06C, sgd_ro, sgd_reg_cq_tail, 0, "CQ_TAIL"},
};

enum { sgd_nregs = sizeof(sgd_regs) / sizeof(sgd_regs[0]) };

struct sgd_desc {
    uint64_t addr;
    uint32_t len, flags;
};

enum sgd_cmd_state {
    sgd_cmd_free = 0,
    sgd_cmd_waiting, /* fetched, before r (or a FLUSH waiting for earlier CQEs) */
    sgd_cmd_ready,   /* data command at or after r, waiting for the engine */
    sgd_cmd_data,    /* in its data phase */
    sgd_cmd_done,    /* CQE due: in the post queue */
};

/* One outstanding command. */
struct sgd_cmd {
    enum sgd_cmd_state state;
    bool queued; /* in the post queue */
    bool media;  /* injected MEDIA_ERROR: the data phase moves nothing */
    uint8_t opc;
    uint16_t cid;
    uint32_t nsect;
    uint64_t lba;
    uint16_t ndesc;
    struct sgd_desc *desc; /* ndesc entries, read at fetch */
    uint64_t seq;          /* fetch order */
    uint64_t f, r, s, end, due;
    uint8_t sc, detail;
    uint16_t erridx;
    uint32_t bytes;
    /* data-phase progress */
    uint32_t di;   /* descriptor */
    uint32_t doff; /* bytes of it done */
    uint64_t a;    /* command bytes done */
};

struct sgdisk {
    wdmsim_dev *dev;
    struct diskstore disk;
    uint8_t identify[sgd_sector];
    /* knobs (fixed after realize) */
    uint64_t capacity;
    unsigned aw;
    uint32_t max_desc, max_q, max_seg, seg_align, boundary_log2, max_sect;
    uint64_t latency_ns, jitter_ns, bandwidth, enable_ns, disable_ns;
    bool coal, reorder;
    uint64_t inject_lba[sgd_max_inject];
    unsigned ninject;
    uint64_t fail_permille;
    char serial[21];
    /* registers */
    bool en, rdy, cfs;
    uint8_t fcode;
    uint32_t isr, ien, coalesce;
    uint64_t sq_base, cq_base;
    uint32_t sq_size, cq_size;
    uint32_t sq_tail, cq_head, sq_head, cq_tail;
    bool phase;
    uint32_t outstanding;
    /* enable / disable */
    uint64_t enable_ev, disable_ev, t_off;
    bool disabling;
    /* commands */
    struct sgd_cmd *cmd; /* max_q slots */
    uint64_t next_seq;
    unsigned *postq; /* FIFO of slot numbers, max_q */
    unsigned post_head, post_n;
    int active;   /* slot in its data phase, -1 none */
    bool stalled; /* the post queue's head waits for CQ space */
    /* run() and its clock event */
    uint64_t ev, ev_when;
    bool in_run, rerun;
    /* coalescing */
    uint32_t coal_n;
    uint64_t coal_ev;
    bool line;
    /* test hooks */
    struct sgdisk_stats stats;
    struct sgdisk_dma_error last_error;
    struct sgdisk_cmd_record hist[sgd_hist];
    uint64_t nhist;
};

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

static uint64_t now(const struct sgdisk *p)
{
    return wdmsim_dev_now(p->dev);
}

static uint64_t draw_below(struct sgdisk *p, uint64_t bound)
{
    return (uint64_t)(((unsigned __int128)wdmsim_dev_random(p->dev) * bound) >> 64);
}

static unsigned log2_of(uint64_t v)
{
    unsigned n = 0;
    while (v > 1)
        v >>= 1, n++;
    return n;
}

/* "Beyond AW": addr + len - 1 >= 2^AW, in unbounded arithmetic. */
static bool beyond_aw(const struct sgdisk *p, uint64_t addr, uint64_t len)
{
    unsigned __int128 last = (unsigned __int128)addr + len - 1;
    return p->aw < 64 ? last >> p->aw != 0 : last >> 64 != 0;
}

/* ---- interrupt and fatal ------------------------------------------------------ */

static void update_line(struct sgdisk *p)
{
    bool want = (p->isr & p->ien) != 0;
    if (want && !p->line)
        p->stats.irq_edges++;
    p->line = want;
    wdmsim_dev_irq(p->dev, want);
}

static void cancel(struct sgdisk *p, uint64_t *id)
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

static void fatal(struct sgdisk *p, enum sgd_fcode fc)
{
    p->cfs = true;
    p->fcode = (uint8_t)fc;
    p->isr |= sgd_int_fatal;
    cancel(p, &p->ev);
    wdmsim_dev_report(p->dev, WDMSIM_REPORT_EVENT, "FATAL",
                      "[FCODE %#x: %s; SQ_HEAD %u SQ_TAIL %u CQ_HEAD %u CQ_TAIL %u, %u "
                      "outstanding]",
                      fc, fcode_name[fc], p->sq_head, p->sq_tail, p->cq_head, p->cq_tail,
                      p->outstanding);
    update_line(p);
}

/* ---- the bus -------------------------------------------------------------------- */

static const char *cmd_dir(uint8_t opc)
{
    return opc == sgd_op_write ? "memory->device" : "device->memory";
}

/* One access, split at 4 KiB logical boundaries (a transaction never
 * crosses one). Returns 0, -1 when the bus refused (*fault = the refused
 * transaction's start), or -2 when Bus Master is off (fatal raised). */
static int bus_access(struct sgdisk *p, uint64_t logical, void *buf, size_t len, bool to_host,
                      uint64_t *fault)
{
    uint8_t *b = buf;
    if (!(wdmsim_dev_pci_command(p->dev) & sgd_pci_bus_master)) {
        wdmsim_dev_report(p->dev, WDMSIM_REPORT_VIOLATION, "NO_BUS_MASTER",
                          "[%s of %zu bytes at logical %#llx needed with PCI Command.Bus "
                          "Master = 0]",
                          to_host ? "write" : "read", len, (unsigned long long)logical);
        fatal(p, sgd_fc_no_bus_master);
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

static void note_error(struct sgdisk *p, uint64_t logical, bool to_host, const struct sgd_cmd *c,
                       uint16_t index, const char *what)
{
    p->last_error =
        (struct sgdisk_dma_error){true, now(p), logical, to_host, c ? c->cid : 0, index, what};
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

/* ---- fetch and its checks (devices/sgdisk.md 3) ---------------------------------- */

static void fail_cmd(struct sgdisk *p, struct sgd_cmd *c, enum sgd_sc sc, uint8_t detail,
                     uint16_t erridx, const char *rule, const char *why)
{
    c->sc = (uint8_t)sc;
    c->detail = detail;
    c->erridx = erridx;
    if (rule)
        wdmsim_dev_report(p->dev, WDMSIM_REPORT_VIOLATION, rule,
                          "[CID %u OPC %#x LBA %llu NSECT %u NDESC %u: %s; SC %#x DETAIL %u "
                          "ERRIDX %#x]",
                          c->cid, c->opc, (unsigned long long)c->lba, c->nsect, c->ndesc, why, sc,
                          detail, erridx);
}

static bool check_fields(struct sgdisk *p, struct sgd_cmd *c, const uint8_t *sqe, uint64_t dtaddr)
{
    if (c->opc < sgd_op_read || c->opc > sgd_op_identify) {
        fail_cmd(p, c, sgd_sc_invalid_opcode, 0, 0xFFFF, "INVALID_OPCODE", "unknown opcode");
        return false;
    }
    bool reserved = sqe[1] != 0;
    for (unsigned i = 26; i < 32; i++)
        reserved |= sqe[i] != 0;
    if (reserved) {
        fail_cmd(p, c, sgd_sc_invalid_field, 1, 0xFFFF, "INVALID_FIELD", "reserved byte not 0");
        return false;
    }
    bool rw = c->opc == sgd_op_read || c->opc == sgd_op_write;
    if ((rw && (c->nsect < 1 || c->nsect > p->max_sect)) ||
        (c->opc == sgd_op_identify && c->nsect != 1)) {
        fail_cmd(p, c, sgd_sc_invalid_field, 2, 0xFFFF, "INVALID_FIELD", "NSECT out of range");
        return false;
    }
    if ((c->opc == sgd_op_flush && (c->lba || c->nsect || dtaddr || c->ndesc)) ||
        (c->opc == sgd_op_identify && c->lba)) {
        fail_cmd(p, c, sgd_sc_invalid_field, 3, 0xFFFF, "INVALID_FIELD",
                 c->opc == sgd_op_flush ? "a FLUSH field is not 0" : "IDENTIFY LBA is not 0");
        return false;
    }
    if (c->lba > p->capacity || c->nsect > p->capacity - c->lba) {
        fail_cmd(p, c, sgd_sc_lba_range, 0, 0xFFFF, "LBA_RANGE", "LBA + NSECT > capacity");
        return false;
    }
    return true;
}

static bool check_descriptor(struct sgdisk *p, struct sgd_cmd *c, unsigned i)
{
    const struct sgd_desc *d = &c->desc[i];
    uint8_t detail = 0;
    const char *why = NULL;
    uint32_t want_flags = i + 1u == c->ndesc ? 1u : 0u;
    if (d->addr & (p->seg_align - 1))
        detail = 4, why = "ADDR not aligned to SALIGN";
    else if (d->len == 0 || d->len % p->seg_align)
        detail = 5, why = "LEN 0 or not a multiple of SALIGN";
    else if (d->len > p->max_seg)
        detail = 6, why = "LEN > MAXSEG";
    else if (beyond_aw(p, d->addr, d->len))
        detail = 7, why = "segment beyond the address width";
    else if (p->boundary_log2 && p->boundary_log2 < 64 &&
             d->addr >> p->boundary_log2 != (d->addr + d->len - 1) >> p->boundary_log2)
        detail = 8, why = "segment crosses the boundary";
    else if (d->flags != want_flags)
        detail = 9, why = "FLAGS wrong (LAST on the last descriptor only, reserved bits 0)";
    if (!detail)
        return true;
    char text[160];
    snprintf(text, sizeof(text), "descriptor %u ADDR %#llx LEN %u FLAGS %#x: %s", i,
             (unsigned long long)d->addr, d->len, d->flags, why);
    fail_cmd(p, c, sgd_sc_desc_error, detail, (uint16_t)i, "DESC_ERROR", text);
    return false;
}

/* The table and descriptor checks. Returns false when the command failed
 * (or a fatal state was entered: *fatal_out). */
static bool check_table(struct sgdisk *p, struct sgd_cmd *c, uint64_t dtaddr, bool *fatal_out)
{
    if (c->ndesc == 0 || c->ndesc > p->max_desc) {
        fail_cmd(p, c, sgd_sc_desc_error, 1, 0xFFFE, "DESC_ERROR", "NDESC 0 or > MAXDESC");
        return false;
    }
    if (dtaddr & 15) {
        fail_cmd(p, c, sgd_sc_desc_error, 2, 0xFFFE, "DESC_ERROR", "DTADDR not 16-byte aligned");
        return false;
    }
    size_t bytes = (size_t)c->ndesc * sgd_desc_size;
    if (beyond_aw(p, dtaddr, bytes)) {
        fail_cmd(p, c, sgd_sc_desc_error, 3, 0xFFFE, "DESC_ERROR",
                 "descriptor table beyond the address width");
        return false;
    }
    uint8_t *raw = malloc(bytes);
    c->desc = calloc(c->ndesc, sizeof(*c->desc));
    if (!raw || !c->desc) {
        free(raw); /* host out of memory: treated as a refused table read */
        fail_cmd(p, c, sgd_sc_dma_error, 0, 0xFFFE, NULL, NULL);
        return false;
    }
    uint64_t fault;
    int rc = bus_access(p, dtaddr, raw, bytes, false, &fault);
    if (rc) {
        free(raw);
        if (rc == -2) {
            *fatal_out = true;
            return false;
        }
        fail_cmd(p, c, sgd_sc_dma_error, 0, 0xFFFE, NULL, NULL);
        note_error(p, fault, false, c, 0xFFFE, "table");
        return false;
    }
    for (unsigned i = 0; i < c->ndesc; i++) {
        const uint8_t *e = raw + i * sgd_desc_size;
        memcpy(&c->desc[i].addr, e, 8);
        memcpy(&c->desc[i].len, e + 8, 4);
        memcpy(&c->desc[i].flags, e + 12, 4);
    }
    free(raw);
    uint64_t sum = 0;
    for (unsigned i = 0; i < c->ndesc; i++) {
        if (!check_descriptor(p, c, i))
            return false;
        sum += c->desc[i].len;
    }
    if (sum != (uint64_t)c->nsect * sgd_sector) {
        char text[96];
        snprintf(text, sizeof(text), "sum of LEN %llu != NSECT * 512 = %llu",
                 (unsigned long long)sum, (unsigned long long)c->nsect * sgd_sector);
        fail_cmd(p, c, sgd_sc_desc_error, 10, 0xFFFF, "DESC_ERROR", text);
        return false;
    }
    return true;
}

static bool touches_injected(const struct sgdisk *p, const struct sgd_cmd *c)
{
    for (unsigned i = 0; i < p->ninject; i++)
        if (p->inject_lba[i] >= c->lba && p->inject_lba[i] - c->lba < c->nsect)
            return true;
    return false;
}

static int free_slot(const struct sgdisk *p)
{
    for (unsigned i = 0; i < p->max_q; i++)
        if (p->cmd[i].state == sgd_cmd_free)
            return (int)i;
    return -1;
}

/* Fetches the SQE at SQ_HEAD. Returns false when a fatal state stops it. */
static bool fetch_one(struct sgdisk *p)
{
    uint8_t sqe[sgd_sqe];
    uint64_t addr = p->sq_base + (uint64_t)sgd_sqe * p->sq_head, fault;
    int rc = bus_access(p, addr, sqe, sizeof(sqe), false, &fault);
    if (rc == -1) {
        note_error(p, fault, false, NULL, sgdisk_erridx_none, "SQE");
        fatal(p, sgd_fc_sqe_read);
    }
    if (rc)
        return false;
    int slot = free_slot(p); /* outstanding < max_q: one is free */
    struct sgd_cmd *c = &p->cmd[slot];
    memset(c, 0, sizeof(*c));
    uint64_t dtaddr;
    c->opc = sqe[0];
    memcpy(&c->cid, sqe + 2, 2);
    memcpy(&c->nsect, sqe + 4, 4);
    memcpy(&c->lba, sqe + 8, 8);
    memcpy(&dtaddr, sqe + 16, 8);
    memcpy(&c->ndesc, sqe + 24, 2);
    c->seq = p->next_seq++;
    c->f = now(p);
    c->r = c->f + p->latency_ns + (p->jitter_ns ? draw_below(p, p->jitter_ns + 1) : 0);
    c->erridx = 0xFFFF;
    c->state = sgd_cmd_waiting;
    p->sq_head = (p->sq_head + 1) % p->sq_size;
    p->outstanding++;
    if (p->outstanding > p->stats.max_outstanding)
        p->stats.max_outstanding = p->outstanding;
    for (unsigned i = 0; i < p->max_q; i++)
        if (&p->cmd[i] != c && p->cmd[i].state != sgd_cmd_free && p->cmd[i].cid == c->cid)
            wdmsim_dev_report(p->dev, WDMSIM_REPORT_VIOLATION, "DUP_CID",
                              "[CID %u fetched from SQ slot %u while a command with that CID "
                              "is outstanding; processed anyway]",
                              c->cid, (p->sq_head + p->sq_size - 1) % p->sq_size);
    bool fatal_now = false;
    if (!check_fields(p, c, sqe, dtaddr))
        return true;
    if (c->opc == sgd_op_flush)
        return true;
    if (!check_table(p, c, dtaddr, &fatal_now))
        return !fatal_now;
    if (c->opc != sgd_op_identify &&
        (touches_injected(p, c) || (p->fail_permille && draw_below(p, 1000) < p->fail_permille))) {
        c->media = true;
        wdmsim_dev_report(p->dev, WDMSIM_REPORT_EVENT, "INJECTED",
                          "[CID %u OPC %#x LBA %llu NSECT %u will end with MEDIA_ERROR]", c->cid,
                          c->opc, (unsigned long long)c->lba, c->nsect);
    }
    return true;
}

/* ---- the data engine (devices/sgdisk.md 5) --------------------------------------- */

static uint64_t data_bytes(const struct sgd_cmd *c)
{
    return (uint64_t)c->nsect * sgd_sector;
}

/* End (command offset) of the transaction starting at the current
 * position: split at the descriptor end and the 4 KiB logical boundary. */
static uint64_t next_end(const struct sgd_cmd *c)
{
    const struct sgd_desc *d = &c->desc[c->di];
    uint64_t addr = d->addr + c->doff;
    uint64_t n = sgd_page - (addr & (sgd_page - 1));
    if (n > d->len - c->doff)
        n = d->len - c->doff;
    return c->a + n;
}

static void schedule_data(struct sgdisk *p, struct sgd_cmd *c)
{
    uint64_t e = c->media ? data_bytes(c) : next_end(c);
    c->due = c->s + dev_ns_for(e, p->bandwidth);
}

static void data_end(struct sgdisk *p, struct sgd_cmd *c)
{
    c->end = now(p);
    c->state = sgd_cmd_done;
    p->active = -1;
}

/* The transaction due now. */
static void transaction(struct sgdisk *p, struct sgd_cmd *c)
{
    if (c->media) {
        c->sc = sgd_sc_media_error;
        c->bytes = 0;
        data_end(p, c);
        return;
    }
    const struct sgd_desc *d = &c->desc[c->di];
    uint64_t e = next_end(c), n = e - c->a, logical = d->addr + c->doff, fault;
    uint8_t buf[sgd_page];
    bool to_host = c->opc != sgd_op_write;
    int rc;
    if (to_host) {
        if (c->opc == sgd_op_identify)
            memcpy(buf, p->identify + c->a, n);
        else
            diskstore_read(&p->disk, c->lba * sgd_sector + c->a, buf, n);
        rc = bus_access(p, logical, buf, n, true, &fault);
    } else {
        rc = bus_access(p, logical, buf, n, false, &fault);
        if (!rc)
            diskstore_write(&p->disk, c->lba * sgd_sector + c->a, buf, n);
    }
    if (rc == -2)
        return; /* fatal: everything stops where it is */
    if (rc == -1) {
        note_error(p, fault, to_host, c, (uint16_t)c->di, "data");
        c->sc = sgd_sc_dma_error;
        c->erridx = (uint16_t)c->di;
        c->bytes = (uint32_t)c->a;
        data_end(p, c);
        return;
    }
    p->stats.transactions++;
    if (to_host)
        p->stats.bytes_to_host += n;
    else
        p->stats.bytes_to_disk += n;
    c->a = e;
    c->doff += (uint32_t)n;
    if (c->doff == d->len) {
        c->di++;
        c->doff = 0;
    }
    if (c->a == data_bytes(c)) {
        c->sc = sgd_sc_success;
        c->bytes = (uint32_t)c->a;
        data_end(p, c);
        return;
    }
    schedule_data(p, c);
}

static void engine_start(struct sgdisk *p)
{
    if (p->active >= 0)
        return;
    unsigned n = 0;
    int best = -1;
    for (unsigned i = 0; i < p->max_q; i++) {
        const struct sgd_cmd *c = &p->cmd[i];
        if (c->state != sgd_cmd_ready)
            continue;
        n++;
        if (best < 0 || c->r < p->cmd[best].r ||
            (c->r == p->cmd[best].r && c->seq < p->cmd[best].seq))
            best = (int)i;
    }
    if (best < 0)
        return;
    if (p->reorder && n > 1) {
        uint64_t k = draw_below(p, n);
        for (unsigned i = 0; i < p->max_q; i++)
            if (p->cmd[i].state == sgd_cmd_ready && k-- == 0) {
                best = (int)i;
                break;
            }
    }
    struct sgd_cmd *c = &p->cmd[best];
    c->state = sgd_cmd_data;
    c->s = now(p);
    p->active = best;
    schedule_data(p, c);
}

/* ---- completions (devices/sgdisk.md 4-6) ------------------------------------------- */

static void coalesce_fire(void *arg);

static void count_cqe(struct sgdisk *p)
{
    uint32_t thresh = p->coalesce & 0xFF, time_us = p->coalesce >> 16;
    p->coal_n++;
    if (p->coal_n == 1 && time_us)
        p->coal_ev =
            wdmsim_dev_schedule(p->dev, now(p) + (uint64_t)time_us * 1000, coalesce_fire, p);
    if (p->coal_n >= (thresh ? thresh : 1)) {
        p->isr |= sgd_int_cq;
        p->coal_n = 0;
        cancel(p, &p->coal_ev);
    }
}

static void coalesce_fire(void *arg)
{
    struct sgdisk *p = arg;
    p->coal_ev = 0;
    if (p->coal_n == 0 || p->disabling || !p->rdy)
        return;
    p->isr |= sgd_int_cq;
    p->coal_n = 0;
    update_line(p);
}

static void record(struct sgdisk *p, const struct sgd_cmd *c)
{
    struct sgdisk_cmd_record *h = &p->hist[p->nhist++ % sgd_hist];
    *h = (struct sgdisk_cmd_record){.cid = c->cid,
                                    .opc = c->opc,
                                    .lba = c->lba,
                                    .nsect = c->nsect,
                                    .f = c->f,
                                    .r = c->r,
                                    .s = c->s,
                                    .end = c->end,
                                    .cqe_time = now(p),
                                    .sc = c->sc,
                                    .detail = c->detail,
                                    .erridx = c->erridx,
                                    .bytes = c->bytes};
    unsigned op = c->opc >= sgd_op_read && c->opc <= sgd_op_identify ? c->opc : 0;
    p->stats.commands[op][c->sc < sgdisk_codes ? c->sc : 0]++;
}

static void release(struct sgd_cmd *c)
{
    free(c->desc);
    memset(c, 0, sizeof(*c));
}

/* Writes the CQE of c at CQ_TAIL. Returns false on a fatal state. */
static bool write_cqe(struct sgdisk *p, struct sgd_cmd *c)
{
    uint8_t e[sgd_cqe] = {0};
    uint16_t sqhd = (uint16_t)p->sq_head;
    uint32_t p_word = p->phase ? 1u : 0u;
    memcpy(e, &c->cid, 2);
    memcpy(e + 2, &sqhd, 2);
    memcpy(e + 4, &c->bytes, 4);
    e[8] = c->sc;
    e[9] = c->detail;
    memcpy(e + 10, &c->erridx, 2);
    memcpy(e + 12, &p_word, 4);
    uint64_t addr = p->cq_base + (uint64_t)sgd_cqe * p->cq_tail, fault;
    int rc = bus_access(p, addr, e, 12, true, &fault);
    if (!rc)
        rc = bus_access(p, addr + 12, e + 12, 4, true, &fault);
    if (rc == -1) {
        note_error(p, fault, true, NULL, sgdisk_erridx_none, "CQE");
        fatal(p, sgd_fc_cqe_write);
    }
    if (rc)
        return false;
    p->cq_tail = (p->cq_tail + 1) % p->cq_size;
    if (p->cq_tail == 0)
        p->phase = !p->phase;
    p->outstanding--;
    p->stats.cqes++;
    record(p, c);
    release(c);
    count_cqe(p);
    return true;
}

static bool cq_full(const struct sgdisk *p)
{
    return (p->cq_tail + 1) % p->cq_size == p->cq_head;
}

/* A FLUSH is due once r has passed and every command fetched before it has
 * had its CQE written (no older slot is still in use). */
static bool flush_due(const struct sgdisk *p, const struct sgd_cmd *c)
{
    if (c->r > now(p))
        return false;
    for (unsigned i = 0; i < p->max_q; i++)
        if (p->cmd[i].state != sgd_cmd_free && p->cmd[i].seq < c->seq)
            return false;
    return true;
}

/* Moves commands whose CQE is due into the post queue, in fetch order. */
static void queue_due(struct sgdisk *p)
{
    for (;;) {
        int best = -1;
        for (unsigned i = 0; i < p->max_q; i++) {
            struct sgd_cmd *c = &p->cmd[i];
            bool due = false;
            if (c->queued)
                continue;
            if (c->state == sgd_cmd_done)
                due = true;
            else if (c->state == sgd_cmd_waiting && c->sc != sgd_sc_success)
                due = c->r <= now(p);
            else if (c->state == sgd_cmd_waiting && c->opc == sgd_op_flush)
                due = flush_due(p, c);
            if (due && (best < 0 || c->seq < p->cmd[best].seq))
                best = (int)i;
        }
        if (best < 0)
            return;
        p->cmd[best].state = sgd_cmd_done;
        p->cmd[best].queued = true;
        p->postq[(p->post_head + p->post_n++) % p->max_q] = (unsigned)best;
    }
}

/* Writes queued CQEs while the CQ has room. Returns false on a fatal state. */
static bool post(struct sgdisk *p)
{
    for (;;) {
        queue_due(p);
        if (!p->post_n)
            return true;
        if (cq_full(p)) {
            if (!p->stalled) {
                p->stalled = true;
                p->stats.cq_full_stalls++;
                wdmsim_dev_report(p->dev, WDMSIM_REPORT_EVENT, "CQ_FULL_STALL",
                                  "[CQ full (CQ_TAIL %u, CQ_HEAD %u, size %u): %u CQE(s) held]",
                                  p->cq_tail, p->cq_head, p->cq_size, p->post_n);
            }
            return true;
        }
        p->stalled = false;
        unsigned slot = p->postq[p->post_head];
        p->post_head = (p->post_head + 1) % p->max_q;
        p->post_n--;
        if (!write_cqe(p, &p->cmd[slot]))
            return false;
    }
}

/* ---- run: everything due now, in the datasheet's order --------------------------- */

static void run_fire(void *arg);

static bool data_due(const struct sgdisk *p, const struct sgd_cmd *c)
{
    return c->due <= now(p) && (!p->disabling || c->due <= p->t_off);
}

static void run_once(struct sgdisk *p)
{
    if (!p->rdy || p->cfs)
        return;
    /* 1. transactions */
    while (p->active >= 0 && data_due(p, &p->cmd[p->active])) {
        transaction(p, &p->cmd[p->active]);
        if (p->cfs)
            return;
    }
    if (p->disabling)
        return; /* no CQE writes, ISR changes, engine starts or fetches */
    /* 2. CQE writes, 3. ISR / INTA# */
    bool ok = post(p);
    update_line(p);
    if (!ok)
        return;
    /* 4. engine start (commands reaching r become ready first) */
    for (unsigned i = 0; i < p->max_q; i++) {
        struct sgd_cmd *c = &p->cmd[i];
        if (c->state == sgd_cmd_waiting && c->sc == sgd_sc_success && c->opc != sgd_op_flush &&
            c->r <= now(p))
            c->state = sgd_cmd_ready;
    }
    engine_start(p);
    if (p->active >= 0 && data_due(p, &p->cmd[p->active]))
        p->rerun = true;
    /* 5. fetch */
    while (p->sq_head != p->sq_tail && p->outstanding < p->max_q) {
        if (!fetch_one(p))
            return;
        p->rerun = true; /* a command with LAT 0 is due at once */
    }
}

/* Next time run() has work: the active transaction, a command reaching r. */
static bool next_time(const struct sgdisk *p, uint64_t *when)
{
    uint64_t t = UINT64_MAX, n = now(p);
    if (!p->rdy || p->cfs)
        return false;
    if (p->active >= 0 && (!p->disabling || p->cmd[p->active].due <= p->t_off))
        t = p->cmd[p->active].due;
    if (!p->disabling)
        for (unsigned i = 0; i < p->max_q; i++)
            if (p->cmd[i].state == sgd_cmd_waiting && p->cmd[i].r > n && p->cmd[i].r < t)
                t = p->cmd[i].r;
    *when = t;
    return t != UINT64_MAX;
}

static void run(struct sgdisk *p)
{
    if (p->in_run) {
        p->rerun = true;
        return;
    }
    p->in_run = true;
    do {
        p->rerun = false;
        run_once(p);
    } while (p->rerun && p->rdy && !p->cfs);
    p->in_run = false;
    uint64_t when;
    if (!next_time(p, &when)) {
        cancel(p, &p->ev);
        return;
    }
    if (p->ev && p->ev_when == when)
        return;
    cancel(p, &p->ev);
    p->ev_when = when;
    p->ev = wdmsim_dev_schedule(p->dev, when, run_fire, p);
}

static void run_fire(void *arg)
{
    struct sgdisk *p = arg;
    p->ev = 0;
    run(p);
}

/* ---- enable, disable, reset (devices/sgdisk.md 7) ---------------------------------- */

static bool ring_ok(const struct sgdisk *p, uint64_t base, uint32_t size, unsigned entry)
{
    return size >= 2 && size <= 1024 && !(size & (size - 1)) && !(base & 63) &&
           !beyond_aw(p, base, (uint64_t)size * entry);
}

static void enable_done(void *arg)
{
    struct sgdisk *p = arg;
    p->enable_ev = 0;
    if (!ring_ok(p, p->sq_base, p->sq_size, sgd_sqe) ||
        !ring_ok(p, p->cq_base, p->cq_size, sgd_cqe)) {
        wdmsim_dev_report(p->dev, WDMSIM_REPORT_VIOLATION, "QUEUE_CONFIG",
                          "[SQ base %#llx size %u, CQ base %#llx size %u: sizes must be powers "
                          "of two 2..1024, bases 64-byte aligned, rings within %u bits]",
                          (unsigned long long)p->sq_base, p->sq_size,
                          (unsigned long long)p->cq_base, p->cq_size, p->aw);
        fatal(p, sgd_fc_queue_config);
        return;
    }
    p->sq_head = p->sq_tail = p->cq_head = p->cq_tail = 0;
    p->phase = true;
    p->coal_n = 0;
    p->rdy = true;
}

static void drop_all(struct sgdisk *p)
{
    for (unsigned i = 0; p->cmd && i < p->max_q; i++) {
        if (p->cmd[i].state != sgd_cmd_free)
            p->stats.dropped++;
        release(&p->cmd[i]);
    }
    p->post_head = p->post_n = 0;
    p->active = -1;
    p->outstanding = 0;
    p->stalled = false;
}

static void disable_done(void *arg)
{
    struct sgdisk *p = arg;
    p->disable_ev = 0;
    run_once(p); /* the data phase's transactions due by t_off */
    cancel(p, &p->ev);
    cancel(p, &p->coal_ev);
    drop_all(p);
    p->isr = 0;
    p->cfs = false;
    p->fcode = 0;
    p->rdy = false;
    p->disabling = false;
    update_line(p);
}

static void enable(struct sgdisk *p)
{
    if (p->disabling || p->rdy || p->cfs) {
        wdmsim_dev_report(p->dev, WDMSIM_REPORT_VIOLATION, "ENABLE_NOT_IDLE",
                          "[EN = 1 ignored: %s; wait for RDY = 0 and CFS = 0]",
                          p->disabling ? "a disable is pending" : "the device is not idle");
        return;
    }
    p->en = true;
    if (p->enable_ns == 0) {
        enable_done(p);
        return;
    }
    p->enable_ev = wdmsim_dev_schedule(p->dev, now(p) + p->enable_ns, enable_done, p);
}

static void disable(struct sgdisk *p)
{
    p->en = false;
    if (p->enable_ev) {
        cancel(p, &p->enable_ev); /* EN = 0 during the enable latency */
        return;
    }
    if (!p->rdy && !p->cfs)
        return;
    p->disabling = true;
    p->t_off = now(p) + p->disable_ns;
    cancel(p, &p->coal_ev);
    if (p->disable_ns == 0) {
        disable_done(p);
        return;
    }
    run(p); /* re-arm for transactions due by t_off only */
    p->disable_ev = wdmsim_dev_schedule(p->dev, p->t_off, disable_done, p);
}

static void sgdisk_reset(void *state)
{
    struct sgdisk *p = state;
    cancel(p, &p->ev);
    cancel(p, &p->enable_ev);
    cancel(p, &p->disable_ev);
    cancel(p, &p->coal_ev);
    drop_all(p);
    p->en = p->rdy = p->cfs = p->disabling = false;
    p->fcode = 0;
    p->isr = p->ien = p->coalesce = 0;
    p->sq_base = p->cq_base = 0;
    p->sq_size = p->cq_size = 0;
    p->sq_tail = p->cq_head = p->sq_head = p->cq_tail = 0;
    p->phase = true;
    p->coal_n = 0;
    p->line = false;
    wdmsim_dev_irq(p->dev, false);
}

/* ---- doorbells (devices/sgdisk.md 4) ----------------------------------------------- */

static uint32_t ring_dist(uint32_t to, uint32_t from, uint32_t size)
{
    return (to + size - from) % size;
}

static void sq_tail_write(struct sgdisk *p, uint32_t v)
{
    uint32_t size = p->sq_size, old = p->sq_tail;
    if (v >= size || ring_dist(v, old, size) > size - 1 - ring_dist(old, p->sq_head, size)) {
        wdmsim_dev_report(p->dev, WDMSIM_REPORT_VIOLATION, "SQ_TAIL_INVALID",
                          "[SQ_TAIL = %u: old %u, SQ_HEAD %u, SQ_SIZE %u: %s]", v, old, p->sq_head,
                          size, v >= size ? "not below SQ_SIZE" : "more entries than free slots");
        fatal(p, sgd_fc_sq_tail);
        return;
    }
    p->sq_tail = v;
    run(p);
}

static void cq_head_write(struct sgdisk *p, uint32_t v)
{
    uint32_t size = p->cq_size, old = p->cq_head;
    if (v >= size || ring_dist(v, old, size) > ring_dist(p->cq_tail, old, size)) {
        wdmsim_dev_report(p->dev, WDMSIM_REPORT_VIOLATION, "CQ_HEAD_INVALID",
                          "[CQ_HEAD = %u: old %u, CQ_TAIL %u, CQ_SIZE %u: %s]", v, old, p->cq_tail,
                          size, v >= size ? "not below CQ_SIZE" : "past entries the device wrote");
        fatal(p, sgd_fc_cq_head);
        return;
    }
    p->cq_head = v;
    run(p);
}

/* ---- registers ------------------------------------------------------------------- */

static uint32_t reg_read(const struct sgdisk *p, enum sgd_reg r)
{
    switch (r) {
    case sgd_reg_id:
        return sgd_id;
    case sgd_reg_version:
        return sgd_version;
    case sgd_reg_cap0:
        return p->aw | log2_of(p->seg_align) << 8 | (p->coal ? 1u << 12 : 0) | p->max_desc << 16;
    case sgd_reg_cap1:
        return p->max_seg;
    case sgd_reg_cap2:
        return p->boundary_log2 | p->max_q << 16;
    case sgd_reg_cap3:
        return p->max_sect;
    case sgd_reg_capacity_lo:
        return (uint32_t)p->capacity;
    case sgd_reg_capacity_hi:
        return (uint32_t)(p->capacity >> 32);
    case sgd_reg_ctrl:
        return p->en ? sgd_ctrl_en : 0;
    case sgd_reg_status:
        return (p->rdy ? 1u : 0) | (p->cfs ? 2u : 0) | (uint32_t)p->fcode << 8 |
               (p->outstanding & 0xFFFF) << 16;
    case sgd_reg_isr:
        return p->isr;
    case sgd_reg_ien:
        return p->ien;
    case sgd_reg_coalesce:
        return p->coalesce;
    case sgd_reg_sq_base_lo:
        return (uint32_t)p->sq_base;
    case sgd_reg_sq_base_hi:
        return (uint32_t)(p->sq_base >> 32);
    case sgd_reg_sq_size:
        return p->sq_size;
    case sgd_reg_cq_base_lo:
        return (uint32_t)p->cq_base;
    case sgd_reg_cq_base_hi:
        return (uint32_t)(p->cq_base >> 32);
    case sgd_reg_cq_size:
        return p->cq_size;
    case sgd_reg_sq_tail:
        return p->sq_tail;
    case sgd_reg_cq_head:
        return p->cq_head;
    case sgd_reg_sq_head:
        return p->sq_head;
    case sgd_reg_cq_tail:
        return p->cq_tail;
    }
    return 0;
}

static void set_half(uint64_t *r, bool high, uint32_t v)
{
    *r = high ? (*r & 0xFFFFFFFFULL) | (uint64_t)v << 32 : (*r & ~0xFFFFFFFFULL) | v;
}

static void reg_write(struct sgdisk *p, const struct sgd_regdef *d, uint32_t v)
{
    if (v & ~d->valid) {
        wdmsim_dev_report(p->dev, WDMSIM_REPORT_VIOLATION, "RESERVED",
                          "[%s written %#x, reserved bits %#x ignored]", d->name, v, v & ~d->valid);
        v &= d->valid;
    }
    if (d->acc == sgd_cfg && (p->en || p->rdy)) {
        wdmsim_dev_report(p->dev, WDMSIM_REPORT_VIOLATION, "CFG_WHILE_ENABLED",
                          "[%s = %#x ignored: EN %d, RDY %d]", d->name, v, p->en, p->rdy);
        return;
    }
    if (d->acc == sgd_doorbell && (!p->rdy || p->cfs || p->disabling)) {
        wdmsim_dev_report(p->dev, WDMSIM_REPORT_VIOLATION, "DOORBELL_NOT_READY",
                          "[%s = %u ignored: RDY %d, CFS %d%s]", d->name, v, p->rdy, p->cfs,
                          p->disabling ? ", disable pending" : "");
        return;
    }
    switch (d->reg) {
    case sgd_reg_ctrl:
        if (v & sgd_ctrl_rst)
            sgdisk_reset(p);
        else if ((v & sgd_ctrl_en) && !p->en)
            enable(p);
        else if (!(v & sgd_ctrl_en) && p->en)
            disable(p);
        break;
    case sgd_reg_isr:
        p->isr &= ~v;
        update_line(p);
        break;
    case sgd_reg_ien:
        p->ien = v;
        update_line(p);
        break;
    case sgd_reg_coalesce:
        p->coalesce = v;
        break;
    case sgd_reg_sq_base_lo:
    case sgd_reg_sq_base_hi:
        set_half(&p->sq_base, d->reg == sgd_reg_sq_base_hi, v);
        break;
    case sgd_reg_cq_base_lo:
    case sgd_reg_cq_base_hi:
        set_half(&p->cq_base, d->reg == sgd_reg_cq_base_hi, v);
        break;
    case sgd_reg_sq_size:
        p->sq_size = v;
        break;
    case sgd_reg_cq_size:
        p->cq_size = v;
        break;
    case sgd_reg_sq_tail:
        sq_tail_write(p, v);
        break;
    case sgd_reg_cq_head:
        cq_head_write(p, v);
        break;
    default:
        break;
    }
}

static const struct sgd_regdef *find_reg(uint64_t off)
{
    for (size_t i = 0; i < sgd_nregs; i++)
        if (sgd_regs[i].offset == off)
            return &sgd_regs[i];
    return NULL;
}

static void bad_access(struct sgdisk *p, uint64_t off, unsigned w, bool write, const char *why)
{
    wdmsim_dev_report(p->dev, WDMSIM_REPORT_VIOLATION, "BAD_ACCESS",
                      "[%s BAR0 +%#llx, %u bytes: %s]", write ? "write" : "read",
                      (unsigned long long)off, w, why);
}

static uint64_t sgdisk_read(void *state, unsigned region, uint64_t offset, unsigned width)
{
    struct sgdisk *p = state;
    if (width != 4 || offset % 4) {
        bad_access(p, offset, width, false, "registers take aligned 32-bit accesses only");
        return ~0ULL;
    }
    const struct sgd_regdef *d = find_reg(offset);
    return d ? reg_read(p, d->reg) : 0;
}

static void sgdisk_write(void *state, unsigned region, uint64_t offset, unsigned width,
                         uint64_t value)
{
    struct sgdisk *p = state;
    if (width != 4 || offset % 4) {
        bad_access(p, offset, width, true, "registers take aligned 32-bit accesses only");
        return;
    }
    const struct sgd_regdef *d = find_reg(offset);
    if (!d) {
        bad_access(p, offset, width, true, "no register at this offset");
        return;
    }
    if (d->acc == sgd_ro || (d->reg == sgd_reg_coalesce && !p->coal)) {
        bad_access(p, offset, width, true,
                   d->acc == sgd_ro ? "register is read-only"
                                    : "COALESCE is read-only without coalescing (CAP0.COAL = 0)");
        return;
    }
    reg_write(p, d, (uint32_t)value);
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
    caps[0] = reg_read(p, sgd_reg_cap0);
    caps[1] = reg_read(p, sgd_reg_cap1);
    caps[2] = reg_read(p, sgd_reg_cap2);
    caps[3] = reg_read(p, sgd_reg_cap3);
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
    drop_all(p);
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
    const struct sgd_regdef *d = find_reg(offset);
    return d ? reg_read(wdmsim_dev_state(dev), d->reg) : 0;
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
