/*
 * include/ddk/wdm/registry.h - part of wdm.h; see there.
 */
#pragma once
