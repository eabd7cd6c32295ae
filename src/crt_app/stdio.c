/*
 * src/crt_app/stdio.c - an app's console output: printf and friends.
 *
 * Models: the user-mode CRT's stdout, which here is the run's standard
 * output. The text is formatted by the kernel's engine (rtl_crt_vsnprintf,
 * Microsoft conventions) into a buffer on the app's stack and written
 * through io_app_write (src/io/app_bridge.h).
 * Invariants: no glibc name is called; a line longer than the stack buffer
 * is formatted again into a heap buffer of the exact size.
 */
#include <stdio.h>
#include <stdlib.h>

#include "crt/engine.h"
#include "io/app_bridge.h"

int vsnprintf(char *buffer, size_t count, const char *format, va_list args)
{
    /* C99 semantics: always terminated, returns the full length. */
    va_list again;
    va_copy(again, args);
    int n = rtl_crt_vsnprintf(buffer, count, format, args);
    if (n < 0 || (size_t)n >= count) {
        if (count)
            buffer[count - 1] = 0;
        n = rtl_crt_vsnprintf(NULL, 0, format, again);
    }
    va_end(again);
    return n;
}

int snprintf(char *buffer, size_t count, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    int n = vsnprintf(buffer, count, format, args);
    va_end(args);
    return n;
}

int vprintf(const char *format, va_list args)
{
    char buf[512];
    va_list again;
    va_copy(again, args);
    int n = rtl_crt_vsnprintf(buf, sizeof(buf), format, args);
    if (n >= 0) {
        va_end(again);
        return io_app_write(buf, (size_t)n);
    }
    int need = rtl_crt_vsnprintf(NULL, 0, format, again);
    va_end(again);
    char *big = need > 0 ? malloc((size_t)need + 1) : NULL;
    if (!big)
        return -1;
    va_copy(again, args);
    n = rtl_crt_vsnprintf(big, (size_t)need + 1, format, again);
    va_end(again);
    n = n < 0 ? -1 : io_app_write(big, (size_t)n);
    free(big);
    return n;
}

int printf(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    int n = vprintf(format, args);
    va_end(args);
    return n;
}

int puts(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    if (io_app_write(s, n) < 0 || io_app_write("\n", 1) < 0)
        return EOF;
    return 1;
}

int putchar(int c)
{
    char ch = (char)c;
    return io_app_write(&ch, 1) == 1 ? (unsigned char)ch : EOF;
}
