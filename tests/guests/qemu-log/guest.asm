; A guest for the -d int,cpu_reset log (tests/qemu-log.test.ts): Multiboot v1 ELF32 that
; sets every register it can to known values, then takes, in protected mode,
;   #UD (handled), INT 0x30, a hardware interrupt (PIT IRQ 0 while halted), #PF (CR2,
;   handled), and finally INT 0x30 with an empty IDT: #GP -> #GP = #DF -> #GP: triple
;   fault. (A software interrupt first, so no error code QEMU and we compute differently
;   is printed: QEMU never sets the EXT bit.)
; Its own GDT and register values make QEMU's and bmbt-dbg's register dumps comparable
; (no loader or firmware state left in them). Progress goes to the debug console 0xE9:
; "ABCDEF" before the triple fault. With -no-reboot both emulators end there.

bits 32
section .multiboot
align 4
    dd 0x1BADB002, 0, -0x1BADB002

section .text
global _start
_start:
    cli
    fninit                      ; the x87 as firmware leaves it, whoever loaded us
    lgdt [gdtr]
    jmp 0x08:.flush
.flush:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov ax, 0x18                ; a 16-bit data segment, so a "DS16" line shows up
    mov fs, ax
    xor ax, ax
    mov gs, ax                  ; null selector
    mov esp, stack_top
    ; IDT gates: #UD, #PF, IRQ 0 at 0x20, INT 0x30
    mov ecx, 6
    mov eax, ud_handler
    call set_gate
    mov ecx, 14
    mov eax, pf_handler
    call set_gate
    mov ecx, 0x20
    mov eax, irq0_handler
    call set_gate
    mov ecx, 0x30
    mov eax, int30_handler
    call set_gate
    lidt [idtr]
    ; 8259s: ICW1-4, master at 0x20, slave at 0x28, everything masked but IRQ 0
    mov al, 0x11
    out 0x20, al
    out 0xa0, al
    mov al, 0x20
    out 0x21, al
    mov al, 0x28
    out 0xa1, al
    mov al, 4
    out 0x21, al
    mov al, 2
    out 0xa1, al
    mov al, 1
    out 0x21, al
    out 0xa1, al
    mov al, 0xfe
    out 0x21, al
    mov al, 0xff
    out 0xa1, al
    ; identity-map the first 4 MiB with one PSE page; 0x40000000 stays unmapped
    mov dword [page_dir], 0x00000083
    mov eax, page_dir
    mov cr3, eax
    mov eax, cr4
    or eax, 0x10                ; PSE
    mov cr4, eax
    mov eax, cr0
    or eax, 0x80000000          ; PG
    mov cr0, eax

    mov al, 'A'
    out 0xe9, al
    call known_registers
    mov al, 0x7f
    add al, 1                   ; OF SF AF set
    std
    stc
    ud2                         ; #UD: the handler skips it
    cld
    mov al, 'B'
    out 0xe9, al
    call known_registers
    int 0x30
    mov al, 'C'
    out 0xe9, al
    ; PIT channel 0, mode 2, a short count; wait for IRQ 0 halted
    mov al, 0x34
    out 0x43, al
    mov al, 0x00
    out 0x40, al
    mov al, 0x10
    out 0x40, al
    call known_registers
    sti
    hlt
    cli
    mov al, 'D'
    out 0xe9, al
    call known_registers
    mov eax, [0x40000000]       ; #PF (not present, read): the handler skips these 5 bytes
    mov al, 'E'
    out 0xe9, al
    call known_registers
    lidt [idtr_empty]
    mov al, 'F'
    out 0xe9, al
    call known_registers
    int 0x30                    ; IDT limit: #GP(0x182) -> #GP: #DF -> #GP: triple fault
.dead:
    hlt
    jmp .dead

known_registers:
    mov eax, 0x11111111
    mov ebx, 0x22222222
    mov ecx, 0x33333333
    mov edx, 0x44444444
    mov esi, 0x55555555
    mov edi, 0x66666666
    mov ebp, 0x77777777
    ret

; set_gate(vector ecx, handler eax): a 32-bit interrupt gate, DPL 0
set_gate:
    mov word [idt + ecx*8], ax
    mov word [idt + ecx*8 + 2], 0x08
    mov word [idt + ecx*8 + 4], 0x8e00
    shr eax, 16
    mov word [idt + ecx*8 + 6], ax
    ret

ud_handler:
    add dword [esp], 2
    iret
pf_handler:
    add esp, 4
    add dword [esp], 5
    iret
irq0_handler:
    push eax
    mov al, 0xff
    out 0x21, al                ; no more timer interrupts
    mov al, 0x20
    out 0x20, al                ; EOI
    pop eax
    iret
int30_handler:
    iret

section .data
align 8
gdt:
    dq 0
    dq 0x00cf9b000000ffff       ; 0x08 code, 32-bit, 4 GiB (accessed already: QEMU does not set it for CS)
    dq 0x00cf92000000ffff       ; 0x10 data, 32-bit, 4 GiB (accessed bit clear: the CPU sets it)
    dq 0x000092000000ffff       ; 0x18 data, 16-bit, 64 KiB
gdt_end:
gdtr:
    dw gdt_end - gdt - 1
    dd gdt
idtr:
    dw 0x31 * 8 - 1
    dd idt
idtr_empty:
    dw 0
    dd 0

section .bss
alignb 4096
page_dir:
    resb 4096
idt:
    resb 0x31 * 8
alignb 16
    resb 4096
stack_top:
