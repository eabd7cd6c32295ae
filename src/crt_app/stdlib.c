/*
 * src/crt_app/stdlib.c - an app's heap and exit.
 *
 * Models: malloc/calloc/realloc/free over the process heap, whose blocks
 * lie in the process's user space (src/mm/user_heap.c), and exit/abort.
 * Invariants: thin wrappers over src/io/app_bridge.h; no glibc name.
 */
#include <stdlib.h>
#include <string.h>

#include "io/app_bridge.h"

void *malloc(size_t size)
{
    return io_app_malloc(size);
}

void *calloc(size_t count, size_t size)
{
    if (size && count > (size_t)-1 / size)
        return NULL;
    /* The heap's pages come zeroed, but a reused block does not. */
    void *p = io_app_malloc(count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void *realloc(void *p, size_t size)
{
    return io_app_realloc(p, size);
}

void free(void *p)
{
    io_app_free(p);
}

void exit(int status)
{
    io_app_exit(status);
}

void abort(void)
{
    /* STATUS_STACK_BUFFER_OVERRUN is what a fast-fail abort reports. */
    io_app_exit(3);
}
