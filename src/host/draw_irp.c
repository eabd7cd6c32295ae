/*
 * src/host/draw_irp.c - the drawing of what the I/O manager built for one
 * request: buffered, direct or neither I/O.
 *
 * Models: spec/io.md 3-4 (docs/io.md "Requests from user processes"):
 * buffered - a nonpaged SystemBuffer on frames of its own, the caller's
 * bytes copied in when the IRP is built and out at completion; direct - an
 * MDL whose PFN array names the very frames under the caller's buffer
 * (locked); neither - the caller's raw address, valid only in its process.
 * Left: the caller's buffer pages; middle: the frames; right: what the
 * driver is handed (SystemBuffer pages, the MDL's PFN entries, the raw
 * addresses).
 * Invariants: rows are the caller's input pages, its output pages, then
 * the SystemBuffer's pages; the MDL's entries sit on the row of the caller
 * page with the same virtual address.
 */
#include <inttypes.h>
#include <string.h>

#include "host/draw.h"
#include "sys.h"

enum {
    col_user = 20,
    col_frame = 330,
    col_drv = 640,
    box_w = 250,
    row_h = 60,
    box_h = 48,
    top = 60,
    max_rows = 3 * hal_xfer_max_pages,
};

const char *draw_method_name(int method)
{
    switch (method) {
    case hal_io_buffered:
        return "buffered";
    case hal_io_direct:
        return "direct";
    default:
        return "neither";
    }
}

const char *draw_major_name(unsigned major)
{
    switch (major) {
    case IRP_MJ_READ:
        return "IRP_MJ_READ";
    case IRP_MJ_WRITE:
        return "IRP_MJ_WRITE";
    case IRP_MJ_DEVICE_CONTROL:
        return "IRP_MJ_DEVICE_CONTROL";
    default:
        return "IRP_MJ_?";
    }
}

struct row {
    char area; /* 'i' caller input, 'o' caller output, 's' SystemBuffer */
    const struct hal_iobuf_page *pg;
};

static unsigned kept(const struct hal_iobuf_area *a)
{
    return a->npages < hal_xfer_max_pages ? a->npages : hal_xfer_max_pages;
}

static void facts(FILE *out, const struct hal_iobuf *b)
{
    draw_facts_begin(out);
    draw_fact(out, "request", "%u", b->seq);
    draw_fact(out, "IRP", "%s  %s%s", DRAW_HEX(b->irp), draw_major_name(b->major),
              b->mode ? "  RequestorMode UserMode" : "  RequestorMode KernelMode");
    if (b->major == IRP_MJ_DEVICE_CONTROL)
        draw_fact(out, "IoControlCode", "%s (method %u)", DRAW_HEX(b->code), b->code & 3);
    draw_fact(out, "method", "%s I/O", draw_method_name(b->method));
    draw_fact(out, "device object", "%s", DRAW_HEX(b->device));
    if (b->in.length)
        draw_fact(out, "caller's input buffer", "%s, %u bytes", DRAW_HEX(b->in.va), b->in.length);
    if (b->out.length)
        draw_fact(out, "caller's output buffer", "%s, %u bytes", DRAW_HEX(b->out.va),
                  b->out.length);
    draw_fact(out, "AssociatedIrp.SystemBuffer", "%s%s", DRAW_HEX(b->sysbuf.va),
              b->sysbuf.va ? "" : " (none)");
    if (b->mdl)
        draw_fact(out, "MdlAddress", "%s  StartVa %s  ByteOffset %s  ByteCount %s",
                  DRAW_HEX(b->mdl), DRAW_HEX(b->mdl_start_va), DRAW_HEX(b->mdl_byte_offset),
                  DRAW_HEX(b->mdl_byte_count));
    else
        draw_fact(out, "MdlAddress", "0x0 (none)");
    draw_facts_end(out);
}

static int row_of_va(const struct row *rows, unsigned n, uint64_t va)
{
    /* The output area first: a direct IOCTL's MDL describes the output. */
    for (int pass = 0; pass < 2; pass++)
        for (unsigned r = 0; r < n; r++)
            if (rows[r].area == (pass ? 'i' : 'o') && rows[r].pg->va == va)
                return (int)r;
    return -1;
}

static void user_row(struct draw_page *p, const struct row *rw, int y, unsigned shift)
{
    const struct hal_iobuf_page *pg = rw->pg;
    int yc = y + box_h / 2;
    char attrs[200], l1[64], l2[64];
    const char *who = rw->area == 's' ? "sys" : "page";
    snprintf(attrs, sizeof(attrs),
             "data-area=\"%c\" data-va=\"%s\" data-frame=\"%s\" data-pa=\"%s\"", rw->area,
             DRAW_HEX(pg->va), DRAW_HEX(pg->frame), DRAW_HEX(pg->frame << shift));
    fprintf(p->out, "<g class=\"row\" %s>\n", attrs);
    snprintf(l1, sizeof(l1), "%s %s", rw->area == 's' ? "SystemBuffer VA" : "caller VA",
             DRAW_HEX(pg->va));
    snprintf(l2, sizeof(l2), "%s",
             rw->area == 'i'   ? "input buffer"
             : rw->area == 'o' ? "output buffer"
                               : "nonpaged pool");
    draw_box(p, rw->area == 's' ? col_drv : col_user, y, box_w, box_h, who, "", l1, l2, NULL);
    if (pg->present) {
        snprintf(l1, sizeof(l1), "frame %s", DRAW_HEX(pg->frame));
        snprintf(l2, sizeof(l2), "PA %s", DRAW_HEX(pg->frame << shift));
    } else {
        snprintf(l1, sizeof(l1), "not mapped");
        l2[0] = 0;
    }
    draw_box(p, col_frame, y, box_w - 30, box_h, pg->present ? "frame" : "unused", "", l1, l2,
             NULL);
    if (rw->area == 's')
        draw_arrow(p, col_drv, yc, col_frame + box_w - 30, yc, "map", NULL);
    else
        draw_arrow(p, col_user + box_w, yc, col_frame, yc, "map", NULL);
    fputs("</g>\n", p->out);
}

void draw_irp(FILE *out, const struct hal_iobuf *b, unsigned shift)
{
    struct row rows[max_rows];
    unsigned n = 0, sys0;
    for (unsigned k = 0; k < kept(&b->in); k++)
        rows[n++] = (struct row){'i', &b->in.page[k]};
    for (unsigned k = 0; k < kept(&b->out); k++)
        rows[n++] = (struct row){'o', &b->out.page[k]};
    sys0 = n;
    for (unsigned k = 0; k < kept(&b->sysbuf); k++)
        rows[n++] = (struct row){'s', &b->sysbuf.page[k]};

    char title[128];
    snprintf(title, sizeof(title), "Request %u: %s, %s I/O", b->seq, draw_major_name(b->major),
             draw_method_name(b->method));
    draw_heading(out, title);
    facts(out, b);
    struct draw_page p;
    unsigned height = top + (n ? n : 1) * row_h + 20;
    draw_svg_begin(&p, out, col_drv + box_w + 40, height, title);
    fprintf(out,
            "<g class=\"request\" data-request=\"%u\" data-method=\"%s\" data-sysbuf=\"%s\" "
            "data-mdl=\"%s\">\n",
            b->seq, draw_method_name(b->method), DRAW_HEX(b->sysbuf.va), DRAW_HEX(b->mdl));
    draw_text(&p, col_user, 30, "col", "Caller's buffer (virtual)");
    draw_text(&p, col_frame, 30, "col", "Physical frames");
    draw_text(&p, col_drv, 30, "col", "What the driver gets");
    for (unsigned r = 0; r < n; r++)
        user_row(&p, &rows[r], top + (int)r * row_h, shift);

    /* Buffered: the copies between the caller's pages and SystemBuffer. */
    if (b->method == hal_io_buffered && n > sys0) {
        int xs = col_frame + box_w - 15, ys = top + (int)sys0 * row_h + box_h / 2;
        for (unsigned r = 0; r < sys0; r++) {
            int yr = top + (int)r * row_h + box_h / 2;
            if (rows[r].area == 'i')
                draw_arrow(&p, xs, yr, xs, ys - 6, "copy", "copy in (IRP built)");
            else
                draw_arrow(&p, xs + 10, ys + 6, xs + 10, yr, "copy", "copy out (completion)");
        }
    }
    /* Direct: the MDL's PFN entries name the caller's own frames. */
    if (b->method == hal_io_direct && b->mdl) {
        uint64_t page = 1ULL << shift;
        unsigned nm = b->mdl_npages < hal_xfer_max_pages ? b->mdl_npages : hal_xfer_max_pages;
        for (unsigned k = 0; k < nm; k++) {
            int r = row_of_va(rows, sys0, b->mdl_start_va + k * page);
            if (r < 0)
                continue;
            int y = top + r * row_h, yc = y + box_h / 2;
            char attrs[120], l1[64], l2[64];
            snprintf(attrs, sizeof(attrs), "data-pfn-index=\"%u\" data-frame=\"%s\"", k,
                     DRAW_HEX(b->mdl_frames[k]));
            snprintf(l1, sizeof(l1), "MDL PFN[%u] = %s", k, DRAW_HEX(b->mdl_frames[k]));
            snprintf(l2, sizeof(l2), "locked; same frame");
            draw_box(&p, col_drv, y, box_w, box_h, "mdl", attrs, l1, l2, NULL);
            draw_arrow(&p, col_drv, yc, col_frame + box_w - 30, yc, "map", NULL);
        }
    }
    /* Neither: the raw caller addresses, usable only in its process. */
    if (b->method == hal_io_neither) {
        for (unsigned r = 0; r < sys0; r++) {
            bool first_of_area = r == 0 || rows[r - 1].area != rows[r].area;
            if (!first_of_area)
                continue;
            int y = top + (int)r * row_h;
            const char *what =
                rows[r].area == 'i'
                    ? (b->major == IRP_MJ_DEVICE_CONTROL ? "Type3InputBuffer" : "UserBuffer")
                    : "UserBuffer";
            char attrs[80], l1[64];
            snprintf(attrs, sizeof(attrs), "data-raw=\"%s\"", DRAW_HEX(rows[r].pg->va));
            snprintf(l1, sizeof(l1), "%s = %s", what,
                     DRAW_HEX(rows[r].area == 'i' ? b->in.va : b->out.va));
            draw_box(&p, col_drv, y, box_w, box_h, "raw", attrs, l1, "the caller's own address",
                     NULL);
            /* Above the row's boxes, in the gap between rows. */
            draw_arrow(&p, col_drv + 30, y - 5, col_user + box_w - 30, y - 5, "raw",
                       "raw user address");
        }
    }
    fputs("</g>\n", out);
    draw_svg_end(&p);
    if (b->method == hal_io_buffered)
        draw_note(out, "Buffered I/O: the driver reads and writes SystemBuffer, nonpaged pool on "
                       "frames of its own. The I/O manager copied the caller's input in when it "
                       "built the IRP and copies up to Information bytes back to the caller's "
                       "output buffer when the request completes.");
    else if (b->method == hal_io_direct)
        draw_note(out, "Direct I/O: the caller's pages were probed and locked, and the MDL's PFN "
                       "array names the very frames under the caller's buffer; the driver maps "
                       "them with MmGetSystemAddressForMdlSafe or hands the MDL to DMA. No copy.");
    else
        draw_note(out, "Neither I/O: the driver gets the caller's virtual addresses as they are. "
                       "They are valid only while the caller's process is current (not in a DPC "
                       "or ISR), and the driver must probe them itself inside __try.");
}
