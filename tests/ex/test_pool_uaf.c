/*
 * tests/ex/test_pool_uaf.c - a driver that writes into pool it freed, or
 * frees what it should not, never takes the host down.
 *
 * Spec: spec/verifier.md 1 (pool.freelist-corrupt, pool.header-corrupt,
 * pool.free-mid-block, pool.double-free). Parked blocks (caches, depot)
 * carry nothing of the pool's, so a write after free into them leaves the
 * pool sound; the heaps' free lists keep links in freed bodies, and a
 * write after free of NULL, of a number, or of a pointer to a live block
 * there must stop with 0x19/0x3 instead of being followed. Also: a header
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

/* ---- writes after free ---------------------------------------------------------- */

enum { nblk = 2000 };

/* Writes into the first two words of every block of q after their free:
 * NULL, a number, and a pointer to a live block's header (the end of a
 * live buffer), the usual shapes of a use after free. */
static void scribble(uint8_t **q, int n, uint8_t *live_end)
{
    struct ex *ex = &sys_get()->ex;
    for (int i = 0; i < n; i++) {
        void **w = (void **)q[i];
        /* a page the heap gave back to mm would fault: another stop */
        if (ex_pm_get(ex, ex_page_index(ex, w)) < ex_pm_small ||
            ex_pm_get(ex, ex_page_index(ex, w)) >= ex_pm_small + ex_kind_count)
            continue;
        w[0] = i % 3 == 0 ? NULL : i % 3 == 1 ? (void *)0x12345 : (void *)live_end;
        w[1] = (void *)7;
    }
}

/* Blocks parked in a cache or the depot carry nothing of the pool's: a
 * write into them after their free must leave the pool sound. The blocks
 * handed out again are the parked ones, each once, and never the live
 * block whose end was written. */
static void parked_body(void *arg)
{
    (void)arg;
    uint8_t *q[64], *r[64];
    uint8_t *live = ExAllocatePoolWithTag(NonPagedPoolNx, 1008, 'evil');
    for (int i = 0; i < 64; i++)
        q[i] = ExAllocatePoolWithTag(NonPagedPoolNx, 1008, 'krPW');
    for (int i = 0; i < 64; i++)
        ExFreePoolWithTag(q[i], 'krPW');
    scribble(q, 64, live + 1008);
    for (int i = 0; i < 64; i++) {
        r[i] = ExAllocatePoolWithTag(NonPagedPoolNx, 1008, 'krPW');
        assert_true(r[i] != live);
        for (int j = 0; j < i; j++)
            assert_true(r[i] != r[j]);
    }
    for (int i = 0; i < 64; i++)
        ExFreePoolWithTag(r[i], 'krPW');
    ExFreePoolWithTag(live, 'evil');
    struct ex_tag_stat st = ex_pool_tag_stat(&sys_get()->ex, 'krPW', -1);
    assert_int_equal(st.allocs, 128);
    assert_int_equal(st.frees, 128);
    assert_int_equal(st.bytes, 0);
}

/* Far more blocks than the caches and the depot keep: most go back to the
 * heap's free lists and empty pages, which are linked through the freed
 * bodies. A write after free there must stop the machine (0x19/0x3) when
 * the pool next follows the link, not send it astray. */
static void heap_lists_body(void *arg)
{
    (void)arg;
    static uint8_t *q[nblk];
    for (int i = 0; i < nblk; i++)
        q[i] = ExAllocatePoolWithTag(NonPagedPoolNx, 1000, 'FAUH');
    for (int i = 0; i < nblk; i++)
        ExFreePoolWithTag(q[i], 'FAUH');
    scribble(q, nblk, NULL);
    for (int i = 0; i < nblk; i++)
        q[i] = ExAllocatePoolWithTag(NonPagedPoolNx, 1000, 'FAUH');
}

static void test_write_after_free(void **state)
{
    (void)state;
    for (int m = 0; m < 2; m++) {
        struct wdmsim_config cfg = {
            .seed = 5, .verifier = m ? "standard" : "none", .machine_path = machine_path};
        wdmsim *sim;
        struct wdmsim_error err;
        assert_int_equal(wdmsim_boot(&cfg, &sim, &err), WDMSIM_OK);
        assert_int_equal(wdmsim_call(sim, parked_body, NULL), WDMSIM_OK);
        wdmsim_shutdown(sim);
    }
    expect_stop(heap_lists_body, NULL, 0x19, 0x3);
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
    char path[32];
    write_machine_8k(path);
    machine_path = path;
    expect_stop(double_free_body, NULL, 0xC4, 0x13);
    expect_stop(damaged_size_body, NULL, 0x19, 0x20);
    expect_stop(heap_lists_body, NULL, 0x19, 0x3);
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
