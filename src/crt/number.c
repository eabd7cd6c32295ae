/*
 * src/crt/number.c - string-to-integer conversions and abs.
 *
 * Models: the kernel CRT's atoi, strtol, strtoul, _strtoi64 ...: leading
 * white space, optional sign, base 0 (0x hex, leading 0 octal, else decimal)
 * or 2-36, stop at the first non-digit; out-of-range values saturate.
 * Spec: ARCHITECTURE.md 10; docs/abi.md (long is 64-bit in this build).
 * Invariants: every conversion goes through crt_parse, so all agree on
 * syntax; `end` is set to the input itself when no digit was consumed.
 * Not modelled: errno (the kernel has none), locale digits.
 */
#include <stdlib.h>
#include <ctype.h>
#include <limits.h>
#include <stdint.h>

struct crt_parsed {
    uint64_t magnitude; /* saturated at UINT64_MAX */
    int negative;
    int overflow; /* the digits exceeded 64 bits */
};

static int crt_digit(int c)
{
    if (isdigit(c))
        return c - '0';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    return 99;
}

static struct crt_parsed crt_parse(const char *s, char **end, int base)
{
    struct crt_parsed r = {0, 0, 0};
    const char *p = s;
    int any = 0;

    if (end)
        *end = (char *)s;
    if (base < 0 || base == 1 || base > 36)
        return r;
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '+' || *p == '-')
        r.negative = *p++ == '-';
    if ((base == 0 || base == 16) && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
        crt_digit((unsigned char)p[2]) < 16) {
        p += 2;
        base = 16;
    } else if (base == 0) {
        base = p[0] == '0' ? 8 : 10;
    }
    for (int d; (d = crt_digit((unsigned char)*p)) < base; p++) {
        any = 1;
        if (r.magnitude > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            r.overflow = 1;
        if (r.overflow)
            r.magnitude = UINT64_MAX;
        else
            r.magnitude = r.magnitude * (uint64_t)base + (uint64_t)d;
    }
    if (!any) {
        r.magnitude = 0;
        r.negative = 0;
        return r;
    }
    if (end)
        *end = (char *)p;
    return r;
}

/* Signed result clamped to [min, max]; max + 1 is representable as -min. */
static long long crt_signed(struct crt_parsed r, long long min, long long max)
{
    if (r.negative) {
        if (r.magnitude > (uint64_t)max + 1)
            return min;
        return r.magnitude == (uint64_t)max + 1 ? min : -(long long)r.magnitude;
    }
    return r.magnitude > (uint64_t)max ? max : (long long)r.magnitude;
}

/* Unsigned: a minus sign negates modulo 2^64 (C's strtoul), then clamps. */
static unsigned long long crt_unsigned(struct crt_parsed r, unsigned long long max)
{
    if (r.overflow || r.magnitude > max)
        return max;
    return r.negative ? (0 - r.magnitude) & max : r.magnitude;
}

long strtol(const char *s, char **end, int base)
{
    return (long)crt_signed(crt_parse(s, end, base), LONG_MIN, LONG_MAX);
}

unsigned long strtoul(const char *s, char **end, int base)
{
    return (unsigned long)crt_unsigned(crt_parse(s, end, base), ULONG_MAX);
}

long long _strtoi64(const char *s, char **end, int base)
{
    return crt_signed(crt_parse(s, end, base), LLONG_MIN, LLONG_MAX);
}

unsigned long long _strtoui64(const char *s, char **end, int base)
{
    return crt_unsigned(crt_parse(s, end, base), ULLONG_MAX);
}

/* atoi keeps Windows' 32-bit int result; the text is read in base 10. */
int atoi(const char *s)
{
    return (int)crt_signed(crt_parse(s, NULL, 10), INT_MIN, INT_MAX);
}

long atol(const char *s)
{
    return strtol(s, NULL, 10);
}

long long _atoi64(const char *s)
{
    return _strtoi64(s, NULL, 10);
}

int abs(int v)
{
    return v < 0 ? -v : v;
}

long labs(long v)
{
    return v < 0 ? -v : v;
}

long long llabs(long long v)
{
    return v < 0 ? -v : v;
}

long long _abs64(long long v)
{
    return llabs(v);
}
