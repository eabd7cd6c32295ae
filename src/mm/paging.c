/*
 * src/mm/paging.c - trimming pageable memory and paging it back in.
 *
 * Models: the working-set trimmer and the page-fault rules of
 * spec/memory.md 3. Trimming a page revokes all host access to it (the
 * frame and its contents stay: a soft fault, like a standby-list page);
 * touching it faults, and the resolver here decides as Windows does:
 * IRQL < DISPATCH_LEVEL pages it in and the access is retried; at or above,
 * bug check 0xD1 DRIVER_IRQL_NOT_LESS_OR_EQUAL when the faulting
 * instruction is in a driver image, 0x0A IRQL_NOT_LESS_OR_EQUAL when it is
 * in the kernel (wdmsim itself), with P1 address, P2 IRQL, P3 0 read /
 * 1 write / 8 execute, P4 the instruction; and an INIT page touched after
 * DriverEntry is 0x50.
 * Spec: spec/memory.md 3, 7; spec/verifier.md 3, 4 (irql.pageable-access),
 * 5 (mm.init-after-entry).
 * Invariants: a pool page is in resident[] at most once (queued bitmap);
 * mm_pte_trimmed set <=> host PROT_NONE for a valid pageable PTE.
 * Not modelled: hard faults (no page file: contents never leave the frame);
 * memory pressure from the seed (trimming happens on request and under
 * Force IRQL checking only).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <wdm.h>

#include "machine/bitmap.h"
#include "sys.h"

static const struct vf_rule rule_pageable_access = {
    .id = "irql.pageable-access",
    .code = 0xD1,
    .p1 = 0,
    .params = {"IRQL", "access: 0 read, 1 write, 8 execute", "faulting instruction"},
    .text = "pageable memory that is not resident is touched at IRQL >= DISPATCH_LEVEL (no "
            "page fault can be serviced there); P1 is the address",
    .option = vf_opt_os,
    .fixture = "tests/fixtures/irql-pageable-access",
};

/* The same rule when the faulting instruction is the kernel's (0x0A). */
static const struct vf_rule rule_pageable_access_kernel = {
    .id = "irql.pageable-access",
    .code = 0x0A,
    .p1 = 0,
    .params = {"IRQL", "access: bit 0 write, bit 3 execute", "faulting instruction"},
    .text = "a kernel routine touched non-resident pageable memory at IRQL >= DISPATCH_LEVEL on "
            "the driver's behalf; P1 is the address",
    .option = vf_opt_os,
    .fixture = "tests/fixtures/irql-pageable-access",
};

static const struct vf_rule rule_init_after_entry = {
    .id = "mm.init-after-entry",
    .code = 0x50,
    .p1 = 0,
    .params = {"access: 0 read, 2 write, 0x10 execute", "faulting instruction", "0"},
    .text = "an INIT (discardable) section is used after DriverEntry returned; P1 is the address",
    .option = vf_opt_os,
    .fixture = "tests/fixtures/mm-init-after-entry",
};

extern const struct vf_rule mm_rule_section_unlock_underflow;

const struct vf_rule *const mm_paging_vf_rules[mm_paging_vf_rule_count] = {
    &rule_pageable_access,
    &rule_init_after_entry,
    &mm_rule_section_unlock_underflow,
};

static int prot_of_pte(uint64_t pte)
{
    int prot = PROT_READ;
    if (pte & mm_pte_write)
        prot |= PROT_WRITE;
    if (pte & mm_pte_exec)
        prot |= PROT_EXEC;
    return prot;
}

static void resolver_on(struct mm *mm)
{
    if (mm->paging.resolver_on)
        return;
    if (mm_fault_install() == 0) {
        mm_fault_register(mm_paging_resolve);
        mm->paging.resolver_on = true;
    }
}

void mm_paging_note(struct mm *mm, void *va, uint64_t npages)
{
    struct mm_paging *pg = &mm->paging;
    struct mm_space *s = &mm->system;
    if (!pg->queued) {
        pg->queued = mmap(NULL, ((s->npages + 63) / 64) * 8, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (pg->queued == MAP_FAILED) {
            pg->queued = NULL;
            fprintf(stderr, "wdmsim: paging: no host memory for the pageable-page bitmap\n");
            return;
        }
    }
    resolver_on(mm);
    uint64_t first = ((uint8_t *)va - s->base) >> mm->page_shift;
    for (uint64_t i = first; i < first + npages && i < s->npages; i++) {
        if (bitmap_get(pg->queued, i))
            continue;
        if (pg->nresident == pg->cap) {
            uint64_t cap = pg->cap ? pg->cap * 2 : 1024;
            uint32_t *r = realloc(pg->resident, cap * sizeof(*r));
            if (!r) {
                fprintf(stderr, "wdmsim: paging: out of host memory; page %p stays resident\n",
                        (void *)(s->base + (i << mm->page_shift)));
                return;
            }
            pg->resident = r;
            pg->cap = cap;
        }
        pg->resident[pg->nresident++] = (uint32_t)i;
        bitmap_put(pg->queued, i, true);
    }
}

/* A pool page may be trimmed when it is still mapped, pageable, resident,
 * and its frame is not locked by an MDL. */
static bool pool_page_trimmable(struct mm *mm, uint64_t pte)
{
    if ((pte & (mm_pte_valid | mm_pte_pageable | mm_pte_trimmed)) !=
        (mm_pte_valid | mm_pte_pageable))
        return false;
    return !(mm->machine->pfn.entries[mm_pte_frame(pte)].flags & pfn_flag_locked);
}

uint64_t mm_trim_all(struct mm *mm)
{
    struct mm_paging *pg = &mm->paging;
    /* Whatever is trimmed now must fault into our handler. */
    mm_fault_install();
    struct mm_space *s = &mm->system;
    uint64_t trimmed = 0, kept = 0;
    for (uint64_t k = 0; k < pg->nresident; k++) {
        uint32_t i = pg->resident[k];
        uint64_t *pte = &s->ptes[i];
        if (pool_page_trimmable(mm, *pte)) {
            mprotect(s->base + ((uint64_t)i << mm->page_shift), mm->page_size, PROT_NONE);
            *pte |= mm_pte_trimmed;
            trimmed++;
            bitmap_put(pg->queued, i, false);
        } else if ((*pte & (mm_pte_valid | mm_pte_pageable | mm_pte_trimmed)) ==
                   (mm_pte_valid | mm_pte_pageable)) {
            pg->resident[kept++] = i; /* locked now: try again next time */
        } else {
            bitmap_put(pg->queued, i, false); /* unmapped, or no longer pageable */
        }
    }
    pg->nresident = kept;
    for (struct mm_image *img = pg->images; img; img = img->next) {
        for (unsigned i = 0; i < img->nsections; i++) {
            struct mm_image_section *sec = &img->section[i];
            bool pageable =
                sec->kind != mm_section_init && (sec->kind == mm_section_paged || img->entire);
            if (pageable && !sec->trimmed && sec->locks == 0 && sec->hi > sec->lo) {
                mm_section_set_trimmed(mm, sec, true);
                trimmed += (sec->hi - sec->lo) >> mm->page_shift;
            }
        }
        /* A locked PAGE section inside a trimmed whole-driver segment stays. */
        for (unsigned i = 0; img->entire && i < img->nstatic; i++) {
            struct mm_image_section *sec = &img->section[i];
            if (sec->locks && sec->hi > sec->lo)
                mprotect((void *)sec->lo, sec->hi - sec->lo, sec->prot);
        }
    }
    pg->trims += trimmed;
    return trimmed;
}

bool mm_page_in(struct mm *mm, const void *va)
{
    uint64_t *pte = mm_pte_of(mm, va);
    if (!pte || !(*pte & mm_pte_trimmed))
        return false;
    uint8_t *page = (uint8_t *)((uintptr_t)va & ~(uintptr_t)(mm->page_size - 1));
    mprotect(page, mm->page_size, prot_of_pte(*pte));
    *pte &= ~(uint64_t)mm_pte_trimmed;
    mm->paging.pageins++;
    mm_paging_note(mm, page, 1);
    return true;
}

void mm_paging_fini(struct mm *mm)
{
    struct mm_paging *pg = &mm->paging;
    while (pg->images)
        mm_image_unregister(mm, pg->images);
    free(pg->resident);
    if (pg->queued)
        munmap(pg->queued, ((mm->system.npages + 63) / 64) * 8);
    memset(pg, 0, sizeof(*pg));
}

/* ---- the fault resolver ---------------------------------------------------------- */

static const char *access_word(int access)
{
    return access == 1 ? "write" : access == 8 ? "execute" : "read";
}

/* The inaccessible image section holding a (sections may overlap: an
 * MmPageEntireDriver segment contains the linked PAGE sections). */
static struct mm_image_section *section_of(struct mm *mm, uintptr_t a)
{
    struct mm_image *img = mm_image_of(mm, a);
    for (unsigned i = 0; img && i < img->nsections; i++) {
        struct mm_image_section *s = &img->section[i];
        if (a >= s->lo && a < s->hi && (s->trimmed || s->discarded))
            return s;
    }
    return NULL;
}

/* vf_backtrace_describe takes return addresses (it looks up pc - 1);
 * a faulting instruction or a function's first byte is exact. */
static void describe_exact(void *pc, char *buf, size_t len)
{
    vf_backtrace_describe((char *)pc + 1, buf, len);
}

static _Noreturn void stop_at_raised_irql(struct sys *sys, void *addr, int access, void *pc,
                                          const char *what)
{
    struct ke *ke = &sys->ke;
    uint8_t irql = ke_irql(ke);
    char fn[256], code[256];
    describe_exact(pc, code, sizeof(code));
    describe_exact(addr, fn, sizeof(fn));
    /* 0xD1 when a driver's instruction faulted; 0x0A when the kernel's. */
    bool driver = mm_image_of(&sys->mm, (uintptr_t)pc) != NULL;
    const struct vf_rule *rule = driver ? &rule_pageable_access : &rule_pageable_access_kernel;
    uint64_t p3 = access;
    ke_bugcheck(rule->code, (uintptr_t)addr, irql, p3, (uintptr_t)pc, rule,
                "%s of non-resident %s at %p at IRQL %u in function %s [instruction in %s]",
                access_word(access), what, addr, irql, access == 8 ? fn : code, code);
}

int mm_paging_resolve(struct sys *sys, void *addr, int access, void *pc)
{
    struct mm *mm = &sys->mm;
    struct ke *ke = &sys->ke;
    uintptr_t a = (uintptr_t)addr;
    uint64_t *pte = mm_pte_of(mm, addr);
    /* wdmsim's own reads (unwinding a stop, the host outside any call)
     * are never the driver's fault. */
    bool raised = ke->depth > 0 && !ke_stopped(ke) && ke_irql(ke) >= DISPATCH_LEVEL;
    if (pte && (*pte & mm_pte_trimmed)) {
        if (raised)
            stop_at_raised_irql(sys, addr, access, pc, "paged pool");
        mm_page_in(mm, addr);
        return mm_fault_handled;
    }
    struct mm_image_section *sec = section_of(mm, a);
    if (!sec)
        return mm_fault_declined;
    if (sec->discarded) {
        if (ke->depth == 0 || ke_stopped(ke)) {
            /* wdmsim itself (unload, symbolization) may read it */
            mm_section_set_trimmed(mm, sec, false);
            return mm_fault_handled;
        }
        char code[256];
        describe_exact(pc, code, sizeof(code));
        uint64_t p2 = access == 1 ? 2 : access == 8 ? 0x10 : 0;
        ke_bugcheck(0x50, a, p2, (uintptr_t)pc, 0, &rule_init_after_entry,
                    "%s of %p in discarded section %s after DriverEntry [instruction in %s]",
                    access_word(access), addr, sec->name, code);
    }
    if (raised)
        stop_at_raised_irql(sys, addr, access, pc,
                            sec->kind == mm_section_paged ? "pageable section" : "paged driver");
    mm_section_set_trimmed(mm, sec, false);
    mm->paging.pageins += (sec->hi - sec->lo) >> mm->page_shift;
    return mm_fault_handled;
}
