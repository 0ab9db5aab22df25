/*
 * paging: 2-level i386 paging with 4 KiB pages and one 4 MiB PSE page.
 *
 *   0x00000000-0x003FFFFF  identity, 4 KiB pages (one page table)
 *   0x00400000-0x007FFFFF  identity, one 4 MiB page (CR4.PSE)
 *   everything else        not present
 *
 * With CR0.PG|WP on, it writes to and reads from unmapped addresses; the
 * #PF handler prints CR2 and the error code, maps a fresh frame there and
 * returns, so the faulting instruction is retried and succeeds. Then it
 * writes to a read-only page (error code P|W); the handler makes the page
 * writable and the write is retried.
 */
#include "lib.h"

#define PAGE 4096u

static u32 page_dir[1024] __attribute__((aligned(PAGE)));
static u32 low_pt[1024] __attribute__((aligned(PAGE)));
/* pool for page tables and frames handed out by the fault handler */
#define POOL_PAGES 6
static u8 pool[POOL_PAGES][PAGE] __attribute__((aligned(PAGE)));
static u32 pool_used;

static u32 faults;

static u32 alloc_page(void)
{
    if (pool_used == POOL_PAGES) {
        kprintf("out of pages\n");
        exit_qemu(0x7e);
    }
    u8 *p = pool[pool_used++];
    memset(p, 0, PAGE);
    return (u32)p; /* identity mapped: virtual == physical */
}

static u32 *pte_for(u32 va, int create)
{
    u32 *pde = &page_dir[va >> 22];
    if (!(*pde & PTE_P)) {
        if (!create)
            return NULL;
        *pde = alloc_page() | PTE_P | PTE_W;
    }
    u32 *pt = (u32 *)(*pde & ~0xFFFu);
    return &pt[(va >> 12) & 1023];
}

static void page_fault(struct irq_frame *f)
{
    u32 cr2 = read_cr2();
    u32 err = f->error_code;
    faults++;
    kprintf("  #PF at eip %p: cr2=%08x err=%x (%s, %s)\n", (void *)f->eip, cr2, err,
            (err & 1) ? "protection" : "not present", (err & 2) ? "write" : "read");
    u32 *pte = pte_for(cr2, 1);
    if (!(err & 1)) {
        u32 frame = alloc_page();
        *pte = frame | PTE_P | PTE_W;
        kprintf("  mapped %08x -> frame %08x\n", cr2 & ~0xFFFu, frame);
    } else if (err & 2) {
        *pte |= PTE_W;
        kprintf("  made %08x writable\n", cr2 & ~0xFFFu);
    } else {
        kprintf("unexpected fault\n");
        exit_qemu(0x7e);
    }
    invlpg(cr2);
}

int main(void)
{
    set_handler(14, page_fault);

    for (u32 i = 0; i < 1024; i++)
        low_pt[i] = (i * PAGE) | PTE_P | PTE_W;
    page_dir[0] = (u32)low_pt | PTE_P | PTE_W;
    page_dir[1] = 0x00400000u | PDE_PS | PTE_P | PTE_W;

    write_cr4(read_cr4() | CR4_PSE);
    write_cr3((u32)page_dir);
    write_cr0(read_cr0() | CR0_PG | CR0_WP);
    /* only the bits we set: CR0.ET and friends differ between CPUs/loaders */
    kprintf("paging on: cr0&(PG|WP|PE)=%08x cr3=%08x cr4=%08x\n",
            read_cr0() & (CR0_PG | CR0_WP | CR0_PE), read_cr3(), read_cr4());
    dbg_puts("paging: enabled\n");

    /* the 4 MiB page */
    volatile u32 *big = (volatile u32 *)0x00500000u;
    *big = 0xB16B00B5u;
    kprintf("4 MiB page: [%08x] = %08x\n", (u32)big, *big);

    /* 1. write to an unmapped address: not-present write fault, err = 2 */
    volatile u32 *a = (volatile u32 *)0x40000000u;
    kprintf("write %08x:\n", (u32)a);
    *a = 0x12345678u;
    kprintf("[%08x] = %08x\n", (u32)a, *a);

    /* 2. read from an unmapped address: not-present read fault, err = 0 */
    volatile u32 *b = (volatile u32 *)0x80001234u;
    kprintf("read %08x:\n", (u32)b);
    u32 v = *b;
    kprintf("[%08x] = %08x\n", (u32)b, v);

    /* 3. alias the frame behind 0x40000000 read-only at 0x40001000 */
    u32 frame = *pte_for(0x40000000u, 1) & ~0xFFFu;
    *pte_for(0x40001000u, 1) = frame | PTE_P;
    volatile u32 *ro = (volatile u32 *)0x40001000u;
    kprintf("read-only alias %08x reads %08x\n", (u32)ro, *ro);
    kprintf("write %08x:\n", (u32)ro);
    *ro = 0xCAFEF00Du;
    kprintf("[%08x] = %08x, [%08x] = %08x\n", (u32)ro, *ro, (u32)a, *a);

    kprintf("page faults: %u\n", faults);
    dbg_printf("paging: %u faults\n", faults);
    exit_qemu(faults == 3 ? 0 : 1);
}
