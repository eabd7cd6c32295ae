/*
 * src/io/app_bridge.h - kernel exports the app CRT archive (src/crt_app)
 * calls for output, the process heap and exit.
 *
 * Models: what an app's CRT gets from its process: a standard output (the
 * run's), a heap (inside the process's user space, src/mm/user_heap.c)
 * and process exit. wdmsim cannot export printf, malloc or exit from its
 * process (they would interpose glibc's for the whole process), so the app
 * CRT's functions are thin wrappers around these non-colliding names.
 * Read by two builds: the kernel (sysv host code, ms_abi on these) and the
 * app CRT (-mabi=ms), so it uses only compiler types.
 * Spec: ARCHITECTURE.md 10; docs/apps.md.
 */
#ifndef WDMSIM_IO_APP_BRIDGE_H
#define WDMSIM_IO_APP_BRIDGE_H

#include <stddef.h>

#define IO_APP_BRIDGE_API __attribute__((ms_abi, visibility("default")))

/* Writes n bytes to the run's standard output; returns n, or -1 when
 * called outside an app's process. */
IO_APP_BRIDGE_API int io_app_write(const char *buf, size_t n);
/* The process heap: 16-byte aligned user addresses; NULL when out of
 * memory. free(NULL) and realloc(NULL, n) behave as in C. */
IO_APP_BRIDGE_API void *io_app_malloc(size_t n);
IO_APP_BRIDGE_API void io_app_free(void *p);
IO_APP_BRIDGE_API void *io_app_realloc(void *p, size_t n);
/* Ends the app: main's caller sees `code` as if main had returned it. */
IO_APP_BRIDGE_API __attribute__((noreturn)) void io_app_exit(int code);

#endif
