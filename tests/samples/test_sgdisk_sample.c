/*
 * tests/samples/test_sgdisk_sample.c - the SGD-1 sample driver
 * (drivers/sgdisk) with its app, run as a user runs them, on every machine
 * it applies to, with and without double buffering: the app passes, the
 * run has no bug check, no verifier or device-protocol violation and no
 * pool leak, and the disks hold exactly the bytes the app last wrote (read
 * through the model's storage hook). Its mutants (tests/mutants/sgdisk-*)
 * stop with the expected bug check and parameters. `make run`'s command
 * prints the summary.
 * Spec: issue 7; shared/devices/sgdisk.md; spec/dma.md 5(a).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include <wdmsim/wdmsim.h>

#include "../../devices/sgdisk.h"
#include "../../drivers/sgdisk/sgdisk_pattern.h"

static char out_buf[1 << 16];

struct run {
    wdmsim *sim;
    int app_rc, exit_code, unload_rc;
    const struct wdmsim_bugcheck *bc;
    struct wdmsim_stats stats;
};

static const char *machine(const char *name)
{
    static char path[1024];
    snprintf(path, sizeof(path), "%s/machines/%s.ini", getenv("WDMSIM_SOURCE"), name);
    return path;
}

/* Boots `machine_name`, loads `driver`, starts the devices, runs the app
 * with args, unloads. The machine stays for the caller's checks. */
static void run_app(struct run *r, const char *machine_name, const char *verifier, uint64_t seed,
                    const char *driver, int argc, char **argv)
{
    memset(r, 0, sizeof(*r));
    FILE *out = tmpfile();
    assert_non_null(out);
    struct wdmsim_config cfg = {
        .machine_path = machine(machine_name), .seed = seed, .verifier = verifier, .out = out};
    struct wdmsim_error err = {{0}};
    if (wdmsim_boot(&cfg, &r->sim, &err) != WDMSIM_OK)
        fail_msg("boot %s: %s", machine_name, err.text);
    if (wdmsim_load_driver(r->sim, driver, &err) != WDMSIM_OK)
        fail_msg("load %s: %s", driver, err.text);
    assert_int_equal(wdmsim_start_devices(r->sim), WDMSIM_OK);
    char app[1200];
    snprintf(app, sizeof(app), "%s/sgdisk_app.so", WDMSIM_DRIVERS);
    r->app_rc = wdmsim_run_app(r->sim, app, argc, argv, &r->exit_code, &err);
    assert_int_not_equal(r->app_rc, WDMSIM_EINPUT);
    r->unload_rc = r->app_rc == WDMSIM_OK ? wdmsim_unload_drivers(r->sim) : r->app_rc;
    r->bc = wdmsim_get_bugcheck(r->sim);
    wdmsim_get_stats(r->sim, &r->stats);
    fflush(out);
    rewind(out);
    size_t n = fread(out_buf, 1, sizeof(out_buf) - 1, out);
    out_buf[n] = 0;
    fclose(out);
}

/* The first SGD_FINAL_BYTES of the disk hold the app's final pattern. */
static void expect_final_pattern(wdmsim *sim, const char *instance, unsigned disk)
{
    struct wdmsim_dev *dev = wdmsim_device(sim, instance);
    assert_non_null(dev);
    enum { chunk = 1 << 20 };
    unsigned char *buf = malloc(chunk);
    assert_non_null(buf);
    for (uint64_t off = 0; off < SGD_FINAL_BYTES; off += chunk) {
        assert_int_equal(sgdisk_disk_read(dev, off / 512, chunk / 512, buf), 0);
        for (unsigned i = 0; i < chunk; i++)
            if (buf[i] != sgd_pattern(disk, off + i, SGD_FINAL_GEN))
                fail_msg("%s byte %llu holds %#x, the app wrote %#x", instance,
                         (unsigned long long)(off + i), buf[i],
                         sgd_pattern(disk, off + i, SGD_FINAL_GEN));
    }
    free(buf);
}

/* A clean full run: the app passed and nothing was reported. */
static void expect_clean(struct run *r)
{
    if (r->app_rc != WDMSIM_OK || r->exit_code != 0 || r->unload_rc != WDMSIM_OK || r->bc) {
        if (r->bc)
            wdmsim_report_print(r->sim, stderr);
        fail_msg("app rc %d exit %d unload %d; output:\n%s", r->app_rc, r->exit_code, r->unload_rc,
                 out_buf);
    }
    assert_non_null(strstr(out_buf, "sgdisk_app: PASSED"));
    assert_null(strstr(out_buf, "FAIL"));
    assert_int_equal(r->stats.violations, 0);
    assert_int_equal(r->stats.device_violations, 0);
    assert_true(r->stats.sg_lists > 0);
    assert_true(r->stats.sg_elements >= r->stats.sg_lists);
    assert_true(r->stats.map_register_high_water > 0);
    /* whole-stack bytes: at least the final pass went both ways */
    assert_true(r->stats.written_bytes >= SGD_FINAL_BYTES);
    assert_true(r->stats.read_bytes >= SGD_FINAL_BYTES);
    assert_true(r->stats.dma_from_device >= r->stats.read_bytes);
    assert_true(r->stats.dma_to_device >= r->stats.written_bytes);
    assert_true(r->stats.irps_cancelled > 0); /* the app's CancelIo test */
}

static void default_machine(const char *verifier, uint64_t seed, bool bounce)
{
    struct run r;
    char drv[1200];
    snprintf(drv, sizeof(drv), "%s/sgdisk.so", WDMSIM_DRIVERS);
    run_app(&r, "default", verifier, seed, drv, 0, NULL);
    expect_clean(&r);
    assert_non_null(strstr(out_buf, "1 disk(s)"));
    if (bounce)
        assert_true(r.stats.bounce_bytes >= SGD_FINAL_BYTES * 2);
    else
        assert_int_equal(r.stats.bounce_bytes, 0); /* a 64-bit S/G master reaches all RAM */
    expect_final_pattern(r.sim, "sgd0", 0);
    struct sgdisk_stats ds;
    sgdisk_get_stats(wdmsim_device(r.sim, "sgd0"), &ds);
    assert_int_equal(ds.max_outstanding, 32); /* the driver kept its queue full */
    assert_int_equal(ds.commands[1][0] + ds.commands[2][0], ds.cqes); /* every command succeeded */
    wdmsim_shutdown(r.sim);
}

static void sgdisk_default(void **state)
{
    (void)state;
    default_machine(NULL, 1, false);
}

static void sgdisk_default_double_buffer(void **state)
{
    (void)state;
    default_machine("standard,double-buffer", 1, true);
}

static void sgdisk_default_seeds(void **state)
{
    (void)state;
    static const uint64_t seeds[] = {2, 3, 0xC0FFEE};
    for (unsigned i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
        default_machine(NULL, seeds[i], false);
}

/* highmem.ini: SgDisk0 = sgd32 (32-bit: most of RAM is out of its reach,
 * so buffers bounce), SgDisk1 = sgd64. */
static void highmem_machine(const char *verifier)
{
    struct run r;
    char drv[1200];
    snprintf(drv, sizeof(drv), "%s/sgdisk.so", WDMSIM_DRIVERS);
    run_app(&r, "highmem", verifier, 1, drv, 0, NULL);
    expect_clean(&r);
    assert_non_null(strstr(out_buf, "2 disk(s)"));
    assert_non_null(strstr(out_buf, "SgDisk0: 64 MiB, 32-bit DMA"));
    assert_non_null(strstr(out_buf, "SgDisk1: 64 MiB, 64-bit DMA"));
    assert_true(r.stats.bounce_bytes > 0);
    expect_final_pattern(r.sim, "sgd32", 0);
    expect_final_pattern(r.sim, "sgd64", 1);
    wdmsim_shutdown(r.sim);
}

static void sgdisk_highmem(void **state)
{
    (void)state;
    highmem_machine(NULL);
}

static void sgdisk_highmem_double_buffer(void **state)
{
    (void)state;
    highmem_machine("standard,double-buffer");
}

/* A mutant run of the quick app: the machine must stop with code, P1 (and
 * P4 when given) and the rule. */
static void expect_mutant(const char *name, uint32_t code, uint64_t p1, uint64_t p4,
                          const char *rule)
{
    struct run r;
    char drv[1200], quick[] = "quick";
    char *args[] = {quick};
    snprintf(drv, sizeof(drv), "%s/%s/sgdisk.so", WDMSIM_MUTANTS, name);
    run_app(&r, "default", NULL, 1, drv, 1, args);
    if (!r.bc)
        fail_msg("mutant %s did not stop (app rc %d exit %d); output:\n%s", name, r.app_rc,
                 r.exit_code, out_buf);
    if (r.bc->code != code || r.bc->parameters[0] != p1 || (p4 && r.bc->parameters[3] != p4) ||
        !r.bc->rule || strcmp(r.bc->rule, rule)) {
        wdmsim_report_print(r.sim, stderr);
        fail_msg("mutant %s stopped with 0x%X (0x%llx, .., 0x%llx) rule %s; expected 0x%X (0x%llx, "
                 ".., 0x%llx) %s",
                 name, r.bc->code, (unsigned long long)r.bc->parameters[0],
                 (unsigned long long)r.bc->parameters[3], r.bc->rule ? r.bc->rule : "-", code,
                 (unsigned long long)p1, (unsigned long long)p4, rule);
    }
    wdmsim_shutdown(r.sim);
}

static void mutant_no_put(void **state)
{
    (void)state;
    expect_mutant("sgdisk-no-put", 0xE6, 0xA, 0, "dma.put-with-sg-lists");
}

static void mutant_virtual_address(void **state)
{
    (void)state;
    expect_mutant("sgdisk-virtual-address", 0xE6, 0x26, 0x57000011, "dma.device-outside-mapping");
}

static void mutant_wrong_direction(void **state)
{
    (void)state;
    expect_mutant("sgdisk-wrong-direction", 0xE6, 0x26, 0x57000012, "dma.device-wrong-direction");
}

/* `make run`: the command a newcomer types first, with its summary. */
static void make_run_command(void **state)
{
    (void)state;
    char cmd[4096];
    const char *tmp = "/tmp/wdmsim-h13-run.out";
    snprintf(cmd, sizeof(cmd), "%s run --machine %s --app %s/sgdisk_app.so %s/sgdisk.so > %s",
             getenv("WDMSIM_BIN"), machine("default"), WDMSIM_DRIVERS, WDMSIM_DRIVERS, tmp);
    assert_int_equal(WEXITSTATUS(system(cmd)), 0);
    FILE *f = fopen(tmp, "r");
    assert_non_null(f);
    size_t n = fread(out_buf, 1, sizeof(out_buf) - 1, f);
    out_buf[n] = 0;
    fclose(f);
    unlink(tmp);
    static const char *const want[] = {"sgdisk_app: PASSED",
                                       "---- wdmsim run summary ----",
                                       "device  sgd0 (model sgdisk): driver sgdisk, started",
                                       "exit code 0",
                                       "moved by devices",
                                       "scatter/gather lists",
                                       "copied through bounce buffers",
                                       "map registers: at most",
                                       "IRPs completed",
                                       "verifier  clean",
                                       "busiest",
                                       "tag"};
    for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (!strstr(out_buf, want[i]))
            fail_msg("'%s' missing from:\n%s", want[i], out_buf);
    /* --no-summary leaves only the app's lines. */
    snprintf(cmd, sizeof(cmd),
             "%s run --no-summary --machine %s --app %s/sgdisk_app.so %s/sgdisk.so -- quick > %s",
             getenv("WDMSIM_BIN"), machine("default"), WDMSIM_DRIVERS, WDMSIM_DRIVERS, tmp);
    assert_int_equal(WEXITSTATUS(system(cmd)), 0);
    f = fopen(tmp, "r");
    assert_non_null(f);
    n = fread(out_buf, 1, sizeof(out_buf) - 1, f);
    out_buf[n] = 0;
    fclose(f);
    unlink(tmp);
    assert_null(strstr(out_buf, "summary"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sgdisk_default),
        cmocka_unit_test(sgdisk_default_double_buffer),
        cmocka_unit_test(sgdisk_default_seeds),
        cmocka_unit_test(sgdisk_highmem),
        cmocka_unit_test(sgdisk_highmem_double_buffer),
        cmocka_unit_test(mutant_no_put),
        cmocka_unit_test(mutant_virtual_address),
        cmocka_unit_test(mutant_wrong_direction),
        cmocka_unit_test(make_run_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
