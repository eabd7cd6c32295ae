/*
 * src/rtl/case.c - upper- and lower-casing characters and strings.
 *
 * Models: RtlUpcaseUnicodeChar / RtlDowncaseUnicodeChar (the simple
 * one-to-one Unicode mapping, nls.c), RtlUpcaseUnicodeString, and the ANSI
 * forms RtlUpperChar / RtlUpperString, which case-map through the system
 * code page (1252): a byte is upper-cased when its upper case exists in
 * 1252 (0xFF y-diaeresis becomes 0x9F, 0x9A s-caron 0x8A).
 * Spec: spec/ke_rtl_registry.md 5.
 * Invariants: a failing RtlUpcaseUnicodeString changes and allocates
 * nothing.
 */
#include <string.h>

#include <wdm.h>

#include "rtl/rtl.h"

NTSYSAPI WCHAR NTAPI RtlUpcaseUnicodeChar(WCHAR SourceCharacter)
{
    return rtl_upcase(SourceCharacter);
}

NTSYSAPI WCHAR NTAPI RtlDowncaseUnicodeChar(WCHAR SourceCharacter)
{
    return rtl_downcase(SourceCharacter);
}

NTSYSAPI CHAR NTAPI RtlUpperChar(CHAR Character)
{
    unsigned char c = (unsigned char)Character;
    if (c < 0x80)
        return c >= 'a' && c <= 'z' ? (CHAR)(c - 32) : Character;
    int up = rtl_unicode_to_cp1252(rtl_upcase(rtl_cp1252_to_unicode(c)));
    return up < 0 ? Character : (CHAR)up;
}

NTSYSAPI VOID NTAPI RtlUpperString(PSTRING DestinationString, const STRING *SourceString)
{
    USHORT n = SourceString->Length < DestinationString->MaximumLength
                   ? SourceString->Length
                   : DestinationString->MaximumLength;
    for (USHORT i = 0; i < n; i++)
        DestinationString->Buffer[i] = RtlUpperChar(SourceString->Buffer[i]);
    DestinationString->Length = n;
}

NTSYSAPI NTSTATUS NTAPI RtlUpcaseUnicodeString(PUNICODE_STRING DestinationString,
                                               PCUNICODE_STRING SourceString,
                                               BOOLEAN AllocateDestinationString)
{
    USHORT bytes = SourceString->Length & ~(USHORT)1;
    size_t n = bytes / sizeof(WCHAR);
    PWSTR out;
    if (AllocateDestinationString) {
        out = rtl_alloc(bytes ? bytes : sizeof(WCHAR));
        if (!out)
            return STATUS_NO_MEMORY;
        DestinationString->MaximumLength = bytes;
        DestinationString->Buffer = out;
    } else {
        if (bytes > DestinationString->MaximumLength)
            return STATUS_BUFFER_OVERFLOW;
        out = DestinationString->Buffer;
    }
    /* In place (out == source) is allowed: each character is read first. */
    for (size_t i = 0; i < n; i++)
        out[i] = rtl_upcase(SourceString->Buffer[i]);
    DestinationString->Length = bytes;
    return STATUS_SUCCESS;
}
