/*
 * devices/diskstore.h - the storage behind the SGD-1 and PKD-1 RAM disks,
 * and the CRC-32 every model's test hooks use.
 *
 * Models: devices/README.md 5: a disk holds zeros at power-on (or its image
 * file), survives every device reset, and is lost with the machine. Storage
 * is sparse: 64 KiB chunks allocated on first write, so a 2^40-sector disk
 * costs only what was written.
 * Spec: devices/sgdisk.md 8, 10; devices/pktdisk.md 5, 7; CRC-32 as in
 * devices/isastream.md 3 (zlib's).
 * Invariants: an absent chunk reads as zeros; offsets are checked by the
 * caller (a model never asks past its capacity).
 */
#ifndef WDMSIM_DEVICES_DISKSTORE_H
#define WDMSIM_DEVICES_DISKSTORE_H

#include <stddef.h>
#include <stdint.h>

struct diskstore {
    uint64_t bytes;   /* capacity in bytes */
    uint64_t *keys;   /* chunk index + 1, 0 = empty slot */
    uint8_t **chunks; /* parallel to keys */
    size_t cap;       /* slots, a power of two */
    size_t used;
};

/* Capacity only; nothing allocated until the first write. Cannot fail. */
void diskstore_init(struct diskstore *s, uint64_t bytes);
void diskstore_fini(struct diskstore *s);
void diskstore_read(const struct diskstore *s, uint64_t off, void *buf, size_t len);
/* Returns 0, or -1 when host memory ran out (bytes before the failing chunk
 * are written). */
int diskstore_write(struct diskstore *s, uint64_t off, const void *buf, size_t len);
/* Loads a file at offset 0. Returns 0, or -1 with err (file, errno, or a
 * file longer than the disk). */
int diskstore_load(struct diskstore *s, const char *path, char *err, size_t errlen);
/* CRC-32 (zlib) of [off, off + len) of the disk. */
uint32_t diskstore_crc32(const struct diskstore *s, uint64_t off, uint64_t len);

/* Incremental CRC-32: start with crc = 0, feed bytes, the result is final. */
uint32_t dev_crc32(uint32_t crc, const void *buf, size_t len);

/* A knob's list of numbers ("5, 0x10 7"; commas or spaces). Returns the
 * count, or -1 when a token is not a number or there are more than max. */
int dev_parse_u64_list(const char *text, uint64_t *out, unsigned max);

/* ceil(a * 10^9 / b) exactly (128-bit intermediate): the datasheets' timing. */
static inline uint64_t dev_ns_for(uint64_t bytes, uint64_t per_second)
{
    unsigned __int128 n = (unsigned __int128)bytes * 1000000000u;
    return (uint64_t)((n + per_second - 1) / per_second);
}

#endif
