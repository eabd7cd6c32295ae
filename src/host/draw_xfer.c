/*
 * src/host/draw_xfer.c - the drawing of one DMA transfer: virtual pages,
 * the frames under them, the map registers, the logical addresses.
 *
 * Models: spec/dma.md 4's three addresses (docs/dma.md "The three
 * addresses"): CPU virtual address -> frame (the MDL's PFN array) -> map
 * register -> logical address the device emits; a bounced page's register
 * targets a bounce frame, and the copy between the buffer's frame and the
 * bounce frame is drawn as a dashed arrow (copy in at MapTransfer / list
 * build for memory->device; copy back at FlushAdapterBuffers / Put for
 * device->memory).
 * Invariants: one row per page of the transfer (register first + k holds
 * page k), elements stacked one per row; every address printed is the one
 * the HAL recorded.
 * Not modelled: transfers of more than hal_xfer_max_pages pages are drawn
 * up to that many pages and say how many were left out.
 */
#include <inttypes.h>

#include "host/draw.h"
#include "sys.h"

enum {
    col_va = 20,
    col_frame = 320,
    col_reg = 610,
    col_el = 920,
    box_w = 230,
    el_w = 270,
    row_h = 60,
    box_h = 48,
    top = 60,
};

static uint64_t page_logical(const struct hal_xfer_page *pg, unsigned shift)
{
    return (pg->target << shift) + pg->offset;
}

static int element_of(const struct hal_xfer *x, uint64_t logical, unsigned nels)
{
    for (unsigned i = 0; i < nels; i++)
        if (logical >= x->el[i].logical && logical < x->el[i].logical + x->el[i].length)
            return (int)i;
    return -1;
}

static void facts(FILE *out, const struct hal_xfer *x, unsigned kept, unsigned bounced)
{
    draw_facts_begin(out);
    draw_fact(out, "transfer", "%u", x->seq);
    draw_fact(out, "operation", "%s",
              x->kind == hal_xfer_packet ? "MapTransfer (packet-based DMA)"
                                         : "Get/BuildScatterGatherList (scatter/gather)");
    if (x->channel >= 0)
        draw_fact(out, "adapter", "%u: system DMA, 8237 channel %d%s, %u-bit", x->adapter,
                  x->channel, x->auto_init ? ", auto-initialize" : "", x->width);
    else
        draw_fact(out, "adapter", "%u: bus master%s, %u-bit", x->adapter,
                  x->scatter_gather ? ", scatter/gather" : ", no scatter/gather", x->width);
    draw_fact(out, "direction", "%s",
              x->dir == hal_dir_to_device ? "memory -> device (WriteToDevice TRUE)"
                                          : "device -> memory (WriteToDevice FALSE)");
    draw_fact(out, "MDL", "%s  StartVa %s  ByteOffset %s  ByteCount %s", DRAW_HEX(x->mdl),
              DRAW_HEX(x->mdl_start_va), DRAW_HEX(x->mdl_byte_offset), DRAW_HEX(x->mdl_byte_count));
    draw_fact(out, "CurrentVa, Length", "%s, %s (%u bytes)", DRAW_HEX(x->va), DRAW_HEX(x->length),
              x->length);
    draw_fact(out, "map registers", "%u-%u (%u)", x->first_reg, x->first_reg + x->npages - 1,
              x->npages);
    draw_fact(out, "elements", "%u", x->nels);
    draw_fact(out, "pages bounced", "%u of %u drawn", bounced, kept);
    draw_fact(out, "bounce copies", "%" PRIu64 " bytes in (at map), %" PRIu64 " bytes back%s",
              x->copied_in, x->copied_back, x->done ? "" : " (not flushed yet)");
    if (x->done)
        draw_fact(out, "virtual time", "mapped at %" PRIu64 " ns, %s at %" PRIu64 " ns", x->t_map,
                  x->kind == hal_xfer_packet ? "flushed" : "put", x->t_done);
    else
        draw_fact(out, "virtual time", "mapped at %" PRIu64 " ns, still mapped", x->t_map);
    draw_facts_end(out);
}

void draw_xfer(FILE *out, const struct hal_xfer *x, unsigned shift)
{
    unsigned kept = x->npages < hal_xfer_max_pages ? x->npages : hal_xfer_max_pages;
    unsigned nels = x->nels < hal_xfer_max_els ? x->nels : hal_xfer_max_els;
    unsigned bounced = 0;
    for (unsigned k = 0; k < kept; k++)
        bounced += x->page[k].bounce;
    char title[96];
    snprintf(title, sizeof(title), "DMA transfer %u: %u bytes %s", x->seq, x->length,
             x->dir == hal_dir_to_device ? "memory -> device" : "device -> memory");
    draw_heading(out, title);
    facts(out, x, kept, bounced);

    unsigned rows = kept > nels ? kept : nels;
    struct draw_page p;
    draw_svg_begin(&p, out, col_el + el_w + 20, top + rows * row_h + 20, title);
    fprintf(out,
            "<g class=\"transfer\" data-transfer=\"%u\" data-length=\"%u\" data-dir=\"%s\" "
            "data-pages=\"%u\" data-elements=\"%u\">\n",
            x->seq, x->length, hal_dir_name(x->dir), x->npages, x->nels);
    draw_text(&p, col_va, 30, "col", "Virtual (CPU)");
    draw_text(&p, col_frame, 30, "col", "Physical frames");
    draw_text(&p, col_reg, 30, "col", "Map registers");
    draw_text(&p, col_el, 30, "col",
              x->kind == hal_xfer_list ? "S/G elements (logical)" : "Logical (device)");
    const char *copy = x->dir == hal_dir_to_device ? "copy in" : "copy back";
    for (unsigned k = 0; k < kept; k++) {
        const struct hal_xfer_page *pg = &x->page[k];
        int y = top + (int)k * row_h, yc = y + box_h / 2;
        uint64_t logical = page_logical(pg, shift);
        char attrs[320], l1[64], l2[64], l3[64];
        snprintf(attrs, sizeof(attrs),
                 "data-k=\"%u\" data-va=\"%s\" data-frame=\"%s\" data-pa=\"%s\" data-reg=\"%u\" "
                 "data-target=\"%s\" data-logical=\"%s\" data-bytes=\"%u\" data-bounce=\"%d\"",
                 k, DRAW_HEX(pg->va), DRAW_HEX(pg->frame), DRAW_HEX(pg->frame << shift), pg->reg,
                 DRAW_HEX(pg->target), DRAW_HEX(logical), pg->length, pg->bounce);
        fprintf(out, "<g class=\"row\" %s>\n", attrs);
        snprintf(l1, sizeof(l1), "VA %s", DRAW_HEX(pg->va));
        snprintf(l2, sizeof(l2), "bytes %s +%s", DRAW_HEX(pg->offset), DRAW_HEX(pg->length));
        draw_box(&p, col_va, y, box_w, box_h, "page", "", l1, l2, NULL);
        snprintf(l1, sizeof(l1), "frame %s", DRAW_HEX(pg->frame));
        snprintf(l2, sizeof(l2), "PA %s", DRAW_HEX(pg->frame << shift));
        draw_box(&p, col_frame, y, box_w - 20, box_h, "frame", "", l1, l2, NULL);
        draw_arrow(&p, col_va + box_w, yc, col_frame, yc, "map", NULL);
        snprintf(l1, sizeof(l1), "register %u", pg->reg);
        if (pg->bounce)
            snprintf(l2, sizeof(l2), "bounce frame %s", DRAW_HEX(pg->target));
        else
            snprintf(l2, sizeof(l2), "direct: frame %s", DRAW_HEX(pg->target));
        snprintf(l3, sizeof(l3), "logical %s", DRAW_HEX(logical));
        draw_box(&p, col_reg, y, box_w, box_h, pg->bounce ? "bounce" : "reg", "", l1, l2, l3);
        if (pg->bounce && x->dir == hal_dir_from_device)
            draw_arrow(&p, col_reg, yc, col_frame + box_w - 20, yc, "copy", copy);
        else
            draw_arrow(&p, col_frame + box_w - 20, yc, col_reg, yc, pg->bounce ? "copy" : "map",
                       pg->bounce ? copy : NULL);
        int e = element_of(x, logical, nels);
        if (e >= 0)
            draw_arrow(&p, col_reg + box_w, yc, col_el, top + e * row_h + box_h / 2, "map", NULL);
        fputs("</g>\n", out);
    }
    for (unsigned i = 0; i < nels; i++) {
        char attrs[160], l1[64], l2[64], l3[64];
        snprintf(attrs, sizeof(attrs), "data-el=\"%u\" data-logical=\"%s\" data-length=\"%u\"", i,
                 DRAW_HEX(x->el[i].logical), x->el[i].length);
        snprintf(l1, sizeof(l1), "%s %u", x->kind == hal_xfer_list ? "element" : "run", i);
        snprintf(l2, sizeof(l2), "logical %s", DRAW_HEX(x->el[i].logical));
        snprintf(l3, sizeof(l3), "length %s (%u)", DRAW_HEX(x->el[i].length), x->el[i].length);
        draw_box(&p, col_el, top + (int)i * row_h, el_w, box_h, "el", attrs, l1, l2, l3);
    }
    fputs("</g>\n", out);
    draw_svg_end(&p);
    if (x->npages > kept || x->nels > nels)
        draw_note(out, "%u of %u pages and %u of %u elements are drawn.", kept, x->npages, nels,
                  x->nels);
    draw_note(out,
              "A logical address is what the device puts on the bus: here the physical "
              "address of the frame the map register targets. A bounced page's register "
              "targets a bounce frame the device can reach; the HAL copies between the "
              "buffer's frame and the bounce frame (dashed arrows: %s).",
              x->dir == hal_dir_to_device ? "copied in at map time"
                                          : "copied back at the flush or put");
}
