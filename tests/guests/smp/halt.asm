; Halted CPUs cost nothing (issue 13): a multiboot kernel (a.out kludge, flat binary) that
; starts every AP with INIT/SIPI/SIPI (with one CPU they reach nobody, and the BSP runs
; the same code) and lets it halt for good
; (odd APIC IDs with interrupts off, even ones with interrupts on and nothing ever sent),
; then runs the same CPU-bound work on the BSP as with one CPU: four rounds of a
; checksum loop, each printing its result on COM1. The BSP's own instruction count at
; each byte, counted from the first, is the same with any number of CPUs.
;
;   make -C tests/guests/smp     -> ../build/smp-halt.bin (its symbols: ../build/smp-halt.map)
[map symbols ../build/smp-halt.map]
bits 32
org 0x100000

%include "common.inc"

MB_MAGIC   equ 0x1badb002
MB_FLAGS   equ 0x00010000
APIC       equ 0xfee00000
A_SVR      equ 0xf0
A_ICRLO    equ 0x300
A_ICRHI    equ 0x310
COM1       equ 0x3f8
TRAMPOLINE equ 0x8000          ; SIPI vector 0x08
STACKS     equ 0x200000        ; 4 KiB per CPU
ROUNDS     equ 4
ITER       equ 1000000         ; ~10 instructions each

header:
  dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
  dd header, 0x100000, image_end, 0, start

start:
  cli
  lgdt [gdtr]
  jmp 0x08:.cs
.cs:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov fs, ax
  mov gs, ax
  mov esp, STACKS + 0x1000
  mov al, 0xff                 ; the 8259s masked
  out 0x21, al
  out 0xa1, al
  ; the CPU count (fw_cfg FW_CFG_NB_CPUS, key 5)
  mov dx, 0x510
  mov ax, 5
  out dx, ax
  mov dx, 0x511
  in al, dx
  movzx ebx, al
  in al, dx
  mov bh, al
  mov [ncpus], ebx
  ; The same path with one CPU (the IPIs reach nobody): the BSP runs the same code.
  mov dword [APIC + A_SVR], 0x1ff
  mov esi, tramp
  mov edi, TRAMPOLINE
  mov ecx, tramp_end - tramp
  rep movsb
  mov dword [APIC + A_ICRHI], 0
  mov dword [APIC + A_ICRLO], 0x000c4500   ; all excluding self, INIT
  call delay
  mov dword [APIC + A_ICRLO], 0x000c4608   ; STARTUP, vector 0x08
  call delay
  mov dword [APIC + A_ICRLO], 0x000c4608
  mov eax, [ncpus]
  dec eax
.wait_up:
  pause
  cmp [started], eax
  jne .wait_up
  call delay                   ; each AP is at its HLT by now

work:
  mov esi, s_go
  call puts
  xor edi, edi                 ; round
.round:
  mov ecx, ITER
  mov eax, edi
  mov ebx, 0x9e3779b9
.l:
  add eax, ebx
  rol eax, 5
  xor eax, ecx
  mov edx, eax
  and edx, 0xfc
  add [buf + edx], eax
  dec ecx
  jnz .l
  call puthex
  mov al, 10
  call putc
  inc edi
  cmp edi, ROUNDS
  jb .round
  mov esi, s_done
  call puts
  mov dx, 0xf4
  xor eax, eax
  out dx, eax
  cli
  hlt

DELAY

PUTC_PUTS

PUTHEX

; ---- application processors: report, then halt for good ---------------------------
AP_ENTER
  mov dword [APIC + A_SVR], 0x1ff
  mov eax, [APIC + 0x20]       ; APIC ID
  shr eax, 24
  test eax, 1
  jz ap_sti
  lock inc dword [started]
ap_cli:                        ; interrupts off: only NMI, INIT or SMI would wake it
  cli
  hlt
  jmp ap_cli
ap_sti:
  lidt [idtr]                  ; no gate: nothing is ever sent
  lock inc dword [started]
.l:
  sti
  hlt
  jmp .l

TRAMPOLINE_AND_GDT
idtr:
  dw 0
  dd 0

s_go:   db 'work', 10, 0
s_done: db 'done', 10, 0

align 4
ncpus:      dd 0
started:    dd 0
next_stack: dd 0
align 4096                     ; its own page: no code beside it (stores at full speed)
buf:        times 64 dd 0
image_end:
