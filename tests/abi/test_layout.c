/*
 * tests/abi/test_layout.c - the layout assertions in wdmsim's own (host)
 * view of include/ddk, and the helper macros at run time.
 *
 * Models: wdmsim reads the structures drivers build; both views must agree
 * (tests/abi/layout_driver.c is the driver view of the same assertions).
 * Spec: tests/abi/layout.h; spec/ke_rtl_registry.md 5, 7.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <wdm.h>
#include "layout.h"

_Static_assert(sizeof(WCHAR) == 2 && sizeof(wchar_t) == 4, "host WCHAR is not glibc's wchar_t");

struct record {
    ULONG Tag;
    LIST_ENTRY Link;
    UCHAR Payload[3];
};

static void containing_record_maps_back(void **state)
{
    (void)state;
    struct record r;
    PLIST_ENTRY entry = &r.Link;
    assert_ptr_equal(CONTAINING_RECORD(entry, struct record, Link), &r);
    assert_int_equal(FIELD_OFFSET(struct record, Link), 8);
    assert_int_equal(FIELD_OFFSET(struct record, Payload), 24);
    assert_int_equal(sizeof(FIELD_OFFSET(struct record, Payload)), sizeof(LONG));
    assert_int_equal(RTL_FIELD_SIZE(struct record, Payload), 3);
    assert_int_equal(RTL_SIZEOF_THROUGH_FIELD(struct record, Payload), 27);
}

static void nt_success_classes(void **state)
{
    (void)state;
    NTSTATUS statuses[] = {STATUS_SUCCESS, STATUS_PENDING, STATUS_BUFFER_OVERFLOW,
                           STATUS_UNSUCCESSFUL};
    assert_true(NT_SUCCESS(statuses[0]));
    assert_true(NT_SUCCESS(statuses[1]));
    assert_false(NT_SUCCESS(statuses[2]));
    assert_true(NT_WARNING(statuses[2]));
    assert_false(NT_SUCCESS(statuses[3]));
    assert_true(NT_ERROR(statuses[3]));
}

static void constant_string_lengths(void **state)
{
    (void)state;
    static const char text[] = "wdmsim";
    ANSI_STRING s = RTL_CONSTANT_STRING(text);
    assert_int_equal(s.Length, 6);
    assert_int_equal(s.MaximumLength, 7);
    assert_ptr_equal(s.Buffer, text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(containing_record_maps_back),
        cmocka_unit_test(nt_success_classes),
        cmocka_unit_test(constant_string_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
