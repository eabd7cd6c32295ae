/*
 * src/io/irp.h - private to src/io: IRP allocation for the I/O manager's
 * own requests (request.c, pnp.c) and the layer's rule lists.
 */
#ifndef WDMSIM_IO_IRP_H
#define WDMSIM_IO_IRP_H

#include <wdm.h>

/* io_owned: freed at the last stage of completion (I/O manager requests). */
PIRP io_irp_alloc(CCHAR stack, bool io_owned);
/* METHOD_BUFFERED output length, for the copy-back clip. */
void io_irp_set_out_len(PIRP irp, uint32_t out_len);

#endif
