/*
 * src/machine/config.c - the machine config: an INI file read with inih.
 *
 *   [machine]   processors = 1..64, page_size = 4096 | 8192,
 *               frame_placement = scattered | contiguous, system_va = SIZE
 *   [memory]    ram = START - END     (one line per range; sizes take K M G T)
 *   [device N]  model = NAME, driver = SERVICE, other keys are the model's knobs
 *   [registry]  reg = FILE.reg        (imported at boot; relative to this file)
 *
 * Invariants: every rejection names the file, the line and the problem; an
 * unknown section or key is an error, not a silent default, because a typo
 * in a machine description would otherwise test the wrong machine.
 */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "machine/machine.h"

void machine_config_default(struct machine_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->processors = 2;
    cfg->page_shift = 12;
    cfg->placement = frame_placement_scattered;
    cfg->ranges[0] = (struct ram_range){0, 640ULL << 10};
    cfg->ranges[1] = (struct ram_range){1ULL << 20, 3ULL << 30};
    cfg->ranges[2] = (struct ram_range){4ULL << 30, 5ULL << 30};
    cfg->nranges = 3;
    cfg->system_va_bytes = 64ULL << 30;
}

int machine_parse_size(const char *text, uint64_t *out)
{
    while (isspace((unsigned char)*text))
        text++;
    if (!isdigit((unsigned char)*text))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(text, &end, 0);
    if (errno)
        return -1;
    unsigned shift = 0;
    switch (toupper((unsigned char)*end)) {
    case 'K':
        shift = 10;
        end++;
        break;
    case 'M':
        shift = 20;
        end++;
        break;
    case 'G':
        shift = 30;
        end++;
        break;
    case 'T':
        shift = 40;
        end++;
        break;
    default:
        break;
    }
    if (shift && (toupper((unsigned char)*end) == 'B' || toupper((unsigned char)*end) == 'I')) {
        /* accept 4KB, 4KiB */
        if (toupper((unsigned char)*end) == 'I')
            end++;
        if (toupper((unsigned char)*end) == 'B')
            end++;
    }
    while (isspace((unsigned char)*end))
        end++;
    if (*end)
        return -1;
    if (shift && v > (~0ULL >> shift))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

struct parse_state {
    struct machine_config *cfg;
    struct machine_error *err;
    FILE *file;
    int line;
    int section_line; /* line of the last [section] header */
    bool ranges_replaced;
    struct machine_device_config *device; /* section being read */
};

/* inih's reader hook: lets us count lines for messages and device sections. */
static char *reader(char *buf, int size, void *stream)
{
    struct parse_state *st = stream;
    char *r = fgets(buf, size, st->file);
    if (r) {
        st->line++;
        const char *p = r;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '[')
            st->section_line = st->line;
    }
    return r;
}

static int fail(struct parse_state *st, const char *fmt, const char *a, const char *b)
{
    char what[400];
    snprintf(what, sizeof(what), fmt, a, b);
    machine_error_set(st->err, "%s:%d: %s", st->cfg->path, st->line, what);
    return 0;
}

static int parse_uint(const char *v, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long x = strtoul(v, &end, 0);
    if (errno || end == v || *end || x > 0xffffffffUL)
        return -1;
    *out = (unsigned)x;
    return 0;
}

static int machine_key(struct parse_state *st, const char *name, const char *value)
{
    struct machine_config *cfg = st->cfg;
    if (!strcmp(name, "processors")) {
        unsigned n;
        if (parse_uint(value, &n) || n < 1 || n > machine_max_processors)
            return fail(st, "processors = %s: must be a number from 1 to 64%s", value, "");
        cfg->processors = n;
    } else if (!strcmp(name, "page_size")) {
        uint64_t sz;
        if (machine_parse_size(value, &sz) || (sz != 4096 && sz != 8192))
            return fail(st, "page_size = %s: must be 4096 or 8192%s", value, "");
        cfg->page_shift = sz == 4096 ? 12 : 13;
    } else if (!strcmp(name, "frame_placement")) {
        if (!strcmp(value, "scattered"))
            cfg->placement = frame_placement_scattered;
        else if (!strcmp(value, "contiguous"))
            cfg->placement = frame_placement_contiguous;
        else
            return fail(st, "frame_placement = %s: must be scattered or contiguous%s", value, "");
    } else if (!strcmp(name, "system_va")) {
        uint64_t sz;
        if (machine_parse_size(value, &sz) || sz < (64ULL << 20) || sz > (1ULL << 44))
            return fail(st, "system_va = %s: must be a size from 64M to 16T%s", value, "");
        cfg->system_va_bytes = sz;
    } else {
        return fail(st, "unknown key '%s' in [machine]%s", name, "");
    }
    return 1;
}

static int memory_key(struct parse_state *st, const char *name, const char *value)
{
    struct machine_config *cfg = st->cfg;
    if (strcmp(name, "ram"))
        return fail(st, "unknown key '%s' in [memory] (expected ram = START - END)%s", name, "");
    if (!st->ranges_replaced) {
        cfg->nranges = 0;
        st->ranges_replaced = true;
    }
    if (cfg->nranges == machine_max_ram_ranges)
        return fail(st, "too many ram ranges (at most 32)%s%s", "", "");
    char buf[128];
    snprintf(buf, sizeof(buf), "%s", value);
    char *dash = strchr(buf, '-');
    if (!dash)
        return fail(st, "ram = %s: expected START - END%s", value, "");
    *dash = 0;
    struct ram_range r;
    if (machine_parse_size(buf, &r.start) || machine_parse_size(dash + 1, &r.end))
        return fail(st, "ram = %s: START and END must be sizes such as 0x100000, 640K or 3G%s",
                    value, "");
    if (r.end <= r.start)
        return fail(st, "ram = %s: END must be above START%s", value, "");
    cfg->ranges[cfg->nranges++] = r;
    return 1;
}

static int device_key(struct parse_state *st, const char *name, const char *value)
{
    struct machine_device_config *d = st->device;
    if (!strcmp(name, "model")) {
        snprintf(d->model, sizeof(d->model), "%s", value);
    } else if (!strcmp(name, "driver")) {
        snprintf(d->driver, sizeof(d->driver), "%s", value);
    } else {
        if (d->nknobs == machine_max_device_knobs)
            return fail(st, "device '%s': too many keys%s", d->name, "");
        if (strlen(name) >= sizeof(d->knobs[0].key) || strlen(value) >= sizeof(d->knobs[0].value))
            return fail(st, "device key '%s' or its value is too long%s", name, "");
        strcpy(d->knobs[d->nknobs].key, name);
        strcpy(d->knobs[d->nknobs].value, value);
        d->knobs[d->nknobs].line = st->line;
        d->nknobs++;
    }
    return 1;
}

static int registry_key(struct parse_state *st, const char *name, const char *value)
{
    if (strcmp(name, "reg"))
        return fail(st, "unknown key '%s' in [registry] (expected reg = FILE.reg)%s", name, "");
    const char *slash = strrchr(st->cfg->path, '/');
    int n;
    if (value[0] != '/' && slash)
        n = snprintf(st->cfg->reg_file, sizeof(st->cfg->reg_file), "%.*s/%s",
                     (int)(slash - st->cfg->path), st->cfg->path, value);
    else
        n = snprintf(st->cfg->reg_file, sizeof(st->cfg->reg_file), "%s", value);
    if (n < 0 || (size_t)n >= sizeof(st->cfg->reg_file))
        return fail(st, "reg = %s: path too long%s", value, "");
    return 1;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    struct parse_state *st = user;
    if (!name) /* a new section starts (INI_CALL_HANDLER_ON_NEW_SECTION builds) */
        return 1;
    if (!strcmp(section, "registry"))
        return registry_key(st, name, value);
    if (!strcmp(section, "machine"))
        return machine_key(st, name, value);
    if (!strcmp(section, "memory"))
        return memory_key(st, name, value);
    if (!strncmp(section, "device ", 7)) {
        const char *dname = section + 7;
        struct machine_config *cfg = st->cfg;
        if (!st->device || strcmp(st->device->name, dname)) {
            for (unsigned i = 0; i < cfg->ndevices; i++)
                if (!strcmp(cfg->devices[i].name, dname))
                    return fail(st, "device '%s' is declared twice%s", dname, "");
            if (cfg->ndevices == machine_max_devices)
                return fail(st, "too many devices (at most 64)%s%s", "", "");
            if (!*dname || strlen(dname) >= sizeof(cfg->devices[0].name))
                return fail(st, "bad device name '%s'%s", dname, "");
            st->device = &cfg->devices[cfg->ndevices++];
            snprintf(st->device->name, sizeof(st->device->name), "%s", dname);
            st->device->line = st->section_line;
        }
        return device_key(st, name, value);
    }
    return fail(st, "unknown section [%s] (expected machine, memory, registry or device NAME)%s",
                section, "");
}

int machine_config_load(struct machine_config *cfg, const char *path, struct machine_error *err)
{
    machine_config_default(cfg);
    snprintf(cfg->path, sizeof(cfg->path), "%s", path);
    FILE *f = fopen(path, "r");
    if (!f) {
        machine_error_set(err, "%s: cannot open machine config: %s", path, strerror(errno));
        return -1;
    }
    struct parse_state st = {.cfg = cfg, .err = err, .file = f};
    err->text[0] = 0;
    int rc = ini_parse_stream(reader, &st, handler, &st);
    fclose(f);
    if (rc != 0) {
        if (!err->text[0])
            machine_error_set(err, "%s:%d: syntax error (expected [section] or key = value)", path,
                              rc > 0 ? rc : st.line);
        return -1;
    }
    for (unsigned i = 0; i < cfg->ndevices; i++) {
        if (!cfg->devices[i].model[0]) {
            machine_error_set(err, "%s:%d: device '%s' has no model = line", path,
                              cfg->devices[i].line, cfg->devices[i].name);
            return -1;
        }
    }
    return machine_config_validate(cfg, err);
}

int machine_config_validate(const struct machine_config *cfg, struct machine_error *err)
{
    const char *where = cfg->path[0] ? cfg->path : "(default machine)";
    uint64_t page = 1ULL << cfg->page_shift;
    if (cfg->nranges == 0) {
        machine_error_set(err, "%s: the machine has no RAM (add ram = START - END to [memory])",
                          where);
        return -1;
    }
    for (unsigned i = 0; i < cfg->nranges; i++) {
        const struct ram_range *r = &cfg->ranges[i];
        if ((r->start | r->end) & (page - 1)) {
            machine_error_set(err, "%s: ram range %#llx-%#llx is not aligned to the %llu-byte page",
                              where, (unsigned long long)r->start, (unsigned long long)r->end,
                              (unsigned long long)page);
            return -1;
        }
        if (r->end > MACHINE_PHYS_LIMIT) {
            machine_error_set(err,
                              "%s: ram range %#llx-%#llx ends above 1 TiB, the most physical "
                              "memory this host can map",
                              where, (unsigned long long)r->start, (unsigned long long)r->end);
            return -1;
        }
        for (unsigned j = 0; j < i; j++) {
            const struct ram_range *o = &cfg->ranges[j];
            if (r->start < o->end && o->start < r->end) {
                machine_error_set(err, "%s: ram ranges %#llx-%#llx and %#llx-%#llx overlap", where,
                                  (unsigned long long)o->start, (unsigned long long)o->end,
                                  (unsigned long long)r->start, (unsigned long long)r->end);
                return -1;
            }
        }
    }
    return 0;
}
