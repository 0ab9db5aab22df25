; bootsector: a 512-byte real-mode boot sector (loaded at 0000:7C00, no BIOS calls).
; Prints on COM1 by port I/O, switches to 32-bit protected mode and back, uses "unreal"
; mode (a 4 GiB data limit kept after returning to real mode) to reach memory above
; 1 MiB, and exits through isa-debug-exit (port 0xF4) with value 0.
bits 16
org 0x7c00

COM1 equ 0x3f8

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00
    cld
    ; 115200 8N1, FIFO on
    mov dx, COM1 + 3
    mov al, 0x80
    out dx, al
    mov dx, COM1
    mov al, 1
    out dx, al
    inc dx
    xor al, al
    out dx, al
    mov dx, COM1 + 3
    mov al, 3
    out dx, al
    mov si, msg_real
    call puts16
    ; enable A20 through port 0x92 (a no-op where it is already on)
    in al, 0x92
    or al, 2
    and al, 0xfe
    out 0x92, al
    ; protected mode
    lgdt [gdt_desc]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp 0x08:pm32

bits 32
pm32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax
    mov esi, msg_pm
    call puts32
    ; a value above 1 MiB, read back later from real mode through FS (unreal mode)
    mov dword [0x200000], 0x600dcafe
    ; back to real mode: 16-bit protected-mode code first
    jmp 0x18:pm16

bits 16
pm16:
    mov ax, 0x20
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov eax, cr0
    and al, 0xfe
    mov cr0, eax
    jmp 0x0000:rm16

rm16:
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov si, msg_back
    call puts16
    ; FS still has the 4 GiB limit from protected mode: unreal mode
    xor ax, ax
    mov fs, ax
    mov eax, [fs:dword 0x200000]
    cmp eax, 0x600dcafe
    jne .bad
    mov si, msg_unreal
    call puts16
    mov al, 0
    out 0xf4, al
.bad:
    mov si, msg_fail
    call puts16
    mov al, 1
    out 0xf4, al
    hlt

; si -> zero-terminated string
puts16:
    lodsb
    test al, al
    jz .done
    call putc16
    jmp puts16
.done:
    ret

putc16:
    push dx
    push ax
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    pop ax
    mov dx, COM1
    out dx, al
    pop dx
    ret

bits 32
puts32:
    lodsb
    test al, al
    jz .done
    mov dx, COM1
    out dx, al
    jmp puts32
.done:
    ret

msg_real:   db "boot: real mode", 13, 10, 0
msg_pm:     db "boot: 32-bit protected mode", 13, 10, 0
msg_back:   db "boot: back in real mode", 13, 10, 0
msg_unreal: db "boot: unreal mode read 600dcafe above 1 MiB", 13, 10, 0
msg_fail:   db "boot: unreal mode read failed", 13, 10, 0

align 8
gdt:
    dq 0
    dq 0x00cf9a000000ffff       ; 0x08 code32 flat
    dq 0x00cf92000000ffff       ; 0x10 data32 flat
    dq 0x00009a000000ffff       ; 0x18 code16, base 0, limit 64 KiB
    dq 0x000092000000ffff       ; 0x20 data16, base 0, limit 64 KiB
gdt_desc:
    dw gdt_desc - gdt - 1
    dd gdt

times 510 - ($ - $$) db 0
dw 0xaa55
