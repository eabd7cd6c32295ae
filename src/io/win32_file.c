/*
 * src/io/win32_file.c - the file half of the Win32 front: CreateFile on a
 * device, ReadFile, WriteFile, DeviceIoControl (synchronous and
 * overlapped), GetOverlappedResult, CancelIo, CloseHandle.
 *
 * Models: kernel32 over NtCreateFile / NtReadFile / NtDeviceIoControlFile:
 * each call is a user-mode request (RequestorMode UserMode) that the I/O
 * manager builds from the app's user buffers (request.c, spec/io.md 3-4).
 * A synchronous handle waits for the IRP; an overlapped handle returns
 * ERROR_IO_PENDING while it pends, and the last stage of completion writes
 * the OVERLAPPED's Internal (status) / InternalHigh (bytes) in the app's
 * context and signals hEvent (or the handle's own event).
 * Every export enters the kernel through ke_gate (src/ke/process.c).
 * Spec: spec/io.md 3, 4; docs/apps.md.
 * ReadFile / WriteFile pass the OVERLAPPED's Offset/OffsetHigh as the IRP's
 * ByteOffset (0 without an OVERLAPPED), overlapped handle or not.
 * Not modelled: access checks of the handle against FILE_*_ACCESS, the
 * current file position of synchronous handles, file systems (names other
 * than \\.\X), I/O completion ports.
 */
#include <string.h>

#include "io/io_impl.h"
#include <wdmsim/win32.h>

_Static_assert(sizeof(OVERLAPPED) == sizeof(OVERLAPPED_WDMSIM), "OVERLAPPED layout");

static void set_error(struct io_process *st, uint32_t e)
{
    if (st)
        st->last_error = e;
}

static struct io_file *file_of(struct io_process *st, HANDLE h)
{
    uintptr_t i = (uintptr_t)h / 4 - 1;
    if (!st || (uintptr_t)h % 4 || i >= io_max_handles || st->handle[i].kind != io_handle_file)
        return NULL;
    return st->handle[i].object;
}

static HANDLE handle_new(struct io_process *st, enum io_handle_kind kind, void *object)
{
    for (unsigned i = 0; i < io_max_handles; i++) {
        if (st->handle[i].kind == io_handle_free) {
            st->handle[i].kind = kind;
            st->handle[i].object = object;
            return (HANDLE)(uintptr_t)((i + 1) * 4);
        }
    }
    return NULL;
}

/* One synchronous request on the app's thread: waits for the IRP. */
static NTSTATUS sync_request(struct io_file *f, uint8_t major, uint32_t code, void *in,
                             uint32_t in_len, void *out, uint32_t out_len, int64_t offset,
                             uint64_t *info)
{
    KEVENT ev;
    IO_STATUS_BLOCK iosb = {.Status = STATUS_PENDING};
    KeInitializeEvent(&ev, NotificationEvent, FALSE);
    NTSTATUS st = io_request_submit_at(f->dev, f->file_object, major, code, in, in_len, out,
                                       out_len, offset, UserMode, &ev, &iosb, NULL);
    if (st == STATUS_PENDING) {
        KeWaitForSingleObject(&ev, UserRequest, UserMode, FALSE, NULL);
        st = iosb.Status;
    }
    *info = st == iosb.Status ? iosb.Information : 0;
    return st;
}

/* Forget the overlapped requests that have completed. */
static void prune(struct io_file *f)
{
    for (struct io_pending **pp = &f->pending; *pp;) {
        struct io_pending *q = *pp;
        if ((NTSTATUS)q->ov->Internal != STATUS_PENDING) {
            *pp = q->next;
            ExFreePoolWithTag(q, io_tag_file);
        } else {
            pp = &q->next;
        }
    }
}

static PKEVENT event_of(struct io_process *st, HANDLE h)
{
    uintptr_t i = (uintptr_t)h / 4 - 1;
    if (!h || (uintptr_t)h % 4 || i >= io_max_handles)
        return NULL;
    if (st->handle[i].kind == io_handle_event)
        return st->handle[i].object;
    if (st->handle[i].kind == io_handle_file)
        return ((struct io_file *)st->handle[i].object)->done;
    return NULL;
}

struct io_call {
    HANDLE h;
    uint8_t major;
    uint32_t code;
    void *in, *out;
    uint32_t in_len, out_len;
    LPDWORD done;
    LPOVERLAPPED ov;
    BOOL wait;
};

static uint64_t do_io(void *arg)
{
    struct io_call *c = arg;
    struct io_process *st = io_process_current(NULL);
    ke_sched_point(&sys_get()->ke);
    struct io_file *f = file_of(st, c->h);
    if (!f) {
        set_error(st, ERROR_INVALID_HANDLE);
        return FALSE;
    }
    if (c->done && !c->ov)
        *c->done = 0;
    int64_t offset = c->ov ? (int64_t)(c->ov->Offset | (uint64_t)c->ov->OffsetHigh << 32) : 0;
    if (!f->overlapped || !c->ov) {
        uint64_t info = 0;
        NTSTATUS s =
            sync_request(f, c->major, c->code, c->in, c->in_len, c->out, c->out_len, offset, &info);
        if (c->done)
            *c->done = (DWORD)info;
        if (!NT_SUCCESS(s)) {
            set_error(st, io_win32_error(s));
            return FALSE;
        }
        return TRUE;
    }
    prune(f);
    PKEVENT ev = c->ov->hEvent ? event_of(st, c->ov->hEvent) : f->done;
    if (!ev) {
        set_error(st, ERROR_INVALID_HANDLE);
        return FALSE;
    }
    struct io_pending *q = ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(*q), io_tag_file);
    if (!q) {
        set_error(st, ERROR_NO_SYSTEM_RESOURCES);
        return FALSE;
    }
    c->ov->Internal = (ULONG_PTR)(LONG_PTR)STATUS_PENDING;
    c->ov->InternalHigh = 0;
    KeClearEvent(ev);
    void *irp = NULL;
    NTSTATUS s =
        io_request_submit_at(f->dev, f->file_object, c->major, c->code, c->in, c->in_len, c->out,
                             c->out_len, offset, UserMode, ev, &c->ov->Internal, &irp);
    if (s == STATUS_PENDING) {
        q->irp = irp;
        q->ov = (OVERLAPPED_WDMSIM *)c->ov;
        q->next = f->pending;
        f->pending = q;
        set_error(st, ERROR_IO_PENDING);
        return FALSE;
    }
    ExFreePoolWithTag(q, io_tag_file);
    if (!irp) /* refused before any driver saw it: nothing wrote the OVERLAPPED */
        c->ov->Internal = (ULONG_PTR)(LONG_PTR)s;
    if (c->done)
        *c->done = NT_SUCCESS(s) ? (DWORD)c->ov->InternalHigh : 0;
    if (!NT_SUCCESS(s)) {
        set_error(st, io_win32_error(s));
        return FALSE;
    }
    return TRUE;
}

WINBASEAPI BOOL WINAPI ReadFile(HANDLE hFile, LPVOID lpBuffer, DWORD nNumberOfBytesToRead,
                                LPDWORD lpNumberOfBytesRead, LPOVERLAPPED lpOverlapped)
{
    struct io_call c = {.h = hFile,
                        .major = IRP_MJ_READ,
                        .out = lpBuffer,
                        .out_len = nNumberOfBytesToRead,
                        .done = lpNumberOfBytesRead,
                        .ov = lpOverlapped};
    return (BOOL)ke_gate(do_io, &c);
}

WINBASEAPI BOOL WINAPI WriteFile(HANDLE hFile, LPCVOID lpBuffer, DWORD nNumberOfBytesToWrite,
                                 LPDWORD lpNumberOfBytesWritten, LPOVERLAPPED lpOverlapped)
{
    struct io_call c = {.h = hFile,
                        .major = IRP_MJ_WRITE,
                        .in = (void *)lpBuffer,
                        .in_len = nNumberOfBytesToWrite,
                        .done = lpNumberOfBytesWritten,
                        .ov = lpOverlapped};
    return (BOOL)ke_gate(do_io, &c);
}

WINBASEAPI BOOL WINAPI DeviceIoControl(HANDLE hDevice, DWORD dwIoControlCode, LPVOID lpInBuffer,
                                       DWORD nInBufferSize, LPVOID lpOutBuffer,
                                       DWORD nOutBufferSize, LPDWORD lpBytesReturned,
                                       LPOVERLAPPED lpOverlapped)
{
    struct io_call c = {.h = hDevice,
                        .major = IRP_MJ_DEVICE_CONTROL,
                        .code = dwIoControlCode,
                        .in = lpInBuffer,
                        .in_len = nInBufferSize,
                        .out = lpOutBuffer,
                        .out_len = nOutBufferSize,
                        .done = lpBytesReturned,
                        .ov = lpOverlapped};
    return (BOOL)ke_gate(do_io, &c);
}

static uint64_t do_result(void *arg)
{
    struct io_call *c = arg;
    struct io_process *st = io_process_current(NULL);
    ke_sched_point(&sys_get()->ke);
    struct io_file *f = file_of(st, c->h);
    if (!f || !c->ov) {
        set_error(st, f ? ERROR_INVALID_PARAMETER : ERROR_INVALID_HANDLE);
        return FALSE;
    }
    PKEVENT ev = c->ov->hEvent ? event_of(st, c->ov->hEvent) : f->done;
    while ((NTSTATUS)c->ov->Internal == STATUS_PENDING) {
        if (!c->wait || !ev) {
            set_error(st, ERROR_IO_INCOMPLETE);
            return FALSE;
        }
        KeWaitForSingleObject(ev, UserRequest, UserMode, FALSE, NULL);
    }
    prune(f);
    NTSTATUS s = (NTSTATUS)c->ov->Internal;
    if (c->done)
        *c->done = (DWORD)c->ov->InternalHigh;
    if (!NT_SUCCESS(s)) {
        set_error(st, io_win32_error(s));
        return FALSE;
    }
    return TRUE;
}

WINBASEAPI BOOL WINAPI GetOverlappedResult(HANDLE hFile, LPOVERLAPPED lpOverlapped,
                                           LPDWORD lpNumberOfBytesTransferred, BOOL bWait)
{
    struct io_call c = {
        .h = hFile, .ov = lpOverlapped, .done = lpNumberOfBytesTransferred, .wait = bWait};
    return (BOOL)ke_gate(do_result, &c);
}

/* Cancels what is still in flight on f; with wait, until all completed. */
static void cancel_all(struct io_file *f, bool wait)
{
    prune(f);
    for (struct io_pending *q = f->pending; q; q = q->next)
        if ((NTSTATUS)q->ov->Internal == STATUS_PENDING)
            IoCancelIrp(q->irp);
    while (wait && (prune(f), f->pending)) {
        LARGE_INTEGER ms = {.QuadPart = -10000};
        KeDelayExecutionThread(KernelMode, FALSE, &ms);
    }
}

static uint64_t do_cancel(void *arg)
{
    struct io_call *c = arg;
    struct io_process *st = io_process_current(NULL);
    ke_sched_point(&sys_get()->ke);
    struct io_file *f = file_of(st, c->h);
    if (!f) {
        set_error(st, ERROR_INVALID_HANDLE);
        return FALSE;
    }
    cancel_all(f, false);
    return TRUE;
}

WINBASEAPI BOOL WINAPI CancelIo(HANDLE hFile)
{
    struct io_call c = {.h = hFile};
    return (BOOL)ke_gate(do_cancel, &c);
}

/* ---- open and close ---------------------------------------------------------------- */

struct open_call {
    char name[128];
    DWORD flags;
};

static uint64_t do_open(void *arg)
{
    struct open_call *c = arg;
    struct io_process *st = io_process_current(NULL);
    ke_sched_point(&sys_get()->ke);
    if (!st)
        return (uint64_t)(uintptr_t)INVALID_HANDLE_VALUE;
    PDEVICE_OBJECT dev = io_device_by_name(&sys_get()->io, c->name);
    if (!dev) {
        set_error(st, ERROR_FILE_NOT_FOUND);
        return (uint64_t)(uintptr_t)INVALID_HANDLE_VALUE;
    }
    struct io_file *f = ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(*f), io_tag_file);
    void *fo = ExAllocatePoolWithTag(NonPagedPoolNx, 0xD8, io_tag_file);
    PKEVENT done = ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(KEVENT), io_tag_event);
    HANDLE h = f && fo && done ? handle_new(st, io_handle_file, f) : NULL;
    if (!h) {
        if (f)
            ExFreePoolWithTag(f, io_tag_file);
        if (fo)
            ExFreePoolWithTag(fo, io_tag_file);
        if (done)
            ExFreePoolWithTag(done, io_tag_event);
        set_error(st, ERROR_NO_SYSTEM_RESOURCES);
        return (uint64_t)(uintptr_t)INVALID_HANDLE_VALUE;
    }
    memset(f, 0, sizeof(*f));
    memset(fo, 0, 0xD8);
    KeInitializeEvent(done, NotificationEvent, FALSE);
    f->dev = io_device_top(dev);
    f->file_object = fo;
    f->done = done;
    f->overlapped = (c->flags & FILE_FLAG_OVERLAPPED) != 0;
    uint64_t info;
    NTSTATUS s = sync_request(f, IRP_MJ_CREATE, 0, NULL, 0, NULL, 0, 0, &info);
    if (!NT_SUCCESS(s)) {
        st->handle[(uintptr_t)h / 4 - 1].kind = io_handle_free;
        ExFreePoolWithTag(done, io_tag_event);
        ExFreePoolWithTag(fo, io_tag_file);
        ExFreePoolWithTag(f, io_tag_file);
        set_error(st, io_win32_error(s));
        return (uint64_t)(uintptr_t)INVALID_HANDLE_VALUE;
    }
    set_error(st, ERROR_SUCCESS);
    return (uint64_t)(uintptr_t)h;
}

WINBASEAPI HANDLE WINAPI CreateFileA(LPCSTR lpFileName, DWORD dwDesiredAccess, DWORD dwShareMode,
                                     LPSECURITY_ATTRIBUTES lpSecurityAttributes,
                                     DWORD dwCreationDisposition, DWORD dwFlagsAndAttributes,
                                     HANDLE hTemplateFile)
{
    (void)dwDesiredAccess, (void)dwShareMode, (void)lpSecurityAttributes;
    (void)dwCreationDisposition, (void)hTemplateFile;
    struct open_call c = {.flags = dwFlagsAndAttributes};
    snprintf(c.name, sizeof(c.name), "%s", lpFileName ? lpFileName : "");
    return (HANDLE)(uintptr_t)ke_gate(do_open, &c);
}

WINBASEAPI HANDLE WINAPI CreateFileW(LPCWSTR lpFileName, DWORD dwDesiredAccess, DWORD dwShareMode,
                                     LPSECURITY_ATTRIBUTES lpSecurityAttributes,
                                     DWORD dwCreationDisposition, DWORD dwFlagsAndAttributes,
                                     HANDLE hTemplateFile)
{
    char name[128];
    size_t i = 0;
    for (; lpFileName && lpFileName[i] && i + 1 < sizeof(name); i++)
        name[i] = lpFileName[i] < 0x80 ? (char)lpFileName[i] : '?';
    name[i] = 0;
    return CreateFileA(name, dwDesiredAccess, dwShareMode, lpSecurityAttributes,
                       dwCreationDisposition, dwFlagsAndAttributes, hTemplateFile);
}

/* Closing a file: Windows cancels the handle's I/O at CLEANUP; wdmsim
 * cancels it first and waits, so no IRP outlives its file object. */
static void close_file(struct io_file *f)
{
    uint64_t info;
    cancel_all(f, true);
    sync_request(f, IRP_MJ_CLEANUP, 0, NULL, 0, NULL, 0, 0, &info);
    sync_request(f, IRP_MJ_CLOSE, 0, NULL, 0, NULL, 0, 0, &info);
    ExFreePoolWithTag(f->done, io_tag_event);
    ExFreePoolWithTag(f->file_object, io_tag_file);
    ExFreePoolWithTag(f, io_tag_file);
}

static bool close_handle(struct io_process *st, HANDLE h)
{
    uintptr_t i = (uintptr_t)h / 4 - 1;
    if (!h || (uintptr_t)h % 4 || i >= io_max_handles || st->handle[i].kind == io_handle_free)
        return false;
    void *obj = st->handle[i].object;
    enum io_handle_kind kind = st->handle[i].kind;
    st->handle[i].kind = io_handle_free;
    st->handle[i].object = NULL;
    if (kind == io_handle_file)
        close_file(obj);
    else
        ExFreePoolWithTag(obj, io_tag_event);
    return true;
}

static uint64_t do_close(void *arg)
{
    struct io_process *st = io_process_current(NULL);
    ke_sched_point(&sys_get()->ke);
    if (!st || !close_handle(st, *(HANDLE *)arg)) {
        set_error(st, ERROR_INVALID_HANDLE);
        return FALSE;
    }
    return TRUE;
}

WINBASEAPI BOOL WINAPI CloseHandle(HANDLE hObject)
{
    return (BOOL)ke_gate(do_close, &hObject);
}

void io_process_rundown(struct io_process *st)
{
    for (unsigned i = 0; i < io_max_handles; i++)
        if (st->handle[i].kind != io_handle_free)
            close_handle(st, (HANDLE)(uintptr_t)((i + 1) * 4));
}

HANDLE io_event_handle_new(struct io_process *st, PKEVENT ev)
{
    return handle_new(st, io_handle_event, ev);
}

PKEVENT io_event_of(struct io_process *st, HANDLE h)
{
    return event_of(st, h);
}
