/*
 * serial.c - COM1 output, a small printf, and the debug-exit port.
 * The line status register is polled before each byte (mmuemu's machine
 * reports the transmitter always ready).
 */
#include "serial.h"

#include <stdarg.h>

#include "cpu.h"
#include "segs.h"

#define UART_THR      0 /* transmit holding register */
#define UART_IER      1 /* interrupt enable */
#define UART_FCR      2 /* FIFO control */
#define UART_LCR      3 /* line control */
#define UART_MCR      4 /* modem control */
#define UART_LSR      5 /* line status */
#define UART_LSR_THRE 0x20
#define UART_LCR_DLAB 0x80
#define UART_LCR_8N1  0x03

void serial_init(void)
{
    outb(COM1_PORT + UART_IER, 0x00);
    outb(COM1_PORT + UART_LCR, UART_LCR_DLAB);
    outb(COM1_PORT + 0, 0x01); /* divisor 1: 115200 baud */
    outb(COM1_PORT + 1, 0x00);
    outb(COM1_PORT + UART_LCR, UART_LCR_8N1);
    outb(COM1_PORT + UART_FCR, 0x07); /* enable and clear FIFOs */
    outb(COM1_PORT + UART_MCR, 0x03); /* DTR, RTS */
}

static void put_char(char c)
{
    while (!(inb(COM1_PORT + UART_LSR) & UART_LSR_THRE))
        ;
    outb(COM1_PORT + UART_THR, (uint8_t)c);
}

static void put_str(const char *s)
{
    while (*s)
        put_char(*s++);
}

static void put_num(uint64_t v, unsigned base)
{
    char buf[24];
    unsigned n = 0;
    do {
        unsigned d = (unsigned)(v % base);
        buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v);
    while (n)
        put_char(buf[--n]);
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put_char(*fmt);
            continue;
        }
        int wide = 0;
        if (*++fmt == 'l') {
            wide = 1;
            fmt++;
        }
        switch (*fmt) {
        case 's':
            put_str(va_arg(ap, const char *));
            break;
        case 'c':
            put_char((char)va_arg(ap, int));
            break;
        case 'd': {
            int64_t v = wide ? va_arg(ap, int64_t) : va_arg(ap, int);
            if (v < 0) {
                put_char('-');
                v = -v;
            }
            put_num((uint64_t)v, 10);
            break;
        }
        case 'u':
            put_num(wide ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10);
            break;
        case 'x':
            put_num(wide ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16);
            break;
        default:
            put_char('%');
            put_char(*fmt);
            break;
        }
    }
    va_end(ap);
}

_Noreturn void guest_exit(unsigned failures)
{
    if (failures)
        kprintf("FAIL %u\n", failures);
    else
        kprintf("PASS\n");
    outb(DEBUG_EXIT_PORT, failures ? 1 : 0);
    for (;;)
        __asm__ __volatile__("cli; hlt");
}
