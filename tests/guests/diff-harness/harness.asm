; Differential-test harness guest: a Multiboot v1 ELF32 kernel for QEMU (-kernel) and for
; bmbt-dbg's own multiboot loader.
;
; The host (tests/support/diff-target.ts) drives it through a debugger only:
;   1. break at `harness_ready`, run from reset: the harness has set up GDT, IDT, TSS,
;      page tables, masked the PICs and idles at `harness_ready`;
;   2. per case: write the case context block (`case_ctx`), the case code (CODE_AREA),
;      the data area, the stack area; set EIP = `case_entry`; continue;
;   3. the case stops at `case_done` (the case code jumped there) or at `exc_done`
;      (an exception or INT n reached one of the IDT stubs).
;
; At `exc_done` no general register has been changed since the exception; the stub
; pushed the vector, so [SS:ESP] = vector, then (for vectors 8, 10-14, 17) the error
; code, then the CPU's frame EIP, CS, EFLAGS (and ESP, SS after a ring 3 -> 0 switch).
; The stubs deliberately write nothing but the stack: a case may leave DS/ES unusable.
;
; Everything the host needs is a global symbol: `make layout` writes layout.json.

bits 32

; ---- fixed areas -------------------------------------------------------------------
global CODE_AREA, CODE_SIZE, DATA_AREA, DATA_SIZE, STACK_AREA, STACK_SIZE, CASE_ESP
global KSTACK_AREA, KSTACK_TOP, PAGE_DIR, PAGE_TABLE0, FAULT_AREA, RSVD_AREA, PDE_NP_AREA
CODE_AREA   equ 0x00200000      ; case code (64 KiB)
CODE_SIZE   equ 0x00010000
DATA_AREA   equ 0x00300000      ; memory operands (64 KiB)
DATA_SIZE   equ 0x00010000
STACK_AREA  equ 0x00310000      ; the case's stack (64 KiB)
STACK_SIZE  equ 0x00010000
CASE_ESP    equ 0x00318000      ; default initial ESP of 32-bit cases
KSTACK_AREA equ 0x00320000      ; harness stack, TSS.ESP0 (ring 3 -> 0 exception frames)
KSTACK_TOP  equ 0x00330000
PAGE_DIR    equ 0x00330000
PAGE_TABLE0 equ 0x00331000      ; 4 KiB pages for 0 .. 4 MiB
FAULT_AREA  equ 0x00340000      ; pages with special PTEs, see build_paging
RSVD_AREA   equ 0x00800000      ; a 4 MiB PSE page whose PDE has reserved bit 21 set
PDE_NP_AREA equ 0x01000000      ; a 4 MiB region whose PDE is not present

; ---- GDT selectors -----------------------------------------------------------------
global SEL_CODE32, SEL_DATA32, SEL_CODE16, SEL_DATA16, SEL_CODE16_CASE, SEL_DATA_WIN
global SEL_STACK16, SEL_DATA_SMALL, SEL_EXPDOWN16, SEL_EXPDOWN32, SEL_DATA_RO
global SEL_CODE32_R3, SEL_DATA32_R3, SEL_DATA_WIN_R3, SEL_DATA_SMALL_R3, SEL_TSS
global SEL_CODE32_XO, SEL_DATA_NP, GDT_LIMIT
SEL_CODE32        equ 0x08      ; ring 0 flat code, 32-bit
SEL_DATA32        equ 0x10      ; ring 0 flat data, B=1
SEL_CODE16        equ 0x18      ; ring 0 16-bit code, base 0, limit 0xFFFF
SEL_DATA16        equ 0x20      ; ring 0 16-bit data, base 0, limit 0xFFFF
SEL_CODE16_CASE   equ 0x28      ; ring 0 16-bit code, base CODE_AREA, limit 0xFFFF
SEL_DATA_WIN      equ 0x30      ; ring 0 data, base DATA_AREA, limit 0xFFFF, B=0
SEL_STACK16       equ 0x38      ; ring 0 data, base STACK_AREA, limit 0xFFFF, B=0 (16-bit SS)
SEL_DATA_SMALL    equ 0x40      ; ring 0 data, base DATA_AREA, limit 0xFFF, B=1
SEL_EXPDOWN16     equ 0x48      ; expand-down, base STACK_AREA, limit 0x7FFF, B=0: offsets 0x8000..0xFFFF
SEL_EXPDOWN32     equ 0x50      ; expand-down, base DATA_AREA+0x1000, limit 0xFFFFEFFF (G=1), B=1
SEL_DATA_RO       equ 0x58      ; read-only data, base DATA_AREA, limit 0xFFFF, B=1
SEL_CODE32_R3     equ 0x63      ; ring 3 flat code
SEL_DATA32_R3     equ 0x6B      ; ring 3 flat data
SEL_DATA_WIN_R3   equ 0x73      ; ring 3 data, base DATA_AREA, limit 0xFFFF, B=1
SEL_DATA_SMALL_R3 equ 0x7B      ; ring 3 data, base DATA_AREA, limit 0xFFF, B=1
SEL_TSS           equ 0x80      ; 32-bit TSS (SS0:ESP0 = SEL_DATA32:KSTACK_TOP, no I/O bitmap)
SEL_CODE32_XO     equ 0x88      ; ring 0 flat execute-only code
SEL_DATA_NP       equ 0x90      ; flat data, not present
GDT_LIMIT         equ gdt_end - gdt - 1

; ---- case context block (case_ctx) -------------------------------------------------
global CTX_FLAGS, CTX_EAX, CTX_ECX, CTX_EDX, CTX_EBX, CTX_ESP, CTX_EBP, CTX_ESI, CTX_EDI
global CTX_EIP, CTX_EFLAGS, CTX_CS, CTX_SS, CTX_DS, CTX_ES, CTX_FS, CTX_GS, CTX_SIZE
global CTXF_PAGING, CTXF_WP, CTXF_PSE, CTXF_AM
CTX_FLAGS  equ 0x00             ; CTXF_* bits
CTX_EAX    equ 0x04
CTX_ECX    equ 0x08
CTX_EDX    equ 0x0C
CTX_EBX    equ 0x10
CTX_ESP    equ 0x14
CTX_EBP    equ 0x18
CTX_ESI    equ 0x1C
CTX_EDI    equ 0x20
CTX_EIP    equ 0x24             ; offset in CS
CTX_EFLAGS equ 0x28
CTX_CS     equ 0x2C             ; RPL 3 -> the case runs in ring 3 (IRET to outer level)
CTX_SS     equ 0x30
CTX_DS     equ 0x34
CTX_ES     equ 0x38
CTX_FS     equ 0x3C
CTX_GS     equ 0x40
CTX_SIZE   equ 0x44
CTXF_PAGING equ 1               ; CR0.PG (identity map with the test pages)
CTXF_WP     equ 2               ; CR0.WP
CTXF_PSE    equ 4               ; CR4.PSE (needed for the 4 MiB pages above 4 MiB)
CTXF_AM     equ 8               ; CR0.AM (alignment checks in ring 3 with EFLAGS.AC)

CR0_PG equ 0x80000000
CR0_WP equ 0x00010000
CR0_AM equ 0x00040000
CR4_PSE equ 0x10

; ---- Multiboot v1 header -----------------------------------------------------------
MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0
section .multiboot
align 4
    dd MB_MAGIC
    dd MB_FLAGS
    dd -(MB_MAGIC + MB_FLAGS)

; ---- code --------------------------------------------------------------------------
section .text
global harness_start, harness_ready, case_entry, case_entry_r0, case_done, exc_done
global exc_stubs, EXC_STUB_SIZE, int80_stub

harness_start:
    cli
    lgdt [gdt_ptr]
    jmp SEL_CODE32:.flat
.flat:
    mov ax, SEL_DATA32
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov esp, KSTACK_TOP
    push dword 2
    popfd
    ; mask both 8259s: no device interrupt can reach a case even with IF=1
    mov al, 0xFF
    out 0xA1, al
    out 0x21, al

    call build_idt
    call build_tss
    call build_paging

    lidt [idt_ptr]
    mov ax, SEL_TSS
    ltr ax
    xor eax, eax
    lldt ax
    mov cr3, eax                ; (reloaded with PAGE_DIR by case_entry)
harness_ready:
    hlt
    jmp harness_ready

; IDT: 256 not-present entries; 0..31 -> exception stubs (DPL 0, except #BP and #OF:
; DPL 3), 0x80 -> int80_stub (DPL 3), 0x81 -> case_entry_r0 (DPL 3, the way back from
; ring 3 to ring 0 for the next case). All interrupt gates (IF cleared).
build_idt:
    mov edi, idt
    xor eax, eax
    mov ecx, 256 * 2
    rep stosd
    xor ecx, ecx
.loop:
    mov eax, ecx
    imul eax, eax, EXC_STUB_SIZE
    add eax, exc_stubs
    mov dl, 0x8E                ; P, DPL 0, 32-bit interrupt gate
    cmp ecx, 3
    je .dpl3
    cmp ecx, 4
    jne .set
.dpl3:
    mov dl, 0xEE                ; P, DPL 3
.set:
    call set_gate
    inc ecx
    cmp ecx, 32
    jb .loop
    mov ecx, 0x80
    mov eax, int80_stub
    mov dl, 0xEE
    call set_gate
    mov ecx, 0x81
    mov eax, case_entry_r0
    mov dl, 0xEE
    call set_gate
    ret

; ecx = vector, eax = handler offset, dl = type/attribute byte
set_gate:
    mov word [idt + ecx * 8], ax
    mov word [idt + ecx * 8 + 2], SEL_CODE32
    mov byte [idt + ecx * 8 + 4], 0
    mov byte [idt + ecx * 8 + 5], dl
    shr eax, 16
    mov word [idt + ecx * 8 + 6], ax
    ret

build_tss:
    mov dword [tss + 4], KSTACK_TOP         ; ESP0
    mov dword [tss + 8], SEL_DATA32         ; SS0
    mov word [tss + 0x66], 104              ; I/O map base beyond the limit: no bitmap
    mov eax, tss
    mov word [gdt + SEL_TSS + 2], ax
    shr eax, 16
    mov byte [gdt + SEL_TSS + 4], al
    mov byte [gdt + SEL_TSS + 7], ah
    ret

; Identity map of 0 .. 64 MiB: 4 KiB pages below 4 MiB (user, writable) except the
; FAULT_AREA pages; 4 MiB PSE pages above, except RSVD_AREA (reserved bit 21 set in
; its PDE: #PF with RSVD) and PDE_NP_AREA (PDE not present).
;   FAULT_AREA + 0x0000  user RW            + 0x3000  supervisor RW
;   FAULT_AREA + 0x1000  not present         + 0x4000  supervisor read-only
;   FAULT_AREA + 0x2000  user read-only      + 0x5000  user RW
build_paging:
    mov edi, PAGE_TABLE0
    mov eax, 0x007              ; P | W | U
    mov ecx, 1024
.pt:
    stosd
    add eax, 0x1000
    loop .pt
    mov dword [PAGE_TABLE0 + ((FAULT_AREA >> 12) + 1) * 4], 0
    mov dword [PAGE_TABLE0 + ((FAULT_AREA >> 12) + 2) * 4], (FAULT_AREA + 0x2000) | 0x005
    mov dword [PAGE_TABLE0 + ((FAULT_AREA >> 12) + 3) * 4], (FAULT_AREA + 0x3000) | 0x003
    mov dword [PAGE_TABLE0 + ((FAULT_AREA >> 12) + 4) * 4], (FAULT_AREA + 0x4000) | 0x001

    mov edi, PAGE_DIR
    xor eax, eax
    mov ecx, 1024
    rep stosd
    mov dword [PAGE_DIR], PAGE_TABLE0 | 0x007
    mov ecx, 1
    mov eax, 0x00400000 | 0x087 ; PS | U | W | P
.pd:
    mov [PAGE_DIR + ecx * 4], eax
    add eax, 0x00400000
    inc ecx
    cmp ecx, 16
    jb .pd
    or dword [PAGE_DIR + (RSVD_AREA >> 22) * 4], 0x00200000
    mov dword [PAGE_DIR + (PDE_NP_AREA >> 22) * 4], 0
    ret

; ---- per-case entry ----------------------------------------------------------------
; Entered with EIP set by the host, from a stop at harness_ready, case_done or exc_done
; (CS is a flat 32-bit code segment: ring 0, or ring 3 after a ring 3 case).
case_entry:
    mov ax, cs
    test al, 3
    jz case_entry_r0
    int 0x81                    ; ring 3: back to ring 0 on the TSS stack
case_entry_r0:
    cli
    mov ax, SEL_DATA32
    mov ss, ax
    mov esp, KSTACK_TOP
    mov ds, ax
    mov es, ax
    push dword 2                ; clear NT, TF, AC, DF, IOPL ... before any IRET
    popfd

    mov ebx, [case_ctx + CTX_FLAGS]
    mov ecx, cr4
    and ecx, ~CR4_PSE
    test ebx, CTXF_PSE
    jz .nopse
    or ecx, CR4_PSE
.nopse:
    mov eax, cr0
    and eax, ~(CR0_PG | CR0_WP | CR0_AM)
    mov cr0, eax                ; paging off while CR4/CR3 change
    jmp .pgoff
.pgoff:
    mov cr4, ecx
    mov edx, PAGE_DIR
    mov cr3, edx
    test ebx, CTXF_WP
    jz .nowp
    or eax, CR0_WP
.nowp:
    test ebx, CTXF_AM
    jz .noam
    or eax, CR0_AM
.noam:
    test ebx, CTXF_PAGING
    jz .nopg
    or eax, CR0_PG
.nopg:
    mov cr0, eax
    jmp .pgset
.pgset:
    test byte [case_ctx + CTX_CS], 3
    jnz .ring3
    ; ring 0: the IRET frame goes on the case's own stack
    mov ss, [case_ctx + CTX_SS]
    mov esp, [case_ctx + CTX_ESP]
    push dword [case_ctx + CTX_EFLAGS]
    push dword [case_ctx + CTX_CS]
    push dword [case_ctx + CTX_EIP]
    jmp .regs
.ring3:
    push dword [case_ctx + CTX_SS]
    push dword [case_ctx + CTX_ESP]
    push dword [case_ctx + CTX_EFLAGS]
    push dword [case_ctx + CTX_CS]
    push dword [case_ctx + CTX_EIP]
.regs:
    mov es, [case_ctx + CTX_ES]
    mov fs, [case_ctx + CTX_FS]
    mov gs, [case_ctx + CTX_GS]
    mov eax, [case_ctx + CTX_EAX]
    mov ecx, [case_ctx + CTX_ECX]
    mov edx, [case_ctx + CTX_EDX]
    mov ebx, [case_ctx + CTX_EBX]
    mov ebp, [case_ctx + CTX_EBP]
    mov esi, [case_ctx + CTX_ESI]
    mov edi, [case_ctx + CTX_EDI]
    mov ds, [cs:case_ctx + CTX_DS]
    iretd

; The case code ends with a jump here (a far jump from 16-bit code). May run in ring 3.
align 16
case_done:
    jmp case_done

; ---- exception stubs ---------------------------------------------------------------
EXC_STUB_SIZE equ 8
align 16
exc_stubs:
%macro EXC_STUB 1
%%stub:
    push byte %1                ; 6A ib
    jmp near exc_done           ; E9 rel32
    nop                         ; pad to EXC_STUB_SIZE
%if ($ - %%stub) != EXC_STUB_SIZE
%error exception stub size
%endif
%endmacro
%assign vec 0
%rep 32
    EXC_STUB vec
%assign vec vec + 1
%endrep

align 16
int80_stub:
    push dword 0x80
    jmp exc_done

align 16
exc_done:
    hlt
    jmp exc_done

; ---- data --------------------------------------------------------------------------
section .data
global gdt, idt, tss, case_ctx, gdt_ptr, idt_ptr

%macro DESC 4                   ; base, 20-bit limit, access byte, flags nibble (G, D/B, L, AVL)
    dw (%2) & 0xFFFF
    dw (%1) & 0xFFFF
    db ((%1) >> 16) & 0xFF
    db %3
    db (((%2) >> 16) & 0x0F) | ((%4) << 4)
    db ((%1) >> 24) & 0xFF
%endmacro

align 16
gdt:
    dq 0                                                ; 0x00 null
    DESC 0, 0xFFFFF, 0x9B, 0xC                          ; 0x08 SEL_CODE32
    DESC 0, 0xFFFFF, 0x93, 0xC                          ; 0x10 SEL_DATA32
    DESC 0, 0x0FFFF, 0x9B, 0x0                          ; 0x18 SEL_CODE16
    DESC 0, 0x0FFFF, 0x93, 0x0                          ; 0x20 SEL_DATA16
    DESC CODE_AREA, 0x0FFFF, 0x9B, 0x0                  ; 0x28 SEL_CODE16_CASE
    DESC DATA_AREA, 0x0FFFF, 0x93, 0x0                  ; 0x30 SEL_DATA_WIN
    DESC STACK_AREA, 0x0FFFF, 0x93, 0x0                 ; 0x38 SEL_STACK16
    DESC DATA_AREA, 0x00FFF, 0x93, 0x4                  ; 0x40 SEL_DATA_SMALL
    DESC STACK_AREA, 0x07FFF, 0x97, 0x0                 ; 0x48 SEL_EXPDOWN16
    DESC DATA_AREA + 0x1000, 0xFFFFE, 0x97, 0xC         ; 0x50 SEL_EXPDOWN32
    DESC DATA_AREA, 0x0FFFF, 0x91, 0x4                  ; 0x58 SEL_DATA_RO
    DESC 0, 0xFFFFF, 0xFB, 0xC                          ; 0x60 SEL_CODE32_R3
    DESC 0, 0xFFFFF, 0xF3, 0xC                          ; 0x68 SEL_DATA32_R3
    DESC DATA_AREA, 0x0FFFF, 0xF3, 0x4                  ; 0x70 SEL_DATA_WIN_R3
    DESC DATA_AREA, 0x00FFF, 0xF3, 0x4                  ; 0x78 SEL_DATA_SMALL_R3
    DESC 0, 103, 0x89, 0x0                              ; 0x80 SEL_TSS (base set at run time)
    DESC 0, 0xFFFFF, 0x99, 0xC                          ; 0x88 SEL_CODE32_XO
    DESC 0, 0xFFFFF, 0x13, 0xC                          ; 0x90 SEL_DATA_NP
gdt_end:

align 4
    dw 0
gdt_ptr:
    dw gdt_end - gdt - 1
    dd gdt
    dw 0
idt_ptr:
    dw 256 * 8 - 1
    dd idt

align 16
case_ctx:
    dd CTXF_PSE                 ; flags
    times 8 dd 0                ; eax ecx edx ebx esp ebp esi edi
    dd CODE_AREA                ; eip
    dd 2                        ; eflags
    dd SEL_CODE32               ; cs
    dd SEL_DATA32, SEL_DATA32, SEL_DATA32, SEL_DATA32, SEL_DATA32   ; ss ds es fs gs

section .bss
alignb 4096
idt:
    resb 256 * 8
alignb 16
tss:
    resb 104
