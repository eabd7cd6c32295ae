/*
 * tests/cm/test_hive.c - the SYSTEM hive on disk (src/cm/hive.c, regf.c):
 * write and read back every value type, what is and is not persisted, a
 * hive read by hivexsh and hivexml, bad hive files, and the crash test:
 * a child flushes changing values in a loop and is killed with SIGKILL at
 * random moments; every hive left behind must open with hivex and hold one
 * consistent generation, never older than one already seen.
 * WDMSIM_CRASH_ROUNDS sets the number of kills (default 40; make soak 1000).
 */
#include "cm_test.h"

#include <errno.h>
#include <hivex.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cm/cm.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/wdmsim-hive-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static const char *file(const char *name)
{
    static char buf[4][256];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
    return buf[i];
}

static struct cm_key *mk(struct cm *cm, const char *path)
{
    struct cm_key *k;
    assert_int_equal(cm_create_path_utf8(cm, path, 0, &k), 0);
    return k;
}

static void setv(struct cm *cm, struct cm_key *k, const uint16_t *name, uint32_t type,
                 const void *data, uint32_t size)
{
    assert_int_equal(cm_value_set(cm, k, name, cm_wcslen(name), type, data, size), 0);
}

static const struct cm_value *getv(struct cm *cm, const char *path, const uint16_t *name)
{
    struct cm_key *k;
    if (cm_resolve_utf8(cm, path, 0, &k))
        return NULL;
    return cm_value_find(k, name, cm_wcslen(name));
}

#define PAR "HKLM\\SYSTEM\\CurrentControlSet\\Services\\hv\\Parameters"

static void test_round_trip_every_type(void **state)
{
    (void)state;
    struct cm cm;
    assert_int_equal(cm_init(&cm), 0);
    struct cm_key *k = mk(&cm, PAR);
    static const uint16_t sz[] = u"text", multi[] = u"a\0b\0";
    uint32_t dw = 42, be = 0x2a000000;
    uint64_t qw = 1ULL << 40;
    uint8_t *big = malloc(100000);
    for (int i = 0; i < 100000; i++)
        big[i] = (uint8_t)(i * 7);
    setv(&cm, k, u"", REG_SZ, sz, sizeof sz);
    setv(&cm, k, u"sz", REG_SZ, sz, sizeof sz);
    setv(&cm, k, u"expand", REG_EXPAND_SZ, sz, sizeof sz);
    setv(&cm, k, u"bin", REG_BINARY, big, 100000);
    setv(&cm, k, u"dword", REG_DWORD, &dw, 4);
    setv(&cm, k, u"be", REG_DWORD_BIG_ENDIAN, &be, 4);
    setv(&cm, k, u"link", REG_LINK, sz, 8);
    setv(&cm, k, u"multi", REG_MULTI_SZ, multi, sizeof multi);
    setv(&cm, k, u"res", REG_RESOURCE_LIST, big, 16);
    setv(&cm, k, u"qword", REG_QWORD, &qw, 8);
    setv(&cm, k, u"none", REG_NONE, NULL, 0);
    setv(&cm, k, u"\x041a\x043b\x044e\x0447", REG_DWORD, &dw, 4); /* Cyrillic name */
    mk(&cm, PAR "\\\xd0\x9a\xd0\xbb\xd1\x8e\xd1\x87");            /* Cyrillic key name */
    struct cm_key *vol;
    assert_int_equal(
        cm_resolve_utf8(&cm, PAR "\\volatile", cm_open_create | cm_open_volatile, &vol), 0);
    char err[512];
    assert_int_equal(cm_hive_write(&cm, file("rt.hiv"), err, sizeof err), 0);
    cm_fini(&cm);

    assert_int_equal(cm_init(&cm), 0);
    assert_int_equal(cm_hive_attach(&cm, file("rt.hiv"), err, sizeof err), 0);
    const struct cm_value *v = getv(&cm, PAR, u"bin");
    assert_non_null(v);
    assert_int_equal(v->size, 100000);
    assert_memory_equal(v->data, big, 100000);
    const struct {
        const uint16_t *name;
        uint32_t type, size;
    } want[] = {{u"", REG_SZ, 10},
                {u"sz", REG_SZ, 10},
                {u"expand", REG_EXPAND_SZ, 10},
                {u"dword", REG_DWORD, 4},
                {u"be", REG_DWORD_BIG_ENDIAN, 4},
                {u"link", REG_LINK, 8},
                {u"multi", REG_MULTI_SZ, 10},
                {u"res", REG_RESOURCE_LIST, 16},
                {u"qword", REG_QWORD, 8},
                {u"none", REG_NONE, 0},
                {u"\x041a\x043b\x044e\x0447", REG_DWORD, 4}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        v = getv(&cm, PAR, want[i].name);
        assert_non_null(v);
        assert_int_equal(v->type, want[i].type);
        assert_int_equal(v->size, want[i].size);
    }
    struct cm_key *kk;
    assert_int_equal(cm_resolve_utf8(&cm, PAR "\\\xd0\x9a\xd0\xbb\xd1\x8e\xd1\x87", 0, &kk), 0);
    assert_int_equal(cm_resolve_utf8(&cm, PAR "\\volatile", 0, &kk), STATUS_OBJECT_NAME_NOT_FOUND);
    /* the link was rebuilt, and the tree around it */
    assert_int_equal(cm_resolve_utf8(&cm, "HKLM\\SYSTEM\\CurrentControlSet\\Enum", 0, &kk), 0);
    cm_fini(&cm);
    free(big);
}

static int run_tool(const char *cmd, char *out, size_t len)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, len - 1, p);
    out[n] = 0;
    return pclose(p);
}

static void test_read_by_hivex_tools(void **state)
{
    (void)state;
    if (system("command -v hivexsh >/dev/null 2>&1") != 0)
        skip(); /* package libhivex-bin */
    struct cm cm;
    assert_int_equal(cm_init(&cm), 0);
    struct cm_key *k = mk(&cm, PAR);
    uint32_t dw = 42;
    static const uint16_t sz[] = u"hello";
    setv(&cm, k, u"Speed", REG_DWORD, &dw, 4);
    setv(&cm, k, u"Name", REG_SZ, sz, sizeof sz);
    char err[512];
    assert_int_equal(cm_hive_write(&cm, file("tools.hiv"), err, sizeof err), 0);
    cm_fini(&cm);
    char cmd[512], out[8192];
    snprintf(cmd, sizeof cmd,
             "printf 'cd ControlSet001\\\\Services\\\\hv\\\\Parameters\\nlsval\\n' | hivexsh '%s'",
             file("tools.hiv"));
    assert_int_equal(run_tool(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "\"Speed\"=dword:0000002a"));
    assert_non_null(strstr(out, "\"Name\"=\"hello\""));
    snprintf(cmd, sizeof cmd, "hivexml '%s'", file("tools.hiv"));
    assert_int_equal(run_tool(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "<node name=\"ControlSet001\">"));
    assert_null(strstr(out, "CurrentControlSet")); /* a volatile link */
    assert_null(strstr(out, "HARDWARE"));          /* only SYSTEM is in this hive */
}

static void test_select_current(void **state)
{
    (void)state;
    struct cm cm;
    char err[512];
    assert_int_equal(cm_init(&cm), 0);
    struct cm_key *sel = mk(&cm, "HKLM\\SYSTEM\\Select");
    uint32_t two = 2;
    setv(&cm, sel, u"Current", REG_DWORD, &two, 4);
    mk(&cm, "HKLM\\SYSTEM\\ControlSet002\\Services\\only2");
    assert_int_equal(cm_hive_write(&cm, file("sel.hiv"), err, sizeof err), 0);
    cm_fini(&cm);
    assert_int_equal(cm_init(&cm), 0);
    assert_int_equal(cm_hive_attach(&cm, file("sel.hiv"), err, sizeof err), 0);
    struct cm_key *k;
    assert_int_equal(
        cm_resolve_utf8(&cm, "HKLM\\SYSTEM\\CurrentControlSet\\Services\\only2", 0, &k), 0);
    cm_fini(&cm);
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void test_bad_hive_files(void **state)
{
    (void)state;
    struct cm cm;
    char err[512];
    /* not there yet: fine, written at the first flush */
    assert_int_equal(cm_init(&cm), 0);
    assert_int_equal(cm_hive_attach(&cm, file("new.hiv"), err, sizeof err), 0);
    assert_true(cm.dirty);
    assert_int_equal(cm_hive_flush(&cm, err, sizeof err), 0);
    cm_fini(&cm);
    struct stat st;
    assert_int_equal(stat(file("new.hiv"), &st), 0);
    /* garbage, truncated, a flipped header byte, an empty file */
    uint8_t junk[9000];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(i * 31 + 7);
    write_bytes(file("junk.hiv"), junk, sizeof junk);
    uint8_t good[8192];
    size_t n = cm_regf_empty(good, sizeof good);
    assert_int_equal(n, 8192);
    write_bytes(file("short.hiv"), good, 5000);
    good[0x24] ^= 1; /* root offset: checksum no longer matches */
    write_bytes(file("flip.hiv"), good, n);
    write_bytes(file("empty.hiv"), good, 0);
    const char *bad[] = {"junk.hiv", "short.hiv", "flip.hiv", "empty.hiv"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(cm_init(&cm), 0);
        err[0] = 0;
        assert_int_equal(cm_hive_attach(&cm, file(bad[i]), err, sizeof err), -1);
        assert_non_null(strstr(err, bad[i])); /* the message names the file */
        cm_fini(&cm);
    }
    /* a directory that does not exist: the flush fails with a message */
    assert_int_equal(cm_init(&cm), 0);
    assert_int_equal(cm_hive_attach(&cm, "/nonexistent-dir/x.hiv", err, sizeof err), 0);
    assert_int_equal(cm_hive_flush(&cm, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent-dir/x.hiv"));
    cm_fini(&cm);
    /* the boot path reports it as an input error */
    struct wdmsim_config cfg = {.seed = 1, .hive_path = file("junk.hiv")};
    wdmsim *sim;
    struct wdmsim_error e = {{0}};
    assert_int_equal(wdmsim_boot(&cfg, &sim, &e), WDMSIM_EINPUT);
    assert_non_null(strstr(e.text, "junk.hiv"));
}

/* ---- crash test ----------------------------------------------------------- */

static const char *const crash_keys[] = {PAR "\\A", PAR "\\B", PAR "\\C"};

/* Child: generation after generation, all three keys get Gen = g and a blob
 * whose size depends on g; flush after each. Never returns. */
static void crash_child(const char *hive)
{
    struct cm cm;
    char err[512];
    if (cm_init(&cm) || cm_hive_attach(&cm, hive, err, sizeof err))
        _exit(3);
    uint32_t g = 0;
    const struct cm_value *v = getv(&cm, crash_keys[0], u"Gen");
    if (v && v->size == 4)
        memcpy(&g, v->data, 4);
    static uint8_t blob[20000];
    for (;;) {
        g++;
        for (size_t i = 0; i < 3; i++) {
            struct cm_key *k = mk(&cm, crash_keys[i]);
            setv(&cm, k, u"Gen", REG_DWORD, &g, 4);
            memset(blob, (int)g, sizeof blob);
            setv(&cm, k, u"Blob", REG_BINARY, blob, 1000 + (g * 997) % 19000);
        }
        if (cm_hive_flush(&cm, err, sizeof err))
            _exit(4);
    }
}

/* Opens the hive with hivex itself and with cm; returns the generation. */
static uint32_t check_hive(const char *hive)
{
    hive_h *h = hivex_open(hive, 0);
    if (!h)
        fail_msg("hivex cannot open %s after a kill: %s", hive, strerror(errno));
    hivex_close(h);
    struct cm cm;
    char err[512];
    assert_int_equal(cm_init(&cm), 0);
    if (cm_hive_attach(&cm, hive, err, sizeof err))
        fail_msg("%s", err);
    uint32_t gen[3];
    for (size_t i = 0; i < 3; i++) {
        const struct cm_value *v = getv(&cm, crash_keys[i], u"Gen");
        const struct cm_value *b = getv(&cm, crash_keys[i], u"Blob");
        assert_non_null(v);
        assert_non_null(b);
        memcpy(&gen[i], v->data, 4);
        assert_int_equal(b->size, 1000 + (gen[i] * 997) % 19000);
        assert_int_equal(b->data[0], (uint8_t)gen[i]);
        assert_int_equal(b->data[b->size - 1], (uint8_t)gen[i]);
    }
    assert_int_equal(gen[0], gen[1]);
    assert_int_equal(gen[1], gen[2]);
    cm_fini(&cm);
    return gen[0];
}

static void test_crash_during_flush(void **state)
{
    (void)state;
    const char *env = getenv("WDMSIM_CRASH_ROUNDS");
    int rounds = env ? atoi(env) : 40;
    const char *hive = file("crash.hiv");
    /* generation 0 on disk before the first kill */
    struct cm cm;
    char err[512];
    assert_int_equal(cm_init(&cm), 0);
    assert_int_equal(cm_hive_attach(&cm, hive, err, sizeof err), 0);
    uint32_t zero = 0;
    static uint8_t blob[1000];
    for (size_t i = 0; i < 3; i++) {
        struct cm_key *k = mk(&cm, crash_keys[i]);
        setv(&cm, k, u"Gen", REG_DWORD, &zero, 4);
        setv(&cm, k, u"Blob", REG_BINARY, blob, 1000);
    }
    assert_int_equal(cm_hive_flush(&cm, err, sizeof err), 0);
    cm_fini(&cm);
    unsigned seed = (unsigned)time(NULL);
    if (getenv("WDMSIM_CRASH_SEED"))
        seed = (unsigned)atoi(getenv("WDMSIM_CRASH_SEED"));
    srand(seed);
    print_message("crash test: %d kills, WDMSIM_CRASH_SEED=%u\n", rounds, seed);
    uint32_t last = 0, advanced = 0;
    for (int r = 0; r < rounds; r++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            crash_child(hive);
        struct timespec ts = {0, (long)(rand() % 20000) * 1000L}; /* 0-20 ms */
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (WIFEXITED(status))
            fail_msg("the flushing child exited with %d (round %d)", WEXITSTATUS(status), r);
        uint32_t g = check_hive(hive);
        if (g < last)
            fail_msg("round %d: generation went back from %u to %u", r, last, g);
        advanced += g > last;
        last = g;
    }
    /* the kills did land between flushes, not only before the first one */
    assert_true(rounds < 10 || advanced > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_type), cmocka_unit_test(test_read_by_hivex_tools),
        cmocka_unit_test(test_select_current),        cmocka_unit_test(test_bad_hive_files),
        cmocka_unit_test(test_crash_during_flush),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
