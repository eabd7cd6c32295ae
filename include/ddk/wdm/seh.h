/*
 * include/ddk/wdm/seh.h - part of wdm.h: structured exception handling for
 * drivers built by gcc/clang (__try / __except / __finally).
 *
 * Models: kernel/handling-exceptions: a status raised by ExRaiseStatus,
 * MmProbeAndLockPages, ProbeForRead/Write, or a fault the memory manager
 * turns into STATUS_ACCESS_VIOLATION, unwinds to the innermost __try of the
 * raising thread. Spec: spec/mdl.md 6.
 * How: each __try pushes a frame on its thread's chain (io_seh_push) and
 * records a __builtin_setjmp point; a raise pops the innermost frame and
 * jumps there; a cleanup attribute pops the frame on any normal way out
 * (including return and goto).
 * Differences from MSVC (docs/io.md): `break` or `continue` directly inside
 * a __try body leaves the __try (its loop), not the enclosing loop; locals
 * changed inside the body and read in the handler should be volatile;
 * EXCEPTION_CONTINUE_EXECUTION is treated as EXCEPTION_CONTINUE_SEARCH.
 */
#pragma once

#define EXCEPTION_EXECUTE_HANDLER    1
#define EXCEPTION_CONTINUE_SEARCH    0
#define EXCEPTION_CONTINUE_EXECUTION (-1)

typedef struct _WDMSIM_SEH_FRAME {
    PVOID Jmp[5];                   /* __builtin_setjmp buffer */
    struct _WDMSIM_SEH_FRAME *Next; /* outer frame of the chain */
    PVOID Thread;                   /* the thread that pushed it */
    NTSTATUS Code;                  /* the raised status */
    LONG State;                     /* 0 body, 1 after body, 2 raised, 3 handled */
    LONG Linked;                    /* on the chain */
} WDMSIM_SEH_FRAME;

NTKERNELAPI VOID NTAPI io_seh_push(WDMSIM_SEH_FRAME *Frame);
NTKERNELAPI VOID NTAPI io_seh_pop(WDMSIM_SEH_FRAME *Frame);
/* After a pass of the __try statement: returns Frame to run the __finally
 * pass, NULL when done; re-raises after a __finally run by an exception. */
NTKERNELAPI WDMSIM_SEH_FRAME *NTAPI io_seh_next(WDMSIM_SEH_FRAME *Frame);
/* Evaluated filter value: TRUE runs the handler, otherwise re-raises. */
NTKERNELAPI BOOLEAN NTAPI io_seh_filter(WDMSIM_SEH_FRAME *Frame, LONG Filter);

NTKERNELAPI DECLSPEC_NORETURN VOID NTAPI ExRaiseStatus(NTSTATUS Status);

#ifndef WDMSIM_HOST
FORCEINLINE VOID _WdmsimSehCleanup(WDMSIM_SEH_FRAME *Frame)
{
    if (Frame->Linked)
        io_seh_pop(Frame);
}

/* Not for clang-format: it reads __except as a keyword and would put a
 * space before "(Filter)", turning the macro into an object-like one. */
/* clang-format off */
#define __try                                                                                      \
    for (WDMSIM_SEH_FRAME _wdmsim_seh __attribute__((cleanup(_WdmsimSehCleanup))) = {.State = 0},       \
                          *_wdmsim_seh_pass = (io_seh_push(&_wdmsim_seh), &_wdmsim_seh);           \
         _wdmsim_seh_pass; _wdmsim_seh_pass = io_seh_next(&_wdmsim_seh))                           \
        if (_wdmsim_seh.State == 0 && __builtin_setjmp(_wdmsim_seh.Jmp) == 0)
#define __except(Filter)                                                                           \
    else if (_wdmsim_seh.State == 2 && io_seh_filter(&_wdmsim_seh, (LONG)(Filter)))
#define __finally else
#define __leave   continue
#define GetExceptionCode() (_wdmsim_seh.Code)
/* clang-format on */
#endif
