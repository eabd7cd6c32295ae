/*
 * src/cm/regf.c - the bytes of an empty regf hive: what hivex starts from.
 *
 * Models: the Windows registry hive file format ("regf"): a 4 KiB base
 * block, then hive bins ("hbin", 4 KiB multiples) of cells; cell offsets
 * are relative to the first bin; a used cell has a negative size. The empty
 * hive holds one bin with the root key cell ("nk", flags KEY_HIVE_ENTRY |
 * KEY_NO_DELETE | KEY_COMP_NAME, name "ROOT"), its security cell ("sk",
 * a self-relative descriptor with owner and group BUILTIN\Administrators and
 * a NULL DACL) and one free cell for the rest of the bin.
 * Why: libhivex edits and writes hives but has no call that creates one, and
 * nothing on the system provides a template; the layout is small enough to
 * write out field by field (facts of the format, no code from elsewhere).
 * Invariants: the base block checksum is the XOR of its first 127 dwords
 * (0 -> 1, 0xFFFFFFFF -> 0xFFFFFFFE); hivex_open verifies it.
 */
#include <string.h>

#include "cm/cm.h"

enum {
    base_size = 0x1000,
    bin_size = 0x1000,
    nk_off = 0x20,  /* relative to the first bin */
    nk_size = 0x58, /* 0x50 fixed + "ROOT", rounded to 8 */
    sk_off = nk_off + nk_size,
    sd_size = 20 + 16 + 16,
    sk_size = 0x50, /* 0x18 fixed + descriptor, rounded to 8 */
    free_off = sk_off + sk_size,
};

static void p16(uint8_t *b, size_t off, uint16_t v)
{
    memcpy(b + off, &v, 2);
}
static void p32(uint8_t *b, size_t off, uint32_t v)
{
    memcpy(b + off, &v, 4);
}

/* S-1-5-32-544: revision 1, two sub-authorities, NT authority 5, 32, 544. */
static void admins_sid(uint8_t *b)
{
    static const uint8_t sid[16] = {1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 0x02, 0, 0};
    memcpy(b, sid, sizeof(sid));
}

size_t cm_regf_empty(uint8_t *buf, size_t len)
{
    const size_t total = base_size + bin_size;
    if (len < total)
        return 0;
    memset(buf, 0, total);
    uint8_t *h = buf;
    memcpy(h, "regf", 4);
    p32(h, 0x04, 1); /* primary and secondary sequence numbers match: clean */
    p32(h, 0x08, 1);
    p32(h, 0x14, 1); /* format 1.3 */
    p32(h, 0x18, 3);
    p32(h, 0x1C, 0); /* primary file */
    p32(h, 0x20, 1); /* direct memory load */
    p32(h, 0x24, nk_off);
    p32(h, 0x28, bin_size);
    p32(h, 0x2C, 1);
    static const char name[] = "SYSTEM";
    for (size_t i = 0; name[i]; i++)
        p16(h, 0x30 + 2 * i, (uint16_t)name[i]);
    uint32_t sum = 0;
    for (size_t i = 0; i < 0x1FC; i += 4) {
        uint32_t w;
        memcpy(&w, h + i, 4);
        sum ^= w;
    }
    if (sum == 0)
        sum = 1;
    else if (sum == 0xFFFFFFFFu)
        sum = 0xFFFFFFFEu;
    p32(h, 0x1FC, sum);

    uint8_t *bin = buf + base_size;
    memcpy(bin, "hbin", 4);
    p32(bin, 0x04, 0);
    p32(bin, 0x08, bin_size);

    uint8_t *nk = bin + nk_off;
    p32(nk, 0x00, (uint32_t)-nk_size);
    memcpy(nk + 0x04, "nk", 2);
    p16(nk, 0x06, 0x0004 | 0x0008 | 0x0020);
    p32(nk, 0x20, 0xFFFFFFFFu); /* no subkey list */
    p32(nk, 0x24, 0xFFFFFFFFu);
    p32(nk, 0x2C, 0xFFFFFFFFu); /* no value list */
    p32(nk, 0x30, sk_off);
    p32(nk, 0x34, 0xFFFFFFFFu); /* no class */
    p16(nk, 0x4C, 4);
    memcpy(nk + 0x50, "ROOT", 4);

    uint8_t *sk = bin + sk_off;
    p32(sk, 0x00, (uint32_t)-sk_size);
    memcpy(sk + 0x04, "sk", 2);
    p32(sk, 0x08, sk_off); /* the only descriptor: a ring of one */
    p32(sk, 0x0C, sk_off);
    p32(sk, 0x10, 1);
    p32(sk, 0x14, sd_size);
    uint8_t *sd = sk + 0x18;
    sd[0] = 1;                   /* revision */
    p16(sd, 2, 0x8000 | 0x0004); /* SE_SELF_RELATIVE | SE_DACL_PRESENT (NULL DACL) */
    p32(sd, 4, 20);              /* owner */
    p32(sd, 8, 36);              /* group */
    admins_sid(sd + 20);
    admins_sid(sd + 36);

    p32(bin, free_off, bin_size - free_off); /* positive: free */
    return total;
}
