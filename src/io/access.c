/*
 * src/io/access.c - READ_/WRITE_REGISTER_* and READ_/WRITE_PORT_*.
 *
 * Models: spec/io.md 7: one access of the given width per element, routed
 * synchronously to the device model through the bus (src/machine/bus.c).
 * Registers are addressed by a VA inside an MmMapIoSpace range (the VA is
 * looked up, never dereferenced); ports by the port number cast to a
 * pointer. The *_REGISTER_BUFFER_* forms advance the register address with
 * the buffer; the *_PORT_BUFFER_* forms repeat one port. Every routine is a
 * scheduling point (a device access is where races show).
 * Spec rules: io.unclaimed-port / io.unmapped-register / io.port-misaligned
 * (0xC4/0x5700000A, P2 port or address, P3 width).
 * Not modelled: port I/O through MmMapIoSpace of a CM_RESOURCE_PORT_MEMORY
 * range (no device here translates ports to memory).
 */
#include <wdm.h>

#include "sys.h"

static const struct vf_rule rule_unclaimed = {
    .id = "io.unclaimed-port",
    .code = 0xC4,
    .p1 = 0x5700000A,
    .params = {"port or address", "width", "0 port / 1 register / 2 misaligned port"},
    .text = "register or port access that no device decodes, or a misaligned port access",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/io-unclaimed-port",
};

const struct vf_rule *const io_access_rules[io_access_rule_count] = {&rule_unclaimed};

static uint64_t reg_read(volatile void *reg, unsigned width)
{
    struct sys *sys = sys_get();
    ke_sched_point(&sys->ke);
    uint64_t pa, v = ~0ULL;
    if (!mm_iomap_lookup(&sys->mm, (const void *)reg, &pa)) {
        vf_fire(&rule_unclaimed, (uint64_t)(uintptr_t)reg, width, 1,
                "[VA %p, %u bytes] READ_REGISTER_* of an address no MmMapIoSpace mapping covers",
                (void *)reg, width);
        return v;
    }
    if (bus_mmio_read(&sys->machine, pa, width, &v))
        vf_fire(&rule_unclaimed, pa, width, 1,
                "[VA %p, PA %#llx, %u bytes] READ_REGISTER_* that no device decodes", (void *)reg,
                (unsigned long long)pa, width);
    return v;
}

static void reg_write(volatile void *reg, unsigned width, uint64_t v)
{
    struct sys *sys = sys_get();
    ke_sched_point(&sys->ke);
    uint64_t pa;
    if (!mm_iomap_lookup(&sys->mm, (const void *)reg, &pa)) {
        vf_fire(&rule_unclaimed, (uint64_t)(uintptr_t)reg, width, 1,
                "[VA %p, %u bytes] WRITE_REGISTER_* to an address no MmMapIoSpace mapping covers",
                (void *)reg, width);
        return;
    }
    if (bus_mmio_write(&sys->machine, pa, width, v))
        vf_fire(&rule_unclaimed, pa, width, 1,
                "[VA %p, PA %#llx, %u bytes] WRITE_REGISTER_* that no device decodes", (void *)reg,
                (unsigned long long)pa, width);
}

static uint32_t port_of(const volatile void *p, unsigned width)
{
    uintptr_t port = (uintptr_t)p;
    if (port > 0xFFFF || (port & (width - 1))) {
        vf_fire(&rule_unclaimed, port, width, 2,
                "[port %#lx, %u bytes] port access beyond 0xFFFF or not aligned to its width",
                (unsigned long)port, width);
    }
    return (uint32_t)port;
}

static uint64_t port_read(const volatile void *p, unsigned width)
{
    struct sys *sys = sys_get();
    ke_sched_point(&sys->ke);
    uint32_t port = port_of(p, width);
    uint64_t v;
    if (bus_port_read(&sys->machine, port, width, &v))
        vf_fire(&rule_unclaimed, port, width, 0,
                "[port %#x, %u bytes] READ_PORT_* that no device decodes", port, width);
    return v;
}

static void port_write(volatile void *p, unsigned width, uint64_t v)
{
    struct sys *sys = sys_get();
    ke_sched_point(&sys->ke);
    uint32_t port = port_of(p, width);
    if (bus_port_write(&sys->machine, port, width, v))
        vf_fire(&rule_unclaimed, port, width, 0,
                "[port %#x, %u bytes] WRITE_PORT_* that no device decodes", port, width);
}

/* ---- registers ---------------------------------------------------------------- */

NTHALAPI UCHAR NTAPI READ_REGISTER_UCHAR(volatile UCHAR *Register)
{
    return (UCHAR)reg_read(Register, 1);
}
NTHALAPI USHORT NTAPI READ_REGISTER_USHORT(volatile USHORT *Register)
{
    return (USHORT)reg_read(Register, 2);
}
NTHALAPI ULONG NTAPI READ_REGISTER_ULONG(volatile ULONG *Register)
{
    return (ULONG)reg_read(Register, 4);
}
NTHALAPI ULONG64 NTAPI READ_REGISTER_ULONG64(volatile ULONG64 *Register)
{
    return reg_read(Register, 8);
}
NTHALAPI VOID NTAPI WRITE_REGISTER_UCHAR(volatile UCHAR *Register, UCHAR Value)
{
    reg_write(Register, 1, Value);
}
NTHALAPI VOID NTAPI WRITE_REGISTER_USHORT(volatile USHORT *Register, USHORT Value)
{
    reg_write(Register, 2, Value);
}
NTHALAPI VOID NTAPI WRITE_REGISTER_ULONG(volatile ULONG *Register, ULONG Value)
{
    reg_write(Register, 4, Value);
}
NTHALAPI VOID NTAPI WRITE_REGISTER_ULONG64(volatile ULONG64 *Register, ULONG64 Value)
{
    reg_write(Register, 8, Value);
}

/* Buffers: element i goes to / comes from Register + i (the address advances). */
#define REG_BUFFER(name, type, width)                                                       \
    NTHALAPI VOID NTAPI READ_REGISTER_BUFFER_##name(volatile type *Register, type *Buffer,  \
                                                    ULONG Count)                            \
    {                                                                                       \
        for (ULONG i = 0; i < Count; i++)                                                   \
            Buffer[i] = (type)reg_read(Register + i, width);                                \
    }                                                                                       \
    NTHALAPI VOID NTAPI WRITE_REGISTER_BUFFER_##name(volatile type *Register, type *Buffer, \
                                                     ULONG Count)                           \
    {                                                                                       \
        for (ULONG i = 0; i < Count; i++)                                                   \
            reg_write(Register + i, width, Buffer[i]);                                      \
    }
REG_BUFFER(UCHAR, UCHAR, 1)
REG_BUFFER(USHORT, USHORT, 2)
REG_BUFFER(ULONG, ULONG, 4)
REG_BUFFER(ULONG64, ULONG64, 8)

/* ---- ports ------------------------------------------------------------------------ */

NTHALAPI UCHAR NTAPI READ_PORT_UCHAR(PUCHAR Port)
{
    return (UCHAR)port_read(Port, 1);
}
NTHALAPI USHORT NTAPI READ_PORT_USHORT(PUSHORT Port)
{
    return (USHORT)port_read(Port, 2);
}
NTHALAPI ULONG NTAPI READ_PORT_ULONG(PULONG Port)
{
    return (ULONG)port_read(Port, 4);
}
NTHALAPI VOID NTAPI WRITE_PORT_UCHAR(PUCHAR Port, UCHAR Value)
{
    port_write(Port, 1, Value);
}
NTHALAPI VOID NTAPI WRITE_PORT_USHORT(PUSHORT Port, USHORT Value)
{
    port_write(Port, 2, Value);
}
NTHALAPI VOID NTAPI WRITE_PORT_ULONG(PULONG Port, ULONG Value)
{
    port_write(Port, 4, Value);
}

/* Buffers: every element at the same port. */
#define PORT_BUFFER(name, type, width)                                                  \
    NTHALAPI VOID NTAPI READ_PORT_BUFFER_##name(type *Port, type *Buffer, ULONG Count)  \
    {                                                                                   \
        for (ULONG i = 0; i < Count; i++)                                               \
            Buffer[i] = (type)port_read(Port, width);                                   \
    }                                                                                   \
    NTHALAPI VOID NTAPI WRITE_PORT_BUFFER_##name(type *Port, type *Buffer, ULONG Count) \
    {                                                                                   \
        for (ULONG i = 0; i < Count; i++)                                               \
            port_write(Port, width, Buffer[i]);                                         \
    }
PORT_BUFFER(UCHAR, UCHAR, 1)
PORT_BUFFER(USHORT, USHORT, 2)
PORT_BUFFER(ULONG, ULONG, 4)
