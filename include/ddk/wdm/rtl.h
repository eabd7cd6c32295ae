/*
 * include/ddk/wdm/rtl.h - part of wdm.h; see there.
 */
#pragma once
