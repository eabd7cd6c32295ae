/*
 * src/io/seh.c - structured exception handling for drivers: the frame
 * chain behind include/ddk/wdm/seh.h, ExRaiseStatus, and the fault
 * resolver that turns an access violation inside a __try into
 * STATUS_ACCESS_VIOLATION.
 *
 * Models: kernel/handling-exceptions; spec/mdl.md 6. A raise goes to the
 * innermost __try frame of the current thread (frames of all threads share
 * one chain, each tagged with its thread, because exactly one fiber runs at
 * a time); with none, bug check 0x1E KMODE_EXCEPTION_NOT_HANDLED.
 * Invariants: a linked frame lives on its thread's stack, inside the
 * function that pushed it (the cleanup attribute unlinks it on every normal
 * exit); a raise unlinks the frame before jumping.
 * Not modelled: EXCEPTION_CONTINUE_EXECUTION, exception records, nested
 * unwinding of __finally blocks between the raise and the handler (only
 * the innermost frame's block runs before the status moves outward).
 */
#include <pthread.h>
#include <signal.h>

#include "io/io_impl.h"

static int seh_resolve(struct sys *sys, void *addr, int access, void *pc);

static void *current_thread(void)
{
    return ke_current_thread(&sys_get()->ke);
}

NTKERNELAPI VOID NTAPI io_seh_push(WDMSIM_SEH_FRAME *Frame)
{
    struct io *io = &sys_get()->io;
    /* Registered on first use, after the pool and paging resolvers. */
    mm_fault_register(seh_resolve);
    Frame->Thread = current_thread();
    Frame->State = 0;
    Frame->Next = io->seh;
    Frame->Linked = 1;
    io->seh = Frame;
}

NTKERNELAPI VOID NTAPI io_seh_pop(WDMSIM_SEH_FRAME *Frame)
{
    struct io *io = &sys_get()->io;
    for (WDMSIM_SEH_FRAME **pp = &io->seh; *pp; pp = &(*pp)->Next) {
        if (*pp == Frame) {
            *pp = Frame->Next;
            break;
        }
    }
    Frame->Linked = 0;
}

NTKERNELAPI WDMSIM_SEH_FRAME *NTAPI io_seh_next(WDMSIM_SEH_FRAME *Frame)
{
    switch (Frame->State) {
    case 0: /* body done: one more pass runs a __finally block */
        if (Frame->Linked)
            io_seh_pop(Frame);
        Frame->State = 1;
        return Frame;
    case 2: /* a __finally ran because of a raise: keep unwinding */
        ExRaiseStatus(Frame->Code);
    default:
        return NULL;
    }
}

NTKERNELAPI BOOLEAN NTAPI io_seh_filter(WDMSIM_SEH_FRAME *Frame, LONG Filter)
{
    Frame->State = 3;
    if (Filter == EXCEPTION_EXECUTE_HANDLER)
        return TRUE;
    ExRaiseStatus(Frame->Code);
}

bool io_seh_active(void)
{
    void *t = current_thread();
    for (WDMSIM_SEH_FRAME *f = sys_get()->io.seh; f; f = f->Next)
        if (f->Thread == t)
            return true;
    return false;
}

_Noreturn void io_seh_raise(int32_t status, void *address)
{
    struct io *io = &sys_get()->io;
    void *t = current_thread();
    for (WDMSIM_SEH_FRAME *f = io->seh; f; f = f->Next) {
        if (f->Thread != t)
            continue;
        io_seh_pop(f);
        f->Code = status;
        f->State = 2;
        /* A raise from the fault handler leaves SIGSEGV blocked. */
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGSEGV);
        pthread_sigmask(SIG_UNBLOCK, &s, NULL);
        __builtin_longjmp(f->Jmp, 1);
    }
    ke_bugcheck(0x1E, (uint32_t)status, (uint64_t)(uintptr_t)address, 0, 0, NULL,
                "[status %#x, address %p] exception raised with no __try handler", (unsigned)status,
                address);
}

NTKERNELAPI DECLSPEC_NORETURN VOID NTAPI ExRaiseStatus(NTSTATUS Status)
{
    io_seh_raise(Status, __builtin_return_address(0));
}

/* A fault no earlier resolver took, inside a __try: the driver's access
 * raises STATUS_ACCESS_VIOLATION instead of stopping the machine. Trimmed
 * pageable pages are the paging resolver's. */
static int seh_resolve(struct sys *sys, void *addr, int access, void *pc)
{
    (void)access;
    (void)pc;
    if (!sys || !sys->io.seh || !io_seh_active())
        return mm_fault_declined;
    uint64_t *pte = mm_pte_of(&sys->mm, addr);
    if (pte && (*pte & mm_pte_trimmed))
        return mm_fault_declined;
    io_seh_raise(STATUS_ACCESS_VIOLATION, addr);
}
