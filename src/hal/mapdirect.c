/*
 * src/hal/mapdirect.c - direct operations: an S/G list that maps every page
 * 1:1 kept as one record per element instead of one map register per page.
 *
 * Models: nothing new of Windows - the same list, the same registers
 * allocated, the same checks (spec/dma.md 4; spec/verifier.md 9). It is how
 * wdmsim keeps a 64-bit master's list cheap to build (issue 6: <= 2 ns per
 * page): the build writes the driver's element and a 16-byte run record
 * (hal.h, struct hal_maprun) per element and no register record, so a
 * 64 MiB list costs what writing its elements costs. The bus resolves a
 * device's page against the runs (mapreg.c: last hit, then the page index,
 * which holds direct pages too); a device write sets the page's bit in
 * `written` (dma.stale-read); checks.c reads the runs for dma.overlap.
 * Readers of register records (the transfer log, the ownership resolver,
 * !dma) derive them with hal_mapreg_view; no register is written for them.
 * Only a bus fault expands the operation (bus.c), so that its report names
 * a real register: its registers are then written exactly as hal_sg_build
 * would have written them and it goes on as an ordinary per-page operation.
 * Invariants: run k of the operation at first lives at runs[first + k] and
 * covers registers [reg, reg + pages) (reg is derived at its first use,
 * hal_mapreg_direct_regs: the build leaves it out), consecutive runs
 * following each other register for register; a run's interior page
 * boundaries are page-aligned in logical space (sg.c refuses a merge
 * inside a page), so page j of a run is register reg + j; the registers of
 * a direct operation are allocated, never mapped, and count in nmapped;
 * `direct` lists every live direct operation once.
 * Not modelled: bounce, double buffering and split elements: those lists
 * keep per-page registers (sg.c decides).
 */
#include "hal/hal.h"

static void written_clear(struct hal_mapreg_file *f, unsigned first, unsigned n)
{
    for (unsigned i = first; i < first + n;) {
        unsigned b = i % 64, take = 64 - b < first + n - i ? 64 - b : first + n - i;
        uint64_t m = (take == 64 ? ~0ULL : ((1ULL << take) - 1)) << b;
        f->written[i / 64] &= ~m;
        i += take;
    }
}

static void list_remove(struct hal_mapreg_file *f, unsigned first)
{
    for (unsigned i = 0; i < f->ndirect; i++)
        if (f->direct[i] == first) {
            f->direct[i] = f->direct[--f->ndirect];
            return;
        }
}

void hal_mapreg_direct_add(struct hal_mapreg_file *f, unsigned first, unsigned nruns, unsigned regs,
                           enum hal_dir dir)
{
    if (hal_mapreg_is_direct(f, first))
        hal_mapreg_direct_release(f, first);
    struct hal_mapop *op = &f->op[first];
    op->nruns = nruns;
    op->regs = (uint16_t)regs;
    op->dir = (uint8_t)dir;
    op->run_regs = false;
    f->reg[first].op_start = true;
    f->direct[f->ndirect++] = first;
    f->nmapped += regs;
    f->index_dirty = true;
    /* A device walks the list from its first element. */
    f->last_direct = true;
    f->last_op = first;
    f->last_run = first;
}

void hal_mapreg_direct_release(struct hal_mapreg_file *f, unsigned first)
{
    struct hal_mapop *op = &f->op[first];
    f->nmapped -= op->regs;
    written_clear(f, first, op->regs);
    list_remove(f, first);
    op->nruns = 0;
    f->reg[first].op_start = false;
    f->index_dirty = true;
    if (f->last_direct && f->last_op == first)
        f->last_direct = false;
}

int hal_mapreg_direct_of(const struct hal_mapreg_file *f, unsigned r)
{
    for (unsigned i = 0; i < f->ndirect; i++) {
        unsigned first = f->direct[i];
        if (r >= first && r < first + f->op[first].regs)
            return (int)first;
    }
    return -1;
}

void hal_mapreg_direct_regs(struct hal_mapreg_file *f, unsigned op)
{
    uint64_t mask = (1ULL << f->shift) - 1;
    unsigned r = op;
    for (unsigned k = op; k < op + f->op[op].nruns; k++) {
        struct hal_maprun *run = &f->runs[k];
        run->reg = r;
        r += (unsigned)(((run->logical & mask) + run->length + mask) >> f->shift);
    }
    f->op[op].run_regs = true;
}

void hal_mapreg_expand(struct hal_mapreg_file *f, unsigned first)
{
    const struct hal_mapop *op = &f->op[first];
    if (!op->run_regs)
        hal_mapreg_direct_regs(f, first);
    uint64_t mask = (1ULL << f->shift) - 1;
    for (unsigned k = first; k < first + op->nruns; k++) {
        const struct hal_maprun *run = &f->runs[k];
        uint64_t lp = run->logical >> f->shift;
        uint64_t last = (run->logical + run->length - 1) >> f->shift;
        for (unsigned r = run->reg; lp <= last; lp++, r++) {
            struct hal_mapreg *reg = &f->reg[r];
            uint64_t lo = lp == run->logical >> f->shift ? run->logical & mask : 0;
            uint64_t hi = lp == last ? ((run->logical + run->length - 1) & mask) + 1 : mask + 1;
            reg->target = lp ^ f->lx_page;
            reg->source = reg->target;
            reg->offset = (uint16_t)lo;
            reg->length = (uint16_t)(hi - lo);
            reg->state = hal_reg_mapped;
            reg->dir = op->dir;
            reg->bounce = false;
            reg->op_start = r == first;
            reg->written = (f->written[r / 64] >> (r % 64)) & 1;
        }
    }
    written_clear(f, first, op->regs);
    list_remove(f, first);
    f->op[first].nruns = 0;
    f->index_dirty = true;
    if (f->last_direct && f->last_op == first)
        f->last_direct = false;
}

unsigned hal_mapreg_run_of(struct hal_mapreg_file *f, unsigned op, unsigned r)
{
    if (!f->op[op].run_regs)
        hal_mapreg_direct_regs(f, op);
    unsigned lo = op, hi = op + f->op[op].nruns - 1;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo + 1) / 2;
        if (f->runs[mid].reg <= r)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

bool hal_mapreg_view(const struct hal_mapreg_file *cf, unsigned r, struct hal_mapreg *view)
{
    struct hal_mapreg_file *f = (struct hal_mapreg_file *)cf; /* runs[].reg cache */
    if (r >= f->count)
        return false;
    *view = f->reg[r];
    if (view->state == hal_reg_mapped)
        return true;
    int op = hal_mapreg_direct_of(f, r);
    if (op < 0)
        return false;
    unsigned k = hal_mapreg_run_of(f, (unsigned)op, r);
    const struct hal_maprun *run = &f->runs[k];
    uint64_t lp = (run->logical >> f->shift) + (r - run->reg);
    uint32_t gen = view->gen;
    uint16_t runlen = view->run;
    if (hal_maprun_page(f, (unsigned)op, k, lp, view) < 0)
        return false;
    view->gen = gen;
    view->run = runlen;
    return true;
}
