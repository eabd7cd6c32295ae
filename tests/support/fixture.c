/*
 * tests/support/fixture.c - see fixture.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/fixture.h"

const char *fixture_path(const char *name)
{
    static char path[1024];
    const char *dir = getenv("WDMSIM_FIXTURES");
    snprintf(path, sizeof(path), "%s/%s.so", dir ? dir : "tests/fixtures", name);
    return path;
}

void fixture_run(const char *name, const char *machine_ini, const char *verifier, uint64_t seed,
                 struct fixture_run *out)
{
    memset(out, 0, sizeof(*out));
    FILE *cap = fmemopen(out->output, sizeof(out->output) - 1, "w");
    struct wdmsim_config cfg = {
        .machine_path = machine_ini, .seed = seed, .verifier = verifier, .out = cap};
    wdmsim *sim;
    struct wdmsim_error err = {{0}};
    if (wdmsim_boot(&cfg, &sim, &err) != WDMSIM_OK) {
        snprintf(out->error, sizeof(out->error), "%s", err.text);
        out->load_rc = WDMSIM_EINPUT;
        fclose(cap);
        return;
    }
    out->load_rc = wdmsim_load_driver(sim, fixture_path(name), &err);
    snprintf(out->error, sizeof(out->error), "%s", err.text);
    if (out->load_rc == WDMSIM_OK) {
        const char *base = name;
        wdmsim_driver_status(sim, base, &out->entry_status);
        out->unload_rc = wdmsim_unload_drivers(sim);
    }
    const struct wdmsim_bugcheck *bc = wdmsim_get_bugcheck(sim);
    if (bc) {
        out->stopped = 1;
        out->code = bc->code;
        memcpy(out->param, bc->parameters, sizeof(out->param));
        snprintf(out->rule, sizeof(out->rule), "%s", bc->rule ? bc->rule : "");
        if (getenv("WDMSIM_TEST_VERBOSE"))
            wdmsim_report_print(sim, stderr);
    }
    fflush(cap);
    fclose(cap);
    wdmsim_shutdown(sim);
}

void fixture_expect_stop(const char *name, const char *verifier, uint32_t code, uint64_t p1)
{
    struct fixture_run r;
    fixture_run(name, NULL, verifier, 1, &r);
    if (!r.stopped)
        fail_msg("fixture %s did not stop (load rc %d: %s)", name, r.load_rc, r.error);
    assert_int_equal(r.code, code);
    if (code == 0xC1)
        assert_int_equal(r.param[3], p1);
    else
        assert_int_equal(r.param[0], p1);
}

void expect_call_stop(const char *machine_ini, const char *verifier, void (*body)(void *),
                      void *arg, uint32_t code, uint64_t p1)
{
    struct wdmsim_config cfg = {.seed = 5, .verifier = verifier, .machine_path = machine_ini};
    wdmsim *sim;
    struct wdmsim_error err;
    assert_int_equal(wdmsim_boot(&cfg, &sim, &err), WDMSIM_OK);
    int rc = wdmsim_call(sim, body, arg);
    const struct wdmsim_bugcheck *bc = wdmsim_get_bugcheck(sim);
    if (rc != WDMSIM_STOPPED || bc->code != code || bc->parameters[0] != p1) {
        fprintf(stderr, "verifier %s: expected 0x%X/0x%llX, got rc %d\n", verifier, code,
                (unsigned long long)p1, rc);
        wdmsim_report_print(sim, stderr);
    }
    assert_int_equal(rc, WDMSIM_STOPPED);
    assert_int_equal(bc->code, code);
    assert_int_equal(bc->parameters[0], p1);
    wdmsim_shutdown(sim);
}

void write_machine_8k(char path[32])
{
    static const char ini[] = "[machine]\nprocessors = 2\npage_size = 8192\n"
                              "[memory]\nram = 0 - 640K\nram = 1M - 2G\n";
    strcpy(path, "/tmp/wdmsim-8k-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, ini, sizeof(ini) - 1), (ssize_t)(sizeof(ini) - 1));
    close(fd);
}
