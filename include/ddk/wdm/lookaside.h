/*
 * include/ddk/wdm/lookaside.h - part of wdm.h; see there.
 */
#pragma once
