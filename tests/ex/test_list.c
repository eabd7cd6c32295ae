/*
 * tests/ex/test_list.c - LIST_ENTRY, SINGLE_LIST_ENTRY, SLIST and the
 * interlocked list routines, with their integrity checks (src/ex/list*.c,
 * include/ddk/wdm/lists.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

/* pool tags are multi-character constants, as in driver code */
#pragma GCC diagnostic ignored "-Wmultichar"

#include <wdm.h>
#include <wdmsim/wdmsim.h>

#include "sys.h"
#include "support/fixture.h"

static wdmsim *sim;

static int setup(void **state)
{
    (void)state;
    struct wdmsim_config cfg = {.seed = 3};
    struct wdmsim_error err;
    return wdmsim_boot(&cfg, &sim, &err);
}

static int teardown(void **state)
{
    (void)state;
    wdmsim_shutdown(sim);
    return 0;
}

struct item {
    int value;
    LIST_ENTRY link;
};

static int value_of(PLIST_ENTRY e)
{
    return CONTAINING_RECORD(e, struct item, link)->value;
}

static void doubly_linked(void **state)
{
    (void)state;
    LIST_ENTRY head;
    struct item it[5];
    InitializeListHead(&head);
    assert_true(IsListEmpty(&head));
    assert_ptr_equal(RemoveHeadList(&head), &head); /* empty: the head itself */
    assert_ptr_equal(RemoveTailList(&head), &head);
    for (int i = 0; i < 5; i++)
        it[i].value = i;
    InsertTailList(&head, &it[1].link);
    InsertTailList(&head, &it[2].link);
    InsertHeadList(&head, &it[0].link);
    assert_false(IsListEmpty(&head));
    assert_int_equal(value_of(head.Flink), 0);
    assert_int_equal(value_of(head.Blink), 2);
    assert_false(RemoveEntryList(&it[1].link));
    assert_int_equal(value_of(RemoveHeadList(&head)), 0);
    assert_int_equal(value_of(RemoveTailList(&head)), 2);
    assert_true(IsListEmpty(&head));
    InsertTailList(&head, &it[3].link);
    assert_true(RemoveEntryList(&it[3].link)); /* now empty */

    /* AppendTailList: a headless ring 3 <-> 4 goes after 0 */
    InsertTailList(&head, &it[0].link);
    InitializeListHead(&it[3].link);
    InsertTailList(&it[3].link, &it[4].link);
    AppendTailList(&head, &it[3].link);
    int order[3], n = 0;
    for (PLIST_ENTRY e = head.Flink; e != &head; e = e->Flink)
        order[n++] = value_of(e);
    assert_int_equal(n, 3);
    assert_int_equal(order[0], 0);
    assert_int_equal(order[1], 3);
    assert_int_equal(order[2], 4);
    assert_int_equal(value_of(head.Blink), 4);
    assert_ptr_equal(head.Blink->Flink, &head);
}

static void singly_linked(void **state)
{
    (void)state;
    SINGLE_LIST_ENTRY head = {NULL}, a, b;
    assert_null(PopEntryList(&head));
    PushEntryList(&head, &a);
    PushEntryList(&head, &b);
    assert_ptr_equal(PopEntryList(&head), &b);
    assert_ptr_equal(PopEntryList(&head), &a);
    assert_null(PopEntryList(&head));
}

/* ---- SLIST ---------------------------------------------------------------- */

static void slist_body(void *arg)
{
    (void)arg;
    static SLIST_HEADER head;
    static SLIST_ENTRY e[3];
    assert_int_equal(sizeof(SLIST_HEADER), 16);
    assert_int_equal(_Alignof(SLIST_HEADER), 16);
    InitializeSListHead(&head);
    assert_int_equal(ExQueryDepthSList(&head), 0);
    assert_null(InterlockedPopEntrySList(&head));
    assert_null(InterlockedPushEntrySList(&head, &e[0]));
    assert_ptr_equal(ExInterlockedPushEntrySList(&head, &e[1], NULL), &e[0]);
    assert_ptr_equal(InterlockedPushEntrySList(&head, &e[2]), &e[1]);
    assert_int_equal(ExQueryDepthSList(&head), 3);
    assert_ptr_equal(FirstEntrySList(&head), &e[2]);
    uint64_t seq = head.HeaderX64.Sequence;
    assert_int_equal(seq, 3); /* one per push */
    assert_ptr_equal(ExInterlockedPopEntrySList(&head, NULL), &e[2]);
    assert_int_equal(ExQueryDepthSList(&head), 2);
    PSLIST_ENTRY all = InterlockedFlushSList(&head);
    assert_ptr_equal(all, &e[1]);
    assert_ptr_equal(all->Next, &e[0]);
    assert_null(e[0].Next);
    assert_int_equal(ExQueryDepthSList(&head), 0);
    assert_null(ExInterlockedFlushSList(&head));
    assert_null(InterlockedPopEntrySList(&head));
}

static void slist(void **state)
{
    (void)state;
    assert_int_equal(wdmsim_call(sim, slist_body, NULL), WDMSIM_OK);
}

/* The same with host threads sharing the machine: the cmpxchg16b loops. */
static void set_atomic(void *arg)
{
    sys_get()->ex.slist_atomic = arg != NULL;
}

static void slist_atomic(void **state)
{
    (void)state;
    assert_int_equal(wdmsim_call(sim, set_atomic, (void *)1), WDMSIM_OK);
    assert_int_equal(wdmsim_call(sim, slist_body, NULL), WDMSIM_OK);
    assert_int_equal(wdmsim_call(sim, set_atomic, NULL), WDMSIM_OK);
}

/* ---- interlocked lists ---------------------------------------------------------- */

static void interlocked_body(void *arg)
{
    (void)arg;
    KSPIN_LOCK lock = 0;
    LIST_ENTRY head;
    struct item a = {.value = 1}, b = {.value = 2}, c = {.value = 3};
    uint8_t irql = ke_irql(&sys_get()->ke);
    InitializeListHead(&head);
    assert_null(ExInterlockedInsertHeadList(&head, &a.link, &lock));
    assert_ptr_equal(ExInterlockedInsertTailList(&head, &b.link, &lock), &a.link);
    assert_ptr_equal(ExInterlockedInsertHeadList(&head, &c.link, &lock), &a.link);
    assert_int_equal(lock, 0); /* released */
    assert_int_equal(ke_irql(&sys_get()->ke), irql);
    assert_int_equal(value_of(ExInterlockedRemoveHeadList(&head, &lock)), 3);
    assert_int_equal(value_of(ExInterlockedRemoveHeadList(&head, &lock)), 1);
    assert_int_equal(value_of(ExInterlockedRemoveHeadList(&head, &lock)), 2);
    assert_null(ExInterlockedRemoveHeadList(&head, &lock));

    SINGLE_LIST_ENTRY shead = {NULL}, s1, s2;
    assert_null(ExInterlockedPushEntryList(&shead, &s1, &lock));
    assert_ptr_equal(ExInterlockedPushEntryList(&shead, &s2, &lock), &s1);
    assert_ptr_equal(ExInterlockedPopEntryList(&shead, &lock), &s2);
    assert_ptr_equal(ExInterlockedPopEntryList(&shead, &lock), &s1);
    assert_null(ExInterlockedPopEntryList(&shead, &lock));
    assert_int_equal(lock, 0);
}

static void interlocked(void **state)
{
    (void)state;
    assert_int_equal(wdmsim_call(sim, interlocked_body, NULL), WDMSIM_OK);
}

/* ---- the checks, one machine per stop ---------------------------------------------- */

static const struct wdmsim_bugcheck *stop_of(void (*fn)(void *))
{
    static wdmsim *m;
    if (m)
        wdmsim_shutdown(m);
    struct wdmsim_config cfg = {.seed = 5};
    struct wdmsim_error err;
    assert_int_equal(wdmsim_boot(&cfg, &m, &err), WDMSIM_OK);
    assert_int_equal(wdmsim_call(m, fn, NULL), WDMSIM_STOPPED);
    return wdmsim_get_bugcheck(m);
}

static void double_remove(void *arg)
{
    (void)arg;
    LIST_ENTRY head;
    struct item a, b;
    InitializeListHead(&head);
    InsertTailList(&head, &a.link);
    InsertTailList(&head, &b.link);
    RemoveEntryList(&a.link);
    RemoveEntryList(&b.link);
    InsertTailList(&head, &b.link);
    RemoveEntryList(&a.link); /* stale neighbours */
}

static void insert_into_broken_head(void *arg)
{
    (void)arg;
    LIST_ENTRY head, stray;
    struct item a;
    InitializeListHead(&head);
    head.Flink = &stray; /* a scribbled head */
    stray.Blink = NULL;
    InsertHeadList(&head, &a.link);
}

static void remove_head_corrupt(void *arg)
{
    (void)arg;
    LIST_ENTRY head;
    struct item a, b;
    InitializeListHead(&head);
    InsertTailList(&head, &a.link);
    InsertTailList(&head, &b.link);
    b.link.Blink = &head; /* b no longer points back at a */
    RemoveHeadList(&head);
}

static void remove_tail_corrupt(void *arg)
{
    (void)arg;
    LIST_ENTRY head;
    struct item a;
    InitializeListHead(&head);
    InsertTailList(&head, &a.link);
    a.link.Flink = &a.link;
    RemoveTailList(&head);
}

static void insert_tail_corrupt(void *arg)
{
    (void)arg;
    LIST_ENTRY head;
    struct item a, b;
    InitializeListHead(&head);
    InsertTailList(&head, &a.link);
    a.link.Flink = &a.link;
    InsertTailList(&head, &b.link);
}

static void append_corrupt(void *arg)
{
    (void)arg;
    LIST_ENTRY head, other;
    struct item a;
    InitializeListHead(&head);
    InitializeListHead(&other);
    InsertTailList(&other, &a.link);
    a.link.Blink = &head; /* other's ring is broken */
    AppendTailList(&head, &other);
}

static void interlocked_corrupt(void *arg)
{
    (void)arg;
    KSPIN_LOCK lock = 0;
    LIST_ENTRY head;
    struct item a;
    InitializeListHead(&head);
    ExInterlockedInsertTailList(&head, &a.link, &lock);
    a.link.Blink = &a.link;
    ExInterlockedRemoveHeadList(&head, &lock);
}

static void corruption_stops(void **state)
{
    (void)state;
    void (*cases[])(void *) = {double_remove,       insert_into_broken_head, remove_head_corrupt,
                               remove_tail_corrupt, insert_tail_corrupt,     append_corrupt,
                               interlocked_corrupt};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct wdmsim_bugcheck *bc = stop_of(cases[i]);
        assert_non_null(bc);
        assert_int_equal(bc->code, 0x139);
        assert_int_equal(bc->parameters[0], FAST_FAIL_CORRUPT_LIST_ENTRY);
        assert_string_equal(bc->rule, "list.corrupt");
    }
}

static void own_fastfail(void *arg)
{
    (void)arg;
    __fastfail(FAST_FAIL_INVALID_ARG);
}

static void fastfail_other_code(void **state)
{
    (void)state;
    const struct wdmsim_bugcheck *bc = stop_of(own_fastfail);
    assert_int_equal(bc->code, 0x139);
    assert_int_equal(bc->parameters[0], FAST_FAIL_INVALID_ARG);
    assert_null(bc->rule);
}

static void misaligned_entry(void *arg)
{
    (void)arg;
    static SLIST_HEADER head;
    static char buf[64] __attribute__((aligned(16)));
    InitializeSListHead(&head);
    InterlockedPushEntrySList(&head, (PSLIST_ENTRY)(buf + 8));
}

static void misaligned_header(void *arg)
{
    (void)arg;
    static char buf[64] __attribute__((aligned(16)));
    InitializeSListHead((PSLIST_HEADER)(buf + 4));
}

static void slist_misaligned(void **state)
{
    (void)state;
    const struct wdmsim_bugcheck *bc = stop_of(misaligned_entry);
    assert_int_equal(bc->code, 0x139);
    assert_int_equal(bc->parameters[0], 0x57000001);
    assert_string_equal(bc->rule, "list.slist-misaligned");
    bc = stop_of(misaligned_header);
    assert_int_equal(bc->code, 0x139);
    assert_int_equal(bc->parameters[0], 0x57000001);
}

/* The buggy drivers: the same stops from driver code. */
static void fixtures(void **state)
{
    (void)state;
    fixture_expect_stop("list-corrupt", NULL, 0x139, FAST_FAIL_CORRUPT_LIST_ENTRY);
    fixture_expect_stop("list-slist-misaligned", NULL, 0x139, 0x57000001);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(doubly_linked),
        cmocka_unit_test(singly_linked),
        cmocka_unit_test(slist),
        cmocka_unit_test(slist_atomic),
        cmocka_unit_test(interlocked),
        cmocka_unit_test(corruption_stops),
        cmocka_unit_test(fastfail_other_code),
        cmocka_unit_test(slist_misaligned),
        cmocka_unit_test(fixtures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
