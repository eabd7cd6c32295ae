/*
 * src/host/registry.c - the host API's registry files (wdmsim_reg_*): a
 * registry built from a hive and a .reg file, without booting a machine.
 *
 * Models: the offline tools (reg.exe / regedit on a loaded hive): import a
 * .reg file into a hive, export a subtree, query values. They use src/cm's
 * machinery directly: no driver runs, so no system is entered.
 */
#include <stdlib.h>
#include <string.h>

#include <wdm.h>
#include <wdmsim/wdmsim.h>

#include "cm/cm.h"

static int open_registry(struct cm *cm, const char *hive, const char *reg, struct wdmsim_error *err)
{
    char text[512];
    if (cm_boot(cm, hive, reg, text, sizeof(text))) {
        if (err)
            snprintf(err->text, sizeof(err->text), "%s", text);
        return WDMSIM_EINPUT;
    }
    return WDMSIM_OK;
}

int wdmsim_reg_import(const char *hive_path, const char *reg_path, struct wdmsim_error *err)
{
    if (!hive_path) {
        if (err)
            snprintf(err->text, sizeof(err->text), "reg import: --hive FILE is required");
        return WDMSIM_EINPUT;
    }
    struct cm cm;
    int rc = open_registry(&cm, hive_path, reg_path, err);
    if (rc)
        return rc;
    char text[512];
    if (cm_hive_write(&cm, hive_path, text, sizeof(text))) {
        if (err)
            snprintf(err->text, sizeof(err->text), "%s", text);
        rc = WDMSIM_EINPUT;
    }
    cm_fini(&cm);
    return rc;
}

static int find_key(struct cm *cm, const char *key, struct cm_key **k, struct wdmsim_error *err)
{
    const char *path = key ? key : "HKEY_LOCAL_MACHINE\\SYSTEM";
    if (cm_resolve_utf8(cm, path, 0, k) != STATUS_SUCCESS) {
        if (err)
            snprintf(err->text, sizeof(err->text), "%s: no such key", path);
        return WDMSIM_EINPUT;
    }
    return WDMSIM_OK;
}

int wdmsim_reg_export(const char *hive_path, const char *reg_path, const char *key, int version,
                      FILE *out, struct wdmsim_error *err)
{
    struct cm cm;
    int rc = open_registry(&cm, hive_path, reg_path, err);
    if (rc)
        return rc;
    struct cm_key *k;
    rc = find_key(&cm, key, &k, err);
    if (!rc && cm_reg_export(&cm, k, version == 4 ? 4 : 5, out)) {
        if (err)
            snprintf(err->text, sizeof(err->text), "export: write error");
        rc = WDMSIM_EINPUT;
    }
    cm_fini(&cm);
    return rc;
}

static const char *type_name(uint32_t t)
{
    static const char *const names[] = {"REG_NONE",
                                        "REG_SZ",
                                        "REG_EXPAND_SZ",
                                        "REG_BINARY",
                                        "REG_DWORD",
                                        "REG_DWORD_BIG_ENDIAN",
                                        "REG_LINK",
                                        "REG_MULTI_SZ",
                                        "REG_RESOURCE_LIST",
                                        "REG_FULL_RESOURCE_DESCRIPTOR",
                                        "REG_RESOURCE_REQUIREMENTS_LIST",
                                        "REG_QWORD"};
    return t < sizeof(names) / sizeof(names[0]) ? names[t] : "REG_UNKNOWN";
}

static void print_value(FILE *out, const struct cm_value *v)
{
    char *name = v->name_len ? cm_w_to_utf8(v->name, v->name_len, NULL) : NULL;
    fprintf(out, "    %s    %s    ", v->name_len ? (name ? name : "?") : "(Default)",
            type_name(v->type));
    free(name);
    cm_reg_print_value(out, v, 5);
    fputc('\n', out);
}

int wdmsim_reg_query(const char *hive_path, const char *reg_path, const char *key,
                     const char *value, FILE *out, struct wdmsim_error *err)
{
    struct cm cm;
    int rc = open_registry(&cm, hive_path, reg_path, err);
    if (rc)
        return rc;
    struct cm_key *k;
    rc = find_key(&cm, key, &k, err);
    if (!rc && value) {
        size_t wn;
        uint16_t *w = cm_utf8_to_w(value, strlen(value), &wn);
        const struct cm_value *v = w ? cm_value_find(k, w, wn) : NULL;
        free(w);
        if (!v) {
            if (err)
                snprintf(err->text, sizeof(err->text), "%s: no value named '%s'",
                         key ? key : "HKEY_LOCAL_MACHINE\\SYSTEM", value);
            rc = WDMSIM_EINPUT;
        } else {
            print_value(out, v);
        }
    } else if (!rc) {
        for (uint32_t i = 0; i < k->nval; i++)
            print_value(out, &k->val[i]);
        for (uint32_t i = 0; i < k->nsub; i++) {
            char *name = cm_w_to_utf8(k->sub[i]->name, k->sub[i]->name_len, NULL);
            fprintf(out, "    [%s]\n", name ? name : "?");
            free(name);
        }
    }
    cm_fini(&cm);
    return rc;
}
