/*
 * tests/rtl/test_dbgprint.c - DbgPrint, DbgPrintEx, vDbgPrintEx, RtlAssert
 * (src/rtl/dbgprint.c) and RtlCompareMemory / the overlap check
 * (src/rtl/memory.c) inside a booted machine: output text, truncation
 * mark, statistics, the assertion stop, dbg.unicode-above-passive.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <wdm.h>
#include <wdmsim/wdmsim.h>

#include "rtl/crt_bridge.h"
#include "sys.h"

struct machine_run {
    wdmsim *sim;
    FILE *out;
    char text[4096];
};

static void boot(struct machine_run *m, const char *verifier)
{
    memset(m, 0, sizeof *m);
    m->out = fmemopen(m->text, sizeof m->text - 1, "w");
    struct wdmsim_config cfg = {.seed = 1, .out = m->out, .verifier = verifier};
    struct wdmsim_error err;
    assert_int_equal(wdmsim_boot(&cfg, &m->sim, &err), WDMSIM_OK);
}

static void finish(struct machine_run *m)
{
    wdmsim_shutdown(m->sim);
    fclose(m->out);
}

static __attribute__((ms_abi)) ULONG vprint(ULONG component, ULONG level, const char *f, ...)
{
    __builtin_ms_va_list ap;
    __builtin_ms_va_start(ap, f);
    ULONG r = vDbgPrintEx(component, level, f, ap);
    __builtin_ms_va_end(ap);
    return r;
}

struct print_case {
    ULONG status[4];
    uint64_t calls, bytes;
};

static void prints(void *arg)
{
    struct print_case *c = arg;
    UNICODE_STRING u = RTL_CONSTANT_STRING(u"uni");
    uint64_t calls0 = sys_get()->stats.dbgprint_calls;
    uint64_t bytes0 = sys_get()->stats.dbgprint_bytes;
    c->status[0] = DbgPrint("one %d %s\n", 1, "x");
    c->status[1] =
        DbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_ERROR_LEVEL, "two %wZ %p\n", &u, (void *)0x10);
    c->status[2] = vprint(DPFLTR_IHVDRIVER_ID, 0x80000001, "three %I64x\n", 0xabcull);
    c->status[3] = DbgPrint("no newline");
    c->calls = sys_get()->stats.dbgprint_calls - calls0;
    c->bytes = sys_get()->stats.dbgprint_bytes - bytes0;
}

static void test_output(void **state)
{
    struct machine_run m;
    boot(&m, NULL);
    struct print_case c;
    assert_int_equal(wdmsim_call(m.sim, prints, &c), WDMSIM_OK);
    fflush(m.out);
    const char *want = "one 1 x\ntwo uni 0000000000000010\nthree abc\nno newline";
    assert_string_equal(m.text, want);
    for (int i = 0; i < 4; i++)
        assert_int_equal(c.status[i], STATUS_SUCCESS);
    assert_int_equal(c.calls, 4);
    assert_int_equal(c.bytes, strlen(want));
    finish(&m);
}

static void long_print(void *arg)
{
    char big[1000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    DbgPrint("%s", big);
    /* Exactly 512 bytes: not cut. */
    big[512] = 0;
    DbgPrint("%s", big);
}

static void test_truncation(void **state)
{
    struct machine_run m;
    boot(&m, NULL);
    assert_int_equal(wdmsim_call(m.sim, long_print, NULL), WDMSIM_OK);
    fflush(m.out);
    assert_int_equal(strlen(m.text), 512 + 512);
    assert_memory_equal(m.text + 500, "[truncated]\n", 12);
    assert_int_equal(m.text[499], 'a');
    assert_int_equal(m.text[512], 'a');
    assert_int_equal(m.text[1023], 'a');
    finish(&m);
}

static void asserts(void *arg)
{
    RtlAssert((PVOID) "x == 1", (PVOID) "drv.c", 42, "custom");
}

static void test_assert_stops(void **state)
{
    struct machine_run m;
    boot(&m, NULL);
    assert_int_equal(wdmsim_call(m.sim, asserts, NULL), WDMSIM_STOPPED);
    const struct wdmsim_bugcheck *bc = wdmsim_get_bugcheck(m.sim);
    assert_non_null(bc);
    assert_int_equal(bc->code, 0x1E);
    assert_int_equal(bc->parameters[0], 0xC0000420);
    assert_non_null(strstr(bc->text, "ASSERT(x == 1) failed at drv.c:42: custom"));
    finish(&m);
}

static void unicode_at_dispatch(void *arg)
{
    UNICODE_STRING u = RTL_CONSTANT_STRING(u"u");
    struct ke_processor *p = ke_current_processor(&sys_get()->ke);
    uint8_t old = p->irql;
    p->irql = DISPATCH_LEVEL;
    DbgPrint("narrow is fine %s\n", "here");
    DbgPrint("unicode is not %wZ\n", &u);
    p->irql = old;
    DbgPrint("at passive %ws\n", u"ok");
}

static void test_unicode_above_passive(void **state)
{
    struct machine_run m;
    boot(&m, NULL);
    assert_int_equal(wdmsim_call(m.sim, unicode_at_dispatch, NULL), WDMSIM_OK);
    assert_int_equal(wdmsim_violations(m.sim), 1);
    fflush(m.out);
    assert_non_null(strstr(m.text, "unicode is not u\n")); /* still printed */
    finish(&m);
    /* Off with the verifier. */
    boot(&m, "none");
    assert_int_equal(wdmsim_call(m.sim, unicode_at_dispatch, NULL), WDMSIM_OK);
    assert_int_equal(wdmsim_violations(m.sim), 0);
    finish(&m);
}

static void overlapping_copy(void *arg)
{
    static char buf[32];
    rtl_crt_check_copy(buf, buf, 8);     /* identical: allowed */
    rtl_crt_check_copy(buf, buf + 8, 8); /* adjacent: fine */
    rtl_crt_check_copy(buf + 8, buf, 8);
    rtl_crt_check_copy(buf + 1, buf, 0); /* empty */
    rtl_crt_check_copy(buf + 7, buf, 8); /* overlaps by one byte */
}

static void test_overlap_check(void **state)
{
    struct machine_run m;
    boot(&m, NULL);
    assert_int_equal(wdmsim_call(m.sim, overlapping_copy, NULL), WDMSIM_STOPPED);
    const struct wdmsim_bugcheck *bc = wdmsim_get_bugcheck(m.sim);
    assert_int_equal(bc->code, 0xC4);
    assert_int_equal(bc->parameters[0], 0xF0);
    assert_int_equal(bc->parameters[1] - bc->parameters[2], 7); /* dest, src */
    assert_int_equal(bc->parameters[3], 8);
    assert_string_equal(bc->rule, "rtl.overlap");
    finish(&m);
    /* Verifier off: no stop. */
    boot(&m, "none");
    assert_int_equal(wdmsim_call(m.sim, overlapping_copy, NULL), WDMSIM_OK);
    finish(&m);
}

static void test_compare_memory(void **state)
{
    char a[40], b[40];
    for (int i = 0; i < 40; i++)
        a[i] = b[i] = (char)i;
    assert_int_equal(RtlCompareMemory(a, b, 40), 40);
    assert_int_equal(RtlCompareMemory(a, b, 0), 0);
    for (int k = 0; k < 40; k++) {
        b[k] ^= 1;
        assert_int_equal(RtlCompareMemory(a, b, 40), k);
        assert_int_equal(RtlCompareMemory(a + 1, b + 1, 39), k ? k - 1 : 39);
        b[k] ^= 1;
    }
    assert_true(RtlEqualMemory(a, b, 40));
    RtlFillMemory(a, 10, 0x7F);
    assert_int_equal(a[9], 0x7F);
    assert_int_equal(a[10], 10);
    RtlZeroMemory(a, 5);
    assert_int_equal(a[4], 0);
    RtlMoveMemory(a + 1, a, 20);
    assert_int_equal(a[5], 0);
    assert_int_equal(a[6], 0x7F);
    RtlCopyMemory(b, a, 40);
    assert_memory_equal(a, b, 40);
    assert_ptr_equal(RtlSecureZeroMemory(a, 40), a);
    assert_int_equal(RtlCompareMemory(a, (char[40]){0}, 40), 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_output),        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_assert_stops),  cmocka_unit_test(test_unicode_above_passive),
        cmocka_unit_test(test_overlap_check), cmocka_unit_test(test_compare_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
