; x87 division for ever: the FPU computes exactly (BigInt), a few microseconds each.
%include "common.inc"
START
top:
  fld dword [one]
  fdiv qword [three]
  fstp st0
  jmp top
one: dd 1.0
three: dq 3.0
END
