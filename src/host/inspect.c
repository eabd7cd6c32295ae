/*
 * src/host/inspect.c - wdmsim_inspect: one command line, parsed and run.
 *
 * Models: the WinDbg command line: "!ext args" and the built-in dt / db /
 * dw / dd / dq; numbers are hex unless "0n" says decimal, and 64-bit
 * addresses may carry WinDbg's backtick (00007f12`34567000).
 * Spec: issue 9 item 1; docs/inspect.md is the reference with real output.
 * Invariants: a command only reads (see inspect.h); an unknown command or
 * a bad argument prints one line saying so and returns WDMSIM_EINPUT.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <wdmsim/wdmsim.h>

#include "host/inspect.h"
#include "sys.h"

static insp_fn insp_help;

static const struct insp_cmd commands[] = {
    {"!analyze", insp_analyze, "[-v]", "the bug check report of the stop"},
    {"!irql", insp_irql, "[PROCESSOR]", "IRQL of each processor"},
    {"!dpcs", insp_dpcs, "", "DPCs queued on each processor"},
    {"!process", insp_process, "[0 0]", "processes and their threads"},
    {"!pool", insp_pool, "ADDR", "the pool page or big block holding ADDR"},
    {"!poolused", insp_poolused, "[TAG]", "pool use by tag (wildcards * ?)"},
    {"!lookaside", insp_lookaside, "[ADDR]", "live lookaside lists"},
    {"!vtop", insp_vtop, "ADDR", "virtual to physical"},
    {"!pte", insp_pte, "ADDR", "the PTE of ADDR"},
    {"!pfn", insp_pfn, "FRAME", "the PFN database entry of a frame"},
    {"!irp", insp_irp, "ADDR", "an IRP and its stack locations"},
    {"!devobj", insp_devobj, "ADDR|NAME", "a device object"},
    {"!drvobj", insp_drvobj, "[ADDR|SERVICE]", "driver objects and their devices"},
    {"!devstack", insp_devstack, "ADDR|NAME", "the device stack holding a device"},
    {"!dma", insp_dma, "[ADAPTER]", "DMA adapters: map registers, waiters, common buffers"},
    {"!dma8237", insp_dma8237, "", "system DMA controller channel registers"},
    {"!xfer", insp_xfer, "[N]", "DMA transfers recorded (docs/draw.md); N: its pages"},
    {"!iobuf", insp_iobuf, "", "requests' buffers recorded: method, SystemBuffer, MDL"},
    {"!draw", insp_draw, "[irp] N FILE", "write the drawing of transfer (request) N"},
    {"dt", insp_dt, "[TYPE [ADDR]]", "a WDK structure's fields"},
    {"db", insp_db, "ADDR [L COUNT]", "bytes"},
    {"dw", insp_dw, "ADDR [L COUNT]", "16-bit words"},
    {"dd", insp_dd, "ADDR [L COUNT]", "32-bit words"},
    {"dq", insp_dq, "ADDR [L COUNT]", "64-bit words"},
    {"help", insp_help, "", "this list"},
};

static int insp_help(struct insp *c)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(c->out, "%-11s %-16s %s\n", commands[i].name, commands[i].usage, commands[i].help);
    return 0;
}

int insp_error(struct insp *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(c->out, "%s: ", c->argc ? c->argv[0] : "inspect");
    vfprintf(c->out, fmt, ap);
    fputc('\n', c->out);
    va_end(ap);
    return -1;
}

const char *insp_addr(uint64_t a, char buf[18])
{
    snprintf(buf, 18, "%08x`%08x", (unsigned)(a >> 32), (unsigned)a);
    return buf;
}

int insp_number(struct insp *c, const char *text, uint64_t *v)
{
    const char *s = text;
    int base = 16;
    if (!strncmp(s, "0n", 2)) {
        base = 10;
        s += 2;
    } else if (!strncmp(s, "0x", 2) || !strncmp(s, "0X", 2)) {
        s += 2;
    }
    uint64_t n = 0;
    int digits = 0;
    for (; *s; s++) {
        if (*s == '`')
            continue;
        int d = *s >= '0' && *s <= '9'   ? *s - '0'
                : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10
                : *s >= 'A' && *s <= 'F' ? *s - 'A' + 10
                                         : 99;
        if (d >= base || digits == 16 + (base == 10) * 4)
            return insp_error(c, "'%s' is not a %s number", text, base == 10 ? "decimal" : "hex");
        n = n * (uint64_t)base + (uint64_t)d;
        digits++;
    }
    if (!digits)
        return insp_error(c, "'%s' is not a number", text);
    *v = n;
    return 0;
}

int insp_arg(struct insp *c, int i, uint64_t *v)
{
    if (i >= c->argc)
        return insp_error(c, "missing argument %d", i);
    return insp_number(c, c->argv[i], v);
}

/* Splits line in place on blanks; returns the word count. */
static int split(char *line, char **argv)
{
    int n = 0;
    for (char *p = strtok(line, " \t\r\n"); p && n < insp_max_args; p = strtok(NULL, " \t\r\n"))
        argv[n++] = p;
    return n;
}

int wdmsim_inspect(wdmsim *sim, const char *cmd, FILE *out)
{
    if (!sim || !cmd || !out)
        return WDMSIM_EINPUT;
    char *line = strdup(cmd);
    if (!line)
        return WDMSIM_EINPUT;
    struct insp c = {.sys = wdmsim_sys(sim), .out = out};
    c.argc = split(line, c.argv);
    int rc = WDMSIM_OK;
    if (c.argc) {
        const struct insp_cmd *found = NULL;
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]) && !found; i++)
            if (!strcmp(commands[i].name, c.argv[0]))
                found = &commands[i];
        struct sys *prev = sys_current;
        sys_current = c.sys;
        if (!found) {
            fprintf(out, "unknown command '%s' (help lists them)\n", c.argv[0]);
            rc = WDMSIM_EINPUT;
        } else if (found->fn(&c)) {
            rc = WDMSIM_EINPUT;
        }
        sys_current = prev;
    }
    free(line);
    return rc;
}
