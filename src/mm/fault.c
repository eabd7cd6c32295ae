/*
 * src/mm/fault.c - the one SIGSEGV handler: page faults of simulated code.
 *
 * Models: the page-fault path of spec/memory.md 3. A host fault becomes a
 * simulated page fault: the handler reads the faulting address (si_addr),
 * the access from the x86 error code (bit 1 write, bit 4 instruction fetch)
 * and the instruction pointer, then asks each registered resolver in
 * order: special pool guard pages (src/ex), paged-out pageable pages
 * (paging) ... A resolver returns "handled" (the access is retried) or
 * stops the machine with a bug check: ke_bugcheck siglongjmps to ke_call,
 * whose sigsetjmp saved the signal mask, so leaving the handler that way is
 * sound. A fault nobody claims inside simulated memory is bug check 0x50
 * PAGE_FAULT_IN_NONPAGED_AREA; outside it, while the machine runs, it is
 * a wild pointer (NULL...): 0x1E with STATUS_ACCESS_VIOLATION, or 0xD1 /
 * 0x0A at DISPATCH_LEVEL and above. Only a fault while no machine code
 * runs is a wdmsim bug, for which the default action (core dump) runs.
 * Invariants: the handler runs on an alternate stack, so a fault on a
 * fiber's guard page still reaches it.
 * Not modelled: faults of other host threads than the one in the machine.
 * The resolver list is process-wide, like the signal disposition it
 * belongs to: resolvers are functions, the machine comes from sys_get().
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "sys.h"

enum { max_resolvers = 8 };

static mm_fault_resolver resolvers[max_resolvers];
static unsigned nresolvers;
static bool installed;
static __thread void *alt_stack;

void mm_fault_register(mm_fault_resolver fn)
{
    for (unsigned i = 0; i < nresolvers; i++)
        if (resolvers[i] == fn)
            return;
    if (nresolvers < max_resolvers)
        resolvers[nresolvers++] = fn;
}

static void not_ours(int sig)
{
    /* Back to the default action; returning re-executes the access, which
     * faults again and dumps core where the bug is. */
    signal(sig, SIG_DFL);
}

static void on_fault(int sig, siginfo_t *si, void *uctx)
{
    struct sys *sys = sys_get();
    ucontext_t *uc = uctx;
    void *addr = si->si_addr;
    uint64_t err = (uint64_t)uc->uc_mcontext.gregs[REG_ERR];
    void *pc = (void *)uc->uc_mcontext.gregs[REG_RIP];
    int access = (err & 0x10) ? 8 : (err & 2) ? 1 : 0;
    if (!sys || !sys->booted) {
        not_ours(sig);
        return;
    }
    /* A resolver may stop the machine, which leaves this handler by a
     * fiber switch or siglongjmp that need not restore the signal mask:
     * unblock the fault signals now so the next fault is delivered. */
    sigset_t faults;
    sigemptyset(&faults);
    sigaddset(&faults, SIGSEGV);
    sigaddset(&faults, SIGBUS);
    pthread_sigmask(SIG_UNBLOCK, &faults, NULL);
    /* The handler runs with default protection-key rights; give back the
     * current user space's, in case a resolver leaves by longjmp. */
    if (sys->mm.users)
        mm_user_keys_apply(&sys->mm);
    /* Resolvers run outside driver code too (wdmsim reading a trimmed
     * pageable page on the host's behalf is paged in); only a stop needs
     * a ke_call to land in. */
    for (unsigned i = 0; i < nresolvers; i++)
        if (resolvers[i](sys, addr, access, pc) == mm_fault_handled)
            return;
    if ((sys->ke.running || sys->ke.stop_target) && mm_pte_of(&sys->mm, addr)) {
        /* P2 (x64, Windows 10 1507+): 0 read, 2 write, 0x10 execute. */
        uint64_t p2 = access == 1 ? 2 : access == 8 ? 0x10 : 0;
        ke_bugcheck(0x50, (uint64_t)(uintptr_t)addr, p2, (uint64_t)(uintptr_t)pc, 0, NULL,
                    "%s of %p, which is not valid memory [instruction %p]",
                    access == 1   ? "write"
                    : access == 8 ? "execution"
                                  : "read",
                    addr, pc);
    }
    if (sys->ke.running || sys->ke.stop_target) {
        /* Outside simulated memory while the machine runs: a wild pointer
         * of the driver's (NULL, a number, freed host memory) used by its
         * code or by a routine it handed the pointer to. Windows raises
         * STATUS_ACCESS_VIOLATION, which no __try caught (seh_resolve runs
         * before this): KMODE_EXCEPTION_NOT_HANDLED; at DISPATCH_LEVEL and
         * above the fault itself stops the machine, 0xD1 from a driver's
         * instruction, 0x0A from the kernel's. The report's stack says
         * whose code it was. */
        uint8_t irql = ke_irql(&sys->ke);
        const char *what = access == 1 ? "write" : access == 8 ? "execution" : "read";
        if (irql >= DISPATCH_LEVEL) {
            bool driver = mm_image_of(&sys->mm, (uintptr_t)pc) != NULL;
            ke_bugcheck(driver ? 0xD1 : 0x0A, (uint64_t)(uintptr_t)addr, irql, (uint64_t)access,
                        (uint64_t)(uintptr_t)pc, NULL,
                        "%s of %p, which is no memory at all, at IRQL %u [instruction %p]", what,
                        addr, irql, pc);
        }
        ke_bugcheck(0x1E, 0xC0000005, (uint64_t)(uintptr_t)pc,
                    access == 1   ? 1
                    : access == 8 ? 8
                                  : 0,
                    (uint64_t)(uintptr_t)addr, NULL,
                    "access violation: %s of %p, which is no memory at all [instruction %p] "
                    "(KMODE_EXCEPTION_NOT_HANDLED)",
                    what, addr, pc);
    }
    not_ours(sig);
}

int mm_fault_install(void)
{
    if (!alt_stack) {
        /* Large: a stop symbolizes the fault with libdw on this stack. */
        size_t size = 1024 * 1024;
        alt_stack = malloc(size);
        if (!alt_stack) {
            fprintf(stderr, "wdmsim: allocating the fault handler's stack: out of memory\n");
            return -1;
        }
        stack_t ss = {.ss_sp = alt_stack, .ss_size = size, .ss_flags = 0};
        if (sigaltstack(&ss, NULL)) {
            fprintf(stderr, "wdmsim: sigaltstack: %s\n", strerror(errno));
            return -1;
        }
    }
    /* Someone else (a test harness catching crashes) may have taken the
     * signal since: take it back. */
    struct sigaction cur;
    if (installed && sigaction(SIGSEGV, NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) &&
        cur.sa_sigaction == on_fault)
        return 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, NULL) || sigaction(SIGBUS, &sa, NULL)) {
        fprintf(stderr, "wdmsim: sigaction(SIGSEGV): %s\n", strerror(errno));
        return -1;
    }
    installed = true;
    return 0;
}
