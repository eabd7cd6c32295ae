/*
 * tests/host/test_cli.c - `wdmsim run` as a user runs it: exit statuses,
 * DbgPrint on standard output, the bug check report and its JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/fixture.h"

static char out[65536], err[65536];

static void slurp(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, len - 1, f) : 0;
    buf[n] = 0;
    if (f)
        fclose(f);
}

/* Runs wdmsim with args; returns its exit status, output in out/err. */
static int run(const char *const *args)
{
    char o[64], e[64];
    snprintf(o, sizeof(o), "/tmp/wdmsim-cli-%d.out", (int)getpid());
    snprintf(e, sizeof(e), "/tmp/wdmsim-cli-%d.err", (int)getpid());
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        freopen(o, "w", stdout);
        freopen(e, "w", stderr);
        const char *argv[32];
        int n = 0;
        argv[n++] = getenv("WDMSIM_BIN");
        for (; *args; args++)
            argv[n++] = *args;
        argv[n] = NULL;
        execv(argv[0], (char **)argv);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    slurp(o, out, sizeof(out));
    slurp(e, err, sizeof(err));
    unlink(o);
    unlink(e);
    if (!WIFEXITED(status))
        fail_msg("wdmsim died with signal %d; stderr: %s", WTERMSIG(status), err);
    return WEXITSTATUS(status);
}

static char fx[8][512];
static const char *fixture(int slot, const char *name)
{
    snprintf(fx[slot], sizeof(fx[slot]), "%s", fixture_path(name));
    return fx[slot];
}

static void test_clean_run(void **state)
{
    (void)state;
    const char *args[] = {"run", fixture(0, "hello_fixture"), NULL};
    assert_int_equal(run(args), 0);
    assert_string_equal(out, "hello_fixture: entry 42\nhello_fixture: unload\n");
}

static void test_bugcheck_report_and_json(void **state)
{
    (void)state;
    const char *json = "/tmp/wdmsim-cli-report.json";
    const char *args[] = {"run", "--seed", "77", "--report-json", json, fixture(0, "kebugcheck"),
                          NULL};
    assert_int_equal(run(args), 1);
    assert_string_equal(out, "kebugcheck: about to stop\n");
    assert_non_null(strstr(err, "MANUALLY_INITIATED_CRASH (e2)"));
    assert_non_null(strstr(err, "Arg1: 0000000000000011"));
    assert_non_null(strstr(err, "Arg2: 0000000000000022"));
    assert_non_null(strstr(err, "Arg4: 0000000000000044"));
    assert_non_null(strstr(err, "SEED: 77"));
    assert_non_null(strstr(err, "DRIVER: kebugcheck"));
    /* the driver's own frames, with file:line from its debug info */
    assert_non_null(strstr(err, "kebugcheck.so!Inner (kebugcheck.c:"));
    assert_non_null(strstr(err, "kebugcheck.so!DriverEntry (kebugcheck.c:"));

    static char j[65536];
    slurp(json, j, sizeof(j));
    unlink(json);
    assert_non_null(strstr(j, "\"code\": 226"));
    assert_non_null(strstr(j, "\"name\": \"MANUALLY_INITIATED_CRASH\""));
    assert_non_null(strstr(j, "\"parameters\": [17, 34, 51, 68]"));
    assert_non_null(strstr(j, "\"rule\": null"));
    assert_non_null(strstr(j, "\"seed\": 77"));
    assert_non_null(strstr(j, "\"exit_status\": 1"));
}

static void test_json_written_on_clean_run(void **state)
{
    (void)state;
    const char *json = "/tmp/wdmsim-cli-clean.json";
    const char *args[] = {"run", "--report-json", json, fixture(0, "hello_fixture"), NULL};
    assert_int_equal(run(args), 0);
    static char j[65536];
    slurp(json, j, sizeof(j));
    unlink(json);
    assert_non_null(strstr(j, "\"bugcheck\": null"));
    assert_non_null(strstr(j, "\"service\": \"hello_fixture\", \"state\": \"unloaded\""));
    assert_non_null(strstr(j, "\"dbgprint_calls\": 2"));
}

static void test_missing_driver(void **state)
{
    (void)state;
    const char *args[] = {"run", "/nonexistent/drv.so", NULL};
    assert_int_equal(run(args), 2);
    assert_non_null(strstr(err, "/nonexistent/drv.so: cannot open driver"));
}

static void test_broken_driver(void **state)
{
    (void)state;
    const char *path = "/tmp/wdmsim-broken.so";
    FILE *f = fopen(path, "w");
    fputs("this is not an ELF image\n", f);
    fclose(f);
    const char *args[] = {"run", path, NULL};
    assert_int_equal(run(args), 2);
    unlink(path);
    assert_non_null(strstr(err, "wdmsim-broken.so: not a loadable driver image"));
}

static void test_not_a_wdmsim_driver(void **state)
{
    (void)state;
    /* Any shared object not built with wdmsim's headers. */
    const char *args[] = {"run", "/lib/x86_64-linux-gnu/libm.so.6", NULL};
    assert_int_equal(run(args), 2);
    assert_non_null(strstr(err, "not built with wdmsim's headers"));
}

static void test_missing_import(void **state)
{
    (void)state;
    const char *args[] = {"run", fixture(0, "missing_import"), NULL};
    assert_int_equal(run(args), 2);
    assert_non_null(
        strstr(err, "imports KeRoutineWdmsimDoesNotHave, which wdmsim does not provide"));
}

static void test_page_size_mismatch(void **state)
{
    (void)state;
    const char *args[] = {"run", fixture(0, "page8k"), NULL};
    assert_int_equal(run(args), 2);
    assert_non_null(strstr(err, "built for 8192-byte pages but this machine has 4096-byte pages"));

    /* and on an 8 KiB machine it runs */
    const char *ini = "/tmp/wdmsim-cli-8k.ini";
    FILE *f = fopen(ini, "w");
    fputs("[machine]\npage_size = 8192\n", f);
    fclose(f);
    const char *args8[] = {"run", "--machine", ini, fixture(0, "page8k"), NULL};
    assert_int_equal(run(args8), 0);
    assert_string_equal(out, "page8k: entry 42\npage8k: unload\n");
    const char *args4[] = {"run", "--machine", ini, fixture(0, "hello_fixture"), NULL};
    assert_int_equal(run(args4), 2);
    unlink(ini);
}

static void test_bad_machine_config(void **state)
{
    (void)state;
    const char *ini = "/tmp/wdmsim-cli-bad.ini";
    FILE *f = fopen(ini, "w");
    fputs("[machine]\nprocessors = 2\n[memory]\nram = 0 - 1G\nram = 512M - 2G\n", f);
    fclose(f);
    const char *args[] = {"run", "--machine", ini, fixture(0, "hello_fixture"), NULL};
    assert_int_equal(run(args), 2);
    unlink(ini);
    assert_non_null(strstr(err, "overlap"));
    assert_string_equal(out, "");
}

static void test_entry_fails(void **state)
{
    (void)state;
    const char *args[] = {"run", fixture(0, "entry_fails"), NULL};
    assert_int_equal(run(args), 1);
    assert_non_null(strstr(err, "DriverEntry of entry_fails returned 0xC0000001"));
    assert_null(strstr(out, "must not run"));
}

static void test_bad_arguments(void **state)
{
    (void)state;
    const char *a1[] = {"run", NULL};
    assert_int_equal(run(a1), 2);
    const char *a2[] = {"frobnicate", NULL};
    assert_int_equal(run(a2), 2);
    const char *a3[] = {"run", "--verifier", "everything", fixture(0, "hello_fixture"), NULL};
    assert_int_equal(run(a3), 2);
    assert_non_null(strstr(err, "unknown option 'everything'"));
    const char *a4[] = {"run", "--seed", "abc", fixture(0, "hello_fixture"), NULL};
    assert_int_equal(run(a4), 2);
}

static void test_rules_listing(void **state)
{
    (void)state;
    const char *args[] = {"rules", NULL};
    assert_int_equal(run(args), 0);
    assert_non_null(strstr(out, "RULE"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_run),
        cmocka_unit_test(test_bugcheck_report_and_json),
        cmocka_unit_test(test_json_written_on_clean_run),
        cmocka_unit_test(test_missing_driver),
        cmocka_unit_test(test_broken_driver),
        cmocka_unit_test(test_not_a_wdmsim_driver),
        cmocka_unit_test(test_missing_import),
        cmocka_unit_test(test_page_size_mismatch),
        cmocka_unit_test(test_bad_machine_config),
        cmocka_unit_test(test_entry_fails),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_rules_listing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
