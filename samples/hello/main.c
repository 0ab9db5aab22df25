/*
 * hello: the smallest sample. Prints a greeting and a computed line on the
 * serial port, one line on debugcon, and exits through isa-debug-exit.
 */
#include "lib.h"

/* A little integer work so the second line is computed, not constant:
 * the sum of 1..1000 and an FNV-1a hash of the numbers 0..255. */
static u32 fnv1a(void)
{
    u32 h = 2166136261u;
    for (u32 i = 0; i < 256; i++) {
        h ^= i;
        h *= 16777619u;
    }
    return h;
}

int main(void)
{
    u32 sum = 0;
    for (u32 i = 1; i <= 1000; i++)
        sum += i;

    serial_puts("Hello from bmbt-dbg!\n");
    kprintf("sum(1..1000) = %u, fnv1a(0..255) = %08x\n", sum, fnv1a());
    dbg_printf("hello: multiboot magic %08x\n", mb_magic);
    exit_qemu(0);
}
