; REP string instructions through a port, for ever: OUTSB and INSW of 64 K iterations
; on port 0x80 (POST codes) and port 0x61, one device access per iteration.
%include "common.inc"
START
top:
  xor si, si
  mov dx, 0x80
  mov cx, 0xffff
  rep outsb
  mov ax, 0x1000
  mov es, ax
  xor di, di
  mov dx, 0x61
  mov cx, 0xffff
  rep insw
  jmp top
END
