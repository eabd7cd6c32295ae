/*
 * src/ke/ke.h - the kernel core: processors, IRQL, running driver code,
 * bug checks. The whole interface of src/ke to the other layers.
 *
 * Models: KeBugCheckEx stopping the machine; each virtual processor's IRQL.
 * Invariants: once stopped, a machine runs no more driver code; every entry
 * into driver code from the host goes through ke_call(), which is where a
 * stop lands.
 */
#ifndef WDMSIM_KE_H
#define WDMSIM_KE_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "machine/machine.h"

struct vf_rule;

struct ke_processor {
    unsigned number;
    uint8_t irql; /* KIRQL */
};

/* What stopped the machine: the bug check and where it was raised. */
struct ke_bugcheck {
    bool raised;
    uint32_t code;
    uint64_t param[4];
    const struct vf_rule *rule; /* NULL when the driver called KeBugCheckEx */
    char text[512];             /* rule text or caller detail, bracketed facts */
    unsigned processor;
    uint8_t irql;
    void *frames[48];           /* host backtrace at the stop */
    int nframes;
};

struct ke {
    unsigned nprocessors;
    struct ke_processor processor[machine_max_processors];
    unsigned current;           /* processor running now */
    struct ke_bugcheck bugcheck;
    sigjmp_buf *stop_target;    /* innermost ke_call() */
    unsigned depth;             /* nesting of ke_call() */
};

int ke_init(struct ke *ke, const struct machine *m);
void ke_fini(struct ke *ke);

static inline struct ke_processor *ke_current_processor(struct ke *ke)
{
    return &ke->processor[ke->current];
}

/* The current processor's IRQL. Other layers read IRQL only through this. */
static inline uint8_t ke_irql(const struct ke *ke)
{
    return ke->processor[ke->current].irql;
}

/* Runs driver code fn(arg) on the current processor. Returns 0 when fn
 * returned, -1 when the machine stopped (bug check) during it; the machine
 * stays stopped. Refuses (-1) to run anything on a stopped machine. */
int ke_call(struct ke *ke, void (*fn)(void *arg), void *arg);

/* Stops the machine with a bug check; never returns. rule may be NULL. */
_Noreturn void ke_bugcheck(uint32_t code, uint64_t p1, uint64_t p2, uint64_t p3, uint64_t p4,
                           const struct vf_rule *rule, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
_Noreturn void ke_bugcheck_v(uint32_t code, const uint64_t param[4], const struct vf_rule *rule,
                             const char *fmt, va_list ap);

static inline bool ke_stopped(const struct ke *ke)
{
    return ke->bugcheck.raised;
}

#endif
