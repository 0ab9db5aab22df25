// Guest instruction breakpoints (DR0-DR3, DR7) live in translated code, so a write to a
// debug register can make TBs stale; but only the TBs holding an address whose breakpoint
// changed (issue 10: Linux clears DR0-DR7 while it brings a CPU up, and each of those
// writes used to flush the whole TB cache, five flushes in every boot).
import { describe, expect, it } from 'vitest';
import { assemble, skipWithoutNasm } from '../support/nasm.js';
import { PcMachine } from '../../src/machine/pc-machine.js';
import { loadMultiboot } from '../../src/boot/multiboot.js';

const GUEST = `bits 32
org 0x100000
mb: dd 0x1BADB002, 0x00010000, -(0x1BADB002 + 0x00010000)
    dd mb, mb, 0, 0, start
start:
  ; an IDT whose vector 1 (#DB) is db_handler, in the code segment we run in
  mov eax, db_handler
  mov [idt + 8], ax
  shr eax, 16
  mov [idt + 14], ax
  mov ax, cs
  mov [idt + 10], ax
  mov word [idt + 12], 0x8e00
  lidt [idtr]
  call f
  ; what a kernel does at CPU bring-up: every debug register cleared, nothing enabled
  xor eax, eax
  mov dr7, eax
  mov dr0, eax
  mov dr1, eax
  mov dr2, eax
  mov dr3, eax
  mov dr7, eax
  call f
  ; one breakpoint elsewhere: f is translated again with the breakpoint check
  mov eax, other
  mov dr1, eax
  mov eax, 0x404
  mov dr7, eax
  call f
  ; a second breakpoint inside f, already translated: it must be hit
  mov eax, f.bp
  mov dr0, eax
  mov eax, 0x405
  mov dr7, eax
  call f
  hlt
f:
  nop
.bp:
  inc dword [count]
  ret
other:
  hlt
db_handler:
  inc dword [hits]
  xor eax, eax
  mov dr7, eax
  iret
align 8
idt: times 2 dq 0
idtr: dw 15
      dd idt
count: dd 0
hits: dd 0
`;

describe.skipIf(skipWithoutNasm())('guest debug registers and the TB cache', () => {
  it('clearing unused debug registers drops no TB; a new breakpoint drops only the TBs holding it, and is hit', () => {
    const image = assemble(GUEST);
    const m = new PcMachine({});
    loadMultiboot(m.phys, m.cpu, image, { kernelName: 'dr', cmdline: '', modules: [], ramSize: m.ramSize });
    const flushes = m.exec.tbs.stats.flushes;
    const stop = m.run(100_000);
    expect(stop.kind).not.toBe('budget');
    expect(m.cpu.halted).toBe(true);
    const at = (label: string): number => {
      // count and hits are the last two dwords of the image
      const end = 0x100000 + image.length;
      return m.phys.read32(label === 'count' ? end - 8 : end - 4);
    };
    expect(at('count')).toBe(4);
    expect(at('hits')).toBe(1);
    expect(m.exec.tbs.stats.flushes).toBe(flushes);
    // Only TBs translated with breakpoint checks and holding f.bp were dropped: f's, when
    // DR0 was set, and the one starting at f.bp, when the handler cleared DR7.
    expect(m.exec.tbs.invalidated.filter((r) => r.reason === 'debug registers changed').length).toBe(2);
  });
});
