; Self-modifying code for ever: every pass rewrites the immediate of the instruction
; after it, so every pass invalidates its block and translates it again (~20 us a
; guest instruction here: a 100 k-instruction slice is 2 s of wall time).
%include "common.inc"
START
top:
  inc byte [patch+1]
patch:
  mov al, 0
  jmp top
END
