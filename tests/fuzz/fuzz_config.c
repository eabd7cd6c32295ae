/*
 * tests/fuzz/fuzz_config.c - libFuzzer target: the machine config reader
 * (src/machine/config.c). Property: any file is accepted or refused with a
 * message naming the file, never a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "machine/machine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/wdmsim-fuzz-%d.ini", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    struct machine_config cfg;
    struct machine_error err = {{0}};
    if (machine_config_load(&cfg, path, &err) != 0 && !strstr(err.text, path))
        abort();
    unlink(path);
    return 0;
}
