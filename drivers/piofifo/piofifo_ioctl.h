/*
 * drivers/piofifo/piofifo_ioctl.h - the I/O control codes of the PIO-1
 * sample driver, shared by the driver and its apps and tests.
 *
 * One IOCTL per transfer method, so that every buffer the I/O manager
 * builds (spec/io.md 4) is exercised:
 *   PUSH_BUFFERED  METHOD_BUFFERED   input bytes -> FIFO (ports)
 *   POP_BUFFERED   METHOD_BUFFERED   FIFO -> output, up to its length (ports)
 *   PUSH_IN_DIRECT METHOD_IN_DIRECT  the "output" buffer's MDL -> FIFO (MMIO)
 *   POP_OUT_DIRECT METHOD_OUT_DIRECT FIFO -> the output buffer's MDL (MMIO)
 *   LOOP_NEITHER   METHOD_NEITHER    Type3InputBuffer -> FIFO -> UserBuffer
 *   GET_STATUS     METHOD_BUFFERED   struct PIOFIFO_STATUS
 * ReadFile / WriteFile use direct I/O: write through WRITE_PORT_BUFFER_UCHAR,
 * read through READ_REGISTER_BUFFER_ULONG on MmGetSystemAddressForMdlSafe.
 */
#ifndef PIOFIFO_IOCTL_H
#define PIOFIFO_IOCTL_H

#define PIOFIFO_DEVICE_TYPE 0x8000
#define PIOFIFO_CTL(fn, method) \
    (((PIOFIFO_DEVICE_TYPE) << 16) | (0 << 14) | ((0x800 + (fn)) << 2) | (method))

#define IOCTL_PIOFIFO_PUSH_BUFFERED  PIOFIFO_CTL(0, 0)
#define IOCTL_PIOFIFO_POP_BUFFERED   PIOFIFO_CTL(1, 0)
#define IOCTL_PIOFIFO_PUSH_IN_DIRECT PIOFIFO_CTL(2, 1)
#define IOCTL_PIOFIFO_POP_OUT_DIRECT PIOFIFO_CTL(3, 2)
#define IOCTL_PIOFIFO_LOOP_NEITHER   PIOFIFO_CTL(4, 3)
#define IOCTL_PIOFIFO_GET_STATUS     PIOFIFO_CTL(5, 0)

typedef struct _PIOFIFO_STATUS {
    unsigned int Depth;
    unsigned int Level;
    unsigned int Status;
    unsigned int Id;
} PIOFIFO_STATUS;

#endif
