/*
 * src/crt/string.c - the narrow string functions of the kernel CRT.
 *
 * Models: ntoskrnl's strlen, strcmp, strcpy ... with the Windows x64 calling
 * convention, "C" locale; _stricmp and friends fold ASCII letters only.
 * Spec: ARCHITECTURE.md 10.
 * Invariants: no call into anything but this archive (the loops are not
 * turned into library calls: -fno-tree-loop-distribute-patterns).
 * Not modelled: strtok, strerror, locale-dependent case mapping.
 */
#include <string.h>

static unsigned char crt_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

static unsigned char crt_upper(unsigned char c)
{
    return (c >= 'a' && c <= 'z') ? (unsigned char)(c - ('a' - 'A')) : c;
}

size_t strlen(const char *s)
{
    const char *p = s;

    while (*p)
        p++;
    return (size_t)(p - s);
}

size_t strnlen(const char *s, size_t maxlen)
{
    size_t n = 0;

    while (n < maxlen && s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;

    while (*x && *x == *y) {
        x++;
        y++;
    }
    return (*x > *y) - (*x < *y);
}

int strncmp(const char *a, const char *b, size_t n)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;

    for (; n; n--, x++, y++) {
        if (*x != *y)
            return *x < *y ? -1 : 1;
        if (!*x)
            break;
    }
    return 0;
}

char *strcpy(char *dst, const char *src)
{
    char *d = dst;

    while ((*d++ = *src++))
        ;
    return dst;
}

/* C semantics: pads with NULs up to n, and leaves dst unterminated when src
 * has n or more characters. */
char *strncpy(char *dst, const char *src, size_t n)
{
    size_t i = 0;

    for (; i < n && src[i]; i++)
        dst[i] = src[i];
    for (; i < n; i++)
        dst[i] = '\0';
    return dst;
}

char *strcat(char *dst, const char *src)
{
    strcpy(dst + strlen(dst), src);
    return dst;
}

/* Appends at most n characters and always a NUL. */
char *strncat(char *dst, const char *src, size_t n)
{
    char *d = dst + strlen(dst);

    for (; n && *src; n--)
        *d++ = *src++;
    *d = '\0';
    return dst;
}

char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c)
            return (char *)s;
        if (!*s)
            return NULL;
    }
}

char *strrchr(const char *s, int c)
{
    const char *last = NULL;

    for (;; s++) {
        if (*s == (char)c)
            last = s;
        if (!*s)
            return (char *)last;
    }
}

char *strstr(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);

    for (; *haystack; haystack++) {
        if (strncmp(haystack, needle, n) == 0)
            return (char *)haystack;
    }
    return n == 0 ? (char *)haystack : NULL;
}

size_t strspn(const char *s, const char *accept)
{
    size_t n = 0;

    while (s[n] && strchr(accept, s[n]))
        n++;
    return n;
}

size_t strcspn(const char *s, const char *reject)
{
    size_t n = 0;

    while (s[n] && !strchr(reject, s[n]))
        n++;
    return n;
}

char *strpbrk(const char *s, const char *accept)
{
    s += strcspn(s, accept);
    return *s ? (char *)s : NULL;
}

int _strnicmp(const char *a, const char *b, size_t n)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;

    for (; n; n--, x++, y++) {
        unsigned char cx = crt_lower(*x), cy = crt_lower(*y);
        if (cx != cy)
            return cx < cy ? -1 : 1;
        if (!cx)
            break;
    }
    return 0;
}

int _stricmp(const char *a, const char *b)
{
    return _strnicmp(a, b, (size_t)-1);
}

char *_strlwr(char *s)
{
    for (char *p = s; *p; p++)
        *p = (char)crt_lower((unsigned char)*p);
    return s;
}

char *_strupr(char *s)
{
    for (char *p = s; *p; p++)
        *p = (char)crt_upper((unsigned char)*p);
    return s;
}
