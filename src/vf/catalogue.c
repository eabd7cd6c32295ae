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
#include "cm/cm.h"
#include "ex/ex.h"
#include "ke/ke.h"
#include "mm/mm.h"
#include "io/io.h"
#include "hal/hal.h"

/* One line per layer that has rules; the entry with no layer ends it. */
static const struct vf_rule_list lists[] = {
    {"rtl", rtl_vf_rules, rtl_vf_rule_count},
    {"cm", cm_vf_rules, cm_vf_rule_count},
    {"ex.pool", ex_pool_vf_rules, ex_pool_vf_rule_count},
    {"ex.list", ex_list_vf_rules, ex_list_vf_rule_count},
    {"ex.lookaside", ex_lookaside_vf_rules, ex_lookaside_vf_rule_count},
    {"mm.paging", mm_paging_vf_rules, mm_paging_vf_rule_count},
    {"ke.float", ke_float_vf_rules, ke_float_vf_rule_count},
    {"ke", ke_vf_rules, ke_vf_rule_count},
    {"mm.iospace", mm_io_vf_rules, mm_io_vf_rule_count},
    {"mm.mdl", mm_mdl_vf_rules, mm_mdl_vf_rule_count},
    {"mm.mdl-map", mm_mdl_map_vf_rules, mm_mdl_map_vf_rule_count},
    {"mm.user", mm_user_vf_rules, mm_user_vf_rule_count},
    {"io.irp", io_irp_rules, io_irp_rule_count},
    {"io.access", io_access_rules, io_access_rule_count},
    {"hal.dma", hal_vf_rules, hal_vf_rule_count},
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
