# tests/mutants/isastream-common-buffer-leak - the IST-1 sample not freeing
# its ring (the common buffer) at STOP/REMOVE. Expected: PutDmaAdapter with a
# common buffer outstanding: dma.put-with-common-buffers (0xE6, P1 0x7).
# tests/samples/test_isastream_sample.c.
set(MUTANT_SOURCE drivers/isastream/isastream.c)
set(MUTANT_FROM "    if (x->Ring) {
        x->Adapter->DmaOperations->FreeCommonBuffer(x->Adapter, IST_RING_SIZE, x->RingLogical,
                                                    x->Ring, FALSE);
        x->Ring = NULL;
    }")
set(MUTANT_TO "    /* BUG: the ring (common buffer) is never freed. */
    x->Ring = NULL;")
