/*
 * tests/machine/test_i8237.c - the 8237 pair through its real ports:
 * registers, flip-flop, modes, terminal count, auto-initialize, the wrap
 * inside the 64/128 KiB block, cascade, priority, events.
 * Spec: spec/i8237.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "machine/machine.h"

/* A slave device model: a byte/word source and sink that counts TCs and
 * can drop DREQ after a number of units. */
struct fake_dev {
    struct i8237 *d;
    uint16_t next;      /* value the next read_unit returns (then ++) */
    uint16_t got[4096]; /* write_unit values */
    unsigned ngot, nread, tcs;
    unsigned drop_after; /* release DREQ after this many units (0: never) */
};

static void maybe_drop(struct fake_dev *f, unsigned ch)
{
    if (f->drop_after && f->nread + f->ngot == f->drop_after)
        i8237_release_dreq(f->d, ch);
}

static uint16_t dev_read(void *ctx, unsigned ch)
{
    struct fake_dev *f = ctx;
    f->nread++;
    uint16_t v = f->next++;
    maybe_drop(f, ch);
    return v;
}

static void dev_write(void *ctx, unsigned ch, uint16_t v)
{
    struct fake_dev *f = ctx;
    if (f->ngot < 4096)
        f->got[f->ngot] = v;
    f->ngot++;
    maybe_drop(f, ch);
}

static void dev_tc(void *ctx, unsigned ch)
{
    struct fake_dev *f = ctx;
    f->tcs++;
}

static const struct i8237_device_ops fake_ops = {
    .read_unit = dev_read,
    .write_unit = dev_write,
    .tc = dev_tc,
};

/* Recorded events. */
struct events {
    unsigned n[8];
    unsigned last_channel;
    uint64_t last_value;
};
static void on_event(void *ctx, enum i8237_event ev, unsigned ch, uint64_t value)
{
    struct events *e = ctx;
    e->n[ev]++;
    e->last_channel = ch;
    e->last_value = value;
}
static const struct i8237_bus_ops event_only = {.event = on_event};

struct env {
    struct machine m;
    struct i8237 *d;
    struct events ev;
    struct fake_dev dev;
};

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    struct machine_config cfg;
    struct machine_error err;
    machine_config_default(&cfg);
    assert_int_equal(machine_create(&e->m, &cfg, 1, &err), 0);
    e->d = &e->m.dma;
    i8237_set_bus(e->d, &event_only, &e->ev);
    e->dev.d = e->d;
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    machine_destroy(&e->m);
    free(e);
    return 0;
}

static const uint16_t page_port[8] = {0x87, 0x83, 0x81, 0x82, 0, 0x8B, 0x89, 0x8A};

static uint16_t chip_port(unsigned ch, unsigned off)
{
    return ch < 4 ? (uint16_t)off : (uint16_t)(0xC0 + 2 * off);
}

static void out(struct i8237 *d, uint16_t port, uint8_t v)
{
    assert_true(i8237_port_write(d, port, v));
}

static uint8_t in(struct i8237 *d, uint16_t port)
{
    uint8_t v = 0;
    assert_true(i8237_port_read(d, port, &v));
    return v;
}

/* spec/i8237.md 5: mask, flip-flop, mode, address, page, count, unmask. */
static void program(struct i8237 *d, unsigned ch, uint8_t mode, uint64_t pa, uint32_t bytes)
{
    unsigned i = ch & 3;
    bool word = ch >= 4;
    uint16_t addr = word ? (uint16_t)((pa >> 1) & 0xFFFF) : (uint16_t)(pa & 0xFFFF);
    uint16_t count = (uint16_t)((word ? bytes / 2 : bytes) - 1);
    out(d, chip_port(ch, 10), (uint8_t)(4 | i));
    out(d, chip_port(ch, 12), 0);
    out(d, chip_port(ch, 11), (uint8_t)(mode | i));
    out(d, chip_port(ch, 2 * i), (uint8_t)addr);
    out(d, chip_port(ch, 2 * i), (uint8_t)(addr >> 8));
    out(d, page_port[ch], (uint8_t)(pa >> 16));
    out(d, chip_port(ch, 2 * i + 1), (uint8_t)count);
    out(d, chip_port(ch, 2 * i + 1), (uint8_t)(count >> 8));
    out(d, chip_port(ch, 10), (uint8_t)i);
}

static uint16_t read_count(struct i8237 *d, unsigned ch)
{
    unsigned i = ch & 3;
    out(d, chip_port(ch, 12), 0);
    uint8_t lo = in(d, chip_port(ch, 2 * i + 1));
    uint8_t hi = in(d, chip_port(ch, 2 * i + 1));
    return (uint16_t)(lo | hi << 8);
}

static uint16_t read_addr(struct i8237 *d, unsigned ch)
{
    unsigned i = ch & 3;
    out(d, chip_port(ch, 12), 0);
    uint8_t lo = in(d, chip_port(ch, 2 * i));
    uint8_t hi = in(d, chip_port(ch, 2 * i));
    return (uint16_t)(lo | hi << 8);
}

static uint8_t *pa_ptr(struct env *e, uint64_t pa)
{
    return machine_pa_ptr(&e->m, pa);
}

/* Low then high byte through the flip-flop; reads return current values;
 * every access toggles; clearing restarts at the low byte. */
static void test_flipflop_and_readback(void **state)
{
    struct env *e = *state;
    struct i8237 *d = e->d;
    out(d, 0x0C, 0);
    out(d, 0x02, 0x34);
    out(d, 0x02, 0x12);
    out(d, 0x03, 0xCD);
    out(d, 0x03, 0xAB);
    assert_int_equal(read_addr(d, 1), 0x1234);
    assert_int_equal(read_count(d, 1), 0xABCD);
    assert_int_equal(d->ch[1].base_addr, 0x1234);
    /* Without a clear, the pointer is wherever the last access left it. */
    out(d, 0x0C, 0);
    (void)in(d, 0x02);
    out(d, 0x02, 0x56); /* high byte */
    assert_int_equal(read_addr(d, 1), 0x5634);
    /* DMA2 at even ports only; odd ones and port 0x80 are not ours. */
    uint8_t v;
    assert_false(i8237_port_read(d, 0xC1, &v));
    assert_false(i8237_port_write(d, 0x80, 1));
    assert_false(i8237_decodes(d, 0x10));
    assert_true(i8237_decodes(d, 0xDE));
}

/* Page ports per channel; unused ones are plain latches. */
static void test_page_ports(void **state)
{
    struct env *e = *state;
    struct i8237 *d = e->d;
    for (unsigned ch = 0; ch < 8; ch++) {
        if (ch == 4)
            continue;
        out(d, page_port[ch], (uint8_t)(0x10 + ch));
    }
    for (unsigned ch = 0; ch < 8; ch++)
        if (ch != 4)
            assert_int_equal(d->ch[ch].page, 0x10 + ch);
    out(d, 0x8F, 0x77);
    out(d, 0x84, 0x66);
    assert_int_equal(in(d, 0x8F), 0x77);
    assert_int_equal(in(d, 0x84), 0x66);
    assert_int_equal(in(d, 0x87), 0x10);
    /* Without EISA the high pages are not decoded. */
    assert_false(i8237_decodes(d, 0x487));
    d->eisa = true;
    out(d, 0x487, 0x02);
    assert_int_equal(d->ch[0].high_page, 2);
}

/* Single mode, device -> memory on channel 1: every byte lands, TC sets
 * the status bit and the mask, the count reads 0xFFFF, the device hears TC. */
static void test_single_write_to_memory(void **state)
{
    struct env *e = *state;
    struct i8237 *d = e->d;
    uint64_t pa = 0x123400;
    memset(pa_ptr(e, pa), 0, 300);
    e->dev.next = 0x40;
    i8237_attach(d, 1, &fake_ops, &e->dev);
    program(d, 1, i8237_mode_single | i8237_mode_write, pa, 200);
    assert_int_equal(i8237_bytes_left(d, 1), 200);
    i8237_assert_dreq(d, 1);
    assert_int_equal(in(d, 0x08) & 0xF0, 0x20); /* request pending on channel 1 */
    assert_int_equal(i8237_run(d, 1000), 200);
    for (unsigned i = 0; i < 200; i++)
        assert_int_equal(pa_ptr(e, pa)[i], (uint8_t)(0x40 + i));
    assert_int_equal(pa_ptr(e, pa)[200], 0);
    assert_int_equal(e->dev.tcs, 1);
    assert_int_equal(read_count(d, 1), 0xFFFF);
    assert_int_equal(i8237_bytes_left(d, 1), 0);
    assert_int_equal(read_addr(d, 1), (pa + 200) & 0xFFFF);
    assert_true(d->chip[0].mask & 2);
    uint8_t st = in(d, 0x08);
    assert_int_equal(st & 0x0F, 0x02);
    assert_int_equal(in(d, 0x08) & 0x0F, 0); /* reading cleared TC */
    /* Masked at TC: a still-asserted DREQ moves nothing more. */
    assert_int_equal(i8237_run(d, 10), 0);
}

/* 16-bit channel 5, memory -> device: address register holds A16-A1, page
 * bit 0 is ignored, units are little-endian words. */
static void test_word_channel_read_from_memory(void **state)
{
    struct env *e = *state;
    struct i8237 *d = e->d;
    uint64_t pa = 0x3A000; /* bit 16 set: lands in the address register as A16 */
    for (unsigned i = 0; i < 64; i++)
        pa_ptr(e, pa)[i] = (uint8_t)i;
    i8237_attach(d, 5, &fake_ops, &e->dev);
    program(d, 5, i8237_mode_single | i8237_mode_read, pa, 64);
    assert_int_equal(d->ch[5].cur_addr, (pa >> 1) & 0xFFFF);
    assert_int_equal(d->ch[5].page, 0x03);
    assert_int_equal(i8237_next_address(d, 5), pa);
    out(d, 0x8B, 0x03 | 0x01); /* bit 0 of a DMA2 page is ignored */
    assert_int_equal(i8237_next_address(d, 5), pa);
    assert_int_equal(i8237_bytes_left(d, 5), 64);
    i8237_assert_dreq(d, 5);
    assert_int_equal(i8237_run(d, 1000), 32);
    assert_int_equal(e->dev.ngot, 32);
    for (unsigned i = 0; i < 32; i++)
        assert_int_equal(e->dev.got[i], (uint16_t)((2 * i) | (2 * i + 1) << 8));
    assert_int_equal(in(d, 0xD0) & 0x0F, 0x02); /* channel 5 = DMA2 bit 1 */
}

/* Auto-initialize: at TC the current registers reload from base and the
 * channel stays unmasked; the ring keeps turning. */
static void test_autoinit_ring(void **state)
{
    struct env *e = *state;
    struct i8237 *d = e->d;
    uint64_t pa = 0x200000;
    i8237_attach(d, 2, &fake_ops, &e->dev);
    program(d, 2, i8237_mode_single | i8237_mode_write | i8237_mode_autoinit, pa, 16);
    i8237_assert_dreq(d, 2);
    assert_int_equal(i8237_run(d, 40), 40);
    assert_int_equal(e->dev.tcs, 2);
    assert_false(d->chip[0].mask & 4);
    assert_int_equal(i8237_bytes_left(d, 2), 8); /* 40 = 16 + 16 + 8 */
    assert_int_equal(read_count(d, 2), 7);
    assert_int_equal(read_addr(d, 2), 0x0008);
    /* Bytes 32..39 of the stream overwrote the first half of the ring. */
    assert_int_equal(pa_ptr(e, pa)[0], 32);
    assert_int_equal(pa_ptr(e, pa)[8], 24);
    assert_int_equal(in(d, 0x08) & 0x0F, 0x04);
}

/* 64 KiB boundary on a byte channel: the address wraps to the start of the
 * same block, never into the next page; reported once. */
static void test_block_wrap_8bit(void **state)
{
    struct env *e = *state;
    struct i8237 *d = e->d;
    uint64_t pa = 0x1FFFE;
    memset(pa_ptr(e, 0x10000), 0, 4);
    memset(pa_ptr(e, 0x20000), 0, 4);
    e->dev.next = 1;
    i8237_attach(d, 3, &fake_ops, &e->dev);
    program(d, 3, i8237_mode_demand | i8237_mode_write, pa, 4);
    i8237_assert_dreq(d, 3);
    assert_int_equal(i8237_run(d, 100), 4);
    assert_int_equal(pa_ptr(e, 0x1FFFE)[0], 1);
    assert_int_equal(pa_ptr(e, 0x1FFFF)[0], 2);
    assert_int_equal(pa_ptr(e, 0x10000)[0], 3);
    assert_int_equal(pa_ptr(e, 0x10001)[0], 4);
    assert_int_equal(pa_ptr(e, 0x20000)[0], 0);
    assert_int_equal(e->ev.n[i8237_ev_block_wrap], 1);
    assert_int_equal(e->ev.last_channel, 3);
    assert_int_equal(e->ev.last_value, 0x10000);
}

/* A transfer that ends exactly at the block's last byte is not a wrap. */
static void test_block_end_exact_is_not_wrap(void **state)
{
    struct env *e = *state;
    struct i8237 *d = e->d;
    i8237_attach(d, 1, &fake_ops, &e->dev);
    program(d, 1, i8237_mode_single | i8237_mode_write, 0x30000, 0x10000);
    i8237_assert_dreq(d, 1);
    assert_int_equal(i8237_run(d, 0x20000), 0x10000);
    assert_int_equal(e->ev.n[i8237_ev_block_wrap], 0);
    assert_int_equal(e->dev.tcs, 1);
}

/* 128 KiB block on a word channel: 0x3FFFC..0x3FFFF then 0x20000. */
static void test_block_wrap_16bit(void **state)
{
    struct env *e = *state;
    struct i8237 *d = e->d;
    memset(pa_ptr(e, 0x20000), 0, 4);
    memset(pa_ptr(e, 0x40000), 0, 4);
    e->dev.next = 0x0101;
    i8237_attach(d, 6, &fake_ops, &e->dev);
    program(d, 6, i8237_mode_single | i8237_mode_write, 0x3FFFC, 8);
    i8237_assert_dreq(d, 6);
    assert_int_equal(i8237_run(d, 100), 4);
    assert_int_equal(pa_ptr(e, 0x3FFFC)[0], 0x01);
    assert_int_equal(pa_ptr(e, 0x3FFFE)[0], 0x02);
    assert_int_equal(pa_ptr(e, 0x20000)[0], 0x03);
    assert_int_equal(pa_ptr(e, 0x20002)[0], 0x04);
    assert_int_equal(pa_ptr(e, 0x40000)[0], 0);
    assert_int_equal(e->ev.n[i8237_ev_block_wrap], 1);
    assert_int_equal(e->ev.last_value, 0x20000);
}

/* Decrement mode walks down; wrap below 0 stays in the block too. */
static void test_decrement(void **state)
{
    struct env *e = *state;
    struct i8237 *d = e->d;
    e->dev.next = 10;
    i8237_attach(d, 1, &fake_ops, &e->dev);
    program(d, 1, i8237_mode_single | i8237_mode_write | i8237_mode_decrement, 0x50001, 3);
    i8237_assert_dreq(d, 1);
    assert_int_equal(i8237_run(d, 100), 3);
    assert_int_equal(pa_ptr(e, 0x50001)[0], 10);
    assert_int_equal(pa_ptr(e, 0x50000)[0], 11);
    assert_int_equal(pa_ptr(e, 0x5FFFF)[0], 12);
    assert_int_equal(e->ev.n[i8237_ev_block_wrap], 1);
}

/* Demand mode stops when DREQ drops, holding address and count, and
 * resumes on the next DREQ. */
static void test_demand_pause_resume(void **state)
{
    struct env *e = *state;
    struct i8237 *d = e->d;
    e->dev.drop_after = 10;
    i8237_attach(d, 1, &fake_ops, &e->dev);
    program(d, 1, i8237_mode_demand | i8237_mode_write, 0x60000, 30);
    i8237_assert_dreq(d, 1);
    assert_int_equal(i8237_run(d, 100), 10);
    assert_int_equal(read_count(d, 1), 19);
    assert_int_equal(read_addr(d, 1), 10);
    assert_false(d->chip[0].mask & 2);
    e->dev.drop_after = 0;
    i8237_assert_dreq(d, 1);
    assert_int_equal(i8237_run(d, 100), 20);
    assert_int_equal(e->dev.tcs, 1);
    assert_int_equal(pa_ptr(e, 0x6001D)[0], 29);
}

/* Block mode: once started, runs to TC even after DREQ drops. Software
 * requests start it too; on a single-mode channel they are ignored and
 * reported. */
static void test_block_and_software_request(void **state)
{
    struct env *e = *state;
    struct i8237 *d = e->d;
    e->dev.drop_after = 1;
    i8237_attach(d, 1, &fake_ops, &e->dev);
    program(d, 1, i8237_mode_block | i8237_mode_write, 0x70000, 20);
    i8237_assert_dreq(d, 1);
    assert_int_equal(i8237_run(d, 100), 20);
    assert_int_equal(e->dev.tcs, 1);

    program(d, 1, i8237_mode_block | i8237_mode_verify, 0x70000, 5);
    out(d, 0x09, 4 | 1);
    assert_int_equal(in(d, 0x08) & 0xF0, 0x20);
    assert_int_equal(i8237_run(d, 100), 5);
    assert_int_equal(in(d, 0x08), 0x02); /* request cleared at TC */

    program(d, 1, i8237_mode_single | i8237_mode_write, 0x70000, 5);
    out(d, 0x09, 4 | 1);
    assert_int_equal(e->ev.n[i8237_ev_software_request], 1);
    assert_int_equal(i8237_run(d, 100), 0);
}

/* Verify moves no data but advances address and count. */
static void test_verify_moves_nothing(void **state)
{
    struct env *e = *state;
    struct i8237 *d = e->d;
    memset(pa_ptr(e, 0x80000), 0xAA, 8);
    i8237_attach(d, 0, &fake_ops, &e->dev);
    program(d, 0, i8237_mode_single | i8237_mode_verify, 0x80000, 8);
    i8237_assert_dreq(d, 0);
    assert_int_equal(i8237_run(d, 100), 8);
    assert_int_equal(e->dev.nread + e->dev.ngot, 0);
    assert_int_equal(pa_ptr(e, 0x80000)[0], 0xAA);
    assert_int_equal(e->dev.tcs, 1);
    /* Illegal type 11 is reported and behaves as verify. */
    out(d, 0x0B, 0x4C | 0);
    assert_int_equal(e->ev.n[i8237_ev_illegal_mode], 1);
}

/* Fixed priority: channel 0 before 1; rotating: they alternate. */
static void test_priority(void **state)
{
    struct env *e = *state;
    struct i8237 *d = e->d;
    struct fake_dev a = {.d = d, .next = 0}, b = {.d = d, .next = 0};
    i8237_attach(d, 0, &fake_ops, &a);
    i8237_attach(d, 1, &fake_ops, &b);
    program(d, 0, i8237_mode_single | i8237_mode_write, 0x90000, 4);
    program(d, 1, i8237_mode_single | i8237_mode_write, 0x91000, 4);
    i8237_assert_dreq(d, 0);
    i8237_assert_dreq(d, 1);
    assert_int_equal(i8237_run(d, 4), 4);
    assert_int_equal(a.nread, 4);
    assert_int_equal(b.nread, 0);
    assert_int_equal(i8237_run(d, 10), 4);

    out(d, 0x08, i8237_cmd_rotating);
    program(d, 0, i8237_mode_single | i8237_mode_write, 0x90000, 4);
    program(d, 1, i8237_mode_single | i8237_mode_write, 0x91000, 4);
    i8237_assert_dreq(d, 0);
    i8237_assert_dreq(d, 1);
    assert_int_equal(i8237_run(d, 4), 4);
    assert_int_equal(a.nread, 6);
    assert_int_equal(b.nread, 6);
    assert_int_equal(e->ev.n[i8237_ev_unsupported_command], 0);
    out(d, 0x08, 0x01); /* memory-to-memory: accepted, reported */
    assert_int_equal(e->ev.n[i8237_ev_unsupported_command], 1);
}

/* DMA1 reaches the bus only through DMA2 channel 4 in cascade; a disabled
 * or masked chip moves nothing; master clear masks everything. */
static void test_cascade_and_master_clear(void **state)
{
    struct env *e = *state;
    struct i8237 *d = e->d;
    i8237_attach(d, 1, &fake_ops, &e->dev);
    program(d, 1, i8237_mode_single | i8237_mode_write, 0x2A0000, 8);
    i8237_assert_dreq(d, 1);
    out(d, 0xD4, 4 | 0); /* mask channel 4 */
    assert_int_equal(i8237_run(d, 10), 0);
    out(d, 0xD4, 0);
    out(d, 0x08, i8237_cmd_disable);
    assert_int_equal(i8237_run(d, 10), 0);
    out(d, 0x08, 0);
    assert_int_equal(i8237_run(d, 3), 3);
    /* DMA1 (through channel 4) outranks channel 5. */
    struct fake_dev w = {.d = d};
    i8237_attach(d, 5, &fake_ops, &w);
    program(d, 5, i8237_mode_single | i8237_mode_write, 0x2B0000, 8);
    i8237_assert_dreq(d, 5);
    assert_int_equal(i8237_run(d, 5), 5);
    assert_int_equal(e->dev.nread, 8);
    assert_int_equal(w.nread, 0);
    assert_int_equal(i8237_run(d, 100), 4);
    assert_int_equal(w.nread, 4);

    i8237_release_dreq(d, 1);
    out(d, 0x0E, 0); /* clear mask: all four unmasked */
    out(d, 0x0C, 0);
    (void)in(d, 0x00); /* flip-flop now high */
    out(d, 0x0D, 0);
    assert_int_equal(d->chip[0].mask, 0x0F);
    assert_false(d->chip[0].flipflop);
    assert_int_equal(in(d, 0x08), 0);
    out(d, 0x0F, 0x05);
    assert_int_equal(d->chip[0].mask, 0x05);
}

/* External EOP ends the service early like TC. */
static void test_eop(void **state)
{
    struct env *e = *state;
    struct i8237 *d = e->d;
    i8237_attach(d, 7, &fake_ops, &e->dev);
    program(d, 7, i8237_mode_demand | i8237_mode_write, 0x2C0000, 100);
    i8237_assert_dreq(d, 7);
    assert_int_equal(i8237_run(d, 5), 5);
    i8237_eop(d, 7);
    assert_int_equal(e->dev.tcs, 1);
    assert_true(d->chip[1].mask & 8);
    assert_int_equal(in(d, 0xD0) & 0x0F, 0x08);
    assert_int_equal(i8237_bytes_left(d, 7), 90);
    assert_int_equal(i8237_run(d, 5), 0);
}

/* Writes by someone other than the owner to an owned channel are reported
 * (and still take effect); the owner's own writes are not. */
static void test_foreign_port_write(void **state)
{
    struct env *e = *state;
    struct i8237 *d = e->d;
    i8237_set_owned(d, 2, true);
    d->owner_access = true;
    program(d, 2, i8237_mode_single | i8237_mode_write, 0x2D0000, 4);
    d->owner_access = false;
    assert_int_equal(e->ev.n[i8237_ev_foreign_port_write], 0);
    out(d, 0x81, 0x0E);
    assert_int_equal(e->ev.n[i8237_ev_foreign_port_write], 1);
    assert_int_equal(d->ch[2].page, 0x0E);
    program(d, 3, i8237_mode_single | i8237_mode_write, 0x2D0000, 4); /* not owned */
    assert_int_equal(e->ev.n[i8237_ev_foreign_port_write], 1);
}

/* With a bus installed, every unit asks it; a refused read sees 0xFF. */
struct bus_log {
    unsigned calls;
    uint64_t first_pa;
};
static int refuse(void *ctx, unsigned ch, uint64_t pa, void *buf, unsigned len, bool to_memory)
{
    struct bus_log *l = ctx;
    if (!l->calls++)
        l->first_pa = pa;
    return -1;
}
static void test_bus_hook(void **state)
{
    struct env *e = *state;
    struct i8237 *d = e->d;
    static const struct i8237_bus_ops ops = {.access = refuse};
    struct bus_log log = {0};
    i8237_set_bus(d, &ops, &log);
    i8237_attach(d, 1, &fake_ops, &e->dev);
    program(d, 1, i8237_mode_single | i8237_mode_read, 0xE0010, 3);
    i8237_assert_dreq(d, 1);
    assert_int_equal(i8237_run(d, 10), 3);
    assert_int_equal(log.calls, 3);
    assert_int_equal(log.first_pa, 0xE0010);
    assert_int_equal(e->dev.got[0], 0xFF);
}

/* On the virtual clock units move as time passes, burst by burst. */
static void test_clock(void **state)
{
    struct env *e = *state;
    struct i8237 *d = e->d;
    i8237_use_clock(d, &e->m.clock, 100, 4);
    i8237_attach(d, 1, &fake_ops, &e->dev);
    program(d, 1, i8237_mode_single | i8237_mode_write, 0x2F0000, 10);
    i8237_assert_dreq(d, 1);
    assert_int_equal(e->dev.nread, 0);
    vclock_advance(&e->m.clock, 400);
    vclock_run_due(&e->m.clock);
    assert_int_equal(e->dev.nread, 4);
    assert_int_equal(i8237_bytes_left(d, 1), 6);
    for (int i = 0; i < 4; i++) {
        uint64_t t;
        if (!vclock_next(&e->m.clock, &t))
            break;
        vclock_advance(&e->m.clock, t);
        vclock_run_due(&e->m.clock);
    }
    assert_int_equal(e->dev.nread, 10);
    assert_int_equal(e->dev.tcs, 1);
    assert_int_equal(d->tick, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_flipflop_and_readback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_page_ports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_single_write_to_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_word_channel_read_from_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_autoinit_ring, setup, teardown),
        cmocka_unit_test_setup_teardown(test_block_wrap_8bit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_block_end_exact_is_not_wrap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_block_wrap_16bit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decrement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_demand_pause_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_block_and_software_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_moves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_priority, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cascade_and_master_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_port_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bus_hook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clock, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
