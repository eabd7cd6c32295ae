/*
 * include/crt_app/stdio.h - an app's <stdio.h>: the kernel CRT's string
 * formatting (include/crt/stdio.h) plus console output to the run's
 * standard output.
 *
 * Models: the user-mode CRT subset a test app needs (ARCHITECTURE.md 10):
 * printf, vprintf, puts, putchar, with the same Microsoft format
 * conventions as the kernel's (%ls wide, %I64x, %ld 32-bit).
 * Invariants: the archive src/crt_app forwards to kernel exports with
 * non-colliding names (src/io/app_bridge.h); glibc is never reachable.
 * Not modelled: FILE streams other than stdout, scanf, files.
 */
#ifndef _WDMSIM_APP_STDIO_H
#define _WDMSIM_APP_STDIO_H

#include_next <stdio.h>

int printf(const char *format, ...);
int vprintf(const char *format, va_list args);
int puts(const char *s);
int putchar(int c);
int snprintf(char *buffer, size_t count, const char *format, ...);
int vsnprintf(char *buffer, size_t count, const char *format, va_list args);

#endif
