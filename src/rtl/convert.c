/*
 * src/rtl/convert.c - ANSI <-> Unicode counted strings, and freeing the
 * buffers these routines allocate.
 *
 * Models: RtlAnsiStringToUnicodeString / RtlUnicodeStringToAnsiString in
 * the system code page, 1252 (one byte per character both ways; a
 * character with no 1252 byte becomes '?'), with Allocate TRUE (a buffer
 * with room for a terminator, which is written) or FALSE (the caller's
 * buffer; too small gives a truncated copy and STATUS_BUFFER_OVERFLOW).
 * Spec: spec/ke_rtl_registry.md 5.
 * Invariants: a failure allocates nothing; only a buffer from rtl_alloc is
 * ever freed (others stop the machine, see alloc.c).
 * Decision: into a caller's buffer no terminator is written (as for
 * copies; docs/rtl.md).
 */
#include <string.h>

#include <wdm.h>

#include "rtl/rtl.h"

NTSYSAPI ULONG NTAPI RtlxAnsiStringToUnicodeSize(PCANSI_STRING AnsiString)
{
    return ((ULONG)AnsiString->Length + 1) * sizeof(WCHAR);
}

NTSYSAPI ULONG NTAPI RtlxUnicodeStringToAnsiSize(PCUNICODE_STRING UnicodeString)
{
    return UnicodeString->Length / sizeof(WCHAR) + 1;
}

NTSYSAPI NTSTATUS NTAPI RtlAnsiStringToUnicodeString(PUNICODE_STRING DestinationString,
                                                     PCANSI_STRING SourceString,
                                                     BOOLEAN AllocateDestinationString)
{
    size_t chars = SourceString->Length;
    NTSTATUS status = STATUS_SUCCESS;
    if (chars * sizeof(WCHAR) > UNICODE_STRING_MAX_BYTES)
        return STATUS_INVALID_PARAMETER_2;
    if (AllocateDestinationString) {
        size_t bytes = (chars + 1) * sizeof(WCHAR);
        PWSTR buf = rtl_alloc(bytes);
        if (!buf)
            return STATUS_NO_MEMORY;
        buf[chars] = UNICODE_NULL;
        DestinationString->Buffer = buf;
        DestinationString->MaximumLength = (USHORT)bytes;
    } else if (chars * sizeof(WCHAR) > DestinationString->MaximumLength) {
        chars = DestinationString->MaximumLength / sizeof(WCHAR);
        status = STATUS_BUFFER_OVERFLOW;
    }
    for (size_t i = 0; i < chars; i++)
        DestinationString->Buffer[i] = rtl_cp1252_to_unicode((UCHAR)SourceString->Buffer[i]);
    DestinationString->Length = (USHORT)(chars * sizeof(WCHAR));
    return status;
}

NTSYSAPI NTSTATUS NTAPI RtlUnicodeStringToAnsiString(PANSI_STRING DestinationString,
                                                     PCUNICODE_STRING SourceString,
                                                     BOOLEAN AllocateDestinationString)
{
    size_t chars = SourceString->Length / sizeof(WCHAR);
    NTSTATUS status = STATUS_SUCCESS;
    if (AllocateDestinationString) {
        PCHAR buf = rtl_alloc(chars + 1);
        if (!buf)
            return STATUS_NO_MEMORY;
        buf[chars] = ANSI_NULL;
        DestinationString->Buffer = buf;
        DestinationString->MaximumLength = (USHORT)(chars + 1);
    } else if (chars > DestinationString->MaximumLength) {
        chars = DestinationString->MaximumLength;
        status = STATUS_BUFFER_OVERFLOW;
    }
    for (size_t i = 0; i < chars; i++) {
        int c = rtl_unicode_to_cp1252(SourceString->Buffer[i]);
        DestinationString->Buffer[i] = c < 0 ? '?' : (CHAR)c;
    }
    DestinationString->Length = (USHORT)chars;
    return status;
}

NTSYSAPI VOID NTAPI RtlFreeUnicodeString(PUNICODE_STRING UnicodeString)
{
    if (UnicodeString->Buffer)
        rtl_free(UnicodeString->Buffer);
    memset(UnicodeString, 0, sizeof *UnicodeString);
}

NTSYSAPI VOID NTAPI RtlFreeAnsiString(PANSI_STRING AnsiString)
{
    if (AnsiString->Buffer)
        rtl_free(AnsiString->Buffer);
    memset(AnsiString, 0, sizeof *AnsiString);
}
