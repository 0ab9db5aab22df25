; Differential-test harness guest: a Multiboot v1 ELF32 kernel for QEMU (-kernel) and for
; bmbt-dbg's own multiboot loader.
;
; The host (tests/support/diff-target.ts) drives it through a debugger only:
;   1. break at `harness_ready`, run from reset: the harness has set up GDT, IDT, TSS,
;      LDT, page tables (32-bit and PAE), the real-mode and V86 interrupt tables, masked
;      the PICs, saved a pristine copy of all of that, and idles at `harness_ready`;
;   2. per case: write the case context block (`case_ctx`), the case code (CODE_AREA, or
;      RM_CODE for real-mode and V86 cases), the data area, the stack area; set
;      EIP = `case_entry`; continue;
;   3. the case stops at `case_done` (the case code jumped there) or at `exc_done`
;      (an exception or INT n reached one of the IDT stubs).
;
; case_entry restores the pristine GDT, IDT, TSS, LDT, interrupt tables and page tables,
; then applies the case's patches (dword writes listed in the context: call gates, task
; gates, descriptors, PTEs ...), loads TR, LDTR, debug registers, CR4, CR3, CR0 as the
; context says and enters the case by IRET: ring 0..3 protected mode, V86 mode (CTXF_V86),
; or real mode (CTXF_REAL, after dropping CR0.PE; CTXF_UNREAL keeps 4 GiB data limits).
;
; At `exc_done` no general register has been changed since the exception; the stub
; pushed the vector, so [SS:ESP] = vector, then (for vectors 8, 10-14, 17) the error
; code, then (vector 1 only) DR6, then the CPU's frame EIP, CS, EFLAGS (and ESP, SS after
; a privilege change; and ES, DS, FS, GS from V86 mode).
; The stubs deliberately write nothing but the stack: a case may leave DS/ES unusable.
;
; Real mode: the case ends with a far jump to rm_done (RM_BLOB_SEG:RM_DONE_OFF); an
; exception or INT n goes through the real-mode IVT (RM_IVT) to a stub that pushes the
; vector (a word, `push word n`). Both save the registers in the RM_SAVE block (kind 0 = done, 1 =
; exception: SS:SP then points at the vector word, IP, CS, FLAGS), switch back to
; protected mode and stop at case_done / exc_done. The host reads RM_SAVE.
;
; V86 mode: the case ends with a far jump to V86_DONE (a HLT: #GP(0) to ring 0); INT n
; redirected through the V86 IVT (CR4.VME) lands on a HLT at V86_HLT + n (also #GP).
;
; Everything the host needs is a global symbol: `make layout` writes layout.json.

bits 32

; ---- fixed areas -------------------------------------------------------------------
global CODE_AREA, CODE_SIZE, DATA_AREA, DATA_SIZE, STACK_AREA, STACK_SIZE, CASE_ESP
global KSTACK_AREA, KSTACK_TOP, PAGE_DIR, PAGE_TABLE0, FAULT_AREA, RSVD_AREA, PDE_NP_AREA
global R1_STACK_TOP, R2_STACK_TOP
global PAE_PDPT, PAE_PD, PAE_PT0, PAE_PT1, PRISTINE, LOW_ALIAS
global V86_IVT, RM_IVT, LDT_AREA, TSS_A, TSS_B, TSS16_C, TSS16_D, RM_BLOB, RM_BLOB_SEG
global V86_HLT, V86_HLT_SEG, V86_DONE, RM_SAVE, RM_CTX, RM_PTRS, RM_CODE, RM_DATA, RM_STACK
global RM_DONE_OFF, TSS_IOMAP, TSS_SIZE
CODE_AREA   equ 0x00200000      ; case code (64 KiB)
CODE_SIZE   equ 0x00010000
DATA_AREA   equ 0x00300000      ; memory operands (64 KiB)
DATA_SIZE   equ 0x00010000
STACK_AREA  equ 0x00310000      ; the case's stack (64 KiB)
STACK_SIZE  equ 0x00010000
CASE_ESP    equ 0x00318000      ; default initial ESP of 32-bit cases
R1_STACK_TOP equ 0x0031C000     ; TSS.ESP1 (SS1 = SEL_DATA32_R1)
R2_STACK_TOP equ 0x0031E000     ; TSS.ESP2 (SS2 = SEL_DATA32_R2)
KSTACK_AREA equ 0x00320000      ; harness stack, TSS.ESP0 (ring 3 -> 0 exception frames)
KSTACK_TOP  equ 0x00330000
PAGE_DIR    equ 0x00330000
PAGE_TABLE0 equ 0x00331000      ; 4 KiB pages for 0 .. 4 MiB
PAE_PD      equ 0x00332000      ; PAE: the page directory for 0 .. 1 GiB
PAE_PT0     equ 0x00333000      ; PAE: 4 KiB pages for 0 .. 2 MiB
PAE_PT1     equ 0x00334000      ; PAE: 4 KiB pages for 2 .. 4 MiB (code, data, stack, fault area)
PAE_PDPT    equ 0x00335000      ; PAE: the 4 PDPTEs (only the first is present)
FAULT_AREA  equ 0x00340000      ; pages with special PTEs, see build_paging
PRISTINE    equ 0x00350000      ; copies of every table case_entry restores (64 KiB)
RSVD_AREA   equ 0x00800000      ; a 4 MiB PSE page (2 MiB PAE page) whose PDE has a reserved bit set
PDE_NP_AREA equ 0x01000000      ; a 4 MiB region whose PDE is not present
LOW_ALIAS   equ 0x03C00000      ; with paging (PSE or PAE): physical 0 .. 4 MiB again (user RW, never patched)

; low memory: everything real-mode and V86 code can reach
V86_IVT     equ 0x00000000      ; the V86 interrupt table (CR4.VME redirection): n -> V86_HLT_SEG:n
RM_IVT      equ 0x00001000      ; IDTR base while a case runs in real mode: n -> rm_exc_stubs + 8n
LDT_AREA    equ 0x00002000      ; the LDT (SEL_LDT): 32 descriptors
TSS_A       equ 0x00002400      ; 32-bit TSS for task-switch cases (SEL_TSS_A, host-written)
TSS_B       equ 0x00002600      ; 32-bit TSS (SEL_TSS_B)
TSS16_C     equ 0x00002800      ; 16-bit TSS (SEL_TSS16_C)
TSS16_D     equ 0x00002880      ; 16-bit TSS (SEL_TSS16_D)
RM_BLOB     equ 0x00003000      ; the real-mode harness code (copied here at boot)
RM_BLOB_SEG equ RM_BLOB >> 4
V86_HLT     equ 0x00005000      ; 256 HLT bytes (V86 IVT targets) ...
V86_HLT_SEG equ V86_HLT >> 4
V86_DONE    equ 0x00005100      ; ... and the HLT V86 cases end on
RM_SAVE     equ 0x00006000      ; registers saved by the real-mode exits (CTX layout, +0 = kind)
RM_CTX      equ 0x00006100      ; copy of case_ctx for the real-mode entry
RM_PTRS     equ 0x00006200      ; +0 GDTR image, +8 protected-mode IDTR image, +16 real-mode IDTR image
RM_STACK_TOP equ 0x00006800     ; the real-mode exits' own stack (RM_BLOB_SEG:RM_STACK_TOP-RM_BLOB)
RM_CODE     equ 0x00020000      ; real-mode / V86 case code (segment 0x2000)
RM_DATA     equ 0x00030000      ; real-mode / V86 data (segment 0x3000)
RM_STACK    equ 0x00040000      ; real-mode / V86 stack (segment 0x4000)

; ---- GDT selectors -----------------------------------------------------------------
global SEL_CODE32, SEL_DATA32, SEL_CODE16, SEL_DATA16, SEL_CODE16_CASE, SEL_DATA_WIN
global SEL_STACK16, SEL_DATA_SMALL, SEL_EXPDOWN16, SEL_EXPDOWN32, SEL_DATA_RO
global SEL_CODE32_R3, SEL_DATA32_R3, SEL_DATA_WIN_R3, SEL_DATA_SMALL_R3, SEL_TSS
global SEL_CODE32_XO, SEL_DATA_NP, GDT_LIMIT
global SEL_CODE32_R1, SEL_DATA32_R1, SEL_CODE32_R2, SEL_DATA32_R2, SEL_CODE32_CONF
global SEL_CODE32_CONF_R2, SEL_CODE16_RM, SEL_CODE16_RMCASE, SEL_DATA16_RMDATA, SEL_STACK16_RM
global SEL_LDT, SEL_TSS_A, SEL_TSS_B, SEL_TSS16_C, SEL_TSS16_D, SEL_CODE16_R3, SEL_SCRATCH
global SCRATCH_COUNT
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
SEL_TSS           equ 0x80      ; 32-bit TSS (SS0:ESP0 = SEL_DATA32:KSTACK_TOP, SS1/SS2 ring 1/2 stacks; limit 103: no I/O bitmap)
SEL_CODE32_XO     equ 0x88      ; ring 0 flat execute-only code
SEL_DATA_NP       equ 0x90      ; flat data, not present
SEL_CODE32_R1     equ 0x99      ; ring 1 flat code
SEL_DATA32_R1     equ 0xA1      ; ring 1 flat data
SEL_CODE32_R2     equ 0xAA      ; ring 2 flat code
SEL_DATA32_R2     equ 0xB2      ; ring 2 flat data
SEL_CODE32_CONF   equ 0xB8      ; conforming readable flat code, DPL 0
SEL_CODE32_CONF_R2 equ 0xC0     ; conforming readable flat code, DPL 2
SEL_CODE16_RM     equ 0xC8      ; 16-bit code based at RM_BLOB (the harness's way into real mode)
SEL_CODE16_RMCASE equ 0xD0      ; 16-bit code based at RM_CODE (real-mode case code in protected mode)
SEL_DATA16_RMDATA equ 0xD8      ; 16-bit data based at RM_DATA, limit 0xFFFF
SEL_STACK16_RM    equ 0xE0      ; 16-bit data based at RM_STACK, limit 0xFFFF
SEL_LDT           equ 0xE8      ; the LDT at LDT_AREA (32 entries)
SEL_TSS_A         equ 0xF0      ; 32-bit available TSS at TSS_A, limit 103
SEL_TSS_B         equ 0xF8      ; 32-bit available TSS at TSS_B, limit 103
SEL_TSS16_C       equ 0x100     ; 16-bit available TSS at TSS16_C, limit 43
SEL_TSS16_D       equ 0x108     ; 16-bit available TSS at TSS16_D, limit 43
SEL_CODE16_R3     equ 0x113     ; ring 3 16-bit code, base CODE_AREA, limit 0xFFFF
SEL_SCRATCH       equ 0x118     ; SCRATCH_COUNT zero descriptors that cases fill by patches
SCRATCH_COUNT     equ 16
GDT_LIMIT         equ gdt_end - gdt - 1

; ---- case context block (case_ctx) -------------------------------------------------
global CTX_FLAGS, CTX_EAX, CTX_ECX, CTX_EDX, CTX_EBX, CTX_ESP, CTX_EBP, CTX_ESI, CTX_EDI
global CTX_EIP, CTX_EFLAGS, CTX_CS, CTX_SS, CTX_DS, CTX_ES, CTX_FS, CTX_GS, CTX_SIZE
global CTX_LDTR, CTX_DR0, CTX_DR1, CTX_DR2, CTX_DR3, CTX_DR6, CTX_DR7, CTX_NPATCH, CTX_PATCHES
global CTX_MAX_PATCHES, CTX_REGS_SIZE
global CTXF_PAGING, CTXF_WP, CTXF_PSE, CTXF_AM, CTXF_PAE, CTXF_PGE, CTXF_VME, CTXF_PVI
global CTXF_DE, CTXF_TSD, CTXF_REAL, CTXF_UNREAL, CTXF_V86, CTXF_MP, CTXF_EM, CTXF_TS, CTXF_NE, CTXF_DEBUG
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
CTX_CS     equ 0x2C             ; RPL != 0 -> the case runs in that ring (IRET to outer level)
CTX_SS     equ 0x30
CTX_DS     equ 0x34
CTX_ES     equ 0x38
CTX_FS     equ 0x3C
CTX_GS     equ 0x40
CTX_REGS_SIZE equ 0x44          ; (the part copied for real-mode entry)
CTX_LDTR   equ 0x44             ; LLDT operand (0: no LDT)
CTX_DR0    equ 0x48
CTX_DR1    equ 0x4C
CTX_DR2    equ 0x50
CTX_DR3    equ 0x54
CTX_DR6    equ 0x58
CTX_DR7    equ 0x5C             ; loaded last before the IRET into the case
CTX_NPATCH equ 0x60             ; number of patches
CTX_PATCHES equ 0x64            ; CTX_MAX_PATCHES x (linear address, dword)
CTX_MAX_PATCHES equ 40
CTX_SIZE   equ CTX_PATCHES + CTX_MAX_PATCHES * 8
CTXF_PAGING equ 0x00001         ; CR0.PG (identity map with the test pages)
CTXF_WP     equ 0x00002         ; CR0.WP
CTXF_PSE    equ 0x00004         ; CR4.PSE (needed for the 4 MiB pages above 4 MiB)
CTXF_AM     equ 0x00008         ; CR0.AM (alignment checks in ring 3 with EFLAGS.AC)
CTXF_PAE    equ 0x00010         ; CR4.PAE (CR3 = PAE_PDPT)
CTXF_PGE    equ 0x00020         ; CR4.PGE
CTXF_VME    equ 0x00040         ; CR4.VME
CTXF_PVI    equ 0x00080         ; CR4.PVI
CTXF_DE     equ 0x00100         ; CR4.DE
CTXF_TSD    equ 0x00200         ; CR4.TSD
CTXF_REAL   equ 0x00400         ; enter the case in real mode (CR0.PE = 0)
CTXF_UNREAL equ 0x00800         ; with CTXF_REAL: DS/ES/FS/GS keep 4 GiB limits
CTXF_V86    equ 0x01000         ; enter the case in V86 mode (IRET with EFLAGS.VM)
CTXF_MP     equ 0x02000         ; CR0.MP
CTXF_EM     equ 0x04000         ; CR0.EM
CTXF_TS     equ 0x08000         ; CR0.TS
CTXF_NE     equ 0x10000         ; CR0.NE
CTXF_DEBUG  equ 0x20000         ; load DR0-DR3 and DR7 from the context (DR7 is cleared, DR6 loaded, always)

CR0_PE equ 0x00000001
CR0_MP equ 0x00000002
CR0_EM equ 0x00000004
CR0_TS equ 0x00000008
CR0_NE equ 0x00000020
CR0_PG equ 0x80000000
CR0_WP equ 0x00010000
CR0_AM equ 0x00040000
CR4_VME equ 0x01
CR4_PVI equ 0x02
CR4_TSD equ 0x04
CR4_DE  equ 0x08
CR4_PSE equ 0x10
CR4_PAE equ 0x20
CR4_PGE equ 0x80
EFLAGS_VM equ 0x20000

; TSS layout (the harness TSS): 104 bytes, the VME interrupt redirection bitmap (32 bytes),
; the I/O permission bitmap for ports 0 .. 0x3FF (128 bytes) and its 0xFF terminator.
TSS_IOMAP equ 104 + 32
TSS_SIZE  equ TSS_IOMAP + 128 + 1

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
global exc_stubs, EXC_STUB_SIZE, int80_stub, db_stub

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
    cld
    ; mask both 8259s: no device interrupt can reach a case even with IF=1
    mov al, 0xFF
    out 0xA1, al
    out 0x21, al

    call build_idt
    call build_tss
    call build_paging
    call build_low

    ; the pristine copies case_entry restores from
    mov ebx, restore_table
.snap:
    mov esi, [ebx + 4]          ; live
    mov edi, [ebx]              ; pristine
    mov ecx, [ebx + 8]
    jecxz .snapped
    rep movsd
    add ebx, 12
    jmp .snap
.snapped:
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
    mov dword [tss + 12], R1_STACK_TOP      ; ESP1
    mov dword [tss + 16], SEL_DATA32_R1     ; SS1
    mov dword [tss + 20], R2_STACK_TOP      ; ESP2
    mov dword [tss + 24], SEL_DATA32_R2     ; SS2
    mov dword [tss + 28], PAGE_DIR          ; CR3
    mov word [tss + 0x66], TSS_IOMAP        ; beyond the descriptor's limit (103): no bitmap
    mov edi, tss + TSS_IOMAP                ; I/O bitmap: every port denied (cases patch it) + terminator
    mov al, 0xFF
    mov ecx, 129
    rep stosb
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
; PAE (CR3 = PAE_PDPT): the same map with 4 KiB pages below 4 MiB (the same FAULT_AREA
; pages) and 2 MiB pages above; RSVD_AREA's PDE has reserved bit 13 set (a 2 MiB page's
; bits 20:13 are reserved), PDE_NP_AREA's two PDEs are not present.
; In both, LOW_ALIAS (60 MiB) maps physical 0 .. 4 MiB once more (cases that patch the
; test pages' entries read and write their frames through it).
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
    mov dword [PAGE_DIR + (LOW_ALIAS >> 22) * 4], 0x00000087

    ; PAE: PT0 + PT1 (4 KiB pages, 0 .. 4 MiB) from the 32-bit table
    mov edi, PAE_PT0
    xor ecx, ecx
.paept:
    mov eax, [PAGE_TABLE0 + ecx * 4]
    mov [edi + ecx * 8], eax
    mov dword [edi + ecx * 8 + 4], 0
    inc ecx
    cmp ecx, 1024
    jb .paept
    mov edi, PAE_PD
    xor eax, eax
    mov ecx, 1024
    rep stosd
    mov dword [PAE_PD], PAE_PT0 | 0x007
    mov dword [PAE_PD + 8], PAE_PT1 | 0x007
    mov ecx, 2
    mov eax, 0x00400000 | 0x087
.paepd:
    mov [PAE_PD + ecx * 8], eax
    add eax, 0x00200000
    inc ecx
    cmp ecx, 32
    jb .paepd
    or dword [PAE_PD + (RSVD_AREA >> 21) * 8], 0x00002000
    mov dword [PAE_PD + (PDE_NP_AREA >> 21) * 8], 0
    mov dword [PAE_PD + (PDE_NP_AREA >> 21) * 8 + 8], 0
    mov dword [PAE_PD + (LOW_ALIAS >> 21) * 8], 0x00000087
    mov dword [PAE_PD + (LOW_ALIAS >> 21) * 8 + 8], 0x00200087
    mov edi, PAE_PDPT
    xor eax, eax
    mov ecx, 8
    rep stosd
    mov dword [PAE_PDPT], PAE_PD | 0x001
    ret

; Low memory: the V86 IVT, the real-mode IVT, the HLT pads, the real-mode code blob,
; the GDTR/IDTR images real-mode code loads, the LDT.
build_low:
    ; real-mode blob
    mov esi, rm_blob
    mov edi, RM_BLOB
    mov ecx, rm_blob_end - rm_blob
    rep movsb
    ; V86 IVT: n -> V86_HLT_SEG:n; real-mode IVT: n -> RM_BLOB_SEG:stub n
    xor ecx, ecx
.ivt:
    mov word [V86_IVT + ecx * 4], cx
    mov word [V86_IVT + ecx * 4 + 2], V86_HLT_SEG
    lea eax, [ecx * 8 + (rm_exc_stubs - rm_blob)]
    mov word [RM_IVT + ecx * 4], ax
    mov word [RM_IVT + ecx * 4 + 2], RM_BLOB_SEG
    inc ecx
    cmp ecx, 256
    jb .ivt
    ; HLT pads
    mov edi, V86_HLT
    mov al, 0xF4
    mov ecx, 0x110
    rep stosb
    ; descriptor-table register images for real-mode code
    mov esi, gdt_ptr
    mov edi, RM_PTRS
    movsd
    movsw
    mov esi, idt_ptr
    mov edi, RM_PTRS + 8
    movsd
    movsw
    mov word [RM_PTRS + 16], 0x3FF
    mov dword [RM_PTRS + 18], RM_IVT
    ; the LDT: a few descriptors (the rest zero)
    mov esi, ldt_init
    mov edi, LDT_AREA
    mov ecx, (ldt_init_end - ldt_init) / 4
    rep movsd
    mov ecx, (256 - (ldt_init_end - ldt_init)) / 4
    xor eax, eax
    rep stosd
    ret

; ---- per-case entry ----------------------------------------------------------------
; Entered with EIP set by the host, from a stop at harness_ready, case_done or exc_done
; (CS is a flat 32-bit code segment: ring 0, or ring 1..3 after such a case).
case_entry:
    mov ax, cs
    test al, 3
    jz case_entry_r0
    int 0x81                    ; ring 1..3: back to ring 0 on the TSS stack
case_entry_r0:
    cli
    mov ax, SEL_DATA32
    mov ss, ax
    mov esp, KSTACK_TOP
    mov ds, ax
    mov es, ax
    push dword 2                ; clear NT, TF, AC, DF, IOPL ... before any IRET
    popfd
    ; the top of the harness stack holds INT 0x81's frame when the previous case ended in
    ; ring 1..3: make what cases find there independent of the previous case
    cld
    mov edi, KSTACK_TOP - 32
    mov eax, 0xCCCCCCCC
    mov ecx, 8
    rep stosd
    ; debug registers off (a case that sets DR7.GD must end in the #DB it causes); DR7 is
    ; only written when it enables something: writing a DR may cost an emulator a lot
    mov eax, dr7
    test eax, 0x000000FF
    jz .dr7off
    xor eax, eax
    mov dr7, eax
.dr7off:
    ; paging off, CR4 clear, while the tables are restored
    mov eax, cr0
    and eax, ~(CR0_PG | CR0_WP | CR0_AM | CR0_MP | CR0_EM | CR0_TS | CR0_NE)
    or eax, CR0_PE
    mov cr0, eax
    jmp .pgoff
.pgoff:
    xor ecx, ecx
    mov cr4, ecx
    cld
    mov ebx, restore_table
.restore:
    mov esi, [ebx]
    mov edi, [ebx + 4]
    mov ecx, [ebx + 8]
    jecxz .restored
    rep movsd
    add ebx, 12
    jmp .restore
.restored:
    lgdt [gdt_ptr]
    lidt [idt_ptr]
    jmp SEL_CODE32:.reload
.reload:
    mov ax, SEL_DATA32
    mov ss, ax
    mov ds, ax
    mov es, ax
    ; the case's patches
    mov ecx, [case_ctx + CTX_NPATCH]
    mov esi, case_ctx + CTX_PATCHES
.patch:
    jecxz .patched
    mov edi, [esi]
    mov eax, [esi + 4]
    mov [edi], eax
    add esi, 8
    dec ecx
    jmp .patch
.patched:
    mov ax, SEL_TSS
    ltr ax
    lldt [case_ctx + CTX_LDTR]
    mov eax, [case_ctx + CTX_DR6]
    mov dr6, eax
    test dword [case_ctx + CTX_FLAGS], CTXF_DEBUG
    jz .nodr
    mov eax, [case_ctx + CTX_DR0]
    mov dr0, eax
    mov eax, [case_ctx + CTX_DR1]
    mov dr1, eax
    mov eax, [case_ctx + CTX_DR2]
    mov dr2, eax
    mov eax, [case_ctx + CTX_DR3]
    mov dr3, eax
.nodr:

    mov ebx, [case_ctx + CTX_FLAGS]
    xor ecx, ecx
%macro FLAGBIT 3                ; reg, ctx flag, cr bit
    test ebx, %2
    jz %%no
    or %1, %3
%%no:
%endmacro
    FLAGBIT ecx, CTXF_PSE, CR4_PSE
    FLAGBIT ecx, CTXF_PAE, CR4_PAE
    FLAGBIT ecx, CTXF_PGE, CR4_PGE
    FLAGBIT ecx, CTXF_VME, CR4_VME
    FLAGBIT ecx, CTXF_PVI, CR4_PVI
    FLAGBIT ecx, CTXF_DE, CR4_DE
    FLAGBIT ecx, CTXF_TSD, CR4_TSD
    mov cr4, ecx
    mov edx, PAGE_DIR
    test ebx, CTXF_PAE
    jz .nopae
    mov edx, PAE_PDPT
.nopae:
    mov cr3, edx
    mov eax, cr0
    FLAGBIT eax, CTXF_WP, CR0_WP
    FLAGBIT eax, CTXF_AM, CR0_AM
    FLAGBIT eax, CTXF_MP, CR0_MP
    FLAGBIT eax, CTXF_EM, CR0_EM
    FLAGBIT eax, CTXF_TS, CR0_TS
    FLAGBIT eax, CTXF_NE, CR0_NE
    FLAGBIT eax, CTXF_PAGING, CR0_PG
    mov cr0, eax
    jmp .pgset
.pgset:
    test ebx, CTXF_REAL
    jnz to_real
    test ebx, CTXF_V86
    jnz to_v86
    test byte [case_ctx + CTX_CS], 3
    jnz .outer
    ; ring 0: the IRET frame goes on the case's own stack
    mov ss, [case_ctx + CTX_SS]
    mov esp, [case_ctx + CTX_ESP]
    push dword [case_ctx + CTX_EFLAGS]
    push dword [case_ctx + CTX_CS]
    push dword [case_ctx + CTX_EIP]
    jmp .regs
.outer:
    push dword [case_ctx + CTX_SS]
    push dword [case_ctx + CTX_ESP]
    push dword [case_ctx + CTX_EFLAGS]
    push dword [case_ctx + CTX_CS]
    push dword [case_ctx + CTX_EIP]
.regs:
    test dword [cs:case_ctx + CTX_FLAGS], CTXF_DEBUG
    jz .nodr7
    mov eax, [cs:case_ctx + CTX_DR7]
    mov dr7, eax
.nodr7:
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

; V86: the IRET frame with VM on the ring 0 stack (ebx = context flags)
to_v86:
    push dword [case_ctx + CTX_GS]
    push dword [case_ctx + CTX_FS]
    push dword [case_ctx + CTX_DS]
    push dword [case_ctx + CTX_ES]
    push dword [case_ctx + CTX_SS]
    push dword [case_ctx + CTX_ESP]
    mov eax, [case_ctx + CTX_EFLAGS]
    or eax, EFLAGS_VM
    push eax
    push dword [case_ctx + CTX_CS]
    push dword [case_ctx + CTX_EIP]
    test ebx, CTXF_DEBUG
    jz .nodr7
    mov eax, [case_ctx + CTX_DR7]
    mov dr7, eax
.nodr7:
    mov eax, [case_ctx + CTX_EAX]
    mov ecx, [case_ctx + CTX_ECX]
    mov edx, [case_ctx + CTX_EDX]
    mov ebx, [case_ctx + CTX_EBX]
    mov ebp, [case_ctx + CTX_EBP]
    mov esi, [case_ctx + CTX_ESI]
    mov edi, [case_ctx + CTX_EDI]
    iretd

; Real mode: copy the context low, load 64 KiB (or 4 GiB: unreal) data segments, leave
; protected mode from 16-bit code, IRET into the case.
to_real:
    mov esi, case_ctx
    mov edi, RM_CTX
    mov ecx, CTX_REGS_SIZE / 4
    rep movsd
    xor eax, eax
    test ebx, CTXF_DEBUG
    jz .rmdr7
    mov eax, [case_ctx + CTX_DR7]
.rmdr7:
    mov [RM_CTX + CTX_REGS_SIZE], eax
    mov ax, SEL_DATA16
    test ebx, CTXF_UNREAL
    jz .limits
    mov ax, SEL_DATA32
.limits:
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ax, SEL_DATA16
    mov ss, ax
    lidt [RM_PTRS + 16]
    jmp SEL_CODE16_RM:(rm_enter - rm_blob)

; The case code ends with a jump here (a far jump from 16-bit code). May run in ring 1..3.
align 16
case_done:
    jmp case_done

; ---- exception stubs ---------------------------------------------------------------
EXC_STUB_SIZE equ 8
align 16
exc_stubs:
%macro EXC_STUB 1
%%stub:
%if %1 == 1
    jmp near db_stub            ; #DB: also pushes DR6
    times 3 nop
%else
    push byte %1                ; 6A ib
    jmp near exc_done           ; E9 rel32
    nop                         ; pad to EXC_STUB_SIZE
%endif
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

; #DB: [esp] = 1, DR6, EIP, CS, EFLAGS ...
align 16
db_stub:
    push eax
    mov eax, dr6
    xchg eax, [esp]
    push byte 1
    jmp exc_done

align 16
exc_done:
    hlt
    jmp exc_done

; Back from real mode (rm_to_pm): the registers are in RM_SAVE.
rm_back32:
    mov ax, SEL_DATA32
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov esp, KSTACK_TOP
    lidt [idt_ptr]
    cmp dword [RM_SAVE], 0
    je case_done
    jmp exc_done

; ---- real-mode code (copied to RM_BLOB; offsets relative to rm_blob) ---------------
%define RMOFF(x) ((x) - RM_BLOB)          ; a low linear address as an offset in RM_BLOB_SEG
global RM_EXC_STUBS_OFF
RM_DONE_OFF equ rm_done - rm_blob
RM_EXC_STUBS_OFF equ rm_exc_stubs - rm_blob
bits 16
align 16
rm_blob:
; entered from to_real: 16-bit protected mode, CS base RM_BLOB
rm_enter:
    mov eax, cr0
    and eax, ~CR0_PE
    mov cr0, eax
    jmp RM_BLOB_SEG:(rm_real - rm_blob)
rm_real:
    mov ss, [cs:RMOFF(RM_CTX) + CTX_SS]
    mov esp, [cs:RMOFF(RM_CTX) + CTX_ESP]
    push dword [cs:RMOFF(RM_CTX) + CTX_EFLAGS]
    push dword [cs:RMOFF(RM_CTX) + CTX_CS]
    push dword [cs:RMOFF(RM_CTX) + CTX_EIP]
    mov eax, [cs:RMOFF(RM_CTX) + CTX_REGS_SIZE]
    test eax, eax
    jz .nodr7
    mov dr7, eax
.nodr7:
    mov es, [cs:RMOFF(RM_CTX) + CTX_ES]
    mov fs, [cs:RMOFF(RM_CTX) + CTX_FS]
    mov gs, [cs:RMOFF(RM_CTX) + CTX_GS]
    mov eax, [cs:RMOFF(RM_CTX) + CTX_EAX]
    mov ecx, [cs:RMOFF(RM_CTX) + CTX_ECX]
    mov edx, [cs:RMOFF(RM_CTX) + CTX_EDX]
    mov ebx, [cs:RMOFF(RM_CTX) + CTX_EBX]
    mov ebp, [cs:RMOFF(RM_CTX) + CTX_EBP]
    mov esi, [cs:RMOFF(RM_CTX) + CTX_ESI]
    mov edi, [cs:RMOFF(RM_CTX) + CTX_EDI]
    mov ds, [cs:RMOFF(RM_CTX) + CTX_DS]
    iretd

%macro RM_SAVE_REGS 0
    mov [cs:RMOFF(RM_SAVE) + CTX_EAX], eax
    mov [cs:RMOFF(RM_SAVE) + CTX_ECX], ecx
    mov [cs:RMOFF(RM_SAVE) + CTX_EDX], edx
    mov [cs:RMOFF(RM_SAVE) + CTX_EBX], ebx
    mov [cs:RMOFF(RM_SAVE) + CTX_ESP], esp
    mov [cs:RMOFF(RM_SAVE) + CTX_EBP], ebp
    mov [cs:RMOFF(RM_SAVE) + CTX_ESI], esi
    mov [cs:RMOFF(RM_SAVE) + CTX_EDI], edi
    mov dword [cs:RMOFF(RM_SAVE) + CTX_SS], 0
    mov [cs:RMOFF(RM_SAVE) + CTX_SS], ss
    mov dword [cs:RMOFF(RM_SAVE) + CTX_DS], 0
    mov [cs:RMOFF(RM_SAVE) + CTX_DS], ds
    mov dword [cs:RMOFF(RM_SAVE) + CTX_ES], 0
    mov [cs:RMOFF(RM_SAVE) + CTX_ES], es
    mov dword [cs:RMOFF(RM_SAVE) + CTX_FS], 0
    mov [cs:RMOFF(RM_SAVE) + CTX_FS], fs
    mov dword [cs:RMOFF(RM_SAVE) + CTX_GS], 0
    mov [cs:RMOFF(RM_SAVE) + CTX_GS], gs
    mov ax, RM_BLOB_SEG         ; (MOV to SS changes no flag)
    mov ss, ax
    mov esp, RMOFF(RM_STACK_TOP)
    pushfd
    pop dword [cs:RMOFF(RM_SAVE) + CTX_EFLAGS]
%endmacro

; a real-mode case's end: jmp RM_BLOB_SEG:RM_DONE_OFF
align 16
rm_done:
    RM_SAVE_REGS
    mov dword [cs:RMOFF(RM_SAVE)], 0
    jmp rm_to_pm

; real-mode IVT targets: push the vector (a word), save, back to protected mode
align 16
rm_exc_stubs:
%macro RM_EXC_STUB 1
%%s:
    push word %1
    jmp near rm_exc_common
    times 8 - ($ - %%s) nop
%endmacro
%assign vec 0
%rep 256
    RM_EXC_STUB vec
%assign vec vec + 1
%endrep

rm_exc_common:
    RM_SAVE_REGS
    mov dword [cs:RMOFF(RM_SAVE)], 1
rm_to_pm:
    cli
    o32 lgdt [cs:RMOFF(RM_PTRS)]
    mov eax, cr0
    or al, CR0_PE
    mov cr0, eax
    jmp dword SEL_CODE32:rm_back32
rm_blob_end:
bits 32

; ---- data --------------------------------------------------------------------------
section .data
global gdt, idt, tss, case_ctx, gdt_ptr, idt_ptr, restore_table

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
    DESC 0, 0xFFFFF, 0xBB, 0xC                          ; 0x98 SEL_CODE32_R1
    DESC 0, 0xFFFFF, 0xB3, 0xC                          ; 0xA0 SEL_DATA32_R1
    DESC 0, 0xFFFFF, 0xDB, 0xC                          ; 0xA8 SEL_CODE32_R2
    DESC 0, 0xFFFFF, 0xD3, 0xC                          ; 0xB0 SEL_DATA32_R2
    DESC 0, 0xFFFFF, 0x9F, 0xC                          ; 0xB8 SEL_CODE32_CONF
    DESC 0, 0xFFFFF, 0xDF, 0xC                          ; 0xC0 SEL_CODE32_CONF_R2
    DESC RM_BLOB, 0x0FFFF, 0x9B, 0x0                    ; 0xC8 SEL_CODE16_RM
    DESC RM_CODE, 0x0FFFF, 0x9B, 0x0                    ; 0xD0 SEL_CODE16_RMCASE
    DESC RM_DATA, 0x0FFFF, 0x93, 0x0                    ; 0xD8 SEL_DATA16_RMDATA
    DESC RM_STACK, 0x0FFFF, 0x93, 0x0                   ; 0xE0 SEL_STACK16_RM
    DESC LDT_AREA, 0x000FF, 0x82, 0x0                   ; 0xE8 SEL_LDT
    DESC TSS_A, 103, 0x89, 0x0                          ; 0xF0 SEL_TSS_A
    DESC TSS_B, 103, 0x89, 0x0                          ; 0xF8 SEL_TSS_B
    DESC TSS16_C, 43, 0x81, 0x0                         ; 0x100 SEL_TSS16_C
    DESC TSS16_D, 43, 0x81, 0x0                         ; 0x108 SEL_TSS16_D
    DESC CODE_AREA, 0x0FFFF, 0xFB, 0x0                  ; 0x110 SEL_CODE16_R3
    times SCRATCH_COUNT dq 0                            ; 0x118 SEL_SCRATCH ...
gdt_end:

; LDT entries (selector = index * 8 | 4 | RPL): 0x04 ring 0 flat data, 0x0C ring 3 flat
; data, 0x14 ring 0 flat code, 0x1C ring 3 flat code, 0x24 data not present,
; 0x2C data based at DATA_AREA (limit 0xFFF)
align 4
ldt_init:
    DESC 0, 0xFFFFF, 0x93, 0xC
    DESC 0, 0xFFFFF, 0xF3, 0xC
    DESC 0, 0xFFFFF, 0x9B, 0xC
    DESC 0, 0xFFFFF, 0xFB, 0xC
    DESC 0, 0xFFFFF, 0x13, 0xC
    DESC DATA_AREA, 0x00FFF, 0x93, 0x4
ldt_init_end:

align 4
    dw 0
gdt_ptr:
    dw gdt_end - gdt - 1
    dd gdt
    dw 0
idt_ptr:
    dw 256 * 8 - 1
    dd idt

; (pristine copy, live table, dwords): what case_entry restores
P_GDT  equ PRISTINE
P_IDT  equ PRISTINE + 0x0800
P_TSS  equ PRISTINE + 0x1000
P_LOW  equ PRISTINE + 0x1400       ; V86 IVT + real-mode IVT + LDT (0 .. 0x2100)
P_HLT  equ PRISTINE + 0x3800
P_PD   equ PRISTINE + 0x4000
P_PT0  equ PRISTINE + 0x5000
P_PAE  equ PRISTINE + 0x6000       ; PAE_PD, PAE_PT0, PAE_PT1, PAE_PDPT
align 4
restore_table:
    dd P_GDT, gdt, (gdt_end - gdt) / 4
    dd P_IDT, idt, 256 * 2
    dd P_TSS, tss, (TSS_SIZE + 3) / 4
    dd P_LOW, V86_IVT, 0x2100 / 4
    dd P_HLT, V86_HLT, 0x200 / 4
    dd P_PD, PAGE_DIR, 1024
    dd P_PT0, PAGE_TABLE0, 1024
    dd P_PAE, PAE_PD, (PAE_PDPT + 32 - PAE_PD) / 4
    dd 0, 0, 0

align 16
case_ctx:
    dd CTXF_PSE                 ; flags
    times 8 dd 0                ; eax ecx edx ebx esp ebp esi edi
    dd CODE_AREA                ; eip
    dd 2                        ; eflags
    dd SEL_CODE32               ; cs
    dd SEL_DATA32, SEL_DATA32, SEL_DATA32, SEL_DATA32, SEL_DATA32   ; ss ds es fs gs
    dd 0                        ; ldtr
    times 4 dd 0                ; dr0..dr3
    dd 0xFFFF0FF0               ; dr6
    dd 0x400                    ; dr7
    dd 0                        ; patches
    times CTX_MAX_PATCHES dq 0

section .bss
alignb 4096
idt:
    resb 256 * 8
alignb 16
tss:
    resb (TSS_SIZE + 3) & ~3
