/*
 * tests/cm/test_zw.c - the Zw key and value routines (src/cm/zw_key.c,
 * zw_value.c, info.c, path.c, handle.c, key.c): dispositions, access
 * checks, every value type, every information class with the spec's buffer
 * statuses, enumeration, deletion, links, volatility, bad arguments.
 */
#include "cm_test.h"

CM_TEST(create_open_disposition)
{
    HANDLE h, h2;
    ULONG disp = 0;
    assert_int_equal(key_open(&h, NULL, SERVICES u"\\t1", KEY_ALL_ACCESS, 1, 0, &disp), 0);
    assert_int_equal(disp, REG_CREATED_NEW_KEY);
    assert_true(((uint64_t)(uintptr_t)h >> 63) == 1); /* OBJ_KERNEL_HANDLE */
    assert_int_equal(key_open(&h2, NULL, SERVICES u"\\T1", KEY_READ, 1, 0, &disp), 0);
    assert_int_equal(disp, REG_OPENED_EXISTING_KEY);
    assert_int_equal(ZwClose(h2), 0);
    assert_int_equal(key_open(&h2, NULL, SERVICES u"\\t1", KEY_READ, 0, 0, NULL), 0);
    assert_int_equal(ZwClose(h2), 0);
    /* missing key; missing intermediate for create */
    assert_int_equal(key_open(&h2, NULL, SERVICES u"\\nope", KEY_READ, 0, 0, NULL),
                     STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(key_open(&h2, NULL, SERVICES u"\\nope\\deeper", KEY_READ, 1, 0, NULL),
                     STATUS_OBJECT_NAME_NOT_FOUND);
    /* relative to a handle: KEY_CREATE_SUB_KEY needed for a new child */
    HANDLE ro;
    assert_int_equal(key_open(&ro, NULL, SERVICES u"\\t1", KEY_READ, 0, 0, NULL), 0);
    assert_int_equal(key_open(&h2, ro, u"child", KEY_ALL_ACCESS, 1, 0, NULL), STATUS_ACCESS_DENIED);
    assert_int_equal(key_open(&h2, h, u"child", KEY_ALL_ACCESS, 1, 0, &disp), 0);
    assert_int_equal(disp, REG_CREATED_NEW_KEY);
    ZwClose(h2);
    /* opening an existing child needs no right on the root */
    assert_int_equal(key_open(&h2, ro, u"child", KEY_READ, 0, 0, NULL), 0);
    ZwClose(h2);
    assert_int_equal(key_open(&h2, ro, u"\\child", KEY_READ, 0, 0, NULL),
                     STATUS_OBJECT_PATH_SYNTAX_BAD);
    ZwClose(ro);
    ZwClose(h);
    ZwClose(h); /* second close */
}

CM_TEST(bad_arguments)
{
    HANDLE h;
    UNICODE_STRING name = us(SERVICES);
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, &name, OBJ_CASE_INSENSITIVE, NULL, NULL);
    oa.Length = 12;
    assert_int_equal(ZwOpenKey(&h, KEY_READ, &oa), STATUS_INVALID_PARAMETER);
    oa.Length = sizeof(oa);
    oa.Attributes = 0x80000000;
    assert_int_equal(ZwOpenKey(&h, KEY_READ, &oa), STATUS_INVALID_PARAMETER);
    oa.Attributes = 0;
    name.Length = 3; /* odd */
    assert_int_equal(ZwOpenKey(&h, KEY_READ, &oa), STATUS_OBJECT_NAME_INVALID);
    oa.ObjectName = NULL;
    assert_int_equal(ZwOpenKey(&h, KEY_READ, &oa), STATUS_OBJECT_NAME_INVALID);
    assert_int_equal(ZwOpenKey(&h, KEY_READ, NULL), STATUS_INVALID_PARAMETER);
    assert_int_equal(key_open(&h, NULL, u"Registry\\Machine", KEY_READ, 0, 0, NULL),
                     STATUS_OBJECT_PATH_SYNTAX_BAD);
    assert_int_equal(key_open(&h, NULL, u"\\Foo\\Machine", KEY_READ, 0, 0, NULL),
                     STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(key_open(&h, NULL, SERVICES u"\\\\x", KEY_READ, 1, 0, NULL),
                     STATUS_OBJECT_NAME_INVALID);
    assert_int_equal(key_open(&h, NULL, SERVICES u"\\", KEY_READ, 0, 0, NULL),
                     STATUS_OBJECT_NAME_INVALID);
    assert_int_equal(key_open(&h, NULL, SERVICES u"\\x", KEY_READ, 1, 0x1000, NULL),
                     STATUS_INVALID_PARAMETER);
    /* a 256-character name is too long, 255 is fine */
    static uint16_t longname[600];
    size_t n = 0;
    for (const uint16_t *p = SERVICES u"\\"; *p; p++)
        longname[n++] = *p;
    for (int i = 0; i < 256; i++)
        longname[n + i] = 'a';
    assert_int_equal(key_open(&h, NULL, longname, KEY_READ, 1, 0, NULL),
                     STATUS_OBJECT_NAME_INVALID);
    longname[n + 255] = 0;
    assert_int_equal(key_open(&h, NULL, longname, KEY_READ, 1, 0, NULL), 0);
    ZwClose(h);
    assert_int_equal(ZwClose((HANDLE)(uintptr_t)0x1234), STATUS_INVALID_HANDLE);
    assert_int_equal(ZwClose(NULL), STATUS_INVALID_HANDLE);
    ULONG r;
    assert_int_equal(ZwQueryKey((HANDLE)(uintptr_t)8, KeyBasicInformation, NULL, 0, &r),
                     STATUS_INVALID_HANDLE);
}

CM_TEST(access_checks)
{
    HANDLE rw, ro, wo;
    ULONG v = 1, r;
    UCHAR buf[64];
    assert_int_equal(key_open(&rw, NULL, SERVICES u"\\acc", KEY_ALL_ACCESS, 1, 0, NULL), 0);
    assert_int_equal(key_open(&ro, NULL, SERVICES u"\\acc", KEY_READ, 0, 0, NULL), 0);
    assert_int_equal(key_open(&wo, NULL, SERVICES u"\\acc", KEY_SET_VALUE, 0, 0, NULL), 0);
    assert_int_equal(set_value(ro, u"v", REG_DWORD, &v, 4), STATUS_ACCESS_DENIED);
    assert_int_equal(set_value(wo, u"v", REG_DWORD, &v, 4), 0);
    UNICODE_STRING n = us(u"v");
    assert_int_equal(ZwQueryValueKey(wo, &n, KeyValuePartialInformation, buf, sizeof buf, &r),
                     STATUS_ACCESS_DENIED);
    assert_int_equal(ZwQueryValueKey(ro, &n, KeyValuePartialInformation, buf, sizeof buf, &r), 0);
    assert_int_equal(ZwEnumerateKey(wo, 0, KeyBasicInformation, buf, sizeof buf, &r),
                     STATUS_ACCESS_DENIED);
    assert_int_equal(ZwEnumerateValueKey(wo, 0, KeyValueBasicInformation, buf, sizeof buf, &r),
                     STATUS_ACCESS_DENIED);
    assert_int_equal(ZwQueryKey(wo, KeyFullInformation, buf, sizeof buf, &r), STATUS_ACCESS_DENIED);
    /* KeyNameInformation needs no access */
    UCHAR big[512];
    assert_int_equal(ZwQueryKey(wo, KeyNameInformation, big, sizeof big, &r), 0);
    assert_int_equal(ZwDeleteValueKey(ro, &n), STATUS_ACCESS_DENIED);
    assert_int_equal(ZwDeleteKey(ro), STATUS_ACCESS_DENIED); /* KEY_READ lacks DELETE */
    /* generic rights map to key rights */
    HANDLE g;
    assert_int_equal(key_open(&g, NULL, SERVICES u"\\acc", GENERIC_READ, 0, 0, NULL), 0);
    assert_int_equal(ZwQueryValueKey(g, &n, KeyValuePartialInformation, buf, sizeof buf, &r), 0);
    assert_int_equal(set_value(g, u"v", REG_DWORD, &v, 4), STATUS_ACCESS_DENIED);
    ZwClose(g);
    assert_int_equal(key_open(&g, NULL, SERVICES u"\\acc", MAXIMUM_ALLOWED, 0, 0, NULL), 0);
    assert_int_equal(set_value(g, u"v", REG_DWORD, &v, 4), 0);
    ZwClose(g);
    ZwClose(rw);
    ZwClose(ro);
    ZwClose(wo);
}

/* Sets a value of each type and reads it back whole. */
CM_TEST(every_value_type)
{
    HANDLE h;
    assert_int_equal(key_open(&h, NULL, SERVICES u"\\types", KEY_ALL_ACCESS, 1, 0, NULL), 0);
    static const uint16_t sz[] = u"text";
    static const uint16_t expand[] = u"%SystemRoot%\\x";
    static const uint16_t multi[] = u"a\0bc\0";
    static const uint16_t link[] = u"\\Registry\\Machine\\Software";
    ULONG dw = 0x12345678, be = 0x78563412;
    ULONGLONG qw = 0x1122334455667788ULL;
    UCHAR bin[5] = {1, 2, 3, 4, 5};
    struct {
        const uint16_t *name;
        ULONG type;
        const void *data;
        ULONG size;
    } vals[] = {
        {u"none", REG_NONE, NULL, 0},
        {u"sz", REG_SZ, sz, sizeof sz},
        {u"expand", REG_EXPAND_SZ, expand, sizeof expand},
        {u"bin", REG_BINARY, bin, sizeof bin},
        {u"dword", REG_DWORD, &dw, 4},
        {u"be", REG_DWORD_BIG_ENDIAN, &be, 4},
        {u"link", REG_LINK, link, sizeof link - 2},
        {u"multi", REG_MULTI_SZ, multi, sizeof multi},
        {u"res", REG_RESOURCE_LIST, bin, 3},
        {u"full", REG_FULL_RESOURCE_DESCRIPTOR, bin, 4},
        {u"req", REG_RESOURCE_REQUIREMENTS_LIST, bin, 5},
        {u"qword", REG_QWORD, &qw, 8},
        {u"", REG_SZ, sz, sizeof sz}, /* the default value */
        {u"odd type", 0x12345, bin, 2},
    };
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
        assert_int_equal(set_value(h, vals[i].name, vals[i].type, vals[i].data, vals[i].size), 0);
    UCHAR buf[256];
    ULONG r;
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        UNICODE_STRING n = us(vals[i].name);
        assert_int_equal(ZwQueryValueKey(h, &n, KeyValuePartialInformation, buf, sizeof buf, &r),
                         0);
        KEY_VALUE_PARTIAL_INFORMATION *p = (void *)buf;
        assert_int_equal(p->Type, vals[i].type);
        assert_int_equal(p->DataLength, vals[i].size);
        assert_int_equal(r, 12 + vals[i].size);
        if (vals[i].size)
            assert_memory_equal(p->Data, vals[i].data, vals[i].size);
    }
    /* replace changes type and size */
    assert_int_equal(set_value(h, u"dword", REG_QWORD, &qw, 8), 0);
    UNICODE_STRING n = us(u"DWORD");
    assert_int_equal(ZwQueryValueKey(h, &n, KeyValuePartialInformation, buf, sizeof buf, &r), 0);
    assert_int_equal(((KEY_VALUE_PARTIAL_INFORMATION *)buf)->Type, REG_QWORD);
    /* deleting */
    assert_int_equal(ZwDeleteValueKey(h, &n), 0);
    assert_int_equal(ZwDeleteValueKey(h, &n), STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(ZwQueryValueKey(h, &n, KeyValuePartialInformation, buf, sizeof buf, &r),
                     STATUS_OBJECT_NAME_NOT_FOUND);
    /* NULL data with a size, and a value name too long */
    assert_int_equal(set_value(h, u"x", REG_BINARY, NULL, 4), STATUS_ACCESS_VIOLATION);
    static uint16_t longname[16390];
    for (int i = 0; i < 16384; i++)
        longname[i] = 'v';
    assert_int_equal(set_value(h, longname, REG_DWORD, &dw, 4), STATUS_INVALID_PARAMETER);
    longname[16383] = 0;
    assert_int_equal(set_value(h, longname, REG_DWORD, &dw, 4), 0);
    void *huge = calloc(1, (1 << 20) + 1);
    assert_int_equal(set_value(h, u"huge", REG_BINARY, huge, (1 << 20) + 1),
                     STATUS_INSUFFICIENT_RESOURCES);
    assert_int_equal(set_value(h, u"huge", REG_BINARY, huge, 1 << 20), 0);
    free(huge);
    ZwClose(h);
}

/* Every value information class: too small, overflow, exact. */
CM_TEST(value_information_classes)
{
    HANDLE h;
    assert_int_equal(key_open(&h, NULL, SERVICES u"\\vinfo", KEY_ALL_ACCESS, 1, 0, NULL), 0);
    static const UCHAR data[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    assert_int_equal(set_value(h, u"abc", REG_BINARY, data, sizeof data), 0);
    UNICODE_STRING n = us(u"abc");
    UCHAR buf[128];
    ULONG r;
    /* Basic: fixed 12 + name 6 */
    memset(buf, 0xEE, sizeof buf);
    assert_int_equal(ZwQueryValueKey(h, &n, KeyValueBasicInformation, buf, 11, &r),
                     STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(r, 18);
    assert_int_equal(buf[0], 0xEE); /* nothing written */
    assert_int_equal(ZwQueryValueKey(h, &n, KeyValueBasicInformation, buf, 12, &r),
                     STATUS_BUFFER_OVERFLOW);
    assert_int_equal(r, 18);
    KEY_VALUE_BASIC_INFORMATION *b = (void *)buf;
    assert_int_equal(b->Type, REG_BINARY);
    assert_int_equal(b->NameLength, 6);
    assert_int_equal(buf[12], 0xEE);
    assert_int_equal(ZwQueryValueKey(h, &n, KeyValueBasicInformation, buf, 14, &r),
                     STATUS_BUFFER_OVERFLOW);
    assert_int_equal(b->Name[0], 'a'); /* what fits is there */
    assert_int_equal(buf[14], 0xEE);
    assert_int_equal(ZwQueryValueKey(h, &n, KeyValueBasicInformation, buf, 18, &r), 0);
    assert_memory_equal(b->Name, u"abc", 6);
    /* Full: fixed 20, name 6, data at align4(26) = 28, total 38 */
    assert_int_equal(ZwQueryValueKey(h, &n, KeyValueFullInformation, buf, 19, &r),
                     STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(r, 38);
    assert_int_equal(ZwQueryValueKey(h, &n, KeyValueFullInformation, buf, 20, &r),
                     STATUS_BUFFER_OVERFLOW);
    assert_int_equal(ZwQueryValueKey(h, &n, KeyValueFullInformation, buf, 38, &r), 0);
    KEY_VALUE_FULL_INFORMATION *f = (void *)buf;
    assert_int_equal(f->DataOffset, 28);
    assert_int_equal(f->DataLength, 10);
    assert_int_equal(f->NameLength, 6);
    assert_memory_equal(buf + f->DataOffset, data, 10);
    /* Full, 64-bit aligned data: align8(26) = 32, total 42 */
    assert_int_equal(ZwQueryValueKey(h, &n, KeyValueFullInformationAlign64, buf, 64, &r), 0);
    assert_int_equal(r, 42);
    assert_int_equal(f->DataOffset, 32);
    /* Partial: fixed 12 + 10 */
    assert_int_equal(ZwQueryValueKey(h, &n, KeyValuePartialInformation, buf, 11, &r),
                     STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(r, 22);
    assert_int_equal(ZwQueryValueKey(h, &n, KeyValuePartialInformation, buf, 21, &r),
                     STATUS_BUFFER_OVERFLOW);
    assert_int_equal(ZwQueryValueKey(h, &n, KeyValuePartialInformation, buf, 22, &r), 0);
    /* Partial Align64: fixed 8 */
    assert_int_equal(ZwQueryValueKey(h, &n, KeyValuePartialInformationAlign64, buf, 7, &r),
                     STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(r, 18);
    assert_int_equal(ZwQueryValueKey(h, &n, KeyValuePartialInformationAlign64, buf, 64, &r), 0);
    KEY_VALUE_PARTIAL_INFORMATION_ALIGN64 *p64 = (void *)buf;
    assert_int_equal(p64->Type, REG_BINARY);
    assert_int_equal(p64->DataLength, 10);
    /* bad classes */
    assert_int_equal(ZwQueryValueKey(h, &n, KeyValueLayerInformation, buf, 64, &r),
                     STATUS_INVALID_PARAMETER);
    assert_int_equal(ZwQueryValueKey(h, &n, (KEY_VALUE_INFORMATION_CLASS)99, buf, 64, &r),
                     STATUS_INVALID_PARAMETER);
    /* a zero-length buffer still reports the size */
    assert_int_equal(ZwQueryValueKey(h, &n, KeyValuePartialInformation, NULL, 0, &r),
                     STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(r, 22);
    ZwClose(h);
}

CM_TEST(key_information_classes)
{
    HANDLE h, c;
    static const uint16_t cls[] = u"MyClass";
    UNICODE_STRING name = us(SERVICES u"\\kinfo"), clsname = us(cls);
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, &name, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, NULL, NULL);
    assert_int_equal(ZwCreateKey(&h, KEY_ALL_ACCESS, &oa, 0, &clsname, 0, NULL), 0);
    assert_int_equal(key_open(&c, h, u"longer-child", KEY_ALL_ACCESS, 1, 0, NULL), 0);
    ZwClose(c);
    assert_int_equal(key_open(&c, h, u"b", KEY_ALL_ACCESS, 1, 0, NULL), 0);
    ZwClose(c);
    ULONG dw = 5;
    assert_int_equal(set_value(h, u"valuename", REG_DWORD, &dw, 4), 0);
    assert_int_equal(set_value(h, u"v", REG_BINARY, "0123456789", 10), 0);
    UCHAR buf[512];
    ULONG r;
    /* Basic: 16 + "kinfo" (10) */
    assert_int_equal(ZwQueryKey(h, KeyBasicInformation, buf, 15, &r), STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(r, 26);
    assert_int_equal(ZwQueryKey(h, KeyBasicInformation, buf, 16, &r), STATUS_BUFFER_OVERFLOW);
    assert_int_equal(ZwQueryKey(h, KeyBasicInformation, buf, sizeof buf, &r), 0);
    KEY_BASIC_INFORMATION *kb = (void *)buf;
    assert_int_equal(kb->NameLength, 10);
    assert_memory_equal(kb->Name, u"kinfo", 10);
    assert_true(kb->LastWriteTime.QuadPart > 0);
    /* Node: 24 + name 10, class at align4(34) = 36, 14 bytes: 50 */
    assert_int_equal(ZwQueryKey(h, KeyNodeInformation, buf, 23, &r), STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(r, 50);
    assert_int_equal(ZwQueryKey(h, KeyNodeInformation, buf, sizeof buf, &r), 0);
    KEY_NODE_INFORMATION *kn = (void *)buf;
    assert_int_equal(kn->ClassOffset, 36);
    assert_int_equal(kn->ClassLength, 14);
    assert_memory_equal(buf + 36, cls, 14);
    /* Full: 44 + class */
    assert_int_equal(ZwQueryKey(h, KeyFullInformation, buf, 43, &r), STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(r, 58);
    assert_int_equal(ZwQueryKey(h, KeyFullInformation, buf, 44, &r), STATUS_BUFFER_OVERFLOW);
    assert_int_equal(ZwQueryKey(h, KeyFullInformation, buf, sizeof buf, &r), 0);
    KEY_FULL_INFORMATION *kf = (void *)buf;
    assert_int_equal(kf->SubKeys, 2);
    assert_int_equal(kf->MaxNameLen, 24);
    assert_int_equal(kf->Values, 2);
    assert_int_equal(kf->MaxValueNameLen, 18);
    assert_int_equal(kf->MaxValueDataLen, 10);
    assert_int_equal(kf->ClassOffset, 44);
    /* Name: the full path through the link's target */
    assert_int_equal(ZwQueryKey(h, KeyNameInformation, buf, 3, &r), STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(ZwQueryKey(h, KeyNameInformation, buf, sizeof buf, &r), 0);
    KEY_NAME_INFORMATION *kname = (void *)buf;
    static const uint16_t expect[] = u"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Services\\kinfo";
    assert_int_equal(kname->NameLength, sizeof expect - 2);
    assert_memory_equal(kname->Name, expect, sizeof expect - 2);
    /* Cached: fixed 40 */
    assert_int_equal(ZwQueryKey(h, KeyCachedInformation, buf, 39, &r), STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(ZwQueryKey(h, KeyCachedInformation, buf, 40, &r), 0);
    KEY_CACHED_INFORMATION *kc = (void *)buf;
    assert_int_equal(kc->SubKeys, 2);
    assert_int_equal(kc->Values, 2);
    assert_int_equal(kc->NameLength, 10);
    /* small fixed classes */
    assert_int_equal(ZwQueryKey(h, KeyFlagsInformation, buf, 12, &r), 0);
    assert_int_equal(ZwQueryKey(h, KeyVirtualizationInformation, buf, 4, &r), 0);
    assert_int_equal(ZwQueryKey(h, KeyHandleTagsInformation, buf, 4, &r), 0);
    assert_int_equal(ZwQueryKey(h, KeyTrustInformation, buf, 3, &r), STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(ZwQueryKey(h, KeyLayerInformation, buf, 4, &r), 0);
    assert_int_equal(ZwQueryKey(h, MaxKeyInfoClass, buf, sizeof buf, &r), STATUS_INVALID_PARAMETER);
    ZwClose(h);
}

CM_TEST(enumeration)
{
    HANDLE h, c;
    assert_int_equal(key_open(&h, NULL, SERVICES u"\\enum", KEY_ALL_ACCESS, 1, 0, NULL), 0);
    const uint16_t *names[] = {u"zeta", u"Alpha", u"mid"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(key_open(&c, h, names[i], KEY_ALL_ACCESS, 1, 0, NULL), 0);
        ZwClose(c);
        ULONG v = (ULONG)i;
        assert_int_equal(set_value(h, names[i], REG_DWORD, &v, 4), 0);
    }
    UCHAR buf[256];
    ULONG r;
    /* subkeys come sorted (case-insensitively) */
    const uint16_t *sorted[] = {u"Alpha", u"mid", u"zeta"};
    for (ULONG i = 0; i < 3; i++) {
        assert_int_equal(ZwEnumerateKey(h, i, KeyBasicInformation, buf, sizeof buf, &r), 0);
        KEY_BASIC_INFORMATION *kb = (void *)buf;
        UNICODE_STRING want = us(sorted[i]);
        assert_int_equal(kb->NameLength, want.Length);
        assert_memory_equal(kb->Name, want.Buffer, want.Length);
    }
    assert_int_equal(ZwEnumerateKey(h, 3, KeyBasicInformation, buf, sizeof buf, &r),
                     STATUS_NO_MORE_ENTRIES);
    assert_int_equal(ZwEnumerateKey(h, 0, KeyNameInformation, buf, sizeof buf, &r),
                     STATUS_INVALID_PARAMETER);
    assert_int_equal(ZwEnumerateKey(h, 0, KeyNodeInformation, buf, 10, &r),
                     STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(ZwEnumerateKey(h, 0, KeyFullInformation, buf, sizeof buf, &r), 0);
    /* values come in creation order */
    for (ULONG i = 0; i < 3; i++) {
        assert_int_equal(ZwEnumerateValueKey(h, i, KeyValueFullInformation, buf, sizeof buf, &r),
                         0);
        KEY_VALUE_FULL_INFORMATION *f = (void *)buf;
        ULONG v;
        memcpy(&v, buf + f->DataOffset, 4);
        assert_int_equal(v, i);
    }
    assert_int_equal(ZwEnumerateValueKey(h, 3, KeyValueBasicInformation, buf, sizeof buf, &r),
                     STATUS_NO_MORE_ENTRIES);
    assert_int_equal(ZwEnumerateValueKey(h, 0, KeyValueBasicInformation, buf, 4, &r),
                     STATUS_BUFFER_TOO_SMALL);
    ZwClose(h);
}

CM_TEST(delete_key)
{
    HANDLE h, c, c2;
    assert_int_equal(key_open(&h, NULL, SERVICES u"\\del", KEY_ALL_ACCESS, 1, 0, NULL), 0);
    assert_int_equal(key_open(&c, h, u"kid", KEY_ALL_ACCESS, 1, 0, NULL), 0);
    assert_int_equal(key_open(&c2, h, u"kid", KEY_READ, 0, 0, NULL), 0);
    assert_int_equal(ZwDeleteKey(h), STATUS_CANNOT_DELETE); /* subkeys first */
    ULONG v = 1, r;
    assert_int_equal(set_value(c, u"x", REG_DWORD, &v, 4), 0);
    assert_int_equal(ZwDeleteKey(c), 0);
    /* every handle to the deleted key is now useless but must be closed */
    UCHAR buf[64];
    assert_int_equal(ZwQueryKey(c2, KeyBasicInformation, buf, sizeof buf, &r), STATUS_KEY_DELETED);
    assert_int_equal(set_value(c, u"x", REG_DWORD, &v, 4), STATUS_KEY_DELETED);
    assert_int_equal(ZwDeleteKey(c), STATUS_KEY_DELETED);
    assert_int_equal(key_open(&c, h, u"kid", KEY_READ, 0, 0, NULL), STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(ZwClose(c2), 0);
    assert_int_equal(ZwDeleteKey(h), 0);
    ZwClose(h);
    /* the hive roots stay */
    HANDLE sys;
    assert_int_equal(
        key_open(&sys, NULL, u"\\Registry\\Machine\\System", KEY_ALL_ACCESS, 0, 0, NULL), 0);
    assert_int_equal(ZwDeleteKey(sys), STATUS_CANNOT_DELETE);
    ZwClose(sys);
}

CM_TEST(links_and_volatile)
{
    HANDLE h, v, c;
    ULONG disp;
    /* CurrentControlSet is a link to ControlSet001 */
    assert_int_equal(key_open(&h, NULL, u"\\Registry\\Machine\\System\\ControlSet001\\Services",
                              KEY_READ, 0, 0, NULL),
                     0);
    ZwClose(h);
    assert_int_equal(key_open(&h, NULL, u"\\Registry\\Machine\\System\\CurrentControlSet", KEY_READ,
                              0, REG_OPTION_OPEN_LINK, NULL),
                     0);
    ZwClose(h);
    UNICODE_STRING name = us(u"\\Registry\\Machine\\System\\CurrentControlSet");
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, &name, OBJ_CASE_INSENSITIVE | OBJ_OPENLINK, NULL, NULL);
    assert_int_equal(ZwOpenKey(&h, KEY_READ, &oa), 0);
    UCHAR buf[256];
    ULONG r;
    assert_int_equal(ZwQueryKey(h, KeyFlagsInformation, buf, sizeof buf, &r), 0);
    assert_int_equal(((KEY_FLAGS_INFORMATION *)buf)->KeyFlags, 3); /* volatile | link */
    ZwClose(h);
    /* a driver-made link */
    assert_int_equal(key_open(&h, NULL, SERVICES u"\\mylink", KEY_ALL_ACCESS | KEY_CREATE_LINK, 1,
                              REG_OPTION_CREATE_LINK | REG_OPTION_VOLATILE, &disp),
                     0);
    assert_int_equal(disp, REG_CREATED_NEW_KEY);
    static const uint16_t target[] = u"\\Registry\\Machine\\Software";
    assert_int_equal(set_value(h, u"SymbolicLinkValue", REG_LINK, target, sizeof target - 2), 0);
    ZwClose(h);
    assert_int_equal(key_open(&h, NULL, SERVICES u"\\mylink\\Microsoft", KEY_READ, 0, 0, NULL), 0);
    ZwClose(h);
    assert_int_equal(key_open(&h, NULL, SERVICES u"\\mylink", KEY_ALL_ACCESS, 1,
                              REG_OPTION_CREATE_LINK | REG_OPTION_VOLATILE, NULL),
                     STATUS_OBJECT_NAME_COLLISION);
    /* a link loop fails instead of hanging */
    assert_int_equal(key_open(&h, NULL, SERVICES u"\\loop", KEY_ALL_ACCESS, 1,
                              REG_OPTION_CREATE_LINK | REG_OPTION_VOLATILE, NULL),
                     0);
    static const uint16_t self[] = SERVICES u"\\loop";
    assert_int_equal(set_value(h, u"SymbolicLinkValue", REG_LINK, self, sizeof self - 2), 0);
    ZwClose(h);
    assert_int_equal(key_open(&h, NULL, SERVICES u"\\loop", KEY_READ, 0, 0, NULL),
                     STATUS_OBJECT_NAME_NOT_FOUND);
    /* volatile keys: only volatile children */
    assert_int_equal(
        key_open(&v, NULL, SERVICES u"\\vol", KEY_ALL_ACCESS, 1, REG_OPTION_VOLATILE, NULL), 0);
    assert_int_equal(key_open(&c, v, u"nv", KEY_ALL_ACCESS, 1, 0, NULL),
                     STATUS_CHILD_MUST_BE_VOLATILE);
    assert_int_equal(key_open(&c, v, u"vv", KEY_ALL_ACCESS, 1, REG_OPTION_VOLATILE, NULL), 0);
    ZwClose(c);
    ZwClose(v);
}

CM_TEST(flush_without_hive)
{
    HANDLE h;
    assert_int_equal(key_open(&h, NULL, SERVICES, KEY_READ, 0, 0, NULL), 0);
    assert_int_equal(ZwFlushKey(h), 0);
    ZwClose(h);
    assert_int_equal(ZwFlushKey(h), STATUS_INVALID_HANDLE);
}

CM_TEST(handle_table_grows)
{
    static HANDLE hs[300];
    for (int i = 0; i < 300; i++)
        assert_int_equal(key_open(&hs[i], NULL, SERVICES, KEY_READ, 0, 0, NULL), 0);
    for (int i = 0; i < 300; i += 2)
        assert_int_equal(ZwClose(hs[i]), 0);
    for (int i = 0; i < 300; i += 2)
        assert_int_equal(key_open(&hs[i], NULL, SERVICES, KEY_READ, 0, 0, NULL), 0);
    for (int i = 0; i < 300; i++)
        assert_int_equal(ZwClose(hs[i]), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_open_disposition),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_access_checks),
        cmocka_unit_test(test_every_value_type),
        cmocka_unit_test(test_value_information_classes),
        cmocka_unit_test(test_key_information_classes),
        cmocka_unit_test(test_enumeration),
        cmocka_unit_test(test_delete_key),
        cmocka_unit_test(test_links_and_volatile),
        cmocka_unit_test(test_flush_without_hive),
        cmocka_unit_test(test_handle_table_grows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
