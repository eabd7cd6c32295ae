/*
 * tests/cm/cm_test.h - helpers for the registry tests: run a body as kernel
 * code in a booted machine, counted strings from u"" literals, key opens.
 */
#ifndef WDMSIM_TEST_CM_H
#define WDMSIM_TEST_CM_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <wdm.h>
#include <wdmsim/wdmsim.h>

/* Boots a default machine (optionally with a hive / .reg file), runs body
 * at PASSIVE_LEVEL, shuts down. */
static inline void cm_test_run_with(void (*body)(void *), void *arg, const char *hive,
                                    const char *reg)
{
    struct wdmsim_config cfg = {.seed = 1, .hive_path = hive, .reg_path = reg};
    wdmsim *sim;
    struct wdmsim_error err = {{0}};
    if (wdmsim_boot(&cfg, &sim, &err) != WDMSIM_OK)
        fail_msg("boot: %s", err.text);
    int rc = wdmsim_call(sim, body, arg);
    if (rc != WDMSIM_OK) {
        wdmsim_report_print(sim, stderr);
        wdmsim_shutdown(sim);
        fail_msg("the machine stopped");
    }
    wdmsim_shutdown(sim);
}

static inline void cm_test_run(void (*body)(void *))
{
    cm_test_run_with(body, NULL, NULL, NULL);
}

#define CM_TEST(name)                     \
    static void body_##name(void *arg);   \
    static void test_##name(void **state) \
    {                                     \
        (void)state;                      \
        cm_test_run(body_##name);         \
    }                                     \
    static void body_##name(void *arg)

static inline UNICODE_STRING us(const uint16_t *s)
{
    UNICODE_STRING u;
    size_t n = 0;
    while (s[n])
        n++;
    u.Length = (USHORT)(n * 2);
    u.MaximumLength = (USHORT)(n * 2 + 2);
    u.Buffer = (PWSTR)s;
    return u;
}

/* ZwCreateKey (create) or ZwOpenKey on an absolute or root-relative path. */
static inline NTSTATUS key_open(HANDLE *h, HANDLE root, const uint16_t *path, ACCESS_MASK access,
                                int create, ULONG options, ULONG *disp)
{
    UNICODE_STRING name = us(path);
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, &name, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, root, NULL);
    if (create)
        return ZwCreateKey(h, access, &oa, 0, NULL, options, disp);
    return ZwOpenKey(h, access, &oa);
}

static inline NTSTATUS set_value(HANDLE h, const uint16_t *name, ULONG type, const void *data,
                                 ULONG size)
{
    UNICODE_STRING n = us(name);
    return ZwSetValueKey(h, &n, 0, type, (PVOID)data, size);
}

#define SERVICES u"\\Registry\\Machine\\System\\CurrentControlSet\\Services"

#endif
