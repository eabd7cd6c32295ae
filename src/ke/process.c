/*
 * src/ke/process.c - user processes: the current context, attaching, and
 * the switch between an app's user stack and its kernel stack.
 *
 * Models: spec/memory.md 2. A process owns a user address space
 * (src/mm/user.c) and one thread, which runs an app. The current context
 * is, on the running processor: the thread's attached process
 * (KeStackAttachProcess), else its own process - except inside DPCs and
 * ISRs, which wdmsim runs in no process at all (Windows runs them in
 * whatever process was interrupted, so a driver touching a user buffer
 * there works by luck; here it always faults: mm.user-va-wrong-context).
 * ke_process_sync, called wherever the running fiber or its DPC/ISR state
 * changes, makes exactly the current process's user pages accessible.
 * An app runs on a user stack inside its user space (so its locals are
 * user addresses, as METHOD_NEITHER expects); every Win32 export enters
 * the kernel through ke_gate, which moves to the thread's kernel stack like
 * a system call: fiber switches, DPCs and ISRs then never run on a user
 * stack that a context switch could hide.
 * Invariants: ps->current == the context computed from the running
 * processor after every sync; a process's thread is the only one whose
 * `process` names it.
 * Not modelled: several threads per process, APCs (KAPC_STATE only saves
 * the previous attachment), process handles and ZwOpenProcess.
 */
#include <stdlib.h>
#include <string.h>

#include <wdm.h>

#include "sys.h"

struct ke_processes {
    struct ke_process system; /* PsInitialSystemProcess: no user space */
    struct ke_process *list;
    struct ke_process *current; /* whose user pages are accessible; NULL none */
    unsigned next_id;
};

/* uint64_t ke_stack_call(void *top, uint64_t (*fn)(void *), void *arg):
 * calls fn(arg) with rsp = top (16-byte aligned), then returns on the
 * caller's stack. rbp holds the caller's stack across the call. */
__asm__(".text\n"
        ".globl ke_stack_call\n"
        ".hidden ke_stack_call\n"
        ".type ke_stack_call,@function\n"
        "ke_stack_call:\n"
        "    .cfi_startproc\n"
        "    pushq %rbp\n"
        "    .cfi_def_cfa_offset 16\n"
        "    .cfi_offset rbp, -16\n"
        "    movq %rsp, %rbp\n"
        "    .cfi_def_cfa_register rbp\n"
        "    movq %rdi, %rsp\n"
        "    movq %rdx, %rdi\n"
        "    callq *%rsi\n"
        "    movq %rbp, %rsp\n"
        "    popq %rbp\n"
        "    .cfi_def_cfa rsp, 8\n"
        "    ret\n"
        "    .cfi_endproc\n"
        ".size ke_stack_call, .-ke_stack_call\n");

uint64_t ke_stack_call(void *top, uint64_t (*fn)(void *), void *arg);

static struct ke_processes *state(struct ke *ke)
{
    if (!ke->ps) {
        ke->ps = calloc(1, sizeof(*ke->ps));
        if (!ke->ps)
            return NULL;
        ke->ps->system.id = 4;
        strcpy(ke->ps->system.name, "System");
        ke->ps->next_id = 0x100;
    }
    return ke->ps;
}

struct ke_process *ke_process_create(struct ke *ke, const char *name, uint64_t user_bytes)
{
    struct ke_processes *ps = state(ke);
    struct ke_process *p = ps ? calloc(1, sizeof(*p)) : NULL;
    if (!p)
        return NULL;
    p->id = ps->next_id;
    ps->next_id += 4;
    snprintf(p->name, sizeof(p->name), "%s", name);
    p->space = mm_user_create(&sys_get()->mm, p, p->name, user_bytes);
    if (!p->space) {
        free(p);
        return NULL;
    }
    p->next = ps->list;
    ps->list = p;
    return p;
}

void ke_process_destroy(struct ke *ke, struct ke_process *p)
{
    struct ke_processes *ps = ke->ps;
    if (!ps)
        return;
    if (ps->current == p)
        ps->current = NULL;
    for (struct ke_process **pp = &ps->list; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    if (p->space)
        mm_user_destroy(&sys_get()->mm, p->space);
    free(p);
}

void ke_process_fini(struct ke *ke)
{
    struct ke_processes *ps = ke->ps;
    if (!ps)
        return;
    /* The user spaces went with mm_fini; only the host structs are left. */
    while (ps->list) {
        struct ke_process *p = ps->list;
        ps->list = p->next;
        free(p);
    }
    free(ps);
    ke->ps = NULL;
}

/* The context the running processor is in now (NULL: no user space). */
static struct ke_process *context(struct ke *ke)
{
    const struct ke_processor *pr = &ke->processor[ke->current];
    const struct ke_thread *t = pr->thread;
    struct ke_process *p;
    if (!t)
        return NULL;
    if (t->attached)
        p = t->attached;
    else if (pr->dpc_active || pr->isr_depth)
        return NULL;
    else
        p = t->process;
    return p && p->space ? p : NULL;
}

void ke_process_sync(struct ke *ke)
{
    struct ke_processes *ps = ke->ps;
    if (!ps || !ps->list)
        return;
    struct ke_process *want = context(ke);
    if (want == ps->current)
        return;
    ps->current = want;
    mm_user_switch(&sys_get()->mm, want ? want->space : NULL);
}

struct ke_process *ke_process_current(struct ke *ke)
{
    return ke->ps ? ke->ps->current : NULL;
}

struct ke_process *ke_thread_process(const struct ke_thread *t)
{
    return t ? t->process : NULL;
}

struct ke_process *ke_process_attach(struct ke *ke, struct ke_process *p)
{
    struct ke_thread *t = ke->processor[ke->current].thread;
    if (!t)
        return NULL;
    struct ke_process *prev = t->attached;
    t->attached = p;
    ke_process_sync(ke);
    return prev;
}

void ke_process_detach(struct ke *ke, struct ke_process *previous)
{
    struct ke_thread *t = ke->processor[ke->current].thread;
    if (!t)
        return;
    t->attached = previous;
    ke_process_sync(ke);
}

__attribute__((noinline)) uint64_t ke_user_enter(struct ke_process *p, void *user_top,
                                                 uint64_t (*fn)(void *), void *arg)
{
    /* Gates run kernel code well below this frame: nothing above it is
     * live while the app runs, and this frame stays for exit's longjmp. */
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    p->kernel_top = (here - 8192) & ~(uintptr_t)15;
    p->in_user = true;
    uint64_t r = ke_stack_call(user_top, fn, arg);
    p->in_user = false;
    return r;
}

uint64_t ke_gate(uint64_t (*fn)(void *), void *arg)
{
    struct ke *ke = &sys_get()->ke;
    struct ke_thread *t = ke->running ? ke->processor[ke->current].thread : NULL;
    struct ke_process *p = t ? t->process : NULL;
    if (!p || !p->in_user || p->thread != t)
        return fn(arg);
    p->in_user = false;
    uint64_t r = ke_stack_call((void *)p->kernel_top, fn, arg);
    p->in_user = true;
    return r;
}

/* ---- the WDK surface ------------------------------------------------------------------ */

static PEPROCESS current_or_system(void)
{
    struct ke *ke = &sys_get()->ke;
    struct ke_processes *ps = state(ke);
    if (!ps)
        return NULL;
    return (PEPROCESS)(ps->current ? ps->current : &ps->system);
}

NTKERNELAPI PEPROCESS NTAPI PsGetCurrentProcess(VOID)
{
    return current_or_system();
}

NTKERNELAPI PEPROCESS NTAPI IoGetCurrentProcess(VOID)
{
    return current_or_system();
}

NTKERNELAPI HANDLE NTAPI PsGetProcessId(PEPROCESS Process)
{
    return Process ? (HANDLE)(uintptr_t)((struct ke_process *)Process)->id : NULL;
}

NTKERNELAPI HANDLE NTAPI PsGetCurrentProcessId(VOID)
{
    return PsGetProcessId(current_or_system());
}

NTKERNELAPI VOID NTAPI KeStackAttachProcess(PRKPROCESS PROCESS, PRKAPC_STATE ApcState)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    ke_check_irql_max(ke, DISPATCH_LEVEL, 0, "KeStackAttachProcess");
    memset(ApcState, 0, sizeof(*ApcState));
    struct ke_processes *ps = state(ke);
    struct ke_process *p = (struct ke_process *)PROCESS;
    /* The previous attachment (or none) is what detaching restores. */
    ApcState->Process = (PKPROCESS)ke_process_attach(ke, p == &ps->system ? &ps->system : p);
}

NTKERNELAPI VOID NTAPI KeUnstackDetachProcess(PRKAPC_STATE ApcState)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    ke_process_detach(ke, (struct ke_process *)ApcState->Process);
}
