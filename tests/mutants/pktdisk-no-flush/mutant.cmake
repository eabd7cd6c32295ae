# tests/mutants/pktdisk-no-flush - the PKD-1 sample forgetting
# FlushAdapterBuffers after a piece: the mapping stays live. Expected: the
# first request (one piece) ends in FreeMapRegisters with the registers still
# mapped: dma.free-while-mapped (0xE6, P1 0x10); a request of several pieces
# would stop at the next MapTransfer with dma.flush-missing (0xE6, P1 0xD).
# tests/samples/test_pktdisk_sample.c.
set(MUTANT_SOURCE drivers/pktdisk/pktdisk.c)
set(MUTANT_FROM "    x->Adapter->DmaOperations->FlushAdapterBuffers(x->Adapter, x->Mdl, x->MapRegisterBase,
                                                   x->CurrentVa, x->Piece, x->WriteToDevice);
    if (x->DoneStatus & STATUS_ERROR) {")
set(MUTANT_TO "    /* BUG: FlushAdapterBuffers forgotten. */
    if (x->DoneStatus & STATUS_ERROR) {")
