/*
 * src/cm/hive.c - the SYSTEM hive on disk: load with libhivex, atomic flush.
 *
 * Models: \REGISTRY\MACHINE\SYSTEM backed by a regf file that Windows tools
 * (and hivexsh) read. Loading replaces SYSTEM's persistent content with the
 * file's; a flush writes every nonvolatile key and value under SYSTEM into
 * a new hive built by hivex from an empty one (regf.c), then makes it the
 * file atomically: write FILE.tmp, fsync it, rename over FILE, fsync the
 * directory. A crash at any instant leaves the old or the new hive.
 * Invariants: the target file is only ever replaced by rename(2) of a
 * complete, fsync'ed file; FILE.tmp may be left over by a crash and is
 * overwritten by the next flush.
 * Not modelled: key class names and last-write times are not written (hivex
 * has no call for them: keys read back carry the load time); the hive log
 * files (.LOG1/.LOG2) Windows uses; two processes flushing one hive.
 */
#include <errno.h>
#include <fcntl.h>
#include <hivex.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <wdm.h>

#include "cm/cm.h"

enum { max_depth = 512, max_keys = 1 << 20 };

static void fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

static struct cm_key *system_key(struct cm *cm)
{
    struct cm_key *k;
    return cm_resolve_utf8(cm, "\\REGISTRY\\MACHINE\\SYSTEM", 0, &k) ? NULL : k;
}

/* ---- reading ------------------------------------------------------------- */

struct reader {
    struct cm *cm;
    hive_h *h;
    const char *path;
    char *err;
    size_t errlen;
    unsigned keys;
};

static int read_node(struct reader *r, hive_node_h node, struct cm_key *into, unsigned depth)
{
    if (depth > max_depth || ++r->keys > max_keys) {
        fail(r->err, r->errlen, "%s: bad hive: keys nested deeper than %u or more than %u keys",
             r->path, max_depth, max_keys);
        return -1;
    }
    hive_value_h *vals = hivex_node_values(r->h, node);
    if (!vals) {
        fail(r->err, r->errlen, "%s: bad hive: value list: %s", r->path, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; vals[i] && !rc; i++) {
        char *name = hivex_value_key(r->h, vals[i]);
        hive_type t;
        size_t len;
        char *data = name ? hivex_value_value(r->h, vals[i], &t, &len) : NULL;
        size_t wn = 0;
        uint16_t *w = name ? cm_utf8_to_w(name, strlen(name), &wn) : NULL;
        if (!name || !data || !w) {
            fail(r->err, r->errlen, "%s: bad hive: value %s: %s", r->path, name ? name : "?",
                 strerror(errno ? errno : EINVAL));
            rc = -1;
        } else if (wn > cm_max_value_name || len > cm_max_value_size) {
            fail(r->err, r->errlen, "%s: bad hive: value '%s' too long", r->path, name);
            rc = -1;
        } else if (cm_value_set(r->cm, into, w, wn, (uint32_t)t, data, (uint32_t)len)) {
            fail(r->err, r->errlen, "%s: out of memory", r->path);
            rc = -1;
        }
        free(w);
        free(data);
        free(name);
    }
    free(vals);
    if (rc)
        return rc;
    hive_node_h *kids = hivex_node_children(r->h, node);
    if (!kids) {
        fail(r->err, r->errlen, "%s: bad hive: subkey list: %s", r->path, strerror(errno));
        return -1;
    }
    for (size_t i = 0; kids[i] && !rc; i++) {
        char *name = hivex_node_name(r->h, kids[i]);
        size_t wn = 0;
        uint16_t *w = name ? cm_utf8_to_w(name, strlen(name), &wn) : NULL;
        bool ok = w && wn > 0 && wn <= cm_max_key_name;
        for (size_t j = 0; ok && j < wn; j++)
            ok = w[j] != '\\';
        if (!ok) {
            fail(r->err, r->errlen, "%s: bad hive: key name '%s' under '%s'", r->path,
                 name ? name : "?", "");
            rc = -1;
        } else {
            struct cm_key *child = cm_key_child(into, w, wn);
            if (!child)
                child = cm_key_add(r->cm, into, w, wn, false);
            if (!child) {
                fail(r->err, r->errlen, "%s: out of memory", r->path);
                rc = -1;
            } else if (child->is_volatile || child->is_link) {
                fail(r->err, r->errlen, "%s: bad hive: key '%s' is volatile here", r->path, name);
                rc = -1;
            } else {
                rc = read_node(r, kids[i], child, depth + 1);
            }
        }
        free(w);
        free(name);
    }
    free(kids);
    return rc;
}

int cm_hive_read(struct cm *cm, struct cm_key *key, const char *path, char *err, size_t errlen)
{
    errno = 0;
    hive_h *h = hivex_open(path, 0);
    if (!h) {
        fail(err, errlen, "%s: not a readable registry hive: %s", path,
             strerror(errno ? errno : EINVAL));
        return -1;
    }
    struct reader r = {cm, h, path, err, errlen, 0};
    hive_node_h root = hivex_root(h);
    int rc = root ? read_node(&r, root, key, 0) : -1;
    if (!root)
        fail(err, errlen, "%s: bad hive: no root key", path);
    hivex_close(h);
    return rc;
}

int cm_hive_attach(struct cm *cm, const char *path, char *err, size_t errlen)
{
    char *copy = strdup(path);
    if (!copy) {
        fail(err, errlen, "%s: out of memory", path);
        return -1;
    }
    free(cm->hive_path);
    cm->hive_path = copy;
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno != ENOENT) {
            fail(err, errlen, "%s: %s", path, strerror(errno));
            return -1;
        }
        cm->dirty = true; /* a new hive: written at the first flush */
        return 0;
    }
    struct cm_key *sys = system_key(cm);
    /* The file's content replaces SYSTEM's nonvolatile keys. */
    for (uint32_t i = sys->nsub; i-- > 0;) {
        struct cm_key *k = sys->sub[i];
        if (k->is_volatile || k->handles)
            continue;
        memmove(&sys->sub[i], &sys->sub[i + 1], (sys->nsub - i - 1) * sizeof(sys->sub[0]));
        sys->nsub--;
        cm_key_free_tree(k);
    }
    if (cm_hive_read(cm, sys, path, err, errlen))
        return -1;
    if (cm_reseed(cm)) {
        fail(err, errlen, "%s: out of memory", path);
        return -1;
    }
    cm->dirty = false;
    return 0;
}

/* ---- writing ------------------------------------------------------------- */

struct writer {
    hive_h *h;
    char *err;
    size_t errlen;
    const char *path;
};

static int write_node(struct writer *w, const struct cm_key *k, hive_node_h node)
{
    int rc = 0;
    hive_set_value *vals = calloc(k->nval ? k->nval : 1, sizeof(*vals));
    if (!vals)
        return -1;
    for (uint32_t i = 0; i < k->nval; i++) {
        vals[i].key = cm_w_to_utf8(k->val[i].name, k->val[i].name_len, NULL);
        vals[i].t = (hive_type)k->val[i].type;
        vals[i].len = k->val[i].size;
        vals[i].value = (char *)k->val[i].data;
        if (!vals[i].key) {
            fail(w->err, w->errlen, "%s: value name is not valid UTF-16", w->path);
            rc = -1;
        }
    }
    if (!rc && k->nval && hivex_node_set_values(w->h, node, k->nval, vals, 0)) {
        fail(w->err, w->errlen, "%s: hivex_node_set_values: %s", w->path, strerror(errno));
        rc = -1;
    }
    for (uint32_t i = 0; i < k->nval; i++)
        free(vals[i].key);
    free(vals);
    for (uint32_t i = 0; i < k->nsub && !rc; i++) {
        const struct cm_key *c = k->sub[i];
        if (c->is_volatile)
            continue;
        char *name = cm_w_to_utf8(c->name, c->name_len, NULL);
        hive_node_h child = name ? hivex_node_add_child(w->h, node, name) : 0;
        if (!child) {
            fail(w->err, w->errlen, "%s: hivex_node_add_child(%s): %s", w->path, name ? name : "?",
                 strerror(errno));
            rc = -1;
        } else {
            rc = write_node(w, c, child);
        }
        free(name);
    }
    return rc;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int fsync_path(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

int cm_hive_write(struct cm *cm, const char *path, char *err, size_t errlen)
{
    struct cm_key *sys = system_key(cm);
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 5);
    char *dir = strdup(path);
    if (!tmp || !dir || !sys) {
        free(tmp);
        free(dir);
        fail(err, errlen, "%s: out of memory", path);
        return -1;
    }
    memcpy(tmp, path, pl);
    memcpy(tmp + pl, ".tmp", 5);
    int rc = -1;
    hive_h *h = NULL;
    uint8_t empty[8192];
    size_t n = cm_regf_empty(empty, sizeof(empty));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write_all(fd, empty, n) || close(fd)) {
        fail(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        goto out;
    }
    h = hivex_open(tmp, HIVEX_OPEN_WRITE);
    if (!h) {
        fail(err, errlen, "%s: hivex_open: %s", tmp, strerror(errno));
        goto out;
    }
    struct writer w = {h, err, errlen, path};
    if (write_node(&w, sys, hivex_root(h)))
        goto out;
    if (hivex_commit(h, tmp, 0)) {
        fail(err, errlen, "%s: hivex_commit: %s", tmp, strerror(errno));
        goto out;
    }
    if (fsync_path(tmp, O_RDONLY)) {
        fail(err, errlen, "%s: fsync: %s", tmp, strerror(errno));
        goto out;
    }
    if (rename(tmp, path)) {
        fail(err, errlen, "rename %s -> %s: %s", tmp, path, strerror(errno));
        goto out;
    }
    if (fsync_path(dirname(dir), O_RDONLY | O_DIRECTORY)) {
        fail(err, errlen, "%s: fsync of the directory: %s", path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (h)
        hivex_close(h);
    if (rc)
        unlink(tmp);
    free(tmp);
    free(dir);
    return rc;
}

int cm_hive_flush(struct cm *cm, char *err, size_t errlen)
{
    if (!cm->hive_path)
        return 0;
    if (cm_hive_write(cm, cm->hive_path, err, errlen))
        return -1;
    cm->dirty = false;
    return 0;
}
