/*
 * drivers/sgdisk/sgdisk_pattern.h - the bytes the SGD-1 app writes, so that
 * the app, the sample tests (which read the disk through the model's test
 * hooks) and the benchmark agree on what every disk byte must hold.
 *
 * Byte `off` of disk `disk` written in generation `gen` is
 * sgd_pattern(disk, off, gen): every byte differs from its neighbours, from
 * the same byte of another disk and from the previous generation, so a
 * misplaced sector, a stale buffer or a lost flush all show. The app's last
 * pass leaves generation SGD_FINAL_GEN in the first SGD_FINAL_BYTES of
 * every disk it finds.
 */
#ifndef SGDISK_PATTERN_H
#define SGDISK_PATTERN_H

#define SGD_FINAL_GEN   0xF1u
#define SGD_FINAL_BYTES (4ull << 20)

static inline unsigned char sgd_pattern(unsigned disk, unsigned long long off, unsigned gen)
{
    unsigned long long v = (off + 1) * 0x9E3779B97F4A7C15ull;
    v ^= ((unsigned long long)(disk * 0x3Bu + gen * 0x101u) << 32) + gen;
    v ^= v >> 29;
    return (unsigned char)(v ^ (v >> 11) ^ (v >> 40));
}

#endif
