// SIMD rules the differential tests do not reach (they run aligned, unpaged, in ring 0
// with OSFXSR set): #GP for a misaligned 16-byte operand, #PF of a store crossing into a
// page that is not present (nothing written), the x87 view of MMX registers, and the
// CR0/CR4 conditions on a machine made from assembled code (tests/fpu/machine.ts).
import { describe, expect, it } from 'vitest';
import { CODE, DATA, FpuBench, le32 } from '../fpu/machine.js';
import { assemble, skipWithoutNasm } from '../support/nasm.js';

const SSE_ON = `
bits 32
    mov eax, cr4
    or eax, 0x600
    mov cr4, eax
`;

function code(body: string): number[] {
  return [...assemble(`${SSE_ON}\n${body}\n`)];
}

describe.skipIf(skipWithoutNasm())('SIMD semantics', () => {
  it('MOVAPS/ADDPS/MOVDQA with a misaligned 16-byte operand raise #GP(0); MOVUPS/MOVDQU do not', () => {
    const b = new FpuBench('qemu32');
    for (const insn of ['movaps xmm0, [0x200008]', 'addps xmm0, [0x200008]', 'movdqa [0x200008], xmm0', 'movntps [0x200008], xmm1']) {
      expect(b.run(code(insn)).vector, insn).toBe(13);
    }
    for (const insn of ['movups xmm0, [0x200008]', 'movdqu [0x200008], xmm0', 'movsd xmm0, [0x200004]', 'addss xmm0, [0x200001]']) {
      expect(b.run(code(insn)).vector, insn).toBe(null);
    }
  });

  it('a store crossing into a page that is not present faults before writing a byte', () => {
    const b = new FpuBench('qemu32');
    const PD = 0x300000;
    const PT = 0x301000;
    const setup = (cpu: import('../../src/cpu/cpu.js').Cpu): void => {
      // 0-4 MiB identity through a page table whose page 0x201000 is not present
      const pt = new Uint8Array(4096);
      const dv = new DataView(pt.buffer);
      for (let i = 0; i < 1024; i++) if (i !== 0x201) dv.setUint32(4 * i, (i << 12) | 3, true);
      b.m.writePhysical(PT, pt);
      const pd = new Uint8Array(4096);
      new DataView(pd.buffer).setUint32(0, PT | 3, true);
      b.m.writePhysical(PD, pd);
      cpu.setCr3(PD);
      cpu.setCr0(cpu.cr0 | 0x80000000);
    };
    b.m.writePhysical(0x200ff0, new Uint8Array(16).fill(0x5a));
    const r = b.run(code('pcmpeqd xmm1, xmm1\nmovups [0x200ff8], xmm1'), [], { setup });
    expect(r.vector).toBe(14);
    expect(r.cpu.cr2 >>> 0).toBe(0x201000);
    expect(b.read(0x200ff0, 16)).toEqual(new Array(16).fill(0x5a));
  });

  it("MMX registers are the x87 registers' significands: MMX mode sets TOP 0 and every tag valid, EMMS empties them", () => {
    const b = new FpuBench('qemu32');
    const r = b.run(code(`
      movq mm3, [0x200000]
      paddd mm3, mm3
      movq [0x200010], mm3
      fnstenv [0x200020]
      emms
      fnstenv [0x200040]
    `), [...le32(0x11111111), ...le32(0x40000001)]);
    expect(r.vector).toBe(null);
    expect(b.read(DATA + 0x10, 8)).toEqual([...le32(0x22222222), ...le32(0x80000002)]);
    // MMX mode: TOP 0, every tag valid (00); after EMMS every tag empty (11)
    const env = (at: number) => new DataView(Uint8Array.from(b.read(DATA + at, 28)).buffer);
    expect((env(0x20).getUint16(4, true) >> 11) & 7).toBe(0);
    expect(r.cpu.fpu.regs[3]!.sig).toBe(0x8000000222222222n);
    expect(env(0x40).getUint16(8, true)).toBe(0xffff);
  });

  it('CR0.EM: SSE and MMX raise #UD; CR0.TS: #NM; without CR4.OSFXSR only SSE raises #UD', () => {
    const b = new FpuBench('qemu32');
    const sse = code('xorps xmm0, xmm0');
    const mmx = code('pxor mm0, mm0');
    expect(b.run(sse, [], { cr0: 0x11 | 4 }).vector).toBe(6);
    expect(b.run(mmx, [], { cr0: 0x11 | 4 }).vector).toBe(6);
    expect(b.run(sse, [], { cr0: 0x11 | 8 }).vector).toBe(7);
    expect(b.run(mmx, [], { cr0: 0x11 | 8 }).vector).toBe(7);
    const noSse = { setup: (cpu: { setCr4(v: number): void }) => cpu.setCr4(0) };
    expect(b.run([...assemble('bits 32\nxorps xmm0, xmm0')], [], noSse).vector).toBe(6);
    expect(b.run([...assemble('bits 32\npxor mm0, mm0')], [], noSse).vector).toBe(null);
    expect(CODE).toBe(0x100000);
  });

  it('pentium2 drops CR4.OSFXSR (SSE stays #UD) and runs MMX', () => {
    const b = new FpuBench('pentium2');
    const r = b.run(code('mov ebx, cr4\nxorps xmm0, xmm0'));
    expect(r.cpu.regs[3]! & 0x600).toBe(0x400);
    expect(r.vector).toBe(6);
    expect(b.run([...assemble('bits 32\npaddb mm1, mm2\nemms')]).vector).toBe(null);
  });
});
