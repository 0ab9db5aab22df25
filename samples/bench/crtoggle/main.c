/*
 * bench crtoggle: what kernels do around text patching and TLB flushes, in a loop.
 * With paging on (4 MiB identity mapped, global 4 KiB pages, one page read-only),
 * each iteration clears CR0.WP, writes the read-only page, sets WP again, then
 * toggles CR4.PGE off and on (the architectural way to flush global TLB entries)
 * and reloads CR3. Linux's text_poke and __flush_tlb_global do exactly these writes;
 * an emulator that throws away translated code or its whole TLB on each of them is
 * slow here (issue 9: "make CR0/CR4 writes cheap").
 */
#include "lib.h"

#define ITERATIONS 200000u
#define CR4_PGE 0x00000080u
#define PTE_G 0x100u

static u32 page_dir[1024] __attribute__((aligned(4096)));
static u32 page_table[1024] __attribute__((aligned(4096)));
static volatile u32 ro_page[1024] __attribute__((aligned(4096)));

static void paging_on(void)
{
    for (u32 i = 0; i < 1024; i++)
        page_table[i] = (i << 12) | PTE_P | PTE_W | PTE_G;
    page_table[0] = 0;
    page_table[(u32)ro_page >> 12] &= ~PTE_W;
    page_dir[0] = (u32)page_table | PTE_P | PTE_W;
    write_cr3((u32)page_dir);
    write_cr4(read_cr4() | CR4_PGE);
    write_cr0(read_cr0() | CR0_PG | CR0_WP);
}

__attribute__((noinline)) u32 crtoggle(u32 n)
{
    u32 cr0 = read_cr0(), cr4 = read_cr4(), cr3 = read_cr3();
    u32 h = 0x811c9dc5;
    for (u32 i = 0; i < n; i++) {
        write_cr0(cr0 & ~CR0_WP);
        ro_page[i & 1023] = h;
        write_cr0(cr0);
        write_cr4(cr4 & ~CR4_PGE);
        write_cr4(cr4);
        write_cr3(cr3);
        h = ((h << 5) | (h >> 27)) ^ ro_page[(i * 7) & 1023] ^ i;
    }
    return h;
}

int main(void)
{
    paging_on();
    dbg_puts("crtoggle: start\n");
    u32 r = crtoggle(ITERATIONS);
    kprintf("crtoggle: result %08x\n", r);
    dbg_puts("crtoggle: done\n");
    exit_qemu(0);
}
