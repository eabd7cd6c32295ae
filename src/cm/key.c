/*
 * src/cm/key.c - the key tree: children, values, write times, deletion.
 *
 * Models: registry keys as named nodes holding typed values; a key is
 * deleted only when childless, and an open handle keeps a deleted key alive
 * (calls through it then fail with STATUS_KEY_DELETED).
 * Invariants: see cm.h (sorted unique children; deleted keys detached).
 * Memory: host malloc - the registry is the system's, not a driver's.
 */
#include <stdlib.h>
#include <string.h>

#include "cm/cm.h"

/* 2024-01-01 00:00:00 UTC as FILETIME: runs are reproducible, so the
 * registry's clock is virtual and advances one second per write. */
static const uint64_t cm_epoch = 133485408000000000ULL;

uint64_t cm_now(struct cm *cm)
{
    if (cm->clock < cm_epoch)
        cm->clock = cm_epoch;
    cm->clock += 10000000ULL;
    return cm->clock;
}

/* Index of the first child not ordered before name. */
static uint32_t lower_bound(const struct cm_key *k, const uint16_t *name, size_t n)
{
    uint32_t lo = 0, hi = k->nsub;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const struct cm_key *c = k->sub[mid];
        if (cm_name_cmp(c->name, c->name_len, name, n) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct cm_key *cm_key_child(const struct cm_key *k, const uint16_t *name, size_t n)
{
    uint32_t i = lower_bound(k, name, n);
    if (i < k->nsub && !cm_name_cmp(k->sub[i]->name, k->sub[i]->name_len, name, n))
        return k->sub[i];
    return NULL;
}

static uint16_t *dup16(const uint16_t *s, size_t n)
{
    uint16_t *d = malloc((n + 1) * sizeof(uint16_t));
    if (d) {
        if (n)
            memcpy(d, s, n * sizeof(uint16_t));
        d[n] = 0;
    }
    return d;
}

struct cm_key *cm_key_add(struct cm *cm, struct cm_key *parent, const uint16_t *name, size_t n,
                          bool is_volatile)
{
    if (parent->nsub == parent->capsub) {
        uint32_t cap = parent->capsub ? parent->capsub * 2 : 4;
        struct cm_key **sub = realloc(parent->sub, cap * sizeof(*sub));
        if (!sub)
            return NULL;
        parent->sub = sub;
        parent->capsub = cap;
    }
    struct cm_key *k = calloc(1, sizeof(*k));
    if (!k)
        return NULL;
    k->name = dup16(name, n);
    if (!k->name) {
        free(k);
        return NULL;
    }
    k->name_len = (uint16_t)n;
    k->parent = parent;
    k->is_volatile = is_volatile;
    k->last_write = cm_now(cm);
    uint32_t i = lower_bound(parent, name, n);
    memmove(&parent->sub[i + 1], &parent->sub[i], (parent->nsub - i) * sizeof(parent->sub[0]));
    parent->sub[i] = k;
    parent->nsub++;
    cm_key_touch(cm, parent);
    if (cm_key_in_system_hive(cm, k))
        cm->dirty = true;
    return k;
}

static void free_values(struct cm_key *k)
{
    for (uint32_t i = 0; i < k->nval; i++) {
        free(k->val[i].name);
        free(k->val[i].data);
    }
    free(k->val);
    k->val = NULL;
    k->nval = k->capval = 0;
}

void cm_key_free_tree(struct cm_key *k)
{
    if (!k)
        return;
    for (uint32_t i = 0; i < k->nsub; i++)
        cm_key_free_tree(k->sub[i]);
    free(k->sub);
    free_values(k);
    free(k->name);
    free(k->cls);
    free(k);
}

void cm_key_delete(struct cm *cm, struct cm_key *k)
{
    struct cm_key *p = k->parent;
    if (p) {
        if (cm_key_in_system_hive(cm, k))
            cm->dirty = true;
        for (uint32_t i = 0; i < p->nsub; i++) {
            if (p->sub[i] == k) {
                memmove(&p->sub[i], &p->sub[i + 1], (p->nsub - i - 1) * sizeof(p->sub[0]));
                p->nsub--;
                break;
            }
        }
        cm_key_touch(cm, p);
    }
    k->parent = NULL;
    k->deleted = true;
    free_values(k);
    if (!k->handles)
        cm_key_free_tree(k);
}

struct cm_value *cm_value_find(const struct cm_key *k, const uint16_t *name, size_t n)
{
    for (uint32_t i = 0; i < k->nval; i++)
        if (!cm_name_cmp(k->val[i].name, k->val[i].name_len, name, n))
            return &k->val[i];
    return NULL;
}

int cm_value_set(struct cm *cm, struct cm_key *k, const uint16_t *name, size_t n, uint32_t type,
                 const void *data, uint32_t size)
{
    uint8_t *copy = malloc((size_t)size + 2);
    if (!copy)
        return -1;
    if (size)
        memcpy(copy, data, size);
    copy[size] = copy[size + 1] = 0;
    struct cm_value *v = cm_value_find(k, name, n);
    if (!v) {
        if (k->nval == k->capval) {
            uint32_t cap = k->capval ? k->capval * 2 : 4;
            struct cm_value *val = realloc(k->val, cap * sizeof(*val));
            if (!val) {
                free(copy);
                return -1;
            }
            k->val = val;
            k->capval = cap;
        }
        uint16_t *nm = dup16(name, n);
        if (!nm) {
            free(copy);
            return -1;
        }
        v = &k->val[k->nval++];
        v->name = nm;
        v->name_len = (uint16_t)n;
        v->data = NULL;
    }
    free(v->data);
    v->data = copy;
    v->size = size;
    v->type = type;
    cm_key_touch(cm, k);
    return 0;
}

int cm_value_delete(struct cm *cm, struct cm_key *k, const uint16_t *name, size_t n)
{
    struct cm_value *v = cm_value_find(k, name, n);
    if (!v)
        return -1;
    free(v->name);
    free(v->data);
    uint32_t i = (uint32_t)(v - k->val);
    memmove(&k->val[i], &k->val[i + 1], (k->nval - i - 1) * sizeof(k->val[0]));
    k->nval--;
    cm_key_touch(cm, k);
    return 0;
}

void cm_key_touch(struct cm *cm, struct cm_key *k)
{
    k->last_write = cm_now(cm);
    if (cm_key_in_system_hive(cm, k))
        cm->dirty = true;
}

/* The key two levels under the root on k's path (MACHINE\X), or NULL. */
static const struct cm_key *hive_root(const struct cm_key *k, const struct cm_key **machine)
{
    const struct cm_key *a = NULL, *b = NULL;
    for (const struct cm_key *p = k; p && p->parent; p = p->parent) {
        b = a;
        a = p;
    }
    if (machine)
        *machine = a;
    return b;
}

bool cm_key_in_system_hive(const struct cm *cm, const struct cm_key *k)
{
    (void)cm;
    if (k->deleted)
        return false;
    for (const struct cm_key *p = k; p; p = p->parent)
        if (p->is_volatile)
            return false;
    const struct cm_key *top;
    const struct cm_key *h = hive_root(k, &top);
    return top && h && cm_name_eq_ascii(top->name, top->name_len, "MACHINE") &&
           cm_name_eq_ascii(h->name, h->name_len, "SYSTEM");
}

bool cm_key_trusted(const struct cm_key *k)
{
    static const char *const system_hives[] = {"HARDWARE", "SOFTWARE", "SYSTEM", "SECURITY", "SAM"};
    const struct cm_key *top;
    const struct cm_key *h = hive_root(k, &top);
    if (!top || !h || !cm_name_eq_ascii(top->name, top->name_len, "MACHINE"))
        return false;
    for (size_t i = 0; i < sizeof(system_hives) / sizeof(system_hives[0]); i++)
        if (cm_name_eq_ascii(h->name, h->name_len, system_hives[i]))
            return true;
    return false;
}

uint16_t *cm_key_path(const struct cm_key *k, size_t *len)
{
    size_t n = 0;
    for (const struct cm_key *p = k; p; p = p->parent)
        n += 1u + p->name_len;
    uint16_t *out = malloc((n + 1) * sizeof(uint16_t));
    if (!out)
        return NULL;
    size_t at = n;
    out[n] = 0;
    for (const struct cm_key *p = k; p; p = p->parent) {
        at -= p->name_len;
        memcpy(&out[at], p->name, p->name_len * sizeof(uint16_t));
        out[--at] = '\\';
    }
    if (len)
        *len = n;
    return out;
}
