/*
 * src/machine/intc.c - the interrupt controller.
 *
 * Models: an I/O APIC-like controller seen from the devices' side: numbered
 * lines, each level-triggered (requests service while asserted) or
 * edge-triggered (an assertion is latched until the processor takes it),
 * and a mask. It knows nothing of IRQLs, vectors or ISRs: the kernel maps a
 * line to a vector and decides when a processor takes it (src/ke).
 * Invariants: bit n of `requesting` is set iff line n is unmasked and either
 * (level and asserted) or (edge and latched).
 * Not modelled: priorities inside the controller, message-signalled
 * interrupts, interrupt remapping.
 */
#include "machine/machine.h"

static void update(struct intc *ic, unsigned line)
{
    const struct intc_line *l = &ic->line[line];
    bool req = !l->masked && (l->edge ? l->latched : l->asserted);
    if (req)
        ic->requesting |= 1ULL << line;
    else
        ic->requesting &= ~(1ULL << line);
}

void intc_init(struct intc *ic)
{
    for (unsigned i = 0; i < intc_max_lines; i++) {
        ic->line[i] = (struct intc_line){.masked = true};
    }
    ic->requesting = 0;
}

int intc_configure(struct intc *ic, unsigned line, bool edge)
{
    if (line >= intc_max_lines)
        return -1;
    ic->line[line].edge = edge;
    ic->line[line].latched = false;
    update(ic, line);
    return 0;
}

void intc_set_masked(struct intc *ic, unsigned line, bool masked)
{
    if (line >= intc_max_lines)
        return;
    ic->line[line].masked = masked;
    update(ic, line);
}

void intc_assert(struct intc *ic, unsigned line)
{
    if (line >= intc_max_lines)
        return;
    struct intc_line *l = &ic->line[line];
    /* Edge: only a rising edge latches; asserting an asserted line is not an edge. */
    if (!l->asserted && l->edge)
        l->latched = true;
    l->asserted = true;
    l->assertions++;
    update(ic, line);
}

void intc_deassert(struct intc *ic, unsigned line)
{
    if (line >= intc_max_lines)
        return;
    ic->line[line].asserted = false;
    update(ic, line);
}

void intc_ack(struct intc *ic, unsigned line)
{
    if (line >= intc_max_lines)
        return;
    ic->line[line].latched = false;
    ic->line[line].deliveries++;
    update(ic, line);
}
