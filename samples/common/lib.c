/* Tiny freestanding support library for the bmbt-dbg sample guests. */
#include <stdarg.h>
#include "lib.h"

u32 mb_magic, mb_info;

/* Called by start.S before main(). */
void lib_start(u32 magic, u32 info)
{
    mb_magic = magic;
    mb_info = info;
    serial_init();
    idt_init();
}

/* ---- serial ------------------------------------------------------------ */
#define UART_RBR 0 /* receive buffer (read, DLAB=0) */
#define UART_THR 0 /* transmit holding (write, DLAB=0) */
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_DR 0x01
#define LSR_THRE 0x20

void serial_init(void)
{
    outb(COM1_PORT + UART_IER, 0x00);   /* no interrupts */
    outb(COM1_PORT + UART_LCR, 0x80);   /* DLAB */
    outb(COM1_PORT + 0, 0x01);          /* divisor 1: 115200 baud */
    outb(COM1_PORT + 1, 0x00);
    outb(COM1_PORT + UART_LCR, 0x03);   /* 8N1 */
    outb(COM1_PORT + UART_FCR, 0x07);   /* FIFO on, clear both, RX trigger 1 byte */
    outb(COM1_PORT + UART_MCR, 0x03);   /* DTR | RTS */
}

void serial_putc_raw(char c)
{
    while (!(inb(COM1_PORT + UART_LSR) & LSR_THRE))
        ;
    outb(COM1_PORT + UART_THR, (u8)c);
}

void serial_putc(char c)
{
    if (c == '\n')
        serial_putc_raw('\r');
    serial_putc_raw(c);
}

void serial_puts(const char *s)
{
    while (*s)
        serial_putc(*s++);
}

static const char hexdigits[] = "0123456789abcdef";

void serial_put_hex(u32 v)
{
    for (int i = 28; i >= 0; i -= 4)
        serial_putc(hexdigits[(v >> i) & 15]);
}

void serial_put_dec(u32 v)
{
    char buf[12];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        serial_putc(buf[--n]);
}

int serial_rx_ready(void) { return inb(COM1_PORT + UART_LSR) & LSR_DR; }
u8 serial_rx_byte(void) { return inb(COM1_PORT + UART_RBR); }

/* ---- debugcon ----------------------------------------------------------- */
void dbg_putc(char c) { outb(DEBUGCON_PORT, (u8)c); }

void dbg_puts(const char *s)
{
    while (*s)
        dbg_putc(*s++);
}

/* ---- printf subset -------------------------------------------------------- */
typedef void (*putc_fn)(char);

static void fmt_num(putc_fn out, u32 v, u32 base, int upper, int width, char pad, int neg)
{
    char buf[12];
    const char *digits = upper ? "0123456789ABCDEF" : hexdigits;
    int n = 0;
    do {
        buf[n++] = digits[v % base];
        v /= base;
    } while (v);
    if (neg)
        width--;
    if (neg && pad == '0')
        out('-');
    for (int i = n; i < width; i++)
        out(pad);
    if (neg && pad != '0')
        out('-');
    while (n)
        out(buf[--n]);
}

static void vformat(putc_fn out, const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            out(*fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        switch (*fmt) {
        case 'd': {
            s32 v = va_arg(ap, s32);
            if (v < 0)
                fmt_num(out, (u32)0 - (u32)v, 10, 0, width, pad, 1);
            else
                fmt_num(out, (u32)v, 10, 0, width, pad, 0);
            break;
        }
        case 'u':
            fmt_num(out, va_arg(ap, u32), 10, 0, width, pad, 0);
            break;
        case 'x':
            fmt_num(out, va_arg(ap, u32), 16, 0, width, pad, 0);
            break;
        case 'X':
            fmt_num(out, va_arg(ap, u32), 16, 1, width, pad, 0);
            break;
        case 'p':
            out('0');
            out('x');
            fmt_num(out, (u32)va_arg(ap, void *), 16, 0, 8, '0', 0);
            break;
        case 'c':
            out((char)va_arg(ap, int));
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            int len = (int)strlen(s);
            for (int i = len; i < width; i++)
                out(' ');
            while (*s)
                out(*s++);
            break;
        }
        case '%':
            out('%');
            break;
        case 0:
            return;
        default:
            out('%');
            out(*fmt);
            break;
        }
    }
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat(serial_putc, fmt, ap);
    va_end(ap);
}

void dbg_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat(dbg_putc, fmt, ap);
    va_end(ap);
}

/* ---- exits ---------------------------------------------------------------- */
void halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}

void exit_qemu(u32 code)
{
    outb(DEBUG_EXIT_PORT, (u8)code);
    halt_forever(); /* no isa-debug-exit device: dead halt */
}

/* ---- IDT ------------------------------------------------------------------- */
#define NVECTORS 48

struct idt_gate {
    u16 offset_lo;
    u16 selector;
    u8 zero;
    u8 type_attr;
    u16 offset_hi;
} __attribute__((packed));

struct idt_ptr {
    u16 limit;
    u32 base;
} __attribute__((packed));

extern u32 isr_stub_table[NVECTORS]; /* isr.S */

static struct idt_gate idt[NVECTORS] __attribute__((aligned(8)));
static isr_handler_t handlers[NVECTORS];

static const char *const exception_names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
    "#BR bound range", "#UD invalid opcode", "#NM device not available",
    "#DF double fault", "coprocessor segment overrun", "#TS invalid TSS",
    "#NP segment not present", "#SS stack fault", "#GP general protection",
    "#PF page fault", "reserved 15", "#MF x87 error", "#AC alignment check",
    "#MC machine check", "#XM SIMD error", "#VE", "#CP", "reserved 22",
    "reserved 23", "reserved 24", "reserved 25", "reserved 26", "reserved 27",
    "reserved 28", "reserved 29", "reserved 30", "reserved 31",
};

void idt_init(void)
{
    for (int v = 0; v < NVECTORS; v++) {
        u32 a = isr_stub_table[v];
        idt[v].offset_lo = (u16)a;
        idt[v].selector = 0x08;
        idt[v].zero = 0;
        idt[v].type_attr = 0x8E; /* present, DPL 0, 32-bit interrupt gate */
        idt[v].offset_hi = (u16)(a >> 16);
    }
    struct idt_ptr p = { sizeof(idt) - 1, (u32)idt };
    __asm__ volatile("lidt %0" : : "m"(p));
}

void set_handler(int vector, isr_handler_t h)
{
    if (vector >= 0 && vector < NVECTORS)
        handlers[vector] = h;
}

/* Called from isr_common in isr.S with interrupts disabled. */
void isr_dispatch(struct irq_frame *f)
{
    u32 v = f->vector;
    if (v < NVECTORS && handlers[v]) {
        handlers[v](f);
        return;
    }
    if (v >= 0x20 && v < 0x30) {
        /* Unexpected IRQ: acknowledge it and carry on. */
        pic_eoi((int)(v - 0x20));
        return;
    }
    kprintf("\nunhandled exception %u (%s) err=%x eip=%x cr2=%x\n", v,
            v < 32 ? exception_names[v] : "?", f->error_code, f->eip, read_cr2());
    dbg_printf("unhandled exception %u err=%x eip=%x\n", v, f->error_code, f->eip);
    exit_qemu(0x7f);
}

/* ---- 8259 PIC ---------------------------------------------------------------- */
void pic_remap(void)
{
    outb(PIC1_CMD, 0x11);  /* ICW1: edge, cascade, ICW4 needed */
    outb(PIC2_CMD, 0x11);
    outb(PIC1_DATA, 0x20); /* ICW2: vector base */
    outb(PIC2_DATA, 0x28);
    outb(PIC1_DATA, 0x04); /* ICW3: slave on IRQ 2 */
    outb(PIC2_DATA, 0x02); /* ICW3: cascade identity */
    outb(PIC1_DATA, 0x01); /* ICW4: 8086 mode, normal EOI */
    outb(PIC2_DATA, 0x01);
    outb(PIC1_DATA, 0xFF); /* mask everything */
    outb(PIC2_DATA, 0xFF);
}

void pic_mask(int irq)
{
    u16 port = irq < 8 ? PIC1_DATA : PIC2_DATA;
    outb(port, inb(port) | (u8)(1 << (irq & 7)));
}

void pic_unmask(int irq)
{
    u16 port = irq < 8 ? PIC1_DATA : PIC2_DATA;
    outb(port, inb(port) & (u8)~(1 << (irq & 7)));
    if (irq >= 8)
        outb(PIC1_DATA, inb(PIC1_DATA) & (u8)~(1 << 2));
}

void pic_eoi(int irq)
{
    if (irq >= 8)
        outb(PIC2_CMD, 0x20);
    outb(PIC1_CMD, 0x20);
}

/* ---- 8254 PIT ------------------------------------------------------------------ */
void pit_init_periodic(u16 divisor)
{
    outb(PIT_CMD, 0x34); /* channel 0, lobyte/hibyte, mode 2, binary */
    outb(PIT_CH0, (u8)divisor);
    outb(PIT_CH0, (u8)(divisor >> 8));
}

/* ---- string helpers (rep string instructions: gcc may call these) ------------ */
void *memset(void *d, int c, size_t n)
{
    void *ret = d;
    __asm__ volatile("cld; rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return ret;
}

void *memcpy(void *d, const void *s, size_t n)
{
    void *ret = d;
    __asm__ volatile("cld; rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    return ret;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const u8 *p = a, *q = b;
    for (size_t i = 0; i < n; i++)
        if (p[i] != q[i])
            return p[i] < q[i] ? -1 : 1;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}
