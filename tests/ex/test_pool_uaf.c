/*
 * tests/ex/test_pool_uaf.c - a driver that writes into pool it freed, or
 * frees what it should not, never takes the host down.
 *
 * Spec: spec/verifier.md 1 (pool.freelist-corrupt, pool.header-corrupt,
 * pool.free-mid-block, pool.double-free). The pool keeps list links in the
 * bodies of freed blocks (cache lists, depot batches, heap free lists): a
 * write after free of NULL, of a number, or of a pointer to a live block
 * must stop with 0x19/0x3 instead of being followed. Also: a header
 * damaged on a page whose record is its bitmap (the free reads the size
 * there), a cache-aligned block freed by its header's body address, and
 * double frees and damaged headers with 8 KiB pages. Each case runs with
 * pool tracking off ("none": the fast free) and on ("standard").
 */
/* WDK tags are multi-character constants. */
#pragma GCC diagnostic ignored "-Wmultichar"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <wdm.h>
#include <wdmsim/wdmsim.h>

#include "ex/pool_impl.h"
#include "support/fixture.h"
#include "sys.h"

static const char *machine_path;

/* body(arg) must stop the machine with code / p1, with pool tracking off
 * and on. */
static void expect_stop(void (*body)(void *), void *arg, uint32_t code, uint64_t p1)
{
    expect_call_stop(machine_path, "none", body, arg, code, p1);
    expect_call_stop(machine_path, "standard", body, arg, code, p1);
}

static struct ex_clist *list_of(SIZE_T n)
{
    struct ex *ex = &sys_get()->ex;
    unsigned u = ex->unit_class[1 + (n + ex_unit - 1) / ex_unit];
    return &ex_cache_get(ex)->kind[ex_kind_nx].list[u];
}

/* The frees so far are parked, as the next pending batch would be. */
static void park(void)
{
    struct ex *ex = &sys_get()->ex;
    ex_cache_park(ex, ex_cache_get(ex));
}

/* ---- writes after free into list links --------------------------------------- */

/* NULL into the first field of the block freed last: the next allocation
 * of that size is handed that block and must not take NULL for the end of
 * the list (its count says otherwise). */
static void null_head_body(void *arg)
{
    (void)arg;
    uint8_t *q[64];
    for (int i = 0; i < 64; i++)
        q[i] = ExAllocatePoolWithTag(NonPagedPoolNx, 1000, 'FAUN');
    for (int i = 0; i < 64; i++)
        ExFreePoolWithTag(q[i], 'FAUN');
    park();
    struct ex_hdr *head = list_of(1000)->head;
    *(void **)(head + 1) = NULL;
    for (int i = 0; i < 64; i++)
        q[i] = ExAllocatePoolWithTag(NonPagedPoolNx, 1000, 'FAUN');
    for (int i = 0; i < 64; i++)
        ExFreePoolWithTag(q[i], 'FAUN');
    park();
}

/* A number into the first field of the second block on the list: the
 * flush that walks the list when it passes its limit must not follow it. */
static void deep_body(void *arg)
{
    (void)arg;
    enum { n = 64 + 40 };
    uint8_t *q[n];
    for (int i = 0; i < n; i++)
        q[i] = ExAllocatePoolWithTag(NonPagedPoolNx, 1000, 'FAUD');
    for (int i = 0; i < 64; i++)
        ExFreePoolWithTag(q[i], 'FAUD');
    park();
    assert_ptr_equal(list_of(1000)->head, (struct ex_hdr *)q[63] - 1);
    *(uint64_t *)q[62] = 0x12345; /* freed, still written */
    for (int i = 64; i < n; i++) {
        ExFreePoolWithTag(q[i], 'FAUD');
        park();
    }
}

/* The second field of the block heading a depot batch (where the pool
 * links batches): the refill that takes the batch must not follow it. */
static void batch_body(void *arg)
{
    (void)arg;
    struct ex *ex = &sys_get()->ex;
    enum { n = 200 };
    uint8_t *q[n];
    for (int i = 0; i < n; i++)
        q[i] = ExAllocatePoolWithTag(NonPagedPoolNx, 1000, 'FAUB');
    for (int i = 0; i < n; i++)
        ExFreePoolWithTag(q[i], 'FAUB');
    park();
    unsigned u = ex->unit_class[1 + (1000 + ex_unit - 1) / ex_unit];
    struct ex_hdr *b = NULL;
    for (int i = 0; i < ex_heaps && !b; i++)
        b = ex->heaps[i][ex_kind_nx].depot[u];
    assert_non_null(b);
    ((uint64_t *)(b + 1))[1] = 7;
    for (int i = 0; i < n; i++)
        q[i] = ExAllocatePoolWithTag(NonPagedPoolNx, 1000, 'FAUB');
}

/* An end pointer (the end of live buffer a, which is the header of its
 * live neighbour b) into a freed block's first field: b must not be
 * handed out a second time. */
static void end_pointer_body(void *arg)
{
    (void)arg;
    uint8_t *q[64], *a = NULL;
    for (int i = 0; i < 64; i++)
        q[i] = ExAllocatePoolWithTag(NonPagedPoolNx, 1008, 'dnEU');
    for (int i = 0; i < 64 && !a; i++)
        for (int j = 0; j < 64; j++)
            if (q[j] == q[i] + 1024)
                a = q[i];
    assert_non_null(a);
    uint8_t *x = ExAllocatePoolWithTag(NonPagedPoolNx, 1008, 'dnEU');
    ExFreePoolWithTag(x, 'dnEU');
    park();
    *(uint8_t **)x = a + 1008;
    uint8_t *y = ExAllocatePoolWithTag(NonPagedPoolNx, 1008, 'dnEU');
    uint8_t *z = ExAllocatePoolWithTag(NonPagedPoolNx, 1008, 'dnEU');
    (void)y;
    (void)z;
}

static void test_write_after_free(void **state)
{
    (void)state;
    expect_stop(null_head_body, NULL, 0x19, 0x3);
    expect_stop(deep_body, NULL, 0x19, 0x3);
    expect_stop(batch_body, NULL, 0x19, 0x3);
    expect_stop(end_pointer_body, NULL, 0x19, 0x3);
}

/* ---- headers and addresses the free path must refuse ------------------------ */

/* A three-byte overrun into the header of a block on a page whose record
 * is its bitmap (blocks of 64 bytes): PreviousSize kept, BlockSize 48
 * units. The free reads the size there and must not count or park the
 * block by it. */
static void bitmap_size_body(void *arg)
{
    (void)arg;
    struct ex *ex = &sys_get()->ex;
    enum { n = 200 };
    uint8_t *q[n], *a = NULL, *b = NULL;
    for (int i = 0; i < n; i++)
        q[i] = ExAllocatePoolWithTag(NonPagedPoolNx, 48, 'tiBD');
    for (int i = 0; i < n && !b; i++)
        for (int j = 0; j < n; j++)
            if (q[j] == q[i] + 64 && ex_prec_of(ex, ex_page_index(ex, q[j]))->bits) {
                a = q[i];
                b = q[j];
                break;
            }
    assert_non_null(b);
    a[49] = 0;
    a[50] = 0x30;
    ExFreePoolWithTag(b, 'tiBD');
}

/* A cache-aligned block freed by the body address of its real header
 * (before its pad): not the block's start. */
static void aligned_body(void *arg)
{
    (void)arg;
    struct ex *ex = &sys_get()->ex;
    uint8_t *x = NULL;
    for (int i = 0; i < 4096 && !x; i++) {
        uint8_t *q = ExAllocatePoolWithTag(NonPagedPoolNxCacheAligned, 80, 'daPC');
        if (((struct ex_hdr *)q - 1)->type & ex_hdr_pad)
            x = q;
    }
    assert_non_null(x);
    struct ex_hdr *real = ex_pad_real(ex, (struct ex_hdr *)x - 1);
    assert_non_null(real);
    assert_int_equal(ex_pool_block_bytes(ex, real + 1), 0);
    ExFreePoolWithTag(real + 1, 'daPC');
}

static void test_refused_frees(void **state)
{
    (void)state;
    expect_stop(bitmap_size_body, NULL, 0x19, 0x20);
    expect_stop(aligned_body, NULL, 0xC2, 0x41286);
}

/* ---- 8 KiB pages: every page record is a bitmap -------------------------------- */

static void double_free_body(void *arg)
{
    (void)arg;
    uint8_t *p = ExAllocatePoolWithTag(NonPagedPoolNx, 200, 'lbuD');
    ExFreePoolWithTag(p, 'lbuD');
    ExFreePoolWithTag(p, 'lbuD');
}

static void damaged_size_body(void *arg)
{
    (void)arg;
    uint8_t *q[64], *a = NULL, *b = NULL;
    for (int i = 0; i < 64; i++)
        q[i] = ExAllocatePoolWithTag(NonPagedPoolNx, 48, 'maDS');
    for (int i = 0; i < 64 && !b; i++)
        for (int j = 0; j < 64; j++)
            if (q[j] == q[i] + 64) {
                a = q[i];
                b = q[j];
                break;
            }
    assert_non_null(b);
    a[50] = 0x30;
    ExFreePool(b);
}

static void test_8k_pages(void **state)
{
    (void)state;
    char path[] = "/tmp/wdmsim-8k-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char ini[] = "[machine]\nprocessors = 2\npage_size = 8192\n"
                              "[memory]\nram = 0 - 640K\nram = 1M - 2G\n";
    assert_int_equal(write(fd, ini, sizeof(ini) - 1), (ssize_t)(sizeof(ini) - 1));
    close(fd);
    machine_path = path;
    expect_stop(double_free_body, NULL, 0xC4, 0x13);
    expect_stop(damaged_size_body, NULL, 0x19, 0x20);
    expect_stop(null_head_body, NULL, 0x19, 0x3);
    machine_path = NULL;
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_after_free),
        cmocka_unit_test(test_refused_frees),
        cmocka_unit_test(test_8k_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
