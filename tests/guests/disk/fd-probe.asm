; fd-probe: a 1.44 MB floppy image whose boot sector loads the rest of this program with
; INT 13h and then reads and writes sectors through INT 13h (SeaBIOS's floppy driver:
; the FDC on 0x3F0, IRQ 6, ISA DMA channel 2), printing the results on COM1; then it
; asks the FDC and the 8237 a few questions directly. The same image runs on QEMU and
; on bmbt-dbg; the test compares the serial output and the image afterwards. Track
; contents (written by the test): every byte of LBA n is (n * 3 + offset) & 0xff,
; except the program's own sectors.
bits 16
org 0x7c00
SECTORS equ 4

start:
  jmp short boot
  nop
  times 59 db 0        ; room for a BPB (unused)
boot:
  cli
  mov al, 0xbb          ; the timer masked at once: SeaBIOS's serial console must not
  out 0x21, al          ; print between our lines (QEMU's host timing decides when it would)
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
  mov ax, 0x0200 + SECTORS - 1
  mov cx, 0x0002
  xor dh, dh
  mov dl, [drive]
  mov bx, 0x7e00
  int 13h
  call result
  call crlf
  jmp main

; result: AX and the carry flag after an INT 13h call
result:
  pushf
  call hexax
  popf
  mov al, 'c'
  jc .c
  mov al, 'n'
.c:
  call putc
  jmp space

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
s_hello: db 'fd-probe dl=', 0
times 510-($-$$) db 0
dw 0xaa55

; ---------------------------------------------------------------- stage 2
main:
  ; drive parameters, type, change line
  mov si, s_params
  call puts
  push es
  mov ah, 8
  mov dl, [drive]
  int 13h
  call result
  mov ax, bx
  call hexax
  mov ax, cx
  call hexax
  mov ax, dx
  call hexax
  mov ax, es
  call hexax
  mov ax, di
  call hexax
  pop es
  call crlf
  mov si, s_type
  call puts
  mov ah, 0x15
  mov dl, [drive]
  int 13h
  call result
  mov ah, 0x16
  mov dl, [drive]
  int 13h
  call result
  call crlf

  ; reads: C/H/S, count -> sums of each sector
  mov si, s_read
  call puts
  mov cx, 0x000a        ; cylinder 0, head 1, sectors 10-18
  mov dh, 1
  mov al, 9
  call readchs
  mov cx, 0x2805        ; cylinder 40, sector 5
  mov dh, 1
  mov al, 3
  call readchs
  mov cx, 0x4f12        ; cylinder 79, sector 18, head 1: the last sector
  mov dh, 1
  mov al, 1
  call readchs
  call crlf
  mov si, s_bad
  call puts
  mov cx, 0x5001        ; cylinder 80: past the end
  mov dh, 0
  mov al, 1
  call readchs
  mov ah, 1             ; last status
  mov dl, [drive]
  int 13h
  call result
  call crlf

  ; write 2 sectors at cylinder 2 head 0 sector 1 (from this program), read them back
  mov si, s_write
  call puts
  mov ax, 0x0302
  mov cx, 0x0201
  mov dh, 0
  mov dl, [drive]
  mov bx, 0x7c00
  int 13h
  call result
  mov cx, 0x0201
  mov dh, 0
  mov al, 2
  call readchs
  call crlf

  ; the FDC directly, with every IRQ but 6 masked (SeaBIOS's motor timer would write
  ; the DOR at host-dependent times)
  cli
  mov al, 0xbb          ; IRQ 2 and 6 open
  out 0x21, al
  mov al, 0xff
  out 0xa1, al
  sti
  mov si, s_fdc
  call puts
  mov dx, 0x3f4
  in al, dx
  call hex8
  call space
  mov dx, 0x3f7
  in al, dx
  call hex8
  call space
  mov al, 0x10          ; VERSION
  call fdc_out
  call fdc_in
  mov al, 0x08          ; SENSE INTERRUPT with none pending
  call fdc_out
  call fdc_in
  mov al, 0x04          ; SENSE DRIVE STATUS, drive 0 head 0
  call fdc_out
  mov al, 0
  call fdc_out
  call fdc_in
  mov al, 0x0e          ; DUMPREG
  call fdc_out
  mov cx, 10
.dr:
  call fdc_in
  loop .dr
  mov dx, 0x3f4
  in al, dx
  call hex8
  call crlf

  ; the 8237: channel 2's current address and count, the page, the status
  mov si, s_dma
  call puts
  out 0x0c, al
  in al, 0x04
  mov ah, al
  in al, 0x04
  xchg al, ah
  call hexax
  in al, 0x05
  mov ah, al
  in al, 0x05
  xchg al, ah
  call hexax
  in al, 0x81
  call hex8
  call space
  in al, 0x08
  call hex8
  call crlf

  call crlf
  mov si, s_done
  call puts
  mov al, 0
  out 0xf4, al
  cli
  hlt

; readchs: CX/DH as INT 13h, AL sectors, to 0x9000; prints the result and each sector's sum
readchs:
  push ax
  mov ah, 2
  mov dl, [drive]
  mov bx, 0x9000
  int 13h
  call result
  pop cx
  jc .e
  xor ch, ch
  mov si, 0x9000
.s:
  push cx
  mov cx, 256
  xor bx, bx
.w:
  lodsw
  add bx, ax
  loop .w
  mov ax, bx
  call hexax
  pop cx
  loop .s
.e:
  ret

fdc_out:
  push ax
  mov dx, 0x3f4
.w:
  in al, dx
  and al, 0xc0
  cmp al, 0x80
  jne .w
  pop ax
  mov dx, 0x3f5
  out dx, al
  ret
fdc_in:
  mov dx, 0x3f4
.w:
  in al, dx
  and al, 0xc0
  cmp al, 0xc0
  jne .w
  mov dx, 0x3f5
  in al, dx
  call hex8
  jmp space

s_params: db 'PARAMS ', 0
s_type: db 'TYPE ', 0
s_read: db 'READ ', 0
s_bad: db 'BAD ', 0
s_write: db 'WRITE ', 0
s_fdc: db 'FDC ', 0
s_dma: db 'DMA ', 0
s_done: db 'done', 13, 10, 0
times SECTORS*512-($-$$) db 0
