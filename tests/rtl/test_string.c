/*
 * tests/rtl/test_string.c - counted strings (src/rtl/string.c, case.c,
 * integer.c, convert.c, nls.c): every routine, empty strings, odd byte
 * lengths, MaximumLength limits, non-ASCII case mapping, and every example
 * of spec/ke_rtl_registry.md 5.
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

#include "rtl/rtl.h"

#define W(s) ((PWSTR)(s))

static void init_buf(UNICODE_STRING *u, WCHAR *buf, USHORT max_bytes)
{
    for (unsigned i = 0; i < (max_bytes + 1u) / 2; i++)
        buf[i] = u'#';
    RtlInitEmptyUnicodeString(u, buf, max_bytes);
}

static void assert_ustr(const UNICODE_STRING *u, const WCHAR *want)
{
    size_t n = 0;
    while (want[n])
        n++;
    assert_int_equal(u->Length, n * 2);
    assert_memory_equal(u->Buffer, want, n * 2);
}

static void test_init(void **state)
{
    UNICODE_STRING u;
    RtlInitUnicodeString(&u, u"abc");
    assert_int_equal(u.Length, 6);
    assert_int_equal(u.MaximumLength, 8);
    RtlInitUnicodeString(&u, NULL);
    assert_int_equal(u.Length, 0);
    assert_int_equal(u.MaximumLength, 0);
    assert_null(u.Buffer);
    RtlInitUnicodeString(&u, u"");
    assert_int_equal(u.Length, 0);
    assert_int_equal(u.MaximumLength, 2);

    ANSI_STRING a;
    RtlInitAnsiString(&a, "hello");
    assert_int_equal(a.Length, 5);
    assert_int_equal(a.MaximumLength, 6);
    RtlInitString(&a, NULL);
    assert_int_equal(a.Length, 0);
    assert_null(a.Buffer);

    WCHAR wb[4];
    RtlInitEmptyUnicodeString(&u, wb, sizeof wb);
    assert_int_equal(u.Length, 0);
    assert_int_equal(u.MaximumLength, 8);
    assert_ptr_equal(u.Buffer, wb);
    char cb[5];
    RtlInitEmptyAnsiString(&a, cb, sizeof cb);
    assert_int_equal(a.MaximumLength, 5);
}

static void test_init_too_long(void **state)
{
    static WCHAR big[40000];
    static char abig[70000];
    for (unsigned i = 0; i < 39999; i++)
        big[i] = u'x';
    UNICODE_STRING u;
    RtlInitUnicodeString(&u, big);
    assert_int_equal(u.Length, 0xFFFC);
    assert_int_equal(u.MaximumLength, 0xFFFE);
    memset(abig, 'y', sizeof abig - 1);
    ANSI_STRING a;
    RtlInitAnsiString(&a, abig);
    assert_int_equal(a.Length, 0xFFFE);
    assert_int_equal(a.MaximumLength, 0xFFFF);
}

static void test_copy(void **state)
{
    WCHAR buf[8];
    UNICODE_STRING d, s;
    init_buf(&d, buf, 8);
    RtlInitUnicodeString(&s, u"ab");
    RtlCopyUnicodeString(&d, &s);
    assert_ustr(&d, u"ab");
    assert_int_equal(buf[2], u'#'); /* no terminator written */
    RtlInitUnicodeString(&s, u"abcdefgh");
    RtlCopyUnicodeString(&d, &s);
    assert_ustr(&d, u"abcd"); /* min(S.Length, D.Max) */
    assert_int_equal(d.MaximumLength, 8);
    RtlCopyUnicodeString(&d, NULL);
    assert_int_equal(d.Length, 0);
    /* Odd MaximumLength: whole characters only. */
    init_buf(&d, buf, 7);
    RtlCopyUnicodeString(&d, &s);
    assert_int_equal(d.Length, 6);

    char ab[4] = {'#', '#', '#', '#'};
    STRING da, sa;
    RtlInitEmptyAnsiString(&da, ab, 3);
    RtlInitString(&sa, "xyzw");
    RtlCopyString(&da, &sa);
    assert_int_equal(da.Length, 3);
    assert_memory_equal(ab, "xyz#", 4);
    RtlCopyString(&da, NULL);
    assert_int_equal(da.Length, 0);
}

static void test_append(void **state)
{
    WCHAR buf[8];
    UNICODE_STRING d, s;
    init_buf(&d, buf, 10);
    RtlInitUnicodeString(&s, u"ab");
    assert_int_equal(RtlAppendUnicodeStringToString(&d, &s), STATUS_SUCCESS);
    assert_int_equal(RtlAppendUnicodeToString(&d, u"cd"), STATUS_SUCCESS);
    assert_ustr(&d, u"abcd");
    assert_int_equal(buf[4], u'#');
    /* Too long: status, destination unchanged. */
    assert_int_equal(RtlAppendUnicodeToString(&d, u"ef"), STATUS_BUFFER_TOO_SMALL);
    assert_ustr(&d, u"abcd");
    assert_int_equal(RtlAppendUnicodeToString(&d, u"e"), STATUS_SUCCESS);
    assert_ustr(&d, u"abcde");
    /* Empty and NULL sources always succeed, even into a full string. */
    assert_int_equal(RtlAppendUnicodeToString(&d, NULL), STATUS_SUCCESS);
    assert_int_equal(RtlAppendUnicodeToString(&d, u""), STATUS_SUCCESS);
    UNICODE_STRING empty = {0, 0, NULL};
    assert_int_equal(RtlAppendUnicodeStringToString(&d, &empty), STATUS_SUCCESS);

    char ab[6];
    STRING da, sa;
    RtlInitEmptyAnsiString(&da, ab, sizeof ab);
    RtlInitString(&sa, "abc");
    assert_int_equal(RtlAppendStringToString(&da, &sa), STATUS_SUCCESS);
    assert_int_equal(RtlAppendStringToString(&da, &sa), STATUS_SUCCESS);
    assert_int_equal(da.Length, 6);
    assert_memory_equal(ab, "abcabc", 6);
    assert_int_equal(RtlAppendStringToString(&da, &sa), STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(da.Length, 6);
}

static void test_compare(void **state)
{
    UNICODE_STRING a, b;
    RtlInitUnicodeString(&a, u"abc");
    RtlInitUnicodeString(&b, u"ABC");
    assert_true(RtlCompareUnicodeString(&a, &b, FALSE) > 0);
    assert_int_equal(RtlCompareUnicodeString(&a, &b, TRUE), 0);
    assert_true(RtlEqualUnicodeString(&a, &b, TRUE));
    assert_false(RtlEqualUnicodeString(&a, &b, FALSE));
    RtlInitUnicodeString(&b, u"abcd");
    assert_true(RtlCompareUnicodeString(&a, &b, FALSE) < 0); /* shorter is smaller */
    assert_true(RtlCompareUnicodeString(&b, &a, FALSE) > 0);
    assert_false(RtlEqualUnicodeString(&a, &b, FALSE));
    assert_true(RtlPrefixUnicodeString(&a, &b, FALSE));
    assert_false(RtlPrefixUnicodeString(&b, &a, FALSE));
    RtlInitUnicodeString(&b, u"ABx");
    assert_false(RtlPrefixUnicodeString(&a, &b, TRUE));
    RtlInitUnicodeString(&b, u"ABCx");
    assert_true(RtlPrefixUnicodeString(&a, &b, TRUE));
    assert_false(RtlPrefixUnicodeString(&a, &b, FALSE));
    /* Non-ASCII, case-insensitive. */
    RtlInitUnicodeString(&a, u"\u0436\u00e9\u03c3");
    RtlInitUnicodeString(&b, u"\u0416\u00c9\u03a3");
    assert_true(RtlEqualUnicodeString(&a, &b, TRUE));
    assert_false(RtlEqualUnicodeString(&a, &b, FALSE));
    /* Empty strings. */
    UNICODE_STRING e1 = {0, 0, NULL}, e2 = {0, 4, W(u"zz")};
    assert_int_equal(RtlCompareUnicodeString(&e1, &e2, FALSE), 0);
    assert_true(RtlEqualUnicodeString(&e1, &e2, FALSE));
    assert_true(RtlPrefixUnicodeString(&e1, &a, FALSE));
    /* Buffers need no terminator; Length decides. */
    UNICODE_STRING p1 = {4, 8, W(u"abXY")}, p2 = {4, 4, W(u"abZZ")};
    assert_true(RtlEqualUnicodeString(&p1, &p2, FALSE));

    STRING s1, s2;
    RtlInitString(&s1, "Hello");
    RtlInitString(&s2, "hello");
    assert_true(RtlCompareString(&s1, &s2, FALSE) < 0);
    assert_int_equal(RtlCompareString(&s1, &s2, TRUE), 0);
    assert_true(RtlEqualString(&s1, &s2, TRUE));
    assert_false(RtlEqualString(&s1, &s2, FALSE));
    RtlInitString(&s2, "Hell");
    assert_true(RtlCompareString(&s1, &s2, FALSE) > 0);
    assert_false(RtlEqualString(&s1, &s2, TRUE));
    /* Bytes compare unsigned: 0xE9 > 'z'. */
    RtlInitString(&s1, "\xe9");
    RtlInitString(&s2, "z");
    assert_true(RtlCompareString(&s1, &s2, FALSE) > 0);
    RtlInitString(&s2, "\xc9");
    assert_true(RtlEqualString(&s1, &s2, TRUE));
}

static void test_case_chars(void **state)
{
    assert_int_equal(RtlUpcaseUnicodeChar(u'a'), u'A');
    assert_int_equal(RtlUpcaseUnicodeChar(u'Z'), u'Z');
    assert_int_equal(RtlUpcaseUnicodeChar(u'1'), u'1');
    assert_int_equal(RtlUpcaseUnicodeChar(0x00E9), 0x00C9); /* e acute */
    assert_int_equal(RtlUpcaseUnicodeChar(0x00F7), 0x00F7); /* division sign */
    assert_int_equal(RtlUpcaseUnicodeChar(0x00FF), 0x0178); /* y diaeresis */
    assert_int_equal(RtlUpcaseUnicodeChar(0x0101), 0x0100); /* a macron */
    assert_int_equal(RtlUpcaseUnicodeChar(0x013A), 0x0139); /* l acute: odd pairs */
    assert_int_equal(RtlUpcaseUnicodeChar(0x017E), 0x017D); /* z caron */
    assert_int_equal(RtlUpcaseUnicodeChar(0x0138), 0x0138); /* kra: no upper case */
    assert_int_equal(RtlUpcaseUnicodeChar(0x03B1), 0x0391); /* alpha */
    assert_int_equal(RtlUpcaseUnicodeChar(0x03C2), 0x03A3); /* final sigma */
    assert_int_equal(RtlUpcaseUnicodeChar(0x03AC), 0x0386); /* alpha tonos */
    assert_int_equal(RtlUpcaseUnicodeChar(0x03CE), 0x038F); /* omega tonos */
    assert_int_equal(RtlUpcaseUnicodeChar(0x0436), 0x0416); /* zhe */
    assert_int_equal(RtlUpcaseUnicodeChar(0x0451), 0x0401); /* io */
    assert_int_equal(RtlUpcaseUnicodeChar(0x0461), 0x0460); /* omega (pairs) */
    assert_int_equal(RtlUpcaseUnicodeChar(0x04CF), 0x04C0); /* palochka */
    assert_int_equal(RtlUpcaseUnicodeChar(0x0561), 0x0531); /* Armenian ayb */
    assert_int_equal(RtlUpcaseUnicodeChar(0xFF41), 0xFF21); /* fullwidth a */
    assert_int_equal(RtlUpcaseUnicodeChar(0x4E2D), 0x4E2D);
    /* the whole BMP table: Latin Extended-B, Greek Extended, Coptic,
     * Glagolitic, circled letters; pairs Windows' tables lack stay put */
    assert_int_equal(RtlUpcaseUnicodeChar(0x01A1), 0x01A0);   /* o horn */
    assert_int_equal(RtlUpcaseUnicodeChar(0x0180), 0x0243);   /* b stroke */
    assert_int_equal(RtlUpcaseUnicodeChar(0x1F00), 0x1F08);   /* alpha psili */
    assert_int_equal(RtlUpcaseUnicodeChar(0x2C81), 0x2C80);   /* Coptic alfa */
    assert_int_equal(RtlUpcaseUnicodeChar(0x2C30), 0x2C00);   /* Glagolitic az */
    assert_int_equal(RtlUpcaseUnicodeChar(0x24D0), 0x24B6);   /* circled a */
    assert_int_equal(RtlDowncaseUnicodeChar(0x1E9E), 0x1E9E); /* capital sharp s */
    assert_int_equal(RtlUpcaseUnicodeChar(0x10D0), 0x10D0);   /* Georgian an */
    assert_int_equal(RtlUpcaseUnicodeChar(0xAB70), 0xAB70);   /* Cherokee small a */
    assert_int_equal(RtlUpcaseUnicodeChar(0x0131), 0x0131);   /* dotless i */
    assert_int_equal(RtlUpcaseUnicodeChar(0x017F), 0x017F);   /* long s */
    assert_int_equal(RtlUpcaseUnicodeChar(0x00B5), 0x00B5);   /* micro sign */
    assert_int_equal(RtlUpcaseUnicodeChar(0x01C5), 0x01C5);   /* Dz caron title case */
    assert_int_equal(RtlDowncaseUnicodeChar(0x212A), 0x212A); /* Kelvin sign */
    assert_int_equal(RtlDowncaseUnicodeChar(u'Q'), u'q');
    assert_int_equal(RtlDowncaseUnicodeChar(0x00C0), 0x00E0);
    assert_int_equal(RtlDowncaseUnicodeChar(0x00D7), 0x00D7); /* multiplication sign */
    assert_int_equal(RtlDowncaseUnicodeChar(0x0178), 0x00FF);
    assert_int_equal(RtlDowncaseUnicodeChar(0x03A3), 0x03C3);
    assert_int_equal(RtlDowncaseUnicodeChar(0x0410), 0x0430);
    assert_int_equal(RtlDowncaseUnicodeChar(0x040E), 0x045E);
    /* The table is a bijection on what it maps (final sigma aside). */
    for (unsigned c = 0; c < 0x10000; c++) {
        WCHAR up = RtlUpcaseUnicodeChar((WCHAR)c), down = RtlDowncaseUnicodeChar((WCHAR)c);
        if (up != c && c != 0x03C2)
            assert_int_equal(RtlDowncaseUnicodeChar(up), c);
        if (down != c)
            assert_int_equal(RtlUpcaseUnicodeChar(down), c);
    }
    assert_int_equal(RtlUpperChar('a'), 'A');
    assert_int_equal(RtlUpperChar('{'), '{');
    assert_int_equal((UCHAR)RtlUpperChar((CHAR)0xE9), 0xC9);
    assert_int_equal((UCHAR)RtlUpperChar((CHAR)0xFF), 0x9F); /* via U+0178 */
    assert_int_equal((UCHAR)RtlUpperChar((CHAR)0x9A), 0x8A); /* s caron */
    assert_int_equal((UCHAR)RtlUpperChar((CHAR)0xB5), 0xB5); /* micro sign stays */
}

static void test_case_strings(void **state)
{
    WCHAR buf[8];
    UNICODE_STRING d, s;
    init_buf(&d, buf, 16);
    RtlInitUnicodeString(&s, u"ab\u00e9\u0436z");
    assert_int_equal(RtlUpcaseUnicodeString(&d, &s, FALSE), STATUS_SUCCESS);
    assert_ustr(&d, u"AB\u00c9\u0416Z");
    /* In place. */
    WCHAR inplace[] = u"mixed Case";
    UNICODE_STRING ip;
    RtlInitUnicodeString(&ip, inplace);
    assert_int_equal(RtlUpcaseUnicodeString(&ip, &ip, FALSE), STATUS_SUCCESS);
    assert_ustr(&ip, u"MIXED CASE");
    /* Too small: STATUS_BUFFER_OVERFLOW, destination unchanged. */
    init_buf(&d, buf, 4);
    assert_int_equal(RtlUpcaseUnicodeString(&d, &s, FALSE), STATUS_BUFFER_OVERFLOW);
    assert_int_equal(d.Length, 0);
    assert_int_equal(buf[0], u'#');
    /* Allocated (host heap: no machine in this test). */
    UNICODE_STRING a;
    assert_int_equal(RtlUpcaseUnicodeString(&a, &s, TRUE), STATUS_SUCCESS);
    assert_ustr(&a, u"AB\u00c9\u0416Z");
    assert_int_equal(a.MaximumLength, a.Length);
    RtlFreeUnicodeString(&a);
    assert_null(a.Buffer);
    assert_int_equal(a.Length, 0);

    char ab[4] = {'#', '#', '#', '#'};
    STRING da, sa;
    RtlInitEmptyAnsiString(&da, ab, 3);
    RtlInitString(&sa, "a\xe9z!");
    RtlUpperString(&da, &sa);
    assert_int_equal(da.Length, 3);
    assert_memory_equal(ab, "A\xc9Z#", 4);
}

static void test_integer_to_string(void **state)
{
    WCHAR buf[40];
    UNICODE_STRING u;
    init_buf(&u, buf, 64);
    assert_int_equal(RtlIntegerToUnicodeString(1234, 0, &u), STATUS_SUCCESS);
    assert_ustr(&u, u"1234");
    assert_int_equal(buf[4], u'#');
    assert_int_equal(RtlIntegerToUnicodeString(1234, 10, &u), STATUS_SUCCESS);
    assert_ustr(&u, u"1234");
    assert_int_equal(RtlIntegerToUnicodeString(0xBEEF, 16, &u), STATUS_SUCCESS);
    assert_ustr(&u, u"BEEF");
    assert_int_equal(RtlIntegerToUnicodeString(8, 8, &u), STATUS_SUCCESS);
    assert_ustr(&u, u"10");
    assert_int_equal(RtlIntegerToUnicodeString(5, 2, &u), STATUS_SUCCESS);
    assert_ustr(&u, u"101");
    assert_int_equal(RtlIntegerToUnicodeString(0, 10, &u), STATUS_SUCCESS);
    assert_ustr(&u, u"0");
    /* Unsigned. */
    assert_int_equal(RtlIntegerToUnicodeString((ULONG)-1, 10, &u), STATUS_SUCCESS);
    assert_ustr(&u, u"4294967295");
    assert_int_equal(RtlIntegerToUnicodeString(1, 3, &u), STATUS_INVALID_PARAMETER);
    assert_int_equal(RtlInt64ToUnicodeString(0xFFFFFFFFFFFFFFFFull, 16, &u), STATUS_SUCCESS);
    assert_ustr(&u, u"FFFFFFFFFFFFFFFF");
    assert_int_equal(RtlInt64ToUnicodeString(1ull << 63, 2, &u), STATUS_BUFFER_OVERFLOW);
    assert_int_equal(RtlIntPtrToUnicodeString((ULONG_PTR)10, 10, &u), STATUS_SUCCESS);
    assert_ustr(&u, u"10");
    /* Exactly fits (no room needed for a terminator), then one too many. */
    init_buf(&u, buf, 6);
    assert_int_equal(RtlIntegerToUnicodeString(123, 10, &u), STATUS_SUCCESS);
    assert_ustr(&u, u"123");
    assert_int_equal(RtlIntegerToUnicodeString(1234, 10, &u), STATUS_BUFFER_OVERFLOW);
    assert_ustr(&u, u"123"); /* unchanged */
}

static ULONG to_int(const WCHAR *s, ULONG base, NTSTATUS *status)
{
    UNICODE_STRING u;
    ULONG v = 0xDEADBEEF;
    RtlInitUnicodeString(&u, s);
    *status = RtlUnicodeStringToInteger(&u, base, &v);
    return v;
}

static void test_string_to_integer(void **state)
{
    NTSTATUS st;
    /* The spec's examples, every one. */
    assert_int_equal(to_int(u"123", 10, &st), 123);
    assert_int_equal(st, STATUS_SUCCESS);
    assert_int_equal(to_int(u"-345", 10, &st), (ULONG)-345);
    assert_int_equal(to_int(u"xyz", 10, &st), 0);
    assert_int_equal(st, STATUS_SUCCESS);
    assert_int_equal(to_int(u"+678abc", 10, &st), 678);
    assert_int_equal(to_int(u"+678abc", 16, &st), 6785724);
    assert_int_equal(to_int(u"007", 10, &st), 7);
    assert_int_equal(to_int(u"789", 8, &st), 7);
    assert_int_equal(to_int(u"FGH", 16, &st), 15);
    assert_int_equal(to_int(u" ", 10, &st), 0);
    assert_int_equal(st, STATUS_SUCCESS);
    /* Base 0 prefixes. */
    assert_int_equal(to_int(u"0x1F", 0, &st), 31);
    assert_int_equal(to_int(u"0o17", 0, &st), 15);
    assert_int_equal(to_int(u"0b101", 0, &st), 5);
    assert_int_equal(to_int(u"  \t-0x10", 0, &st), (ULONG)-16);
    assert_int_equal(to_int(u"42", 0, &st), 42);
    assert_int_equal(to_int(u"0", 0, &st), 0);
    assert_int_equal(to_int(u"0x1F", 16, &st), 0); /* prefix only with Base 0 */
    /* Overflow wraps. */
    assert_int_equal(to_int(u"4294967297", 10, &st), 1);
    /* Errors. */
    assert_int_equal(to_int(u"", 10, &st), 0xDEADBEEF);
    assert_int_equal(st, STATUS_INVALID_PARAMETER);
    to_int(u"1", 7, &st);
    assert_int_equal(st, STATUS_INVALID_PARAMETER);
    /* Length, not a terminator, ends the string. */
    UNICODE_STRING u = {4, 8, W(u"1234")};
    ULONG v;
    assert_int_equal(RtlUnicodeStringToInteger(&u, 10, &v), STATUS_SUCCESS);
    assert_int_equal(v, 12);

    assert_int_equal(RtlCharToInteger("  -0x20", 0, &v), STATUS_SUCCESS);
    assert_int_equal(v, (ULONG)-32);
    assert_int_equal(RtlCharToInteger("777", 8, &v), STATUS_SUCCESS);
    assert_int_equal(v, 511);
    assert_int_equal(RtlCharToInteger("", 10, &v), STATUS_SUCCESS);
    assert_int_equal(v, 0);
    assert_int_equal(RtlCharToInteger("1", 5, &v), STATUS_INVALID_PARAMETER);
}

static void test_sizes(void **state)
{
    ANSI_STRING a;
    UNICODE_STRING u;
    RtlInitAnsiString(&a, "abc");
    RtlInitUnicodeString(&u, u"abcd");
    assert_int_equal(RtlAnsiStringToUnicodeSize(&a), 8);
    assert_int_equal(RtlUnicodeStringToAnsiSize(&u), 5);
    RtlInitAnsiString(&a, "");
    assert_int_equal(RtlAnsiStringToUnicodeSize(&a), 2);
}

static void test_ansi_unicode(void **state)
{
    ANSI_STRING a;
    UNICODE_STRING u;
    WCHAR wb[8];
    RtlInitAnsiString(&a, "a\x80\xe9");
    init_buf(&u, wb, 16);
    assert_int_equal(RtlAnsiStringToUnicodeString(&u, &a, FALSE), STATUS_SUCCESS);
    assert_ustr(&u, u"a\u20ac\u00e9");
    assert_int_equal(wb[3], u'#'); /* no terminator into a caller's buffer */
    /* Too small: truncated copy, STATUS_BUFFER_OVERFLOW. */
    init_buf(&u, wb, 4);
    assert_int_equal(RtlAnsiStringToUnicodeString(&u, &a, FALSE), STATUS_BUFFER_OVERFLOW);
    assert_ustr(&u, u"a\u20ac");
    /* Allocated: Max includes the terminator, which is written. */
    UNICODE_STRING al;
    assert_int_equal(RtlAnsiStringToUnicodeString(&al, &a, TRUE), STATUS_SUCCESS);
    assert_int_equal(al.Length, 6);
    assert_int_equal(al.MaximumLength, 8);
    assert_int_equal(al.Buffer[3], 0);
    RtlFreeUnicodeString(&al);
    assert_null(al.Buffer);
    /* Over 32767 characters. */
    static char big[40000];
    memset(big, 'x', sizeof big - 1);
    ANSI_STRING ab = {0xFFFE, 0xFFFF, big};
    assert_int_equal(RtlAnsiStringToUnicodeString(&al, &ab, TRUE), STATUS_INVALID_PARAMETER_2);

    char cb[8];
    memset(cb, '#', sizeof cb);
    RtlInitUnicodeString(&u, u"a\u20ac\u0416\u00e9");
    RtlInitEmptyAnsiString(&a, cb, sizeof cb);
    assert_int_equal(RtlUnicodeStringToAnsiString(&a, &u, FALSE), STATUS_SUCCESS);
    assert_int_equal(a.Length, 4);
    assert_memory_equal(cb, "a\x80?\xe9#", 5); /* unmappable becomes '?' */
    RtlInitEmptyAnsiString(&a, cb, 2);
    assert_int_equal(RtlUnicodeStringToAnsiString(&a, &u, FALSE), STATUS_BUFFER_OVERFLOW);
    assert_int_equal(a.Length, 2);
    ANSI_STRING aa;
    assert_int_equal(RtlUnicodeStringToAnsiString(&aa, &u, TRUE), STATUS_SUCCESS);
    assert_int_equal(aa.Length, 4);
    assert_int_equal(aa.MaximumLength, 5);
    assert_string_equal(aa.Buffer, "a\x80?\xe9");
    RtlFreeAnsiString(&aa);
    assert_null(aa.Buffer);
    /* Empty strings allocate a terminator only. */
    RtlInitUnicodeString(&u, u"");
    assert_int_equal(RtlUnicodeStringToAnsiString(&aa, &u, TRUE), STATUS_SUCCESS);
    assert_int_equal(aa.Length, 0);
    assert_int_equal(aa.MaximumLength, 1);
    RtlFreeAnsiString(&aa);
    /* Freeing an empty string is a no-op. */
    UNICODE_STRING z = {0, 0, NULL};
    RtlFreeUnicodeString(&z);
}

/* ---- with a machine: buffers come from simulated memory ------------------- */

struct alloc_case {
    NTSTATUS status;
    int in_system;
};

static void alloc_in_machine(void *arg)
{
    struct alloc_case *c = arg;
    ANSI_STRING a;
    UNICODE_STRING u;
    RtlInitAnsiString(&a, "simulated");
    c->status = RtlAnsiStringToUnicodeString(&u, &a, TRUE);
    /* the buffer is pool memory: simulated frames, tagged RtlS */
    c->in_system = u.Buffer && u.Buffer[0] == u's' && u.Length == 18 &&
                   MmGetPhysicalAddress(u.Buffer).QuadPart != 0 &&
                   ((const ULONG *)u.Buffer)[-3] == 0x536c7452; /* 'RtlS' */
    RtlFreeUnicodeString(&u);
}

static void free_foreign(void *arg)
{
    static WCHAR mine[4] = u"abc";
    UNICODE_STRING u;
    RtlInitUnicodeString(&u, mine);
    RtlFreeUnicodeString(&u);
}

static void test_alloc_in_machine(void **state)
{
    wdmsim *sim;
    struct wdmsim_error err;
    struct wdmsim_config cfg = {.seed = 1};
    assert_int_equal(wdmsim_boot(&cfg, &sim, &err), WDMSIM_OK);
    struct alloc_case c = {0};
    assert_int_equal(wdmsim_call(sim, alloc_in_machine, &c), WDMSIM_OK);
    assert_int_equal(c.status, STATUS_SUCCESS);
    assert_true(c.in_system);
    /* Freeing a buffer Rtl did not allocate stops the machine: the pool's
     * check of a free of memory it never handed out. */
    assert_int_equal(wdmsim_call(sim, free_foreign, NULL), WDMSIM_STOPPED);
    const struct wdmsim_bugcheck *bc = wdmsim_get_bugcheck(sim);
    assert_non_null(bc);
    assert_string_equal(bc->rule, "pool.free-bad-address");
    assert_int_equal(bc->code, 0xC4);
    assert_int_equal(bc->parameters[0], 0x10);
    wdmsim_shutdown(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_init_too_long),
        cmocka_unit_test(test_copy),
        cmocka_unit_test(test_append),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_case_chars),
        cmocka_unit_test(test_case_strings),
        cmocka_unit_test(test_integer_to_string),
        cmocka_unit_test(test_string_to_integer),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_ansi_unicode),
        cmocka_unit_test(test_alloc_in_machine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
