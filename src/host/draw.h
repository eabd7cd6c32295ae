/*
 * src/host/draw.h - drawings of one DMA transfer or one request's buffers
 * as a self-contained HTML page with inline SVG: internal to src/host.
 *
 * Models: the pictures people learning Windows driver memory management
 * study: a buffer's virtual pages over scattered physical frames, the map
 * registers (or scatter/gather elements) between them and the logical
 * addresses the device uses, bounce copies; and what the I/O manager hands
 * a driver for buffered, direct and neither I/O. docs/draw.md.
 * Invariants: a page uses no script and no external asset; every number
 * is printed as text and carried in data-* attributes, so a test (or a
 * reader's script) can check it against the run; the drawing reads only
 * the transfer log's copies (src/hal/xferlog.c), never live memory.
 */
#ifndef WDMSIM_HOST_DRAW_H
#define WDMSIM_HOST_DRAW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct sys;
struct hal_xfer;
struct hal_iobuf;

/* ---- draw_svg.c: the page and its shapes --------------------------------------- */
struct draw_page {
    FILE *out;
    unsigned width, height; /* of the SVG being written */
};
/* Opens the HTML page (title, style) and closes it. */
void draw_html_begin(FILE *out, const char *title);
void draw_html_end(FILE *out);
/* A heading and a two-column facts table around the SVG. */
void draw_heading(FILE *out, const char *text);
void draw_fact(FILE *out, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void draw_facts_begin(FILE *out);
void draw_facts_end(FILE *out);
void draw_note(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void draw_svg_begin(struct draw_page *p, FILE *out, unsigned width, unsigned height,
                    const char *label);
void draw_svg_end(struct draw_page *p);
/* A box whose top-left is (x, y), with class cls (page, frame, reg, bounce,
 * el, sys, mdl ...), attrs (already formatted data-* attributes, may be "")
 * and up to three lines of text. */
void draw_box(struct draw_page *p, int x, int y, int w, int h, const char *cls, const char *attrs,
              const char *line1, const char *line2, const char *line3);
/* An arrow from (x1, y1) to (x2, y2); cls "map", "copy", "raw" ...; an
 * optional label at its middle. */
void draw_arrow(struct draw_page *p, int x1, int y1, int x2, int y2, const char *cls,
                const char *label);
void draw_text(struct draw_page *p, int x, int y, const char *cls, const char *text);
/* "0x" + lower-case hex. */
const char *draw_hex(uint64_t v, char buf[20]);
#define DRAW_HEX(v) draw_hex((uint64_t)(v), (char[20]){0})

/* ---- draw_xfer.c, draw_irp.c --------------------------------------------------- */
void draw_xfer(FILE *out, const struct hal_xfer *x, unsigned page_shift);
void draw_irp(FILE *out, const struct hal_iobuf *b, unsigned page_shift);
const char *draw_method_name(int method);
const char *draw_major_name(unsigned major);

/* ---- draw.c --------------------------------------------------------------------- */
/* The page for transfer and/or request (0 = none). 0, or -1 with why set
 * ("transfer 7 was not recorded" ...). */
int draw_page_write(struct sys *sys, unsigned transfer, unsigned irp, FILE *out, char *why,
                    size_t why_len);

#endif
