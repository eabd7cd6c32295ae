/*
 * tests/machine/test_config.c - the machine config: good files and every
 * kind of bad one ends in a clear message naming file and line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "machine/machine.h"

static char path[64];

static const char *write_ini(const char *text)
{
    snprintf(path, sizeof(path), "/tmp/wdmsim-test-%d.ini", (int)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* Loads text; returns 0/-1 and leaves the message in err. */
static int load(const char *text, struct machine_config *cfg, struct machine_error *err)
{
    int rc = machine_config_load(cfg, write_ini(text), err);
    unlink(path);
    return rc;
}

static void expect_error(const char *text, const char *needle, int line)
{
    struct machine_config cfg;
    struct machine_error err = {{0}};
    assert_int_equal(load(text, &cfg, &err), -1);
    if (!strstr(err.text, needle))
        fail_msg("message '%s' lacks '%s'", err.text, needle);
    if (line) {
        char where[96];
        snprintf(where, sizeof(where), "%s:%d:", path, line);
        if (!strstr(err.text, where))
            fail_msg("message '%s' does not name %s", err.text, where);
    }
}

static void test_good_config(void **state)
{
    (void)state;
    struct machine_config cfg;
    struct machine_error err;
    assert_int_equal(load("[machine]\nprocessors = 4\npage_size = 8192\n"
                          "frame_placement = contiguous\n[memory]\nram = 0 - 16M\n"
                          "ram = 0x100000000 - 6G\n",
                          &cfg, &err),
                     0);
    assert_int_equal(cfg.processors, 4);
    assert_int_equal(cfg.page_shift, 13);
    assert_int_equal(cfg.placement, frame_placement_contiguous);
    assert_int_equal(cfg.nranges, 2);
    assert_true(cfg.ranges[1].start == (4ULL << 30) && cfg.ranges[1].end == (6ULL << 30));
}

static void test_default_machine(void **state)
{
    (void)state;
    struct machine_config cfg;
    machine_config_default(&cfg);
    assert_int_equal(cfg.processors, 2);
    assert_int_equal(cfg.page_shift, 12);
    assert_int_equal(cfg.nranges, 3);
    assert_true(cfg.ranges[0].end == 640 << 10);
    assert_true(cfg.ranges[1].start == 1 << 20 && cfg.ranges[1].end == 3ULL << 30);
    assert_true(cfg.ranges[2].start == 4ULL << 30 && cfg.ranges[2].end == 5ULL << 30);
}

static void test_unknown_key(void **state)
{
    (void)state;
    expect_error("[machine]\nprocessors = 2\ncolour = blue\n", "unknown key 'colour'", 3);
}

static void test_unknown_section(void **state)
{
    (void)state;
    expect_error("[machien]\nprocessors = 2\n", "unknown section [machien]", 2);
}

static void test_overlapping_ram(void **state)
{
    (void)state;
    expect_error("[memory]\nram = 0 - 64M\nram = 32M - 128M\n", "overlap", 0);
}

static void test_bad_page_size(void **state)
{
    (void)state;
    expect_error("[machine]\npage_size = 3000\n", "page_size = 3000: must be 4096 or 8192", 2);
}

static void test_ram_beyond_host(void **state)
{
    (void)state;
    expect_error("[memory]\nram = 0 - 300T\n", "most physical memory this host can map", 0);
}

static void test_bad_values(void **state)
{
    (void)state;
    expect_error("[machine]\nprocessors = 65\n", "from 1 to 64", 2);
    expect_error("[machine]\nprocessors = two\n", "from 1 to 64", 2);
    expect_error("[memory]\nram = 16M\n", "expected START - END", 2);
    expect_error("[memory]\nram = 16M - 8M\n", "END must be above START", 2);
    expect_error("[memory]\nram = 0 - 5000\n", "not aligned", 0);
    expect_error("[machine]\nframe_placement = random\n", "scattered or contiguous", 2);
    expect_error("this is not ini\n", "syntax error", 1);
    expect_error("[device d0]\ndriver = x\n", "has no model", 1);
}

/* [registry] reg = FILE names a .reg file relative to the config. */
static void test_registry_section(void **state)
{
    (void)state;
    struct machine_config cfg;
    struct machine_error err;
    assert_int_equal(load("[registry]\nreg = params.reg\n", &cfg, &err), 0);
    assert_string_equal(cfg.reg_file, "/tmp/params.reg");
    assert_int_equal(load("[registry]\nreg = /etc/x.reg\n", &cfg, &err), 0);
    assert_string_equal(cfg.reg_file, "/etc/x.reg");
    expect_error("[registry]\nhive = x\n", "unknown key 'hive' in [registry]", 2);
}

static void test_missing_file(void **state)
{
    (void)state;
    struct machine_config cfg;
    struct machine_error err;
    assert_int_equal(machine_config_load(&cfg, "/nonexistent/x.ini", &err), -1);
    assert_non_null(strstr(err.text, "/nonexistent/x.ini: cannot open machine config"));
}

static void test_sizes(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(machine_parse_size("640K", &v), 0);
    assert_true(v == 640 << 10);
    assert_int_equal(machine_parse_size(" 3G ", &v), 0);
    assert_true(v == 3ULL << 30);
    assert_int_equal(machine_parse_size("0x1000", &v), 0);
    assert_true(v == 4096);
    assert_int_equal(machine_parse_size("4KiB", &v), 0);
    assert_true(v == 4096);
    assert_int_equal(machine_parse_size("-1", &v), -1);
    assert_int_equal(machine_parse_size("12Q", &v), -1);
    assert_int_equal(machine_parse_size("99999999999999999999T", &v), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_config),
        cmocka_unit_test(test_default_machine),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_unknown_section),
        cmocka_unit_test(test_overlapping_ram),
        cmocka_unit_test(test_bad_page_size),
        cmocka_unit_test(test_ram_beyond_host),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_registry_section),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
