/*
 * tests/hal/test_fixtures.c - every dma-* buggy-driver fixture stops with
 * its rule's exact bug check code and parameter 1.
 * Spec: spec/verifier.md 7, 9.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "support/fixture.h"

static const struct {
    const char *name;
    uint64_t p1;
} fixtures[] = {
    {"dma-common-buffer-double-free", 0x03},
    {"dma-channel-double-free", 0x04},
    {"dma-map-registers-double-free", 0x05},
    {"dma-sg-double-put", 0x06},
    {"dma-put-with-common-buffers", 0x07},
    {"dma-put-with-channels", 0x08},
    {"dma-put-with-map-registers", 0x09},
    {"dma-put-with-sg-lists", 0x0A},
    {"dma-channel-twice", 0x0B},
    {"dma-map-beyond-grant", 0x0C},
    {"dma-flush-missing", 0x0D},
    {"dma-unlocked-buffer", 0x0E},
    {"dma-free-while-mapped", 0x10},
    {"dma-irql", 0x13},
    {"dma-map-registers-over-max", 0x15},
    {"dma-flush-unmapped-buffer", 0x16},
    {"dma-adapter-after-put", 0x18},
    {"dma-null-adapter", 0x19},
    {"dma-va-outside-mdl", 0x1B},
    {"dma-double-map", 0x1D},
    {"dma-bad-buffer", 0x1F},
    {"dma-zero-length", 0x21},
    {"dma-unknown-description-version", 0x25},
    {"dma-bad-allocation-action", 0x57000001},
    {"dma-free-count-mismatch", 0x57000002},
    {"dma-common-buffer-mismatch", 0x57000003},
    {"dma-counter-on-master", 0x57000004},
    {"dma-map-register-use-after-free", 0x57000014},
    {"dma-wrong-release-api", 0x57000031},
    {"dma-flush-direction-mismatch", 0x57000032},
    {"dma-flush-range", 0x57000033},
};

static void test_all(void **state)
{
    for (unsigned i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++)
        fixture_expect_stop(fixtures[i].name, "standard", 0xE6, fixtures[i].p1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
