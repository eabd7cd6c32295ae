/* Sends METHOD_NEITHER to tests/fixtures/mm-user-va-wrong-context, whose
 * DPC touches the input buffer: prints the buffer's address first so the
 * test can compare it with the bug check's parameter 1. */
#include <stdio.h>
#include <stdlib.h>
#include <wdmsim/win32.h>

int main(int argc, char **argv)
{
    (void)argc, (void)argv;
    HANDLE h = CreateFileW(L"\\\\.\\WrongCtx", GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                           0, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return 2;
    unsigned char *buf = malloc(16);
    buf[0] = 0x5A;
    printf("buffer=%llx\n", (unsigned long long)(ULONG_PTR)buf);
    DWORD got;
    DeviceIoControl(h, CTL_CODE(0x8000, 0x800, METHOD_NEITHER, FILE_ANY_ACCESS), buf, 16, buf, 16,
                    &got, NULL);
    return 3; /* never reached: the DPC stops the machine */
}
