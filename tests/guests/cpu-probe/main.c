/*
 * CPU probe guest: measures what a CPU model answers (MSRs, CPUID, the local APIC's
 * global disable/enable cycle, unassigned memory and ports) and prints it, one fact a
 * line, on the debug console (port 0xE9); then exits through isa-debug-exit (port 0xF4).
 * The multiboot command line picks the probes: "msr", "msrw", "cpuid", "apic", "unassigned".
 *
 * Every printed value is deterministic (no TSC values, no timings), so the output under
 * QEMU 7.2 and under bmbt-dbg can be compared line by line.
 *
 *   qemu-system-i386 -cpu pentium2 -kernel cpu-probe.elf -append "msr cpuid" \
 *       -debugcon file:/dev/stdout -display none -device isa-debug-exit,iobase=0xf4,iosize=4
 */
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port)
{
    u8 v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline u16 inw(u16 port)
{
    u16 v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline u32 inl(u16 port)
{
    u32 v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

/* ---- output on port 0xE9 ------------------------------------------------------ */
static void putc(char c) { outb(0xE9, (u8)c); }
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
static void putx(u32 v) { puthex(v, 8); }
static void put64(u32 hi, u32 lo)
{
    putx(hi);
    putc(':');
    putx(lo);
}
static void line(const char *what, u32 v)
{
    puts(what);
    putc(' ');
    putx(v);
    putc('\n');
}
static void exit_guest(u8 code)
{
    outb(0xF4, code);
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* ---- exceptions ------------------------------------------------------------------ */
struct frame {
    u32 edi, esi, ebp, esp, ebx, edx, ecx, eax;
    u32 vector, error, eip, cs, eflags;
};

volatile u32 fault_resume;
volatile int fault_vec;
volatile u32 fault_err;
static volatile u32 irq_count[256];

extern char isr_stubs[];
extern int try_rdmsr(u32 msr, u32 *lo, u32 *hi);
extern int try_wrmsr(u32 msr, u32 lo, u32 hi);
static u32 idt[512];

static volatile int low_vector_ok; /* vectors < 32 may come from the APIC (illegal-vector IPIs) */

void isr_dispatch(struct frame *f)
{
    if (f->vector < 32 && low_vector_ok && !fault_resume) {
        irq_count[f->vector]++;
        *(volatile u32 *)0xFEE000B0 = 0;
        return;
    }
    if (f->vector < 32 && fault_resume) {
        fault_vec = (int)f->vector;
        fault_err = f->error;
        f->eip = fault_resume;
        return;
    }
    if (f->vector < 32) {
        puts("unexpected exception ");
        putx(f->vector);
        puts(" error ");
        putx(f->error);
        puts(" at ");
        putx(f->eip);
        putc('\n');
        exit_guest(0x7f);
    }
    irq_count[f->vector]++;
    if (f->vector >= 0x20 && f->vector < 0x28)
        outb(0x20, 0x20); /* 8259 master EOI */
    else if (f->vector >= 0x30)
        *(volatile u32 *)0xFEE000B0 = 0; /* local APIC EOI */
}

static void idt_init(void)
{
    for (u32 v = 0; v < 256; v++) {
        u32 h = (u32)isr_stubs + 16 * v;
        idt[2 * v] = (0x08u << 16) | (h & 0xFFFF);
        idt[2 * v + 1] = (h & 0xFFFF0000u) | 0x8E00;
    }
    struct {
        u16 limit;
        u32 base;
    } __attribute__((packed)) d = { sizeof(idt) - 1, (u32)idt };
    __asm__ volatile("lidt %0" : : "m"(d));
}

static void cpuid(u32 leaf, u32 sub, u32 *a, u32 *b, u32 *c, u32 *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

/* ---- the command line -------------------------------------------------------------- */
static const char *cmdline = "";

static int has_word(const char *w)
{
    const char *s = cmdline;
    while (*s) {
        while (*s == ' ')
            s++;
        const char *a = s, *b = w;
        while (*a && *a != ' ' && *b && *a == *b)
            a++, b++;
        if (!*b && (!*a || *a == ' '))
            return 1;
        while (*s && *s != ' ')
            s++;
    }
    return 0;
}

/* ---- MSRs ------------------------------------------------------------------------------- */

/* Values that change with time are not printed. */
static int msr_is_time(u32 msr) { return msr == 0x10; }

/*
 * Every index of a range: "r IDX HI:LO" for a readable MSR and whether writing the value
 * back faults ("w IDX ok" / "w IDX #GP"); for an MSR that faults on reads, only a write of
 * 0 that does not fault is reported ("W IDX ok"): write-only MSRs.
 */
static void msr_scan(u32 from, u32 to)
{
    for (u32 m = from; m < to; m++) {
        u32 lo, hi;
        int v = try_rdmsr(m, &lo, &hi);
        if (v >= 0) {
            if (v != 13) {
                puts("r ");
                putx(m);
                puts(" vector ");
                putx((u32)v);
                putc('\n');
            }
            int w = try_wrmsr(m, 0, 0);
            if (w < 0) {
                puts("W ");
                putx(m);
                puts(" ok\n");
            }
            continue;
        }
        puts("r ");
        putx(m);
        putc(' ');
        if (msr_is_time(m))
            puts("(time)");
        else
            put64(hi, lo);
        int w = try_wrmsr(m, lo, hi);
        puts(w < 0 ? " w ok\n" : " w #GP\n");
    }
}

/*
 * Which MSRs store what is written: write a pattern, read it back, restore the old value.
 * "p IDX HI:LO" when the read-back differs from the old value (TSC and APIC base skipped:
 * their writes have side effects a restore cannot undo exactly).
 */
static void msr_pattern_scan(u32 from, u32 to)
{
    for (u32 m = from; m < to; m++) {
        u32 lo, hi, rl, rh;
        if (m == 0x10 || m == 0x1B || try_rdmsr(m, &lo, &hi) >= 0)
            continue;
        if (try_wrmsr(m, 0xa5a5a5a5, 0x5a5a5a5a) >= 0) {
            puts("p ");
            putx(m);
            puts(" write faults\n");
            continue;
        }
        if (try_rdmsr(m, &rl, &rh) < 0 && (rl != lo || rh != hi)) {
            puts("p ");
            putx(m);
            putc(' ');
            put64(rh, rl);
            putc('\n');
        }
        try_wrmsr(m, lo, hi);
    }
}

/* WRMSR a value, then RDMSR: "msrw IDX VALUE -> ok|#GP, reads HI:LO|#GP". */
static void msr_write_read(u32 m, u32 hi, u32 lo)
{
    puts("msrw ");
    putx(m);
    putc(' ');
    put64(hi, lo);
    int w = try_wrmsr(m, lo, hi);
    puts(w < 0 ? " -> ok" : " -> #GP");
    u32 rl, rh;
    int r = try_rdmsr(m, &rl, &rh);
    puts(", reads ");
    if (r < 0)
        put64(rh, rl);
    else
        puts("#GP");
    putc('\n');
}

static void msr_writes(void)
{
    u32 lo, hi;
    /* EFER: each defined bit alone, then everything. */
    static const u32 efer_bits[] = { 0x1, 0x100, 0x400, 0x800, 0x1000, 0x2000, 0x4000, 0x8000, 0xffffffff };
    for (unsigned i = 0; i < sizeof efer_bits / sizeof efer_bits[0]; i++)
        msr_write_read(0xC0000080, 0, efer_bits[i]);
    msr_write_read(0xC0000080, 0xffffffff, 0xffffffff);
    msr_write_read(0xC0000080, 0, 0);
    /* IA32_PAT: valid types, a reserved type (2) in entry 0 and entry 7, bits above each type. */
    try_rdmsr(0x277, &lo, &hi);
    msr_write_read(0x277, 0x01020304, 0x05060700);
    msr_write_read(0x277, 0x00070406, 0x00070402);
    msr_write_read(0x277, 0x02070406, 0x00070406);
    msr_write_read(0x277, 0x00070406, 0x00070486);
    msr_write_read(0x277, hi, lo);
    /* IA32_MISC_ENABLE */
    try_rdmsr(0x1A0, &lo, &hi);
    msr_write_read(0x1A0, 0, 0);
    msr_write_read(0x1A0, 0xffffffff, 0xffffffff);
    msr_write_read(0x1A0, hi, lo);
    /* machine check: MCG_STATUS, MCG_CTL, MC0 and MC3 bank registers */
    static const u32 mc[] = { 0x17A, 0x17B, 0x400, 0x401, 0x402, 0x403, 0x40C, 0x40D, 0x40E, 0x40F };
    for (unsigned i = 0; i < sizeof mc / sizeof mc[0]; i++) {
        try_rdmsr(mc[i], &lo, &hi);
        msr_write_read(mc[i], 0, 1);
        msr_write_read(mc[i], 0xffffffff, 0xffffffff);
        msr_write_read(mc[i], 0, 0);
        msr_write_read(mc[i], hi, lo);
    }
    /* MCG_CAP is read-only */
    msr_write_read(0x179, 0, 0);
    /* the P6 performance counters and event selects */
    static const u32 perf[] = { 0xC1, 0xC2, 0x186, 0x187 };
    for (unsigned i = 0; i < sizeof perf / sizeof perf[0]; i++) {
        msr_write_read(perf[i], 0, 0x12345678);
        msr_write_read(perf[i], 0xffffffff, 0xffffffff);
        msr_write_read(perf[i], 0, 0);
    }
    /* MTRRs: reserved bits in a variable pair and in the default type; MTRRcap */
    msr_write_read(0x200, 0, 0x00000106);
    msr_write_read(0x200, 0, 0x00000186);
    msr_write_read(0x200, 0x10, 0x00000006);
    msr_write_read(0x201, 0, 0xfffff800);
    msr_write_read(0x201, 0, 0xfffff801);
    msr_write_read(0x200, 0, 0);
    msr_write_read(0x201, 0, 0);
    try_rdmsr(0x2FF, &lo, &hi);
    msr_write_read(0x2FF, 0, 0x00000c06);
    msr_write_read(0x2FF, 0, 0x00001c06);
    msr_write_read(0x2FF, hi, lo);
    try_rdmsr(0x250, &lo, &hi);
    msr_write_read(0x250, 0x02020202, 0x02020202);
    msr_write_read(0x250, hi, lo);
    msr_write_read(0xFE, 0, 0);
    /* IA32_APIC_BASE: reserved bits */
    try_rdmsr(0x1B, &lo, &hi);
    msr_write_read(0x1B, 0, lo | 0x1);
    msr_write_read(0x1B, 0, lo | 0x400);
    msr_write_read(0x1B, 0x1, lo);
    msr_write_read(0x1B, hi, lo);
    /* SYSENTER, microcode, platform ID, TSC_ADJUST, TSC_DEADLINE, DEBUGCTL */
    msr_write_read(0x174, 0x1, 0x12345678);
    msr_write_read(0x175, 0xffffffff, 0x87654321);
    msr_write_read(0x176, 0x1, 0x11223344);
    msr_write_read(0x174, 0, 0);
    msr_write_read(0x175, 0, 0);
    msr_write_read(0x176, 0, 0);
    msr_write_read(0x8B, 0, 0);
    msr_write_read(0x8B, 0x5, 0x1);
    msr_write_read(0x17, 0, 0);
    msr_write_read(0x6E1, 0, 0x12345678);
    msr_write_read(0x6E1, 1, 0);
    msr_write_read(0x6E1, 0, 0);
    msr_write_read(0xC0010117, 0, 0x12345000);
    msr_write_read(0xC0010117, 0xf, 0xfffff000);
    msr_write_read(0xC0010117, 0x10, 0);
    msr_write_read(0xC0010117, 0, 0x12345001);
    msr_write_read(0xC0010117, 0, 0);
    msr_write_read(0xD90, 0, 0x1000);
    msr_write_read(0xD90, 0, 0);
    msr_write_read(0x6E0, 0, 0x1000);
    msr_write_read(0x3B, 0, 0x1000);
    msr_write_read(0x1D9, 0, 1);
    msr_write_read(0x1D9, 0, 0);
}

static u32 apic_rd(u32 off);
static void apic_wr(u32 off, u32 v);

/* ---- instructions a CPU model may lack ------------------------------------------------------ */
#define TRY(n) extern int try_##n(void);
TRY(cmov) TRY(fcmov) TRY(fcomi) TRY(sysenter) TRY(sysexit) TRY(fxsave) TRY(cmpxchg8b) TRY(rdpmc) TRY(rdtsc)
TRY(emms) TRY(xorps) TRY(clflush) TRY(sfence) TRY(lfence) TRY(mfence) TRY(fisttp) TRY(popcnt) TRY(prefetch)
TRY(nopl) TRY(ud2) TRY(cpuid) TRY(rsm) TRY(prefetch_reg) TRY(hint18_4) TRY(prefetchw) TRY(prefetchw_reg)
#undef TRY
extern int try_cr4(u32 value, u32 *readback);

static void insn_line(const char *name, int v)
{
    puts("insn ");
    puts(name);
    if (v < 0) {
        puts(" ok\n");
        return;
    }
    puts(" vector ");
    puthex((u32)v, 2);
    if (v == 13 || v == 12 || v == 10 || v == 11) {
        puts(" error ");
        putx(fault_err);
    }
    putc('\n');
}

static void insn_probe(void)
{
    try_wrmsr(0x174, 0, 0); /* SYSENTER_CS = 0: SYSENTER and SYSEXIT raise #GP(0) where they exist */
#define T(n) insn_line(#n, try_##n())
    T(cmov); T(fcmov); T(fcomi); T(sysenter); T(sysexit); T(fxsave); T(cmpxchg8b); T(rdpmc); T(rdtsc);
    T(emms); T(xorps); T(clflush); T(sfence); T(lfence); T(mfence); T(fisttp); T(popcnt); T(prefetch);
    T(nopl); T(ud2); T(cpuid); T(rsm); T(prefetch_reg); T(hint18_4); T(prefetchw); T(prefetchw_reg);
#undef T
    /* CR4: each bit of 0-10 alone (PAE with paging off is harmless), read back. */
    for (u32 b = 0; b <= 10; b++) {
        u32 rb = 0;
        int v = try_cr4(1u << b, &rb);
        puts("cr4 bit ");
        puthex(b, 2);
        puts(v < 0 ? " ok" : " fault");
        puts(" reads ");
        putx(rb);
        putc('\n');
        try_cr4(0, &rb);
    }
}

/* ---- INIT IPI to self ------------------------------------------------------------------------------ */
extern char init_rm_stub[], init_rm_stub_end[], gdt_desc[];
#define INIT_STUB 0x8000u
#define INIT_SAVE ((volatile u32 *)(INIT_STUB + 0x400))

static inline u8 cmos_read(u8 r)
{
    outb(0x70, r);
    return inb(0x71);
}

static void rdmsr_line(const char *tag, u32 m)
{
    u32 lo, hi;
    int v = try_rdmsr(m, &lo, &hi);
    puts(tag);
    puts(" msr ");
    putx(m);
    putc(' ');
    if (v < 0)
        put64(hi, lo);
    else
        puts("#GP");
    putc('\n');
}

static const u32 init_msrs[] = { 0x174, 0x175, 0x176, 0x1a0, 0x1b, 0x200, 0x201, 0x2ff, 0x277, 0x17a, 0x17b, 0x401, 0x400, 0x6e1, 0xd90,
                                 0xc0000080, 0xc0000081, 0xc0010117 };
static const u32 init_apic_regs[] = { 0x20, 0x80, 0xd0, 0xe0, 0xf0, 0x100, 0x200, 0x280, 0x300, 0x310,
                                      0x320, 0x340, 0x350, 0x360, 0x370, 0x380, 0x3e0 };
static u32 tsc_before;

static u32 rdtsc_hi(void)
{
    u32 lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return hi;
}

static void init_dump(const char *tag)
{
    for (unsigned i = 0; i < sizeof init_msrs / sizeof init_msrs[0]; i++)
        rdmsr_line(tag, init_msrs[i]);
    for (unsigned i = 0; i < sizeof init_apic_regs / sizeof init_apic_regs[0]; i++) {
        puts(tag);
        puts(" apic ");
        puthex(init_apic_regs[i], 3);
        putc(' ');
        putx(apic_rd(init_apic_regs[i]));
        putc('\n');
    }
    u32 cr0, cr4;
    __asm__ volatile("mov %%cr0, %0; mov %%cr4, %1" : "=r"(cr0), "=r"(cr4));
    line(tag, cr0);
    line(tag, cr4);
}

void init_report(void)
{
    static const char *names[] = { "eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp", "eflags", "cr0", "cr4", "cr3" };
    idt_init();
    puts("init: resumed through 40:67\n");
    for (int i = 0; i < 12; i++) {
        puts("init: ");
        puts(names[i]);
        putc(' ');
        putx(INIT_SAVE[i]);
        putc('\n');
    }
    volatile u16 *seg = (volatile u16 *)(INIT_STUB + 0x430);
    static const char *sn[] = { "ds", "es", "ss", "fs", "gs", "cs" };
    for (int i = 0; i < 6; i++) {
        puts("init: ");
        puts(sn[i]);
        putc(' ');
        puthex(seg[i], 4);
        putc('\n');
    }
    line("init: dr7", INIT_SAVE[15]);
    line("init: port 92", *(volatile u8 *)(INIT_STUB + 0x470));
    volatile u16 *gd = (volatile u16 *)(INIT_STUB + 0x440);
    line("init: gdtr limit", gd[0]);
    line("init: gdtr base", gd[1] | (u32)gd[2] << 16);
    line("init: idtr limit", gd[4]);
    line("init: idtr base", gd[5] | (u32)gd[6] << 16);
    volatile u32 *env = (volatile u32 *)(INIT_STUB + 0x450);
    line("init: fpu cw", env[0] & 0xffff);
    line("init: fpu sw", env[1] & 0xffff);
    line("init: fpu tw", env[2] & 0xffff);
    line("init: cmos 0f", cmos_read(0x0f));
    puts(rdtsc_hi() >= tsc_before ? "init: tsc kept counting\n" : "init: tsc went back\n");
    init_dump("after");
    puts("done\n");
    exit_guest(0);
}

static void init_probe(void)
{
    u32 lo, hi;
    /* State that INIT may keep or reset. */
    try_wrmsr(0x174, 0x10, 0);
    try_wrmsr(0x175, 0x1234, 0);
    try_wrmsr(0x176, 0x5678, 0);
    try_wrmsr(0x1a0, 0x81, 0);
    try_wrmsr(0x200, 0x1234006, 0);
    try_wrmsr(0x201, 0xfffff800, 0);
    try_wrmsr(0x2ff, 0xc00, 0);
    try_wrmsr(0x277, 0x00070106, 0x00070106);
    try_wrmsr(0x17a, 0x1, 0);
    try_wrmsr(0xc0000081, 0x11112222, 0x33334444);
    try_wrmsr(0x17b, 0, 0);
    try_wrmsr(0x400, 0, 0);
    try_wrmsr(0x401, 0x55, 0);
    try_wrmsr(0x6e1, 0x66, 0);
    try_wrmsr(0xd90, 0x77000, 0);
    try_wrmsr(0xc0010117, 0x88000, 0);
    __asm__ volatile("fninit; fldpi; fldz" ::: "memory");
    u16 cw = 0x0272;
    __asm__ volatile("fldcw %0" : : "m"(cw));
    __asm__ volatile("mov %%cr4, %%eax; or $0x90, %%eax; mov %%eax, %%cr4" ::: "eax"); /* PSE, PGE */
    __asm__ volatile("mov %0, %%dr0; mov %1, %%dr7" : : "r"(0x1234u), "r"(0x401u));
    apic_wr(0xf0, 0x1ff);
    apic_wr(0x80, 0x20);
    apic_wr(0xd0, 0x01000000);
    apic_wr(0x320, 0x20031);
    apic_wr(0x380, 0x7fffffff);
    apic_wr(0x3e0, 0xb);
    init_dump("before");
    tsc_before = rdtsc_hi();
    /* The firmware's resume path: CMOS shutdown status 0x0A, far pointer at 40:67. */
    for (u32 i = 0; i < (u32)(init_rm_stub_end - init_rm_stub); i++)
        ((volatile u8 *)INIT_STUB)[i] = (u8)init_rm_stub[i];
    for (int i = 0; i < 6; i++)
        ((volatile u8 *)INIT_STUB)[0x3f0 + i] = (u8)gdt_desc[i];
    u32 bda = 0x467;
    __asm__("" : "+r"(bda)); /* a low address, not a null pointer: hide it from the compiler */
    ((volatile u16 *)bda)[0] = 0;
    ((volatile u16 *)bda)[1] = INIT_STUB >> 4;
    outb(0x70, 0x0f);
    outb(0x71, 0x0a);
    try_rdmsr(0x1b, &lo, &hi);
    puts("init: sending INIT to self\n");
    apic_wr(0x310, 0);
    apic_wr(0x300, 0x4500); /* INIT, level assert, physical destination APIC ID 0 */
    for (volatile u32 i = 0; i < 1000000; i++)
        ;
    puts("init: INIT was ignored\n");
}

/* ---- CPUID ------------------------------------------------------------------------------- */
static void cpuid_line(u32 leaf, u32 sub)
{
    u32 a, b, c, d;
    cpuid(leaf, sub, &a, &b, &c, &d);
    puts("cpuid ");
    putx(leaf);
    putc('.');
    puthex(sub, 2);
    putc(' ');
    putx(a);
    putc(' ');
    putx(b);
    putc(' ');
    putx(c);
    putc(' ');
    putx(d);
    putc('\n');
}

static void cpuid_dump(void)
{
    u32 max, xmax, b, c, d;
    cpuid(0, 0, &max, &b, &c, &d);
    for (u32 l = 0; l <= max + 2; l++)
        for (u32 s = 0; s < 3; s++)
            cpuid_line(l, s);
    for (u32 s = 3; s < 6; s++)
        cpuid_line(4, s);
    cpuid_line(0x20, 0);
    cpuid_line(0x3fffffff, 0);
    for (u32 l = 0x40000000; l < 0x40000004; l++)
        cpuid_line(l, 0);
    cpuid_line(0x40000100, 0);
    cpuid_line(0x7fffffff, 0);
    cpuid_line(0x8fffffff, 1);
    cpuid_line(0xffffffff, 2);
    cpuid(0x80000000, 0, &xmax, &b, &c, &d);
    if (xmax < 0x80000000 || xmax > 0x800000ff)
        xmax = 0x80000000;
    for (u32 l = 0x80000000; l <= xmax + 2; l++)
        cpuid_line(l, 0);
    cpuid_line(0xC0000000, 0);
    cpuid_line(0xC0000001, 0);
}

/* ---- local APIC: global disable and enable ------------------------------------------------- */
#define APIC ((volatile u32 *)0xFEE00000)
static u32 apic_rd(u32 off) { return APIC[off / 4]; }
static void apic_wr(u32 off, u32 v) { APIC[off / 4] = v; }

static void apic_dump(const char *tag)
{
    static const u32 regs[] = { 0x20, 0x30, 0x80, 0xa0, 0xd0, 0xe0, 0xf0, 0x100, 0x170, 0x200, 0x270, 0x280,
                                0x300, 0x310, 0x320, 0x330, 0x340, 0x350, 0x360, 0x370, 0x380, 0x3e0 };
    u32 lo, hi, a, b, c, d;
    try_rdmsr(0x1B, &lo, &hi);
    cpuid(1, 0, &a, &b, &c, &d);
    puts(tag);
    puts(": apic_base ");
    put64(hi, lo);
    puts(" cpuid.1:edx.apic ");
    putc('0' + ((d >> 9) & 1));
    putc('\n');
    for (unsigned i = 0; i < sizeof regs / sizeof regs[0]; i++) {
        puts(tag);
        puts(": reg ");
        puthex(regs[i], 3);
        putc(' ');
        putx(apic_rd(regs[i]));
        putc('\n');
    }
}

/* A self IPI (fixed, vector v): was it taken, did the delivery-status poll end? */
static void self_ipi(const char *tag, u32 v)
{
    u32 before = irq_count[v];
    apic_wr(0x310, 0);
    apic_wr(0x300, 0x40000 | v); /* shorthand self, fixed, edge */
    u32 polls = 0;
    while ((apic_rd(0x300) & 0x1000) && polls < 1000000)
        polls++;
    __asm__ volatile("sti; nop; nop; nop; nop; cli" ::: "memory");
    puts(tag);
    puts(": self ipi taken ");
    putx(irq_count[v] - before);
    puts(" icr ");
    putx(apic_rd(0x300));
    puts(polls >= 1000000 ? " poll never ends\n" : " poll ends\n");
}

/* The 8259 (IRQ 0 from the PIT at vector 0x20) through LINT0 or directly. */
static void pic_setup(void)
{
    outb(0x20, 0x11);
    outb(0x21, 0x20);
    outb(0x21, 0x04);
    outb(0x21, 0x01);
    outb(0xA0, 0x11);
    outb(0xA1, 0x28);
    outb(0xA1, 0x02);
    outb(0xA1, 0x01);
    outb(0x21, 0xFF); /* IRQ 0 only, unmasked while pic_seen() looks */
    outb(0xA1, 0xFF);
    outb(0x43, 0x34); /* channel 0, mode 2 */
    outb(0x40, 0x00);
    outb(0x40, 0x10); /* 4096: about 290 interrupts a second */
}

/*
 * IRQ 0 is unmasked at the 8259 only while we look, so no request is left pending in the
 * CPU between two looks (QEMU keeps a pending INTR across an LVT change).
 */
static void pic_seen(const char *tag)
{
    u32 before = irq_count[0x20];
    outb(0x21, 0xFE);
    __asm__ volatile("sti" ::: "memory");
    for (volatile u32 i = 0; i < 30000000 && irq_count[0x20] == before; i++)
        ;
    __asm__ volatile("cli" ::: "memory");
    outb(0x21, 0xFF);
    puts(tag);
    puts(irq_count[0x20] != before ? ": 8259 irq0 reaches the cpu\n" : ": 8259 irq0 does not reach the cpu\n");
}

static void apic_cycle(void)
{
    u32 lo, hi;
    pic_setup();
    apic_dump("reset");
    pic_seen("reset");
    /* Program registers, so that a reset of them shows. */
    apic_wr(0xf0, 0x1ff);
    apic_wr(0x80, 0x20);
    apic_wr(0xd0, 0x01000000);
    apic_wr(0xe0, 0x0fffffff);
    apic_wr(0x320, 0x20031);
    apic_wr(0x370, 0x32);
    apic_wr(0x3e0, 0x3);
    apic_wr(0x80, 0x00);
    apic_dump("programmed");
    self_ipi("programmed", 0x40);
    try_rdmsr(0x1B, &lo, &hi);
    line("disable: wrmsr fault", (u32)try_wrmsr(0x1B, lo & ~0x800u, hi));
    apic_dump("disabled");
    self_ipi("disabled", 0x41);
    apic_wr(0xf0, 0x1ff);
    apic_wr(0x80, 0x10);
    line("disabled: svr after write", apic_rd(0xf0));
    line("disabled: tpr after write", apic_rd(0x80));
    self_ipi("disabled-svr", 0x42);
    apic_wr(0x80, 0);
    pic_seen("disabled");
    apic_wr(0x350, 0x10700);
    line("disabled: lint0 after masking", apic_rd(0x350));
    pic_seen("disabled-lint0-masked");
    apic_wr(0xf0, 0xff);
    apic_wr(0x350, 0x700);
    line("disabled: lint0 written while software-disabled", apic_rd(0x350));
    pic_seen("disabled-svr-off");
    apic_wr(0xf0, 0x1ff);
    apic_wr(0x350, 0x8700);
    line("enable: wrmsr fault", (u32)try_wrmsr(0x1B, lo | 0x800u, hi));
    apic_dump("enabled");
    self_ipi("enabled", 0x43);
    pic_seen("enabled");
    apic_wr(0xf0, 0x1ff);
    self_ipi("enabled-svr", 0x44);
    apic_wr(0x350, 0x10700);
    pic_seen("enabled-lint0-masked");
    apic_wr(0x350, 0x700);
    pic_seen("enabled-lint0");
    /* The register page repeats through the APIC's 1 MiB window? */
    line("alias: fee01030", *(volatile u32 *)0xFEE01030);
    line("alias: feeff0f0", *(volatile u32 *)0xFEEFF0F0);
    line("alias: fef00030", *(volatile u32 *)0xFEF00030);
    /* Moving the base while enabled, then back. */
    line("move: wrmsr fault", (u32)try_wrmsr(0x1B, (lo & 0xfff) | 0xfed00000u, hi));
    try_rdmsr(0x1B, &lo, &hi);
    line("moved: apic_base", lo);
    line("moved: old page id", apic_rd(0x20));
    line("moved: old page svr", apic_rd(0xf0));
    line("moved: new page svr", *(volatile u32 *)0xFED000F0);
    line("back: wrmsr fault", (u32)try_wrmsr(0x1B, (lo & 0xfff) | 0xfee00000u, hi));
}

/* Register bits as stored: all ones written, read back; ESR; illegal vectors; TMR of IPIs. */
static void apic_regs(void)
{
    static const u32 regs[] = { 0x20, 0x80, 0xd0, 0xe0, 0xf0, 0x280, 0x310, 0x320, 0x330, 0x340,
                                0x350, 0x360, 0x370, 0x380, 0x3e0 };
    apic_wr(0xf0, 0x1ff);
    for (unsigned i = 0; i < sizeof regs / sizeof regs[0]; i++) {
        u32 old = apic_rd(regs[i]);
        apic_wr(regs[i], 0xffffffff);
        puts("apicreg ");
        puthex(regs[i], 3);
        puts(" ones ");
        putx(apic_rd(regs[i]));
        apic_wr(regs[i], 0);
        puts(" zero ");
        putx(apic_rd(regs[i]));
        putc('\n');
        apic_wr(regs[i], regs[i] == 0xf0 ? 0x1ff : regs[i] == 0xe0 ? 0xffffffff : (regs[i] >= 0x320 && regs[i] <= 0x370) ? 0x10000 : old);
    }
    apic_wr(0xf0, 0x1ff);
    apic_wr(0x80, 0);
    /* ESR: errors, write, read */
    line("esr at start", apic_rd(0x280));
    apic_wr(0x370, 0x61); /* error LVT: vector 0x61 */
    apic_wr(0x280, 0);
    line("esr after write", apic_rd(0x280));
    u32 before = irq_count[0x61];
    apic_wr(0x310, 0);
    apic_wr(0x300, 0x40000 | 0x05); /* fixed self IPI, illegal vector 5 */
    low_vector_ok = 1;
    __asm__ volatile("sti; nop; nop; nop; cli" ::: "memory");
    low_vector_ok = 0;
    line("illegal vector: taken", irq_count[5]);
    line("illegal vector: irr word 0", apic_rd(0x200));
    line("illegal vector: error interrupts", irq_count[0x61] - before);
    line("illegal vector: esr", apic_rd(0x280));
    apic_wr(0x280, 0);
    line("illegal vector: esr after write", apic_rd(0x280));
    apic_wr(0x280, 0);
    line("illegal vector: esr after 2nd write", apic_rd(0x280));
    before = irq_count[0x61];
    (void)apic_rd(0x3f0); /* an illegal register */
    __asm__ volatile("sti; nop; nop; nop; cli" ::: "memory");
    line("illegal register: error interrupts", irq_count[0x61] - before);
    line("illegal register: esr", apic_rd(0x280));
    apic_wr(0x280, 0);
    line("illegal register: esr after write", apic_rd(0x280));
    /* a level-triggered fixed self IPI: TMR? */
    __asm__ volatile("cli");
    apic_wr(0x80, 0xf0); /* hold it in the IRR */
    apic_wr(0x300, 0x40000 | 0xc000 | 0x45);
    line("level ipi: tmr word 2", apic_rd(0x180 + 0x20));
    line("level ipi: irr word 2", apic_rd(0x200 + 0x20));
    line("level ipi: icr", apic_rd(0x300));
    apic_wr(0x80, 0);
    __asm__ volatile("sti; nop; nop; nop; cli" ::: "memory");
    line("level ipi: taken", irq_count[0x45]);
    line("level ipi: tmr after eoi", apic_rd(0x180 + 0x20));
    /* timer mode 2 (TSC deadline) and 3: what reads back, does a count run? */
    apic_wr(0x3e0, 0xb);
    apic_wr(0x320, 0x40000 | 0x10000 | 0x62);
    line("timer mode 2: lvt", apic_rd(0x320));
    apic_wr(0x380, 0x7fffffff);
    line("timer mode 2: counting", apic_rd(0x390) != 0 && apic_rd(0x390) != 0x7fffffff);
    apic_wr(0x320, 0x60000 | 0x10000 | 0x62);
    line("timer mode 3: lvt", apic_rd(0x320));
    apic_wr(0x380, 0);
}

/*
 * A global disable survives a machine reset? Phase 0 (CMOS 0x6f, a byte nobody uses, not A5h): disable, mark CMOS,
 * reset through 0xCF9. Phase 1 (after the firmware ran again): report and clear the mark.
 */
static void apic_reset_probe(void)
{
    u32 lo, hi, a, b, c, d;
    outb(0x70, 0x6f);
    if (inb(0x71) != 0xa5) {
        try_rdmsr(0x1B, &lo, &hi);
        try_wrmsr(0x1B, lo & ~0x800u, hi);
        outb(0x70, 0x6f);
        outb(0x71, 0xa5);
        puts("apicreset: disabled, resetting\n");
        outb(0xCF9, 0x02);
        outb(0xCF9, 0x06);
        for (;;)
            ;
    }
    outb(0x70, 0x6f);
    outb(0x71, 0);
    try_rdmsr(0x1B, &lo, &hi);
    cpuid(1, 0, &a, &b, &c, &d);
    puts("apicreset: after reset apic_base ");
    put64(hi, lo);
    puts(" cpuid.1:edx.apic ");
    putc('0' + ((d >> 9) & 1));
    putc('\n');
    line("apicreset: svr", apic_rd(0xf0));
    line("apicreset: lint0", apic_rd(0x350));
}

/*
 * INIT with CMOS shutdown status 0: the firmware's resume path reboots the machine. Phase 0
 * (CMOS 0x6f not 5Ah): mark, send INIT; phase 1 (booted again): report.
 */
static void init_reboot_probe(void)
{
    outb(0x70, 0x6f);
    if (inb(0x71) != 0x5a) {
        outb(0x70, 0x6f);
        outb(0x71, 0x5a);
        outb(0x70, 0x0f);
        outb(0x71, 0x00);
        puts("initreboot: sending INIT with shutdown status 0\n");
        apic_wr(0x310, 0);
        apic_wr(0x300, 0x4500);
        for (volatile u32 i = 0; i < 1000000; i++)
            ;
        puts("initreboot: INIT was ignored\n");
        return;
    }
    outb(0x70, 0x6f);
    outb(0x71, 0);
    puts("initreboot: the machine booted again\n");
}

/* ---- unassigned memory and ports ------------------------------------------------------------ */
static void unassigned(void)
{
    static const u32 addrs[] = { 0x10000000, 0x7fff0000, 0xc0000000, 0xe0000000, 0xfeb00000, 0xfef00000 };
    for (unsigned i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
        volatile u8 *p8 = (volatile u8 *)addrs[i];
        volatile u16 *p16 = (volatile u16 *)(addrs[i] + 0x10);
        volatile u32 *p32 = (volatile u32 *)(addrs[i] + 0x20);
        puts("mem ");
        putx(addrs[i]);
        puts(" b ");
        puthex(*p8, 2);
        puts(" w ");
        puthex(*p16, 4);
        puts(" d ");
        putx(*p32);
        *p32 = 0x12345678;
        *p8 = 0x9a;
        puts(" after write ");
        putx(*p32);
        puthex(*p8, 2);
        putc('\n');
    }
    static const u16 ports[] = { 0x100, 0x104, 0x110, 0x200, 0x204, 0xe0, 0x300, 0x5678, 0xfff0 };
    for (unsigned i = 0; i < sizeof ports / sizeof ports[0]; i++) {
        u16 p = ports[i];
        puts("port ");
        puthex(p, 4);
        puts(" b ");
        puthex(inb(p), 2);
        puts(" w ");
        puthex(inw(p), 4);
        puts(" d ");
        putx(inl(p));
        outb(p, 0x5a);
        outw(p, 0x5a5a);
        outl(p, 0x5a5a5a5a);
        puts(" after write ");
        putx(inl(p));
        putc('\n');
    }
}

/* ---- entry ------------------------------------------------------------------------------------ */
struct multiboot_info {
    u32 flags, mem_lower, mem_upper, boot_device, cmdline;
};

void main(struct multiboot_info *mbi)
{
    if (mbi && (mbi->flags & 4) && mbi->cmdline)
        cmdline = (const char *)mbi->cmdline;
    idt_init();
    puts("cpu-probe\n");
    if (has_word("cpuid"))
        cpuid_dump();
    if (has_word("msr")) {
        msr_scan(0, 0x1000);
        msr_scan(0x40000000, 0x40000100);
        msr_scan(0xC0000000, 0xC0000200);
        msr_scan(0xC0010000, 0xC0010200);
    }
    if (has_word("msrp")) {
        msr_pattern_scan(0, 0x1000);
        msr_pattern_scan(0xC0000000, 0xC0000200);
        msr_pattern_scan(0xC0010000, 0xC0010200);
    }
    if (has_word("insn"))
        insn_probe();
    if (has_word("init"))
        init_probe();
    if (has_word("msrw"))
        msr_writes();
    if (has_word("apic"))
        apic_cycle();
    if (has_word("initreboot"))
        init_reboot_probe();
    if (has_word("apicregs"))
        apic_regs();
    if (has_word("apicreset"))
        apic_reset_probe();
    if (has_word("unassigned"))
        unassigned();
    puts("done\n");
    exit_guest(0);
}
