/*
 * tests/fuzz/fuzz_reg.c - libFuzzer target: the .reg parser (src/cm/regfile.c).
 * Property: any input is imported or refused with a message, never a crash;
 * what was imported exports (regexport.c) to text that imports again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wdm.h>

#include "cm/cm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cm cm;
    char err[512];
    if (cm_init(&cm))
        return 0;
    if (cm_reg_import(&cm, (const char *)data, size, "fuzz.reg", err, sizeof err) == 0) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        struct cm_key *k;
        if (f && cm_resolve_utf8(&cm, "\\REGISTRY", 0, &k) == STATUS_SUCCESS) {
            cm_reg_export(&cm, k, 5, f);
            fclose(f);
            struct cm again;
            if (!cm_init(&again)) {
                if (cm_reg_import(&again, text, len, "export.reg", err, sizeof err)) {
                    fprintf(stderr, "re-import of the export failed: %s\n", err);
                    abort();
                }
                cm_fini(&again);
            }
        } else if (f) {
            fclose(f);
        }
        free(text);
    } else if (!err[0]) {
        abort(); /* a refusal must say why */
    }
    cm_fini(&cm);
    return 0;
}
