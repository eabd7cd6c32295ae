/*
 * src/hal/rules.c - the verifier rules of DMA (dma.*, sdma.*) and the list
 * for src/vf/catalogue.c.
 *
 * Spec: spec/verifier.md 7 (0xE6 subcodes) and 9 (beyond Driver Verifier).
 * The checks live in dma_api, packet, sgops, common, sysdma, v3, legacy,
 * device_dma, checks and own.c; the descriptors are kept together here so
 * the 0xE6 table reads as one.
 * Rules 0x26 carry their wdmsim subcode in parameter 4 (the third argument).
 */
#include "hal/hal.h"
#include "vf/vf.h"

const struct vf_rule hal_rule_common_buffer_double_free = {
    .id = "dma.common-buffer-double-free",
    .code = 0xE6,
    .p1 = 0x3,
    .params = {"extra frees", "-", "-"},
    .text = "FreeCommonBuffer of a buffer not allocated (or already freed) on this adapter",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-common-buffer-double-free",
};

const struct vf_rule hal_rule_channel_double_free = {
    .id = "dma.channel-double-free",
    .code = 0xE6,
    .p1 = 0x4,
    .params = {"extra frees", "-", "-"},
    .text = "FreeAdapterChannel with no channel held",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-channel-double-free",
};

const struct vf_rule hal_rule_map_registers_double_free = {
    .id = "dma.map-registers-double-free",
    .code = 0xE6,
    .p1 = 0x5,
    .params = {"extra frees", "-", "-"},
    .text = "FreeMapRegisters of registers already freed",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-map-registers-double-free",
};

const struct vf_rule hal_rule_sg_double_put = {
    .id = "dma.sg-double-put",
    .code = 0xE6,
    .p1 = 0x6,
    .params = {"allocated", "freed", "-"},
    .text = "PutScatterGatherList of a list already put",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-sg-double-put",
};

const struct vf_rule hal_rule_put_with_common_buffers = {
    .id = "dma.put-with-common-buffers",
    .code = 0xE6,
    .p1 = 0x7,
    .params = {"adapter", "outstanding", "-"},
    .text = "PutDmaAdapter with common buffers still allocated",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-put-with-common-buffers",
};

const struct vf_rule hal_rule_put_with_channels = {
    .id = "dma.put-with-channels",
    .code = 0xE6,
    .p1 = 0x8,
    .params = {"adapter", "outstanding", "-"},
    .text = "PutDmaAdapter with an adapter channel still held",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-put-with-channels",
};

const struct vf_rule hal_rule_put_with_map_registers = {
    .id = "dma.put-with-map-registers",
    .code = 0xE6,
    .p1 = 0x9,
    .params = {"adapter", "outstanding", "-"},
    .text = "PutDmaAdapter with map registers still allocated",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-put-with-map-registers",
};

const struct vf_rule hal_rule_put_with_sg_lists = {
    .id = "dma.put-with-sg-lists",
    .code = 0xE6,
    .p1 = 0xA,
    .params = {"adapter", "outstanding", "-"},
    .text = "PutDmaAdapter with scatter/gather lists not put",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-put-with-sg-lists",
};

const struct vf_rule hal_rule_channel_twice = {
    .id = "dma.channel-twice",
    .code = 0xE6,
    .p1 = 0xB,
    .params = {"outstanding channels", "-", "-"},
    .text = "second adapter channel requested on one adapter (or from inside AdapterControl)",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-channel-twice",
};

const struct vf_rule hal_rule_map_beyond_grant = {
    .id = "dma.map-beyond-grant",
    .code = 0xE6,
    .p1 = 0xC,
    .params = {"required", "maximum", "-"},
    .text = "MapTransfer needs more map registers than the grant has free",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-map-beyond-grant",
};

const struct vf_rule hal_rule_flush_missing = {
    .id = "dma.flush-missing",
    .code = 0xE6,
    .p1 = 0xD,
    .params = {"bytes mapped", "max mappable", "-"},
    .text = "map registers reused, freed or completed without FlushAdapterBuffers",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-flush-missing",
};

const struct vf_rule hal_rule_unlocked_buffer = {
    .id = "dma.unlocked-buffer",
    .code = 0xE6,
    .p1 = 0xE,
    .params = {"MDL", "-", "-"},
    .text = "MapTransfer of an MDL whose pages are not locked",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-unlocked-buffer",
};

const struct vf_rule hal_rule_free_while_mapped = {
    .id = "dma.free-while-mapped",
    .code = 0xE6,
    .p1 = 0x10,
    .params = {"still mapped", "-", "-"},
    .text = "FreeMapRegisters / FreeAdapterChannel while transfers are still mapped",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-free-while-mapped",
};

const struct vf_rule hal_rule_irql = {
    .id = "dma.irql",
    .code = 0xE6,
    .p1 = 0x13,
    .params = {"1 exact / 2 maximum", "expected or maximum IRQL", "current IRQL"},
    .text = "DMA routine called at the wrong IRQL",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-irql",
};

const struct vf_rule hal_rule_map_registers_over_max = {
    .id = "dma.map-registers-over-max",
    .code = 0xE6,
    .p1 = 0x15,
    .params = {"allocated", "maximum", "-"},
    .text = "more map registers requested than IoGetDmaAdapter granted",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-map-registers-over-max",
};

const struct vf_rule hal_rule_flush_unmapped_buffer = {
    .id = "dma.flush-unmapped-buffer",
    .code = 0xE6,
    .p1 = 0x16,
    .params = {"register VA", "data", "-"},
    .text = "FlushAdapterBuffers of a range no MapTransfer mapped",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-flush-unmapped-buffer",
};

const struct vf_rule hal_rule_adapter_after_put = {
    .id = "dma.adapter-after-put",
    .code = 0xE6,
    .p1 = 0x18,
    .params = {"adapter", "data", "-"},
    .text = "DMA adapter used after PutDmaAdapter",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-adapter-after-put",
};

const struct vf_rule hal_rule_null_adapter = {
    .id = "dma.null-adapter",
    .code = 0xE6,
    .p1 = 0x19,
    .params = {"-", "-", "-"},
    .text = "NULL or invalid DMA adapter",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-null-adapter",
};

const struct vf_rule hal_rule_va_outside_mdl = {
    .id = "dma.va-outside-mdl",
    .code = 0xE6,
    .p1 = 0x1B,
    .params = {"VA", "MDL", "-"},
    .text = "CurrentVa outside the MDL",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-va-outside-mdl",
};

const struct vf_rule hal_rule_double_map = {
    .id = "dma.double-map",
    .code = 0xE6,
    .p1 = 0x1D,
    .params = {"start", "end", "existing"},
    .text = "range mapped again while already mapped",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-double-map",
};

const struct vf_rule hal_rule_legacy_hal_call = {
    .id = "dma.legacy-hal-call",
    .code = 0xE6,
    .p1 = 0x1E,
    .params = {"-", "-", "-"},
    .text = "legacy HAL DMA export called (use DmaOperations)",
    .option = vf_opt_dma,
    .continues = true,
    .fixture = "tests/fixtures/dma-legacy-hal-call",
};

const struct vf_rule hal_rule_bad_buffer = {
    .id = "dma.bad-buffer",
    .code = 0xE6,
    .p1 = 0x1F,
    .params = {"subcode", "VA or length", "MDL"},
    .text = "transfer range outside the MDL or not aligned as GetDmaAlignment requires",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-bad-buffer",
};

const struct vf_rule hal_rule_zero_length = {
    .id = "dma.zero-length",
    .code = 0xE6,
    .p1 = 0x21,
    .params = {"data", "-", "-"},
    .text = "zero-byte map or common buffer",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-zero-length",
};

const struct vf_rule hal_rule_unknown_description_version = {
    .id = "dma.unknown-description-version",
    .code = 0xE6,
    .p1 = 0x25,
    .params = {"-", "-", "-"},
    .text = "DEVICE_DESCRIPTION.Version unknown",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-unknown-description-version",
};

const struct vf_rule hal_rule_bad_description = {
    .id = "dma.bad-description",
    .code = 0xE6,
    .p1 = 0x57000005,
    .params = {"adapter", "-", "-"},
    .text = "IoGetDmaAdapter refused the description (NULL returned)",
    .option = vf_opt_dma,
    .continues = true,
    .fixture = "tests/fixtures/dma-bad-description",
};

const struct vf_rule hal_rule_desc_not_zeroed = {
    .id = "dma.desc-not-zeroed",
    .code = 0xE6,
    .p1 = 0x57000006,
    .params = {"field offset", "-", "-"},
    .text = "DEVICE_DESCRIPTION not zero-filled: a field unused by its Version is set",
    .option = vf_opt_dma,
    .continues = true,
    .fixture = "tests/fixtures/dma-desc-not-zeroed",
};

const struct vf_rule hal_rule_bad_allocation_action = {
    .id = "dma.bad-allocation-action",
    .code = 0xE6,
    .p1 = 0x57000001,
    .params = {"action", "-", "-"},
    .text = "AdapterControl returned a value that is no IO_ALLOCATION_ACTION",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-bad-allocation-action",
};

const struct vf_rule hal_rule_free_count_mismatch = {
    .id = "dma.free-count-mismatch",
    .code = 0xE6,
    .p1 = 0x57000002,
    .params = {"base", "freed", "granted"},
    .text = "FreeMapRegisters count differs from the grant",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-free-count-mismatch",
};

const struct vf_rule hal_rule_common_buffer_mismatch = {
    .id = "dma.common-buffer-mismatch",
    .code = 0xE6,
    .p1 = 0x57000003,
    .params = {"VA", "length given", "length allocated"},
    .text = "FreeCommonBuffer arguments differ from the allocation",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-common-buffer-mismatch",
};

const struct vf_rule hal_rule_counter_on_master = {
    .id = "dma.counter-on-master",
    .code = 0xE6,
    .p1 = 0x57000004,
    .params = {"adapter", "-", "-"},
    .text = "ReadDmaCounter on a bus-master adapter",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-counter-on-master",
};

const struct vf_rule hal_rule_device_outside_mapping = {
    .id = "dma.device-outside-mapping",
    .code = 0xE6,
    .p1 = 0x26,
    .params = {"device", "logical address", "0x57000011"},
    .text = "device accessed a logical address no live mapping of its adapter covers",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-device-outside-mapping",
};

const struct vf_rule hal_rule_device_wrong_direction = {
    .id = "dma.device-wrong-direction",
    .code = 0xE6,
    .p1 = 0x26,
    .params = {"device", "logical address", "0x57000012"},
    .text = "device accessed a mapping against its direction",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-device-wrong-direction",
};

const struct vf_rule hal_rule_device_beyond_reach = {
    .id = "dma.device-beyond-reach",
    .code = 0xE6,
    .p1 = 0x26,
    .params = {"device", "logical address", "0x57000013"},
    .text = "device emitted an address above its address width",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-device-beyond-reach",
};

const struct vf_rule hal_rule_map_register_use_after_free = {
    .id = "dma.map-register-use-after-free",
    .code = 0xE6,
    .p1 = 0x57000014,
    .params = {"base", "adapter", "-"},
    .text = "stale or foreign MapRegisterBase",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-map-register-use-after-free",
};

const struct vf_rule hal_rule_sdma_block_wrap = {
    .id = "sdma.block-wrap",
    .code = 0xE6,
    .p1 = 0x57000020,
    .params = {"channel", "address", "-"},
    .text = "8237 transfer wrapped inside its 64/128 KiB block",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/sdma-block-wrap",
};

const struct vf_rule hal_rule_sdma_driver_port_access = {
    .id = "sdma.driver-port-access",
    .code = 0xE6,
    .p1 = 0x57000021,
    .params = {"channel", "value", "-"},
    .text = "driver programmed a system DMA channel the HAL owns",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/sdma-driver-port-access",
};

const struct vf_rule hal_rule_sdma_illegal_mode = {
    .id = "sdma.illegal-mode",
    .code = 0xE6,
    .p1 = 0x57000022,
    .params = {"channel", "mode", "-"},
    .text = "8237 mode with transfer type 11",
    .option = vf_opt_dma,
    .continues = true,
    .fixture = "tests/fixtures/sdma-illegal-mode",
};

const struct vf_rule hal_rule_sdma_unsupported_command = {
    .id = "sdma.unsupported-command",
    .code = 0xE6,
    .p1 = 0x57000023,
    .params = {"channel", "command", "-"},
    .text = "8237 command bits wdmsim does not model",
    .option = vf_opt_dma,
    .continues = true,
    .fixture = "tests/fixtures/sdma-unsupported-command",
};

const struct vf_rule hal_rule_sdma_flush_active_channel = {
    .id = "sdma.flush-active-channel",
    .code = 0xE6,
    .p1 = 0x23,
    .params = {"0", "controller (0: channels 0-3, 1: 5-7)", "channel"},
    .text = "FlushAdapterBuffers of a system DMA channel neither complete (terminal count) nor "
            "cancelled (masked, or an auto-initialize channel whose device stopped requesting)",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/sdma-flush-active-channel",
};

const struct vf_rule hal_rule_wrong_release_api = {
    .id = "dma.wrong-release-api",
    .code = 0xE6,
    .p1 = 0x57000031,
    .params = {"base or list", "-", "-"},
    .text = "resources released through the wrong routine",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-wrong-release-api",
};

const struct vf_rule hal_rule_flush_direction_mismatch = {
    .id = "dma.flush-direction-mismatch",
    .code = 0xE6,
    .p1 = 0x57000032,
    .params = {"VA", "mapped direction", "flushed direction"},
    .text = "flush with another direction than the map",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-flush-direction-mismatch",
};

const struct vf_rule hal_rule_flush_range = {
    .id = "dma.flush-range",
    .code = 0xE6,
    .p1 = 0x57000033,
    .params = {"VA", "mapped length", "flushed length"},
    .text = "flush range differs from the mapping",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-flush-range",
};

const struct vf_rule hal_rule_flush_past_end = {
    .id = "dma.flush-past-end",
    .code = 0xE6,
    .p1 = 0x0,
    .params = {"1", "bytes left in the MDL", "bytes asked"},
    .text = "FlushAdapterBuffers of more bytes than the MDL holds from CurrentVa",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-flush-past-end",
};

const struct vf_rule hal_rule_flush_unmapped_register = {
    .id = "dma.flush-unmapped-register",
    .code = 0xE6,
    .p1 = 0x20,
    .params = {"MapRegisterBase", "buffer VA", "MDL"},
    .text = "FlushAdapterBuffers through map registers that do not map the buffer (it is mapped "
            "by another grant)",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-flush-unmapped-register",
};

const struct vf_rule hal_rule_buffer_too_small = {
    .id = "dma.buffer-too-small",
    .code = 0xE6,
    .p1 = 0x24,
    .params = {"unaccounted length", "MDL", "-"},
    .text = "scatter/gather transfer longer than its MDL chain",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-buffer-too-small",
};

const struct vf_rule hal_rule_cpu_touch_owned = {
    .id = "dma.cpu-touch-owned",
    .code = 0xE6,
    .p1 = 0x57000010,
    .params = {"VA", "MDL or list", "access (0 read, 1 write)"},
    .text = "CPU touched a buffer the device owns (between map and flush / Put)",
    .option = vf_opt_dma_ownership,
    .fixture = "tests/fixtures/dma-cpu-touch-owned",
};

const struct vf_rule hal_rule_stale_read = {
    .id = "dma.stale-read",
    .code = 0xE6,
    .p1 = 0xD,
    .params = {"VA", "MDL or list", "bytes the device wrote"},
    .text = "CPU read device->memory data before FlushAdapterBuffers / Put (stale in the bounce "
            "frame)",
    .option = vf_opt_dma_ownership,
    .fixture = "tests/fixtures/dma-stale-read",
};

const struct vf_rule hal_rule_unchecked_failure = {
    .id = "dma.unchecked-failure",
    .code = 0xE6,
    .p1 = 0x57000034,
    .params = {"routine (1 FreeCommonBuffer, 2 PutScatterGatherList, 3 map register base)", "value",
               "-"},
    .text = "result of a failed DMA allocation used (NULL common buffer, list or base)",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-unchecked-failure",
};

const struct vf_rule hal_rule_stack_buffer = {
    .id = "dma.stack-buffer",
    .code = 0xE6,
    .p1 = 0x57000035,
    .params = {"VA", "MDL", "-"},
    .text = "DMA to or from a kernel stack",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-stack-buffer",
};

const struct vf_rule hal_rule_overlap = {
    .id = "dma.overlap",
    .code = 0xE6,
    .p1 = 0x57000037,
    .params = {"VA", "MDL or list", "other mapping's MDL or list"},
    .text = "two live device->memory mappings share a cache line",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-overlap",
};

const struct vf_rule hal_rule_leak_at_unload = {
    .id = "dma.leak-at-unload",
    .code = 0xE6,
    .p1 = 0x57000039,
    .params = {"adapter", "registers held", "common buffers + lists"},
    .text = "driver unloaded with map registers, common buffers or lists still held",
    .option = vf_opt_dma,
    .fixture = "tests/fixtures/dma-leak-at-unload",
};

const struct vf_rule hal_rule_physical_address_used = {
    .id = "dma.physical-address-used",
    .code = 0xE6,
    .p1 = 0x26,
    .params = {"device", "logical address", "0x57000011"},
    .text = "device used a physical address (MmGetPhysicalAddress) of a mapped buffer instead of "
            "its logical address",
    .option = vf_opt_logical_offset,
    .fixture = "tests/fixtures/dma-physical-address-used",
};

const struct vf_rule *const hal_vf_rules[hal_vf_rule_count] = {
    &hal_rule_common_buffer_double_free,
    &hal_rule_channel_double_free,
    &hal_rule_map_registers_double_free,
    &hal_rule_sg_double_put,
    &hal_rule_put_with_common_buffers,
    &hal_rule_put_with_channels,
    &hal_rule_put_with_map_registers,
    &hal_rule_put_with_sg_lists,
    &hal_rule_channel_twice,
    &hal_rule_map_beyond_grant,
    &hal_rule_flush_missing,
    &hal_rule_unlocked_buffer,
    &hal_rule_free_while_mapped,
    &hal_rule_irql,
    &hal_rule_map_registers_over_max,
    &hal_rule_flush_unmapped_buffer,
    &hal_rule_adapter_after_put,
    &hal_rule_null_adapter,
    &hal_rule_va_outside_mdl,
    &hal_rule_double_map,
    &hal_rule_legacy_hal_call,
    &hal_rule_bad_buffer,
    &hal_rule_zero_length,
    &hal_rule_unknown_description_version,
    &hal_rule_bad_description,
    &hal_rule_desc_not_zeroed,
    &hal_rule_bad_allocation_action,
    &hal_rule_free_count_mismatch,
    &hal_rule_common_buffer_mismatch,
    &hal_rule_counter_on_master,
    &hal_rule_device_outside_mapping,
    &hal_rule_device_wrong_direction,
    &hal_rule_device_beyond_reach,
    &hal_rule_map_register_use_after_free,
    &hal_rule_sdma_block_wrap,
    &hal_rule_sdma_driver_port_access,
    &hal_rule_sdma_illegal_mode,
    &hal_rule_sdma_unsupported_command,
    &hal_rule_sdma_flush_active_channel,
    &hal_rule_wrong_release_api,
    &hal_rule_flush_direction_mismatch,
    &hal_rule_flush_range,
    &hal_rule_flush_past_end,
    &hal_rule_flush_unmapped_register,
    &hal_rule_buffer_too_small,
    &hal_rule_cpu_touch_owned,
    &hal_rule_stale_read,
    &hal_rule_unchecked_failure,
    &hal_rule_stack_buffer,
    &hal_rule_overlap,
    &hal_rule_leak_at_unload,
    &hal_rule_physical_address_used,
};
