# tests/mutants/sgdisk-virtual-address - the SGD-1 sample writing the
# buffer's virtual address into the descriptor table instead of the logical
# address of the S/G element. Expected: the device's first data access is
# refused by the bus: dma.device-outside-mapping (0xE6, P1 0x26,
# P4 0x57000011); tests/samples/test_sgdisk_sample.c.
set(MUTANT_SOURCE drivers/sgdisk/sgdisk.c)
set(MUTANT_FROM "        ULONGLONG addr = (ULONGLONG)sg->Elements[e].Address.QuadPart;")
set(MUTANT_TO "        ULONGLONG addr = (ULONG_PTR)MmGetMdlVirtualAddress(x->Slot[slot].Irp->MdlAddress) +
                         x->Slot[slot].Done; /* BUG: a virtual address */")
