/*
 * src/mm/address.c - MmGetPhysicalAddress, MmIsAddressValid.
 *
 * Models: spec/memory.md 6. MmGetPhysicalAddress reads the PTE (any IRQL,
 * valid VA); an address that maps no RAM gives 0, as on Windows.
 * MmIsAddressValid says whether an access now would not fault.
 * Not modelled: driver images live in host memory (dlopen), not in
 * simulated RAM, so a driver's globals have no physical address here.
 * Thread stacks are simulated memory and do (src/ke/fiber.c).
 */
#include <wdm.h>

#include "sys.h"

NTKERNELAPI PHYSICAL_ADDRESS NTAPI MmGetPhysicalAddress(PVOID BaseAddress)
{
    PHYSICAL_ADDRESS pa;
    uint64_t v;
    pa.QuadPart = mm_va_to_pa(&sys_get()->mm, BaseAddress, &v) ? (LONGLONG)v : 0;
    return pa;
}

NTKERNELAPI BOOLEAN NTAPI MmIsAddressValid(PVOID VirtualAddress)
{
    uint64_t *pte = mm_pte_of(&sys_get()->mm, VirtualAddress);
    return pte && (*pte & mm_pte_valid) && !(*pte & mm_pte_trimmed);
}
