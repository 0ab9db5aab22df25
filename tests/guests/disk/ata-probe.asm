; ata-probe: a hard-disk image whose boot sector loads the rest of this program with
; INT 13h and then drives the primary IDE channel directly (PIO), printing what it sees
; on COM1: IDENTIFY, status and error after each command, sector contents (as sums),
; IRQ 14 counts, SRST signatures. The same image runs on QEMU and on bmbt-dbg; the test
; compares the serial output and the image afterwards. Data sectors (written by the test):
; LBA 100-131 hold a pattern, LBA 200-215 are written by this guest.
bits 16
org 0x7c00
SECTORS equ 10              ; this program's size in sectors
BASE equ 0x1f0
CTRL equ 0x3f6
BUF equ 0x9000              ; sector buffer (16 sectors)

start:
  cli
  mov al, 0xfb          ; the timer masked at once: SeaBIOS's serial console must not
  out 0x21, al          ; print between our lines (QEMU's host timing decides when it would)
  xor ax, ax
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov sp, 0x7c00
  sti
  mov [drive], dl
  mov si, s_mbr
  call puts
  mov al, dl
  call hex8
  call crlf
  ; the rest of the program: CHS 0/0/2.., SECTORS-1 sectors at 0x7e00
  mov ax, 0x0200 + SECTORS - 1
  mov cx, 0x0002
  xor dh, dh
  mov dl, [drive]
  mov bx, 0x7e00
  int 13h
  jc fail
  jmp main
fail:
  mov si, s_fail
  call puts
  jmp exit

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
exit:
  call crlf
  mov si, s_done
  call puts
  mov al, 0
  out 0xf4, al
  cli
  hlt

drive: db 0
s_mbr: db 'ata-probe dl=', 0
s_fail: db 'INT 13h read failed', 0
s_done: db 'done', 13, 10, 0
times 510-($-$$) db 0
dw 0xaa55

; ---------------------------------------------------------------- stage 2
main:
  ; IRQ 14 (vector 0x76 as SeaBIOS programs the slave PIC) counts into irqs; every other
  ; IRQ is masked (SeaBIOS's timer would otherwise mirror the screen to COM1 at times
  ; that depend on how long the host takes)
  cli
  mov al, 0xfb
  out 0x21, al
  mov al, 0xbf
  out 0xa1, al
  mov word [0x76*4], irq14
  mov word [0x76*4+2], 0
  sti
  ; the task file as SeaBIOS left it
  call regs
  call dma_tests
  ; IDENTIFY with interrupts on (nIEN clear)
  mov si, s_ident
  call puts
  mov dx, CTRL
  mov al, 0
  out dx, al
  mov byte [irqs], 0
  mov dx, BASE+6
  mov al, 0xa0
  out dx, al
  mov al, 0xec
  call command
  call waitdrq
  call irqcount
  mov cx, 256
  mov di, 0
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
  call irqcount
  call crlf

  ; READ SECTORS, LBA 100, 2 sectors, with nIEN set
  mov si, s_rd_lba
  call puts
  mov dx, CTRL
  mov al, 2
  out dx, al
  mov byte [irqs], 0
  mov eax, 100
  mov bl, 2
  call lba
  mov al, 0x20
  call command
  mov cx, 2
  call readsecs
  call status
  call irqcount
  call regs

  ; READ SECTORS, CHS: cylinder 0, head 1, sector 38 = LBA 1*63+37 = 100, 1 sector, IRQs on
  mov si, s_rd_chs
  call puts
  mov dx, CTRL
  mov al, 0
  out dx, al
  mov byte [irqs], 0
  mov dx, BASE+2
  mov al, 1
  out dx, al
  inc dx
  mov al, 38
  out dx, al
  inc dx
  mov al, 0
  out dx, al
  inc dx
  out dx, al
  inc dx
  mov al, 0xa1
  out dx, al
  mov al, 0x20
  call command
  mov cx, 1
  call readsecs
  call status
  call irqcount
  call regs

  ; READ MULTIPLE (16 a block after reset) of 4 sectors, not read out: DRQ stays set and
  ; the SET MULTIPLE and READ MULTIPLE below are ignored; their sums show what is pending
  mov si, s_rm0
  call puts
  mov eax, 100
  mov bl, 4
  call lba
  mov al, 0xc4
  call command
  call settle
  call status
  call error
  call crlf

  ; SET MULTIPLE 4, then READ MULTIPLE 10 sectors from LBA 104
  mov si, s_setm_ign
  call puts
  mov byte [irqs], 0
  mov dx, BASE+2
  mov al, 4
  out dx, al
  mov al, 0xc6
  call command
  call settle
  call status
  call error
  call irqcount
  mov byte [irqs], 0
  mov eax, 104
  mov bl, 10
  call lba
  mov al, 0xc4
  call command
  mov cx, 10
  call readsecs
  call status
  call irqcount
  call regs

  ; now SET MULTIPLE 4 is taken: READ MULTIPLE of 10 sectors, interrupts on, is 3 blocks
  mov si, s_setm
  call puts
  mov dx, CTRL
  mov al, 0
  out dx, al
  mov byte [irqs], 0
  mov dx, BASE+2
  mov al, 4
  out dx, al
  mov al, 0xc6
  call command
  call settle
  call status
  call error
  call irqcount
  mov byte [irqs], 0
  mov eax, 104
  mov bl, 10
  call lba
  mov al, 0xc4
  call command
  mov cx, 10
  call readsecs
  call status
  call irqcount
  call regs

  ; LBA48: READ SECTORS EXT of 2 sectors at LBA 0x00_0000_006E; the registers with HOB clear and set
  mov si, s_ext
  call puts
  mov dx, BASE+2
  mov al, 0
  out dx, al          ; count high
  mov al, 2
  out dx, al          ; count low
  inc dx
  mov al, 0
  out dx, al          ; LBA 24-31
  mov al, 0x6e
  out dx, al          ; LBA 0-7
  inc dx
  mov al, 0
  out dx, al
  out dx, al
  inc dx
  out dx, al
  out dx, al
  inc dx
  mov al, 0x40
  out dx, al
  mov al, 0x24
  call command
  mov cx, 2
  call readsecs
  call status
  call regs
  mov dx, CTRL
  mov al, 0x80
  out dx, al
  call regs
  mov dx, CTRL
  mov al, 0
  out dx, al

  ; SET MULTIPLE 3 (not a power of two): aborted
  mov si, s_setm3
  call puts
  mov dx, BASE+2
  mov al, 3
  out dx, al
  mov al, 0xc6
  call command
  call settle
  call status
  call error
  call crlf

  ; SET FEATURES: 0x03 transfer mode PIO 4 (0x0C); 0x02 write cache on; 0x99 unknown
  mov si, s_setf
  call puts
  mov bl, 0x03
  mov bh, 0x0c
  call setfeature
  mov bl, 0x02
  mov bh, 0
  call setfeature
  mov bl, 0x99
  mov bh, 0
  call setfeature
  mov bl, 0x82
  mov bh, 0
  call setfeature
  mov bl, 0x03
  mov bh, 0x22
  call setfeature
  call crlf
  ; IDENTIFY again: words 59, 62, 63, 85, 88 after those features
  mov si, s_ident2
  call puts
  mov al, 0xec
  call command
  call settle
  mov cx, 256
  xor di, di
.id3:
  mov dx, BASE
  in ax, dx
  cmp di, 59
  je .idp
  cmp di, 62
  je .idp
  cmp di, 63
  je .idp
  cmp di, 85
  je .idp
  cmp di, 88
  jne .idn
.idp:
  call hexax
.idn:
  inc di
  loop .id3
  call status
  call crlf
  mov bl, 0x02
  mov bh, 0
  call setfeature
  call crlf

  ; WRITE SECTORS to LBA 200, 2 sectors (pattern: word i = i*3 + sector*0x100)
  mov si, s_wr
  call puts
  mov byte [irqs], 0
  mov eax, 200
  mov bl, 2
  call lba
  mov al, 0x30
  call command
  mov cx, 2
  call writesecs
  call settle
  call status
  call irqcount
  call regs
  ; WRITE MULTIPLE (4 per block) to LBA 202, 6 sectors
  mov si, s_wm
  call puts
  mov byte [irqs], 0
  mov eax, 202
  mov bl, 6
  call lba
  mov al, 0xc5
  call command
  mov cx, 6
  call writesecs
  call settle
  call status
  call irqcount
  call regs
  ; FLUSH CACHE
  mov si, s_flush
  call puts
  mov byte [irqs], 0
  mov al, 0xe7
  call command
  call settle
  call status
  call irqcount
  call crlf
  ; read back LBA 200..207
  mov si, s_rb
  call puts
  mov eax, 200
  mov bl, 8
  call lba
  mov al, 0x20
  call command
  mov cx, 8
  call readsecs
  call status
  call crlf

  ; an unknown command: aborted
  mov si, s_unk
  call puts
  mov byte [irqs], 0
  mov al, 0xfe
  call command
  call settle
  call status
  call error
  call irqcount
  call crlf

  ; reading past the end of the disk: LBA 0x0fffff0
  mov si, s_end
  call puts
  mov eax, 0x0fffff0
  mov bl, 1
  call lba
  mov al, 0x20
  call command
  call settle
  call status
  call error
  call crlf

  ; the slave (absent): status, and a command to it
  mov si, s_slave
  call puts
  mov dx, BASE+6
  mov al, 0xb0
  out dx, al
  call status
  mov dx, CTRL
  in al, dx
  call hex8
  call space
  mov al, 0xec
  call command
  call settle
  call status
  call regs
  mov dx, BASE+6
  mov al, 0xa0
  out dx, al

  ; software reset: SRST set, then cleared; the signature
  mov si, s_srst
  call puts
  mov dx, CTRL
  mov al, 6
  out dx, al
  mov dx, CTRL
  mov al, 2
  out dx, al
  call settle
  call status
  call error
  call regs
  ; SRST again without clearing it first (the reset clears the bit itself)
  mov byte [irqs], 0
  mov dx, BASE+2
  mov al, 0x33
  out dx, al
  mov dx, CTRL
  mov al, 6
  out dx, al
  mov al, 2
  out dx, al
  call settle
  call status
  call regs

  ; the secondary channel (no drives)
  mov si, s_sec
  call puts
  mov dx, 0x177
  in al, dx
  call hex8
  call space
  mov dx, 0x376
  in al, dx
  call hex8
  call crlf

  ; the sector count and LBA registers are readable and keep what was written
  mov si, s_tf
  call puts
  mov eax, 0x0123456
  mov bl, 0x77
  call lba
  call regs
  jmp exit

; ---- bus-master DMA: BAR4 of 00:01.1, bus mastering on, PRD tables at PRD
PRD equ 0x8800
dma_tests:
  mov eax, 0x80000920   ; bus 0, device 1, function 1, register 0x20 (BAR4)
  mov dx, 0xcf8
  out dx, eax
  mov dx, 0xcfc
  in eax, dx
  and ax, 0xfffc
  mov [bmbase], ax
  mov eax, 0x80000904
  mov dx, 0xcf8
  out dx, eax
  mov dx, 0xcfc
  in ax, dx
  or ax, 5
  out dx, ax
  mov dx, CTRL
  mov al, 0
  out dx, al
  ; READ DMA of 4 sectors at LBA 100 through two 1 KiB regions
  mov si, s_dmar
  call puts
  mov dword [PRD], 0xa000
  mov dword [PRD+4], 1024
  mov dword [PRD+8], 0xa400
  mov dword [PRD+12], 0x80000000 + 1024
  mov eax, 100
  mov bl, 4
  mov cl, 0xc8
  mov ch, 0x08
  call dma_run
  mov si, 0xa000
  mov cx, 4
  call memsums
  call crlf
  ; WRITE DMA of 2 sectors at LBA 220 from 0x7C00 (this program)
  mov si, s_dmaw
  call puts
  mov dword [PRD], 0x7c00
  mov dword [PRD+4], 0x80000000 + 1024
  mov eax, 220
  mov bl, 2
  mov cl, 0xca
  mov ch, 0
  call dma_run
  call crlf
  ; PRDs shorter than the command: 4 sectors asked, 2 described
  mov si, s_dmas
  call puts
  mov dword [PRD], 0xa000
  mov dword [PRD+4], 0x80000000 + 1024
  mov eax, 100
  mov bl, 4
  mov cl, 0xc8
  mov ch, 0x08
  call dma_run
  call crlf
  ; PRDs longer than the command: 1 sector asked, 2 described
  mov si, s_dmal
  call puts
  mov eax, 100
  mov bl, 1
  mov cl, 0xc8
  mov ch, 0x08
  call dma_run
  call crlf
  ; past the end of the disk
  mov si, s_dmae
  call puts
  mov dword [PRD+4], 0x80000000 + 2048
  mov eax, 0x7ffe
  mov bl, 4
  mov cl, 0xc8
  mov ch, 0x08
  call dma_run
  call crlf
  ret

; dma_run: EAX LBA, BL count, CL command, CH bus-master direction bit; prints the
; bus-master status after the command, after start, and after a while; the IDE status,
; the interrupts, the task file
dma_run:
  push cx
  mov byte [irqs], 0
  call lba
  mov dx, [bmbase]
  add dx, 4
  mov eax, PRD
  out dx, eax
  mov dx, [bmbase]
  add dx, 2
  mov al, 6            ; clear error and interrupt
  out dx, al
  pop cx
  push cx
  mov dx, [bmbase]
  mov al, ch
  out dx, al
  mov al, cl
  call command
  mov dx, [bmbase]
  add dx, 2
  in al, dx
  call hex8
  call space
  pop cx
  mov dx, [bmbase]
  mov al, ch
  or al, 1
  out dx, al
  mov ecx, 0x1000000
.w:
  mov dx, [bmbase]
  add dx, 2
  in al, dx
  test al, 4
  jnz .d
  dec ecx
  jnz .w
.d:
  push ax
  call settle
  pop ax
  call hex8
  call space
  mov dx, CTRL
  in al, dx
  call hex8
  call space
  mov dx, [bmbase]
  mov al, 0
  out dx, al
  add dx, 2
  in al, dx
  call hex8
  call space
  call status
  call error
  call irqcount
  jmp regs

; memsums: CX sectors at DS:SI, the word sum of each
memsums:
  push cx
  mov cx, 256
  xor bx, bx
.s:
  lodsw
  add bx, ax
  loop .s
  mov ax, bx
  call hexax
  pop cx
  loop memsums
  ret

; ---- helpers
; regs: print nsector sector lcyl hcyl select
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
irqcount:
  mov al, '#'
  call putc
  mov al, [irqs]
  call hex8
  jmp space
; wait until BSY clears (alt status, no IRQ side effects)
settle:
  mov dx, CTRL
.s:
  in al, dx
  test al, 0x80
  jnz .s
  ret
waitdrq:
  call settle
  ret
command:
  mov dx, BASE+7
  out dx, al
  ret
; lba: EAX = LBA, BL = count
lba:
  mov dx, BASE+2
  push ax
  mov al, bl
  out dx, al
  pop ax
  inc dx
  out dx, al
  inc dx
  shr eax, 8
  out dx, al
  inc dx
  shr eax, 8
  out dx, al
  inc dx
  shr eax, 8
  and al, 0x0f
  or al, 0xe0
  out dx, al
  ret
setfeature:
  mov dx, BASE+1
  mov al, bl
  out dx, al
  inc dx
  mov al, bh
  out dx, al
  mov al, 0xef
  call command
  call settle
  call status
  call error
  ret
; readsecs: CX sectors; prints the word sum of each sector
readsecs:
  push cx
  call settle
  mov dx, CTRL
  in al, dx
  call hex8
  mov al, ':'
  call putc
  mov dx, BASE
  mov cx, 256
  xor bx, bx
.w:
  in ax, dx
  add bx, ax
  loop .w
  mov ax, bx
  call hexax
  pop cx
  loop readsecs
  ret
; writesecs: CX sectors, word i of sector s = i*3 + s*0x100 + [wseed]
writesecs:
  push cx
  call settle
  mov dx, CTRL
  in al, dx
  call hex8
  call space
  mov dx, BASE
  mov cx, 256
  xor bx, bx
.w:
  mov ax, bx
  imul ax, ax, 3
  add ax, [wseed]
  out dx, ax
  inc bx
  loop .w
  add word [wseed], 0x0101
  pop cx
  loop writesecs
  ret
irq14:
  push ax
  push dx
  inc byte [cs:irqs]
  mov dx, BASE+7
  in al, dx
  mov al, 0x20
  out 0xa0, al
  out 0x20, al
  pop dx
  pop ax
  iret

irqs: db 0
bmbase: dw 0
s_ext: db 'READ EXT ', 0
s_ident2: db 'IDENTIFY 2 ', 0
s_dmar: db 'READ DMA ', 0
s_dmaw: db 'WRITE DMA ', 0
s_dmas: db 'DMA SHORT PRD ', 0
s_dmal: db 'DMA LONG PRD ', 0
s_dmae: db 'DMA PAST END ', 0
wseed: dw 0x1111
s_ident: db 'IDENTIFY ', 0
s_rd_lba: db 'READ LBA ', 0
s_rd_chs: db 'READ CHS ', 0
s_rm0: db 'READ MULTIPLE pending ', 0
s_setm: db 'SET MULTIPLE 4 ', 0
s_setm_ign: db 'SET MULTIPLE ignored ', 0
s_setm3: db 'SET MULTIPLE 3 ', 0
s_setf: db 'SET FEATURES ', 0
s_wr: db 'WRITE ', 0
s_wm: db 'WRITE MULTIPLE ', 0
s_flush: db 'FLUSH ', 0
s_rb: db 'READ BACK ', 0
s_unk: db 'UNKNOWN ', 0
s_end: db 'PAST END ', 0
s_slave: db 'SLAVE ', 0
s_srst: db 'SRST ', 0
s_sec: db 'SECONDARY ', 0
s_tf: db 'TASK FILE ', 0
times SECTORS*512-($-$$) db 0
