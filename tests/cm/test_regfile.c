/*
 * tests/cm/test_regfile.c - .reg import and export (src/cm/regfile.c,
 * regexport.c): every value type round-trips in both versions, deletions,
 * continuation lines, UTF-16 files, errors naming the line; and the
 * `wdmsim reg import|export|query` and `wdmsim run --reg/--hive` commands
 * (tools/wdmsim/reg.c, src/host/registry.c) with their exit statuses.
 */
#include "cm_test.h"

#include <sys/wait.h>
#include <unistd.h>

#include "cm/cm.h"

static const char sample[] =
    "Windows Registry Editor Version 5.00\r\n"
    "\r\n"
    "; a comment\r\n"
    "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\rf\\Parameters]\r\n"
    "@=\"default\"\r\n"
    "\"Str\"=\"a \\\"quoted\\\" \\\\ path\"\r\n"
    "\"Dw\"=dword:deadbeef\r\n"
    "\"Bin\"=hex:01,02,03,\\\r\n"
    "  04,05\r\n"
    "\"None\"=hex(0):\r\n"
    "\"Expand\"=hex(2):25,00,53,00,00,00\r\n"
    "\"Be\"=hex(5):00,00,00,01\r\n"
    "\"Link\"=hex(6):5c,00,52,00\r\n"
    "\"Multi\"=hex(7):61,00,00,00,62,00,00,00,00,00\r\n"
    "\"Res\"=hex(8):01\r\n"
    "\"Full\"=hex(9):02\r\n"
    "\"Req\"=hex(a):03\r\n"
    "\"Qw\"=hex(b):08,07,06,05,04,03,02,01\r\n"
    "\"SzNoNul\"=hex(1):41,00\r\n"
    "\"ShortDw\"=hex(4):01,02\r\n"
    "\"Odd\"=hex(12345):ff\r\n"
    "\r\n"
    "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\rf\\Gone]\r\n"
    "\"x\"=\"y\"\r\n"
    "\"x\"=-\r\n"
    "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\rf\\Gone2\\Deep]\r\n"
    "[-HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\rf\\Gone2]\r\n"
    "[HKEY_CURRENT_USER\\Software\\Me]\r\n"
    "\"u\"=dword:00000001\r\n";

#define RF "HKLM\\SYSTEM\\CurrentControlSet\\Services\\rf\\Parameters"

static const struct cm_value *getv(struct cm *cm, const char *path, const uint16_t *name)
{
    struct cm_key *k;
    if (cm_resolve_utf8(cm, path, 0, &k))
        return NULL;
    return cm_value_find(k, name, cm_wcslen(name));
}

static void check_sample(struct cm *cm)
{
    const struct cm_value *v;
    assert_non_null(v = getv(cm, RF, u""));
    assert_int_equal(v->size, 16);
    assert_non_null(v = getv(cm, RF, u"Str"));
    assert_memory_equal(v->data, u"a \"quoted\" \\ path", v->size);
    assert_non_null(v = getv(cm, RF, u"Dw"));
    assert_int_equal(v->type, REG_DWORD);
    assert_int_equal(*(uint32_t *)v->data, 0xdeadbeef);
    assert_non_null(v = getv(cm, RF, u"Bin"));
    assert_int_equal(v->size, 5);
    assert_int_equal(v->data[4], 5);
    assert_non_null(v = getv(cm, RF, u"None"));
    assert_int_equal(v->type, REG_NONE);
    assert_int_equal(v->size, 0);
    assert_non_null(v = getv(cm, RF, u"Expand"));
    assert_int_equal(v->type, REG_EXPAND_SZ);
    assert_memory_equal(v->data, u"%S", 6);
    const struct {
        const uint16_t *name;
        uint32_t type, size;
    } t[] = {{u"Be", 5, 4},      {u"Link", 6, 4},     {u"Multi", 7, 10}, {u"Res", 8, 1},
             {u"Full", 9, 1},    {u"Req", 10, 1},     {u"Qw", 11, 8},    {u"SzNoNul", 1, 2},
             {u"ShortDw", 4, 2}, {u"Odd", 0x12345, 1}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        assert_non_null(v = getv(cm, RF, t[i].name));
        assert_int_equal(v->type, t[i].type);
        assert_int_equal(v->size, t[i].size);
    }
    struct cm_key *k;
    assert_int_equal(
        cm_resolve_utf8(cm, "HKLM\\SYSTEM\\CurrentControlSet\\Services\\rf\\Gone", 0, &k), 0);
    assert_int_equal(k->nval, 0);
    assert_int_equal(
        cm_resolve_utf8(cm, "HKLM\\SYSTEM\\CurrentControlSet\\Services\\rf\\Gone2", 0, &k),
        STATUS_OBJECT_NAME_NOT_FOUND);
    assert_non_null(getv(cm, "\\Registry\\User\\.DEFAULT\\Software\\Me", u"u"));
}

static void test_import(void **state)
{
    (void)state;
    struct cm cm;
    char err[512];
    assert_int_equal(cm_init(&cm), 0);
    if (cm_reg_import(&cm, sample, sizeof sample - 1, "sample.reg", err, sizeof err))
        fail_msg("%s", err);
    check_sample(&cm);
    cm_fini(&cm);
}

/* export -> import gives the same values, in version 5 and REGEDIT4 */
static void test_round_trip(void **state)
{
    (void)state;
    for (int version = 4; version <= 5; version++) {
        struct cm cm;
        char err[512];
        assert_int_equal(cm_init(&cm), 0);
        assert_int_equal(cm_reg_import(&cm, sample, sizeof sample - 1, "s", err, sizeof err), 0);
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        struct cm_key *k;
        assert_int_equal(cm_resolve_utf8(&cm, "HKLM", 0, &k), 0);
        assert_int_equal(cm_reg_export(&cm, k, version, f), 0);
        fclose(f);
        cm_fini(&cm);
        assert_non_null(strstr(text, version == 4 ? "REGEDIT4\n" : "Version 5.00\n"));
        assert_null(strstr(text, "CurrentControlSet")); /* the link is not exported */
        assert_non_null(strstr(text, "\"Dw\"=dword:deadbeef"));
        assert_non_null(strstr(text, "\"Str\"=\"a \\\"quoted\\\" \\\\ path\""));
        assert_int_equal(cm_init(&cm), 0);
        if (cm_reg_import(&cm, text, len, "export", err, sizeof err))
            fail_msg("re-import (version %d): %s", version, err);
        free(text);
        /* everything under HKLM came back (HKCU was not exported) */
        const struct cm_value *v = getv(&cm, RF, u"Multi");
        assert_non_null(v);
        assert_memory_equal(v->data, u"a\0b\0", 10);
        assert_non_null(v = getv(&cm, RF, u"Expand"));
        assert_memory_equal(v->data, u"%S", 6);
        assert_non_null(v = getv(&cm, RF, u"Odd"));
        assert_int_equal(v->type, 0x12345);
        assert_non_null(v = getv(&cm, RF, u"SzNoNul"));
        assert_int_equal(v->size, 2);
        cm_fini(&cm);
    }
}

static void test_utf16_file(void **state)
{
    (void)state;
    /* regedit writes version 5 files as UTF-16LE with a BOM */
    size_t n = sizeof sample - 1;
    uint8_t *w = malloc(2 + 2 * n);
    w[0] = 0xFF, w[1] = 0xFE;
    for (size_t i = 0; i < n; i++)
        w[2 + 2 * i] = (uint8_t)sample[i], w[3 + 2 * i] = 0;
    struct cm cm;
    char err[512];
    assert_int_equal(cm_init(&cm), 0);
    if (cm_reg_import(&cm, (const char *)w, 2 + 2 * n, "u16.reg", err, sizeof err))
        fail_msg("%s", err);
    check_sample(&cm);
    cm_fini(&cm);
    free(w);
}

static void expect_error(const char *text, const char *want)
{
    struct cm cm;
    char err[512] = {0};
    assert_int_equal(cm_init(&cm), 0);
    assert_int_equal(cm_reg_import(&cm, text, strlen(text), "bad.reg", err, sizeof err), -1);
    if (!strstr(err, want))
        fail_msg("error '%s' does not contain '%s'", err, want);
    cm_fini(&cm);
}

static void test_errors(void **state)
{
    (void)state;
    const char *h = "REGEDIT4\n";
    char buf[512];
    expect_error("", "bad.reg:1: empty file");
    expect_error("hello\n", "bad.reg:1: not a .reg file");
    snprintf(buf, sizeof buf, "%s\"v\"=dword:1\n", h);
    expect_error(buf, "bad.reg:2: value before any [KEY]");
    snprintf(buf, sizeof buf, "%s[HKLM\\x\n", h);
    expect_error(buf, "bad.reg:2: expected ']'");
    snprintf(buf, sizeof buf, "%s[HKEY_NOWHERE\\x]\n", h);
    expect_error(buf, "bad.reg:2: unknown root key");
    snprintf(buf, sizeof buf, "%s\n[HKLM\\x]\n\"v\"=dword:123456789\n", h);
    expect_error(buf, "bad.reg:4: bad dword");
    snprintf(buf, sizeof buf, "%s[HKLM\\x]\n\"v\"=hex:1,2\n", h);
    expect_error(buf, "bad.reg:3: bad hex byte");
    snprintf(buf, sizeof buf, "%s[HKLM\\x]\n\"v\"=hex:01,\n", h);
    expect_error(buf, "hex list ends with ','");
    snprintf(buf, sizeof buf, "%s[HKLM\\x]\n\"v\"=hex(zz):01\n", h);
    expect_error(buf, "bad hex(TYPE)");
    snprintf(buf, sizeof buf, "%s[HKLM\\x]\n\"v=\"x\"\n", h);
    expect_error(buf, "expected '='");
    snprintf(buf, sizeof buf, "%s[HKLM\\x]\n\"v\"=\"open\n", h);
    expect_error(buf, "missing closing");
    snprintf(buf, sizeof buf, "%s[HKLM\\x]\n\"v\"=\"x\" junk\n", h);
    expect_error(buf, "text after the closing");
    snprintf(buf, sizeof buf, "%s[HKLM\\x]\nv=1\n", h);
    expect_error(buf, "expected \"name\"= or @=");
    snprintf(buf, sizeof buf, "%s[HKLM\\x]\n\"v\"=float:1\n", h);
    expect_error(buf, "unknown value syntax");
    snprintf(buf, sizeof buf, "%s[-HKLM\\SYSTEM]\n", h);
    expect_error(buf, "a root key");
    snprintf(buf, sizeof buf, "%s[HKLM\\a\\\\b]\n", h);
    expect_error(buf, "cannot create key");
    /* a NUL byte in the middle of the text */
    struct cm cm;
    char err[512];
    static const char nul[] = "REGEDIT4\n[HKLM\\x]\0\n";
    assert_int_equal(cm_init(&cm), 0);
    assert_int_equal(cm_reg_import(&cm, nul, sizeof nul - 1, "nul.reg", err, sizeof err), -1);
    assert_non_null(strstr(err, "NUL byte"));
    cm_fini(&cm);
    /* REGEDIT4: hex(2)/hex(7) bytes are text, and must be valid UTF-8 */
    snprintf(buf, sizeof buf, "%s[HKLM\\x]\n\"v\"=hex(2):ff,fe\n", h);
    expect_error(buf, "not valid UTF-8");
}

/* ---- the command ---------------------------------------------------------- */

static int run(const char *args, char *out, size_t len)
{
    char cmd[2048];
    const char *bin = getenv("WDMSIM_BIN");
    snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", bin ? bin : "./wdmsim", args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, len - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_command(void **state)
{
    (void)state;
    char dir[] = "/tmp/wdmsim-regcli-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char reg[256], hive[256], bad[256], args[1024], out[16384];
    snprintf(reg, sizeof reg, "%s/in.reg", dir);
    snprintf(hive, sizeof hive, "%s/system.hiv", dir);
    snprintf(bad, sizeof bad, "%s/bad.reg", dir);
    FILE *f = fopen(reg, "w");
    fputs(sample, f);
    fclose(f);
    f = fopen(bad, "w");
    fputs("REGEDIT4\n[HKLM\\SYSTEM\\x]\n\"v\"=dword:zz\n", f);
    fclose(f);
    snprintf(args, sizeof args, "reg import --hive '%s' '%s'", hive, reg);
    assert_int_equal(run(args, out, sizeof out), 0);
    snprintf(args, sizeof args,
             "reg query --hive '%s' 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\rf\\Parameters'",
             hive);
    assert_int_equal(run(args, out, sizeof out), 0);
    assert_non_null(strstr(out, "Dw    REG_DWORD    dword:deadbeef"));
    assert_non_null(strstr(out, "(Default)    REG_SZ    \"default\""));
    snprintf(args, sizeof args,
             "reg query --hive '%s' 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\rf\\Parameters' Qw",
             hive);
    assert_int_equal(run(args, out, sizeof out), 0);
    assert_non_null(strstr(out, "REG_QWORD    hex(b):08,07,06,05,04,03,02,01"));
    snprintf(args, sizeof args, "reg export --hive '%s'", hive);
    assert_int_equal(run(args, out, sizeof out), 0);
    assert_non_null(strstr(out, "Windows Registry Editor Version 5.00"));
    assert_non_null(
        strstr(out, "[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\rf\\Parameters]"));
    snprintf(args, sizeof args, "reg export --regedit4 --reg '%s' HKCU", reg);
    assert_int_equal(run(args, out, sizeof out), 0);
    assert_non_null(strstr(out, "REGEDIT4"));
    assert_non_null(strstr(out, "[HKEY_USERS\\.DEFAULT\\Software\\Me]"));
    /* errors: exit status 2 with the file and line */
    snprintf(args, sizeof args, "reg import --hive '%s' '%s'", hive, bad);
    assert_int_equal(run(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "bad.reg:3: bad dword"));
    snprintf(args, sizeof args, "reg query --hive '%s' 'HKLM\\SYSTEM\\nope'", hive);
    assert_int_equal(run(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "no such key"));
    snprintf(args, sizeof args, "reg query --hive '%s' HKLM\\SYSTEM nosuchvalue", hive);
    assert_int_equal(run(args, out, sizeof out), 2);
    snprintf(args, sizeof args, "reg query --hive '%s' HKLM\\SYSTEM", reg); /* not a hive */
    assert_int_equal(run(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "not a readable registry hive"));
    assert_int_equal(run("reg frobnicate", out, sizeof out), 2);
    assert_int_equal(run("reg import x.reg", out, sizeof out), 2); /* --hive missing */
    assert_int_equal(run("reg", out, sizeof out), 2);
    /* wdmsim run refuses a bad .reg or hive before loading anything */
    snprintf(args, sizeof args, "run --reg '%s' /nonexistent.so", bad);
    assert_int_equal(run(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "bad.reg:3"));
    snprintf(args, sizeof args, "run --hive '%s' /nonexistent.so", reg);
    assert_int_equal(run(args, out, sizeof out), 2);
    /* hivexsh reads the hive the command wrote */
    if (system("command -v hivexsh >/dev/null 2>&1") == 0) {
        snprintf(args, sizeof args,
                 "printf 'cd ControlSet001\\\\Services\\\\rf\\\\Parameters\\nlsval\\n' | "
                 "hivexsh '%s' 2>&1",
                 hive);
        FILE *p = popen(args, "r");
        size_t n = fread(out, 1, sizeof out - 1, p);
        out[n] = 0;
        assert_int_equal(pclose(p), 0);
        assert_non_null(strstr(out, "\"Dw\"=dword:deadbeef"));
    }
    snprintf(args, sizeof args, "rm -rf '%s'", dir);
    assert_int_equal(system(args), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import),     cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_utf16_file), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
