/*
 * src/mm/mdl_impl.h - private to the MDL files of src/mm (mdl.c, mdl_map.c).
 */
#ifndef WDMSIM_MM_MDL_IMPL_H
#define WDMSIM_MM_MDL_IMPL_H

#include <wdm.h>

enum { mm_tag_mdl = 0x206c644d }; /* "Mdl " */

/* Pages spanned by [va, va + len). */
uint64_t mm_mdl_span(const void *va, uint64_t len);
/* MmInitializeMdl for host code. */
void mm_mdl_init(PMDL m, void *va, uint64_t len);
/* Removes the MDL's own system mapping and clears its mapping flags. */
void mm_mdl_unmap_system(PMDL m);

extern const struct vf_rule mm_rule_mdl_bad_flags;

#endif
