/*
 * src/cm/path.c - turning a key path into a key: components, links, create.
 *
 * Models: the object manager's parse of a registry path (ZwCreateKey /
 * ZwOpenKey): an absolute path starts with \REGISTRY; a relative one is
 * resolved from the RootDirectory key. A link key (REG_OPTION_CREATE_LINK)
 * redirects to the absolute path in its REG_LINK value SymbolicLinkValue,
 * unless it is the last component and the caller asked to open the link.
 * Invariants: at most cm_max_link_hops links per resolution (a loop fails
 * with OBJECT_NAME_NOT_FOUND instead of hanging).
 * Not modelled: \Registry\A (application hives), OBJ_DONT_REPARSE.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <wdm.h>

#include "cm/cm.h"

static const uint16_t link_value[] = u"SymbolicLinkValue";

/* New path = target + '\' + rest; malloc'd. */
static uint16_t *join(const uint16_t *target, size_t tn, const uint16_t *rest, size_t rn, size_t *n)
{
    uint16_t *p = malloc((tn + 1 + rn + 1) * sizeof(uint16_t));
    if (!p)
        return NULL;
    memcpy(p, target, tn * sizeof(uint16_t));
    *n = tn;
    if (rn) {
        p[(*n)++] = '\\';
        memcpy(p + *n, rest, rn * sizeof(uint16_t));
        *n += rn;
    }
    return p;
}

int32_t cm_resolve(struct cm *cm, struct cm_key *base, const uint16_t *path, size_t n,
                   unsigned flags, struct cm_key **out, bool *created)
{
    uint16_t *owned = NULL;
    unsigned hops = 0;
    int32_t st = STATUS_SUCCESS;
    struct cm_key *cur = base;
    size_t i = 0;
    if (created)
        *created = false;
    if (!base) {
    absolute:
        if (n == 0 || path[0] != '\\') {
            st = STATUS_OBJECT_PATH_SYNTAX_BAD;
            goto done;
        }
        size_t e = 1;
        while (e < n && path[e] != '\\')
            e++;
        if (!cm_name_eq_ascii(path + 1, e - 1, "REGISTRY")) {
            st = STATUS_OBJECT_NAME_NOT_FOUND;
            goto done;
        }
        cur = cm->root;
        i = e < n ? e + 1 : e;
        if (e + 1 == n) { /* "\REGISTRY\" */
            st = STATUS_OBJECT_NAME_INVALID;
            goto done;
        }
    } else if (n && path[0] == '\\') {
        st = STATUS_OBJECT_PATH_SYNTAX_BAD;
        goto done;
    }
    while (i < n) {
        size_t e = i;
        while (e < n && path[e] != '\\')
            e++;
        size_t len = e - i;
        bool last = e >= n;
        if (len == 0 || len > cm_max_key_name || (!last && e + 1 == n)) {
            st = STATUS_OBJECT_NAME_INVALID;
            goto done;
        }
        struct cm_key *child = cm_key_child(cur, path + i, len);
        if (!child) {
            if (!last || !(flags & (cm_open_create | cm_open_create_link))) {
                st = STATUS_OBJECT_NAME_NOT_FOUND;
                goto done;
            }
            unsigned depth = 0;
            for (const struct cm_key *p = cur; p->parent; p = p->parent)
                depth++;
            if (depth + 1 >= cm_max_depth) {
                st = STATUS_OBJECT_NAME_INVALID;
                goto done;
            }
            if (!cur->parent) { /* \REGISTRY holds only MACHINE and USER */
                st = STATUS_ACCESS_DENIED;
                goto done;
            }
            bool vol = (flags & cm_open_volatile) != 0;
            if (cur->is_volatile && !vol) {
                st = STATUS_CHILD_MUST_BE_VOLATILE;
                goto done;
            }
            child = cm_key_add(cm, cur, path + i, len, vol);
            if (!child) {
                st = STATUS_INSUFFICIENT_RESOURCES;
                goto done;
            }
            child->is_link = (flags & cm_open_create_link) != 0;
            if (created)
                *created = true;
            cur = child;
            break;
        }
        if (last && (flags & cm_open_create_link)) {
            st = STATUS_OBJECT_NAME_COLLISION;
            goto done;
        }
        if (child->is_link && !(last && (flags & cm_open_link))) {
            const struct cm_value *v = cm_value_find(child, link_value, sizeof(link_value) / 2 - 1);
            if (!v || v->type != REG_LINK || ++hops > cm_max_link_hops) {
                st = STATUS_OBJECT_NAME_NOT_FOUND;
                goto done;
            }
            size_t rest = last ? 0 : n - e - 1, nn;
            uint16_t *np = join((const uint16_t *)v->data, v->size / 2, path + e + 1, rest, &nn);
            if (!np) {
                st = STATUS_INSUFFICIENT_RESOURCES;
                goto done;
            }
            free(owned);
            owned = np;
            path = np;
            n = nn;
            goto absolute;
        }
        cur = child;
        i = e + 1;
    }
done:
    free(owned);
    if (st == STATUS_SUCCESS)
        *out = cur;
    return st;
}

int32_t cm_resolve_utf8(struct cm *cm, const char *path, unsigned flags, struct cm_key **out)
{
    static const struct {
        const char *root, *to;
    } roots[] = {
        {"HKEY_LOCAL_MACHINE", "\\REGISTRY\\MACHINE"},
        {"HKLM", "\\REGISTRY\\MACHINE"},
        {"HKEY_USERS", "\\REGISTRY\\USER"},
        {"HKU", "\\REGISTRY\\USER"},
        {"HKEY_CURRENT_USER", "\\REGISTRY\\USER\\.DEFAULT"},
        {"HKCU", "\\REGISTRY\\USER\\.DEFAULT"},
    };
    const char *rest = path;
    const char *prefix = "";
    for (size_t r = 0; r < sizeof(roots) / sizeof(roots[0]); r++) {
        size_t l = strlen(roots[r].root);
        if (!strncasecmp(path, roots[r].root, l) && (path[l] == 0 || path[l] == '\\')) {
            prefix = roots[r].to;
            rest = path + l;
            break;
        }
    }
    size_t pl = strlen(prefix), rl = strlen(rest);
    char *full = malloc(pl + rl + 1);
    if (!full)
        return STATUS_INSUFFICIENT_RESOURCES;
    memcpy(full, prefix, pl);
    memcpy(full + pl, rest, rl + 1);
    size_t wn;
    uint16_t *w = cm_utf8_to_w(full, pl + rl, &wn);
    free(full);
    if (!w)
        return STATUS_OBJECT_NAME_INVALID;
    if (wn == 9 && cm_name_eq_ascii(w, wn, "\\REGISTRY")) {
        free(w);
        *out = cm->root;
        return STATUS_SUCCESS;
    }
    int32_t st = cm_resolve(cm, NULL, w, wn, flags, out, NULL);
    free(w);
    return st;
}

int32_t cm_create_path_utf8(struct cm *cm, const char *path, unsigned flags, struct cm_key **out)
{
    size_t n = strlen(path);
    char *buf = malloc(n + 1);
    if (!buf)
        return STATUS_INSUFFICIENT_RESOURCES;
    memcpy(buf, path, n + 1);
    int32_t st = STATUS_OBJECT_NAME_INVALID;
    /* Each prefix in turn: cm_resolve creates only the last component. The
     * first prefix is the root ("\REGISTRY" or "HKLM"), which exists. */
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '\\' && buf[i] != 0)
            continue;
        char save = buf[i];
        buf[i] = 0;
        st = cm_resolve_utf8(cm, buf, flags | cm_open_create, out);
        buf[i] = save;
        if (st)
            break;
    }
    free(buf);
    return st;
}
