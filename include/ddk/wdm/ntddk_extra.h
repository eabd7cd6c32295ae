/*
 * include/ddk/wdm/ntddk_extra.h - part of wdm.h; see there.
 */
#pragma once
