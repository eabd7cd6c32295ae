/*
 * src/crt/printf.c - the sprintf family as thin wrappers over the kernel's
 * formatting engine.
 *
 * Models: ntoskrnl's sprintf, _snprintf, _vsnprintf, swprintf (Microsoft
 * signature, no count), _snwprintf, _vsnwprintf. The text is produced by
 * rtl_crt_vsnprintf / rtl_crt_vsnwprintf in the wdmsim process (one engine,
 * shared with DbgPrint and ntstrsafe, kernel format conventions).
 * Spec: spec/ke_rtl_registry.md 8; src/crt/engine.h for the contract.
 * Invariants: no wrapper formats anything itself; a driver that uses one of
 * these and runs on a wdmsim without the engine fails to load with an
 * undefined rtl_crt_* symbol instead of reaching glibc's sprintf.
 */
#include <stdio.h>
#include "engine.h"

int _vsnprintf(char *buffer, size_t count, const char *format, va_list args)
{
    return rtl_crt_vsnprintf(buffer, count, format, args);
}

int vsprintf(char *buffer, const char *format, va_list args)
{
    return rtl_crt_vsnprintf(buffer, rtl_crt_unbounded, format, args);
}

int _snprintf(char *buffer, size_t count, const char *format, ...)
{
    va_list args;
    int n;

    va_start(args, format);
    n = rtl_crt_vsnprintf(buffer, count, format, args);
    va_end(args);
    return n;
}

int sprintf(char *buffer, const char *format, ...)
{
    va_list args;
    int n;

    va_start(args, format);
    n = rtl_crt_vsnprintf(buffer, rtl_crt_unbounded, format, args);
    va_end(args);
    return n;
}

int _vsnwprintf(wchar_t *buffer, size_t count, const wchar_t *format, va_list args)
{
    return rtl_crt_vsnwprintf(buffer, count, format, args);
}

int _snwprintf(wchar_t *buffer, size_t count, const wchar_t *format, ...)
{
    va_list args;
    int n;

    va_start(args, format);
    n = rtl_crt_vsnwprintf(buffer, count, format, args);
    va_end(args);
    return n;
}

int swprintf(wchar_t *buffer, const wchar_t *format, ...)
{
    va_list args;
    int n;

    va_start(args, format);
    n = rtl_crt_vsnwprintf(buffer, rtl_crt_unbounded, format, args);
    va_end(args);
    return n;
}
