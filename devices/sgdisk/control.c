/*
 * devices/sgdisk/control.c - SGD-1 enable, disable, reset, doorbells and
 * the register map.
 *
 * Models: EN with its enable latency and queue checks, the disable instant
 * t_off and the drop of outstanding commands, soft reset (CTRL.RST and the
 * model's reset), the SQ_TAIL / CQ_HEAD doorbells and their checks, and the
 * BAR0 register table with its access rules.
 * Spec: devices/sgdisk.md 1, 4, 7.
 * Invariants: configuration registers change only while EN = 0 and RDY = 0;
 * doorbells act only while RDY = 1, CFS = 0 and no disable is pending; a
 * bad register access is reported and changes nothing.
 * Not modelled: see devices/sgdisk/sgdisk.c.
 */
#include "sgdisk_impl.h"

/* ---- enable, disable, reset (devices/sgdisk.md 7) ---------------------------------- */

static bool ring_ok(const struct sgdisk *p, uint64_t base, uint32_t size, unsigned entry)
{
    return size >= 2 && size <= 1024 && !(size & (size - 1)) && !(base & 63) &&
           !sgdisk_beyond_aw(p, base, (uint64_t)size * entry);
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
        sgdisk_fatal(p, sgd_fc_queue_config);
        return;
    }
    p->sq_head = p->sq_tail = p->cq_head = p->cq_tail = 0;
    p->phase = true;
    p->coal_n = 0;
    p->rdy = true;
}

void sgdisk_drop_all(struct sgdisk *p)
{
    for (unsigned i = 0; p->cmd && i < p->max_q; i++) {
        if (p->cmd[i].state != sgd_cmd_free)
            p->stats.dropped++;
        sgdisk_release(&p->cmd[i]);
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
    sgdisk_run_once(p); /* the data phase's transactions due by t_off */
    sgdisk_cancel(p, &p->ev);
    sgdisk_cancel(p, &p->coal_ev);
    sgdisk_drop_all(p);
    p->isr = 0;
    p->cfs = false;
    p->fcode = 0;
    p->rdy = false;
    p->disabling = false;
    sgdisk_update_line(p);
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
    p->enable_ev = wdmsim_dev_schedule(p->dev, sgdisk_now(p) + p->enable_ns, enable_done, p);
}

static void disable(struct sgdisk *p)
{
    p->en = false;
    if (p->enable_ev) {
        sgdisk_cancel(p, &p->enable_ev); /* EN = 0 during the enable latency */
        return;
    }
    if (!p->rdy && !p->cfs)
        return;
    p->disabling = true;
    p->t_off = sgdisk_now(p) + p->disable_ns;
    sgdisk_cancel(p, &p->coal_ev);
    if (p->disable_ns == 0) {
        disable_done(p);
        return;
    }
    sgdisk_run(p); /* re-arm for transactions due by t_off only */
    p->disable_ev = wdmsim_dev_schedule(p->dev, p->t_off, disable_done, p);
}

void sgdisk_reset(void *state)
{
    struct sgdisk *p = state;
    sgdisk_cancel(p, &p->ev);
    sgdisk_cancel(p, &p->enable_ev);
    sgdisk_cancel(p, &p->disable_ev);
    sgdisk_cancel(p, &p->coal_ev);
    sgdisk_drop_all(p);
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
        sgdisk_fatal(p, sgd_fc_sq_tail);
        return;
    }
    p->sq_tail = v;
    sgdisk_run(p);
}

static void cq_head_write(struct sgdisk *p, uint32_t v)
{
    uint32_t size = p->cq_size, old = p->cq_head;
    if (v >= size || ring_dist(v, old, size) > ring_dist(p->cq_tail, old, size)) {
        wdmsim_dev_report(p->dev, WDMSIM_REPORT_VIOLATION, "CQ_HEAD_INVALID",
                          "[CQ_HEAD = %u: old %u, CQ_TAIL %u, CQ_SIZE %u: %s]", v, old, p->cq_tail,
                          size, v >= size ? "not below CQ_SIZE" : "past entries the device wrote");
        sgdisk_fatal(p, sgd_fc_cq_head);
        return;
    }
    p->cq_head = v;
    sgdisk_run(p);
}

/* ---- registers ------------------------------------------------------------------- */

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

static unsigned log2_of(uint64_t v)
{
    unsigned n = 0;
    while (v > 1)
        v >>= 1, n++;
    return n;
}

uint32_t sgdisk_reg_read(const struct sgdisk *p, enum sgd_reg r)
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
        sgdisk_update_line(p);
        break;
    case sgd_reg_ien:
        p->ien = v;
        sgdisk_update_line(p);
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

const struct sgd_regdef *sgdisk_find_reg(uint64_t off)
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

uint64_t sgdisk_read(void *state, unsigned region, uint64_t offset, unsigned width)
{
    struct sgdisk *p = state;
    if (width != 4 || offset % 4) {
        bad_access(p, offset, width, false, "registers take aligned 32-bit accesses only");
        return ~0ULL;
    }
    const struct sgd_regdef *d = sgdisk_find_reg(offset);
    return d ? sgdisk_reg_read(p, d->reg) : 0;
}

void sgdisk_write(void *state, unsigned region, uint64_t offset, unsigned width, uint64_t value)
{
    struct sgdisk *p = state;
    if (width != 4 || offset % 4) {
        bad_access(p, offset, width, true, "registers take aligned 32-bit accesses only");
        return;
    }
    const struct sgd_regdef *d = sgdisk_find_reg(offset);
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
