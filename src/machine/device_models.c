/*
 * src/machine/device_models.c - the device models the config can name.
 *
 * One line per model of devices/; a model is one const struct
 * wdmsim_device_model named wdmsim_model_<name>. Listed explicitly (no
 * linker sections) so a grep finds where a model is consumed.
 */
#include <stdio.h>
#include <string.h>

#include <wdmsim/device.h>

#include "machine/device_impl.h"

extern const struct wdmsim_device_model wdmsim_model_piofifo;
extern const struct wdmsim_device_model wdmsim_model_pktdisk;
extern const struct wdmsim_device_model wdmsim_model_sgdisk;
extern const struct wdmsim_device_model wdmsim_model_isastream;
extern const struct wdmsim_device_model wdmsim_model_dmatest;
extern const struct wdmsim_device_model wdmsim_model_dmatest_isa;

static const struct wdmsim_device_model *const models[] = {
    &wdmsim_model_piofifo,   &wdmsim_model_pktdisk, &wdmsim_model_sgdisk,
    &wdmsim_model_isastream, &wdmsim_model_dmatest, &wdmsim_model_dmatest_isa,
};

const struct wdmsim_device_model *machine_model_find(const char *name)
{
    for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++)
        if (!strcmp(models[i]->name, name))
            return models[i];
    return NULL;
}

/* "a, b, c" for error messages. */
void machine_model_names(char *buf, size_t len)
{
    buf[0] = 0;
    for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++) {
        size_t n = strlen(buf);
        snprintf(buf + n, len - n, "%s%s", i ? ", " : "", models[i]->name);
    }
}
