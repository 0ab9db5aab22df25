/*
 * Self-modifying code for the smc sample. All of it lives in a writable
 * and executable section (.smc) that the linker puts into .data (paging is off,
 * so every byte of RAM is executable).
 */
    .section .smc, "awx"
    .code32

/* u32 smc_get_value(void): returns the immediate of its first instruction. */
    .globl smc_get_value, smc_get_value_imm
    .type smc_get_value, @function
smc_get_value:
    .byte 0xB8                  /* movl $imm32, %eax */
smc_get_value_imm:
    .long 0x11111111
    ret
    .size smc_get_value, . - smc_get_value

/*
 * u32 smc_same_block(void): a loop whose body patches the instruction right
 * after the store, inside the block that is executing. Iteration i stores i
 * into the imm8 of "addl $imm8, %eax" and then executes that add, so the
 * result is 1 + 2 + ... + 10 = 55. A CPU (or translator) that runs the stale
 * bytes would add the previous iteration's value instead: 0 + 1 + ... + 9 = 45.
 */
    .globl smc_same_block
    .type smc_same_block, @function
smc_same_block:
    xorl %eax, %eax
    movl $1, %ecx
1:  movb %cl, 2f+2              /* patch the imm8 below */
2:  .byte 0x83, 0xC0, 0x00      /* addl $0x00, %eax */
    incl %ecx
    cmpl $11, %ecx
    jne 1b
    ret
    .size smc_same_block, . - smc_same_block

/*
 * u32 smc_later_in_block(void): the store patches an instruction three
 * instructions further down the same straight-line block. It turns
 * "movl $1, %edx" into "movl $7, %edx"; returns eax + edx = 2 + 7 = 9
 * (stale code: 3).
 */
    .globl smc_later_in_block
    .type smc_later_in_block, @function
smc_later_in_block:
    movb $7, 3f+1               /* imm32 low byte of the movl below */
    movl $1, %eax
    addl $1, %eax
3:  movl $1, %edx
    addl %edx, %eax
    movb $1, 3b+1               /* restore, so the next call patches again */
    ret
    .size smc_later_in_block, . - smc_later_in_block

/* s32 smc_op(s32 a, s32 b): a + b, or a - b once the opcode is patched. */
    .globl smc_op, smc_op_insn
    .type smc_op, @function
smc_op:
    movl 4(%esp), %eax
    movl 8(%esp), %ecx
smc_op_insn:
    addl %ecx, %eax             /* 01 C8; "subl %ecx, %eax" is 29 C8 */
    ret
    .size smc_op, . - smc_op

/*
 * u32 smc_neighbour(u32 n): a loop that increments a counter living in the
 * same page as (and right next to) the loop's own code. Nothing executable
 * changes, but every store lands on a page that holds translated code.
 */
    .globl smc_neighbour
    .type smc_neighbour, @function
smc_neighbour:
    movl 4(%esp), %ecx
    movl $0, neighbour_counter
1:  incl neighbour_counter
    decl %ecx
    jnz 1b
    movl neighbour_counter, %eax
    ret
    .size smc_neighbour, . - smc_neighbour
    .align 4
neighbour_counter:
    .long 0

/* Two position-independent templates that get copied into a RAM buffer. */
    .section .rodata
    .globl template_a, template_a_end, template_b, template_b_end
template_a:
    movl $0xAAAA, %eax
    ret
template_a_end:
template_b:
    movl $0xBBBB, %eax
    addl 4(%esp), %eax
    ret
template_b_end:
