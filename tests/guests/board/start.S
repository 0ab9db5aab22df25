/*
 * Multiboot v1 entry shared by the board test guests: a flat GDT, a stack, .bss
 * cleared, then main(multiboot magic, info address). main's return value goes to
 * isa-debug-exit (port 0xF4), so QEMU and bmbt-dbg exit with status 2 * value + 1.
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
    movl %eax, %esi
    movl %ebx, %ebp
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
    pushl %ebp
    pushl %esi
    call main
    outb %al, $0xf4
2:  cli
    hlt
    jmp 2b

    .section .data
    .align 8
    .globl gdt
gdt:
    .quad 0x0000000000000000
    .quad 0x00CF9B000000FFFF    /* 0x08 code, flat, 32-bit */
    .quad 0x00CF93000000FFFF    /* 0x10 data, flat */
    .quad 0x00009B000000FFFF    /* 0x18 code, 16-bit, base 0 */
    .quad 0x000093000000FFFF    /* 0x20 data, 16-bit, base 0 */
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
