/*
 * tests/ke/test_rules.c - each IRQL and lock rule's buggy-driver fixture ends
 * in the exact bug check code and parameter 1 (spec verifier.md 4).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ke/kesim.h"
#include "support/fixture.h"
#include "sys.h"
#include <wdm.h>

static void raise_lower(void **s)
{
    (void)s;
    fixture_expect_stop("irql-raise-lower", NULL, 0xC4, 0x30);
}
static void lower_higher(void **s)
{
    (void)s;
    fixture_expect_stop("irql-lower-higher", NULL, 0xC4, 0x31);
}
static void api(void **s)
{
    (void)s;
    fixture_expect_stop("irql-api", NULL, 0xC4, 0x00020011);
}
static void paged_code(void **s)
{
    (void)s;
    fixture_expect_stop("irql-paged-code", NULL, 0xC4, 0x57000001);
}
static void release_not_dispatch(void **s)
{
    (void)s;
    fixture_expect_stop("lock-release-not-dispatch", NULL, 0xC4, 0x32);
}
static void atdpc(void **s)
{
    (void)s;
    fixture_expect_stop("lock-atdpc-below-dispatch", NULL, 0xC4, 0x40);
}
static void above_dispatch(void **s)
{
    (void)s;
    fixture_expect_stop("lock-acquire-above-dispatch", NULL, 0xC4, 0x42);
}
static void kernel_release(void **s)
{
    (void)s;
    fixture_expect_stop("lock-kernel-release", NULL, 0xC4, 0x35);
}
static void recursive(void **s)
{
    (void)s;
    fixture_expect_stop("lock-recursive", NULL, 0xC4, 0x1000);
}
static void release_unowned(void **s)
{
    (void)s;
    fixture_expect_stop("lock-release-unowned", NULL, 0xC4, 0x1007);
}
static void order(void **s)
{
    (void)s;
    fixture_expect_stop("lock-order", NULL, 0xC4, 0x1001);
}
static void fast_mutex(void **s)
{
    (void)s;
    fixture_expect_stop("lock-fast-mutex", NULL, 0xC4, 0x33);
}
static void wait_at_dispatch(void **s)
{
    (void)s;
    fixture_expect_stop("ke-wait-at-dispatch", NULL, 0xC4, 0x120);
}
static void setevent(void **s)
{
    (void)s;
    fixture_expect_stop("ke-setevent-irql", NULL, 0xC4, 0x80);
}
static void wait_forever(void **s)
{
    (void)s;
    fixture_expect_stop("ke-wait-forever", NULL, 0xC4, 0x5700000C);
}

/* irql.isr and io.interrupt-storm: their fixtures serve a piofifo that
 * interrupts; tests/ke/test_rules_device.c runs them. */

/* Every rule of this layer names a fixture folder that exists. */
static void catalogue(void **s)
{
    (void)s;
    const char *src = getenv("WDMSIM_SOURCE");
    for (unsigned i = 0; i < ke_vf_rule_count; i++) {
        const struct vf_rule *r = ke_vf_rules[i];
        assert_non_null(vf_rule_find(r->id));
        char path[512];
        char folder[128];
        sscanf(r->fixture, "%127s", folder);
        snprintf(path, sizeof(path), "%s/%s", src ? src : ".", folder);
        if (access(path, F_OK))
            fail_msg("rule %s: fixture %s missing", r->id, path);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(catalogue),       cmocka_unit_test(raise_lower),
        cmocka_unit_test(lower_higher),    cmocka_unit_test(api),
        cmocka_unit_test(paged_code),      cmocka_unit_test(release_not_dispatch),
        cmocka_unit_test(atdpc),           cmocka_unit_test(above_dispatch),
        cmocka_unit_test(kernel_release),  cmocka_unit_test(recursive),
        cmocka_unit_test(release_unowned), cmocka_unit_test(order),
        cmocka_unit_test(fast_mutex),      cmocka_unit_test(wait_at_dispatch),
        cmocka_unit_test(setevent),        cmocka_unit_test(wait_forever),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
