/*
 * tests/cm/test_layout.c - x64 layouts of the registry structures
 * (include/ddk/wdm/registry.h) against spec/ke_rtl_registry.md 9.
 */
#include "cm_test.h"

#define OFF(t, f, v) _Static_assert(offsetof(t, f) == (v), #t "." #f)

OFF(OBJECT_ATTRIBUTES, RootDirectory, 8);
OFF(OBJECT_ATTRIBUTES, ObjectName, 16);
OFF(OBJECT_ATTRIBUTES, Attributes, 24);
OFF(OBJECT_ATTRIBUTES, SecurityDescriptor, 32);
OFF(OBJECT_ATTRIBUTES, SecurityQualityOfService, 40);
_Static_assert(sizeof(OBJECT_ATTRIBUTES) == 48, "OBJECT_ATTRIBUTES");
OFF(KEY_VALUE_BASIC_INFORMATION, Type, 4);
OFF(KEY_VALUE_BASIC_INFORMATION, NameLength, 8);
OFF(KEY_VALUE_BASIC_INFORMATION, Name, 12);
OFF(KEY_VALUE_FULL_INFORMATION, DataOffset, 8);
OFF(KEY_VALUE_FULL_INFORMATION, DataLength, 12);
OFF(KEY_VALUE_FULL_INFORMATION, NameLength, 16);
OFF(KEY_VALUE_FULL_INFORMATION, Name, 20);
OFF(KEY_VALUE_PARTIAL_INFORMATION, DataLength, 8);
OFF(KEY_VALUE_PARTIAL_INFORMATION, Data, 12);
OFF(KEY_VALUE_PARTIAL_INFORMATION_ALIGN64, Data, 8);
OFF(KEY_BASIC_INFORMATION, TitleIndex, 8);
OFF(KEY_BASIC_INFORMATION, NameLength, 12);
OFF(KEY_BASIC_INFORMATION, Name, 16);
OFF(KEY_NODE_INFORMATION, ClassOffset, 12);
OFF(KEY_NODE_INFORMATION, ClassLength, 16);
OFF(KEY_NODE_INFORMATION, NameLength, 20);
OFF(KEY_NODE_INFORMATION, Name, 24);
OFF(KEY_FULL_INFORMATION, SubKeys, 20);
OFF(KEY_FULL_INFORMATION, Values, 32);
OFF(KEY_FULL_INFORMATION, MaxValueDataLen, 40);
OFF(KEY_FULL_INFORMATION, Class, 44);
OFF(KEY_NAME_INFORMATION, Name, 4);
OFF(KEY_CACHED_INFORMATION, NameLength, 32);
_Static_assert(sizeof(KEY_CACHED_INFORMATION) == 40, "KEY_CACHED_INFORMATION");
_Static_assert(sizeof(KEY_FLAGS_INFORMATION) == 12, "KEY_FLAGS_INFORMATION");
OFF(RTL_QUERY_REGISTRY_TABLE, Flags, 8);
OFF(RTL_QUERY_REGISTRY_TABLE, Name, 16);
OFF(RTL_QUERY_REGISTRY_TABLE, EntryContext, 24);
OFF(RTL_QUERY_REGISTRY_TABLE, DefaultType, 32);
OFF(RTL_QUERY_REGISTRY_TABLE, DefaultData, 40);
OFF(RTL_QUERY_REGISTRY_TABLE, DefaultLength, 48);
_Static_assert(sizeof(RTL_QUERY_REGISTRY_TABLE) == 56, "RTL_QUERY_REGISTRY_TABLE");
_Static_assert(sizeof(GUID) == 16, "GUID");
_Static_assert(KEY_READ == 0x20019 && KEY_WRITE == 0x20006 && KEY_ALL_ACCESS == 0xF003F,
               "access masks");

static void test_values(void **state)
{
    (void)state;
    assert_int_equal(REG_QWORD, 11);
    assert_int_equal(REG_RESOURCE_REQUIREMENTS_LIST, 10);
    assert_int_equal(RTL_QUERY_REGISTRY_TYPECHECK, 0x100);
    assert_int_equal(OBJ_KERNEL_HANDLE, 0x200);
    assert_int_equal(RTL_REGISTRY_HANDLE, 0x40000000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_values)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
