/*
 * src/ke/fiber.c - fibers: stacks in simulated memory and the context switch.
 *
 * Models: the kernel stack of a simulated thread. Each stack is pages of
 * simulated RAM mapped in the system address space, so a driver's stack
 * buffer has a physical address like on Windows, with one reserved,
 * never-mapped guard page below it: an overflow faults at once instead of
 * corrupting the neighbour.
 * The switch saves what the System V ABI makes callee-saved (rbx, rbp,
 * r12-r15, the MXCSR and x87 control words) and swaps stack pointers. Only
 * host (sysv) code calls it; an ms_abi driver function calling into the
 * kernel has already saved xmm6-15 itself, because for it every sysv callee
 * clobbers them. bench/bench_ke.c measures it against swapcontext, which
 * also saves the signal mask with a system call (docs/execution.md).
 * Not modelled: ASan fiber annotations (WDMSIM_SANITIZE builds may report
 * false stack errors across switches); CET shadow stacks.
 */
#include <string.h>

#include "sys.h"

/* void ke_fiber_switch(struct ke_fiber *from, struct ke_fiber *to):
 * rdi = from, rsi = to; sp is the first member of struct ke_fiber. */
__asm__(".text\n"
        ".globl ke_fiber_switch\n"
        ".hidden ke_fiber_switch\n"
        ".type ke_fiber_switch,@function\n"
        "ke_fiber_switch:\n"
        "    pushq %rbp\n"
        "    pushq %rbx\n"
        "    pushq %r12\n"
        "    pushq %r13\n"
        "    pushq %r14\n"
        "    pushq %r15\n"
        "    subq $8, %rsp\n"
        "    stmxcsr (%rsp)\n"
        "    fnstcw 4(%rsp)\n"
        "    movq %rsp, (%rdi)\n"
        "    movq (%rsi), %rsp\n"
        "    ldmxcsr (%rsp)\n"
        "    fldcw 4(%rsp)\n"
        "    addq $8, %rsp\n"
        "    popq %r15\n"
        "    popq %r14\n"
        "    popq %r13\n"
        "    popq %r12\n"
        "    popq %rbx\n"
        "    popq %rbp\n"
        "    ret\n"
        ".size ke_fiber_switch, .-ke_fiber_switch\n"
        /* First switch into a new fiber returns here with r12 = arg and
         * r13 = entry; rsp is 16-byte aligned, as a call needs. */
        ".type ke_fiber_trampoline,@function\n"
        "ke_fiber_trampoline:\n"
        /* The outermost frame of a fiber: unwinders stop here. */
        "    .cfi_startproc\n"
        "    .cfi_undefined rip\n"
        "    movq %r12, %rdi\n"
        "    callq *%r13\n"
        "    ud2\n"
        "    .cfi_endproc\n"
        ".size ke_fiber_trampoline, .-ke_fiber_trampoline\n");

void ke_fiber_trampoline(void);

int ke_fiber_create(struct ke_fiber *f, void (*entry)(void *arg), void *arg)
{
    struct sys *sys = sys_get();
    struct mm *mm = &sys->mm;
    uint64_t usable = ke_stack_bytes >> mm->page_shift;
    if (!usable)
        usable = 1;
    uint8_t *base = mm_va_reserve(mm, usable + 1);
    if (!base)
        return -1;
    uint64_t *guard = mm_pte_of(mm, base);
    if (guard)
        *guard |= mm_pte_guard;
    for (uint64_t k = 1; k <= usable; k++) {
        uint64_t frame = pfn_alloc(&sys->machine.pfn, UINT64_MAX);
        if (frame == UINT64_MAX ||
            mm_map_page(mm, base + (k << mm->page_shift), frame, mm_pte_write)) {
            if (frame != UINT64_MAX)
                pfn_free(&sys->machine.pfn, frame);
            mm_free_pages(mm, base, usable + 1);
            return -1;
        }
    }
    f->base = base;
    f->pages = usable + 1;
    ke_fiber_reset(f, entry, arg);
    return 0;
}

void ke_fiber_reset(struct ke_fiber *f, void (*entry)(void *arg), void *arg)
{
    struct sys *sys = sys_get();
    uint64_t *top = (uint64_t *)(f->base + (f->pages << sys->mm.page_shift));
    /* Frame the switch pops: control words, r15..r12, rbx, rbp, return
     * address; the slot above the return address keeps the trampoline's
     * rsp 16-byte aligned after `ret`. */
    uint64_t *sp = top - 10;
    uint32_t mxcsr;
    uint16_t fpucw;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(fpucw));
    sp[0] = (uint64_t)mxcsr | ((uint64_t)fpucw << 32);
    sp[1] = 0;               /* r15 */
    sp[2] = 0;               /* r14 */
    sp[3] = (uint64_t)entry; /* r13 */
    sp[4] = (uint64_t)arg;   /* r12 */
    sp[5] = 0;               /* rbx */
    sp[6] = 0;               /* rbp */
    sp[7] = (uint64_t)ke_fiber_trampoline;
    sp[8] = 0;
    sp[9] = 0;
    f->sp = sp;
}

void ke_fiber_destroy(struct ke_fiber *f)
{
    struct sys *sys = sys_get();
    if (f->base)
        mm_free_pages(&sys->mm, f->base, f->pages);
    memset(f, 0, sizeof(*f));
}

void ke_fiber_bounds(const struct ke_fiber *f, uintptr_t *lo, uintptr_t *hi)
{
    struct sys *sys = sys_get();
    *lo = (uintptr_t)f->base + sys->mm.page_size;
    *hi = (uintptr_t)f->base + (f->pages << sys->mm.page_shift);
}
