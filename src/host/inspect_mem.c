/*
 * src/host/inspect_mem.c - memory commands: !vtop, !pte, !pfn, db/dw/dd/dq.
 *
 * Models: WinDbg's address translation and memory display. Here the page
 * tables are wdmsim's software PTEs (src/mm/mm.h): one level, frame number
 * above bit 12 and wdmsim's own flag bits below, so !pte prints those
 * flags by name rather than x64's PXE/PPE/PDE/PTE chain.
 * Not modelled: the x64 paging hierarchy and its self-map addresses.
 */
#include <string.h>

#include "host/inspect.h"
#include "sys.h"

static void pte_flags(uint64_t pte, char *buf, size_t len)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {
        {mm_pte_valid, "valid"},       {mm_pte_write, "write"},     {mm_pte_exec, "exec"},
        {mm_pte_pageable, "pageable"}, {mm_pte_trimmed, "trimmed"}, {mm_pte_guard, "guard"},
        {mm_pte_user, "user"},         {mm_pte_io, "io"},
    };
    size_t n = 0;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (pte & names[i].bit)
            n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? " " : "",
                                  names[i].name);
    if (!n)
        snprintf(buf, len, "not present");
}

/* The space holding va and its page index; NULL when none. */
static const struct mm_space *space_of(struct sys *sys, uint64_t va, uint64_t *index)
{
    struct mm *mm = &sys->mm;
    const struct mm_space *s = NULL;
    if (va - (uintptr_t)mm->system.base < mm->system.bytes) {
        s = &mm->system;
    } else {
        const struct mm_user_space *u = mm_user_space_of(mm, (const void *)(uintptr_t)va);
        s = u ? &u->space : NULL;
    }
    if (s)
        *index = (va - (uintptr_t)s->base) >> mm->page_shift;
    return s;
}

int insp_vtop(struct insp *c)
{
    uint64_t va, index;
    if (insp_arg(c, 1, &va))
        return -1;
    struct mm *mm = &c->sys->mm;
    const struct mm_space *s = space_of(c->sys, va, &index);
    if (!s)
        return insp_error(c, "%s is in no simulated address space", INSP_ADDR(va));
    uint64_t pte = s->ptes[index];
    char flags[96];
    pte_flags(pte, flags, sizeof(flags));
    if (!(pte & mm_pte_valid)) {
        fprintf(c->out, "Virt %s is not mapped (space %s, PTE %016llx [%s])\n", INSP_ADDR(va),
                s->name, (unsigned long long)pte, flags);
        return 0;
    }
    uint64_t frame = mm_pte_frame(pte), off = va & (mm->page_size - 1);
    fprintf(c->out, "Virt %s -> Phys %s (frame %llx, offset %llx)%s\n", INSP_ADDR(va),
            INSP_ADDR((frame << mm->page_shift) + off), (unsigned long long)frame,
            (unsigned long long)off, pte & mm_pte_io ? " device memory" : "");
    fprintf(c->out, "  space %s, PTE %016llx [%s]\n", s->name, (unsigned long long)pte, flags);
    return 0;
}

int insp_pte(struct insp *c)
{
    uint64_t va, index;
    if (insp_arg(c, 1, &va))
        return -1;
    const struct mm_space *s = space_of(c->sys, va, &index);
    if (!s)
        return insp_error(c, "%s is in no simulated address space", INSP_ADDR(va));
    uint64_t pte = s->ptes[index];
    char flags[96];
    pte_flags(pte, flags, sizeof(flags));
    fprintf(c->out, "VA %s  space %s  page index %llx%s\n", INSP_ADDR(va), s->name,
            (unsigned long long)index,
            s->reserved && (s->reserved[index / 64] >> (index % 64) & 1) ? "  reserved" : "");
    fprintf(c->out, "PTE %016llx  pfn %llx  [%s]\n", (unsigned long long)pte,
            (unsigned long long)mm_pte_frame(pte), flags);
    return 0;
}

int insp_pfn(struct insp *c)
{
    uint64_t frame;
    if (insp_arg(c, 1, &frame))
        return -1;
    struct pfn_db *db = &c->sys->machine.pfn;
    if (frame >= db->nframes)
        return insp_error(c, "frame %llx is beyond the physical span (%llx frames)",
                          (unsigned long long)frame, (unsigned long long)db->nframes);
    static const char *const zones[] = {"dma24 (< 16 MiB)", "dma32 (< 4 GiB)", "high"};
    uint64_t pa = frame << db->page_shift;
    bool ram = machine_is_ram(&c->sys->machine, pa);
    const struct pfn_entry *e = &db->entries[frame];
    fprintf(c->out, "PFN %llx at physical %s\n", (unsigned long long)frame, INSP_ADDR(pa));
    fprintf(c->out, "  %s, zone %s\n", ram ? "RAM" : "not RAM (hole)",
            zones[pfn_zone_of(db, frame)]);
    fprintf(c->out, "  state %s%s, map count %u\n",
            pfn_is_allocated(db, frame) && ram ? "allocated" : "free",
            e->flags & pfn_flag_locked ? " locked" : "", e->map_count);
    return 0;
}

/* ---- db / dw / dd / dq ---------------------------------------------------------- */

static int dump(struct insp *c, unsigned unit)
{
    uint64_t va, count = 128 / unit;
    if (insp_arg(c, 1, &va))
        return -1;
    for (int i = 2; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (a[0] != 'L' && a[0] != 'l')
            return insp_error(c, "unexpected '%s' (ADDR [L COUNT])", a);
        if (!a[1] && i + 1 < c->argc)
            a = c->argv[++i];
        else
            a++;
        if (insp_number(c, a, &count))
            return -1;
    }
    if (count == 0 || count * unit > 1u << 20)
        return insp_error(c, "count %llx out of range (1 MiB at most)", (unsigned long long)count);
    unsigned per_line = 16 / unit;
    uint8_t line[16];
    for (uint64_t done = 0; done < count; done += per_line) {
        uint64_t n = count - done < per_line ? count - done : per_line;
        uint64_t at = va + done * unit;
        size_t got = insp_read(c->sys, at, line, n * unit);
        fprintf(c->out, "%s ", INSP_ADDR(at));
        for (uint64_t k = 0; k < n; k++) {
            bool ok = (k + 1) * unit <= got;
            uint64_t v = 0;
            if (ok)
                memcpy(&v, line + k * unit, unit);
            if (unit == 1)
                fprintf(c->out, "%c", k == 8 ? '-' : ' ');
            else
                fputc(' ', c->out);
            if (!ok)
                fprintf(c->out, "%.*s", (int)(unit * 2 + (unit == 8)), "?????????????????");
            else if (unit == 8)
                fprintf(c->out, "%08x`%08x", (unsigned)(v >> 32), (unsigned)v);
            else
                fprintf(c->out, "%0*llx", (int)unit * 2, (unsigned long long)v);
        }
        if (unit == 1) {
            fprintf(c->out, "%*s  ", (int)(per_line - n) * 3, "");
            for (uint64_t k = 0; k < n; k++)
                fputc(k < got && line[k] >= 0x20 && line[k] < 0x7F ? line[k] : '.', c->out);
        }
        fputc('\n', c->out);
        if (got < n * unit) {
            fprintf(c->out, "(memory at %s is not readable)\n", INSP_ADDR(va + done * unit + got));
            break;
        }
    }
    return 0;
}

int insp_db(struct insp *c)
{
    return dump(c, 1);
}
int insp_dw(struct insp *c)
{
    return dump(c, 2);
}
int insp_dd(struct insp *c)
{
    return dump(c, 4);
}
int insp_dq(struct insp *c)
{
    return dump(c, 8);
}
