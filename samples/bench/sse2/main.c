/*
 * bench sse2: code compiled with gcc -msse2 -mfpmath=sse -O3 (work.c): vectorised
 * single-precision and integer loops and scalar double maths, as compilers emit them for
 * -march=pentium4. Needs a CPU with SSE2 (run with --cpu qemu32, QEMU's default); this
 * part, compiled without SSE, turns the SSE unit on (CR4.OSFXSR, OSXMMEXCPT) first.
 */
#include "lib.h"

extern u32 sse2_work(void);

int main(void)
{
    dbg_puts("sse2: start\n");
    u32 cr4;
    __asm__ volatile("movl %%cr4, %0" : "=r"(cr4));
    __asm__ volatile("movl %0, %%cr4" : : "r"(cr4 | 0x600u));
    u32 h = sse2_work();
    kprintf("sse2: result %08x\n", h);
    dbg_puts("sse2: done\n");
    exit_qemu(0);
}
