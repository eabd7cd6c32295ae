/*
 * tests/support/fixture_device.h - running fixture drivers that serve a
 * simulated device, and fixtures whose rule reports and continues.
 *
 * fixture_run_device: boots a machine with one device of the given model
 * bound to the fixture (driver = <name>), loads it, starts the devices
 * (AddDevice, IRP_MN_START_DEVICE), unloads, and fills a struct fixture_run.
 * fixture_run_reported: as fixture_run on the default machine, and also
 * captures what the verifier printed for continuing rules (standard error)
 * into out->output after the DbgPrint text, and the violation count.
 * Header-only (static functions) so that a test adds no link dependency.
 */
#ifndef WDMSIM_TEST_FIXTURE_DEVICE_H
#define WDMSIM_TEST_FIXTURE_DEVICE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/fixture.h"

static void fixture_record_stop(wdmsim *sim, struct fixture_run *out)
{
    const struct wdmsim_bugcheck *bc = wdmsim_get_bugcheck(sim);
    if (!bc)
        return;
    out->stopped = 1;
    out->code = bc->code;
    memcpy(out->param, bc->parameters, sizeof(out->param));
    snprintf(out->rule, sizeof(out->rule), "%s", bc->rule ? bc->rule : "");
    if (getenv("WDMSIM_TEST_VERBOSE"))
        wdmsim_report_print(sim, stderr);
}

static __attribute__((unused)) void fixture_run_device(const char *name, const char *model,
                                                       struct fixture_run *out)
{
    memset(out, 0, sizeof(*out));
    char ini[] = "/tmp/wdmsim-fixture-ini-XXXXXX";
    int fd = mkstemp(ini);
    if (fd < 0) {
        snprintf(out->error, sizeof(out->error), "mkstemp failed");
        out->load_rc = WDMSIM_EINPUT;
        return;
    }
    char text[256];
    int n = snprintf(text, sizeof(text), "[device dev0]\nmodel = %s\ndriver = %s\n", model, name);
    if (write(fd, text, (size_t)n) != n)
        snprintf(out->error, sizeof(out->error), "cannot write %s", ini);
    close(fd);
    FILE *cap = fmemopen(out->output, sizeof(out->output) - 1, "w");
    struct wdmsim_config cfg = {.machine_path = ini, .seed = 1, .out = cap};
    struct wdmsim_error err = {{0}};
    wdmsim *sim;
    if (wdmsim_boot(&cfg, &sim, &err) != WDMSIM_OK) {
        snprintf(out->error, sizeof(out->error), "%s", err.text);
        out->load_rc = WDMSIM_EINPUT;
    } else {
        out->load_rc = wdmsim_load_driver(sim, fixture_path(name), &err);
        snprintf(out->error, sizeof(out->error), "%s", err.text);
        if (out->load_rc == WDMSIM_OK && wdmsim_start_devices(sim) == WDMSIM_OK)
            out->unload_rc = wdmsim_unload_drivers(sim);
        fixture_record_stop(sim, out);
        fflush(cap);
        wdmsim_shutdown(sim);
    }
    fclose(cap);
    unlink(ini);
}

/* The count of continuing violations; out->output holds DbgPrint text,
 * then the verifier's report lines. */
static __attribute__((unused)) unsigned fixture_run_reported(const char *name,
                                                             struct fixture_run *out)
{
    memset(out, 0, sizeof(*out));
    char errpath[] = "/tmp/wdmsim-fixture-err-XXXXXX";
    int fd = mkstemp(errpath);
    if (fd < 0)
        return 0;
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    FILE *cap = fmemopen(out->output, sizeof(out->output) / 2, "w");
    struct wdmsim_config cfg = {.seed = 1, .out = cap};
    struct wdmsim_error err = {{0}};
    wdmsim *sim;
    unsigned violations = 0;
    if (wdmsim_boot(&cfg, &sim, &err) == WDMSIM_OK) {
        out->load_rc = wdmsim_load_driver(sim, fixture_path(name), &err);
        snprintf(out->error, sizeof(out->error), "%s", err.text);
        if (out->load_rc == WDMSIM_OK) {
            wdmsim_driver_status(sim, name, &out->entry_status);
            out->unload_rc = wdmsim_unload_drivers(sim);
        }
        violations = wdmsim_violations(sim);
        fixture_record_stop(sim, out);
        fflush(cap);
        wdmsim_shutdown(sim);
    } else {
        snprintf(out->error, sizeof(out->error), "%s", err.text);
        out->load_rc = WDMSIM_EINPUT;
    }
    fclose(cap);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    size_t used = strlen(out->output);
    ssize_t got = pread(fd, out->output + used, sizeof(out->output) - used - 1, 0);
    if (got > 0)
        out->output[used + (size_t)got] = '\0';
    close(fd);
    unlink(errpath);
    return violations;
}

#endif
