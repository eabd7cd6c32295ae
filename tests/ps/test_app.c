/*
 * tests/ps/test_app.c - user processes and apps: the PIO-1 app passes every
 * path with zero violations (host API and `wdmsim run --app`), a DPC that
 * touches METHOD_NEITHER's user address stops with mm.user-va-wrong-context
 * (0xD1, P1 the address, P4 0x57000004), a process ending with pages still
 * locked is mdl.left-locked (0xCB), and the app runtime (argv, exit, heap,
 * events, a crashing app, a global buffer) behaves.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/fixture.h"

static char drivers_dir[1024];
static char out_buf[65536];

static const char *app_path(const char *name)
{
    static char path[1200];
    snprintf(path, sizeof(path), "%s/%s.so", WDMSIM_TEST_APPS, name);
    return path;
}

static const char *default_ini(void)
{
    static char path[1200];
    snprintf(path, sizeof(path), "%s/machines/default.ini", getenv("WDMSIM_SOURCE"));
    return path;
}

/* Boots the default machine, loads the driver, starts devices, runs the
 * app; the app's output lands in out_buf. */
static wdmsim *run(const char *driver, const char *app, int argc, char **argv, int *rc,
                   int *exit_code)
{
    struct wdmsim_config cfg = {.machine_path = default_ini(), .seed = 11};
    memset(out_buf, 0, sizeof(out_buf));
    cfg.out = fmemopen(out_buf, sizeof(out_buf) - 1, "w");
    assert_non_null(cfg.out);
    setvbuf(cfg.out, NULL, _IONBF, 0);
    wdmsim *sim;
    struct wdmsim_error err = {{0}};
    assert_int_equal(wdmsim_boot(&cfg, &sim, &err), WDMSIM_OK);
    if (driver) {
        int lrc = wdmsim_load_driver(sim, driver, &err);
        if (lrc)
            fail_msg("load %s: %s", driver, err.text);
    }
    assert_int_equal(wdmsim_start_devices(sim), WDMSIM_OK);
    *rc = wdmsim_run_app(sim, app, argc, argv, exit_code, &err);
    if (*rc == WDMSIM_EINPUT)
        fail_msg("app: %s", err.text);
    return sim;
}

static void finish(wdmsim *sim)
{
    wdmsim_shutdown(sim);
}

static void piofifo_every_path(void **state)
{
    (void)state;
    char drv[1200], rounds[] = "3";
    char *args[] = {rounds};
    snprintf(drv, sizeof(drv), "%s/piofifo.so", drivers_dir);
    int rc, code;
    wdmsim *sim = run(drv, app_path("../../drivers/piofifo_app"), 1, args, &rc, &code);
    if (rc != WDMSIM_OK || code != 0) {
        wdmsim_report_print(sim, stderr);
        fail_msg("rc %d exit %d, output:\n%s", rc, code, out_buf);
    }
    assert_non_null(strstr(out_buf, "piofifo_app: PASSED (0 failure(s))"));
    assert_null(strstr(out_buf, "FAIL "));
    assert_int_equal(wdmsim_unload_drivers(sim), WDMSIM_OK);
    assert_null(wdmsim_get_bugcheck(sim));
    assert_int_equal(wdmsim_violations(sim), 0);
    assert_int_equal(wdmsim_device_violations(sim), 0);
    finish(sim);
}

static void piofifo_cli(void **state)
{
    (void)state;
    char cmd[4096];
    snprintf(
        cmd, sizeof(cmd),
        "%s run --machine %s --app %s/piofifo_app.so %s/piofifo.so -- 2 > /tmp/wdmsim-h9-cli.out",
        getenv("WDMSIM_BIN"), default_ini(), drivers_dir, drivers_dir);
    assert_int_equal(WEXITSTATUS(system(cmd)), 0);
    FILE *f = fopen("/tmp/wdmsim-h9-cli.out", "r");
    assert_non_null(f);
    size_t n = fread(out_buf, 1, sizeof(out_buf) - 1, f);
    out_buf[n] = 0;
    fclose(f);
    unlink("/tmp/wdmsim-h9-cli.out");
    assert_non_null(strstr(out_buf, "2 round(s)"));
    assert_non_null(strstr(out_buf, "piofifo_app: PASSED"));
    /* An app that returns non-zero makes the run fail. */
    snprintf(cmd, sizeof(cmd), "%s run --app %s %s/piofifo.so -- exit > /dev/null 2>&1",
             getenv("WDMSIM_BIN"), app_path("misc_app"), drivers_dir);
    assert_int_equal(WEXITSTATUS(system(cmd)), 1);
    snprintf(cmd, sizeof(cmd), "%s run --app /nonexistent.so %s/piofifo.so > /dev/null 2>&1",
             getenv("WDMSIM_BIN"), drivers_dir);
    assert_int_equal(WEXITSTATUS(system(cmd)), 2);
}

static void neither_touched_from_dpc(void **state)
{
    (void)state;
    int rc, code;
    wdmsim *sim = run(fixture_path("mm-user-va-wrong-context"), app_path("neither_dpc_app"), 0,
                      NULL, &rc, &code);
    assert_int_equal(rc, WDMSIM_STOPPED);
    const struct wdmsim_bugcheck *bc = wdmsim_get_bugcheck(sim);
    assert_non_null(bc);
    const char *b = strstr(out_buf, "buffer=");
    assert_non_null(b);
    uint64_t addr = strtoull(b + 7, NULL, 16);
    assert_int_equal(bc->code, 0xD1);
    assert_int_equal(bc->parameters[0], addr);
    assert_int_equal(bc->parameters[1], 0); /* read */
    assert_int_equal(bc->parameters[3], 0x57000004);
    assert_string_equal(bc->rule, "mm.user-va-wrong-context");
    finish(sim);
}

static void left_locked_at_exit(void **state)
{
    (void)state;
    int rc, code;
    wdmsim *sim =
        run(fixture_path("mdl-left-locked"), app_path("left_locked_app"), 0, NULL, &rc, &code);
    assert_int_equal(rc, WDMSIM_STOPPED);
    const struct wdmsim_bugcheck *bc = wdmsim_get_bugcheck(sim);
    assert_non_null(bc);
    assert_int_equal(bc->code, 0xCB);
    assert_string_equal(bc->rule, "mdl.left-locked");
    assert_true(bc->parameters[0] != 0);    /* where the pages were locked */
    assert_true(bc->parameters[2] != 0);    /* the MDL */
    assert_int_equal(bc->parameters[3], 2); /* 5000 bytes at offset 100: two pages */
    finish(sim);
}

static void runtime(const char *what, int want_code, const char *want_out)
{
    int rc, code;
    char *args[] = {(char *)what, "two", "three"};
    char drv[1200];
    snprintf(drv, sizeof(drv), "%s/piofifo.so", drivers_dir);
    wdmsim *sim = run(drv, app_path("misc_app"), 3, args, &rc, &code);
    if (rc != WDMSIM_OK) {
        wdmsim_report_print(sim, stderr);
        fail_msg("%s: rc %d", what, rc);
    }
    if (code != want_code)
        fail_msg("%s: exit code %d (want %d), output:\n%s", what, code, want_code, out_buf);
    if (want_out && !strstr(out_buf, want_out))
        fail_msg("%s: output lacks '%s':\n%s", what, want_out, out_buf);
    assert_int_equal(wdmsim_unload_drivers(sim), WDMSIM_OK);
    assert_int_equal(wdmsim_violations(sim), 0);
    finish(sim);
}

static void app_runtime(void **state)
{
    (void)state;
    runtime("args", 4, "argv[3]=three");
    runtime("exit", 7, NULL);
    runtime("crash", (int)0xC0000005, NULL);
    runtime("heap", 0, "heap ok");
    runtime("events", 0, "events ok");
    runtime("global", 0, "error 998");
}

int main(void)
{
    const char *bin = getenv("WDMSIM_BIN");
    snprintf(drivers_dir, sizeof(drivers_dir), "%.*s/drivers",
             (int)(strrchr(bin ? bin : "./wdmsim", '/') - (bin ? bin : "./wdmsim")),
             bin ? bin : "./wdmsim");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(piofifo_every_path),  cmocka_unit_test(neither_touched_from_dpc),
        cmocka_unit_test(left_locked_at_exit), cmocka_unit_test(app_runtime),
        cmocka_unit_test(piofifo_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
