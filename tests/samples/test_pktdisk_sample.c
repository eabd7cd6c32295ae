/*
 * tests/samples/test_pktdisk_sample.c - the PKD-1 sample driver
 * (drivers/pktdisk) with its app on every machine it applies to, with and
 * without double buffering: default.ini, highmem.ini (buffers above 4 GiB
 * bounce below it), tiny.ini (3 map registers: every request of more than
 * 8 KiB is split into pieces). Each run: the app passes, no bug check, no
 * verifier or device-protocol violation, no pool leak (the unload would
 * stop), every device command succeeded, and the disk holds exactly the
 * app's final pattern (read through the model's storage hook). The mutant
 * without FlushAdapterBuffers stops with dma.free-while-mapped. One run
 * through the `wdmsim run` command.
 * Spec: issue 7; shared/devices/pktdisk.md; spec/dma.md 5 (b).
 */
#include <sys/wait.h>

#include "sample_run.h"

#include "../../devices/pktdisk.h"
#include "../../drivers/pktdisk/pktdisk_ioctl.h"

enum { final_bytes = 2 << 20 };

static void run_pktdisk(struct sample_run *r, const char *machine, const char *verifier,
                        uint64_t seed, unsigned pattern, const char *driver)
{
    char drv[1200], app[1200], arg[16];
    char *args[] = {arg};
    snprintf(drv, sizeof(drv), "%s", driver);
    snprintf(app, sizeof(app), "%s/pktdisk_app.so", WDMSIM_DRIVERS);
    snprintf(arg, sizeof(arg), "%u", pattern);
    sample_run(r, machine, verifier, seed, drv, app, 1, args);
}

/* The first min(capacity, 2 MiB) bytes hold PktdiskPattern(pattern). */
static void expect_final_image(wdmsim *sim, unsigned pattern)
{
    struct wdmsim_dev *dev = wdmsim_device(sim, "pkd0");
    assert_non_null(dev);
    uint64_t cap = ((uint64_t)pktdisk_reg(dev, 0x14) << 32 | pktdisk_reg(dev, 0x10)) * 512;
    uint64_t total = cap < final_bytes ? cap : final_bytes;
    unsigned char *buf = malloc(total);
    assert_non_null(buf);
    assert_int_equal(pktdisk_disk_read(dev, 0, total / 512, buf), 0);
    for (uint64_t i = 0; i < total; i++)
        if (buf[i] != PktdiskPattern(pattern, i))
            fail_msg("disk byte %llu holds %#x, the app wrote %#x", (unsigned long long)i, buf[i],
                     PktdiskPattern(pattern, i));
    free(buf);
}

static void one_machine(const char *machine, const char *verifier, uint64_t seed)
{
    struct sample_run r;
    char drv[1200], what[200];
    unsigned pattern = (unsigned)seed * 7 + 3;
    snprintf(drv, sizeof(drv), "%s/pktdisk.so", WDMSIM_DRIVERS);
    snprintf(what, sizeof(what), "pktdisk on %s (%s, seed %llu)", machine,
             verifier ? verifier : "standard", (unsigned long long)seed);
    run_pktdisk(&r, machine, verifier, seed, pattern, drv);
    sample_expect_clean(&r, what, "pktdisk_app: PASSED (0 failure(s))");
    assert_true(r.stats.irps_cancelled > 0); /* the app's CancelIo test */
    assert_true(r.stats.written_bytes >= final_bytes / 2);
    struct pktdisk_stats ds;
    pktdisk_get_stats(wdmsim_device(r.sim, "pkd0"), &ds);
    for (unsigned e = 1; e < pktdisk_errcodes; e++)
        if (ds.commands[0][e] || ds.commands[1][e])
            fail_msg("%s: device commands ended with ERRCODE %u", what, e);
    assert_int_equal(ds.go_while_busy, 0);
    /* Every command stayed within MAXXFER, a whole number of sectors. */
    struct pktdisk_cmd_record rec[64];
    uint64_t n = pktdisk_history(wdmsim_device(r.sim, "pkd0"), rec, 64);
    assert_true(n > 64);
    uint32_t maxxfer = pktdisk_reg(wdmsim_device(r.sim, "pkd0"), 0x08);
    for (unsigned i = 0; i < 64; i++)
        assert_true(rec[i].count % 512 == 0 && rec[i].count <= maxxfer && rec[i].errcode == 0);
    if (!strcmp(machine, "highmem") || (verifier && strstr(verifier, "double-buffer")))
        assert_true(r.stats.bounce_bytes > 0);
    expect_final_image(r.sim, pattern);
    wdmsim_shutdown(r.sim);
}

static void pktdisk_default(void **state)
{
    (void)state;
    one_machine("default", NULL, 1);
}

static void pktdisk_default_double_buffer(void **state)
{
    (void)state;
    one_machine("default", "standard,double-buffer", 1);
}

static void pktdisk_highmem(void **state)
{
    (void)state;
    one_machine("highmem", NULL, 2);
}

static void pktdisk_highmem_double_buffer(void **state)
{
    (void)state;
    one_machine("highmem", "standard,double-buffer", 2);
}

static void pktdisk_tiny(void **state)
{
    (void)state;
    one_machine("tiny", NULL, 3);
}

static void pktdisk_tiny_double_buffer(void **state)
{
    (void)state;
    one_machine("tiny", "standard,double-buffer", 3);
}

/* Other seeds move the schedule (which processor, when interrupts land). */
static void pktdisk_seeds(void **state)
{
    (void)state;
    static const uint64_t seeds[] = {4, 5, 0xC0FFEE};
    for (unsigned i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
        one_machine(i % 2 ? "tiny" : "default", "all", seeds[i]);
}

/* Forgotten FlushAdapterBuffers: the first request (one piece) reaches
 * FreeMapRegisters with its mapping live. */
static void pktdisk_mutant_no_flush(void **state)
{
    (void)state;
    struct sample_run r;
    char drv[1200];
    snprintf(drv, sizeof(drv), "%s/pktdisk-no-flush/pktdisk.so", WDMSIM_MUTANTS);
    run_pktdisk(&r, "default", NULL, 1, 1, drv);
    sample_expect_stop(&r, "pktdisk-no-flush", 0xE6, 0x10, "dma.free-while-mapped");
    assert_int_equal(r.bc->parameters[1], 512); /* the still-mapped bytes */
    wdmsim_shutdown(r.sim);
    /* The same mutant with double buffering stops at the same place. */
    run_pktdisk(&r, "tiny", "standard,double-buffer", 1, 1, drv);
    sample_expect_stop(&r, "pktdisk-no-flush (tiny, double-buffer)", 0xE6, 0x10,
                       "dma.free-while-mapped");
    wdmsim_shutdown(r.sim);
}

static void pktdisk_cli(void **state)
{
    (void)state;
    char cmd[4096];
    snprintf(cmd, sizeof(cmd),
             "%s run --machine %s --app %s/pktdisk_app.so %s/pktdisk.so -- 9 > /dev/null 2>&1",
             getenv("WDMSIM_BIN"), sample_machine("tiny"), WDMSIM_DRIVERS, WDMSIM_DRIVERS);
    assert_int_equal(WEXITSTATUS(system(cmd)), 0);
    snprintf(cmd, sizeof(cmd),
             "%s run --machine %s --app %s/pktdisk_app.so %s/pktdisk-no-flush/pktdisk.so "
             "> /dev/null 2>&1",
             getenv("WDMSIM_BIN"), sample_machine("default"), WDMSIM_DRIVERS, WDMSIM_MUTANTS);
    assert_int_equal(WEXITSTATUS(system(cmd)), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pktdisk_default), cmocka_unit_test(pktdisk_default_double_buffer),
        cmocka_unit_test(pktdisk_highmem), cmocka_unit_test(pktdisk_highmem_double_buffer),
        cmocka_unit_test(pktdisk_tiny),    cmocka_unit_test(pktdisk_tiny_double_buffer),
        cmocka_unit_test(pktdisk_seeds),   cmocka_unit_test(pktdisk_mutant_no_flush),
        cmocka_unit_test(pktdisk_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
