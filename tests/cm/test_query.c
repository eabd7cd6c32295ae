/*
 * tests/cm/test_query.c - RtlQueryRegistryValues with each query-table flag
 * (src/cm/query.c) and RtlWriteRegistryValue, RtlDeleteRegistryValue,
 * RtlCheckRegistryKey, RtlCreateRegistryKey with each RelativeTo
 * (src/cm/rtl_registry.c).
 */
#include "cm_test.h"

#define PARAMS u"qtest\\Parameters"

/* Services\qtest\Parameters with one value of each interesting type. */
static void seed(void)
{
    assert_int_equal(RtlCreateRegistryKey(RTL_REGISTRY_SERVICES, u"qtest"), 0);
    assert_int_equal(RtlCreateRegistryKey(RTL_REGISTRY_SERVICES, PARAMS), 0);
    ULONG dw = 7;
    ULONGLONG qw = 0x0102030405060708ULL;
    static const uint16_t sz[] = u"hello";
    static const uint16_t ex[] = u"%SystemRoot%\\drivers\\%UNKNOWN%";
    static const uint16_t multi[] = u"one\0two\0three\0";
    UCHAR bin[6] = {9, 8, 7, 6, 5, 4};
    assert_int_equal(RtlWriteRegistryValue(RTL_REGISTRY_SERVICES, PARAMS, u"Dw", REG_DWORD, &dw, 4),
                     0);
    assert_int_equal(RtlWriteRegistryValue(RTL_REGISTRY_SERVICES, PARAMS, u"Qw", REG_QWORD, &qw, 8),
                     0);
    assert_int_equal(
        RtlWriteRegistryValue(RTL_REGISTRY_SERVICES, PARAMS, u"Sz", REG_SZ, (PVOID)sz, sizeof sz),
        0);
    assert_int_equal(RtlWriteRegistryValue(RTL_REGISTRY_SERVICES, PARAMS, u"Ex", REG_EXPAND_SZ,
                                           (PVOID)ex, sizeof ex),
                     0);
    assert_int_equal(RtlWriteRegistryValue(RTL_REGISTRY_SERVICES, PARAMS, u"Multi", REG_MULTI_SZ,
                                           (PVOID)multi, sizeof multi),
                     0);
    assert_int_equal(
        RtlWriteRegistryValue(RTL_REGISTRY_SERVICES, PARAMS, u"Bin", REG_BINARY, bin, sizeof bin),
        0);
}

struct seen {
    int calls;
    ULONG types[16];
    ULONG lens[16];
    uint16_t names[16][32];
    uint8_t data[16][128];
    NTSTATUS fail_with;
};

static NTSTATUS NTAPI record(PWSTR ValueName, ULONG ValueType, PVOID ValueData, ULONG ValueLength,
                             PVOID Context, PVOID EntryContext)
{
    struct seen *s = Context;
    (void)EntryContext;
    int i = s->calls++;
    if (i < 16) {
        s->types[i] = ValueType;
        s->lens[i] = ValueLength;
        if (ValueName)
            for (int k = 0; k < 31 && ValueName[k]; k++)
                s->names[i][k] = ValueName[k];
        if (ValueData && ValueLength <= 128)
            memcpy(s->data[i], ValueData, ValueLength);
    }
    return s->fail_with;
}

CM_TEST(direct_values)
{
    seed();
    ULONG dw = 0;
    LONG big[4] = {-16};
    ULONG withhdr[6] = {24};
    UNICODE_STRING alloc = {0}, fixed;
    WCHAR buf[8];
    fixed.Buffer = buf;
    fixed.Length = 0;
    fixed.MaximumLength = sizeof buf;
    RTL_QUERY_REGISTRY_TABLE t[7];
    memset(t, 0, sizeof t);
    t[0].Flags = RTL_QUERY_REGISTRY_DIRECT;
    t[0].Name = u"Dw";
    t[0].EntryContext = &dw;
    t[1].Flags = RTL_QUERY_REGISTRY_DIRECT;
    t[1].Name = u"Qw"; /* 8 bytes: behind a negative size LONG */
    t[1].EntryContext = big;
    t[2].Flags = RTL_QUERY_REGISTRY_DIRECT;
    t[2].Name = u"Bin"; /* positive size: length, type, data */
    t[2].EntryContext = withhdr;
    t[3].Flags = RTL_QUERY_REGISTRY_DIRECT;
    t[3].Name = u"Sz";
    t[3].EntryContext = &alloc; /* Buffer NULL: allocated */
    t[4].Flags = RTL_QUERY_REGISTRY_DIRECT | RTL_QUERY_REGISTRY_NOEXPAND;
    t[4].Name = u"Sz";
    t[4].EntryContext = &fixed; /* the caller's 8-WCHAR buffer: "hello" + NUL fit */
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, PARAMS, t, NULL, NULL), 0);
    assert_int_equal(dw, 7);
    assert_int_equal(((ULONGLONG)(ULONG)big[1] << 32 | (ULONG)big[0]), 0x0102030405060708ULL);
    assert_int_equal(withhdr[0], 6);
    assert_int_equal(withhdr[1], REG_BINARY);
    assert_int_equal(((UCHAR *)&withhdr[2])[0], 9);
    assert_int_equal(alloc.Length, 10);
    assert_int_equal(alloc.MaximumLength, 12);
    assert_memory_equal(alloc.Buffer, u"hello", 12);
    assert_int_equal(fixed.Length, 10);
    assert_int_equal(buf[5], 0);
    RtlFreeUnicodeString(&alloc);
    /* too small: string buffer, negative size, positive size */
    fixed.MaximumLength = 10; /* no room for the NUL */
    memset(t, 0, sizeof t);
    t[0].Flags = RTL_QUERY_REGISTRY_DIRECT;
    t[0].Name = u"Sz";
    t[0].EntryContext = &fixed;
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, PARAMS, t, NULL, NULL),
                     STATUS_BUFFER_TOO_SMALL);
    big[0] = -7;
    t[0].Name = u"Qw";
    t[0].EntryContext = big;
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, PARAMS, t, NULL, NULL),
                     STATUS_BUFFER_TOO_SMALL);
    withhdr[0] = 13; /* needs 8 + 6 */
    t[0].Name = u"Bin";
    t[0].EntryContext = withhdr;
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, PARAMS, t, NULL, NULL),
                     STATUS_BUFFER_TOO_SMALL);
    /* expansion of REG_EXPAND_SZ into a DIRECT string */
    UNICODE_STRING ex = {0};
    t[0].Name = u"Ex";
    t[0].EntryContext = &ex;
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, PARAMS, t, NULL, NULL), 0);
    static const uint16_t want[] = u"C:\\Windows\\drivers\\%UNKNOWN%";
    assert_int_equal(ex.Length, sizeof want - 2);
    assert_memory_equal(ex.Buffer, want, sizeof want);
    RtlFreeUnicodeString(&ex);
    /* a REG_MULTI_SZ stored whole with NOEXPAND */
    UNICODE_STRING m = {0};
    t[0].Flags = RTL_QUERY_REGISTRY_DIRECT | RTL_QUERY_REGISTRY_NOEXPAND;
    t[0].Name = u"Multi";
    t[0].EntryContext = &m;
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, PARAMS, t, NULL, NULL), 0);
    assert_int_equal(m.Length, 28); /* 30 bytes of data without the final NUL */
    RtlFreeUnicodeString(&m);
    /* DIRECT needs a name */
    t[0].Name = NULL;
    t[0].QueryRoutine = record;
    t[0].Flags = RTL_QUERY_REGISTRY_DIRECT;
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, PARAMS, t, NULL, NULL),
                     STATUS_INVALID_PARAMETER);
}

CM_TEST(routine_per_value_and_multi_sz)
{
    seed();
    struct seen s = {0};
    RTL_QUERY_REGISTRY_TABLE t[3];
    memset(t, 0, sizeof t);
    t[0].QueryRoutine = record;
    t[0].Name = u"Multi"; /* one call per string, as REG_SZ */
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, PARAMS, t, &s, NULL), 0);
    assert_int_equal(s.calls, 3);
    assert_int_equal(s.types[1], REG_SZ);
    assert_int_equal(s.lens[1], 8);
    assert_memory_equal(s.data[2], u"three", 12);
    memset(&s, 0, sizeof s);
    t[0].Flags = RTL_QUERY_REGISTRY_NOEXPAND; /* whole */
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, PARAMS, t, &s, NULL), 0);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.types[0], REG_MULTI_SZ);
    assert_int_equal(s.lens[0], 30);
    /* Name NULL: every value of the key */
    memset(&s, 0, sizeof s);
    t[0].Flags = RTL_QUERY_REGISTRY_NOEXPAND;
    t[0].Name = NULL;
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, PARAMS, t, &s, NULL), 0);
    assert_int_equal(s.calls, 6);
    assert_memory_equal(s.names[0], u"Dw", 6);
    assert_int_equal(s.types[3], REG_EXPAND_SZ);
    /* without NOEXPAND: expanded, with a caller's environment */
    memset(&s, 0, sizeof s);
    t[0].Flags = 0;
    t[0].Name = u"Ex";
    static const uint16_t env[] = u"SystemRoot=D:\\W\0UNKNOWN=k\0";
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, PARAMS, t, &s, (PVOID)env), 0);
    assert_int_equal(s.types[0], REG_SZ);
    assert_memory_equal(s.data[0], u"D:\\W\\drivers\\k", 30);
    /* NOVALUE: one call with nothing */
    memset(&s, 0, sizeof s);
    t[0].Flags = RTL_QUERY_REGISTRY_NOVALUE;
    t[0].Name = NULL;
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, PARAMS, t, &s, NULL), 0);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.types[0], REG_NONE);
    assert_int_equal(s.lens[0], 0);
}

CM_TEST(required_defaults_and_errors)
{
    seed();
    struct seen s = {0};
    RTL_QUERY_REGISTRY_TABLE t[3];
    memset(t, 0, sizeof t);
    t[0].QueryRoutine = record;
    t[0].Name = u"Missing";
    t[0].Flags = RTL_QUERY_REGISTRY_REQUIRED;
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, PARAMS, t, &s, NULL),
                     STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(s.calls, 0);
    /* missing, not required: default data (string length computed) */
    t[0].Flags = 0;
    t[0].DefaultType = REG_SZ;
    t[0].DefaultData = u"dflt";
    t[0].DefaultLength = 0;
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, PARAMS, t, &s, NULL), 0);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.lens[0], 10);
    assert_memory_equal(s.data[0], u"dflt", 10);
    /* REG_NONE default: skipped */
    memset(&s, 0, sizeof s);
    t[0].DefaultType = REG_NONE;
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, PARAMS, t, &s, NULL), 0);
    assert_int_equal(s.calls, 0);
    /* a routine error stops the walk; STATUS_BUFFER_TOO_SMALL does not */
    memset(&s, 0, sizeof s);
    t[0].Name = u"Dw";
    t[1].QueryRoutine = record;
    t[1].Name = u"Sz";
    s.fail_with = STATUS_INSUFFICIENT_RESOURCES;
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, PARAMS, t, &s, NULL),
                     STATUS_INSUFFICIENT_RESOURCES);
    assert_int_equal(s.calls, 1);
    memset(&s, 0, sizeof s);
    s.fail_with = STATUS_BUFFER_TOO_SMALL;
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, PARAMS, t, &s, NULL), 0);
    assert_int_equal(s.calls, 2);
    /* an entry without routine and without DIRECT */
    memset(t, 0, sizeof t);
    t[0].Name = u"Dw";
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, PARAMS, t, &s, NULL),
                     STATUS_INVALID_PARAMETER);
    /* path missing, bad RelativeTo, no table */
    t[0].QueryRoutine = record;
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, u"nope", t, &s, NULL),
                     STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_MAXIMUM, PARAMS, t, &s, NULL),
                     STATUS_INVALID_PARAMETER);
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, PARAMS, NULL, &s, NULL),
                     STATUS_INVALID_PARAMETER);
}

CM_TEST(typecheck)
{
    seed();
    ULONG dw = 0;
    RTL_QUERY_REGISTRY_TABLE t[2];
    memset(t, 0, sizeof t);
    t[0].Flags = RTL_QUERY_REGISTRY_DIRECT | RTL_QUERY_REGISTRY_TYPECHECK;
    t[0].Name = u"Dw";
    t[0].EntryContext = &dw;
    t[0].DefaultType = REG_DWORD << RTL_QUERY_REGISTRY_TYPECHECK_SHIFT;
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, PARAMS, t, NULL, NULL), 0);
    assert_int_equal(dw, 7);
    t[0].Name = u"Bin"; /* a REG_BINARY where a REG_DWORD is expected */
    dw = 0;
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, PARAMS, t, NULL, NULL),
                     STATUS_OBJECT_TYPE_MISMATCH);
    assert_int_equal(dw, 0);
}

CM_TEST(delete_subkey_topkey)
{
    seed();
    assert_int_equal(RtlCreateRegistryKey(RTL_REGISTRY_SERVICES, u"qtest\\Parameters\\Sub"), 0);
    ULONG one = 1, two = 2;
    assert_int_equal(RtlWriteRegistryValue(RTL_REGISTRY_SERVICES, u"qtest\\Parameters\\Sub", u"Dw",
                                           REG_DWORD, &two, 4),
                     0);
    ULONG a = 0, b = 0, c = 0;
    RTL_QUERY_REGISTRY_TABLE t[6];
    memset(t, 0, sizeof t);
    t[0].Flags = RTL_QUERY_REGISTRY_DIRECT;
    t[0].Name = u"Dw";
    t[0].EntryContext = &a;
    t[1].Flags = RTL_QUERY_REGISTRY_SUBKEY;
    t[1].Name = u"Sub";
    t[2].Flags = RTL_QUERY_REGISTRY_DIRECT | RTL_QUERY_REGISTRY_DELETE;
    t[2].Name = u"Dw";
    t[2].EntryContext = &b;
    t[3].Flags = RTL_QUERY_REGISTRY_DIRECT | RTL_QUERY_REGISTRY_TOPKEY;
    t[3].Name = u"Dw";
    t[3].EntryContext = &c;
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, PARAMS, t, NULL, NULL), 0);
    assert_int_equal(a, 7);
    assert_int_equal(b, 2);
    assert_int_equal(c, 7);
    /* DELETE removed Sub\Dw */
    RTL_QUERY_REGISTRY_TABLE r[2];
    memset(r, 0, sizeof r);
    r[0].Flags = RTL_QUERY_REGISTRY_DIRECT | RTL_QUERY_REGISTRY_REQUIRED;
    r[0].Name = u"Dw";
    r[0].EntryContext = &b;
    assert_int_equal(
        RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, u"qtest\\Parameters\\Sub", r, NULL, NULL),
        STATUS_OBJECT_NAME_NOT_FOUND);
    /* a missing SUBKEY: REQUIRED fails, otherwise defaults apply */
    t[1].Name = u"NoSuch";
    t[2].Flags = RTL_QUERY_REGISTRY_DIRECT;
    t[2].DefaultType = REG_DWORD;
    t[2].DefaultData = &one;
    t[2].DefaultLength = 4;
    b = 0;
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, PARAMS, t, NULL, NULL), 0);
    assert_int_equal(b, 1);
    t[1].Flags |= RTL_QUERY_REGISTRY_REQUIRED;
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, PARAMS, t, NULL, NULL),
                     STATUS_OBJECT_NAME_NOT_FOUND);
    t[1].Name = NULL;
    t[1].QueryRoutine = record;
    struct seen s = {0};
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, PARAMS, t, &s, NULL),
                     STATUS_INVALID_PARAMETER); /* SUBKEY without a name */
}

CM_TEST(relative_to_and_helpers)
{
    /* each RelativeTo base exists and is writable */
    ULONG v = 3;
    const ULONG rel[] = {RTL_REGISTRY_SERVICES, RTL_REGISTRY_CONTROL, RTL_REGISTRY_WINDOWS_NT,
                         RTL_REGISTRY_DEVICEMAP, RTL_REGISTRY_USER};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        assert_int_equal(RtlCheckRegistryKey(rel[i], NULL), 0);
        assert_int_equal(RtlWriteRegistryValue(rel[i], u"helper", u"v", REG_DWORD, &v, 4), 0);
        assert_int_equal(RtlCheckRegistryKey(rel[i], u"helper"), 0);
        assert_int_equal(RtlDeleteRegistryValue(rel[i], u"helper", u"v"), 0);
        assert_int_equal(RtlDeleteRegistryValue(rel[i], u"helper", u"v"),
                         STATUS_OBJECT_NAME_NOT_FOUND);
    }
    /* absolute paths, with RTL_REGISTRY_ABSOLUTE or a leading '\' */
    assert_int_equal(RtlCheckRegistryKey(RTL_REGISTRY_ABSOLUTE, u"\\Registry\\Machine\\Software"),
                     0);
    assert_int_equal(RtlCheckRegistryKey(RTL_REGISTRY_SERVICES, u"\\Registry\\Machine\\Software"),
                     0);
    assert_int_equal(RtlCheckRegistryKey(RTL_REGISTRY_ABSOLUTE, u"Registry"),
                     STATUS_OBJECT_PATH_SYNTAX_BAD);
    assert_int_equal(RtlCheckRegistryKey(RTL_REGISTRY_ABSOLUTE, NULL),
                     STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(RtlCheckRegistryKey(RTL_REGISTRY_SERVICES, u"missing"),
                     STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(RtlCheckRegistryKey(7, NULL), STATUS_INVALID_PARAMETER);
    /* write creates one level only */
    assert_int_equal(RtlWriteRegistryValue(RTL_REGISTRY_SERVICES, u"a\\b", u"v", REG_DWORD, &v, 4),
                     STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(RtlCreateRegistryKey(RTL_REGISTRY_SERVICES, u"a\\b"),
                     STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(RtlCreateRegistryKey(RTL_REGISTRY_SERVICES | RTL_REGISTRY_OPTIONAL, u"a"), 0);
    assert_int_equal(RtlWriteRegistryValue(RTL_REGISTRY_SERVICES, u"a\\b", u"", REG_DWORD, &v, 4),
                     0);
    assert_int_equal(RtlWriteRegistryValue(RTL_REGISTRY_SERVICES, u"a", u"v", REG_BINARY, NULL, 4),
                     STATUS_ACCESS_VIOLATION);
    /* RTL_REGISTRY_HANDLE: needs the right access, and Check closes it */
    HANDLE h;
    assert_int_equal(key_open(&h, NULL, SERVICES u"\\a", KEY_READ, 0, 0, NULL), 0);
    assert_int_equal(RtlWriteRegistryValue(RTL_REGISTRY_HANDLE, (PCWSTR)h, u"v", REG_DWORD, &v, 4),
                     STATUS_ACCESS_DENIED);
    RTL_QUERY_REGISTRY_TABLE t[3];
    ULONG got = 0;
    memset(t, 0, sizeof t);
    t[0].Flags = RTL_QUERY_REGISTRY_DIRECT | RTL_QUERY_REGISTRY_SUBKEY;
    t[0].Name = u"b";
    t[1].Flags = RTL_QUERY_REGISTRY_DIRECT;
    t[1].Name = u"";
    t[1].EntryContext = &got;
    /* (entry 0 has SUBKEY: current key becomes a\b, whose default value is 3) */
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_HANDLE, (PCWSTR)h, t, NULL, NULL), 0);
    assert_int_equal(got, 3);
    assert_int_equal(RtlCreateRegistryKey(RTL_REGISTRY_HANDLE, (PWSTR)h), 0);
    assert_int_equal(RtlCheckRegistryKey(RTL_REGISTRY_HANDLE, (PWSTR)h), 0);
    assert_int_equal(ZwClose(h), STATUS_INVALID_HANDLE); /* Check closed it */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_direct_values),
        cmocka_unit_test(test_routine_per_value_and_multi_sz),
        cmocka_unit_test(test_required_defaults_and_errors),
        cmocka_unit_test(test_typecheck),
        cmocka_unit_test(test_delete_subkey_topkey),
        cmocka_unit_test(test_relative_to_and_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
