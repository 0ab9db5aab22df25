/* What the board test guests share: port I/O, COM1 output, hex and decimal printing. */
#ifndef BOARD_LIB_H
#define BOARD_LIB_H
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u16 inw(u16 port) { u16 v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u32 inl(u16 port) { u32 v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u32 mmio_read32(u32 a) { return *(volatile u32 *)a; }
static inline void mmio_write32(u32 a, u32 v) { *(volatile u32 *)a = v; }

static void putc(char c)
{
    if (c == '\n') putc('\r');
    while (!(inb(0x3fd) & 0x20)) {}
    outb(0x3f8, (u8)c);
}
static void puts(const char *s) { while (*s) putc(*s++); }
static void puthex(u32 v, int digits)
{
    for (int i = digits - 1; i >= 0; i--) putc("0123456789abcdef"[(v >> (4 * i)) & 15]);
}
static void putdec(u32 v)
{
    char b[12];
    int n = 0;
    do { b[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) putc(b[--n]);
}
/* "name: 0x12345678" */
static void show(const char *name, u32 v, int digits)
{
    puts(name);
    puts(": 0x");
    puthex(v, digits);
    putc('\n');
}
static int failures;
/* "name: ok" or "name: FAIL got 0x... want 0x..." (for values that must not depend on the run). */
static void check(const char *name, u32 got, u32 want)
{
    puts(name);
    if (got == want) { puts(": ok\n"); return; }
    failures++;
    puts(": FAIL got 0x");
    puthex(got, 8);
    puts(" want 0x");
    puthex(want, 8);
    putc('\n');
}

/* isr.S */
extern void (*isr_hook)(u32 vector);
void idt_install(void);
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }

/* The 8259 pair remapped to vectors 0x20-0x2F, every line masked except `unmask`. */
static void pic_init(u16 unmask)
{
    outb(0x20, 0x11); outb(0x21, 0x20); outb(0x21, 0x04); outb(0x21, 0x01);
    outb(0xa0, 0x11); outb(0xa1, 0x28); outb(0xa1, 0x02); outb(0xa1, 0x01);
    outb(0x21, (u8)~unmask);
    outb(0xa1, (u8)~(unmask >> 8));
}
static void pic_eoi(u32 irq)
{
    if (irq >= 8) outb(0xa0, 0x20);
    outb(0x20, 0x20);
}
#endif
