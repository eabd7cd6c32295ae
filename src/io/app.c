/*
 * src/io/app.c - running an app: its process, user stack, argv, main(),
 * and the process's end.
 *
 * Models: a Windows process with one thread running a console app: the
 * image's main(argc, argv) runs in user mode on a user stack inside the
 * process's user space (src/mm/user.c), with argv there too; the Win32
 * exports it calls enter the kernel through ke_gate. When main returns
 * (or exit() is called) the process ends as Windows ends one: outstanding
 * I/O is cancelled and waited for, every handle is closed (IRP_MJ_CLEANUP,
 * IRP_MJ_CLOSE), and an MDL still locking its pages is mdl.left-locked
 * (0xCB). A fault in app code (a bad pointer of the app's own) terminates
 * the process with exit code 0xC0000005, as an unhandled access violation
 * does, instead of stopping the machine.
 * Spec: spec/memory.md 2; spec/verifier.md 5 (mdl.left-locked); docs/apps.md.
 * Invariants: the calling thread belongs to the process exactly while
 * io_app_run runs; the process and its user space are gone when it returns.
 * Not modelled: several threads, the PEB/TEB, environment, exit codes of
 * other exceptions than access violations.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/io_impl.h"

/* User stack: 256 KiB (Windows reserves 1 MiB; commits grow on demand). */
enum { app_stack_bytes = 256 * 1024, app_space_bytes = 1u << 30 };

typedef int(__attribute__((ms_abi)) * app_main_fn)(int argc, char **argv);

struct app_start {
    app_main_fn main;
    int argc;
    char **argv;
};

static uint64_t app_user_main(void *arg)
{
    struct app_start *a = arg;
    return (uint32_t)a->main(a->argc, a->argv);
}

/* A fault while the app's own code runs (not inside a Win32 call): the
 * process dies with STATUS_ACCESS_VIOLATION, the machine goes on. */
static int app_fault(struct sys *sys, void *addr, int access, void *pc)
{
    struct ke *ke = &sys->ke;
    struct ke_thread *t = ke->running ? ke->processor[ke->current].thread : NULL;
    struct ke_process *p = ke_thread_process(t);
    if (!p || !p->in_user || p->thread != t || !p->io)
        return mm_fault_declined;
    struct io_process *st = p->io;
    fprintf(stderr,
            "wdmsim: app %s: access violation: %s of %p at instruction %p; the process is "
            "terminated (exit code 0xC0000005)\n",
            p->name,
            access == 1   ? "write"
            : access == 8 ? "execution"
                          : "read",
            addr, pc);
    st->exit_code = (int)0xC0000005;
    p->in_user = false;
    __builtin_longjmp(st->exit_jmp, 1);
}

/* argv in user space: the pointer array, then the strings. */
static char **copy_args(struct mm *mm, struct mm_user_space *u, int argc, char **argv)
{
    size_t bytes = sizeof(char *) * ((size_t)argc + 1);
    for (int i = 0; i < argc; i++)
        bytes += strlen(argv[i]) + 1;
    char **uv = mm_user_alloc(mm, u, bytes);
    if (!uv)
        return NULL;
    char *s = (char *)(uv + argc + 1);
    for (int i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]) + 1;
        memcpy(s, argv[i], n);
        uv[i] = s;
        s += n;
    }
    uv[argc] = NULL;
    return uv;
}

/* Runs main; returns its exit code. Kept out of line: the setjmp frame
 * must stay above the kernel stack the gates use. */
static __attribute__((noinline)) int run_main(struct ke_process *p, struct io_process *st,
                                              void *top, struct app_start *a)
{
    if (__builtin_setjmp(st->exit_jmp) == 0)
        return (int)ke_user_enter(p, top, app_user_main, a);
    p->in_user = false;
    return st->exit_code;
}

int io_app_run(void *main_fn, int argc, char **argv, int *exit_code, char *err, size_t errlen)
{
    struct sys *sys = sys_get();
    struct ke *ke = &sys->ke;
    struct mm *mm = &sys->mm;
    const char *base = strrchr(argv[0], '/');
    base = base ? base + 1 : argv[0];
    mm_fault_register(app_fault);
    struct io_process *st = calloc(1, sizeof(*st));
    struct ke_process *p = st ? ke_process_create(ke, base, app_space_bytes) : NULL;
    if (!p) {
        free(st);
        snprintf(err, errlen, "%s: no host memory for its process", argv[0]);
        return -1;
    }
    p->io = st;
    struct ke_thread *t = ke_current_thread(ke);
    t->process = p;
    p->thread = t;
    ke_process_sync(ke);
    uint8_t *stack = mm_user_alloc(mm, p->space, app_stack_bytes);
    char **uargv = stack ? copy_args(mm, p->space, argc, argv) : NULL;
    int rc = 0;
    if (!uargv) {
        snprintf(err, errlen, "%s: no simulated memory for its stack and arguments", argv[0]);
        rc = -1;
    } else {
        struct app_start a = {(app_main_fn)main_fn, argc, uargv};
        *exit_code = run_main(p, st, stack + app_stack_bytes, &a);
        fflush(sys->out);
        io_process_rundown(st);
        mm_user_check_locked(mm, p); /* mdl.left-locked: stops the machine */
    }
    t->process = NULL;
    p->thread = NULL;
    ke_process_sync(ke);
    p->io = NULL;
    free(st);
    ke_process_destroy(ke, p);
    return rc;
}
