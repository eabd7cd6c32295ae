/*
 * src/host/inspect_break.c - --break-on: where the machine stops for the
 * inspector.
 *
 * Models: a kernel debugger's breakpoint without a debugger attached, as
 * Windows behaves then: a driver executing int3 with no debugger bug
 * checks 0x1E KMODE_EXCEPTION_NOT_HANDLED with P1 0x80000003
 * (STATUS_BREAKPOINT) and P2 the address. "DRIVER!Function" is resolved in
 * the driver image (dlsym, else the ELF symbol table through libdw, so
 * static functions work too) after the image is mapped and before
 * DriverEntry, and its first byte becomes int3. The SIGTRAP handler stops
 * the machine there; the machine never resumes, so the original byte need
 * not come back. RULE and BUGCHECK are plain stops (vf.break_rule makes a
 * report-and-continue rule stop).
 * Invariants: a SIGTRAP at an address that is no breakpoint of the running
 * machine takes the default action (it is not ours).
 * Not modelled: continuing after a breakpoint, breakpoints on data,
 * breakpoints in drivers loaded before wdmsim_break_on.
 */
#include <dlfcn.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <wdmsim/wdmsim.h>

#include "host/inspect.h"
#include "sys.h"

enum { max_breaks = 16 };

struct host_break {
    char driver[64];
    char function[128];
    uintptr_t addr; /* 0 until the driver is loaded */
};

struct host_breaks {
    struct host_break b[max_breaks];
    unsigned n;
    char hit[200]; /* "DRIVER!Function" once one was hit */
};

int host_break_add(struct sys *sys, const char *driver, const char *function)
{
    if (!sys->breaks && !(sys->breaks = calloc(1, sizeof(*sys->breaks))))
        return -1;
    struct host_breaks *t = sys->breaks;
    if (t->n == max_breaks)
        return -1;
    struct host_break *b = &t->b[t->n++];
    snprintf(b->driver, sizeof(b->driver), "%s", driver);
    snprintf(b->function, sizeof(b->function), "%s", function);
    return 0;
}

const char *host_break_hit(struct sys *sys)
{
    return sys->breaks && sys->breaks->hit[0] ? sys->breaks->hit : NULL;
}

void host_break_fini(struct sys *sys)
{
    free(sys->breaks);
    sys->breaks = NULL;
}

static void on_trap(int sig, siginfo_t *si, void *uctx)
{
    (void)si;
    struct sys *sys = sys_get();
    ucontext_t *uc = uctx;
    uintptr_t at = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP] - 1;
    struct host_breaks *t = sys ? sys->breaks : NULL;
    for (unsigned i = 0; t && i < t->n; i++) {
        struct host_break *b = &t->b[i];
        if (b->addr != at || !(sys->ke.running || sys->ke.stop_target))
            continue;
        snprintf(t->hit, sizeof(t->hit), "%s!%s", b->driver, b->function);
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGTRAP);
        pthread_sigmask(SIG_UNBLOCK, &s, NULL);
        ke_bugcheck(0x1E, 0x80000003, at, 0, 0, NULL, "breakpoint %s!%s (--break-on) reached at %p",
                    b->driver, b->function, (void *)at);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static int install_trap(void)
{
    struct sigaction cur;
    if (sigaction(SIGTRAP, NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) &&
        cur.sa_sigaction == on_trap)
        return 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_trap;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGTRAP, &sa, NULL);
}

/* Static functions are not in the dynamic symbol table: read the image's
 * own symbol table (as the backtraces do). 0 when not found. */
static uintptr_t symtab_lookup(const struct io_driver *drv, const char *name)
{
    static const Dwfl_Callbacks callbacks = {
        .find_elf = dwfl_linux_proc_find_elf,
        .find_debuginfo = dwfl_standard_find_debuginfo,
    };
    Dwfl *dwfl = dwfl_begin(&callbacks);
    if (!dwfl)
        return 0;
    uintptr_t found = 0;
    if (dwfl_linux_proc_report(dwfl, getpid()) == 0 && dwfl_report_end(dwfl, NULL, NULL) == 0) {
        Dwfl_Module *mod = dwfl_addrmodule(dwfl, drv->image_base);
        int n = mod ? dwfl_module_getsymtab(mod) : 0;
        for (int i = 0; i < n && !found; i++) {
            GElf_Sym sym;
            GElf_Addr addr;
            const char *s = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL, NULL, NULL);
            if (s && !strcmp(s, name) && GELF_ST_TYPE(sym.st_info) == STT_FUNC)
                found = (uintptr_t)addr;
        }
    }
    dwfl_end(dwfl);
    return found;
}

static int patch(uintptr_t addr)
{
    long ps = sysconf(_SC_PAGESIZE);
    void *page = (void *)(addr & ~(uintptr_t)(ps - 1));
    size_t len = (addr + 1 > (uintptr_t)page + (size_t)ps) ? 2 * (size_t)ps : (size_t)ps;
    if (mprotect(page, len, PROT_READ | PROT_WRITE | PROT_EXEC))
        return -1;
    *(volatile uint8_t *)addr = 0xCC; /* int3 */
    __builtin___clear_cache((char *)addr, (char *)addr + 1);
    return mprotect(page, len, PROT_READ | PROT_EXEC);
}

void host_break_apply(struct sys *sys, struct io_driver *drv)
{
    struct host_breaks *t = sys->breaks;
    for (unsigned i = 0; t && i < t->n; i++) {
        struct host_break *b = &t->b[i];
        if (strcmp(b->driver, drv->service))
            continue;
        uintptr_t a = (uintptr_t)dlsym(drv->handle, b->function);
        if (!a || a < drv->image_base || a >= drv->image_end)
            a = symtab_lookup(drv, b->function);
        if (!a || install_trap() || patch(a)) {
            fprintf(stderr, "wdmsim: --break-on %s!%s: %s\n", b->driver, b->function,
                    a ? "cannot patch the image" : "no such function in the driver");
            continue;
        }
        b->addr = a;
    }
}

/* ---- host API ------------------------------------------------------------------- */

int wdmsim_break_on(wdmsim *sim, const char *spec, struct wdmsim_error *err)
{
    struct sys *sys = wdmsim_sys(sim);
    const char *bang = strchr(spec, '!');
    if (!strcmp(spec, "BUGCHECK"))
        return WDMSIM_OK;
    if (bang) {
        char driver[64];
        snprintf(driver, sizeof(driver), "%.*s", (int)(bang - spec), spec);
        char *so = strstr(driver, ".so");
        if (so && !so[3])
            *so = 0;
        if (!driver[0] || !bang[1] || host_break_add(sys, driver, bang + 1)) {
            if (err)
                snprintf(err->text, sizeof(err->text),
                         "--break-on %s: expected DRIVER!Function (at most %d)", spec, max_breaks);
            return WDMSIM_EINPUT;
        }
        return WDMSIM_OK;
    }
    const struct vf_rule *rule = vf_rule_find(spec);
    if (!rule) {
        if (err)
            snprintf(err->text, sizeof(err->text),
                     "--break-on %s: not a rule id (wdmsim rules), BUGCHECK or DRIVER!Function",
                     spec);
        return WDMSIM_EINPUT;
    }
    sys->vf.break_rule = rule;
    return WDMSIM_OK;
}

int wdmsim_break_matches(wdmsim *sim, const char *spec)
{
    struct sys *sys = wdmsim_sys(sim);
    const struct ke_bugcheck *bc = &sys->ke.bugcheck;
    if (!bc->raised)
        return 0;
    if (!strcmp(spec, "BUGCHECK"))
        return 1;
    const char *hit = host_break_hit(sys);
    if (strchr(spec, '!')) {
        if (!hit)
            return 0;
        /* "drv.so!Fn" and "drv!Fn" name the same breakpoint. */
        const char *so = strstr(spec, ".so!");
        char want[200];
        if (so)
            snprintf(want, sizeof(want), "%.*s%s", (int)(so - spec), spec, so + 3);
        else
            snprintf(want, sizeof(want), "%s", spec);
        return !strcmp(want, hit);
    }
    return bc->rule && !strcmp(bc->rule->id, spec);
}
