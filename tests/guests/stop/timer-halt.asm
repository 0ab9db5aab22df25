; Halted and woken by the 8254 at its fastest rate (count 2: 597 kHz): the CPU spends
; its life in HLT while the clock skips to every tick; each tick delivers IRQ 0, whose
; handler sends an EOI and returns to the HLT.
%include "common.inc"
START
  mov word [8*4], tick
  mov word [8*4+2], 0
  ; 8259 pair: vectors 8 and 0x70, cascade on IRQ 2, only IRQ 0 unmasked
  mov al, 0x11
  out 0x20, al
  out 0xa0, al
  mov al, 0x08
  out 0x21, al
  mov al, 0x70
  out 0xa1, al
  mov al, 0x04
  out 0x21, al
  mov al, 0x02
  out 0xa1, al
  mov al, 0x01
  out 0x21, al
  out 0xa1, al
  mov al, 0xfe
  out 0x21, al
  mov al, 0xff
  out 0xa1, al
  ; 8254 channel 0, mode 2 (rate generator), count 2
  mov al, 0x34
  out 0x43, al
  mov al, 2
  out 0x40, al
  xor al, al
  out 0x40, al
idle:
  sti
  hlt
  jmp idle
tick:
  push ax
  mov al, 0x20
  out 0x20, al
  pop ax
  iret
END
