/*
 * src/rtl/dbgprint.c - DbgPrint, DbgPrintEx, vDbgPrintEx, RtlAssert.
 *
 * Models: kernel debug output. Windows sends at most 512 bytes of a call to
 * the debugger; wdmsim writes the text unchanged to the run's output and
 * marks a cut visibly. A failed driver ASSERT breaks into the debugger on a
 * checked Windows; wdmsim has no debugger to break into, so it takes the
 * stricter path and stops the machine.
 * Spec: spec/ke_rtl_registry.md 8; spec/verifier.md dbg.unicode-above-passive.
 * Invariants: one fwrite per call, flushed, so output interleaves with the
 * host's own reports in order.
 * Not modelled: component/level filtering (every message is written: a
 * test wants to see them all); the debugger prompt of RtlAssert.
 */
#include <stdio.h>
#include <string.h>

#include <wdm.h>

#include "rtl/rtl.h"
#include "sys.h"

/* Longer output ends with this, inside the 512 bytes. */
static const char truncated_mark[] = "[truncated]\n";

/* Unicode conversions (%wZ, %ws ...) above PASSIVE_LEVEL: Windows may touch
 * pageable NLS data there. Windows does not catch it; wdmsim reports and
 * continues because the text itself is fine. */
const struct vf_rule rtl_rule_dbg_unicode_above_passive = {
    .id = "dbg.unicode-above-passive",
    .code = 0xC4,
    .p1 = 0x5700000E,
    .params = {"current IRQL", "format string", "0"},
    .text = "DbgPrint with a Unicode conversion (%wZ %ws %S %C %wc %lc %ls) above PASSIVE_LEVEL",
    .option = vf_opt_auto,
    .continues = true,
    .fixture = "tests/fixtures/dbg_unicode_above_passive",
};

NTSYSAPI ULONG NTAPI vDbgPrintEx(ULONG ComponentId, ULONG Level, PCSTR Format,
                                 __builtin_ms_va_list arglist)
{
    struct sys *sys = sys_get();
    char text[rtl_dbgprint_max];
    struct rtl_sink s;

    rtl_sink_init(&s, rtl_sink_narrow, text, sizeof text);
    rtl_format(&s, Format, &arglist);
    size_t n = s.len;
    if (n > sizeof text) {
        n = sizeof text - (sizeof truncated_mark - 1);
        memcpy(text + n, truncated_mark, sizeof truncated_mark - 1);
        n = sizeof text;
    }
    FILE *out = sys && sys->out ? sys->out : stdout;
    fwrite(text, 1, n, out);
    fflush(out);
    if (sys) {
        sys->stats.dbgprint_calls++;
        sys->stats.dbgprint_bytes += n;
        uint8_t irql = ke_current_processor(&sys->ke)->irql;
        if (s.unicode_conversions && irql > PASSIVE_LEVEL)
            vf_fire(&rtl_rule_dbg_unicode_above_passive, irql, (uint64_t)(uintptr_t)Format, 0,
                    "DbgPrint(\"%.60s\") at IRQL %u", Format ? Format : "(null)", irql);
    }
    return STATUS_SUCCESS;
}

NTSYSAPI ULONG __cdecl DbgPrintEx(ULONG ComponentId, ULONG Level, PCSTR Format, ...)
{
    __builtin_ms_va_list ap;
    __builtin_ms_va_start(ap, Format);
    ULONG status = vDbgPrintEx(ComponentId, Level, Format, ap);
    __builtin_ms_va_end(ap);
    return status;
}

NTSYSAPI ULONG __cdecl DbgPrint(PCSTR Format, ...)
{
    __builtin_ms_va_list ap;
    __builtin_ms_va_start(ap, Format);
    ULONG status = vDbgPrintEx(DPFLTR_DEFAULT_ID, DPFLTR_INFO_LEVEL, Format, ap);
    __builtin_ms_va_end(ap);
    return status;
}

/* KMODE_EXCEPTION_NOT_HANDLED with STATUS_ASSERTION_FAILURE is what an
 * unhandled assertion raise (int 2C) becomes on a free build without a
 * debugger; P2 is where the driver asserted. */
static const uint32_t kmode_exception_not_handled = 0x1E;
static const uint32_t status_assertion_failure = 0xC0000420;

NTSYSAPI VOID NTAPI RtlAssert(PVOID VoidFailedAssertion, PVOID VoidFileName, ULONG LineNumber,
                              PCSTR MutableMessage)
{
    const char *expr = VoidFailedAssertion ? (const char *)VoidFailedAssertion : "?";
    const char *file = VoidFileName ? (const char *)VoidFileName : "?";
    ke_bugcheck(kmode_exception_not_handled, status_assertion_failure,
                (uint64_t)(uintptr_t)__builtin_return_address(0), 0, 0, NULL,
                "ASSERT(%.200s) failed at %.200s:%u%s%.80s", expr, file, LineNumber,
                MutableMessage ? ": " : "", MutableMessage ? MutableMessage : "");
}
