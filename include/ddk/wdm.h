/*
 * include/ddk/wdm.h - the WDM driver surface of wdmsim.
 *
 * An umbrella over topic headers in include/ddk/wdm/, one per kernel area,
 * so each stays short. Names, types and x64 layouts are Windows'; every
 * exported routine and callback type is NTAPI (ms_abi).
 * Spec: spec/README.md and the topic files it indexes.
 */
#ifndef _WDMDDK_
#define _WDMDDK_

#include <ntdef.h>
#include <ntstatus.h>
#ifndef WDMSIM_HOST
#include <string.h>
#endif

#include <wdm/base.h>      /* page macros, IRQL, processor mode, pool types */
#include <wdm/rtl.h>       /* Rtl strings, memory, lists */
#include <wdm/ke.h>        /* IRQL, spin locks, DPCs, events, bug checks */
#include <wdm/mm.h>        /* Mm: addresses, MDLs, contiguous memory */
#include <wdm/lists.h>     /* LIST_ENTRY / SLIST routines and their checks */
#include <wdm/pool.h>      /* ExAllocatePool* / ExFreePool* */
#include <wdm/lookaside.h> /* lookaside lists */
#include <wdm/paging.h>    /* PAGE / INIT sections, MmLockPagable* */
#include <wdm/float.h>     /* KeSave/RestoreFloatingPointState */
#include <wdm/ex.h>        /* other executive routines */
#include <wdm/io.h>        /* driver and device objects, IRPs */
#include <wdm/seh.h>       /* __try / __except / __finally, ExRaiseStatus */
#include <wdm/iomgr.h>     /* I/O manager routines: devices, IRPs, PnP */
#include <wdm/mdl.h>       /* MDL routines, MmMapIoSpace, probes */
#include <wdm/ioaccess.h>  /* READ_/WRITE_REGISTER_*, READ_/WRITE_PORT_* */
#include <wdm/dma.h>       /* DMA adapters */
#include <wdm/registry.h>  /* Zw registry routines */
#include <wdm/debug.h>     /* DbgPrint, ASSERT, KdPrint */

#endif
