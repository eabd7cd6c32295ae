/*
 * include/ddk/wdm/dma.h - part of wdm.h; see there.
 */
#pragma once
