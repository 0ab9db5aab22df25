; Reboot guest in Linux bzImage form (boot protocol 2.10, LOADED_HIGH): one setup sector
; holding the header, then 32-bit code loaded at 1 MiB and entered with ESI = boot_params.
; Each boot prints "linux N", whether ESI points at a zero page with our command line and
; whether its own code is as the file holds it, then resets through 0xCF9; the third boot
; exits through isa-debug-exit. Only for bmbt-dbg's direct 32-bit path (it has no
; real-mode setup code).
    bits 16
    org 0
setup:
    times 0x1f1 - ($ - $$) db 0
    db 1                        ; setup_sects
    dw 0                        ; root_flags
    dd (kernel_end - kernel) / 16   ; syssize
    dw 0, 0, 0                  ; ram_size, vid_mode, root_dev
    dw 0xaa55                   ; boot_flag
    jmp short $                 ; 0x200: jump (unused: no real-mode entry)
    db 'HdrS'
    dw 0x020a                   ; version 2.10
    dd 0                        ; realmode_swtch
    dw 0, 0                     ; start_sys_seg, kernel_version
    db 0                        ; type_of_loader
    db 0x01                     ; loadflags: LOADED_HIGH
    dw 0                        ; setup_move_size
    dd 0x100000                 ; code32_start
    dd 0, 0                     ; ramdisk_image, ramdisk_size
    dd 0                        ; bootsect_kludge
    dw 0                        ; heap_end_ptr
    db 0, 0                     ; ext_loader_ver, ext_loader_type
    dd 0                        ; cmd_line_ptr
    dd 0x7fffffff               ; initrd_addr_max
    dd 0x1000                   ; kernel_alignment
    db 0, 0                     ; relocatable_kernel, min_alignment
    dw 0                        ; xloadflags
    dd 255                      ; cmdline_size
    dd 0, 0, 0                  ; hardware_subarch, hardware_subarch_data
    dd 0, 0                     ; payload_offset, payload_length
    dd 0, 0                     ; setup_data
    dd 0, 0                     ; pref_address
    dd 0x10000                  ; init_size
    times 1024 - ($ - $$) db 0   ; boot sector + one setup sector

    bits 32
%define K(x) (0x100000 + (x) - kernel)
kernel:
    mov ebp, esi
    mov dx, 0x70
    mov al, 0x42
    out dx, al
    in al, 0x71
    movzx ebx, al
    mov esi, K(msg_boot)
    call puts
    lea eax, [ebx + '0']
    call putc
    ; the command line through the zero page (cmd_line_ptr at 0x228)
    mov esi, K(msg_cmd)
    call puts
    mov esi, [ebp + 0x228]
    call puts
    mov esi, K(msg_intact)
    cmp dword [K(marker)], 0x12345678
    je .ok
    mov esi, K(msg_changed)
.ok:
    call puts
    mov dword [K(marker)], 0xdeadbeef
    mov al, 0x42
    out 0x70, al
    lea eax, [ebx + 1]
    out 0x71, al
    cmp ebx, 2
    jae .exit
    mov dx, 0xcf9
    mov al, 0x02
    out dx, al
    mov al, 0x06
    out dx, al
    jmp $
.exit:
    mov al, 0x42
    out 0x70, al
    xor eax, eax
    out 0x71, al
    out 0xf4, al
    jmp $

putc:
    push eax
    mov dx, 0x3fd
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    pop eax
    mov dx, 0x3f8
    out dx, al
    ret
puts:
    lodsb
    test al, al
    jz .done
    call putc
    jmp puts
.done:
    ret

msg_boot: db 'linux ', 0
msg_cmd: db ' cmdline ', 0
msg_intact: db ' code as loaded', 10, 0
msg_changed: db ' code CHANGED', 10, 0
    align 4
marker: dd 0x12345678
    align 16
kernel_end:
