/*
 * src/vf/backtrace.c - host backtraces for reports, symbolized with libdw.
 *
 * Frames come from the unwinder (glibc backtrace over .eh_frame, which gcc
 * emits for ms_abi driver code too); names and file:line come from libdw's
 * DWARF reader over the process's modules, drivers included. Symbolization
 * must happen while the driver images are still mapped: reports are made
 * before the machine is shut down.
 */
#include <elfutils/libdwfl.h>
#include <execinfo.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vf/vf.h"

int vf_backtrace_capture(void **frames, int max, int skip)
{
    void *buf[128];
    int n = backtrace(buf, (int)(sizeof(buf) / sizeof(buf[0])));
    int out = 0;
    for (int i = skip; i < n && out < max; i++)
        frames[out++] = buf[i];
    return out;
}

static Dwfl *open_self(void)
{
    static const Dwfl_Callbacks callbacks = {
        .find_elf = dwfl_linux_proc_find_elf,
        .find_debuginfo = dwfl_standard_find_debuginfo,
    };
    Dwfl *dwfl = dwfl_begin(&callbacks);
    if (!dwfl)
        return NULL;
    if (dwfl_linux_proc_report(dwfl, getpid()) != 0 || dwfl_report_end(dwfl, NULL, NULL) != 0) {
        dwfl_end(dwfl);
        return NULL;
    }
    return dwfl;
}

static void describe(Dwfl *dwfl, void *pc, bool is_return, char *buf, size_t len)
{
    /* A return address points after the call; look up the call itself. */
    Dwarf_Addr addr = (Dwarf_Addr)(uintptr_t)pc - (is_return ? 1 : 0);
    Dwfl_Module *mod = dwfl ? dwfl_addrmodule(dwfl, addr) : NULL;
    if (!mod) {
        snprintf(buf, len, "%p", pc);
        return;
    }
    const char *fn = dwfl_module_addrname(mod, addr);
    Dwarf_Addr base;
    const char *modname = dwfl_module_info(mod, NULL, &base, NULL, NULL, NULL, NULL, NULL);
    const char *short_mod = modname ? strrchr(modname, '/') : NULL;
    short_mod = short_mod ? short_mod + 1 : (modname ? modname : "?");
    Dwfl_Line *line = dwfl_module_getsrc(mod, addr);
    int lineno = 0;
    const char *file = line ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
    if (file) {
        const char *f = strrchr(file, '/');
        snprintf(buf, len, "%s!%s (%s:%d)", short_mod, fn ? fn : "?", f ? f + 1 : file, lineno);
    } else {
        snprintf(buf, len, "%s!%s+0x%llx", short_mod, fn ? fn : "?",
                 (unsigned long long)(addr - base));
    }
}

void vf_backtrace_describe(void *pc, char *buf, size_t len)
{
    Dwfl *dwfl = open_self();
    describe(dwfl, pc, true, buf, len);
    if (dwfl)
        dwfl_end(dwfl);
}

void vf_backtrace_print(FILE *out, void *const *frames, int n)
{
    Dwfl *dwfl = open_self();
    char line[512];
    for (int i = 0; i < n; i++) {
        describe(dwfl, frames[i], true, line, sizeof(line));
        fprintf(out, "  #%-2d %s\n", i, line);
    }
    if (dwfl)
        dwfl_end(dwfl);
}
