/* The app runtime without a device: argv, printf, the heap, exit, a crash,
 * events and waits. argv[1] picks the case. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wdmsim/win32.h>

static char global_buf[64];

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "";
    if (!strcmp(what, "args")) {
        for (int i = 0; i < argc; i++)
            printf("argv[%d]=%s\n", i, argv[i]);
        return argc;
    }
    if (!strcmp(what, "exit"))
        exit(7);
    if (!strcmp(what, "crash")) {
        volatile ULONG_PTR bad = 8; /* volatile: no compile-time bounds warning */
        *(volatile int *)bad = 1;
        return 0;
    }
    if (!strcmp(what, "heap")) {
        void *blocks[200];
        for (int i = 0; i < 200; i++) {
            blocks[i] = malloc((size_t)(i * 97 % 5000) + 1);
            if (!blocks[i] || ((ULONG_PTR)blocks[i] & 15))
                return 10;
            memset(blocks[i], i, (size_t)(i * 97 % 5000) + 1);
        }
        for (int i = 0; i < 200; i += 2)
            free(blocks[i]);
        char *big = malloc(300000);
        char *r = realloc(blocks[1], 100000);
        if (!big || !r || r[0] != 1)
            return 11;
        char *z = calloc(1000, 4);
        for (int i = 0; i < 4000; i++)
            if (z[i])
                return 12;
        free(big);
        free(r);
        free(z);
        char line[2000];
        memset(line, 'x', sizeof(line) - 1);
        line[sizeof(line) - 1] = 0;
        printf("%s\n", line); /* longer than printf's stack buffer */
        puts("heap ok");
        return 0;
    }
    if (!strcmp(what, "events")) {
        HANDLE e = CreateEventW(NULL, FALSE, TRUE, NULL); /* auto-reset, signalled */
        if (WaitForSingleObject(e, 0) != WAIT_OBJECT_0)
            return 20;
        if (WaitForSingleObject(e, 5) != WAIT_TIMEOUT) /* auto-reset consumed it */
            return 21;
        Sleep(3);
        if (WaitForSingleObject((HANDLE)(ULONG_PTR)0x3FC, 0) != WAIT_FAILED ||
            GetLastError() != ERROR_INVALID_HANDLE)
            return 22;
        CloseHandle(e);
        puts("events ok");
        return 0;
    }
    if (!strcmp(what, "global")) {
        /* A global is not in the process's user space: refused. */
        HANDLE h = CreateFileA("\\\\.\\PioFifo0", GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL);
        DWORD got;
        BOOL ok = WriteFile(h, global_buf, sizeof(global_buf), &got, NULL);
        printf("global write: %d error %u\n", ok, GetLastError());
        return ok || GetLastError() != ERROR_NOACCESS ? 30 : 0;
    }
    return 99;
}
