/*
 * src/ke/interrupt.c - interrupt objects, delivery and interrupt spin locks.
 *
 * Models: the kernel side of hardware interrupts (ARCHITECTURE.md 4): a
 * controller line (src/machine/intc.c) is wired to a vector, and
 * IRQL = vector >> 4 (spec ke_rtl_registry.md 1: device IRQLs 3-11 for
 * vectors 0x30-0xBF). When a processor's IRQL is below a requesting line's
 * DIRQL, the ISRs connected to it run there, at the interrupt's
 * SynchronizeIrql with its spin lock held. Level lines stop at the first
 * ISR that claims the interrupt (the line fires again while asserted);
 * edge lines call every ISR once. IoConnectInterrupt(Ex),
 * IoDisconnectInterrupt(Ex), KeSynchronizeExecution and
 * KeAcquire/ReleaseInterruptSpinLock live here, beside the KINTERRUPT they use.
 * Wiring: line n -> vector 0x30 + 0x10 * (n % 9) + n / 9, so lines 0..8 have
 * DIRQL 3..11 and the 64 lines spread over every device IRQL.
 * Spec: verifier.md 4 irql.isr; verifier.md 8 io.interrupt-storm.
 * Invariants: a line in service on one processor is not delivered to a
 * second one (the APIC's in-service bit); a KINTERRUPT is never freed while
 * the machine runs (an ISR may be suspended at a scheduling point).
 * Not modelled: message-signalled interrupts, line-based
 * IoConnectInterruptEx (needs the PnP resources of the I/O issue),
 * FloatingSave, interrupt affinity policies beyond ProcessorEnableMask.
 */
#include <stdlib.h>

#include <wdm.h>

#include "sys.h"

struct _KINTERRUPT {
    CSHORT Type;
    CSHORT Size;
    PKSERVICE_ROUTINE ServiceRoutine;
    PVOID ServiceContext;
    KSPIN_LOCK OwnLock;
    PKSPIN_LOCK Lock;
    ULONG Vector;
    unsigned line;
    KIRQL Irql;
    KIRQL SynchronizeIrql;
    KINTERRUPT_MODE Mode;
    BOOLEAN ShareVector;
    KAFFINITY Affinity;
    bool connected;
    struct _KINTERRUPT *next;
};

enum { interrupt_object_type = 22, storm_limit = 1000 };

unsigned ke_line_vector(unsigned line)
{
    return 0x30 + 0x10 * (line % 9) + line / 9;
}

int ke_vector_line(unsigned vector)
{
    if (vector < 0x30 || vector > 0xBF)
        return -1;
    unsigned line = (vector & 0xF) * 9 + ((vector >> 4) - 3);
    return line < intc_max_lines ? (int)line : -1;
}

static uint8_t line_irql(unsigned line)
{
    return (uint8_t)(ke_line_vector(line) >> 4);
}

int ke_interrupt_deliverable(struct ke *ke, unsigned p)
{
    uint64_t req = ke->machine->intc.requesting & ~ke->in_service;
    if (!req)
        return -1;
    int best = -1;
    uint8_t best_irql = ke->processor[p].irql;
    for (unsigned line = 0; req; line++, req >>= 1) {
        if (!(req & 1) || line_irql(line) <= best_irql)
            continue;
        bool allowed = false;
        for (struct _KINTERRUPT *k = ke->line_isr[line]; k; k = k->next)
            if (k->Affinity & ((KAFFINITY)1 << p))
                allowed = true;
        if (allowed) {
            best = (int)line;
            best_irql = line_irql(line);
        }
    }
    return best;
}

const struct vf_rule ke_rule_isr_irql = {
    .id = "irql.isr",
    .code = 0xC4,
    .p1 = 0x111,
    .params = {"ISR address", "IRQL before the call", "IRQL after it"},
    .text = "an interrupt service routine returned at another IRQL than it was called at",
    .option = vf_opt_auto,
    .fixture = "tests/fixtures/irql-isr",
};

const struct vf_rule ke_rule_storm = {
    .id = "io.interrupt-storm",
    .code = 0xC4,
    .p1 = 0x57000009,
    .params = {"line", "deliveries during one assertion", "vector"},
    .text = "a level-triggered line stays asserted through many ISR calls: no ISR dismisses "
            "the device's interrupt",
    .option = vf_opt_io,
    .fixture = "tests/fixtures/io-interrupt-storm",
};

static void storm_check(struct ke *ke, unsigned line)
{
    struct intc_line *l = &ke->machine->intc.line[line];
    if (l->edge || !l->asserted || l->assertions != ke->storm_mark[line]) {
        ke->storm[line] = 0;
        ke->storm_mark[line] = l->assertions;
        return;
    }
    if (++ke->storm[line] < storm_limit)
        return;
    vf_fire(&ke_rule_storm, line, ke->storm[line], ke_line_vector(line),
            "[line %u, vector 0x%X] still asserted after %u ISR calls", line, ke_line_vector(line),
            ke->storm[line]);
    /* The rule is off: mask the line rather than loop forever. */
    intc_set_masked(&ke->machine->intc, line, true);
}

void ke_interrupt_deliver(struct ke *ke, unsigned line)
{
    struct ke_processor *pr = ke_current_processor(ke);
    uint8_t old = pr->irql;
    intc_ack(&ke->machine->intc, line);
    ke->in_service |= 1ULL << line;
    pr->isr_depth++;
    ke_process_sync(ke); /* ISRs run in no process context */
    pr->isrs++;
    ke_trace(ke, ke_ev_isr, line);
    bool level = !ke->machine->intc.line[line].edge;
    for (struct _KINTERRUPT *k = ke->line_isr[line]; k && !ke_stopped(ke); k = k->next) {
        if (!(k->Affinity & ((KAFFINITY)1 << pr->number)))
            continue;
        uint8_t at = k->SynchronizeIrql > line_irql(line) ? k->SynchronizeIrql : line_irql(line);
        ke_raise_irql(ke, at);
        ke_lock_take(ke, k->Lock);
        BOOLEAN claimed = k->ServiceRoutine(k, k->ServiceContext);
        pr = ke_current_processor(ke);
        if (pr->irql != at)
            vf_fire(&ke_rule_isr_irql, (uint64_t)(uintptr_t)k->ServiceRoutine, at, pr->irql,
                    "ISR %p returned at IRQL %u; it was called at %u", (void *)k->ServiceRoutine,
                    pr->irql, at);
        pr->irql = at;
        ke_lock_drop(ke, k->Lock);
        if (claimed && level)
            break;
    }
    ke_observe(ke, ke_ev_isr_end, line, 0);
    pr->isr_depth--;
    ke_process_sync(ke);
    ke->in_service &= ~(1ULL << line);
    pr->irql = old;
    ke_trace(ke, ke_ev_irql, old);
    storm_check(ke, line);
}

/* ---- connecting ----------------------------------------------------------------- */

NTKERNELAPI NTSTATUS NTAPI IoConnectInterrupt(PKINTERRUPT *InterruptObject,
                                              PKSERVICE_ROUTINE ServiceRoutine,
                                              PVOID ServiceContext, PKSPIN_LOCK SpinLock,
                                              ULONG Vector, KIRQL Irql, KIRQL SynchronizeIrql,
                                              KINTERRUPT_MODE InterruptMode, BOOLEAN ShareVector,
                                              KAFFINITY ProcessorEnableMask, BOOLEAN FloatingSave)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    ke_check_irql_max(ke, PASSIVE_LEVEL, 0, "IoConnectInterrupt");
    (void)FloatingSave;
    if (!InterruptObject || !ServiceRoutine)
        return STATUS_INVALID_PARAMETER;
    *InterruptObject = NULL;
    int line = ke_vector_line(Vector);
    if (line < 0 || Irql < ke_min_device_irql || Irql > ke_max_device_irql ||
        SynchronizeIrql < Irql || SynchronizeIrql > HIGH_LEVEL)
        return STATUS_INVALID_PARAMETER;
    KAFFINITY all = ke->nprocessors >= 64 ? ~(KAFFINITY)0 : (((KAFFINITY)1 << ke->nprocessors) - 1);
    if (!(ProcessorEnableMask & all))
        return STATUS_INVALID_PARAMETER;
    struct _KINTERRUPT *head = ke->line_isr[line];
    if (head && (!ShareVector || !head->ShareVector || head->Mode != InterruptMode))
        return STATUS_INVALID_PARAMETER;
    struct _KINTERRUPT *k = calloc(1, sizeof(*k));
    if (!k)
        return STATUS_INSUFFICIENT_RESOURCES;
    k->Type = interrupt_object_type;
    k->Size = sizeof(*k);
    k->ServiceRoutine = ServiceRoutine;
    k->ServiceContext = ServiceContext;
    k->Lock = SpinLock ? SpinLock : &k->OwnLock;
    k->Vector = Vector;
    k->line = (unsigned)line;
    k->Irql = Irql;
    k->SynchronizeIrql = SynchronizeIrql;
    k->Mode = InterruptMode;
    k->ShareVector = ShareVector;
    k->Affinity = ProcessorEnableMask & all;
    k->connected = true;
    struct _KINTERRUPT **pp = &ke->line_isr[line];
    while (*pp)
        pp = &(*pp)->next;
    *pp = k;
    if (!head)
        intc_configure(&ke->machine->intc, (unsigned)line, InterruptMode == Latched);
    intc_set_masked(&ke->machine->intc, (unsigned)line, false);
    *InterruptObject = k;
    return STATUS_SUCCESS;
}

NTKERNELAPI VOID NTAPI IoDisconnectInterrupt(PKINTERRUPT InterruptObject)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    ke_check_irql_max(ke, PASSIVE_LEVEL, 0, "IoDisconnectInterrupt");
    if (!InterruptObject || !InterruptObject->connected)
        return;
    unsigned line = InterruptObject->line;
    for (struct _KINTERRUPT **pp = &ke->line_isr[line]; *pp; pp = &(*pp)->next) {
        if (*pp == InterruptObject) {
            *pp = InterruptObject->next;
            break;
        }
    }
    InterruptObject->connected = false;
    InterruptObject->next = ke->disconnected;
    ke->disconnected = InterruptObject;
    if (!ke->line_isr[line])
        intc_set_masked(&ke->machine->intc, line, true);
}

NTKERNELAPI NTSTATUS NTAPI IoConnectInterruptEx(PIO_CONNECT_INTERRUPT_PARAMETERS Parameters)
{
    if (!Parameters)
        return STATUS_INVALID_PARAMETER;
    if (Parameters->Version != CONNECT_FULLY_SPECIFIED) {
        /* Line- and message-based connection read the device's PnP
         * resources, which the I/O issue brings. */
        Parameters->Version = CONNECT_FULLY_SPECIFIED;
        return STATUS_NOT_SUPPORTED;
    }
    PIO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS f = &Parameters->FullySpecified;
    return IoConnectInterrupt(f->InterruptObject, f->ServiceRoutine, f->ServiceContext, f->SpinLock,
                              f->Vector, f->Irql, f->SynchronizeIrql, f->InterruptMode,
                              f->ShareVector, f->ProcessorEnableMask, f->FloatingSave);
}

NTKERNELAPI VOID NTAPI IoDisconnectInterruptEx(PIO_DISCONNECT_INTERRUPT_PARAMETERS Parameters)
{
    if (Parameters && Parameters->Version == CONNECT_FULLY_SPECIFIED)
        IoDisconnectInterrupt(Parameters->ConnectionContext.InterruptObject);
}

void ke_interrupt_fini(struct ke *ke)
{
    for (unsigned l = 0; l < intc_max_lines; l++) {
        while (ke->line_isr[l]) {
            struct _KINTERRUPT *k = ke->line_isr[l];
            ke->line_isr[l] = k->next;
            free(k);
        }
    }
    while (ke->disconnected) {
        struct _KINTERRUPT *k = ke->disconnected;
        ke->disconnected = k->next;
        free(k);
    }
}

/* ---- synchronizing with the ISR ------------------------------------------------ */

NTKERNELAPI BOOLEAN NTAPI KeSynchronizeExecution(PKINTERRUPT Interrupt,
                                                 PKSYNCHRONIZE_ROUTINE SynchronizeRoutine,
                                                 PVOID SynchronizeContext)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    ke_check_irql_max(ke, Interrupt->SynchronizeIrql, 0, "KeSynchronizeExecution");
    uint8_t old = ke_raise_irql(ke, Interrupt->SynchronizeIrql);
    ke_lock_take(ke, Interrupt->Lock);
    BOOLEAN r = SynchronizeRoutine(SynchronizeContext);
    ke_lock_drop(ke, Interrupt->Lock);
    ke_lower_irql(ke, old);
    return r;
}

NTKERNELAPI KIRQL NTAPI KeAcquireInterruptSpinLock(PKINTERRUPT Interrupt)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    ke_check_irql_max(ke, Interrupt->SynchronizeIrql, 0, "KeAcquireInterruptSpinLock");
    uint8_t old = ke_raise_irql(ke, Interrupt->SynchronizeIrql);
    ke_lock_take(ke, Interrupt->Lock);
    return old;
}

NTKERNELAPI VOID NTAPI KeReleaseInterruptSpinLock(PKINTERRUPT Interrupt, KIRQL OldIrql)
{
    struct ke *ke = &sys_get()->ke;
    ke_sched_point(ke);
    ke_lock_drop(ke, Interrupt->Lock);
    KeLowerIrql(OldIrql);
}
