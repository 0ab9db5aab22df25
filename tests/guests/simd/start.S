/*
 * Multiboot v1 entry of the SIMD guest (tests/guests/simd): flat segments, a stack,
 * exception stubs that report to isr_dispatch(frame), and try_op(), which runs one
 * probe routine with a fault caught (the handler resumes at fault_resume).
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
    movl %ebx, %esi
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
    pushl %esi
    call main
2:  cli
    hlt
    jmp 2b

    .text
    .align 16
    .globl isr_stubs
isr_stubs:
    .set vec, 0
    .rept 32
    .align 16
    .if (vec == 8) || (vec >= 10 && vec <= 14) || (vec == 17)
    .else
    pushl $0
    .endif
    pushl $vec
    jmp isr_common
    .set vec, vec + 1
    .endr

isr_common:
    pushal
    pushl %esp
    call isr_dispatch
    addl $4, %esp
    popal
    addl $8, %esp
    iret

/*
 * int try_op(void (*fn)(void *), void *buf): -1, or the vector fn raised. fn runs with
 * EBX = buf; a fault resumes after the call with the stack as it was.
 */
    .globl try_op
try_op:
    pushl %ebx
    pushl %esi
    pushl %edi
    pushl %ebp
    movl 20(%esp), %eax
    movl 24(%esp), %ebx
    movl %esp, fault_esp
    movl $-1, fault_vec
    movl $1f, fault_resume
    call *%eax
1:  movl fault_esp, %esp
    movl $0, fault_resume
    movl fault_vec, %eax
    popl %ebp
    popl %edi
    popl %esi
    popl %ebx
    ret

    .section .data
    .align 8
gdt:
    .quad 0x0000000000000000
    .quad 0x00CF9B000000FFFF
    .quad 0x00CF93000000FFFF
gdt_end:
    .align 4
    .word 0
gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt

    .section .bss
    .align 16
    .globl fault_esp
fault_esp:
    .skip 4
    .align 16
    .skip 16384
stack_top:
