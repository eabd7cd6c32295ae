/*
 * tests/samples/sample_run.h - running a sample driver (or a mutant of it)
 * with its app through the host API, as `wdmsim run --app` does, and
 * keeping the machine for the checks: app output, bug check, statistics,
 * the device models' test hooks. Used by test_pktdisk_sample.c,
 * test_isastream_sample.c and test_soak.c.
 */
#ifndef WDMSIM_TESTS_SAMPLE_RUN_H
#define WDMSIM_TESTS_SAMPLE_RUN_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <wdmsim/wdmsim.h>

struct sample_run {
    wdmsim *sim;
    int app_rc, exit_code, unload_rc;
    const struct wdmsim_bugcheck *bc;
    struct wdmsim_stats stats;
    char out[1 << 16]; /* the app's output (and DbgPrint) */
};

static inline const char *sample_machine(const char *name)
{
    static char path[1024];
    snprintf(path, sizeof(path), "%s/machines/%s.ini", getenv("WDMSIM_SOURCE"), name);
    return path;
}

/* Boots machines/<name>.ini, loads `driver` (a path), starts the devices,
 * runs `app` (a path)
 * with args, unloads the drivers (if nothing stopped). The machine stays. */
static inline void sample_run(struct sample_run *r, const char *name, const char *verifier,
                              uint64_t seed, const char *driver, const char *app, int argc,
                              char **argv)
{
    memset(r, 0, sizeof(*r));
    FILE *out = tmpfile();
    assert_non_null(out);
    struct wdmsim_config cfg = {
        .machine_path = sample_machine(name), .seed = seed, .verifier = verifier, .out = out};
    struct wdmsim_error err = {{0}};
    if (wdmsim_boot(&cfg, &r->sim, &err) != WDMSIM_OK)
        fail_msg("boot %s: %s", name, err.text);
    if (wdmsim_load_driver(r->sim, driver, &err) != WDMSIM_OK)
        fail_msg("load %s: %s", driver, err.text);
    assert_int_equal(wdmsim_start_devices(r->sim), WDMSIM_OK);
    r->app_rc = wdmsim_run_app(r->sim, app, argc, argv, &r->exit_code, &err);
    if (r->app_rc == WDMSIM_EINPUT)
        fail_msg("app %s: %s", app, err.text);
    r->unload_rc = r->app_rc == WDMSIM_OK ? wdmsim_unload_drivers(r->sim) : r->app_rc;
    r->bc = wdmsim_get_bugcheck(r->sim);
    wdmsim_get_stats(r->sim, &r->stats);
    fflush(out);
    rewind(out);
    size_t n = fread(r->out, 1, sizeof(r->out) - 1, out);
    r->out[n] = 0;
    fclose(out);
}

/* The app passed; no bug check (pool leaks stop the unload), no verifier
 * or device-protocol violation. `passed` is the app's PASSED line. */
static inline void sample_expect_clean(struct sample_run *r, const char *what, const char *passed)
{
    if (r->app_rc != WDMSIM_OK || r->exit_code != 0 || r->unload_rc != WDMSIM_OK || r->bc ||
        !strstr(r->out, passed) || r->stats.violations || r->stats.device_violations) {
        if (r->bc)
            wdmsim_report_print(r->sim, stderr);
        fail_msg("%s: app rc %d exit %d unload %d, %u violation(s), %u device violation(s); "
                 "output:\n%s",
                 what, r->app_rc, r->exit_code, r->unload_rc, r->stats.violations,
                 r->stats.device_violations, r->out);
    }
    assert_null(strstr(r->out, "FAIL "));
}

/* The run stopped with code, P1 and rule. */
static inline void sample_expect_stop(struct sample_run *r, const char *what, uint32_t code,
                                      uint64_t p1, const char *rule)
{
    if (!r->bc)
        fail_msg("%s did not stop (app rc %d exit %d); output:\n%s", what, r->app_rc, r->exit_code,
                 r->out);
    if (r->bc->code != code || r->bc->parameters[0] != p1 || !r->bc->rule ||
        strcmp(r->bc->rule, rule)) {
        wdmsim_report_print(r->sim, stderr);
        fail_msg("%s stopped with 0x%X (P1 %#llx) rule %s; expected 0x%X (P1 %#llx) %s", what,
                 r->bc->code, (unsigned long long)r->bc->parameters[0],
                 r->bc->rule ? r->bc->rule : "-", code, (unsigned long long)p1, rule);
    }
}

#endif
