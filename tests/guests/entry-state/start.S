/*
 * Multiboot v1 entry of the entry-state guest. _start records the machine state the
 * boot loader left (registers, descriptor tables, control registers, the x87
 * environment) before it changes anything, then switches to its own stack and GDT and
 * calls main(), which prints the record and probes the devices.
 *
 * Interrupt stubs: stub n (16 bytes, at isr_stubs + 16*n) pushes n and jumps to
 * isr_common, which calls isr_dispatch(n, frame). A #GP expected by rdmsr_safe()
 * skips the 2-byte RDMSR; anything else is an interrupt, acknowledged at both 8259s.
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003

    .section .multiboot, "a"
    .align 4
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .section .text.start, "ax"
    .code32
    .globl _start
_start:
    movl %eax, entry_regs + 0
    movl %ebx, entry_regs + 4
    movl %ecx, entry_regs + 8
    movl %edx, entry_regs + 12
    movl %esi, entry_regs + 16
    movl %edi, entry_regs + 20
    movl %ebp, entry_regs + 24
    movl %esp, entry_regs + 28
    movl $stack_top, %esp
    pushfl
    popl entry_regs + 32
    movw %cs, entry_sregs + 0
    movw %ds, entry_sregs + 2
    movw %es, entry_sregs + 4
    movw %fs, entry_sregs + 6
    movw %gs, entry_sregs + 8
    movw %ss, entry_sregs + 10
    sldt entry_sregs + 12
    str entry_sregs + 14
    sgdt entry_gdtr
    sidt entry_idtr
    movl %cr0, %eax
    movl %eax, entry_cr + 0
    movl %cr2, %eax
    movl %eax, entry_cr + 4
    movl %cr3, %eax
    movl %eax, entry_cr + 8
    movl %cr4, %eax
    movl %eax, entry_cr + 12
    movl %dr7, %eax
    movl %eax, entry_cr + 16
    /* The x87 environment as left, then a C kernel's 1.0/3.0 without FNINIT. */
    testl $4, entry_cr + 0
    jnz 1f
    fnstenv entry_fenv
    fldenv entry_fenv
    fld1
    fidivl three
    fimull million
    fistpl third_times_million
    fnstsw fsw_after
1:  cld
    lgdt gdt_desc
    ljmp $0x08, $2f
2:  movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    call main
3:  cli
    hlt
    jmp 3b

    .text
    .align 16
    .globl isr_stubs
isr_stubs:
    .set vec, 0
    .rept 256
    .align 16
    pushl $vec
    jmp isr_common
    .set vec, vec + 1
    .endr

isr_common:
    pushal
    movl %esp, %eax
    pushl %eax                  /* frame: pushal block, vector, [error], eip ... */
    pushl 36(%esp)              /* the vector */
    call isr_dispatch
    addl $8, %esp
    testl %eax, %eax
    popal
    jz 4f
    /* an expected #GP: drop the vector and error code, skip RDMSR (0F 32) */
    addl $8, %esp
    addl $2, (%esp)
    iret
4:  addl $4, %esp
    iret

    .section .rodata
    .align 4
three: .long 3
million: .long 1000000
    .align 8
gdt:
    .quad 0
    .quad 0x00cf9a000000ffff
    .quad 0x00cf92000000ffff
gdt_desc:
    .word gdt_desc - gdt - 1
    .long gdt

    .data
    .align 4
    .globl entry_regs, entry_sregs, entry_gdtr, entry_idtr, entry_cr, entry_fenv
    .globl third_times_million, fsw_after
entry_regs: .fill 9, 4, 0
entry_sregs: .fill 8, 2, 0
entry_gdtr: .fill 8, 1, 0
entry_idtr: .fill 8, 1, 0
entry_cr: .fill 5, 4, 0
entry_fenv: .fill 28, 1, 0
third_times_million: .long 0
fsw_after: .word 0

    .bss
    .align 16
    .space 16384
stack_top:
