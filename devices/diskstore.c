/*
 * devices/diskstore.c - sparse RAM-disk storage and CRC-32 for the device
 * models (see diskstore.h).
 *
 * Models: devices/README.md 5 storage semantics; chunks in an open-
 * addressing hash table keyed by chunk index (a flat table cannot cover a
 * 2^49-byte disk).
 * Invariants: used <= cap / 2 (the table grows before it is half full).
 * Not modelled: persistence (the image file is read, never written back).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diskstore.h"

enum { chunk_shift = 16, chunk_size = 1 << chunk_shift };

void diskstore_init(struct diskstore *s, uint64_t bytes)
{
    memset(s, 0, sizeof(*s));
    s->bytes = bytes;
}

void diskstore_fini(struct diskstore *s)
{
    for (size_t i = 0; i < s->cap; i++)
        free(s->chunks[i]);
    free(s->keys);
    free(s->chunks);
    s->keys = NULL;
    s->chunks = NULL;
    s->cap = s->used = 0;
}

static size_t slot_of(const struct diskstore *s, uint64_t key)
{
    uint64_t h = key * 0x9E3779B97F4A7C15ULL;
    size_t i = (size_t)(h >> 20) & (s->cap - 1);
    while (s->keys[i] && s->keys[i] != key)
        i = (i + 1) & (s->cap - 1);
    return i;
}

static uint8_t *find(const struct diskstore *s, uint64_t index)
{
    if (!s->cap)
        return NULL;
    size_t i = slot_of(s, index + 1);
    return s->keys[i] ? s->chunks[i] : NULL;
}

static int grow(struct diskstore *s)
{
    size_t ncap = s->cap ? s->cap * 2 : 64;
    struct diskstore n = {.bytes = s->bytes, .cap = ncap, .used = s->used};
    n.keys = calloc(ncap, sizeof(*n.keys));
    n.chunks = calloc(ncap, sizeof(*n.chunks));
    if (!n.keys || !n.chunks) {
        free(n.keys);
        free(n.chunks);
        return -1;
    }
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->keys[i])
            continue;
        size_t j = slot_of(&n, s->keys[i]);
        n.keys[j] = s->keys[i];
        n.chunks[j] = s->chunks[i];
    }
    free(s->keys);
    free(s->chunks);
    *s = n;
    return 0;
}

static uint8_t *get(struct diskstore *s, uint64_t index)
{
    uint8_t *c = find(s, index);
    if (c)
        return c;
    if ((s->used + 1) * 2 > s->cap && grow(s))
        return NULL;
    c = calloc(1, chunk_size);
    if (!c)
        return NULL;
    size_t i = slot_of(s, index + 1);
    s->keys[i] = index + 1;
    s->chunks[i] = c;
    s->used++;
    return c;
}

void diskstore_read(const struct diskstore *s, uint64_t off, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len) {
        uint64_t in = off & (chunk_size - 1);
        size_t n = chunk_size - in < len ? (size_t)(chunk_size - in) : len;
        const uint8_t *c = find(s, off >> chunk_shift);
        if (c)
            memcpy(p, c + in, n);
        else
            memset(p, 0, n);
        p += n;
        off += n;
        len -= n;
    }
}

int diskstore_write(struct diskstore *s, uint64_t off, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
        uint64_t in = off & (chunk_size - 1);
        size_t n = chunk_size - in < len ? (size_t)(chunk_size - in) : len;
        uint8_t *c = get(s, off >> chunk_shift);
        if (!c)
            return -1;
        memcpy(c + in, p, n);
        p += n;
        off += n;
        len -= n;
    }
    return 0;
}

int diskstore_load(struct diskstore *s, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "image = %s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    uint8_t buf[chunk_size];
    uint64_t off = 0;
    size_t n;
    int rc = 0;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
        if (off + n > s->bytes) {
            snprintf(err, errlen, "image = %s: the file is longer than the disk (%llu bytes)", path,
                     (unsigned long long)s->bytes);
            rc = -1;
            break;
        }
        if (diskstore_write(s, off, buf, n)) {
            snprintf(err, errlen, "image = %s: out of host memory", path);
            rc = -1;
            break;
        }
        off += n;
    }
    if (!rc && ferror(f)) {
        snprintf(err, errlen, "image = %s: read error: %s", path, strerror(errno));
        rc = -1;
    }
    fclose(f);
    return rc;
}

/* Nibble table of the reflected polynomial 0xEDB88320: const data, no
 * table built at run time. */
static const uint32_t crc_nibble[16] = {
    0x00000000, 0x1DB71064, 0x3B6E20C8, 0x26D930AC, 0x76DC4190, 0x6B6B51F4, 0x4DB26158, 0x5005713C,
    0xEDB88320, 0xF00F9344, 0xD6D6A3E8, 0xCB61B38C, 0x9B64C2B0, 0x86D3D2D4, 0xA00AE278, 0xBDBDF21C,
};

uint32_t dev_crc32(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ crc_nibble[crc & 15];
        crc = (crc >> 4) ^ crc_nibble[crc & 15];
    }
    return ~crc;
}

uint32_t diskstore_crc32(const struct diskstore *s, uint64_t off, uint64_t len)
{
    uint8_t buf[4096];
    uint32_t crc = 0;
    while (len) {
        size_t n = len < sizeof(buf) ? (size_t)len : sizeof(buf);
        diskstore_read(s, off, buf, n);
        crc = dev_crc32(crc, buf, n);
        off += n;
        len -= n;
    }
    return crc;
}

int dev_parse_u64_list(const char *text, uint64_t *out, unsigned max)
{
    unsigned n = 0;
    const char *p = text;
    for (;;) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (!*p)
            return (int)n;
        if (*p == '-' || n == max)
            return -1;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(p, &end, 0);
        if (errno || end == p || (*end && *end != ' ' && *end != ',' && *end != '\t'))
            return -1;
        out[n++] = v;
        p = end;
    }
}
