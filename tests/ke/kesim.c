/*
 * tests/ke/kesim.c - see kesim.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "ke/kesim.h"
#include "sys.h"

wdmsim *kesim_boot(unsigned processors, uint64_t seed, const char *verifier)
{
    char path[] = "/tmp/wdmsim-ke-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "[machine]\nprocessors = %u\n", processors);
    fclose(f);
    struct wdmsim_config cfg = {.machine_path = path, .seed = seed, .verifier = verifier};
    wdmsim *sim = NULL;
    struct wdmsim_error err = {{0}};
    int rc = wdmsim_boot(&cfg, &sim, &err);
    unlink(path);
    if (rc != WDMSIM_OK)
        fail_msg("boot: %s", err.text);
    return sim;
}

void kesim_call(wdmsim *sim, void (*fn)(void *), void *arg)
{
    if (wdmsim_call(sim, fn, arg) != WDMSIM_OK) {
        wdmsim_report_print(sim, stderr);
        fail_msg("the machine stopped");
    }
}

static void raise_line(void *arg)
{
    struct sys *sys = sys_get();
    unsigned line = (unsigned)(uintptr_t)arg;
    ke_trace(&sys->ke, ke_ev_line, line);
    intc_assert(&sys->machine.intc, line);
}

void testdev_raise_after(unsigned line, uint64_t delay_ns)
{
    struct sys *sys = sys_get();
    vclock_schedule(&sys->machine.clock, sys->machine.clock.now + delay_ns, raise_line,
                    (void *)(uintptr_t)line);
}

void testdev_lower(unsigned line)
{
    intc_deassert(&sys_get()->machine.intc, line);
}

uint64_t kesim_trace_hash(void)
{
    return sys_get()->ke.trace.hash;
}

uint64_t kesim_trace_count(void)
{
    return sys_get()->ke.trace.count;
}
