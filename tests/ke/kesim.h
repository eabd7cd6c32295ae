/*
 * tests/ke/kesim.h - booting machines for the execution tests, and the test
 * device: a stand-in device model that asserts an interrupt line when the
 * virtual clock reaches a time (the device-model API is the I/O issue's).
 */
#ifndef WDMSIM_TEST_KESIM_H
#define WDMSIM_TEST_KESIM_H

#include <stdint.h>
#include <wdmsim/wdmsim.h>

/* Boots a machine with n processors and this seed; fails the test if it
 * cannot. verifier NULL = "standard". */
wdmsim *kesim_boot(unsigned processors, uint64_t seed, const char *verifier);

/* Runs fn(arg) as kernel code; asserts it did not stop the machine. */
void kesim_call(wdmsim *sim, void (*fn)(void *), void *arg);

/* Test device (call from kernel code): assert `line` after `delay_ns` of
 * virtual time; deassert it. */
void testdev_raise_after(unsigned line, uint64_t delay_ns);
void testdev_lower(unsigned line);

/* The trace hash and record count of the running machine (kernel code). */
uint64_t kesim_trace_hash(void);
uint64_t kesim_trace_count(void);

#endif
