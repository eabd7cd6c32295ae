/*
 * src/cm/rules.c - the registry's verifier rules, as one list for
 * src/vf/catalogue.c, and the PASSIVE_LEVEL check of every Zw routine.
 *
 * Spec: spec/verifier.md (irql.zw-not-passive, rtl.registry-direct-untrusted),
 * spec/ke_rtl_registry.md 9 ("All Zw key routines PASSIVE").
 * irql.zw-not-passive stops with 0xC4/0xE6 (P2 the routine, P3 the IRQL,
 * P4 0 = special kernel APCs not disabled: wdmsim has no APCs). The DDI
 * compliance rule IrqlZwPassive (0xC4/0x0002001F) describes the same
 * mistake; it is not a second rule, since ids are unique in the catalogue
 * (docs/registry.md).
 */
#include "sys.h"

const struct vf_rule cm_rule_zw_not_passive = {
    .id = "irql.zw-not-passive",
    .code = 0xC4,
    .p1 = 0xE6,
    .params = {"address of the Zw routine", "current IRQL", "special kernel APCs disabled"},
    .text =
        "a registry routine (Zw*, Rtl*Registry*, IoOpenDevice*Key) was called above PASSIVE_LEVEL",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/zw_not_passive",
};

/* The descriptor of rtl.registry-direct-untrusted lives in query.c beside
 * its check. */

const struct vf_rule *const cm_vf_rules[cm_vf_rule_count] = {
    &cm_rule_zw_not_passive,
    &cm_rule_registry_direct_untrusted,
};

void cm_check_passive(const char *routine, void *address)
{
    struct sys *sys = sys_get();
    uint8_t irql = ke_irql(&sys->ke);
    if (irql != 0)
        vf_fire(&cm_rule_zw_not_passive, (uint64_t)(uintptr_t)address, irql, 0,
                "%s called at IRQL %u [routine %p]", routine, irql, address);
}
