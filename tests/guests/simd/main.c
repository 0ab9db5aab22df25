/*
 * The SIMD guest (Multiboot v1): "models" prints which SIMD instructions the CPU model
 * has (the vector each raises), "probe" prints single MMX/SSE/SSE2 instructions on edge
 * operands (probe.c), "work" runs a C program compiled with gcc -m32 -msse2 -O2 (work.c:
 * auto-vectorised loops, double maths). Output on the debug console (port 0xE9), then
 * exit through isa-debug-exit (port 0xF4). Run the same way under QEMU and bmbt-dbg:
 *
 *   qemu-system-i386 -cpu qemu32 -kernel simd.elf -append "probe work" \
 *       -debugcon file:/dev/stdout -display none -device isa-debug-exit,iobase=0xf4,iosize=4
 */
#include "guest.h"

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }

void putc(char c) { outb(0xE9, (u8)c); }
void puts(const char *s)
{
    while (*s)
        putc(*s++);
}
void puthex(u32 v, int digits)
{
    for (int i = (digits - 1) * 4; i >= 0; i -= 4)
        putc("0123456789abcdef"[(v >> i) & 15]);
}
void putdec(int v)
{
    char b[12];
    int n = 0;
    u32 u = v < 0 ? -(u32)v : (u32)v;
    do {
        b[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        putc('-');
    while (n)
        putc(b[--n]);
}

u32 get_cr0(void)
{
    u32 v;
    __asm__ volatile("movl %%cr0, %0" : "=r"(v));
    return v;
}
void set_cr0(u32 v) { __asm__ volatile("movl %0, %%cr0" : : "r"(v)); }
void set_cr4(u32 v) { __asm__ volatile("movl %0, %%cr4" : : "r"(v)); }

__asm__(".text\n.globl p_dump_init\np_dump_init:\n pushl $0x1f80\n ldmxcsr (%esp)\n addl $4, %esp\n movups (%ebx), %xmm0\n ret\n");

struct frame {
    u32 edi, esi, ebp, esp, ebx, edx, ecx, eax;
    u32 vector, error, eip, cs, eflags;
};

extern char isr_stubs[];
volatile u32 fault_resume;
volatile int fault_vec;

void isr_dispatch(struct frame *f)
{
    if (fault_resume) {
        fault_vec = (int)f->vector;
        f->eip = fault_resume;
        return;
    }
    puts("unexpected exception ");
    puthex(f->vector, 2);
    puts(" at ");
    puthex(f->eip, 8);
    putc('\n');
    outb(0xF4, 1);
    for (;;)
        __asm__ volatile("cli; hlt");
}

static u32 idt[64];

static void idt_init(void)
{
    for (u32 v = 0; v < 32; v++) {
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

struct mb_info {
    u32 flags, mem_lower, mem_upper, boot_device, cmdline;
};

static int has_word(const char *cmd, const char *w)
{
    for (const char *p = cmd; *p; p++) {
        const char *a = p, *b = w;
        while (*b && *a == *b) {
            a++;
            b++;
        }
        if (!*b && (*a == 0 || *a == ' ') && (p == cmd || p[-1] == ' '))
            return 1;
    }
    return 0;
}

void main(struct mb_info *mb)
{
    const char *cmd = (mb->flags & 4) ? (const char *)mb->cmdline : "";
    idt_init();
    /* CR0: MP and NE, no EM, no TS; CR4: OSFXSR and OSXMMEXCPT */
    set_cr0((get_cr0() & ~0xcu) | 0x22u);
    set_cr4(0x600);
    if (has_word(cmd, "models"))
        models_main();
    if (has_word(cmd, "probe"))
        probe_main();
    if (has_word(cmd, "work"))
        work_main();
    puts("done\n");
    outb(0xF4, 0);
}
