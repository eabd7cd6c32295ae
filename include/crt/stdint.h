/*
 * include/crt/stdint.h - exact-width integer types for driver builds.
 *
 * gcc's own <stdint.h> defers to the C library's in a hosted compile, which
 * -nostdinc removes; its freestanding half, <stdint-gcc.h>, is complete, so
 * use that. int64_t is `long` here (LP64 target), which is the same width as
 * the WDK's LONG64; use the NT types (ULONG, ULONG64) in driver interfaces.
 * Spec: ARCHITECTURE.md 10; docs/abi.md.
 */
#ifndef _WDMSIM_STDINT_H
#define _WDMSIM_STDINT_H
#if defined(__clang__)
#include_next <stdint.h>
#else
#include <stdint-gcc.h>
#endif
#endif
