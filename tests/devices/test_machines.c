/*
 * tests/devices/test_machines.c - the machine configs of machines/ boot,
 * hold the devices they name with the resources they promise, and `wdmsim
 * run` of the hello example exits 0 on each (devices unbound).
 * Spec: issue 7 item 4; devices/README.md 2-4.
 */
#include <sys/wait.h>

#include "dev_test.h"

#include "../../devices/isastream.h"

static const char *source(void)
{
    const char *s = getenv("WDMSIM_SOURCE");
    return s ? s : ".";
}

static wdmsim *boot(const char *name)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/machines/%s", source(), name);
    struct wdmsim_config cfg = {.machine_path = path, .seed = 3};
    struct wdmsim_error err;
    wdmsim *sim;
    if (wdmsim_boot(&cfg, &sim, &err) != WDMSIM_OK)
        fail_msg("%s: %s", name, err.text);
    return sim;
}

struct probe {
    wdmsim *sim;
    const char *name;
    uint32_t want_id;
};

static void probe_body(void *arg)
{
    struct probe *p = arg;
    struct wdmsim_dev *d = wdmsim_device(p->sim, p->name);
    assert_non_null(d);
    struct wdmsim_dev_resources r;
    wdmsim_dev_get_resources(d, &r);
    uint64_t v = 0;
    if (p->want_id == 0x49) {
        bus_port_read(&sys_get()->machine, r.isa_port_base, 1, &v);
    } else {
        pci_config_write(d, 0x04, 2, pci_cmd_memory | pci_cmd_io);
        unsigned bar = p->want_id == 0x00045744 ? 1 : 0;
        bus_mmio_read(&sys_get()->machine, r.bar[bar], 4, &v);
    }
    assert_int_equal(v, p->want_id);
}

static void probe(wdmsim *sim, const char *name, uint32_t id)
{
    struct probe p = {sim, name, id};
    assert_int_equal(wdmsim_call(sim, probe_body, &p), WDMSIM_OK);
}

static int run_hello(const char *machine)
{
    const char *bin = getenv("WDMSIM_BIN");
    if (!bin)
        return 0;
    char cmd[3072], dir[1024];
    snprintf(dir, sizeof(dir), "%s", bin);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    snprintf(cmd, sizeof(cmd),
             "%s run --machine %s/machines/%s %s/examples/hello.so >/dev/null 2>&1", bin, source(),
             machine, dir);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void test_default_machine(void **state)
{
    wdmsim *sim = boot("default.ini");
    probe(sim, "pio0", 0x00045744);
    probe(sim, "sgd0", 0x00015744);
    probe(sim, "pkd0", 0x00025744);
    probe(sim, "ist0", 0x49);
    assert_int_equal(wdmsim_device_violations(sim), 0);
    wdmsim_shutdown(sim);
    assert_int_equal(run_hello("default.ini"), 0);
}

static void test_highmem_machine(void **state)
{
    wdmsim *sim = boot("highmem.ini");
    probe(sim, "pkd0", 0x00025744);
    probe(sim, "sgd32", 0x00015744);
    probe(sim, "sgd64", 0x00015744);
    wdmsim_shutdown(sim);
    assert_int_equal(run_hello("highmem.ini"), 0);
}

static void test_isa_machine(void **state)
{
    wdmsim *sim = boot("isa.ini");
    probe(sim, "ist0", 0x49);
    probe(sim, "ist1", 0x49);
    struct wdmsim_dev_resources r;
    wdmsim_dev_get_resources(wdmsim_device(sim, "ist1"), &r);
    assert_int_equal(r.dma, 5);
    assert_int_equal(isastream_reg(wdmsim_device(sim, "ist1"), 3), 0x30); /* CH16 */
    assert_int_equal(isastream_reg(wdmsim_device(sim, "ist0"), 3), 0x20);
    wdmsim_shutdown(sim);
    assert_int_equal(run_hello("isa.ini"), 0);
}

static void test_tiny_machine(void **state)
{
    wdmsim *sim = boot("tiny.ini");
    probe(sim, "pkd0", 0x00025744);
    probe(sim, "sgd0", 0x00015744);
    wdmsim_shutdown(sim);
    assert_int_equal(run_hello("tiny.ini"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_machine),
        cmocka_unit_test(test_highmem_machine),
        cmocka_unit_test(test_isa_machine),
        cmocka_unit_test(test_tiny_machine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
