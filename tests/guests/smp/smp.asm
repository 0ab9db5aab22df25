; SMP test guest (issue 13): a multiboot kernel (a.out kludge, flat binary) that brings up
; every application processor with INIT/SIPI/SIPI and checks what several CPUs share and
; what each has of its own. Only the BSP prints (COM1), once the others have reported in
; memory, so the text does not depend on how the CPUs interleave (QEMU runs them in
; parallel threads, bmbt-dbg in turn).
;
;   cpus      the CPU count from fw_cfg, each CPU's APIC ID and CPUID.1:EBX
;   ping      fixed IPIs BSP -> AP -> BSP, rounds of ping-pong, ICR delivery status
;   short     self, all-including-self and all-excluding-self shorthands
;   logical   flat and cluster logical destinations, lowest priority
;   nmi       an NMI by IPI
;   lock      a spinlock (xchg) protecting a plain counter, and lock xadd, by every CPU
;   tlb       a TLB shootdown: the BSP remaps a page, IPIs the others to invlpg
;   smc       code one CPU patches for another: CPU 1 rewrites a routine the BSP has run
;             (hot, from a loop) and the BSP runs it again; the BSP rewrites it after
;             every AP ran it, and they run it again. Each must see the new bytes.
;
; Exits through isa-debug-exit (0xF4) with 0 (status 1) when done, 1 (status 3) on an
; unexpected exception.
;
;   make -C tests/guests/smp     -> ../build/smp.bin, and its symbols in ../build/smp.map
;   (the tests find the guest's addresses there: tests/support/smp-guest.ts)
[map symbols ../build/smp.map]
bits 32
org 0x100000

%include "common.inc"

MB_MAGIC   equ 0x1badb002
MB_FLAGS   equ 0x00010000
APIC       equ 0xfee00000
A_ID       equ 0x20
A_EOI      equ 0xb0
A_LDR      equ 0xd0
A_DFR      equ 0xe0
A_SVR      equ 0xf0
A_ICRLO    equ 0x300
A_ICRHI    equ 0x310
COM1       equ 0x3f8
TRAMPOLINE equ 0x8000          ; SIPI vector 0x08
STACKS     equ 0x200000        ; 4 KiB per CPU
PGDIR      equ 0x280000
PGTAB      equ 0x281000
TESTLIN    equ 0x300000        ; the page the shootdown remaps
PAGE_A     equ 0x310000
PAGE_B     equ 0x311000
MAXCPU     equ 8
ROUNDS     equ 5
LOCKITER   equ 20000

header:
  dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
  dd header, 0x100000, image_end, 0, start

; ---- BSP -----------------------------------------------------------------------------
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
  mov al, 0xff                 ; the 8259s stay out of it (SeaBIOS leaves the timer on)
  out 0x21, al
  out 0xa1, al
  call build_idt
  call build_paging
  call cpu_common
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
  ; the trampoline below 1 MiB
  mov esi, tramp
  mov edi, TRAMPOLINE
  mov ecx, tramp_end - tramp
  rep movsb
  ; INIT, then STARTUP twice, to every other CPU
  mov eax, 0x000c4500          ; all excluding self, INIT, level assert
  call send_ipi
  call delay
  mov eax, 0x000c4608          ; all excluding self, STARTUP, vector 0x08
  call send_ipi
  call delay
  mov eax, 0x000c4608
  call send_ipi
  mov eax, [ncpus]
  dec eax
.wait_up:
  pause
  cmp [started], eax
  jne .wait_up
  sti

  mov esi, s_cpus
  call puts
  mov eax, [ncpus]
  call putdec
  call newline
  xor ebx, ebx
.each_cpu:
  cmp ebx, [ncpus]
  jae .cpus_done
  mov esi, s_cpu
  call puts
  mov eax, ebx
  call putdec
  mov esi, s_apicid
  call puts
  mov eax, [apic_ids + 4*ebx]
  call putdec
  mov esi, s_ebx
  call puts
  mov eax, [cpuid_ebx + 4*ebx]
  call puthex
  mov esi, s_before
  call puts
  mov eax, [tlb_before + 4*ebx]
  call puthex
  call newline
  inc ebx
  jmp .each_cpu
.cpus_done:

  ; ---- ping-pong: fixed IPI 0x40 to each AP, which answers with 0x41 ----------------
  xor edi, edi                 ; rounds
.round:
  mov ebx, 1
.ping_one:
  cmp ebx, [ncpus]
  jae .round_done
  mov ecx, [pongs]
  mov eax, ebx
  shl eax, 24
  mov [APIC + A_ICRHI], eax
  mov eax, 0x00004040          ; physical, fixed, vector 0x40
  call send_ipi_raw
  inc ecx
.wait_pong:
  pause
  cmp [pongs], ecx
  jne .wait_pong
  inc ebx
  jmp .ping_one
.round_done:
  inc edi
  cmp edi, ROUNDS
  jb .round
  mov esi, s_ping
  call puts
  mov eax, [pongs]
  call putdec
  mov esi, s_pingper
  call puts
  mov ebx, 1
.ping_counts:
  cmp ebx, [ncpus]
  jae .ping_end
  mov eax, [pings + 4*ebx]
  call putdec
  mov al, ' '
  call putc
  inc ebx
  jmp .ping_counts
.ping_end:
  mov esi, s_busy
  call puts
  mov eax, [icr_busy]
  call putdec
  call newline

  ; ---- shorthands ---------------------------------------------------------------------
  ; One at a time: a second vector 0x42 that reaches a CPU before it took the first
  ; merges with it in the IRR (with QEMU's CPU threads slowed down by a busy host).
  mov eax, 0x00044042          ; self, fixed, 0x42
  call send_ipi
  mov eax, 1
  call wait_hits
  mov eax, 0x00084042          ; all including self
  call send_ipi
  mov eax, [ncpus]
  inc eax
  call wait_hits
  mov eax, 0x000c4042          ; all excluding self
  call send_ipi
  ; every AP gets 2, the BSP 2: wait for the total
  mov eax, [ncpus]
  add eax, eax
  call wait_hits
  mov esi, s_short
  call puts
  call print_hits

  ; ---- logical destinations: flat (set at bring-up: bit = APIC ID) ------------------
  call clear_hits
  mov dword [APIC + A_ICRHI], 0x06000000   ; CPUs 1 and 2
  mov eax, 0x00004842          ; logical, fixed, 0x42
  call send_ipi_raw
  mov eax, [ncpus]
  cmp eax, 3
  jb .flat_n2
  mov eax, 2
  jmp .flat_wait
.flat_n2:
  mov eax, 1
.flat_wait:
  call wait_hits
  mov esi, s_flat
  call puts
  call print_hits
  ; cluster model: every CPU switches (the APs by IPI 0x44), cluster 1, bit = APIC ID
  call clear_hits
  mov eax, 0x000c4044
  call send_ipi
  mov eax, [ncpus]
  dec eax
  call wait_hits
  call to_cluster
  call clear_hits
  mov dword [APIC + A_ICRHI], 0x1a000000   ; cluster 1, CPUs 1 and 3
  mov eax, 0x00004842
  call send_ipi_raw
  mov eax, [ncpus]
  cmp eax, 4
  jb .cl_n2
  mov eax, 2
  jmp .cl_wait
.cl_n2:
  mov eax, 1
.cl_wait:
  call wait_hits
  mov esi, s_cluster
  call puts
  call print_hits
  ; lowest priority to cluster 1, CPUs 1-3: QEMU gives it to the lowest APIC ID
  call clear_hits
  mov dword [APIC + A_ICRHI], 0x1e000000
  mov eax, 0x00004942          ; logical, lowest priority, 0x42
  call send_ipi_raw
  mov eax, 1
  call wait_hits
  mov esi, s_lowest
  call puts
  call print_hits

  ; ---- NMI to the last CPU ----------------------------------------------------------------
  mov eax, [ncpus]
  dec eax
  shl eax, 24
  mov [APIC + A_ICRHI], eax
  mov eax, 0x00004400          ; physical, NMI
  call send_ipi_raw
.wait_nmi:
  pause
  cmp dword [nmis], 1
  jne .wait_nmi
  mov esi, s_nmi
  call puts
  mov eax, [nmi_cpu]
  call putdec
  call newline

  ; ---- the spinlock counter: every CPU, the APs by IPI 0x45 -------------------------
  mov eax, 0x000c4045
  call send_ipi
  call lock_work
  mov eax, [ncpus]
.wait_lock:
  pause
  cmp [lock_done], eax
  jne .wait_lock
  mov esi, s_lock
  call puts
  mov eax, [counter]
  call putdec
  mov esi, s_xadd
  call puts
  mov eax, [counter2]
  call putdec
  mov esi, s_expect
  call puts
  mov eax, [ncpus]
  imul eax, LOCKITER
  call putdec
  call newline

  ; ---- TLB shootdown: TESTLIN goes from PAGE_A to PAGE_B ----------------------------
  mov dword [PGTAB + (TESTLIN >> 12) * 4], PAGE_B | 3
  invlpg [TESTLIN]
  mov eax, [TESTLIN]
  mov [tlb_after], eax
  mov eax, 0x000c4046          ; all excluding self: invlpg and read
  call send_ipi
  mov eax, [ncpus]
  dec eax
.wait_tlb:
  pause
  cmp [tlb_acks], eax
  jne .wait_tlb
  mov esi, s_tlb
  call puts
  xor ebx, ebx
.tlb_each:
  cmp ebx, [ncpus]
  jae .tlb_end
  mov eax, [tlb_after + 4*ebx]
  call puthex
  mov al, ' '
  call putc
  inc ebx
  jmp .tlb_each
.tlb_end:
  call newline

  ; ---- self-modifying code across CPUs (smc_fn: mov eax, imm32 / ret) ----------------
  ; CPU 1 writes beside smc_fn first, so that it holds a writable TLB entry for its page
  ; from before the BSP translates it.
  mov dword [APIC + A_ICRHI], 0x01000000
  mov eax, 0x00004047          ; physical, fixed, 0x47: CPU 1 writes smc_scratch
  call send_ipi_raw
  mov eax, 1
  call wait_smc
  call smc_loop                ; the BSP runs smc_fn, hot
  mov [smc_bsp], eax
  mov dword [smc_new], 0x22222222
  mov dword [APIC + A_ICRHI], 0x01000000
  mov eax, 0x00004048          ; CPU 1 patches the immediate
  call send_ipi_raw
  mov eax, 2
  call wait_smc
  call serialize               ; cross-modifying code: the executing CPU serialises
  call smc_loop
  mov [smc_bsp + 4], eax
  ; the other way: every AP runs smc_fn, the BSP rewrites the instruction, they run it again
  mov eax, 0x000c4049          ; all excluding self: run smc_fn
  call send_ipi
  mov eax, [ncpus]
  inc eax
  call wait_smc
  mov edi, smc_fn              ; mov eax, 0x33333333, byte by byte
  mov al, 0xb8
  stosb
  mov eax, 0x33333333
  stosd
  mov eax, 0x000c4049
  call send_ipi
  mov eax, [ncpus]
  add eax, eax
  call wait_smc
  mov esi, s_smc
  call puts
  mov eax, [smc_bsp]
  call puthex
  mov al, ' '
  call putc
  mov eax, [smc_bsp + 4]
  call puthex
  mov esi, s_smc_ap
  call puts
  mov ebx, 1
.smc_each:
  cmp ebx, [ncpus]
  jae .smc_end
  mov eax, [smc_ap + 8*ebx]
  call puthex
  mov al, '/'
  call putc
  mov eax, [smc_ap + 8*ebx + 4]
  call puthex
  mov al, ' '
  call putc
  inc ebx
  jmp .smc_each
.smc_end:
  call newline
  mov esi, s_done
  call puts
  mov dx, 0xf4
  xor eax, eax
  out dx, eax
  cli
  hlt

; ---- every CPU ------------------------------------------------------------------------
; Paging on, APIC on, flat logical ID, the IDT; records APIC ID, CPUID.1:EBX and what the
; test page reads through this CPU's TLB.
cpu_common:
  lidt [idtr]
  mov eax, cr4
  or eax, 0x10                 ; PSE
  mov cr4, eax
  mov eax, PGDIR
  mov cr3, eax
  mov eax, cr0
  or eax, 0x80000000
  mov cr0, eax
  mov dword [APIC + A_SVR], 0x1ff
  mov eax, [APIC + A_ID]
  shr eax, 24
  mov ebp, eax                 ; this CPU's index
  mov dword [APIC + A_DFR], 0xffffffff
  mov ecx, ebp
  mov eax, 1
  shl eax, cl
  shl eax, 24
  mov [APIC + A_LDR], eax
  mov [apic_ids + 4*ebp], ebp
  mov eax, 1
  cpuid
  mov [cpuid_ebx + 4*ebp], ebx
  mov eax, [TESTLIN]
  mov [tlb_before + 4*ebp], eax
  ret

to_cluster:
  mov dword [APIC + A_DFR], 0x0fffffff
  mov eax, [APIC + A_ID]
  shr eax, 24
  mov ecx, eax
  mov eax, 1
  shl eax, cl
  or eax, 0x10
  shl eax, 24
  mov [APIC + A_LDR], eax
  ret

; The spinlock: a plain increment under an xchg lock, and a lock xadd beside it.
lock_work:
  mov ecx, LOCKITER
.again:
  mov eax, 1
.spin:
  xchg [spinlock], eax
  test eax, eax
  jz .got
  pause
  mov eax, 1
  jmp .spin
.got:
  mov eax, [counter]
  inc eax
  mov [counter], eax
  mov dword [spinlock], 0
  mov eax, 1
  lock xadd [counter2], eax
  loop .again
  lock inc dword [lock_done]
  ret

; Write ICR low (EAX) after checking the delivery status bit is idle; ICR high as set.
send_ipi:
  mov dword [APIC + A_ICRHI], 0
send_ipi_raw:
  test dword [APIC + A_ICRLO], 0x1000
  jz .idle
  inc dword [icr_busy]
  jmp send_ipi_raw
.idle:
  mov [APIC + A_ICRLO], eax
  ret

; smc_fn 1000 times from one loop (its TB chained to the caller's); EAX what it returned.
smc_loop:
  push ecx
  mov ecx, 1000
.l:
  call smc_fn
  loop .l
  pop ecx
  ret

; CPUID: the serialising instruction a CPU executes before code another CPU modified.
serialize:
  pushad
  xor eax, eax
  cpuid
  popad
  ret

; Wait until EAX smc acknowledgements in all.
wait_smc:
  pause
  cmp [smc_acks], eax
  jne wait_smc
  ret

DELAY

clear_hits:
  push ecx
  mov ecx, MAXCPU
.l:
  mov dword [hits + 4*ecx - 4], 0
  loop .l
  mov dword [hit_total], 0
  pop ecx
  ret

; Wait until EAX hits in all.
wait_hits:
  pause
  cmp [hit_total], eax
  jne wait_hits
  ret

print_hits:
  xor ebx, ebx
.l:
  cmp ebx, [ncpus]
  jae .e
  mov eax, [hits + 4*ebx]
  call putdec
  mov al, ' '
  call putc
  inc ebx
  jmp .l
.e:
  jmp newline

; ---- serial -----------------------------------------------------------------------------
PUTC_PUTS

newline:
  mov al, 10
  jmp putc

putdec:
  push ebx
  push ecx
  push edx
  mov ebx, 10
  xor ecx, ecx
.d:
  xor edx, edx
  div ebx
  push edx
  inc ecx
  test eax, eax
  jnz .d
.p:
  pop eax
  add al, '0'
  call putc
  loop .p
  pop edx
  pop ecx
  pop ebx
  ret

PUTHEX

; ---- tables --------------------------------------------------------------------------------
build_paging:
  ; page table for 0-4 MiB (4 KiB pages, identity), the rest 4 MiB pages (identity)
  mov edi, PGTAB
  mov eax, 3
  mov ecx, 1024
.pt:
  stosd
  add eax, 0x1000
  loop .pt
  mov dword [PGTAB + (TESTLIN >> 12) * 4], PAGE_A | 3
  mov edi, PGDIR
  mov dword [edi], PGTAB | 3
  mov eax, 0x400000 | 0x83
  mov ecx, 1023
  add edi, 4
.pd:
  stosd
  add eax, 0x400000
  loop .pd
  mov dword [PAGE_A], 0xaaaa0001
  mov dword [PAGE_B], 0xbbbb0002
  ret

%macro SETGATE 2
  mov eax, %2
  mov word [idt + 8*%1], ax
  mov word [idt + 8*%1 + 2], 0x08
  mov word [idt + 8*%1 + 4], 0x8e00
  shr eax, 16
  mov word [idt + 8*%1 + 6], ax
%endmacro

build_idt:
  xor ebx, ebx
.l:
  mov eax, ebx
  shl eax, 4
  add eax, fault_stubs
  mov word [idt + 8*ebx], ax
  mov word [idt + 8*ebx + 2], 0x08
  mov word [idt + 8*ebx + 4], 0x8e00
  shr eax, 16
  mov word [idt + 8*ebx + 6], ax
  inc ebx
  cmp ebx, 256
  jb .l
  SETGATE 2, isr_nmi
  SETGATE 0x40, isr_ping
  SETGATE 0x41, isr_pong
  SETGATE 0x42, isr_hit
  SETGATE 0x44, isr_cluster
  SETGATE 0x45, isr_lock
  SETGATE 0x46, isr_tlb
  SETGATE 0x47, isr_smc_touch
  SETGATE 0x48, isr_smc_patch
  SETGATE 0x49, isr_smc_run
  SETGATE 0xff, isr_spurious
  ret

; ---- handlers -----------------------------------------------------------------------------
%macro THIS_CPU 0
  mov ebp, [APIC + A_ID]
  shr ebp, 24
%endmacro

isr_ping:                      ; an AP answers the BSP
  pushad
  THIS_CPU
  inc dword [pings + 4*ebp]
  mov dword [APIC + A_EOI], 0
  mov eax, 0x00004041
  call send_ipi
  popad
  iret

isr_pong:                      ; the BSP counts answers
  pushad
  lock inc dword [pongs]
  mov dword [APIC + A_EOI], 0
  popad
  iret

isr_hit:
  pushad
  THIS_CPU
  lock inc dword [hits + 4*ebp]
  lock inc dword [hit_total]
  mov dword [APIC + A_EOI], 0
  popad
  iret

isr_cluster:
  pushad
  call to_cluster
  lock inc dword [hit_total]
  mov dword [APIC + A_EOI], 0
  popad
  iret

isr_lock:
  pushad
  mov dword [APIC + A_EOI], 0
  call lock_work
  popad
  iret

isr_tlb:
  pushad
  THIS_CPU
  invlpg [TESTLIN]
  mov eax, [TESTLIN]
  mov [tlb_after + 4*ebp], eax
  mov dword [APIC + A_EOI], 0
  lock inc dword [tlb_acks]
  popad
  iret

isr_smc_touch:                 ; a write to smc_fn's page, before anyone runs smc_fn
  pushad
  mov dword [smc_scratch], 1
  mov dword [APIC + A_EOI], 0
  lock inc dword [smc_acks]
  popad
  iret

isr_smc_patch:                 ; the new immediate into smc_fn, which the BSP has run
  pushad
  mov eax, [smc_new]
  mov [smc_fn + 1], eax
  mov dword [APIC + A_EOI], 0
  lock inc dword [smc_acks]
  popad
  iret

isr_smc_run:                   ; run smc_fn; the first time into smc_ap[cpu], then [cpu]+4
  pushad
  THIS_CPU
  call serialize
  call smc_loop
  cmp dword [smc_ap + 8*ebp], 0
  jne .second
  mov [smc_ap + 8*ebp], eax
  jmp .done
.second:
  mov [smc_ap + 8*ebp + 4], eax
.done:
  mov dword [APIC + A_EOI], 0
  lock inc dword [smc_acks]
  popad
  iret

isr_nmi:
  pushad
  THIS_CPU
  mov [nmi_cpu], ebp
  lock inc dword [nmis]
  popad
  iret

isr_spurious:
  iret

; One 16-byte stub per vector: push the vector, go to fault.
align 16
fault_stubs:
%assign v 0
%rep 256
  push dword v
  jmp near fault
  align 16
%assign v v+1
%endrep

fault:
  mov esi, s_fault
  call puts
  mov eax, [APIC + A_ID]
  shr eax, 24
  call putdec
  mov esi, s_vector
  call puts
  mov eax, [esp]
  call puthex
  mov al, ' '
  call putc
  mov eax, [esp + 4]
  call puthex
  call newline
  mov dx, 0xf4
  mov eax, 1
  out dx, eax
  cli
  hlt

; ---- application processors ----------------------------------------------------------------
AP_ENTER
  call cpu_common
  lock inc dword [started]
.idle:
  sti
  hlt
  jmp .idle

; The code the CPUs patch for one another, on its own page with a word to write.
align 4096
smc_fn:
  mov eax, 0x11111111
  ret
smc_scratch: dd 0

; Real mode at 0x0800:0000, copied to TRAMPOLINE.
TRAMPOLINE_AND_GDT
idtr:
  dw 256*8 - 1
  dd idt

s_cpus:    db 'cpus: ', 0
s_cpu:     db 'cpu ', 0
s_apicid:  db ': apic id ', 0
s_ebx:     db ', cpuid.1 ebx ', 0
s_before:  db ', test page ', 0
s_ping:    db 'ping-pong: ', 0
s_pingper: db ' answers; per AP: ', 0
s_busy:    db '; delivery status busy seen ', 0
s_short:   db 'self + all + all-but-self, per CPU: ', 0
s_flat:    db 'logical flat 0x06, per CPU: ', 0
s_cluster: db 'logical cluster 0x1a, per CPU: ', 0
s_lowest:  db 'lowest priority to cluster 0x1e, per CPU: ', 0
s_nmi:     db 'nmi taken by cpu ', 0
s_lock:    db 'spinlock counter ', 0
s_xadd:    db ', lock xadd counter ', 0
s_expect:  db ', expected ', 0
s_tlb:     db 'tlb shootdown, test page per CPU: ', 0
s_smc:     db 'smc: cpu 1 patched the code the bsp runs ', 0
s_smc_ap:  db '; the bsp patched the code the aps run, per AP: ', 0
s_done:    db 'smp: done', 10, 0
s_fault:   db 'unexpected exception on cpu ', 0
s_vector:  db ', vector and stack ', 0

align 4
ncpus:      dd 0
started:    dd 0
next_stack: dd 0
pongs:      dd 0
icr_busy:   dd 0
hit_total:  dd 0
nmis:       dd 0
nmi_cpu:    dd 0
spinlock:   dd 0
counter:    dd 0
counter2:   dd 0
lock_done:  dd 0
tlb_acks:   dd 0
smc_acks:   dd 0
smc_new:    dd 0
smc_bsp:    dd 0, 0
smc_ap:     times 2*MAXCPU dd 0
apic_ids:   times MAXCPU dd 0
cpuid_ebx:  times MAXCPU dd 0
tlb_before: times MAXCPU dd 0
tlb_after:  times MAXCPU dd 0
pings:      times MAXCPU dd 0
hits:       times MAXCPU dd 0
align 8
idt:        times 256 dq 0
image_end:
