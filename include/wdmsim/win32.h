/*
 * include/wdmsim/win32.h - the Win32 calls an app makes on its simulated
 * process: files on devices, device I/O control, events and waits, memory.
 *
 * Models: the kernel32 subset a test app for a driver needs, with Win32
 * names, types (LLP64: DWORD 32-bit), values and WINAPI (ms_abi). An app is
 * C code built as a Windows x64 build would build it (wdmsim_add_driver
 * APP), with the app CRT (<stdio.h> printf, <stdlib.h> malloc/free ...);
 * its entry point is `int main(int argc, char **argv)`. `wdmsim run --app
 * APP.so DRIVER.so [-- ARGS...]` runs it in a process of its own once the
 * drivers have started their devices (docs/apps.md).
 * The same header is read by wdmsim itself (WDMSIM_HOST), which exports
 * these functions: none of the names collides with glibc.
 * Invariants: every function declared here is implemented in
 * src/io/win32_*.c; app buffers handed to the I/O calls must be user
 * addresses (stack, malloc, VirtualAlloc): an app's globals and string
 * literals live in its host image, outside the simulated user space, and
 * are refused with ERROR_NOACCESS.
 * ReadFile / WriteFile send the OVERLAPPED's Offset/OffsetHigh as the
 * IRP's byte offset, on any handle; without an OVERLAPPED it is 0.
 * Not modelled: file systems (only \\.\Name device paths), security
 * attributes, named events, the file position of synchronous handles,
 * alertable waits, threads of an app (one thread per process).
 */
#ifndef WDMSIM_WIN32_H
#define WDMSIM_WIN32_H

#include <ntdef.h>

#define WINAPI     __attribute__((ms_abi))
#define WINBASEAPI __attribute__((visibility("default")))

typedef void *LPVOID;
typedef const void *LPCVOID;
typedef DWORD *LPDWORD;
typedef BOOL *LPBOOL;

#ifndef TRUE
#define TRUE  1
#define FALSE 0
#endif

typedef struct _SECURITY_ATTRIBUTES {
    DWORD nLength;
    LPVOID lpSecurityDescriptor;
    BOOL bInheritHandle;
} SECURITY_ATTRIBUTES, *LPSECURITY_ATTRIBUTES;

/* Internal: the NTSTATUS of the request (STATUS_PENDING while in flight);
 * InternalHigh: the bytes transferred. Written by the I/O manager at
 * completion, in the app's context. */
typedef struct _OVERLAPPED {
    ULONG_PTR Internal;
    ULONG_PTR InternalHigh;
    union {
        struct {
            DWORD Offset;
            DWORD OffsetHigh;
        };
        PVOID Pointer;
    };
    HANDLE hEvent;
} OVERLAPPED, *LPOVERLAPPED;

#define INVALID_HANDLE_VALUE ((HANDLE)(LONG_PTR)-1)

#ifndef GENERIC_READ
#define GENERIC_READ    0x80000000L
#define GENERIC_WRITE   0x40000000L
#define GENERIC_EXECUTE 0x20000000L
#define GENERIC_ALL     0x10000000L
#endif
#define FILE_SHARE_READ       0x1
#define FILE_SHARE_WRITE      0x2
#define CREATE_NEW            1
#define CREATE_ALWAYS         2
#define OPEN_EXISTING         3
#define OPEN_ALWAYS           4
#define TRUNCATE_EXISTING     5
#define FILE_ATTRIBUTE_NORMAL 0x80
#define FILE_FLAG_OVERLAPPED  0x40000000u

#define MEM_COMMIT     0x1000
#define MEM_RESERVE    0x2000
#define MEM_DECOMMIT   0x4000
#define MEM_RELEASE    0x8000
#define PAGE_NOACCESS  0x01
#define PAGE_READONLY  0x02
#define PAGE_READWRITE 0x04

#define INFINITE             0xFFFFFFFFu
#define WAIT_OBJECT_0        0x0u
#define WAIT_ABANDONED_0     0x80u
#define WAIT_TIMEOUT         0x102u
#define WAIT_FAILED          0xFFFFFFFFu
#define MAXIMUM_WAIT_OBJECTS 64

#define ERROR_SUCCESS             0
#define ERROR_INVALID_FUNCTION    1
#define ERROR_FILE_NOT_FOUND      2
#define ERROR_ACCESS_DENIED       5
#define ERROR_INVALID_HANDLE      6
#define ERROR_NOT_ENOUGH_MEMORY   8
#define ERROR_NOT_READY           21
#define ERROR_GEN_FAILURE         31
#define ERROR_NOT_SUPPORTED       50
#define ERROR_INVALID_PARAMETER   87
#define ERROR_INSUFFICIENT_BUFFER 122
#define ERROR_MORE_DATA           234
#define ERROR_OPERATION_ABORTED   995
#define ERROR_IO_INCOMPLETE       996
#define ERROR_IO_PENDING          997
#define ERROR_NOACCESS            998
#define ERROR_NO_SYSTEM_RESOURCES 1450

/* <winioctl.h>: the same CTL_CODE as the driver's <wdm.h>. */
#ifndef CTL_CODE
#define CTL_CODE(DeviceType, Function, Method, Access) \
    (((DeviceType) << 16) | ((Access) << 14) | ((Function) << 2) | (Method))
#define METHOD_BUFFERED     0
#define METHOD_IN_DIRECT    1
#define METHOD_OUT_DIRECT   2
#define METHOD_NEITHER      3
#define FILE_ANY_ACCESS     0
#define FILE_READ_ACCESS    0x1
#define FILE_WRITE_ACCESS   0x2
#define FILE_DEVICE_UNKNOWN 0x22
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Devices: lpFileName is \\.\Name, a symbolic link a driver made with
 * IoCreateSymbolicLink (\DosDevices\Name or \??\Name); the device's stack
 * gets IRP_MJ_CREATE, and CloseHandle sends IRP_MJ_CLEANUP and IRP_MJ_CLOSE.
 * FILE_FLAG_OVERLAPPED makes the handle's I/O asynchronous. */
WINBASEAPI HANDLE WINAPI CreateFileW(LPCWSTR lpFileName, DWORD dwDesiredAccess, DWORD dwShareMode,
                                     LPSECURITY_ATTRIBUTES lpSecurityAttributes,
                                     DWORD dwCreationDisposition, DWORD dwFlagsAndAttributes,
                                     HANDLE hTemplateFile);
WINBASEAPI HANDLE WINAPI CreateFileA(LPCSTR lpFileName, DWORD dwDesiredAccess, DWORD dwShareMode,
                                     LPSECURITY_ATTRIBUTES lpSecurityAttributes,
                                     DWORD dwCreationDisposition, DWORD dwFlagsAndAttributes,
                                     HANDLE hTemplateFile);
WINBASEAPI BOOL WINAPI ReadFile(HANDLE hFile, LPVOID lpBuffer, DWORD nNumberOfBytesToRead,
                                LPDWORD lpNumberOfBytesRead, LPOVERLAPPED lpOverlapped);
WINBASEAPI BOOL WINAPI WriteFile(HANDLE hFile, LPCVOID lpBuffer, DWORD nNumberOfBytesToWrite,
                                 LPDWORD lpNumberOfBytesWritten, LPOVERLAPPED lpOverlapped);
WINBASEAPI BOOL WINAPI DeviceIoControl(HANDLE hDevice, DWORD dwIoControlCode, LPVOID lpInBuffer,
                                       DWORD nInBufferSize, LPVOID lpOutBuffer,
                                       DWORD nOutBufferSize, LPDWORD lpBytesReturned,
                                       LPOVERLAPPED lpOverlapped);
WINBASEAPI BOOL WINAPI GetOverlappedResult(HANDLE hFile, LPOVERLAPPED lpOverlapped,
                                           LPDWORD lpNumberOfBytesTransferred, BOOL bWait);
WINBASEAPI BOOL WINAPI CancelIo(HANDLE hFile);
WINBASEAPI BOOL WINAPI CloseHandle(HANDLE hObject);

WINBASEAPI DWORD WINAPI GetLastError(void);
WINBASEAPI void WINAPI SetLastError(DWORD dwErrCode);

/* Events: kernel events (KEVENT) behind a handle. */
WINBASEAPI HANDLE WINAPI CreateEventW(LPSECURITY_ATTRIBUTES lpEventAttributes, BOOL bManualReset,
                                      BOOL bInitialState, LPCWSTR lpName);
WINBASEAPI HANDLE WINAPI CreateEventA(LPSECURITY_ATTRIBUTES lpEventAttributes, BOOL bManualReset,
                                      BOOL bInitialState, LPCSTR lpName);
WINBASEAPI BOOL WINAPI SetEvent(HANDLE hEvent);
WINBASEAPI BOOL WINAPI ResetEvent(HANDLE hEvent);
/* Timeouts are in milliseconds of virtual time. */
WINBASEAPI DWORD WINAPI WaitForSingleObject(HANDLE hHandle, DWORD dwMilliseconds);
WINBASEAPI DWORD WINAPI WaitForMultipleObjects(DWORD nCount, const HANDLE *lpHandles, BOOL bWaitAll,
                                               DWORD dwMilliseconds);
WINBASEAPI void WINAPI Sleep(DWORD dwMilliseconds);

/* Memory in the process's user space: committed, zeroed, read-write. */
WINBASEAPI LPVOID WINAPI VirtualAlloc(LPVOID lpAddress, SIZE_T dwSize, DWORD flAllocationType,
                                      DWORD flProtect);
WINBASEAPI BOOL WINAPI VirtualFree(LPVOID lpAddress, SIZE_T dwSize, DWORD dwFreeType);

WINBASEAPI DWORD WINAPI GetCurrentProcessId(void);

#ifndef WDMSIM_HOST
/* The app's entry point, exported so wdmsim can find it. */
__attribute__((visibility("default"))) int main(int argc, char **argv);
#endif

#ifdef __cplusplus
}
#endif
#endif
