# tests/mutants/isastream-deallocate-object - the IST-1 sample's
# AdapterControl returning DeallocateObject in the auto-initialize flow: the
# HAL takes the channel and the ring's map registers back (and ends the
# mapping) while the 8237 keeps cycling over the ring. Expected: the stop's
# FlushAdapterBuffers passes a MapRegisterBase that is no longer a live
# grant: dma.map-register-use-after-free (0xE6, P1 0x57000014).
# tests/samples/test_isastream_sample.c.
set(MUTANT_SOURCE drivers/isastream/isastream.c)
set(MUTANT_FROM "        return KeepObject; /* channel and registers stay ours until the stop */")
set(MUTANT_TO "        return DeallocateObject; /* BUG: the controller still runs on the ring */")
