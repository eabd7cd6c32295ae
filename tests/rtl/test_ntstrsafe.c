/*
 * tests/rtl/test_ntstrsafe.c - include/ddk/ntstrsafe.h from host code:
 * every function, the status rules of spec/ke_rtl_registry.md 5
 * (SUCCESS terminated, BUFFER_OVERFLOW truncated and terminated,
 * INVALID_PARAMETER), and UNICODE_STRING forms adding no terminator.
 * tests/fixtures/rtl_strings runs the same header in a driver build.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <wdm.h>
#include <ntstrsafe.h>

static size_t wlen(const WCHAR *w)
{
    size_t n = 0;
    while (w[n])
        n++;
    return n;
}

static void assert_wstr(const WCHAR *got, const WCHAR *want)
{
    assert_int_equal(wlen(got), wlen(want));
    assert_memory_equal(got, want, wlen(want) * 2);
}

static void test_copy(void **state)
{
    char b[6];
    assert_int_equal(RtlStringCchCopyA(b, sizeof b, "abc"), STATUS_SUCCESS);
    assert_string_equal(b, "abc");
    assert_int_equal(RtlStringCchCopyA(b, sizeof b, "abcde"), STATUS_SUCCESS);
    assert_string_equal(b, "abcde");
    assert_int_equal(RtlStringCchCopyA(b, sizeof b, "abcdef"), STATUS_BUFFER_OVERFLOW);
    assert_string_equal(b, "abcde");
    assert_int_equal(RtlStringCbCopyA(b, 3, "xyz"), STATUS_BUFFER_OVERFLOW);
    assert_string_equal(b, "xy");
    assert_int_equal(RtlStringCchCopyA(b, sizeof b, ""), STATUS_SUCCESS);
    assert_string_equal(b, "");
    /* Invalid: zero size, over the limit, NULL. */
    memset(b, '#', sizeof b);
    assert_int_equal(RtlStringCchCopyA(b, 0, "a"), STATUS_INVALID_PARAMETER);
    assert_int_equal(b[0], '#');
    assert_int_equal(RtlStringCchCopyA(b, (size_t)NTSTRSAFE_MAX_CCH + 1, "a"),
                     STATUS_INVALID_PARAMETER);
    assert_int_equal(RtlStringCchCopyA(NULL, 5, "a"), STATUS_INVALID_PARAMETER);
    assert_int_equal(RtlStringCchCopyA(b, sizeof b, NULL), STATUS_INVALID_PARAMETER);
    assert_int_equal(b[0], 0);

    WCHAR w[4];
    assert_int_equal(RtlStringCchCopyW(w, 4, u"abc"), STATUS_SUCCESS);
    assert_wstr(w, u"abc");
    assert_int_equal(RtlStringCchCopyW(w, 4, u"abcd"), STATUS_BUFFER_OVERFLOW);
    assert_wstr(w, u"abc");
    assert_int_equal(RtlStringCbCopyW(w, 5, u"abcd"), STATUS_BUFFER_OVERFLOW); /* 2 chars */
    assert_wstr(w, u"a");
    assert_int_equal(RtlStringCbCopyW(w, 1, u"a"), STATUS_INVALID_PARAMETER); /* 0 chars */
}

static void test_copy_n(void **state)
{
    char b[8];
    assert_int_equal(RtlStringCchCopyNA(b, sizeof b, "abcdef", 3), STATUS_SUCCESS);
    assert_string_equal(b, "abc");
    assert_int_equal(RtlStringCchCopyNA(b, 4, "abcdef", 5), STATUS_BUFFER_OVERFLOW);
    assert_string_equal(b, "abc");
    assert_int_equal(RtlStringCchCopyNA(b, sizeof b, "ab", 5), STATUS_SUCCESS);
    assert_string_equal(b, "ab");
    /* The source needs no terminator within the count. */
    char raw[3] = {'x', 'y', 'z'};
    assert_int_equal(RtlStringCbCopyNA(b, sizeof b, raw, 3), STATUS_SUCCESS);
    assert_string_equal(b, "xyz");
    assert_int_equal(RtlStringCchCopyNA(b, sizeof b, "a", (size_t)NTSTRSAFE_MAX_CCH + 1),
                     STATUS_INVALID_PARAMETER);
    WCHAR w[8];
    assert_int_equal(RtlStringCchCopyNW(w, 8, u"abcdef", 2), STATUS_SUCCESS);
    assert_wstr(w, u"ab");
    assert_int_equal(RtlStringCbCopyNW(w, 16, u"abcdef", 6), STATUS_SUCCESS);
    assert_wstr(w, u"abc");
}

static void test_cat(void **state)
{
    char b[8] = "ab";
    assert_int_equal(RtlStringCchCatA(b, sizeof b, "cd"), STATUS_SUCCESS);
    assert_string_equal(b, "abcd");
    assert_int_equal(RtlStringCchCatA(b, sizeof b, "efghij"), STATUS_BUFFER_OVERFLOW);
    assert_string_equal(b, "abcdefg");
    /* Destination full: appending nothing succeeds, anything overflows. */
    assert_int_equal(RtlStringCchCatA(b, sizeof b, ""), STATUS_SUCCESS);
    assert_int_equal(RtlStringCchCatA(b, sizeof b, "x"), STATUS_BUFFER_OVERFLOW);
    assert_string_equal(b, "abcdefg");
    /* Destination not terminated within its size. */
    memset(b, 'z', sizeof b);
    assert_int_equal(RtlStringCchCatA(b, sizeof b, "x"), STATUS_INVALID_PARAMETER);
    strcpy(b, "1");
    assert_int_equal(RtlStringCbCatA(b, 4, "234"), STATUS_BUFFER_OVERFLOW);
    assert_string_equal(b, "123");
    strcpy(b, "1");
    assert_int_equal(RtlStringCchCatNA(b, sizeof b, "2345", 2), STATUS_SUCCESS);
    assert_string_equal(b, "123");
    assert_int_equal(RtlStringCbCatNA(b, sizeof b, "4567", 1), STATUS_SUCCESS);
    assert_string_equal(b, "1234");
    assert_int_equal(RtlStringCchCatA(b, sizeof b, NULL), STATUS_INVALID_PARAMETER);

    WCHAR w[6] = u"ab";
    assert_int_equal(RtlStringCchCatW(w, 6, u"cd"), STATUS_SUCCESS);
    assert_wstr(w, u"abcd");
    assert_int_equal(RtlStringCbCatW(w, 12, u"ef"), STATUS_BUFFER_OVERFLOW);
    assert_wstr(w, u"abcde");
    w[1] = 0;
    assert_int_equal(RtlStringCchCatNW(w, 6, u"xyz", 1), STATUS_SUCCESS);
    assert_wstr(w, u"ax");
    assert_int_equal(RtlStringCbCatNW(w, 12, u"xyz", 4), STATUS_SUCCESS);
    assert_wstr(w, u"axxy");
}

static NTSTATUS NTAPI vprint_a(char *d, size_t cb, const char *f, ...)
{
    __builtin_ms_va_list ap;
    __builtin_ms_va_start(ap, f);
    NTSTATUS s = RtlStringCbVPrintfA(d, cb, f, ap);
    __builtin_ms_va_end(ap);
    return s;
}

static NTSTATUS NTAPI vprint_w(WCHAR *d, size_t cch, const WCHAR *f, ...)
{
    __builtin_ms_va_list ap;
    __builtin_ms_va_start(ap, f);
    NTSTATUS s = RtlStringCchVPrintfW(d, cch, f, ap);
    __builtin_ms_va_end(ap);
    return s;
}

static void test_printf(void **state)
{
    char b[8];
    assert_int_equal(RtlStringCchPrintfA(b, sizeof b, "%d-%s", 42, "x"), STATUS_SUCCESS);
    assert_string_equal(b, "42-x");
    assert_int_equal(RtlStringCbPrintfA(b, sizeof b, "%08x", 0xab), STATUS_BUFFER_OVERFLOW);
    assert_string_equal(b, "000000a");
    /* Exactly the size: no room for the terminator, so truncated. */
    assert_int_equal(RtlStringCchPrintfA(b, 4, "abcd"), STATUS_BUFFER_OVERFLOW);
    assert_string_equal(b, "abc");
    assert_int_equal(RtlStringCchPrintfA(b, 5, "abcd"), STATUS_SUCCESS);
    assert_int_equal(RtlStringCchPrintfA(b, 0, "x"), STATUS_INVALID_PARAMETER);
    assert_int_equal(RtlStringCchPrintfA(b, sizeof b, NULL), STATUS_INVALID_PARAMETER);
    assert_int_equal(vprint_a(b, sizeof b, "%c%c", 'o', 'k'), STATUS_SUCCESS);
    assert_string_equal(b, "ok");
    UNICODE_STRING u = RTL_CONSTANT_STRING(u"name");
    assert_int_equal(vprint_a(b, sizeof b, "[%wZ]", &u), STATUS_SUCCESS);
    assert_string_equal(b, "[name]");

    WCHAR w[8];
    assert_int_equal(RtlStringCchPrintfW(w, 8, u"%s=%d", u"k", 7), STATUS_SUCCESS);
    assert_wstr(w, u"k=7");
    assert_int_equal(RtlStringCbPrintfW(w, 8, u"%S", "narrow"), STATUS_BUFFER_OVERFLOW);
    assert_wstr(w, u"nar");
    assert_int_equal(vprint_w(w, 8, u"%x", 255), STATUS_SUCCESS);
    assert_wstr(w, u"ff");
}

static void test_length(void **state)
{
    size_t n = 99;
    assert_int_equal(RtlStringCchLengthA("abc", 10, &n), STATUS_SUCCESS);
    assert_int_equal(n, 3);
    assert_int_equal(RtlStringCchLengthA("abc", 4, &n), STATUS_SUCCESS);
    assert_int_equal(RtlStringCchLengthA("abc", 3, &n), STATUS_INVALID_PARAMETER);
    assert_int_equal(n, 0);
    assert_int_equal(RtlStringCchLengthA(NULL, 3, &n), STATUS_INVALID_PARAMETER);
    assert_int_equal(RtlStringCchLengthA("a", 0, &n), STATUS_INVALID_PARAMETER);
    assert_int_equal(RtlStringCchLengthA("a", 5, NULL), STATUS_SUCCESS);
    assert_int_equal(RtlStringCbLengthA("abcd", 5, &n), STATUS_SUCCESS);
    assert_int_equal(n, 4);
    assert_int_equal(RtlStringCchLengthW(u"abcd", 5, &n), STATUS_SUCCESS);
    assert_int_equal(n, 4);
    assert_int_equal(RtlStringCbLengthW(u"abcd", 10, &n), STATUS_SUCCESS);
    assert_int_equal(n, 8); /* bytes */
    assert_int_equal(RtlStringCbLengthW(u"abcd", 8, &n), STATUS_INVALID_PARAMETER);
}

static void fill(WCHAR *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        w[i] = u'#';
}

static void test_unicode_init_validate(void **state)
{
    UNICODE_STRING u;
    assert_int_equal(RtlUnicodeStringInit(&u, u"abc"), STATUS_SUCCESS);
    assert_int_equal(u.Length, 6);
    assert_int_equal(u.MaximumLength, 8);
    assert_int_equal(RtlUnicodeStringInit(&u, NULL), STATUS_SUCCESS);
    assert_int_equal(u.Length, 0);
    assert_null(u.Buffer);
    assert_int_equal(RtlUnicodeStringInit(NULL, u"a"), STATUS_INVALID_PARAMETER);
    static WCHAR big[32800];
    for (unsigned i = 0; i < 32767; i++)
        big[i] = u'x';
    assert_int_equal(RtlUnicodeStringInit(&u, big), STATUS_INVALID_PARAMETER);
    assert_int_equal(u.Length, 0);
    big[32766] = 0;
    assert_int_equal(RtlUnicodeStringInit(&u, big), STATUS_SUCCESS);
    assert_int_equal(u.Length, 65532);

    WCHAR b[4];
    UNICODE_STRING ok = {2, 8, b}, odd = {3, 8, b}, oddmax = {2, 7, b}, over = {10, 8, b},
                   nobuf = {0, 8, NULL}, empty = {0, 0, NULL}, huge = {0, 65535, b};
    assert_int_equal(RtlUnicodeStringValidate(&ok), STATUS_SUCCESS);
    assert_int_equal(RtlUnicodeStringValidate(&empty), STATUS_SUCCESS);
    assert_int_equal(RtlUnicodeStringValidate(&odd), STATUS_INVALID_PARAMETER);
    assert_int_equal(RtlUnicodeStringValidate(&oddmax), STATUS_INVALID_PARAMETER);
    assert_int_equal(RtlUnicodeStringValidate(&over), STATUS_INVALID_PARAMETER);
    assert_int_equal(RtlUnicodeStringValidate(&nobuf), STATUS_INVALID_PARAMETER);
    assert_int_equal(RtlUnicodeStringValidate(&huge), STATUS_INVALID_PARAMETER);
    assert_int_equal(RtlUnicodeStringValidate(NULL), STATUS_INVALID_PARAMETER);
}

static void test_unicode_copy_cat(void **state)
{
    WCHAR b[8];
    UNICODE_STRING d, s;
    fill(b, 8);
    RtlInitEmptyUnicodeString(&d, b, 8); /* 4 characters */
    RtlInitUnicodeString(&s, u"abc");
    assert_int_equal(RtlUnicodeStringCopy(&d, &s), STATUS_SUCCESS);
    assert_int_equal(d.Length, 6);
    assert_int_equal(b[3], u'#'); /* no terminator */
    assert_int_equal(RtlUnicodeStringCat(&d, &s), STATUS_BUFFER_OVERFLOW);
    assert_int_equal(d.Length, 8);
    assert_memory_equal(b, u"abca", 8);
    assert_int_equal(b[4], u'#');
    assert_int_equal(RtlUnicodeStringCopyString(&d, u"xy"), STATUS_SUCCESS);
    assert_int_equal(d.Length, 4);
    assert_int_equal(RtlUnicodeStringCatString(&d, u"zw"), STATUS_SUCCESS);
    assert_int_equal(d.Length, 8);
    assert_memory_equal(b, u"xyzw", 8);
    /* Exactly full is fine (no terminator needed); one more overflows. */
    assert_int_equal(RtlUnicodeStringCatString(&d, u""), STATUS_SUCCESS);
    assert_int_equal(RtlUnicodeStringCatString(&d, u"!"), STATUS_BUFFER_OVERFLOW);
    assert_int_equal(RtlUnicodeStringCopyString(&d, u"12345"), STATUS_BUFFER_OVERFLOW);
    assert_int_equal(d.Length, 8);
    assert_memory_equal(b, u"1234", 8);
    /* Invalid strings and pointers. */
    UNICODE_STRING bad = {3, 8, b};
    assert_int_equal(RtlUnicodeStringCopy(&bad, &s), STATUS_INVALID_PARAMETER);
    assert_int_equal(RtlUnicodeStringCopy(&d, &bad), STATUS_INVALID_PARAMETER);
    assert_int_equal(RtlUnicodeStringCopyString(&d, NULL), STATUS_INVALID_PARAMETER);
    assert_int_equal(RtlUnicodeStringCatString(&bad, u"x"), STATUS_INVALID_PARAMETER);
    assert_int_equal(RtlUnicodeStringCat(&d, NULL), STATUS_INVALID_PARAMETER);
    /* Copying from an empty string. */
    UNICODE_STRING e = {0, 0, NULL};
    assert_int_equal(RtlUnicodeStringCopy(&d, &e), STATUS_SUCCESS);
    assert_int_equal(d.Length, 0);
}

static NTSTATUS NTAPI us_vprint(PUNICODE_STRING d, const WCHAR *f, ...)
{
    __builtin_ms_va_list ap;
    __builtin_ms_va_start(ap, f);
    NTSTATUS s = RtlUnicodeStringVPrintf(d, f, ap);
    __builtin_ms_va_end(ap);
    return s;
}

static void test_unicode_printf(void **state)
{
    WCHAR b[8];
    UNICODE_STRING d;
    fill(b, 8);
    RtlInitEmptyUnicodeString(&d, b, 8);
    assert_int_equal(RtlUnicodeStringPrintf(&d, u"%d", 12), STATUS_SUCCESS);
    assert_int_equal(d.Length, 4);
    assert_int_equal(b[2], u'#'); /* no terminator */
    assert_int_equal(RtlUnicodeStringPrintf(&d, u"%s", u"abcd"), STATUS_SUCCESS);
    assert_int_equal(d.Length, 8);
    assert_int_equal(b[4], u'#');
    assert_int_equal(RtlUnicodeStringPrintf(&d, u"%s", u"abcdef"), STATUS_BUFFER_OVERFLOW);
    assert_int_equal(d.Length, 8);
    assert_memory_equal(b, u"abcd", 8);
    assert_int_equal(b[4], u'#');
    assert_int_equal(us_vprint(&d, u"%hs", "xy"), STATUS_SUCCESS);
    assert_int_equal(d.Length, 4);
    assert_int_equal(RtlUnicodeStringPrintf(&d, NULL), STATUS_INVALID_PARAMETER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy),
        cmocka_unit_test(test_copy_n),
        cmocka_unit_test(test_cat),
        cmocka_unit_test(test_printf),
        cmocka_unit_test(test_length),
        cmocka_unit_test(test_unicode_init_validate),
        cmocka_unit_test(test_unicode_copy_cat),
        cmocka_unit_test(test_unicode_printf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
