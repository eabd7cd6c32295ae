/*
 * drivers/pktdisk/app/pktdisk_app.c - an app that uses the PKD-1 sample
 * driver as a user uses a raw disk, and checks every byte it reads back.
 *
 * Shows: ReadFile / WriteFile at byte offsets (OVERLAPPED Offset) of whole
 * sectors, from buffers that start anywhere in a page (offsets 0, 1, 904,
 * 3192, 4095: map registers cover the first partial page, e.g. 904 + 4096 +
 * 120 bytes for 5120 at offset 3192), sizes from one sector to 1 MiB (split
 * by the driver into as many pieces as its map registers allow); sizes and
 * offsets a disk refuses (1, 4095, 4097, 5000 bytes, an offset inside a
 * sector, past the end); eight overlapped requests at once; CancelIo with
 * requests queued behind the one on the device. Last, it writes
 * PktdiskPattern(SEED) over the first FINAL bytes of the disk, which the
 * host test compares with the device's storage. Prints one line per check;
 * returns 0 only if all passed.
 *
 *   wdmsim run --machine machines/default.ini --app pktdisk_app.so pktdisk.so [-- SEED]
 *   ... [-- random OPS SEED]   seeded random traffic instead (tests/samples/test_soak.c)
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wdmsim/win32.h>

#include "../pktdisk_ioctl.h"

enum { FINAL = 2 << 20, PAGE = 4096 };

static int failures;
static unsigned seed = 1;
static PKTDISK_INFO info;

static void check(int ok, const char *fmt, ...)
{
    char line[200] = {0};
    va_list ap;
    va_start(ap, fmt);
    _vsnprintf(line, sizeof(line) - 1, fmt, ap);
    line[sizeof(line) - 1] = 0;
    va_end(ap);
    printf("%s %s\n", ok ? "ok  " : "FAIL", line);
    if (!ok)
        failures++;
}

static void fill(unsigned char *b, DWORD n, unsigned s, unsigned long long disk_off)
{
    for (DWORD i = 0; i < n; i++)
        b[i] = PktdiskPattern(s, disk_off + i);
}

static DWORD bad_byte(const unsigned char *b, DWORD n, unsigned s, unsigned long long disk_off)
{
    for (DWORD i = 0; i < n; i++)
        if (b[i] != PktdiskPattern(s, disk_off + i))
            return i;
    return n;
}

/* A synchronous read or write at a byte offset of the disk. */
static BOOL rw(HANDLE h, BOOL write, void *buf, DWORD len, unsigned long long off, DWORD *got)
{
    OVERLAPPED o;
    memset(&o, 0, sizeof(o));
    o.Offset = (DWORD)off;
    o.OffsetHigh = (DWORD)(off >> 32);
    *got = 0xFFFFFFFF;
    return write ? WriteFile(h, buf, len, got, &o) : ReadFile(h, buf, len, got, &o);
}

/* GET_INFO into a stack buffer (I/O buffers must be user addresses: the
 * app's globals are not), then into `info`. */
static int get_info(HANDLE h)
{
    PKTDISK_INFO local;
    DWORD got = 0;
    memset(&local, 0, sizeof(local));
    int ok =
        DeviceIoControl(h, IOCTL_PKTDISK_GET_INFO, NULL, 0, &local, sizeof(local), &got, NULL) &&
        got == sizeof(local);
    info = local;
    return ok;
}

static unsigned long long capacity_bytes(void)
{
    return info.CapacitySectors * PKTDISK_SECTOR;
}

/* Writes len bytes from a buffer starting `boff` into a page, reads them
 * back into another buffer at `roff`, compares every byte. */
static int round_trip(HANDLE h, DWORD len, DWORD boff, DWORD roff, unsigned long long disk_off,
                      unsigned s)
{
    SIZE_T room = len + 2 * PAGE;
    unsigned char *wb = VirtualAlloc(NULL, room, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    unsigned char *rb = VirtualAlloc(NULL, room, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    int ok = 0;
    DWORD got;
    if (wb && rb) {
        fill(wb + boff, len, s, disk_off);
        memset(rb, 0xEE, room);
        ok = rw(h, TRUE, wb + boff, len, disk_off, &got) && got == len &&
             rw(h, FALSE, rb + roff, len, disk_off, &got) && got == len &&
             bad_byte(rb + roff, len, s, disk_off) == len && rb[roff + len] == 0xEE &&
             (roff == 0 || rb[roff - 1] == 0xEE);
    }
    if (wb)
        VirtualFree(wb, 0, MEM_RELEASE);
    if (rb)
        VirtualFree(rb, 0, MEM_RELEASE);
    return ok;
}

static void sizes(HANDLE h)
{
    static const DWORD lens[] = {512, 4096, 4608, 5120, 8192, 65536, 65536 + 512, 1 << 20};
    static const DWORD offs[] = {0, 1, 904, 3192, 4095};
    unsigned long long disk_off = 0;
    for (unsigned i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        DWORD len = lens[i];
        if (len > capacity_bytes())
            continue;
        int ok = 1;
        for (unsigned j = 0; j < sizeof(offs) / sizeof(offs[0]); j++) {
            /* a different sector each time, wrapping inside the disk */
            disk_off = (disk_off + 7 * PKTDISK_SECTOR) % (capacity_bytes() - len + 1);
            disk_off -= disk_off % PKTDISK_SECTOR;
            ok &= round_trip(h, len, offs[j], offs[(j + 2) % 5], disk_off, seed + i * 8 + j);
        }
        check(ok, "write + read back %lu bytes from buffers at page offsets 0/1/904/3192/4095",
              (unsigned long)len);
    }
}

static void refused(HANDLE h)
{
    static const DWORD lens[] = {1, 4095, 4097, 5000, 513};
    unsigned char *b = malloc(8192);
    DWORD got;
    for (unsigned i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        check(!rw(h, TRUE, b, lens[i], 0, &got) && GetLastError() == ERROR_INVALID_PARAMETER &&
                  !rw(h, FALSE, b, lens[i], 0, &got) && GetLastError() == ERROR_INVALID_PARAMETER,
              "%lu bytes (not whole sectors): ERROR_INVALID_PARAMETER both ways",
              (unsigned long)lens[i]);
    }
    check(!rw(h, FALSE, b, 512, 100, &got) && GetLastError() == ERROR_INVALID_PARAMETER,
          "offset 100 (inside a sector): ERROR_INVALID_PARAMETER");
    check(!rw(h, FALSE, b, 1024, capacity_bytes() - 512, &got) &&
              GetLastError() == ERROR_INVALID_PARAMETER,
          "a read running past the last sector: ERROR_INVALID_PARAMETER");
    check(rw(h, FALSE, b, 0, 0, &got) && got == 0, "a read of 0 bytes succeeds with 0");
    free(b);
}

enum { NCONC = 8, CONC_LEN = 16384 };

static void concurrent(void)
{
    HANDLE h = CreateFileW(L"\\\\.\\PktDisk0", GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                           FILE_FLAG_OVERLAPPED, NULL);
    check(h != INVALID_HANDLE_VALUE, "CreateFileW with FILE_FLAG_OVERLAPPED");
    if (h == INVALID_HANDLE_VALUE)
        return;
    unsigned long long base = capacity_bytes() / 2 - NCONC * CONC_LEN;
    unsigned char *buf[NCONC];
    OVERLAPPED o[NCONC];
    HANDLE ev[NCONC];
    for (int k = 0; k < 2; k++) { /* k = 0 writes, k = 1 reads */
        int started = 1, ok = 1;
        for (int i = 0; i < NCONC; i++) {
            if (k == 0) {
                buf[i] = malloc(CONC_LEN + 3);
                ev[i] = CreateEventW(NULL, TRUE, FALSE, NULL);
            }
            unsigned char *p = buf[i] + (i % 4); /* unaligned starts too */
            unsigned long long off = base + (unsigned long long)i * CONC_LEN;
            if (k == 0)
                fill(p, CONC_LEN, seed + 100 + i, off);
            else
                memset(p, 0, CONC_LEN);
            memset(&o[i], 0, sizeof(o[i]));
            o[i].Offset = (DWORD)off;
            o[i].OffsetHigh = (DWORD)(off >> 32);
            o[i].hEvent = ev[i];
            BOOL r = k == 0 ? WriteFile(h, p, CONC_LEN, NULL, &o[i])
                            : ReadFile(h, p, CONC_LEN, NULL, &o[i]);
            started &= r || GetLastError() == ERROR_IO_PENDING;
        }
        check(started, "%d overlapped %s of %d bytes in flight", NCONC, k ? "reads" : "writes",
              CONC_LEN);
        check(WaitForMultipleObjects(NCONC, ev, TRUE, INFINITE) == WAIT_OBJECT_0,
              "WaitForMultipleObjects(all) on their events");
        for (int i = 0; i < NCONC; i++) {
            DWORD got = 0;
            ok &= GetOverlappedResult(h, &o[i], &got, FALSE) && got == CONC_LEN;
            if (k == 1)
                ok &= bad_byte(buf[i] + (i % 4), CONC_LEN, seed + 100 + i,
                               base + (unsigned long long)i * CONC_LEN) == CONC_LEN;
        }
        check(ok, "every %s completed with %d bytes%s", k ? "read" : "write", CONC_LEN,
              k ? ", every byte as written" : "");
    }
    for (int i = 0; i < NCONC; i++) {
        free(buf[i]);
        CloseHandle(ev[i]);
    }
    check(CloseHandle(h), "CloseHandle (overlapped)");
}

/* Requests queued behind the one on the device are cancelled; the one on
 * the device completes (its data is right). */
static void cancel(void)
{
    HANDLE h = CreateFileW(L"\\\\.\\PktDisk0", GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                           FILE_FLAG_OVERLAPPED, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        check(0, "CreateFileW for the cancel test");
        return;
    }
    enum { N = 6 };
    DWORD len = info.MaxTransfer * 4 < (1u << 17) ? info.MaxTransfer * 4 : (1u << 17);
    unsigned long long base = 0;
    /* Known data first, so a completed read can be checked. */
    unsigned char *w = malloc(len);
    DWORD got;
    OVERLAPPED o[N];
    HANDLE ev[N];
    unsigned char *buf[N];
    fill(w, len, seed + 200, base);
    memset(&o[0], 0, sizeof(o[0]));
    o[0].hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    BOOL r = WriteFile(h, w, len, NULL, &o[0]);
    check((r || GetLastError() == ERROR_IO_PENDING) && GetOverlappedResult(h, &o[0], &got, TRUE) &&
              got == len,
          "overlapped write of %lu bytes before the cancel test", (unsigned long)len);
    CloseHandle(o[0].hEvent);
    for (int i = 0; i < N; i++) {
        buf[i] = malloc(len);
        ev[i] = CreateEventW(NULL, TRUE, FALSE, NULL);
        memset(&o[i], 0, sizeof(o[i]));
        o[i].hEvent = ev[i];
        r = ReadFile(h, buf[i], len, NULL, &o[i]);
        if (!r && GetLastError() != ERROR_IO_PENDING)
            check(0, "overlapped read %d started", i);
    }
    check(CancelIo(h), "CancelIo with %d reads in flight", N);
    int done = 0, aborted = 0, bad = 0;
    for (int i = 0; i < N; i++) {
        got = 0;
        if (GetOverlappedResult(h, &o[i], &got, TRUE)) {
            done++;
            bad += got != len || bad_byte(buf[i], len, seed + 200, base) != len;
        } else if (GetLastError() == ERROR_OPERATION_ABORTED) {
            aborted++;
        } else {
            bad++;
        }
        free(buf[i]);
        CloseHandle(ev[i]);
    }
    check(bad == 0 && aborted >= 1 && done + aborted == N,
          "after CancelIo: %d completed (data right), %d ERROR_OPERATION_ABORTED", done, aborted);
    free(w);
    check(CloseHandle(h), "CloseHandle (cancel)");
}

/* The pattern the host test finds in the device's storage. */
static void final_image(HANDLE h)
{
    unsigned long long total = capacity_bytes() < FINAL ? capacity_bytes() : FINAL;
    DWORD chunk = 65536;
    unsigned char *b = malloc(chunk);
    int ok = 1;
    for (unsigned long long off = 0; off < total && ok; off += chunk) {
        DWORD n = total - off < chunk ? (DWORD)(total - off) : chunk, got;
        fill(b, n, seed, off);
        ok = rw(h, TRUE, b, n, off, &got) && got == n;
    }
    free(b);
    check(ok, "final image: %llu bytes of pattern %u written", total, seed);
}

/* ---- random traffic (the soak test): pktdisk_app random OPS SEED ---------- */

static unsigned long long rng_state;

static unsigned rnd(unsigned n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned)(rng_state % n);
}

/* Random reads and writes (some overlapped, some cancelled) over the first
 * `region` bytes, checked against a copy of what the disk must hold. */
static void random_traffic(HANDLE h, HANDLE ho, unsigned ops)
{
    unsigned long long region = capacity_bytes() < (4u << 20) ? capacity_bytes() : (4u << 20);
    unsigned char *shadow = malloc(region), *buf = malloc(256 * 512 + PAGE);
    DWORD got;
    int ok = shadow && buf;
    for (unsigned long long off = 0; ok && off < region; off += 65536) {
        fill(shadow + off, 65536, seed + 1, off);
        ok = rw(h, TRUE, shadow + off, 65536, off, &got) && got == 65536;
    }
    unsigned done = 0, bad = 0;
    for (unsigned op = 0; ok && op < ops; op++) {
        DWORD len = (1 + rnd(256)) * PKTDISK_SECTOR, boff = rnd(PAGE);
        unsigned long long off =
            (unsigned long long)rnd((unsigned)((region - len) / 512 + 1)) * 512;
        unsigned kind = rnd(10);
        if (kind < 4) { /* write */
            for (DWORD i = 0; i < len; i++)
                buf[boff + i] = (unsigned char)rnd(256);
            if (rw(h, TRUE, buf + boff, len, off, &got) && got == len)
                memcpy(shadow + off, buf + boff, len);
            else
                bad++;
        } else if (kind < 8) { /* read */
            bad += !rw(h, FALSE, buf + boff, len, off, &got) || got != len ||
                   memcmp(buf + boff, shadow + off, len);
        } else if (kind == 8) { /* refused */
            bad += rw(h, FALSE, buf, len + 1 + rnd(511), off, &got) ||
                   GetLastError() != ERROR_INVALID_PARAMETER;
        } else { /* four overlapped writes, then CancelIo: the started ones land */
            enum { N = 4 };
            OVERLAPPED o[N];
            unsigned char *wb[N];
            unsigned long long wo[N];
            DWORD wl[N];
            for (int i = 0; i < N; i++) {
                wl[i] = (1 + rnd(64)) * PKTDISK_SECTOR;
                wo[i] = (unsigned long long)rnd((unsigned)((region - wl[i]) / 512 + 1)) * 512;
                wb[i] = malloc(wl[i]);
                for (DWORD k = 0; k < wl[i]; k++)
                    wb[i][k] = (unsigned char)rnd(256);
                memset(&o[i], 0, sizeof(o[i]));
                o[i].Offset = (DWORD)wo[i];
                o[i].OffsetHigh = (DWORD)(wo[i] >> 32);
                o[i].hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
                if (!WriteFile(ho, wb[i], wl[i], NULL, &o[i]) && GetLastError() != ERROR_IO_PENDING)
                    bad++;
            }
            if (rnd(2))
                CancelIo(ho);
            /* The driver runs requests in order: apply the completed ones so. */
            for (int i = 0; i < N; i++) {
                if (GetOverlappedResult(ho, &o[i], &got, TRUE) && got == wl[i])
                    memcpy(shadow + wo[i], wb[i], wl[i]);
                else
                    bad += GetLastError() != ERROR_OPERATION_ABORTED;
                CloseHandle(o[i].hEvent);
                free(wb[i]);
            }
        }
        done++;
    }
    /* Everything read back once more. */
    for (unsigned long long off = 0; ok && off < region; off += 65536)
        bad += !rw(h, FALSE, buf, 65536, off, &got) || memcmp(buf, shadow + off, 65536);
    check(ok && bad == 0, "random traffic: %u operations, %u mismatches or failures", done, bad);
    free(shadow);
    free(buf);
}

int main(int argc, char **argv)
{
    unsigned random_ops = 0;
    if (argc > 3 && !strcmp(argv[1], "random")) {
        random_ops = (unsigned)atoi(argv[2]);
        seed = (unsigned)atoi(argv[3]);
        rng_state = seed * 0x2545F4914F6CDD1Dull + 1;
    } else if (argc > 1) {
        seed = (unsigned)atoi(argv[1]);
    }
    printf("pktdisk_app: pid %u, seed %u\n", GetCurrentProcessId(), seed);
    HANDLE h = CreateFileW(L"\\\\.\\PktDisk0", GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                           FILE_ATTRIBUTE_NORMAL, NULL);
    check(h != INVALID_HANDLE_VALUE, "CreateFileW \\\\.\\PktDisk0");
    if (h == INVALID_HANDLE_VALUE)
        return 1;
    int ok = get_info(h);
    check(ok && info.CapacitySectors > 0 && info.MapRegisters >= 2,
          "GET_INFO: %llu sectors, MAXXFER %u, %u map registers", info.CapacitySectors,
          info.MaxTransfer, info.MapRegisters);
    if (!info.CapacitySectors)
        return 1;
    if (random_ops) {
        HANDLE ho = CreateFileW(L"\\\\.\\PktDisk0", GENERIC_READ | GENERIC_WRITE, 0, NULL,
                                OPEN_EXISTING, FILE_FLAG_OVERLAPPED, NULL);
        check(ho != INVALID_HANDLE_VALUE, "CreateFileW with FILE_FLAG_OVERLAPPED");
        random_traffic(h, ho, random_ops);
        CloseHandle(ho);
        final_image(h);
        CloseHandle(h);
        printf("pktdisk_app: %s (%d failure(s))\n", failures ? "FAILED" : "PASSED", failures);
        return failures ? 1 : 0;
    }
    sizes(h);
    refused(h);
    concurrent();
    cancel();
    final_image(h);
    ok = get_info(h);
    check(ok && info.DeviceErrors == 0 && info.Pieces >= info.Requests,
          "GET_INFO: %llu requests in %llu pieces, %llu device errors", info.Requests, info.Pieces,
          info.DeviceErrors);
    check(CloseHandle(h), "CloseHandle");
    printf("pktdisk_app: %s (%d failure(s))\n", failures ? "FAILED" : "PASSED", failures);
    return failures ? 1 : 0;
}
