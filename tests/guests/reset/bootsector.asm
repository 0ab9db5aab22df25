; Reboot guest as a boot sector: counts its boots in CMOS byte 0x41, prints "bs N" on
; COM1 and whether its own code is as the disk/file holds it (the previous boot
; overwrote `marker`), then resets through port 0x92; the third boot exits through
; isa-debug-exit. Runs at 0000:7C00 in real mode, with or without a BIOS.
    bits 16
    org 0x7c00
start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7c00
    mov al, 0x41
    out 0x70, al
    in al, 0x71
    mov bl, al
    mov si, msg_boot
    call puts
    mov al, bl
    add al, '0'
    call putc
    mov si, msg_intact
    cmp word [marker], 0x1234
    je .ok
    mov si, msg_changed
.ok:
    call puts
    mov word [marker], 0xdead
    mov al, 0x41
    out 0x70, al
    mov al, bl
    inc al
    out 0x71, al
    cmp bl, 2
    jae .exit
    in al, 0x92
    or al, 1
    out 0x92, al
    jmp $
.exit:
    mov al, 0x41
    out 0x70, al
    xor al, al
    out 0x71, al
    out 0xf4, al
    jmp $

putc:                       ; AL = character
    push ax
    mov dx, 0x3fd
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    pop ax
    mov dx, 0x3f8
    out dx, al
    ret
puts:                       ; SI = zero-terminated string
    lodsb
    test al, al
    jz .done
    call putc
    jmp puts
.done:
    ret

msg_boot: db 'bs ', 0
msg_intact: db ' code as loaded', 10, 0
msg_changed: db ' code CHANGED', 10, 0
marker: dw 0x1234
    times 510 - ($ - $$) db 0
    dw 0xaa55
