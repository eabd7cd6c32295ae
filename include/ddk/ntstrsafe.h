/*
 * include/ddk/ntstrsafe.h - the safe string functions, inline, as in the WDK.
 *
 * Models: RtlStringCb* (sizes in bytes) and RtlStringCch* (sizes in
 * characters), A and W, for Copy, CopyN, Cat, CatN, Printf, VPrintf,
 * Length; the UNICODE_STRING forms Init, Validate, Copy, CopyString, Cat,
 * CatString, Printf, VPrintf. Formatting is the kernel's one engine,
 * reached through the rtl_crt_* exports (src/rtl/crt_bridge.h).
 * Spec: spec/ke_rtl_registry.md 5 "ntstrsafe", 8 (formats).
 * Results: STATUS_SUCCESS (complete, terminated); STATUS_BUFFER_OVERFLOW
 * (truncated, still terminated); STATUS_INVALID_PARAMETER (size 0 or over
 * the limit, NULL pointer, destination not terminated within its size).
 * UNICODE_STRING forms never add a terminator. Copies ask the kernel for
 * the rtl.overlap check.
 * Not modelled: the Ex forms (flags, end pointer, remaining).
 */
#ifndef _NTSTRSAFE_H_INCLUDED_
#define _NTSTRSAFE_H_INCLUDED_

#include <stddef.h>

#include <ntdef.h>
#include <ntstatus.h>

#define NTSTRSAFE_MAX_CCH                2147483647
#define NTSTRSAFE_UNICODE_STRING_MAX_CCH 32767

#define STRSAFE_IGNORE_NULLS     0x00000100
#define STRSAFE_FILL_BEHIND_NULL 0x00000200
#define STRSAFE_FILL_ON_FAILURE  0x00000400
#define STRSAFE_NULL_ON_FAILURE  0x00000800
#define STRSAFE_NO_TRUNCATION    0x00001000

typedef char *NTSTRSAFE_PSTR;
typedef const char *NTSTRSAFE_PCSTR;
typedef WCHAR *NTSTRSAFE_PWSTR;
typedef const WCHAR *NTSTRSAFE_PCWSTR;

#define NTSTRSAFEDDI static inline NTSTATUS NTAPI

/* Kernel exports (src/rtl/crt_bridge.h has the contracts). */
__attribute__((ms_abi, visibility("default"))) int
rtl_crt_vsnprintf(char *buf, size_t count, const char *fmt, __builtin_ms_va_list ap);
__attribute__((ms_abi, visibility("default"))) int rtl_crt_vsnwprintf(unsigned short *buf,
                                                                      size_t count,
                                                                      const unsigned short *fmt,
                                                                      __builtin_ms_va_list ap);
__attribute__((ms_abi, visibility("default"))) size_t
rtl_crt_vsnwprintf_counted(unsigned short *buf, size_t count, const unsigned short *fmt,
                           __builtin_ms_va_list ap);
__attribute__((ms_abi, visibility("default"))) void rtl_crt_check_copy(void *dst, const void *src,
                                                                       size_t n);

/* ---- one implementation for both widths (w: 0 char, 1 WCHAR) -------------- */

static inline unsigned rtl_strsafe_get(const void *s, size_t i, int w)
{
    return w ? ((const WCHAR *)s)[i] : ((const unsigned char *)s)[i];
}

static inline void rtl_strsafe_put(void *d, size_t i, unsigned c, int w)
{
    if (w)
        ((WCHAR *)d)[i] = (WCHAR)c;
    else
        ((char *)d)[i] = (char)c;
}

/* Copies src (at most max_src units, stopping at its NUL) into dst of cch
 * units and terminates it. */
static inline NTSTATUS rtl_strsafe_copy(void *dst, size_t cch, const void *src, size_t max_src,
                                        int w)
{
    size_t unit = w ? sizeof(WCHAR) : 1, n = 0;
    if (!dst || cch == 0 || cch > NTSTRSAFE_MAX_CCH)
        return STATUS_INVALID_PARAMETER;
    if (!src || max_src > NTSTRSAFE_MAX_CCH) {
        rtl_strsafe_put(dst, 0, 0, w);
        return STATUS_INVALID_PARAMETER;
    }
    while (n < cch - 1 && n < max_src && rtl_strsafe_get(src, n, w))
        n++;
    rtl_crt_check_copy(dst, src, (n + 1) * unit);
    for (size_t i = 0; i < n; i++)
        rtl_strsafe_put(dst, i, rtl_strsafe_get(src, i, w), w);
    rtl_strsafe_put(dst, n, 0, w);
    return n < max_src && rtl_strsafe_get(src, n, w) ? STATUS_BUFFER_OVERFLOW : STATUS_SUCCESS;
}

static inline NTSTATUS rtl_strsafe_cat(void *dst, size_t cch, const void *src, size_t max_src,
                                       int w)
{
    size_t unit = w ? sizeof(WCHAR) : 1, len = 0;
    if (!dst || cch == 0 || cch > NTSTRSAFE_MAX_CCH)
        return STATUS_INVALID_PARAMETER;
    while (len < cch && rtl_strsafe_get(dst, len, w))
        len++;
    if (len == cch || !src)
        return STATUS_INVALID_PARAMETER; /* destination not terminated */
    return rtl_strsafe_copy((char *)dst + len * unit, cch - len, src, max_src, w);
}

static inline NTSTATUS rtl_strsafe_length(const void *s, size_t cch_max, size_t *cch, int w)
{
    size_t n = 0;
    if (s && cch_max != 0 && cch_max <= NTSTRSAFE_MAX_CCH) {
        while (n < cch_max && rtl_strsafe_get(s, n, w))
            n++;
        if (n < cch_max) {
            if (cch)
                *cch = n;
            return STATUS_SUCCESS;
        }
    }
    if (cch)
        *cch = 0;
    return STATUS_INVALID_PARAMETER;
}

/* Byte sizes to character counts; an over-limit size stays over the limit. */
static inline size_t rtl_strsafe_cb_to_cch(size_t cb, int w)
{
    size_t unit = w ? sizeof(WCHAR) : 1;
    return cb / unit > NTSTRSAFE_MAX_CCH ? (size_t)NTSTRSAFE_MAX_CCH + 1 : cb / unit;
}

/* ---- Copy, CopyN, Cat, CatN ------------------------------------------------ */

NTSTRSAFEDDI RtlStringCchCopyA(NTSTRSAFE_PSTR pszDest, size_t cchDest, NTSTRSAFE_PCSTR pszSrc)
{
    return rtl_strsafe_copy(pszDest, cchDest, pszSrc, NTSTRSAFE_MAX_CCH, 0);
}
NTSTRSAFEDDI RtlStringCchCopyW(NTSTRSAFE_PWSTR pszDest, size_t cchDest, NTSTRSAFE_PCWSTR pszSrc)
{
    return rtl_strsafe_copy(pszDest, cchDest, pszSrc, NTSTRSAFE_MAX_CCH, 1);
}
NTSTRSAFEDDI RtlStringCbCopyA(NTSTRSAFE_PSTR pszDest, size_t cbDest, NTSTRSAFE_PCSTR pszSrc)
{
    return rtl_strsafe_copy(pszDest, rtl_strsafe_cb_to_cch(cbDest, 0), pszSrc, NTSTRSAFE_MAX_CCH,
                            0);
}
NTSTRSAFEDDI RtlStringCbCopyW(NTSTRSAFE_PWSTR pszDest, size_t cbDest, NTSTRSAFE_PCWSTR pszSrc)
{
    return rtl_strsafe_copy(pszDest, rtl_strsafe_cb_to_cch(cbDest, 1), pszSrc, NTSTRSAFE_MAX_CCH,
                            1);
}

NTSTRSAFEDDI RtlStringCchCopyNA(NTSTRSAFE_PSTR pszDest, size_t cchDest, NTSTRSAFE_PCSTR pszSrc,
                                size_t cchToCopy)
{
    return rtl_strsafe_copy(pszDest, cchDest, pszSrc, cchToCopy, 0);
}
NTSTRSAFEDDI RtlStringCchCopyNW(NTSTRSAFE_PWSTR pszDest, size_t cchDest, NTSTRSAFE_PCWSTR pszSrc,
                                size_t cchToCopy)
{
    return rtl_strsafe_copy(pszDest, cchDest, pszSrc, cchToCopy, 1);
}
NTSTRSAFEDDI RtlStringCbCopyNA(NTSTRSAFE_PSTR pszDest, size_t cbDest, NTSTRSAFE_PCSTR pszSrc,
                               size_t cbToCopy)
{
    return rtl_strsafe_copy(pszDest, rtl_strsafe_cb_to_cch(cbDest, 0), pszSrc,
                            rtl_strsafe_cb_to_cch(cbToCopy, 0), 0);
}
NTSTRSAFEDDI RtlStringCbCopyNW(NTSTRSAFE_PWSTR pszDest, size_t cbDest, NTSTRSAFE_PCWSTR pszSrc,
                               size_t cbToCopy)
{
    return rtl_strsafe_copy(pszDest, rtl_strsafe_cb_to_cch(cbDest, 1), pszSrc,
                            rtl_strsafe_cb_to_cch(cbToCopy, 1), 1);
}

NTSTRSAFEDDI RtlStringCchCatA(NTSTRSAFE_PSTR pszDest, size_t cchDest, NTSTRSAFE_PCSTR pszSrc)
{
    return rtl_strsafe_cat(pszDest, cchDest, pszSrc, NTSTRSAFE_MAX_CCH, 0);
}
NTSTRSAFEDDI RtlStringCchCatW(NTSTRSAFE_PWSTR pszDest, size_t cchDest, NTSTRSAFE_PCWSTR pszSrc)
{
    return rtl_strsafe_cat(pszDest, cchDest, pszSrc, NTSTRSAFE_MAX_CCH, 1);
}
NTSTRSAFEDDI RtlStringCbCatA(NTSTRSAFE_PSTR pszDest, size_t cbDest, NTSTRSAFE_PCSTR pszSrc)
{
    return rtl_strsafe_cat(pszDest, rtl_strsafe_cb_to_cch(cbDest, 0), pszSrc, NTSTRSAFE_MAX_CCH, 0);
}
NTSTRSAFEDDI RtlStringCbCatW(NTSTRSAFE_PWSTR pszDest, size_t cbDest, NTSTRSAFE_PCWSTR pszSrc)
{
    return rtl_strsafe_cat(pszDest, rtl_strsafe_cb_to_cch(cbDest, 1), pszSrc, NTSTRSAFE_MAX_CCH, 1);
}

NTSTRSAFEDDI RtlStringCchCatNA(NTSTRSAFE_PSTR pszDest, size_t cchDest, NTSTRSAFE_PCSTR pszSrc,
                               size_t cchToAppend)
{
    return rtl_strsafe_cat(pszDest, cchDest, pszSrc, cchToAppend, 0);
}
NTSTRSAFEDDI RtlStringCchCatNW(NTSTRSAFE_PWSTR pszDest, size_t cchDest, NTSTRSAFE_PCWSTR pszSrc,
                               size_t cchToAppend)
{
    return rtl_strsafe_cat(pszDest, cchDest, pszSrc, cchToAppend, 1);
}
NTSTRSAFEDDI RtlStringCbCatNA(NTSTRSAFE_PSTR pszDest, size_t cbDest, NTSTRSAFE_PCSTR pszSrc,
                              size_t cbToAppend)
{
    return rtl_strsafe_cat(pszDest, rtl_strsafe_cb_to_cch(cbDest, 0), pszSrc,
                           rtl_strsafe_cb_to_cch(cbToAppend, 0), 0);
}
NTSTRSAFEDDI RtlStringCbCatNW(NTSTRSAFE_PWSTR pszDest, size_t cbDest, NTSTRSAFE_PCWSTR pszSrc,
                              size_t cbToAppend)
{
    return rtl_strsafe_cat(pszDest, rtl_strsafe_cb_to_cch(cbDest, 1), pszSrc,
                           rtl_strsafe_cb_to_cch(cbToAppend, 1), 1);
}

/* ---- Printf, VPrintf ------------------------------------------------------- */

NTSTRSAFEDDI RtlStringCchVPrintfA(NTSTRSAFE_PSTR pszDest, size_t cchDest, NTSTRSAFE_PCSTR pszFormat,
                                  __builtin_ms_va_list argList)
{
    if (!pszDest || cchDest == 0 || cchDest > NTSTRSAFE_MAX_CCH)
        return STATUS_INVALID_PARAMETER;
    if (!pszFormat) {
        pszDest[0] = 0;
        return STATUS_INVALID_PARAMETER;
    }
    int n = rtl_crt_vsnprintf(pszDest, cchDest, pszFormat, argList);
    if (n < 0 || (size_t)n >= cchDest) {
        pszDest[cchDest - 1] = 0;
        return STATUS_BUFFER_OVERFLOW;
    }
    return STATUS_SUCCESS;
}

NTSTRSAFEDDI RtlStringCchVPrintfW(NTSTRSAFE_PWSTR pszDest, size_t cchDest,
                                  NTSTRSAFE_PCWSTR pszFormat, __builtin_ms_va_list argList)
{
    if (!pszDest || cchDest == 0 || cchDest > NTSTRSAFE_MAX_CCH)
        return STATUS_INVALID_PARAMETER;
    if (!pszFormat) {
        pszDest[0] = 0;
        return STATUS_INVALID_PARAMETER;
    }
    int n = rtl_crt_vsnwprintf(pszDest, cchDest, pszFormat, argList);
    if (n < 0 || (size_t)n >= cchDest) {
        pszDest[cchDest - 1] = 0;
        return STATUS_BUFFER_OVERFLOW;
    }
    return STATUS_SUCCESS;
}

NTSTRSAFEDDI RtlStringCbVPrintfA(NTSTRSAFE_PSTR pszDest, size_t cbDest, NTSTRSAFE_PCSTR pszFormat,
                                 __builtin_ms_va_list argList)
{
    return RtlStringCchVPrintfA(pszDest, rtl_strsafe_cb_to_cch(cbDest, 0), pszFormat, argList);
}

NTSTRSAFEDDI RtlStringCbVPrintfW(NTSTRSAFE_PWSTR pszDest, size_t cbDest, NTSTRSAFE_PCWSTR pszFormat,
                                 __builtin_ms_va_list argList)
{
    return RtlStringCchVPrintfW(pszDest, rtl_strsafe_cb_to_cch(cbDest, 1), pszFormat, argList);
}

NTSTRSAFEDDI RtlStringCchPrintfA(NTSTRSAFE_PSTR pszDest, size_t cchDest, NTSTRSAFE_PCSTR pszFormat,
                                 ...)
{
    __builtin_ms_va_list ap;
    __builtin_ms_va_start(ap, pszFormat);
    NTSTATUS status = RtlStringCchVPrintfA(pszDest, cchDest, pszFormat, ap);
    __builtin_ms_va_end(ap);
    return status;
}

NTSTRSAFEDDI RtlStringCchPrintfW(NTSTRSAFE_PWSTR pszDest, size_t cchDest,
                                 NTSTRSAFE_PCWSTR pszFormat, ...)
{
    __builtin_ms_va_list ap;
    __builtin_ms_va_start(ap, pszFormat);
    NTSTATUS status = RtlStringCchVPrintfW(pszDest, cchDest, pszFormat, ap);
    __builtin_ms_va_end(ap);
    return status;
}

NTSTRSAFEDDI RtlStringCbPrintfA(NTSTRSAFE_PSTR pszDest, size_t cbDest, NTSTRSAFE_PCSTR pszFormat,
                                ...)
{
    __builtin_ms_va_list ap;
    __builtin_ms_va_start(ap, pszFormat);
    NTSTATUS status = RtlStringCbVPrintfA(pszDest, cbDest, pszFormat, ap);
    __builtin_ms_va_end(ap);
    return status;
}

NTSTRSAFEDDI RtlStringCbPrintfW(NTSTRSAFE_PWSTR pszDest, size_t cbDest, NTSTRSAFE_PCWSTR pszFormat,
                                ...)
{
    __builtin_ms_va_list ap;
    __builtin_ms_va_start(ap, pszFormat);
    NTSTATUS status = RtlStringCbVPrintfW(pszDest, cbDest, pszFormat, ap);
    __builtin_ms_va_end(ap);
    return status;
}

/* ---- Length ---------------------------------------------------------------- */

NTSTRSAFEDDI RtlStringCchLengthA(NTSTRSAFE_PCSTR psz, size_t cchMax, size_t *pcchLength)
{
    return rtl_strsafe_length(psz, cchMax, pcchLength, 0);
}
NTSTRSAFEDDI RtlStringCchLengthW(NTSTRSAFE_PCWSTR psz, size_t cchMax, size_t *pcchLength)
{
    return rtl_strsafe_length(psz, cchMax, pcchLength, 1);
}
NTSTRSAFEDDI RtlStringCbLengthA(NTSTRSAFE_PCSTR psz, size_t cbMax, size_t *pcbLength)
{
    return rtl_strsafe_length(psz, rtl_strsafe_cb_to_cch(cbMax, 0), pcbLength, 0);
}
NTSTRSAFEDDI RtlStringCbLengthW(NTSTRSAFE_PCWSTR psz, size_t cbMax, size_t *pcbLength)
{
    NTSTATUS status = rtl_strsafe_length(psz, rtl_strsafe_cb_to_cch(cbMax, 1), pcbLength, 1);
    if (pcbLength)
        *pcbLength *= sizeof(WCHAR);
    return status;
}

/* ---- UNICODE_STRING forms: never terminated -------------------------------- */

NTSTRSAFEDDI RtlUnicodeStringValidate(PCUNICODE_STRING SourceString)
{
    if (!SourceString || (SourceString->Length & 1) || (SourceString->MaximumLength & 1) ||
        SourceString->Length > SourceString->MaximumLength ||
        SourceString->MaximumLength > NTSTRSAFE_UNICODE_STRING_MAX_CCH * sizeof(WCHAR) ||
        (!SourceString->Buffer && (SourceString->Length || SourceString->MaximumLength)))
        return STATUS_INVALID_PARAMETER;
    return STATUS_SUCCESS;
}

NTSTRSAFEDDI RtlUnicodeStringInit(PUNICODE_STRING DestinationString, NTSTRSAFE_PCWSTR pszSrc)
{
    size_t n = 0;
    if (!DestinationString)
        return STATUS_INVALID_PARAMETER;
    DestinationString->Length = DestinationString->MaximumLength = 0;
    DestinationString->Buffer = (PWSTR)pszSrc;
    if (!pszSrc)
        return STATUS_SUCCESS;
    while (n < NTSTRSAFE_UNICODE_STRING_MAX_CCH && pszSrc[n])
        n++;
    if (n == NTSTRSAFE_UNICODE_STRING_MAX_CCH) {
        DestinationString->Buffer = NULL;
        return STATUS_INVALID_PARAMETER;
    }
    DestinationString->Length = (USHORT)(n * sizeof(WCHAR));
    DestinationString->MaximumLength = (USHORT)((n + 1) * sizeof(WCHAR));
    return STATUS_SUCCESS;
}

/* Appends up to src_cch characters of src (stopping at a NUL when
 * stop_at_nul) at Dest->Length. */
static inline NTSTATUS rtl_strsafe_us_append(PUNICODE_STRING Dest, const WCHAR *src, size_t src_cch,
                                             int stop_at_nul)
{
    size_t have = Dest->Length / sizeof(WCHAR);
    size_t room = Dest->MaximumLength / sizeof(WCHAR) - have, n = 0;
    while (n < room && n < src_cch && !(stop_at_nul && !src[n]))
        n++;
    rtl_crt_check_copy(Dest->Buffer + have, src, n * sizeof(WCHAR));
    for (size_t i = 0; i < n; i++)
        Dest->Buffer[have + i] = src[i];
    Dest->Length = (USHORT)((have + n) * sizeof(WCHAR));
    if (n < src_cch && !(stop_at_nul && !src[n]))
        return STATUS_BUFFER_OVERFLOW;
    return STATUS_SUCCESS;
}

NTSTRSAFEDDI RtlUnicodeStringCopy(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString)
{
    if (!NT_SUCCESS(RtlUnicodeStringValidate(DestinationString)) ||
        !NT_SUCCESS(RtlUnicodeStringValidate(SourceString)))
        return STATUS_INVALID_PARAMETER;
    DestinationString->Length = 0;
    return rtl_strsafe_us_append(DestinationString, SourceString->Buffer,
                                 SourceString->Length / sizeof(WCHAR), 0);
}

NTSTRSAFEDDI RtlUnicodeStringCopyString(PUNICODE_STRING DestinationString, NTSTRSAFE_PCWSTR pszSrc)
{
    if (!NT_SUCCESS(RtlUnicodeStringValidate(DestinationString)) || !pszSrc)
        return STATUS_INVALID_PARAMETER;
    DestinationString->Length = 0;
    return rtl_strsafe_us_append(DestinationString, pszSrc, NTSTRSAFE_UNICODE_STRING_MAX_CCH, 1);
}

NTSTRSAFEDDI RtlUnicodeStringCat(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString)
{
    if (!NT_SUCCESS(RtlUnicodeStringValidate(DestinationString)) ||
        !NT_SUCCESS(RtlUnicodeStringValidate(SourceString)))
        return STATUS_INVALID_PARAMETER;
    return rtl_strsafe_us_append(DestinationString, SourceString->Buffer,
                                 SourceString->Length / sizeof(WCHAR), 0);
}

NTSTRSAFEDDI RtlUnicodeStringCatString(PUNICODE_STRING DestinationString, NTSTRSAFE_PCWSTR pszSrc)
{
    if (!NT_SUCCESS(RtlUnicodeStringValidate(DestinationString)) || !pszSrc)
        return STATUS_INVALID_PARAMETER;
    return rtl_strsafe_us_append(DestinationString, pszSrc, NTSTRSAFE_UNICODE_STRING_MAX_CCH, 1);
}

NTSTRSAFEDDI RtlUnicodeStringVPrintf(PUNICODE_STRING DestinationString, NTSTRSAFE_PCWSTR pszFormat,
                                     __builtin_ms_va_list argList)
{
    if (!NT_SUCCESS(RtlUnicodeStringValidate(DestinationString)) || !pszFormat)
        return STATUS_INVALID_PARAMETER;
    size_t room = DestinationString->MaximumLength / sizeof(WCHAR);
    size_t n = rtl_crt_vsnwprintf_counted(DestinationString->Buffer, room, pszFormat, argList);
    if (n > room) {
        DestinationString->Length = (USHORT)(room * sizeof(WCHAR));
        return STATUS_BUFFER_OVERFLOW;
    }
    DestinationString->Length = (USHORT)(n * sizeof(WCHAR));
    return STATUS_SUCCESS;
}

NTSTRSAFEDDI RtlUnicodeStringPrintf(PUNICODE_STRING DestinationString, NTSTRSAFE_PCWSTR pszFormat,
                                    ...)
{
    __builtin_ms_va_list ap;
    __builtin_ms_va_start(ap, pszFormat);
    NTSTATUS status = RtlUnicodeStringVPrintf(DestinationString, pszFormat, ap);
    __builtin_ms_va_end(ap);
    return status;
}

#endif /* _NTSTRSAFE_H_INCLUDED_ */
