; fdcmd-probe: a hard-disk image whose boot sector loads the rest of this program with
; INT 13h, then sends floppy drive A the rarer commands, polled: FORMAT TRACK (and what
; it does to the drive's sectors per track), READ TRACK, SCAN EQUAL / LOW OR EQUAL /
; HIGH OR EQUAL (by DMA in verify mode, and by PIO), printing result bytes, sums of the
; data read and the 8237's count on COM1. The same image runs on QEMU and on bmbt-dbg;
; the test compares the serial output and the floppy image afterwards.
bits 16
org 0x7c00
SECTORS equ 6               ; this program's size in sectors
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
  mov si, s_hello
  call puts
  mov dx, FDC+2
  mov al, 0x1c          ; motor A on, DMA gate on, not reset, drive 0
  out dx, al
  mov dx, FDC+7
  mov al, 0             ; 500 kb/s
  out dx, al
  mov al, 0x02          ; SPECIFY: DMA
  call specify
  mov al, 0
  call seek
  call crlf

  mov si, s_format      ; FORMAT TRACK, 18 sectors, then what DUMPREG says
  call puts
  mov al, 18
  call format
  call dumpreg
  call crlf
  mov si, s_format      ; 9 sectors: the drive now counts 9 per track
  call puts
  mov al, 9
  call format
  call dumpreg
  mov al, 0x03          ; SPECIFY: non-DMA
  call specify
  mov byte [c_read+2], 1
  mov byte [c_read+4], 1
  mov byte [c_read+6], 1
  mov si, c_read        ; READ DATA C1 H0 R1
  call pioread
  call crlf
  mov si, s_format      ; back to 18
  call puts
  mov al, 18
  call format
  mov si, c_read
  call pioread
  call crlf

  mov si, s_track       ; READ TRACK (MFM) C0 H0 R3 EOT 4, by PIO; then with MT: invalid
  call puts
  mov byte [c_read], 0x42
  mov byte [c_read+2], 0
  mov byte [c_read+4], 3
  mov byte [c_read+6], 4
  mov si, c_read
  call pioread
  mov al, 0xc2
  call fdout
  call results
  mov al, 0x8d          ; FORMAT with MT: invalid
  call fdout
  call results
  call crlf

  ; sector C0 H0 R1 into BUF by PIO (READ DATA)
  mov byte [c_read], 0x46
  mov byte [c_read+4], 1
  mov byte [c_read+6], 1
  mov si, s_scan
  call puts
  mov si, c_read
  call pioread
  call crlf
  mov al, 0x02          ; SPECIFY: DMA
  call specify
  mov byte [c_scan], 0x51   ; SCAN EQUAL, the same bytes
  call scan
  inc byte [BUF+100]        ; one byte different
  mov byte [c_scan], 0x51
  call scan
  mov di, BUF               ; zeros: lower than the disk
  mov cx, 512
  xor al, al
  rep stosb
  mov byte [c_scan], 0x59   ; SCAN LOW OR EQUAL
  call scan
  mov byte [c_scan], 0x5d   ; SCAN HIGH OR EQUAL
  call scan
  mov di, BUF               ; 0xFF: higher than the disk
  mov cx, 512
  mov al, 0xff
  rep stosb
  mov byte [c_scan], 0x59
  call scan
  mov byte [c_scan], 0x5d
  call scan
  mov byte [c_scan], 0x51   ; SCAN EQUAL with the channel in read mode
  mov byte [dmamode], 0x46
  call scan
  mov al, 0x03          ; SCAN EQUAL by PIO
  call specify
  mov si, s_scanpio
  call puts
  mov byte [c_scan], 0x51
  mov si, c_scan
  call pioread
  call crlf
  jmp exit

; scan: c_scan by DMA (channel 2 in [dmamode], 512 bytes at BUF); results, the 8237's count
scan:
  mov al, '>'
  call putc
  mov al, [c_scan]
  call hex8
  call space
  mov al, 0x06          ; channel 2 masked
  out 0x0a, al
  out 0x0c, al          ; flip-flop
  mov al, [dmamode]
  out 0x0b, al
  mov al, BUF & 0xff
  out 0x04, al
  mov al, BUF >> 8
  out 0x04, al
  mov al, 0
  out 0x81, al
  mov al, 0xff          ; 512 bytes
  out 0x05, al
  mov al, 0x01
  out 0x05, al
  mov al, 0x02          ; channel 2 unmasked
  out 0x0a, al
  mov si, c_scan
  mov cx, 9
.c:
  lodsb
  call fdout
  loop .c
  call results
  out 0x0c, al
  in al, 0x05
  mov ah, al
  in al, 0x05
  xchg al, ah
  call hexax
  mov byte [dmamode], 0x42
  jmp crlf

specify:                ; AL = SPECIFY's second byte (bit 0: non-DMA)
  push ax
  mov al, 0x03
  call fdout
  mov al, 0xdf
  call fdout
  pop ax
  jmp fdout

format:                 ; AL = sectors per track: FORMAT TRACK (MFM) drive 0 head 0, N 2
  push ax
  mov al, 0x4d
  call fdout
  mov al, 0
  call fdout
  mov al, 2
  call fdout
  pop ax
  call fdout
  mov al, 0x1b
  call fdout
  mov al, 0xf6
  call fdout
  jmp results

dumpreg:
  mov al, 0x0e
  call fdout
  jmp results

; pioread: the 9 command bytes at SI; data bytes by PIO into BUF, their sum; results
pioread:
  mov cx, 9
.c:
  lodsb
  call fdout
  loop .c
  xor bx, bx
  mov di, BUF
.x:
  mov dx, FDC+4
  in al, dx
  and al, 0xe0
  cmp al, 0xe0          ; RQM, DIO, non-DMA: a data byte
  jne .r
  mov dx, FDC+5
  in al, dx
  stosb
  xor ah, ah
  add bx, ax
  jmp .x
.r:
  cmp al, 0xc0          ; RQM, DIO: the result phase
  jne .x
  mov ax, bx
  call hexax
  jmp results

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

dmamode: db 0x42        ; single, verify, channel 2
s_hello: db 'fdcmd-probe', 13, 10, 0
s_format: db 'FORMAT ', 0
s_track: db 'READ TRACK ', 0
s_scan: db 'SCAN ', 0
s_scanpio: db 'SCAN PIO ', 0
s_done: db 'done', 13, 10, 0
c_read: db 0x46, 0, 0, 0, 1, 2, 1, 0x1b, 0xff
c_scan: db 0x51, 0, 0, 0, 1, 2, 1, 0x1b, 0x01
times SECTORS*512-($-$$) db 0
