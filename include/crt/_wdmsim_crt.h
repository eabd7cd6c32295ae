/*
 * include/crt/_wdmsim_crt.h - shared prelude of wdmsim's driver CRT headers.
 *
 * Models: the kernel-mode CRT environment of a Windows x64 driver build: the
 * Microsoft x64 calling convention for every function, 16-bit wchar_t, and
 * only the CRT subset ntoskrnl exports (no glibc behind it).
 * Spec: ARCHITECTURE.md 10; docs/abi.md.
 * Invariants: included only by a driver build (-mabi=ms -fshort-wchar
 * -nostdinc); a build that forgot a flag fails here instead of calling into
 * the CRT archive with the wrong convention.
 * Not modelled: locales (everything is the "C" locale), errno.
 */
#ifndef _WDMSIM_CRT_H
#define _WDMSIM_CRT_H

#if !defined(__x86_64__)
#error "wdmsim drivers are built for x86-64 only"
#endif
#if !defined(__SIZEOF_WCHAR_T__) || __SIZEOF_WCHAR_T__ != 2
#error "wdmsim driver builds need -fshort-wchar (WCHAR is 16-bit); use pkg-config --cflags wdmsim"
#endif
/* Under -mabi=ms the compiler's own va_list is the Microsoft one: that is the
 * only observable trace of the flag, so test it to catch a sysv build. */
_Static_assert(__builtin_types_compatible_p(__builtin_va_list, __builtin_ms_va_list),
               "wdmsim driver builds need -mabi=ms; use pkg-config --cflags wdmsim");

#include <stddef.h>

#endif
