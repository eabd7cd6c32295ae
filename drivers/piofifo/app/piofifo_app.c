/*
 * drivers/piofifo/app/piofifo_app.c - an app that drives every path of the
 * PIO-1 sample driver from a user process and checks every byte.
 *
 * Shows: CreateFileW on the driver's symbolic link; one IOCTL per transfer
 * method (piofifo_ioctl.h) with buffers on the stack, from malloc and from
 * VirtualAlloc (spanning a page boundary); WriteFile / ReadFile (direct
 * I/O); an overlapped handle with events, GetOverlappedResult and
 * WaitForMultipleObjects; CancelIo; the error paths (unknown IOCTL, a
 * buffer too small, a bad METHOD_NEITHER pointer, a device that does not
 * exist). Prints one line per check; returns 0 only if all passed.
 *
 *   wdmsim run --machine machines/default.ini --app piofifo_app.so piofifo.so [-- ROUNDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wdmsim/win32.h>

#include "../piofifo_ioctl.h"

static int failures;

static void check(int ok, const char *what)
{
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok)
        failures++;
}

static void fill(unsigned char *b, unsigned n, unsigned seed)
{
    for (unsigned i = 0; i < n; i++)
        b[i] = (unsigned char)(seed + i * 7 + (i >> 8));
}

static int ioctl(HANDLE h, DWORD code, void *in, DWORD in_len, void *out, DWORD out_len, DWORD *got)
{
    *got = 0xFFFFFFFF;
    return DeviceIoControl(h, code, in, in_len, out, out_len, got, NULL);
}

static void status(HANDLE h, unsigned want_level)
{
    PIOFIFO_STATUS s;
    DWORD got;
    memset(&s, 0xEE, sizeof(s));
    check(ioctl(h, IOCTL_PIOFIFO_GET_STATUS, NULL, 0, &s, sizeof(s), &got) && got == sizeof(s) &&
              s.Id == 0x00045744 && s.Depth == 4096 && s.Level == want_level,
          "GET_STATUS (METHOD_BUFFERED out): id, depth, level");
}

static void buffered(HANDLE h)
{
    unsigned char in[300];
    unsigned char *out = malloc(400);
    DWORD got;
    fill(in, sizeof(in), 1);
    check(ioctl(h, IOCTL_PIOFIFO_PUSH_BUFFERED, in, 300, NULL, 0, &got) && got == 300,
          "PUSH_BUFFERED 300 bytes from the stack");
    memset(out, 0xEE, 400);
    check(ioctl(h, IOCTL_PIOFIFO_POP_BUFFERED, NULL, 0, out, 400, &got) && got == 300 &&
              !memcmp(out, in, 300) && out[300] == 0xEE,
          "POP_BUFFERED into malloc: 300 bytes back, copy-back stops at Information");
    free(out);
}

static void direct(HANDLE h)
{
    /* 2503 bytes starting 3000 bytes into a page: the MDL spans two pages. */
    unsigned char *region = VirtualAlloc(NULL, 3 * 4096, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    unsigned char *out = malloc(3000);
    DWORD got;
    check(region != NULL, "VirtualAlloc 3 pages");
    if (!region || !out)
        return;
    unsigned char *in = region + 3000;
    fill(in, 2503, 9);
    check(ioctl(h, IOCTL_PIOFIFO_PUSH_IN_DIRECT, NULL, 0, in, 2503, &got) && got == 2503,
          "PUSH_IN_DIRECT 2503 bytes across a page boundary (MDL probed for read)");
    memset(out, 0, 3000);
    check(ioctl(h, IOCTL_PIOFIFO_POP_OUT_DIRECT, NULL, 0, out, 3000, &got) && got == 2503 &&
              !memcmp(out, in, 2503),
          "POP_OUT_DIRECT into malloc: 2503 bytes (MDL probed for write)");
    check(VirtualFree(region, 0, MEM_RELEASE), "VirtualFree");
    free(out);
}

static void neither(HANDLE h)
{
    unsigned char in[64], out[64];
    DWORD got;
    fill(in, 64, 33);
    memset(out, 0, 64);
    check(ioctl(h, IOCTL_PIOFIFO_LOOP_NEITHER, in, 64, out, 64, &got) && got == 64 &&
              !memcmp(out, in, 64),
          "LOOP_NEITHER: raw user addresses, probed and touched by the driver");
    /* A pointer the driver's probe refuses: its __try turns it into an error. */
    check(!ioctl(h, IOCTL_PIOFIFO_LOOP_NEITHER, (void *)(ULONG_PTR)0x10, 64, out, 64, &got) &&
              GetLastError() == ERROR_NOACCESS,
          "LOOP_NEITHER with a bad input pointer fails with ERROR_NOACCESS");
}

static void read_write(HANDLE h)
{
    unsigned char *in = malloc(1111), *out = malloc(2000);
    DWORD got;
    fill(in, 1111, 77);
    check(WriteFile(h, in, 1111, &got, NULL) && got == 1111, "WriteFile 1111 bytes (direct I/O)");
    memset(out, 0, 2000);
    check(ReadFile(h, out, 2000, &got, NULL) && got == 1111 && !memcmp(out, in, 1111),
          "ReadFile: the same 1111 bytes back");
    free(in);
    free(out);
}

static void errors(HANDLE h)
{
    DWORD got;
    PIOFIFO_STATUS s;
    check(!ioctl(h, 0x80002FFF, NULL, 0, NULL, 0, &got) && GetLastError() == ERROR_INVALID_FUNCTION,
          "unknown IOCTL: ERROR_INVALID_FUNCTION");
    check(!ioctl(h, IOCTL_PIOFIFO_GET_STATUS, NULL, 0, &s, 4, &got) &&
              GetLastError() == ERROR_INSUFFICIENT_BUFFER,
          "GET_STATUS into 4 bytes: ERROR_INSUFFICIENT_BUFFER");
    HANDLE none =
        CreateFileW(L"\\\\.\\NoSuchDevice", GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL);
    check(none == INVALID_HANDLE_VALUE && GetLastError() == ERROR_FILE_NOT_FOUND,
          "CreateFileW of a missing device: ERROR_FILE_NOT_FOUND");
    check(!CloseHandle((HANDLE)(ULONG_PTR)0x7F0) && GetLastError() == ERROR_INVALID_HANDLE,
          "CloseHandle of a bad handle: ERROR_INVALID_HANDLE");
}

static void overlapped(void)
{
    HANDLE h = CreateFileA("\\\\.\\PioFifo0", GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                           FILE_FLAG_OVERLAPPED, NULL);
    check(h != INVALID_HANDLE_VALUE, "CreateFileA with FILE_FLAG_OVERLAPPED");
    if (h == INVALID_HANDLE_VALUE)
        return;
    HANDLE ev[2];
    ev[0] = CreateEventW(NULL, TRUE, FALSE, NULL);
    ev[1] = CreateEventW(NULL, TRUE, FALSE, NULL);
    check(ev[0] && ev[1], "CreateEventW twice");
    check(WaitForSingleObject(ev[0], 0) == WAIT_TIMEOUT, "a new event is not signalled");
    unsigned char in[100], *out = malloc(100);
    OVERLAPPED o1, o2;
    DWORD got = 0;
    fill(in, 100, 5);
    memset(&o1, 0, sizeof(o1));
    memset(&o2, 0, sizeof(o2));
    o1.hEvent = ev[0];
    o2.hEvent = ev[1];
    BOOL r = DeviceIoControl(h, IOCTL_PIOFIFO_PUSH_BUFFERED, in, 100, NULL, 0, NULL, &o1);
    check(r || GetLastError() == ERROR_IO_PENDING, "overlapped PUSH_BUFFERED started");
    check(GetOverlappedResult(h, &o1, &got, TRUE) && got == 100,
          "GetOverlappedResult: 100 bytes pushed");
    r = DeviceIoControl(h, IOCTL_PIOFIFO_POP_BUFFERED, NULL, 0, out, 100, NULL, &o2);
    check(r || GetLastError() == ERROR_IO_PENDING, "overlapped POP_BUFFERED started");
    check(WaitForMultipleObjects(2, ev, TRUE, INFINITE) == WAIT_OBJECT_0,
          "WaitForMultipleObjects(all) on both events");
    check(GetOverlappedResult(h, &o2, &got, FALSE) && got == 100 && !memcmp(out, in, 100),
          "GetOverlappedResult: 100 bytes back, copied in the app's context");
    check(ResetEvent(ev[0]) && WaitForSingleObject(ev[0], 0) == WAIT_TIMEOUT,
          "ResetEvent / WaitForSingleObject(0)");
    check(SetEvent(ev[0]) && WaitForSingleObject(ev[0], INFINITE) == WAIT_OBJECT_0,
          "SetEvent / WaitForSingleObject(INFINITE)");
    check(CancelIo(h), "CancelIo with nothing in flight");
    check(CloseHandle(ev[0]) && CloseHandle(ev[1]) && CloseHandle(h), "CloseHandle x3");
    free(out);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 1;
    printf("piofifo_app: pid %u, %d round(s)\n", GetCurrentProcessId(), rounds);
    HANDLE h = CreateFileW(L"\\\\.\\PioFifo0", GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                           FILE_ATTRIBUTE_NORMAL, NULL);
    check(h != INVALID_HANDLE_VALUE, "CreateFileW \\\\.\\PioFifo0");
    if (h == INVALID_HANDLE_VALUE)
        return 1;
    for (int i = 0; i < rounds; i++) {
        status(h, 0);
        buffered(h);
        direct(h);
        neither(h);
        read_write(h);
        errors(h);
        status(h, 0);
        overlapped();
    }
    check(CloseHandle(h), "CloseHandle");
    printf("piofifo_app: %s (%d failure(s))\n", failures ? "FAILED" : "PASSED", failures);
    return failures ? 1 : 0;
}
