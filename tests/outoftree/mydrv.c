/*
 * tests/outoftree/mydrv.c - the smallest useful out-of-tree driver: built
 * by tests/outoftree/build_and_run.sh with nothing but pkg-config's flags.
 *
 * Spec: ARCHITECTURE.md 10; docs/abi.md.
 * Invariants: uses memcpy (also for the 16 KiB struct copy, which gcc emits
 * as a call even at -O0), memset and strlen, so the symbol check has
 * something to find; nothing large lives on the (small) kernel stack.
 */
#include <wdm.h>
#include <string.h>

DRIVER_INITIALIZE DriverEntry;
DRIVER_UNLOAD MyUnload;

typedef struct _MY_STATE {
    UCHAR Scratch[16384];
    ULONG Count;
} MY_STATE;

static MY_STATE Template = {{0}, 7};
static MY_STATE State;

VOID MyUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    DbgPrint("mydrv: unload\n");
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    static const char greeting[] = "hello from an out-of-tree driver";

    UNREFERENCED_PARAMETER(RegistryPath);
    State = Template;
    memset(State.Scratch, 0xA5, sizeof(State.Scratch));
    memcpy(State.Scratch, greeting, strlen(greeting) + 1);
    DriverObject->DriverUnload = MyUnload;
    DbgPrint("mydrv: %s (count %u)\n", (PCSTR)State.Scratch, State.Count);
    return STATUS_SUCCESS;
}
