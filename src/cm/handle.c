/*
 * src/cm/handle.c - key handles: the HANDLE values a driver holds.
 *
 * Models: object handles to keys with the access granted at open. A kernel
 * caller is granted what it asks for (no security descriptors), with the
 * generic rights and MAXIMUM_ALLOWED mapped to key rights; each routine
 * then checks the right it needs (STATUS_ACCESS_DENIED otherwise).
 * Invariants: a handle value is (slot + 1) * 4, or'ed with the kernel-handle
 * bit pattern for OBJ_KERNEL_HANDLE; a live slot holds one reference on its
 * key (key->handles).
 * Not modelled: per-process handle tables (all handles are in one table),
 * handle tags, inheritance.
 */
#include <stdlib.h>
#include <string.h>

#include <wdm.h>

#include "cm/cm.h"

/* Kernel handles have the top bits set on x64 Windows. */
static const uint64_t kernel_bits = 0xFFFFFFFF80000000ULL;

uint32_t cm_map_access(uint32_t access)
{
    uint32_t a = access & ~(uint32_t)(GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | GENERIC_ALL |
                                      MAXIMUM_ALLOWED);
    if (access & GENERIC_READ)
        a |= KEY_READ;
    if (access & GENERIC_WRITE)
        a |= KEY_WRITE;
    if (access & GENERIC_EXECUTE)
        a |= KEY_EXECUTE;
    if (access & (GENERIC_ALL | MAXIMUM_ALLOWED))
        a |= KEY_ALL_ACCESS;
    return a;
}

int32_t cm_handle_open(struct cm *cm, struct cm_key *k, uint32_t access, bool kernel, void **handle)
{
    uint32_t slot = 0;
    while (slot < cm->nhandle && cm->handle[slot].key)
        slot++;
    if (slot == cm->nhandle) {
        if (cm->nhandle == cm->caphandle) {
            uint32_t cap = cm->caphandle ? cm->caphandle * 2 : 16;
            if (cap > (1u << 24))
                return STATUS_INSUFFICIENT_RESOURCES;
            struct cm_handle *h = realloc(cm->handle, cap * sizeof(*h));
            if (!h)
                return STATUS_INSUFFICIENT_RESOURCES;
            cm->handle = h;
            cm->caphandle = cap;
        }
        cm->nhandle++;
    }
    cm->handle[slot].key = k;
    cm->handle[slot].access = cm_map_access(access);
    k->handles++;
    uint64_t v = (uint64_t)(slot + 1) * 4;
    if (kernel)
        v |= kernel_bits;
    *handle = (void *)(uintptr_t)v;
    return STATUS_SUCCESS;
}

static struct cm_handle *lookup(struct cm *cm, void *handle)
{
    uint64_t v = (uint64_t)(uintptr_t)handle;
    if ((v & kernel_bits) == kernel_bits)
        v &= ~kernel_bits;
    else if (v >> 32)
        return NULL;
    if (v == 0 || (v & 3) || v / 4 > cm->nhandle)
        return NULL;
    struct cm_handle *h = &cm->handle[v / 4 - 1];
    return h->key ? h : NULL;
}

int32_t cm_handle_get(struct cm *cm, void *handle, uint32_t need, bool allow_deleted,
                      struct cm_key **out)
{
    struct cm_handle *h = lookup(cm, handle);
    if (!h)
        return STATUS_INVALID_HANDLE;
    if ((h->access & need) != need)
        return STATUS_ACCESS_DENIED;
    if (h->key->deleted && !allow_deleted)
        return STATUS_KEY_DELETED;
    *out = h->key;
    return STATUS_SUCCESS;
}

int32_t cm_handle_close(struct cm *cm, void *handle)
{
    struct cm_handle *h = lookup(cm, handle);
    if (!h)
        return STATUS_INVALID_HANDLE;
    struct cm_key *k = h->key;
    h->key = NULL;
    if (--k->handles == 0 && k->deleted)
        cm_key_free_tree(k);
    return STATUS_SUCCESS;
}
