// x87 instructions run by the CPU (translated code -> Helpers.x87 -> Fpu), checked against
// the SDM: bit-exact moves, condition codes (FCOM/FUCOM/FCOMI/FXAM tables), stack faults
// with C1, #MF and FERR# reporting, #NM, the FNSTENV layout, precise page faults.
import { describe, expect, it } from 'vitest';
import { Rng } from '../diff/generator.js';
import { CODE, DATA, FpuBench, le16, le32, memAbs } from './machine.js';
import { DEFAULT_NAN, f80, fromBytes, toBytes, type F80 } from '../../src/cpu/fpu/float80.js';
import { randomF80 } from './x87-generator.js';

const OUT = DATA + 0x800;
const FNINIT = [0xdb, 0xe3];
const fld80 = (a: number) => [0xdb, ...memAbs(5, a)];
const fstp80 = (a: number) => [0xdb, ...memAbs(7, a)];
const fnstsw = (a: number) => [0xdd, ...memAbs(7, a)];
const fnstcw = (a: number) => [0xd9, ...memAbs(7, a)];
const fldcw = (a: number) => [0xd9, ...memAbs(5, a)];
const fnstenv = (a: number) => [0xd9, ...memAbs(6, a)];

const CR0_PE = 1;
const CR0_MP = 2;
const CR0_EM = 4;
const CR0_TS = 8;
const CR0_ET = 0x10;
const CR0_NE = 0x20;

const SW_C0 = 0x100;
const SW_C1 = 0x200;
const SW_C2 = 0x400;
const SW_C3 = 0x4000;

const bench = new FpuBench();

function u16(b: number[], off = 0): number {
  return b[off]! | (b[off + 1]! << 8);
}

function u32(b: number[], off = 0): number {
  return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
}

function data(values: F80[]): number[] {
  const out: number[] = [];
  for (const v of values) out.push(...toBytes(v), 0, 0, 0, 0, 0, 0);
  return out;
}

const num = (d: number): F80 => {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, d, true);
  const b = dv.getBigUint64(0, true);
  if (d === 0) return f80(Object.is(d, -0) ? 0x8000 : 0, 0n);
  const e = Number((b >> 52n) & 0x7ffn) - 1023;
  return f80((d < 0 ? 0x8000 : 0) | (e + 16383), (1n << 63n) | ((b & ((1n << 52n) - 1n)) << 11n));
};
const QNAN = f80(0x7fff, 0xc000000000000001n);
const INF = f80(0x7fff, 1n << 63n);

describe('x87 through the translator', () => {
  it('FLD m80 / FSTP m80 move every 80-bit pattern bit for bit (denormals, NaN payloads, unsupported formats)', () => {
    const r = new Rng(11);
    for (let batch = 0; batch < 8; batch++) {
      const vals = Array.from({ length: 8 }, () => randomF80(r, { unsupported: true }));
      const code = [...FNINIT];
      for (let k = 0; k < 8; k++) code.push(...fld80(DATA + 16 * k));
      for (let k = 7; k >= 0; k--) code.push(...fstp80(OUT + 16 * k));
      const res = bench.run(code, data(vals));
      expect(res.vector).toBe(null);
      for (let k = 0; k < 8; k++) expect(fromBytes(bench.read(OUT + 16 * k, 10))).toEqual(vals[k]);
    }
  });

  it('FCOM/FUCOM condition codes (SDM vol. 2, FCOM table): >, <, =, unordered; FUCOM is quiet on QNaNs', () => {
    const cases: Array<[F80, F80, number, number]> = [
      [num(2), num(1), 0, 0], [num(1), num(2), SW_C0, 0], [num(-0), num(0), SW_C3, 0], [QNAN, num(1), SW_C3 | SW_C2 | SW_C0, 1],
    ];
    for (const [a, b, cc, ie] of cases) {
      for (const fucom of [false, true]) {
        const code = [...FNINIT, ...fld80(DATA + 16), ...fld80(DATA), ...(fucom ? [0xdd, 0xe1] : [0xd8, 0xd1]), ...fnstsw(OUT)];
        bench.run(code, data([a, b]));
        const sw = u16(bench.read(OUT, 2));
        expect(sw & (SW_C0 | SW_C1 | SW_C2 | SW_C3)).toBe(cc);
        expect(sw & 1).toBe(fucom ? 0 : ie);
      }
    }
  });

  it('FCOMI sets ZF/PF/CF and clears OF/SF/AF', () => {
    const cases: Array<[F80, F80, number]> = [[num(2), num(1), 0], [num(1), num(2), 1], [num(3), num(3), 0x40], [QNAN, num(3), 0x45]];
    for (const [a, b, flags] of cases) {
      // mov eax, 0x7fffffff; add eax, 1 (OF SF AF set); fcomi st1; pushfd; pop ebx
      const code = [...FNINIT, ...fld80(DATA + 16), ...fld80(DATA), 0xb8, ...le32(0x7fffffff), 0x83, 0xc0, 0x01, 0xdb, 0xf1, 0x9c, 0x5b];
      const res = bench.run(code, data([a, b]));
      expect(res.cpu.regs[3]! & 0x8d5).toBe(flags);
    }
  });

  it('FXAM classes every operand kind (SDM vol. 2, FXAM table), C1 = sign', () => {
    const cases: Array<[F80 | null, number]> = [
      [num(1.5), SW_C2], [num(-0), SW_C3 | SW_C1], [INF, SW_C2 | SW_C0], [QNAN, SW_C0], [f80(0, 5n), SW_C3 | SW_C2],
      [f80(0x8000, 1n << 63n), SW_C3 | SW_C2 | SW_C1], [f80(0x4000, 5n), 0], [null, SW_C3 | SW_C0],
    ];
    for (const [x, cc] of cases) {
      const code = [...FNINIT, ...(x ? fld80(DATA) : []), 0xd9, 0xe5, ...fnstsw(OUT)];
      bench.run(code, data(x ? [x] : []));
      expect(u16(bench.read(OUT, 2)) & (SW_C0 | SW_C1 | SW_C2 | SW_C3)).toBe(cc);
    }
  });

  it('stack overflow: IE, SF, C1 = 1 and the indefinite pushed (masked)', () => {
    const code = [...FNINIT];
    for (let k = 0; k < 9; k++) code.push(0xd9, 0xe8);
    code.push(...fnstsw(OUT), ...fstp80(OUT + 16));
    bench.run(code);
    expect(u16(bench.read(OUT, 2))).toBe((7 << 11) | SW_C1 | 0x41);
    expect(fromBytes(bench.read(OUT + 16, 10))).toEqual(DEFAULT_NAN);
  });

  it('stack underflow: IE, SF, C1 = 0; masked: the destination gets the indefinite', () => {
    bench.run([...FNINIT, 0xd8, 0xc1, ...fnstsw(OUT), ...fstp80(OUT + 16)]);
    expect(u16(bench.read(OUT, 2))).toBe(0x41);
    expect(fromBytes(bench.read(OUT + 16, 10))).toEqual(DEFAULT_NAN);
  });

  it('unmasked stack underflow changes nothing but the status word (ES and B set)', () => {
    bench.run([...FNINIT, ...fldcw(DATA), 0xd8, 0xc1, ...fnstsw(OUT), ...fnstenv(OUT + 16)], le16(0x37e));
    expect(u16(bench.read(OUT, 2))).toBe(0x8000 | 0x80 | 0x41);
    expect(u16(bench.read(OUT + 16 + 8, 2))).toBe(0xffff); // all registers still empty
  });

  it('an unmasked exception raises #MF at the next waiting instruction when CR0.NE = 1', () => {
    // fninit; fldcw (ZE unmasked); fld1; fldz; fdiv st1, st0 (1/0); fnstsw; fld1 <- #MF
    const head = [...FNINIT, ...fldcw(DATA), 0xd9, 0xe8, 0xd9, 0xee, 0xdc, 0xf9, ...fnstsw(OUT)];
    const res = bench.run([...head, 0xd9, 0xe8], le16(0x37b), { cr0: CR0_PE | CR0_ET | CR0_NE });
    expect(res.vector).toBe(16);
    expect(res.faultEip).toBe(CODE + head.length);
    expect(u16(bench.read(OUT, 2)) & 0x80ff).toBe(0x8084);
  });

  it('with CR0.NE = 0 the error is signalled on FERR# (IRQ 13) and execution goes on; FNCLEX drops it', () => {
    const levels: number[] = [];
    bench.cpu.fpu.onFerr = (l) => levels.push(l);
    const code = [...FNINIT, ...fldcw(DATA), 0xd9, 0xe8, 0xd9, 0xee, 0xdc, 0xf9, 0x9b, 0xdb, 0xe2, 0xd9, 0xe8];
    const res = bench.run(code, le16(0x37b), { cr0: CR0_PE | CR0_ET });
    bench.cpu.fpu.onFerr = () => {};
    expect(res.vector).toBe(null);
    expect(levels).toEqual([1, 0]);
  });

  it('#NM: CR0.EM or CR0.TS on an x87 instruction; WAIT only with MP and TS', () => {
    expect(bench.run([0xd9, 0xe8], [], { cr0: CR0_PE | CR0_ET | CR0_EM }).vector).toBe(7);
    expect(bench.run([0xd9, 0xe8], [], { cr0: CR0_PE | CR0_ET | CR0_TS }).vector).toBe(7);
    expect(bench.run([0x9b], [], { cr0: CR0_PE | CR0_ET | CR0_TS | CR0_MP }).vector).toBe(7);
    expect(bench.run([0x9b], [], { cr0: CR0_PE | CR0_ET | CR0_TS }).vector).toBe(null);
    expect(bench.run([0x9b], [], { cr0: CR0_PE | CR0_ET | CR0_EM }).vector).toBe(null);
  });

  it('FNSTENV (32-bit protected mode): pointers of the last non-control instruction, reserved halves set; exceptions masked after', () => {
    const fld32 = [0xd9, ...memAbs(0, DATA)]; // FOP = 1:05
    const code = [...FNINIT, ...fldcw(DATA + 8), ...fld32, 0xd9, 0xd0 /* fnop: control */, ...fnstenv(OUT), ...fnstcw(OUT + 32)];
    bench.run(code, [0, 0, 0x80, 0x3f, 0, 0, 0, 0, ...le16(0x360)]);
    const env = bench.read(OUT, 28);
    expect(u32(env, 0)).toBe(0xffff0360);
    expect(u32(env, 4)).toBe((0xffff0000 | (7 << 11)) >>> 0);
    expect(u32(env, 8)).toBe(0xffff3fff); // ST0 valid, the rest empty
    expect(u32(env, 12)).toBe(CODE + FNINIT.length + 6);
    expect(u32(env, 16)).toBe(0x08 | (0x105 << 16));
    expect(u32(env, 20)).toBe(DATA);
    expect(u32(env, 24)).toBe(0xffff0010);
    expect(u16(bench.read(OUT + 32, 2))).toBe(0x37f);
  });

  it('FNSAVE stores all eight registers and reinitialises; FRSTOR brings them back', () => {
    const r = new Rng(12);
    const vals = Array.from({ length: 8 }, () => randomF80(r, { unsupported: true }));
    const code = [...FNINIT];
    for (let k = 0; k < 8; k++) code.push(...fld80(DATA + 16 * k));
    code.push(0xdd, ...memAbs(6, OUT), ...fnstcw(OUT + 0x100), 0xdd, ...memAbs(4, OUT), 0xdd, ...memAbs(6, OUT + 0x200));
    bench.run(code, data(vals));
    const a = bench.read(OUT, 108);
    const b = bench.read(OUT + 0x200, 108);
    for (let k = 0; k < 8; k++) expect(fromBytes(a, 28 + 10 * k)).toEqual(vals[7 - k]);
    expect(b).toEqual(a);
    expect(u16(bench.read(OUT + 0x100, 2))).toBe(0x37f);
  });

  it('a page fault in the middle of FNSAVE leaves memory and the FPU untouched (precise exceptions)', () => {
    const PD = 0x20000;
    const PT = 0x21000;
    const pd = new Uint8Array(4096);
    new DataView(pd.buffer).setUint32(0, PT | 3, true);
    const pt = new DataView(new ArrayBuffer(4096));
    for (let i = 0; i < 1024; i++) pt.setUint32(4 * i, (i << 12) | 3, true);
    const hole = (OUT + 0x1000) & ~0xfff;
    pt.setUint32(4 * (hole >>> 12), 0, true);
    bench.m.writePhysical(PD, pd);
    bench.m.writePhysical(PT, new Uint8Array(pt.buffer));
    const at = hole - 40;
    bench.m.writePhysical(at, new Uint8Array(40).fill(0xaa));
    const code = [...FNINIT, 0xd9, 0xe8, 0xd9, 0xeb, 0xdd, ...memAbs(6, at)];
    const res = bench.run(code, [], {
      setup: (cpu) => {
        cpu.setCr3(PD);
        cpu.setCr0(cpu.cr0 | 0x80000000);
      },
    });
    expect(res.vector).toBe(14);
    expect(bench.read(at, 40)).toEqual(new Array(40).fill(0xaa));
    const f = bench.cpu.fpu;
    expect(f.top).toBe(6);
    expect(f.fcw).toBe(0x37f);
    bench.cpu.setCr0(bench.cpu.cr0 & ~0x80000000);
  });
});

describe('FXSAVE/FXRSTOR (legacy region)', () => {
  const fxsave = (a: number) => [0x0f, 0xae, ...memAbs(0, a)];
  const fxrstor = (a: number) => [0x0f, 0xae, ...memAbs(1, a)];

  it('stores FCW, FSW, the abridged tag, FOP, FIP/FCS, FDP/FDS and ST(0)-ST(7) in 16-byte slots', () => {
    const fld32 = [0xd9, ...memAbs(0, DATA)];
    const code = [...FNINIT, ...fld32, 0xd9, 0xeb, ...fxsave(OUT)];
    bench.run(code, [0, 0, 0x80, 0x3f]);
    const img = bench.read(OUT, 64);
    expect(u16(img, 0)).toBe(0x37f);
    expect(u16(img, 2)).toBe(6 << 11);
    expect(img[4]).toBe(0xc0); // R6 and R7 in use
    expect(u16(img, 6)).toBe(0x1eb); // FLDPI: D9 EB
    expect(u32(img, 8)).toBe(CODE + FNINIT.length + 6);
    expect(u16(img, 12)).toBe(0x08);
    expect(u32(img, 16)).toBe(DATA);
    expect(u16(img, 20)).toBe(0x10);
    expect(fromBytes(img, 32)).toEqual(f80(0x4000, 0xc90fdaa22168c235n));
    expect(fromBytes(img, 48)).toEqual(num(1));
  });

  it('FXRSTOR brings the state back; a misaligned operand is #GP(0)', () => {
    const code = [...FNINIT, 0xd9, 0xe8, 0xd9, 0xee, ...fxsave(OUT), ...FNINIT, ...fxrstor(OUT), ...fnstenv(OUT + 0x400)];
    bench.run(code);
    expect(u32(bench.read(OUT + 0x400, 28), 8)).toBe(0xffff1fff); // R6 = ST0 zero (01), R7 = ST1 valid (00)
    expect(bench.run([...fxsave(OUT + 8)]).vector).toBe(13);
  });

  it('CPUID advertises FPU and FXSR; CR4.OSFXSR reads 0 without SSE (as QEMU 7.2 with -cpu pentium2)', () => {
    // mov eax, 1; cpuid; mov eax, cr4; or eax, 0x200; mov cr4, eax; mov ebx, cr4
    const res = bench.run([0xb8, ...le32(1), 0x0f, 0xa2, 0x89, 0xd6, 0x0f, 0x20, 0xe0, 0x0d, ...le32(0x200), 0x0f, 0x22, 0xe0, 0x0f, 0x20, 0xe3]);
    expect(res.vector).toBe(null);
    expect(res.cpu.regs[6]! & 1).toBe(1);
    expect(res.cpu.regs[6]! & (1 << 24)).toBe(1 << 24);
    expect(res.cpu.regs[3]! & 0x200).toBe(0); // accepted, dropped: no SSE (issue 15)
  });
});

describe('environment layouts', () => {
  it('real-mode FNSTENV images hold 20-bit linear pointers (SDM vol. 1, figures 8-10 and 8-12)', () => {
    const b = new FpuBench();
    const cpu = b.cpu;
    cpu.setCr0(0x10); // real mode
    const f = cpu.fpu;
    f.init();
    f.fcs = 0x1234;
    f.fip = 0x5678;
    f.fds = 0xabcd;
    f.fdp = 0x0ff0;
    f.fop = 0x5a5;
    const ip = (0x1234 << 4) + 0x5678; // 0x179b8
    const dp = (0xabcd << 4) + 0x0ff0; // 0xaccc0
    const e16 = f.envImage(false);
    expect(u16(e16, 6)).toBe(ip & 0xffff);
    expect(u16(e16, 8)).toBe(((ip >> 4) & 0xf000) | 0x5a5);
    expect(u16(e16, 10)).toBe(dp & 0xffff);
    expect(u16(e16, 12)).toBe((dp >> 4) & 0xf000);
    const e32 = f.envImage(true);
    expect(u32(e32, 12)).toBe((0xffff0000 | (ip & 0xffff)) >>> 0);
    expect(u32(e32, 16)).toBe(((ip & 0xffff0000) >>> 4) | 0x5a5);
    expect(u32(e32, 24)).toBe((dp & 0xffff0000) >>> 4);
  });
});
