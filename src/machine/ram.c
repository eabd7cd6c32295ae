/*
 * src/machine/ram.c - physical RAM: one sparse memfd and its direct map.
 *
 * Models: the machine's physical memory. A physical address is an offset into
 * the memfd; only touched pages cost host memory, so a 64 GiB machine is
 * cheap. The direct map is made once at boot: device DMA and every other
 * machine-side access goes through it with no syscall per access. Virtual
 * mappings (mm) map the same memfd at a frame's offset, so they alias.
 * Not modelled: holes are inside the file too; pfn marks them not-RAM and
 * nothing maps them.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "machine/machine.h"

int ram_create(struct ram *ram, uint64_t span, struct machine_error *err)
{
    memset(ram, 0, sizeof(*ram));
    ram->memfd = memfd_create("wdmsim-ram", MFD_CLOEXEC);
    if (ram->memfd < 0) {
        machine_error_set(err, "memfd_create for %llu bytes of RAM: %s", (unsigned long long)span,
                          strerror(errno));
        return -1;
    }
    if (ftruncate(ram->memfd, (off_t)span) != 0) {
        machine_error_set(err, "ftruncate(RAM memfd, %llu): %s", (unsigned long long)span,
                          strerror(errno));
        goto fail;
    }
    void *p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, ram->memfd, 0);
    if (p == MAP_FAILED) {
        machine_error_set(err, "mmap of the RAM direct map (%llu bytes): %s",
                          (unsigned long long)span, strerror(errno));
        goto fail;
    }
    ram->direct = p;
    ram->span = span;
    return 0;
fail:
    close(ram->memfd);
    ram->memfd = -1;
    return -1;
}

void ram_destroy(struct ram *ram)
{
    if (ram->direct)
        munmap(ram->direct, ram->span);
    if (ram->memfd >= 0)
        close(ram->memfd);
    memset(ram, 0, sizeof(*ram));
    ram->memfd = -1;
}
