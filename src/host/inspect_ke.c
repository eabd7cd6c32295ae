/*
 * src/host/inspect_ke.c - kernel-state commands: !analyze, !irql, !dpcs,
 * !process.
 *
 * Models: WinDbg's !analyze -v (here: the verifier's bug check report,
 * src/vf/report.c), !irql (each processor's IRQL; at a stop also the IRQL
 * the bug check was raised at), !dpcs (each processor's DPC queue, in
 * the order they will run) and !process 0 0 (processes with their threads).
 * Not modelled: per-thread stacks (k); kernel-mode threads are listed
 * under System, as Windows does.
 */
#include <string.h>
#include <wdm.h>

#include "host/inspect.h"
#include "sys.h"

static const char *irql_name(unsigned irql)
{
    static const char *const names[] = {"PASSIVE_LEVEL", "APC_LEVEL", "DISPATCH_LEVEL"};
    if (irql < 3)
        return names[irql];
    if (irql <= ke_max_device_irql)
        return "device IRQL";
    return irql == ke_synch_level ? "SYNCH_LEVEL"
           : irql == 13           ? "CLOCK_LEVEL"
           : irql == 14           ? "IPI_LEVEL"
                                  : "HIGH_LEVEL";
}

int insp_analyze(struct insp *c)
{
    if (!ke_stopped(&c->sys->ke)) {
        fprintf(c->out, "The machine has not stopped: no bug check to analyze.\n");
        return 0;
    }
    vf_report_print(c->sys, c->out);
    return 0;
}

int insp_irql(struct insp *c)
{
    struct ke *ke = &c->sys->ke;
    uint64_t only = UINT64_MAX;
    if (c->argc > 1 && insp_arg(c, 1, &only))
        return -1;
    if (only != UINT64_MAX && only >= ke->nprocessors)
        return insp_error(c, "no processor %llx (%u processors)", (unsigned long long)only,
                          ke->nprocessors);
    for (unsigned p = 0; p < ke->nprocessors; p++) {
        if (only != UINT64_MAX && p != only)
            continue;
        unsigned irql = ke->processor[p].irql;
        fprintf(c->out, "Debugger saved IRQL for processor 0x%x -- %u (%s)%s\n", p, irql,
                irql_name(irql), p == ke->current ? "  [current]" : "");
    }
    if (ke_stopped(ke))
        fprintf(c->out, "Bug check raised on processor 0x%x at IRQL %u (%s)\n",
                ke->bugcheck.processor, ke->bugcheck.irql, irql_name(ke->bugcheck.irql));
    return 0;
}

int insp_dpcs(struct insp *c)
{
    struct ke *ke = &c->sys->ke;
    unsigned total = 0;
    fprintf(c->out, "CPU Type      KDPC              Function\n");
    for (unsigned p = 0; p < ke->nprocessors; p++) {
        const struct ke_processor *pr = &ke->processor[p];
        uint64_t d = (uintptr_t)pr->dpc_head;
        for (unsigned n = 0; d && n < pr->dpc_count; n++) {
            KDPC k;
            if (insp_read(c->sys, d, &k, sizeof(k)) != sizeof(k)) {
                fprintf(c->out, "%2u: (KDPC %s not readable)\n", p, INSP_ADDR(d));
                break;
            }
            char fn[256];
            insp_symbol((uintptr_t)k.DeferredRoutine, fn, sizeof(fn));
            fprintf(c->out, "%2u: %-9s %s %s\n", p,
                    k.Importance == HighImportance ? "High" : "Normal", INSP_ADDR(d), fn);
            total++;
            d = k.DpcListEntry.Next ? (uintptr_t)k.DpcListEntry.Next - offsetof(KDPC, DpcListEntry)
                                    : 0;
        }
        if (pr->dpc_active)
            fprintf(c->out, "%2u: (a DPC routine is running)\n", p);
    }
    fprintf(c->out, "%u DPC%s queued\n", total, total == 1 ? "" : "s");
    return 0;
}

static const char *state_name(enum ke_thread_state s)
{
    static const char *const names[] = {"READY", "RUNNING", "WAIT", "TERMINATED"};
    return (unsigned)s < 4 ? names[s] : "?";
}

static void threads_of(struct insp *c, const struct ke_process *proc)
{
    struct ke *ke = &c->sys->ke;
    for (struct ke_thread *t = ke->threads; t; t = t->next) {
        if (ke_thread_process(t) != proc)
            continue;
        bool current = ke->processor[t->processor].thread == t;
        fprintf(c->out, "        THREAD %-4u %-10s %s %u%s  %s\n", t->id, state_name(t->state),
                current ? "current on processor" : "last ran on processor", t->processor,
                t->affinity >= 0 ? " (affinity set)" : "", t->name ? t->name : "");
    }
}

int insp_process(struct insp *c)
{
    struct ke *ke = &c->sys->ke;
    fprintf(c->out, "**** NT ACTIVE PROCESS DUMP ****\n");
    fprintf(c->out, "PROCESS System  Cid: 0004  (kernel threads)\n");
    threads_of(c, NULL);
    const struct ke_process *seen[64];
    unsigned nseen = 0;
    for (struct ke_thread *t = ke->threads; t; t = t->next) {
        const struct ke_process *p = ke_thread_process(t);
        bool known = !p;
        for (unsigned i = 0; i < nseen && !known; i++)
            known = seen[i] == p;
        if (known || nseen == 64)
            continue;
        seen[nseen++] = p;
        fprintf(c->out, "PROCESS %s  Cid: %04x  user space %s, %llu pages committed\n", p->name,
                p->id, p->space ? INSP_ADDR((uintptr_t)p->space->space.base) : "-",
                p->space ? (unsigned long long)p->space->committed : 0ULL);
        threads_of(c, p);
    }
    const struct ke_process *cur = ke_process_current(ke);
    fprintf(c->out, "Current context: %s\n", cur ? cur->name : "System");
    return 0;
}
