/*
 * src/ke/bugcheck.c - stopping the machine.
 *
 * Models: KeBugCheckEx / KeBugCheck: the system stops at once with a stop
 * code and four parameters; nothing of the driver runs after it.
 * Here the stop records the bug check and its host backtrace, then returns
 * to the host's ke_call() (the host's way into driver code), which returns
 * -1: from a fiber by abandoning it (sched.c), from the host stack by
 * siglongjmp. The report itself is vf's (src/vf/report.c).
 * Invariants: a second bug check while stopping keeps the first.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wdm.h>

#include "sys.h"

_Noreturn void ke_bugcheck_v(uint32_t code, const uint64_t param[4], const struct vf_rule *rule,
                             const char *fmt, va_list ap)
{
    struct sys *sys = sys_get();
    struct ke *ke = &sys->ke;
    struct ke_bugcheck *bc = &ke->bugcheck;
    if (!bc->raised) {
        bc->raised = true;
        bc->code = code;
        memcpy(bc->param, param, sizeof(bc->param));
        bc->rule = rule;
        bc->processor = ke->current;
        bc->irql = ke_current_processor(ke)->irql;
        if (fmt)
            vsnprintf(bc->text, sizeof(bc->text), fmt, ap);
        bc->nframes = vf_backtrace_capture(bc->frames, (int)RTL_NUMBER_OF(bc->frames), 2);
    }
    if (ke->running && !ke->on_host)
        ke_sched_abort(ke);
    if (ke->stop_target)
        siglongjmp(*ke->stop_target, 1);
    /* No host frame to return to: a bug check outside any ke_call is a
     * wdmsim bug, not a driver's. Say so rather than unwind into nothing. */
    fprintf(stderr, "wdmsim: bug check 0x%X outside driver code; aborting\n", code);
    abort();
}

_Noreturn void ke_bugcheck(uint32_t code, uint64_t p1, uint64_t p2, uint64_t p3, uint64_t p4,
                           const struct vf_rule *rule, const char *fmt, ...)
{
    uint64_t param[4] = {p1, p2, p3, p4};
    va_list ap;
    va_start(ap, fmt);
    ke_bugcheck_v(code, param, rule, fmt, ap);
}

NTKERNELAPI DECLSPEC_NORETURN VOID NTAPI KeBugCheckEx(ULONG BugCheckCode,
                                                      ULONG_PTR BugCheckParameter1,
                                                      ULONG_PTR BugCheckParameter2,
                                                      ULONG_PTR BugCheckParameter3,
                                                      ULONG_PTR BugCheckParameter4)
{
    ke_bugcheck(BugCheckCode, BugCheckParameter1, BugCheckParameter2, BugCheckParameter3,
                BugCheckParameter4, NULL, "the driver called KeBugCheckEx");
}

NTKERNELAPI DECLSPEC_NORETURN VOID NTAPI KeBugCheck(ULONG BugCheckCode)
{
    ke_bugcheck(BugCheckCode, 0, 0, 0, 0, NULL, "the driver called KeBugCheck");
}
