/*
 * tests/samples/test_soak.c - seeded random traffic across the DMA sample
 * drivers, every machine and verifier mix, bounded in time.
 *
 * Round i (seed = WDMSIM_SOAK_SEED + i) picks a machine (default, highmem,
 * tiny, isa: in turn) and a verifier mix (standard, standard + double
 * buffering, all: in turn), boots it, loads the drivers whose devices it has
 * (pktdisk, isastream, sgdisk), and runs each one's app: pktdisk_app and
 * isastream_app in their `random OPS SEED` mode (random sizes, buffer
 * offsets, disk offsets, overlapped requests, CancelIo; every byte checked
 * against a shadow copy, the capture stream or the device's CRC), sgdisk_app
 * in its quick mode. Each round must pass with no bug check, no violation
 * and no pool leak (the unload stops on one), and pktdisk's disk must hold
 * the app's final pattern. A failure names the round's seed, machine and
 * verifier.
 *
 * Size: rounds run until WDMSIM_SOAK_SECONDS (default 4) of host time have
 * passed and every machine x verifier pair has run once; OPS is
 * WDMSIM_SOAK_OPS (default 40). `make soak` sets both larger.
 */
#include <time.h>

#include "sample_run.h"

#include "../../devices/pktdisk.h"
#include "../../drivers/pktdisk/pktdisk_ioctl.h"

static const char *const machines[] = {"default", "highmem", "tiny", "isa"};
static const char *const verifiers[] = {"standard", "standard,double-buffer", "all"};

static unsigned env_u(const char *name, unsigned def)
{
    const char *v = getenv(name);
    return v && *v ? (unsigned)strtoul(v, NULL, 0) : def;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The machine has a device the driver serves (its `driver =` line). */
static bool serves(const char *machine, const char *driver)
{
    char line[256], want[64];
    snprintf(want, sizeof(want), "driver = %s", driver);
    FILE *f = fopen(sample_machine(machine), "r");
    assert_non_null(f);
    bool found = false;
    while (!found && fgets(line, sizeof(line), f))
        found = strstr(line, want) != NULL;
    fclose(f);
    return found;
}

/* One app of the round in its own machine, so each driver's unload (and
 * leak check) happens right after its traffic. */
static void one_app(const char *machine, const char *verifier, uint64_t seed, const char *driver,
                    int argc, char **argv, const char *passed)
{
    static struct sample_run r;
    char drv[1200], app[1200], what[300];
    snprintf(drv, sizeof(drv), "%s/%s.so", WDMSIM_DRIVERS, driver);
    snprintf(app, sizeof(app), "%s/%s_app.so", WDMSIM_DRIVERS, driver);
    snprintf(what, sizeof(what), "soak: %s on %s, verifier %s, seed %llu (rerun: WDMSIM_SOAK_SEED)",
             driver, machine, verifier, (unsigned long long)seed);
    sample_run(&r, machine, verifier, seed, drv, app, argc, argv);
    sample_expect_clean(&r, what, passed);
    if (!strcmp(driver, "pktdisk")) {
        struct wdmsim_dev *dev = wdmsim_device(r.sim, "pkd0");
        uint64_t cap = ((uint64_t)pktdisk_reg(dev, 0x14) << 32 | pktdisk_reg(dev, 0x10)) * 512;
        uint64_t total = cap < (2u << 20) ? cap : (2u << 20);
        unsigned char *buf = malloc(total);
        assert_int_equal(pktdisk_disk_read(dev, 0, total / 512, buf), 0);
        unsigned pattern = (unsigned)atoi(argv[2]);
        for (uint64_t i = 0; i < total; i++)
            if (buf[i] != PktdiskPattern(pattern, i))
                fail_msg("%s: disk byte %llu is not the app's final pattern", what,
                         (unsigned long long)i);
        free(buf);
    }
    wdmsim_shutdown(r.sim);
}

static void soak(void **state)
{
    (void)state;
    unsigned seconds = env_u("WDMSIM_SOAK_SECONDS", 4), ops = env_u("WDMSIM_SOAK_OPS", 40);
    uint64_t base = env_u("WDMSIM_SOAK_SEED", 1);
    unsigned pairs = 4 * 3, rounds = 0;
    double start = now_s();
    for (unsigned i = 0; i < pairs || now_s() - start < seconds; i++, rounds++) {
        uint64_t seed = base + i;
        const char *m = machines[i % 4], *v = verifiers[(i / 4) % 3];
        char random[] = "random", n_ops[16], n_seed[16], quick[] = "quick";
        snprintf(n_ops, sizeof(n_ops), "%u", ops);
        snprintf(n_seed, sizeof(n_seed), "%u", (unsigned)(seed % 100000) + 1);
        char *args[] = {random, n_ops, n_seed};
        char *quick_args[] = {quick};
        if (serves(m, "pktdisk"))
            one_app(m, v, seed, "pktdisk", 3, args, "pktdisk_app: PASSED");
        if (serves(m, "isastream"))
            one_app(m, v, seed, "isastream", 3, args, "isastream_app: PASSED");
        if (serves(m, "sgdisk"))
            one_app(m, v, seed, "sgdisk", 1, quick_args, "sgdisk_app: PASSED");
    }
    printf("soak: %u rounds in %.1f s (seeds %llu..%llu, %u ops per app)\n", rounds,
           now_s() - start, (unsigned long long)base, (unsigned long long)(base + rounds - 1), ops);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(soak),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
