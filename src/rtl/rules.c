/*
 * src/rtl/rules.c - the verifier rules of the runtime library, as one list
 * for src/vf/catalogue.c. Spec: spec/verifier.md (rtl.*, dbg.*).
 */
#include "rtl/rtl.h"
#include "vf/vf.h"

const struct vf_rule *const rtl_vf_rules[rtl_vf_rule_count] = {
    &rtl_rule_overlap,
    &rtl_rule_dbg_unicode_above_passive,
};
