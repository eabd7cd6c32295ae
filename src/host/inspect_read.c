/*
 * src/host/inspect_read.c - reading the machine's memory without faulting.
 *
 * Models: a debugger's memory reads: a simulated virtual address goes
 * through its PTE to the frame, read through the direct map of RAM, so a
 * trimmed page, a user page of another process or a PROT_NONE mapping is
 * read without being touched (and without paging it in). Addresses in a
 * driver image (globals, code) are host memory: read with
 * process_vm_readv, which fails instead of faulting on a discarded INIT
 * section.
 * Invariants: never dereferences an unchecked address; never changes a
 * PTE, a protection or a PFN count.
 */
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "host/inspect.h"
#include "sys.h"

/* Bytes readable at va within its page, copied to buf; 0 when none. */
static size_t read_page(struct sys *sys, uint64_t va, uint8_t *buf, size_t len)
{
    struct mm *mm = &sys->mm;
    uint64_t off = va & (mm->page_size - 1);
    size_t n = mm->page_size - off < len ? (size_t)(mm->page_size - off) : len;
    const uint64_t *pte = mm_pte_of(mm, (const void *)(uintptr_t)va);
    if (pte) {
        if (!(*pte & mm_pte_valid) || (*pte & mm_pte_io))
            return 0;
        uint64_t pa = (mm_pte_frame(*pte) << mm->page_shift) + off;
        if (!machine_is_ram(&sys->machine, pa))
            return 0;
        memcpy(buf, machine_pa_ptr(&sys->machine, pa), n);
        return n;
    }
    if (!io_driver_by_address(&sys->io, (uintptr_t)va))
        return 0;
    struct iovec local = {buf, n}, remote = {(void *)(uintptr_t)va, n};
    ssize_t got = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
    return got > 0 ? (size_t)got : 0;
}

size_t insp_read(struct sys *sys, uint64_t va, void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        size_t n = read_page(sys, va + done, (uint8_t *)buf + done, len - done);
        if (!n)
            break;
        done += n;
    }
    return done;
}

int insp_read_all(struct insp *c, uint64_t va, void *buf, size_t len)
{
    if (insp_read(c->sys, va, buf, len) == len)
        return 0;
    return insp_error(c, "cannot read %zu bytes at %s (not mapped simulated memory)", len,
                      INSP_ADDR(va));
}

void insp_ustr(struct sys *sys, uint64_t va, char *buf, size_t len)
{
    struct {
        uint16_t length, maximum;
        uint32_t pad;
        uint64_t buffer;
    } us;
    buf[0] = 0;
    if (!va || insp_read(sys, va, &us, sizeof(us)) != sizeof(us))
        return;
    size_t n = 0;
    for (unsigned i = 0; i < us.length / 2u && n + 1 < len; i++) {
        uint16_t ch;
        if (insp_read(sys, us.buffer + 2 * i, &ch, 2) != 2)
            break;
        buf[n++] = ch >= 0x20 && ch < 0x7F ? (char)ch : '?';
    }
    buf[n] = 0;
}

void insp_symbol(uint64_t pc, char *buf, size_t len)
{
    if (!pc) {
        snprintf(buf, len, "0");
        return;
    }
    /* vf_backtrace_describe takes a return address (it looks one byte
     * back); pc + 1 makes it describe pc itself. */
    vf_backtrace_describe((void *)(uintptr_t)(pc + 1), buf, len);
    char *paren = strstr(buf, " (");
    if (paren)
        *paren = 0;
    char *so = strstr(buf, ".so!");
    if (so)
        memmove(so, so + 3, strlen(so + 3) + 1);
}
