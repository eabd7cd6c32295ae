/*
 * src/sys.h - one simulated system: the machine and every layer's state.
 *
 * The WDK entry points take no "which machine" argument, so the machine that
 * is running on this host thread is kept in a thread-local pointer, set by
 * the host API around every call into the simulation (sys_enter/sys_leave).
 * That pointer is the only mutable global in wdmsim.
 */
#ifndef WDMSIM_SYS_H
#define WDMSIM_SYS_H

#include <stdio.h>

#include "machine/machine.h"
#include "ke/ke.h"
#include "mm/mm.h"
#include "io/io.h"
#include "ex/ex.h"
#include "cm/cm.h"
#include "vf/vf.h"
#include "hal/hal.h"

struct host_breaks;

struct sys_stats {
    uint64_t dbgprint_calls;
    uint64_t dbgprint_bytes;
};

struct sys {
    struct machine machine;
    struct ke ke;
    struct mm mm;
    struct ex ex;
    struct io io;
    struct cm cm;
    struct vf vf;
    struct hal hal; /* DMA adapters (src/hal) */
    FILE *out;      /* DbgPrint output: the run's standard output */
    struct sys_stats stats;
    bool booted;
    struct host_breaks *breaks; /* src/host/inspect_break.c: --break-on DRIVER!Function */
};

extern __thread struct sys *sys_current;

static inline struct sys *sys_get(void)
{
    return sys_current;
}

#endif
