/*
 * src/machine/pfn.c - the PFN database: which frames exist, which are free.
 *
 * Models: Windows' PFN database reduced to what the layers above need: a
 * used bitmap (1 = allocated or not RAM), per-frame flags and map counts, and
 * three zones (below 16 MiB, below 4 GiB, the rest) so that an allocation can
 * say how far a device reaches. Ordinary allocations prefer the highest zone,
 * keeping low memory for the devices that need it, as Windows does.
 * Placement: `scattered` draws a random start from the seeded PRNG and takes
 * the next free frame, so consecutive allocations land far apart (virtual
 * contiguity over physical fragmentation, visibly); `contiguous` takes the
 * lowest free frame.
 * Invariants: zone_free[z] == number of clear bits in zone z.
 */
#include <string.h>
#include <sys/mman.h>

#include "machine/bitmap.h"
#include "machine/machine.h"

/* Clears bits [from, to) a word at a time: boot touches every RAM frame's
 * bit once, so this loop is most of the boot time of a large machine. */
static void clear_range(uint64_t *bm, uint64_t from, uint64_t to)
{
    while (from < to && (from & 63))
        bitmap_clear(bm, from++);
    if (to - from >= 64) {
        uint64_t words = (to - from) / 64;
        memset(&bm[from >> 6], 0, words * sizeof(uint64_t));
        from += words * 64;
    }
    while (from < to)
        bitmap_clear(bm, from++);
}

/* First clear bit in [from, to), or UINT64_MAX. */
static uint64_t find_clear(const uint64_t *bm, uint64_t from, uint64_t to)
{
    while (from < to) {
        uint64_t w = ~bm[from >> 6] & (~0ULL << (from & 63));
        if (w) {
            uint64_t i = (from & ~63ULL) + (uint64_t)__builtin_ctzll(w);
            return i < to ? i : UINT64_MAX;
        }
        from = (from & ~63ULL) + 64;
    }
    return UINT64_MAX;
}

int pfn_create(struct pfn_db *db, const struct machine_config *cfg, uint64_t span, uint64_t seed,
               struct machine_error *err)
{
    memset(db, 0, sizeof(*db));
    db->page_shift = cfg->page_shift;
    db->nframes = span >> cfg->page_shift;
    db->placement = cfg->placement;
    rng_seed(&db->rng, seed ^ 0x5046ULL); /* "PF": its own stream */

    size_t ebytes = db->nframes * sizeof(struct pfn_entry);
    size_t bbytes = ((db->nframes + 63) / 64) * sizeof(uint64_t);
    void *e = mmap(NULL, ebytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    void *b = mmap(NULL, bbytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (e == MAP_FAILED || b == MAP_FAILED) {
        machine_error_set(err, "mmap of the PFN database for %llu frames failed",
                          (unsigned long long)db->nframes);
        if (e != MAP_FAILED)
            munmap(e, ebytes);
        if (b != MAP_FAILED)
            munmap(b, bbytes);
        return -1;
    }
    db->entries = e;
    db->used = b;
    memset(db->used, 0xff, bbytes);

    uint64_t f16m = (16ULL << 20) >> db->page_shift, f4g = (4ULL << 30) >> db->page_shift;
    db->zone_start[pfn_zone_dma24] = 0;
    db->zone_end[pfn_zone_dma24] = f16m < db->nframes ? f16m : db->nframes;
    db->zone_start[pfn_zone_dma32] = db->zone_end[pfn_zone_dma24];
    db->zone_end[pfn_zone_dma32] = f4g < db->nframes ? f4g : db->nframes;
    db->zone_start[pfn_zone_high] = db->zone_end[pfn_zone_dma32];
    db->zone_end[pfn_zone_high] = db->nframes;

    for (unsigned i = 0; i < cfg->nranges; i++) {
        uint64_t f = cfg->ranges[i].start >> db->page_shift;
        uint64_t end = cfg->ranges[i].end >> db->page_shift;
        clear_range(db->used, f, end);
        db->ram_frames += end - f;
        for (int z = 0; z < pfn_zone_count; z++) {
            uint64_t lo = f > db->zone_start[z] ? f : db->zone_start[z];
            uint64_t hi = end < db->zone_end[z] ? end : db->zone_end[z];
            if (hi > lo)
                db->zone_free[z] += hi - lo;
        }
    }
    /* Frame 0 is never handed out, as a PC keeps its real-mode interrupt
     * table there: physical (and so logical) address 0 reads as "none" to
     * drivers, so no buffer, bounce frame or common buffer may sit on it. */
    if (db->nframes && !bitmap_get(db->used, 0)) {
        bitmap_set(db->used, 0);
        db->zone_free[pfn_zone_of(db, 0)]--;
        db->ram_frames--;
    }
    return 0;
}

void pfn_destroy(struct pfn_db *db)
{
    if (db->entries)
        munmap(db->entries, db->nframes * sizeof(struct pfn_entry));
    if (db->used)
        munmap(db->used, ((db->nframes + 63) / 64) * sizeof(uint64_t));
    memset(db, 0, sizeof(*db));
}

enum pfn_zone pfn_zone_of(const struct pfn_db *db, uint64_t frame)
{
    if (frame < db->zone_end[pfn_zone_dma24])
        return pfn_zone_dma24;
    if (frame < db->zone_end[pfn_zone_dma32])
        return pfn_zone_dma32;
    return pfn_zone_high;
}

static void take(struct pfn_db *db, uint64_t f)
{
    bitmap_set(db->used, f);
    db->zone_free[pfn_zone_of(db, f)]--;
    db->entries[f].flags = pfn_flag_allocated;
    db->entries[f].map_count = 0;
}

static uint64_t alloc_in(struct pfn_db *db, uint64_t lo, uint64_t hi)
{
    uint64_t f;
    if (db->placement == frame_placement_scattered) {
        uint64_t start = lo + rng_below(&db->rng, hi - lo);
        f = find_clear(db->used, start, hi);
        if (f == UINT64_MAX)
            f = find_clear(db->used, lo, start);
    } else {
        f = find_clear(db->used, lo, hi);
    }
    return f;
}

uint64_t pfn_alloc(struct pfn_db *db, uint64_t max_frame_excl)
{
    return pfn_alloc_range(db, 0, max_frame_excl);
}

uint64_t pfn_alloc_range(struct pfn_db *db, uint64_t lo_frame, uint64_t hi_frame_excl)
{
    for (int z = pfn_zone_count - 1; z >= 0; z--) {
        uint64_t lo = db->zone_start[z], hi = db->zone_end[z];
        if (hi > hi_frame_excl)
            hi = hi_frame_excl;
        if (lo < lo_frame)
            lo = lo_frame;
        if (lo >= hi || db->zone_free[z] == 0)
            continue;
        uint64_t f = alloc_in(db, lo, hi);
        if (f != UINT64_MAX) {
            take(db, f);
            return f;
        }
    }
    return UINT64_MAX;
}

uint64_t pfn_alloc_run(struct pfn_db *db, uint64_t n, uint64_t lo, uint64_t hi, uint64_t boundary)
{
    if (hi > db->nframes)
        hi = db->nframes;
    if (n == 0 || boundary & (boundary - 1))
        return UINT64_MAX;
    uint64_t f = lo;
    while (f + n <= hi) {
        f = find_clear(db->used, f, hi);
        if (f == UINT64_MAX || f + n > hi)
            return UINT64_MAX;
        if (boundary && (f / boundary) != ((f + n - 1) / boundary)) {
            f = (f / boundary + 1) * boundary;
            continue;
        }
        uint64_t k = 1;
        while (k < n && !bitmap_get(db->used, f + k))
            k++;
        if (k == n) {
            for (uint64_t i = 0; i < n; i++)
                take(db, f + i);
            return f;
        }
        f += k;
    }
    return UINT64_MAX;
}

void pfn_free(struct pfn_db *db, uint64_t frame)
{
    bitmap_clear(db->used, frame);
    db->zone_free[pfn_zone_of(db, frame)]++;
    db->entries[frame].flags = 0;
    db->entries[frame].map_count = 0;
}

bool pfn_is_allocated(const struct pfn_db *db, uint64_t frame)
{
    return frame < db->nframes && (db->entries[frame].flags & pfn_flag_allocated);
}

uint64_t pfn_free_frames(const struct pfn_db *db)
{
    return db->zone_free[0] + db->zone_free[1] + db->zone_free[2];
}
