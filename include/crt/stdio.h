/*
 * include/crt/stdio.h - the formatted-output functions ntoskrnl exports.
 *
 * Models: the kernel CRT's <stdio.h>: string formatting only (there are no
 * FILE streams in the kernel), Microsoft semantics: _snprintf/_vsnprintf
 * return -1 and leave no NUL when the text does not fit; swprintf has the old
 * Microsoft signature without a count. Formats are the kernel's (%wZ, %ws,
 * %I64x, %ld is 32-bit): spec/ke_rtl_registry.md 8.
 * Spec: ARCHITECTURE.md 10.
 * Invariants: the archive's wrappers (src/crt/printf.c) call the kernel's
 * engine exports rtl_crt_vsnprintf / rtl_crt_vsnwprintf (src/crt/engine.h),
 * never a name glibc also defines, so no glibc function is reachable.
 * Not modelled: printf (no console: use DbgPrint), scanf, files.
 */
#ifndef _WDMSIM_STDIO_H
#define _WDMSIM_STDIO_H

#include <_wdmsim_crt.h>
#include <stdarg.h>

#ifndef EOF
#define EOF (-1)
#endif

int sprintf(char *buffer, const char *format, ...);
int vsprintf(char *buffer, const char *format, va_list args);
int _snprintf(char *buffer, size_t count, const char *format, ...);
int _vsnprintf(char *buffer, size_t count, const char *format, va_list args);
int swprintf(wchar_t *buffer, const wchar_t *format, ...);
int _snwprintf(wchar_t *buffer, size_t count, const wchar_t *format, ...);
int _vsnwprintf(wchar_t *buffer, size_t count, const wchar_t *format, va_list args);

#endif
