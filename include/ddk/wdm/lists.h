/*
 * include/ddk/wdm/lists.h - part of wdm.h; see there.
 */
#pragma once
