# tests/mutants/sgdisk-wrong-direction - the SGD-1 sample mapping every
# buffer for the opposite direction (WriteToDevice inverted in
# GetScatterGatherList). Expected: the device's first access goes against
# the mapping: dma.device-wrong-direction (0xE6, P1 0x26, P4 0x57000012);
# tests/samples/test_sgdisk_sample.c.
set(MUTANT_SOURCE drivers/sgdisk/sgdisk.c)
set(MUTANT_FROM "        SgdListControl, s, s->Write);")
set(MUTANT_TO "        SgdListControl, s, !s->Write); /* BUG: direction inverted */")
