/*
 * tests/cm/test_rules.c - the registry's verifier rules from buggy driver
 * builds (irql.zw-not-passive, rtl.registry-direct-untrusted), and a correct
 * driver that reads its Parameters seeded from a .reg file and writes a
 * value that reaches the hive file (src/cm/rules.c, query.c, boot.c, hive.c).
 */
#include "cm_test.h"

#include <unistd.h>

#include "support/fixture.h"

static void test_zw_not_passive(void **state)
{
    (void)state;
    fixture_expect_stop("zw_not_passive", NULL, 0xC4, 0xE6);
    struct fixture_run r;
    fixture_run("zw_not_passive", NULL, NULL, 1, &r);
    assert_string_equal(r.rule, "irql.zw-not-passive");
    assert_int_equal(r.param[2], 2); /* DISPATCH_LEVEL */
    fixture_run("zw_not_passive", NULL, "none", 1, &r);
    assert_false(r.stopped);
}

static void test_registry_direct_untrusted(void **state)
{
    (void)state;
    fixture_expect_stop("registry_direct_untrusted", NULL, 0x139, 0x9);
    struct fixture_run r;
    /* Windows itself stops here: the verifier being off changes nothing */
    fixture_run("registry_direct_untrusted", NULL, "none", 1, &r);
    assert_true(r.stopped);
    assert_string_equal(r.rule, "rtl.registry-direct-untrusted");
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_driver_reads_seeded_parameters(void **state)
{
    (void)state;
    char dir[] = "/tmp/wdmsim-cm-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char reg[300], hive[300];
    snprintf(reg, sizeof reg, "%s/seed.reg", dir);
    snprintf(hive, sizeof hive, "%s/system.hiv", dir);
    write_file(reg, "Windows Registry Editor Version 5.00\n\n"
                    "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\registry_driver\\"
                    "Parameters]\n"
                    "\"Speed\"=dword:0001c200\n"
                    "\"Name\"=\"COM9\"\n");
    char out[4096] = {0};
    struct wdmsim_config cfg = {.seed = 1, .reg_path = reg, .hive_path = hive};
    cfg.out = fmemopen(out, sizeof out - 1, "w");
    wdmsim *sim;
    struct wdmsim_error err = {{0}};
    assert_int_equal(wdmsim_boot(&cfg, &sim, &err), WDMSIM_OK);
    assert_int_equal(wdmsim_load_driver(sim, fixture_path("registry_driver"), &err), WDMSIM_OK);
    int32_t st = -1;
    assert_int_equal(wdmsim_driver_status(sim, "registry_driver", &st), WDMSIM_OK);
    assert_int_equal(st, 0);
    wdmsim_unload_drivers(sim);
    wdmsim_shutdown(sim);
    fclose(cfg.out);
    assert_non_null(strstr(out, "registry_driver: Speed=115200 Name=COM9"));
    /* ZwFlushKey wrote the hive: Loaded is there, and so are the seeded values */
    char q[2048] = {0};
    FILE *qf = fmemopen(q, sizeof q - 1, "w");
    assert_int_equal(wdmsim_reg_query(hive, NULL,
                                      "HKLM\\SYSTEM\\CurrentControlSet\\Services\\registry_driver",
                                      "Loaded", qf, &err),
                     WDMSIM_OK);
    fclose(qf);
    assert_non_null(strstr(q, "Loaded    REG_DWORD    dword:00000001"));
    /* defaults when the key has no Parameters: a fresh boot without the .reg */
    unlink(hive);
    memset(out, 0, sizeof out);
    cfg.reg_path = NULL;
    cfg.hive_path = NULL;
    cfg.out = fmemopen(out, sizeof out - 1, "w");
    assert_int_equal(wdmsim_boot(&cfg, &sim, &err), WDMSIM_OK);
    assert_int_equal(wdmsim_load_driver(sim, fixture_path("registry_driver"), &err), WDMSIM_OK);
    wdmsim_shutdown(sim);
    fclose(cfg.out);
    assert_non_null(strstr(out, "registry_driver: Speed=9600 Name=none"));
    unlink(reg);
    char tmp[320];
    snprintf(tmp, sizeof tmp, "%s.tmp", hive);
    unlink(tmp);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zw_not_passive),
        cmocka_unit_test(test_registry_direct_untrusted),
        cmocka_unit_test(test_driver_reads_seeded_parameters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
