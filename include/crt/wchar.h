/*
 * include/crt/wchar.h - wide-string functions on 16-bit wchar_t (= WCHAR).
 *
 * Models: the kernel CRT's wide functions: UTF-16 code units, no locale,
 * case folding for ASCII letters only (as RtlUpcaseUnicodeChar does for them).
 * Spec: ARCHITECTURE.md 10 (wcslen on 16-bit WCHAR).
 * Invariants: wchar_t is 2 bytes (checked in _wdmsim_crt.h); every name
 * declared here has a definition in src/crt.
 * Not modelled: multibyte conversion (mbstowcs, wcstombs: use the Rtl
 * conversion routines), wide formatted I/O (see <stdio.h>).
 */
#ifndef _WDMSIM_WCHAR_H
#define _WDMSIM_WCHAR_H

#include <_wdmsim_crt.h>

/* Microsoft's wint_t is 16-bit; gcc's built-in towlower & co. are typed with
 * the target's 32-bit wint_t and reject any other declaration. Values agree
 * (a WCHAR widened), only sizeof(wint_t) differs: docs/abi.md. */
#ifndef _WCTYPE_T_DEFINED
#define _WCTYPE_T_DEFINED
typedef __WINT_TYPE__ wint_t;
typedef unsigned short wctype_t;
#endif
#define WEOF      ((wint_t)0xFFFF)
#define WCHAR_MIN 0
#define WCHAR_MAX 0xFFFF

size_t wcslen(const wchar_t *s);
size_t wcsnlen(const wchar_t *s, size_t maxlen);
int wcscmp(const wchar_t *a, const wchar_t *b);
int wcsncmp(const wchar_t *a, const wchar_t *b, size_t n);
wchar_t *wcscpy(wchar_t *dst, const wchar_t *src);
wchar_t *wcsncpy(wchar_t *dst, const wchar_t *src, size_t n);
wchar_t *wcscat(wchar_t *dst, const wchar_t *src);
wchar_t *wcsncat(wchar_t *dst, const wchar_t *src, size_t n);
wchar_t *wcschr(const wchar_t *s, wchar_t c);
wchar_t *wcsrchr(const wchar_t *s, wchar_t c);
wchar_t *wcsstr(const wchar_t *haystack, const wchar_t *needle);
size_t wcsspn(const wchar_t *s, const wchar_t *accept);
size_t wcscspn(const wchar_t *s, const wchar_t *reject);
int _wcsicmp(const wchar_t *a, const wchar_t *b);
int _wcsnicmp(const wchar_t *a, const wchar_t *b, size_t n);
wchar_t *_wcslwr(wchar_t *s);
wchar_t *_wcsupr(wchar_t *s);

wint_t towlower(wint_t c);
wint_t towupper(wint_t c);
int iswdigit(wint_t c);
int iswspace(wint_t c);
int iswalpha(wint_t c);
int iswxdigit(wint_t c);

#endif
