/*
 * src/host/trace_impl.h - private to the trace writer (trace_write.c, the
 * records -> events pass; trace_json.c, JSON output, tracks and names).
 *
 * Models: the Chrome trace-event format (JSON object form: "traceEvents",
 * ph B/E slices, b/e async slices, i instants, C counters, M metadata) as
 * the Perfetto UI imports it. docs/trace.md maps every record kind to its
 * events.
 */
#ifndef WDMSIM_HOST_TRACE_IMPL_H
#define WDMSIM_HOST_TRACE_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct sys;

enum {
    tw_pid_machine = 1,   /* processors (tid = processor) and system counters */
    tw_pid_device = 100,  /* + machine device index */
    tw_pid_adapter = 200, /* + adapter id, for adapters without a device model */
    tw_pid_line = 900,    /* + interrupt line, for lines without a device model */
    tw_tid_interrupts = 1,
    tw_tid_bus = 2,
    tw_max_depth = 32,
    tw_name_len = 160,
};

struct tw_sym {
    uint64_t addr;
    char name[tw_name_len];
};

struct tw {
    FILE *out;
    struct sys *sys;
    bool first;       /* no event written yet (comma placement) */
    uint64_t last_ns; /* virtual time of the previous record */
    unsigned same;    /* records so far at last_ns: spreads them by 1 ps */
    uint64_t ts_ps;   /* the current record's output time, picoseconds */
    struct tw_sym *syms;
    unsigned nsyms, syms_cap;
    uint64_t events;
    uint64_t lines_named; /* bit n: line n's own track was named */
};

/* trace_json.c */
void tw_begin_event(struct tw *w, const char *ph, unsigned pid, unsigned tid);
void tw_end_event(struct tw *w); /* closes the object opened by tw_begin_event */
void tw_str(FILE *out, const char *s);
/* B/E slice on (pid, tid); name only for B (E matches the innermost). */
void tw_slice(struct tw *w, bool begin, unsigned pid, unsigned tid, const char *cat,
              const char *name, const char *args_json);
void tw_counter(struct tw *w, unsigned pid, const char *name, const char *series, int64_t value);
void tw_metadata(struct tw *w, unsigned pid, int tid, const char *what, const char *name);
/* Function name for a code address, cached. */
const char *tw_symbol(struct tw *w, uint64_t addr);
/* Track of a DMA adapter / interrupt line: the device model's pid when it
 * has one (lines without one are named on first use). */
unsigned tw_adapter_pid(struct tw *w, unsigned adapter_id);
unsigned tw_line_pid(struct tw *w, unsigned line);
/* Metadata for every processor and device (written first). */
void tw_tracks(struct tw *w);

#endif
