/*
 * src/cm/zw_value.c - ZwQueryValueKey, ZwEnumerateValueKey, ZwSetValueKey,
 * ZwDeleteValueKey.
 *
 * Models: spec/ke_rtl_registry.md 9: values are typed byte strings, the
 * empty name is the key's default value; querying needs KEY_QUERY_VALUE,
 * changing KEY_SET_VALUE. PASSIVE_LEVEL only.
 * Invariants: ZwSetValueKey stores exactly DataSize bytes whatever the type
 * (Windows does not check that a REG_SZ ends with NUL or a REG_DWORD has 4
 * bytes; RtlQueryRegistryValues copes with both).
 * Not modelled: TitleIndex (ignored, reported 0); values larger than
 * cm_max_value_size are refused with STATUS_INSUFFICIENT_RESOURCES.
 */
#include <wdm.h>

#include "sys.h"

static NTSTATUS check_name(PUNICODE_STRING ValueName)
{
    if (!ValueName)
        return STATUS_ACCESS_VIOLATION;
    if (cm_check_ustr(ValueName, STATUS_INVALID_PARAMETER))
        return STATUS_INVALID_PARAMETER;
    return STATUS_SUCCESS;
}

NTSYSAPI NTSTATUS NTAPI ZwQueryValueKey(HANDLE KeyHandle, PUNICODE_STRING ValueName,
                                        KEY_VALUE_INFORMATION_CLASS KeyValueInformationClass,
                                        PVOID KeyValueInformation, ULONG Length,
                                        PULONG ResultLength)
{
    cm_check_passive("ZwQueryValueKey", (void *)ZwQueryValueKey);
    struct cm_key *k;
    NTSTATUS st = cm_handle_get(cm_get(), KeyHandle, KEY_QUERY_VALUE, false, &k);
    if (st)
        return st;
    if ((st = check_name(ValueName)))
        return st;
    if (!ResultLength)
        return STATUS_ACCESS_VIOLATION;
    if ((unsigned)KeyValueInformationClass >= (unsigned)KeyValueLayerInformation)
        return STATUS_INVALID_PARAMETER;
    const struct cm_value *v = cm_value_find(k, ValueName->Buffer, ValueName->Length / 2);
    if (!v)
        return STATUS_OBJECT_NAME_NOT_FOUND;
    return cm_info_value(v, KeyValueInformationClass, KeyValueInformation, Length, ResultLength);
}

NTSYSAPI NTSTATUS NTAPI ZwEnumerateValueKey(HANDLE KeyHandle, ULONG Index,
                                            KEY_VALUE_INFORMATION_CLASS KeyValueInformationClass,
                                            PVOID KeyValueInformation, ULONG Length,
                                            PULONG ResultLength)
{
    cm_check_passive("ZwEnumerateValueKey", (void *)ZwEnumerateValueKey);
    struct cm_key *k;
    NTSTATUS st = cm_handle_get(cm_get(), KeyHandle, KEY_QUERY_VALUE, false, &k);
    if (st)
        return st;
    if (!ResultLength)
        return STATUS_ACCESS_VIOLATION;
    if ((unsigned)KeyValueInformationClass >= (unsigned)KeyValueLayerInformation)
        return STATUS_INVALID_PARAMETER;
    if (Index >= k->nval)
        return STATUS_NO_MORE_ENTRIES;
    return cm_info_value(&k->val[Index], KeyValueInformationClass, KeyValueInformation, Length,
                         ResultLength);
}

NTSYSAPI NTSTATUS NTAPI ZwSetValueKey(HANDLE KeyHandle, PUNICODE_STRING ValueName, ULONG TitleIndex,
                                      ULONG Type, PVOID Data, ULONG DataSize)
{
    (void)TitleIndex;
    cm_check_passive("ZwSetValueKey", (void *)ZwSetValueKey);
    struct cm *cm = cm_get();
    struct cm_key *k;
    NTSTATUS st = cm_handle_get(cm, KeyHandle, KEY_SET_VALUE, false, &k);
    if (st)
        return st;
    if ((st = check_name(ValueName)))
        return st;
    if (ValueName->Length / 2 > cm_max_value_name)
        return STATUS_INVALID_PARAMETER;
    if (DataSize && !Data)
        return STATUS_ACCESS_VIOLATION;
    if (DataSize > cm_max_value_size)
        return STATUS_INSUFFICIENT_RESOURCES;
    if (cm_value_set(cm, k, ValueName->Buffer, ValueName->Length / 2, Type, Data, DataSize))
        return STATUS_INSUFFICIENT_RESOURCES;
    return STATUS_SUCCESS;
}

NTSYSAPI NTSTATUS NTAPI ZwDeleteValueKey(HANDLE KeyHandle, PUNICODE_STRING ValueName)
{
    cm_check_passive("ZwDeleteValueKey", (void *)ZwDeleteValueKey);
    struct cm *cm = cm_get();
    struct cm_key *k;
    NTSTATUS st = cm_handle_get(cm, KeyHandle, KEY_SET_VALUE, false, &k);
    if (st)
        return st;
    if ((st = check_name(ValueName)))
        return st;
    if (cm_value_delete(cm, k, ValueName->Buffer, ValueName->Length / 2))
        return STATUS_OBJECT_NAME_NOT_FOUND;
    return STATUS_SUCCESS;
}
