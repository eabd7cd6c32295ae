/*
 * tests/drivers/wdkstyle/wdkstyle.c - a driver written the way WDK samples
 * are, to prove it compiles unchanged and warning-free against wdmsim.
 *
 * Models: WDK conventions: role-type declarations (`DRIVER_UNLOAD X;`)
 * followed by plain definitions, SAL annotations, <string.h> for memcpy and
 * strlen, a loop the compiler turns into memset, a large structure copy the
 * compiler turns into memcpy, a variadic helper using <stdarg.h>, MSVC pragmas.
 * Spec: ARCHITECTURE.md 10; docs/abi.md.
 * Invariants: built with -Wall -Wextra -Werror (and -O2, so the loop really
 * becomes a memset call); tests/drivers/wdkstyle/check_symbols.sh proves the
 * compiler's memset/memcpy bind inside the module; test_wdkstyle.c runs
 * wdkstyle_selftest through the ms_abi convention.
 */
#include <ntddk.h>
#include <string.h>
#include <stdarg.h>

DRIVER_INITIALIZE DriverEntry;
DRIVER_UNLOAD WdkStyleUnload;
_Dispatch_type_(IRP_MJ_CREATE) _Dispatch_type_(IRP_MJ_CLOSE) DRIVER_DISPATCH WdkStyleCreateClose;
_Dispatch_type_(IRP_MJ_READ) DRIVER_DISPATCH WdkStyleRead;
DRIVER_STARTIO WdkStyleStartIo;
DRIVER_ADD_DEVICE WdkStyleAddDevice;
IO_COMPLETION_ROUTINE WdkStyleCompletion;
KDEFERRED_ROUTINE WdkStyleDpc;
DRIVER_CONTROL WdkStyleAdapterControl;
DRIVER_LIST_CONTROL WdkStyleListControl;

/* MSVC-only pragmas WDK sources carry: accepted silently (docs/abi.md). */
#pragma warning(disable : 4201)
#ifdef ALLOC_PRAGMA
#pragma alloc_text(INIT, DriverEntry)
#endif
#pragma alloc_text(PAGE, WdkStyleCreateClose)

/* Big enough that gcc copies it with a call to memcpy, not inline moves. */
typedef struct _WDKSTYLE_RECORD {
    ULONG Tag;
    UCHAR Bytes[16384];
    WCHAR Name[16];
} WDKSTYLE_RECORD, *PWDKSTYLE_RECORD;

static WDKSTYLE_RECORD WdkStyleTemplate = {'lytS', {1, 2, 3}, L"wdkstyle"};

/* Results of the self test, as the host test reads them. */
typedef struct _WDKSTYLE_RESULT {
    SIZE_T RecordSize;
    SIZE_T NameLength;
    SIZE_T WideNameLength;
    ULONG VariadicSum;
    ULONG RecordTag;
    UCHAR RecordByte2;
    WCHAR RecordName0;
} WDKSTYLE_RESULT, *PWDKSTYLE_RESULT;

static const char WdkStyleName[] = "wdkstyle driver";
/* Read through a volatile pointer so strlen stays a real call. */
static const char *volatile WdkStyleNamePointer = WdkStyleName;

/* The loop gcc -O2 recognises and replaces with a call to memset. */
static DECLSPEC_NOINLINE VOID WdkStyleFill(_Out_writes_bytes_(Length) PUCHAR Buffer, SIZE_T Length,
                                           UCHAR Value)
{
    for (SIZE_T i = 0; i < Length; i++)
        Buffer[i] = Value;
}

static DECLSPEC_NOINLINE VOID WdkStyleCopyRecord(_Out_ PWDKSTYLE_RECORD Out)
{
    *Out = WdkStyleTemplate;
}

/* Variadic with the Microsoft va_list: <stdarg.h> under -mabi=ms. */
static ULONG WdkStyleSum(ULONG Count, ...)
{
    va_list args;
    ULONG sum = 0;

    va_start(args, Count);
    for (ULONG i = 0; i < Count; i++)
        sum += va_arg(args, ULONG);
    va_end(args);
    return sum;
}
_Static_assert(__builtin_types_compatible_p(va_list, __builtin_ms_va_list),
               "under -mabi=ms, <stdarg.h>'s va_list is the Microsoft va_list");

/* Exported for tests/drivers/wdkstyle/test_wdkstyle.c; Record must hold at
 * least Result->RecordSize bytes (the test passes 64 KiB). */
__attribute__((visibility("default"))) VOID NTAPI wdkstyle_selftest(_Out_writes_bytes_(Length)
                                                                        PUCHAR Buffer,
                                                                    SIZE_T Length, UCHAR Value,
                                                                    _Out_ PWDKSTYLE_RECORD Record,
                                                                    _Out_ PWDKSTYLE_RESULT Result);

VOID NTAPI wdkstyle_selftest(PUCHAR Buffer, SIZE_T Length, UCHAR Value, PWDKSTYLE_RECORD Record,
                             PWDKSTYLE_RESULT Result)
{
    WdkStyleFill(Buffer, Length, Value);
    WdkStyleCopyRecord(Record);
    Result->RecordSize = sizeof(*Record);
    memcpy(&Result->RecordTag, &Record->Tag, sizeof(ULONG));
    Result->RecordByte2 = Record->Bytes[2];
    Result->RecordName0 = Record->Name[0];
    Result->NameLength = strlen(WdkStyleNamePointer);
    Result->WideNameLength = wcslen(Record->Name);
    Result->VariadicSum = WdkStyleSum(3, 10u, 20u, 12u);
}

NTSTATUS WdkStyleCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    return STATUS_SUCCESS;
}

NTSTATUS WdkStyleRead(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION stack = Irp->Tail.Overlay.CurrentStackLocation;
    ULONG length = stack->Parameters.Read.Length;
    PVOID buffer = Irp->AssociatedIrp.SystemBuffer;

    UNREFERENCED_PARAMETER(DeviceObject);
    if (length > sizeof(WdkStyleName))
        length = sizeof(WdkStyleName);
    if (buffer != NULL)
        memcpy(buffer, WdkStyleName, length);
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = length;
    return STATUS_SUCCESS;
}

VOID WdkStyleStartIo(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
}

NTSTATUS WdkStyleAddDevice(PDRIVER_OBJECT DriverObject, PDEVICE_OBJECT PhysicalDeviceObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    UNREFERENCED_PARAMETER(PhysicalDeviceObject);
    return STATUS_SUCCESS;
}

NTSTATUS WdkStyleCompletion(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Context);
    if (Irp->PendingReturned)
        Irp->Tail.Overlay.CurrentStackLocation->Control |= SL_PENDING_RETURNED;
    return STATUS_CONTINUE_COMPLETION;
}

VOID WdkStyleDpc(PKDPC Dpc, PVOID DeferredContext, PVOID SystemArgument1, PVOID SystemArgument2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(DeferredContext);
    UNREFERENCED_PARAMETER(SystemArgument1);
    UNREFERENCED_PARAMETER(SystemArgument2);
}

IO_ALLOCATION_ACTION WdkStyleAdapterControl(PDEVICE_OBJECT DeviceObject, PIRP Irp,
                                            PVOID MapRegisterBase, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
    UNREFERENCED_PARAMETER(MapRegisterBase);
    UNREFERENCED_PARAMETER(Context);
    return DeallocateObjectKeepRegisters;
}

VOID WdkStyleListControl(PDEVICE_OBJECT DeviceObject, PIRP Irp, PSCATTER_GATHER_LIST ScatterGather,
                         PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
    UNREFERENCED_PARAMETER(ScatterGather);
    UNREFERENCED_PARAMETER(Context);
}

VOID WdkStyleUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    DbgPrint("wdkstyle: unload\n");
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    /* Callbacks stored without casts: the compiler checks each one is ms_abi. */
    static const PKDEFERRED_ROUTINE dpc = WdkStyleDpc;
    static const PDRIVER_CONTROL control = WdkStyleAdapterControl;
    static const PDRIVER_LIST_CONTROL list = WdkStyleListControl;
    static const PIO_COMPLETION_ROUTINE completion = WdkStyleCompletion;

    UNREFERENCED_PARAMETER(RegistryPath);
    UNREFERENCED_PARAMETER(dpc);
    UNREFERENCED_PARAMETER(control);
    UNREFERENCED_PARAMETER(list);
    UNREFERENCED_PARAMETER(completion);

    DriverObject->DriverUnload = WdkStyleUnload;
    DriverObject->DriverStartIo = WdkStyleStartIo;
    DriverObject->DriverExtension->AddDevice = WdkStyleAddDevice;
    DriverObject->MajorFunction[IRP_MJ_CREATE] = WdkStyleCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = WdkStyleCreateClose;
    DriverObject->MajorFunction[IRP_MJ_READ] = WdkStyleRead;
    KdPrint(("wdkstyle: DriverEntry, name length %u\n", (ULONG)strlen(WdkStyleName)));
    return STATUS_SUCCESS;
}
