/*
 * src/host/trace_write.c - wdmsim_trace_write: the event trace of src/ke
 * (trace.c) as a Chrome/Perfetto trace.
 *
 * Models: what a kernel tracer (ETW, perf sched) shows: per processor its
 * IRQL (a counter) and the slices of ISRs, DPCs and dispatch routines
 * running on it; per device its interrupts and DMA transfers (map ->
 * flush, or S/G list build -> put, as async slices) and the bus accesses
 * the device model made; counters for map registers allocated per
 * adapter, pool bytes per tag and outstanding IRPs. docs/trace.md.
 * A dispatch routine belongs to a thread, and a thread may wait and
 * resume on another processor: its open slices end on the processor it
 * leaves and begin again on the one it resumes on, so each processor's
 * slices nest properly.
 * Invariants: B/E pairs nest on every track (what is still open at the
 * end of the records is closed at the last timestamp); every DMA "b" has
 * its "e" (an unflushed transfer ends at the last timestamp, marked).
 * Not modelled: lock contention slices, waits, per-thread tracks.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <wdmsim/wdmsim.h>

#include "host/inspect.h"
#include "host/trace_impl.h"
#include "sys.h"

const char *insp_major_name(unsigned major); /* inspect_io.c */

enum tw_kind { tw_dpc = 1, tw_isr, tw_dispatch };

struct tw_open {
    uint8_t kind;
    uint32_t thread;
    unsigned line; /* tw_isr */
    uint64_t call; /* tw_dispatch: which IoCallDriver (a split slice keeps it) */
    char name[tw_name_len];
};

struct tw_cpu {
    struct tw_open stack[tw_max_depth];
    unsigned depth;
    uint32_t thread; /* current thread as last seen, 0 unknown */
};

/* A thread's dispatch slices while it is switched out. */
struct tw_saved {
    struct tw_open stack[8];
    unsigned depth;
};

struct tw_xfer {
    unsigned adapter, first, pid;
    uint64_t id;
    char name[64];
};

struct tw_state {
    struct tw w;
    struct tw_cpu *cpu;
    struct tw_saved *threads;
    unsigned nthreads;
    struct tw_xfer *xfer;
    unsigned nxfer, xfer_cap;
    uint64_t next_xfer_id, transfers, calls;
    struct {
        uint64_t key;
        int64_t bytes;
    } * pool;
    unsigned npool, pool_cap;
};

static void push(struct tw_state *s, unsigned p, const struct tw_open *o)
{
    struct tw_cpu *c = &s->cpu[p];
    char args[48];
    snprintf(args, sizeof(args), "{\"call\":%" PRIu64 "}", o->call);
    tw_slice(&s->w, true, tw_pid_machine, p,
             o->kind == tw_dpc   ? "dpc"
             : o->kind == tw_isr ? "isr"
                                 : "dispatch",
             o->name, o->kind == tw_dispatch ? args : NULL);
    if (c->depth < tw_max_depth)
        c->stack[c->depth] = *o;
    c->depth++;
}

static void pop(struct tw_state *s, unsigned p)
{
    struct tw_cpu *c = &s->cpu[p];
    if (!c->depth)
        return;
    c->depth--;
    tw_slice(&s->w, false, tw_pid_machine, p, NULL, NULL, NULL);
    if (c->depth < tw_max_depth && c->stack[c->depth].kind == tw_isr)
        tw_slice(&s->w, false, tw_line_pid(&s->w, c->stack[c->depth].line), tw_tid_interrupts, NULL,
                 NULL, NULL);
}

/* Ends the innermost open slice of kind on p and whatever is above it. */
static void pop_kind(struct tw_state *s, unsigned p, uint8_t kind)
{
    struct tw_cpu *c = &s->cpu[p];
    for (unsigned d = c->depth; d > 0; d--) {
        if (d - 1 < tw_max_depth && c->stack[d - 1].kind == kind) {
            while (c->depth >= d)
                pop(s, p);
            return;
        }
    }
}

static struct tw_saved *saved_of(struct tw_state *s, uint32_t thread)
{
    if (thread >= s->nthreads) {
        unsigned n = thread + 64;
        struct tw_saved *t = realloc(s->threads, n * sizeof(*t));
        if (!t)
            return NULL;
        memset(t + s->nthreads, 0, (n - s->nthreads) * sizeof(*t));
        s->threads = t;
        s->nthreads = n;
    }
    return &s->threads[thread];
}

/* Thread `next` now runs on p: the leaving thread's dispatch slices end
 * here, next's open ones begin again. */
static void switch_thread(struct tw_state *s, unsigned p, uint32_t next)
{
    struct tw_cpu *c = &s->cpu[p];
    struct tw_saved *out = c->thread ? saved_of(s, c->thread) : NULL;
    unsigned first = c->depth;
    while (first > 0 && first - 1 < tw_max_depth && c->stack[first - 1].kind == tw_dispatch &&
           c->stack[first - 1].thread == c->thread)
        first--;
    if (out) {
        out->depth = 0;
        for (unsigned d = first; d < c->depth && out->depth < 8; d++)
            out->stack[out->depth++] = c->stack[d];
    }
    while (c->depth > first)
        pop(s, p);
    c->thread = next;
    struct tw_saved *in = saved_of(s, next);
    for (unsigned d = 0; in && d < in->depth; d++)
        push(s, p, &in->stack[d]);
    if (in)
        in->depth = 0;
}

static void note_thread(struct tw_state *s, const struct ke_trace_rec *r)
{
    if (r->thread && !s->cpu[r->processor].thread)
        s->cpu[r->processor].thread = r->thread;
}

static void dma(struct tw_state *s, const struct ke_trace_rec *r)
{
    unsigned adapter = r->arg & 0xFFFF, dir = r->arg >> 16 & 3, first = r->arg >> 18 & 0x3FFF;
    uint32_t bytes = (uint32_t)(r->arg >> 32);
    unsigned pid = tw_adapter_pid(&s->w, adapter);
    const char *dname = hal_dir_name((enum hal_dir)dir);
    char args[160];
    if (r->kind == ke_ev_dma_bus) {
        tw_begin_event(&s->w, "i", pid, tw_tid_bus);
        fprintf(s->w.out,
                ",\"s\":\"t\",\"cat\":\"bus\",\"name\":\"bus %s %u "
                "B\",\"args\":{\"logical\":\"0x%" PRIx64 "\"}",
                dir == hal_dir_from_device ? "write to memory" : "read from memory", bytes,
                r->arg2);
        tw_end_event(&s->w);
        return;
    }
    if (r->kind == ke_ev_dma_map) {
        if (s->nxfer == s->xfer_cap) {
            unsigned cap = s->xfer_cap ? 2 * s->xfer_cap : 16;
            struct tw_xfer *x = realloc(s->xfer, cap * sizeof(*x));
            if (!x)
                return;
            s->xfer = x;
            s->xfer_cap = cap;
        }
        struct tw_xfer *x = &s->xfer[s->nxfer++];
        *x = (struct tw_xfer){adapter, first, pid, ++s->next_xfer_id, ""};
        snprintf(x->name, sizeof(x->name), "DMA %s %u B", dname, bytes);
        snprintf(args, sizeof(args),
                 "{\"adapter\":%u,\"logical\":\"0x%" PRIx64
                 "\",\"first_register\":%u,\"bytes\":%u}",
                 adapter, r->arg2, first, bytes);
        tw_begin_event(&s->w, "b", pid, tw_tid_bus);
        fprintf(s->w.out, ",\"cat\":\"dma\",\"id\":\"0x%" PRIx64 "\",\"name\":", x->id);
        tw_str(s->w.out, x->name);
        fprintf(s->w.out, ",\"args\":%s", args);
        tw_end_event(&s->w);
        s->transfers++;
        return;
    }
    for (unsigned i = 0; i < s->nxfer; i++) {
        struct tw_xfer *x = &s->xfer[i];
        if (x->adapter != adapter || x->first != first)
            continue;
        tw_begin_event(&s->w, "e", x->pid, tw_tid_bus);
        fprintf(s->w.out, ",\"cat\":\"dma\",\"id\":\"0x%" PRIx64 "\",\"name\":", x->id);
        tw_str(s->w.out, x->name);
        tw_end_event(&s->w);
        s->xfer[i] = s->xfer[--s->nxfer];
        return;
    }
}

static void pool(struct tw_state *s, const struct ke_trace_rec *r)
{
    unsigned i = 0;
    while (i < s->npool && s->pool[i].key != r->arg)
        i++;
    if (i == s->npool) {
        if (s->npool == s->pool_cap) {
            unsigned cap = s->pool_cap ? 2 * s->pool_cap : 32;
            void *p = realloc(s->pool, cap * sizeof(*s->pool));
            if (!p)
                return;
            s->pool = p;
            s->pool_cap = cap;
        }
        s->pool[s->npool].key = r->arg;
        s->pool[s->npool++].bytes = 0;
    }
    s->pool[i].bytes += (int64_t)r->arg2;
    static const char *const kinds[] = {"Nonp", "Paged", "NonpNx"};
    char tag[5], name[48];
    for (int k = 0; k < 4; k++) {
        unsigned char ch = (unsigned char)(r->arg >> (8 * k));
        tag[k] = ch >= 0x20 && ch < 0x7F && ch != '"' && ch != '\\' ? (char)ch : '.';
    }
    tag[4] = 0;
    unsigned kind = (unsigned)(r->arg >> 32);
    snprintf(name, sizeof(name), "pool bytes %s (%s)", tag, kind < 3 ? kinds[kind] : "?");
    tw_counter(&s->w, tw_pid_machine, name, "bytes", s->pool[i].bytes);
}

static void one(struct tw_state *s, const struct ke_trace_rec *r)
{
    unsigned p = r->processor;
    struct tw_open o = {0};
    char name[64];
    switch (r->kind) {
    case ke_ev_irql:
        snprintf(name, sizeof(name), "IRQL CPU %u", p);
        tw_counter(&s->w, tw_pid_machine, name, "irql", (int64_t)r->arg);
        break;
    case ke_ev_switch_thread:
        switch_thread(s, p, (uint32_t)r->arg);
        break;
    case ke_ev_dpc:
        o.kind = tw_dpc;
        snprintf(o.name, sizeof(o.name), "DPC %s", tw_symbol(&s->w, r->arg));
        push(s, p, &o);
        break;
    case ke_ev_dpc_end:
        pop_kind(s, p, tw_dpc);
        break;
    case ke_ev_isr:
        o.kind = tw_isr;
        o.line = (unsigned)r->arg;
        snprintf(o.name, sizeof(o.name), "ISR line %u", o.line);
        push(s, p, &o);
        snprintf(name, sizeof(name), "{\"cpu\":%u}", p);
        tw_slice(&s->w, true, tw_line_pid(&s->w, o.line), tw_tid_interrupts, "interrupt", o.name,
                 name);
        break;
    case ke_ev_isr_end:
        pop_kind(s, p, tw_isr);
        break;
    case ke_ev_dispatch:
        note_thread(s, r);
        o.kind = tw_dispatch;
        o.thread = r->thread;
        o.call = ++s->calls;
        snprintf(o.name, sizeof(o.name), "%s %s", insp_major_name((unsigned)(r->arg2 >> 56)),
                 tw_symbol(&s->w, r->arg));
        push(s, p, &o);
        break;
    case ke_ev_dispatch_end:
        pop_kind(s, p, tw_dispatch);
        break;
    case ke_ev_dma_map:
    case ke_ev_dma_unmap:
    case ke_ev_dma_bus:
        dma(s, r);
        break;
    case ke_ev_mapregs:
        for (const struct hal_adapter *a = s->w.sys->hal.adapters; a; a = a->next)
            if ((uintptr_t)&a->regs == r->arg)
                tw_counter(&s->w, tw_adapter_pid(&s->w, a->id), "map registers in use", "allocated",
                           (int64_t)r->arg2);
        break;
    case ke_ev_pool:
        pool(s, r);
        break;
    case ke_ev_irps:
        tw_counter(&s->w, tw_pid_machine, "outstanding IRPs", "irps", (int64_t)r->arg);
        break;
    default:
        break;
    }
}

/* Closes everything still open at the last timestamp. */
static void finish(struct tw_state *s)
{
    for (unsigned p = 0; p < s->w.sys->ke.nprocessors; p++)
        while (s->cpu[p].depth)
            pop(s, p);
    for (unsigned i = 0; i < s->nxfer; i++) {
        struct tw_xfer *x = &s->xfer[i];
        tw_begin_event(&s->w, "e", x->pid, tw_tid_bus);
        fprintf(s->w.out, ",\"cat\":\"dma\",\"id\":\"0x%" PRIx64 "\",\"name\":", x->id);
        tw_str(s->w.out, x->name);
        fprintf(s->w.out, ",\"args\":{\"unflushed\":true}");
        tw_end_event(&s->w);
    }
}

int wdmsim_trace_write(wdmsim *sim, FILE *out)
{
    struct sys *sys = wdmsim_sys(sim);
    const struct ke_trace *t = &sys->ke.trace;
    if (!t->observe || !out)
        return WDMSIM_EINPUT;
    struct tw_state *s = calloc(1, sizeof(*s));
    struct tw_cpu *cpu = calloc(machine_max_processors, sizeof(*cpu));
    if (!s || !cpu) {
        free(s);
        free(cpu);
        return WDMSIM_EINPUT;
    }
    struct sys *prev = sys_current;
    sys_current = sys;
    s->cpu = cpu;
    s->w = (struct tw){.out = out, .sys = sys, .first = true};
    uint64_t made = t->count + t->observed;
    uint64_t kept = made < t->cap ? made : t->cap;
    fprintf(out,
            "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"wdmsim\","
            "\"seed\":%llu,\"records\":%llu,\"kept\":%llu,\"truncated\":%s},\n"
            "\"traceEvents\":[",
            (unsigned long long)sys->machine.seed, (unsigned long long)made,
            (unsigned long long)kept, kept < made ? "true" : "false");
    tw_tracks(&s->w);
    for (uint64_t i = 0; t->rec && i < kept; i++) {
        const struct ke_trace_rec *r = &t->rec[i];
        if (r->time != s->w.last_ns || i == 0) {
            s->w.last_ns = r->time;
            s->w.same = 0;
        }
        /* Records of one virtual instant keep their order: 1 ps apart. */
        s->w.ts_ps = r->time * 1000 + (s->w.same < 999 ? s->w.same++ : 999);
        if (r->processor < machine_max_processors)
            one(s, r);
    }
    s->w.ts_ps++;
    finish(s);
    fprintf(out, "\n]}\n");
    sys_current = prev;
    free(s->threads);
    free(s->xfer);
    free(s->pool);
    free(s->w.syms);
    free(cpu);
    free(s);
    return ferror(out) ? WDMSIM_EINPUT : WDMSIM_OK;
}
