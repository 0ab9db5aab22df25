/*
 * bench fib: deeply recursive calls and returns (call/ret, push/pop,
 * stack-relative loads). Computes fib(n) for n = 0..33 with the naive
 * recursion in fib.S and mixes the results into a checksum.
 */
#include "lib.h"

extern u32 fib(u32 n);

int main(void)
{
    dbg_puts("fib: start\n");
    u32 h = 0;
    u32 last = 0;
    for (u32 n = 0; n <= 33; n++) {
        u32 f = fib(n);
        h = ((h << 7) | (h >> 25)) ^ f;
        last = f;
    }
    if (last != 3524578u) {
        kprintf("fib: wrong fib(33) = %u\n", last);
        exit_qemu(1);
    }
    kprintf("fib: result %08x\n", h);
    dbg_puts("fib: done\n");
    exit_qemu(0);
}
