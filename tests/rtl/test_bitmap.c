/*
 * tests/rtl/test_bitmap.c - RTL_BITMAP (src/rtl/bitmap.c): every routine,
 * word boundaries, sizes that are not a multiple of 32, hint wrap-around,
 * and a randomized comparison with a bit-at-a-time model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <wdm.h>

static const ULONG none = 0xFFFFFFFF;

static void test_init_set_clear(void **state)
{
    ULONG buf[3] = {0xAAAAAAAA, 0xAAAAAAAA, 0xAAAAAAAA};
    RTL_BITMAP bm;
    RtlInitializeBitMap(&bm, buf, 70);
    assert_int_equal(bm.SizeOfBitMap, 70);
    assert_ptr_equal(bm.Buffer, buf);
    RtlClearAllBits(&bm);
    assert_int_equal(buf[0] | buf[1] | buf[2], 0);
    assert_int_equal(RtlNumberOfSetBits(&bm), 0);
    assert_int_equal(RtlNumberOfClearBits(&bm), 70);
    RtlSetAllBits(&bm);
    assert_int_equal(RtlNumberOfSetBits(&bm), 70); /* padding bits not counted */
    RtlClearAllBits(&bm);

    RtlSetBit(&bm, 0);
    RtlSetBit(&bm, 31);
    RtlSetBit(&bm, 32);
    RtlSetBit(&bm, 69);
    assert_int_equal(buf[0], 0x80000001);
    assert_int_equal(buf[1], 0x00000001);
    assert_int_equal(buf[2], 0x20);
    assert_true(RtlTestBit(&bm, 31));
    assert_false(RtlTestBit(&bm, 30));
    assert_false(RtlTestBit(&bm, 70)); /* out of range */
    RtlClearBit(&bm, 31);
    assert_false(RtlTestBit(&bm, 31));
    /* Out of range: no effect, nothing written past the bitmap. */
    RtlSetBit(&bm, 70);
    RtlSetBit(&bm, 1000);
    assert_int_equal(buf[2], 0x20);

    RtlClearAllBits(&bm);
    RtlSetBits(&bm, 30, 36); /* spans three words */
    assert_int_equal(buf[0], 0xC0000000);
    assert_int_equal(buf[1], 0xFFFFFFFF);
    assert_int_equal(buf[2], 0x3);
    assert_int_equal(RtlNumberOfSetBits(&bm), 36);
    RtlClearBits(&bm, 31, 34);
    assert_int_equal(buf[0], 0x40000000);
    assert_int_equal(buf[1], 0);
    assert_int_equal(buf[2], 0x2);
    /* Clipped to the bitmap. */
    RtlSetBits(&bm, 60, 100);
    assert_int_equal(buf[2], 0x3F);
    RtlSetBits(&bm, 5, 0);
    assert_false(RtlTestBit(&bm, 5));
}

static void test_are_bits(void **state)
{
    ULONG buf[2] = {0, 0};
    RTL_BITMAP bm;
    RtlInitializeBitMap(&bm, buf, 64);
    RtlSetBits(&bm, 10, 30);
    assert_true(RtlAreBitsSet(&bm, 10, 30));
    assert_true(RtlAreBitsSet(&bm, 12, 5));
    assert_false(RtlAreBitsSet(&bm, 9, 2));
    assert_false(RtlAreBitsSet(&bm, 39, 2));
    assert_true(RtlAreBitsClear(&bm, 0, 10));
    assert_true(RtlAreBitsClear(&bm, 40, 24));
    assert_false(RtlAreBitsClear(&bm, 40, 25)); /* past the end */
    assert_false(RtlAreBitsClear(&bm, 0, 11));
    assert_false(RtlAreBitsClear(&bm, 0, 0)); /* empty range */
    assert_false(RtlAreBitsSet(&bm, 10, 0));
    assert_false(RtlAreBitsClear(&bm, 0xFFFFFFFF, 2)); /* no index overflow */
}

static void test_find(void **state)
{
    ULONG buf[4] = {0};
    RTL_BITMAP bm;
    RtlInitializeBitMap(&bm, buf, 100);
    assert_int_equal(RtlFindClearBits(&bm, 10, 0), 0);
    assert_int_equal(RtlFindClearBits(&bm, 10, 50), 50);
    assert_int_equal(RtlFindClearBits(&bm, 100, 0), 0);
    assert_int_equal(RtlFindClearBits(&bm, 101, 0), none);
    assert_int_equal(RtlFindSetBits(&bm, 1, 0), none);
    /* Hint past the end is 0. */
    assert_int_equal(RtlFindClearBits(&bm, 5, 500), 0);
    /* A run does not wrap around the end. */
    assert_int_equal(RtlFindClearBits(&bm, 10, 95), 0);
    RtlSetBits(&bm, 0, 40);
    assert_int_equal(RtlFindClearBits(&bm, 10, 0), 40);
    assert_int_equal(RtlFindClearBits(&bm, 10, 95), 40); /* wraps to the start */
    assert_int_equal(RtlFindSetBits(&bm, 40, 20), 0);    /* wraps */
    assert_int_equal(RtlFindSetBits(&bm, 5, 20), 20);
    assert_int_equal(RtlFindSetBits(&bm, 41, 0), none);
    /* Runs that straddle word boundaries. */
    RtlClearAllBits(&bm);
    RtlSetBits(&bm, 0, 100);
    RtlClearBits(&bm, 28, 3);
    RtlClearBits(&bm, 60, 8);
    assert_int_equal(RtlFindClearBits(&bm, 3, 0), 28);
    assert_int_equal(RtlFindClearBits(&bm, 4, 0), 60);
    assert_int_equal(RtlFindClearBits(&bm, 3, 29), 60);
    assert_int_equal(RtlFindClearBits(&bm, 3, 62), 62);
    assert_int_equal(RtlFindClearBits(&bm, 8, 62), 60); /* wrap finds the run before */
    assert_int_equal(RtlFindClearBits(&bm, 9, 0), none);
    /* Zero bits: index 0. */
    assert_int_equal(RtlFindClearBits(&bm, 0, 50), 0);
}

static void test_find_and_flip(void **state)
{
    ULONG buf[2] = {0};
    RTL_BITMAP bm;
    RtlInitializeBitMap(&bm, buf, 64);
    assert_int_equal(RtlFindClearBitsAndSet(&bm, 20, 0), 0);
    assert_int_equal(RtlFindClearBitsAndSet(&bm, 20, 0), 20);
    assert_int_equal(RtlFindClearBitsAndSet(&bm, 20, 0), 40);
    assert_int_equal(RtlFindClearBitsAndSet(&bm, 5, 0), none);
    assert_int_equal(RtlNumberOfSetBits(&bm), 60);
    assert_int_equal(RtlFindClearBitsAndSet(&bm, 4, 0), 60);
    assert_int_equal(RtlNumberOfClearBits(&bm), 0);
    assert_int_equal(RtlFindSetBitsAndClear(&bm, 10, 30), 30);
    assert_true(RtlAreBitsClear(&bm, 30, 10));
    assert_int_equal(RtlFindSetBitsAndClear(&bm, 31, 0), none);
    assert_int_equal(RtlNumberOfSetBits(&bm), 54);
}

static void test_runs(void **state)
{
    ULONG buf[3] = {0};
    RTL_BITMAP bm;
    ULONG at = 77;
    RtlInitializeBitMap(&bm, buf, 80);
    assert_int_equal(RtlFindFirstRunClear(&bm, &at), 80);
    assert_int_equal(at, 0);
    assert_int_equal(RtlFindLongestRunClear(&bm, &at), 80);
    RtlSetBits(&bm, 0, 3);
    RtlSetBits(&bm, 10, 1);
    RtlSetBits(&bm, 50, 2);
    assert_int_equal(RtlFindFirstRunClear(&bm, &at), 7);
    assert_int_equal(at, 3);
    assert_int_equal(RtlFindLongestRunClear(&bm, &at), 39);
    assert_int_equal(at, 11);
    RtlSetAllBits(&bm);
    assert_int_equal(RtlFindFirstRunClear(&bm, &at), 0);
    assert_int_equal(RtlFindLongestRunClear(&bm, &at), 0);
    RtlClearBit(&bm, 79);
    assert_int_equal(RtlFindFirstRunClear(&bm, &at), 1);
    assert_int_equal(at, 79);
}

/* ---- random operations against a bit-at-a-time model --------------------- */

static int model_run(const unsigned char *m, unsigned size, unsigned n, unsigned hint, int v)
{
    if (n == 0)
        return 0;
    if (hint >= size)
        hint = 0;
    for (unsigned pass = 0; pass < 2; pass++) {
        unsigned from = pass ? 0 : hint;
        unsigned to = pass ? hint : size;
        for (unsigned s = from; s < to && s + n <= size; s++) {
            unsigned k = 0;
            while (k < n && m[s + k] == v)
                k++;
            if (k == n)
                return (int)s;
        }
    }
    return -1;
}

static void test_random_model(void **state)
{
    srand(12345);
    for (unsigned round = 0; round < 200; round++) {
        unsigned size = 1 + (unsigned)rand() % 200;
        ULONG buf[8] = {0};
        unsigned char m[256] = {0};
        RTL_BITMAP bm;
        RtlInitializeBitMap(&bm, buf, size);
        for (unsigned op = 0; op < 40; op++) {
            unsigned a = (unsigned)rand() % size, n = (unsigned)rand() % 40;
            int v = rand() & 1;
            if (op % 3 == 0) {
                if (v)
                    RtlSetBits(&bm, a, n);
                else
                    RtlClearBits(&bm, a, n);
                for (unsigned k = a; k < a + n && k < size; k++)
                    m[k] = (unsigned char)v;
            } else {
                int want = model_run(m, size, n, a, v);
                ULONG got = v ? RtlFindSetBits(&bm, n, a) : RtlFindClearBits(&bm, n, a);
                assert_int_equal(got, want < 0 ? none : (ULONG)want);
            }
            unsigned set = 0;
            for (unsigned k = 0; k < size; k++)
                set += m[k];
            assert_int_equal(RtlNumberOfSetBits(&bm), set);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_set_clear), cmocka_unit_test(test_are_bits),
        cmocka_unit_test(test_find),           cmocka_unit_test(test_find_and_flip),
        cmocka_unit_test(test_runs),           cmocka_unit_test(test_random_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
