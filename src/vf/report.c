/*
 * src/vf/report.c - the bug check report, for people and for programs.
 *
 * Models: what `!analyze -v` shows after a stop: stop code and name, the
 * four parameters with their meanings, the rule and its one-line
 * explanation, the simulated state that matters (processor, IRQL, driver),
 * and the stack, here the host stack symbolized with driver file:line.
 * The JSON carries the same facts plus run statistics, and is written on
 * every run: "bugcheck" is null when nothing stopped the machine.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sys.h"

static const char *param_meaning(const struct ke_bugcheck *bc, unsigned i)
{
    const struct vf_rule *r = bc->rule;
    if (r) {
        unsigned sub = r->subcode_in_p4 ? 3 : 0;
        if (i == sub)
            return "subcode of the rule below";
        const char *m = r->params[r->subcode_in_p4 ? i : i - 1];
        if (m)
            return m;
    }
    return vf_bugcheck_param_meaning(bc->code, i);
}

static const char *irql_name(unsigned irql)
{
    switch (irql) {
    case 0:
        return "PASSIVE_LEVEL";
    case 1:
        return "APC_LEVEL";
    case 2:
        return "DISPATCH_LEVEL";
    case 12:
        return "SYNCH_LEVEL";
    case 13:
        return "CLOCK_LEVEL";
    case 14:
        return "IPI_LEVEL";
    case 15:
        return "HIGH_LEVEL";
    default:
        return "device IRQL";
    }
}

/* The first frame inside a driver image names the culprit, as !analyze does. */
static struct io_driver *culprit(struct sys *sys, const struct ke_bugcheck *bc, int *frame)
{
    for (int i = 0; i < bc->nframes; i++) {
        struct io_driver *d = io_driver_by_address(&sys->io, (uintptr_t)bc->frames[i]);
        if (d) {
            *frame = i;
            return d;
        }
    }
    return NULL;
}

void vf_report_print(struct sys *sys, FILE *out)
{
    const struct ke_bugcheck *bc = &sys->ke.bugcheck;
    if (!bc->raised)
        return;
    fprintf(out, "\n*** STOP 0x%08X %s\n", bc->code, vf_bugcheck_name(bc->code));
    fprintf(out,
            "*******************************************************************************\n");
    fprintf(out,
            "*                            Bug check analysis                               *\n");
    fprintf(out,
            "*******************************************************************************\n\n");
    fprintf(out, "%s (%x)\n", vf_bugcheck_name(bc->code), bc->code);
    if (bc->rule)
        fprintf(out, "Rule %s: %s\n", bc->rule->id, bc->rule->text);
    if (bc->text[0])
        fprintf(out, "%s\n", bc->text);
    fprintf(out, "Arguments:\n");
    for (unsigned i = 0; i < 4; i++)
        fprintf(out, "Arg%u: %016" PRIx64 ", %s\n", i + 1, bc->param[i], param_meaning(bc, i));
    fprintf(out, "\nPROCESSOR: %u   IRQL: %u (%s)   SEED: %" PRIu64 "\n", bc->processor, bc->irql,
            irql_name(bc->irql), sys->machine.seed);
    int frame = -1;
    struct io_driver *d = culprit(sys, bc, &frame);
    if (d) {
        char where[512];
        vf_backtrace_describe(bc->frames[frame], where, sizeof(where));
        fprintf(out, "DRIVER: %s (%s)\nFAULTING_FRAME: %s\n", d->service, d->path, where);
    }
    fprintf(out, "\nSTACK_TEXT:\n");
    vf_backtrace_print(out, bc->frames, bc->nframes);
    fprintf(out, "\nReplay: wdmsim run --seed %" PRIu64 " ...\n", sys->machine.seed);
    fflush(out);
}

static void json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static const char *state_name(enum io_driver_state s)
{
    switch (s) {
    case io_driver_loaded:
        return "loaded";
    case io_driver_started:
        return "started";
    case io_driver_failed:
        return "failed";
    case io_driver_unloaded:
        return "unloaded";
    }
    return "?";
}

void vf_report_json(struct sys *sys, FILE *out, int exit_status)
{
    const struct ke_bugcheck *bc = &sys->ke.bugcheck;
    fprintf(out, "{\n  \"wdmsim\": 1,\n  \"exit_status\": %d,\n  \"seed\": %" PRIu64 ",\n",
            exit_status, sys->machine.seed);
    fprintf(out, "  \"machine\": {\"config\": ");
    json_str(out, sys->machine.cfg.path[0] ? sys->machine.cfg.path : "(default)");
    fprintf(out, ", \"processors\": %u, \"page_size\": %" PRIu64 ", \"ram_bytes\": %" PRIu64 "},\n",
            sys->machine.cfg.processors, sys->machine.page_size,
            sys->machine.pfn.ram_frames << sys->machine.page_shift);
    fprintf(out, "  \"verifier\": {\"options\": %u, \"violations_reported\": %u},\n",
            sys->vf.options, sys->vf.reported);
    if (bc->raised) {
        fprintf(out,
                "  \"bugcheck\": {\n    \"code\": %u,\n    \"code_hex\": \"0x%X\",\n    \"name\": ",
                bc->code, bc->code);
        json_str(out, vf_bugcheck_name(bc->code));
        fprintf(out,
                ",\n    \"parameters\": [%" PRIu64 ", %" PRIu64 ", %" PRIu64 ", %" PRIu64 "],\n",
                bc->param[0], bc->param[1], bc->param[2], bc->param[3]);
        fprintf(out,
                "    \"parameters_hex\": [\"0x%" PRIx64 "\", \"0x%" PRIx64 "\", \"0x%" PRIx64
                "\", \"0x%" PRIx64 "\"],\n",
                bc->param[0], bc->param[1], bc->param[2], bc->param[3]);
        fprintf(out, "    \"rule\": ");
        if (bc->rule)
            json_str(out, bc->rule->id);
        else
            fputs("null", out);
        fprintf(out, ",\n    \"text\": ");
        json_str(out, bc->text);
        fprintf(out,
                ",\n    \"processor\": %u,\n    \"irql\": %u,\n    \"driver\": ", bc->processor,
                bc->irql);
        int frame;
        struct io_driver *d = culprit(sys, bc, &frame);
        if (d)
            json_str(out, d->service);
        else
            fputs("null", out);
        fprintf(out, ",\n    \"stack\": [");
        for (int i = 0; i < bc->nframes; i++) {
            char where[512];
            vf_backtrace_describe(bc->frames[i], where, sizeof(where));
            fprintf(out, "%s\n      ", i ? "," : "");
            json_str(out, where);
        }
        fprintf(out, "]\n  },\n");
    } else {
        fprintf(out, "  \"bugcheck\": null,\n");
    }
    fprintf(out, "  \"drivers\": [");
    int i = 0;
    for (struct io_driver *d = sys->io.drivers; d; d = d->next, i++) {
        fprintf(out, "%s\n    {\"service\": ", i ? "," : "");
        json_str(out, d->service);
        fprintf(out, ", \"state\": \"%s\", \"entry_status\": \"0x%08X\"}", state_name(d->state),
                (unsigned)d->entry_status);
    }
    fprintf(out,
            "\n  ],\n  \"stats\": {\"dbgprint_calls\": %" PRIu64 ", \"dbgprint_bytes\": %" PRIu64
            ", \"mapped_pages\": %" PRIu64 ", \"free_frames\": %" PRIu64 "}\n}\n",
            sys->stats.dbgprint_calls, sys->stats.dbgprint_bytes, sys->mm.mapped_pages,
            pfn_free_frames(&sys->machine.pfn));
    fflush(out);
}
