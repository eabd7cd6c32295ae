/*
 * include/ddk/wdm/pool.h - part of wdm.h; see there.
 */
#pragma once
