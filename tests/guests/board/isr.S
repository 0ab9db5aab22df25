/*
 * 256 interrupt stubs and an IDT for the board test guests. Stub n (16 bytes, at
 * isr_stubs + 16*n) pushes n and calls the C function in isr_hook (if set) with it;
 * idt_install() fills the IDT with 32-bit interrupt gates to the stubs and loads it.
 * Exceptions with an error code are not expected (a guest that takes one prints junk).
 */
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
    movl isr_hook, %eax
    testl %eax, %eax
    jz 1f
    pushl 32(%esp)
    call *%eax
    addl $4, %esp
1:  popal
    addl $4, %esp
    iret

    .globl idt_install
idt_install:
    movl $isr_stubs, %edx
    xorl %ecx, %ecx
2:  movl %edx, %eax
    movw %ax, idt(,%ecx,8)
    movw $0x08, idt+2(,%ecx,8)
    movw $0x8e00, idt+4(,%ecx,8)
    shrl $16, %eax
    movw %ax, idt+6(,%ecx,8)
    addl $16, %edx
    incl %ecx
    cmpl $256, %ecx
    jne 2b
    lidt idt_desc
    ret

    .section .data
    .align 4
    .globl isr_hook
isr_hook:
    .long 0
    .word 0
idt_desc:
    .word 256 * 8 - 1
    .long idt

    .section .bss
    .align 8
idt:
    .skip 256 * 8
