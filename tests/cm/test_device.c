/*
 * tests/cm/test_device.c - IoOpenDeviceRegistryKey,
 * IoOpenDeviceInterfaceRegistryKey and IoGetDeviceProperty
 * (src/cm/device.c), with devices declared the way the PnP manager will.
 */
#include "cm_test.h"

#include "sys.h"

#define NET_GUID "{4d36e972-e325-11ce-bfc1-08002be10318}"

static DEVICE_OBJECT pdo, pdo2, not_a_pdo;

static void declare(void)
{
    struct cm *cm = &sys_get()->cm;
    assert_int_equal(cm_device_add(cm, &pdo, "PCI\\VEN_8086&DEV_100E\\3&1&0", NET_GUID,
                                   "Intel PRO/1000", "PCI\\VEN_8086&DEV_100E"),
                     0);
    assert_int_equal(cm_device_add(cm, &pdo2, "ROOT\\SAMPLE\\0000", NET_GUID, NULL, NULL), 0);
    assert_int_equal(cm_device_add(cm, &pdo2, "ROOT\\SAMPLE\\0001", NULL, NULL, NULL), -1);
}

CM_TEST(device_keys)
{
    declare();
    HANDLE h, h2;
    ULONG v = 5, r;
    assert_int_equal(IoOpenDeviceRegistryKey(&pdo, PLUGPLAY_REGKEY_DEVICE, KEY_ALL_ACCESS, &h), 0);
    assert_int_equal(set_value(h, u"Knob", REG_DWORD, &v, 4), 0);
    UCHAR buf[512];
    assert_int_equal(ZwQueryKey(h, KeyNameInformation, buf, sizeof buf, &r), 0);
    static const uint16_t hw[] = u"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Enum\\PCI\\"
                                 u"VEN_8086&DEV_100E\\3&1&0\\Device Parameters";
    assert_int_equal(((KEY_NAME_INFORMATION *)buf)->NameLength, sizeof hw - 2);
    assert_memory_equal(((KEY_NAME_INFORMATION *)buf)->Name, hw, sizeof hw - 2);
    ZwClose(h);
    /* the same key again, with the deprecated profile flag */
    assert_int_equal(
        IoOpenDeviceRegistryKey(&pdo, PLUGPLAY_REGKEY_DEVICE | PLUGPLAY_REGKEY_CURRENT_HWPROFILE,
                                KEY_READ, &h),
        0);
    UNICODE_STRING n = us(u"Knob");
    assert_int_equal(ZwQueryValueKey(h, &n, KeyValuePartialInformation, buf, sizeof buf, &r), 0);
    ZwClose(h);
    /* software keys: NNNN per device of the class */
    assert_int_equal(IoOpenDeviceRegistryKey(&pdo, PLUGPLAY_REGKEY_DRIVER, KEY_READ, &h), 0);
    assert_int_equal(IoOpenDeviceRegistryKey(&pdo2, PLUGPLAY_REGKEY_DRIVER, KEY_READ, &h2), 0);
    assert_int_equal(ZwQueryKey(h2, KeyBasicInformation, buf, sizeof buf, &r), 0);
    assert_memory_equal(((KEY_BASIC_INFORMATION *)buf)->Name, u"0001", 8);
    ZwClose(h);
    ZwClose(h2);
    /* bad flags, non-PDO */
    assert_int_equal(IoOpenDeviceRegistryKey(&pdo, 3, KEY_READ, &h), STATUS_INVALID_PARAMETER);
    assert_int_equal(IoOpenDeviceRegistryKey(&pdo, 0, KEY_READ, &h), STATUS_INVALID_PARAMETER);
    assert_int_equal(IoOpenDeviceRegistryKey(&pdo, PLUGPLAY_REGKEY_CURRENT_HWPROFILE, KEY_READ, &h),
                     STATUS_INVALID_PARAMETER);
    assert_int_equal(IoOpenDeviceRegistryKey(&not_a_pdo, PLUGPLAY_REGKEY_DEVICE, KEY_READ, &h),
                     STATUS_INVALID_PARAMETER);
    assert_int_equal(IoOpenDeviceRegistryKey(NULL, PLUGPLAY_REGKEY_DEVICE, KEY_READ, &h),
                     STATUS_INVALID_PARAMETER);
}

CM_TEST(device_properties)
{
    declare();
    UCHAR buf[256];
    ULONG r = 0;
    /* strings: too small reports the size */
    assert_int_equal(IoGetDeviceProperty(&pdo, DevicePropertyDeviceDescription, 4, buf, &r),
                     STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(r, 30);
    assert_int_equal(IoGetDeviceProperty(&pdo, DevicePropertyDeviceDescription, 30, buf, &r), 0);
    assert_memory_equal(buf, u"Intel PRO/1000", 30);
    assert_int_equal(IoGetDeviceProperty(&pdo, DevicePropertyHardwareID, sizeof buf, buf, &r), 0);
    assert_int_equal(r, (21 + 2) * 2); /* one string, its NUL and the list's NUL */
    assert_int_equal(IoGetDeviceProperty(&pdo, DevicePropertyClassGuid, sizeof buf, buf, &r), 0);
    assert_int_equal(r, 39 * 2);
    assert_int_equal(IoGetDeviceProperty(&pdo, DevicePropertyDriverKeyName, sizeof buf, buf, &r),
                     0);
    assert_memory_equal(buf + 39 * 2 - 2, u"\\0000", 12);
    assert_int_equal(IoGetDeviceProperty(&pdo, DevicePropertyEnumeratorName, sizeof buf, buf, &r),
                     0);
    assert_memory_equal(buf, u"PCI", 8);
    assert_int_equal(
        IoGetDeviceProperty(&pdo, DevicePropertyPhysicalDeviceObjectName, sizeof buf, buf, &r), 0);
    assert_memory_equal(buf, u"\\Device\\00000001", 34);
    /* numbers and GUIDs */
    ULONG u = 99;
    assert_int_equal(IoGetDeviceProperty(&pdo, DevicePropertyBusNumber, 4, &u, &r), 0);
    assert_int_equal(u, 0);
    assert_int_equal(IoGetDeviceProperty(&pdo, DevicePropertyAddress, 3, &u, &r),
                     STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(r, 4);
    assert_int_equal(IoGetDeviceProperty(&pdo, DevicePropertyLegacyBusType, 4, &u, &r), 0);
    assert_int_equal(u, 5); /* PCIBus */
    assert_int_equal(IoGetDeviceProperty(&pdo2, DevicePropertyLegacyBusType, 4, &u, &r), 0);
    assert_int_equal(u, 0); /* Internal */
    GUID g;
    assert_int_equal(IoGetDeviceProperty(&pdo, DevicePropertyBusTypeGuid, sizeof g, &g, &r), 0);
    assert_int_equal(g.Data1, 0xc8ebdfb0);
    assert_int_equal(IoGetDeviceProperty(&pdo, DevicePropertyInstallState, 4, &u, &r), 0);
    assert_int_equal(IoGetDeviceProperty(&pdo, DevicePropertyRemovalPolicy, 4, &u, &r), 0);
    assert_int_equal(IoGetDeviceProperty(&pdo, DevicePropertyUINumber, 4, &u, &r), 0);
    /* absent, unknown, non-PDO */
    assert_int_equal(IoGetDeviceProperty(&pdo, DevicePropertyFriendlyName, sizeof buf, buf, &r),
                     STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(
        IoGetDeviceProperty(&pdo2, DevicePropertyDeviceDescription, sizeof buf, buf, &r),
        STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(IoGetDeviceProperty(&pdo, (DEVICE_REGISTRY_PROPERTY)0x40, sizeof buf, buf, &r),
                     STATUS_INVALID_PARAMETER_2);
    assert_int_equal(IoGetDeviceProperty(&not_a_pdo, DevicePropertyBusNumber, 4, &u, &r),
                     STATUS_INVALID_DEVICE_REQUEST);
    /* a property set in the Enum key by a .reg file or an installer */
    HANDLE h;
    static const uint16_t fn[] = u"NIC 1";
    assert_int_equal(key_open(&h, NULL,
                              u"\\Registry\\Machine\\System\\CurrentControlSet\\Enum\\PCI\\"
                              u"VEN_8086&DEV_100E\\3&1&0",
                              KEY_SET_VALUE, 0, 0, NULL),
                     0);
    assert_int_equal(set_value(h, u"FriendlyName", REG_SZ, fn, sizeof fn), 0);
    ZwClose(h);
    assert_int_equal(IoGetDeviceProperty(&pdo, DevicePropertyFriendlyName, sizeof buf, buf, &r), 0);
    assert_memory_equal(buf, fn, sizeof fn);
}

CM_TEST(interface_keys)
{
    struct cm *cm = &sys_get()->cm;
    assert_int_equal(cm_interface_add(cm, "\\??\\ROOT#SAMPLE#0000#" NET_GUID), 0);
    assert_int_equal(cm_interface_add(cm, "\\??\\ROOT#SAMPLE#0000#" NET_GUID "\\port1"), 0);
    assert_int_equal(cm_interface_add(cm, "no link"), -1);
    HANDLE h;
    UNICODE_STRING link = us(u"\\??\\ROOT#SAMPLE#0000#{4d36e972-e325-11ce-bfc1-08002be10318}");
    assert_int_equal(IoOpenDeviceInterfaceRegistryKey(&link, KEY_ALL_ACCESS, &h), 0);
    ULONG v = 1, r;
    assert_int_equal(set_value(h, u"x", REG_DWORD, &v, 4), 0);
    UCHAR buf[512];
    assert_int_equal(ZwQueryKey(h, KeyNameInformation, buf, sizeof buf, &r), 0);
    static const uint16_t want[] =
        u"\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Control\\DeviceClasses\\"
        u"{4d36e972-e325-11ce-bfc1-08002be10318}\\##?#ROOT#SAMPLE#0000#"
        u"{4d36e972-e325-11ce-bfc1-08002be10318}\\#\\Device Parameters";
    assert_int_equal(((KEY_NAME_INFORMATION *)buf)->NameLength, sizeof want - 2);
    ZwClose(h);
    UNICODE_STRING ref =
        us(u"\\??\\ROOT#SAMPLE#0000#{4d36e972-e325-11ce-bfc1-08002be10318}\\port1");
    assert_int_equal(IoOpenDeviceInterfaceRegistryKey(&ref, KEY_READ, &h), 0);
    ZwClose(h);
    UNICODE_STRING badref =
        us(u"\\??\\ROOT#SAMPLE#0000#{4d36e972-e325-11ce-bfc1-08002be10318}\\port2");
    assert_int_equal(IoOpenDeviceInterfaceRegistryKey(&badref, KEY_READ, &h),
                     STATUS_OBJECT_PATH_NOT_FOUND);
    UNICODE_STRING other = us(u"\\??\\ROOT#OTHER#0000#{4d36e972-e325-11ce-bfc1-08002be10318}");
    assert_int_equal(IoOpenDeviceInterfaceRegistryKey(&other, KEY_READ, &h),
                     STATUS_OBJECT_NAME_NOT_FOUND);
    UNICODE_STRING noclass = us(u"\\??\\ROOT#SAMPLE#0000#{00000000-0000-0000-0000-000000000000}");
    assert_int_equal(IoOpenDeviceInterfaceRegistryKey(&noclass, KEY_READ, &h),
                     STATUS_OBJECT_NAME_NOT_FOUND);
    UNICODE_STRING junk = us(u"ROOT#SAMPLE");
    assert_int_equal(IoOpenDeviceInterfaceRegistryKey(&junk, KEY_READ, &h),
                     STATUS_INVALID_PARAMETER);
    assert_int_equal(IoOpenDeviceInterfaceRegistryKey(NULL, KEY_READ, &h),
                     STATUS_INVALID_PARAMETER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_device_keys),
        cmocka_unit_test(test_device_properties),
        cmocka_unit_test(test_interface_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
