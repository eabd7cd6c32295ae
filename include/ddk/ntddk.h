/*
 * include/ddk/ntddk.h - the NT driver surface: wdm.h plus the routines a
 * non-WDM (legacy or NT-style) driver also uses.
 */
#ifndef _NTDDK_
#define _NTDDK_

#include <wdm.h>
#include <wdm/ntddk_extra.h>

#endif
