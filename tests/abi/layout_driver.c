/*
 * tests/abi/layout_driver.c - the layout assertions, compiled as a driver.
 *
 * Models: what a driver sees: -mabi=ms -fshort-wchar and wdmsim's CRT
 * headers. The build is the test: a wrong offset fails to compile.
 * Spec: see tests/abi/layout.h.
 */
#include <ntddk.h>
#include "layout.h"

_Static_assert(sizeof(wchar_t) == 2 && sizeof(L"ab") == 6, "16-bit wide literals");
_Static_assert(__builtin_types_compatible_p(WCHAR, wchar_t), "WCHAR is wchar_t in a driver");
