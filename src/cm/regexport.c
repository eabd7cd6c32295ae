/*
 * src/cm/regexport.c - writing keys and values as .reg text.
 *
 * Models: regedit's export format (see regfile.c for the grammar): strings
 * quoted with \\ and \" escaped, dword:%08x, hex lists wrapped at 80 columns
 * with a trailing '\', hex(T) for every type without a text form or whose
 * data does not fit it (a REG_SZ without its NUL, a REG_DWORD not 4 bytes).
 * Invariants: importing an export gives back the same keys, types and bytes
 * (tests/cm/test_regfile.c round-trips every type).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <wdm.h>

#include "cm/cm.h"

static void quoted(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            fputc('\\', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

/* A REG_SZ that is exactly one NUL-terminated string, as UTF-8. */
static char *plain_string(const struct cm_value *v)
{
    const uint16_t *w = (const uint16_t *)v->data;
    size_t n = v->size / 2;
    if ((v->size & 1) || n == 0 || w[n - 1] != 0)
        return NULL;
    for (size_t i = 0; i + 1 < n; i++)
        if (w[i] == 0 || w[i] == '\n' || w[i] == '\r')
            return NULL;
    return cm_w_to_utf8(w, n - 1, NULL);
}

static void hex_list(FILE *out, const uint8_t *b, size_t n, int col)
{
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%02x", b[i]);
        col += 2;
        if (i + 1 < n) {
            fputc(',', out);
            col++;
            if (col > 76) {
                fputs("\\\n  ", out);
                col = 2;
            }
        }
    }
}

void cm_reg_print_value(FILE *out, const struct cm_value *v, int version)
{
    if (v->type == REG_SZ) {
        char *s = plain_string(v);
        if (s) {
            quoted(out, s);
            free(s);
            return;
        }
    }
    if (v->type == REG_DWORD && v->size == 4) {
        uint32_t d;
        memcpy(&d, v->data, 4);
        fprintf(out, "dword:%08x", d);
        return;
    }
    const uint8_t *b = v->data;
    size_t n = v->size;
    char *narrow = NULL;
    if (version == 4 && (v->type == REG_EXPAND_SZ || v->type == REG_MULTI_SZ) && !(n & 1)) {
        /* REGEDIT4 keeps these as the text's bytes (UTF-8 here) */
        narrow = cm_w_to_utf8((const uint16_t *)b, n / 2, &n);
        if (narrow)
            b = (const uint8_t *)narrow;
        else
            n = v->size;
    }
    int col;
    if (v->type == REG_BINARY)
        col = fprintf(out, "hex:");
    else
        col = fprintf(out, "hex(%x):", v->type);
    hex_list(out, b, n, col + 20);
    free(narrow);
}

static void key_name(FILE *out, const struct cm_key *k)
{
    size_t n;
    uint16_t *w = cm_key_path(k, &n);
    char *s = w ? cm_w_to_utf8(w, n, NULL) : NULL;
    free(w);
    if (!s)
        return;
    const char *rest = s;
    if (!strncasecmp(s, "\\REGISTRY\\MACHINE", 17) && (!s[17] || s[17] == '\\'))
        fprintf(out, "HKEY_LOCAL_MACHINE"), rest = s + 17;
    else if (!strncasecmp(s, "\\REGISTRY\\USER", 14) && (!s[14] || s[14] == '\\'))
        fprintf(out, "HKEY_USERS"), rest = s + 14;
    fputs(rest, out);
    free(s);
}

static void export_key(const struct cm_key *k, int version, FILE *out)
{
    if (k->is_link)
        return;
    fputs("\n[", out);
    key_name(out, k);
    fputs("]\n", out);
    for (uint32_t i = 0; i < k->nval; i++) {
        const struct cm_value *v = &k->val[i];
        if (v->name_len == 0) {
            fputs("@=", out);
        } else {
            char *name = cm_w_to_utf8(v->name, v->name_len, NULL);
            if (!name)
                continue;
            quoted(out, name);
            free(name);
            fputc('=', out);
        }
        cm_reg_print_value(out, v, version);
        fputc('\n', out);
    }
    for (uint32_t i = 0; i < k->nsub; i++)
        export_key(k->sub[i], version, out);
}

int cm_reg_export(struct cm *cm, struct cm_key *key, int version, FILE *out)
{
    (void)cm;
    fputs(version == 4 ? "REGEDIT4\n" : "Windows Registry Editor Version 5.00\n", out);
    export_key(key, version, out);
    return ferror(out) ? -1 : 0;
}
