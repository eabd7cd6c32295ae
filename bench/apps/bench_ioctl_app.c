/*
 * bench/apps/bench_ioctl_app.c - the app side of bench/bench_ioctl.c: N
 * round trips of one kind to the PIO-1 sample driver.
 *
 *   bench_ioctl_app.so KIND N    KIND: status | buffered | direct | neither | readwrite
 * Each round trip moves 64 bytes (status: 16 bytes out); pushes and pops
 * alternate so the FIFO never fills. Returns 0, or 1 on any failure.
 */
#include <stdlib.h>
#include <string.h>
#include <wdmsim/win32.h>

#include "../../drivers/piofifo/piofifo_ioctl.h"

int main(int argc, char **argv)
{
    if (argc < 3)
        return 1;
    const char *kind = argv[1];
    int n = atoi(argv[2]);
    HANDLE h = CreateFileA("\\\\.\\PioFifo0", GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                           0, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return 1;
    unsigned char in[64], out[64];
    PIOFIFO_STATUS s;
    DWORD got;
    memset(in, 0x5A, sizeof(in));
    BOOL ok = TRUE;
    for (int i = 0; i < n && ok; i++) {
        int push = !(i & 1);
        if (!strcmp(kind, "status"))
            ok = DeviceIoControl(h, IOCTL_PIOFIFO_GET_STATUS, NULL, 0, &s, sizeof(s), &got, NULL);
        else if (!strcmp(kind, "buffered"))
            ok = push
                     ? DeviceIoControl(h, IOCTL_PIOFIFO_PUSH_BUFFERED, in, 64, NULL, 0, &got, NULL)
                     : DeviceIoControl(h, IOCTL_PIOFIFO_POP_BUFFERED, NULL, 0, out, 64, &got, NULL);
        else if (!strcmp(kind, "direct"))
            ok = push
                     ? DeviceIoControl(h, IOCTL_PIOFIFO_PUSH_IN_DIRECT, NULL, 0, in, 64, &got, NULL)
                     : DeviceIoControl(h, IOCTL_PIOFIFO_POP_OUT_DIRECT, NULL, 0, out, 64, &got,
                                       NULL);
        else if (!strcmp(kind, "neither"))
            ok = DeviceIoControl(h, IOCTL_PIOFIFO_LOOP_NEITHER, in, 64, out, 64, &got, NULL);
        else if (!strcmp(kind, "readwrite"))
            ok = push ? WriteFile(h, in, 64, &got, NULL) : ReadFile(h, out, 64, &got, NULL);
        else
            return 1;
    }
    CloseHandle(h);
    return ok ? 0 : 1;
}
