/*
 * drivers/sgdisk/sgdisk_ioctl.h - what the SGD-1 sample driver shares with
 * its apps, tests and benchmarks: the device name and one I/O control.
 *
 * The disk is read and written with ReadFile / WriteFile at a byte offset
 * (OVERLAPPED.Offset / OffsetHigh), lengths and offsets in whole 512-byte
 * sectors, buffers aligned to Alignment + 1 bytes (4 on a default SGD-1):
 * the device moves whole sectors through descriptors whose addresses and
 * lengths must be SALIGN-aligned (shared/devices/sgdisk.md 2). Anything
 * else fails with STATUS_INVALID_PARAMETER (ERROR_INVALID_PARAMETER), as a
 * Windows disk does for unbuffered I/O.
 *
 *   GET_INFO  METHOD_BUFFERED  struct SGDISK_INFO out
 */
#ifndef SGDISK_IOCTL_H
#define SGDISK_IOCTL_H

#define SGDISK_DEVICE_TYPE     0x8001
#define SGDISK_CTL(fn, method) ((0x8001u << 16) | (0u << 14) | ((0x800u + (fn)) << 2) | (method))

#define IOCTL_SGDISK_GET_INFO SGDISK_CTL(0, 0)

/* \\.\SgDisk0, \\.\SgDisk1 ... in the order PnP started the devices. */
#define SGDISK_SECTOR 512

typedef struct _SGDISK_INFO {
    unsigned long long CapacitySectors;
    unsigned int SectorSize;     /* 512 */
    unsigned int Alignment;      /* buffer address mask: SALIGN - 1 */
    unsigned int MaxTransfer;    /* bytes per device command; larger requests are split */
    unsigned int QueueDepth;     /* commands the driver keeps outstanding */
    unsigned int AddressWidth;   /* 32 or 64 (CAP0.AW) */
    unsigned int MapRegisters;   /* what IoGetDmaAdapter granted */
    unsigned long long Commands; /* device commands completed so far */
    unsigned long long Elements; /* S/G elements the HAL handed the driver */
    unsigned long long Descriptors;
    unsigned int MaxOutstanding; /* most commands in flight at once */
    unsigned int Reserved;
} SGDISK_INFO;

#endif
