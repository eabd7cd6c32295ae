/*
 * src/cm/zw_key.c - ZwCreateKey, ZwOpenKey(Ex), ZwDeleteKey, ZwFlushKey,
 * ZwClose, ZwQueryKey, ZwEnumerateKey.
 *
 * Models: spec/ke_rtl_registry.md 9. PASSIVE_LEVEL only (irql.zw-not-passive).
 * Access checks per routine: creating a direct child of RootDirectory needs
 * KEY_CREATE_SUB_KEY on it, ZwQueryKey needs KEY_QUERY_VALUE (not for
 * KeyNameInformation / KeyHandleTagsInformation), ZwEnumerateKey
 * KEY_ENUMERATE_SUB_KEYS, ZwDeleteKey DELETE.
 * Invariants: a failed call leaves the tree and the handle table unchanged,
 * except that a created key stays if only the handle could not be made.
 * Not modelled: bad driver pointers are reported as STATUS_ACCESS_VIOLATION
 * (Windows kernel-mode callers would fault instead); ZwClose knows only key
 * handles until an object manager exists.
 */
#include <stdlib.h>
#include <string.h>

#include <wdm.h>

#include "sys.h"

struct cm *cm_get(void)
{
    return &sys_get()->cm;
}

int32_t cm_check_ustr(const struct _UNICODE_STRING *s, int32_t bad)
{
    if (!s || (s->Length & 1) || s->Length > s->MaximumLength || (s->Length && !s->Buffer))
        return bad;
    return STATUS_SUCCESS;
}

/* Checks the attributes and finds the base key. */
static NTSTATUS begin_open(struct cm *cm, POBJECT_ATTRIBUTES oa, struct cm_key **base,
                           uint32_t *root_access)
{
    if (!oa || oa->Length != sizeof(OBJECT_ATTRIBUTES) || (oa->Attributes & ~OBJ_VALID_ATTRIBUTES))
        return STATUS_INVALID_PARAMETER;
    NTSTATUS st = cm_check_ustr(oa->ObjectName, STATUS_OBJECT_NAME_INVALID);
    if (st)
        return st;
    *base = NULL;
    *root_access = 0;
    if (oa->RootDirectory) {
        st = cm_handle_get(cm, oa->RootDirectory, 0, false, base);
        if (st)
            return st;
        struct cm_key *k;
        *root_access =
            cm_handle_get(cm, oa->RootDirectory, KEY_CREATE_SUB_KEY, false, &k) == STATUS_SUCCESS
                ? KEY_CREATE_SUB_KEY
                : 0;
    }
    return STATUS_SUCCESS;
}

static bool single_component(const UNICODE_STRING *name)
{
    for (USHORT i = 0; i < name->Length / 2; i++)
        if (name->Buffer[i] == '\\')
            return false;
    return name->Length > 0;
}

NTSYSAPI NTSTATUS NTAPI ZwCreateKey(PHANDLE KeyHandle, ACCESS_MASK DesiredAccess,
                                    POBJECT_ATTRIBUTES ObjectAttributes, ULONG TitleIndex,
                                    PUNICODE_STRING Class, ULONG CreateOptions, PULONG Disposition)
{
    (void)TitleIndex;
    cm_check_passive("ZwCreateKey", (void *)ZwCreateKey);
    struct cm *cm = cm_get();
    if (!KeyHandle)
        return STATUS_ACCESS_VIOLATION;
    if (CreateOptions & ~(ULONG)REG_LEGAL_OPTION)
        return STATUS_INVALID_PARAMETER;
    if (Class && cm_check_ustr(Class, STATUS_INVALID_PARAMETER))
        return STATUS_INVALID_PARAMETER;
    struct cm_key *base, *k;
    uint32_t root_access;
    NTSTATUS st = begin_open(cm, ObjectAttributes, &base, &root_access);
    if (st)
        return st;
    const UNICODE_STRING *name = ObjectAttributes->ObjectName;
    unsigned flags = 0;
    if ((CreateOptions & REG_OPTION_OPEN_LINK) || (ObjectAttributes->Attributes & OBJ_OPENLINK))
        flags |= cm_open_link;
    if (!(CreateOptions & REG_OPTION_CREATE_LINK)) {
        st = cm_resolve(cm, base, name->Buffer, name->Length / 2, flags, &k, NULL);
        if (st == STATUS_SUCCESS)
            goto opened;
        if (st != STATUS_OBJECT_NAME_NOT_FOUND)
            return st;
    }
    /* A new key must be a direct child of a key opened for creation. */
    if (base && single_component(name) && !(root_access & KEY_CREATE_SUB_KEY))
        return STATUS_ACCESS_DENIED;
    flags |= (CreateOptions & REG_OPTION_CREATE_LINK) ? cm_open_create_link : cm_open_create;
    if (CreateOptions & REG_OPTION_VOLATILE)
        flags |= cm_open_volatile;
    bool created;
    st = cm_resolve(cm, base, name->Buffer, name->Length / 2, flags, &k, &created);
    if (st)
        return st;
    if (created && Class && Class->Length) {
        k->cls = malloc(Class->Length);
        if (k->cls) {
            memcpy(k->cls, Class->Buffer, Class->Length);
            k->cls_len = Class->Length / 2;
        }
    }
    st = cm_handle_open(cm, k, DesiredAccess, ObjectAttributes->Attributes & OBJ_KERNEL_HANDLE,
                        KeyHandle);
    if (!st && Disposition)
        *Disposition = created ? REG_CREATED_NEW_KEY : REG_OPENED_EXISTING_KEY;
    return st;
opened:
    st = cm_handle_open(cm, k, DesiredAccess, ObjectAttributes->Attributes & OBJ_KERNEL_HANDLE,
                        KeyHandle);
    if (!st && Disposition)
        *Disposition = REG_OPENED_EXISTING_KEY;
    return st;
}

NTSYSAPI NTSTATUS NTAPI ZwOpenKeyEx(PHANDLE KeyHandle, ACCESS_MASK DesiredAccess,
                                    POBJECT_ATTRIBUTES ObjectAttributes, ULONG OpenOptions)
{
    cm_check_passive("ZwOpenKeyEx", (void *)ZwOpenKeyEx);
    struct cm *cm = cm_get();
    if (!KeyHandle)
        return STATUS_ACCESS_VIOLATION;
    if (OpenOptions &
        ~(ULONG)(REG_OPTION_OPEN_LINK | REG_OPTION_BACKUP_RESTORE | REG_OPTION_DONT_VIRTUALIZE))
        return STATUS_INVALID_PARAMETER;
    struct cm_key *base, *k;
    uint32_t root_access;
    NTSTATUS st = begin_open(cm, ObjectAttributes, &base, &root_access);
    if (st)
        return st;
    unsigned flags = 0;
    if ((OpenOptions & REG_OPTION_OPEN_LINK) || (ObjectAttributes->Attributes & OBJ_OPENLINK))
        flags |= cm_open_link;
    const UNICODE_STRING *name = ObjectAttributes->ObjectName;
    st = cm_resolve(cm, base, name->Buffer, name->Length / 2, flags, &k, NULL);
    if (st)
        return st;
    return cm_handle_open(cm, k, DesiredAccess, ObjectAttributes->Attributes & OBJ_KERNEL_HANDLE,
                          KeyHandle);
}

NTSYSAPI NTSTATUS NTAPI ZwOpenKey(PHANDLE KeyHandle, ACCESS_MASK DesiredAccess,
                                  POBJECT_ATTRIBUTES ObjectAttributes)
{
    cm_check_passive("ZwOpenKey", (void *)ZwOpenKey);
    return ZwOpenKeyEx(KeyHandle, DesiredAccess, ObjectAttributes, 0);
}

static unsigned depth(const struct cm_key *k)
{
    unsigned d = 0;
    for (; k->parent; k = k->parent)
        d++;
    return d;
}

NTSYSAPI NTSTATUS NTAPI ZwDeleteKey(HANDLE KeyHandle)
{
    cm_check_passive("ZwDeleteKey", (void *)ZwDeleteKey);
    struct cm *cm = cm_get();
    struct cm_key *k;
    NTSTATUS st = cm_handle_get(cm, KeyHandle, DELETE, false, &k);
    if (st)
        return st;
    /* \REGISTRY, \REGISTRY\MACHINE and the hive roots stay. */
    if (k->nsub || depth(k) < 3)
        return STATUS_CANNOT_DELETE;
    cm_key_delete(cm, k);
    return STATUS_SUCCESS;
}

NTSYSAPI NTSTATUS NTAPI ZwFlushKey(HANDLE KeyHandle)
{
    cm_check_passive("ZwFlushKey", (void *)ZwFlushKey);
    struct cm *cm = cm_get();
    struct cm_key *k;
    NTSTATUS st = cm_handle_get(cm, KeyHandle, 0, false, &k);
    if (st)
        return st;
    if (!cm->hive_path || !cm->dirty)
        return STATUS_SUCCESS;
    char err[512];
    if (cm_hive_flush(cm, err, sizeof(err))) {
        fprintf(stderr, "wdmsim: ZwFlushKey: %s\n", err);
        return STATUS_REGISTRY_IO_FAILED;
    }
    return STATUS_SUCCESS;
}

NTSYSAPI NTSTATUS NTAPI ZwClose(HANDLE Handle)
{
    cm_check_passive("ZwClose", (void *)ZwClose);
    return cm_handle_close(cm_get(), Handle);
}

NTSYSAPI NTSTATUS NTAPI ZwQueryKey(HANDLE KeyHandle, KEY_INFORMATION_CLASS KeyInformationClass,
                                   PVOID KeyInformation, ULONG Length, PULONG ResultLength)
{
    cm_check_passive("ZwQueryKey", (void *)ZwQueryKey);
    struct cm *cm = cm_get();
    bool no_access = KeyInformationClass == KeyNameInformation ||
                     KeyInformationClass == KeyHandleTagsInformation;
    struct cm_key *k;
    NTSTATUS st = cm_handle_get(cm, KeyHandle, no_access ? 0 : KEY_QUERY_VALUE, false, &k);
    if (st)
        return st;
    if (!ResultLength)
        return STATUS_ACCESS_VIOLATION;
    return cm_info_key(k, KeyInformationClass, false, KeyInformation, Length, ResultLength);
}

NTSYSAPI NTSTATUS NTAPI ZwEnumerateKey(HANDLE KeyHandle, ULONG Index,
                                       KEY_INFORMATION_CLASS KeyInformationClass,
                                       PVOID KeyInformation, ULONG Length, PULONG ResultLength)
{
    cm_check_passive("ZwEnumerateKey", (void *)ZwEnumerateKey);
    struct cm *cm = cm_get();
    struct cm_key *k;
    NTSTATUS st = cm_handle_get(cm, KeyHandle, KEY_ENUMERATE_SUB_KEYS, false, &k);
    if (st)
        return st;
    if (!ResultLength)
        return STATUS_ACCESS_VIOLATION;
    if (KeyInformationClass != KeyBasicInformation && KeyInformationClass != KeyNodeInformation &&
        KeyInformationClass != KeyFullInformation)
        return STATUS_INVALID_PARAMETER;
    if (Index >= k->nsub)
        return STATUS_NO_MORE_ENTRIES;
    return cm_info_key(k->sub[Index], KeyInformationClass, true, KeyInformation, Length,
                       ResultLength);
}
