/*
 * include/crt_app/stdlib.h - an app's <stdlib.h>: the kernel CRT's
 * conversions and sorting (include/crt/stdlib.h) plus the process heap and
 * exit.
 *
 * Models: malloc/calloc/realloc/free on the process heap, whose blocks are
 * user addresses of the app's process (src/mm/user_heap.c): a malloc'ed
 * buffer can be handed to any I/O call. exit() ends the app with a code.
 * Not modelled: atexit, getenv, rand, the floating-point conversions.
 */
#ifndef _WDMSIM_APP_STDLIB_H
#define _WDMSIM_APP_STDLIB_H

#include_next <stdlib.h>

#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1

void *malloc(size_t size);
void *calloc(size_t count, size_t size);
void *realloc(void *p, size_t size);
void free(void *p);
__attribute__((noreturn)) void exit(int status);
__attribute__((noreturn)) void abort(void);

#endif
