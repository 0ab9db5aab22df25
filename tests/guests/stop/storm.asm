; An exception storm (issue 16): the #UD vector points at a UD2, so every delivery raises
; the next #UD and no instruction ever retires; the stack wraps inside its segment.
%include "common.inc"
START
  mov bx, 0x1000
  mov ss, bx
  mov word [6*4], handler
  mov word [6*4+2], 0
  ud2
handler:
  ud2
END
