/*
 * src/cm/device.c - IoOpenDeviceRegistryKey, IoOpenDeviceInterfaceRegistryKey,
 * IoGetDeviceProperty, and the device records the PnP manager declares.
 *
 * Models: spec/ke_rtl_registry.md 9 "Device keys". A PDO's hardware key is
 * ...\CurrentControlSet\Enum\<instance>\Device Parameters, its software key
 * ...\Control\Class\{guid}\NNNN; both are created on first open, nonvolatile.
 * Properties are the Enum key's values (DeviceDesc, HardwareID,
 * CompatibleIDs, Class, ClassGUID, Driver, Mfg, FriendlyName,
 * LocationInformation, UINumber) or facts of the device record (bus number,
 * address, enumerator, PDO name, bus type). An interface key is
 * ...\Control\DeviceClasses\{guid}\##?#<instance>#{guid}\#<ref>\Device Parameters.
 * Not modelled: PLUGPLAY_REGKEY_CURRENT_HWPROFILE opens the same keys as
 * without it (hardware profiles are deprecated); IoGetDeviceProperty on a
 * non-PDO returns STATUS_INVALID_DEVICE_REQUEST (Windows stops with 0xCA);
 * boot configuration, resource and container properties are not kept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <wdm.h>

#include "sys.h"

static const char ccs[] = "\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet";

const struct cm_device *cm_device_find(const struct cm *cm, const void *pdo)
{
    for (uint32_t i = 0; pdo && i < cm->ndevice; i++)
        if (cm->device[i].pdo == pdo)
            return &cm->device[i];
    return NULL;
}

static int set_sz(struct cm *cm, struct cm_key *k, const char *name, ULONG type, const char *text)
{
    size_t n, tn;
    uint16_t *w = cm_utf8_to_w(name, strlen(name), &n);
    uint16_t *t = cm_utf8_to_w(text, strlen(text), &tn);
    int rc = -1;
    if (w && t) {
        /* REG_MULTI_SZ from one string: the string, its NUL, the list's NUL */
        uint16_t *d = calloc(tn + 2, sizeof(uint16_t));
        if (d) {
            memcpy(d, t, tn * 2);
            rc = cm_value_set(cm, k, w, n, type, d,
                              (uint32_t)(tn + (type == REG_MULTI_SZ ? 2 : 1)) * 2);
            free(d);
        }
    }
    free(w);
    free(t);
    return rc;
}

int cm_device_add(struct cm *cm, const void *pdo, const char *instance, const char *class_guid,
                  const char *description, const char *hardware_id)
{
    if (!pdo || !instance || strlen(instance) >= sizeof(cm->device[0].instance) ||
        (class_guid && strlen(class_guid) != 38) || cm_device_find(cm, pdo))
        return -1;
    struct cm_device *grown = realloc(cm->device, (cm->ndevice + 1) * sizeof(*grown));
    if (!grown)
        return -1;
    cm->device = grown;
    struct cm_device *d = &cm->device[cm->ndevice];
    memset(d, 0, sizeof(*d));
    d->pdo = pdo;
    snprintf(d->instance, sizeof(d->instance), "%s", instance);
    if (class_guid) {
        snprintf(d->class_guid, sizeof(d->class_guid), "%s", class_guid);
        for (uint32_t i = 0; i < cm->ndevice; i++)
            if (!strcasecmp(cm->device[i].class_guid, class_guid))
                d->driver_index++;
    }
    char path[512];
    snprintf(path, sizeof(path), "%s\\Enum\\%s", ccs, instance);
    struct cm_key *k;
    if (cm_create_path_utf8(cm, path, 0, &k))
        return -1;
    if ((description && set_sz(cm, k, "DeviceDesc", REG_SZ, description)) ||
        (hardware_id && set_sz(cm, k, "HardwareID", REG_MULTI_SZ, hardware_id)))
        return -1;
    if (class_guid) {
        char drv[64];
        snprintf(drv, sizeof(drv), "%s\\%04u", class_guid, d->driver_index);
        if (set_sz(cm, k, "ClassGUID", REG_SZ, class_guid) || set_sz(cm, k, "Driver", REG_SZ, drv))
            return -1;
    }
    cm->ndevice++;
    return 0;
}

NTKERNELAPI NTSTATUS NTAPI IoOpenDeviceRegistryKey(struct _DEVICE_OBJECT *DeviceObject,
                                                   ULONG DevInstKeyType, ACCESS_MASK DesiredAccess,
                                                   PHANDLE DeviceRegKey)
{
    cm_check_passive("IoOpenDeviceRegistryKey", (void *)IoOpenDeviceRegistryKey);
    struct cm *cm = cm_get();
    const struct cm_device *d = cm_device_find(cm, DeviceObject);
    ULONG type = DevInstKeyType & ~(ULONG)PLUGPLAY_REGKEY_CURRENT_HWPROFILE;
    if (!d || (type != PLUGPLAY_REGKEY_DEVICE && type != PLUGPLAY_REGKEY_DRIVER))
        return STATUS_INVALID_PARAMETER;
    if (!DeviceRegKey)
        return STATUS_ACCESS_VIOLATION;
    char path[600];
    if (type == PLUGPLAY_REGKEY_DEVICE) {
        snprintf(path, sizeof(path), "%s\\Enum\\%s\\Device Parameters", ccs, d->instance);
    } else {
        if (!d->class_guid[0])
            return STATUS_OBJECT_NAME_NOT_FOUND;
        snprintf(path, sizeof(path), "%s\\Control\\Class\\%s\\%04u", ccs, d->class_guid,
                 d->driver_index);
    }
    struct cm_key *k;
    NTSTATUS st = cm_create_path_utf8(cm, path, 0, &k);
    if (st)
        return st;
    return cm_handle_open(cm, k, DesiredAccess, true, DeviceRegKey);
}

/* Splits "\??\ROOT#X#0000#{guid}[\ref]" into instance part, guid and ref. */
static bool parse_link(const char *s, char *inst, size_t il, char *guid, char *ref, size_t rl)
{
    if (strncmp(s, "\\??\\", 4) && strncmp(s, "\\\\?\\", 4))
        return false;
    s += 4;
    const char *slash = strchr(s, '\\');
    size_t body = slash ? (size_t)(slash - s) : strlen(s);
    if (body < 40 || body >= il || s[body - 39] != '#' || s[body - 38] != '{' || s[body - 1] != '}')
        return false;
    memcpy(inst, s, body);
    inst[body] = 0;
    memcpy(guid, s + body - 38, 38);
    guid[38] = 0;
    const char *r = slash ? slash + 1 : "";
    if (strlen(r) >= rl || strchr(r, '\\'))
        return false;
    strcpy(ref, r);
    return true;
}

static int interface_paths(const char *link, char *cls, char *dev, char *refkey, size_t len)
{
    char inst[256], guid[39], ref[128];
    if (!parse_link(link, inst, sizeof(inst), guid, ref, sizeof(ref)))
        return -1;
    snprintf(cls, len, "%s\\Control\\DeviceClasses\\%s", ccs, guid);
    snprintf(dev, len, "%s\\##?#%s", cls, inst);
    snprintf(refkey, len, "%s\\#%s", dev, ref);
    return 0;
}

int cm_interface_add(struct cm *cm, const char *symbolic_link)
{
    char cls[600], dev[900], ref[1100];
    struct cm_key *k;
    if (interface_paths(symbolic_link, cls, dev, ref, sizeof(cls)))
        return -1;
    return cm_create_path_utf8(cm, ref, 0, &k) ? -1 : 0;
}

NTKERNELAPI NTSTATUS NTAPI IoOpenDeviceInterfaceRegistryKey(PUNICODE_STRING SymbolicLinkName,
                                                            ACCESS_MASK DesiredAccess,
                                                            PHANDLE DeviceInterfaceKey)
{
    cm_check_passive("IoOpenDeviceInterfaceRegistryKey", (void *)IoOpenDeviceInterfaceRegistryKey);
    struct cm *cm = cm_get();
    if (cm_check_ustr(SymbolicLinkName, STATUS_INVALID_PARAMETER) || !DeviceInterfaceKey)
        return STATUS_INVALID_PARAMETER;
    char *link = cm_w_to_utf8(SymbolicLinkName->Buffer, SymbolicLinkName->Length / 2, NULL);
    if (!link)
        return STATUS_INVALID_PARAMETER;
    char cls[600], dev[900], ref[1100];
    int bad = interface_paths(link, cls, dev, ref, sizeof(cls));
    free(link);
    if (bad)
        return STATUS_INVALID_PARAMETER;
    struct cm_key *k;
    if (cm_resolve_utf8(cm, cls, 0, &k) || cm_resolve_utf8(cm, dev, 0, &k))
        return STATUS_OBJECT_NAME_NOT_FOUND;
    if (cm_resolve_utf8(cm, ref, 0, &k))
        return STATUS_OBJECT_PATH_NOT_FOUND;
    strcat(ref, "\\Device Parameters");
    NTSTATUS st = cm_resolve_utf8(cm, ref, cm_open_create, &k);
    if (st)
        return st;
    return cm_handle_open(cm, k, DesiredAccess, true, DeviceInterfaceKey);
}

/* ---- IoGetDeviceProperty ------------------------------------------------- */

static const char *const value_of[] = {
    [DevicePropertyDeviceDescription] = "DeviceDesc",
    [DevicePropertyHardwareID] = "HardwareID",
    [DevicePropertyCompatibleIDs] = "CompatibleIDs",
    [DevicePropertyClassName] = "Class",
    [DevicePropertyClassGuid] = "ClassGUID",
    [DevicePropertyDriverKeyName] = "Driver",
    [DevicePropertyManufacturer] = "Mfg",
    [DevicePropertyFriendlyName] = "FriendlyName",
    [DevicePropertyLocationInformation] = "LocationInformation",
    [DevicePropertyUINumber] = "UINumber",
};

static NTSTATUS give(const void *data, ULONG size, ULONG len, PVOID buf, PULONG result)
{
    *result = size;
    if (len < size)
        return STATUS_BUFFER_TOO_SMALL;
    if (!buf)
        return STATUS_ACCESS_VIOLATION;
    memcpy(buf, data, size);
    return STATUS_SUCCESS;
}

static NTSTATUS give_text(const char *text, ULONG len, PVOID buf, PULONG result)
{
    size_t n;
    uint16_t *w = cm_utf8_to_w(text, strlen(text), &n);
    if (!w)
        return STATUS_INSUFFICIENT_RESOURCES;
    NTSTATUS st = give(w, (ULONG)(n + 1) * 2, len, buf, result);
    free(w);
    return st;
}

static void bus_facts(const char *instance, ULONG *legacy, GUID *guid)
{
    static const GUID pci = {
        0xc8ebdfb0, 0xb510, 0x11d0, {0x80, 0xe5, 0x00, 0xa0, 0xc9, 0x25, 0x42, 0xe3}};
    static const GUID isa = {
        0xe676f854, 0xd87d, 0x11d0, {0x92, 0xb2, 0x00, 0xa0, 0xc9, 0x05, 0x5f, 0xc5}};
    static const GUID internal = {
        0x1530ea73, 0x086b, 0x11d1, {0xa0, 0x9f, 0x00, 0xc0, 0x4f, 0xc3, 0x40, 0xb1}};
    if (!strncasecmp(instance, "PCI\\", 4)) {
        *legacy = 5; /* PCIBus */
        *guid = pci;
    } else if (!strncasecmp(instance, "ISAPNP\\", 7) || !strncasecmp(instance, "ISA\\", 4)) {
        *legacy = 1; /* Isa */
        *guid = isa;
    } else {
        *legacy = 0; /* Internal */
        *guid = internal;
    }
}

NTKERNELAPI NTSTATUS NTAPI IoGetDeviceProperty(struct _DEVICE_OBJECT *DeviceObject,
                                               DEVICE_REGISTRY_PROPERTY DeviceProperty,
                                               ULONG BufferLength, PVOID PropertyBuffer,
                                               PULONG ResultLength)
{
    cm_check_passive("IoGetDeviceProperty", (void *)IoGetDeviceProperty);
    struct cm *cm = cm_get();
    const struct cm_device *d = cm_device_find(cm, DeviceObject);
    if (!d)
        return STATUS_INVALID_DEVICE_REQUEST;
    if (!ResultLength)
        return STATUS_ACCESS_VIOLATION;
    ULONG u;
    GUID g;
    char text[256];
    switch (DeviceProperty) {
    case DevicePropertyBusNumber:
        return give(&d->bus_number, 4, BufferLength, PropertyBuffer, ResultLength);
    case DevicePropertyAddress:
        return give(&d->address, 4, BufferLength, PropertyBuffer, ResultLength);
    case DevicePropertyInstallState:
        u = 0; /* InstallStateInstalled */
        return give(&u, 4, BufferLength, PropertyBuffer, ResultLength);
    case DevicePropertyRemovalPolicy:
        u = 1; /* RemovalPolicyExpectNoRemoval */
        return give(&u, 4, BufferLength, PropertyBuffer, ResultLength);
    case DevicePropertyLegacyBusType:
        bus_facts(d->instance, &u, &g);
        return give(&u, 4, BufferLength, PropertyBuffer, ResultLength);
    case DevicePropertyBusTypeGuid:
        bus_facts(d->instance, &u, &g);
        return give(&g, sizeof(g), BufferLength, PropertyBuffer, ResultLength);
    case DevicePropertyEnumeratorName:
        snprintf(text, sizeof(text), "%.*s", (int)strcspn(d->instance, "\\"), d->instance);
        return give_text(text, BufferLength, PropertyBuffer, ResultLength);
    case DevicePropertyPhysicalDeviceObjectName:
        snprintf(text, sizeof(text), "\\Device\\%08x", (unsigned)(d - cm->device) + 1);
        return give_text(text, BufferLength, PropertyBuffer, ResultLength);
    default:
        break;
    }
    if ((unsigned)DeviceProperty > DevicePropertyContainerID)
        return STATUS_INVALID_PARAMETER_2;
    const char *name = (unsigned)DeviceProperty < sizeof(value_of) / sizeof(value_of[0])
                           ? value_of[DeviceProperty]
                           : NULL;
    char path[512];
    snprintf(path, sizeof(path), "%s\\Enum\\%s", ccs, d->instance);
    struct cm_key *k;
    const struct cm_value *v = NULL;
    if (name && cm_resolve_utf8(cm, path, 0, &k) == STATUS_SUCCESS) {
        size_t n;
        uint16_t *w = cm_utf8_to_w(name, strlen(name), &n);
        if (w)
            v = cm_value_find(k, w, n);
        free(w);
    }
    if (!v) {
        if (DeviceProperty == DevicePropertyUINumber)
            return give(&d->ui_number, 4, BufferLength, PropertyBuffer, ResultLength);
        return STATUS_OBJECT_NAME_NOT_FOUND;
    }
    return give(v->data, v->size, BufferLength, PropertyBuffer, ResultLength);
}
