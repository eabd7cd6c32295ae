/*
 * src/vf/names.c - stop code names and what their parameters mean.
 *
 * Models: the bug check reference (debugger/bug-check-code-reference):
 * names are Windows', parameter meanings are summaries for the report; a
 * rule's own descriptor overrides them with its exact meanings.
 */
#include <stddef.h>

#include "vf/vf.h"

static const struct {
    uint32_t code;
    const char *name;
    const char *param[4];
} stops[] = {
    {0x0A,
     "IRQL_NOT_LESS_OR_EQUAL",
     {"memory referenced", "IRQL at the time", "0 read, 1 write, 8 execute",
      "instruction address"}},
    {0x19, "BAD_POOL_HEADER", {"subcode", "pool entry", "per subcode", "per subcode"}},
    {0x1E,
     "KMODE_EXCEPTION_NOT_HANDLED",
     {"exception code", "exception address", "parameter 0 of the exception",
      "parameter 1 of the exception"}},
    {0x35, "NO_MORE_IRP_STACK_LOCATIONS", {"IRP", "reserved", "reserved", "reserved"}},
    {0x44, "MULTIPLE_IRP_COMPLETE_REQUESTS", {"IRP", "reserved", "reserved", "reserved"}},
    {0x50,
     "PAGE_FAULT_IN_NONPAGED_AREA",
     {"memory referenced", "0 read, 2 write, 0x10 execute", "instruction address", "fault type"}},
    {0x76,
     "PROCESS_HAS_LOCKED_PAGES",
     {"subcode", "process", "locked pages", "pages locked by stack"}},
    {0x7E,
     "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED",
     {"exception code", "exception address", "exception record", "context record"}},
    {0x139,
     "KERNEL_SECURITY_CHECK_FAILURE",
     {"type of corruption", "trap frame", "exception record", "reserved"}},
    {0xC1,
     "SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION",
     {"address", "per subtype", "per subtype", "subtype"}},
    {0xC2, "BAD_POOL_CALLER", {"subcode", "per subcode", "per subcode", "per subcode"}},
    {0xC4,
     "DRIVER_VERIFIER_DETECTED_VIOLATION",
     {"subcode", "per subcode", "per subcode", "per subcode"}},
    {0xC7, "TIMER_OR_DPC_INVALID", {"subcode", "object", "range start", "range end"}},
    {0xC9,
     "DRIVER_VERIFIER_IOMANAGER_VIOLATION",
     {"subcode", "per subcode", "per subcode", "per subcode"}},
    {0xCB,
     "DRIVER_LEFT_LOCKED_PAGES_IN_PROCESS",
     {"caller address", "caller's caller", "MDL", "number of locked pages"}},
    {0xCC,
     "PAGE_FAULT_IN_FREED_SPECIAL_POOL",
     {"memory referenced", "0 read, 1 write", "instruction address", "reserved"}},
    {0xCD,
     "PAGE_FAULT_BEYOND_END_OF_ALLOCATION",
     {"memory referenced", "0 read, 1 write", "instruction address", "reserved"}},
    {0xCE,
     "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS",
     {"memory referenced", "0 read, 1 write", "instruction address", "reserved"}},
    {0xD1,
     "DRIVER_IRQL_NOT_LESS_OR_EQUAL",
     {"memory referenced", "IRQL at the time", "0 read, 1 write, 8 execute",
      "instruction address"}},
    {0xD5,
     "DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL",
     {"memory referenced", "0 read, 1 write", "instruction address", "reserved"}},
    {0xD6,
     "DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION",
     {"memory referenced", "0 read, 1 write", "instruction address", "reserved"}},
    {0xE2, "MANUALLY_INITIATED_CRASH", {"reserved", "reserved", "reserved", "reserved"}},
    {0xE6,
     "DRIVER_VERIFIER_DMA_VIOLATION",
     {"subcode", "per subcode", "per subcode", "per subcode"}},
};

const char *vf_bugcheck_name(uint32_t code)
{
    for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
        if (stops[i].code == code)
            return stops[i].name;
    return "UNKNOWN_BUGCHECK_CODE";
}

const char *vf_bugcheck_param_meaning(uint32_t code, unsigned index)
{
    for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
        if (stops[i].code == code && index < 4)
            return stops[i].param[index];
    return "driver-defined";
}
