/*
 * devices/sgdisk/engine.c - SGD-1 data engine, completions and sgdisk_run().
 *
 * Models: the one data engine moving a command's transactions on the
 * virtual clock, the post queue writing CQEs in fetch order while the CQ
 * has room, completion coalescing, and sgdisk_run(): everything due now in the
 * datasheet's order (transactions, CQEs, ISR, engine start, fetch).
 * Spec: devices/sgdisk.md 4-6.
 * Invariants: at most one command is in its data phase (active); a slot is
 * in the post queue at most once (queued); sgdisk_run() does not recurse (in_run,
 * rerun) and keeps one clock event for the next instant with work.
 * Not modelled: see devices/sgdisk/sgdisk.c.
 */
#include <stdlib.h>
#include <string.h>

#include "sgdisk_impl.h"

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
    c->end = sgdisk_now(p);
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
        rc = sgdisk_bus_access(p, logical, buf, n, true, &fault);
    } else {
        rc = sgdisk_bus_access(p, logical, buf, n, false, &fault);
        if (!rc)
            diskstore_write(&p->disk, c->lba * sgd_sector + c->a, buf, n);
    }
    if (rc == -2)
        return; /* fatal: everything stops where it is */
    if (rc == -1) {
        sgdisk_note_error(p, fault, to_host, c, (uint16_t)c->di, "data");
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
        uint64_t k = sgdisk_draw_below(p, n);
        for (unsigned i = 0; i < p->max_q; i++)
            if (p->cmd[i].state == sgd_cmd_ready && k-- == 0) {
                best = (int)i;
                break;
            }
    }
    struct sgd_cmd *c = &p->cmd[best];
    c->state = sgd_cmd_data;
    c->s = sgdisk_now(p);
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
            wdmsim_dev_schedule(p->dev, sgdisk_now(p) + (uint64_t)time_us * 1000, coalesce_fire, p);
    if (p->coal_n >= (thresh ? thresh : 1)) {
        p->isr |= sgd_int_cq;
        p->coal_n = 0;
        sgdisk_cancel(p, &p->coal_ev);
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
    sgdisk_update_line(p);
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
                                    .cqe_time = sgdisk_now(p),
                                    .sc = c->sc,
                                    .detail = c->detail,
                                    .erridx = c->erridx,
                                    .bytes = c->bytes};
    unsigned op = c->opc >= sgd_op_read && c->opc <= sgd_op_identify ? c->opc : 0;
    p->stats.commands[op][c->sc < sgdisk_codes ? c->sc : 0]++;
}

void sgdisk_release(struct sgd_cmd *c)
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
    int rc = sgdisk_bus_access(p, addr, e, 12, true, &fault);
    if (!rc)
        rc = sgdisk_bus_access(p, addr + 12, e + 12, 4, true, &fault);
    if (rc == -1) {
        sgdisk_note_error(p, fault, true, NULL, sgdisk_erridx_none, "CQE");
        sgdisk_fatal(p, sgd_fc_cqe_write);
    }
    if (rc)
        return false;
    p->cq_tail = (p->cq_tail + 1) % p->cq_size;
    if (p->cq_tail == 0)
        p->phase = !p->phase;
    p->outstanding--;
    p->stats.cqes++;
    record(p, c);
    sgdisk_release(c);
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
    if (c->r > sgdisk_now(p))
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
                due = c->r <= sgdisk_now(p);
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
    return c->due <= sgdisk_now(p) && (!p->disabling || c->due <= p->t_off);
}

void sgdisk_run_once(struct sgdisk *p)
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
    sgdisk_update_line(p);
    if (!ok)
        return;
    /* 4. engine start (commands reaching r become ready first) */
    for (unsigned i = 0; i < p->max_q; i++) {
        struct sgd_cmd *c = &p->cmd[i];
        if (c->state == sgd_cmd_waiting && c->sc == sgd_sc_success && c->opc != sgd_op_flush &&
            c->r <= sgdisk_now(p))
            c->state = sgd_cmd_ready;
    }
    engine_start(p);
    if (p->active >= 0 && data_due(p, &p->cmd[p->active]))
        p->rerun = true;
    /* 5. fetch */
    while (p->sq_head != p->sq_tail && p->outstanding < p->max_q) {
        if (!sgdisk_fetch_one(p))
            return;
        p->rerun = true; /* a command with LAT 0 is due at once */
    }
}

/* Next time sgdisk_run() has work: the active transaction, a command reaching r. */
static bool next_time(const struct sgdisk *p, uint64_t *when)
{
    uint64_t t = UINT64_MAX, n = sgdisk_now(p);
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

void sgdisk_run(struct sgdisk *p)
{
    if (p->in_run) {
        p->rerun = true;
        return;
    }
    p->in_run = true;
    do {
        p->rerun = false;
        sgdisk_run_once(p);
    } while (p->rerun && p->rdy && !p->cfs);
    p->in_run = false;
    uint64_t when;
    if (!next_time(p, &when)) {
        sgdisk_cancel(p, &p->ev);
        return;
    }
    if (p->ev && p->ev_when == when)
        return;
    sgdisk_cancel(p, &p->ev);
    p->ev_when = when;
    p->ev = wdmsim_dev_schedule(p->dev, when, run_fire, p);
}

static void run_fire(void *arg)
{
    struct sgdisk *p = arg;
    p->ev = 0;
    sgdisk_run(p);
}
