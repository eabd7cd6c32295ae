/*
 * tests/rtl/test_format.c - the printf engine and the CRT bridge
 * (src/rtl/format.c, src/rtl/crt_bridge.c): every conversion of the table
 * in docs/rtl.md, flags, width and precision, truncation rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <wdm.h>

#include "rtl/crt_bridge.h"
#include "rtl/rtl.h"

/* The bridge takes an ms_abi va_list: these helpers make one, as a driver's
 * sprintf wrapper would. */
static __attribute__((ms_abi)) int fmt(char *buf, size_t count, const char *f, ...)
{
    __builtin_ms_va_list ap;
    __builtin_ms_va_start(ap, f);
    int r = rtl_crt_vsnprintf(buf, count, f, ap);
    __builtin_ms_va_end(ap);
    return r;
}

static __attribute__((ms_abi)) int wfmt(WCHAR *buf, size_t count, const WCHAR *f, ...)
{
    __builtin_ms_va_list ap;
    __builtin_ms_va_start(ap, f);
    int r = rtl_crt_vsnwprintf(buf, count, f, ap);
    __builtin_ms_va_end(ap);
    return r;
}

static __attribute__((ms_abi)) int sfmt(char *buf, const char *f, ...)
{
    __builtin_ms_va_list ap;
    __builtin_ms_va_start(ap, f);
    int r = rtl_crt_vsprintf(buf, f, ap);
    __builtin_ms_va_end(ap);
    return r;
}

static __attribute__((ms_abi)) int swfmt(WCHAR *buf, const WCHAR *f, ...)
{
    __builtin_ms_va_list ap;
    __builtin_ms_va_start(ap, f);
    int r = rtl_crt_vswprintf(buf, f, ap);
    __builtin_ms_va_end(ap);
    return r;
}

static size_t wlen(const WCHAR *w)
{
    size_t n = 0;
    while (w[n])
        n++;
    return n;
}

static void assert_wide(const WCHAR *got, const WCHAR *want)
{
    size_t n = wlen(want);
    assert_int_equal(wlen(got), n);
    assert_memory_equal(got, want, n * sizeof(WCHAR));
}

#define CHECK(want, ...)                          \
    do {                                          \
        char b_[256];                             \
        memset(b_, 'Z', sizeof b_);               \
        int r_ = fmt(b_, sizeof b_, __VA_ARGS__); \
        assert_string_equal(b_, want);            \
        assert_int_equal(r_, (int)strlen(want));  \
    } while (0)

static void test_integers(void **state)
{
    CHECK("42 -42 42", "%d %i %u", 42, -42, 42u);
    CHECK("4294967295", "%u", -1);
    CHECK("-2147483648", "%d", INT32_MIN);
    CHECK("2a 2A 52", "%x %X %o", 42, 42, 42);
    CHECK("ffffffff", "%x", -1);
    /* LLP64: l is 32-bit; the upper half of the slot is ignored. */
    CHECK("ffffffff -1", "%lx %ld", 0x12345678ffffffffull, 0x12345678ffffffffull);
    CHECK("12345678ffffffff", "%llx", 0x12345678ffffffffull);
    CHECK("-9223372036854775808", "%lld", INT64_MIN);
    CHECK("18446744073709551615", "%llu", UINT64_MAX);
    CHECK("-1 18446744073709551615 FFFFFFFFFFFFFFFF", "%I64d %I64u %I64X", -1ll, -1ll, -1ll);
    CHECK("ffffffff", "%I32x", 0x1ffffffffull);
    CHECK("-1 18446744073709551615 ffffffffffffffff", "%Id %Iu %Ix", -1ll, -1ll, -1ll);
    CHECK("123 7b", "%zu %zx", (size_t)123, (size_t)123);
    CHECK("-1 65535", "%hd %hu", 0xffff, 0xffff);
    CHECK("-1 255", "%hhd %hhu", 0xff, 0xff);
    CHECK("0", "%d", 0);
    CHECK("1777777777777777777777", "%llo", UINT64_MAX);
}

static void test_flags(void **state)
{
    CHECK("[   42]", "[%5d]", 42);
    CHECK("[42   ]", "[%-5d]", 42);
    CHECK("[00042]", "[%05d]", 42);
    CHECK("[-0042]", "[%05d]", -42);
    CHECK("[+42] [ 42] [-42]", "[%+d] [% d] [% d]", 42, 42, -42);
    CHECK("[+42]", "[%+ d]", 42);
    CHECK("0x2a 0X2A 052 0", "%#x %#X %#o %#x", 42, 42, 42, 0);
    CHECK("[0x002a]", "[%#06x]", 42);
    CHECK("[  042]", "[%5.3d]", 42);
    CHECK("[  042]", "[%05.3d]", 42); /* precision cancels '0' */
    CHECK("[]", "[%.0d]", 0);
    CHECK("[0]", "[%#.0o]", 0);
    CHECK("[0]", "[%#o]", 0);
    CHECK("[   42]", "[%*d]", 5, 42);
    CHECK("[42   ]", "[%*d]", -5, 42);
    CHECK("[00042]", "[%.*d]", 5, 42);
    CHECK("[42]", "[%.*d]", -1, 42);
    CHECK("[+0042]", "[%+.4d]", 42);
}

static void test_pointer(void **state)
{
    CHECK("FFFFF80012345678", "%p", (void *)0xFFFFF80012345678ull);
    CHECK("0000000000001000", "%p", (void *)0x1000);
    CHECK("0000000000000000", "%p", NULL);
    CHECK("[  0000000000001000]", "[%18p]", (void *)0x1000);
    CHECK("[0000000000001000  ]", "[%-18p]", (void *)0x1000);
}

static void test_narrow_strings(void **state)
{
    CHECK("hello world", "%s %s", "hello", "world");
    CHECK("[  abc] [abc  ] [ab]", "[%5s] [%-5s] [%.2s]", "abc", "abc", "abcdef");
    CHECK("[   ab]", "[%5.2s]", "abcdef");
    CHECK("[00abc]", "[%05s]", "abc");
    CHECK("(null)", "%s", (char *)NULL);
    CHECK("(nu", "%.3s", (char *)NULL);
    CHECK("x", "%hs", "x");
    CHECK("A B", "%c %hc", 'A', 'B');
    CHECK("[    A] [A    ]", "[%5c] [%-5c]", 'A', 'A');
    /* Precision stops reading: an unterminated array is fine. */
    char raw[3] = {'x', 'y', 'z'};
    CHECK("xy", "%.2s", raw);
}

static void test_wide_in_narrow(void **state)
{
    CHECK("wide wide wide", "%ws %ls %S", u"wide", u"wide", u"wide");
    CHECK("W W W", "%wc %lc %C", u'W', u'W', u'W');
    CHECK("(null)", "%ws", (WCHAR *)NULL);
    /* Non-ASCII to code page 1252; no mapping becomes '?'. */
    CHECK("caf\xe9 \x80 ?", "%ws %wc %wc", u"caf\u00e9", 0x20AC, 0x0416);
    CHECK("[  ab]", "[%4.2ws]", u"abcd");
}

static void test_counted(void **state)
{
    UNICODE_STRING u = {8, 20, (PWSTR)u"abcdXXXX"};
    STRING a = {3, 10, "xyzQQ"};
    CHECK("abcd xyz", "%wZ %Z", &u, &a);
    CHECK("[  abcd] [ab]", "[%6wZ] [%.2wZ]", &u, &u);
    CHECK("(null) (null)", "%wZ %Z", (void *)NULL, (void *)NULL);
    UNICODE_STRING nobuf = {0, 0, NULL};
    STRING anobuf = {0, 0, NULL};
    CHECK("(null) (null)", "%wZ %Z", &nobuf, &anobuf);
    UNICODE_STRING odd = {5, 8, (PWSTR)u"abcd"}; /* odd byte length: whole chars only */
    CHECK("ab", "%wZ", &odd);
    UNICODE_STRING empty = {0, 2, (PWSTR)u""};
    CHECK("[]", "[%wZ]", &empty);
    CHECK("xyz", "%hZ", &a);
}

static void test_percent_and_refused(void **state)
{
    CHECK("100%", "100%%");
    int target = 7;
    CHECK("a%nb 5", "a%nb %d", &target, 5);
    assert_int_equal(target, 7);
    CHECK("%f %.2e 3", "%f %.2e %d", 1.5, 2.5, 3);
    CHECK("%y", "%y");
    CHECK("tail %", "tail %");
    CHECK("tail %-5", "tail %-5");
    CHECK("%I3d", "%I3d");
}

static void test_snprintf_rules(void **state)
{
    char b[8];
    memset(b, 'Z', sizeof b);
    assert_int_equal(fmt(b, 8, "%s", "1234567"), 7);
    assert_string_equal(b, "1234567");
    /* Exactly full: all characters, no NUL. */
    memset(b, 'Z', sizeof b);
    assert_int_equal(fmt(b, 8, "%s", "12345678"), 8);
    assert_memory_equal(b, "12345678", 8);
    /* Truncated: count characters, no NUL, -1. */
    memset(b, 'Z', sizeof b);
    assert_int_equal(fmt(b, 4, "%s", "12345678"), -1);
    assert_memory_equal(b, "1234ZZZZ", 8);
    /* Length query. */
    assert_int_equal(fmt(NULL, 0, "%d-%s", 12345, "ab"), 8);
    assert_int_equal(fmt(NULL, 5, "x"), -1);
    /* Zero count with a buffer: nothing stored. */
    memset(b, 'Z', sizeof b);
    assert_int_equal(fmt(b, 0, "x"), -1);
    assert_int_equal(b[0], 'Z');
    assert_int_equal(fmt(b, 1, ""), 0);
    assert_int_equal(b[0], 0);
    /* NULL format. */
    assert_int_equal(fmt(b, 8, NULL), 6);
    assert_string_equal(b, "(null)");
}

static void test_sprintf(void **state)
{
    char b[64];
    assert_int_equal(sfmt(b, "%s=%08x", "v", 0xbeef), 10);
    assert_string_equal(b, "v=0000beef");
    WCHAR w[64];
    assert_int_equal(swfmt(w, u"%s|%S|%c|%C", u"wide", "narrow", u'w', 'n'), 15);
    assert_wide(w, u"wide|narrow|w|n");
    assert_int_equal(sfmt(NULL, "x"), -1);
}

static void test_wide_format(void **state)
{
    WCHAR w[64];
    /* Microsoft's rule: in a wide format %s is wide, %S narrow; h and l
     * override. */
    assert_int_equal(wfmt(w, 64, u"%s %S %hs %ls %ws", u"a", "b", "c", u"d", u"e"), 9);
    assert_wide(w, u"a b c d e");
    assert_int_equal(wfmt(w, 64, u"%c%C%hc%lc%wc", u'1', '2', '3', u'4', u'5'), 5);
    assert_wide(w, u"12345");
    STRING a = {3, 3, "abc"};
    UNICODE_STRING u = {4, 4, (PWSTR)u"de"};
    assert_int_equal(wfmt(w, 64, u"%hZ %wZ %Z", &a, &u, &u), 9);
    assert_wide(w, u"abc de de");
    /* Non-ASCII passes through a wide sink untouched; 1252 bytes convert. */
    assert_int_equal(wfmt(w, 64, u"\u0416%s%S", u"\u4e2d", "\x80\xe9"), 4);
    assert_wide(w, u"\u0416\u4e2d\u20ac\u00e9");
    assert_int_equal(wfmt(w, 64, u"%d %I64x %p", -5, 0xabcdef012345ull, (void *)0x10), 32);
    assert_wide(w, u"-5 abcdef012345 0000000000000010");
    /* Truncation: no NUL, -1. */
    for (int k = 0; k < 8; k++)
        w[k] = u'Z';
    assert_int_equal(wfmt(w, 3, u"%s", u"abcdef"), -1);
    assert_memory_equal(w, u"abcZ", 4 * sizeof(WCHAR));
    assert_int_equal(wfmt(NULL, 0, u"%d", 1234), 4);
}

static __attribute__((ms_abi)) size_t engine(struct rtl_sink *s, const char *f, ...)
{
    __builtin_ms_va_list ap;
    __builtin_ms_va_start(ap, f);
    size_t n = rtl_format(s, f, &ap);
    __builtin_ms_va_end(ap);
    return n;
}

static void test_sink(void **state)
{
    char b[4] = {'Z', 'Z', 'Z', 'Z'};
    struct rtl_sink s;
    rtl_sink_init(&s, rtl_sink_narrow, b, 2);
    assert_int_equal(engine(&s, "%s", "hello"), 5);
    assert_int_equal(s.len, 5);
    assert_memory_equal(b, "heZZ", 4);
    /* Appending continues the count. */
    assert_int_equal(engine(&s, "%d", 12), 2);
    assert_int_equal(s.len, 7);
    /* A wide sink from a narrow format. */
    WCHAR w[8];
    rtl_sink_init(&s, rtl_sink_wide, w, 8);
    assert_int_equal(engine(&s, "a%wsb\x80", u"\u0416"), 4);
    assert_memory_equal(w, u"a\u0416b\u20ac", 4 * sizeof(WCHAR));
    /* Capacity without a buffer counts only. */
    rtl_sink_init(&s, rtl_sink_narrow, NULL, 100);
    assert_int_equal(engine(&s, "%5d", 1), 5);
}

static void test_huge_width(void **state)
{
    char b[16];
    /* A hostile width is capped, counted, and never overflows. */
    assert_int_equal(fmt(b, sizeof b, "%999999999999d", 1), -1);
    assert_int_equal(fmt(NULL, 0, "%*d", INT32_MIN, 1), (1 << 24));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_pointer),
        cmocka_unit_test(test_narrow_strings),
        cmocka_unit_test(test_wide_in_narrow),
        cmocka_unit_test(test_counted),
        cmocka_unit_test(test_percent_and_refused),
        cmocka_unit_test(test_snprintf_rules),
        cmocka_unit_test(test_sprintf),
        cmocka_unit_test(test_wide_format),
        cmocka_unit_test(test_sink),
        cmocka_unit_test(test_huge_width),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
