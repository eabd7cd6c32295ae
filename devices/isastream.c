/*
 * devices/isastream.c - IST-1, the ISA stream device on the system 8237.
 *
 * Models: devices/isastream.md: an ISA slave that never masters the bus.
 * Capture produces the deterministic stream b(n) at RATE bytes per virtual
 * second into a FIFO; playback consumes FIFO bytes at that rate. DREQ
 * follows the FIFO level; the 8237 moves bytes (channels 0-3) or words
 * (5-7) through the slave callbacks; XFERRED, CRC-32, block and terminal-
 * count interrupts; edge-triggered IRQ with re-edge on acknowledge.
 * Spec: devices/isastream.md 1-9; devices/README.md 3, 5, 6, 8-10.
 * Invariants: level <= depth; dreq == the rule of 4 (always false when not
 * running) and the channel's DREQ line follows it; the IRQ output is
 * (isr & ien) != 0 after every access and event; a driver-written value or
 * a controller cycle never breaks the model (reports instead).
 * Not modelled: verify cycles (the 8237 model does not run an I/O cycle for
 * them, so IST_CYCLE_WRONG_DIR covers only reads in playback and writes in
 * capture). The controller has no clock of its own in wdmsim: the device
 * lets it serve the channel (wdmsim_dma_run) at each tick and at start, the
 * instants at which DREQ can rise.
 * Length: the datasheet's register map, both stream directions and the
 * 8237 slave callbacks share one state struct and one event loop; split by
 * direction the two halves would each need the whole struct's invariants.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wdmsim/device.h>

#include "diskstore.h"
#include "isastream.h"

enum {
    ist_id = 0x49,
    ist_rev = 0x01,
    ist_max_inject = 64,
    ist_max_runs = 32,
    ist_max_edges = 256,
    /* CTRL */
    ist_ctrl_run = 1u << 0,
    ist_ctrl_dir = 1u << 1,
    ist_ctrl_w16 = 1u << 2,
    ist_ctrl_tcstop = 1u << 3,
    ist_ctrl_rst = 1u << 7,
    ist_ctrl_valid = ist_ctrl_run | ist_ctrl_dir | ist_ctrl_w16 | ist_ctrl_tcstop | ist_ctrl_rst,
    ist_ctrl_mode = ist_ctrl_dir | ist_ctrl_w16 | ist_ctrl_tcstop,
    /* STATUS */
    ist_st_running = 1u << 0,
    ist_st_dreq = 1u << 1,
    ist_st_ovr = 1u << 2,
    ist_st_unr = 1u << 3,
    ist_st_ch16 = 1u << 4,
    ist_st_empty = 1u << 5,
    ist_st_full = 1u << 6,
    ist_st_err = 1u << 7,
    /* IEN / ISR */
    ist_int_block = 1u << 0,
    ist_int_tc = 1u << 1,
    ist_int_xrun = 1u << 2,
    ist_int_valid = 0x7,
};

enum ist_reg {
    ist_reg_id,
    ist_reg_rev,
    ist_reg_ctrl,
    ist_reg_status,
    ist_reg_ien,
    ist_reg_isr,
    ist_reg_index,
    ist_reg_data,
};

enum ist_acc { ist_ro, ist_rw, ist_rw1c };

/* Port map (devices/isastream.md 1): 8-bit registers; DATA spans 0x8-0xB. */
struct ist_regdef {
    uint8_t offset;
    enum ist_acc acc;
    enum ist_reg reg;
    uint8_t valid;
    const char *name;
};

static const struct ist_regdef ist_regs[] = {
    {0x0, ist_ro, ist_reg_id, 0, "ID"},
    {0x1, ist_ro, ist_reg_rev, 0, "REV"},
    {0x2, ist_rw, ist_reg_ctrl, ist_ctrl_valid, "CTRL"},
    {0x3, ist_ro, ist_reg_status, 0, "STATUS"},
    {0x4, ist_rw, ist_reg_ien, ist_int_valid, "IEN"},
    {0x5, ist_rw1c, ist_reg_isr, ist_int_valid, "ISR"},
    {0x6, ist_rw, ist_reg_index, 0xFF, "INDEX"},
    {0x8, ist_rw, ist_reg_data, 0xFF, "DATA0"},
    {0x9, ist_rw, ist_reg_data, 0xFF, "DATA1"},
    {0xA, ist_rw, ist_reg_data, 0xFF, "DATA2"},
    {0xB, ist_rw, ist_reg_data, 0xFF, "DATA3"},
};

enum { ist_nregs = sizeof(ist_regs) / sizeof(ist_regs[0]) };

/* Indirect registers (devices/isastream.md 2). */
enum ist_index {
    ist_ix_rate = 0x00,
    ist_ix_block = 0x01,
    ist_ix_seed = 0x02,
    ist_ix_xferred = 0x03,
    ist_ix_streampos = 0x04,
    ist_ix_ovrcnt = 0x05,
    ist_ix_unrcnt = 0x06,
    ist_ix_crc = 0x07,
    ist_ix_fifolvl = 0x08,
    ist_ix_fifodepth = 0x09,
    ist_ix_count,
};

static const char *const ist_index_name[ist_ix_count] = {
    "RATE",   "BLOCK",  "SEED", "XFERRED", "STREAMPOS",
    "OVRCNT", "UNRCNT", "CRC",  "FIFOLVL", "FIFODEPTH"};

struct isastream {
    wdmsim_dev *dev;
    /* knobs and resources (fixed after realize) */
    uint32_t depth, max_rate;
    bool ch16;
    uint64_t inj_ovr[ist_max_inject], inj_unr[ist_max_inject];
    unsigned ninj_ovr, ninj_unr;
    bool record;
    /* registers */
    uint8_t ctrl; /* DIR, W16, TCSTOP as stored; RUN mirrors running */
    uint8_t ien, isr, index;
    bool err, ovr, unr;
    uint32_t rate, block, seed; /* as programmed; latched into run at start */
    uint32_t latch;
    /* the run */
    bool running;
    struct isastream_run run; /* current or last run's settings and counters */
    uint64_t tick;            /* index of the next tick */
    uint64_t tick_ev;
    bool ovr_reported, unr_reported;
    uint8_t *fifo;
    uint32_t head, level;
    bool dreq;
    uint64_t dreq_since;
    bool line;
    /* test hooks */
    struct isastream_stats stats;
    struct isastream_run runs[ist_max_runs];
    uint64_t nruns;
    struct isastream_edge edges[ist_max_edges];
    uint64_t nedges;
    uint8_t *rec;
    uint64_t rec_len, rec_cap;
};

static const char *const isastream_knobs[] = {
    "io_base",           "dma_channel",        "fifo_depth", "max_rate",
    "inject_overrun_at", "inject_underrun_at", "record",     NULL};

static unsigned unit(const struct isastream *s)
{
    return s->ch16 ? 2 : 1;
}

static bool playback(const struct isastream *s)
{
    return s->run.playback;
}

/* ---- the stream ---------------------------------------------------------------- */

uint8_t isastream_stream_byte(uint32_t n, uint32_t seed)
{
    uint32_t x = n + seed;
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return (uint8_t)x;
}

uint32_t isastream_stream_crc(uint32_t seed, uint32_t first, uint64_t count)
{
    uint8_t buf[256];
    uint32_t crc = 0, n = first;
    while (count) {
        size_t k = count < sizeof(buf) ? (size_t)count : sizeof(buf);
        for (size_t i = 0; i < k; i++)
            buf[i] = isastream_stream_byte(n++, seed);
        crc = dev_crc32(crc, buf, k);
        count -= k;
    }
    return crc;
}

/* ---- IRQ and DREQ ---------------------------------------------------------------- */

static void log_edge(struct isastream *s)
{
    s->stats.irq_edges++;
    s->edges[s->nedges++ % ist_max_edges] =
        (struct isastream_edge){wdmsim_dev_now(s->dev), s->run.xferred, s->run.streampos};
}

static void update_irq(struct isastream *s)
{
    bool want = (s->isr & s->ien) != 0;
    if (want && !s->line)
        log_edge(s);
    s->line = want;
    wdmsim_dev_irq(s->dev, want);
}

static void set_dreq(struct isastream *s, bool level)
{
    uint64_t t = wdmsim_dev_now(s->dev);
    if (level == s->dreq)
        return;
    if (s->dreq)
        s->stats.dreq_unserved_ns += t - s->dreq_since;
    else
        s->dreq_since = t;
    s->dreq = level;
    wdmsim_dma_request(s->dev, level);
}

static void update_dreq(struct isastream *s)
{
    bool want = false;
    if (s->running)
        want = playback(s) ? s->depth - s->level >= unit(s) : s->level >= unit(s);
    set_dreq(s, want);
}

/* ---- FIFO ------------------------------------------------------------------------ */

static void fifo_push(struct isastream *s, uint8_t b)
{
    s->fifo[(s->head + s->level) % s->depth] = b;
    s->level++;
}

static uint8_t fifo_pop(struct isastream *s)
{
    uint8_t b = s->fifo[s->head];
    s->head = (s->head + 1) % s->depth;
    s->level--;
    return b;
}

/* ---- start and stop (devices/isastream.md 4) ----------------------------------------- */

static void tick_fire(void *arg);

static uint64_t tick_time(const struct isastream *s, uint64_t j)
{
    return s->run.start_time + dev_ns_for(j + 1, s->run.rate);
}

static void stop(struct isastream *s)
{
    if (!s->running)
        return;
    set_dreq(s, false);
    if (s->tick_ev)
        wdmsim_dev_cancel(s->dev, s->tick_ev);
    s->tick_ev = 0;
    s->run.running = false;
    s->run.stop_time = wdmsim_dev_now(s->dev);
    s->run.fifo_at_stop = s->level;
    s->runs[s->nruns++ % ist_max_runs] = s->run;
    s->head = s->level = 0;
    s->running = false;
    s->ctrl &= (uint8_t)~ist_ctrl_run;
}

static void record_bytes(struct isastream *s, const uint8_t *b, unsigned n)
{
    if (!s->record)
        return;
    if (s->rec_len + n > s->rec_cap) {
        uint64_t cap = s->rec_cap ? s->rec_cap * 2 : 4096;
        uint8_t *r = realloc(s->rec, cap);
        if (!r)
            return; /* host out of memory: the record stops growing */
        s->rec = r;
        s->rec_cap = cap;
    }
    memcpy(s->rec + s->rec_len, b, n);
    s->rec_len += n;
}

/* A cycle moved U bytes: counters, CRC, block interrupt. */
static void account(struct isastream *s, const uint8_t *b, unsigned n)
{
    uint32_t blk = s->run.block, before = s->run.xferred;
    s->run.xferred += n;
    s->run.crc = dev_crc32(s->run.crc, b, n);
    s->stats.dma_cycles++;
    record_bytes(s, b, n);
    if (blk && s->run.xferred / blk != before / blk) {
        s->isr |= ist_int_block;
        s->stats.block_events++;
    }
}

static bool cycle_ok(struct isastream *s, bool io_read)
{
    const char *rule = NULL;
    if (!s->dreq)
        rule = "CYCLE_NO_DREQ";
    else if (io_read == playback(s))
        rule = "CYCLE_WRONG_DIR";
    if (!rule)
        return true;
    s->stats.bad_cycles++;
    wdmsim_dev_report(s->dev, WDMSIM_REPORT_VIOLATION, rule,
                      "[CTRL %#x, %s cycle (%s), DREQ %d, FIFOLVL %u: nothing moved]", s->ctrl,
                      io_read ? "I/O-read" : "I/O-write",
                      io_read ? "8237 write transfer, device->memory"
                              : "8237 read transfer, memory->device",
                      s->dreq, s->level);
    return false;
}

/* 8237 write transfer: the device gives the oldest U bytes (capture). */
static uint16_t slave_read_unit(void *state)
{
    struct isastream *s = state;
    if (!cycle_ok(s, true))
        return s->ch16 ? 0xFFFF : 0xFF;
    uint8_t b[2] = {0, 0};
    for (unsigned i = 0; i < unit(s); i++)
        b[i] = fifo_pop(s);
    account(s, b, unit(s));
    update_dreq(s);
    update_irq(s);
    return (uint16_t)(b[0] | b[1] << 8);
}

/* 8237 read transfer: U bytes enter the FIFO (playback). */
static void slave_write_unit(void *state, uint16_t value)
{
    struct isastream *s = state;
    if (!cycle_ok(s, false))
        return;
    uint8_t b[2] = {(uint8_t)value, (uint8_t)(value >> 8)};
    for (unsigned i = 0; i < unit(s); i++)
        fifo_push(s, b[i]);
    account(s, b, unit(s));
    update_dreq(s);
    update_irq(s);
}

static void slave_tc(void *state)
{
    struct isastream *s = state;
    s->stats.tc_cycles++;
    s->isr |= ist_int_tc;
    if (s->running && (s->ctrl & ist_ctrl_tcstop))
        stop(s);
    update_irq(s);
}

static const struct wdmsim_dma_slave_ops ist_slave_ops = {
    .read_unit = slave_read_unit,
    .write_unit = slave_write_unit,
    .terminal_count = slave_tc,
};

/* Lets the controller serve the channel now (DMA cycles of this instant). */
static void serve(struct isastream *s)
{
    if (s->dreq)
        wdmsim_dma_run(s->dev, s->depth + 2);
}

static bool injected(const uint64_t *list, unsigned n, uint64_t j)
{
    for (unsigned i = 0; i < n; i++)
        if (list[i] == j)
            return true;
    return false;
}

static void loss(struct isastream *s, bool overrun, bool inj, uint64_t j)
{
    if (overrun) {
        s->run.ovrcnt++;
        s->ovr = true;
    } else {
        s->run.unrcnt++;
        s->unr = true;
    }
    s->isr |= ist_int_xrun;
    if (inj)
        wdmsim_dev_report(s->dev, WDMSIM_REPORT_EVENT, "INJECTED", "[%s at tick %llu]",
                          overrun ? "overrun" : "underrun", (unsigned long long)j);
    bool *once = overrun ? &s->ovr_reported : &s->unr_reported;
    if (!*once) {
        *once = true;
        wdmsim_dev_report(s->dev, WDMSIM_REPORT_EVENT, overrun ? "OVERRUN" : "UNDERRUN",
                          "[first loss of this run at tick %llu: FIFOLVL %u of %u, XFERRED %u]",
                          (unsigned long long)j, s->level, s->depth, s->run.xferred);
    }
}

static void do_tick(struct isastream *s, uint64_t j)
{
    if (!playback(s)) {
        bool inj = injected(s->inj_ovr, s->ninj_ovr, j);
        if (!inj && s->level < s->depth)
            fifo_push(s, isastream_stream_byte((uint32_t)j, s->run.seed));
        else
            loss(s, true, inj, j);
    } else {
        bool inj = injected(s->inj_unr, s->ninj_unr, j);
        if (!inj && s->level >= 1)
            fifo_pop(s);
        else
            loss(s, false, inj, j);
    }
    s->run.streampos = (uint32_t)(j + 1);
}

static void tick_fire(void *arg)
{
    struct isastream *s = arg;
    s->tick_ev = 0;
    if (!s->running)
        return;
    do_tick(s, s->tick++);
    update_dreq(s);
    serve(s);
    update_irq(s);
    if (s->running)
        s->tick_ev = wdmsim_dev_schedule(s->dev, tick_time(s, s->tick), tick_fire, s);
}

static void start(struct isastream *s, uint8_t v)
{
    bool w16 = v & ist_ctrl_w16;
    const char *rule = NULL;
    if (w16 != s->ch16)
        rule = "WIDTH_MISMATCH";
    else if (s->rate == 0 || s->rate > s->max_rate)
        rule = "BAD_RATE";
    else if (w16 && (s->block & 1))
        rule = "BAD_BLOCK";
    s->ctrl = v & ist_ctrl_mode;
    if (rule) {
        s->err = true;
        wdmsim_dev_report(s->dev, WDMSIM_REPORT_VIOLATION, rule,
                          "[RUN refused: CTRL %#x, W16 %d on a %d-bit channel, RATE %u (max %u), "
                          "BLOCK %u]",
                          v, w16, s->ch16 ? 16 : 8, s->rate, s->max_rate, s->block);
        return;
    }
    s->err = false;
    wdmsim_dma_slave_attach(s->dev, &ist_slave_ops, s);
    s->run = (struct isastream_run){.running = true,
                                    .start_time = wdmsim_dev_now(s->dev),
                                    .rate = s->rate,
                                    .block = s->block,
                                    .seed = s->seed,
                                    .playback = v & ist_ctrl_dir,
                                    .w16 = w16,
                                    .tcstop = v & ist_ctrl_tcstop};
    s->ovr = s->unr = false;
    s->ovr_reported = s->unr_reported = false;
    s->head = s->level = 0;
    s->tick = 0;
    s->running = true;
    s->ctrl |= ist_ctrl_run;
    s->stats.runs++;
    s->tick_ev = wdmsim_dev_schedule(s->dev, tick_time(s, 0), tick_fire, s);
    update_dreq(s); /* playback raises DREQ at t0 */
    serve(s);
    update_irq(s);
}

static void isastream_reset(void *state)
{
    struct isastream *s = state;
    stop(s);
    s->run = (struct isastream_run){0}; /* XFERRED ... CRC read their reset value 0 */
    s->ctrl = s->ien = s->isr = s->index = 0;
    s->err = s->ovr = s->unr = false;
    s->rate = 8000;
    s->block = s->seed = 0;
    s->latch = 0;
    s->line = false;
    wdmsim_dev_irq(s->dev, false);
}

static void ctrl_write(struct isastream *s, uint8_t v)
{
    if (v & ist_ctrl_rst) {
        isastream_reset(s);
        return;
    }
    if (!s->running) {
        if (v & ist_ctrl_run)
            start(s, v);
        else
            s->ctrl = v & ist_ctrl_mode;
        return;
    }
    if (!(v & ist_ctrl_run)) {
        stop(s);
        s->ctrl = v & ist_ctrl_mode;
        return;
    }
    if ((v & ist_ctrl_mode) != (s->ctrl & ist_ctrl_mode))
        wdmsim_dev_report(s->dev, WDMSIM_REPORT_VIOLATION, "CFG_WHILE_RUNNING",
                          "[CTRL = %#x ignored while RUNNING with CTRL %#x]", v, s->ctrl);
}

/* ---- registers ------------------------------------------------------------------- */

static uint32_t indirect_read(const struct isastream *s, uint8_t ix)
{
    switch (ix) {
    case ist_ix_rate:
        return s->rate;
    case ist_ix_block:
        return s->block;
    case ist_ix_seed:
        return s->seed;
    case ist_ix_xferred:
        return s->run.xferred;
    case ist_ix_streampos:
        return s->run.streampos;
    case ist_ix_ovrcnt:
        return s->run.ovrcnt;
    case ist_ix_unrcnt:
        return s->run.unrcnt;
    case ist_ix_crc:
        return s->run.crc;
    case ist_ix_fifolvl:
        return s->level;
    case ist_ix_fifodepth:
        return s->depth;
    default:
        return 0;
    }
}

static void indirect_store(struct isastream *s)
{
    uint8_t ix = s->index;
    uint32_t v = s->latch;
    if (ix >= ist_ix_count) {
        wdmsim_dev_report(s->dev, WDMSIM_REPORT_VIOLATION, "BAD_INDEX",
                          "[DATA = %#x stored to INDEX %#x, which names no register]", v, ix);
        return;
    }
    if (ix > ist_ix_seed) {
        wdmsim_dev_report(s->dev, WDMSIM_REPORT_VIOLATION, "BAD_ACCESS",
                          "[DATA = %#x stored to %s (INDEX %#x), which is read-only]", v,
                          ist_index_name[ix], ix);
        return;
    }
    if (s->running) {
        wdmsim_dev_report(s->dev, WDMSIM_REPORT_VIOLATION, "CFG_WHILE_RUNNING",
                          "[%s = %u ignored while RUNNING (it is latched at RUN)]",
                          ist_index_name[ix], v);
        return;
    }
    if (ix == ist_ix_rate)
        s->rate = v;
    else if (ix == ist_ix_block)
        s->block = v;
    else
        s->seed = v;
}

static uint8_t status(const struct isastream *s)
{
    return (uint8_t)((s->running ? ist_st_running : 0) | (s->dreq ? ist_st_dreq : 0) |
                     (s->ovr ? ist_st_ovr : 0) | (s->unr ? ist_st_unr : 0) |
                     (s->ch16 ? ist_st_ch16 : 0) | (s->level == 0 ? ist_st_empty : 0) |
                     (s->level == s->depth ? ist_st_full : 0) | (s->err ? ist_st_err : 0));
}

static uint8_t reg_peek(const struct isastream *s, const struct ist_regdef *d)
{
    switch (d->reg) {
    case ist_reg_id:
        return ist_id;
    case ist_reg_rev:
        return ist_rev;
    case ist_reg_ctrl:
        return s->ctrl;
    case ist_reg_status:
        return status(s);
    case ist_reg_ien:
        return s->ien;
    case ist_reg_isr:
        return s->isr;
    case ist_reg_index:
        return s->index;
    case ist_reg_data:
        return (uint8_t)(s->latch >> (8 * (d->offset - 0x8)));
    }
    return 0;
}

static const struct ist_regdef *find_reg(uint64_t off)
{
    for (size_t i = 0; i < ist_nregs; i++)
        if (ist_regs[i].offset == off)
            return &ist_regs[i];
    return NULL;
}

static void bad_access(struct isastream *s, uint64_t off, unsigned w, bool write, const char *why)
{
    wdmsim_dev_report(s->dev, WDMSIM_REPORT_VIOLATION, "BAD_ACCESS",
                      "[%s port base+%#llx, %u bytes: %s]", write ? "write" : "read",
                      (unsigned long long)off, w, why);
}

static uint8_t read8(struct isastream *s, uint64_t off)
{
    const struct ist_regdef *d = find_reg(off);
    if (!d)
        return 0; /* reserved ports read 0 */
    if (d->reg == ist_reg_data && d->offset == 0x8)
        s->latch = indirect_read(s, s->index); /* a read of +0x8 latches */
    return reg_peek(s, d);
}

static void write8(struct isastream *s, uint64_t off, uint8_t v)
{
    const struct ist_regdef *d = find_reg(off);
    if (!d) {
        bad_access(s, off, 1, true, "no register at this port");
        return;
    }
    if (d->acc == ist_ro) {
        bad_access(s, off, 1, true, "register is read-only");
        return;
    }
    if (v & ~d->valid) {
        wdmsim_dev_report(s->dev, WDMSIM_REPORT_VIOLATION, "RESERVED",
                          "[%s written %#x, reserved bits %#x ignored]", d->name, v, v & ~d->valid);
        v &= d->valid;
    }
    switch (d->reg) {
    case ist_reg_ctrl:
        ctrl_write(s, v);
        break;
    case ist_reg_ien:
        s->ien = v;
        break;
    case ist_reg_isr:
        s->isr &= (uint8_t)~v;
        if ((s->isr & s->ien) && s->line) {
            /* still high after the acknowledge: a fresh edge */
            wdmsim_dev_irq(s->dev, false);
            s->line = false;
        }
        break;
    case ist_reg_index:
        s->index = v;
        s->latch = indirect_read(s, v);
        break;
    case ist_reg_data: {
        unsigned shift = 8 * (d->offset - 0x8);
        s->latch = (s->latch & ~(0xFFu << shift)) | (uint32_t)v << shift;
        if (d->offset == 0xB)
            indirect_store(s);
        break;
    }
    default:
        break;
    }
    update_irq(s);
}

/* Widths: 8-bit anywhere; 16-bit at an even offset and 32-bit at +0x8 act
 * as consecutive 8-bit accesses in ascending port order. */
static bool width_ok(uint64_t off, unsigned w)
{
    return w == 1 || (w == 2 && !(off & 1) && off + 2 <= 16) || (w == 4 && off == 0x8);
}

static uint64_t isastream_read(void *state, unsigned region, uint64_t offset, unsigned width)
{
    struct isastream *s = state;
    if (!width_ok(offset, width)) {
        bad_access(s, offset, width, false, "8-bit, 16-bit at an even port or 32-bit at +0x8");
        return ~0ULL;
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < width; i++)
        v |= (uint64_t)read8(s, offset + i) << (8 * i);
    return v;
}

static void isastream_write(void *state, unsigned region, uint64_t offset, unsigned width,
                            uint64_t value)
{
    struct isastream *s = state;
    if (!width_ok(offset, width)) {
        bad_access(s, offset, width, true, "8-bit, 16-bit at an even port or 32-bit at +0x8");
        return;
    }
    for (unsigned i = 0; i < width; i++)
        write8(s, offset + i, (uint8_t)(value >> (8 * i)));
}

/* ---- lifecycle ------------------------------------------------------------------ */

static void isastream_create(void *state, wdmsim_dev *dev)
{
    struct isastream *s = state;
    s->dev = dev;
    s->depth = 16;
    s->rate = 8000;
}

static int knob_error(struct isastream *s, char *err, size_t errlen, const char *knob,
                      const char *what)
{
    const char *v = wdmsim_dev_knob(s->dev, knob);
    snprintf(err, errlen, "device '%s': %s = %s: %s", wdmsim_dev_name(s->dev), knob,
             v ? v : "(resource)", what);
    return -1;
}

/* The datasheet's io_base / dma_channel / irq are the machine's port / dma /
 * irq resources: accepted when they agree with what the bus assigned. */
static int check_resources(struct isastream *s, char *err, size_t errlen)
{
    struct wdmsim_dev_resources r;
    uint64_t v;
    wdmsim_dev_get_resources(s->dev, &r);
    if (wdmsim_dev_knob_u64(s->dev, "io_base", r.isa_port_base, 0x100, 0x3F0, &v, err, errlen))
        return -1;
    if (v % 16)
        return knob_error(s, err, errlen, "io_base", "must be a multiple of 16");
    if (v != r.isa_port_base)
        return knob_error(s, err, errlen, "io_base",
                          "differs from the port the machine assigned (set port = the same)");
    if (wdmsim_dev_knob_u64(s->dev, "dma_channel", (uint64_t)r.dma, 0, 7, &v, err, errlen))
        return -1;
    if (v == 4)
        return knob_error(s, err, errlen, "dma_channel", "must be 0-3 or 5-7");
    if (r.dma < 0 || v != (uint64_t)r.dma)
        return knob_error(s, err, errlen, "dma_channel",
                          "differs from the channel the machine assigned (set dma = the same)");
    static const int irqs[] = {3, 4, 5, 7, 9, 10, 11, 12, 14, 15};
    bool irq_ok = false;
    for (unsigned i = 0; i < sizeof(irqs) / sizeof(irqs[0]); i++)
        irq_ok |= r.irq == irqs[i];
    if (!irq_ok)
        return knob_error(s, err, errlen, "irq", "IST-1 takes IRQ 3, 4, 5, 7, 9-12, 14 or 15");
    s->ch16 = r.dma >= 4;
    return 0;
}

static int isastream_realize(void *state, wdmsim_dev *dev, char *err, size_t errlen)
{
    struct isastream *s = state;
    uint64_t v;
    if (check_resources(s, err, errlen))
        return -1;
    if (wdmsim_dev_knob_u64(dev, "fifo_depth", 16, 2, 4096, &v, err, errlen))
        return -1;
    if (v & 1)
        return knob_error(s, err, errlen, "fifo_depth", "must be even");
    s->depth = (uint32_t)v;
    if (wdmsim_dev_knob_u64(dev, "max_rate", 1000000, 1, 100000000, &v, err, errlen))
        return -1;
    s->max_rate = (uint32_t)v;
    const char *list = wdmsim_dev_knob(dev, "inject_overrun_at");
    int n;
    if (list) {
        if ((n = dev_parse_u64_list(list, s->inj_ovr, ist_max_inject)) < 0)
            return knob_error(s, err, errlen, "inject_overrun_at",
                              "expected up to 64 tick indices");
        s->ninj_ovr = (unsigned)n;
    }
    list = wdmsim_dev_knob(dev, "inject_underrun_at");
    if (list) {
        if ((n = dev_parse_u64_list(list, s->inj_unr, ist_max_inject)) < 0)
            return knob_error(s, err, errlen, "inject_underrun_at",
                              "expected up to 64 tick indices");
        s->ninj_unr = (unsigned)n;
    }
    const char *rec = wdmsim_dev_knob(dev, "record");
    if (rec && strcmp(rec, "off") && strcmp(rec, "on") && strcmp(rec, "0") && strcmp(rec, "1"))
        return knob_error(s, err, errlen, "record", "expected on or off");
    s->record = rec && (!strcmp(rec, "on") || !strcmp(rec, "1"));
    s->fifo = calloc(s->depth, 1);
    if (!s->fifo) {
        snprintf(err, errlen, "device '%s': out of host memory for the FIFO", wdmsim_dev_name(dev));
        return -1;
    }
    return 0;
}

static void isastream_destroy(void *state)
{
    struct isastream *s = state;
    free(s->fifo);
    free(s->rec);
    s->fifo = s->rec = NULL;
}

const struct wdmsim_device_model wdmsim_model_isastream = {
    .name = "isastream",
    .prefix = "IST",
    .bus = WDMSIM_BUS_ISA,
    .isa_ports = 16,
    .isa_port_base = 0x220,
    .isa_irq = 5,
    .isa_dma = 1,
    .knobs = isastream_knobs,
    .state_size = sizeof(struct isastream),
    .create = isastream_create,
    .realize = isastream_realize,
    .reset = isastream_reset,
    .destroy = isastream_destroy,
    .read = isastream_read,
    .write = isastream_write,
};

/* ---- test hooks ----------------------------------------------------------------- */

uint8_t isastream_reg(wdmsim_dev *dev, uint32_t offset)
{
    const struct ist_regdef *d = find_reg(offset);
    return d ? reg_peek(wdmsim_dev_state(dev), d) : 0;
}

uint32_t isastream_indirect(wdmsim_dev *dev, uint8_t index)
{
    return indirect_read(wdmsim_dev_state(dev), index);
}

size_t isastream_fifo(wdmsim_dev *dev, uint8_t *buf, size_t max)
{
    struct isastream *s = wdmsim_dev_state(dev);
    for (size_t i = 0; i < s->level && i < max; i++)
        buf[i] = s->fifo[(s->head + i) % s->depth];
    return s->level;
}

void isastream_current_run(wdmsim_dev *dev, struct isastream_run *out)
{
    struct isastream *s = wdmsim_dev_state(dev);
    *out = s->run;
}

uint64_t isastream_runs(wdmsim_dev *dev, struct isastream_run *out, size_t max)
{
    struct isastream *s = wdmsim_dev_state(dev);
    uint64_t kept = s->nruns < ist_max_runs ? s->nruns : ist_max_runs;
    uint64_t n = kept < max ? kept : max;
    for (uint64_t i = 0; i < n; i++)
        out[i] = s->runs[(s->nruns - n + i) % ist_max_runs];
    return s->nruns;
}

void isastream_get_stats(wdmsim_dev *dev, struct isastream_stats *out)
{
    struct isastream *s = wdmsim_dev_state(dev);
    *out = s->stats;
    if (s->dreq)
        out->dreq_unserved_ns += wdmsim_dev_now(dev) - s->dreq_since;
}

uint64_t isastream_edges(wdmsim_dev *dev, struct isastream_edge *out, size_t max)
{
    struct isastream *s = wdmsim_dev_state(dev);
    uint64_t kept = s->nedges < ist_max_edges ? s->nedges : ist_max_edges;
    uint64_t n = kept < max ? kept : max;
    for (uint64_t i = 0; i < n; i++)
        out[i] = s->edges[(s->nedges - n + i) % ist_max_edges];
    return s->nedges;
}

uint64_t isastream_recorded(wdmsim_dev *dev, uint8_t *buf, size_t max)
{
    struct isastream *s = wdmsim_dev_state(dev);
    memcpy(buf, s->rec, s->rec_len < max ? s->rec_len : max);
    return s->rec_len;
}
