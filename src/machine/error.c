/*
 * src/machine/error.c - host-side error text.
 */
#include <stdio.h>

#include "machine/machine.h"

void machine_error_set(struct machine_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->text, sizeof(err->text), fmt, ap);
    va_end(ap);
}
