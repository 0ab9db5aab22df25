; media-probe: a hard-disk image whose boot sector loads the rest of this program with
; INT 13h, then watches the CD-ROM drive (secondary master, ATAPI, polled) and floppy
; drive A (the FDC, polled, PIO) while the test changes their media through the monitor.
; At each step it prints what the drives answer on COM1 and then "#N" and waits for a
; byte on COM1: the test runs its monitor commands (eject, change) and sends the byte.
; The same image runs on QEMU and on bmbt-dbg; the test compares the serial output.
bits 16
org 0x7c00
SECTORS equ 8               ; this program's size in sectors
BASE equ 0x170
CTRL equ 0x376
FDC equ 0x3f0
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
  mov ax, 0x0200 + SECTORS - 1
  mov cx, 0x0002
  xor dh, dh
  mov bx, 0x7e00
  int 13h
  jc exit
  jmp main

exit:
  mov si, s_done
  call puts
  mov al, 0
  out 0xf4, al
  cli
  hlt

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

drive: db 0
times 510-($-$$) db 0
dw 0xaa55

; ---------------------------------------------------------------- stage 2
main:
  cli
  mov al, 0xff          ; every IRQ masked: the probe polls
  out 0x21, al
  out 0xa1, al
  sti
  mov dx, CTRL
  mov al, 2             ; nIEN
  out dx, al
  mov si, s_hello
  call puts
  call report           ; an empty CD-ROM drive, floppy A
  call hold             ; #1: a CD goes in, the floppy comes out
  call report
  mov si, p_lock
  call packet
  call hold             ; #2: eject refused (locked); another floppy goes in
  call report
  call hold             ; #3: eject -f
  call report
  call hold             ; #4: another CD goes in
  call report
  mov si, p_open        ; the guest opens the tray, closes it, locks it, tries to open it
  call packet
  call report
  mov si, p_close
  call packet
  call report
  mov si, p_lock
  call packet
  mov si, p_open
  call packet
  mov si, p_unlock
  call packet
  call hold             ; #5: the test reads info block
  jmp exit

; hold: "#N", then a byte from COM1
hold:
  inc byte [step]
  mov al, '#'
  call putc
  mov al, [step]
  call hex8
  call crlf
  mov dx, 0x3fd
.w: in al, dx
  test al, 1
  jz .w
  mov dx, 0x3f8
  in al, dx
  ret

; report: the CD-ROM's answers, then the floppy's
report:
  mov si, s_cd
  call puts
  call crlf
  mov si, p_tur
  call packet
  mov si, p_sense
  call packet
  mov si, p_event
  call packet
  mov si, p_capacity
  call packet
  mov si, p_read16
  call packet
  mov si, p_sense
  call packet
  mov si, p_tur
  call packet
  mov si, p_event
  call packet
  jmp floppy

; packet: SI = 12-byte packet; byte count limit 2048; prints status, reason, byte count,
; the first 32 words of data and their sum, error
packet:
  push si
  mov al, '>'
  call putc
  mov al, [si]
  call hex8
  call space
  mov dx, BASE+6
  mov al, 0xa0
  out dx, al
  mov dx, BASE+1
  mov al, 0
  out dx, al
  mov dx, BASE+4
  mov al, 0x00
  out dx, al
  inc dx
  mov al, 0x08
  out dx, al
  mov dx, BASE+7
  mov al, 0xa0
  out dx, al
  call settle
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
  mov ax, cx
  call hexax
  shr cx, 1
  xor bx, bx
  xor di, di
.d:
  mov dx, BASE
  in ax, dx
  add bx, ax
  cmp di, 16
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
.nodata:
  call error
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
settle:
  mov dx, CTRL
.s:
  in al, dx
  test al, 0x80
  jnz .s
  ret

; ---------------------------------------------------------------- floppy A
; DIR's change bit, SENSE DRIVE STATUS, a seek to track 1 and back (which clears the
; change line when a medium is in), READ ID, and sector 1 read by PIO (sum of its words).
floppy:
  mov si, s_fd
  call puts
  mov dx, FDC+2
  mov al, 0x1c          ; motor A on, DMA gate on, not reset, drive 0
  out dx, al
  mov dx, FDC+7
  mov al, 0             ; 500 kb/s
  out dx, al
  call dir
  mov al, 0x03          ; SPECIFY: non-DMA
  call fdout
  mov al, 0xdf
  call fdout
  mov al, 0x03
  call fdout
  mov al, 0x04          ; SENSE DRIVE STATUS, drive 0 head 0
  call fdout
  mov al, 0
  call fdout
  call results
  mov al, 1
  call seek
  call dir
  mov al, 0
  call seek
  call dir
  mov al, 0x4a          ; READ ID (MFM), drive 0
  call fdout
  mov al, 0
  call fdout
  call results
  ; READ DATA (MFM): C 0 H 0 R 1 N 2, EOT 1, GPL 0x1b, DTL 0xff
  mov si, c_read
  mov cx, 9
.c:
  lodsb
  call fdout
  loop .c
  xor bx, bx
.x:
  mov dx, FDC+4
  in al, dx
  and al, 0xe0
  cmp al, 0xe0          ; RQM, DIO, non-DMA: a data byte
  jne .r
  mov dx, FDC+5
  in al, dx
  xor ah, ah
  add bx, ax
  jmp .x
.r:
  cmp al, 0xc0          ; RQM, DIO: the result phase
  jne .x
  mov ax, bx
  call hexax
  call results
  jmp crlf

seek:                   ; AL = track; then SENSE INTERRUPT STATUS
  push ax
  mov al, 0x0f
  call fdout
  mov al, 0
  call fdout
  pop ax
  call fdout
  mov al, 0x08
  call fdout
  jmp results

dir:
  mov al, 'd'
  call putc
  mov dx, FDC+7
  in al, dx
  and al, 0x80
  call hex8
  jmp space

fdout:                  ; AL to the FIFO when it asks for a byte
  push ax
  mov dx, FDC+4
.w:
  in al, dx
  and al, 0xc0
  cmp al, 0x80
  jne .w
  pop ax
  mov dx, FDC+5
  out dx, al
  ret

results:                ; the result bytes while the FIFO has them
  mov al, '['
  call putc
.w:
  mov dx, FDC+4
  in al, dx
  test al, 0x80
  jz .w
  test al, 0x40
  jz .d
  mov dx, FDC+5
  in al, dx
  call hex8
  call space
  jmp .w
.d:
  mov al, ']'
  call putc
  jmp space

step: db 0
s_hello: db 'media-probe', 13, 10, 0
s_cd: db 'cd:', 0
s_fd: db 'fd: ', 0
s_done: db 'done', 13, 10, 0
c_read: db 0x46, 0, 0, 0, 1, 2, 1, 0x1b, 0xff
p_tur: db 0x00, 0,0,0,0,0,0,0,0,0,0,0
p_sense: db 0x03, 0,0,0,18,0,0,0,0,0,0,0
p_capacity: db 0x25, 0,0,0,0,0,0,0,0,0,0,0
p_read16: db 0x28, 0, 0,0,0,16, 0, 0,1, 0,0,0
p_event: db 0x4a, 1, 0, 0, 0x10, 0, 0, 0,8, 0,0,0
p_lock: db 0x1e, 0,0,0,1,0,0,0,0,0,0,0
p_unlock: db 0x1e, 0,0,0,0,0,0,0,0,0,0,0
p_open: db 0x1b, 0,0,0,2,0,0,0,0,0,0,0
p_close: db 0x1b, 0,0,0,3,0,0,0,0,0,0,0
times SECTORS*512-($-$$) db 0
