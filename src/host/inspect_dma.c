/*
 * src/host/inspect_dma.c - DMA commands: !dma, !dma8237.
 *
 * Models: WinDbg's !dma (adapters, map registers in use, waiters, common
 * buffers; with an adapter, each mapped register: logical page -> frame,
 * bounce or direct, direction, bytes) and !dma8237-like dumps of the
 * system DMA controller's channel registers (spec/i8237.md).
 * Invariants: reads the HAL's host-side records (src/hal/hal.h) only.
 */
#include <string.h>

#include "host/inspect.h"
#include "sys.h"

static unsigned count_waiters(const struct hal_adapter *a, unsigned *chan_waiters)
{
    unsigned n = 0, c = 0;
    for (const struct hal_mapreg_waiter *w = a->regs.wait_head; w; w = w->next)
        n++;
    for (const struct hal_chan_req *r = a->chan_head; r; r = r->next)
        c++;
    *chan_waiters = c;
    return n;
}

static const char *device_name(const struct hal_adapter *a)
{
    return a->dev ? machine_device_config_of(a->dev)->name : "-";
}

static void adapter_line(struct insp *c, const struct hal_adapter *a)
{
    unsigned chan_waiters, waiters = count_waiters(a, &chan_waiters);
    fprintf(c->out,
            "Adapter %s id %u  %s%s, %u-bit, %s  device %s\n"
            "  map registers: %u total, %u allocated, %u mapped  waiters: %u register, %u "
            "channel\n"
            "  common buffers %u, S/G lists %u, channel %s%s\n",
            INSP_ADDR((uintptr_t)a), a->id, a->master ? "bus master" : "system DMA",
            a->lim.scatter_gather ? " scatter/gather" : "", a->width,
            a->dead ? "put (PutDmaAdapter)" : "live", device_name(a), a->regs.count,
            a->regs.count - a->regs.nfree, a->regs.nmapped, waiters, chan_waiters,
            a->common_buffers, a->sg_lists, a->channel_held ? "held" : "free",
            a->channel >= 0 ? "" : "");
    if (a->channel >= 0)
        fprintf(c->out, "  system DMA channel %d\n", a->channel);
}

static void adapter_detail(struct insp *c, const struct hal_adapter *a)
{
    const struct hal_mapreg_file *f = &a->regs;
    unsigned shift = a->lim.page_shift;
    fprintf(c->out, "  max length %u, alignment %u, bounce frames %llu at frame %llx\n",
            a->max_length, a->alignment, (unsigned long long)a->bounce_frames,
            a->bounce_base == UINT64_MAX ? 0ULL : (unsigned long long)a->bounce_base);
    for (unsigned i = 0; i < f->count; i++) {
        struct hal_mapreg v; /* a direct list's pages are derived (src/hal/mapdirect.c) */
        hal_mapreg_view(f, i, &v);
        const struct hal_mapreg *r = &v;
        if (r->run)
            fprintf(c->out, "  run at register %u: %u registers (generation %u)\n", i, r->run,
                    r->gen);
        if (r->op_start)
            fprintf(c->out, "    operation at register %u: VA %s, %u bytes, %u registers\n", i,
                    INSP_ADDR(f->op[i].va), f->op[i].len, f->op[i].regs);
        if (r->state != hal_reg_mapped)
            continue;
        fprintf(c->out, "    reg %3u logical %s -> frame %llx%s [%#x, +%#x) %s\n", i,
                INSP_ADDR(r->target << shift), (unsigned long long)r->target,
                r->bounce ? " bounce" : " direct", r->offset, r->length,
                hal_dir_name((enum hal_dir)r->dir));
        if (r->bounce)
            fprintf(c->out, "            buffer frame %llx\n", (unsigned long long)r->source);
    }
    for (const struct hal_mapreg_waiter *w = f->wait_head; w; w = w->next)
        fprintf(c->out, "  waiter for %u registers\n", w->n);
    for (const struct hal_chan_req *r = a->chan_head; r; r = r->next)
        fprintf(c->out, "  channel waiter: device %s, %u registers\n",
                INSP_ADDR((uintptr_t)r->device), r->n);
    for (const struct hal_common_buffer *b = a->commons; b; b = b->next)
        fprintf(c->out, "  common buffer VA %s logical %s, %llu bytes (%llu pages)%s\n",
                INSP_ADDR((uintptr_t)b->va), INSP_ADDR(b->logical), (unsigned long long)b->bytes,
                (unsigned long long)b->npages, b->cached ? " cached" : "");
}

int insp_dma(struct insp *c)
{
    struct hal *hal = &c->sys->hal;
    uint64_t want = 0;
    if (c->argc > 1 && insp_arg(c, 1, &want))
        return -1;
    unsigned n = 0;
    for (const struct hal_adapter *a = hal->adapters; a; a = a->next) {
        /* An adapter by its address or its small id. */
        if (c->argc > 1 && (uintptr_t)a != want && a->id != want)
            continue;
        adapter_line(c, a);
        if (c->argc > 1)
            adapter_detail(c, a);
        n++;
    }
    if (c->argc > 1 && !n)
        return insp_error(c, "no DMA adapter %s", c->argv[1]);
    fprintf(c->out, "%u adapter%s\n", n, n == 1 ? "" : "s");
    return 0;
}

static const char *mode_type(uint8_t mode)
{
    switch (mode & i8237_mode_type_mask) {
    case i8237_mode_write:
        return "write (device->memory)";
    case i8237_mode_read:
        return "read (memory->device)";
    case i8237_mode_verify:
        return "verify";
    default:
        return "illegal";
    }
}

static const char *mode_service(uint8_t mode)
{
    static const char *const names[] = {"demand", "single", "block", "cascade"};
    return names[(mode & i8237_mode_service_mask) >> 6];
}

int insp_dma8237(struct insp *c)
{
    const struct i8237 *d = &c->sys->machine.dma;
    for (unsigned chip = 0; chip < 2; chip++) {
        const struct i8237_chip *k = &d->chip[chip];
        fprintf(c->out, "DMA%u: command %02x%s  status(tc) %x  request %x  mask %x\n", chip + 1,
                k->command, k->command & i8237_cmd_disable ? " (disabled)" : "", k->tc, k->request,
                k->mask);
    }
    fprintf(c->out, "Ch  Page BaseAddr CurAddr BaseCnt CurCnt Mode Service Type                   "
                    " Flags\n");
    for (unsigned ch = 0; ch < i8237_channels; ch++) {
        const struct i8237_channel *x = &d->ch[ch];
        bool masked = d->chip[ch / 4].mask >> (ch % 4) & 1;
        fprintf(c->out, "%u   %02x   %04x     %04x    %04x    %04x   %02x   %-7s %-23s%s%s%s%s\n",
                ch, x->page, x->base_addr, x->cur_addr, x->base_count, x->cur_count, x->mode,
                mode_service(x->mode), mode_type(x->mode), masked ? " masked" : "",
                x->mode & i8237_mode_autoinit ? " autoinit" : "", x->dreq ? " DREQ" : "",
                ch == i8237_cascade_channel ? " (cascade)" : "");
        if (x->owned || x->units)
            fprintf(c->out, "    next address %s, %u bytes left, %llu units moved%s\n",
                    INSP_ADDR(i8237_next_address(d, ch)), i8237_bytes_left(d, ch),
                    (unsigned long long)x->units, x->owned ? ", owned by the HAL" : "");
    }
    return 0;
}
