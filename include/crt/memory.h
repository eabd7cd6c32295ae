/*
 * include/crt/memory.h - Microsoft's alias header for the memory functions.
 * Spec: ARCHITECTURE.md 10. Everything lives in <string.h>.
 */
#ifndef _WDMSIM_MEMORY_H
#define _WDMSIM_MEMORY_H
#include <string.h>
#endif
