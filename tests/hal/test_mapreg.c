/*
 * tests/hal/test_mapreg.c - the map-register file: lowest-fit runs, FIFO
 * waiters, grants that free inside the grant, generations, tokens, index.
 * Spec: spec/dma.md 3 (queueing), 4.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "hal/hal.h"

static void test_alloc_free_lowest_fit(void **state)
{
    struct hal_mapreg_file f;
    uint32_t g1, g2, g3;
    assert_int_equal(hal_mapreg_init(&f, 100), 0);
    assert_int_equal(hal_mapreg_alloc(&f, 10, &g1), 0);
    assert_int_equal(hal_mapreg_alloc(&f, 60, &g2), 10);
    assert_int_equal(hal_mapreg_alloc(&f, 31, &g3), -1); /* only 30 left */
    assert_int_equal(hal_mapreg_alloc(&f, 30, &g3), 70);
    assert_int_equal(f.nfree, 0);
    assert_true(hal_mapreg_check(&f));
    hal_mapreg_free(&f, 0, 10);
    hal_mapreg_free(&f, 70, 30);
    /* 10 free at 0, 30 at 70: a run of 20 goes to the first hole that fits */
    assert_int_equal(hal_mapreg_alloc(&f, 20, &g1), 70);
    assert_int_equal(hal_mapreg_alloc(&f, 5, &g1), 0);
    assert_true(hal_mapreg_check(&f));
    assert_int_equal(hal_mapreg_alloc(&f, 0, &g1), -1);
    assert_int_equal(hal_mapreg_alloc(&f, 101, &g1), -1);
    hal_mapreg_fini(&f);
}

/* A run across the 64-bit word boundary of the bitmap. */
static void test_run_across_words(void **state)
{
    struct hal_mapreg_file f;
    uint32_t g;
    assert_int_equal(hal_mapreg_init(&f, 130), 0);
    assert_int_equal(hal_mapreg_alloc(&f, 60, &g), 0);
    assert_int_equal(hal_mapreg_alloc(&f, 10, &g), 60);
    assert_int_equal(hal_mapreg_alloc(&f, 60, &g), 70);
    assert_int_equal(hal_mapreg_alloc(&f, 1, &g), -1); /* all 130 taken */
    hal_mapreg_free(&f, 60, 10);
    assert_int_equal(hal_mapreg_alloc(&f, 10, &g), 60);
    assert_true(hal_mapreg_check(&f));
    hal_mapreg_fini(&f);
}

struct grant_log {
    char order[16];
    unsigned n;
    unsigned first[16];
    uint32_t gen[16];
    struct hal_mapreg_file *f;
    bool free_inside; /* DeallocateObject: give the registers back at once */
};

struct waiter {
    struct hal_mapreg_waiter w;
    struct grant_log *log;
    char name;
};

static void on_grant(void *ctx, unsigned first, unsigned n, uint32_t gen)
{
    struct waiter *w = ctx;
    struct grant_log *l = w->log;
    l->order[l->n] = w->name;
    l->first[l->n] = first;
    l->gen[l->n] = gen;
    l->n++;
    if (l->free_inside)
        hal_mapreg_free(l->f, first, n);
}

static void queue(struct hal_mapreg_file *f, struct waiter *w, char name, unsigned n,
                  struct grant_log *log)
{
    w->name = name;
    w->log = log;
    w->w.n = n;
    w->w.grant = on_grant;
    w->w.ctx = w;
    hal_mapreg_wait(f, &w->w);
}

/* FIFO: the head waiter blocks later ones even when they would fit, and a
 * queued request makes a fresh allocation wait its turn. */
static void test_fifo_wait(void **state)
{
    struct hal_mapreg_file f;
    struct grant_log log = {0};
    struct waiter a, b;
    uint32_t g;
    assert_int_equal(hal_mapreg_init(&f, 8), 0);
    log.f = &f;
    assert_int_equal(hal_mapreg_alloc(&f, 4, &g), 0);
    assert_int_equal(hal_mapreg_alloc(&f, 1, &g), 4);
    assert_int_equal(hal_mapreg_alloc(&f, 3, &g), 5);
    queue(&f, &a, 'A', 3, &log);
    queue(&f, &b, 'B', 1, &log);
    assert_int_equal(hal_mapreg_alloc(&f, 1, &g), -1);
    hal_mapreg_free(&f, 4, 1); /* 1 free: B would fit but A is first */
    assert_int_equal(log.n, 0);
    assert_int_equal(hal_mapreg_alloc(&f, 1, &g), -1); /* nor may a newcomer pass */
    hal_mapreg_free(&f, 5, 3);
    assert_int_equal(log.n, 2);
    assert_memory_equal(log.order, "AB", 2);
    assert_int_equal(log.first[0], 4);
    assert_int_equal(log.first[1], 7);
    assert_true(log.gen[0] != log.gen[1]);
    assert_true(hal_mapreg_run_valid(&f, 4, 3, log.gen[0]));
    assert_true(hal_mapreg_check(&f));
    hal_mapreg_fini(&f);
}

/* A grant that frees its registers at once (DeallocateObject) lets the
 * next waiter in, in order, without recursion. */
static void test_grant_frees_inside(void **state)
{
    struct hal_mapreg_file f;
    struct grant_log log = {0};
    struct waiter w[5];
    uint32_t g;
    assert_int_equal(hal_mapreg_init(&f, 4), 0);
    log.f = &f;
    log.free_inside = true;
    assert_int_equal(hal_mapreg_alloc(&f, 4, &g), 0);
    for (int i = 0; i < 5; i++)
        queue(&f, &w[i], (char)('a' + i), 4, &log);
    hal_mapreg_free(&f, 0, 4);
    assert_int_equal(log.n, 5);
    assert_memory_equal(log.order, "abcde", 5);
    assert_int_equal(f.nfree, 4);
    assert_null(f.wait_head);
    assert_true(hal_mapreg_check(&f));
    hal_mapreg_fini(&f);
}

static void test_cancel(void **state)
{
    struct hal_mapreg_file f;
    struct grant_log log = {0};
    struct waiter a, b;
    uint32_t g;
    assert_int_equal(hal_mapreg_init(&f, 2), 0);
    log.f = &f;
    assert_int_equal(hal_mapreg_alloc(&f, 2, &g), 0);
    queue(&f, &a, 'A', 2, &log);
    queue(&f, &b, 'B', 2, &log);
    assert_true(hal_mapreg_cancel(&f, &a.w));
    assert_false(hal_mapreg_cancel(&f, &a.w));
    hal_mapreg_free(&f, 0, 2);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.order[0], 'B');
    hal_mapreg_fini(&f);
}

/* Generations make a stale run (freed and reallocated) recognisable. */
static void test_generations_and_tokens(void **state)
{
    struct hal_mapreg_file f;
    uint32_t g1, g2;
    assert_int_equal(hal_mapreg_init(&f, 16), 0);
    assert_int_equal(hal_mapreg_alloc(&f, 3, &g1), 0);
    assert_true(hal_mapreg_run_valid(&f, 0, 3, g1));
    assert_false(hal_mapreg_run_valid(&f, 0, 2, g1));
    assert_false(hal_mapreg_run_valid(&f, 1, 2, g1));
    hal_mapreg_free(&f, 0, 3);
    assert_false(hal_mapreg_run_valid(&f, 0, 3, g1));
    assert_int_equal(hal_mapreg_alloc(&f, 3, &g2), 0);
    assert_true(g1 != g2);
    assert_false(hal_mapreg_run_valid(&f, 0, 3, g1));
    assert_true(hal_mapreg_run_valid(&f, 0, 3, g2));

    void *base = hal_base_encode(0x123, 7, g2);
    unsigned id, first;
    uint32_t gen;
    assert_non_null(base);
    assert_true(hal_base_decode(base, &id, &first, &gen));
    assert_int_equal(id, 0x123);
    assert_int_equal(first, 7);
    assert_int_equal(gen, g2);
    assert_false(hal_base_decode((void *)0x1000, &id, &first, &gen));
    hal_mapreg_fini(&f);
}

/* The logical-page index finds mapped registers only, after any change. */
static void test_lookup_index(void **state)
{
    struct hal_mapreg_file f;
    uint32_t g;
    assert_int_equal(hal_mapreg_init(&f, 64), 0);
    assert_int_equal(hal_mapreg_alloc(&f, 64, &g), 0);
    for (unsigned i = 0; i < 64; i++) {
        f.reg[i].target = 1000 + 7 * i;
        hal_mapreg_set_mapped(&f, i);
    }
    for (unsigned i = 0; i < 64; i++)
        assert_int_equal(hal_mapreg_lookup(&f, 1000 + 7 * i), (int)i);
    assert_int_equal(hal_mapreg_lookup(&f, 1001), -1);
    hal_mapreg_set_unmapped(&f, 5);
    assert_int_equal(hal_mapreg_lookup(&f, 1035), -1);
    assert_int_equal(hal_mapreg_lookup(&f, 1042), 6);
    assert_true(hal_mapreg_check(&f));
    hal_mapreg_free(&f, 0, 64);
    assert_int_equal(hal_mapreg_lookup(&f, 1042), -1);
    assert_int_equal(f.nmapped, 0);
    hal_mapreg_fini(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_free_lowest_fit),
        cmocka_unit_test(test_run_across_words),
        cmocka_unit_test(test_fifo_wait),
        cmocka_unit_test(test_grant_frees_inside),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_generations_and_tokens),
        cmocka_unit_test(test_lookup_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
