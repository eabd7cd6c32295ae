/*
 * src/crt/wstring.c - the wide string functions of the kernel CRT.
 *
 * Models: ntoskrnl's wcslen, wcscmp, wcscpy ... over 16-bit wchar_t (UTF-16
 * code units, compared as unsigned values), Windows x64 calling convention.
 * Case functions fold ASCII letters only.
 * Spec: ARCHITECTURE.md 10 (wcslen on 16-bit WCHAR).
 * Invariants: wchar_t is 2 bytes in this archive (-fshort-wchar, checked by
 * <_wdmsim_crt.h>).
 * Not modelled: case folding beyond ASCII (RtlUpcaseUnicodeChar's table is
 * the Rtl layer's), surrogate-pair awareness.
 */
#include <wchar.h>

static wchar_t crt_wlower(wchar_t c)
{
    return (c >= L'A' && c <= L'Z') ? (wchar_t)(c + (L'a' - L'A')) : c;
}

static wchar_t crt_wupper(wchar_t c)
{
    return (c >= L'a' && c <= L'z') ? (wchar_t)(c - (L'a' - L'A')) : c;
}

size_t wcslen(const wchar_t *s)
{
    const wchar_t *p = s;

    while (*p)
        p++;
    return (size_t)(p - s);
}

size_t wcsnlen(const wchar_t *s, size_t maxlen)
{
    size_t n = 0;

    while (n < maxlen && s[n])
        n++;
    return n;
}

int wcsncmp(const wchar_t *a, const wchar_t *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return *a < *b ? -1 : 1;
        if (!*a)
            break;
    }
    return 0;
}

int wcscmp(const wchar_t *a, const wchar_t *b)
{
    return wcsncmp(a, b, (size_t)-1);
}

wchar_t *wcscpy(wchar_t *dst, const wchar_t *src)
{
    wchar_t *d = dst;

    while ((*d++ = *src++))
        ;
    return dst;
}

wchar_t *wcsncpy(wchar_t *dst, const wchar_t *src, size_t n)
{
    size_t i = 0;

    for (; i < n && src[i]; i++)
        dst[i] = src[i];
    for (; i < n; i++)
        dst[i] = 0;
    return dst;
}

wchar_t *wcscat(wchar_t *dst, const wchar_t *src)
{
    wcscpy(dst + wcslen(dst), src);
    return dst;
}

wchar_t *wcsncat(wchar_t *dst, const wchar_t *src, size_t n)
{
    wchar_t *d = dst + wcslen(dst);

    for (; n && *src; n--)
        *d++ = *src++;
    *d = 0;
    return dst;
}

wchar_t *wcschr(const wchar_t *s, wchar_t c)
{
    for (;; s++) {
        if (*s == c)
            return (wchar_t *)s;
        if (!*s)
            return NULL;
    }
}

wchar_t *wcsrchr(const wchar_t *s, wchar_t c)
{
    const wchar_t *last = NULL;

    for (;; s++) {
        if (*s == c)
            last = s;
        if (!*s)
            return (wchar_t *)last;
    }
}

wchar_t *wcsstr(const wchar_t *haystack, const wchar_t *needle)
{
    size_t n = wcslen(needle);

    for (; *haystack; haystack++) {
        if (wcsncmp(haystack, needle, n) == 0)
            return (wchar_t *)haystack;
    }
    return n == 0 ? (wchar_t *)haystack : NULL;
}

size_t wcsspn(const wchar_t *s, const wchar_t *accept)
{
    size_t n = 0;

    while (s[n] && wcschr(accept, s[n]))
        n++;
    return n;
}

size_t wcscspn(const wchar_t *s, const wchar_t *reject)
{
    size_t n = 0;

    while (s[n] && !wcschr(reject, s[n]))
        n++;
    return n;
}

int _wcsnicmp(const wchar_t *a, const wchar_t *b, size_t n)
{
    for (; n; n--, a++, b++) {
        wchar_t ca = crt_wlower(*a), cb = crt_wlower(*b);
        if (ca != cb)
            return ca < cb ? -1 : 1;
        if (!ca)
            break;
    }
    return 0;
}

int _wcsicmp(const wchar_t *a, const wchar_t *b)
{
    return _wcsnicmp(a, b, (size_t)-1);
}

wchar_t *_wcslwr(wchar_t *s)
{
    for (wchar_t *p = s; *p; p++)
        *p = crt_wlower(*p);
    return s;
}

wchar_t *_wcsupr(wchar_t *s)
{
    for (wchar_t *p = s; *p; p++)
        *p = crt_wupper(*p);
    return s;
}

wint_t towlower(wint_t c)
{
    return crt_wlower(c);
}

wint_t towupper(wint_t c)
{
    return crt_wupper(c);
}

int iswdigit(wint_t c)
{
    return c >= L'0' && c <= L'9';
}

int iswspace(wint_t c)
{
    return c == L' ' || (c >= L'\t' && c <= L'\r');
}

int iswalpha(wint_t c)
{
    return (c >= L'a' && c <= L'z') || (c >= L'A' && c <= L'Z');
}

int iswxdigit(wint_t c)
{
    return iswdigit(c) || (c >= L'a' && c <= L'f') || (c >= L'A' && c <= L'F');
}
