/*
 * src/mm/user.c - user address spaces: one per simulated process, and the
 * protection switch that makes only the current one accessible.
 *
 * Models: spec/memory.md 2: each process has a private user space; kernel
 * code may touch the user space of the current process only. A user space
 * is a reserved host region like the system space (space.c), with its own
 * PTEs; committed pages are mmaps of RAM frames. While the process is not
 * the current context every committed page is PROT_NONE, so a DPC, an ISR,
 * a system thread or another process touching it faults, and the resolver
 * here reports mm.user-va-wrong-context: 0xD1 at or above DISPATCH_LEVEL
 * (even inside __try: no fault is serviced there), below it a raise inside
 * __try, else 0x50. Windows might silently read another process's memory
 * at that address; wdmsim always stops.
 * Spec: spec/verifier.md 5 and 9 (mm.user-va-wrong-context, P4 0x57000004).
 * The switch: with memory protection keys (x86 PKU, Linux pkeys) each
 * space's pages carry its own key, and a switch is two writes of the PKRU
 * register (~20 ns); without them (no PKU, or more than the ~14 keys a
 * process has), the committed runs are mprotect'ed PROT_NONE / RW, which
 * costs a system call per run and a VMA walk per page (~0.5 us a page,
 * bench/bench_ioctl.c; docs/apps.md).
 * Invariants: a committed page is accessible iff its space is
 * mm->user_current (by key rights or by host protection).
 * Not modelled: PAGE_READONLY / guard / no-access user pages (every
 * committed user page is read-write), reserve-then-commit in two steps,
 * paging of user memory, address-space layout (addresses are host ones).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <wdm.h>

#include "machine/bitmap.h"
#include "sys.h"

const struct vf_rule mm_rule_user_wrong_context = {
    .id = "mm.user-va-wrong-context",
    .code = 0x50,
    .p1 = 0x57000004,
    .subcode_in_p4 = true,
    .params = {"address", "0 read, 1/2 write, 8/0x10 execute", "instruction"},
    .text = "kernel code touched a user address while its process was not the current context "
            "(a DPC, an ISR, a system thread or another process); 0xD1 at or above DISPATCH_LEVEL",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/mm-user-va-wrong-context",
};

const struct vf_rule *const mm_user_vf_rules[mm_user_vf_rule_count] = {
    &mm_rule_user_wrong_context,
    &mm_rule_left_locked,
};

/* The first 64 KiB of a user space are never handed out (MM_LOWEST_USER_ADDRESS). */
enum { lowest_user_bytes = 0x10000 };

struct mm_user_space *mm_user_space_of(struct mm *mm, const void *va)
{
    const uint8_t *p = va;
    for (struct mm_user_space *u = mm->users; u; u = u->next)
        if (p >= u->space.base && p < u->space.base + u->space.bytes)
            return u;
    return NULL;
}

bool mm_user_range(struct mm *mm, const void *va, uint64_t len)
{
    struct mm_user_space *u = mm->user_current;
    const uint8_t *p = va;
    if (!u || p + len < p)
        return false;
    return p >= u->space.base + lowest_user_bytes && p + len <= u->space.base + u->space.bytes;
}

void *mm_user_owner(struct mm *mm, const void *va)
{
    struct mm_user_space *u = mm->users ? mm_user_space_of(mm, va) : NULL;
    return u ? u->owner : NULL;
}

struct mm_user_space *mm_user_create(struct mm *mm, void *owner, const char *name, uint64_t bytes)
{
    struct mm_user_space *u = calloc(1, sizeof(*u));
    struct machine_error err = {{0}};
    if (!u)
        return NULL;
    if (mm_space_create(&u->space, name, bytes, mm->page_shift, &err)) {
        fprintf(stderr, "wdmsim: %s\n", err.text);
        mm_space_destroy(&u->space);
        free(u);
        return NULL;
    }
    /* Never hand out the low pages: NULL-near pointers stay invalid. */
    uint64_t low = lowest_user_bytes >> mm->page_shift;
    for (uint64_t i = 0; i < low && i < u->space.npages; i++)
        bitmap_set(u->space.reserved, i);
    u->space.hint = low;
    /* Access disabled from the start: the switch grants it. */
    u->pkey = pkey_alloc(0, PKEY_DISABLE_ACCESS);
    u->owner = owner;
    u->next = mm->users;
    mm->users = u;
    return u;
}

static void protect_run(const struct mm_user_run *r, unsigned page_shift, int prot)
{
    if (mprotect(r->va, r->pages << page_shift, prot))
        fprintf(stderr, "wdmsim: mprotect of user pages %p (+%llu pages): %s\n", (void *)r->va,
                (unsigned long long)r->pages, strerror(errno));
}

void *mm_user_alloc(struct mm *mm, struct mm_user_space *u, uint64_t bytes)
{
    uint64_t n = (bytes + mm->page_size - 1) >> mm->page_shift;
    struct mm_user_run *r = n ? calloc(1, sizeof(*r)) : NULL;
    if (!r)
        return NULL;
    uint64_t first = mm_space_reserve(&u->space, n);
    if (first == UINT64_MAX) {
        free(r);
        return NULL;
    }
    r->va = u->space.base + (first << mm->page_shift);
    r->pages = n;
    for (uint64_t k = 0; k < n; k++) {
        uint64_t f = pfn_alloc(&mm->machine->pfn, UINT64_MAX);
        uint8_t *va = r->va + (k << mm->page_shift);
        if (f == UINT64_MAX || mm_map_page(mm, va, f, mm_pte_write | mm_pte_user)) {
            if (f != UINT64_MAX)
                pfn_free(&mm->machine->pfn, f);
            r->pages = k;
            r->next = u->runs;
            u->runs = r;
            mm_user_free(mm, u, r->va); /* the k pages mapped so far */
            mm_space_unreserve(&u->space, first + k, n - k);
            return NULL;
        }
        memset(va, 0, mm->page_size); /* VirtualAlloc memory is zeroed */
    }
    if (u->pkey >= 0) {
        if (pkey_mprotect(r->va, n << mm->page_shift, PROT_READ | PROT_WRITE, u->pkey))
            fprintf(stderr, "wdmsim: pkey_mprotect of user pages %p: %s\n", (void *)r->va,
                    strerror(errno));
    } else if (u != mm->user_current) {
        protect_run(r, mm->page_shift, PROT_NONE);
    }
    r->next = u->runs;
    u->runs = r;
    u->committed += n;
    return r->va;
}

int mm_user_free(struct mm *mm, struct mm_user_space *u, void *va)
{
    for (struct mm_user_run **pp = &u->runs; *pp; pp = &(*pp)->next) {
        struct mm_user_run *r = *pp;
        if (r->va != va)
            continue;
        *pp = r->next;
        uint64_t *pte = mm_pte_of(mm, r->va);
        for (uint64_t k = 0; k < r->pages; k++)
            if (pte[k] & mm_pte_valid)
                pfn_free(&mm->machine->pfn, mm_pte_frame(pte[k]));
        mm_unmap_pages(mm, r->va, r->pages);
        uint64_t first = (uint64_t)(r->va - u->space.base) >> mm->page_shift;
        for (uint64_t k = 0; k < r->pages; k++)
            pte[k] = 0;
        mm_space_unreserve(&u->space, first, r->pages);
        u->committed -= r->pages < u->committed ? r->pages : u->committed;
        free(r);
        return 0;
    }
    return -1;
}

void mm_user_switch(struct mm *mm, struct mm_user_space *u)
{
    struct mm_user_space *old = mm->user_current;
    if (old == u)
        return;
    if (old && old->pkey >= 0)
        pkey_set(old->pkey, PKEY_DISABLE_ACCESS);
    else if (old)
        for (struct mm_user_run *r = old->runs; r; r = r->next)
            protect_run(r, mm->page_shift, PROT_NONE);
    if (u && u->pkey >= 0)
        pkey_set(u->pkey, 0);
    else if (u)
        for (struct mm_user_run *r = u->runs; r; r = r->next)
            protect_run(r, mm->page_shift, PROT_READ | PROT_WRITE);
    mm->user_current = u;
    mm->user_switches++;
}

void mm_user_keys_apply(struct mm *mm)
{
    for (struct mm_user_space *u = mm->users; u; u = u->next)
        if (u->pkey >= 0)
            pkey_set(u->pkey, u == mm->user_current ? 0 : PKEY_DISABLE_ACCESS);
}

/* Frees the frames while u is still listed (mm_pte_of must find its
 * PTEs), then unlinks it and drops the reservation. */
void mm_user_destroy(struct mm *mm, struct mm_user_space *u)
{
    if (mm->user_current == u)
        mm_user_switch(mm, NULL);
    while (u->runs)
        mm_user_free(mm, u, u->runs->va);
    mm_user_heap_fini(u);
    for (struct mm_user_space **pp = &mm->users; *pp; pp = &(*pp)->next) {
        if (*pp == u) {
            *pp = u->next;
            break;
        }
    }
    mm_space_destroy(&u->space);
    if (u->pkey >= 0)
        pkey_free(u->pkey);
    free(u);
}

void mm_user_fini(struct mm *mm)
{
    mm->user_current = NULL;
    while (mm->users)
        mm_user_destroy(mm, mm->users);
}

/* A committed page of a process that is not the current context. Pages
 * never committed are ordinary bad addresses (0x50, or a raise in __try). */
int mm_user_resolve(struct sys *sys, void *addr, int access, void *pc)
{
    struct mm *mm = &sys->mm;
    struct mm_user_space *u = mm->users ? mm_user_space_of(mm, addr) : NULL;
    if (!u || u == mm->user_current || !(sys->ke.running || sys->ke.stop_target))
        return mm_fault_declined;
    uint64_t *pte = mm_pte_of(mm, addr);
    if (!pte || !(*pte & mm_pte_valid) || !vf_on(&sys->vf, &mm_rule_user_wrong_context))
        return mm_fault_declined;
    uint8_t irql = ke_irql(&sys->ke);
    const char *what = access == 1 ? "write" : access == 8 ? "execution" : "read";
    const char *ctx =
        mm->user_current ? "another process" : "no process (DPC, ISR or system thread)";
    if (irql >= DISPATCH_LEVEL)
        ke_bugcheck(0xD1, (uint64_t)(uintptr_t)addr, (uint64_t)access, (uint64_t)(uintptr_t)pc,
                    0x57000004, &mm_rule_user_wrong_context,
                    "[address %p, %s, IRQL %u, instruction %p] user address of another process "
                    "touched at DISPATCH_LEVEL or above; current context: %s",
                    addr, what, irql, pc, ctx);
    if (io_seh_active())
        io_seh_raise(STATUS_ACCESS_VIOLATION, addr);
    ke_bugcheck(0x50, (uint64_t)(uintptr_t)addr,
                access == 1   ? 2
                : access == 8 ? 0x10
                              : 0,
                (uint64_t)(uintptr_t)pc, 0x57000004, &mm_rule_user_wrong_context,
                "[address %p, %s, IRQL %u, instruction %p] user address of another process "
                "touched; current context: %s",
                addr, what, irql, pc, ctx);
}

/* 0xCB DRIVER_LEFT_LOCKED_PAGES_IN_PROCESS: parameters as mdl.free-locked
 * (P1 where the pages were locked, P3 the MDL, P4 its pages). */
const struct vf_rule mm_rule_left_locked = {
    .id = "mdl.left-locked",
    .code = 0xCB,
    .p1 = 0,
    .params = {"reserved (0)", "MDL", "locked pages"},
    .text = "a process ended while a driver still held pages of it locked (MmProbeAndLockPages "
            "without MmUnlockPages); P1: the address that locked them",
    .option = vf_opt_os,
    .fixture = "tests/fixtures/mdl-left-locked",
};

void mm_user_check_locked(struct mm *mm, void *owner)
{
    void *caller = NULL;
    PMDL m = mm_mdl_locked_for(mm, owner, &caller);
    if (!m)
        return;
    uint64_t pages =
        ((m->ByteOffset + (uint64_t)m->ByteCount) + mm->page_size - 1) >> mm->page_shift;
    ke_violation(&mm_rule_left_locked, (uint64_t)(uintptr_t)caller, 0, (uint64_t)(uintptr_t)m,
                 pages, "[MDL %p, %u bytes at %p] the process ended with these pages still locked",
                 (void *)m, m->ByteCount, MmGetMdlVirtualAddress(m));
}
