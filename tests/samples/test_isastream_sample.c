/*
 * tests/samples/test_isastream_sample.c - the IST-1 sample driver
 * (drivers/isastream) with its app on the machines it applies to, with and
 * without double buffering: isa.ini (ist0 on 8-bit channel 1, ist1 on
 * 16-bit channel 5) and default.ini (ist0, channel 1). Each run: the app
 * passes (every captured byte is the stream's, every played run's CRC is
 * the device's), no bug check, no verifier or device-protocol violation,
 * no pool leak; the device's hooks show no refused DMA cycle, no overrun
 * and no underrun in any run. START with no room for the ring below 16 MiB
 * fails cleanly (STATUS_INSUFFICIENT_RESOURCES, nothing leaked). The
 * mutants: AdapterControl returning DeallocateObject stops with
 * dma.map-register-use-after-free at the stream's flush; the ring not freed
 * at REMOVE stops with dma.put-with-common-buffers.
 * Spec: issue 7; shared/devices/isastream.md; spec/dma.md 5 (d).
 */
#include <sys/wait.h>
#include <unistd.h>

#include "sample_run.h"

#include "../../devices/isastream.h"

static void run_isastream(struct sample_run *r, const char *machine, const char *verifier,
                          uint64_t seed, bool big, const char *driver)
{
    char app[1200], arg[4];
    char *args[] = {arg};
    snprintf(app, sizeof(app), "%s/isastream_app.so", WDMSIM_DRIVERS);
    snprintf(arg, sizeof(arg), "%d", big ? 1 : 0);
    sample_run(r, machine, verifier, seed, driver, app, 1, args);
}

/* The device's view: DMA cycles only while DREQ was up and of the right
 * kind; no run lost a byte (capture) or starved (playback). */
static void expect_device_clean(wdmsim *sim, const char *instance, unsigned min_runs)
{
    struct wdmsim_dev *dev = wdmsim_device(sim, instance);
    assert_non_null(dev);
    struct isastream_stats st;
    isastream_get_stats(dev, &st);
    assert_int_equal(st.bad_cycles, 0);
    assert_true(st.runs >= min_runs);
    assert_true(st.dma_cycles > 0 && st.irq_edges > 0);
    struct isastream_run runs[32];
    uint64_t n = isastream_runs(dev, runs, 32);
    assert_true(n >= min_runs);
    for (unsigned i = 0; i < (n < 32 ? n : 32); i++) {
        if (runs[i].ovrcnt || runs[i].unrcnt)
            fail_msg("%s run %u: %u overruns, %u underruns", instance, i, runs[i].ovrcnt,
                     runs[i].unrcnt);
        /* A capture run's CRC covers stream bytes [0, XFERRED) of its seed. */
        if (!runs[i].playback)
            assert_int_equal(runs[i].crc, isastream_stream_crc(runs[i].seed, 0, runs[i].xferred));
    }
}

static void one_machine(const char *machine, const char *verifier, uint64_t seed, bool big)
{
    struct sample_run r;
    char drv[1200], what[200];
    snprintf(drv, sizeof(drv), "%s/isastream.so", WDMSIM_DRIVERS);
    snprintf(what, sizeof(what), "isastream on %s (%s, seed %llu)", machine,
             verifier ? verifier : "standard", (unsigned long long)seed);
    run_isastream(&r, machine, verifier, seed, big, drv);
    sample_expect_clean(&r, what, "isastream_app: PASSED (0 failure(s))");
    assert_true(r.stats.irps_cancelled > 0);
    assert_int_equal(r.stats.bounce_bytes, 0); /* the ring is never double-buffered */
    bool isa = !strcmp(machine, "isa");
    assert_non_null(strstr(r.out, isa ? "2 IST-1 device(s) opened" : "1 IST-1 device(s) opened"));
    expect_device_clean(r.sim, "ist0", 10);
    if (isa) {
        assert_non_null(strstr(r.out, "channel 5, ring 8192"));
        expect_device_clean(r.sim, "ist1", 10);
    }
    wdmsim_shutdown(r.sim);
}

static void isastream_isa_big(void **state)
{
    (void)state;
    one_machine("isa", NULL, 1, true);
}

static void isastream_isa_double_buffer(void **state)
{
    (void)state;
    one_machine("isa", "standard,double-buffer", 1, false);
}

static void isastream_default(void **state)
{
    (void)state;
    one_machine("default", NULL, 2, false);
}

static void isastream_default_double_buffer(void **state)
{
    (void)state;
    one_machine("default", "standard,double-buffer", 2, false);
}

static void isastream_seeds(void **state)
{
    (void)state;
    static const uint64_t seeds[] = {3, 0xC0FFEE};
    for (unsigned i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
        one_machine("isa", "all", seeds[i], false);
}

/* 20 KiB below 16 MiB: the adapter's bounce registers fit, the ring does
 * not. START must fail, release everything, and the unload stay clean. */
static void isastream_no_ring(void **state)
{
    (void)state;
    static const char ini[] = "[machine]\nprocessors = 1\nframe_placement = contiguous\n"
                              "[memory]\nram = 0 - 20K\nram = 16M - 64M\n"
                              "[device ist0]\nmodel = isastream\ndriver = isastream\n";
    char path[64] = "/tmp/wdmsim-isastream-XXXXXX", out_text[8192] = {0}, drv[1200];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, ini, sizeof(ini) - 1), (ssize_t)(sizeof(ini) - 1));
    close(fd);
    FILE *out = fmemopen(out_text, sizeof(out_text) - 1, "w");
    setvbuf(out, NULL, _IONBF, 0);
    struct wdmsim_config cfg = {.machine_path = path, .seed = 1, .out = out};
    struct wdmsim_error err = {{0}};
    wdmsim *sim;
    assert_int_equal(wdmsim_boot(&cfg, &sim, &err), WDMSIM_OK);
    snprintf(drv, sizeof(drv), "%s/isastream.so", WDMSIM_DRIVERS);
    assert_int_equal(wdmsim_load_driver(sim, drv, &err), WDMSIM_OK);
    assert_int_equal(wdmsim_start_devices(sim), WDMSIM_OK);
    assert_non_null(strstr(out_text, "isastream: AllocateCommonBuffer(8192) failed"));
    assert_int_equal(wdmsim_unload_drivers(sim), WDMSIM_OK); /* a leak would stop here */
    assert_null(wdmsim_get_bugcheck(sim));
    assert_int_equal(wdmsim_violations(sim), 0);
    wdmsim_shutdown(sim);
    fclose(out);
    unlink(path);
}

static void isastream_mutant_deallocate_object(void **state)
{
    (void)state;
    struct sample_run r;
    char drv[1200];
    snprintf(drv, sizeof(drv), "%s/isastream-deallocate-object/isastream.so", WDMSIM_MUTANTS);
    run_isastream(&r, "isa", NULL, 1, false, drv);
    sample_expect_stop(&r, "isastream-deallocate-object", 0xE6, 0x10, "dma.free-while-mapped");
    wdmsim_shutdown(r.sim);
}

static void isastream_mutant_common_buffer_leak(void **state)
{
    (void)state;
    struct sample_run r;
    char drv[1200];
    snprintf(drv, sizeof(drv), "%s/isastream-common-buffer-leak/isastream.so", WDMSIM_MUTANTS);
    run_isastream(&r, "isa", "standard,double-buffer", 1, false, drv);
    /* The app passes: the bug shows only at REMOVE. */
    assert_non_null(strstr(r.out, "isastream_app: PASSED"));
    sample_expect_stop(&r, "isastream-common-buffer-leak", 0xE6, 0x07,
                       "dma.put-with-common-buffers");
    assert_int_equal(r.bc->parameters[2], 1); /* one common buffer outstanding */
    wdmsim_shutdown(r.sim);
}

static void isastream_cli(void **state)
{
    (void)state;
    char cmd[4096];
    snprintf(cmd, sizeof(cmd),
             "%s run --machine %s --app %s/isastream_app.so %s/isastream.so -- 0 > /dev/null 2>&1",
             getenv("WDMSIM_BIN"), sample_machine("isa"), WDMSIM_DRIVERS, WDMSIM_DRIVERS);
    assert_int_equal(WEXITSTATUS(system(cmd)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(isastream_isa_big),
        cmocka_unit_test(isastream_isa_double_buffer),
        cmocka_unit_test(isastream_default),
        cmocka_unit_test(isastream_default_double_buffer),
        cmocka_unit_test(isastream_seeds),
        cmocka_unit_test(isastream_no_ring),
        cmocka_unit_test(isastream_mutant_deallocate_object),
        cmocka_unit_test(isastream_mutant_common_buffer_leak),
        cmocka_unit_test(isastream_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
