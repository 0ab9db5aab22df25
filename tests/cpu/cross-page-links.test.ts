// Direct links between TBs on different pages (issue 10: a kernel calls across pages all
// the time, and each such jump used to go back through the jump cache). A link to another
// page holds only until the next TLB flush: after the guest remaps the target page and
// flushes it, the jump must reach the new code, as on QEMU (which looks such jumps up
// every time).
import { describe, expect, it } from 'vitest';
import { assemble, skipWithoutNasm } from '../support/nasm.js';
import { PcMachine } from '../../src/machine/pc-machine.js';
import { loadMultiboot } from '../../src/boot/multiboot.js';

const GUEST = `bits 32
org 0x100000
mb: dd 0x1BADB002, 0x00010000, -(0x1BADB002 + 0x00010000)
    dd mb, mb, 0, 0, start
PD equ 0x200000
PT equ 0x201000
TARGET equ 0x300000
start:
  mov edi, PT
  mov eax, 3
  mov ecx, 1024
.fill:
  mov [edi], eax
  add eax, 0x1000
  add edi, 4
  loop .fill
  mov dword [PD], PT | 3
  mov dword [PT + (TARGET >> 12) * 4], code_x + 3
  mov eax, PD
  mov cr3, eax
  mov eax, cr0
  or eax, 0x80000000
  mov cr0, eax
  xor ebx, ebx
  mov esi, 3
.first:
  call via
  dec esi
  jnz .first
  ; the same linear page now holds other code
  mov dword [PT + (TARGET >> 12) * 4], code_y + 3
  invlpg [TARGET]
  mov esi, 3
.second:
  call via
  dec esi
  jnz .second
  hlt
; one call site for both loops: its link to the other page must not outlive the remap
via:
  call TARGET
  ret
align 4096
code_x:
  add ebx, 1
  ret
align 4096
code_y:
  add ebx, 100
  ret
`;

describe.skipIf(skipWithoutNasm())('links between TBs on different pages', () => {
  it('are made, and are not followed after the target page is remapped and flushed', () => {
    const image = assemble(GUEST);
    const m = new PcMachine({});
    loadMultiboot(m.phys, m.cpu, image, { kernelName: 'links', cmdline: '', modules: [], ramSize: m.ramSize });
    m.run(100_000);
    expect(m.cpu.halted).toBe(true);
    // The call in `via` is linked to the TB at the other page (made again after the remap).
    const linked = m.exec.tbs.all().some((t) => t.valid && t.jmpDest.some((d, slot) => d !== null && d.pc === 0x300000 && t.jmpGen[slot] !== -1));
    expect(linked).toBe(true);
    expect(m.cpu.regs[3]).toBe(303);
  });
});
