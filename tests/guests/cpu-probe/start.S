/*
 * Multiboot v1 entry of the CPU probe guest, its exception stubs and the helpers that run
 * one instruction which may fault (RDMSR, WRMSR, a load) and report the vector.
 *
 * Stub n pushes a zero error code when the CPU pushes none, then n, and jumps to
 * isr_common, which saves the registers and calls isr_dispatch(frame). A fault inside
 * try_* resumes at the helper's recovery label (fault_resume) with fault_vec set.
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
    movl %ebx, %esi             /* multiboot information */
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
    .rept 256
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
    pushl %esp                  /* struct frame * */
    call isr_dispatch
    addl $4, %esp
    popal
    addl $8, %esp               /* vector, error code */
    iret

/* int try_rdmsr(u32 msr, u32 *lo, u32 *hi): -1, or the vector that RDMSR raised */
    .globl try_rdmsr
try_rdmsr:
    pushl %ebx
    movl 8(%esp), %ecx
    movl $-1, fault_vec
    movl $1f, fault_resume
    xorl %eax, %eax
    xorl %edx, %edx
    rdmsr
1:  movl $0, fault_resume
    movl 12(%esp), %ebx
    movl %eax, (%ebx)
    movl 16(%esp), %ebx
    movl %edx, (%ebx)
    movl fault_vec, %eax
    popl %ebx
    ret

/* int try_wrmsr(u32 msr, u32 lo, u32 hi): -1, or the vector that WRMSR raised */
    .globl try_wrmsr
try_wrmsr:
    movl 4(%esp), %ecx
    movl 8(%esp), %eax
    movl 12(%esp), %edx
    movl $-1, fault_vec
    movl $1f, fault_resume
    wrmsr
1:  movl $0, fault_resume
    movl fault_vec, %eax
    ret


/*
 * After an INIT IPI the BSP restarts at the reset vector; the firmware (SeaBIOS) sees CMOS
 * shutdown status 0x0A and jumps through 40:67 to this stub, copied to 0800:0000. It saves
 * what the CPU holds at that point in 0800:0400 (INIT_SAVE), switches A20 on and goes back
 * to protected mode, to init_pm_entry.
 */
#define SV(o) %cs:(0x400 + (o))
    .code16
    .globl init_rm_stub, init_rm_stub_end
init_rm_stub:
    movl %eax, SV(0x00)
    movl %ebx, SV(0x04)
    movl %ecx, SV(0x08)
    movl %edx, SV(0x0c)
    movl %esi, SV(0x10)
    movl %edi, SV(0x14)
    movl %ebp, SV(0x18)
    movl %esp, SV(0x1c)
    pushfl
    popl %eax
    movl %eax, SV(0x20)
    movl %cr0, %eax
    movl %eax, SV(0x24)
    movl %cr4, %eax
    movl %eax, SV(0x28)
    movl %cr3, %eax
    movl %eax, SV(0x2c)
    movw %ds, SV(0x30)
    movw %es, SV(0x32)
    movw %ss, SV(0x34)
    movw %fs, SV(0x36)
    movw %gs, SV(0x38)
    movw %cs, SV(0x3a)
    movl %dr7, %eax
    movl %eax, SV(0x3c)
    sgdtl SV(0x40)
    sidtl SV(0x48)
    inb $0x92, %al
    movb %al, SV(0x70)
    data32 fnstenv SV(0x50)
    cli
    orb $2, %al
    andb $0xfe, %al
    outb %al, $0x92
    lgdtl %cs:0x3f0
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $0x08, $init_pm_entry
init_rm_stub_end:
    .code32

init_pm_entry:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl $stack_top, %esp
    call init_report
3:  cli
    hlt
    jmp 3b

/*
 * int try_NAME(void): run one instruction (or a short sequence) with a fault caught:
 * -1, or the vector it raised. EBX and ESI point at try_buf (512 bytes, 16-byte aligned).
 */
#define TRY(name, ...) \
    .globl try_##name; \
try_##name: \
    pushl %ebx; pushl %esi; \
    movl $try_buf, %ebx; movl $try_buf, %esi; \
    movl $-1, fault_vec; movl $1f, fault_resume; \
    __VA_ARGS__; \
1:  movl $0, fault_resume; movl fault_vec, %eax; \
    popl %esi; popl %ebx; ret

    TRY(cmov, cmovz %eax, %eax)
    TRY(fcmov, fninit; fldz; fldz; fcmovb %st(1), %st; fninit)
    TRY(fcomi, fninit; fldz; fldz; fcomi %st(1), %st; fninit)
    TRY(sysenter, sysenter)
    TRY(sysexit, sysexit)
    TRY(fxsave, fxsave (%ebx))
    TRY(cmpxchg8b, xorl %eax, %eax; xorl %edx, %edx; cmpxchg8b (%ebx))
    TRY(rdpmc, xorl %ecx, %ecx; rdpmc)
    TRY(rdtsc, rdtsc)
    TRY(emms, emms)
    TRY(xorps, xorps %xmm0, %xmm0)
    TRY(clflush, clflush (%ebx))
    TRY(sfence, sfence)
    TRY(lfence, lfence)
    TRY(mfence, mfence)
    TRY(fisttp, fninit; fldz; fisttpl (%ebx); fninit)
    TRY(popcnt, popcnt %eax, %eax)
    TRY(prefetch, prefetchnta (%ebx))
    TRY(nopl, nopl (%ebx))
    TRY(prefetch_reg, .byte 0x0f, 0x18, 0xc0)
    TRY(hint18_4, .byte 0x0f, 0x18, 0x23)
    TRY(prefetchw, .byte 0x0f, 0x0d, 0x0b)
    TRY(prefetchw_reg, .byte 0x0f, 0x0d, 0xc0)
    TRY(ud2, ud2)
    TRY(cpuid, xorl %eax, %eax; cpuid)
    TRY(rsm, rsm)

/* int try_cr4(u32 value, u32 *readback) */
    .globl try_cr4
try_cr4:
    movl $-1, fault_vec
    movl $1f, fault_resume
    movl 4(%esp), %eax
    movl %eax, %cr4
1:  movl $0, fault_resume
    movl %cr4, %eax
    movl 8(%esp), %ecx
    movl %eax, (%ecx)
    movl fault_vec, %eax
    ret

    .section .bss
    .align 16
    .globl try_buf
try_buf:
    .skip 512

    .section .data
    .align 8
    .globl gdt
gdt:
    .quad 0x0000000000000000
    .quad 0x00CF9B000000FFFF    /* 0x08 code, flat, 32-bit */
    .quad 0x00CF93000000FFFF    /* 0x10 data, flat */
    .quad 0x00009B000000FFFF    /* 0x18 code, 16-bit, base 0, 64 KiB */
    .quad 0x000093000000FFFF    /* 0x20 data, 16-bit, base 0, 64 KiB */
gdt_end:
    .align 4
    .word 0
    .globl gdt_desc
gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt

    .section .bss
    .align 16
    .skip 16384
stack_top:
