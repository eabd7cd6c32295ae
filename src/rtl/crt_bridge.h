/*
 * src/rtl/crt_bridge.h - kernel exports the driver CRT archive (src/crt)
 * calls for the sprintf family and for memcpy's overlap check.
 *
 * Models: ntoskrnl exporting _vsnprintf, swprintf ... itself. wdmsim cannot
 * export those names from its process (they would interpose glibc's for the
 * whole process), so the CRT's functions are thin wrappers around these
 * non-colliding names. Read by two builds: the kernel (sysv host code,
 * ms_abi on these) and the CRT archive (-mabi=ms -fshort-wchar), so it uses
 * only compiler types: a WCHAR is an unsigned short in both.
 * Spec: spec/ke_rtl_registry.md 6, 8; spec/verifier.md rtl.overlap;
 * docs/rtl.md.
 * Formats: Microsoft's conventions (docs/rtl.md); in the wide functions %s
 * and %c are wide and %S and %C narrow.
 */
#ifndef WDMSIM_RTL_CRT_BRIDGE_H
#define WDMSIM_RTL_CRT_BRIDGE_H

#include <stddef.h>

#define RTL_CRT_BRIDGE_API __attribute__((ms_abi, visibility("default")))

/* _vsnprintf / _vsnwprintf: stores at most count units. Returns the units
 * written when the text fits (a NUL follows if there is room for it:
 * exactly count units leaves none); -1 when truncated (count units stored,
 * no NUL). buf NULL with count 0 returns the length the text needs. */
RTL_CRT_BRIDGE_API int rtl_crt_vsnprintf(char *buf, size_t count, const char *fmt,
                                         __builtin_ms_va_list ap);
RTL_CRT_BRIDGE_API int rtl_crt_vsnwprintf(unsigned short *buf, size_t count,
                                          const unsigned short *fmt, __builtin_ms_va_list ap);

/* vsprintf / vswprintf (no count): unbounded, always NUL-terminated.
 * Returns the units written, the NUL excluded. */
RTL_CRT_BRIDGE_API int rtl_crt_vsprintf(char *buf, const char *fmt, __builtin_ms_va_list ap);
RTL_CRT_BRIDGE_API int rtl_crt_vswprintf(unsigned short *buf, const unsigned short *fmt,
                                         __builtin_ms_va_list ap);

/* For ntstrsafe's UNICODE_STRING forms, which never add a terminator:
 * stores at most count units, writes no NUL, returns the full length. */
RTL_CRT_BRIDGE_API size_t rtl_crt_vsnwprintf_counted(unsigned short *buf, size_t count,
                                                     const unsigned short *fmt,
                                                     __builtin_ms_va_list ap);

/* memcpy's verifier hook: stops the machine with rtl.overlap (0xC4/0xF0,
 * P2 dst, P3 src, P4 n) when [dst, dst+n) and [src, src+n) overlap and the
 * rule is on; otherwise returns. Cheap when the verifier is off. dst is not
 * const although nothing is read: gcc's -Wmaybe-uninitialized treats a
 * fresh buffer passed as a const pointer as read. */
RTL_CRT_BRIDGE_API void rtl_crt_check_copy(void *dst, const void *src, size_t n);

/* Large block moves for the CRT's memcpy / memmove / memset: the archive
 * forwards blocks of at least RTL_CRT_BULK bytes here so that drivers copy
 * at the host's vectorised speed (a DMA bounce or an RtlCopyMemory of a
 * page should not run a byte loop). Same contracts as the C functions;
 * rtl_crt_memcpy applies the overlap check first. */
#define RTL_CRT_BULK 256
RTL_CRT_BRIDGE_API void *rtl_crt_memcpy(void *dst, const void *src, size_t n);
RTL_CRT_BRIDGE_API void *rtl_crt_memmove(void *dst, const void *src, size_t n);
RTL_CRT_BRIDGE_API void *rtl_crt_memset(void *dst, int c, size_t n);

#endif
