/*
 * include/ddk/wdm/mm.h - part of wdm.h; see there.
 */
#pragma once
