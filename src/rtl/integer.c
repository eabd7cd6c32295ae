/*
 * src/rtl/integer.c - numbers to and from counted strings.
 *
 * Models: RtlIntegerToUnicodeString / RtlInt64ToUnicodeString (unsigned,
 * base 2, 8, 10 or 16, upper-case digits, no prefix) and
 * RtlUnicodeStringToInteger / RtlCharToInteger (white space, sign, base
 * prefix when Base is 0, stop at the first non-digit, wrap on overflow).
 * Spec: spec/ke_rtl_registry.md 5 (the examples are tests/rtl/test_integer.c).
 * Invariants: a failing conversion leaves the destination unchanged.
 * Decision: the number is written from Buffer[0] with no terminator.
 */
#include <wdm.h>

#include "rtl/rtl.h"

static bool base_valid(ULONG base)
{
    return base == 2 || base == 8 || base == 10 || base == 16;
}

static NTSTATUS to_unicode(ULONGLONG value, ULONG base, PUNICODE_STRING string)
{
    char digits[64];
    size_t n = 0;
    if (base == 0)
        base = 10;
    if (!base_valid(base))
        return STATUS_INVALID_PARAMETER;
    do {
        digits[n++] = "0123456789ABCDEF"[value % base];
        value /= base;
    } while (value);
    if (n * sizeof(WCHAR) > string->MaximumLength)
        return STATUS_BUFFER_OVERFLOW;
    for (size_t i = 0; i < n; i++)
        string->Buffer[i] = (WCHAR)digits[n - 1 - i];
    string->Length = (USHORT)(n * sizeof(WCHAR));
    return STATUS_SUCCESS;
}

NTSYSAPI NTSTATUS NTAPI RtlIntegerToUnicodeString(ULONG Value, ULONG Base, PUNICODE_STRING String)
{
    return to_unicode(Value, Base, String);
}

NTSYSAPI NTSTATUS NTAPI RtlInt64ToUnicodeString(ULONGLONG Value, ULONG Base, PUNICODE_STRING String)
{
    return to_unicode(Value, Base, String);
}

/* Characters of either width, read through one accessor. */
struct digits_src {
    const WCHAR *wide;
    const char *narrow;
    size_t n;
};

static unsigned src_at(const struct digits_src *s, size_t i)
{
    return s->wide ? s->wide[i] : (unsigned char)s->narrow[i];
}

static int digit_value(unsigned c)
{
    if (c >= '0' && c <= '9')
        return (int)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (int)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F')
        return (int)(c - 'A' + 10);
    return -1;
}

static bool is_space(unsigned c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static NTSTATUS parse(const struct digits_src *s, ULONG base, PULONG value)
{
    size_t i = 0;
    bool negative = false;
    ULONG v = 0;

    if (base != 0 && !base_valid(base))
        return STATUS_INVALID_PARAMETER;
    if (!value)
        return STATUS_ACCESS_VIOLATION;
    while (i < s->n && is_space(src_at(s, i)))
        i++;
    if (i < s->n && (src_at(s, i) == '+' || src_at(s, i) == '-'))
        negative = src_at(s, i++) == '-';
    if (base == 0) {
        base = 10;
        if (i + 1 < s->n && src_at(s, i) == '0') {
            unsigned p = src_at(s, i + 1) | 0x20;
            base = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 10;
            if (base != 10)
                i += 2;
        }
    }
    for (; i < s->n; i++) {
        int d = digit_value(src_at(s, i));
        if (d < 0 || (ULONG)d >= base)
            break;
        v = v * base + (ULONG)d; /* wraps, as Windows does */
    }
    *value = negative ? (ULONG)(0u - v) : v;
    return STATUS_SUCCESS;
}

NTSYSAPI NTSTATUS NTAPI RtlUnicodeStringToInteger(PCUNICODE_STRING String, ULONG Base, PULONG Value)
{
    if (!String || String->Length < sizeof(WCHAR) || !String->Buffer)
        return STATUS_INVALID_PARAMETER;
    struct digits_src s = {String->Buffer, NULL, String->Length / sizeof(WCHAR)};
    return parse(&s, Base, Value);
}

NTSYSAPI NTSTATUS NTAPI RtlCharToInteger(PCSZ String, ULONG Base, PULONG Value)
{
    if (!String)
        return STATUS_INVALID_PARAMETER;
    size_t n = 0;
    while (String[n])
        n++;
    struct digits_src s = {NULL, String, n};
    return parse(&s, Base, Value);
}
