/*
 * devices/sgdisk/sgdisk_impl.h - the SGD-1 model's private interface: the
 * instance state, the command slot, the register and code enums, and the
 * helpers its files share.
 *
 * Models: nothing by itself; the model is split by datasheet concern
 * (sgdisk.c: helpers, interrupt, bus, lifecycle, test hooks; fetch.c;
 * engine.c; control.c) and every file works on one struct sgdisk.
 * Spec: devices/sgdisk.md 1-7, 10.
 * Invariants: see devices/sgdisk/sgdisk.c; a field is touched only from the
 * model's own callbacks (register access, clock events, lifecycle, test
 * hooks), never concurrently. Only this folder includes this header; the
 * public test hooks are devices/sgdisk.h.
 * Not modelled: see devices/sgdisk/sgdisk.c.
 */
#ifndef WDMSIM_DEVICES_SGDISK_IMPL_H
#define WDMSIM_DEVICES_SGDISK_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <wdmsim/device.h>

#include "../diskstore.h"
#include "../sgdisk.h"

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

/* sgdisk.c: the clock, the random stream, the address-width check. */
uint64_t sgdisk_now(const struct sgdisk *p);
uint64_t sgdisk_draw_below(struct sgdisk *p, uint64_t bound);
bool sgdisk_beyond_aw(const struct sgdisk *p, uint64_t addr, uint64_t len);

/* sgdisk.c: INTA# follows ISR & IEN; a fatal state stops everything. */
void sgdisk_update_line(struct sgdisk *p);
void sgdisk_cancel(struct sgdisk *p, uint64_t *id);
void sgdisk_fatal(struct sgdisk *p, enum sgd_fcode fc);

/* sgdisk.c: the bus. sgdisk_bus_access returns 0, -1 (bus refused, *fault
 * set) or -2 (Bus Master off, fatal raised). */
int sgdisk_bus_access(struct sgdisk *p, uint64_t logical, void *buf, size_t len, bool to_host,
                      uint64_t *fault);
void sgdisk_note_error(struct sgdisk *p, uint64_t logical, bool to_host, const struct sgd_cmd *c,
                       uint16_t index, const char *what);

/* fetch.c: fetches the SQE at SQ_HEAD; false when a fatal state stops it. */
bool sgdisk_fetch_one(struct sgdisk *p);

/* engine.c: the data engine, completions and run(). */
void sgdisk_release(struct sgd_cmd *c);
void sgdisk_run_once(struct sgdisk *p);
void sgdisk_run(struct sgdisk *p);

/* control.c: enable, disable, reset, doorbells, registers. */
void sgdisk_drop_all(struct sgdisk *p);
void sgdisk_reset(void *state);
uint32_t sgdisk_reg_read(const struct sgdisk *p, enum sgd_reg r);
const struct sgd_regdef *sgdisk_find_reg(uint64_t off);
uint64_t sgdisk_read(void *state, unsigned region, uint64_t offset, unsigned width);
void sgdisk_write(void *state, unsigned region, uint64_t offset, unsigned width, uint64_t value);

#endif
