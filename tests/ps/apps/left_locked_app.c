/* Hands a buffer to tests/fixtures/mdl-left-locked, which locks it and
 * never unlocks it; the process then ends normally (mdl.left-locked). */
#include <stdlib.h>
#include <wdmsim/win32.h>

int main(int argc, char **argv)
{
    (void)argc, (void)argv;
    HANDLE h = CreateFileW(L"\\\\.\\LeftLocked", GENERIC_READ | GENERIC_WRITE, 0, NULL,
                           OPEN_EXISTING, 0, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return 2;
    unsigned char *buf = VirtualAlloc(NULL, 8192, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    DWORD got;
    if (!DeviceIoControl(h, CTL_CODE(0x8000, 0x801, METHOD_NEITHER, FILE_ANY_ACCESS), NULL, 0,
                         buf + 100, 5000, &got, NULL))
        return 3;
    CloseHandle(h);
    return 0;
}
