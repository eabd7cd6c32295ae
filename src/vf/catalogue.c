/*
 * src/vf/catalogue.c - every verifier rule, by layer.
 *
 * Each layer declares its rules beside the checks and exports one list
 * through its internal header; this file names every list explicitly, so a
 * grep for a layer's list shows where it is consumed (no linker sections).
 * Spec: spec/verifier.md (ids, codes, parameter 1).
 */
#include <string.h>

#include "vf/vf.h"
#include "rtl/rtl.h"

/* One line per layer that has rules; the entry with no layer ends it. */
static const struct vf_rule_list lists[] = {
    {"rtl", rtl_vf_rules, rtl_vf_rule_count},
    {NULL, NULL, 0},
};

void vf_rules_foreach(void (*fn)(const struct vf_rule *rule, void *ctx), void *ctx)
{
    for (const struct vf_rule_list *l = lists; l->layer; l++)
        for (unsigned i = 0; i < l->count; i++)
            fn(l->rules[i], ctx);
}

unsigned vf_rule_count(void)
{
    unsigned n = 0;
    for (const struct vf_rule_list *l = lists; l->layer; l++)
        n += l->count;
    return n;
}

const struct vf_rule *vf_rule_find(const char *id)
{
    for (const struct vf_rule_list *l = lists; l->layer; l++)
        for (unsigned i = 0; i < l->count; i++)
            if (!strcmp(l->rules[i]->id, id))
                return l->rules[i];
    return NULL;
}
