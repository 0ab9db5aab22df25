; cd-probe: an El Torito "no emulation" boot image (4 x 512 bytes, loaded at 0x7C00 by
; SeaBIOS from a CD in the secondary master) that reads the CD through INT 13h and then
; talks ATAPI to the drive directly (0x170/0x376, IRQ 15): IDENTIFY DEVICE (aborted, with
; the packet signature), IDENTIFY PACKET DEVICE, and PACKET commands, printing status,
; interrupt reason, byte count and data on COM1. The same ISO runs on QEMU and on
; bmbt-dbg; the test compares the serial output.
bits 16
org 0x7c00
BASE equ 0x170
CTRL equ 0x376
BUF equ 0x9000

start:
  cli
  mov al, 0xfb          ; the timer masked at once (SeaBIOS's serial console)
  out 0x21, al
  xor ax, ax
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov sp, 0x7c00
  sti
  mov [drive], dl
  mov si, s_hello
  call puts
  mov al, dl
  call hex8
  call crlf
  ; INT 13h: extensions, then sector 16 (the primary volume descriptor)
  mov ah, 0x41
  mov bx, 0x55aa
  mov dl, [drive]
  int 13h
  call hexax
  mov ax, bx
  call hexax
  mov ax, cx
  call hexax
  mov si, dap
  mov ah, 0x42
  mov dl, [drive]
  int 13h
  call hexax
  mov si, BUF
  mov cx, 6
.pvd:
  lodsb
  call hex8
  loop .pvd
  call crlf
  cli
  mov al, 0xff
  out 0xa1, al          ; IRQ 15 masked: we poll
  sti
  mov dx, CTRL
  mov al, 2
  out dx, al

  ; IDENTIFY DEVICE: aborted, with the packet signature
  mov si, s_id
  call puts
  mov al, 0xa0
  mov dx, BASE+6
  out dx, al
  mov al, 0xec
  call command
  call settle
  call status
  call error
  call regs
  ; IDENTIFY PACKET DEVICE: 256 words
  mov si, s_pid
  call puts
  mov al, 0xa1
  call command
  call settle
  call status
  call crlf
  mov cx, 256
  xor di, di
.id:
  mov dx, BASE
  in ax, dx
  call hexax
  inc di
  test di, 7
  jnz .id2
  call crlf
.id2:
  loop .id
  call status
  call crlf

  ; packets: each prints status, reason, byte count, then the data (up to 64 bytes in hex)
  mov si, p_tur
  call packet
  mov si, p_sense
  call packet
  mov si, p_tur
  call packet
  mov si, p_inquiry
  call packet
  mov si, p_capacity
  call packet
  mov si, p_read16
  call packet
  mov si, p_read12
  call packet
  mov si, p_modesense
  call packet
  mov si, p_config
  call packet
  mov si, p_toc
  call packet
  mov si, p_event
  call packet
  mov si, p_badlba
  call packet
  mov si, p_sense
  call packet
  mov si, p_unknown
  call packet
  mov si, p_sense
  call packet

  call crlf
  mov si, s_done
  call puts
  mov al, 0
  out 0xf4, al
  cli
  hlt

; packet: SI = 12-byte packet; byte count limit 2048
packet:
  push si
  mov al, '>'
  call putc
  mov al, [si]
  call hex8
  call space
  mov dx, BASE+1
  mov al, 0
  out dx, al            ; PIO
  mov dx, BASE+4
  mov al, 0x00
  out dx, al
  inc dx
  mov al, 0x08
  out dx, al            ; byte count limit 0x0800
  mov al, 0xa0
  call command
  call settle
  call status
  call reason
  pop si
  mov cx, 6
  mov dx, BASE
.w:
  lodsw
  out dx, ax
  loop .w
  call settle
  call status
  call reason
  call count
  ; data: while DRQ, read the byte count; print the first 64 bytes, then a word sum
  mov dx, CTRL
  in al, dx
  test al, 0x08
  jz .nodata
  mov dx, BASE+4
  in al, dx
  mov cl, al
  inc dx
  in al, dx
  mov ch, al
  shr cx, 1
  xor bx, bx
  xor di, di
.d:
  mov dx, BASE
  in ax, dx
  add bx, ax
  cmp di, 32
  jae .skip
  xchg al, ah
  call hexax
.skip:
  inc di
  loop .d
  mov al, '='
  call putc
  mov ax, bx
  call hexax
  call settle
  call status
  call reason
.nodata:
  call error
  jmp crlf

regs:
  mov dx, BASE+2
.r:
  in al, dx
  call hex8
  call space
  inc dx
  cmp dx, BASE+7
  jne .r
  jmp crlf
status:
  mov dx, BASE+7
  in al, dx
  call hex8
  jmp space
error:
  mov dx, BASE+1
  in al, dx
  call hex8
  jmp space
reason:
  mov dx, BASE+2
  in al, dx
  call hex8
  jmp space
count:
  mov dx, BASE+5
  in al, dx
  mov ah, al
  dec dx
  in al, dx
  call hexax
  ret
settle:
  mov dx, CTRL
.s:
  in al, dx
  test al, 0x80
  jnz .s
  ret
command:
  mov dx, BASE+7
  out dx, al
  ret

puts:
  lodsb
  test al, al
  jz .d
  call putc
  jmp puts
.d: ret
crlf:
  mov al, 13
  call putc
  mov al, 10
putc:
  push dx
  push ax
  mov dx, 0x3fd
.w: in al, dx
  test al, 0x20
  jz .w
  pop ax
  mov dx, 0x3f8
  out dx, al
  pop dx
  ret
hexax:
  push ax
  mov al, ah
  call hex8
  pop ax
  call hex8
space:
  push ax
  mov al, ' '
  call putc
  pop ax
  ret
hex8:
  push ax
  shr al, 4
  call hex4
  pop ax
hex4:
  push ax
  and al, 15
  add al, '0'
  cmp al, '9'
  jbe .p
  add al, 7
.p: call putc
  pop ax
  ret

dap: db 16, 0
  dw 1, BUF, 0
  dq 16
drive: db 0
s_hello: db 'cd-probe dl=', 0
s_id: db 'IDENTIFY ', 0
s_pid: db 'IDENTIFY PACKET ', 0
s_done: db 'done', 13, 10, 0
p_tur: db 0x00, 0,0,0,0,0,0,0,0,0,0,0
p_sense: db 0x03, 0,0,0,18,0,0,0,0,0,0,0
p_inquiry: db 0x12, 0,0,0,36,0,0,0,0,0,0,0
p_capacity: db 0x25, 0,0,0,0,0,0,0,0,0,0,0
p_read16: db 0x28, 0, 0,0,0,16, 0, 0,1, 0,0,0
p_read12: db 0xa8, 0, 0,0,0,17, 0,0,0,1, 0,0
p_modesense: db 0x5a, 0, 0x2a, 0,0,0,0, 0,64, 0,0,0
p_config: db 0x46, 0, 0,0, 0,0,0, 0,32, 0,0,0
p_toc: db 0x43, 0, 0, 0,0,0,0, 0,32, 0,0,0
p_event: db 0x4a, 1, 0, 0, 0x10, 0, 0, 0,8, 0,0,0
p_badlba: db 0x28, 0, 0,0x10,0,0, 0, 0,1, 0,0,0
p_unknown: db 0xee, 0,0,0,0,0,0,0,0,0,0,0
times 2048-($-$$) db 0
