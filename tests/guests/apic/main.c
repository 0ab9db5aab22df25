/*
 * APIC test guest: exercises the local APIC and the I/O APIC of a QEMU-style PC and
 * prints one line per check on COM1, then exits through isa-debug-exit (port 0xF4) with
 * the number of failed checks (QEMU's exit status is 2 * failures + 1).
 *
 * It programs everything it uses itself (the 8259s, the PIT, the APICs), so it runs the
 * same after SeaBIOS (QEMU -kernel) and straight from a multiboot loader. Every printed
 * value is deterministic: counts of events, register values, orders.
 *
 *   qemu-system-i386 -kernel apic.elf -serial stdio -display none \
 *       -device isa-debug-exit,iobase=0xf4,iosize=4
 */
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#define APIC_BASE 0xFEE00000u
#define IOAPIC_BASE 0xFEC00000u

/* Local APIC registers (Intel SDM vol. 3A, table 10-1). */
#define APIC_ID 0x020
#define APIC_VER 0x030
#define APIC_TPR 0x080
#define APIC_PPR 0x0A0
#define APIC_EOI 0x0B0
#define APIC_SVR 0x0F0
#define APIC_ISR 0x100
#define APIC_IRR 0x200
#define APIC_ESR 0x280
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_LVT_ERROR 0x370
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_CUR 0x390
#define APIC_TIMER_DIV 0x3E0

#define LVT_MASKED 0x10000u
#define LVT_PERIODIC 0x20000u
#define ICR_SELF (1u << 18)
#define ICR_NMI (4u << 8)

#define VEC_PIC_IRQ0 0x20
#define VEC_TIMER 0x30
#define VEC_IPI 0x40
#define VEC_IPI_LOW 0x41
#define VEC_IPI_HIGH 0x61
#define VEC_IOAPIC_EDGE 0x50
#define VEC_IOAPIC_LEVEL 0x51
#define VEC_SPURIOUS 0xFF

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port)
{
    u8 v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
/* STI's shadow makes "sti; hlt" atomic: a pending interrupt wakes the HLT. */
static inline void sti_hlt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
static inline void sti_nop(void) { __asm__ volatile("sti; nop; nop; nop; cli" ::: "memory"); }

static inline u32 apic_read(u32 reg) { return *(volatile u32 *)(APIC_BASE + reg); }
static inline void apic_write(u32 reg, u32 v) { *(volatile u32 *)(APIC_BASE + reg) = v; }
static inline u32 apic_bit(u32 base, u32 v) { return (apic_read(base + ((v >> 5) << 4)) >> (v & 31)) & 1; }
static inline void apic_eoi(void) { apic_write(APIC_EOI, 0); }

static u32 ioapic_read(u32 reg)
{
    *(volatile u32 *)(IOAPIC_BASE + 0x00) = reg;
    return *(volatile u32 *)(IOAPIC_BASE + 0x10);
}
static void ioapic_write(u32 reg, u32 v)
{
    *(volatile u32 *)(IOAPIC_BASE + 0x00) = reg;
    *(volatile u32 *)(IOAPIC_BASE + 0x10) = v;
}

static u64 rdmsr(u32 msr)
{
    u32 lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((u64)hi << 32) | lo;
}

static void cpuid(u32 leaf, u32 *a, u32 *b, u32 *c, u32 *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

/* ---- COM1 ---------------------------------------------------------------- */
static void putc(char c)
{
    if (c == '\n')
        putc('\r');
    while (!(inb(0x3FD) & 0x20))
        ;
    outb(0x3F8, (u8)c);
}
static void puts(const char *s)
{
    while (*s)
        putc(*s++);
}
static void puthex(u32 v, int digits)
{
    for (int i = (digits - 1) * 4; i >= 0; i -= 4)
        putc("0123456789abcdef"[(v >> i) & 15]);
}
static void putdec(u32 v)
{
    char b[12];
    int n = 0;
    do {
        b[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        putc(b[--n]);
}

static u32 failures;

/* One check: "name: value" then " ok" or " FAIL (want W)". */
static void check_hex(const char *name, u32 got, u32 want)
{
    puts(name);
    puts(": ");
    puthex(got, 8);
    if (got == want) {
        puts(" ok\n");
    } else {
        puts(" FAIL (want ");
        puthex(want, 8);
        puts(")\n");
        failures++;
    }
}
static void check_dec(const char *name, u32 got, u32 want)
{
    puts(name);
    puts(": ");
    putdec(got);
    if (got == want) {
        puts(" ok\n");
    } else {
        puts(" FAIL (want ");
        putdec(want);
        puts(")\n");
        failures++;
    }
}

/* ---- IDT ------------------------------------------------------------------ */
extern char isr_stubs[];
static u32 idt[512];

static void idt_init(void)
{
    for (u32 v = 0; v < 256; v++) {
        u32 h = (u32)isr_stubs + 16 * v;
        idt[2 * v] = (0x08u << 16) | (h & 0xFFFF);
        idt[2 * v + 1] = (h & 0xFFFF0000u) | 0x8E00; /* present, ring 0, 32-bit interrupt gate */
    }
    struct {
        u16 limit;
        u32 base;
    } __attribute__((packed)) d = { sizeof(idt) - 1, (u32)idt };
    __asm__ volatile("lidt %0" : : "m"(d));
}

/* ---- interrupt handlers ------------------------------------------------------ */
static volatile u32 n_ipi, n_timer, n_pic, n_io_edge, n_io_level, n_nmi, n_spurious;
static volatile u32 ipi_isr_bit, ipi_ppr, pic_isr_clear;
static volatile u32 order[4], n_order;
static volatile u32 level_remote_irr;
static volatile u32 timer_periodic_stop;

void isr_dispatch(u32 vector)
{
    switch (vector) {
    case 2:
        n_nmi++;
        return;
    case VEC_PIC_IRQ0:
        /* From the 8259 through LINT0 (ExtINT): no APIC ISR bit, EOI to the 8259. */
        pic_isr_clear = !apic_bit(APIC_ISR, VEC_PIC_IRQ0);
        n_pic++;
        outb(0x20, 0x20);
        return;
    case VEC_TIMER:
        n_timer++;
        if (timer_periodic_stop && n_timer >= timer_periodic_stop)
            apic_write(APIC_LVT_TIMER, LVT_MASKED | LVT_PERIODIC | VEC_TIMER);
        apic_eoi();
        return;
    case VEC_IPI:
        ipi_isr_bit = apic_bit(APIC_ISR, VEC_IPI);
        ipi_ppr = apic_read(APIC_PPR);
        n_ipi++;
        apic_eoi();
        return;
    case VEC_IPI_LOW:
    case VEC_IPI_HIGH:
        if (n_order < 4)
            order[n_order++] = vector;
        apic_eoi();
        return;
    case VEC_IOAPIC_EDGE:
        n_io_edge++;
        apic_eoi();
        return;
    case VEC_IOAPIC_LEVEL:
        /* Remote IRR is set while the level interrupt is in service. */
        level_remote_irr += (ioapic_read(0x10 + 2 * 2) >> 14) & 1;
        n_io_level++;
        if (n_io_level >= 3)
            ioapic_write(0x10 + 2 * 2, LVT_MASKED | (1u << 15) | VEC_IOAPIC_LEVEL);
        apic_eoi(); /* broadcast: clears Remote IRR; a line still high asks again */
        return;
    case VEC_SPURIOUS:
        n_spurious++;
        return;
    default:
        puts("unexpected vector ");
        puthex(vector, 2);
        puts("\n");
        outl(0xF4, 0x7F);
        for (;;)
            __asm__ volatile("cli; hlt");
    }
}

/* ---- helpers ---------------------------------------------------------------- */
static void wait_count(volatile u32 *counter, u32 target)
{
    while (*counter < target) {
        sti_hlt();
        cli();
    }
}

static void spin(u32 n)
{
    for (volatile u32 i = 0; i < n; i++)
        ;
}

static void pic_init(void)
{
    outb(0x20, 0x11);
    outb(0x21, 0x20); /* IRQ 0-7 -> 0x20 */
    outb(0x21, 0x04);
    outb(0x21, 0x01);
    outb(0xA0, 0x11);
    outb(0xA1, 0x28); /* IRQ 8-15 -> 0x28 */
    outb(0xA1, 0x02);
    outb(0xA1, 0x01);
    outb(0x21, 0xFF);
    outb(0xA1, 0xFF);
}

static void pit_1khz(void)
{
    outb(0x43, 0x34); /* channel 0, lobyte/hibyte, mode 2 */
    outb(0x40, 1193 & 0xFF);
    outb(0x40, 1193 >> 8);
}

int main(void)
{
    u32 a, b, c, d;

    cli();
    idt_init();
    pic_init();
    outb(0x3F9, 0); /* COM1: no interrupts */
    puts("apic test guest\n");

    cpuid(1, &a, &b, &c, &d);
    check_dec("cpuid.1:edx.apic", (d >> 9) & 1, 1);
    check_hex("ia32_apic_base", (u32)rdmsr(0x1B), 0xFEE00900);
    check_hex("version", apic_read(APIC_VER), 0x00050014);

    /* Virtual-wire setup as a BIOS leaves it: enabled, LINT0 ExtINT, LINT1 NMI. */
    apic_write(APIC_SVR, 0x100 | VEC_SPURIOUS);
    apic_write(APIC_LVT_LINT0, 0x700);
    apic_write(APIC_LVT_LINT1, 0x400);
    apic_write(APIC_LVT_ERROR, LVT_MASKED | 0xFE);
    apic_write(APIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);
    apic_write(APIC_TPR, 0);
    for (u32 pin = 0; pin < 24; pin++)
        ioapic_write(0x10 + 2 * pin, LVT_MASKED);
    check_hex("svr", apic_read(APIC_SVR), 0x1FF);

    /* Self-IPI: IRR while IF=0, then ISR and PPR inside the handler. */
    apic_write(APIC_ICR_LO, ICR_SELF | VEC_IPI);
    check_dec("self-ipi irr", apic_bit(APIC_IRR, VEC_IPI), 1);
    check_dec("self-ipi taken before sti", n_ipi, 0);
    sti_nop();
    check_dec("self-ipi taken", n_ipi, 1);
    check_dec("self-ipi isr in handler", ipi_isr_bit, 1);
    check_hex("self-ipi ppr in handler", ipi_ppr, 0x40);
    check_dec("isr after eoi", apic_bit(APIC_ISR, VEC_IPI), 0);

    /* Physical destination = our own APIC ID. */
    apic_write(APIC_ICR_HI, apic_read(APIC_ID) & 0xFF000000u);
    apic_write(APIC_ICR_LO, VEC_IPI);
    sti_nop();
    check_dec("ipi to own id", n_ipi, 2);

    /* Priority: the higher vector first. */
    apic_write(APIC_ICR_LO, ICR_SELF | VEC_IPI_LOW);
    apic_write(APIC_ICR_LO, ICR_SELF | VEC_IPI_HIGH);
    sti_nop();
    check_dec("ipis taken", n_order, 2);
    check_hex("first", order[0], VEC_IPI_HIGH);
    check_hex("second", order[1], VEC_IPI_LOW);

    /* TPR 0x50 holds vector 0x41 back; TPR 0 lets it through. */
    apic_write(APIC_TPR, 0x50);
    check_hex("ppr with tpr 50", apic_read(APIC_PPR), 0x50);
    apic_write(APIC_ICR_LO, ICR_SELF | VEC_IPI_LOW);
    sti_nop();
    check_dec("held by tpr", n_order, 2);
    apic_write(APIC_TPR, 0);
    sti_nop();
    check_dec("taken after tpr 0", n_order, 3);

    /* ESR: an access to a reserved register, latched by a write to the ESR. */
    (void)apic_read(0x040);
    apic_write(APIC_ESR, 0);
    check_hex("esr after reserved read", apic_read(APIC_ESR), 0x80);

    /* Timer, one-shot: ÷16, 100000 counts. */
    apic_write(APIC_TIMER_DIV, 0x3);
    apic_write(APIC_LVT_TIMER, VEC_TIMER);
    apic_write(APIC_TIMER_INIT, 100000);
    u32 cur = apic_read(APIC_TIMER_CUR);
    check_dec("one-shot counting", cur > 0 && cur <= 100000, 1);
    check_dec("one-shot initial", apic_read(APIC_TIMER_INIT), 100000);
    wait_count(&n_timer, 1);
    check_dec("one-shot fired", n_timer, 1);
    check_dec("one-shot count after", apic_read(APIC_TIMER_CUR), 0);
    spin(200000);
    check_dec("one-shot fired once", n_timer, 1);

    /* Timer, periodic: ÷1, 200000 counts, ten ticks (the handler masks it at ten). */
    n_timer = 0;
    timer_periodic_stop = 10;
    apic_write(APIC_TIMER_DIV, 0xB);
    apic_write(APIC_LVT_TIMER, LVT_PERIODIC | VEC_TIMER);
    apic_write(APIC_TIMER_INIT, 200000);
    wait_count(&n_timer, 10);
    cur = apic_read(APIC_TIMER_CUR);
    check_dec("periodic ticks", n_timer, 10);
    check_dec("periodic still counting", cur > 0 && cur <= 200000, 1);
    apic_write(APIC_TIMER_INIT, 0);
    check_dec("stopped", apic_read(APIC_TIMER_CUR), 0);

    /* The 8259 through LINT0 (ExtINT): PIT IRQ 0 at 1 kHz. */
    pit_1khz();
    outb(0x21, 0xFE);
    wait_count(&n_pic, 5);
    outb(0x21, 0xFF);
    check_dec("pic via lint0 ticks", n_pic, 5);
    check_dec("no apic isr for extint", pic_isr_clear, 1);

    /* I/O APIC: version, then the PIT (ISA IRQ 0) on pin 2, edge, to our APIC ID. */
    check_hex("ioapic version", ioapic_read(0x01), 0x00170020);
    u32 dest = apic_read(APIC_ID) & 0xFF000000u;
    ioapic_write(0x11 + 2 * 2, dest);
    ioapic_write(0x10 + 2 * 2, VEC_IOAPIC_EDGE);
    wait_count(&n_io_edge, 5);
    ioapic_write(0x10 + 2 * 2, LVT_MASKED | VEC_IOAPIC_EDGE);
    check_dec("ioapic pin 2 edge ticks", n_io_edge, 5);

    /* Level-triggered: the PIT's OUT is high almost all the time, so every EOI finds the
     * line still high and the I/O APIC sends again; the handler masks after three. */
    ioapic_write(0x10 + 2 * 2, (1u << 15) | VEC_IOAPIC_LEVEL);
    wait_count(&n_io_level, 3);
    spin(100000);
    check_dec("ioapic level deliveries", n_io_level, 3);
    check_dec("remote irr seen in handler", level_remote_irr, 3);
    check_dec("remote irr after eoi", (ioapic_read(0x10 + 2 * 2) >> 14) & 1, 0);
    ioapic_write(0x10 + 2 * 2, LVT_MASKED);

    /* NMI to self through the ICR. */
    apic_write(APIC_ICR_LO, ICR_SELF | ICR_NMI);
    spin(100000);
    check_dec("nmi via icr", n_nmi, 1);

    check_dec("spurious", n_spurious, 0);
    puts("apic: ");
    putdec(failures);
    puts(" failures\n");
    outl(0xF4, failures);
    for (;;)
        __asm__ volatile("cli; hlt");
}
