/*
 * tools/wdmsim/draw.c - `wdmsim draw` and the --draw options of `wdmsim run`.
 *
 * A drawing is made from the run it belongs to: the command boots the
 * machine, records the transfer log (wdmsim_draw_record) and runs the
 * drivers and app exactly as `wdmsim run` does, then writes the page of the
 * transfer or request asked for (docs/draw.md). `wdmsim draw` is only a
 * spelling of `wdmsim run --draw...`, so every run option works with it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "draw.h"

static const struct {
    const char *from, *to;
} renames[] = {
    {"--transfer", "--draw-transfer"},
    {"--irp", "--draw-irp"},
    {"--out", "--draw"},
};

char **tool_draw_argv(int argc, char **argv)
{
    char **v = calloc((size_t)argc + 1, sizeof(*v));
    if (!v)
        return NULL;
    v[0] = "run";
    int app_args = 0;
    for (int i = 1; i < argc; i++) {
        v[i] = argv[i];
        if (!strcmp(argv[i], "--"))
            app_args = 1;
        for (size_t r = 0; r < sizeof(renames) / sizeof(renames[0]) && !app_args; r++) {
            size_t n = strlen(renames[r].from);
            if (strncmp(argv[i], renames[r].from, n))
                continue;
            if (!argv[i][n]) {
                v[i] = (char *)renames[r].to;
            } else if (argv[i][n] == '=') {
                /* --transfer=3: a new string, alive until the command exits. */
                size_t len = strlen(renames[r].to) + strlen(argv[i] + n) + 1;
                char *b = malloc(len);
                if (!b) {
                    free(v);
                    return NULL;
                }
                snprintf(b, len, "%s%s", renames[r].to, argv[i] + n);
                v[i] = b;
            }
        }
    }
    return v;
}

int tool_draw_number(const char *opt, const char *text, unsigned *v)
{
    char *end;
    unsigned long n = strtoul(text, &end, 10);
    if (!*text || *end || n == 0 || n > 0xFFFFFFFFul) {
        fprintf(stderr,
                "wdmsim: %s %s: expected a number from 1 (wdmsim run --cmd '!xfer' "
                "lists the transfers, '!iobuf' the requests)\n",
                opt, text);
        return -1;
    }
    *v = (unsigned)n;
    return 0;
}

int tool_draw_write(wdmsim *sim, const char *path, unsigned transfer, unsigned irp)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return -1;
    }
    struct wdmsim_error err = {{0}};
    int rc = wdmsim_draw(sim, transfer, irp, f, &err);
    if (fclose(f) && rc == WDMSIM_OK) {
        perror(path);
        return -1;
    }
    if (rc != WDMSIM_OK) {
        fprintf(stderr, "wdmsim: --draw %s: %s\n", path, err.text);
        remove(path);
        return -1;
    }
    return 0;
}
