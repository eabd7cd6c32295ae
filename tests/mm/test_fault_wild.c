/*
 * tests/mm/test_fault_wild.c - a wild pointer (NULL, a number, memory that
 * is no memory at all) stops the machine with a bug check, never the host.
 *
 * Spec: spec/memory.md 3 (page faults); debugger/bug-check-0x1e--kmode-
 * exception-not-handled, 0xD1, 0x0A. A fault outside simulated memory
 * while machine code runs is STATUS_ACCESS_VIOLATION that no __try caught:
 * 0x1E (P1 0xC0000005, P3 0 read / 1 write, P4 the address); at
 * DISPATCH_LEVEL, 0x0A for the kernel's instruction (host code called in
 * the machine counts as the kernel's); inside __try, the __except block
 * gets STATUS_ACCESS_VIOLATION instead. A driver's NULL write (the fixture
 * wild-pointer), and a write after free into a lookaside list's entry that
 * sends ExAllocateFromNPagedLookasideList to a wild address, stop too; so
 * does each of a dozen routines handed a wild pointer as its object.
 */
/* WDK tags are multi-character constants. */
#pragma GCC diagnostic ignored "-Wmultichar"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <wdm.h>
#include <wdmsim/wdmsim.h>

#include "support/fixture.h"

static void write_body(void *arg)
{
    *(volatile uint64_t *)arg = 1;
}

static void read_body(void *arg)
{
    (void)*(volatile uint64_t *)arg;
}

static void raised_body(void *arg)
{
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    *(volatile uint64_t *)arg = 1;
}

static NPAGED_LOOKASIDE_LIST la;

static void lookaside_body(void *arg)
{
    (void)arg;
    ExInitializeNPagedLookasideList(&la, NULL, NULL, POOL_NX_ALLOCATION, 64, 'tsaL', 0);
    void *a = ExAllocateFromNPagedLookasideList(&la);
    ExFreeToNPagedLookasideList(&la, a);
    uint64_t wild = 0x12340;
    memcpy(a, &wild, sizeof(wild)); /* the entry's link, written after the free */
    ExAllocateFromNPagedLookasideList(&la);
    ExAllocateFromNPagedLookasideList(&la);
}

/* Routines handed a wild pointer where they expect an object: each
 * stops the machine (the routine's own check, or the access violation of
 * touching the object), never the host. */
static int routine;

static void routine_body(void *arg)
{
    void *w = arg;
    static LIST_ENTRY head;
    KIRQL old;
    switch (routine) {
    case 0:
        ExFreePoolWithTag(w, 'dliW');
        break;
    case 1: {
        PMDL m = IoAllocateMdl(w, 4096, FALSE, FALSE, NULL);
        if (m)
            MmBuildMdlForNonPagedPool(m);
        break;
    }
    case 2:
        KeSetEvent((PKEVENT)w, 0, FALSE);
        break;
    case 3:
        InitializeListHead(&head);
        InsertTailList(&head, (PLIST_ENTRY)w);
        break;
    case 4:
        RtlZeroMemory(w, 16);
        break;
    case 5:
        KeAcquireSpinLock((PKSPIN_LOCK)w, &old);
        KeReleaseSpinLock((PKSPIN_LOCK)w, old);
        break;
    case 6:
        RtlFreeUnicodeString((PUNICODE_STRING)w);
        break;
    case 7:
        MmUnlockPages((PMDL)w);
        break;
    case 8:
        IoFreeMdl((PMDL)w);
        break;
    case 9:
        IoCompleteRequest((PIRP)w, IO_NO_INCREMENT);
        break;
    case 10:
        InterlockedPopEntrySList((PSLIST_HEADER)w);
        break;
    default:
        IoDeleteDevice((PDEVICE_OBJECT)w);
        break;
    }
}

static void test_wild_objects(void **state)
{
    (void)state;
    static const uintptr_t wild[] = {0, 0x12340, 0xdead00000000ULL};
    for (routine = 0; routine < 12; routine++)
        for (int v = 0; v < 3; v++) {
            struct wdmsim_config cfg = {.seed = 1, .verifier = "standard"};
            wdmsim *sim;
            struct wdmsim_error err;
            assert_int_equal(wdmsim_boot(&cfg, &sim, &err), WDMSIM_OK);
            assert_int_equal(wdmsim_call(sim, routine_body, (void *)wild[v]), WDMSIM_STOPPED);
            wdmsim_shutdown(sim);
        }
}

/* body(addr) stops with code and P1, and P4 (0x1E) or P1 (0xD1/0x0A) is addr. */
static void expect(void (*body)(void *), uintptr_t addr, uint32_t code, uint64_t p1)
{
    struct wdmsim_config cfg = {.seed = 1, .verifier = "none"};
    wdmsim *sim;
    struct wdmsim_error err;
    assert_int_equal(wdmsim_boot(&cfg, &sim, &err), WDMSIM_OK);
    assert_int_equal(wdmsim_call(sim, body, (void *)addr), WDMSIM_STOPPED);
    const struct wdmsim_bugcheck *bc = wdmsim_get_bugcheck(sim);
    assert_int_equal(bc->code, code);
    assert_int_equal(bc->parameters[0], p1);
    wdmsim_shutdown(sim);
}

static void test_wild_pointers(void **state)
{
    (void)state;
    expect(write_body, 0, 0x1E, 0xC0000005);
    expect(read_body, 0x12340, 0x1E, 0xC0000005);
    expect(raised_body, 8, 0x0A, 8);
    expect(lookaside_body, 0, 0x1E, 0xC0000005);
}

/* Inside __try the same write raises STATUS_ACCESS_VIOLATION, which the
 * driver's __except block catches (the fixture wild-pointer-caught returns
 * what it caught from DriverEntry): the machine runs on. */
static void test_caught_in_try(void **state)
{
    (void)state;
    struct fixture_run r;
    fixture_run("wild-pointer-caught", NULL, "standard", 1, &r);
    assert_int_equal(r.stopped, 0);
    assert_int_equal((uint32_t)r.entry_status, (uint32_t)STATUS_ACCESS_VIOLATION);
}

static void test_driver_null_write(void **state)
{
    (void)state;
    fixture_expect_stop("wild-pointer", "standard", 0x1E, 0xC0000005);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wild_pointers),
        cmocka_unit_test(test_caught_in_try),
        cmocka_unit_test(test_wild_objects),
        cmocka_unit_test(test_driver_null_write),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
