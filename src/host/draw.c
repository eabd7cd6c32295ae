/*
 * src/host/draw.c - wdmsim_draw_record, wdmsim_draw and the inspector's
 * !xfer, !iobuf and !draw: drawings of the transfer log.
 *
 * Models: issue 9 item 3: "a drawing of one transfer's three address
 * spaces (SVG/HTML)" (ARCHITECTURE.md 9) and of buffered / direct /
 * neither I/O for one request. docs/draw.md is the reference.
 * Invariants: reads only the HAL's transfer log (src/hal/xferlog.c) and
 * changes nothing; with the log off every entry point says so and fails
 * with WDMSIM_EINPUT, never a crash.
 */
#include <inttypes.h>
#include <string.h>

#include <wdmsim/wdmsim.h>

#include "host/draw.h"
#include "host/inspect.h"
#include "sys.h"

int draw_page_write(struct sys *sys, unsigned transfer, unsigned irp, FILE *out, char *why,
                    size_t why_len)
{
    if (!sys->hal.xlog) {
        snprintf(why, why_len, "the transfer log is off (wdmsim_draw_record before the run)");
        return -1;
    }
    const struct hal_xfer *x = transfer ? hal_xferlog_get(&sys->hal, transfer) : NULL;
    const struct hal_iobuf *b = irp ? hal_xferlog_get_io(&sys->hal, irp) : NULL;
    if (transfer && !x) {
        snprintf(why, why_len,
                 "transfer %u was not recorded (%u transfers in the run, the last %u kept)",
                 transfer, sys->hal.xlog->next, sys->hal.xlog->cap);
        return -1;
    }
    if (irp && !b) {
        snprintf(why, why_len,
                 "request %u was not recorded (%u requests in the run, the last %u kept)", irp,
                 sys->hal.xlog->ionext, sys->hal.xlog->iocap);
        return -1;
    }
    if (!x && !b) {
        snprintf(why, why_len, "nothing to draw: give a transfer or a request number");
        return -1;
    }
    char title[96];
    if (x && b)
        snprintf(title, sizeof(title), "wdmsim: DMA transfer %u and request %u", transfer, irp);
    else if (x)
        snprintf(title, sizeof(title), "wdmsim: DMA transfer %u", transfer);
    else
        snprintf(title, sizeof(title), "wdmsim: request %u", irp);
    unsigned shift = sys->mm.page_shift;
    draw_html_begin(out, title);
    if (b)
        draw_irp(out, b, shift);
    if (x)
        draw_xfer(out, x, shift);
    draw_note(out,
              "Drawn by wdmsim from the run with seed %" PRIu64 " (page size %" PRIu64
              " bytes). Virtual addresses are host addresses and move between runs unless "
              "address randomization is off (setarch -R).",
              sys->machine.seed, sys->mm.page_size);
    draw_html_end(out);
    return ferror(out) ? (snprintf(why, why_len, "write error"), -1) : 0;
}

int wdmsim_draw_record(wdmsim *sim)
{
    if (!sim)
        return WDMSIM_EINPUT;
    return hal_xferlog_start(&wdmsim_sys(sim)->hal, 0, 0) ? WDMSIM_EINPUT : WDMSIM_OK;
}

int wdmsim_draw(wdmsim *sim, unsigned transfer, unsigned irp, FILE *out, struct wdmsim_error *err)
{
    struct wdmsim_error dummy;
    if (!err)
        err = &dummy;
    if (!sim || !out) {
        snprintf(err->text, sizeof(err->text), "wdmsim_draw: no machine or no output");
        return WDMSIM_EINPUT;
    }
    return draw_page_write(wdmsim_sys(sim), transfer, irp, out, err->text, sizeof(err->text))
               ? WDMSIM_EINPUT
               : WDMSIM_OK;
}

/* ---- inspector commands ------------------------------------------------------------ */

static int need_log(struct insp *c)
{
    if (c->sys->hal.xlog)
        return 0;
    return insp_error(c, "the transfer log is off (wdmsim run records it with --inspect, --cmd, "
                         "--break-on and --draw)");
}

static void xfer_line(FILE *out, const struct hal_xfer *x)
{
    unsigned bounced = 0;
    for (unsigned k = 0; k < x->npages && k < hal_xfer_max_pages; k++)
        bounced += x->page[k].bounce;
    fprintf(out, "%5u %-6s %3u %-15s %s %8u %5u %5u %5u  %s\n", x->seq,
            x->kind == hal_xfer_packet ? "packet" : "list", x->adapter,
            x->dir == hal_dir_to_device ? "memory->device" : "device->memory", INSP_ADDR(x->va),
            x->length, x->npages, x->nels, bounced,
            x->done ? (x->kind == hal_xfer_packet ? "flushed" : "put") : "mapped");
}

static void xfer_detail(FILE *out, const struct hal_xfer *x, unsigned shift)
{
    xfer_line(out, x);
    fprintf(out, "  MDL %s StartVa %s ByteOffset %#x ByteCount %#x\n", INSP_ADDR(x->mdl),
            INSP_ADDR(x->mdl_start_va), x->mdl_byte_offset, x->mdl_byte_count);
    for (unsigned k = 0; k < x->npages && k < hal_xfer_max_pages; k++) {
        const struct hal_xfer_page *pg = &x->page[k];
        fprintf(out,
                "  page %2u VA %s frame %" PRIx64 " -> reg %3u %s frame %" PRIx64
                " logical %" PRIx64 " [%#x, +%#x)\n",
                k, INSP_ADDR(pg->va), pg->frame, pg->reg, pg->bounce ? "bounce" : "direct",
                pg->target, (pg->target << shift) + pg->offset, pg->offset, pg->length);
    }
    for (unsigned i = 0; i < x->nels && i < hal_xfer_max_els; i++)
        fprintf(out, "  element %2u logical %s length %#x\n", i, INSP_ADDR(x->el[i].logical),
                x->el[i].length);
    fprintf(out, "  bounce copies: %" PRIu64 " bytes in, %" PRIu64 " bytes back\n", x->copied_in,
            x->copied_back);
}

int insp_xfer(struct insp *c)
{
    if (need_log(c))
        return -1;
    const struct hal_xferlog *l = c->sys->hal.xlog;
    uint64_t n = 0;
    if (c->argc > 1 && insp_arg(c, 1, &n))
        return -1;
    fprintf(c->out, "    N kind   ad  direction       CurrentVa          bytes pages   els "
                    "bounce state\n");
    if (n) {
        const struct hal_xfer *x = hal_xferlog_get(&c->sys->hal, (unsigned)n);
        if (!x)
            return insp_error(c, "transfer %" PRIu64 " was not recorded", n);
        xfer_detail(c->out, x, c->sys->mm.page_shift);
        return 0;
    }
    unsigned first = l->next > l->cap ? l->next - l->cap + 1 : 1;
    for (unsigned s = first; s <= l->next; s++)
        xfer_line(c->out, hal_xferlog_get(&c->sys->hal, s));
    fprintf(c->out, "%u transfer%s\n", l->next, l->next == 1 ? "" : "s");
    return 0;
}

int insp_iobuf(struct insp *c)
{
    if (need_log(c))
        return -1;
    const struct hal_xferlog *l = c->sys->hal.xlog;
    fprintf(c->out, "    N IRP               major                 method   SystemBuffer      "
                    "MdlAddress        in     out\n");
    unsigned first = l->ionext > l->iocap ? l->ionext - l->iocap + 1 : 1;
    for (unsigned s = first; s <= l->ionext; s++) {
        const struct hal_iobuf *b = hal_xferlog_get_io(&c->sys->hal, s);
        fprintf(c->out, "%5u %s %-21s %-8s %s %s %6u %6u\n", b->seq, INSP_ADDR(b->irp),
                draw_major_name(b->major), draw_method_name(b->method), INSP_ADDR(b->sysbuf.va),
                INSP_ADDR(b->mdl), b->in.length, b->out.length);
    }
    fprintf(c->out, "%u request%s\n", l->ionext, l->ionext == 1 ? "" : "s");
    return 0;
}

/* !draw N FILE | !draw irp N FILE */
int insp_draw(struct insp *c)
{
    if (need_log(c))
        return -1;
    bool irp = c->argc > 1 && !strcmp(c->argv[1], "irp");
    int a = irp ? 2 : 1;
    uint64_t n;
    if (insp_arg(c, a, &n))
        return -1;
    if (c->argc != a + 2)
        return insp_error(c, "usage: !draw N FILE.html or !draw irp N FILE.html");
    FILE *f = fopen(c->argv[a + 1], "w");
    if (!f)
        return insp_error(c, "cannot write %s", c->argv[a + 1]);
    char why[200];
    int rc =
        draw_page_write(c->sys, irp ? 0 : (unsigned)n, irp ? (unsigned)n : 0, f, why, sizeof(why));
    if (fclose(f) && !rc) {
        rc = -1;
        snprintf(why, sizeof(why), "write error");
    }
    if (rc)
        return insp_error(c, "%s", why);
    fprintf(c->out, "wrote %s\n", c->argv[a + 1]);
    return 0;
}
