/*
 * src/cm/regfile.c - .reg files: import and export.
 *
 * Models: regedit's text format. First line "REGEDIT4" or "Windows Registry
 * Editor Version 5.00"; [KEY] opens (creating) a key, [-KEY] deletes a
 * subtree; "name"="text", @= for the default value, "name"=dword:XXXXXXXX,
 * hex:bb,bb (REG_BINARY), hex(T):bb,... (type T in hex: 0 none, 2 expand,
 * 7 multi, b qword, ...), "name"=- deletes; a line ending in '\' continues;
 * ';' starts a comment line. Roots: HKEY_LOCAL_MACHINE (HKLM), HKEY_USERS,
 * HKEY_CURRENT_USER (= \REGISTRY\USER\.DEFAULT), or a \Registry path.
 * Text is read as UTF-8 (a UTF-8 or UTF-16LE byte-order mark is honoured)
 * and written as UTF-8; in version 5 the bytes of hex(2)/hex(7) are UTF-16LE
 * (as regedit writes them), in REGEDIT4 they are the text's own bytes.
 * Invariants: malformed input is an error naming the line, never a crash;
 * link keys (CurrentControlSet) are not exported (their target is).
 * Not modelled: code pages other than UTF-8 for REGEDIT4 text.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <wdm.h>

#include "cm/cm.h"

struct parser {
    struct cm *cm;
    const char *name;
    int version;        /* 4 or 5 */
    unsigned line;      /* of the logical line being parsed */
    struct cm_key *key; /* current [KEY], NULL after [-KEY] or before any */
    bool in_key;
    char *err;
    size_t errlen;
};

static int perr(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(struct parser *p, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errlen, "%s:%u: %s", p->name, p->line, msg);
    return -1;
}

/* "HKEY_LOCAL_MACHINE\X" -> resolved key path, checking the root. */
static bool known_root(const char *path)
{
    static const char *const roots[] = {"HKEY_LOCAL_MACHINE", "HKLM", "HKEY_USERS", "HKU",
                                        "HKEY_CURRENT_USER",  "HKCU", "\\REGISTRY"};
    for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
        size_t l = strlen(roots[i]);
        if (!strncasecmp(path, roots[i], l) && (path[l] == 0 || path[l] == '\\'))
            return true;
    }
    return false;
}

static void delete_tree(struct cm *cm, struct cm_key *k)
{
    while (k->nsub)
        delete_tree(cm, k->sub[k->nsub - 1]);
    cm_key_delete(cm, k);
}

static int key_line(struct parser *p, char *s)
{
    size_t n = strlen(s);
    if (n < 2 || s[n - 1] != ']')
        return perr(p, "expected ']' at the end of a key line");
    s[n - 1] = 0;
    bool del = s[1] == '-';
    char *path = s + 1 + del;
    if (!known_root(path))
        return perr(p,
                    "unknown root key in [%s] (expected HKEY_LOCAL_MACHINE, HKEY_USERS, "
                    "HKEY_CURRENT_USER or \\Registry)",
                    path);
    p->in_key = true;
    struct cm_key *k;
    if (del) {
        p->key = NULL;
        int32_t st = cm_resolve_utf8(p->cm, path, cm_open_link, &k);
        if (st == STATUS_SUCCESS) {
            unsigned depth = 0;
            for (struct cm_key *q = k; q->parent; q = q->parent)
                depth++;
            if (depth < 3)
                return perr(p, "cannot delete [%s]: a root key", path);
            delete_tree(p->cm, k);
        }
        return 0;
    }
    int32_t st = cm_create_path_utf8(p->cm, path, 0, &k);
    if (st == (int32_t)STATUS_CHILD_MUST_BE_VOLATILE)
        st = cm_create_path_utf8(p->cm, path, cm_open_volatile, &k);
    if (st)
        return perr(p, "cannot create key [%s] (NTSTATUS 0x%08X)", path, (unsigned)st);
    p->key = k;
    return 0;
}

/* Parses a quoted string at *s (after the opening quote), unescaping \\ and
 * \". Returns a malloc'd UTF-8 copy and advances *s past the closing quote. */
static char *quoted(struct parser *p, char **s)
{
    char *in = *s, *out = malloc(strlen(in) + 1);
    size_t o = 0;
    if (!out) {
        perr(p, "out of memory");
        return NULL;
    }
    for (;; in++) {
        if (!*in) {
            free(out);
            perr(p, "missing closing '\"'");
            return NULL;
        }
        if (*in == '"')
            break;
        if (*in == '\\' && (in[1] == '\\' || in[1] == '"'))
            in++;
        out[o++] = *in;
    }
    out[o] = 0;
    *s = in + 1;
    return out;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "bb,bb,..." -> bytes. */
static uint8_t *hex_bytes(struct parser *p, const char *s, uint32_t *len)
{
    size_t cap = strlen(s) / 2 + 1, n = 0;
    uint8_t *out = malloc(cap);
    if (!out) {
        perr(p, "out of memory");
        return NULL;
    }
    while (*s == ' ' || *s == '\t')
        s++;
    while (*s) {
        int hi = hexval((unsigned char)s[0]), lo = hi >= 0 ? hexval((unsigned char)s[1]) : -1;
        if (hi < 0 || lo < 0 || n >= cap) {
            free(out);
            perr(p, "bad hex byte near '%.8s'", s);
            return NULL;
        }
        out[n++] = (uint8_t)(hi * 16 + lo);
        s += 2;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == ',') {
            s++;
            while (*s == ' ' || *s == '\t')
                s++;
            if (!*s) {
                free(out);
                perr(p, "hex list ends with ','");
                return NULL;
            }
        } else if (*s) {
            free(out);
            perr(p, "expected ',' between hex bytes near '%.8s'", s);
            return NULL;
        }
    }
    if (n > cm_max_value_size) {
        free(out);
        perr(p, "value larger than %u bytes", (unsigned)cm_max_value_size);
        return NULL;
    }
    *len = (uint32_t)n;
    return out;
}

/* REGEDIT4 hex(2)/hex(7) bytes are text: make them UTF-16LE. */
static uint8_t *widen_bytes(struct parser *p, uint8_t *b, uint32_t *len)
{
    size_t wn;
    uint16_t *w = cm_utf8_to_w((const char *)b, *len, &wn);
    free(b);
    if (!w) {
        perr(p, "string bytes are not valid UTF-8");
        return NULL;
    }
    *len = (uint32_t)wn * 2;
    return (uint8_t *)w;
}

static int value_line(struct parser *p, char *s)
{
    if (!p->in_key)
        return perr(p, "value before any [KEY] line");
    char *name;
    if (*s == '@') {
        name = strdup("");
        s++;
    } else if (*s == '"') {
        s++;
        name = quoted(p, &s);
        if (!name)
            return -1;
    } else {
        return perr(p, "expected \"name\"= or @=");
    }
    if (!name)
        return perr(p, "out of memory");
    int rc = -1;
    size_t wn;
    uint16_t *wname = cm_utf8_to_w(name, strlen(name), &wn);
    uint8_t *data = NULL;
    uint32_t len = 0, type = REG_SZ;
    while (*s == ' ' || *s == '\t')
        s++;
    if (!wname || wn > cm_max_value_name) {
        perr(p, "bad value name '%s'", name);
        goto out;
    }
    if (*s++ != '=') {
        perr(p, "expected '=' after the value name");
        goto out;
    }
    while (*s == ' ' || *s == '\t')
        s++;
    if (!strcmp(s, "-")) {
        if (p->key)
            cm_value_delete(p->cm, p->key, wname, wn);
        rc = 0;
        goto out;
    }
    if (*s == '"') {
        s++;
        char *text = quoted(p, &s);
        if (!text)
            goto out;
        size_t tn;
        uint16_t *w = cm_utf8_to_w(text, strlen(text), &tn);
        free(text);
        while (*s == ' ' || *s == '\t')
            s++;
        if (!w || *s) {
            free(w);
            perr(p, *s ? "text after the closing '\"'" : "string is not valid UTF-8");
            goto out;
        }
        data = (uint8_t *)w;
        len = (uint32_t)(tn + 1) * 2;
    } else if (!strncasecmp(s, "dword:", 6)) {
        s += 6;
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 16);
        if (!*s || *end || errno || v > 0xFFFFFFFFul || strlen(s) > 8) {
            perr(p, "bad dword '%s' (expected up to 8 hex digits)", s);
            goto out;
        }
        uint32_t d = (uint32_t)v;
        data = malloc(4);
        if (!data) {
            perr(p, "out of memory");
            goto out;
        }
        memcpy(data, &d, 4);
        len = 4;
        type = REG_DWORD;
    } else if (!strncasecmp(s, "hex", 3)) {
        s += 3;
        type = REG_BINARY;
        if (*s == '(') {
            char *end;
            errno = 0;
            unsigned long t = strtoul(s + 1, &end, 16);
            if (end == s + 1 || *end != ')' || errno || t > 0xFFFFFFFFul) {
                perr(p, "bad hex(TYPE)");
                goto out;
            }
            type = (uint32_t)t;
            s = end + 1;
        }
        if (*s++ != ':') {
            perr(p, "expected ':' after hex");
            goto out;
        }
        data = hex_bytes(p, s, &len);
        if (!data)
            goto out;
        if (p->version == 4 && (type == REG_EXPAND_SZ || type == REG_MULTI_SZ) &&
            !(data = widen_bytes(p, data, &len)))
            goto out;
    } else {
        perr(p, "unknown value syntax '%.20s'", s);
        goto out;
    }
    if (!p->key) {
        rc = 0; /* values of a deleted key are dropped, as regedit does */
        goto out;
    }
    if (cm_value_set(p->cm, p->key, wname, wn, type, data, len)) {
        perr(p, "out of memory");
        goto out;
    }
    rc = 0;
out:
    free(data);
    free(wname);
    free(name);
    return rc;
}

/* UTF-16LE (with BOM) -> UTF-8; UTF-8 BOM stripped. malloc'd, NUL-terminated. */
static char *to_utf8(const char *text, size_t len, size_t *out_len)
{
    const unsigned char *u = (const unsigned char *)text;
    if (len >= 2 && u[0] == 0xFF && u[1] == 0xFE) {
        size_t n = (len - 2) / 2;
        uint16_t *w = malloc((n + 1) * sizeof(uint16_t));
        if (!w)
            return NULL;
        for (size_t i = 0; i < n; i++)
            w[i] = (uint16_t)(u[2 + 2 * i] | (u[3 + 2 * i] << 8));
        char *s = cm_w_to_utf8(w, n, out_len);
        free(w);
        return s;
    }
    if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)
        text += 3, len -= 3;
    char *s = malloc(len + 1);
    if (s) {
        memcpy(s, text, len);
        s[len] = 0;
        *out_len = len;
    }
    return s;
}

static void trim_right(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = 0;
}

int cm_reg_import(struct cm *cm, const char *text, size_t len, const char *name, char *err,
                  size_t errlen)
{
    struct parser p = {.cm = cm, .name = name, .err = err, .errlen = errlen};
    size_t alen = 0;
    char *all = to_utf8(text, len, &alen);
    if (!all) {
        snprintf(err, errlen, "%s: not UTF-8 or UTF-16 text (or out of memory)", name);
        return -1;
    }
    if (strlen(all) != alen) {
        free(all);
        snprintf(err, errlen, "%s: NUL byte in the text", name);
        return -1;
    }
    int rc = 0;
    unsigned line = 0;
    char *cur = all;
    char *logical = NULL;
    size_t lcap = 0;
    while (cur && !rc) {
        /* Build one logical line: physical lines joined at a trailing '\'. */
        size_t ln = 0;
        unsigned first = line + 1;
        for (;;) {
            char *nl = strchr(cur, '\n');
            if (nl)
                *nl = 0;
            line++;
            trim_right(cur);
            char *piece = cur;
            if (ln)
                while (*piece == ' ' || *piece == '\t')
                    piece++;
            size_t pn = strlen(piece);
            bool more = pn && piece[pn - 1] == '\\' && nl;
            if (more)
                pn--;
            if (ln + pn + 1 > lcap) {
                lcap = (ln + pn + 1) * 2;
                char *g = realloc(logical, lcap);
                if (!g) {
                    rc = perr(&p, "out of memory");
                    break;
                }
                logical = g;
            }
            memcpy(logical + ln, piece, pn);
            ln += pn;
            logical[ln] = 0;
            cur = nl ? nl + 1 : NULL;
            if (!more)
                break;
        }
        if (rc)
            break;
        p.line = first;
        char *s = logical;
        while (*s == ' ' || *s == '\t')
            s++;
        if (!p.version) {
            if (!*s)
                continue;
            if (!strcmp(s, "REGEDIT4"))
                p.version = 4;
            else if (!strcmp(s, "Windows Registry Editor Version 5.00"))
                p.version = 5;
            else
                rc = perr(&p, "not a .reg file (expected REGEDIT4 or Windows Registry Editor "
                              "Version 5.00)");
            continue;
        }
        if (!*s || *s == ';')
            continue;
        rc = *s == '[' ? key_line(&p, s) : value_line(&p, s);
    }
    if (!rc && !p.version) {
        p.line = line ? line : 1;
        rc = perr(&p, "empty file (expected REGEDIT4 or Windows Registry Editor Version 5.00)");
    }
    free(logical);
    free(all);
    return rc;
}

int cm_reg_import_file(struct cm *cm, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            if (cap > (64u << 20)) {
                snprintf(err, errlen, "%s: larger than 64 MiB", path);
                free(buf);
                fclose(f);
                return -1;
            }
            char *g = realloc(buf, cap);
            if (!g) {
                snprintf(err, errlen, "%s: out of memory", path);
                free(buf);
                fclose(f);
                return -1;
            }
            buf = g;
        }
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (k == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "%s: read error", path);
        free(buf);
        return -1;
    }
    int rc = cm_reg_import(cm, buf ? buf : "", n, path, err, errlen);
    free(buf);
    return rc;
}
