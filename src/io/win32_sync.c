/*
 * src/io/win32_sync.c - the rest of the Win32 front: events and waits,
 * Sleep, VirtualAlloc/VirtualFree, GetLastError, and the app CRT's bridge
 * (standard output, the process heap, exit).
 *
 * Models: kernel32's CreateEvent / SetEvent / WaitFor*Object over kernel
 * events (a handle names a KEVENT; a file handle waits on its own event,
 * signalled by overlapped requests without hEvent), VirtualAlloc in the
 * process's user space (src/mm/user.c), and the error codes
 * RtlNtStatusToDosError gives for the statuses drivers return.
 * Every export enters the kernel through ke_gate (src/ke/process.c).
 * Not modelled: named events, mutexes and semaphores, alertable waits,
 * VirtualAlloc at a chosen address, reserve without commit, protections
 * other than read-write.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/app_bridge.h"
#include "io/io_impl.h"
#include <wdmsim/win32.h>

HANDLE io_event_handle_new(struct io_process *st, PKEVENT ev);
PKEVENT io_event_of(struct io_process *st, HANDLE h);

struct io_process *io_process_current(struct ke_process **pp)
{
    struct ke *ke = &sys_get()->ke;
    struct ke_thread *t = ke->running ? ke->processor[ke->current].thread : NULL;
    struct ke_process *p = ke_thread_process(t);
    if (pp)
        *pp = p;
    return p ? p->io : NULL;
}

uint32_t io_win32_error(NTSTATUS st)
{
    static const struct {
        NTSTATUS status;
        uint32_t error;
    } map[] = {
        {STATUS_SUCCESS, ERROR_SUCCESS},
        {STATUS_PENDING, ERROR_IO_PENDING},
        {STATUS_BUFFER_OVERFLOW, ERROR_MORE_DATA},
        {STATUS_INVALID_DEVICE_REQUEST, ERROR_INVALID_FUNCTION},
        {STATUS_NO_SUCH_DEVICE, ERROR_FILE_NOT_FOUND},
        {STATUS_OBJECT_NAME_NOT_FOUND, ERROR_FILE_NOT_FOUND},
        {STATUS_ACCESS_DENIED, ERROR_ACCESS_DENIED},
        {STATUS_INVALID_HANDLE, ERROR_INVALID_HANDLE},
        {STATUS_NO_MEMORY, ERROR_NOT_ENOUGH_MEMORY},
        {STATUS_DEVICE_NOT_READY, ERROR_NOT_READY},
        {STATUS_NOT_SUPPORTED, ERROR_NOT_SUPPORTED},
        {STATUS_INVALID_PARAMETER, ERROR_INVALID_PARAMETER},
        {STATUS_BUFFER_TOO_SMALL, ERROR_INSUFFICIENT_BUFFER},
        {STATUS_INFO_LENGTH_MISMATCH, 24 /* ERROR_BAD_LENGTH */},
        {STATUS_CANCELLED, ERROR_OPERATION_ABORTED},
        {STATUS_ACCESS_VIOLATION, ERROR_NOACCESS},
        {STATUS_INSUFFICIENT_RESOURCES, ERROR_NO_SYSTEM_RESOURCES},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (map[i].status == st)
            return map[i].error;
    return ERROR_GEN_FAILURE;
}

static void set_error(struct io_process *st, uint32_t e)
{
    if (st)
        st->last_error = e;
}

WINBASEAPI DWORD WINAPI GetLastError(void)
{
    struct io_process *st = io_process_current(NULL);
    return st ? st->last_error : 0;
}

WINBASEAPI void WINAPI SetLastError(DWORD dwErrCode)
{
    set_error(io_process_current(NULL), dwErrCode);
}

WINBASEAPI DWORD WINAPI GetCurrentProcessId(void)
{
    struct ke_process *p;
    io_process_current(&p);
    return p ? p->id : 4;
}

/* ---- events and waits -------------------------------------------------------------- */

struct event_call {
    BOOL manual, initial;
    HANDLE h;
    int op; /* 0 create, 1 set, 2 reset */
};

static uint64_t do_event(void *arg)
{
    struct event_call *c = arg;
    struct io_process *st = io_process_current(NULL);
    ke_sched_point(&sys_get()->ke);
    if (!st)
        return 0;
    if (c->op == 0) {
        PKEVENT ev = ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(KEVENT), io_tag_event);
        HANDLE h = ev ? io_event_handle_new(st, ev) : NULL;
        if (!h) {
            if (ev)
                ExFreePoolWithTag(ev, io_tag_event);
            set_error(st, ERROR_NO_SYSTEM_RESOURCES);
            return 0;
        }
        KeInitializeEvent(ev, c->manual ? NotificationEvent : SynchronizationEvent,
                          c->initial ? TRUE : FALSE);
        return (uint64_t)(uintptr_t)h;
    }
    PKEVENT ev = io_event_of(st, c->h);
    if (!ev) {
        set_error(st, ERROR_INVALID_HANDLE);
        return FALSE;
    }
    if (c->op == 1)
        KeSetEvent(ev, IO_NO_INCREMENT, FALSE);
    else
        KeClearEvent(ev);
    return TRUE;
}

WINBASEAPI HANDLE WINAPI CreateEventA(LPSECURITY_ATTRIBUTES lpEventAttributes, BOOL bManualReset,
                                      BOOL bInitialState, LPCSTR lpName)
{
    (void)lpEventAttributes, (void)lpName; /* named events: not modelled */
    struct event_call c = {.manual = bManualReset, .initial = bInitialState, .op = 0};
    return (HANDLE)(uintptr_t)ke_gate(do_event, &c);
}

WINBASEAPI HANDLE WINAPI CreateEventW(LPSECURITY_ATTRIBUTES lpEventAttributes, BOOL bManualReset,
                                      BOOL bInitialState, LPCWSTR lpName)
{
    (void)lpName;
    return CreateEventA(lpEventAttributes, bManualReset, bInitialState, NULL);
}

WINBASEAPI BOOL WINAPI SetEvent(HANDLE hEvent)
{
    struct event_call c = {.h = hEvent, .op = 1};
    return (BOOL)ke_gate(do_event, &c);
}

WINBASEAPI BOOL WINAPI ResetEvent(HANDLE hEvent)
{
    struct event_call c = {.h = hEvent, .op = 2};
    return (BOOL)ke_gate(do_event, &c);
}

struct wait_call {
    DWORD n;
    const HANDLE *h;
    BOOL all;
    DWORD ms;
};

static uint64_t do_wait(void *arg)
{
    struct wait_call *c = arg;
    struct io_process *st = io_process_current(NULL);
    ke_sched_point(&sys_get()->ke);
    PVOID objs[MAXIMUM_WAIT_OBJECTS];
    if (!st || c->n == 0 || c->n > MAXIMUM_WAIT_OBJECTS) {
        set_error(st, ERROR_INVALID_PARAMETER);
        return WAIT_FAILED;
    }
    for (DWORD i = 0; i < c->n; i++) {
        objs[i] = io_event_of(st, c->h[i]);
        if (!objs[i]) {
            set_error(st, ERROR_INVALID_HANDLE);
            return WAIT_FAILED;
        }
    }
    LARGE_INTEGER t = {.QuadPart = -(LONGLONG)c->ms * 10000};
    NTSTATUS s = c->n == 1
                     ? KeWaitForSingleObject(objs[0], UserRequest, UserMode, FALSE,
                                             c->ms == INFINITE ? NULL : &t)
                     : ke_wait(&sys_get()->ke, c->n, objs, c->all, c->ms == INFINITE ? NULL : &t);
    if (s == STATUS_TIMEOUT)
        return WAIT_TIMEOUT;
    if (s >= 0 && (DWORD)s < c->n)
        return (DWORD)s; /* WAIT_OBJECT_0 + index */
    set_error(st, io_win32_error(s));
    return WAIT_FAILED;
}

WINBASEAPI DWORD WINAPI WaitForSingleObject(HANDLE hHandle, DWORD dwMilliseconds)
{
    struct wait_call c = {.n = 1, .h = &hHandle, .ms = dwMilliseconds};
    return (DWORD)ke_gate(do_wait, &c);
}

WINBASEAPI DWORD WINAPI WaitForMultipleObjects(DWORD nCount, const HANDLE *lpHandles, BOOL bWaitAll,
                                               DWORD dwMilliseconds)
{
    struct wait_call c = {.n = nCount, .h = lpHandles, .all = bWaitAll, .ms = dwMilliseconds};
    return (DWORD)ke_gate(do_wait, &c);
}

static uint64_t do_sleep(void *arg)
{
    LARGE_INTEGER t = {.QuadPart = -(LONGLONG) * (DWORD *)arg * 10000};
    ke_sched_point(&sys_get()->ke);
    KeDelayExecutionThread(UserMode, FALSE, &t);
    return 0;
}

WINBASEAPI void WINAPI Sleep(DWORD dwMilliseconds)
{
    ke_gate(do_sleep, &dwMilliseconds);
}

/* ---- memory ------------------------------------------------------------------------ */

struct vm_call {
    void *va;
    uint64_t bytes;
    DWORD type;
};

static uint64_t do_valloc(void *arg)
{
    struct vm_call *c = arg;
    struct ke_process *p;
    struct io_process *st = io_process_current(&p);
    ke_sched_point(&sys_get()->ke);
    if (!st || c->va || !c->bytes || !(c->type & (MEM_COMMIT | MEM_RESERVE))) {
        set_error(st, ERROR_INVALID_PARAMETER);
        return 0;
    }
    void *va = mm_user_alloc(&sys_get()->mm, p->space, c->bytes);
    if (!va)
        set_error(st, ERROR_NOT_ENOUGH_MEMORY);
    return (uint64_t)(uintptr_t)va;
}

WINBASEAPI LPVOID WINAPI VirtualAlloc(LPVOID lpAddress, SIZE_T dwSize, DWORD flAllocationType,
                                      DWORD flProtect)
{
    (void)flProtect; /* every committed user page is read-write */
    struct vm_call c = {.va = lpAddress, .bytes = dwSize, .type = flAllocationType};
    return (LPVOID)(uintptr_t)ke_gate(do_valloc, &c);
}

static uint64_t do_vfree(void *arg)
{
    struct vm_call *c = arg;
    struct ke_process *p;
    struct io_process *st = io_process_current(&p);
    ke_sched_point(&sys_get()->ke);
    if (!st)
        return FALSE;
    if (c->type == MEM_DECOMMIT)
        return TRUE; /* pages stay committed until released */
    if (c->type != MEM_RELEASE || c->bytes || mm_user_free(&sys_get()->mm, p->space, c->va)) {
        set_error(st, ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    return TRUE;
}

WINBASEAPI BOOL WINAPI VirtualFree(LPVOID lpAddress, SIZE_T dwSize, DWORD dwFreeType)
{
    struct vm_call c = {.va = lpAddress, .bytes = dwSize, .type = dwFreeType};
    return (BOOL)ke_gate(do_vfree, &c);
}

/* ---- the app CRT's bridge ------------------------------------------------------------ */

struct crt_call {
    const char *buf;
    size_t n;
    void *p;
};

static uint64_t do_write(void *arg)
{
    struct crt_call *c = arg;
    struct sys *sys = sys_get();
    if (!io_process_current(NULL))
        return (uint64_t)-1;
    fwrite(c->buf, 1, c->n, sys->out);
    return c->n;
}

IO_APP_BRIDGE_API int io_app_write(const char *buf, size_t n)
{
    struct crt_call c = {.buf = buf, .n = n};
    return (int)ke_gate(do_write, &c);
}

static uint64_t do_malloc(void *arg)
{
    struct crt_call *c = arg;
    struct ke_process *p;
    if (!io_process_current(&p))
        return 0;
    return (uint64_t)(uintptr_t)mm_user_heap_alloc(&sys_get()->mm, p->space, c->n);
}

IO_APP_BRIDGE_API void *io_app_malloc(size_t n)
{
    struct crt_call c = {.n = n};
    return (void *)(uintptr_t)ke_gate(do_malloc, &c);
}

static uint64_t do_free(void *arg)
{
    struct crt_call *c = arg;
    struct ke_process *p;
    if (!c->p || !io_process_current(&p))
        return 0;
    if (!mm_user_heap_free(&sys_get()->mm, p->space, c->p))
        fprintf(stderr, "wdmsim: app: free(%p) of a pointer malloc did not return (ignored)\n",
                c->p);
    return 0;
}

IO_APP_BRIDGE_API void io_app_free(void *p)
{
    struct crt_call c = {.p = p};
    ke_gate(do_free, &c);
}

static uint64_t do_realloc(void *arg)
{
    struct crt_call *c = arg;
    struct ke_process *p;
    struct mm *mm = &sys_get()->mm;
    if (!io_process_current(&p))
        return 0;
    if (!c->p)
        return (uint64_t)(uintptr_t)mm_user_heap_alloc(mm, p->space, c->n);
    uint64_t old = mm_user_heap_size(p->space, c->p);
    if (!old)
        return 0;
    void *q = mm_user_heap_alloc(mm, p->space, c->n);
    if (!q)
        return 0;
    /* Both blocks are in the current process: plain host copies work. */
    memcpy(q, c->p, old < c->n ? old : c->n);
    mm_user_heap_free(mm, p->space, c->p);
    return (uint64_t)(uintptr_t)q;
}

IO_APP_BRIDGE_API void *io_app_realloc(void *p, size_t n)
{
    struct crt_call c = {.p = p, .n = n};
    return (void *)(uintptr_t)ke_gate(do_realloc, &c);
}

static uint64_t do_exit(void *arg)
{
    struct io_process *st = io_process_current(NULL);
    if (!st) {
        fprintf(stderr, "wdmsim: exit() called outside an app\n");
        abort();
    }
    st->exit_code = *(int *)arg;
    __builtin_longjmp(st->exit_jmp, 1);
}

IO_APP_BRIDGE_API void io_app_exit(int code)
{
    ke_gate(do_exit, &code);
    __builtin_unreachable();
}
