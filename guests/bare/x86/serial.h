/*
 * serial.h - console output on COM1 (8250/16550 UART at 0x3f8) and the
 * exit through QEMU's isa-debug-exit device.
 *
 * Models: the 16550 transmit path only (THR, LSR.THRE); no input, no
 * interrupts. Exit: a byte written to port 0xf4 ends QEMU with status
 * (byte << 1) | 1, so 0 (pass) gives status 1 and 1 (fail) gives status 3.
 */
#ifndef GUEST_X86_SERIAL_H
#define GUEST_X86_SERIAL_H

#include <stdint.h>

void serial_init(void);
/* printf subset: %s %c %d %u %x %lu %lx (l = 64-bit). */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "PASS" or "FAIL n" and exits; never returns. */
_Noreturn void guest_exit(unsigned failures);

#endif
