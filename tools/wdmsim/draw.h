/*
 * tools/wdmsim/draw.h - `wdmsim draw` and `wdmsim run --draw` (draw.c).
 */
#ifndef WDMSIM_TOOL_DRAW_H
#define WDMSIM_TOOL_DRAW_H

#include <wdmsim/wdmsim.h>

/* `wdmsim draw --transfer N [--irp N] --out FILE [run options] DRIVER.so...`
 * is `wdmsim run` with --draw-transfer, --draw-irp and --draw: returns a
 * copy of argv (argv[0] "run") with the options renamed, NULL when out of
 * memory. The caller frees the array. */
char **tool_draw_argv(int argc, char **argv);
/* A transfer or request number (decimal, >= 1): 0, or -1 after a message. */
int tool_draw_number(const char *opt, const char *text, unsigned *v);
/* Writes the drawing to path; 0, or -1 after a message on stderr. */
int tool_draw_write(wdmsim *sim, const char *path, unsigned transfer, unsigned irp);

#endif
