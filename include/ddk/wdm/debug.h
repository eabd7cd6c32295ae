/*
 * include/ddk/wdm/debug.h - part of wdm.h: debugger output and assertions.
 * Spec: spec/ke_rtl_registry.md 8. wdmsim writes DbgPrint text to the run's
 * standard output unchanged.
 */
#pragma once

#define DPFLTR_ERROR_LEVEL   0
#define DPFLTR_WARNING_LEVEL 1
#define DPFLTR_TRACE_LEVEL   2
#define DPFLTR_INFO_LEVEL    3
#define DPFLTR_MASK          0x80000000
#define DPFLTR_IHVDRIVER_ID  77
#define DPFLTR_DEFAULT_ID    101

NTSYSAPI ULONG __cdecl DbgPrint(PCSTR Format, ...);
NTSYSAPI ULONG __cdecl DbgPrintEx(ULONG ComponentId, ULONG Level, PCSTR Format, ...);
NTSYSAPI ULONG NTAPI vDbgPrintEx(ULONG ComponentId, ULONG Level, PCSTR Format,
                                 __builtin_ms_va_list arglist);
NTSYSAPI VOID NTAPI DbgBreakPoint(VOID);

/* KdPrint takes its arguments in double parentheses, as in the WDK. */
#define KdPrint(_x_)   DbgPrint _x_
#define KdPrintEx(_x_) DbgPrintEx _x_
#define KdBreakPoint() DbgBreakPoint()

/* ASSERT is the driver's; a failure is a bug check here, not a debugger prompt. */
NTSYSAPI VOID NTAPI RtlAssert(PVOID VoidFailedAssertion, PVOID VoidFileName, ULONG LineNumber,
                              PCSTR MutableMessage);
#define ASSERT(exp) \
    ((!(exp)) ? (RtlAssert((PVOID) #exp, (PVOID)__FILE__, __LINE__, NULL), FALSE) : TRUE)
#define ASSERTMSG(msg, exp) \
    ((!(exp)) ? (RtlAssert((PVOID) #exp, (PVOID)__FILE__, __LINE__, (PCSTR)(msg)), FALSE) : TRUE)
#define NT_ASSERT(exp) ASSERT(exp)
