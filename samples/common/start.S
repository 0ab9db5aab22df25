/*
 * Multiboot v1 header and entry point for the bmbt-dbg sample guests.
 *
 * The loader (QEMU -kernel, or bmbt-dbg) enters _start in 32-bit protected
 * mode with paging off, EAX = 0x2BADB002 and EBX = the multiboot info
 * pointer. The loader's GDT may be anywhere, so we load our own flat GDT,
 * set up a stack in .bss, clear .bss and EFLAGS, install the IDT and the
 * serial port, then call main(). If main returns: cli; hlt loop.
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003 /* page-align modules, provide mem info */

    .section .multiboot, "a"
    .align 4
    .globl multiboot_header
multiboot_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .section .text.start, "ax"
    .code32
    .globl _start
    .type _start, @function
_start:
    cli
    cld
    lgdt gdt_desc
    ljmp $0x08, $1f
1:  movw $0x10, %cx
    movw %cx, %ds
    movw %cx, %es
    movw %cx, %fs
    movw %cx, %gs
    movw %cx, %ss
    movl %eax, %esi             /* keep magic and info across the clear */
    movl %ebx, %edx
    /* clear .bss (the stack lives there too, nothing is on it yet) */
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb
    movl $stack_top, %esp
    xorl %ebp, %ebp             /* end of the frame chain for debuggers */
    pushl $0
    popfl                       /* EFLAGS = 0x2: IF, DF, AC ... clear */
    pushl %edx                  /* info */
    pushl %esi                  /* magic */
    call lib_start              /* serial + IDT */
    addl $8, %esp
    call main
    .globl _halt
_halt:
    cli
    hlt
    jmp _halt
    .size _start, . - _start

/* Flat ring-0 GDT. Accessed bits are preset so loading a selector never
 * writes to the table. */
    .section .data
    .align 8
    .globl gdt
gdt:
    .quad 0x0000000000000000    /* 0x00 null */
    .quad 0x00CF9B000000FFFF    /* 0x08 code: base 0, limit 4 GiB, 32-bit, RX */
    .quad 0x00CF93000000FFFF    /* 0x10 data: base 0, limit 4 GiB, RW */
gdt_end:
    .align 4
    .word 0
gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt

    .section .bss
    .align 16
    .globl stack_bottom, stack_top
stack_bottom:
    .skip 16384
stack_top:
