/*
 * src/ke/float.c - KeSaveFloatingPointState / KeRestoreFloatingPointState.
 *
 * Models: the pair's contract on x64 (spec/memory.md 8): save at <=
 * DISPATCH_LEVEL, restore with the same save area at the same IRQL and in
 * LIFO order. Nothing needs saving for real: the compiler preserves the SSE
 * registers it uses, and each simulated thread's fiber switch carries its
 * own FP state. The save area (4 opaque bytes) holds a cookie: a marker, the
 * IRQL at the save and the nesting depth it opened, which the restore checks.
 * Spec: spec/memory.md 8; rule ke.fpsave-mismatch.
 * Not modelled: STATUS_ILLEGAL_FLOAT_CONTEXT (no FP emulation); detecting
 * FP use at DISPATCH_LEVEL without a save: on x64 that is legal for SSE,
 * and x87/MMX use cannot be trapped from user space (no CR0.TS), so there
 * is nothing wdmsim can check reliably (docs/memory.md).
 */
#include <wdm.h>

#include "sys.h"

enum { fp_marker = 0xF5u << 24 };

static const struct vf_rule rule_fpsave_mismatch = {
    .id = "ke.fpsave-mismatch",
    .code = 0xC4,
    .p1 = 0x57000002,
    .params = {"save area", "IRQL at the save", "IRQL now"},
    .text = "KeRestoreFloatingPointState at another IRQL than its save, out of LIFO order, or "
            "with a save area no KeSaveFloatingPointState filled",
    .option = vf_opt_os,
    .fixture = "tests/fixtures/ke-fpsave-mismatch",
};

const struct vf_rule *const ke_float_vf_rules[ke_float_vf_rule_count] = {
    &rule_fpsave_mismatch,
};

/* The nesting counter lives with the thread: a PASSIVE_LEVEL thread may be
 * preempted between its save and restore while another thread saves. */
static uint32_t *nesting(struct ke *ke)
{
    struct ke_thread *t = ke_current_processor(ke)->thread;
    return t ? &t->fp_saves : NULL;
}

NTKERNELAPI NTSTATUS NTAPI KeSaveFloatingPointState(PKFLOATING_SAVE FloatSave)
{
    struct ke *ke = &sys_get()->ke;
    ke_check_irql_max(ke, DISPATCH_LEVEL, 0x00020011, "KeSaveFloatingPointState");
    uint32_t *n = nesting(ke);
    uint32_t depth = n ? ++*n : 1;
    FloatSave->Dummy = fp_marker | ((ULONG)ke_irql(ke) << 16) | (depth & 0xFFFF);
    return STATUS_SUCCESS;
}

NTKERNELAPI NTSTATUS NTAPI KeRestoreFloatingPointState(PKFLOATING_SAVE FloatSave)
{
    struct ke *ke = &sys_get()->ke;
    ULONG cookie = FloatSave->Dummy;
    uint8_t irql = ke_irql(ke), saved = (cookie >> 16) & 0xFF;
    uint32_t *n = nesting(ke);
    uint32_t top = n ? *n : 1;
    if ((cookie & 0xFF000000u) != fp_marker)
        vf_fire(&rule_fpsave_mismatch, (uintptr_t)FloatSave, 0, irql,
                "KeRestoreFloatingPointState(%p): the area holds no saved state (never saved, "
                "or restored twice)",
                (void *)FloatSave);
    else if (saved != irql)
        vf_fire(&rule_fpsave_mismatch, (uintptr_t)FloatSave, saved, irql,
                "KeRestoreFloatingPointState(%p) at IRQL %u; the state was saved at IRQL %u",
                (void *)FloatSave, irql, saved);
    else if ((cookie & 0xFFFF) != (top & 0xFFFF))
        vf_fire(&rule_fpsave_mismatch, (uintptr_t)FloatSave, saved, irql,
                "KeRestoreFloatingPointState(%p) out of order: it opened save %u, the innermost "
                "open save is %u",
                (void *)FloatSave, cookie & 0xFFFF, top);
    if (n && *n)
        --*n;
    FloatSave->Dummy = 0;
    return STATUS_SUCCESS;
}
