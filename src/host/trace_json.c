/*
 * src/host/trace_json.c - the trace writer's output side: JSON events,
 * tracks (pid/tid) and names.
 *
 * Models: the Chrome trace-event JSON that the Perfetto UI opens as it is:
 * one process per machine (a thread track per processor) and one process
 * per device (an "interrupts" track, a "bus" track, its DMA transfers as
 * async slices and its map-register counter). Time is virtual: "ts" is in
 * microseconds with picosecond decimals (trace_write.c spreads records of
 * one virtual instant 1 ps apart so their order survives sorting).
 * Invariants: every string is JSON-escaped; every event but metadata has
 * a ts.
 */
#include <stdlib.h>
#include <string.h>

#include "host/inspect.h"
#include "host/trace_impl.h"
#include "sys.h"

void tw_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(out, "\\u%04x", ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

void tw_begin_event(struct tw *w, const char *ph, unsigned pid, unsigned tid)
{
    fprintf(w->out, "%s\n{\"ph\":\"%s\",\"pid\":%u,\"tid\":%u", w->first ? "" : ",", ph, pid, tid);
    if (strcmp(ph, "M"))
        fprintf(w->out, ",\"ts\":%llu.%06llu", (unsigned long long)(w->ts_ps / 1000000),
                (unsigned long long)(w->ts_ps % 1000000));
    w->first = false;
    w->events++;
}

void tw_end_event(struct tw *w)
{
    fputc('}', w->out);
}

void tw_slice(struct tw *w, bool begin, unsigned pid, unsigned tid, const char *cat,
              const char *name, const char *args_json)
{
    tw_begin_event(w, begin ? "B" : "E", pid, tid);
    if (cat) {
        fprintf(w->out, ",\"cat\":");
        tw_str(w->out, cat);
    }
    if (name) {
        fprintf(w->out, ",\"name\":");
        tw_str(w->out, name);
    }
    if (args_json)
        fprintf(w->out, ",\"args\":%s", args_json);
    tw_end_event(w);
}

void tw_counter(struct tw *w, unsigned pid, const char *name, const char *series, int64_t value)
{
    tw_begin_event(w, "C", pid, 0);
    fprintf(w->out, ",\"name\":");
    tw_str(w->out, name);
    fprintf(w->out, ",\"args\":{");
    tw_str(w->out, series);
    fprintf(w->out, ":%lld}", (long long)value);
    tw_end_event(w);
}

void tw_metadata(struct tw *w, unsigned pid, int tid, const char *what, const char *name)
{
    tw_begin_event(w, "M", pid, tid < 0 ? 0 : (unsigned)tid);
    fprintf(w->out, ",\"name\":\"%s\",\"args\":{\"name\":", what);
    tw_str(w->out, name);
    fprintf(w->out, "}");
    tw_end_event(w);
}

const char *tw_symbol(struct tw *w, uint64_t addr)
{
    for (unsigned i = 0; i < w->nsyms; i++)
        if (w->syms[i].addr == addr)
            return w->syms[i].name;
    if (w->nsyms == w->syms_cap) {
        unsigned cap = w->syms_cap ? 2 * w->syms_cap : 32;
        struct tw_sym *s = realloc(w->syms, cap * sizeof(*s));
        if (!s)
            return "?";
        w->syms = s;
        w->syms_cap = cap;
    }
    struct tw_sym *s = &w->syms[w->nsyms++];
    s->addr = addr;
    insp_symbol(addr, s->name, sizeof(s->name));
    return s->name;
}

/* ---- tracks ------------------------------------------------------------------------ */

static int device_of_line(struct sys *sys, unsigned line)
{
    struct machine *m = &sys->machine;
    for (unsigned i = 0; i < machine_device_count(m); i++) {
        struct machine_resource res[machine_max_resources];
        unsigned n = machine_device_resources(machine_device_at(m, i), res);
        for (unsigned k = 0; k < n; k++)
            if (res[k].kind == machine_res_irq && res[k].start == line)
                return (int)i;
    }
    return -1;
}

static int device_index(struct sys *sys, const struct wdmsim_dev *dev)
{
    struct machine *m = &sys->machine;
    for (unsigned i = 0; dev && i < machine_device_count(m); i++)
        if (machine_device_at(m, i) == dev)
            return (int)i;
    return -1;
}

unsigned tw_adapter_pid(struct tw *w, unsigned adapter_id)
{
    const struct hal_adapter *a = hal_adapter_by_id(&w->sys->hal, adapter_id);
    int dev = a ? device_index(w->sys, a->dev) : -1;
    return dev >= 0 ? tw_pid_device + (unsigned)dev : tw_pid_adapter + adapter_id;
}

unsigned tw_line_pid(struct tw *w, unsigned line)
{
    int dev = device_of_line(w->sys, line);
    if (dev >= 0)
        return tw_pid_device + (unsigned)dev;
    unsigned pid = tw_pid_line + line;
    if (line < 64 && !(w->lines_named >> line & 1)) {
        char name[64];
        snprintf(name, sizeof(name), "interrupt line %u", line);
        tw_metadata(w, pid, -1, "process_name", name);
        tw_metadata(w, pid, tw_tid_interrupts, "thread_name", "interrupts");
        w->lines_named |= 1ULL << line;
    }
    return pid;
}

void tw_tracks(struct tw *w)
{
    struct sys *sys = w->sys;
    char name[160];
    snprintf(name, sizeof(name), "wdmsim machine (seed %llu)",
             (unsigned long long)sys->machine.seed);
    tw_metadata(w, tw_pid_machine, -1, "process_name", name);
    for (unsigned p = 0; p < sys->ke.nprocessors; p++) {
        snprintf(name, sizeof(name), "CPU %u", p);
        tw_metadata(w, tw_pid_machine, (int)p, "thread_name", name);
    }
    struct machine *m = &sys->machine;
    for (unsigned i = 0; i < machine_device_count(m); i++) {
        const struct machine_device_config *dc = machine_device_config_of(machine_device_at(m, i));
        snprintf(name, sizeof(name), "device %s (%s)", dc->name, dc->model);
        tw_metadata(w, tw_pid_device + i, -1, "process_name", name);
        tw_metadata(w, tw_pid_device + i, tw_tid_interrupts, "thread_name", "interrupts");
        tw_metadata(w, tw_pid_device + i, tw_tid_bus, "thread_name", "bus (device DMA)");
    }
    for (const struct hal_adapter *a = sys->hal.adapters; a; a = a->next) {
        if (device_index(sys, a->dev) >= 0)
            continue;
        snprintf(name, sizeof(name), "DMA adapter %u (%s, no device model)", a->id,
                 a->master ? "bus master" : "system DMA");
        tw_metadata(w, tw_pid_adapter + a->id, -1, "process_name", name);
        tw_metadata(w, tw_pid_adapter + a->id, tw_tid_bus, "thread_name", "bus (device DMA)");
    }
}
