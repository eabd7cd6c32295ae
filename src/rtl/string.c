/*
 * src/rtl/string.c - counted strings: init, copy, append, compare.
 *
 * Models: UNICODE_STRING / STRING semantics: lengths in bytes, Length
 * excludes any terminator, Buffer need not be terminated, Length <=
 * MaximumLength; Unicode lengths are whole characters.
 * Spec: spec/ke_rtl_registry.md 5.
 * Invariants: no routine here writes past Destination->MaximumLength, and a
 * failing append leaves the destination unchanged.
 * Decision (spec Open): copies and appends write no terminator even when
 * room remains, so a driver that relies on one fails here, not on Windows
 * one day. Copies use memmove, so overlapping strings are not an error.
 */
#include <stdio.h>
#include <string.h>

#include <wdm.h>

#include "rtl/rtl.h"
#include "sys.h"

static size_t wide_length(PCWSTR s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

/* ---- init ----------------------------------------------------------------- */

NTSYSAPI VOID NTAPI RtlInitUnicodeString(PUNICODE_STRING DestinationString, PCWSTR SourceString)
{
    DestinationString->Buffer = (PWSTR)SourceString;
    if (!SourceString) {
        DestinationString->Length = DestinationString->MaximumLength = 0;
        return;
    }
    size_t chars = wide_length(SourceString);
    if (chars > UNICODE_STRING_MAX_CHARS - 1) {
        /* Windows cuts silently; wdmsim says so, the string is surely wrong. */
        struct sys *sys = sys_get();
        FILE *out = sys && sys->vf.out ? sys->vf.out : stderr;
        fprintf(out, "wdmsim: RtlInitUnicodeString: %zu characters at %p cut to %d\n", chars,
                (const void *)SourceString, UNICODE_STRING_MAX_CHARS - 1);
        chars = UNICODE_STRING_MAX_CHARS - 1;
    }
    DestinationString->Length = (USHORT)(chars * sizeof(WCHAR));
    DestinationString->MaximumLength = (USHORT)(chars * sizeof(WCHAR) + sizeof(WCHAR));
}

NTSYSAPI VOID NTAPI RtlInitAnsiString(PANSI_STRING DestinationString, PCSZ SourceString)
{
    DestinationString->Buffer = (PCHAR)SourceString;
    if (!SourceString) {
        DestinationString->Length = DestinationString->MaximumLength = 0;
        return;
    }
    size_t n = strlen(SourceString);
    if (n > 0xFFFE)
        n = 0xFFFE;
    DestinationString->Length = (USHORT)n;
    DestinationString->MaximumLength = (USHORT)(n + 1);
}

NTSYSAPI VOID NTAPI RtlInitString(PSTRING DestinationString, PCSZ SourceString)
{
    RtlInitAnsiString(DestinationString, SourceString);
}

/* ---- copy ----------------------------------------------------------------- */

NTSYSAPI VOID NTAPI RtlCopyUnicodeString(PUNICODE_STRING DestinationString,
                                         PCUNICODE_STRING SourceString)
{
    if (!SourceString) {
        DestinationString->Length = 0;
        return;
    }
    USHORT n = SourceString->Length < DestinationString->MaximumLength
                   ? SourceString->Length
                   : DestinationString->MaximumLength;
    n &= ~(USHORT)1; /* whole characters */
    memmove(DestinationString->Buffer, SourceString->Buffer, n);
    DestinationString->Length = n;
}

NTSYSAPI VOID NTAPI RtlCopyString(PSTRING DestinationString, const STRING *SourceString)
{
    if (!SourceString) {
        DestinationString->Length = 0;
        return;
    }
    USHORT n = SourceString->Length < DestinationString->MaximumLength
                   ? SourceString->Length
                   : DestinationString->MaximumLength;
    memmove(DestinationString->Buffer, SourceString->Buffer, n);
    DestinationString->Length = n;
}

/* ---- append --------------------------------------------------------------- */

static NTSTATUS append_bytes(USHORT *length, USHORT max, void *buffer, const void *src,
                             size_t bytes)
{
    if (bytes == 0)
        return STATUS_SUCCESS;
    if ((size_t)*length + bytes > max)
        return STATUS_BUFFER_TOO_SMALL;
    memmove((char *)buffer + *length, src, bytes);
    *length = (USHORT)(*length + bytes);
    return STATUS_SUCCESS;
}

NTSYSAPI NTSTATUS NTAPI RtlAppendUnicodeStringToString(PUNICODE_STRING Destination,
                                                       PCUNICODE_STRING Source)
{
    return append_bytes(&Destination->Length, Destination->MaximumLength, Destination->Buffer,
                        Source->Buffer, Source->Length & ~1u);
}

NTSYSAPI NTSTATUS NTAPI RtlAppendUnicodeToString(PUNICODE_STRING Destination, PCWSTR Source)
{
    if (!Source)
        return STATUS_SUCCESS;
    return append_bytes(&Destination->Length, Destination->MaximumLength, Destination->Buffer,
                        Source, wide_length(Source) * sizeof(WCHAR));
}

NTSYSAPI NTSTATUS NTAPI RtlAppendStringToString(PSTRING Destination, const STRING *Source)
{
    return append_bytes(&Destination->Length, Destination->MaximumLength, Destination->Buffer,
                        Source->Buffer, Source->Length);
}

/* ---- compare -------------------------------------------------------------- */

/* Over the shorter string's whole characters. */
static LONG compare_wide(PCUNICODE_STRING a, PCUNICODE_STRING b, BOOLEAN insensitive)
{
    size_t na = a->Length / sizeof(WCHAR), nb = b->Length / sizeof(WCHAR);
    size_t n = na < nb ? na : nb;
    for (size_t i = 0; i < n; i++) {
        WCHAR x = a->Buffer[i], y = b->Buffer[i];
        if (insensitive) {
            x = rtl_upcase(x);
            y = rtl_upcase(y);
        }
        if (x != y)
            return (LONG)x - (LONG)y;
    }
    return 0;
}

NTSYSAPI LONG NTAPI RtlCompareUnicodeString(PCUNICODE_STRING String1, PCUNICODE_STRING String2,
                                            BOOLEAN CaseInSensitive)
{
    LONG r = compare_wide(String1, String2, CaseInSensitive);
    if (r)
        return r;
    return (LONG)(String1->Length / sizeof(WCHAR)) - (LONG)(String2->Length / sizeof(WCHAR));
}

NTSYSAPI BOOLEAN NTAPI RtlEqualUnicodeString(PCUNICODE_STRING String1, PCUNICODE_STRING String2,
                                             BOOLEAN CaseInSensitive)
{
    if (String1->Length / sizeof(WCHAR) != String2->Length / sizeof(WCHAR))
        return FALSE;
    return compare_wide(String1, String2, CaseInSensitive) == 0;
}

NTSYSAPI BOOLEAN NTAPI RtlPrefixUnicodeString(PCUNICODE_STRING String1, PCUNICODE_STRING String2,
                                              BOOLEAN CaseInSensitive)
{
    if (String1->Length / sizeof(WCHAR) > String2->Length / sizeof(WCHAR))
        return FALSE;
    return compare_wide(String1, String2, CaseInSensitive) == 0;
}

static LONG compare_narrow(const STRING *a, const STRING *b, BOOLEAN insensitive)
{
    size_t n = a->Length < b->Length ? a->Length : b->Length;
    for (size_t i = 0; i < n; i++) {
        CHAR x = a->Buffer[i], y = b->Buffer[i];
        if (insensitive) {
            x = RtlUpperChar(x);
            y = RtlUpperChar(y);
        }
        if (x != y)
            return (LONG)(UCHAR)x - (LONG)(UCHAR)y;
    }
    return 0;
}

NTSYSAPI LONG NTAPI RtlCompareString(const STRING *String1, const STRING *String2,
                                     BOOLEAN CaseInSensitive)
{
    LONG r = compare_narrow(String1, String2, CaseInSensitive);
    return r ? r : (LONG)String1->Length - (LONG)String2->Length;
}

NTSYSAPI BOOLEAN NTAPI RtlEqualString(const STRING *String1, const STRING *String2,
                                      BOOLEAN CaseInSensitive)
{
    if (String1->Length != String2->Length)
        return FALSE;
    return compare_narrow(String1, String2, CaseInSensitive) == 0;
}
