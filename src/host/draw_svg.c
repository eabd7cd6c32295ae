/*
 * src/host/draw_svg.c - the HTML page and the SVG shapes of a drawing.
 *
 * Models: nothing of Windows; a tiny writer of boxes, arrows and text.
 * Invariants: the page is one file: inline <style>, inline <svg>, no
 * script, no link, no font or image from elsewhere (it opens offline and
 * in a headless browser as it is). Text is escaped.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "host/draw.h"

static void esc(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '&':
            fputs("&amp;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        default:
            fputc(*s, out);
            break;
        }
    }
}

const char *draw_hex(uint64_t v, char buf[20])
{
    snprintf(buf, 20, "0x%" PRIx64, v);
    return buf;
}

void draw_html_begin(FILE *out, const char *title)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", out);
    esc(out, title);
    fputs("</title>\n<style>\n"
          "body{font-family:sans-serif;margin:1.5em;color:#222;background:#fff}\n"
          "h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.5em}\n"
          "table.facts{border-collapse:collapse;margin:.5em 0}\n"
          "table.facts td{border:1px solid #ccc;padding:2px 8px;font-family:monospace}\n"
          "table.facts td:first-child{font-family:sans-serif;background:#f4f4f4}\n"
          "p.note{max-width:60em}\n"
          "svg text{font-family:monospace;font-size:12px;fill:#111}\n"
          "svg text.col{font-family:sans-serif;font-size:14px;font-weight:bold}\n"
          "svg text.lbl{font-family:sans-serif;font-size:11px;fill:#a33}\n"
          "svg rect{stroke:#444;stroke-width:1}\n"
          "svg rect.page{fill:#dde8ff}svg rect.frame{fill:#e3f5e0}\n"
          "svg rect.reg{fill:#fff3cc}svg rect.bounce{fill:#ffd9b3;stroke:#c60;stroke-width:2}\n"
          "svg rect.el{fill:#f0e0ff}svg rect.sys{fill:#dfeff0}svg rect.mdl{fill:#f8f8d8}\n"
          "svg rect.raw{fill:#fde}svg rect.unused{fill:#eee}\n"
          "svg line{stroke:#333;stroke-width:1.3}\n"
          "svg line.copy{stroke:#c60;stroke-width:2;stroke-dasharray:6 4}\n"
          "svg line.raw{stroke:#a33;stroke-dasharray:3 3}\n"
          "</style>\n</head>\n<body>\n",
          out);
}

void draw_html_end(FILE *out)
{
    fputs("</body>\n</html>\n", out);
}

void draw_heading(FILE *out, const char *text)
{
    fputs("<h1>", out);
    esc(out, text);
    fputs("</h1>\n", out);
}

void draw_facts_begin(FILE *out)
{
    fputs("<table class=\"facts\">\n", out);
}

void draw_facts_end(FILE *out)
{
    fputs("</table>\n", out);
}

void draw_fact(FILE *out, const char *name, const char *fmt, ...)
{
    char v[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof(v), fmt, ap);
    va_end(ap);
    fputs("<tr><td>", out);
    esc(out, name);
    fputs("</td><td>", out);
    esc(out, v);
    fputs("</td></tr>\n", out);
}

void draw_note(FILE *out, const char *fmt, ...)
{
    char v[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof(v), fmt, ap);
    va_end(ap);
    fputs("<p class=\"note\">", out);
    esc(out, v);
    fputs("</p>\n", out);
}

void draw_svg_begin(struct draw_page *p, FILE *out, unsigned width, unsigned height,
                    const char *label)
{
    *p = (struct draw_page){out, width, height};
    fprintf(out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%u\" height=\"%u\" "
            "viewBox=\"0 0 %u %u\" role=\"img\" aria-label=\"",
            width, height, width, height);
    esc(out, label);
    fputs("\">\n<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
          "markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">"
          "<path d=\"M0,0 L10,5 L0,10 z\" fill=\"#333\"/></marker></defs>\n",
          out);
}

void draw_svg_end(struct draw_page *p)
{
    fputs("</svg>\n", p->out);
}

void draw_text(struct draw_page *p, int x, int y, const char *cls, const char *text)
{
    fprintf(p->out, "<text x=\"%d\" y=\"%d\"", x, y);
    if (cls && *cls)
        fprintf(p->out, " class=\"%s\"", cls);
    fputc('>', p->out);
    esc(p->out, text);
    fputs("</text>\n", p->out);
}

void draw_box(struct draw_page *p, int x, int y, int w, int h, const char *cls, const char *attrs,
              const char *line1, const char *line2, const char *line3)
{
    fprintf(p->out, "<g class=\"%s\"%s%s>", cls, attrs && *attrs ? " " : "", attrs ? attrs : "");
    fprintf(p->out, "<rect class=\"%s\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"4\"/>\n",
            cls, x, y, w, h);
    const char *lines[3] = {line1, line2, line3};
    int y0 = y + 16;
    for (int i = 0; i < 3; i++)
        if (lines[i] && *lines[i])
            draw_text(p, x + 6, y0 + 14 * i, "", lines[i]);
    fputs("</g>\n", p->out);
}

void draw_arrow(struct draw_page *p, int x1, int y1, int x2, int y2, const char *cls,
                const char *label)
{
    fprintf(p->out,
            "<line class=\"%s\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
            "marker-end=\"url(#arrow)\"/>\n",
            cls && *cls ? cls : "map", x1, y1, x2, y2);
    if (label && *label)
        draw_text(p, (x1 + x2) / 2 - 24, (y1 + y2) / 2 - 4, "lbl", label);
}
