# tests/mutants/sgdisk-no-put - the SGD-1 sample forgetting PutScatterGatherList
# when a command completes: the map registers and the list stay with the
# adapter. Expected: PutDmaAdapter at REMOVE stops the machine with
# dma.put-with-sg-lists (0xE6, P1 0xA); tests/samples/test_sgdisk_sample.c.
set(MUTANT_SOURCE drivers/sgdisk/sgdisk.c)
set(MUTANT_FROM "        x->Adapter->DmaOperations->PutScatterGatherList(x->Adapter, s->Sg, s->Write);
        s->Sg = NULL;
        s->Done += s->Chunk;")
set(MUTANT_TO "        /* BUG: the list of a finished command is never put. */
        s->Sg = NULL;
        s->Done += s->Chunk;")
