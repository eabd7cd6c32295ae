/*
 * examples/hello/hello.c - the smallest useful WDM driver.
 *
 * Shows what wdmsim hands a driver at load: a DRIVER_OBJECT in simulated
 * nonpaged memory (so it has a physical address, on a scattered frame) and
 * its Services key path. Build it out of tree with:
 *   cc $(pkg-config --cflags wdmsim) -shared -fPIC hello.c -o hello.so \
 *      $(pkg-config --libs wdmsim)
 */
#include <ntddk.h>

DRIVER_UNLOAD HelloUnload;

VOID HelloUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    DbgPrint("hello: unloading\n");
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    PHYSICAL_ADDRESS pa = MmGetPhysicalAddress(DriverObject);

    DbgPrint("hello: DriverEntry, registry path %wZ\n", RegistryPath);
    DbgPrint("hello: my DRIVER_OBJECT is at VA %p, PA 0x%I64x (%s 4 GiB)\n", DriverObject,
             pa.QuadPart, pa.QuadPart >= 0x100000000LL ? "above" : "below");
    DriverObject->DriverUnload = HelloUnload;
    return STATUS_SUCCESS;
}
