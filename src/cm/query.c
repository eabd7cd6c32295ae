/*
 * src/cm/query.c - RtlQueryRegistryValues.
 *
 * Models: spec/ke_rtl_registry.md 9: a table of entries, each naming a
 * value (or all values: Name NULL) of the current key and what to do with
 * it: call QueryRoutine, or store it at EntryContext (DIRECT); SUBKEY and
 * TOPKEY move the current key; REQUIRED, NOVALUE, NOEXPAND, DELETE and
 * TYPECHECK as in the spec's flag table. REG_EXPAND_SZ is expanded from
 * Environment (a block of NAME=VALUE strings) or, when NULL, from the system
 * environment (SystemRoot=C:\Windows, SystemDrive=C:, windir=C:\Windows);
 * an unknown %NAME% stays as written.
 * Rule: rtl.registry-direct-untrusted (0x139/0x9) when a DIRECT entry
 * without TYPECHECK reads a key outside the system hives.
 * Invariants: the routine gets copies (NUL-terminated name, data followed by
 * a NUL WCHAR), so a routine that changes the key cannot invalidate them.
 * Not modelled: DIRECT stores a REG_MULTI_SZ whole even without NOEXPAND
 * (Windows would store each string in turn over the previous one); a SUBKEY
 * entry that also has a QueryRoutine has it called for every value of the
 * subkey; TYPECHECK applies to values found, not to defaults.
 */
#include <stdlib.h>
#include <string.h>

#include <wdm.h>

#include "rtl/rtl.h"
#include "sys.h"

const struct vf_rule cm_rule_registry_direct_untrusted = {
    .id = "rtl.registry-direct-untrusted",
    .code = 0x139,
    .p1 = 0x9,
    .params = {"address of the query table entry", "0", "0"},
    .text = "RtlQueryRegistryValues DIRECT without TYPECHECK on a key outside the system hives",
    .option = vf_opt_os,
    .fixture = "tests/fixtures/registry_direct_untrusted",
};

struct query {
    struct cm *cm;
    PRTL_QUERY_REGISTRY_TABLE e;
    PVOID context;
    const uint16_t *env; /* NULL: the system environment */
};

static const uint16_t system_env[] =
    u"SystemRoot=C:\\Windows\0SystemDrive=C:\0windir=C:\\Windows\0";

/* Value of NAME (n units) in an environment block, or NULL. */
static const uint16_t *env_lookup(const uint16_t *env, const uint16_t *name, size_t n, size_t *vn)
{
    for (const uint16_t *p = env; *p; p += cm_wcslen(p) + 1) {
        size_t l = cm_wcslen(p);
        if (l > n && p[n] == '=' && !cm_name_cmp(p, n, name, n)) {
            *vn = l - n - 1;
            return p + n + 1;
        }
    }
    return NULL;
}

/* Expands %NAME% in s (n units, no NUL); malloc'd, NUL-terminated. */
static uint16_t *expand(const uint16_t *env, const uint16_t *s, size_t n, size_t *out_n)
{
    size_t cap = n + 64, o = 0;
    uint16_t *out = malloc(cap * sizeof(uint16_t));
    if (!out)
        return NULL;
    for (size_t i = 0; i < n;) {
        const uint16_t *val = NULL;
        size_t vn = 0, skip = 1;
        if (s[i] == '%') {
            size_t j = i + 1;
            while (j < n && s[j] != '%')
                j++;
            if (j < n && j > i + 1 && (val = env_lookup(env, s + i + 1, j - i - 1, &vn)))
                skip = j - i + 1;
        }
        if (!val) {
            val = &s[i];
            vn = 1;
        }
        if (o + vn + 1 > cap) {
            cap = (o + vn + 1) * 2;
            uint16_t *grown = realloc(out, cap * sizeof(uint16_t));
            if (!grown) {
                free(out);
                return NULL;
            }
            out = grown;
        }
        memcpy(out + o, val, vn * sizeof(uint16_t));
        o += vn;
        i += skip;
    }
    out[o] = 0;
    *out_n = o;
    return out;
}

static bool is_string(ULONG type)
{
    return type == REG_SZ || type == REG_EXPAND_SZ || type == REG_MULTI_SZ || type == REG_LINK;
}

/* DIRECT: stores data at EntryContext (spec: strings into a UNICODE_STRING,
 * up to 4 bytes in place, larger behind a signed size LONG). */
static NTSTATUS store(PVOID dest, ULONG type, const uint8_t *data, ULONG len)
{
    if (is_string(type)) {
        UNICODE_STRING *us = dest;
        ULONG bytes = len & ~1u;
        const uint16_t *w = (const uint16_t *)data;
        if (bytes >= 2 && w[bytes / 2 - 1] == 0)
            bytes -= 2; /* the terminator is not part of Length */
        if (bytes + 2 > UNICODE_STRING_MAX_BYTES)
            return STATUS_BUFFER_TOO_SMALL;
        if (!us->Buffer) {
            us->Buffer = rtl_alloc(bytes + 2);
            if (!us->Buffer)
                return STATUS_INSUFFICIENT_RESOURCES;
            us->MaximumLength = (USHORT)(bytes + 2);
        } else if (us->MaximumLength < bytes + 2) {
            return STATUS_BUFFER_TOO_SMALL;
        }
        memcpy(us->Buffer, data, bytes);
        us->Buffer[bytes / 2] = 0;
        us->Length = (USHORT)bytes;
        return STATUS_SUCCESS;
    }
    if (len <= sizeof(ULONG)) {
        memcpy(dest, data, len);
        return STATUS_SUCCESS;
    }
    LONG size;
    memcpy(&size, dest, sizeof(size));
    if (size < 0) {
        if ((ULONG) - (int64_t)size < len)
            return STATUS_BUFFER_TOO_SMALL;
        memcpy(dest, data, len);
    } else {
        if ((uint64_t)size < (uint64_t)len + 8)
            return STATUS_BUFFER_TOO_SMALL;
        ULONG hdr[2] = {len, type};
        memcpy(dest, hdr, sizeof(hdr));
        memcpy((uint8_t *)dest + 8, data, len);
    }
    return STATUS_SUCCESS;
}

/* Hands one (name, type, data) to the entry: DIRECT store or routine. */
static NTSTATUS deliver(struct query *q, const uint16_t *name, size_t nn, ULONG type,
                        const uint8_t *data, ULONG len)
{
    PRTL_QUERY_REGISTRY_TABLE e = q->e;
    if (e->Flags & RTL_QUERY_REGISTRY_DIRECT)
        return store(e->EntryContext, type, data, len);
    uint16_t *nm = NULL;
    if (name) {
        nm = malloc((nn + 1) * sizeof(uint16_t));
        if (!nm)
            return STATUS_INSUFFICIENT_RESOURCES;
        memcpy(nm, name, nn * sizeof(uint16_t));
        nm[nn] = 0;
    }
    uint8_t *copy = NULL;
    if (data) {
        copy = malloc((size_t)len + 2);
        if (!copy) {
            free(nm);
            return STATUS_INSUFFICIENT_RESOURCES;
        }
        memcpy(copy, data, len);
        copy[len] = copy[len + 1] = 0;
    }
    NTSTATUS st = e->QueryRoutine(nm, type, copy, len, q->context, e->EntryContext);
    free(nm);
    free(copy);
    return st == STATUS_BUFFER_TOO_SMALL ? STATUS_SUCCESS : st;
}

/* Expansion and REG_MULTI_SZ splitting, then deliver. */
static NTSTATUS process(struct query *q, const uint16_t *name, size_t nn, ULONG type,
                        const uint8_t *data, ULONG len)
{
    ULONG flags = q->e->Flags;
    if (flags & RTL_QUERY_REGISTRY_NOEXPAND)
        return deliver(q, name, nn, type, data, len);
    if (type == REG_EXPAND_SZ) {
        size_t n = len / 2, xn;
        const uint16_t *w = (const uint16_t *)data;
        while (n && w[n - 1] == 0)
            n--;
        uint16_t *x = expand(q->env ? q->env : system_env, w, n, &xn);
        if (!x)
            return STATUS_INSUFFICIENT_RESOURCES;
        NTSTATUS st = deliver(q, name, nn, REG_SZ, (const uint8_t *)x, (ULONG)(xn + 1) * 2);
        free(x);
        return st;
    }
    if (type == REG_MULTI_SZ && !(flags & RTL_QUERY_REGISTRY_DIRECT)) {
        const uint16_t *w = (const uint16_t *)data;
        size_t n = len / 2;
        for (size_t i = 0; i < n && w[i];) {
            size_t l = 0;
            while (i + l < n && w[i + l])
                l++;
            uint16_t *one = malloc((l + 1) * sizeof(uint16_t));
            if (!one)
                return STATUS_INSUFFICIENT_RESOURCES;
            memcpy(one, w + i, l * sizeof(uint16_t));
            one[l] = 0;
            NTSTATUS st = deliver(q, name, nn, REG_SZ, (const uint8_t *)one, (ULONG)(l + 1) * 2);
            free(one);
            if (!NT_SUCCESS(st))
                return st;
            i += l + 1;
        }
        return STATUS_SUCCESS;
    }
    return deliver(q, name, nn, type, data, len);
}

static NTSTATUS check_type(const struct query *q, ULONG type)
{
    ULONG flags = q->e->Flags;
    if ((flags & RTL_QUERY_REGISTRY_TYPECHECK) && (flags & RTL_QUERY_REGISTRY_DIRECT) &&
        (q->e->DefaultType >> RTL_QUERY_REGISTRY_TYPECHECK_SHIFT) != type)
        return STATUS_OBJECT_TYPE_MISMATCH;
    return STATUS_SUCCESS;
}

/* Every value of key (Name NULL). Values are copied first: the routine may
 * change the key. */
static NTSTATUS all_values(struct query *q, struct cm_key *key)
{
    PRTL_QUERY_REGISTRY_TABLE e = q->e;
    if (e->Flags & RTL_QUERY_REGISTRY_NOVALUE)
        return deliver(q, NULL, 0, REG_NONE, NULL, 0);
    if (!key || key->nval == 0)
        return (e->Flags & RTL_QUERY_REGISTRY_REQUIRED) ? STATUS_OBJECT_NAME_NOT_FOUND
                                                        : STATUS_SUCCESS;
    uint32_t n = key->nval;
    struct cm_value *copy = calloc(n, sizeof(*copy));
    if (!copy)
        return STATUS_INSUFFICIENT_RESOURCES;
    NTSTATUS st = STATUS_SUCCESS;
    for (uint32_t i = 0; i < n; i++) {
        copy[i] = key->val[i];
        copy[i].name = malloc((copy[i].name_len + 1u) * 2);
        copy[i].data = malloc((size_t)copy[i].size + 2);
        if (!copy[i].name || !copy[i].data) {
            st = STATUS_INSUFFICIENT_RESOURCES;
            n = i + 1;
            goto out;
        }
        memcpy(copy[i].name, key->val[i].name, copy[i].name_len * 2u);
        memcpy(copy[i].data, key->val[i].data, (size_t)copy[i].size + 2);
    }
    for (uint32_t i = 0; i < n && NT_SUCCESS(st); i++) {
        st = check_type(q, copy[i].type);
        if (NT_SUCCESS(st))
            st = process(q, copy[i].name, copy[i].name_len, copy[i].type, copy[i].data,
                         copy[i].size);
    }
    if (NT_SUCCESS(st) && (e->Flags & RTL_QUERY_REGISTRY_DELETE) && !key->deleted)
        for (uint32_t i = 0; i < n; i++)
            cm_value_delete(q->cm, key, copy[i].name, copy[i].name_len);
out:
    for (uint32_t i = 0; i < n; i++) {
        free(copy[i].name);
        free(copy[i].data);
    }
    free(copy);
    return st;
}

/* Default data length when DefaultLength is 0 for a string type. */
static ULONG default_length(ULONG type, const uint16_t *w)
{
    if (!w)
        return 0;
    if (type == REG_SZ || type == REG_EXPAND_SZ)
        return (ULONG)(cm_wcslen(w) + 1) * 2;
    if (type == REG_MULTI_SZ) {
        size_t i = 0;
        while (w[i])
            i += cm_wcslen(w + i) + 1;
        return (ULONG)(i + 1) * 2;
    }
    return 0;
}

static NTSTATUS named_value(struct query *q, struct cm_key *key)
{
    PRTL_QUERY_REGISTRY_TABLE e = q->e;
    size_t nn = cm_wcslen(e->Name);
    const struct cm_value *v = key ? cm_value_find(key, e->Name, nn) : NULL;
    if (v) {
        NTSTATUS st = check_type(q, v->type);
        if (!NT_SUCCESS(st))
            return st;
        /* copy: the routine may change or delete the value */
        ULONG len = v->size, type = v->type;
        uint8_t *data = malloc((size_t)len + 2);
        if (!data)
            return STATUS_INSUFFICIENT_RESOURCES;
        memcpy(data, v->data, (size_t)len + 2);
        st = process(q, e->Name, nn, type, data, len);
        free(data);
        if (NT_SUCCESS(st) && (e->Flags & RTL_QUERY_REGISTRY_DELETE) && !key->deleted)
            cm_value_delete(q->cm, key, e->Name, nn);
        return st;
    }
    if (e->Flags & RTL_QUERY_REGISTRY_REQUIRED)
        return STATUS_OBJECT_NAME_NOT_FOUND;
    ULONG type = e->DefaultType & 0xFF;
    if (type == REG_NONE)
        return STATUS_SUCCESS;
    ULONG len = e->DefaultLength;
    if (!len)
        len = default_length(type, e->DefaultData);
    if (len && !e->DefaultData)
        return STATUS_INVALID_PARAMETER;
    return process(q, e->Name, nn, type, e->DefaultData, len);
}

NTSYSAPI NTSTATUS NTAPI RtlQueryRegistryValues(ULONG RelativeTo, PCWSTR Path,
                                               PRTL_QUERY_REGISTRY_TABLE QueryTable, PVOID Context,
                                               PVOID Environment)
{
    cm_check_passive("RtlQueryRegistryValues", (void *)RtlQueryRegistryValues);
    struct cm *cm = cm_get();
    if (!QueryTable)
        return STATUS_INVALID_PARAMETER;
    struct cm_key *top;
    NTSTATUS st = cm_rtl_key(cm, RelativeTo, Path, false, KEY_QUERY_VALUE, &top);
    if (st)
        return st;
    struct query q = {.cm = cm, .context = Context, .env = Environment};
    struct cm_key *cur = top;
    for (PRTL_QUERY_REGISTRY_TABLE e = QueryTable; e->QueryRoutine || e->Name; e++) {
        q.e = e;
        if (e->Flags & RTL_QUERY_REGISTRY_TOPKEY)
            cur = top;
        if (e->Flags & RTL_QUERY_REGISTRY_SUBKEY) {
            if (!e->Name)
                return STATUS_INVALID_PARAMETER;
            if (top->deleted)
                return STATUS_KEY_DELETED;
            struct cm_key *sub;
            st = cm_resolve(cm, top, e->Name, cm_wcslen(e->Name), 0, &sub, NULL);
            if (st == STATUS_OBJECT_NAME_NOT_FOUND && !(e->Flags & RTL_QUERY_REGISTRY_REQUIRED))
                sub = NULL; /* later entries see a key without values */
            else if (st)
                return st;
            cur = sub;
            if (!e->QueryRoutine)
                continue;
            st = all_values(&q, cur);
        } else if (!e->QueryRoutine && !(e->Flags & RTL_QUERY_REGISTRY_DIRECT)) {
            return STATUS_INVALID_PARAMETER;
        } else if (!e->Name) {
            if (e->Flags & RTL_QUERY_REGISTRY_DIRECT)
                return STATUS_INVALID_PARAMETER;
            st = all_values(&q, cur);
        } else {
            if ((e->Flags & RTL_QUERY_REGISTRY_DIRECT) &&
                !(e->Flags & RTL_QUERY_REGISTRY_TYPECHECK) && cur && !cm_key_trusted(cur))
                vf_fire(&cm_rule_registry_direct_untrusted, (uint64_t)(uintptr_t)e, 0, 0,
                        "DIRECT query of a value outside the system hives without "
                        "RTL_QUERY_REGISTRY_TYPECHECK [entry %p]",
                        (void *)e);
            st = named_value(&q, cur);
        }
        if (!NT_SUCCESS(st))
            return st;
    }
    return STATUS_SUCCESS;
}
