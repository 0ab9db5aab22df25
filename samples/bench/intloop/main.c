/*
 * bench intloop: a CPU-bound integer ALU loop (add, sub, xor, and, or,
 * shifts, rotates, lea, imul, compare-and-branch), no memory traffic in the
 * inner loop. Prints a checksum of the final register values.
 */
#include "lib.h"

#ifndef BENCH_NAME
#define BENCH_NAME "intloop"
#endif

#define ITERATIONS 20000000u

static inline u32 rol(u32 x, int n) { return (x << n) | (x >> (32 - n)); }

__attribute__((noinline)) u32 intloop(u32 n)
{
    u32 a = 0x01234567, b = 0x89abcdef, c = 0xdeadbeef, d = 0x0badf00d;
    for (u32 i = 0; i < n; i++) {
        a += b ^ i;
        b = rol(b, 3) + d;
        c -= a & 0xff00ff;
        d ^= c + (i << 2);
        a = a * 0x9e3779b1u + (d | 1);
        b ^= a >> 7;
    }
    return a ^ rol(b, 8) ^ rol(c, 16) ^ rol(d, 24);
}

#ifdef WITH_TIMER
static volatile u32 ticks;

static void timer_irq(struct irq_frame *f)
{
    (void)f;
    ticks++;
    pic_eoi(0);
}
#endif

int main(void)
{
#ifdef WITH_TIMER
    pic_remap();
    set_handler(IRQ_VECTOR(0), timer_irq);
    pit_init_periodic(1193); /* 1000 Hz */
    pic_unmask(0);
    sti();
#endif
    dbg_puts(BENCH_NAME ": start\n");
    u32 r = intloop(ITERATIONS);
#ifdef WITH_TIMER
    cli();
    u32 t = ticks;
#endif
    kprintf(BENCH_NAME ": result %08x\n", r);
#ifdef WITH_TIMER
    kprintf(BENCH_NAME ": ticks %u\n", t);
#endif
    dbg_puts(BENCH_NAME ": done\n");
    exit_qemu(0);
}
