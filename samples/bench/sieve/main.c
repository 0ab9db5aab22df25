/*
 * bench sieve: the sieve of Eratosthenes over 262144 byte flags, repeated.
 * Byte stores with a stride, a word-clearing loop and a scanning loop.
 * With WITH_PAGING (bench sieve-paging) the same code runs with paging on:
 * the first 4 MiB identity mapped with 4 KiB pages.
 */
#include "lib.h"

#ifndef BENCH_NAME
#define BENCH_NAME "sieve"
#endif

#define N (1u << 18)
#define PASSES 100

static u8 composite[N] __attribute__((aligned(4096)));

static u32 sieve_pass(u32 *count_out)
{
    u32 *w = (u32 *)composite;
    for (u32 i = 0; i < N / 4; i++)
        w[i] = 0;
    for (u32 p = 2; p * p < N; p++) {
        if (composite[p])
            continue;
        for (u32 m = p * p; m < N; m += p)
            composite[m] = 1;
    }
    u32 count = 0, sum = 0;
    for (u32 i = 2; i < N; i++) {
        if (!composite[i]) {
            count++;
            sum += i;
        }
    }
    *count_out = count;
    return sum;
}

#ifdef WITH_PAGING
static u32 page_dir[1024] __attribute__((aligned(4096)));
static u32 page_table[1024] __attribute__((aligned(4096)));

static void paging_on(void)
{
    for (u32 i = 0; i < 1024; i++)
        page_table[i] = (i << 12) | PTE_P | PTE_W;
    page_table[0] = 0; /* leave page 0 unmapped: catches null pointers */
    page_dir[0] = (u32)page_table | PTE_P | PTE_W;
    write_cr3((u32)page_dir);
    write_cr0(read_cr0() | CR0_PG | CR0_WP);
}
#endif

int main(void)
{
#ifdef WITH_PAGING
    paging_on();
#endif
    dbg_puts(BENCH_NAME ": start\n");
    u32 h = 0x811c9dc5, count = 0;
    for (u32 pass = 0; pass < PASSES; pass++) {
        u32 sum = sieve_pass(&count);
        h = ((h << 5) | (h >> 27)) ^ sum ^ (count + pass);
    }
    if (count != 23000) { /* pi(262144) */
        kprintf(BENCH_NAME ": wrong prime count %u\n", count);
        exit_qemu(1);
    }
    kprintf(BENCH_NAME ": result %08x\n", h);
    dbg_puts(BENCH_NAME ": done\n");
    exit_qemu(0);
}
