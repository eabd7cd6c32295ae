/*
 * src/crt/engine.h - the formatting engine the CRT archive borrows from the
 * kernel.
 *
 * Models: the split ARCHITECTURE.md 10 prescribes: the sprintf family lives
 * in every driver as a thin wrapper (src/crt/printf.c) and the formatter
 * itself is one kernel export under a name glibc does not define, so that
 * exporting it from the wdmsim process interposes nothing.
 * Spec: spec/ke_rtl_registry.md 8 (format conventions).
 * Invariants: read by two builds - the archive (driver flags, -mabi=ms) and
 * src/rtl (host, sysv) - so the prototypes spell out ms_abi and use no type
 * whose width differs between them (wchar_t does: 2 vs 4 bytes).
 * Not modelled: the engine itself; src/rtl implements it.
 *
 * Contract (both functions), Microsoft _vsnprintf semantics:
 *   count == rtl_crt_unbounded: no limit (sprintf, swprintf).
 *   length < count: writes the text and a NUL, returns length.
 *   length == count: writes the text, no NUL, returns length.
 *   length > count: writes the first count units, no NUL, returns -1.
 * Units are bytes for the narrow engine and 16-bit code units for the wide.
 */
#ifndef WDMSIM_CRT_ENGINE_H
#define WDMSIM_CRT_ENGINE_H

#include <stddef.h>

#define rtl_crt_unbounded ((size_t)-1)

__attribute__((ms_abi, visibility("default"))) int
rtl_crt_vsnprintf(char *buffer, size_t count, const char *format, __builtin_ms_va_list args);
__attribute__((ms_abi, visibility("default"))) int rtl_crt_vsnwprintf(unsigned short *buffer,
                                                                      size_t count,
                                                                      const unsigned short *format,
                                                                      __builtin_ms_va_list args);

#endif
