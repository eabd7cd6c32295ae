/*
 * src/ke/ke.h - the kernel core: processors, IRQL, threads as fibers, the
 * deterministic scheduler, spin locks, DPCs, interrupts, waits, bug checks.
 * The whole interface of src/ke to the other layers.
 *
 * Models: Windows' Ke on virtual processors (spec/ke_rtl_registry.md 1-4;
 * docs/execution.md has the execution model and its diagram).
 * Invariants: exactly one fiber executes at a time; it belongs to
 * processor[current] (its current thread) or is the host's own stack;
 * once stopped, a machine runs no more driver code; every entry into driver
 * code from the host goes through ke_call(), which is where a stop lands.
 */
#ifndef WDMSIM_KE_H
#define WDMSIM_KE_H

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "machine/machine.h"

struct vf_rule;
struct _KINTERRUPT;
struct _KDPC;

enum {
    ke_passive_level = 0,
    ke_apc_level = 1,
    ke_dispatch_level = 2,
    ke_min_device_irql = 3,
    ke_max_device_irql = 11,
    ke_synch_level = 12,
    ke_high_level = 15,
    ke_max_wait_objects = 64,   /* MAXIMUM_WAIT_OBJECTS */
    ke_stack_bytes = 64 * 1024, /* per fiber; Windows gives 24 KiB, host code needs more */
};

/* ---- fibers (fiber.c) -------------------------------------------------------
 * A stack in simulated memory (physical frames, so the DMA verifier can see
 * a stack buffer) with an unmapped guard page below, and a saved stack
 * pointer. The switch is a few instructions of assembly: measured in
 * bench/bench_ke.c against swapcontext (docs/execution.md). */
struct ke_fiber {
    void *sp;       /* saved stack pointer while suspended */
    uint8_t *base;  /* lowest address of the reservation (the guard page) */
    uint64_t pages; /* guard included */
};

/* Makes f a fiber that will call entry(arg) when first switched to; entry
 * must never return. Returns 0, or -1 when simulated memory runs out. */
int ke_fiber_create(struct ke_fiber *f, void (*entry)(void *arg), void *arg);
void ke_fiber_destroy(struct ke_fiber *f);
/* Rebuilds a suspended or dead fiber's stack so that it starts entry(arg). */
void ke_fiber_reset(struct ke_fiber *f, void (*entry)(void *arg), void *arg);
/* Saves the running context in *from and resumes *to. */
void ke_fiber_switch(struct ke_fiber *from, struct ke_fiber *to);
/* Lowest and highest+1 usable stack address of f. */
void ke_fiber_bounds(const struct ke_fiber *f, uintptr_t *lo, uintptr_t *hi);

/* ---- dispatcher objects --------------------------------------------------------
 * Layout-compatible with DISPATCHER_HEADER (checked in wait.c), so a
 * ke_thread can be waited on like any KEVENT. */
struct ke_link {
    struct ke_link *flink, *blink;
};
struct ke_header {
    uint8_t type, signalling, size, reserved;
    int32_t signal_state;
    struct ke_link wait_list;
};

struct ke_thread;
struct ke_wait_block {
    struct ke_link link; /* in the object's WaitListHead */
    void *object;        /* DISPATCHER_HEADER * */
    struct ke_thread *thread;
    unsigned index;
};

enum ke_thread_state {
    ke_state_ready,
    ke_state_running,
    ke_state_waiting,
    ke_state_terminated,
};

struct ke_thread {
    struct ke_header header; /* first: PKTHREAD points here; signaled at exit */
    unsigned id;
    enum ke_thread_state state;
    struct ke_fiber fiber;
    unsigned processor; /* running on, or last ran on */
    int affinity;       /* -1: any processor; else only that one */
    uint8_t saved_irql; /* the processor's IRQL while switched out */
    bool idle;          /* a processor's idle thread */
    const char *name;
    void (*start)(void *arg); /* host-side body; the thread exits when it returns */
    void *arg;
    /* waiting (wait.c) */
    struct ke_wait_block wb[ke_max_wait_objects];
    unsigned nwait;
    bool wait_all;
    int32_t wait_status;
    uint64_t timeout_event; /* vclock event id, 0 = none */
    struct ke_thread *next_ready;
    struct ke_thread *next; /* every thread (ke->threads) */
    int32_t exit_status;
    uint32_t fp_saves; /* KeSaveFloatingPointState nesting (float.c) */
    /* process.c: the process the thread belongs to (NULL: System) and the
     * one it is attached to (KeStackAttachProcess; NULL: none) */
    struct ke_process *process, *attached;
};

/* ---- processors ------------------------------------------------------------------ */
struct ke_processor {
    unsigned number;
    uint8_t irql;             /* KIRQL */
    struct ke_thread *thread; /* its current thread; suspended unless this is ke->current */
    struct ke_thread *idle;
    struct _KDPC *dpc_head, *dpc_tail; /* linked through DpcListEntry.Next */
    unsigned dpc_count;
    bool dpc_active;                      /* draining: the DPC routine runs on this processor */
    bool halted;                          /* idle with nothing to do */
    volatile unsigned long long *spin_on; /* KSPIN_LOCK this processor spins on, or NULL */
    uint64_t busy_until;                  /* KeStallExecutionProcessor deadline (virtual ns) */
    unsigned isr_depth;
    uint64_t dpcs, isrs; /* statistics */
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
    void *frames[48]; /* host backtrace at the stop */
    int nframes;
};

/* ---- the event trace (trace.c) ---------------------------------------------
 * A compact log of what the scheduler did, for the determinism tests and for
 * `wdmsim trace` later: a running hash over every record and a bounded
 * buffer of the first records. */
enum ke_trace_kind {
    ke_ev_switch_processor = 1, /* arg: processor switched to */
    ke_ev_switch_thread,        /* arg: thread id */
    ke_ev_irql,                 /* arg: new IRQL */
    ke_ev_dpc,                  /* arg: DPC routine address */
    ke_ev_isr,                  /* arg: line */
    ke_ev_lock_acquire,         /* arg: lock address */
    ke_ev_lock_spin,
    ke_ev_wait,        /* arg: thread id */
    ke_ev_wake,        /* arg: thread id */
    ke_ev_clock,       /* arg: new virtual time */
    ke_ev_thread_exit, /* arg: thread id */
    ke_ev_line,        /* arg: line asserted (device side) */
    /* Observations (ke_observe): only while trace.observe is set (wdmsim
     * run --trace), never hashed, so tracing does not change a run's hash.
     * docs/trace.md gives each one's meaning in the Perfetto output. */
    ke_ev_dpc_end = 32, /* arg: DPC routine */
    ke_ev_isr_end,      /* arg: line */
    ke_ev_dispatch,     /* arg: dispatch routine, arg2: IRP | major << 56 */
    ke_ev_dispatch_end, /* arg: dispatch routine, arg2: NTSTATUS returned */
    ke_ev_dma_map,      /* arg: ke_dma_arg(), arg2: logical address */
    ke_ev_dma_unmap,    /* arg: ke_dma_arg() (bytes 0) */
    ke_ev_dma_bus,      /* arg: ke_dma_arg() (first 0), arg2: logical address */
    ke_ev_mapregs,      /* arg: struct hal_mapreg_file *, arg2: registers allocated */
    ke_ev_pool,         /* arg: tag | kind << 32, arg2: signed change of bytes */
    ke_ev_irps,         /* arg: IRPs allocated and not yet freed */
};
/* A DMA observation's arg: adapter id, direction (enum hal_dir), first
 * map register of the operation, bytes. */
static inline uint64_t ke_dma_arg(unsigned adapter, unsigned dir, unsigned first, uint32_t bytes)
{
    return (uint64_t)(adapter & 0xFFFF) | (uint64_t)(dir & 3) << 16 |
           (uint64_t)(first & 0x3FFF) << 18 | (uint64_t)bytes << 32;
}
struct ke_trace_rec {
    uint64_t time;
    uint16_t processor;
    uint16_t kind;
    uint32_t thread; /* observations: id of the processor's current thread; else 0 */
    uint64_t arg;
    uint64_t arg2; /* observations only */
};
struct ke_trace {
    uint64_t hash; /* over every record, in order (trace.c) */
    uint64_t count;
    struct ke_trace_rec *rec;
    uint64_t cap;      /* records kept; the hash covers them all */
    bool addresses;    /* hash addresses too (off: ASLR would change the hash) */
    bool observe;      /* keep every record (up to 8 Mi) and observations */
    uint64_t observed; /* observations kept; records kept = count + observed, capped */
};

struct ke_worker;

struct ke {
    unsigned nprocessors;
    struct ke_processor processor[machine_max_processors];
    unsigned current; /* processor running now */
    struct ke_bugcheck bugcheck;
    sigjmp_buf *stop_target; /* the host's ke_call(), while on the host stack */
    unsigned depth;          /* nesting of ke_call() */
    struct machine *machine;
    /* scheduler (sched.c) */
    struct rng rng;       /* every scheduling choice; seeded from the machine seed */
    bool running;         /* the host is inside ke_call's scheduler loop */
    bool on_host;         /* executing on the host's own stack */
    struct ke_fiber host; /* the host's context while a fiber runs */
    struct ke_thread *ready_head, *ready_tail;
    struct ke_thread *threads;     /* every thread not yet reaped */
    struct ke_thread *request;     /* runs the work of the current host ke_call */
    struct ke_thread *stack_cache; /* terminated threads whose fiber can be reused */
    unsigned next_thread_id;
    uint64_t points;           /* scheduling points so far */
    uint64_t point_ns;         /* virtual time one scheduling point costs */
    unsigned preempt_permille; /* chance a point preempts a PASSIVE/APC thread */
    unsigned deliver_permille; /* chance a point delivers a pending interrupt */
    sigset_t host_mask;        /* signal mask at the host's ke_call */
    /* interrupts (interrupt.c): connected KINTERRUPTs per controller line */
    struct _KINTERRUPT *line_isr[intc_max_lines];
    uint64_t in_service;                 /* bit n: line n's ISRs run now (no second delivery) */
    unsigned storm[intc_max_lines];      /* deliveries in one level assertion */
    uint64_t storm_mark[intc_max_lines]; /* the line's assertion count at the last one */
    struct _KINTERRUPT *disconnected;    /* freed at shutdown: an ISR may still run */
    struct ke_worker *worker;            /* system worker threads (worker.c), made on first use */
    struct ke_processes *ps;             /* user processes (process.c), made on first use */
    struct ke_trace trace;
};

int ke_init(struct ke *ke, struct machine *m);
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

/* Runs driver code fn(arg) as the work of a kernel thread on processor 0 at
 * PASSIVE_LEVEL, and runs the scheduler until that thread has finished and
 * nothing is runnable (DPCs drained, work items done, ready threads run).
 * Returns 0, or -1 when the machine stopped (bug check) meanwhile; the
 * machine stays stopped. Refuses (-1) to run anything on a stopped machine.
 * Called from kernel code (already on a fiber) it just calls fn(arg). */
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

/* ---- scheduler (sched.c) ------------------------------------------------------ */
/* A scheduling point: every WDK entry of every layer calls this first. May
 * run another processor, deliver an interrupt here, drain this processor's
 * DPCs (below DISPATCH_LEVEL) or preempt the thread (below DISPATCH_LEVEL).
 * A no-op outside the scheduler (host code at boot). */
void ke_sched_point(struct ke *ke);
struct ke_thread *ke_current_thread(struct ke *ke);
/* Creates a thread that will run start(arg) at PASSIVE_LEVEL; ready at once.
 * Returns NULL when simulated memory for its stack runs out. */
struct ke_thread *ke_thread_create(struct ke *ke, const char *name, void (*start)(void *),
                                   void *arg, int affinity);
/* Ends the current thread; never returns. */
_Noreturn void ke_thread_exit(struct ke *ke, int32_t status);
/* Makes a waiting thread ready with the given wait status (wait.c). */
void ke_thread_ready(struct ke *ke, struct ke_thread *t);
/* Blocks the current thread (state already waiting) until ke_thread_ready. */
void ke_thread_block(struct ke *ke);
/* The processor spins on a held lock: a scheduling point that reports a
 * deadlock (lock.order) instead of spinning forever. */
void ke_spin_wait(struct ke *ke, volatile unsigned long long *lock);
/* Internal to ke: the scheduler loop behind ke_call, the bug check's way
 * back to the host, teardown, and waking a dispatcher object's waiters. */
int ke_sched_call(struct ke *ke, void (*fn)(void *), void *arg);
_Noreturn void ke_sched_abort(struct ke *ke);
void ke_sched_fini(struct ke *ke);
/* The host left a fiber without the scheduler (a longjmp out of a test
 * assertion): abandon that thread, give its processor back to its idle
 * thread, and clear the per-call state. */
void ke_sched_recover(struct ke *ke);
void ke_interrupt_fini(struct ke *ke);
void ke_worker_fini(struct ke *ke);
void ke_object_signal(struct ke *ke, void *header);

/* The current processor busy-waits until virtual time `until` (stall):
 * others run meanwhile, interrupts are taken. */
void ke_stall(struct ke *ke, uint64_t until);

/* ---- IRQL (irql.c) --------------------------------------------------------------- */
/* Machinery raise/lower without the driver-facing checks. Lowering below
 * DISPATCH_LEVEL drains this processor's DPCs and delivers interrupts above
 * the new level. */
uint8_t ke_raise_irql(struct ke *ke, uint8_t irql);
/* With force IRQL checking on, trims every pageable page (mm_trim_all). */
void ke_force_irql_trim(struct ke *ke);
void ke_lower_irql(struct ke *ke, uint8_t irql);
/* irql.api: the calling routine allows at most max; ddi_code is the DDI
 * compliance rule code for it (0x00020011 ...), or 0 for 0xE5. */
void ke_check_irql_max(struct ke *ke, uint8_t max, uint32_t ddi_code, const char *routine);

/* ---- spin lock words (spinlock.c) ---------------------------------------------
 * The KSPIN_LOCK holds owner processor + 1. take spins (a scheduling point)
 * and reports recursion; drop reports a release by a non-owner. */
void ke_lock_take(struct ke *ke, volatile unsigned long long *lock);
bool ke_lock_try(struct ke *ke, volatile unsigned long long *lock);
void ke_lock_drop(struct ke *ke, volatile unsigned long long *lock);

/* ---- DPCs (dpc.c) ------------------------------------------------------------------ */
/* Runs every DPC queued on the current processor at DISPATCH_LEVEL; the
 * caller's IRQL must be below DISPATCH_LEVEL and is restored. */
void ke_dpc_drain(struct ke *ke);
/* Queues dpc to its target processor, or to `processor` when it has none.
 * False when it was already queued. Does not drain. */
bool ke_dpc_insert(struct ke *ke, struct _KDPC *dpc, void *a1, void *a2, unsigned processor);

/* ---- interrupts (interrupt.c) ------------------------------------------------------ */
/* The vector and DIRQL a controller line is wired to (IRQL = vector >> 4),
 * and back; -1 when the vector is no line's. */
unsigned ke_line_vector(unsigned line);
int ke_vector_line(unsigned vector);
/* Highest-IRQL line that can interrupt processor p now, or -1. */
int ke_interrupt_deliverable(struct ke *ke, unsigned p);
/* Takes interrupt `line` on the current processor: its ISRs run at DIRQL. */
void ke_interrupt_deliver(struct ke *ke, unsigned line);

/* ---- waits (wait.c) ------------------------------------------------------------------
 * Waits on n dispatcher objects (any or all) with a WDK timeout (NULL =
 * forever); returns the NTSTATUS KeWaitForMultipleObjects would. No IRQL
 * checks: the WDK entries make them. */
union _LARGE_INTEGER;
int32_t ke_wait(struct ke *ke, unsigned n, void *const *objects, bool wait_all,
                const union _LARGE_INTEGER *timeout);
/* Virtual ns at which a WDK due time (negative relative, positive absolute,
 * 100 ns units) falls; *poll when it is zero or already past. */
uint64_t ke_due_time(struct ke *ke, int64_t due, bool *poll);
/* KeQuerySystemTime's value now. */
uint64_t ke_system_time(struct ke *ke);

/* ---- time (timer.c) ------------------------------------------------------------------ */
/* Virtual nanoseconds since boot. */
uint64_t ke_now(struct ke *ke);
/* Advances virtual time to t and fires what became due (host stack or any fiber). */
void ke_clock_advance(struct ke *ke, uint64_t t);

/* ---- trace (trace.c) ------------------------------------------------------------------ */
void ke_trace(struct ke *ke, enum ke_trace_kind kind, uint64_t arg);
/* Addresses vary between runs (ASLR): trace them only through this. */
void ke_trace_addr(struct ke *ke, enum ke_trace_kind kind, const void *addr);
/* Observations for wdmsim run --trace: one flag test when off. */
void ke_trace_observed(struct ke *ke, enum ke_trace_kind kind, uint64_t arg, uint64_t arg2);
static inline void ke_observe(struct ke *ke, enum ke_trace_kind kind, uint64_t arg, uint64_t arg2)
{
    if (__builtin_expect(ke->trace.observe, 0))
        ke_trace_observed(ke, kind, arg, arg2);
}
/* The same for machinery that holds no struct ke (the running system's;
 * nothing without one, as in machinery unit tests). */
void ke_observe_current(enum ke_trace_kind kind, uint64_t arg, uint64_t arg2);

/* ---- work items (worker.c) -------------------------------------------------------------
 * fn(arg) runs later at PASSIVE_LEVEL on a system worker thread. Returns 0,
 * or -1 when no worker thread could be made. */
int ke_worker_queue(struct ke *ke, void (*fn)(void *arg), void *arg);

/* ---- processes (process.c) ----------------------------------------------------------
 * A user process: its own user address space (src/mm/user.c), accessible
 * only while it is the current context, and one thread that runs an app.
 * The context is the running thread's attached process, else (outside
 * DPCs and ISRs, which run in no process here) its own process. */
struct mm_user_space;
struct ke_process {
    unsigned id; /* UniqueProcessId: 4 is System, apps from 0x100 */
    char name[64];
    struct mm_user_space *space; /* NULL for System */
    struct ke_thread *thread;    /* the thread that runs its app, NULL when none */
    uintptr_t kernel_top;        /* kernel stack top for ke_gate while in user mode */
    bool in_user;                /* the thread executes app code on its user stack */
    void *io;                    /* the I/O manager's part (handles): src/io/win32*.c */
    struct ke_process *next;
};
/* Creates a process with user_bytes of user address space (reserved, none
 * committed). NULL when host memory runs out. Any context. */
struct ke_process *ke_process_create(struct ke *ke, const char *name, uint64_t user_bytes);
/* Frees the process and its user space; no thread may still belong to it. */
void ke_process_destroy(struct ke *ke, struct ke_process *p);
/* The process whose user space is accessible now; NULL = none (System). */
struct ke_process *ke_process_current(struct ke *ke);
/* The running fiber changed (thread switch, processor switch, DPC or ISR
 * start/end): make exactly the right user space accessible. Called by the
 * scheduler; a pointer test when no process exists. */
void ke_process_sync(struct ke *ke);
/* Attach the running thread to p (NULL: detach to none); returns what to
 * pass to ke_process_detach. Machinery behind KeStackAttachProcess. */
struct ke_process *ke_process_attach(struct ke *ke, struct ke_process *p);
void ke_process_detach(struct ke *ke, struct ke_process *previous);
/* The process a thread belongs to (NULL: System). */
struct ke_process *ke_thread_process(const struct ke_thread *t);
/* On the process's thread, kernel stack: run fn(arg) on the user stack whose
 * top is user_top (16-byte aligned), in user mode; returns fn's value. */
uint64_t ke_user_enter(struct ke_process *p, void *user_top, uint64_t (*fn)(void *), void *arg);
/* Kernel entry from app code (every Win32 export): runs fn(arg) on the
 * thread's kernel stack when called in user mode, else calls it directly. */
uint64_t ke_gate(uint64_t (*fn)(void *), void *arg);
void ke_process_fini(struct ke *ke);

/* ---- verifier rules of this layer (rules.c) ------------------------------------------- */
/* float.c: ke.fpsave-mismatch, listed apart from ke_vf_rules. */
extern const struct vf_rule *const ke_float_vf_rules[];
enum { ke_float_vf_rule_count = 1 };
extern const struct vf_rule ke_rule_raise_lower, ke_rule_lower_higher, ke_rule_irql_api,
    ke_rule_paged_code, ke_rule_recursive, ke_rule_release_unowned, ke_rule_release_not_dispatch,
    ke_rule_atdpc_below_dispatch, ke_rule_acquire_above_dispatch, ke_rule_kernel_release,
    ke_rule_lock_order, ke_rule_wait_forever, ke_rule_wait_at_dispatch, ke_rule_setevent_irql,
    ke_rule_fast_mutex, ke_rule_isr_irql, ke_rule_storm;
extern const struct vf_rule *const ke_vf_rules[];
enum { ke_vf_rule_count = 17 };
/* Fires rule with an explicit parameter 1 (rules with several subcodes). */
void ke_violation(const struct vf_rule *rule, uint64_t p1, uint64_t a, uint64_t b, uint64_t c,
                  const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#endif
