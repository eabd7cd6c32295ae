/*
 * tests/support/fixture.h - running fixture drivers from cmocka tests.
 *
 * Fixture drivers are built into $WDMSIM_FIXTURES (set by CTest). A test
 * boots a machine, loads one, and checks what happened: for a buggy-driver
 * fixture, the exact stop code and parameter 1.
 */
#ifndef WDMSIM_TEST_FIXTURE_H
#define WDMSIM_TEST_FIXTURE_H

#include <stdint.h>
#include <wdmsim/wdmsim.h>

struct fixture_run {
    int load_rc;   /* wdmsim_load_driver result */
    int unload_rc; /* wdmsim_unload_drivers result (if loading went on) */
    int stopped;   /* a bug check happened */
    uint32_t code;
    uint64_t param[4];
    char rule[64]; /* "" when none */
    int32_t entry_status;
    char error[512];   /* load error text */
    char output[8192]; /* DbgPrint output */
};

/* Path of a built fixture driver: $WDMSIM_FIXTURES/<name>.so */
const char *fixture_path(const char *name);

/* Boots a machine (machine_ini may be NULL; verifier may be NULL for
 * "standard"), loads the fixture, unloads it, shuts down. */
void fixture_run(const char *name, const char *machine_ini, const char *verifier, uint64_t seed,
                 struct fixture_run *out);

/* cmocka assertion: the fixture stopped with code and parameter 1 (for 0xC1,
 * pass the subtype as p1 and it is compared with parameter 4). */
void fixture_expect_stop(const char *name, const char *verifier, uint32_t code, uint64_t p1);

/* cmocka assertion: body(arg), called inside a machine booted with seed
 * 5, verifier and machine_ini (NULL: the default machine), stops it with
 * code and parameter 1; the report is printed when it does not. */
void expect_call_stop(const char *machine_ini, const char *verifier, void (*body)(void *),
                      void *arg, uint32_t code, uint64_t p1);

/* Writes a machine file with 8 KiB pages (2 processors, 2 GiB) to a new
 * temporary file; path (a buffer of 32 bytes) gets its name. The caller
 * unlinks it. */
void write_machine_8k(char path[32]);

#endif
