/*
 * include/crt/stdlib.h - the conversion, sorting and arithmetic helpers
 * ntoskrnl exports to drivers.
 *
 * Models: the kernel CRT's <stdlib.h>. There is no malloc in the kernel: use
 * ExAllocatePool2 / ExAllocatePoolWithTag.
 * Spec: ARCHITECTURE.md 10; docs/abi.md (long is 64-bit here).
 * Invariants: every function declared here has a definition in src/crt.
 * Not modelled: errno (strtol/strtoul saturate but set nothing), wide
 * conversions (wcstol), rand, the floating-point conversions.
 */
#ifndef _WDMSIM_STDLIB_H
#define _WDMSIM_STDLIB_H

#include <_wdmsim_crt.h>

/* `long` is 64-bit in an ELF build (Windows: 32). atol/strtol/labs follow
 * the compiler's long so that declarations and definitions agree; drivers
 * that need Windows' width use LONG/ULONG with strtol and a cast. */
int atoi(const char *s);
long atol(const char *s);
long long _atoi64(const char *s);
long strtol(const char *s, char **end, int base);
unsigned long strtoul(const char *s, char **end, int base);
long long _strtoi64(const char *s, char **end, int base);
unsigned long long _strtoui64(const char *s, char **end, int base);

void qsort(void *base, size_t count, size_t size, int (*compare)(const void *a, const void *b));
void *bsearch(const void *key, const void *base, size_t count, size_t size,
              int (*compare)(const void *key, const void *elem));

int abs(int v);
long labs(long v);
long long llabs(long long v);
long long _abs64(long long v);

#define __min(a, b) (((a) < (b)) ? (a) : (b))
#define __max(a, b) (((a) > (b)) ? (a) : (b))
#ifndef _countof
#define _countof(a) (sizeof(a) / sizeof((a)[0]))
#endif

#endif
