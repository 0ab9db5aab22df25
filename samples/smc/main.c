/*
 * smc: self-modifying code. Every result printed is what a real P6-class
 * CPU gives (and QEMU): a store into code is seen by the very next fetch of
 * that code, even inside the block that is executing.
 */
#include "lib.h"

extern u32 smc_get_value(void);
extern u8 smc_get_value_imm[];
extern u32 smc_same_block(void);
extern u32 smc_later_in_block(void);
extern s32 smc_op(s32 a, s32 b);
extern u8 smc_op_insn[];
extern u32 smc_neighbour(u32 n);
extern const u8 template_a[], template_a_end[], template_b[], template_b_end[];

static u8 code_buffer[64] __attribute__((aligned(16)));

static void patch_imm(u32 v)
{
    *(volatile u32 *)smc_get_value_imm = v;
}

int main(void)
{
    dbg_puts("smc: start\n");

    /* 1. patch the immediate of a function between calls */
    kprintf("smc: get_value = %08x\n", smc_get_value());
    for (u32 i = 2; i <= 5; i++) {
        patch_imm(i * 0x11111111u);
        kprintf("smc: patched imm, get_value = %08x\n", smc_get_value());
    }

    /* 2. a hot loop calling it, patched every 100 calls */
    u32 sum = 0;
    for (u32 i = 0; i < 1000; i++) {
        if (i % 100 == 0)
            patch_imm(i);
        sum += smc_get_value();
    }
    kprintf("smc: hot loop sum = %u\n", sum); /* 100 * (0+100+...+900) = 450000 */

    /* 3. stores into the executing block */
    kprintf("smc: same-block patch sum = %u\n", smc_same_block());
    kprintf("smc: later-in-block patch = %u\n", smc_later_in_block());
    kprintf("smc: again = %u\n", smc_later_in_block());

    /* 4. patch an opcode: add <-> sub */
    kprintf("smc: op(7, 5) = %d\n", smc_op(7, 5));
    *(volatile u8 *)smc_op_insn = 0x29;
    kprintf("smc: op patched to sub: op(7, 5) = %d\n", smc_op(7, 5));
    *(volatile u8 *)smc_op_insn = 0x01;
    kprintf("smc: op patched to add: op(7, 5) = %d\n", smc_op(7, 5));

    /* 5. a code buffer reused for different code (like a JIT) */
    u32 (*fa)(void) = (u32 (*)(void))code_buffer;
    u32 (*fb)(u32) = (u32 (*)(u32))code_buffer;
    memcpy(code_buffer, template_a, (size_t)(template_a_end - template_a));
    u32 ra = fa();
    memcpy(code_buffer, template_b, (size_t)(template_b_end - template_b));
    u32 rb = fb(0x11);
    memcpy(code_buffer, template_a, (size_t)(template_a_end - template_a));
    u32 ra2 = fa();
    kprintf("smc: code buffer: a = %x, b(0x11) = %x, a = %x\n", ra, rb, ra2);

    /* 6. data stores next to code */
    kprintf("smc: neighbour counter = %u\n", smc_neighbour(1000));

    kprintf("smc: done\n");
    dbg_puts("smc: done\n");
    exit_qemu(0);
}
