/*
 * The low-linked reboot guest. Every boot prints whether its image is intact (the pattern
 * at 0x9000-0xAFFF, which the previous boot overwrote on purpose), what the x87 unit and
 * the multiboot information look like, then counts the boot in CMOS byte 0x40 and resets
 * the machine another way: port 0x92, 0xCF9, the 8042, a triple fault; the fifth boot
 * ends through isa-debug-exit.
 */
#include <stdint.h>

extern uint32_t pattern[], pattern_end[];
extern void triple_fault(void);

static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }

static void putc_(char c) { while (!(inb(0x3fd) & 0x20)) {} outb(0x3f8, (uint8_t)c); }
static void puts_(const char *s) { while (*s) putc_(*s++); }
static void hex(uint32_t v, int digits) {
    for (int i = digits - 1; i >= 0; i--) putc_("0123456789abcdef"[(v >> (i * 4)) & 15]);
}
static uint8_t cmos(uint8_t r) { outb(0x70, r); return inb(0x71); }
static void cmos_set(uint8_t r, uint8_t v) { outb(0x70, r); outb(0x71, v); }

void main(uint32_t magic, uint32_t mbi) {
    uint32_t boot = cmos(0x40);
    puts_("boot "); hex(boot, 1); putc_('\n');
    int intact = 1;
    for (uint32_t *p = pattern; p < pattern_end; p++)
        if (*p != 0x5a000000u + (uint32_t)(p - pattern)) intact = 0;
    puts_("image intact: "); puts_(intact ? "yes" : "no"); putc_('\n');
    uint16_t fcw;
    __asm__ volatile("fnstcw %0" : "=m"(fcw));
    puts_("fcw: "); hex(fcw, 4); putc_('\n');
    puts_("magic: "); hex(magic, 8); putc_('\n');
    /* The information structure must lie outside the image (multiboot spec 3.3). */
    int outside = mbi + 88 <= 0x8000 || mbi >= (uint32_t)pattern_end;
    puts_("mbi outside image: "); puts_(outside ? "yes" : "no"); putc_('\n');
    if (outside) {
        uint32_t *m = (uint32_t *)mbi;
        puts_("mbi flags: "); hex(m[0] & 0x24d, 3); putc_('\n');
        puts_("cmdline: ");
        const char *c = (const char *)m[4];
        for (int i = 0; i < 60 && c[i]; i++) putc_(c[i]);
        putc_('\n');
    }
    /* Scribble over the image: the next boot must load it again from the file. */
    for (uint32_t *p = pattern; p < pattern_end; p++) *p = 0;
    cmos_set(0x40, boot + 1);
    switch (boot) {
    case 0: puts_("reset: port 0x92\n"); outb(0x92, inb(0x92) | 1); break;
    case 1: puts_("reset: 0xcf9\n"); outb(0xcf9, 0x02); outb(0xcf9, 0x06); break;
    case 2: puts_("reset: 8042\n"); outb(0x64, 0xfe); break;
    case 3: puts_("reset: triple fault\n"); triple_fault(); break;
    default: cmos_set(0x40, 0); puts_("done\n"); outb(0xf4, 0); break;
    }
    for (;;) __asm__ volatile("hlt");
}
