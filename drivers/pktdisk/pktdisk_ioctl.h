/*
 * drivers/pktdisk/pktdisk_ioctl.h - the I/O control code of the PKD-1 sample
 * driver, shared by the driver and its apps and tests.
 *
 * ReadFile / WriteFile move whole 512-byte sectors at a sector-aligned byte
 * offset (the OVERLAPPED's Offset/OffsetHigh), as on a raw Windows disk;
 * anything else fails with ERROR_INVALID_PARAMETER. One IOCTL tells an app
 * the geometry and what the driver did:
 *   GET_INFO  METHOD_BUFFERED  struct PKTDISK_INFO
 */
#ifndef PKTDISK_IOCTL_H
#define PKTDISK_IOCTL_H

#define PKTDISK_DEVICE_TYPE 0x8001u
#define PKTDISK_CTL(fn, method) \
    (((PKTDISK_DEVICE_TYPE) << 16) | (0 << 14) | ((0x800 + (fn)) << 2) | (method))

#define IOCTL_PKTDISK_GET_INFO PKTDISK_CTL(0, 0)

#define PKTDISK_SECTOR 512

typedef struct _PKTDISK_INFO {
    unsigned long long CapacitySectors; /* CAPACITY_HI:LO */
    unsigned int MaxTransfer;           /* MAXXFER: bytes per device command */
    unsigned int Alignment;             /* ALIGN: buffer alignment the device needs */
    unsigned int MapRegisters;          /* IoGetDmaAdapter's count */
    unsigned int Reserved;
    unsigned long long Requests;     /* read/write IRPs transferred */
    unsigned long long Pieces;       /* MapTransfer + device commands */
    unsigned long long DeviceErrors; /* commands that ended with STATUS.ERROR */
} PKTDISK_INFO;

/* The bytes the apps write and the tests check: byte `pos` of the disk for a
 * given seed (any function would do; this one differs in every byte). */
static inline unsigned char PktdiskPattern(unsigned int seed, unsigned long long pos)
{
    unsigned long long x = (pos + 1) * 0x9E3779B97F4A7C15ull + seed * 0xD1B54A32D192ED03ull;
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ull;
    return (unsigned char)(x >> 56);
}

#endif
