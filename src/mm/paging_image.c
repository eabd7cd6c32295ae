/*
 * src/mm/paging_image.c - pageable and discardable sections of driver images.
 *
 * Models: the PAGE* (pageable) and INIT* (discarded after DriverEntry)
 * sections of a driver image (spec/memory.md 7), found by reading the ELF
 * section headers of the dlopen'ed image with libelf; MmLockPagable*
 * Section / MmLockPagableSectionByHandle / MmUnlockPagableImageSection
 * (a lock count per section: > 0 keeps it resident), MmPageEntireDriver and
 * MmResetDriverPaging. <wdm.h> gives drivers PAGED_CODE_SEG / INIT_CODE_SEG
 * / PAGED_DATA_SEG / INIT_DATA_SEG and page-aligns those sections (and .bss)
 * in every object, so each section owns whole pages the trimmer can
 * mprotect without touching its neighbours (docs/memory.md, "Pageable
 * sections").
 * Spec: spec/memory.md 7; rules mm.init-after-entry (paging.c),
 * mm.section-unlock-underflow.
 * Invariants: a section's [lo, hi) holds whole pages no other allocated
 * section shares; protections are restored before the image is unmapped.
 * Not modelled: the mm.pageable-isr check (MmPageEntireDriver with an ISR
 * connected); the read-only data segment (symbols, unwind tables) of an
 * image stays resident under MmPageEntireDriver, so wdmsim can always
 * unwind and symbolize a fault.
 */
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <wdm.h>

#include "sys.h"

const struct vf_rule mm_rule_section_unlock_underflow = {
    .id = "mm.section-unlock-underflow",
    .code = 0xC4,
    .p1 = 0x57000005,
    .params = {"section handle (or address)", "lock count", "reserved"},
    .text = "MmUnlockPagableImageSection without a matching lock, or a section handle/address "
            "that is no pageable section of a loaded driver",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/mm-section-unlock-underflow",
};

struct alloc_range {
    uintptr_t lo, hi;
};

static bool shared(const struct alloc_range *r, unsigned n, unsigned self, uintptr_t lo,
                   uintptr_t hi)
{
    for (unsigned i = 0; i < n; i++)
        if (i != self && r[i].lo < hi && lo < r[i].hi && r[i].hi > r[i].lo)
            return true;
    return false;
}

static void add_section(struct mm *mm, struct mm_image *img, const char *name,
                        enum mm_section_kind kind, uintptr_t raw_lo, uintptr_t raw_hi, int prot,
                        const struct alloc_range *all, unsigned nall, unsigned self)
{
    if (img->nsections == mm_image_max_sections) {
        fprintf(stderr, "wdmsim: %s: more than %d pageable sections; %s stays resident\n",
                img->path, mm_image_max_sections, name);
        return;
    }
    uintptr_t mask = mm->page_size - 1;
    uintptr_t lo = raw_lo & ~mask, hi = (raw_hi + mask) & ~mask;
    /* Give up a partial page at either end that something else lives on. */
    if (lo < raw_lo && shared(all, nall, self, lo, raw_lo))
        lo += mm->page_size;
    if (hi > raw_hi && shared(all, nall, self, raw_hi, hi))
        hi -= mm->page_size;
    struct mm_image_section *s = &img->section[img->nsections++];
    memset(s, 0, sizeof(*s));
    snprintf(s->name, sizeof(s->name), "%s", name);
    s->kind = kind;
    s->raw_lo = raw_lo;
    s->raw_hi = raw_hi;
    s->lo = lo;
    s->hi = hi > lo ? hi : lo;
    s->prot = prot;
}

/* Reads the section table; fills img's PAGE* / INIT* sections. */
static int scan_sections(struct mm *mm, struct mm_image *img, int fd, uintptr_t bias)
{
    elf_version(EV_CURRENT);
    Elf *e = elf_begin(fd, ELF_C_READ, NULL);
    if (!e)
        return -1;
    size_t shstrndx, nsec;
    if (elf_getshdrstrndx(e, &shstrndx) || elf_getshdrnum(e, &nsec)) {
        elf_end(e);
        return -1;
    }
    struct alloc_range *all = calloc(nsec ? nsec : 1, sizeof(*all));
    if (!all) {
        elf_end(e);
        return -1;
    }
    GElf_Shdr sh;
    for (size_t i = 0; i < nsec; i++) {
        Elf_Scn *scn = elf_getscn(e, i);
        if (scn && gelf_getshdr(scn, &sh) && (sh.sh_flags & SHF_ALLOC) && sh.sh_size)
            all[i] = (struct alloc_range){bias + sh.sh_addr, bias + sh.sh_addr + sh.sh_size};
    }
    for (size_t i = 0; i < nsec; i++) {
        Elf_Scn *scn = elf_getscn(e, i);
        if (!scn || !gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC) || !sh.sh_size)
            continue;
        const char *name = elf_strptr(e, shstrndx, sh.sh_name);
        if (!name)
            continue;
        enum mm_section_kind kind;
        if (!strncmp(name, "PAGE", 4))
            kind = mm_section_paged;
        else if (!strncmp(name, "INIT", 4))
            kind = mm_section_init;
        else
            continue;
        int prot = PROT_READ | ((sh.sh_flags & SHF_WRITE) ? PROT_WRITE : 0) |
                   ((sh.sh_flags & SHF_EXECINSTR) ? PROT_EXEC : 0);
        add_section(mm, img, name, kind, all[i].lo, all[i].hi, prot, all, (unsigned)nsec,
                    (unsigned)i);
    }
    free(all);
    elf_end(e);
    return 0;
}

struct mm_image *mm_image_register(struct mm *mm, const char *path, uintptr_t bias, uintptr_t lo,
                                   uintptr_t hi)
{
    struct mm_image *img = calloc(1, sizeof(*img));
    if (!img) {
        fprintf(stderr, "wdmsim: %s: out of host memory; the image is not pageable\n", path);
        return NULL;
    }
    snprintf(img->path, sizeof(img->path), "%s", path);
    img->lo = lo;
    img->hi = hi;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || scan_sections(mm, img, fd, bias)) {
        fprintf(stderr, "wdmsim: %s: cannot read its section headers (%s); no pageable part\n",
                path, fd < 0 ? "open failed" : elf_errmsg(-1));
        img->nsections = 0;
    }
    if (fd >= 0)
        close(fd);
    img->nstatic = img->nsections;
    img->next = mm->paging.images;
    mm->paging.images = img;
    if (img->nsections) {
        if (mm_fault_install() == 0 && !mm->paging.resolver_on) {
            mm_fault_register(mm_paging_resolve);
            mm->paging.resolver_on = true;
        }
    }
    return img;
}

void mm_section_set_trimmed(struct mm *mm, struct mm_image_section *s, bool trimmed)
{
    (void)mm;
    if (s->hi > s->lo)
        mprotect((void *)s->lo, s->hi - s->lo, trimmed ? PROT_NONE : s->prot);
    s->trimmed = trimmed;
    if (!trimmed)
        s->discarded = false;
}

void mm_image_discard_init(struct mm *mm, struct mm_image *img)
{
    if (!img)
        return;
    if (img->nsections)
        mm_fault_install();
    for (unsigned i = 0; i < img->nsections; i++) {
        struct mm_image_section *s = &img->section[i];
        if (s->kind == mm_section_init && s->hi > s->lo) {
            mprotect((void *)s->lo, s->hi - s->lo, PROT_NONE);
            s->discarded = true;
        }
    }
    (void)mm;
}

void mm_image_unregister(struct mm *mm, struct mm_image *img)
{
    if (!img)
        return;
    for (unsigned i = 0; i < img->nsections; i++)
        if (img->section[i].trimmed || img->section[i].discarded)
            mm_section_set_trimmed(mm, &img->section[i], false);
    for (struct mm_image **pp = &mm->paging.images; *pp; pp = &(*pp)->next) {
        if (*pp == img) {
            *pp = img->next;
            break;
        }
    }
    free(img);
}

struct mm_image *mm_image_of(struct mm *mm, uintptr_t addr)
{
    for (struct mm_image *img = mm->paging.images; img; img = img->next)
        if (addr >= img->lo && addr < img->hi)
            return img;
    return NULL;
}

/* ---- the driver-facing routines ---------------------------------------------------- */

/* The pageable section holding addr (as linked), or NULL. */
static struct mm_image_section *section_at(struct mm *mm, uintptr_t addr)
{
    struct mm_image *img = mm_image_of(mm, addr);
    for (unsigned i = 0; img && i < img->nsections; i++) {
        struct mm_image_section *s = &img->section[i];
        if (s->kind != mm_section_init && addr >= s->raw_lo && addr < s->raw_hi)
            return s;
    }
    return NULL;
}

/* A handle is the address of our section record; validated by search. */
static struct mm_image_section *section_by_handle(struct mm *mm, PVOID handle)
{
    for (struct mm_image *img = mm->paging.images; img; img = img->next)
        for (unsigned i = 0; i < img->nsections; i++)
            if ((PVOID)&img->section[i] == handle)
                return &img->section[i];
    return NULL;
}

static void lock_section(struct mm *mm, struct mm_image_section *s)
{
    if (s->locks++ == 0 && s->trimmed) {
        mm_section_set_trimmed(mm, s, false);
        mm->paging.pageins += (s->hi - s->lo) >> mm->page_shift;
    }
}

static PVOID lock_by_address(PVOID AddressWithinSection, const char *routine)
{
    struct sys *sys = sys_get();
    ke_check_irql_max(&sys->ke, APC_LEVEL, 0x00020019, routine);
    struct mm_image_section *s = section_at(&sys->mm, (uintptr_t)AddressWithinSection);
    if (!s)
        vf_fire(&mm_rule_section_unlock_underflow, (uintptr_t)AddressWithinSection, 0, 0,
                "%s(%p): the address is in no pageable section of a loaded driver", routine,
                AddressWithinSection);
    if (!s)
        return NULL;
    lock_section(&sys->mm, s);
    return s;
}

NTKERNELAPI PVOID NTAPI MmLockPagableCodeSection(PVOID AddressWithinSection)
{
    return lock_by_address(AddressWithinSection, "MmLockPagableCodeSection");
}

NTKERNELAPI PVOID NTAPI MmLockPagableDataSection(PVOID AddressWithinSection)
{
    return lock_by_address(AddressWithinSection, "MmLockPagableDataSection");
}

NTKERNELAPI VOID NTAPI MmLockPagableSectionByHandle(PVOID ImageSectionHandle)
{
    struct sys *sys = sys_get();
    ke_check_irql_max(&sys->ke, APC_LEVEL, 0x00020019, "MmLockPagableSectionByHandle");
    struct mm_image_section *s = section_by_handle(&sys->mm, ImageSectionHandle);
    if (!s) {
        vf_fire(&mm_rule_section_unlock_underflow, (uintptr_t)ImageSectionHandle, 0, 0,
                "MmLockPagableSectionByHandle(%p): not a section handle", ImageSectionHandle);
        return;
    }
    lock_section(&sys->mm, s);
}

NTKERNELAPI VOID NTAPI MmUnlockPagableImageSection(PVOID ImageSectionHandle)
{
    struct sys *sys = sys_get();
    ke_check_irql_max(&sys->ke, APC_LEVEL, 0x00020019, "MmUnlockPagableImageSection");
    struct mm_image_section *s = section_by_handle(&sys->mm, ImageSectionHandle);
    if (!s || s->locks == 0) {
        vf_fire(&mm_rule_section_unlock_underflow, (uintptr_t)ImageSectionHandle,
                s ? (uint64_t)s->locks : 0, 0, "MmUnlockPagableImageSection(%p): %s",
                ImageSectionHandle, s ? "more unlocks than locks" : "not a section handle");
        return;
    }
    s->locks--;
}

/* Does a PT_LOAD other than `self` cover part of [lo, hi) (ELF addresses)? */
static bool load_overlaps(Elf *e, size_t nph, size_t self, uintptr_t lo, uintptr_t hi)
{
    GElf_Phdr ph;
    for (size_t i = 0; i < nph; i++)
        if (i != self && gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD && ph.p_vaddr < hi &&
            lo < ph.p_vaddr + ph.p_memsz)
            return true;
    return false;
}

/* Adds the image's executable and writable segments (past RELRO) as
 * pageable pseudo-sections. */
static void page_entire(struct mm *mm, struct mm_image *img)
{
    int fd = open(img->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    elf_version(EV_CURRENT);
    Elf *e = elf_begin(fd, ELF_C_READ, NULL);
    size_t nph = 0;
    if (e && elf_getphdrnum(e, &nph) == 0) {
        /* the load bias: image lo is the lowest PT_LOAD's page */
        uintptr_t min_vaddr = UINTPTR_MAX, relro_end = 0;
        GElf_Phdr ph;
        for (size_t i = 0; i < nph; i++) {
            if (!gelf_getphdr(e, (int)i, &ph))
                continue;
            if (ph.p_type == PT_LOAD && ph.p_vaddr < min_vaddr)
                min_vaddr = ph.p_vaddr & ~(uintptr_t)(mm->page_size - 1);
            if (ph.p_type == PT_GNU_RELRO)
                relro_end = ph.p_vaddr + ph.p_memsz;
        }
        uintptr_t bias = img->lo - min_vaddr;
        for (size_t i = 0; i < nph; i++) {
            if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD)
                continue;
            if (!(ph.p_flags & (PF_X | PF_W)))
                continue;
            uintptr_t lo = ph.p_vaddr, hi = ph.p_vaddr + ph.p_memsz;
            if ((ph.p_flags & PF_W) && relro_end > lo && relro_end < hi)
                lo = relro_end;
            int prot = PROT_READ | ((ph.p_flags & PF_W) ? PROT_WRITE : 0) |
                       ((ph.p_flags & PF_X) ? PROT_EXEC : 0);
            /* Whole pages only; the linked PAGE / INIT sections inside keep
             * their own records (found first by the resolver). */
            uintptr_t mask = mm->page_size - 1;
            uintptr_t plo = (bias + lo) & ~mask, phi = (bias + hi + mask) & ~mask;
            if (plo < bias + lo && load_overlaps(e, nph, i, plo - bias, lo))
                plo += mm->page_size;
            if (phi > bias + hi && load_overlaps(e, nph, i, hi, phi - bias))
                phi -= mm->page_size;
            if (phi <= plo || img->nsections == mm_image_max_sections)
                continue;
            struct mm_image_section *s = &img->section[img->nsections++];
            memset(s, 0, sizeof(*s));
            snprintf(s->name, sizeof(s->name), "%s", (ph.p_flags & PF_X) ? "(code)" : "(data)");
            s->kind = mm_section_entire;
            s->raw_lo = bias + lo;
            s->raw_hi = bias + hi;
            s->lo = plo;
            s->hi = phi;
            s->prot = prot;
        }
    }
    if (e)
        elf_end(e);
    close(fd);
}

NTKERNELAPI PVOID NTAPI MmPageEntireDriver(PVOID AddressWithinSection)
{
    struct sys *sys = sys_get();
    ke_check_irql_max(&sys->ke, APC_LEVEL, 0x00020019, "MmPageEntireDriver");
    struct mm_image *img = mm_image_of(&sys->mm, (uintptr_t)AddressWithinSection);
    if (!img)
        return NULL;
    if (!img->entire) {
        page_entire(&sys->mm, img);
        img->entire = true;
        if (!sys->mm.paging.resolver_on && mm_fault_install() == 0) {
            mm_fault_register(mm_paging_resolve);
            sys->mm.paging.resolver_on = true;
        }
    }
    return (PVOID)img->lo;
}

NTKERNELAPI VOID NTAPI MmResetDriverPaging(PVOID AddressWithinSection)
{
    struct sys *sys = sys_get();
    ke_check_irql_max(&sys->ke, APC_LEVEL, 0x00020019, "MmResetDriverPaging");
    struct mm_image *img = mm_image_of(&sys->mm, (uintptr_t)AddressWithinSection);
    if (!img || !img->entire)
        return;
    for (unsigned i = img->nstatic; i < img->nsections; i++)
        if (img->section[i].trimmed)
            mm_section_set_trimmed(&sys->mm, &img->section[i], false);
    img->nsections = img->nstatic;
    img->entire = false;
}
