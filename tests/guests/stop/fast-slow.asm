; Phases that teach the run loop a fast rate and then break it: REP STOSD over 4 MiB in
; flat protected mode (one instruction per iteration, a memset in the host: thousands of
; MIPS), then x87 divisions (a few hundred thousand instructions a second), again and
; again. A slice sized in instructions by the fast phase lasts seconds in the slow one.
%include "common.inc"
START
PROTECTED
again:
  mov ebp, 100
fast:
  mov edi, 0x200000
  mov ecx, 0x100000
  rep stosd
  dec ebp
  jnz fast
  mov ebp, 100000
slow:
  fld dword [one]
  fdiv qword [three]
  fstp st0
  dec ebp
  jnz slow
  jmp again
one: dd 1.0
three: dq 3.0
END
