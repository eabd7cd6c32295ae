/*
 * src/ke/thread.c - system threads a driver creates.
 *
 * Models: PsCreateSystemThread / PsTerminateSystemThread (and
 * KeGetCurrentThread's neighbours): the start routine runs at PASSIVE_LEVEL
 * on a thread of its own (a fiber); the thread ends when the routine
 * returns or calls PsTerminateSystemThread, and its thread object is then
 * signaled, so KeWaitForSingleObject on it waits for the end.
 * The handle returned is the thread object itself (there is no handle
 * table yet); ClientId.UniqueThread is 4 * the thread id.
 * Not modelled: ObReferenceObjectByHandle / ZwClose (no object manager
 * yet: wait on the handle value directly), processes other than System,
 * thread priorities.
 */
#include <stdlib.h>

#include <wdm.h>

#include "sys.h"

struct system_start {
    PKSTART_ROUTINE routine;
    PVOID context;
};

static void system_thread_main(void *arg)
{
    struct system_start s = *(struct system_start *)arg;
    free(arg);
    s.routine(s.context);
}

NTKERNELAPI NTSTATUS NTAPI PsCreateSystemThread(PHANDLE ThreadHandle, ULONG DesiredAccess,
                                                struct _OBJECT_ATTRIBUTES *ObjectAttributes,
                                                HANDLE ProcessHandle, PCLIENT_ID ClientId,
                                                PKSTART_ROUTINE StartRoutine, PVOID StartContext)
{
    struct ke *ke = &sys_get()->ke;
    (void)DesiredAccess, (void)ObjectAttributes, (void)ProcessHandle;
    ke_sched_point(ke);
    ke_check_irql_max(ke, PASSIVE_LEVEL, 0, "PsCreateSystemThread");
    if (!ThreadHandle || !StartRoutine)
        return STATUS_INVALID_PARAMETER;
    struct system_start *s = malloc(sizeof(*s));
    if (!s)
        return STATUS_INSUFFICIENT_RESOURCES;
    s->routine = StartRoutine;
    s->context = StartContext;
    struct ke_thread *t = ke_thread_create(ke, "system", system_thread_main, s, -1);
    if (!t) {
        free(s);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    *ThreadHandle = (HANDLE)t;
    if (ClientId) {
        ClientId->UniqueProcess = (HANDLE)(uintptr_t)4;
        ClientId->UniqueThread = (HANDLE)(uintptr_t)(t->id * 4);
    }
    return STATUS_SUCCESS;
}

NTKERNELAPI NTSTATUS NTAPI PsTerminateSystemThread(NTSTATUS ExitStatus)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    ke_check_irql_max(ke, PASSIVE_LEVEL, 0, "PsTerminateSystemThread");
    if (!ke_current_thread(ke))
        return STATUS_INVALID_PARAMETER;
    ke_thread_exit(ke, ExitStatus);
}

NTKERNELAPI PETHREAD NTAPI PsGetCurrentThread(VOID)
{
    return (PETHREAD)KeGetCurrentThread();
}

NTKERNELAPI HANDLE NTAPI PsGetCurrentThreadId(VOID)
{
    struct ke *ke = &sys_get()->ke;
    struct ke_thread *t = ke_current_thread(ke);
    return (HANDLE)(uintptr_t)(t ? t->id * 4 : 0);
}
