/*
 * src/cm/info.c - KEY_*_INFORMATION and KEY_VALUE_*_INFORMATION records.
 *
 * Models: what ZwQueryKey, ZwEnumerateKey, ZwQueryValueKey and
 * ZwEnumerateValueKey write (x64 layouts, lengths in bytes, names counted,
 * not NUL-terminated) and the buffer statuses of spec/ke_rtl_registry.md 9:
 * a buffer smaller than the fixed part -> STATUS_BUFFER_TOO_SMALL and
 * nothing written; fixed part fits, rest not -> STATUS_BUFFER_OVERFLOW with
 * the fixed part and as much of the rest as fits (the spec's Open question;
 * wdmsim's choice); *ResultLength is the full size either way.
 * Invariants: a record is built whole in host memory, then a prefix of it is
 * copied out, so a truncated record is exactly the first Length bytes.
 * Not modelled: layered keys (Layer classes report zeros), handle tags.
 */
#include <stdlib.h>
#include <string.h>

#include <wdm.h>

#include "cm/cm.h"

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}
static void put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}
static uint32_t align(uint32_t v, uint32_t a)
{
    return (v + a - 1) & ~(a - 1);
}

/* Copies the prefix that fits and picks the status. */
static int32_t deliver(uint8_t *rec, uint32_t full, uint32_t fixed, void *buf, uint32_t len,
                       uint32_t *result)
{
    *result = full;
    if (len < fixed) {
        free(rec);
        return STATUS_BUFFER_TOO_SMALL;
    }
    if (!buf) {
        free(rec);
        return STATUS_ACCESS_VIOLATION;
    }
    memcpy(buf, rec, len < full ? len : full);
    free(rec);
    return len < full ? STATUS_BUFFER_OVERFLOW : STATUS_SUCCESS;
}

int32_t cm_info_value(const struct cm_value *v, int cls, void *buf, uint32_t len, uint32_t *result)
{
    uint32_t nb = v->name_len * 2u, fixed, full, off = 0;
    switch (cls) {
    case KeyValueBasicInformation:
        fixed = 12, full = 12 + nb;
        break;
    case KeyValueFullInformation:
    case KeyValueFullInformationAlign64:
        fixed = 20;
        off = align(20 + nb, cls == KeyValueFullInformation ? 4 : 8);
        full = off + v->size;
        break;
    case KeyValuePartialInformation:
        fixed = 12, full = 12 + v->size;
        break;
    case KeyValuePartialInformationAlign64:
        fixed = 8, full = 8 + v->size;
        break;
    case KeyValueLayerInformation:
        fixed = 4, full = 4;
        break;
    default:
        return STATUS_INVALID_PARAMETER;
    }
    uint8_t *r = calloc(1, full);
    if (!r)
        return STATUS_INSUFFICIENT_RESOURCES;
    switch (cls) {
    case KeyValueBasicInformation:
        put32(r + 4, v->type);
        put32(r + 8, nb);
        memcpy(r + 12, v->name, nb);
        break;
    case KeyValueFullInformation:
    case KeyValueFullInformationAlign64:
        put32(r + 4, v->type);
        put32(r + 8, off);
        put32(r + 12, v->size);
        put32(r + 16, nb);
        memcpy(r + 20, v->name, nb);
        memcpy(r + off, v->data, v->size);
        break;
    case KeyValuePartialInformation:
        put32(r + 4, v->type);
        put32(r + 8, v->size);
        memcpy(r + 12, v->data, v->size);
        break;
    case KeyValuePartialInformationAlign64:
        put32(r, v->type);
        put32(r + 4, v->size);
        memcpy(r + 8, v->data, v->size);
        break;
    default:
        break;
    }
    return deliver(r, full, fixed, buf, len, result);
}

struct key_stats {
    uint32_t max_name, max_class, max_value_name, max_value_data;
};

static void stats(const struct cm_key *k, struct key_stats *s)
{
    memset(s, 0, sizeof(*s));
    for (uint32_t i = 0; i < k->nsub; i++) {
        if (k->sub[i]->name_len * 2u > s->max_name)
            s->max_name = k->sub[i]->name_len * 2u;
        if (k->sub[i]->cls_len * 2u > s->max_class)
            s->max_class = k->sub[i]->cls_len * 2u;
    }
    for (uint32_t i = 0; i < k->nval; i++) {
        if (k->val[i].name_len * 2u > s->max_value_name)
            s->max_value_name = k->val[i].name_len * 2u;
        if (k->val[i].size > s->max_value_data)
            s->max_value_data = k->val[i].size;
    }
}

int32_t cm_info_key(const struct cm_key *k, int cls, bool enumerating, void *buf, uint32_t len,
                    uint32_t *result)
{
    if (enumerating && cls != KeyBasicInformation && cls != KeyNodeInformation &&
        cls != KeyFullInformation)
        return STATUS_INVALID_PARAMETER;
    uint32_t nb = k->name_len * 2u, cb = k->cls_len * 2u, fixed, full, coff = 0;
    uint16_t *path = NULL;
    size_t plen = 0;
    struct key_stats s;
    stats(k, &s);
    switch (cls) {
    case KeyBasicInformation:
        fixed = 16, full = 16 + nb;
        break;
    case KeyNodeInformation:
        fixed = 24;
        coff = align(24 + nb, 4);
        full = k->cls ? coff + cb : 24 + nb;
        break;
    case KeyFullInformation:
        fixed = 44, full = 44 + cb;
        break;
    case KeyNameInformation:
        path = cm_key_path(k, &plen);
        if (!path)
            return STATUS_INSUFFICIENT_RESOURCES;
        fixed = 4, full = 4 + (uint32_t)plen * 2;
        break;
    case KeyCachedInformation:
        fixed = full = 40;
        break;
    case KeyFlagsInformation:
        fixed = full = 12;
        break;
    case KeyVirtualizationInformation:
    case KeyHandleTagsInformation:
    case KeyTrustInformation:
    case KeyLayerInformation:
        fixed = full = 4;
        break;
    default:
        return STATUS_INVALID_PARAMETER;
    }
    uint8_t *r = calloc(1, full);
    if (!r) {
        free(path);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    switch (cls) {
    case KeyBasicInformation:
        put64(r, k->last_write);
        put32(r + 12, nb);
        memcpy(r + 16, k->name, nb);
        break;
    case KeyNodeInformation:
        put64(r, k->last_write);
        put32(r + 12, k->cls ? coff : 0xFFFFFFFFu);
        put32(r + 16, cb);
        put32(r + 20, nb);
        memcpy(r + 24, k->name, nb);
        if (k->cls)
            memcpy(r + coff, k->cls, cb);
        break;
    case KeyFullInformation:
        put64(r, k->last_write);
        put32(r + 12, k->cls ? 44 : 0xFFFFFFFFu);
        put32(r + 16, cb);
        put32(r + 20, k->nsub);
        put32(r + 24, s.max_name);
        put32(r + 28, s.max_class);
        put32(r + 32, k->nval);
        put32(r + 36, s.max_value_name);
        put32(r + 40, s.max_value_data);
        if (k->cls)
            memcpy(r + 44, k->cls, cb);
        break;
    case KeyNameInformation:
        put32(r, (uint32_t)plen * 2);
        memcpy(r + 4, path, plen * 2);
        break;
    case KeyCachedInformation:
        put64(r, k->last_write);
        put32(r + 12, k->nsub);
        put32(r + 16, s.max_name);
        put32(r + 20, k->nval);
        put32(r + 24, s.max_value_name);
        put32(r + 28, s.max_value_data);
        put32(r + 32, nb);
        break;
    case KeyFlagsInformation: /* REG_FLAG_VOLATILE 1, REG_FLAG_LINK 2 */
        put32(r + 4, (k->is_volatile ? 1u : 0u) | (k->is_link ? 2u : 0u));
        break;
    default:
        break;
    }
    free(path);
    return deliver(r, full, fixed, buf, len, result);
}
