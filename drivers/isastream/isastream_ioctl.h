/*
 * drivers/isastream/isastream_ioctl.h - the I/O control codes of the IST-1
 * sample driver and the capture stream, shared by the driver, its apps and
 * tests.
 *
 * ReadFile captures: the bytes of the device's stream, in order, with no
 * gap across reads (the driver restarts the device at the position it
 * stopped delivering). WriteFile plays: the bytes go to the device in
 * order; a write completes when its last byte is in the driver's ring, so
 * the device may still be playing it. IOCTLs (METHOD_BUFFERED):
 *   GET_STATUS  struct ISASTREAM_STATUS, now
 *   DRAIN       struct ISASTREAM_STATUS, once every queued write has been
 *               played and the playback has stopped (pends until then);
 *               its Last* fields then describe that playback run
 * Bytes moved by a request that ends cancelled are in Captured / Played.
 */
#ifndef ISASTREAM_IOCTL_H
#define ISASTREAM_IOCTL_H

#define ISASTREAM_DEVICE_TYPE 0x8002u
#define ISASTREAM_CTL(fn, method) \
    (((ISASTREAM_DEVICE_TYPE) << 16) | (0 << 14) | ((0x800 + (fn)) << 2) | (method))

#define IOCTL_ISASTREAM_GET_STATUS ISASTREAM_CTL(0, 0)
#define IOCTL_ISASTREAM_DRAIN      ISASTREAM_CTL(1, 0)

typedef struct _ISASTREAM_STATUS {
    unsigned int Channel;        /* the 8237 channel (CmResourceTypeDma) */
    unsigned int RingSize;       /* the common buffer, in bytes */
    unsigned int Rate;           /* bytes per second */
    unsigned int Seed;           /* capture byte n is IsastreamByte(n, Seed) */
    unsigned long long Captured; /* capture bytes delivered to reads so far */
    unsigned long long Played;   /* bytes taken from writes so far */
    unsigned int Runs;           /* device runs (start ... stop) so far */
    unsigned int Running;        /* 0 idle, 1 capture, 2 playback */
    unsigned int PlaybackRuns;   /* finished playback runs */
    /* The last finished playback run, from the device's registers at its stop. */
    unsigned int LastXferred;     /* XFERRED: bytes the 8237 moved to the device */
    unsigned int LastCrc;         /* CRC: CRC-32 of those bytes */
    unsigned int LastAppBytes;    /* bytes of writes among them (the rest are 0) */
    unsigned int LastUnderruns;   /* UNRCNT */
    unsigned int CaptureOverruns; /* OVRCNT summed over the capture runs */
    unsigned int DeviceErrors;    /* runs refused or ended by a lost byte or lap */
    unsigned int PlaybackGaps;    /* writes that came after the ring's data ran out */
} ISASTREAM_STATUS;

/* Byte n of the IST-1 capture stream (devices/isastream.md 3). */
static inline unsigned char IsastreamByte(unsigned int n, unsigned int seed)
{
    unsigned int x = n + seed;
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return (unsigned char)x;
}

/* CRC-32 (zlib): start with 0, feed bytes, the result is final. */
static inline unsigned int IsastreamCrc(unsigned int crc, const unsigned char *p, unsigned long n)
{
    crc = ~crc;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

#endif
