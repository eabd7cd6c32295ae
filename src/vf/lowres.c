/*
 * src/vf/lowres.c - low-resources simulation: seeded failure injection.
 *
 * Models: Driver Verifier's Low Resources Simulation (spec/verifier.md 3):
 * allocation routines called by a verified driver fail at random with a
 * probability (here per mille, --verifier low-resources=PERMILLE, default
 * 60 = Windows' 600 in 10,000), optionally only for pool tags matching a
 * pattern (low-resources-tag=PATTERN, '*' and '?' as wildcards). The PRNG is
 * the machine's seed, so a run replays exactly. Every injection prints one
 * line with the routine, tag and call site.
 * Not modelled: Windows' 8-minute grace after boot (wdmsim injects at
 * once), failing alertable waits, systematic low resources.
 */
#include <stdio.h>
#include <string.h>

#include "sys.h"

int vf_parse_low_resources_tag(const char *list, char *tag, size_t len, char *err, size_t errlen)
{
    const char *key = "low-resources-tag=";
    tag[0] = 0;
    for (const char *p = list; (p = strstr(p, key)); p++) {
        if (p != list && p[-1] != ',')
            continue;
        const char *v = p + strlen(key);
        size_t n = strcspn(v, ",");
        if (n == 0 || n >= len || n > 8) {
            snprintf(err, errlen,
                     "--verifier: low-resources-tag needs 1-4 tag characters "
                     "(with * or ?), as tools print the tag");
            return -1;
        }
        memcpy(tag, v, n);
        tag[n] = 0;
    }
    return 0;
}

/* Pattern against the tag's characters in memory order ("derF" prints Fred). */
static bool tag_match(const char *pat, uint32_t tag)
{
    char t[5];
    for (int i = 0; i < 4; i++)
        t[i] = (char)((tag >> (8 * i)) & 0xff);
    t[4] = 0;
    const char *s = t;
    for (; *pat; pat++, s++) {
        if (*pat == '*')
            return true;
        if (!*s || (*pat != '?' && *pat != *s))
            return false;
    }
    while (*s == ' ')
        s++;
    return *s == 0;
}

static uint64_t next(struct vf *vf)
{
    /* splitmix64: one word of state, seeded from the machine's seed. */
    uint64_t z = (vf->low_res_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

bool vf_low_resources_fail(struct sys *sys, const char *routine, uint32_t tag, void *caller)
{
    struct vf *vf = &sys->vf;
    if (!(vf->options & vf_opt_low_resources))
        return false;
    struct io_driver *drv = io_driver_by_address(&sys->io, (uintptr_t)caller);
    if (!drv)
        return false;
    if (vf->low_res_tag[0] && (!tag || !tag_match(vf->low_res_tag, tag)))
        return false;
    if (!vf->low_res_seeded) {
        vf->low_res_state = sys->machine.seed ^ 0x4c6f7752ULL; /* "LowR": its own stream */
        vf->low_res_seeded = true;
    }
    if (next(vf) % 1000 >= vf->low_res_permille)
        return false;
    vf->low_res_injected++;
    char site[256];
    vf_backtrace_describe(caller, site, sizeof(site));
    FILE *out = vf->out ? vf->out : stderr;
    char t[5] = {0};
    for (int i = 0; i < 4 && tag; i++)
        t[i] = (char)((tag >> (8 * i)) & 0xff);
    fprintf(out, "wdmsim: low-resources: failed %s%s%s%s from %s in %s (injection %llu)\n", routine,
            tag ? " tag '" : "", t, tag ? "'" : "", site, drv->service,
            (unsigned long long)vf->low_res_injected);
    return true;
}
