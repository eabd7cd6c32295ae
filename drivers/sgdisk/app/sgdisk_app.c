/*
 * drivers/sgdisk/app/sgdisk_app.c - uses the SGD-1 sample driver the way a
 * program uses a raw disk, and checks every byte it gets back.
 *
 * Shows, on every \\.\SgDiskN it finds: IOCTL_SGDISK_GET_INFO; ReadFile /
 * WriteFile at byte offsets through OVERLAPPED (overlapped handle) and on a
 * synchronous handle; transfers of 512 B to past 1 MiB from buffers that
 * start anywhere in a page; the sizes a disk refuses (1, 4095, 4097, 5000
 * bytes, unaligned buffers and offsets, past the end) and the same sizes
 * done right, as a program would: read, modify, write whole sectors; many
 * requests in flight at once; CancelIo with requests queued in the driver;
 * a last pass that leaves a known pattern (sgdisk_pattern.h) for the tests
 * to check through the device model's storage hooks.
 * Prints one line per group of checks (every check with -v); returns 0
 * only if all passed.
 *
 *   wdmsim run --machine machines/default.ini --app build/drivers/sgdisk_app.so \
 *              build/drivers/sgdisk.so [-- quick] [-- -v]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wdmsim/win32.h>

#include "../sgdisk_ioctl.h"
#include "../sgdisk_pattern.h"

enum { KiB = 1024, MiB = 1024 * 1024, MAX_INFLIGHT = 64 };

struct disk {
    unsigned index;
    HANDLE h;  /* overlapped */
    HANDLE ev; /* for one request at a time */
    SGDISK_INFO info;
};

static int failures, checks, verbose;
static unsigned gen = 1;

/* One check; printed when it fails or with -v. */
static int check(int ok, const char *what)
{
    checks++;
    if (!ok)
        failures++;
    if (!ok || verbose)
        printf("  %s %s\n", ok ? "ok  " : "FAIL", what);
    return ok;
}

static void group(const struct disk *d, int failures_before, const char *what)
{
    printf("%s SgDisk%u: %s\n", failures == failures_before ? "ok  " : "FAIL", d->index, what);
}

static void fill(unsigned char *b, unsigned len, const struct disk *d, unsigned long long off,
                 unsigned g)
{
    for (unsigned i = 0; i < len; i++)
        b[i] = sgd_pattern(d->index, off + i, g);
}

/* Index of the first byte that differs from the pattern, or -1. */
static long verify(const unsigned char *b, unsigned len, const struct disk *d,
                   unsigned long long off, unsigned g)
{
    for (unsigned i = 0; i < len; i++)
        if (b[i] != sgd_pattern(d->index, off + i, g))
            return (long)i;
    return -1;
}

static void set_offset(OVERLAPPED *o, unsigned long long off, HANDLE ev)
{
    memset(o, 0, sizeof(*o));
    o->Offset = (DWORD)off;
    o->OffsetHigh = (DWORD)(off >> 32);
    o->hEvent = ev;
}

/* One transfer at a byte offset; TRUE with *got, or FALSE with GetLastError. */
static BOOL xfer(struct disk *d, BOOL write, void *buf, DWORD len, unsigned long long off,
                 DWORD *got)
{
    OVERLAPPED o;
    set_offset(&o, off, d->ev);
    BOOL r = write ? WriteFile(d->h, buf, len, NULL, &o) : ReadFile(d->h, buf, len, NULL, &o);
    if (!r && GetLastError() != ERROR_IO_PENDING)
        return FALSE;
    return GetOverlappedResult(d->h, &o, got, TRUE);
}

/* A page-aligned block from the heap (malloc blocks of 64 KiB and up get
 * their own pages), so that `at` bytes into it is that far into a page. */
static unsigned char *block(unsigned len)
{
    return malloc(len < 64 * KiB ? 64 * KiB : len + 4 * KiB);
}

static int get_info(struct disk *d)
{
    SGDISK_INFO *i = malloc(sizeof(*i));
    DWORD got = 0;
    int ok = i &&
             DeviceIoControl(d->h, IOCTL_SGDISK_GET_INFO, NULL, 0, i, sizeof(*i), &got, NULL) &&
             got == sizeof(*i);
    if (ok)
        d->info = *i;
    free(i);
    return ok;
}

/* ---- the checks ------------------------------------------------------------- */

static void info(struct disk *d)
{
    int before = failures;
    char line[160];
    check(get_info(d), "IOCTL_SGDISK_GET_INFO");
    check(d->info.SectorSize == SGDISK_SECTOR && d->info.CapacitySectors * 512 >= 16ull * MiB &&
              d->info.QueueDepth >= 1 && d->info.MaxTransfer >= 4 * KiB,
          "sector size 512, capacity >= 16 MiB, a queue, a transfer size");
    snprintf(line, sizeof(line),
             "%llu MiB, %u-bit DMA, %u map registers, up to %u KiB per command, %u in flight",
             d->info.CapacitySectors * 512 / MiB, d->info.AddressWidth, d->info.MapRegisters,
             d->info.MaxTransfer / KiB, d->info.QueueDepth);
    group(d, before, line);
}

/* What a disk refuses: partial sectors, misaligned buffers and offsets,
 * the end of the disk. None may reach the device. */
static void refused(struct disk *d)
{
    int before = failures;
    static const unsigned bad_sizes[] = {1, 4095, 4097, 5000};
    unsigned char *buf = block(8 * KiB);
    DWORD got;
    char what[96];
    for (unsigned i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
        snprintf(what, sizeof(what), "WriteFile of %u bytes: ERROR_INVALID_PARAMETER",
                 bad_sizes[i]);
        check(!xfer(d, TRUE, buf, bad_sizes[i], 0, &got) &&
                  GetLastError() == ERROR_INVALID_PARAMETER,
              what);
    }
    check(!xfer(d, FALSE, buf, 512, 100, &got) && GetLastError() == ERROR_INVALID_PARAMETER,
          "ReadFile at byte offset 100: ERROR_INVALID_PARAMETER");
    if (d->info.Alignment)
        check(!xfer(d, FALSE, buf + 1, 512, 0, &got) && GetLastError() == ERROR_INVALID_PARAMETER,
              "ReadFile into a buffer at an odd address: ERROR_INVALID_PARAMETER");
    check(!xfer(d, FALSE, buf, 1024, d->info.CapacitySectors * 512 - 512, &got) &&
              GetLastError() == ERROR_INVALID_PARAMETER,
          "ReadFile across the end of the disk: ERROR_INVALID_PARAMETER");
    got = 77;
    check(xfer(d, FALSE, buf, 0, 0, &got) && got == 0, "ReadFile of 0 bytes: success, 0 bytes");
    free(buf);
    group(d, before, "refuses 1, 4095, 4097, 5000 bytes, odd buffers and offsets, the end");
}

/* Every size at every start within a page: write, read back elsewhere,
 * compare every byte. */
static void sizes(struct disk *d)
{
    int before = failures;
    unsigned sizes[] = {512,      4096,           4608,    8192,
                        64 * KiB, 64 * KiB + 512, 1 * MiB, d->info.MaxTransfer + 4096};
    static const unsigned starts[] = {0, 4, 512, 2052, 4092};
    unsigned n_sizes = sizeof(sizes) / sizeof(sizes[0]), n_starts = sizeof(starts) / 4;
    unsigned char *wb = block(2 * MiB), *rb = block(2 * MiB);
    char what[128];
    unsigned long long moved = 0;
    for (unsigned s = 0; s < n_sizes && wb && rb; s++) {
        for (unsigned a = 0; a < n_starts; a++) {
            unsigned len = sizes[s], at = starts[a] & ~d->info.Alignment;
            unsigned rat = starts[(a + 2) % n_starts] & ~d->info.Alignment;
            unsigned long long off = 512ull * (s * 97 + a * 13);
            DWORD got = 0;
            unsigned g = gen++;
            fill(wb + at, len, d, off, g);
            memset(rb + rat, 0xEE, len);
            snprintf(what, sizeof(what), "%u bytes from page offset %u to sector %llu and back",
                     len, at, off / 512);
            int ok = xfer(d, TRUE, wb + at, len, off, &got) && got == len;
            ok = ok && xfer(d, FALSE, rb + rat, len, off, &got) && got == len;
            long bad = ok ? verify(rb + rat, len, d, off, g) : 0;
            if (ok && bad >= 0)
                snprintf(what + strlen(what), sizeof(what) - strlen(what), ": byte %ld differs",
                         bad);
            check(ok && bad < 0, what);
            moved += 2ull * len;
        }
    }
    free(wb);
    free(rb);
    snprintf(what, sizeof(what),
             "%u sizes (512 B .. %u KiB) x %u buffer starts, %llu KiB moved, every byte checked",
             n_sizes, sizes[n_sizes - 1] / KiB, n_starts, moved / KiB);
    group(d, before, what);
}

/* Byte-granular I/O the way a program does it on a raw disk: whole
 * sectors read, patched and written back. A shadow copy says what every
 * byte of the area must hold. */
static void bytes(struct disk *d)
{
    int before = failures;
    enum { area = 32 * KiB };
    const unsigned long long base = 8ull * MiB;
    static const unsigned sizes[] = {1, 4095, 4096, 4097, 5000};
    static const unsigned offs[] = {0, 1, 511, 4093};
    unsigned char *shadow = malloc(area), *io = block(area), *chk = block(area);
    DWORD got;
    char what[128];
    if (!shadow || !io || !chk) {
        check(0, "memory for the byte tests");
        return;
    }
    unsigned g = gen++;
    fill(shadow, area, d, base, g);
    memcpy(io, shadow, area);
    check(xfer(d, TRUE, io, area, base, &got) && got == area, "initial write of the area");
    for (unsigned s = 0; s < sizeof(sizes) / 4; s++) {
        for (unsigned o = 0; o < sizeof(offs) / 4; o++) {
            unsigned off = offs[o] + 4096 * o, len = sizes[s];
            unsigned first = off / 512 * 512;
            unsigned span = (off + len + 511) / 512 * 512 - first;
            unsigned g2 = gen++;
            /* read-modify-write of the covering sectors */
            int ok = xfer(d, FALSE, io, span, base + first, &got) && got == span;
            fill(io + (off - first), len, d, base + off, g2);
            fill(shadow + off, len, d, base + off, g2);
            ok = ok && xfer(d, TRUE, io, span, base + first, &got) && got == span;
            ok = ok && xfer(d, FALSE, chk, area, base, &got) && got == area;
            long bad = -1;
            for (unsigned i = 0; ok && i < area && bad < 0; i++)
                if (chk[i] != shadow[i])
                    bad = (long)i;
            snprintf(what, sizeof(what), "%u bytes at byte %u (sectors %u..%u rewritten)%s", len,
                     off, first / 512, (first + span) / 512 - 1,
                     bad >= 0 ? ": the area differs from its shadow" : "");
            check(ok && bad < 0, what);
        }
    }
    free(shadow);
    free(io);
    free(chk);
    group(d, before, "1, 4095, 4096, 4097, 5000 bytes at odd offsets by read-modify-write");
}

/* Many requests on the device at once: all submitted, then waited for. */
static void concurrent(struct disk *d)
{
    int before = failures;
    unsigned n = MAX_INFLIGHT;
    static const unsigned lens[] = {4096, 512, 8192, 64 * KiB, 12288, 1536};
    const unsigned long long base = 16ull * MiB, stride = 128 * KiB;
    OVERLAPPED *ov = malloc(n * sizeof(*ov));
    HANDLE *ev = malloc(n * sizeof(HANDLE));
    unsigned char **buf = malloc(n * sizeof(*buf));
    char what[128];
    if (!ov || !ev || !buf) {
        check(0, "memory for the concurrency test");
        return;
    }
    unsigned g = gen++;
    for (unsigned pass = 0; pass < 2; pass++) {
        BOOL write = pass == 0;
        unsigned started = 0;
        for (unsigned i = 0; i < n; i++) {
            unsigned len = lens[i % 6];
            unsigned long long off = base + i * stride;
            if (write) {
                ev[i] = CreateEventW(NULL, TRUE, FALSE, NULL);
                buf[i] = block(len);
                fill(buf[i] + 512, len, d, off, g);
            } else {
                memset(buf[i] + 512, 0, len);
            }
            set_offset(&ov[i], off, ev[i]);
            BOOL r = write ? WriteFile(d->h, buf[i] + 512, len, NULL, &ov[i])
                           : ReadFile(d->h, buf[i] + 512, len, NULL, &ov[i]);
            started += r || GetLastError() == ERROR_IO_PENDING;
        }
        snprintf(what, sizeof(what), "%u overlapped %s started", n, write ? "writes" : "reads");
        check(started == n, what);
        check(WaitForMultipleObjects(n, ev, TRUE, INFINITE) < WAIT_OBJECT_0 + n,
              "WaitForMultipleObjects(all)");
        unsigned good = 0;
        for (unsigned i = 0; i < n; i++) {
            DWORD got = 0;
            unsigned len = lens[i % 6];
            good += GetOverlappedResult(d->h, &ov[i], &got, FALSE) && got == len &&
                    (write || verify(buf[i] + 512, len, d, base + i * stride, g) < 0);
            ResetEvent(ev[i]);
        }
        snprintf(what, sizeof(what), "%u of %u %s completed with the right bytes", good, n,
                 write ? "writes" : "reads");
        check(good == n, what);
    }
    check(get_info(d) && d->info.MaxOutstanding == d->info.QueueDepth,
          "the driver had its whole queue depth on the device");
    for (unsigned i = 0; i < n; i++) {
        CloseHandle(ev[i]);
        free(buf[i]);
    }
    free(ov);
    free(ev);
    free(buf);
    snprintf(what, sizeof(what), "%u requests in flight at once (%u on the device), all verified",
             n, d->info.MaxOutstanding);
    group(d, before, what);
}

/* CancelIo while requests wait in the driver's queue: each ends either
 * done (and right) or ERROR_OPERATION_ABORTED, and some were aborted. */
static void cancel(struct disk *d)
{
    int before = failures;
    unsigned n = MAX_INFLIGHT, len = 64 * KiB, ok = 0, aborted = 0, other = 0;
    const unsigned long long base = 16ull * MiB; /* written by concurrent(): lens[3] at i=3 */
    OVERLAPPED *ov = malloc(n * sizeof(*ov));
    HANDLE *ev = malloc(n * sizeof(HANDLE));
    unsigned char *buf = block(n * len);
    char what[128];
    if (!ov || !ev || !buf) {
        check(0, "memory for the cancel test");
        return;
    }
    unsigned g = gen++;
    fill(buf, len, d, base, g);
    DWORD got;
    check(xfer(d, TRUE, buf, len, base, &got) && got == len, "write the block to read back");
    for (unsigned i = 0; i < n; i++) {
        ev[i] = CreateEventW(NULL, TRUE, FALSE, NULL);
        set_offset(&ov[i], base, ev[i]);
        BOOL r = ReadFile(d->h, buf + i * len, len, NULL, &ov[i]);
        if (!r && GetLastError() != ERROR_IO_PENDING)
            other++;
    }
    check(CancelIo(d->h), "CancelIo with requests in flight");
    for (unsigned i = 0; i < n; i++) {
        if (GetOverlappedResult(d->h, &ov[i], &got, TRUE))
            ok += got == len && verify(buf + i * len, len, d, base, g) < 0;
        else if (GetLastError() == ERROR_OPERATION_ABORTED)
            aborted++;
        else
            other++;
        CloseHandle(ev[i]);
    }
    snprintf(what, sizeof(what), "%u reads: %u done and verified, %u aborted, %u otherwise", n, ok,
             aborted, other);
    check(ok + aborted == n && aborted > 0 && other == 0, what);
    free(ov);
    free(ev);
    free(buf);
    group(d, before, what);
}

/* A synchronous handle: ReadFile / WriteFile wait; the OVERLAPPED only
 * carries the offset. */
static void synchronous(struct disk *d)
{
    int before = failures;
    char name[32];
    snprintf(name, sizeof(name), "\\\\.\\SgDisk%u", d->index);
    HANDLE h = CreateFileA(name, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                           FILE_ATTRIBUTE_NORMAL, NULL);
    check(h != INVALID_HANDLE_VALUE, "CreateFileA without FILE_FLAG_OVERLAPPED");
    unsigned char *b = block(12 * KiB);
    const unsigned long long off = 24ull * MiB;
    unsigned g = gen++;
    OVERLAPPED o;
    DWORD got = 0;
    fill(b + 1024, 12 * KiB - 1024, d, off, g);
    set_offset(&o, off, NULL);
    check(WriteFile(h, b + 1024, 11 * KiB, &got, &o) && got == 11 * KiB,
          "synchronous WriteFile of 11 KiB at 24 MiB");
    memset(b, 0, 12 * KiB);
    set_offset(&o, off, NULL);
    check(ReadFile(h, b, 11 * KiB, &got, &o) && got == 11 * KiB &&
              verify(b, 11 * KiB, d, off, g) < 0,
          "synchronous ReadFile of the same 11 KiB into another alignment");
    check(CloseHandle(h), "CloseHandle");
    free(b);
    group(d, before, "a synchronous handle: 11 KiB written and read back");
}

/* Leaves generation SGD_FINAL_GEN in the first SGD_FINAL_BYTES. */
static void final_pass(struct disk *d, unsigned long long bytes_total)
{
    int before = failures;
    unsigned chunk = bytes_total < 4 * MiB ? 64 * KiB : 1 * MiB;
    unsigned char *b = block(chunk);
    char what[128];
    for (unsigned long long off = 0; off < bytes_total && b; off += chunk) {
        DWORD got;
        fill(b, chunk, d, off, SGD_FINAL_GEN);
        check(xfer(d, TRUE, b, chunk, off, &got) && got == chunk, "final-pattern write");
        memset(b, 0, chunk);
        check(xfer(d, FALSE, b, chunk, off, &got) && got == chunk &&
                  verify(b, chunk, d, off, SGD_FINAL_GEN) < 0,
              "final-pattern read back");
    }
    free(b);
    snprintf(what, sizeof(what), "first %llu KiB left holding the final pattern",
             bytes_total / KiB);
    group(d, before, what);
}

static int open_disk(struct disk *d, unsigned index)
{
    char name[32];
    snprintf(name, sizeof(name), "\\\\.\\SgDisk%u", index);
    memset(d, 0, sizeof(*d));
    d->index = index;
    d->h = CreateFileA(name, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                       FILE_FLAG_OVERLAPPED, NULL);
    if (d->h == INVALID_HANDLE_VALUE)
        return 0;
    d->ev = CreateEventW(NULL, TRUE, FALSE, NULL);
    return d->ev != NULL;
}

int main(int argc, char **argv)
{
    int quick = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "quick"))
            quick = 1;
        else if (!strcmp(argv[i], "-v"))
            verbose = 1;
    }
    printf("sgdisk_app: %s run\n", quick ? "a quick" : "the full");
    unsigned found = 0;
    for (unsigned index = 0; index < 8; index++) {
        struct disk *d = malloc(sizeof(*d));
        if (!d || !open_disk(d, index)) {
            free(d);
            break;
        }
        found++;
        info(d);
        if (quick) {
            final_pass(d, 256 * KiB);
        } else {
            refused(d);
            sizes(d);
            bytes(d);
            concurrent(d);
            cancel(d);
            synchronous(d);
            final_pass(d, SGD_FINAL_BYTES);
        }
        check(CloseHandle(d->ev) && CloseHandle(d->h), "CloseHandle");
        free(d);
    }
    check(found > 0, "CreateFileA \\\\.\\SgDisk0 (is the sgdisk driver loaded and bound?)");
    printf("sgdisk_app: %s: %d checks on %u disk(s), %d failed\n", failures ? "FAILED" : "PASSED",
           checks, found, failures);
    return failures ? 1 : 0;
}
