/*
 * include/ddk/wdm/float.h - part of wdm.h: saving floating-point state.
 *
 * Models: KeSaveFloatingPointState / KeRestoreFloatingPointState. On x64
 * the compiler preserves the SSE registers kernel code uses, so the pair is
 * needed only for x87/MMX (forbidden) and portability; wdmsim tracks it for
 * the ke.fpsave-mismatch rule. KFLOATING_SAVE (ke.h) is 4 opaque bytes.
 * Spec: spec/memory.md 8.
 */
#pragma once

/* <= DISPATCH_LEVEL. STATUS_SUCCESS; the state stays saved until the
 * matching restore, which must run at the same IRQL, properly nested. */
NTKERNELAPI NTSTATUS NTAPI KeSaveFloatingPointState(PKFLOATING_SAVE FloatSave);
NTKERNELAPI NTSTATUS NTAPI KeRestoreFloatingPointState(PKFLOATING_SAVE FloatSave);
