/*
 * include/ddk/ntdef.h - basic NT types for drivers built against wdmsim.
 *
 * Models: the LLP64 data model of Windows x64 (LONG/ULONG 32-bit, pointers
 * and ULONG_PTR 64-bit, WCHAR 16-bit), NTSTATUS, counted strings, list
 * entries and the calling-convention macros.
 * Spec: spec/README.md (layouts), spec/ke_rtl_registry.md 5, 7.
 *
 * Two readers: a driver build (-mabi=ms -fshort-wchar, wdmsim's CRT headers)
 * and wdmsim itself (WDMSIM_HOST, sysv code). Everything here must mean the
 * same to both, so no type depends on `long` or `wchar_t` in the host build.
 */
#ifndef _NTDEF_
#define _NTDEF_

#include <stddef.h>
#include <stdarg.h>

/* Calling conventions: every exported routine and callback is ms_abi. */
#define NTAPI        __attribute__((ms_abi))
#define NTAPI_INLINE NTAPI
#define WINAPI       __attribute__((ms_abi))
#define CALLBACK     __attribute__((ms_abi))
#define __stdcall __attribute__((ms_abi))
#define __cdecl __attribute__((ms_abi))
#define __fastcall __attribute__((ms_abi))
#define FASTCALL          __attribute__((ms_abi))
#define DECLSPEC_IMPORT   __attribute__((visibility("default")))
#define NTKERNELAPI       DECLSPEC_IMPORT
#define NTHALAPI          DECLSPEC_IMPORT
#define NTSYSAPI          DECLSPEC_IMPORT
#define NTSYSCALLAPI      DECLSPEC_IMPORT
#define DECLSPEC_NORETURN __attribute__((noreturn))
#define DECLSPEC_ALIGN(x) __attribute__((aligned(x)))
#define DECLSPEC_NOINLINE __attribute__((noinline))
#define FORCEINLINE       static inline __attribute__((always_inline))
#define __forceinline inline __attribute__((always_inline))
#define __inline inline
#define UNREFERENCED_PARAMETER(P)          ((void)(P))
#define DBG_UNREFERENCED_PARAMETER(P)      ((void)(P))
#define DBG_UNREFERENCED_LOCAL_VARIABLE(V) ((void)(V))
#define C_ASSERT(e)                        _Static_assert(e, #e)
#define EXTERN_C                           extern
#define __declspec(x) __wdm_declspec_##x
#define __wdm_declspec_noreturn __attribute__((noreturn))
#define __wdm_declspec_dllimport
#define __wdm_declspec_dllexport __attribute__((visibility("default")))
#define __wdm_declspec_noinline  __attribute__((noinline))

/* SAL annotations carry no meaning for gcc; WDK code uses them everywhere. */
#include <sal.h>

#define VOID void
typedef void *PVOID, **PPVOID;
typedef const void *PCVOID;
typedef char CHAR, CCHAR, *PCHAR, *PSTR, *LPSTR;
typedef const char *PCSTR, *LPCSTR, *PCSZ;
typedef unsigned char UCHAR, *PUCHAR, BYTE, *PBYTE, BOOLEAN, *PBOOLEAN;
typedef short SHORT, CSHORT, *PSHORT;
typedef unsigned short USHORT, *PUSHORT, WORD, *PWORD;
typedef int LONG, *PLONG, INT, *PINT, BOOL;
typedef unsigned int ULONG, *PULONG, UINT, *PUINT, DWORD, *PDWORD, LOGICAL, *PLOGICAL;
typedef signed char INT8, *PINT8;
typedef unsigned char UINT8, *PUINT8;
typedef short INT16, *PINT16;
typedef unsigned short UINT16, *PUINT16;
typedef int INT32, *PINT32, LONG32, *PLONG32;
typedef unsigned int UINT32, *PUINT32, ULONG32, *PULONG32, DWORD32, *PDWORD32;
typedef long long LONGLONG, *PLONGLONG, INT64, *PINT64, LONG64, *PLONG64;
typedef unsigned long long ULONGLONG, *PULONGLONG, UINT64, *PUINT64, ULONG64, *PULONG64, DWORD64,
    *PDWORD64, DWORDLONG;
typedef long long LONG_PTR, *PLONG_PTR, INT_PTR, *PINT_PTR, SSIZE_T, *PSSIZE_T;
typedef unsigned long long ULONG_PTR, *PULONG_PTR, UINT_PTR, *PUINT_PTR, SIZE_T, *PSIZE_T,
    DWORD_PTR, KAFFINITY, *PKAFFINITY;
typedef double DOUBLE;
typedef float FLOAT;

/* WCHAR is 16-bit everywhere: wchar_t itself in a driver (-fshort-wchar),
 * a plain unsigned short inside wdmsim, whose wchar_t is glibc's 32-bit. */
#if defined(__SIZEOF_WCHAR_T__) && __SIZEOF_WCHAR_T__ == 2 && !defined(WDMSIM_HOST)
typedef wchar_t WCHAR;
#else
typedef unsigned short WCHAR;
#endif
typedef WCHAR *PWCHAR, *PWCH, *PWSTR, *LPWSTR, *NWPSTR;
typedef const WCHAR *PCWCH, *PCWSTR, *LPCWSTR;
typedef const CHAR *PCCH;

typedef LONG NTSTATUS, *PNTSTATUS;
typedef UCHAR KIRQL, *PKIRQL;
typedef CCHAR KPROCESSOR_MODE;
typedef ULONG_PTR KSPIN_LOCK, *PKSPIN_LOCK;
typedef PVOID HANDLE, *PHANDLE;
typedef ULONG ACCESS_MASK, *PACCESS_MASK;
typedef LONG KPRIORITY;
typedef ULONG LCID;
typedef USHORT RTL_ATOM;

#define TRUE  1
#define FALSE 0
#ifndef NULL
#define NULL ((void *)0)
#endif
#define CONST const
#define IN
#define OUT
#define OPTIONAL

#define MAXUCHAR     0xff
#define MAXUSHORT    0xffff
#define MAXULONG     0xffffffffU
#define MAXLONG      0x7fffffff
#define MINLONG      (-MAXLONG - 1)
#define MAXLONGLONG  0x7fffffffffffffffLL
#define MAXULONG64   0xffffffffffffffffULL
#define MAXULONG_PTR 0xffffffffffffffffULL
#define MAXSIZE_T    0xffffffffffffffffULL
#define MAXLONG_PTR  0x7fffffffffffffffLL

typedef union _LARGE_INTEGER {
    struct {
        ULONG LowPart;
        LONG HighPart;
    };
    struct {
        ULONG LowPart;
        LONG HighPart;
    } u;
    LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

typedef union _ULARGE_INTEGER {
    struct {
        ULONG LowPart;
        ULONG HighPart;
    };
    struct {
        ULONG LowPart;
        ULONG HighPart;
    } u;
    ULONGLONG QuadPart;
} ULARGE_INTEGER, *PULARGE_INTEGER;

typedef LARGE_INTEGER PHYSICAL_ADDRESS, *PPHYSICAL_ADDRESS;

/* Counted strings: lengths in bytes, Buffer need not be NUL-terminated. */
typedef struct _UNICODE_STRING {
    USHORT Length;
    USHORT MaximumLength;
    PWSTR Buffer;
} UNICODE_STRING, *PUNICODE_STRING;
typedef const UNICODE_STRING *PCUNICODE_STRING;

typedef struct _STRING {
    USHORT Length;
    USHORT MaximumLength;
    PCHAR Buffer;
} STRING, *PSTRING, ANSI_STRING, *PANSI_STRING, OEM_STRING, *POEM_STRING;
typedef const STRING *PCSTRING, *PCANSI_STRING, *PCOEM_STRING;

#define UNICODE_NULL             ((WCHAR)0)
#define ANSI_NULL                ((CHAR)0)
#define UNICODE_STRING_MAX_BYTES ((USHORT)65534)
#define UNICODE_STRING_MAX_CHARS (32767)

typedef struct _LIST_ENTRY {
    struct _LIST_ENTRY *Flink;
    struct _LIST_ENTRY *Blink;
} LIST_ENTRY, *PLIST_ENTRY, *PRLIST_ENTRY;

typedef struct _SINGLE_LIST_ENTRY {
    struct _SINGLE_LIST_ENTRY *Next;
} SINGLE_LIST_ENTRY, *PSINGLE_LIST_ENTRY;

#define FIELD_OFFSET(type, field)   ((LONG) __builtin_offsetof(type, field))
#define RTL_FIELD_SIZE(type, field) (sizeof(((type *)0)->field))
#define RTL_SIZEOF_THROUGH_FIELD(type, field) \
    (FIELD_OFFSET(type, field) + RTL_FIELD_SIZE(type, field))
#define RTL_NUMBER_OF(a) (sizeof(a) / sizeof((a)[0]))
#define ARRAYSIZE(a)     RTL_NUMBER_OF(a)
#define CONTAINING_RECORD(address, type, field) \
    ((type *)((PCHAR)(address) - (ULONG_PTR)(&((type *)0)->field)))

#define NT_SUCCESS(Status)     (((NTSTATUS)(Status)) >= 0)
#define NT_INFORMATION(Status) ((((ULONG)(Status)) >> 30) == 1)
#define NT_WARNING(Status)     ((((ULONG)(Status)) >> 30) == 2)
#define NT_ERROR(Status)       ((((ULONG)(Status)) >> 30) == 3)

#define RTL_CONSTANT_STRING(s)                             \
    {                                                      \
        sizeof(s) - sizeof((s)[0]), sizeof(s), (void *)(s) \
    }

#endif /* _NTDEF_ */
