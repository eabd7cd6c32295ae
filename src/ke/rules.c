/*
 * src/ke/rules.c - the list of this layer's verifier rules, for
 * src/vf/catalogue.c. Each descriptor sits beside its check.
 */
#include <stdarg.h>

#include "sys.h"

const struct vf_rule *const ke_vf_rules[] = {
    &ke_rule_raise_lower,
    &ke_rule_lower_higher,
    &ke_rule_irql_api,
    &ke_rule_paged_code,
    &ke_rule_recursive,
    &ke_rule_release_unowned,
    &ke_rule_release_not_dispatch,
    &ke_rule_atdpc_below_dispatch,
    &ke_rule_acquire_above_dispatch,
    &ke_rule_kernel_release,
    &ke_rule_lock_order,
    &ke_rule_wait_forever,
    &ke_rule_wait_at_dispatch,
    &ke_rule_setevent_irql,
    &ke_rule_fast_mutex,
    &ke_rule_isr_irql,
    &ke_rule_storm,
};
_Static_assert(sizeof(ke_vf_rules) / sizeof(ke_vf_rules[0]) == ke_vf_rule_count,
               "ke_vf_rule_count in ke.h");

void ke_violation(const struct vf_rule *rule, uint64_t p1, uint64_t a, uint64_t b, uint64_t c,
                  const char *fmt, ...)
{
    struct sys *sys = sys_get();
    if (!vf_on(&sys->vf, rule))
        return;
    uint64_t param[4] = {p1, a, b, c};
    va_list ap;
    va_start(ap, fmt);
    ke_bugcheck_v(rule->code, param, rule, fmt, ap);
}
