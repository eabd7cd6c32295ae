/*
 * tests/host/test_inspect.c - wdmsim_inspect on a known stop: every
 * command's facts (addresses, counts, frames, fields) checked against what
 * the fixture driver tests/fixtures/inspect_known reported (its DbgPrint
 * line and bug check parameters) and against the machine's own records.
 * Also: bad input is a message, never a crash; --break-on stops (API and
 * command line); --cmd runs at the stop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include <wdmsim/wdmsim.h>

#include "host/inspect.h"
#include "support/fixture.h"
#include "sys.h"

/* What the fixture printed (see inspect_known.c). */
struct known {
    uint64_t pool, pa, b, c, big, bigpa, paged, map2, adapter, common, commonlogical, logical,
        lookaside, entry, dpc;
    uint64_t mdl, dev, irp;
};

static wdmsim *sim;
static struct known k;
static char *dbg;
static size_t dbg_len;
static FILE *dbg_out;

static uint64_t field(const char *line, const char *name)
{
    char key[32];
    snprintf(key, sizeof(key), " %s=", name);
    const char *p = strstr(line, key);
    if (!p)
        fail_msg("no %s in the fixture's line: %s", name, line);
    return strtoull(p + strlen(key), NULL, 16);
}

static int setup(void **state)
{
    (void)state;
    dbg_out = open_memstream(&dbg, &dbg_len);
    struct wdmsim_config cfg = {.seed = 5, .out = dbg_out};
    struct wdmsim_error err;
    if (wdmsim_boot(&cfg, &sim, &err) != WDMSIM_OK)
        return -1;
    if (wdmsim_load_driver(sim, fixture_path("inspect_known"), &err) != WDMSIM_STOPPED)
        return -1;
    fflush(dbg_out);
    const char *line = strstr(dbg, "INSP ");
    const struct wdmsim_bugcheck *bc = wdmsim_get_bugcheck(sim);
    if (!line || !bc || bc->code != 0xE2)
        return -1;
    k = (struct known){field(line, "pool"),
                       field(line, "pa"),
                       field(line, "b"),
                       field(line, "c"),
                       field(line, "big"),
                       field(line, "bigpa"),
                       field(line, "paged"),
                       field(line, "map2"),
                       field(line, "adapter"),
                       field(line, "common"),
                       field(line, "commonlogical"),
                       field(line, "logical"),
                       field(line, "lookaside"),
                       field(line, "entry"),
                       field(line, "dpc"),
                       bc->parameters[1],
                       bc->parameters[2],
                       bc->parameters[3]};
    if (k.pool != bc->parameters[0])
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    wdmsim_shutdown(sim);
    fclose(dbg_out);
    free(dbg);
    return 0;
}

/* Runs cmd; returns its output (static buffer reused by the next call). */
static const char *run_rc(const char *cmd, int want_rc)
{
    static char *text;
    static size_t len;
    free(text);
    text = NULL;
    FILE *m = open_memstream(&text, &len);
    int rc = wdmsim_inspect(sim, cmd, m);
    fclose(m);
    if (rc != want_rc)
        fail_msg("%s returned %d:\n%s", cmd, rc, text);
    return text;
}

static const char *run(const char *fmt, ...)
{
    char cmd[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    return run_rc(cmd, WDMSIM_OK);
}

#define EXPECT(out, ...)                                       \
    do {                                                       \
        char want_[256];                                       \
        snprintf(want_, sizeof(want_), __VA_ARGS__);           \
        if (!strstr((out), want_))                             \
            fail_msg("expected \"%s\" in:\n%s", want_, (out)); \
    } while (0)

static const char *A(uint64_t a)
{
    static char buf[8][18];
    static unsigned n;
    return insp_addr(a, buf[n++ % 8]);
}

static void t_analyze(void **state)
{
    (void)state;
    const char *o = run("!analyze -v");
    EXPECT(o, "MANUALLY_INITIATED_CRASH (e2)");
    EXPECT(o, "Arg1: %016llx", (unsigned long long)k.pool);
    EXPECT(o, "Arg4: %016llx", (unsigned long long)k.irp);
    EXPECT(o, "inspect_known.so!DriverEntry");
}

static void t_irql(void **state)
{
    (void)state;
    struct sys *sys = wdmsim_sys(sim);
    const char *o = run("!irql");
    EXPECT(o, "Bug check raised on processor 0x%x at IRQL 2 (DISPATCH_LEVEL)",
           sys->ke.bugcheck.processor);
    for (unsigned p = 0; p < sys->ke.nprocessors; p++)
        EXPECT(o, "processor 0x%x -- %u (", p, sys->ke.processor[p].irql);
    o = run("!irql 1");
    EXPECT(o, "processor 0x1 --");
    run_rc("!irql 40", WDMSIM_EINPUT);
}

static void t_dpcs(void **state)
{
    (void)state;
    const char *o = run("!dpcs");
    EXPECT(o, "Normal    %s inspect_known!InspPendingDpc", A(k.dpc));
    EXPECT(o, "1 DPC queued");
    o = run("dt _KDPC %llx", (unsigned long long)k.dpc);
    EXPECT(o, "DeferredRoutine");
    EXPECT(o, "inspect_known!InspPendingDpc");
}

static void t_process(void **state)
{
    (void)state;
    const char *o = run("!process 0 0");
    EXPECT(o, "PROCESS System  Cid: 0004");
    EXPECT(o, "request");
    EXPECT(o, "Current context: System");
}

static void t_pool(void **state)
{
    (void)state;
    const char *o = run("!pool %llx", (unsigned long long)k.pool + 5);
    EXPECT(o, "Pool page %s region is NonpagedNx pool", A(k.pool + 5));
    /* 100 bytes + the 16-byte header = 8 units = 0x80 bytes. */
    EXPECT(o, "*%s size:   80 previous size:", A(k.pool - 16));
    EXPECT(o, "(Allocated)     *Insp  (body %s, owner inspect_known.sys)", A(k.pool));
    EXPECT(o, "(page header)");
    o = run("!pool %llx", (unsigned long long)k.c);
    EXPECT(o, "*%s size:  140", A(k.c - 16)); /* 300 + 16 -> 320 */
    o = run("!pool %llx", (unsigned long long)k.big + 0x1234);
    EXPECT(o, "is inside a big pool allocation of NonpagedNx pool");
    EXPECT(o, "*%s size: 2000 (2 pages)  (Allocated) *Ibuf", A(k.big));
    o = run("!pool %llx", (unsigned long long)k.paged);
    EXPECT(o, "region is Paged pool");
    EXPECT(o, "*Ipgd");
    o = run("!pool 10");
    EXPECT(o, "is not a valid pool address");
}

static void t_poolused(void **state)
{
    (void)state;
    const char *o = run("!poolused Insp");
    EXPECT(o, " Insp  NonpNx          3          0          3          672");
    if (strstr(o, "Ibuf"))
        fail_msg("tag filter let Ibuf through:\n%s", o);
    o = run("!poolused I*");
    EXPECT(o, " Ibuf  NonpNx          1          0          1         8192");
    EXPECT(o, " Ipgd  Paged           1          0          1           80");
    o = run("!poolused");
    EXPECT(o, " Ilas  Nonp ");
    o = run("!poolused Zzzz");
    EXPECT(o, "(no pool with tag Zzzz)");
}

static void t_vtop(void **state)
{
    (void)state;
    const char *o = run("!vtop %llx", (unsigned long long)k.pool);
    EXPECT(o, "Virt %s -> Phys %s (frame %llx, offset %llx)", A(k.pool), A(k.pa),
           (unsigned long long)(k.pa >> 12), (unsigned long long)(k.pa & 0xFFF));
    EXPECT(o, "space system");
    /* The second mapping of the MDL's first page reaches the same frame. */
    o = run("!vtop %llx", (unsigned long long)k.map2);
    EXPECT(o, "-> Phys %s (frame %llx,", A(k.bigpa), (unsigned long long)(k.bigpa >> 12));
    o = run_rc("!vtop 10", WDMSIM_EINPUT);
    EXPECT(o, "in no simulated address space");
}

static void t_pte(void **state)
{
    (void)state;
    const char *o = run("!pte %llx", (unsigned long long)k.pool);
    EXPECT(o, "pfn %llx  [valid write]", (unsigned long long)(k.pa >> 12));
    o = run("!pte %llx", (unsigned long long)k.paged);
    EXPECT(o, "pageable");
    o = run("!pte %llx", (unsigned long long)k.common);
    EXPECT(o, "pfn %llx", (unsigned long long)(k.commonlogical >> 12));
}

static void t_pfn(void **state)
{
    (void)state;
    const char *o = run("!pfn %llx", (unsigned long long)(k.bigpa >> 12));
    EXPECT(o, "PFN %llx at physical %s", (unsigned long long)(k.bigpa >> 12),
           A(k.bigpa & ~0xFFFull));
    EXPECT(o, "RAM, zone high");
    EXPECT(o, "map count 2"); /* the pool mapping and MmMapLockedPagesSpecifyCache's */
    o = run("!pfn %llx", (unsigned long long)(k.pa >> 12));
    EXPECT(o, "map count 1");
    o = run("!pfn a0"); /* 640 KiB: the hole below 1 MiB */
    EXPECT(o, "not RAM (hole)");
    run_rc("!pfn fffffffffff", WDMSIM_EINPUT);
}

static void t_dump(void **state)
{
    (void)state;
    const char *o = run("db %llx L10", (unsigned long long)k.pool);
    EXPECT(o, "%s  00 01 02 03 04 05 06 07-08 09 0a 0b 0c 0d 0e 0f  ................", A(k.pool));
    o = run("db %llx L0n20", (unsigned long long)k.pool + 0x30);
    EXPECT(o, "30 31 32 33 34 35 36 37-38 39 3a 3b 3c 3d 3e 3f  0123456789:;<=>?");
    o = run("dw %llx L4", (unsigned long long)k.pool);
    EXPECT(o, "0100 0302 0504 0706");
    o = run("dd %llx L4", (unsigned long long)k.pool);
    EXPECT(o, "03020100 07060504 0b0a0908 0f0e0d0c");
    o = run("dq %llx L2", (unsigned long long)k.pool);
    EXPECT(o, "07060504`03020100 0f0e0d0c`0b0a0908");
    /* The buffer came back from the device through the bounce frames:
     * PutScatterGatherList copied the (never written) bounce pages over it. */
    o = run("db %llx L10", (unsigned long long)k.big + 0x1ff0);
    EXPECT(o, "00 00 00 00 00 00 00 00-00 00 00 00 00 00 00 00");
    /* A fiber stack's guard page is reserved and never mapped. */
    struct sys *sys = wdmsim_sys(sim);
    uint64_t guard = (uintptr_t)sys->ke.threads->fiber.base;
    o = run("db %llx L20", (unsigned long long)guard + 0xff0);
    EXPECT(o, "?? ?? ??");
    EXPECT(o, "is not readable");
    run_rc("db", WDMSIM_EINPUT);
    run_rc("db %llx X", WDMSIM_EINPUT);
}

static void t_dt(void **state)
{
    (void)state;
    const char *o = run("dt nt!_MDL %llx", (unsigned long long)k.mdl);
    EXPECT(o, "+0x028 ByteCount            : 0x2000 (0n8192)");
    EXPECT(o, "+0x020 StartVa              : 0x%s", A(k.big));
    EXPECT(o, "+0x018 MappedSystemVa       : 0x%s", A(k.map2));
    EXPECT(o, "PFN array (2 pages): %llx ", (unsigned long long)(k.bigpa >> 12));
    o = run("dt _IRP %llx", (unsigned long long)k.irp);
    EXPECT(o, "StackCount           : 0x2 (0n2)");
    o = run("dt _DEVICE_OBJECT %llx", (unsigned long long)k.dev);
    EXPECT(o, "Flags                : 0x10 (0n16)"); /* DO_DIRECT_IO */
    o = run("dt _POOL_HEADER %llx", (unsigned long long)k.pool - 16);
    EXPECT(o, "PoolTag              : 0x70736e49");
    EXPECT(o, "BlockSize            : 0x8 (0n8)");
    o = run("dt");
    EXPECT(o, "_SCATTER_GATHER_LIST");
    o = run("dt MDL");
    EXPECT(o, "_MDL (48 bytes)");
    run_rc("dt _NOPE 1", WDMSIM_EINPUT);
    o = run_rc("dt _MDL 10", WDMSIM_EINPUT);
    EXPECT(o, "cannot read 48 bytes");
}

static void t_irp(void **state)
{
    (void)state;
    const char *o = run("!irp %llx", (unsigned long long)k.irp);
    EXPECT(o, "Irp is active with 2 stacks 3 is current");
    EXPECT(o, " [IRP_MJ_READ(3), 0]");
    run_rc("!irp zz", WDMSIM_EINPUT);
    o = run_rc("!irp 10", WDMSIM_EINPUT);
    EXPECT(o, "cannot read");
}

static void t_devices(void **state)
{
    (void)state;
    const char *o = run("!devobj %llx", (unsigned long long)k.dev);
    EXPECT(o, "Device object (%s) is for:", A(k.dev));
    EXPECT(o, "\\Device\\InspKnown \\Driver\\inspect_known");
    EXPECT(o, "DO_DIRECT_IO");
    o = run("!devobj \\Device\\InspKnown");
    EXPECT(o, "Device object (%s)", A(k.dev));
    o = run("!devstack %llx", (unsigned long long)k.dev);
    EXPECT(o, "> %s", A(k.dev));
    o = run("!drvobj inspect_known");
    EXPECT(o, "[0e] IRP_MJ_DEVICE_CONTROL            inspect_known!InspDeviceControl");
    EXPECT(o, " %s  \\Device\\InspKnown", A(k.dev));
    run_rc("!devobj 10", WDMSIM_EINPUT);
    run_rc("!devobj \\Device\\Nope", WDMSIM_EINPUT);
    run_rc("!drvobj nope", WDMSIM_EINPUT);
}

static void t_dma(void **state)
{
    (void)state;
    struct sys *sys = wdmsim_sys(sim);
    const struct hal_adapter *a = hal_adapter_by_id(&sys->hal, 1);
    assert_non_null(a);
    assert_int_equal((uintptr_t)a, k.adapter);
    const char *o = run("!dma");
    EXPECT(o, "Adapter %s id 1  bus master scatter/gather, 32-bit, live", A(k.adapter));
    EXPECT(o, "map registers: %u total, 2 allocated, 1 mapped  waiters: 0 register, 0 channel",
           a->regs.count);
    EXPECT(o, "common buffers 1, S/G lists 0");
    o = run("!dma %llx", (unsigned long long)k.adapter);
    EXPECT(o, "common buffer VA %s logical %s, 4096 bytes", A(k.common), A(k.commonlogical));
    EXPECT(o, "logical %s -> frame %llx bounce [0, +0x1000) device->memory", A(k.logical),
           (unsigned long long)(k.logical >> 12));
    EXPECT(o, "buffer frame %llx", (unsigned long long)(k.bigpa >> 12));
    EXPECT(o, "operation at register 0: VA %s, 4096 bytes, 1 registers", A(k.big));
    run_rc("!dma 99", WDMSIM_EINPUT);
    o = run("!dma8237");
    EXPECT(o, "DMA1: command");
    EXPECT(o, "(cascade)");
}

static void t_lookaside(void **state)
{
    (void)state;
    const char *o = run("!lookaside");
    EXPECT(o, "%s NonPg  Ilas    128     4   256          1          1          0", A(k.lookaside));
    o = run("!lookaside %llx", (unsigned long long)k.lookaside);
    EXPECT(o, "1 lookaside list");
}

static void t_bad_input(void **state)
{
    (void)state;
    const char *o = run_rc("!nope", WDMSIM_EINPUT);
    EXPECT(o, "unknown command '!nope'");
    o = run_rc("!vtop zz", WDMSIM_EINPUT);
    EXPECT(o, "'zz' is not a hex number");
    run_rc("!vtop 11112222333344445", WDMSIM_EINPUT);
    o = run("help");
    EXPECT(o, "!dma8237");
    run("   ");
}

/* ---- breakpoints ---------------------------------------------------------------- */

static void t_break_function(void **state)
{
    (void)state;
    struct wdmsim_config cfg = {.seed = 5, .out = dbg_out};
    struct wdmsim_error err;
    wdmsim *s;
    assert_int_equal(wdmsim_boot(&cfg, &s, &err), WDMSIM_OK);
    assert_int_equal(wdmsim_break_on(s, "inspect_known!InspDeviceControl", &err), WDMSIM_OK);
    assert_int_equal(wdmsim_load_driver(s, fixture_path("inspect_known"), &err), WDMSIM_STOPPED);
    const struct wdmsim_bugcheck *bc = wdmsim_get_bugcheck(s);
    assert_int_equal(bc->code, 0x1E);
    assert_int_equal(bc->parameters[0], 0x80000003);
    assert_true(wdmsim_break_matches(s, "inspect_known!InspDeviceControl"));
    assert_true(wdmsim_break_matches(s, "inspect_known.so!InspDeviceControl"));
    assert_true(wdmsim_break_matches(s, "BUGCHECK"));
    assert_false(wdmsim_break_matches(s, "inspect_known!DriverEntry"));
    char sym[256];
    insp_symbol(bc->parameters[1], sym, sizeof(sym));
    assert_string_equal(sym, "inspect_known!InspDeviceControl");
    /* Stopped inside the dispatch routine: one IRP is outstanding. */
    assert_int_equal(wdmsim_sys(s)->io.irps_live, 1);
    wdmsim_shutdown(s);
    assert_int_equal(wdmsim_boot(&cfg, &s, &err), WDMSIM_OK);
    assert_int_equal(wdmsim_break_on(s, "no.such.rule", &err), WDMSIM_EINPUT);
    assert_int_equal(wdmsim_break_on(s, "!x", &err), WDMSIM_EINPUT);
    assert_int_equal(wdmsim_break_on(s, "pool.double-free", &err), WDMSIM_OK);
    wdmsim_shutdown(s);
}

/* The command line: --break-on with --cmd prints at the stop. */
static void t_cli(void **state)
{
    (void)state;
    const char *bin = getenv("WDMSIM_BIN");
    assert_non_null(bin);
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "%s run --break-on inspect_known!InspDeviceControl --cmd '!irql' --cmd 'nope' "
             "%s 2>/dev/null",
             bin, fixture_path("inspect_known"));
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[8192];
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = 0;
    int st = pclose(p);
    EXPECT(out, "wdmsim inspect: the machine stopped");
    EXPECT(out, "kd> !irql");
    EXPECT(out, "Bug check raised on processor");
    EXPECT(out, "unknown command 'nope'");
    assert_int_equal(WEXITSTATUS(st), 1); /* the stop */
    /* --cmd alone runs at the end of a clean run; a bad command exits 2. */
    snprintf(cmd, sizeof(cmd), "%s run --cmd '!drvobj' --cmd '!bad' %s >/dev/null 2>&1", bin,
             fixture_path("pool_good"));
    st = system(cmd);
    assert_int_equal(WEXITSTATUS(st), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_analyze),
        cmocka_unit_test(t_irql),
        cmocka_unit_test(t_dpcs),
        cmocka_unit_test(t_process),
        cmocka_unit_test(t_pool),
        cmocka_unit_test(t_poolused),
        cmocka_unit_test(t_vtop),
        cmocka_unit_test(t_pte),
        cmocka_unit_test(t_pfn),
        cmocka_unit_test(t_dump),
        cmocka_unit_test(t_dt),
        cmocka_unit_test(t_irp),
        cmocka_unit_test(t_devices),
        cmocka_unit_test(t_dma),
        cmocka_unit_test(t_lookaside),
        cmocka_unit_test(t_bad_input),
        cmocka_unit_test(t_break_function),
        cmocka_unit_test(t_cli),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
