/*
 * src/vf/options.c - `--verifier LIST`: which checks are on.
 *
 * Words combine left to right: none clears, standard and all set their
 * sets, a named option adds itself. standard is the default: every rule
 * that costs little. all adds the costly ones (special pool, forced IRQL
 * checking, DMA double buffering); low resources changes behaviour, so it
 * is never implied and is chosen by name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vf/vf.h"

static const struct {
    const char *name;
    uint32_t bits;
} names[] = {
    {"special-pool", vf_opt_special_pool},
    {"irql-checking", vf_opt_irql_checking},
    {"low-resources", vf_opt_low_resources},
    {"pool-tracking", vf_opt_pool_tracking},
    {"io", vf_opt_io},
    {"deadlock", vf_opt_deadlock},
    {"dma", vf_opt_dma},
    {"misc", vf_opt_misc},
    {"ddi", vf_opt_ddi},
    {"double-buffer", vf_opt_double_buffer},
    {"code-integrity", vf_opt_code_integrity},
    {"dma-ownership", vf_opt_dma_ownership},
    {"logical-offset", vf_opt_logical_offset},
};

int vf_parse_options(const char *list, uint32_t *options, unsigned *low_res_permille, char *err,
                     size_t errlen)
{
    uint32_t opts = 0;
    unsigned permille = 60; /* Driver Verifier's default: 600 in 10,000 */
    char buf[256];
    if (strlen(list) >= sizeof(buf)) {
        snprintf(err, errlen, "--verifier list is too long");
        return -1;
    }
    strcpy(buf, list);
    for (char *save, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(w, '=');
        if (eq)
            *eq++ = 0;
        if (!strcmp(w, "low-resources-tag")) {
            continue; /* vf_parse_low_resources_tag reads it */
        } else if (!strcmp(w, "none")) {
            opts = 0;
        } else if (!strcmp(w, "standard")) {
            opts |= VF_OPTS_STANDARD;
        } else if (!strcmp(w, "all")) {
            opts |= VF_OPTS_ALL;
        } else {
            size_t i = 0;
            while (i < sizeof(names) / sizeof(names[0]) && strcmp(names[i].name, w))
                i++;
            if (i == sizeof(names) / sizeof(names[0])) {
                snprintf(err, errlen,
                         "--verifier: unknown option '%s' (known: none, standard, all, "
                         "special-pool, irql-checking, low-resources[=PERMILLE], pool-tracking, "
                         "io, deadlock, dma, misc, ddi, double-buffer, dma-ownership, "
                         "logical-offset)",
                         w);
                return -1;
            }
            opts |= names[i].bits | vf_opt_auto;
            if (eq) {
                char *end;
                unsigned long v = strtoul(eq, &end, 10);
                if (names[i].bits != vf_opt_low_resources || *end || end == eq || v > 1000) {
                    snprintf(err, errlen,
                             "--verifier: '%s=%s': only low-resources takes a value, a "
                             "per-mille from 0 to 1000",
                             w, eq);
                    return -1;
                }
                permille = (unsigned)v;
            }
        }
    }
    *options = opts;
    if (low_res_permille)
        *low_res_permille = permille;
    return 0;
}

const char *vf_option_name(uint32_t option)
{
    if (option == vf_opt_os)
        return "os";
    if (option == vf_opt_auto)
        return "auto";
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].bits == option)
            return names[i].name;
    return "?";
}
