/*
 * src/vf/fire.c - a rule fires.
 *
 * A stopping rule becomes a bug check with the rule's code and subcode; a
 * continuing rule (Windows defines a non-fatal outcome) prints a one-line
 * report and counts it, which still fails the run (exit status 1).
 */
#include <stdarg.h>
#include <stdio.h>

#include "sys.h"

void vf_fire(const struct vf_rule *rule, uint64_t a, uint64_t b, uint64_t c, const char *fmt, ...)
{
    struct sys *sys = sys_get();
    if (!vf_on(&sys->vf, rule))
        return;
    va_list ap;
    va_start(ap, fmt);
    if (rule->continues && rule != sys->vf.break_rule) {
        FILE *out = sys->vf.out ? sys->vf.out : stderr;
        fprintf(out, "wdmsim: verifier: %s (0x%X/0x%llX): ", rule->id, rule->code,
                (unsigned long long)rule->p1);
        vfprintf(out, fmt, ap);
        fprintf(out, "\n");
        va_end(ap);
        sys->vf.reported++;
        return;
    }
    uint64_t param[4];
    if (rule->subcode_in_p4) {
        param[0] = a, param[1] = b, param[2] = c, param[3] = rule->p1;
    } else {
        param[0] = rule->p1, param[1] = a, param[2] = b, param[3] = c;
    }
    ke_bugcheck_v(rule->code, param, rule, fmt, ap);
}
