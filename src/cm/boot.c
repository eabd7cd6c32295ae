/*
 * src/cm/boot.c - the registry at boot and shutdown; driver service keys.
 *
 * Models: the keys a Windows system has before any driver loads:
 * \REGISTRY\MACHINE\SYSTEM\ControlSet001\{Control\Class, Control\DeviceClasses,
 * Enum, Services} and Select, the volatile link CurrentControlSet to the set
 * Select\Current names, SOFTWARE\Microsoft\Windows NT\CurrentVersion,
 * HARDWARE\{DESCRIPTION\System, DEVICEMAP}, USER\.DEFAULT. Only SYSTEM is
 * persisted, so HARDWARE (a volatile hive on Windows) needs no volatile flag:
 * like Windows, nonvolatile keys may be created in it.
 * A loaded driver gets Services\<name> with Type, Start, ErrorControl and
 * ImagePath before its DriverEntry (io_driver_start).
 * Invariants: cm_init / cm_hive_attach always leave this skeleton in place.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wdm.h>

#include "cm/cm.h"

static int mkpath(struct cm *cm, const char *path, unsigned flags, struct cm_key **out)
{
    struct cm_key *k;
    if (cm_create_path_utf8(cm, path, flags, &k) != STATUS_SUCCESS)
        return -1;
    if (out)
        *out = k;
    return 0;
}

static int set_dword(struct cm *cm, struct cm_key *k, const char *name, uint32_t v)
{
    size_t n;
    uint16_t *w = cm_utf8_to_w(name, strlen(name), &n);
    int rc = w ? cm_value_set(cm, k, w, n, REG_DWORD, &v, 4) : -1;
    free(w);
    return rc;
}

static int set_string(struct cm *cm, struct cm_key *k, const char *name, uint32_t type,
                      const char *text)
{
    size_t n, tn;
    uint16_t *w = cm_utf8_to_w(name, strlen(name), &n);
    uint16_t *t = cm_utf8_to_w(text, strlen(text), &tn);
    int rc = (w && t) ? cm_value_set(cm, k, w, n, type, t, (uint32_t)(tn + 1) * 2) : -1;
    free(w);
    free(t);
    return rc;
}

/* (Re)creates the skeleton; keeps whatever already exists. */
static int skeleton(struct cm *cm)
{
    static const char *const keys[] = {
        "\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Control\\Class",
        "\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Control\\DeviceClasses",
        "\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Enum",
        "\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Services",
        "\\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion",
        "\\REGISTRY\\USER\\.DEFAULT",
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (mkpath(cm, keys[i], 0, NULL))
            return -1;
    struct cm_key *k;
    if (mkpath(cm, "\\REGISTRY\\MACHINE\\HARDWARE\\DESCRIPTION\\System", 0, NULL) ||
        mkpath(cm, "\\REGISTRY\\MACHINE\\HARDWARE\\DEVICEMAP", 0, NULL))
        return -1;
    if (mkpath(cm, "\\REGISTRY\\MACHINE\\SYSTEM\\Select", 0, &k))
        return -1;
    static const uint16_t current[] = u"Current";
    const struct cm_value *cur = cm_value_find(k, current, 7);
    uint32_t set = 1;
    if (cur && cur->type == REG_DWORD && cur->size == 4)
        memcpy(&set, cur->data, 4);
    else if (set_dword(cm, k, "Current", 1) || set_dword(cm, k, "Default", 1) ||
             set_dword(cm, k, "LastKnownGood", 1) || set_dword(cm, k, "Failed", 0))
        return -1;
    if (set < 1 || set > 999)
        set = 1;
    char target[64];
    snprintf(target, sizeof(target), "\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet%03u", set);
    if (mkpath(cm, target, 0, NULL))
        return -1;
    struct cm_key *link;
    if (cm_resolve_utf8(cm, "\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet", cm_open_link,
                        &link) != STATUS_SUCCESS &&
        cm_resolve_utf8(cm, "\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet",
                        cm_open_create_link | cm_open_volatile, &link) != STATUS_SUCCESS)
        return -1;
    size_t tn;
    uint16_t *t = cm_utf8_to_w(target, strlen(target), &tn);
    static const uint16_t slv[] = u"SymbolicLinkValue";
    int rc = t ? cm_value_set(cm, link, slv, 17, REG_LINK, t, (uint32_t)tn * 2) : -1;
    free(t);
    if (!rc && mkpath(cm, "\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet\\Services", 0, NULL))
        rc = -1;
    cm->dirty = false;
    return rc;
}

int cm_init(struct cm *cm)
{
    memset(cm, 0, sizeof(*cm));
    cm->root = calloc(1, sizeof(*cm->root));
    if (!cm->root)
        return -1;
    static const uint16_t registry[] = u"REGISTRY";
    cm->root->name = malloc(sizeof(registry));
    if (!cm->root->name) {
        free(cm->root);
        cm->root = NULL;
        return -1;
    }
    memcpy(cm->root->name, registry, sizeof(registry));
    cm->root->name_len = 8;
    cm->root->last_write = cm_now(cm);
    struct cm_key *machine = cm_key_add(cm, cm->root, u"MACHINE", 7, false);
    if (!machine || !cm_key_add(cm, machine, u"SYSTEM", 6, false) ||
        !cm_key_add(cm, machine, u"SOFTWARE", 8, false) ||
        !cm_key_add(cm, machine, u"HARDWARE", 8, false) ||
        !cm_key_add(cm, cm->root, u"USER", 4, false) || skeleton(cm)) {
        cm_fini(cm);
        return -1;
    }
    return 0;
}

int cm_reseed(struct cm *cm)
{
    return skeleton(cm);
}

void cm_fini(struct cm *cm)
{
    for (uint32_t i = 0; i < cm->nhandle; i++) {
        struct cm_key *k = cm->handle[i].key;
        if (k && --k->handles == 0 && k->deleted)
            cm_key_free_tree(k);
    }
    free(cm->handle);
    cm_key_free_tree(cm->root);
    free(cm->device);
    free(cm->hive_path);
    memset(cm, 0, sizeof(*cm));
}

int cm_shutdown(struct cm *cm, char *err, size_t errlen)
{
    int rc = 0;
    if (cm->hive_path && cm->dirty)
        rc = cm_hive_flush(cm, err, errlen);
    cm_fini(cm);
    return rc;
}

int cm_ensure_service_key(struct cm *cm, const char *service)
{
    char path[512];
    snprintf(path, sizeof(path), "\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet\\Services\\%s",
             service);
    struct cm_key *k;
    if (cm_resolve_utf8(cm, path, cm_open_create, &k) != STATUS_SUCCESS)
        return -1;
    /* What the service installer writes; a .reg file or hive may have set
     * some already, and those stay. */
    static const struct {
        const char *name;
        uint32_t value;
    } dwords[] = {{"Type", 1}, {"Start", 3}, {"ErrorControl", 1}};
    for (size_t i = 0; i < sizeof(dwords) / sizeof(dwords[0]); i++) {
        size_t n;
        uint16_t *w = cm_utf8_to_w(dwords[i].name, strlen(dwords[i].name), &n);
        bool have = w && cm_value_find(k, w, n);
        free(w);
        if (!have && set_dword(cm, k, dwords[i].name, dwords[i].value))
            return -1;
    }
    char image[300];
    snprintf(image, sizeof(image), "\\SystemRoot\\System32\\drivers\\%s.sys", service);
    if (!cm_value_find(k, u"ImagePath", 9) && set_string(cm, k, "ImagePath", REG_EXPAND_SZ, image))
        return -1;
    return 0;
}

int cm_boot(struct cm *cm, const char *hive_path, const char *reg_path, char *err, size_t errlen)
{
    if (cm_init(cm)) {
        snprintf(err, errlen, "out of host memory building the registry");
        return -1;
    }
    if ((hive_path && cm_hive_attach(cm, hive_path, err, errlen)) ||
        (reg_path && cm_reg_import_file(cm, reg_path, err, errlen))) {
        cm_fini(cm);
        return -1;
    }
    return 0;
}
