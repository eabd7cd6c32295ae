/*
 * src/mm/mm.h - the memory manager: address spaces, PTEs, mappings.
 * The whole interface of src/mm to the other layers.
 *
 * Models: Windows' system address space as a reserved host region whose
 * pages are mapped to RAM frames by mmap of the RAM memfd at the frame's
 * offset: simulated virtual addresses are real host addresses that driver
 * code dereferences, two pages can alias one frame, and contiguous virtual
 * memory sits on scattered frames. A software page table records every PTE.
 * Spec: spec/memory.md 2, 6; ARCHITECTURE.md 2.
 * Invariants: a valid PTE's frame is allocated in the PFN database and its
 * map_count counts it; host protection of a page equals its PTE's.
 */
#ifndef WDMSIM_MM_H
#define WDMSIM_MM_H

#include <stdbool.h>
#include <stdint.h>

#include "machine/machine.h"

/* A PTE: frame number above bit 12, flags below. */
enum {
    mm_pte_valid = 1u << 0,
    mm_pte_write = 1u << 1,
    mm_pte_exec = 1u << 2,
    mm_pte_pageable = 1u << 3,
    mm_pte_trimmed = 1u << 4, /* pageable page made non-resident */
    mm_pte_guard = 1u << 5,   /* reserved, never to be mapped */
    mm_pte_user = 1u << 6,
    mm_pte_io = 1u << 7, /* maps device space, not RAM */
};
#define MM_PTE_FRAME_SHIFT 12

static inline uint64_t mm_pte_make(uint64_t frame, unsigned flags)
{
    return (frame << MM_PTE_FRAME_SHIFT) | flags;
}
static inline uint64_t mm_pte_frame(uint64_t pte)
{
    return pte >> MM_PTE_FRAME_SHIFT;
}

/* One contiguous region of host address space holding simulated pages. */
struct mm_space {
    const char *name; /* "system", a process name */
    uint8_t *base;
    uint64_t bytes;
    uint64_t npages;
    uint64_t *ptes;     /* npages entries; 0 = never mapped */
    uint64_t *reserved; /* bitmap: page reserved by an allocator */
    uint64_t hint;      /* next page to try when reserving */
    uint64_t reserved_pages;
};

/* ---- paging (paging.c, paging_image.c) -------------------------------------
 * Pageable memory: paged-pool pages (PTE flag mm_pte_pageable) and the
 * pageable (PAGE*) and discardable (INIT*) sections of driver images. A
 * trimmed page keeps its frame (mm_pte_valid stays set, as on the standby
 * list) but is inaccessible (mm_pte_trimmed, host PROT_NONE) until the
 * fault handler pages it back in. */
enum mm_section_kind {
    mm_section_paged,  /* PAGE*: pageable, resident again on touch below DISPATCH */
    mm_section_init,   /* INIT*: discarded after DriverEntry */
    mm_section_entire, /* a segment made pageable by MmPageEntireDriver */
};

struct mm_image_section {
    char name[16];
    enum mm_section_kind kind;
    uintptr_t lo, hi;         /* the whole pages it covers exclusively (may be empty) */
    uintptr_t raw_lo, raw_hi; /* the section as linked */
    int prot;                 /* host protection when resident */
    int locks;                /* MmLockPagable* count: > 0 keeps it resident */
    bool trimmed, discarded;
};

enum { mm_image_max_sections = 24 };

struct mm_image {
    char path[512];
    uintptr_t lo, hi;   /* the mapped image */
    unsigned nsections; /* the first nstatic are the linked PAGE / INIT ones */
    unsigned nstatic;
    struct mm_image_section section[mm_image_max_sections];
    bool entire; /* MmPageEntireDriver in force */
    struct mm_image *next;
};

struct mm_paging {
    struct mm_image *images;
    uint32_t *resident; /* system page indexes of pool pages that may be trimmed */
    uint64_t nresident, cap;
    uint64_t *queued;        /* bitmap over system pages: in resident[] */
    bool resolver_on;        /* registered with fault.c */
    uint64_t trims, pageins; /* statistics */
};

struct mm {
    struct machine *machine;
    unsigned page_shift;
    uint64_t page_size;
    struct mm_space system;
    uint64_t mapped_pages; /* statistics */
    /* contiguous.c: blocks of MmAllocateContiguous* / MmAllocateNonCached* */
    struct mm_contig *contig;
    unsigned ncontig, contig_cap;
    struct mm_paging paging;        /* paging.c, paging_image.c */
    struct mm_iomap *iomaps;        /* iospace.c: live MmMapIoSpace mappings */
    struct mdl_lock_rec *mdl_locks; /* mdl.c: locked MDLs and where they were locked */
    /* user.c: every process's user space, and the one accessible now */
    struct mm_user_space *users, *user_current;
    uint64_t user_switches; /* statistics: context switches that changed protections */
};

int mm_init(struct mm *mm, struct machine *m, struct machine_error *err);
void mm_fini(struct mm *mm);

/* Reserves npages consecutive pages of system VA (no frames). NULL if full. */
void *mm_va_reserve(struct mm *mm, uint64_t npages);
/* Unmaps (frames are not freed) and releases a reserved range. */
void mm_va_release(struct mm *mm, void *va, uint64_t npages);

/* Maps one page at va (page-aligned, reserved) to frame with flags
 * (mm_pte_write ...). Returns 0 or -1 (host mmap failure, reported). */
int mm_map_page(struct mm *mm, void *va, uint64_t frame, unsigned flags);
/* Unmaps npages at va; the VA stays reserved, frames stay allocated. */
void mm_unmap_pages(struct mm *mm, void *va, uint64_t npages);

/* Resident system memory: reserve, take frames below max_frame_excl
 * (UINT64_MAX = anywhere), map writable. NULL when VA or frames run out,
 * with nothing left allocated. */
void *mm_alloc_pages(struct mm *mm, uint64_t npages, uint64_t max_frame_excl);
void mm_free_pages(struct mm *mm, void *va, uint64_t npages);

/* The PTE of va, or NULL when va is outside every simulated space. */
uint64_t *mm_pte_of(struct mm *mm, const void *va);
/* Physical address of va; false when va is not mapped to RAM now. */
bool mm_va_to_pa(struct mm *mm, const void *va, uint64_t *pa);

/* ---- contiguous.c: runs of frames, contiguous and non-cached memory ------- */
struct mm_contig {
    void *va;
    uint64_t pages;
    int cache;          /* MEMORY_CACHING_TYPE */
    bool noncached_api; /* MmAllocateNonCachedMemory, not ...Contiguous... */
};
/* Maps n frames starting at frame to n pages at va with one host mapping.
 * Returns 0 or -1 (host mmap failure, reported). */
int mm_map_run(struct mm *mm, void *va, uint64_t frame, uint64_t n, unsigned flags);
void mm_contig_fini(struct mm *mm);
struct vf_rule;
extern const struct vf_rule mm_rule_contiguous_bad_free;

/* ---- fault.c: the one SIGSEGV handler ---------------------------------------
 * Resolvers are tried in registration order with the faulting address, the
 * access (0 read, 1 write, 8 execute) and the faulting instruction. One
 * returns mm_fault_handled (retry the access), or stops the machine (bug
 * check, does not return), or declines. A fault no resolver claims inside
 * simulated memory is bug check 0x50; outside it is a wdmsim bug (the
 * default action: core dump). */
struct sys;
typedef int (*mm_fault_resolver)(struct sys *sys, void *addr, int access, void *pc);
enum { mm_fault_declined = 0, mm_fault_handled = 1 };
/* Installs the handler (once per process) and an alternate signal stack for
 * the calling thread. Returns 0 or -1 (errno-style failure, reported). */
int mm_fault_install(void);
/* Adds fn at the end of the resolver list (once; duplicates ignored). */
void mm_fault_register(mm_fault_resolver fn);

/* ---- paging.c: trimming and paging in ---------------------------------------
 * Any context, no locks: one host thread runs the machine. */
/* Pool pages at va became pageable and resident (called by whoever maps
 * pages with mm_pte_pageable). */
void mm_paging_note(struct mm *mm, void *va, uint64_t npages);
/* Trims every pageable page that is resident and not locked (MDL-locked
 * frames, locked sections stay). Returns the number of pages trimmed. Force
 * IRQL checking calls it on each raise to >= DISPATCH_LEVEL and spin lock
 * acquisition. */
uint64_t mm_trim_all(struct mm *mm);
/* Makes a trimmed page at va resident again; false if it is not trimmed. */
bool mm_page_in(struct mm *mm, const void *va);
void mm_paging_fini(struct mm *mm);
/* The fault resolver (registered with fault.c on first use). */
int mm_paging_resolve(struct sys *sys, void *addr, int access, void *pc);

/* ---- paging_image.c: driver image sections ------------------------------------
 * Reads the section headers of the ELF image at path (mapped at load bias
 * `bias`, spanning [lo, hi)) and records its PAGE* and INIT* sections.
 * NULL on failure (message on stderr; the image then has no pageable part). */
struct mm_image *mm_image_register(struct mm *mm, const char *path, uintptr_t bias, uintptr_t lo,
                                   uintptr_t hi);
/* After DriverEntry: INIT* sections become inaccessible (mm.init-after-entry). */
void mm_image_discard_init(struct mm *mm, struct mm_image *img);
/* Before unmapping: every page back to its linked protection; frees img. */
void mm_image_unregister(struct mm *mm, struct mm_image *img);
/* The registered image holding addr, or NULL. */
struct mm_image *mm_image_of(struct mm *mm, uintptr_t addr);
/* Trims (true) or restores one section's whole pages. */
void mm_section_set_trimmed(struct mm *mm, struct mm_image_section *s, bool trimmed);

/* ---- iospace.c: MmMapIoSpace ------------------------------------------------
 * Device memory is never host memory: a mapping reserves system VA whose
 * PTEs carry mm_pte_io and the device's physical page (host pages stay
 * PROT_NONE, so a plain dereference faults); READ_/WRITE_REGISTER_* find the
 * physical address through mm_iomap_lookup and call the bus. */
struct mm_iomap {
    void *va; /* as returned (with the byte offset) */
    uint64_t pa, bytes;
    uint64_t npages;
    void *caller; /* return address of the MmMapIoSpace call */
    struct mm_iomap *next;
};
/* The live mapping holding va: its physical address. false when none. */
bool mm_iomap_lookup(struct mm *mm, const void *va, uint64_t *pa);
/* Verifier: a mapping of [pa, pa+len) still live when its device is removed
 * (mm.iospace-leak-at-remove). */
void mm_iomap_check_removed(struct mm *mm, uint64_t pa, uint64_t len, const char *device);
void mm_iomap_fini(struct mm *mm);
extern const struct vf_rule *const mm_io_vf_rules[];
enum { mm_io_vf_rule_count = 4 };

/* ---- mdl*.c: MDLs ----------------------------------------------------------------- */
/* Verifier: every MDL still locked is a leak (mdl.left-locked) at unload or
 * process exit; returns how many. */
unsigned mm_mdl_locked_count(struct mm *mm);
void mm_mdl_fini(struct mm *mm);
extern const struct vf_rule *const mm_mdl_vf_rules[];
enum { mm_mdl_vf_rule_count = 9 };
extern const struct vf_rule *const mm_mdl_map_vf_rules[];
enum { mm_mdl_map_vf_rule_count = 9 };

/* ---- user.c, user_heap.c: user address spaces ----------------------------------
 * A process's user space is a reserved host region like the system space,
 * with its own PTEs. Its committed pages are accessible only while it is
 * mm->user_current (mm_user_switch, called on every context change); a
 * touch from elsewhere faults and is mm.user-va-wrong-context. */
struct mm_user_run {
    uint8_t *va;
    uint64_t pages;
    struct mm_user_run *next;
};
struct mm_user_space {
    struct mm_space space;
    void *owner;               /* the PEPROCESS */
    struct mm_user_run *runs;  /* committed allocations (VirtualAlloc, stack, heap chunks) */
    uint64_t committed;        /* pages */
    struct mm_user_heap *heap; /* user_heap.c */
    int pkey;                  /* protection key of its pages, -1: switched by mprotect */
    struct mm_user_space *next;
};
int mm_space_create(struct mm_space *s, const char *name, uint64_t bytes, unsigned page_shift,
                    struct machine_error *err);
void mm_space_destroy(struct mm_space *s);
/* Reserves npages consecutive pages of space s (next fit from its hint,
 * one wrap): the first page's index, or UINT64_MAX when none fits. */
uint64_t mm_space_reserve(struct mm_space *s, uint64_t npages);
void mm_space_unreserve(struct mm_space *s, uint64_t first, uint64_t npages);
/* NULL when host memory runs out (message on stderr). */
struct mm_user_space *mm_user_create(struct mm *mm, void *owner, const char *name, uint64_t bytes);
/* Frees every frame and the reservation; switches away first if current. */
void mm_user_destroy(struct mm *mm, struct mm_user_space *u);
/* Commits zeroed, writable pages (whole pages, >= bytes). NULL when VA or
 * frames run out. Any context: pages of a non-current space stay hidden. */
void *mm_user_alloc(struct mm *mm, struct mm_user_space *u, uint64_t bytes);
/* Releases an allocation by its start address; -1 when va starts none. */
int mm_user_free(struct mm *mm, struct mm_user_space *u, void *va);
/* Makes u's pages the only accessible user pages (NULL: none). */
void mm_user_switch(struct mm *mm, struct mm_user_space *u);
/* Re-applies the protection-key rights of the current space to this host
 * thread: a signal handler starts with the kernel's default rights, and a
 * handler left by longjmp (SEH raise, app fault) keeps them. */
void mm_user_keys_apply(struct mm *mm);
/* The user space holding va, or NULL. */
struct mm_user_space *mm_user_space_of(struct mm *mm, const void *va);
/* [va, va + len) lies inside the current user space (MmUserProbeAddress's
 * test: what ProbeForRead and a UserMode probe accept). */
bool mm_user_range(struct mm *mm, const void *va, uint64_t len);
/* Owner (PEPROCESS) of the user space holding va, NULL for system VA. */
void *mm_user_owner(struct mm *mm, const void *va);
int mm_user_resolve(struct sys *sys, void *addr, int access, void *pc);
void mm_user_fini(struct mm *mm);
/* user_heap.c: malloc for apps, inside the process's user space; metadata
 * stays host-side so an app overrun cannot corrupt it. */
void *mm_user_heap_alloc(struct mm *mm, struct mm_user_space *u, uint64_t bytes);
/* Returns the block's size, 0 when p is no live block. */
uint64_t mm_user_heap_free(struct mm *mm, struct mm_user_space *u, void *p);
uint64_t mm_user_heap_size(struct mm_user_space *u, const void *p);
/* mdl.c: the first MDL still locked over pages of process `owner` (and the
 * address that locked it), NULL when none. */
void *mm_mdl_locked_for(struct mm *mm, void *owner, void **caller);
/* Process exit: an MDL still locked over its pages is mdl.left-locked (0xCB). */
void mm_user_check_locked(struct mm *mm, void *owner);
void mm_user_heap_fini(struct mm_user_space *u);
extern const struct vf_rule *const mm_user_vf_rules[];
enum { mm_user_vf_rule_count = 2 };
extern const struct vf_rule mm_rule_left_locked;

extern const struct vf_rule *const mm_paging_vf_rules[];
enum { mm_paging_vf_rule_count = 3 };

#endif
