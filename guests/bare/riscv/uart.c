/*
 * uart.c - console (ns16550 THR, polled) and exit (SiFive test finisher).
 *
 * Works from M-mode (physical addresses) and from S-mode (the kernel maps
 * both devices at their physical addresses). Only THR and LSR are touched:
 * no interrupts, no divisor setup. Also the two memory routines a
 * freestanding GCC may call.
 */
#include "guest.h"

void uart_putc(char c)
{
    volatile uint8_t *uart = (volatile uint8_t *)(uintptr_t)UART_BASE;
    while (!(uart[5] & UART_LSR_THRE))
        ;
    uart[0] = (uint8_t)c;
}

void uart_puts(const char *s)
{
    while (*s)
        uart_putc(*s++);
}

/* "0x" and the hex digits without leading zeros. */
void uart_puthex(uint64_t v)
{
    int shift = 60;
    uart_puts("0x");
    while (shift > 0 && ((v >> shift) & 0xf) == 0)
        shift -= 4;
    for (; shift >= 0; shift -= 4)
        uart_putc("0123456789abcdef"[(v >> shift) & 0xf]);
}

void uart_putdec(uint64_t v)
{
    char buf[24];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        uart_putc(buf[--n]);
}

/*
 * Stop the machine: 0x5555 on success, (count << 16) | 0x3333 on failure
 * (QEMU exits with status count). Translation is switched off first so a
 * broken page table cannot hide the finisher; satp is harmless in M-mode.
 */
_Noreturn void guest_exit(unsigned count)
{
    volatile uint32_t *fin = (volatile uint32_t *)(uintptr_t)FINISHER_BASE;
    uint32_t code =
        count ? (((count & 0xffffu) << 16) | FINISHER_FAIL) : FINISHER_PASS;
    csr_write_satp(0);
    __asm__ volatile("sfence.vma zero, zero" ::: "memory");
    for (;;)
        *fin = code;
}

void *memset(void *dst, int c, unsigned long n)
{
    volatile uint8_t *d = dst;
    while (n--)
        *d++ = (uint8_t)c;
    return dst;
}

void *memcpy(void *dst, const void *src, unsigned long n)
{
    volatile uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}
