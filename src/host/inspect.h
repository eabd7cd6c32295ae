/*
 * src/host/inspect.h - the inspector's command engine (wdmsim_inspect),
 * breakpoints (--break-on) and the Perfetto trace writer: internal to
 * src/host.
 *
 * Models: a kernel debugger attached to a stopped machine: WinDbg's
 * commands in its spelling (!pool, !vtop, !pte, !pfn, !irp, dt, db ...),
 * reading the simulated state, never changing it and never running driver
 * code. docs/inspect.md is the command reference.
 * Invariants: no command dereferences an address it has not checked: a
 * simulated address is read through its PTE's frame (the direct map), a
 * driver-image address through process_vm_readv; anything else is an
 * error message, never a fault.
 */
#ifndef WDMSIM_HOST_INSPECT_H
#define WDMSIM_HOST_INSPECT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct sys;
struct io_driver;

enum { insp_max_args = 16 };

/* One command line being run. */
struct insp {
    struct sys *sys;
    FILE *out;
    int argc; /* argv[0] is the command name */
    char *argv[insp_max_args];
};

typedef int insp_fn(struct insp *c); /* 0, or -1 after printing why */

struct insp_cmd {
    const char *name;
    insp_fn *fn;
    const char *usage;
    const char *help;
};

/* ---- inspect.c: parsing and helpers ----------------------------------------- */
/* A WinDbg number: hex by default ("ffff`8000", "0x10"), "0n10" decimal.
 * Returns 0, or -1 after printing an error naming the text. */
int insp_number(struct insp *c, const char *text, uint64_t *v);
/* The argument i as a number; -1 with a message when missing or bad. */
int insp_arg(struct insp *c, int i, uint64_t *v);
int insp_error(struct insp *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* WinDbg's 64-bit address spelling: 00007f12`34567000. buf >= 18 bytes. */
const char *insp_addr(uint64_t a, char buf[18]);
#define INSP_ADDR(a) insp_addr((uint64_t)(a), (char[18]){0})

/* ---- inspect_read.c: checked reads ------------------------------------------ */
/* Reads len bytes at simulated or driver-image address va into buf.
 * Returns the bytes read (stops at the first unreadable page). */
size_t insp_read(struct sys *sys, uint64_t va, void *buf, size_t len);
/* The whole object or -1 after printing "cannot read N bytes at ADDR". */
int insp_read_all(struct insp *c, uint64_t va, void *buf, size_t len);
/* A UNICODE_STRING at va, as ASCII ('?' for the rest); "" if unreadable. */
void insp_ustr(struct sys *sys, uint64_t va, char *buf, size_t len);
/* driver!function+0xoff for a code address, or the hex address. */
void insp_symbol(uint64_t pc, char *buf, size_t len);

/* ---- the command files ------------------------------------------------------------ */
insp_fn insp_vtop, insp_pte, insp_pfn, insp_db, insp_dw, insp_dd, insp_dq; /* inspect_mem.c */
insp_fn insp_pool, insp_poolused, insp_lookaside;                          /* inspect_pool.c */
insp_fn insp_irp, insp_devobj, insp_drvobj, insp_devstack;                 /* inspect_io.c */
insp_fn insp_analyze, insp_irql, insp_dpcs, insp_process;                  /* inspect_ke.c */
insp_fn insp_dma, insp_dma8237;                                            /* inspect_dma.c */
insp_fn insp_dt;                                                           /* inspect_dt.c */
insp_fn insp_xfer, insp_iobuf, insp_draw;                                  /* draw.c */

/* ---- inspect_break.c: --break-on DRIVER!Function -------------------------------- */
/* Patches the breakpoints set for drv's service into its image (after it
 * is mapped, before DriverEntry); prints a warning for an unknown symbol. */
void host_break_apply(struct sys *sys, struct io_driver *drv);
int host_break_add(struct sys *sys, const char *driver, const char *function);
/* The breakpoint hit that stopped the machine ("DRIVER!Function"), or NULL. */
const char *host_break_hit(struct sys *sys);
void host_break_fini(struct sys *sys);

/* The system behind a handle (src/host/wdmsim.c). */
struct wdmsim;
struct sys *wdmsim_sys(struct wdmsim *sim);

#endif
