/*
 * src/cm/cm.h - the configuration manager: registry keys, values, hives.
 * The whole interface of src/cm to the other layers.
 */
#ifndef WDMSIM_CM_H
#define WDMSIM_CM_H

#include <stdint.h>

struct cm {
    int unused; /* filled by the registry work */
};

#endif
