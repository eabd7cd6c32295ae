/*
 * tests/hal/dmatest_env.h - shared helpers of the HAL tests in which the
 * DMT-1 test device (devices/dmatest.c, docs/devices/dmatest.md) does the
 * DMA: the three machines, programming the device through its registers,
 * waiting for it on the virtual clock, buffers and byte patterns.
 *
 * The tests run as kernel code on a booted machine (wdmsim_call) and call
 * every routine through the DMA_OPERATIONS table IoGetDmaAdapter returns. No
 * driver is loaded, so there is no PDO: a bus-master adapter is bound to
 * its device model with hal_adapter_bind, which is what IoGetDmaAdapter on
 * the device's PDO does (src/io/pnp.c io_pnp_hw_of_pdo). A slave needs no
 * binding: the 8237 channel names the adapter.
 */
#ifndef WDMSIM_TESTS_HAL_DMATEST_ENV_H
#define WDMSIM_TESTS_HAL_DMATEST_ENV_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <wdm.h>
#include <wdmsim/device.h>
#include <wdmsim/wdmsim.h>

#include "../../devices/dmatest.h"
#include "sys.h"

/* Host code has no PAGE_SIZE (wdmsim reads it from the machine); these
 * machines use 4 KiB pages. */
#define PG                4096u
#define PG_OFFSET(va)     ((ULONG)((uintptr_t)(va) & (PG - 1)))
#define PAGES(n)          (((n) + PG - 1) / PG)
#define SPAN_PAGES(va, n) ((ULONG)PAGES(PG_OFFSET(va) + (n)))
#define ROUND_PAGES(n)    (PAGES(n) * PG)

/* The three machines of issue 6's DMA tests (tests/hal/dmatest-*.ini). In
 * each, `dmt` is the bus master of sequences (a), (b) and the common-buffer
 * one, `dmi1` and `dmi5` the slaves on 8237 channels 1 and 5. */
enum setup {
    setup_default, /* default RAM; dmt a 64-bit PCI master */
    setup_8g,      /* 8 GiB, 7 above 4 GiB; dmt a 32-bit PCI master (bounces) */
    setup_isa24,   /* default RAM; dmt a 24-bit ISA master (bounces) */
};

struct env {
    enum setup setup;
    wdmsim *sim;
    struct wdmsim_dev *dmt, *dmi1, *dmi5;
    void (*body)(struct env *e);
};

static const char *const setup_ini[] = {"dmatest-default.ini", "dmatest-8g.ini",
                                        "dmatest-isa24.ini"};

/* Address bits the master `dmt` of a setup drives. */
static inline unsigned env_width(const struct env *e)
{
    return e->setup == setup_default ? 64 : e->setup == setup_8g ? 32 : 24;
}

static inline void env_call(void *arg)
{
    struct env *e = arg;
    e->body(e);
}

/* Boots the setup's machine and finds its devices. */
static inline void env_boot(struct env *e, enum setup setup, const char *verifier)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/tests/hal/%s", getenv("WDMSIM_SOURCE"), setup_ini[setup]);
    memset(e, 0, sizeof(*e));
    e->setup = setup;
    struct wdmsim_config cfg = {.seed = 6, .verifier = verifier, .machine_path = path};
    struct wdmsim_error err;
    if (wdmsim_boot(&cfg, &e->sim, &err) != WDMSIM_OK)
        fail_msg("boot %s: %s", path, err.text);
    e->dmt = wdmsim_device(e->sim, "dmt");
    e->dmi1 = wdmsim_device(e->sim, "dmi1");
    e->dmi5 = wdmsim_device(e->sim, "dmi5");
    assert_non_null(e->dmt);
    assert_non_null(e->dmi1);
    assert_non_null(e->dmi5);
}

/* Runs body as kernel code; WDMSIM_OK or WDMSIM_STOPPED. */
static inline int env_exec(struct env *e, void (*body)(struct env *e))
{
    e->body = body;
    return wdmsim_call(e->sim, env_call, e);
}

/* Boots the setup's machine and runs body as kernel code. The machine must
 * not stop, and neither the verifier nor a device may have reported. */
static inline void env_run(enum setup setup, void (*body)(struct env *e), const char *verifier)
{
    struct env e;
    env_boot(&e, setup, verifier);
    int rc = env_exec(&e, body);
    const struct wdmsim_bugcheck *bc = wdmsim_get_bugcheck(e.sim);
    if (rc != WDMSIM_OK)
        fail_msg("%s: stopped 0x%X/0x%llX %s: %s", setup_ini[setup], bc ? bc->code : 0,
                 bc ? (unsigned long long)bc->parameters[0] : 0ULL, bc && bc->rule ? bc->rule : "-",
                 bc && bc->text ? bc->text : "");
    assert_int_equal(wdmsim_violations(e.sim), 0);
    assert_int_equal(wdmsim_device_violations(e.sim), 0);
    wdmsim_shutdown(e.sim);
}

/* ---- the device's registers ------------------------------------------------------ */

static inline void dmt_w(struct wdmsim_dev *d, uint32_t off, uint32_t v)
{
    struct wdmsim_dev_resources r;
    wdmsim_dev_get_resources(d, &r);
    if (machine_device_is_pci(d))
        assert_int_equal(bus_mmio_write(&sys_get()->machine, r.bar[0] + off, 4, v), 0);
    else
        assert_int_equal(bus_port_write(&sys_get()->machine, r.isa_port_base + off, 4, v), 0);
}

static inline uint32_t dmt_r(struct wdmsim_dev *d, uint32_t off)
{
    struct wdmsim_dev_resources r;
    uint64_t v = 0;
    wdmsim_dev_get_resources(d, &r);
    if (machine_device_is_pci(d))
        assert_int_equal(bus_mmio_read(&sys_get()->machine, r.bar[0] + off, 4, &v), 0);
    else
        assert_int_equal(bus_port_read(&sys_get()->machine, r.isa_port_base + off, 4, &v), 0);
    return (uint32_t)v;
}

/* What the PCI bus driver does before START: decode and Bus Master on. */
static inline void dmt_enable(struct wdmsim_dev *d)
{
    if (machine_device_is_pci(d))
        pci_config_write(d, 0x04, 2, pci_cmd_memory | pci_cmd_bus_master);
    assert_int_equal(dmt_r(d, dmatest_reg_id), dmatest_id);
}

static inline uint32_t dmt_ctrl(enum dmatest_mode mode, bool to_device)
{
    return (uint32_t)mode << dmatest_ctrl_mode_shift | (to_device ? dmatest_ctrl_to_device : 0);
}

/* Programs one command and starts it (CONTROL.GO). */
static inline void dmt_go(struct wdmsim_dev *d, uint64_t addr, uint32_t len, uint32_t devoff,
                          uint32_t ndesc, uint32_t control)
{
    assert_false(dmt_r(d, dmatest_reg_status) & dmatest_st_busy);
    dmt_w(d, dmatest_reg_addr_lo, (uint32_t)addr);
    dmt_w(d, dmatest_reg_addr_hi, (uint32_t)(addr >> 32));
    dmt_w(d, dmatest_reg_length, len);
    dmt_w(d, dmatest_reg_devoff, devoff);
    dmt_w(d, dmatest_reg_ndesc, ndesc);
    dmt_w(d, dmatest_reg_control, control | dmatest_ctrl_go);
}

/* Fires the next event on the virtual clock (device steps, 8237 units). */
static inline void env_step(void)
{
    struct sys *sys = sys_get();
    uint64_t next;
    if (!vclock_next(&sys->machine.clock, &next))
        fail_msg("nothing scheduled on the virtual clock");
    if (next > sys->machine.clock.now)
        ke_clock_advance(&sys->ke, next);
    else
        vclock_run_due(&sys->machine.clock);
}

/* Lets ns of virtual time pass, firing what falls due. */
static inline void env_wait_ns(uint64_t ns)
{
    struct sys *sys = sys_get();
    uint64_t end = sys->machine.clock.now + ns, next;
    while (vclock_next(&sys->machine.clock, &next) && next <= end)
        env_step();
    ke_clock_advance(&sys->ke, end);
}

/* Lets virtual time pass until the device is not BUSY; returns STATUS. */
static inline uint32_t dmt_wait(struct wdmsim_dev *d)
{
    for (unsigned i = 0; i < 10000000; i++) {
        uint32_t st = dmt_r(d, dmatest_reg_status);
        if (!(st & dmatest_st_busy))
            return st;
        env_step();
    }
    fail_msg("device %s still BUSY", wdmsim_dev_name(d));
    return 0;
}

/* Waits for a command that must succeed having moved `bytes`; clears DONE. */
static inline void dmt_done(struct wdmsim_dev *d, uint32_t bytes)
{
    uint32_t st = dmt_wait(d);
    if ((st & dmatest_st_error) || !(st & dmatest_st_done))
        fail_msg("device %s: STATUS %#x (ERRCODE %u), ERR_ADDR %#x%08x", wdmsim_dev_name(d), st,
                 (st >> dmatest_st_errcode_shift) & 0xFF, dmt_r(d, dmatest_reg_err_hi),
                 dmt_r(d, dmatest_reg_err_lo));
    assert_int_equal(dmt_r(d, dmatest_reg_xferred), bytes);
    dmt_w(d, dmatest_reg_status, dmatest_st_done);
}

static inline uint8_t *dmt_buf(struct wdmsim_dev *d)
{
    return dmatest_buffer(d, NULL);
}

/* ---- data --------------------------------------------------------------------------- */

/* Not periodic in 256 (a shifted or misplaced page shows). */
static inline uint8_t pat(unsigned seed, size_t i)
{
    return (uint8_t)(seed * 37u + i * 13u + (i >> 8) * 7u + (i >> 16) + 1u);
}

static inline void fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = pat(seed, i);
}

/* Byte for byte; names the first difference. */
static inline void expect_pat(const uint8_t *p, size_t n, unsigned seed, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != pat(seed, i))
            fail_msg("%s: byte %zu of %zu is %#x, want %#x", what, i, n, p[i], pat(seed, i));
}

static inline void expect_byte(const uint8_t *p, size_t n, uint8_t v, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            fail_msg("%s: byte %zu of %zu is %#x, want %#x (untouched)", what, i, n, p[i], v);
}

/* A nonpaged buffer of scattered frames and its MDL. */
struct buf {
    uint8_t *va;
    ULONG len;
    PMDL mdl;
};

static inline struct buf buf_new(ULONG len)
{
    struct buf b = {.len = len};
    b.va = MmAllocateNonCachedMemory(ROUND_PAGES(len));
    assert_non_null(b.va);
    b.mdl = IoAllocateMdl(b.va, len, FALSE, FALSE, NULL);
    assert_non_null(b.mdl);
    MmBuildMdlForNonPagedPool(b.mdl);
    return b;
}

static inline void buf_free(struct buf *b)
{
    IoFreeMdl(b->mdl);
    MmFreeNonCachedMemory(b->va, ROUND_PAGES(b->len));
}

/* Highest physical address of the MDL's pages (where the buffer reaches). */
static inline uint64_t mdl_top_pa(PMDL m)
{
    PPFN_NUMBER pfn = MmGetMdlPfnArray(m);
    ULONG n = SPAN_PAGES(MmGetMdlVirtualAddress(m), MmGetMdlByteCount(m));
    uint64_t top = 0;
    for (ULONG i = 0; i < n; i++)
        if (((uint64_t)pfn[i] + 1) * PG > top)
            top = ((uint64_t)pfn[i] + 1) * PG;
    return top;
}

/* Byte `off` of what MDL m describes, read through its frame (never
 * through a VA: the buffer may be owned by the device). */
static inline uint8_t mdl_byte(PMDL m, ULONG off)
{
    ULONG at = MmGetMdlByteOffset(m) + off;
    PPFN_NUMBER pfn = MmGetMdlPfnArray(m);
    return *(uint8_t *)machine_pa_ptr(&sys_get()->machine, (uint64_t)pfn[at / PG] * PG + at % PG);
}

static inline uint64_t bounced_bytes(void)
{
    struct hal_stats st;
    hal_stats_get(&sys_get()->hal, &st);
    return st.bounce_bytes;
}

/* The logical range must be one the device's width can carry. */
static inline void expect_reach(const struct env *e, uint64_t logical, uint64_t len)
{
    unsigned w = env_width(e);
    if (w < 64 && logical + len > (1ULL << w))
        fail_msg("logical [%#llx, +%llu) beyond the %u-bit device's reach",
                 (unsigned long long)logical, (unsigned long long)len, w);
}

/* ---- adapters ----------------------------------------------------------------------- */

/* The description a driver for `dmt` of this setup gives. A 24-bit ISA
 * master with scatter/gather needs version 3 (DmaAddressWidth): before it,
 * ScatterGather implies 32 bits (spec/dma.md 1). */
static inline DEVICE_DESCRIPTION desc_master(const struct env *e, ULONG version, bool sg,
                                             ULONG maxlen)
{
    DEVICE_DESCRIPTION d;
    memset(&d, 0, sizeof(d));
    d.Version = version;
    d.Master = TRUE;
    d.ScatterGather = sg;
    d.MaximumLength = maxlen;
    d.InterfaceType = e->setup == setup_isa24 ? Isa : PCIBus;
    if (version >= DEVICE_DESCRIPTION_VERSION3)
        d.DmaAddressWidth = env_width(e);
    else if (e->setup == setup_default)
        d.Dma32BitAddresses = d.Dma64BitAddresses = TRUE;
    else if (e->setup == setup_8g)
        d.Dma32BitAddresses = TRUE;
    else
        assert_false(sg);
    return d;
}

/* IoGetDmaAdapter for `dmt`, bound to it as PnP would; the device enabled. */
static inline PDMA_ADAPTER get_master(const struct env *e, DEVICE_DESCRIPTION *d, ULONG *n)
{
    PDMA_ADAPTER a = IoGetDmaAdapter(NULL, d, n);
    assert_non_null(a);
    assert_int_equal(a->Version, 1);
    hal_adapter_bind((struct hal_adapter *)a, e->dmt);
    dmt_enable(e->dmt);
    /* drivers copy it into DeviceObject->AlignmentRequirement */
    assert_int_equal(a->DmaOperations->GetDmaAlignment(a), 1);
    return a;
}

static inline unsigned dev_channel(struct wdmsim_dev *d)
{
    struct wdmsim_dev_resources r;
    wdmsim_dev_get_resources(d, &r);
    assert_true(r.dma >= 0);
    return (unsigned)r.dma;
}

/* A slave adapter on the device's channel (from its CmResourceTypeDma). */
static inline PDMA_ADAPTER get_slave(struct wdmsim_dev *dev, ULONG version, ULONG maxlen,
                                     bool autoinit, bool demand, ULONG *n)
{
    DEVICE_DESCRIPTION d;
    memset(&d, 0, sizeof(d));
    d.Version = version;
    d.DmaChannel = dev_channel(dev);
    d.DmaWidth = d.DmaChannel < 4 ? Width8Bits : Width16Bits;
    d.InterfaceType = Isa;
    d.MaximumLength = maxlen;
    d.AutoInitialize = autoinit;
    d.DemandMode = demand;
    PDMA_ADAPTER a = IoGetDmaAdapter(NULL, &d, n);
    assert_non_null(a);
    dmt_enable(dev);
    assert_int_equal(a->DmaOperations->GetDmaAlignment(a), 1);
    return a;
}

#endif
