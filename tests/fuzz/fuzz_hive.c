/*
 * tests/fuzz/fuzz_hive.c - libFuzzer target: loading a SYSTEM hive file
 * (src/cm/hive.c through libhivex). Property: any file is loaded or refused
 * with a message naming it; a loaded hive is written and loads again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cm/cm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char in[64], out[64], err[512];
    snprintf(in, sizeof in, "/tmp/wdmsim-fuzz-%d.hiv", (int)getpid());
    snprintf(out, sizeof out, "/tmp/wdmsim-fuzz-%d-out.hiv", (int)getpid());
    FILE *f = fopen(in, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    struct cm cm;
    if (cm_init(&cm))
        return 0;
    err[0] = 0;
    if (cm_hive_attach(&cm, in, err, sizeof err) == 0) {
        if (cm_hive_write(&cm, out, err, sizeof err) == 0) {
            struct cm again;
            if (!cm_init(&again)) {
                if (cm_hive_attach(&again, out, err, sizeof err)) {
                    fprintf(stderr, "a hive wdmsim wrote does not load: %s\n", err);
                    abort();
                }
                cm_fini(&again);
            }
        }
    } else if (!strstr(err, in)) {
        abort(); /* the message must name the file */
    }
    cm_fini(&cm);
    unlink(in);
    unlink(out);
    return 0;
}
