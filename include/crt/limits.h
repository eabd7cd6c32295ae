/*
 * include/crt/limits.h - integer limits for driver builds.
 *
 * gcc's <limits.h> chains to the C library's, which -nostdinc removes, so
 * the limits are written here from the compiler's predefined macros. They
 * describe the real C types of this build: LONG_MAX is 2^63-1 because `long`
 * is 64-bit in an ELF build (Windows: 2^31-1). The NT limits (MAXLONG,
 * MAXULONG) in <ntdef.h> are Windows' and are the ones drivers should use.
 * Spec: ARCHITECTURE.md 10; docs/abi.md.
 */
#ifndef _WDMSIM_LIMITS_H
#define _WDMSIM_LIMITS_H

#define CHAR_BIT  __CHAR_BIT__
#define SCHAR_MAX __SCHAR_MAX__
#define SCHAR_MIN (-SCHAR_MAX - 1)
#define UCHAR_MAX (SCHAR_MAX * 2 + 1)
#ifdef __CHAR_UNSIGNED__
#define CHAR_MIN 0
#define CHAR_MAX UCHAR_MAX
#else
#define CHAR_MIN SCHAR_MIN
#define CHAR_MAX SCHAR_MAX
#endif
#define MB_LEN_MAX 5
#define SHRT_MAX   __SHRT_MAX__
#define SHRT_MIN   (-SHRT_MAX - 1)
#define USHRT_MAX  (SHRT_MAX * 2 + 1)
#define INT_MAX    __INT_MAX__
#define INT_MIN    (-INT_MAX - 1)
#define UINT_MAX   (INT_MAX * 2U + 1U)
#define LONG_MAX   __LONG_MAX__
#define LONG_MIN   (-LONG_MAX - 1L)
#define ULONG_MAX  (LONG_MAX * 2UL + 1UL)
#define LLONG_MAX  __LONG_LONG_MAX__
#define LLONG_MIN  (-LLONG_MAX - 1LL)
#define ULLONG_MAX (LLONG_MAX * 2ULL + 1ULL)

/* Microsoft's sized limits, which keep their Windows meaning. */
#define _I8_MIN   (-127 - 1)
#define _I8_MAX   127
#define _UI8_MAX  0xffU
#define _I16_MIN  (-32767 - 1)
#define _I16_MAX  32767
#define _UI16_MAX 0xffffU
#define _I32_MIN  (-2147483647 - 1)
#define _I32_MAX  2147483647
#define _UI32_MAX 0xffffffffU
#define _I64_MIN  (-9223372036854775807LL - 1)
#define _I64_MAX  9223372036854775807LL
#define _UI64_MAX 0xffffffffffffffffULL

#endif
