# tests/mutants/isastream-deallocate-object - the IST-1 sample's
# AdapterControl returning DeallocateObject in the auto-initialize flow: the
# HAL would take the channel and the ring's map registers back while the
# ring is still mapped and the 8237 keeps cycling over it. Expected: the
# return itself stops as dma.free-while-mapped (0xE6, P1 0x10), as a
# FreeAdapterChannel with live mappings does.
# tests/samples/test_isastream_sample.c.
set(MUTANT_SOURCE drivers/isastream/isastream.c)
set(MUTANT_FROM "        return KeepObject; /* channel and registers stay ours until the stop */")
set(MUTANT_TO "        return DeallocateObject; /* BUG: the controller still runs on the ring */")
