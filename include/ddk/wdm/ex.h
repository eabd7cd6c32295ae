/*
 * include/ddk/wdm/ex.h - part of wdm.h; see there.
 */
#pragma once
