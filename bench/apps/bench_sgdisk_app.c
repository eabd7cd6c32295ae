/*
 * bench/apps/bench_sgdisk_app.c - the load bench/bench_sgdisk.c measures:
 * an app driving \\.\SgDisk0 through the sample driver (drivers/sgdisk).
 *
 *   bench_sgdisk_app tput MIB   write MIB MiB in 1 MiB requests, 4 in
 *                               flight, then read them back and check them
 *   bench_sgdisk_app iops N     N reads of 4 KiB, 32 in flight, refilled
 *                               as each completes
 * Returns 0, or 1 on any failed or wrong transfer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wdmsim/win32.h>

#include "../../drivers/sgdisk/sgdisk_pattern.h"

enum { MiB = 1 << 20, TPUT_DEPTH = 4, IOPS_DEPTH = 32, IOPS_SIZE = 4096 };

static HANDLE disk;

static int submit(BOOL write, void *buf, DWORD len, unsigned long long off, OVERLAPPED *o,
                  HANDLE ev)
{
    memset(o, 0, sizeof(*o));
    o->Offset = (DWORD)off;
    o->OffsetHigh = (DWORD)(off >> 32);
    o->hEvent = ev;
    BOOL r = write ? WriteFile(disk, buf, len, NULL, o) : ReadFile(disk, buf, len, NULL, o);
    return r || GetLastError() == ERROR_IO_PENDING;
}

static int finish(OVERLAPPED *o, DWORD len)
{
    DWORD got = 0;
    return GetOverlappedResult(disk, o, &got, TRUE) && got == len;
}

/* Whole MiBs out and back, TPUT_DEPTH requests in flight. */
static int tput(unsigned mib)
{
    unsigned char *buf[TPUT_DEPTH];
    OVERLAPPED *o = malloc(TPUT_DEPTH * sizeof(*o));
    HANDLE ev[TPUT_DEPTH];
    for (int i = 0; i < TPUT_DEPTH; i++) {
        buf[i] = malloc(MiB);
        ev[i] = CreateEventW(NULL, TRUE, FALSE, NULL);
        if (!buf[i] || !ev[i] || !o)
            return 1;
        for (unsigned k = 0; k < MiB; k++)
            buf[i][k] = sgd_pattern(0, (unsigned long long)i * MiB + k, 7);
    }
    for (int pass = 0; pass < 2; pass++) {
        for (unsigned m = 0; m < mib; m += TPUT_DEPTH) {
            unsigned n = mib - m < TPUT_DEPTH ? mib - m : TPUT_DEPTH;
            for (unsigned i = 0; i < n; i++)
                if (!submit(pass == 0, buf[i], MiB, (unsigned long long)((m + i) % 48) * MiB, &o[i],
                            ev[i]))
                    return 1;
            for (unsigned i = 0; i < n; i++)
                if (!finish(&o[i], MiB))
                    return 1;
        }
    }
    /* The last reads brought back what the writes of the same slots put. */
    for (int i = 0; i < TPUT_DEPTH; i++)
        if (buf[i][MiB - 1] != sgd_pattern(0, (unsigned long long)i * MiB + MiB - 1, 7))
            return 1;
    return 0;
}

/* n reads of 4 KiB with IOPS_DEPTH in flight. */
static int iops(unsigned n)
{
    OVERLAPPED *o = malloc(IOPS_DEPTH * sizeof(*o));
    HANDLE ev[IOPS_DEPTH];
    unsigned char *buf = malloc(IOPS_DEPTH * IOPS_SIZE);
    unsigned started = 0, done = 0;
    if (!o || !buf)
        return 1;
    for (int i = 0; i < IOPS_DEPTH; i++)
        if (!(ev[i] = CreateEventW(NULL, TRUE, FALSE, NULL)))
            return 1;
    for (; started < IOPS_DEPTH && started < n; started++)
        if (!submit(FALSE, buf + started * IOPS_SIZE, IOPS_SIZE,
                    (unsigned long long)(started * 8) * 512, &o[started], ev[started]))
            return 1;
    /* Refill each slot as it completes while requests remain ... */
    while (started < n) {
        DWORD w = WaitForMultipleObjects(IOPS_DEPTH, ev, FALSE, INFINITE);
        if (w >= IOPS_DEPTH || !finish(&o[w], IOPS_SIZE))
            return 1;
        ResetEvent(ev[w]);
        done++;
        if (!submit(FALSE, buf + w * IOPS_SIZE, IOPS_SIZE,
                    (unsigned long long)((started * 8) % 65536) * 512, &o[w], ev[w]))
            return 1;
        started++;
    }
    /* ... then collect the last ones. */
    for (unsigned i = 0; i < IOPS_DEPTH && i < n; i++) {
        if (!finish(&o[i], IOPS_SIZE))
            return 1;
        done++;
    }
    if (done != n)
        return 1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 1;
    disk = CreateFileA("\\\\.\\SgDisk0", GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                       FILE_FLAG_OVERLAPPED, NULL);
    if (disk == INVALID_HANDLE_VALUE)
        return 1;
    unsigned n = (unsigned)atoi(argv[2]);
    int rc = !strcmp(argv[1], "tput") ? tput(n) : !strcmp(argv[1], "iops") ? iops(n) : 1;
    CloseHandle(disk);
    return rc;
}
