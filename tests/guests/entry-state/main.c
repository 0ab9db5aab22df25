/*
 * The entry-state guest: prints on COM1 the machine state a Multiboot kernel finds at
 * entry (recorded by start.S before anything changed), then the state of the devices a
 * kernel may use without programming them first: the 8259s, the 8254, the 8042, A20,
 * the RTC and CMOS, the local APIC, MSRs and the BIOS data area. Run under QEMU 7.2
 * (-kernel, SeaBIOS + multiboot_dma.bin) and under bmbt-dbg's direct boot, the outputs
 * are compared line by line (tests/boot-entry-state.test.ts).
 */
#include <stdint.h>

extern uint32_t entry_regs[9];
extern uint16_t entry_sregs[8];
extern uint8_t entry_gdtr[8], entry_idtr[8];
extern uint32_t entry_cr[5];
extern uint8_t entry_fenv[28];
extern int32_t third_times_million;
extern uint16_t fsw_after;
extern uint8_t isr_stubs[];

static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline void outl(uint16_t p, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(p)); }
static inline uint32_t inl(uint16_t p) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint32_t mmio32(uint32_t a) { return *(volatile uint32_t *)a; }

static void putc_(char c) {
    while (!(inb(0x3fd) & 0x20)) {}
    outb(0x3f8, (uint8_t)c);
}
static void puts_(const char *s) { while (*s) putc_(*s++); }
static void hex(uint32_t v, int digits) {
    for (int i = digits - 1; i >= 0; i--) putc_("0123456789abcdef"[(v >> (i * 4)) & 15]);
}
static void line(const char *name, uint32_t v, int digits) {
    puts_(name); puts_(": "); hex(v, digits); putc_('\n');
}
static void dec(int32_t v) {
    char b[12]; int n = 0; uint32_t u = v < 0 ? -(uint32_t)v : (uint32_t)v;
    if (v < 0) putc_('-');
    do { b[n++] = '0' + u % 10; u /= 10; } while (u);
    while (n) putc_(b[--n]);
}

/* ---- interrupts ---- */
static volatile int expect_gp, gp_hit;
static volatile uint32_t vec_count[256];
static volatile int last_vec = -1;

int isr_dispatch(uint32_t vec, uint32_t *frame) {
    (void)frame;
    if (vec == 13 && expect_gp) { gp_hit = 1; expect_gp = 0; return 1; }
    last_vec = (int)vec;
    vec_count[vec & 255]++;
    (void)inb(0x3fa);                 /* COM1 IIR: clears a THRE interrupt */
    outb(0x70, 0x0c); (void)inb(0x71); /* RTC C: re-arms the periodic interrupt */
    outb(0xa0, 0x20);
    outb(0x20, 0x20);
    return 0;
}

static struct { uint16_t lo, sel; uint8_t zero, type; uint16_t hi; } __attribute__((packed)) idt[256];
static struct { uint16_t limit; uint32_t base; } __attribute__((packed)) idtr;

static void install_idt(void) {
    for (int i = 0; i < 256; i++) {
        uint32_t a = (uint32_t)isr_stubs + 16 * i;
        idt[i].lo = a & 0xffff; idt[i].hi = a >> 16; idt[i].sel = 0x08; idt[i].zero = 0; idt[i].type = 0x8e;
    }
    idtr.limit = sizeof idt - 1; idtr.base = (uint32_t)idt;
    __asm__ volatile("lidt %0" ::"m"(idtr));
}

static int rdmsr_safe(uint32_t msr, uint32_t *lo, uint32_t *hi) {
    uint32_t a = 0, d = 0;
    gp_hit = 0; expect_gp = 1;
    __asm__ volatile("rdmsr" : "+a"(a), "+d"(d) : "c"(msr) : "memory");
    expect_gp = 0;
    *lo = a; *hi = d;
    return !gp_hit;
}

static void msr_line(const char *name, uint32_t msr) {
    uint32_t lo, hi;
    puts_(name); puts_(": ");
    if (rdmsr_safe(msr, &lo, &hi)) { hex(hi, 8); putc_('_'); hex(lo, 8); } else puts_("#GP");
    putc_('\n');
}

static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d) {
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static uint8_t cmos(uint8_t r) { outb(0x70, r); return inb(0x71); }
static uint8_t pic_read(uint16_t port, uint8_t ocw3) { outb(port, ocw3); return inb(port); }

static uint32_t pit_latch0(void) {
    outb(0x43, 0x00);
    uint32_t lo = inb(0x40);
    return lo | (uint32_t)inb(0x40) << 8;
}

static void kbc_wait_in(void) { for (int i = 0; i < 100000 && (inb(0x64) & 2); i++) {} }
static int kbc_read(void) {
    for (int i = 0; i < 1000000; i++) if (inb(0x64) & 1) return inb(0x60);
    return -1;
}

void main(void) {
    uint32_t *r = entry_regs;
    puts_("entry-state guest\n");
    line("eax", r[0], 8);
    line("ecx", r[2], 8); line("edx", r[3], 8); line("esi", r[4], 8); line("edi", r[5], 8);
    line("ebp", r[6], 8);
    line("ebx", r[1], 8); line("esp", r[7], 8);
    line("eflags", r[8], 8);
    line("cs", entry_sregs[0], 4); line("ds", entry_sregs[1], 4); line("es", entry_sregs[2], 4);
    line("fs", entry_sregs[3], 4); line("gs", entry_sregs[4], 4); line("ss", entry_sregs[5], 4);
    line("ldtr", entry_sregs[6], 4); line("tr", entry_sregs[7], 4);
    uint16_t glim = entry_gdtr[0] | entry_gdtr[1] << 8, ilim = entry_idtr[0] | entry_idtr[1] << 8;
    uint32_t gbase = *(uint32_t *)&entry_gdtr[2], ibase = *(uint32_t *)&entry_idtr[2];
    line("idtr.base", ibase, 8); line("idtr.limit", ilim, 4);
    line("gdtr.base", gbase, 8); line("gdtr.limit", glim, 4);
    /* The descriptors behind CS and DS, wherever the loader put its GDT. */
    uint16_t cs = entry_sregs[0] & ~7, ds = entry_sregs[1] & ~7;
    if (cs + 7 <= glim) { line("gdt[cs].lo", *(uint32_t *)(gbase + cs), 8); line("gdt[cs].hi", *(uint32_t *)(gbase + cs + 4), 8); }
    if (ds + 7 <= glim) { line("gdt[ds].lo", *(uint32_t *)(gbase + ds), 8); line("gdt[ds].hi", *(uint32_t *)(gbase + ds + 4), 8); }
    line("cr0", entry_cr[0], 8); line("cr2", entry_cr[1], 8); line("cr3", entry_cr[2], 8);
    line("cr4", entry_cr[3], 8); line("dr7", entry_cr[4], 8);
    line("fcw", entry_fenv[0] | entry_fenv[1] << 8, 4);
    line("fsw", entry_fenv[4] | entry_fenv[5] << 8, 4);
    line("ftw", entry_fenv[8] | entry_fenv[9] << 8, 4);
    puts_("1/3*1e6: "); dec(third_times_million); putc_('\n');
    line("fsw after", fsw_after, 4);

    /* The multiboot information the loader passed (contents, not its address). */
    uint32_t mbi = r[1];
    if (r[0] == 0x2badb002) {
        uint32_t *m = (uint32_t *)mbi;
        line("mbi.flags&mem", m[0] & 1, 1);
        line("mbi.mem_lower", m[1], 8); line("mbi.mem_upper", m[2], 8);
        if (m[0] & 0x40) {
            for (uint32_t p = m[12]; p < m[12] + m[11]; p += *(uint32_t *)p + 4) {
                uint32_t *e = (uint32_t *)p;
                puts_("mmap: "); hex(e[2], 8); hex(e[1], 8); putc_(' '); hex(e[4], 8); hex(e[3], 8);
                putc_(' '); hex(e[5], 1); putc_('\n');
            }
        }
    }

    /* COM1 as the firmware left it (interrupt enable, line and modem control). */
    line("uart.ier", inb(0x3f9), 2); line("uart.lcr", inb(0x3fb), 2); line("uart.mcr", inb(0x3fc), 2);

    /* The 8259s: masks, request and service registers, edge/level (ELCR). */
    line("pic1.imr", inb(0x21), 2); line("pic2.imr", inb(0xa1), 2);
    line("pic1.irr (not irq0: timing)", pic_read(0x20, 0x0a) & 0xfe, 2); line("pic1.isr", pic_read(0x20, 0x0b), 2);
    line("pic2.irr", pic_read(0xa0, 0x0a), 2); line("pic2.isr", pic_read(0xa0, 0x0b), 2);
    line("elcr", inb(0x4d0) | inb(0x4d1) << 8, 4);

    /* The 8254: read-back status of the three channels; port 0x61. */
    outb(0x43, 0xe2); line("pit0.status", inb(0x40) & 0x3f, 2);
    outb(0x43, 0xe4); line("pit1.status", inb(0x41) & 0x3f, 2);
    outb(0x43, 0xe8); line("pit2.status", inb(0x42) & 0x3f, 2);
    line("port61", inb(0x61) & 0x0f, 2);

    /* A20 by the wrap test and port 0x92. */
    volatile uint32_t *lo = (uint32_t *)0x500, *hi = (uint32_t *)0x100500;
    uint32_t save = *lo;
    *lo = 0x12345678; *hi = 0x9abcdef0;
    line("a20", *lo == 0x12345678, 1);
    *lo = save;
    line("port92", inb(0x92) & 0x03, 2);

    /* The 8042: status, then its command byte. */
    int flushed = 0;
    while ((inb(0x64) & 1) && flushed < 32) { (void)inb(0x60); flushed++; }
    line("kbc.status", inb(0x64) & 0xfd, 2);
    kbc_wait_in(); outb(0x64, 0x20);
    line("kbc.command", (uint32_t)kbc_read() & 0x1ff, 3);

    /* RTC control registers and CMOS beyond the clock. */
    line("rtc.a", cmos(0x0a) & 0x7f, 2); line("rtc.b", cmos(0x0b), 2);
    line("rtc.c", cmos(0x0c), 2); line("rtc.d", cmos(0x0d), 2);
    for (int row = 0x10; row < 0x80; row += 16) {
        puts_("cmos "); hex(row, 2); putc_(':');
        for (int i = 0; i < 16; i++) { putc_(' '); hex(cmos(row + i), 2); }
        putc_('\n');
    }

    /* The BIOS data area words a kernel may read. */
    line("bda.com1", *(uint16_t *)0x400, 4); line("bda.ebda", *(uint16_t *)0x40e, 4);
    line("bda.equip", *(uint16_t *)0x410, 4); line("bda.basemem", *(uint16_t *)0x413, 4);
    line("bda.vmode", *(uint8_t *)0x449, 2); line("bda.crtc", *(uint16_t *)0x463, 4);

    install_idt();

    /* CPUID, MSRs and the local APIC. */
    uint32_t a, b, c, d;
    cpuid(1, &a, &b, &c, &d);
    line("cpuid1.edx", d, 8);
    msr_line("apic_base", 0x1b);
    msr_line("mtrrcap", 0xfe);
    msr_line("mtrr_def_type", 0x2ff);
    msr_line("mtrr_fix64k", 0x250);
    msr_line("mtrr_fix16k_80000", 0x258);
    msr_line("mtrr_fix16k_a0000", 0x259);
    for (uint32_t i = 0; i < 8; i++) { char n[] = "mtrr_fix4k_?"; n[11] = '0' + i; msr_line(n, 0x268 + i); }
    for (uint32_t i = 0; i < 16; i++) { char n[] = "mtrr_var_??"; n[9] = '0' + i / 10; n[10] = '0' + i % 10; msr_line(n, 0x200 + i); }
    msr_line("pat", 0x277);
    msr_line("misc_enable", 0x1a0);
    uint32_t blo, bhi;
    if (rdmsr_safe(0x1b, &blo, &bhi) && (blo & 0x800)) {
        uint32_t base = blo & 0xfffff000;
        line("apic.id", mmio32(base + 0x20), 8); line("apic.version", mmio32(base + 0x30), 8);
        line("apic.tpr", mmio32(base + 0x80), 8); line("apic.ldr", mmio32(base + 0xd0), 8);
        line("apic.dfr", mmio32(base + 0xe0), 8); line("apic.svr", mmio32(base + 0xf0), 8);
        line("apic.lvt_timer", mmio32(base + 0x320), 8); line("apic.lint0", mmio32(base + 0x350), 8);
        line("apic.lint1", mmio32(base + 0x360), 8); line("apic.lvt_error", mmio32(base + 0x370), 8);
        line("apic.tmict", mmio32(base + 0x380), 8); line("apic.dcr", mmio32(base + 0x3e0), 8);
    }

    /* The vector bases the firmware gave the 8259s: a COM1 THRE interrupt (IRQ 4) ... */
    outb(0x21, 0xef); outb(0xa1, 0xff);
    outb(0x3f9, 0x02);
    __asm__ volatile("sti; nop; nop; nop; nop; cli");
    outb(0x3f9, 0x00);
    line("irq4 vector", (uint32_t)last_vec & 0xffff, 4);
    int master = last_vec >= 0 ? last_vec - 4 : -1;
    /* ... and the RTC's periodic interrupt (IRQ 8); the PIT's IRQ 0 is counted meanwhile. */
    last_vec = -1;
    outb(0x70, 0x0a); uint8_t ra = inb(0x71);
    outb(0x70, 0x0a); outb(0x71, (ra & 0xf0) | 0x06);          /* 1024 Hz */
    outb(0x70, 0x0b); uint8_t rb = inb(0x71);
    outb(0x70, 0x0b); outb(0x71, rb | 0x40);
    outb(0x21, 0xfa); outb(0xa1, 0xfe);
    int slave = -1;
    for (int i = 0; i < 300; i++) {
        __asm__ volatile("sti; hlt; cli");
        if (last_vec >= 0 && last_vec != master) slave = last_vec;
        if (master >= 0 && vec_count[master & 255] > 0 && slave >= 0) break;
    }
    outb(0x70, 0x0b); outb(0x71, rb);
    outb(0x21, 0xff); outb(0xa1, 0xff);
    line("irq8 vector", (uint32_t)slave & 0xffff, 4);
    line("irq0 seen", master >= 0 && vec_count[master & 255] > 0, 1);

    puts_("done\n");
    outb(0xf4, 0);
}
