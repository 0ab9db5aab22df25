/* Self-modifying helper for the demo: every call first bumps the immediate
 * of the very next instruction by 7 (a store into the block that is
 * executing), so it returns 7, 14, 21, ... */
    .section .smc, "awx"
    .code32
    .globl demo_smc_value, demo_smc_imm
    .type demo_smc_value, @function
demo_smc_value:
    addl $7, demo_smc_imm
    .byte 0xB8                  /* movl $imm32, %eax */
demo_smc_imm:
    .long 0
    ret
    .size demo_smc_value, . - demo_smc_value
