/*
 * devices/sgdisk/fetch.c - SGD-1 command fetch and its checks.
 *
 * Models: reading one SQE at SQ_HEAD into a free slot, the field checks,
 * the descriptor table read and each descriptor's checks, media-error
 * injection; a failed check completes the command with its SC, DETAIL and
 * ERRIDX and a report.
 * Spec: devices/sgdisk.md 2, 3, 9.
 * Invariants: called only from sgdisk_run() with outstanding < max_q (a slot is
 * free); a command leaving fetch with SC = 0 has every descriptor within
 * AW, aligned, and summing to NSECT * 512.
 * Not modelled: see devices/sgdisk/sgdisk.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sgdisk_impl.h"

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
    else if (sgdisk_beyond_aw(p, d->addr, d->len))
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
    if (sgdisk_beyond_aw(p, dtaddr, bytes)) {
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
    int rc = sgdisk_bus_access(p, dtaddr, raw, bytes, false, &fault);
    if (rc) {
        free(raw);
        if (rc == -2) {
            *fatal_out = true;
            return false;
        }
        fail_cmd(p, c, sgd_sc_dma_error, 0, 0xFFFE, NULL, NULL);
        sgdisk_note_error(p, fault, false, c, 0xFFFE, "table");
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
bool sgdisk_fetch_one(struct sgdisk *p)
{
    uint8_t sqe[sgd_sqe];
    uint64_t addr = p->sq_base + (uint64_t)sgd_sqe * p->sq_head, fault;
    int rc = sgdisk_bus_access(p, addr, sqe, sizeof(sqe), false, &fault);
    if (rc == -1) {
        sgdisk_note_error(p, fault, false, NULL, sgdisk_erridx_none, "SQE");
        sgdisk_fatal(p, sgd_fc_sqe_read);
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
    c->f = sgdisk_now(p);
    c->r = c->f + p->latency_ns + (p->jitter_ns ? sgdisk_draw_below(p, p->jitter_ns + 1) : 0);
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
        (touches_injected(p, c) ||
         (p->fail_permille && sgdisk_draw_below(p, 1000) < p->fail_permille))) {
        c->media = true;
        wdmsim_dev_report(p->dev, WDMSIM_REPORT_EVENT, "INJECTED",
                          "[CID %u OPC %#x LBA %llu NSECT %u will end with MEDIA_ERROR]", c->cid,
                          c->opc, (unsigned long long)c->lba, c->nsect);
    }
    return true;
}
