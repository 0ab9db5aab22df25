/*
 * The HPET at 0xFED00000 (board test guest): registers after reset, the main counter's
 * rate against the PIT, comparators in one-shot and periodic mode, 32-bit mode, level
 * and edge interrupts through the I/O APIC pin 2 route and the legacy replacement route
 * (timer 0 -> IRQ 0, timer 1 -> IRQ 8, the PIT and RTC silenced), as QEMU 7.2's `pc`
 * machine has it. Only values that do not depend on how fast the host runs are printed:
 * registers, counts checked against ranges, ratios of two clocks.
 */
#include "lib.h"

#define HPET 0xFED00000u
#define GCAP 0x000
#define GPERIOD 0x004
#define GCONF 0x010
#define GSTS 0x020
#define COUNTER 0x0F0
#define TCONF(n) (0x100 + 0x20 * (n))
#define TCMP(n) (0x108 + 0x20 * (n))
#define TFSB(n) (0x110 + 0x20 * (n))

#define CONF_ENABLE 1u
#define CONF_LEGACY 2u
#define TN_LEVEL (1u << 1)
#define TN_ENABLE (1u << 2)
#define TN_PERIODIC (1u << 3)
#define TN_SETVAL (1u << 6)
#define TN_32BIT (1u << 8)
#define TN_ROUTE(r) ((u32)(r) << 9)

#define APIC_BASE 0xFEE00000u
#define IOAPIC_BASE 0xFEC00000u

static u32 rd(u32 off) { return mmio_read32(HPET + off); }
static void wr(u32 off, u32 v) { mmio_write32(HPET + off, v); }

static u64 counter(void)
{
    u32 hi, lo;
    do {
        hi = rd(COUNTER + 4);
        lo = rd(COUNTER);
    } while (hi != rd(COUNTER + 4));
    return ((u64)hi << 32) | lo;
}

/* Only while the counter is stopped. */
static void counter_zero(void)
{
    wr(COUNTER, 0);
    wr(COUNTER + 4, 0);
}

static void wait_ticks(u32 n)
{
    u64 end = counter() + n;
    while (counter() < end) {}
}

static volatile u32 irq_count[256];
static void on_irq(u32 vec)
{
    irq_count[vec]++;
    if (vec >= 0x20 && vec < 0x30) pic_eoi(vec - 0x20);
    if (vec == 0x40) wr(GSTS, 4); /* a level source is cleared before the EOI */
    if (vec == 0x40 || vec == 0x41) mmio_write32(APIC_BASE + 0xb0, 0);
    if (vec == 0x28) {
        if (rd(GSTS) & 2) wr(GSTS, 2); /* HPET timer 1 (legacy), else the RTC */
        else { outb(0x70, 0x0c); inb(0x71); }
    }
}

static void ioapic_write(u32 reg, u32 v)
{
    mmio_write32(IOAPIC_BASE, reg);
    mmio_write32(IOAPIC_BASE + 0x10, v);
}

static void range(const char *name, u32 v, u32 lo, u32 hi)
{
    puts(name);
    if (v >= lo && v <= hi) { puts(": ok\n"); return; }
    failures++;
    puts(": FAIL got ");
    putdec(v);
    puts(" want ");
    putdec(lo);
    puts("-");
    putdec(hi);
    putc('\n');
}

/* Timer n back to its reset configuration (interrupts off, one-shot, edge, route 0). */
static void timer_off(int n) { wr(TCONF(n), 0); }

int main(void)
{
    idt_install();
    isr_hook = on_irq;
    pic_init(0);

    /* ---- registers after reset ---------------------------------------------------- */
    show("capabilities", rd(GCAP), 8);
    show("period (fs)", rd(GPERIOD), 8);
    show("general config", rd(GCONF), 8);
    show("general config high", rd(GCONF + 4), 8);
    show("interrupt status", rd(GSTS), 8);
    show("counter low (stopped)", rd(COUNTER), 8);
    show("counter high (stopped)", rd(COUNTER + 4), 8);
    for (int n = 0; n < 4; n++) {
        puts("timer ");
        putdec((u32)n);
        puts(": config ");
        puthex(rd(TCONF(n) + 4), 8);
        puthex(rd(TCONF(n)), 8);
        puts(" comparator ");
        puthex(rd(TCMP(n) + 4), 8);
        puthex(rd(TCMP(n)), 8);
        puts(" fsb ");
        puthex(rd(TFSB(n) + 4), 8);
        puthex(rd(TFSB(n)), 8);
        putc('\n');
    }
    show("register 0x008", rd(0x008), 8);
    show("register 0x0f8", rd(0x0f8), 8);
    show("register 0x118", rd(0x118), 8);
    show("byte read of capabilities", *(volatile u8 *)(HPET + 1), 2);
    show("word read of capabilities", *(volatile u16 *)(HPET + 2), 4);
    wr(GCAP, 0);
    show("capabilities after a write", rd(GCAP), 8);

    /* ---- the main counter --------------------------------------------------------- */
    wr(COUNTER, 0x12345678);
    wr(COUNTER + 4, 0x9);
    show("counter low after write (stopped)", rd(COUNTER), 8);
    show("counter high after write (stopped)", rd(COUNTER + 4), 8);
    wr(GCONF, 0xfffffffc);
    show("general config after writing fffffffc", rd(GCONF), 8);
    counter_zero();
    wr(GCONF, CONF_ENABLE);
    u32 a = rd(COUNTER);
    for (int i = 0; i < 100; i++) inb(0x80);
    u32 b = rd(COUNTER);
    check("counter runs once enabled", b > a, 1);
    show("counter high while running", rd(COUNTER + 4), 8);
    u32 before = rd(COUNTER);
    counter_zero();
    check("counter write while running is ignored", rd(COUNTER) >= before, 1);

    /* HPET ticks during 11932 PIT ticks (10.0002 ms): 100 MHz gives 1,000,016. The
       smallest of five windows (a host stall can only lengthen one under QEMU). */
    u32 best = ~0u;
    for (int i = 0; i < 5; i++) {
        outb(0x61, (inb(0x61) & ~0x03) | 0x01); /* gate channel 2 on, speaker off */
        outb(0x43, 0xb0);                       /* channel 2, lobyte/hibyte, mode 0 */
        outb(0x42, 11932 & 0xff);
        u64 t0 = counter();
        outb(0x42, 11932 >> 8);
        while (!(inb(0x61) & 0x20)) {}
        u32 delta = (u32)(counter() - t0);
        if (delta < best) best = delta;
    }
    show("HPET ticks in 10 ms of PIT time, in units of 100000 (rounded)", (best + 50000) / 100000, 2);

    wr(GCONF, 0);
    u32 s1 = rd(COUNTER);
    wait_ticks(0); /* a few accesses */
    check("counter holds while disabled", rd(COUNTER), s1);

    /* ---- comparator writes -------------------------------------------------------- */
    wr(TCMP(2), 0x11111111);
    wr(TCMP(2) + 4, 0x22222222);
    show("one-shot comparator low", rd(TCMP(2)), 8);
    show("one-shot comparator high", rd(TCMP(2) + 4), 8);
    wr(TCONF(2), TN_PERIODIC);
    wr(TCMP(2), 0x33333333);
    show("periodic, no SETVAL: comparator low unchanged", rd(TCMP(2)), 8);
    wr(TCONF(2), TN_PERIODIC | TN_SETVAL);
    show("config with SETVAL", rd(TCONF(2)), 8);
    wr(TCMP(2), 0x44444444);
    show("periodic with SETVAL: comparator low", rd(TCMP(2)), 8);
    show("SETVAL cleared by the write", rd(TCONF(2)), 8);
    wr(TCMP(2) + 4, 0x55555555);
    show("periodic, high half after SETVAL cleared", rd(TCMP(2) + 4), 8);
    wr(TCONF(2), TN_32BIT);
    show("32-bit mode: comparator high", rd(TCMP(2) + 4), 8);
    show("32-bit mode: comparator low", rd(TCMP(2)), 8);
    wr(TCMP(2) + 4, 0x66666666);
    show("32-bit mode: high half written", rd(TCMP(2) + 4), 8);
    wr(TCONF(2), 0xffffbfff); /* everything but FSB_EN */
    show("timer 2 config after writing ffffbfff", rd(TCONF(2)), 8);
    show("timer 2 config high", rd(TCONF(2) + 4), 8);
    timer_off(2);
    wr(TCONF(2) + 4, 0);
    show("route capability after a write", rd(TCONF(2) + 4), 8);
    wr(TFSB(2), 0xfee00000);
    wr(TFSB(2) + 4, 0x41);
    show("fsb route low", rd(TFSB(2)), 8);
    show("fsb route high", rd(TFSB(2) + 4), 8);
    wr(TCONF(3), 0xffffbfff);
    show("timer 3 (absent) config after a write", rd(TCONF(3)), 8);
    wr(TCONF(3), 0);

    /* ---- one-shot, level, polled (waits are long: QEMU's timers run late) ---------- */
    counter_zero();
    wr(TCMP(2), 20000);
    wr(TCMP(2) + 4, 0);
    wr(TCONF(2), TN_LEVEL | TN_ROUTE(2)); /* interrupts off: no status */
    wr(GCONF, CONF_ENABLE);
    wait_ticks(500000);
    show("status after a disabled timer matched", rd(GSTS), 8);
    wr(GCONF, 0);
    counter_zero();
    wr(TCMP(2), 500000);
    wr(TCONF(2), TN_LEVEL | TN_ENABLE | TN_ROUTE(2));
    wr(GCONF, CONF_ENABLE);
    show("status before the match", rd(GSTS), 8);
    wait_ticks(1000000);
    show("status after a level match", rd(GSTS), 8);
    show("one-shot comparator after the match", rd(TCMP(2)), 8);
    wr(GSTS, 0xffffffff);
    show("status after writing ones", rd(GSTS), 8);
    /* A comparator already passed fires one tick later. */
    wr(TCMP(2), 10);
    wait_ticks(500000);
    show("status after a comparator in the past", rd(GSTS), 8);
    wr(GSTS, 4);
    /* Turning the timer's interrupt off clears its status. */
    wr(TCMP(2), 10);
    wait_ticks(500000);
    timer_off(2);
    show("status after the timer's interrupt is turned off", rd(GSTS), 8);
    /* Edge: no status bit. */
    wr(TCMP(2), rd(COUNTER) + 100000);
    wr(TCONF(2), TN_ENABLE | TN_ROUTE(2));
    wait_ticks(1000000);
    show("status after an edge match", rd(GSTS), 8);
    timer_off(2);
    wr(GCONF, 0);

    /* ---- periodic comparator advance ---------------------------------------------- */
    counter_zero();
    wr(TCONF(2), TN_PERIODIC | TN_SETVAL | TN_LEVEL | TN_ROUTE(2));
    wr(TCMP(2), 100000);
    wr(TCONF(2), TN_PERIODIC | TN_SETVAL | TN_LEVEL | TN_ROUTE(2));
    wr(TCMP(2) + 4, 0);
    show("periodic comparator high after SETVAL", rd(TCMP(2) + 4), 8);
    wr(GCONF, CONF_ENABLE);
    while (counter() < 550000) {}
    show("periodic comparator after 5.5 periods", rd(TCMP(2)), 8);
    show("status with the periodic timer's interrupts off", rd(GSTS), 8);
    wr(GCONF, 0);
    show("periodic comparator with the counter stopped", rd(TCMP(2)), 8);
    timer_off(2);

    /* ---- 32-bit one-shot: an interrupt at the wrap, then one at the match ---------- */
    wr(COUNTER, 0xfff00000);
    wr(COUNTER + 4, 0);
    wr(TCMP(2), 0x00100000);
    wr(TCONF(2), TN_32BIT | TN_LEVEL | TN_ENABLE | TN_ROUTE(2));
    wr(GCONF, CONF_ENABLE);
    while (rd(COUNTER) >= 0xfff00000) {}
    wait_ticks(100000);
    show("32-bit one-shot: status after the counter wrapped", rd(GSTS), 8);
    wr(GSTS, 4);
    show("32-bit one-shot: counter high after the wrap", rd(COUNTER + 4), 8);
    while (rd(COUNTER) < 0x00200000) {}
    show("32-bit one-shot: status after the match", rd(GSTS), 8);
    wr(GSTS, 4);
    wr(GCONF, 0);
    timer_off(2);

    /* ---- interrupts through the I/O APIC (route 2 = pin 2) ---------------------- */
    mmio_write32(APIC_BASE + 0xf0, 0x1ff);                /* APIC software-enabled */
    mmio_write32(APIC_BASE + 0x350, 0x10000);             /* LINT0 masked: no 8259 */
    outb(0x43, 0x30);                                     /* PIT channel 0 quiet (mode 0, no reload) */
    outb(0x40, 0xff);
    outb(0x40, 0xff);
    ioapic_write(0x10 + 2 * 2 + 1, 0);
    ioapic_write(0x10 + 2 * 2, 0x40 | (1u << 15));        /* pin 2: level, vector 0x40 */
    counter_zero();
    wr(TCMP(2), 100000);
    wr(TCMP(2) + 4, 0);
    wr(TCONF(2), TN_LEVEL | TN_ENABLE | TN_ROUTE(2));
    wr(GCONF, CONF_ENABLE);
    sti();
    wait_ticks(1000000);
    cli();
    show("level interrupts on I/O APIC pin 2, status cleared by the handler", irq_count[0x40], 2);
    show("status after the handler", rd(GSTS), 8);
    timer_off(2);
    wr(GCONF, 0);
    ioapic_write(0x10 + 2 * 2, 0x41);                      /* edge, vector 0x41 */
    counter_zero();
    wr(TCONF(2), TN_PERIODIC | TN_SETVAL | TN_32BIT | TN_ROUTE(2));
    wr(TCMP(2), 100000);
    wr(TCMP(2), 100000);
    wr(TCONF(2), TN_PERIODIC | TN_32BIT | TN_ENABLE | TN_ROUTE(2));
    wr(GCONF, CONF_ENABLE);
    sti();
    while (counter() < 1050000) {}
    cli();
    range("periodic edge interrupts in 10.5 periods", irq_count[0x41], 9, 11);
    wr(GCONF, 0);
    timer_off(2);
    ioapic_write(0x10 + 2 * 2, 0x10000);
    mmio_write32(APIC_BASE + 0x350, 0x700);               /* LINT0 ExtINT again */

    /* ---- legacy replacement route ------------------------------------------------ */
    pic_init(0x0101 | 0x0004);                            /* IRQ0, IRQ8 (and the cascade) */
    outb(0x43, 0x34);                                     /* PIT channel 0: 1 kHz, rate generator */
    outb(0x40, 1193 & 0xff);
    outb(0x40, 1193 >> 8);
    counter_zero();
    wr(GCONF, CONF_ENABLE);
    sti();
    wait_ticks(1000000);
    cli();
    range("PIT interrupts in 10 ms before legacy mode", irq_count[0x20], 8, 12);
    irq_count[0x20] = 0;
    wr(GCONF, CONF_ENABLE | CONF_LEGACY);
    sti();
    wait_ticks(1000000);
    cli();
    show("PIT interrupts in 10 ms in legacy mode", irq_count[0x20], 2);
    /* Timer 0 -> IRQ 0 (its route field ignored), periodic edge every 2 ms, 32-bit as Linux. */
    wr(TCONF(0), TN_PERIODIC | TN_SETVAL | TN_32BIT | TN_ROUTE(2));
    wr(TCMP(0), rd(COUNTER) + 200000);
    wr(TCMP(0), 200000);
    wr(TCONF(0), TN_PERIODIC | TN_32BIT | TN_ENABLE | TN_ROUTE(2));
    sti();
    wait_ticks(1010000);
    cli();
    range("timer 0 interrupts on IRQ 0 in 10.1 ms (legacy)", irq_count[0x20], 4, 6);
    timer_off(0);
    /* Timer 1 -> IRQ 8, level one-shot. */
    wr(TCMP(1), rd(COUNTER) + 100000);
    wr(TCONF(1), TN_LEVEL | TN_ENABLE);
    sti();
    wait_ticks(1000000);
    cli();
    show("timer 1 level interrupt on IRQ 8 (legacy)", irq_count[0x28] > 0, 1);
    show("status with timer 1 pending", rd(GSTS), 8);
    wr(GSTS, 2);
    timer_off(1);
    irq_count[0x28] = 0;
    /* The RTC's periodic interrupt (IRQ 8) is silenced in legacy mode too. */
    outb(0x70, 0x0a); outb(0x71, 0x26);                  /* 1024 Hz */
    outb(0x70, 0x0b); outb(0x71, inb(0x71) | 0x40);      /* PIE */
    outb(0x70, 0x0c); inb(0x71);
    sti();
    wait_ticks(1000000);
    cli();
    show("RTC interrupts in 10 ms in legacy mode", irq_count[0x28], 2);
    irq_count[0x20] = 0;
    wr(GCONF, CONF_ENABLE);
    sti();
    wait_ticks(1000000);
    cli();
    show("RTC interrupts after legacy mode", irq_count[0x28] > 0, 1);
    range("PIT interrupts in 10 ms after legacy mode", irq_count[0x20], 8, 12);
    outb(0x70, 0x0b); outb(0x71, inb(0x71) & ~0x40);
    wr(GCONF, 0);

    puts("failures: ");
    putdec((u32)failures);
    putc('\n');
    return failures;
}
