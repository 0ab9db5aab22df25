/*
 * Multiboot v1 entry of the APIC test guest and its 256 interrupt stubs.
 *
 * _start loads a flat GDT, a stack and clears .bss, then calls main(). Stub n
 * (16 bytes each, at isr_stubs + 16*n) pushes n and jumps to isr_common, which
 * saves the registers and calls isr_dispatch(n). Exceptions that push an error
 * code never return (the dispatcher reports them and exits), so one stub shape
 * serves every vector.
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
    cli
    cld
    lgdt gdt_desc
    ljmp $0x08, $1f
1:  movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb
    movl $stack_top, %esp
    pushl $0
    popfl
    call main
2:  cli
    hlt
    jmp 2b

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
    pushl 32(%esp)              /* the vector */
    call isr_dispatch
    addl $4, %esp
    popal
    addl $4, %esp
    iret

    .section .data
    .align 8
gdt:
    .quad 0x0000000000000000
    .quad 0x00CF9B000000FFFF    /* 0x08 code, flat, 32-bit */
    .quad 0x00CF93000000FFFF    /* 0x10 data, flat */
gdt_end:
    .align 4
    .word 0
gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt

    .section .bss
    .align 16
    .skip 16384
stack_top:
