/*
 * Multiboot v1 entry of the low-linked reboot guest: linked at 0x8000, its image (code
 * and a 10 KiB pattern) covers 0x8000-0xAFFF, where QEMU's multiboot ROM puts its memory
 * map (0x9000) and information structure (0x9500). _start keeps EAX/EBX, switches to its
 * own stack and calls main(eax, ebx).
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
    movl $stack_top, %esp
    pushl %ebx
    pushl %eax
    call main
1:  cli
    hlt
    jmp 1b

    /* Reset by triple fault: no IDT, then an exception. */
    .globl triple_fault
triple_fault:
    lidt null_idt
    int3
    jmp triple_fault

    .section .rodata
null_idt: .word 0
    .long 0

    .data
    .align 4
    .globl pattern, pattern_end
pattern:
    .set i, 0
    .rept 2560
    .long 0x5a000000 + i
    .set i, i + 1
    .endr
pattern_end:

    .bss
    .align 16
    .space 4096
stack_top:
