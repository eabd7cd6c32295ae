/*
 * drivers/isastream/app/isastream_app.c - an app that records from and
 * plays to every IST-1 the sample driver serves, as a user of a sound-card
 * style device does, and checks every byte.
 *
 * Capture: reads of 1, 512, 4095, 4096, 4097, 5000, 65536 and 1 MiB bytes
 * into buffers starting anywhere in a page; each byte must be the next byte
 * of the device's stream (IsastreamByte(n, Seed), n counted over all reads),
 * with no gap across reads. Playback: the same sizes written, then DRAIN;
 * the device's own CRC-32 of what its DMA cycles moved must equal the CRC of
 * the bytes written followed by the silence the driver plays after them.
 * Then: several overlapped reads (and writes) in flight at once, and CancelIo
 * with reads and writes queued (a partly served request reports the bytes it
 * moved, which are checked too). Prints one line per check; returns 0 only
 * if all passed.
 *
 *   wdmsim run --machine machines/isa.ini --app isastream_app.so isastream.so [-- BIG]
 * BIG = 0 leaves out the 1 MiB transfers.
 *   ... [-- random OPS SEED]   seeded random traffic instead (tests/samples/test_soak.c)
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wdmsim/win32.h>

#include "../isastream_ioctl.h"

enum { PAGE = 4096 };

static int failures;
static int big = 1;

static void check(int ok, const char *fmt, ...)
{
    char line[200] = {0};
    va_list ap;
    va_start(ap, fmt);
    _vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    printf("%s %s\n", ok ? "ok  " : "FAIL", line);
    if (!ok)
        failures++;
}

static int status(HANDLE h, DWORD code, ISASTREAM_STATUS *s)
{
    DWORD got = 0;
    memset(s, 0, sizeof(*s));
    return DeviceIoControl(h, code, NULL, 0, s, sizeof(*s), &got, NULL) && got == sizeof(*s);
}

/* Index of the first byte that is not stream byte pos + i, or n. */
static DWORD stream_mismatch(const unsigned char *b, DWORD n, unsigned pos, unsigned seed)
{
    for (DWORD i = 0; i < n; i++)
        if (b[i] != IsastreamByte(pos + i, seed))
            return i;
    return n;
}

static void fill(unsigned char *b, DWORD n, unsigned s)
{
    for (DWORD i = 0; i < n; i++)
        b[i] = (unsigned char)(s * 131 + i * 7 + (i >> 9) + 1);
}

static unsigned crc_zeros(unsigned crc, unsigned n)
{
    static const unsigned char z[256];
    while (n) {
        unsigned k = n < 256 ? n : 256;
        crc = IsastreamCrc(crc, z, k);
        n -= k;
    }
    return crc;
}

static const DWORD sizes[] = {1, 512, 4095, 4096, 4097, 5000, 65536, 1 << 20};
static const DWORD offs[] = {0, 1, 904, 3192, 4095, 7, 2048, 100};

static unsigned char *page_buffer(DWORD len, DWORD off)
{
    unsigned char *b = VirtualAlloc(NULL, len + 2 * PAGE, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    return b ? b + off : NULL;
}

static void page_free(unsigned char *p, DWORD off)
{
    if (p)
        VirtualFree(p - off, 0, MEM_RELEASE);
}

static void capture(HANDLE h, const char *name, int withBig)
{
    ISASTREAM_STATUS s;
    check(status(h, IOCTL_ISASTREAM_GET_STATUS, &s), "%s: GET_STATUS", name);
    unsigned long long pos = s.Captured;
    unsigned seed = s.Seed;
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        DWORD len = sizes[i], off = offs[i], got = 0;
        if (len > 65536 && !withBig)
            continue;
        unsigned char *b = page_buffer(len, off);
        memset(b, 0xEE, len + 1);
        int ok = ReadFile(h, b, len, &got, NULL) && got == len;
        DWORD bad = ok ? stream_mismatch(b, len, (unsigned)pos, seed) : 0;
        check(ok && bad == len && b[len] == 0xEE,
              "%s: capture %lu bytes at page offset %lu: stream bytes %llu.. (first bad %lu)", name,
              (unsigned long)len, (unsigned long)off, pos, (unsigned long)bad);
        pos += got;
        page_free(b, off);
    }
    int ok = status(h, IOCTL_ISASTREAM_GET_STATUS, &s);
    check(ok && s.Captured == pos && s.DeviceErrors == 0 && s.CaptureOverruns == 0,
          "%s: %llu bytes captured, no gap, no device error", name, s.Captured);
}

/* Writes then DRAIN: the device's CRC of the run = CRC(data, then silence). */
static void playback(HANDLE h, const char *name)
{
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        DWORD len = sizes[i], off = offs[(i + 3) % 8], got = 0;
        if (len > 65536 && !big)
            continue;
        ISASTREAM_STATUS before, s;
        status(h, IOCTL_ISASTREAM_GET_STATUS, &before);
        unsigned char *b = page_buffer(len, off);
        fill(b, len, i);
        int ok = WriteFile(h, b, len, &got, NULL) && got == len;
        ok = ok && status(h, IOCTL_ISASTREAM_DRAIN, &s);
        unsigned crc = IsastreamCrc(0, b, len);
        if (ok && s.LastXferred >= len)
            crc = crc_zeros(crc, s.LastXferred - len);
        check(ok && s.PlaybackRuns == before.PlaybackRuns + 1 && s.LastAppBytes == len &&
                  s.LastXferred >= len && s.LastCrc == crc && s.LastUnderruns == 0,
              "%s: play %lu bytes from page offset %lu: device CRC %08x over %u bytes (want %08x)",
              name, (unsigned long)len, (unsigned long)off, s.LastCrc, s.LastXferred, crc);
        page_free(b, off);
    }
}

enum { NQ = 4 };

static HANDLE open_overlapped(const WCHAR *path)
{
    return CreateFileW(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                       FILE_FLAG_OVERLAPPED, NULL);
}

/* Reads and writes in flight together: reads complete in order with one
 * continuous stream; writes form one run whose CRC the device confirms. */
static void concurrent(const WCHAR *path, const char *name)
{
    static const DWORD rlen[NQ] = {3000, 4096, 1, 9000};
    static const DWORD wlen[NQ] = {5000, 1, 4096, 7777};
    HANDLE h = open_overlapped(path);
    check(h != INVALID_HANDLE_VALUE, "%s: CreateFileW with FILE_FLAG_OVERLAPPED", name);
    if (h == INVALID_HANDLE_VALUE)
        return;
    ISASTREAM_STATUS s0, s;
    status(h, IOCTL_ISASTREAM_GET_STATUS, &s0);
    OVERLAPPED ro[NQ], wo[NQ];
    HANDLE ev[2 * NQ];
    unsigned char *rb[NQ], *wb[NQ];
    int started = 1;
    unsigned wtotal = 0;
    for (int i = 0; i < NQ; i++) {
        rb[i] = malloc(rlen[i] + 1);
        wb[i] = malloc(wlen[i]);
        fill(wb[i], wlen[i], 40 + i);
        wtotal += wlen[i];
        memset(&ro[i], 0, sizeof(ro[i]));
        memset(&wo[i], 0, sizeof(wo[i]));
        ev[i] = ro[i].hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
        ev[NQ + i] = wo[i].hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    }
    for (int i = 0; i < NQ; i++) {
        BOOL r = WriteFile(h, wb[i], wlen[i], NULL, &wo[i]);
        started &= r || GetLastError() == ERROR_IO_PENDING;
        r = ReadFile(h, rb[i], rlen[i], NULL, &ro[i]);
        started &= r || GetLastError() == ERROR_IO_PENDING;
    }
    check(started, "%s: %d reads and %d writes in flight", name, NQ, NQ);
    check(WaitForMultipleObjects(2 * NQ, ev, TRUE, INFINITE) == WAIT_OBJECT_0,
          "%s: WaitForMultipleObjects(all)", name);
    unsigned long long pos = s0.Captured;
    int ok = 1;
    for (int i = 0; i < NQ; i++) {
        DWORD got = 0;
        ok &= GetOverlappedResult(h, &ro[i], &got, FALSE) && got == rlen[i] &&
              stream_mismatch(rb[i], got, (unsigned)pos, s0.Seed) == got;
        pos += got;
        ok &= GetOverlappedResult(h, &wo[i], &got, FALSE) && got == wlen[i];
    }
    check(ok, "%s: every request complete; the reads hold stream bytes %llu..%llu in order", name,
          s0.Captured, pos);
    ok = status(h, IOCTL_ISASTREAM_DRAIN, &s);
    unsigned crc = 0;
    for (int i = 0; i < NQ; i++)
        crc = IsastreamCrc(crc, wb[i], wlen[i]);
    if (ok && s.LastXferred >= wtotal)
        crc = crc_zeros(crc, s.LastXferred - wtotal);
    check(ok && s.PlaybackRuns == s0.PlaybackRuns + 1 && s.LastAppBytes == wtotal &&
              s.LastCrc == crc,
          "%s: the %d writes played as one run of %u bytes, device CRC %08x", name, NQ, wtotal,
          s.LastCrc);
    for (int i = 0; i < 2 * NQ; i++)
        CloseHandle(ev[i]);
    for (int i = 0; i < NQ; i++) {
        free(rb[i]);
        free(wb[i]);
    }
    check(CloseHandle(h), "%s: CloseHandle (overlapped)", name);
}

/* CancelIo with long reads, then long writes, queued. */
static void cancel(const WCHAR *path, const char *name)
{
    enum { LEN = 65536 };
    HANDLE h = open_overlapped(path);
    if (h == INVALID_HANDLE_VALUE) {
        check(0, "%s: CreateFileW for the cancel test", name);
        return;
    }
    ISASTREAM_STATUS s0, s;
    status(h, IOCTL_ISASTREAM_GET_STATUS, &s0);
    for (int write = 0; write < 2; write++) {
        OVERLAPPED o[NQ];
        unsigned char *b[NQ];
        for (int i = 0; i < NQ; i++) {
            b[i] = malloc(LEN);
            fill(b[i], LEN, 60 + i);
            memset(&o[i], 0, sizeof(o[i]));
            o[i].hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
            BOOL r =
                write ? WriteFile(h, b[i], LEN, NULL, &o[i]) : ReadFile(h, b[i], LEN, NULL, &o[i]);
            if (!r && GetLastError() != ERROR_IO_PENDING)
                check(0, "%s: overlapped request %d started", name, i);
        }
        check(CancelIo(h), "%s: CancelIo with %d %s in flight", name, NQ,
              write ? "writes" : "reads");
        /* A request that ended cancelled may have moved bytes; the driver
         * counts them (Captured / Played), in request order. */
        unsigned long long pos = s0.Captured;
        DWORD got[NQ];
        int aborted = 0, bad = 0;
        for (int i = 0; i < NQ; i++) {
            got[i] = 0;
            if (!GetOverlappedResult(h, &o[i], &got[i], TRUE)) {
                aborted += GetLastError() == ERROR_OPERATION_ABORTED;
                bad += GetLastError() != ERROR_OPERATION_ABORTED;
            }
            CloseHandle(o[i].hEvent);
        }
        int ok = status(h, write ? IOCTL_ISASTREAM_DRAIN : IOCTL_ISASTREAM_GET_STATUS, &s);
        unsigned moved = (unsigned)(write ? s.Played - s0.Played : s.Captured - s0.Captured);
        unsigned left = moved, crc = 0;
        for (int i = 0; i < NQ; i++) {
            unsigned n = left < LEN ? left : LEN;
            if (!write)
                bad += stream_mismatch(b[i], n, (unsigned)pos, s0.Seed) != n;
            else
                crc = IsastreamCrc(crc, b[i], n);
            pos += n;
            left -= n;
            free(b[i]);
        }
        if (!write) {
            check(ok && bad == 0 && aborted >= 1,
                  "%s: reads after CancelIo: %d aborted, the %u bytes delivered are right", name,
                  aborted, moved);
        } else {
            if (ok && s.LastXferred >= moved)
                crc = crc_zeros(crc, s.LastXferred - moved);
            /* No byte taken: no playback run happened at all. */
            int played = moved ? s.PlaybackRuns == s0.PlaybackRuns + 1 && s.LastAppBytes == moved &&
                                     s.LastCrc == crc
                               : s.PlaybackRuns == s0.PlaybackRuns;
            check(ok && bad == 0 && aborted >= 1 && played,
                  "%s: writes after CancelIo: %d aborted, the %u bytes taken were played (CRC "
                  "%08x)",
                  name, aborted, moved, s.LastCrc);
        }
        s0 = s;
    }
    check(CloseHandle(h), "%s: CloseHandle (cancel)", name);
}

static void errors(HANDLE h, const char *name)
{
    DWORD got;
    ISASTREAM_STATUS s;
    check(!DeviceIoControl(h, 0x80002FFF, NULL, 0, NULL, 0, &got, NULL) &&
              GetLastError() == ERROR_INVALID_FUNCTION,
          "%s: unknown IOCTL: ERROR_INVALID_FUNCTION", name);
    check(!DeviceIoControl(h, IOCTL_ISASTREAM_GET_STATUS, NULL, 0, &s, 8, &got, NULL) &&
              GetLastError() == ERROR_INSUFFICIENT_BUFFER,
          "%s: GET_STATUS into 8 bytes: ERROR_INSUFFICIENT_BUFFER", name);
    check(ReadFile(h, &s, 0, &got, NULL) && got == 0, "%s: a read of 0 bytes succeeds", name);
}

/* ---- random traffic (the soak test): isastream_app random OPS SEED --------- */

static unsigned long long rng_state;

static unsigned rnd(unsigned n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned)(rng_state % n);
}

/* Random captures (checked against the stream), random playbacks of 1-3
 * writes then DRAIN (checked against the device's CRC), now and then the
 * concurrent and cancel tests. */
static void random_traffic(HANDLE h, const WCHAR *path, const char *name, unsigned ops)
{
    unsigned bad = 0, bytes = 0, gaps = 0;
    for (unsigned op = 0; op < ops; op++) {
        unsigned kind = rnd(12);
        ISASTREAM_STATUS s0, s;
        status(h, IOCTL_ISASTREAM_GET_STATUS, &s0);
        if (kind < 5) {
            DWORD len = 1 + rnd(20000), off = rnd(PAGE), got = 0;
            unsigned char *b = page_buffer(len, off);
            bad += !ReadFile(h, b, len, &got, NULL) || got != len ||
                   stream_mismatch(b, len, (unsigned)s0.Captured, s0.Seed) != len;
            bytes += got;
            page_free(b, off);
        } else if (kind < 10) {
            unsigned n = 1 + rnd(3), total = 0, crc = 0;
            for (unsigned i = 0; i < n; i++) {
                DWORD len = 1 + rnd(20000), off = rnd(PAGE), got = 0;
                unsigned char *b = page_buffer(len, off);
                for (DWORD k = 0; k < len; k++)
                    b[k] = (unsigned char)rnd(256);
                bad += !WriteFile(h, b, len, &got, NULL) || got != len;
                crc = IsastreamCrc(crc, b, len);
                total += len;
                page_free(b, off);
            }
            int ok = status(h, IOCTL_ISASTREAM_DRAIN, &s);
            if (ok && s.LastXferred >= total)
                crc = crc_zeros(crc, s.LastXferred - total);
            /* A write issued after the previous one completed may come after
             * the controller has played past the data: the driver plays
             * silence there and counts a gap (PlaybackGaps). That is this
             * app's timing, not a fault; the played bytes then hold zeros
             * somewhere between the writes, so only their count is checked. */
            int gap = ok && s.PlaybackGaps != s0.PlaybackGaps;
            gaps += gap;
            bad += !ok || s.PlaybackRuns != s0.PlaybackRuns + 1 || s.LastAppBytes != total ||
                   (!gap && s.LastCrc != crc) || s.LastUnderruns != 0;
            bytes += total;
        } else if (kind == 10) {
            concurrent(path, name);
        } else {
            cancel(path, name);
        }
    }
    ISASTREAM_STATUS s;
    int ok = status(h, IOCTL_ISASTREAM_GET_STATUS, &s);
    check(ok && bad == 0 && s.DeviceErrors == 0 && s.CaptureOverruns == 0,
          "%s: random traffic: %u operations, %u bytes, %u mismatches or failures, %u playbacks "
          "with a gap (late writes)",
          name, ops, bytes, bad, gaps);
}

int main(int argc, char **argv)
{
    unsigned random_ops = 0;
    if (argc > 3 && !strcmp(argv[1], "random")) {
        random_ops = (unsigned)atoi(argv[2]);
        rng_state = (unsigned)atoi(argv[3]) * 0x2545F4914F6CDD1Dull + 1;
    } else if (argc > 1) {
        big = atoi(argv[1]);
    }
    printf("isastream_app: pid %u%s\n", GetCurrentProcessId(), big ? "" : ", no 1 MiB transfers");
    int devices = 0;
    for (int n = 0; n < 8; n++) {
        WCHAR path[32];
        char name[16];
        swprintf(path, L"\\\\.\\IsaStream%d", n);
        _snprintf(name, sizeof(name), "IsaStream%d", n);
        name[sizeof(name) - 1] = 0;
        HANDLE h = CreateFileW(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                               FILE_ATTRIBUTE_NORMAL, NULL);
        if (h == INVALID_HANDLE_VALUE)
            break;
        devices++;
        ISASTREAM_STATUS s;
        int ok = status(h, IOCTL_ISASTREAM_GET_STATUS, &s);
        check(ok && s.RingSize > 0, "%s: channel %u, ring %u bytes, %u bytes/s, seed %08x", name,
              s.Channel, s.RingSize, s.Rate, s.Seed);
        if (random_ops) {
            random_traffic(h, path, name, random_ops);
            CloseHandle(h);
            continue;
        }
        errors(h, name);
        capture(h, name, big);
        playback(h, name);
        concurrent(path, name);
        cancel(path, name);
        capture(h, name, 0); /* the stream goes on where the cancelled reads left it */
        ok = status(h, IOCTL_ISASTREAM_GET_STATUS, &s);
        check(ok && s.DeviceErrors == 0 && s.CaptureOverruns == 0 && s.PlaybackGaps == 0,
              "%s: %u runs, no device error", name, s.Runs);
        check(CloseHandle(h), "%s: CloseHandle", name);
    }
    check(devices > 0, "%d IST-1 device(s) opened", devices);
    printf("isastream_app: %s (%d failure(s))\n", failures ? "FAILED" : "PASSED", failures);
    return failures ? 1 : 0;
}
