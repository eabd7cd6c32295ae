/*
 * src/ex/lookaside.c - lookaside lists: init, delete, flush, the system list.
 *
 * Models: ExInitialize{N,}PagedLookasideList / ExInitializeLookasideListEx
 * (no preallocation; Depth starts at the system minimum 4, MaximumDepth
 * 256; NULL callbacks mean pool), their Delete and ExFlushLookasideListEx.
 * Allocate and free are header-inline (include/ddk/wdm/lookaside.h) and
 * never enter this file except through the pool callbacks. Every live list
 * is recorded in the system list (struct ex_lookaside_set, host-side),
 * which the depth tuning (lookaside_tune.c) and the unload check walk.
 * Spec: spec/memory.md 5; rules la.reinit, la.delete-uninit, la.size-too-
 * small, la.depth-nonzero, la.free-containing, la.live-at-unload.
 * Invariants: a list is in the set from init to delete, exactly once.
 * Not modelled: IRQL checks of init/delete (DDI compliance rules); la.entry-
 * foreign (the inline free cannot tell which list an entry came from).
 */
#include <stdlib.h>
#include <string.h>

#include <wdm.h>

#include "sys.h"

static const struct vf_rule la_rule_reinit = {
    .id = "la.reinit",
    .code = 0xC4,
    .p1 = 0xCA,
    .params = {"lookaside list", "reserved", "reserved"},
    .text = "a lookaside list that is still live (not deleted) is initialised again",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/la-reinit",
};

static const struct vf_rule la_rule_delete_uninit = {
    .id = "la.delete-uninit",
    .code = 0xC4,
    .p1 = 0xCB,
    .params = {"lookaside list", "reserved", "reserved"},
    .text = "a lookaside list that was never initialised (or already deleted) is deleted",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/la-delete-uninit",
};

static const struct vf_rule la_rule_free_containing = {
    .id = "la.free-containing",
    .code = 0xC4,
    .p1 = 0xCC,
    .params = {"lookaside list", "pool block", "block size"},
    .text = "pool is freed while it holds a live (undeleted) lookaside list",
    .option = vf_opt_misc,
    .fixture = "tests/fixtures/la-free-containing",
};

static const struct vf_rule la_rule_size_too_small = {
    .id = "la.size-too-small",
    .code = 0xC4,
    .p1 = 0xCD,
    .params = {"lookaside list", "requested entry size", "minimum (LOOKASIDE_MINIMUM_BLOCK_SIZE)"},
    .text = "a lookaside list's entry size is smaller than one SLIST link",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/la-size-too-small",
};

static const struct vf_rule la_rule_live_at_unload = {
    .id = "la.live-at-unload",
    .code = 0xC7,
    .p1 = 0x57000001,
    .params = {"lookaside list", "initialised from", "reserved"},
    .text = "the driver unloads with a lookaside list it never deleted",
    .option = vf_opt_os,
    .fixture = "tests/fixtures/la-live-at-unload",
};

static const struct vf_rule la_rule_depth_nonzero = {
    .id = "la.depth-nonzero",
    .code = 0xC4,
    .p1 = 0x5700000F,
    .params = {"lookaside list", "Depth passed", "reserved"},
    .text = "a lookaside list is initialised with Depth != 0 (reserved: must be 0; the system "
            "tunes the depth)",
    .option = vf_opt_auto,
    .continues = true,
    .fixture = "tests/fixtures/la-depth-nonzero",
};

const struct vf_rule *const ex_lookaside_vf_rules[ex_lookaside_vf_rule_count] = {
    &la_rule_reinit,         &la_rule_delete_uninit,  &la_rule_free_containing,
    &la_rule_size_too_small, &la_rule_live_at_unload, &la_rule_depth_nonzero,
};

/* ---- the system list ------------------------------------------------------- */

static struct ex_lookaside_rec *rec_find(struct ex_lookaside_set *set, const void *list)
{
    for (unsigned i = 0; i < set->count; i++)
        if (set->recs[i].list == list)
            return &set->recs[i];
    return NULL;
}

static void tick_event(void *arg);

/* The balance-set tick runs only while some list is live, so an idle
 * machine with no lists has no periodic event keeping its clock busy. */
static void tick_schedule(struct sys *sys)
{
    struct ex_lookaside_set *set = &sys->ex.lookaside;
    if (set->count && !set->tick_event)
        set->tick_event = vclock_schedule(&sys->machine.clock,
                                          sys->machine.clock.now + 1000000000ull, tick_event, sys);
}

static void tick_event(void *arg)
{
    struct sys *sys = arg;
    sys->ex.lookaside.tick_event = 0;
    ex_lookaside_tick(sys);
    tick_schedule(sys);
}

/* Returns false when host memory ran out (the list then works but is not
 * tuned or checked; said on stderr). */
static bool rec_add(struct sys *sys, void *list, uintptr_t caller, bool paged, bool ex)
{
    struct ex_lookaside_set *set = &sys->ex.lookaside;
    if (set->count == set->cap) {
        unsigned cap = set->cap ? set->cap * 2 : 16;
        struct ex_lookaside_rec *r = realloc(set->recs, cap * sizeof(*r));
        if (!r) {
            fprintf(stderr, "wdmsim: out of host memory recording lookaside list %p\n", list);
            return false;
        }
        set->recs = r;
        set->cap = cap;
    }
    set->recs[set->count++] = (struct ex_lookaside_rec){list, caller, paged, ex};
    ex_pool_gates(&sys->ex);
    tick_schedule(sys);
    return true;
}

static void rec_remove(struct sys *sys, struct ex_lookaside_rec *rec)
{
    struct ex_lookaside_set *set = &sys->ex.lookaside;
    unsigned i = (unsigned)(rec - set->recs);
    memmove(&set->recs[i], &set->recs[i + 1], (set->count - i - 1) * sizeof(*rec));
    set->count--;
    ex_pool_gates(&sys->ex);
    if (!set->count && set->tick_event) {
        vclock_cancel(&sys->machine.clock, set->tick_event);
        set->tick_event = 0;
    }
}

void ex_lookaside_fini(struct ex *ex)
{
    free(ex->lookaside.recs);
    memset(&ex->lookaside, 0, sizeof(ex->lookaside));
}

/* Depth 0 pins every entry to the pool: Driver Verifier does it with special
 * pool on, so that pool checks see every allocation (option lookaside.disable). */
unsigned ex_lookaside_minimum_depth(struct sys *sys)
{
    return (sys->vf.options & vf_opt_special_pool) ? 0 : 4;
}

/* ---- init ---------------------------------------------------------------------- */

/* The checks and field set-up shared by all three init routines. The body
 * is built in *l and copied into the list with memcpy, since the classic
 * lists hold it as the (cache-aligned) GENERAL_LOOKASIDE type. */
static void init_common(struct sys *sys, void *list, GENERAL_LOOKASIDE_POOL *l, SIZE_T size,
                        ULONG tag, USHORT depth, POOL_TYPE type)
{
    if (rec_find(&sys->ex.lookaside, list))
        vf_fire(&la_rule_reinit, (uintptr_t)list, 0, 0,
                "lookaside list %p is initialised again while live", list);
    if (size < LOOKASIDE_MINIMUM_BLOCK_SIZE || size > MAXULONG)
        vf_fire(&la_rule_size_too_small, (uintptr_t)list, size, LOOKASIDE_MINIMUM_BLOCK_SIZE,
                "lookaside list %p: entry size %llu (minimum %u, maximum 4 GiB - 1)", list,
                (unsigned long long)size, (unsigned)LOOKASIDE_MINIMUM_BLOCK_SIZE);
    if (depth != 0)
        vf_fire(&la_rule_depth_nonzero, (uintptr_t)list, depth, 0,
                "lookaside list %p initialised with Depth %u; it must be 0", list, depth);
    memset(l, 0, sizeof(*l));
    l->Depth = (USHORT)ex_lookaside_minimum_depth(sys);
    l->MaximumDepth = EX_MAXIMUM_LOOKASIDE_DEPTH_BASE;
    l->Type = type;
    l->Tag = tag;
    l->Size = (ULONG)size;
    /* Windows links ListEntry into its system list; ours is host-side, so
     * the entry is left as an empty ring. */
    PLIST_ENTRY self =
        (PLIST_ENTRY)((char *)list + FIELD_OFFSET(GENERAL_LOOKASIDE_POOL, ListEntry));
    l->ListEntry.Flink = l->ListEntry.Blink = self;
}

static VOID NTAPI default_free(PVOID Buffer)
{
    ExFreePool(Buffer);
}

NTKERNELAPI VOID NTAPI ExInitializeNPagedLookasideList(PNPAGED_LOOKASIDE_LIST Lookaside,
                                                       PALLOCATE_FUNCTION Allocate,
                                                       PFREE_FUNCTION Free, ULONG Flags,
                                                       SIZE_T Size, ULONG Tag, USHORT Depth)
{
    struct sys *sys = sys_get();
    uintptr_t caller = (uintptr_t)__builtin_return_address(0);
    GENERAL_LOOKASIDE_POOL body;
    init_common(sys, Lookaside, &body, Size, Tag, Depth, (POOL_TYPE)(NonPagedPool | Flags));
    memcpy(&Lookaside->L, &body, sizeof(body));
    Lookaside->L.Allocate = Allocate ? Allocate : ExAllocatePoolWithTag;
    Lookaside->L.Free = Free ? Free : default_free;
    rec_add(sys, Lookaside, caller, false, false);
}

NTKERNELAPI VOID NTAPI ExInitializePagedLookasideList(PPAGED_LOOKASIDE_LIST Lookaside,
                                                      PALLOCATE_FUNCTION Allocate,
                                                      PFREE_FUNCTION Free, ULONG Flags, SIZE_T Size,
                                                      ULONG Tag, USHORT Depth)
{
    struct sys *sys = sys_get();
    uintptr_t caller = (uintptr_t)__builtin_return_address(0);
    GENERAL_LOOKASIDE_POOL body;
    init_common(sys, Lookaside, &body, Size, Tag, Depth, (POOL_TYPE)(PagedPool | Flags));
    memcpy(&Lookaside->L, &body, sizeof(body));
    Lookaside->L.Allocate = Allocate ? Allocate : ExAllocatePoolWithTag;
    Lookaside->L.Free = Free ? Free : default_free;
    rec_add(sys, Lookaside, caller, true, false);
}

static PVOID NTAPI default_allocate_ex(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag,
                                       PLOOKASIDE_LIST_EX Lookaside)
{
    (void)Lookaside;
    return ExAllocatePoolWithTag(PoolType, NumberOfBytes, Tag);
}

static VOID NTAPI default_free_ex(PVOID Buffer, PLOOKASIDE_LIST_EX Lookaside)
{
    (void)Lookaside;
    ExFreePool(Buffer);
}

static bool pool_type_valid(POOL_TYPE t)
{
    switch ((int)t) {
    case NonPagedPool:
    case PagedPool:
    case NonPagedPoolCacheAligned:
    case PagedPoolCacheAligned:
    case NonPagedPoolNx:
    case NonPagedPoolNxCacheAligned:
        return true;
    default:
        return false;
    }
}

NTKERNELAPI NTSTATUS NTAPI ExInitializeLookasideListEx(PLOOKASIDE_LIST_EX Lookaside,
                                                       PALLOCATE_FUNCTION_EX Allocate,
                                                       PFREE_FUNCTION_EX Free, POOL_TYPE PoolType,
                                                       ULONG Flags, SIZE_T Size, ULONG Tag,
                                                       USHORT Depth)
{
    struct sys *sys = sys_get();
    uintptr_t caller = (uintptr_t)__builtin_return_address(0);
    if (!pool_type_valid(PoolType))
        return STATUS_INVALID_PARAMETER_4;
    const ULONG both =
        EX_LOOKASIDE_LIST_EX_FLAGS_RAISE_ON_FAIL | EX_LOOKASIDE_LIST_EX_FLAGS_FAIL_NO_RAISE;
    if ((Flags & ~both) || (Flags & both) == both ||
        ((Flags & EX_LOOKASIDE_LIST_EX_FLAGS_FAIL_NO_RAISE) && !Allocate))
        return STATUS_INVALID_PARAMETER_5;
    ULONG type = (ULONG)PoolType;
    if (Flags & EX_LOOKASIDE_LIST_EX_FLAGS_RAISE_ON_FAIL)
        type |= POOL_RAISE_IF_ALLOCATION_FAILURE;
    if (Flags & EX_LOOKASIDE_LIST_EX_FLAGS_FAIL_NO_RAISE)
        type |= POOL_QUOTA_FAIL_INSTEAD_OF_RAISE;
    GENERAL_LOOKASIDE_POOL body;
    init_common(sys, Lookaside, &body, Size, Tag, Depth, (POOL_TYPE)type);
    memcpy(&Lookaside->L, &body, sizeof(body));
    Lookaside->L.AllocateEx = Allocate ? Allocate : default_allocate_ex;
    Lookaside->L.FreeEx = Free ? Free : default_free_ex;
    rec_add(sys, Lookaside, caller, (PoolType & 1) && PoolType < MaxPoolType, true);
    return STATUS_SUCCESS;
}

/* ---- delete and flush -------------------------------------------------------- */

static void delete_common(void *list, SLIST_HEADER *head, const char *routine)
{
    struct sys *sys = sys_get();
    struct ex_lookaside_rec *rec = rec_find(&sys->ex.lookaside, list);
    if (!rec) {
        vf_fire(&la_rule_delete_uninit, (uintptr_t)list, 0, 0,
                "%s(%p): the list is not live (never initialised, or already deleted)", routine,
                list);
        return;
    }
    rec_remove(sys, rec);
    (void)head;
}

/* Hands the entries a list holds to its Free: as many as its Depth says.
 * An entry freed twice to the list, or a link written after the free, can
 * make the chain a cycle; bounded by the depth, emptying it ends (the
 * pool's Free then reports the double free). */
static void free_held(PGENERAL_LOOKASIDE l)
{
    PVOID e;
    for (unsigned n = ExQueryDepthSList(&l->ListHead);
         n && (e = InterlockedPopEntrySList(&l->ListHead)) != NULL; n--)
        l->Free(e);
}

NTKERNELAPI VOID NTAPI ExDeleteNPagedLookasideList(PNPAGED_LOOKASIDE_LIST Lookaside)
{
    delete_common(Lookaside, &Lookaside->L.ListHead, "ExDeleteNPagedLookasideList");
    free_held(&Lookaside->L);
}

NTKERNELAPI VOID NTAPI ExDeletePagedLookasideList(PPAGED_LOOKASIDE_LIST Lookaside)
{
    delete_common(Lookaside, &Lookaside->L.ListHead, "ExDeletePagedLookasideList");
    free_held(&Lookaside->L);
}

NTKERNELAPI VOID NTAPI ExFlushLookasideListEx(PLOOKASIDE_LIST_EX Lookaside)
{
    PVOID e;
    for (unsigned n = ExQueryDepthSList(&Lookaside->L.ListHead);
         n && (e = InterlockedPopEntrySList(&Lookaside->L.ListHead)) != NULL; n--)
        Lookaside->L.FreeEx(e, Lookaside);
}

NTKERNELAPI VOID NTAPI ExDeleteLookasideListEx(PLOOKASIDE_LIST_EX Lookaside)
{
    delete_common(Lookaside, &Lookaside->L.ListHead, "ExDeleteLookasideListEx");
    ExFlushLookasideListEx(Lookaside);
}

/* ---- verifier hooks ------------------------------------------------------------ */

void ex_lookaside_check_free(struct sys *sys, const void *va, uint64_t bytes)
{
    struct ex_lookaside_set *set = &sys->ex.lookaside;
    uintptr_t lo = (uintptr_t)va, hi = lo + bytes;
    for (unsigned i = 0; i < set->count; i++) {
        uintptr_t l = (uintptr_t)set->recs[i].list;
        if (l >= lo && l < hi)
            vf_fire(&la_rule_free_containing, l, lo, bytes,
                    "pool block %p (%llu bytes) is freed while it holds live lookaside list %p", va,
                    (unsigned long long)bytes, set->recs[i].list);
    }
}

void ex_lookaside_check_unload(struct sys *sys, uintptr_t lo, uintptr_t hi)
{
    struct ex_lookaside_set *set = &sys->ex.lookaside;
    for (unsigned i = 0; i < set->count; i++) {
        const struct ex_lookaside_rec *r = &set->recs[i];
        uintptr_t l = (uintptr_t)r->list;
        if ((r->caller >= lo && r->caller < hi) || (l >= lo && l < hi)) {
            char where[256];
            vf_backtrace_describe((void *)r->caller, where, sizeof(where));
            vf_fire(&la_rule_live_at_unload, l, r->caller, 0,
                    "lookaside list %p, initialised from %s, was never deleted", r->list, where);
        }
    }
}
