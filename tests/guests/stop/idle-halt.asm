; Halted with interrupts on and nothing that will ever wake it: both 8259s masked, so
; the 8254's tick (programmed by the entry state) never arrives. The loop has no guest
; time to skip to and must still answer a stop request (issue 16: "c" on a guest ending
; in HLT got its stop reply seconds late).
%include "common.inc"
START
  mov al, 0xff
  out 0x21, al
  out 0xa1, al
idle:
  sti
  hlt
  jmp idle
END
