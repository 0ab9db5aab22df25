/*
 * echo: interrupt-driven serial input. The UART raises IRQ 4 when a byte
 * arrives (IER = 1, MCR.OUT2 set); the handler drains the receiver and
 * echoes every byte back (polled transmit). A carriage return is echoed as
 * "\r\n". On 'q' it echoes the 'q', prints "\r\nbye\r\n" and exits.
 */
#include "lib.h"

#define UART_RBR (COM1_PORT + 0)
#define UART_IER (COM1_PORT + 1)
#define UART_IIR (COM1_PORT + 2)
#define UART_MCR (COM1_PORT + 4)
#define UART_LSR (COM1_PORT + 5)

static volatile int quit;
static volatile u32 received, irqs;

static void serial_irq(struct irq_frame *f)
{
    (void)f;
    irqs++;
    while (!quit && (inb(UART_LSR) & 0x01)) {
        char c = (char)inb(UART_RBR);
        received++;
        if (c == '\r')
            serial_putc_raw('\r'), serial_putc_raw('\n');
        else
            serial_putc_raw(c);
        if (c == 'q')
            quit = 1;
    }
    pic_eoi(4);
}

int main(void)
{
    pic_remap();
    set_handler(IRQ_VECTOR(4), serial_irq);
    outb(UART_MCR, 0x0B); /* DTR | RTS | OUT2 (OUT2 gates the IRQ line on a PC) */
    outb(UART_IER, 0x01); /* received data available */
    (void)inb(UART_IIR);
    pic_unmask(4);

    serial_puts("echo ready\n");
    dbg_puts("echo: waiting for input\n");
    while (!quit)
        sti_hlt(), cli();

    outb(UART_IER, 0x00);
    serial_puts("\nbye\n");
    dbg_printf("echo: %u bytes\n", received);
    exit_qemu(0);
}
