/*
 * src/cm/rtl_registry.c - RtlWriteRegistryValue, RtlDeleteRegistryValue,
 * RtlCheckRegistryKey, RtlCreateRegistryKey and the RelativeTo paths they
 * share with RtlQueryRegistryValues.
 *
 * Models: spec/ke_rtl_registry.md 9. RelativeTo names a base key
 * (ABSOLUTE, SERVICES, CONTROL, WINDOWS_NT, DEVICEMAP, USER = .DEFAULT, as
 * for a system process); a Path starting with '\' is absolute whatever the
 * base; RTL_REGISTRY_HANDLE makes Path a key handle; RTL_REGISTRY_OPTIONAL
 * is accepted and changes nothing (Open in docs/registry.md). Write and
 * create make one missing level only. RtlCheckRegistryKey closes a
 * RTL_REGISTRY_HANDLE handle, as Windows does (hence "never with HANDLE").
 * PASSIVE_LEVEL only.
 */
#include <stdlib.h>
#include <string.h>

#include <wdm.h>

#include "sys.h"

static const char *const bases[RTL_REGISTRY_MAXIMUM] = {
    [RTL_REGISTRY_ABSOLUTE] = "",
    [RTL_REGISTRY_SERVICES] = "\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet\\Services",
    [RTL_REGISTRY_CONTROL] = "\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet\\Control",
    [RTL_REGISTRY_WINDOWS_NT] =
        "\\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion",
    [RTL_REGISTRY_DEVICEMAP] = "\\REGISTRY\\MACHINE\\HARDWARE\\DEVICEMAP",
    [RTL_REGISTRY_USER] = "\\REGISTRY\\USER\\.DEFAULT",
};

int32_t cm_rtl_key(struct cm *cm, uint32_t relative_to, const uint16_t *path, bool create,
                   uint32_t need, struct cm_key **out)
{
    uint32_t rel = relative_to & ~(uint32_t)(RTL_REGISTRY_HANDLE | RTL_REGISTRY_OPTIONAL);
    if (relative_to & RTL_REGISTRY_HANDLE)
        return cm_handle_get(cm, (void *)path, need, false, out);
    if (rel >= RTL_REGISTRY_MAXIMUM)
        return STATUS_INVALID_PARAMETER;
    size_t pn = path ? cm_wcslen(path) : 0;
    if (pn > 32767)
        return STATUS_OBJECT_NAME_INVALID;
    const char *base = (pn && path[0] == '\\') ? "" : bases[rel];
    size_t bn = strlen(base);
    if (!bn && !pn)
        return STATUS_OBJECT_NAME_NOT_FOUND;
    uint16_t *full = malloc((bn + 1 + pn + 1) * sizeof(uint16_t));
    if (!full)
        return STATUS_INSUFFICIENT_RESOURCES;
    size_t n = 0;
    for (size_t i = 0; i < bn; i++)
        full[n++] = (uint16_t)base[i];
    if (bn && pn)
        full[n++] = '\\';
    if (pn)
        memcpy(full + n, path, pn * sizeof(uint16_t));
    n += pn;
    int32_t st = cm_resolve(cm, NULL, full, n, create ? cm_open_create : 0, out, NULL);
    free(full);
    return st;
}

NTSYSAPI NTSTATUS NTAPI RtlWriteRegistryValue(ULONG RelativeTo, PCWSTR Path, PCWSTR ValueName,
                                              ULONG ValueType, PVOID ValueData, ULONG ValueLength)
{
    cm_check_passive("RtlWriteRegistryValue", (void *)RtlWriteRegistryValue);
    struct cm *cm = cm_get();
    struct cm_key *k;
    NTSTATUS st = cm_rtl_key(cm, RelativeTo, Path, true, KEY_SET_VALUE, &k);
    if (st)
        return st;
    size_t n = ValueName ? cm_wcslen(ValueName) : 0;
    if (n > cm_max_value_name)
        return STATUS_INVALID_PARAMETER;
    if (ValueLength && !ValueData)
        return STATUS_ACCESS_VIOLATION;
    if (ValueLength > cm_max_value_size)
        return STATUS_INSUFFICIENT_RESOURCES;
    if (cm_value_set(cm, k, ValueName ? ValueName : u"", n, ValueType, ValueData, ValueLength))
        return STATUS_INSUFFICIENT_RESOURCES;
    return STATUS_SUCCESS;
}

NTSYSAPI NTSTATUS NTAPI RtlDeleteRegistryValue(ULONG RelativeTo, PCWSTR Path, PCWSTR ValueName)
{
    cm_check_passive("RtlDeleteRegistryValue", (void *)RtlDeleteRegistryValue);
    struct cm *cm = cm_get();
    struct cm_key *k;
    NTSTATUS st = cm_rtl_key(cm, RelativeTo, Path, false, KEY_SET_VALUE, &k);
    if (st)
        return st;
    size_t n = ValueName ? cm_wcslen(ValueName) : 0;
    if (cm_value_delete(cm, k, ValueName ? ValueName : u"", n))
        return STATUS_OBJECT_NAME_NOT_FOUND;
    return STATUS_SUCCESS;
}

NTSYSAPI NTSTATUS NTAPI RtlCheckRegistryKey(ULONG RelativeTo, PWSTR Path)
{
    cm_check_passive("RtlCheckRegistryKey", (void *)RtlCheckRegistryKey);
    struct cm *cm = cm_get();
    struct cm_key *k;
    NTSTATUS st = cm_rtl_key(cm, RelativeTo, Path, false, 0, &k);
    if (st == STATUS_SUCCESS && (RelativeTo & RTL_REGISTRY_HANDLE))
        cm_handle_close(cm, Path);
    return st;
}

NTSYSAPI NTSTATUS NTAPI RtlCreateRegistryKey(ULONG RelativeTo, PWSTR Path)
{
    cm_check_passive("RtlCreateRegistryKey", (void *)RtlCreateRegistryKey);
    struct cm_key *k;
    return cm_rtl_key(cm_get(), RelativeTo, Path, true, 0, &k);
}
