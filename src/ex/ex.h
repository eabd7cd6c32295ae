/*
 * src/ex/ex.h - the executive: pools, lookaside lists, interlocked lists.
 * The whole interface of src/ex to the other layers.
 */
#ifndef WDMSIM_EX_H
#define WDMSIM_EX_H

#include <stdint.h>

struct ex {
    int unused; /* filled by the memory issue */
};

#endif
