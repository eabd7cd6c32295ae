/*
 * src/ex/pool.c - ExAllocatePool* / ExFreePool*: the WDK entry points.
 *
 * Models: spec/memory.md 4. Each entry point checks its arguments against
 * the pool rules of spec/verifier.md 1 (type, IRQL, tag, size), asks the
 * low-resources simulation, then takes the block from special pool (a
 * driver's sub-page block while the option is on, or when asked for), big
 * pool (above PAGE_SIZE - 32 bytes, or cache-aligned blocks that would not
 * fit a page with their alignment slack) or the small-block heap, counts it
 * by tag and driver, and fills it: zeroes for ExAllocatePool2, else a
 * seeded non-zero byte while the verifier tracks pool (missing
 * initialisation shows), else nothing.
 * Decisions: the free-path rules (bad address, mid-block, double free,
 * wrong tag) are always checked, with the verifier's codes, because the
 * allocator depends on them; pool.executable needs the code-integrity
 * option (Windows raises it only under DV's code integrity checks).
 * Not modelled: quota charging (recorded in the header only); ExRaiseStatus
 * under __try (gcc has no SEH: a raise is an unhandled exception, 0x1E).
 */
#include <string.h>

#include <wdm.h>

#include "ex/pool_impl.h"
#include "sys.h"

/* ---- rules -------------------------------------------------------------------- */

const struct vf_rule ex_rule_zero_size = {.id = "pool.zero-size",
                                          .code = 0xC4,
                                          .p1 = 0x00,
                                          .params = {"IRQL", "pool type", "bytes (0)"},
                                          .text = "pool allocation of zero bytes",
                                          .option = vf_opt_auto,
                                          .fixture = "tests/fixtures/pool-zero-size"};
const struct vf_rule ex_rule_paged_above_apc = {.id = "pool.paged-above-apc",
                                                .code = 0xC4,
                                                .p1 = 0x01,
                                                .params = {"IRQL", "pool type", "bytes"},
                                                .text =
                                                    "paged pool allocated at IRQL above APC_LEVEL",
                                                .option = vf_opt_auto,
                                                .fixture = "tests/fixtures/pool-paged-above-apc"};
const struct vf_rule ex_rule_nonpaged_above_dispatch = {
    .id = "pool.nonpaged-above-dispatch",
    .code = 0xC4,
    .p1 = 0x02,
    .params = {"IRQL", "pool type", "bytes"},
    .text = "nonpaged pool allocated at IRQL above DISPATCH_LEVEL",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/pool-nonpaged-above-dispatch"};
const struct vf_rule ex_rule_must_succeed = {.id = "pool.must-succeed",
                                             .code = 0xC2,
                                             .p1 = 0x9A,
                                             .params = {"pool type", "bytes", "tag"},
                                             .text = "MustSucceed pool types are not allowed",
                                             .option = vf_opt_auto,
                                             .fixture = "tests/fixtures/pool-must-succeed"};
const struct vf_rule ex_rule_tag_zero = {.id = "pool.tag-zero",
                                         .code = 0xC2,
                                         .p1 = 0x9B,
                                         .params = {"pool type", "bytes", "caller"},
                                         .text = "pool allocation with tag 0",
                                         .option = vf_opt_auto,
                                         .fixture = "tests/fixtures/pool-tag-zero"};
const struct vf_rule ex_rule_tag_big = {.id = "pool.tag-big",
                                        .code = 0xC2,
                                        .p1 = 0x9C,
                                        .params = {"pool type", "bytes", "caller"},
                                        .text = "pool allocation with the reserved tag \"BIG \"",
                                        .option = vf_opt_auto,
                                        .fixture = "tests/fixtures/pool-tag-big"};
const struct vf_rule ex_rule_tag_chars = {
    .id = "pool.tag-chars",
    .code = 0xC2,
    .p1 = 0x9D,
    .params = {"tag", "pool type", "caller"},
    .text = "pool tag with no letter or digit, or a byte outside 0x20..0x7E",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/pool-tag-chars"};
const struct vf_rule ex_rule_bad_type = {
    .id = "pool.bad-type",
    .code = 0xC2,
    .p1 = 0x57000001,
    .params = {"pool type", "bytes", "caller"},
    .text = "DontUseThisType, a session pool type or an unknown pool type",
    .option = vf_opt_os,
    .fixture = "tests/fixtures/pool-bad-type"};
const struct vf_rule ex_rule_free_bad_address = {
    .id = "pool.free-bad-address",
    .code = 0xC4,
    .p1 = 0x10,
    .params = {"address", "reserved", "reserved"},
    .text = "ExFreePool of an address no pool allocator returned",
    .option = vf_opt_os,
    .fixture = "tests/fixtures/pool-free-bad-address"};
const struct vf_rule ex_rule_free_mid_block = {
    .id = "pool.free-mid-block",
    .code = 0xC2,
    .p1 = 0x41286,
    .params = {"address", "reserved", "offset in its page"},
    .text = "ExFreePool of an address inside a pool block, not its start",
    .option = vf_opt_os,
    .fixture = "tests/fixtures/pool-free-mid-block"};
const struct vf_rule ex_rule_free_paged_above_apc = {
    .id = "pool.free-paged-above-apc",
    .code = 0xC4,
    .p1 = 0x11,
    .params = {"IRQL", "pool type", "address"},
    .text = "paged pool freed at IRQL above APC_LEVEL",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/pool-free-paged-above-apc"};
const struct vf_rule ex_rule_free_nonpaged_above_dispatch = {
    .id = "pool.free-nonpaged-above-dispatch",
    .code = 0xC4,
    .p1 = 0x12,
    .params = {"IRQL", "pool type", "address"},
    .text = "nonpaged pool freed at IRQL above DISPATCH_LEVEL",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/pool-free-nonpaged-above-dispatch"};
const struct vf_rule ex_rule_double_free = {
    .id = "pool.double-free",
    .code = 0xC4,
    .p1 = 0x13,
    .params = {"reserved", "pool header", "header contents"},
    .text = "ExFreePool of a block that is already free",
    .option = vf_opt_os,
    .fixture = "tests/fixtures/pool-double-free"};
const struct vf_rule ex_rule_free_wrong_tag = {
    .id = "pool.free-wrong-tag",
    .code = 0xC2,
    .p1 = 0x0A,
    .params = {"address", "tag of the allocation", "tag used to free"},
    .text = "ExFreePoolWithTag with a tag other than the allocation's",
    .option = vf_opt_os,
    .fixture = "tests/fixtures/pool-free-wrong-tag"};
const struct vf_rule ex_rule_executable = {
    .id = "pool.executable",
    .code = 0xC4,
    .p1 = 0x2000,
    .params = {"caller", "pool type", "tag"},
    .text = "executable pool type (NonPagedPool); use NonPagedPoolNx",
    .option = vf_opt_code_integrity,
    .fixture = "tests/fixtures/pool-executable"};
const struct vf_rule ex_rule_header_corrupt = {
    .id = "pool.header-corrupt",
    .code = 0x19,
    .p1 = 0x20,
    .params = {"pool entry", "next pool entry", "reserved"},
    .text = "a pool block header is corrupt (the block before it was overrun)",
    .option = vf_opt_os,
    .fixture = "tests/fixtures/pool-header-corrupt"};

/* ---- allocation ------------------------------------------------------------------- */

enum how {
    how_plain = 0,
    how_quota = 1,   /* ExAllocatePoolWithQuota*: raises unless told not to */
    how_zero = 2,    /* ExAllocatePool2/3 */
    how_special = 4, /* POOL_FLAG_SPECIAL_POOL */
    how_pool2 = 8,   /* ExAllocatePool2/3: a bad tag fails the call instead */
};

static _Noreturn void raise_no_memory(void *caller, uint64_t bytes)
{
    ke_bugcheck(0x1E, (uint64_t)(uint32_t)STATUS_INSUFFICIENT_RESOURCES,
                (uint64_t)(uintptr_t)caller, 0, 0, NULL,
                "the pool raised STATUS_INSUFFICIENT_RESOURCES (%llu bytes) and no handler "
                "caught it (KMODE_EXCEPTION_NOT_HANDLED)",
                (unsigned long long)bytes);
}

/* Decodes a POOL_TYPE; false (and a rule fired) when it is refused. */
static bool decode_type(struct ex_req *r, ULONG type, SIZE_T bytes, ULONG tag, bool *raise,
                        bool *quota_fail)
{
    ULONG t = type;
    *raise = t & POOL_RAISE_IF_ALLOCATION_FAILURE;
    *quota_fail = t & POOL_QUOTA_FAIL_INSTEAD_OF_RAISE;
    t &= ~(ULONG)(POOL_RAISE_IF_ALLOCATION_FAILURE | POOL_QUOTA_FAIL_INSTEAD_OF_RAISE |
                  POOL_COLD_ALLOCATION);
    bool nx = t & POOL_NX_ALLOCATION;
    t &= ~(ULONG)POOL_NX_ALLOCATION;
    if (t > 7 || t == DontUseThisType || t == MaxPoolType) {
        vf_fire(&ex_rule_bad_type, type, bytes, (uint64_t)(uintptr_t)r->caller,
                "pool type %u (%#x) is not one a driver may use", (unsigned)type, (unsigned)type);
        return false;
    }
    if (t == NonPagedPoolMustSucceed || t == NonPagedPoolCacheAlignedMustS) {
        vf_fire(&ex_rule_must_succeed, type, bytes, tag,
                "pool type %u is a MustSucceed type, which drivers may not use", (unsigned)type);
        return false;
    }
    r->kind = (t & 1) ? ex_kind_paged : nx ? ex_kind_nx : ex_kind_nonpaged;
    r->cache_aligned = t & 4;
    return true;
}

/* True when the tag passed every tag rule. */
static bool check_tag(const struct ex_req *r, ULONG type)
{
    uint32_t tag = r->tag & ~(uint32_t)PROTECTED_POOL;
    bool alnum;
    if (tag == 0)
        vf_fire(&ex_rule_tag_zero, type, r->bytes, (uint64_t)(uintptr_t)r->caller, "pool tag 0");
    else if (tag == 0x20474942) /* "BIG " */
        vf_fire(&ex_rule_tag_big, type, r->bytes, (uint64_t)(uintptr_t)r->caller,
                "pool tag \"BIG \" is reserved for big-pool tracking");
    else if (!ex_tag_valid_chars(tag, &alnum) || !alnum)
        vf_fire(&ex_rule_tag_chars, r->tag, type, (uint64_t)(uintptr_t)r->caller,
                "pool tag %#x has no letter or digit, or a byte outside 0x20..0x7E", r->tag);
    else
        return true;
    return false;
}

static void check_irql(struct sys *sys, const struct ex_req *r, ULONG type)
{
    uint8_t irql = ke_irql(&sys->ke);
    if (r->kind == ex_kind_paged && irql > APC_LEVEL)
        vf_fire(&ex_rule_paged_above_apc, irql, type, r->bytes,
                "paged pool allocation of %llu bytes at IRQL %u", (unsigned long long)r->bytes,
                irql);
    else if (irql > DISPATCH_LEVEL)
        vf_fire(&ex_rule_nonpaged_above_dispatch, irql, type, r->bytes,
                "nonpaged pool allocation of %llu bytes at IRQL %u", (unsigned long long)r->bytes,
                irql);
}

/* The common path: r is decoded and checked. NULL on no memory. */
static void *pool_take(struct sys *sys, struct ex_req *r)
{
    struct ex *ex = &sys->ex;
    struct ex_cache *c = ex_cache_get(ex);
    uint64_t occupied;
    void *p = NULL;
    if (r->special && r->bytes <= ex->page_size) {
        if ((p = ex_special_alloc(ex, r)))
            occupied = ex->page_size;
    }
    if (!p) {
        uint64_t need = r->bytes + (r->cache_aligned ? 3 * ex_unit : 0);
        if (need > ex->small_max) {
            if ((p = ex_big_alloc(ex, r, c->heap)))
                occupied = ((r->bytes + ex->page_size - 1) >> ex->page_shift) << ex->page_shift;
        } else {
            p = ex_small_alloc(ex, c, r, &occupied);
        }
    }
    if (!p)
        return NULL;
    ex_track(ex, c, r->tag, r->kind, r->owner, (int64_t)occupied, true);
    if (r->zero)
        memset(p, 0, r->bytes);
    else if (sys->vf.options & (vf_opt_pool_tracking | vf_opt_special_pool))
        memset(p, ex->fill, r->bytes);
    return p;
}

static __attribute__((ms_abi, noinline)) void fill_block(void *p, uint8_t fill, uint64_t bytes)
{
    memset(p, fill, bytes);
}

/* The common case in one pass: a small block of NonPagedPool, NonPagedPoolNx
 * or PagedPool, with the tag that passed the tag rules last on this cache,
 * at an IRQL the kind allows, ex->alloc_gate closed, and a block of that
 * size parked in the cache. NULL: take the full path (which checks
 * everything again and reports what is wrong).
 * The entry points are ms_abi: every call they make on any path to a sysv
 * function makes gcc save xmm6-15, rsi and rdi in their prologue (about 25
 * moves per call), so whatever this path calls out of line is ms_abi too
 * (fill_block, pool_alloc, check_free_*, ex_owner_of_slow, ex_track, ex_cache_flush...). */
static inline __attribute__((always_inline)) void *alloc_fast(struct sys *sys, ULONG type,
                                                              SIZE_T bytes, ULONG tag, void *caller)
{
    struct ex *ex = &sys->ex;
    if ((type & ~(ULONG)(POOL_NX_ALLOCATION | PagedPool)) || bytes - 1 >= ex->small_max ||
        ex->alloc_gate)
        return NULL;
    enum ex_kind kind = (type & PagedPool)            ? ex_kind_paged
                        : (type & POOL_NX_ALLOCATION) ? ex_kind_nx
                                                      : ex_kind_nonpaged;
    if (ke_irql(&sys->ke) > (kind == ex_kind_paged ? APC_LEVEL : DISPATCH_LEVEL))
        return NULL;
    struct ex_cache *c = ex_cache_get(ex);
    if (tag != c->tag_ok) /* never 0 nor any other tag the rules refuse */
        return NULL;
    unsigned u = ex->unit_class[1 + (bytes + ex_unit - 1) / ex_unit];
    struct ex_cache_kind *ck = &c->kind[kind];
    bool bad = false;
    struct ex_hdr *h = ex_cache_take(ex, ck, u, &bad);
    if (!h)
        return NULL; /* empty, or bad: the full path reports it */
    uint16_t owner = ex_owner_of(ex, caller);
    h->type = (uint8_t)(ex_hdr_busy | kind);
    h->tag = tag;
    h->owner = owner;
    h->slack = (uint16_t)((u - 1) * ex_unit - bytes);
    ex_mark_live(ex, h, u, tag, owner);
    if (!ex_count_fast(c, tag, kind, owner, (int64_t)u * ex_unit, true))
        ex_track(ex, c, tag, kind, owner, (int64_t)u * ex_unit, true);
    if (__builtin_expect(ex->alloc_fill, 0))
        fill_block(h + 1, ex->fill, bytes);
    return h + 1;
}

static __attribute__((ms_abi, noinline)) void *pool_alloc(ULONG type, SIZE_T bytes, ULONG tag,
                                                          unsigned how, int special, void *caller)
{
    struct sys *sys = sys_get();
    struct ex *ex = &sys->ex;
    struct ex_req r = {.bytes = bytes, .tag = tag, .caller = caller, .special = special};
    bool raise, quota_fail;
    r.owner = ex_owner_of(ex, caller);
    if (!decode_type(&r, type, bytes, tag, &raise, &quota_fail))
        return NULL;
    r.quota = how & how_quota;
    if (r.quota && !quota_fail)
        raise = true;
    r.zero = how & how_zero;
    if (r.owner && (sys->vf.options & vf_opt_special_pool) && !r.special)
        r.special = 1;
    if (how & how_special)
        r.special = r.special ? r.special : 1;
    if (r.special && r.bytes <= ex->page_size)
        ex_special_check_irql(ex, true, r.kind, type, bytes);
    check_irql(sys, &r, type);
    if (!(how & how_pool2)) {
        struct ex_cache *c = ex_cache_get(ex);
        if (tag != c->tag_ok && check_tag(&r, type))
            c->tag_ok = tag;
    }
    if (bytes == 0)
        vf_fire(&ex_rule_zero_size, ke_irql(&sys->ke), type, 0,
                "zero-byte pool allocation (tag %.4s)", (const char *)&r.tag);
    if (r.kind == ex_kind_nonpaged)
        vf_fire(&ex_rule_executable, (uint64_t)(uintptr_t)caller, type, tag,
                "pool type %u is executable", (unsigned)type);
    void *p = NULL;
    if (bytes <= (sys->mm.machine->pfn.ram_frames << ex->page_shift) &&
        !vf_low_resources_fail(sys, how & how_pool2 ? "ExAllocatePool2" : "ExAllocatePoolWithTag",
                               tag, caller))
        p = pool_take(sys, &r);
    if (!p && raise)
        raise_no_memory(caller, bytes);
    return p;
}

NTKERNELAPI PVOID NTAPI ExAllocatePoolWithTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    void *caller = __builtin_return_address(0);
    void *p = alloc_fast(sys_get(), (ULONG)PoolType, NumberOfBytes, Tag, caller);
    if (__builtin_expect(p != NULL, 1))
        return p;
    return pool_alloc((ULONG)PoolType, NumberOfBytes, Tag, how_plain, 0, caller);
}

NTKERNELAPI PVOID NTAPI ExAllocatePool(POOL_TYPE PoolType, SIZE_T NumberOfBytes)
{
    return pool_alloc((ULONG)PoolType, NumberOfBytes, 0x656e6f4e /* "None" */, how_plain, 0,
                      __builtin_return_address(0));
}

NTKERNELAPI PVOID NTAPI ExAllocatePoolWithQuotaTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes,
                                                   ULONG Tag)
{
    return pool_alloc((ULONG)PoolType, NumberOfBytes, Tag, how_quota, 0,
                      __builtin_return_address(0));
}

NTKERNELAPI PVOID NTAPI ExAllocatePoolWithQuota(POOL_TYPE PoolType, SIZE_T NumberOfBytes)
{
    return pool_alloc((ULONG)PoolType, NumberOfBytes, 0x656e6f4e, how_quota, 0,
                      __builtin_return_address(0));
}

NTKERNELAPI PVOID NTAPI ExAllocatePoolWithTagPriority(POOL_TYPE PoolType, SIZE_T NumberOfBytes,
                                                      ULONG Tag, EX_POOL_PRIORITY Priority)
{
    /* +8 overrun (verify end), +9 underrun (verify start), only while
     * special pool is on, as on Windows. */
    int special = 0;
    if (sys_get()->vf.options & vf_opt_special_pool)
        special = (Priority & 15) == 8 ? 1 : (Priority & 15) == 9 ? 2 : 0;
    return pool_alloc((ULONG)PoolType, NumberOfBytes, Tag, how_plain, special,
                      __builtin_return_address(0));
}

/* ExAllocatePool2's flags to a POOL_TYPE; false when refused. */
static bool pool2_type(POOL_FLAGS flags, ULONG *type)
{
    const POOL_FLAGS known = POOL_FLAG_USE_QUOTA | POOL_FLAG_UNINITIALIZED |
                             POOL_FLAG_CACHE_ALIGNED | POOL_FLAG_RAISE_ON_FAILURE |
                             POOL_FLAG_NON_PAGED | POOL_FLAG_NON_PAGED_EXECUTE | POOL_FLAG_PAGED;
    if ((flags & 0xFFFFFFFFULL) & ~known)
        return false; /* unknown, reserved or session: required bits we cannot honour */
    POOL_FLAGS kind = flags & (POOL_FLAG_NON_PAGED | POOL_FLAG_NON_PAGED_EXECUTE | POOL_FLAG_PAGED);
    if (kind == POOL_FLAG_NON_PAGED)
        *type = NonPagedPoolNx;
    else if (kind == POOL_FLAG_NON_PAGED_EXECUTE)
        *type = NonPagedPool;
    else if (kind == POOL_FLAG_PAGED)
        *type = PagedPool;
    else
        return false;
    if (flags & POOL_FLAG_CACHE_ALIGNED)
        *type |= 4;
    return true;
}

static void *pool2(POOL_FLAGS flags, SIZE_T bytes, ULONG tag, int special, void *caller)
{
    ULONG type;
    bool raise = flags & POOL_FLAG_RAISE_ON_FAILURE;
    if (!pool2_type(flags, &type) || tag == 0) {
        if (raise)
            raise_no_memory(caller, bytes);
        return NULL;
    }
    if (raise)
        type |= POOL_RAISE_IF_ALLOCATION_FAILURE;
    unsigned how = (flags & POOL_FLAG_UNINITIALIZED) ? how_plain : how_zero;
    if (flags & POOL_FLAG_USE_QUOTA)
        how |= how_quota, type |= raise ? 0 : POOL_QUOTA_FAIL_INSTEAD_OF_RAISE;
    if (flags & POOL_FLAG_SPECIAL_POOL)
        how |= how_special;
    return pool_alloc(type, bytes, tag, how | how_pool2, special, caller);
}

NTKERNELAPI PVOID NTAPI ExAllocatePool2(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag)
{
    return pool2(Flags, NumberOfBytes, Tag, 0, __builtin_return_address(0));
}

NTKERNELAPI PVOID NTAPI ExAllocatePool3(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag,
                                        PCPOOL_EXTENDED_PARAMETER ExtendedParameters,
                                        ULONG ExtendedParametersCount)
{
    void *caller = __builtin_return_address(0);
    int special = 0;
    if (ExtendedParametersCount && !ExtendedParameters)
        return NULL;
    for (ULONG i = 0; i < ExtendedParametersCount; i++) {
        const POOL_EXTENDED_PARAMETER *x = &ExtendedParameters[i];
        switch (x->Type) {
        case PoolExtendedParameterPriority:
            if ((sys_get()->vf.options & vf_opt_special_pool) && (x->Priority & 15) >= 8)
                special = (x->Priority & 15) == 9 ? 2 : 1;
            break;
        case PoolExtendedParameterNumaNode:
            break; /* one node */
        default:
            if (!x->Optional) {
                if (Flags & POOL_FLAG_RAISE_ON_FAILURE)
                    raise_no_memory(caller, NumberOfBytes);
                return NULL; /* secure pool and unknown types are not modelled */
            }
        }
    }
    return pool2(Flags, NumberOfBytes, Tag, special, caller);
}

/* ---- release ------------------------------------------------------------------------ */

static __attribute__((ms_abi, noinline)) void check_free_irql(struct sys *sys, enum ex_kind kind,
                                                              void *p)
{
    uint8_t irql = ke_irql(&sys->ke);
    ULONG type = kind == ex_kind_paged ? PagedPool : kind == ex_kind_nx ? NonPagedPoolNx : 0;
    if (kind == ex_kind_paged && irql > APC_LEVEL)
        vf_fire(&ex_rule_free_paged_above_apc, irql, type, (uint64_t)(uintptr_t)p,
                "paged pool block %p freed at IRQL %u", p, irql);
    else if (irql > DISPATCH_LEVEL)
        vf_fire(&ex_rule_free_nonpaged_above_dispatch, irql, type, (uint64_t)(uintptr_t)p,
                "nonpaged pool block %p freed at IRQL %u", p, irql);
}

/* Tag 0 (ExFreePool) skips the check unless the block is protected. */
static __attribute__((ms_abi, noinline)) void check_free_tag(void *p, uint32_t have, uint32_t given)
{
    if ((given || (have & PROTECTED_POOL)) && have != given)
        vf_fire(&ex_rule_free_wrong_tag, (uint64_t)(uintptr_t)p, have, given,
                "block %p was allocated with tag %.4s and freed with tag %.4s", p,
                (const char *)&have, (const char *)&given);
}

static __attribute__((ms_abi, noinline)) void check_lookasides(struct sys *sys, const void *p,
                                                               uint64_t bytes)
{
    ex_lookaside_check_free(sys, p, bytes);
}

/* Big pool, special pool and bad addresses (pm: p's page_map byte). */
static __attribute__((ms_abi, noinline)) void pool_free_other(struct sys *sys, void *p,
                                                              uint32_t tag, uint8_t pm)
{
    struct ex *ex = &sys->ex;
    if (pm >= ex_pm_big && pm < ex_pm_big + ex_kind_count) {
        struct ex_big b;
        if (((uintptr_t)p & (ex->page_size - 1)) || !ex_big_lookup(ex, (uintptr_t)p, &b)) {
            vf_fire(&ex_rule_free_mid_block, (uint64_t)(uintptr_t)p, 0,
                    (uint64_t)((uintptr_t)p & (ex->page_size - 1)),
                    "%p is inside a big pool block, not its start", p);
            return;
        }
        check_free_irql(sys, b.kind, p);
        check_free_tag(p, b.tag, tag);
        ex_lookaside_check_free(sys, p, b.bytes);
        ex_track(ex, ex_cache_get(ex), b.tag, b.kind, b.owner,
                 (int64_t)((uint64_t)b.pages << ex->page_shift), false);
        ex_big_free(ex, (uintptr_t)p);
        return;
    }
    if (pm == ex_pm_big_tail) {
        vf_fire(&ex_rule_free_mid_block, (uint64_t)(uintptr_t)p, 0,
                (uint64_t)((uintptr_t)p & (ex->page_size - 1)),
                "%p is inside a big pool block, not its start", p);
        return;
    }
    if (pm == ex_pm_big_freed) {
        vf_fire(&ex_rule_double_free, 0, (uint64_t)(uintptr_t)p, 0,
                "the big pool block at %p was already freed", p);
        return;
    }
    if (ex_special_owns(ex, p)) {
        struct ex_special *s = ex_special_lookup(ex, p);
        if (!s)
            return;
        ex_special_check_irql(ex, false, s->kind, s->kind == ex_kind_paged ? 1 : 0,
                              (uint64_t)(uintptr_t)p);
        check_free_irql(sys, s->kind, p);
        check_free_tag(p, s->tag, tag);
        ex_lookaside_check_free(sys, p, s->bytes);
        ex_track(ex, ex_cache_get(ex), s->tag, s->kind, s->owner, (int64_t)ex->page_size, false);
        ex_special_free(ex, s, p);
        return;
    }
    vf_fire(&ex_rule_free_bad_address, (uint64_t)(uintptr_t)p, 0, 0,
            "%p was not returned by a pool allocator", p);
}

/* The full path for a small block: p is in a small-pool page but the page
 * bits did not vouch for it (not a live block's start, a page with several
 * tags, a cache-aligned block), or the fast path leaves it to the full
 * checks (IRQL, live lookaside lists, tracing). */
static __attribute__((ms_abi, noinline)) void pool_free_small(struct sys *sys, void *p,
                                                              uint32_t tag, void *caller)
{
    struct ex *ex = &sys->ex;
    struct ex_hdr *h = (struct ex_hdr *)p - 1;
    /* p in a page's first two units: h would be the page header or in the
     * page before, which may be another kind's or not mapped. */
    if (((uintptr_t)p & (ex_unit - 1)) || ((uintptr_t)p & (ex->page_size - 1)) < 2 * ex_unit ||
        h->cookie != hdr_cookie(ex, h) || (h->type & (ex_hdr_busy | ex_hdr_pad)) != ex_hdr_busy) {
        if (!(h = ex_small_header(ex, p)))
            return;
    }
    if (!ex_hdr_live(ex, h)) {
        /* its header may still say busy: the fast free parks a block
         * without reading it */
        vf_fire(&ex_rule_double_free, 0, (uint64_t)(uintptr_t)h, *(uint64_t *)h,
                "the pool block at %p was already freed", p);
        return;
    }
    if ((h->type & ex_hdr_padded) && (struct ex_hdr *)p == h + 1) {
        vf_fire(&ex_rule_free_mid_block, (uint64_t)(uintptr_t)p, 0,
                (uint64_t)((uintptr_t)p & (ex->page_size - 1)),
                "%p is inside the cache-aligned pool block whose header is at %p: the block "
                "starts at the 64-byte boundary after its pad",
                p, (void *)h);
        return;
    }
    enum ex_kind kind = ex_small_kind(ex, h);
    if (!ex_hdr_sane(ex, h, kind)) {
        vf_fire(&ex_rule_header_corrupt, (uint64_t)(uintptr_t)h,
                (uint64_t)(uintptr_t)((uint8_t *)h + (size_t)hdr_size(h) * ex_unit), 0,
                "the pool header at %p is corrupt (type %#x, %u units, previous %u, owner %u): "
                "a block before it was overrun [freeing %p]",
                (void *)h, h->type, hdr_size(h), hdr_prev(h), h->owner, p);
        return;
    }
    unsigned u = hdr_size(h);
    check_free_irql(sys, kind, p);
    if (h->tag != tag)
        check_free_tag(p, h->tag, tag);
    /* ex_lookaside_check_free looks for live lists inside the block: none
     * when no list is live. */
    if (ex->lookaside.count)
        check_lookasides(sys, p, (uint64_t)(u - 1) * ex_unit - h->slack);
    if (!ex_unmark(ex, h)) {
        vf_fire(&ex_rule_double_free, 0, (uint64_t)(uintptr_t)h, *(uint64_t *)h,
                "the pool block at %p was freed twice at once", p);
        return;
    }
    /* A cache-aligned block's pad header stays in the freed body with its
     * cookie: a later free or ex_pool_block_bytes of that address would
     * take it for a live pad and follow its prev field, by then
     * overwritten by the cache's list link, into another block. */
    if ((struct ex_hdr *)p != h + 1)
        ((struct ex_hdr *)p - 1)->cookie = ~hdr_cookie(ex, (struct ex_hdr *)p - 1);
    h->type &= (uint8_t)~ex_hdr_padded; /* parked blocks are plain busy */
    struct ex_cache *c = ex_cache_get(ex);
    ex_track_fast(ex, c, h->tag, kind, h->owner, (int64_t)u * ex_unit, false);
    ex_cache_push(ex, &c->kind[kind], kind, h, u, caller);
}

/* Every free the fast path below does not finish: big and special pool,
 * bad addresses, and small blocks it leaves to the full checks. */
static __attribute__((ms_abi, noinline)) void pool_free_slow(struct sys *sys, void *p, uint32_t tag,
                                                             void *caller)
{
    struct ex *ex = &sys->ex;
    uint8_t *base = sys->mm.system.base;
    uint8_t pm = ex_pm_none;
    if ((uint8_t *)p >= base && (uint8_t *)p < base + sys->mm.system.bytes)
        pm = ex_pm_get(ex, (uint64_t)((uint8_t *)p - base) >> ex->page_shift);
    if (pm < ex_pm_small || pm >= ex_pm_small + ex_kind_count)
        pool_free_other(sys, p, tag, pm);
    else
        pool_free_small(sys, p, tag, caller);
}

/* The fast free's end when the cache's last tag is not the block's: count
 * it in full, then park it (out of line, as the rest of the count is). */
static __attribute__((ms_abi, noinline)) void
free_park(struct ex *ex, struct ex_hdr *h, enum ex_kind kind, struct ex_freed f, void *caller)
{
    struct ex_cache *c = ex_cache_get(ex);
    ex_track(ex, c, f.tag, kind, (uint16_t)f.owner, (int64_t)f.units * ex_unit, false);
    ex_cache_push(ex, &c->kind[kind], kind, h, f.units, caller);
}

/* Inlined into each ms_abi entry point: see alloc_fast on what it calls.
 * Reading a block's header is a cache and TLB miss when the block was not
 * touched lately (most frees of long-lived blocks), and the CPU cannot
 * retire past it. So with the verifier's pool tracking off, the common
 * path does not read the block: the page record (host side, 32 bytes a
 * page) says whether p is a live block's start, its size, and, while all
 * live blocks of its page share one tag and driver, which they are (a
 * page with many small blocks keeps a bitmap instead, and the size comes
 * from the header, checked by its cookie). Double free, wrong tag, bad and
 * mid-block addresses are reported, and the free counted, in this call;
 * the block is parked on its cache list without a store into it (a store
 * to a cold line would hold up every later store until the miss is
 * served). Its header is checked when it is handed out again or coalesced
 * (ex_parked_ok): a header an overrun destroyed is reported then, as
 * Windows finds such headers when it next walks them, and the report names
 * this call, whose return address the cache list keeps. With pool tracking
 * on (verifier standard) every free reads and checks its header at once;
 * so does every free of paged pool. What sends every free to the full
 * path is one byte, ex->free_gate (pool_init.c: ex_pool_gates). */
static inline __attribute__((always_inline)) void pool_free(void *p, uint32_t tag, void *caller)
{
    struct sys *sys = sys_get();
    struct ex *ex = &sys->ex;
    uint64_t off = (uint64_t)((uint8_t *)p - sys->mm.system.base);
    uint64_t idx = off >> ex->page_shift;
    unsigned in = (unsigned)off & (unsigned)(ex->page_size - 1);
    /* a small block of NonPagedPool or NonPagedPoolNx, its start 16-byte
     * aligned past the page header, no free-path option on */
    if (__builtin_expect(idx >= ex->page_map_len ||
                             !((ex_pm_fast_free >> (ex->page_map[idx] & 31)) & 1) ||
                             (in & (ex_unit - 1)) || in < 2 * ex_unit || ex->free_gate ||
                             ke_irql(&sys->ke) > DISPATCH_LEVEL,
                         0)) {
        pool_free_slow(sys, p, tag, caller);
        return;
    }
    enum ex_kind kind = (enum ex_kind)(ex->page_map[idx] - ex_pm_small);
    struct ex_hdr *h = (struct ex_hdr *)p - 1;
    struct ex_freed f;
    if (__builtin_expect(!ex_unmark_fast(ex, idx, h, tag, kind, &f), 0)) {
        pool_free_small(sys, p, tag, caller);
        return;
    }
    /* the block's header is read when the block is handed out again,
     * which a LIFO list makes soon (without this the random benchmark
     * takes 1.4x as long) */
    __builtin_prefetch(h, 1);
    struct ex_cache *c = ex_cache_get(ex);
    if (__builtin_expect(
            !ex_count_fast(c, f.tag, kind, (uint16_t)f.owner, (int64_t)f.units * ex_unit, false),
            0)) {
        free_park(ex, h, kind, f, caller);
        return;
    }
    ex_cache_push(ex, &c->kind[kind], kind, h, f.units, caller);
}

NTKERNELAPI VOID NTAPI ExFreePoolWithTag(PVOID P, ULONG Tag)
{
    pool_free(P, Tag, __builtin_return_address(0));
}

NTKERNELAPI VOID NTAPI ExFreePool(PVOID P)
{
    pool_free(P, 0, __builtin_return_address(0));
}

NTKERNELAPI VOID NTAPI ExFreePool2(PVOID P, ULONG Tag, PCPOOL_EXTENDED_PARAMETER ExtendedParameters,
                                   ULONG ExtendedParametersCount)
{
    (void)ExtendedParameters;
    (void)ExtendedParametersCount;
    pool_free(P, Tag, __builtin_return_address(0));
}
