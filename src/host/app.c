/*
 * src/host/app.c - the host API's app runner: wdmsim_run_app.
 *
 * Loads the app image (an ELF shared object built as a Windows x64 app,
 * include/wdmsim/win32.h), finds its main, and runs it in a process of its
 * own on a kernel thread (src/io/app.c) while the machine schedules
 * everything else: the app's requests, the devices' interrupts and DPCs.
 * The image is loaded on the host stack (dlopen needs more stack than a
 * fiber has) and unloaded after the process has ended.
 * Not modelled: several apps at once (run them one after another).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wdmsim/wdmsim.h>

#include "sys.h"

struct sys *wdmsim_sys(wdmsim *sim);

struct app_call {
    void *main_fn;
    int argc;
    char **argv;
    int exit_code;
    int rc;
    char err[512];
};

static void app_thread(void *arg)
{
    struct app_call *c = arg;
    c->rc = io_app_run(c->main_fn, c->argc, c->argv, &c->exit_code, c->err, sizeof(c->err));
}

int wdmsim_run_app(wdmsim *sim, const char *path, int argc, char **argv, int *exit_code,
                   struct wdmsim_error *err)
{
    struct sys *prev = sys_current;
    sys_current = wdmsim_sys(sim);
    struct sys *sys = sys_current;
    int rc = WDMSIM_OK;
    void *h = NULL;
    char **args = calloc((size_t)argc + 2, sizeof(char *));
    *exit_code = -1;
    if (ke_stopped(&sys->ke)) {
        rc = WDMSIM_STOPPED;
        goto out;
    }
    h = args ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : NULL;
    void *main_fn = h ? dlsym(h, "main") : NULL;
    if (!main_fn) {
        if (err)
            snprintf(err->text, sizeof(err->text), "app %s: %s", path,
                     !args ? "out of host memory"
                     : h   ? "no exported main (build it with <wdmsim/win32.h> and "
                             "wdmsim_add_driver(... APP ...))"
                           : dlerror());
        rc = WDMSIM_EINPUT;
        goto out;
    }
    args[0] = (char *)path;
    for (int i = 0; i < argc; i++)
        args[i + 1] = argv[i];
    struct app_call c = {.main_fn = main_fn, .argc = argc + 1, .argv = args, .exit_code = -1};
    if (ke_call(&sys->ke, app_thread, &c)) {
        rc = WDMSIM_STOPPED;
        /* The machine stopped inside the app: its process is abandoned
         * with the thread; its user space goes with the machine. */
    } else if (c.rc) {
        if (err)
            snprintf(err->text, sizeof(err->text), "%s", c.err);
        rc = WDMSIM_EINPUT;
    } else {
        *exit_code = c.exit_code;
    }
    fflush(sys->out);
out:
    if (h && rc != WDMSIM_STOPPED)
        dlclose(h); /* a stopped machine's report may still name app frames */
    free(args);
    sys_current = prev;
    return rc;
}
