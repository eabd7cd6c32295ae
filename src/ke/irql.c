/*
 * src/ke/irql.c - IRQL: reading, raising, lowering, and the IRQL rules.
 *
 * Models: each virtual processor's IRQL with x64 values (spec
 * ke_rtl_registry.md 1). Raising masks DPCs (DISPATCH_LEVEL) and
 * interrupts at or below the new level; lowering is where they catch up:
 * pending interrupts above the new level are delivered, and below
 * DISPATCH_LEVEL the processor's DPC queue drains. Every lowering is a
 * scheduling point. The WDK inlines these as CR8 moves; wdmsim's headers
 * make them calls so that each is checked.
 * Spec: verifier.md 4: irql.raise-lower, irql.lower-higher, irql.api,
 * irql.paged-code.
 * Invariants: processor.irql <= HIGH_LEVEL; a DPC routine never runs while
 * its processor's IRQL was >= DISPATCH_LEVEL before the drain began.
 */
#include <wdm.h>

#include "sys.h"

/* Force IRQL checking (verifier option 0x2): every raise to DISPATCH_LEVEL
 * or above trims pageable memory, so that touching it there faults every
 * time instead of when memory happens to be short (src/mm/paging.c). */
void ke_force_irql_trim(struct ke *ke)
{
    struct sys *sys = sys_get();
    if (sys->vf.options & vf_opt_irql_checking)
        mm_trim_all(&sys->mm);
    (void)ke;
}

uint8_t ke_raise_irql(struct ke *ke, uint8_t irql)
{
    struct ke_processor *pr = ke_current_processor(ke);
    uint8_t old = pr->irql;
    pr->irql = irql;
    if (irql != old)
        ke_trace(ke, ke_ev_irql, irql);
    if (irql >= DISPATCH_LEVEL && old < DISPATCH_LEVEL)
        ke_force_irql_trim(ke);
    return old;
}

void ke_lower_irql(struct ke *ke, uint8_t irql)
{
    struct ke_processor *pr = ke_current_processor(ke);
    if (pr->irql != irql)
        ke_trace(ke, ke_ev_irql, irql);
    pr->irql = irql;
    if (!ke->running || ke->on_host)
        return;
    int line;
    while ((line = ke_interrupt_deliverable(ke, pr->number)) >= 0 && !ke_stopped(ke))
        ke_interrupt_deliver(ke, (unsigned)line);
    if (pr->irql < DISPATCH_LEVEL && pr->dpc_count && !pr->dpc_active)
        ke_dpc_drain(ke);
    ke_sched_point(ke);
}

/* ---- the driver-facing routines ------------------------------------------------- */

const struct vf_rule ke_rule_raise_lower = {
    .id = "irql.raise-lower",
    .code = 0xC4,
    .p1 = 0x30,
    .params = {"current IRQL", "requested IRQL", "0"},
    .text = "KeRaiseIrql to an IRQL below the current one (or above HIGH_LEVEL)",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/irql-raise-lower",
};

const struct vf_rule ke_rule_lower_higher = {
    .id = "irql.lower-higher",
    .code = 0xC4,
    .p1 = 0x31,
    .params = {"current IRQL", "requested IRQL", "0: above current; 1: below DISPATCH in a DPC"},
    .text = "KeLowerIrql to an IRQL above the current one (or below DISPATCH_LEVEL in a DPC)",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/irql-lower-higher",
};

NTHALAPI KIRQL NTAPI KeGetCurrentIrql(VOID)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    return ke_irql(ke);
}

NTHALAPI VOID NTAPI KeRaiseIrql(KIRQL NewIrql, PKIRQL OldIrql)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    uint8_t cur = ke_irql(ke);
    if (NewIrql < cur || NewIrql > HIGH_LEVEL)
        vf_fire(&ke_rule_raise_lower, cur, NewIrql, 0,
                "KeRaiseIrql(%u) at IRQL %u: raising must not lower", NewIrql, cur);
    *OldIrql = ke_raise_irql(ke, NewIrql);
}

NTKERNELAPI KIRQL NTAPI KeRaiseIrqlToDpcLevel(VOID)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    uint8_t cur = ke_irql(ke);
    if (cur > DISPATCH_LEVEL)
        vf_fire(&ke_rule_raise_lower, cur, DISPATCH_LEVEL, 0,
                "KeRaiseIrqlToDpcLevel at IRQL %u: raising must not lower", cur);
    return ke_raise_irql(ke, DISPATCH_LEVEL);
}

NTKERNELAPI KIRQL NTAPI KeRaiseIrqlToSynchLevel(VOID)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    uint8_t cur = ke_irql(ke);
    if (cur > SYNCH_LEVEL)
        vf_fire(&ke_rule_raise_lower, cur, SYNCH_LEVEL, 0,
                "KeRaiseIrqlToSynchLevel at IRQL %u: raising must not lower", cur);
    return ke_raise_irql(ke, SYNCH_LEVEL);
}

NTHALAPI VOID NTAPI KeLowerIrql(KIRQL NewIrql)
{
    struct ke *ke = &sys_get()->ke;
    struct ke_processor *pr = ke_current_processor(ke);
    uint8_t cur = pr->irql;
    if (NewIrql > cur || NewIrql > HIGH_LEVEL)
        vf_fire(&ke_rule_lower_higher, cur, NewIrql, 0,
                "KeLowerIrql(%u) at IRQL %u: lowering must not raise", NewIrql, cur);
    else if (pr->dpc_active && pr->isr_depth == 0 && NewIrql < DISPATCH_LEVEL)
        vf_fire(&ke_rule_lower_higher, cur, NewIrql, 1,
                "KeLowerIrql(%u) inside a DPC routine: a DPC runs at DISPATCH_LEVEL", NewIrql);
    ke_lower_irql(ke, NewIrql);
}

/* ---- routines called above their maximum IRQL ---------------------------------- */

const struct vf_rule ke_rule_irql_api = {
    .id = "irql.api",
    .code = 0xC4,
    .p1 = 0x00020011,
    .params = {"current IRQL", "highest IRQL the routine allows", "routine name (char *)"},
    .text = "a routine was called above its maximum IRQL (P1: the DDI compliance rule, e.g. "
            "0x00020011 IrqlKeDispatchLte; 0xE5 where no DDI rule names the routine)",
    .option = vf_opt_ddi,
    .fixture = "tests/fixtures/irql-api",
};

void ke_check_irql_max(struct ke *ke, uint8_t max, uint32_t ddi_code, const char *routine)
{
    uint8_t cur = ke_irql(ke);
    if (cur <= max)
        return;
    ke_violation(&ke_rule_irql_api, ddi_code ? ddi_code : 0xE5, cur, max,
                 (uint64_t)(uintptr_t)routine, "%s called at IRQL %u; it allows at most %u",
                 routine, cur, max);
}

/* ---- PAGED_CODE() ------------------------------------------------------------------ */

const struct vf_rule ke_rule_paged_code = {
    .id = "irql.paged-code",
    .code = 0xC4,
    .p1 = 0x57000001,
    .params = {"current IRQL", "address inside the function", "0"},
    .text = "PAGED_CODE(): a pageable function runs above APC_LEVEL (Windows checks this only "
            "in checked builds)",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/irql-paged-code",
};

NTKERNELAPI VOID NTAPI ke_paged_code_check(PCSTR Function)
{
    struct ke *ke = &sys_get()->ke;
    uint8_t cur = ke_irql(ke);
    if (cur > APC_LEVEL)
        vf_fire(&ke_rule_paged_code, cur, (uint64_t)(uintptr_t)__builtin_return_address(0), 0,
                "PAGED_CODE() in %.120s at IRQL %u", Function ? Function : "?", cur);
}

/* ---- processors --------------------------------------------------------------------- */

NTKERNELAPI ULONG NTAPI KeGetCurrentProcessorNumber(VOID)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    return ke->current;
}

NTKERNELAPI ULONG NTAPI KeGetCurrentProcessorNumberEx(PPROCESSOR_NUMBER ProcNumber)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    if (ProcNumber) {
        ProcNumber->Group = 0;
        ProcNumber->Number = (UCHAR)ke->current;
        ProcNumber->Reserved = 0;
    }
    return ke->current;
}

NTKERNELAPI ULONG NTAPI KeQueryActiveProcessorCount(PKAFFINITY ActiveProcessors)
{
    struct ke *ke = &sys_get()->ke;
    if (ActiveProcessors)
        *ActiveProcessors =
            ke->nprocessors >= 64 ? ~(KAFFINITY)0 : (((KAFFINITY)1 << ke->nprocessors) - 1);
    return ke->nprocessors;
}

NTKERNELAPI ULONG NTAPI KeQueryActiveProcessorCountEx(USHORT GroupNumber)
{
    struct ke *ke = &sys_get()->ke;
    return (GroupNumber == 0 || GroupNumber == ALL_PROCESSOR_GROUPS) ? ke->nprocessors : 0;
}

NTKERNELAPI KAFFINITY NTAPI KeQueryActiveProcessors(VOID)
{
    KAFFINITY a;
    KeQueryActiveProcessorCount(&a);
    return a;
}

NTKERNELAPI PKTHREAD NTAPI KeGetCurrentThread(VOID)
{
    struct ke *ke = &sys_get()->ke;
    return (PKTHREAD)ke_current_thread(ke);
}
