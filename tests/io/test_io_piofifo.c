/*
 * tests/io/test_io_piofifo.c - the PIO-1 sample driver on a machine with
 * one piofifo: every transfer method returns the bytes it should, the run
 * has no violations, and bad device configs are input errors.
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

#include "../../drivers/piofifo/piofifo_ioctl.h"
#include "support/fixture.h"

static char driver_path[1024];

static const char *write_ini(const char *text, char *path)
{
    strcpy(path, "/tmp/wdmsim-h7-ini-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static wdmsim *boot_pio(char *ini)
{
    write_ini("[device pio0]\nmodel = piofifo\ndriver = piofifo\n", ini);
    struct wdmsim_config cfg = {.machine_path = ini, .seed = 7};
    wdmsim *sim;
    struct wdmsim_error err;
    assert_int_equal(wdmsim_boot(&cfg, &sim, &err), WDMSIM_OK);
    int rc = wdmsim_load_driver(sim, driver_path, &err);
    if (rc)
        fail_msg("load: %s", err.text);
    assert_int_equal(wdmsim_start_devices(sim), WDMSIM_OK);
    return sim;
}

static void fill(uint8_t *b, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(seed + i * 7);
}

static void ioctl_ok(wdmsim *sim, uint32_t code, const void *in, uint32_t in_len, void *out,
                     uint32_t out_len, uint64_t want_info)
{
    int32_t st;
    uint64_t info;
    assert_int_equal(
        wdmsim_device_io(sim, "\\\\.\\PioFifo0", 14, code, in, in_len, out, out_len, &st, &info),
        WDMSIM_OK);
    assert_int_equal(st, 0);
    assert_int_equal(info, want_info);
}

static void every_method(void **state)
{
    char ini[64];
    wdmsim *sim = boot_pio(ini);
    uint8_t in[3000], out[3000];
    PIOFIFO_STATUS s;

    ioctl_ok(sim, IOCTL_PIOFIFO_GET_STATUS, NULL, 0, &s, sizeof(s), sizeof(s));
    assert_int_equal(s.Id, 0x00045744);
    assert_int_equal(s.Depth, 4096);
    assert_int_equal(s.Level, 0);

    /* METHOD_BUFFERED in, METHOD_BUFFERED out (copy-back up to Information) */
    fill(in, 100, 1);
    ioctl_ok(sim, IOCTL_PIOFIFO_PUSH_BUFFERED, in, 100, NULL, 0, 100);
    memset(out, 0xEE, sizeof(out));
    ioctl_ok(sim, IOCTL_PIOFIFO_POP_BUFFERED, NULL, 0, out, 200, 100);
    assert_memory_equal(out, in, 100);

    /* METHOD_IN_DIRECT: the output buffer's MDL is data for the device */
    fill(in, 2503, 9);
    ioctl_ok(sim, IOCTL_PIOFIFO_PUSH_IN_DIRECT, NULL, 0, in, 2503, 2503);
    /* METHOD_OUT_DIRECT: data from the device into the output MDL */
    memset(out, 0, sizeof(out));
    ioctl_ok(sim, IOCTL_PIOFIFO_POP_OUT_DIRECT, NULL, 0, out, 3000, 2503);
    assert_memory_equal(out, in, 2503);

    /* METHOD_NEITHER: raw addresses (a kernel-mode caller here) */
    fill(in, 64, 33);
    memset(out, 0, sizeof(out));
    ioctl_ok(sim, IOCTL_PIOFIFO_LOOP_NEITHER, in, 64, out, 64, 64);
    assert_memory_equal(out, in, 64);

    /* WriteFile / ReadFile: direct I/O, ports in, MMIO out */
    int32_t st;
    uint64_t info;
    fill(in, 1111, 77);
    assert_int_equal(wdmsim_device_io(sim, "\\\\.\\PioFifo0", 4, 0, in, 1111, NULL, 0, &st, &info),
                     WDMSIM_OK);
    assert_int_equal(st, 0);
    assert_int_equal(info, 1111);
    memset(out, 0, sizeof(out));
    assert_int_equal(wdmsim_device_io(sim, "\\\\.\\PioFifo0", 3, 0, NULL, 0, out, 2000, &st, &info),
                     WDMSIM_OK);
    assert_int_equal(info, 1111);
    assert_memory_equal(out, in, 1111);

    assert_int_equal(wdmsim_unload_drivers(sim), WDMSIM_OK);
    assert_null(wdmsim_get_bugcheck(sim));
    assert_int_equal(wdmsim_violations(sim), 0);
    assert_int_equal(wdmsim_device_violations(sim), 0);
    wdmsim_shutdown(sim);
    unlink(ini);
}

static void expect_config_error(const char *text, const char *needle)
{
    char ini[64];
    write_ini(text, ini);
    struct wdmsim_config cfg = {.machine_path = ini, .seed = 1};
    wdmsim *sim;
    struct wdmsim_error err = {{0}};
    assert_int_equal(wdmsim_boot(&cfg, &sim, &err), WDMSIM_EINPUT);
    if (!strstr(err.text, needle) || !strstr(err.text, ini))
        fail_msg("error text '%s' lacks '%s' or the file name", err.text, needle);
    unlink(ini);
}

static void bad_configs(void **state)
{
    expect_config_error("[device x]\nmodel = nosuch\n", "unknown model 'nosuch'");
    expect_config_error("[device a]\nmodel = piofifo\nbar0 = 0xC000\n"
                        "[device b]\nmodel = piofifo\nbar0 = 0xC000\n",
                        "overlaps device 'a'");
    expect_config_error("[device a]\nmodel = piofifo\nbar1 = 0x100000000\n", "does not fit");
    expect_config_error("[device a]\nmodel = piofifo\nbar1 = 0x100000\n", "lies on RAM");
    expect_config_error("[device a]\nmodel = piofifo\nfifo_depth = 0\n", "fifo_depth");
    expect_config_error("[device a]\nmodel = piofifo\nbogus = 1\n", "no knob 'bogus'");
}

static void cli_exit_status(void **state)
{
    char ini[64], cmd[2048];
    const char *bin = getenv("WDMSIM_BIN");
    write_ini("[device a]\nmodel = nosuch\n", ini);
    snprintf(cmd, sizeof(cmd), "%s run --machine %s %s 2>/dev/null", bin, ini, driver_path);
    assert_int_equal(WEXITSTATUS(system(cmd)), 2);
    unlink(ini);
    write_ini("[device a]\nmodel = piofifo\n", ini);
    snprintf(cmd, sizeof(cmd), "%s run --machine %s --bind piofifo=piofifo %s", bin, ini,
             driver_path);
    assert_int_equal(WEXITSTATUS(system(cmd)), 0);
    unlink(ini);
}

int main(void)
{
    const char *bin = getenv("WDMSIM_BIN");
    snprintf(driver_path, sizeof(driver_path), "%.*s/drivers/piofifo.so",
             (int)(strrchr(bin ? bin : "./wdmsim", '/') - (bin ? bin : "./wdmsim")),
             bin ? bin : "./wdmsim");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_method),
        cmocka_unit_test(bad_configs),
        cmocka_unit_test(cli_exit_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
