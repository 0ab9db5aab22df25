// Seeded random x87 cases for the differential tests against QEMU (tests/fpu/x87-diff.test.ts).
//
// Three kinds of case, all on the diff harness (tests/diff/README.md):
//   exact   FNINIT; FRSTOR of a random register file; 2-8 random operations whose
//           results QEMU computes exactly (loads, stores, arithmetic, compares, FPREM,
//           FSCALE, FXTRACT, FRNDINT, FCMOV ...); FNSAVE of the final state.
//   approx  the same framing around one transcendental (FSIN ... FPATAN); the result
//           registers are compared within a tolerance (docs/decisions.md).
//   unmask  one exception unmasked: the operation, FNSTSW, FWAIT; with CR0.NE = 1 the
//           FWAIT raises #MF, with NE = 0 it goes on (FERR# only).
// The generator simulates the register stack so no case over- or underflows it (QEMU
// does not implement stack faults) and records, per output, what the comparison must
// mask (see X87Check).
import { Rng, caseSeed } from '../diff/generator.js';
import { LAYOUT } from '../support/harness-layout.js';
import type { CaseMode, DiffCase } from '../support/diff-target.js';
import { FMT_DOUBLE, FMT_SINGLE, f80, toBytes, type F80 } from '../../src/cpu/fpu/float80.js';

/** What a data-window range holds and how to compare it. */
export interface X87Check {
  /** offset in the data window */
  off: number;
  kind: 'fsave32' | 'fsave16' | 'env32' | 'env16' | 'sw' | 'fxsave';
  /** FNSAVE: stack slots (ST(i) at the dump) compared within the tolerance */
  approxSlots?: number[];
  /** extra status-word bits to ignore (besides C1 and DE) */
  swIgnore?: number;
}

export interface X87Case extends DiffCase {
  checks: X87Check[];
  /** EAX holds a status word (FNSTSW AX): ignore its C1 and DE bits */
  axStatus?: boolean;
  /** more status bits to ignore in EAX */
  axIgnore?: number;
  /** FIP/FCS are not compared (the case has FNSTSW AX, which QEMU counts as non-control) */
  fipIgnore?: boolean;
}

const DATA = LAYOUT.dataArea;
// Data window layout (offsets)
const IN = 0x000; // input operands, 16-byte slots
const IN_SLOTS = 24;
const SEED_IMG = 0x200; // FRSTOR image
const OUT = 0x300; // stores from the sequence, 16-byte slots
const OUT_SLOTS = 16;
const DUMP = 0x500; // FNSAVE / FNSTSW at the end
const SCRATCH = 0x600; // FNSTENV/FLDENV
const CW_SLOT = 0x680; // FLDCW operands, 2 bytes each
const CW_SLOTS = 32;
const FXAREA = 0x700; // FXSAVE/FXRSTOR (512 bytes, 16-byte aligned)
export const X87_WINDOW = 0x900;

const SW_C0 = 0x100;
const SW_C1 = 0x200;
const SW_C2 = 0x400;
const SW_C3 = 0x4000;

// ---- random values ---------------------------------------------------------------------

function rand64(r: Rng): bigint {
  return (BigInt(r.u32()) << 32n) | BigInt(r.u32());
}

/** A random extended value: mostly normal numbers of modest range, sometimes anything. */
export function randomF80(r: Rng, opts: { specials?: boolean; unsupported?: boolean; expSpan?: number } = {}): F80 {
  const sign = r.int(0, 1) << 15;
  const span = opts.expSpan ?? 70;
  const cls = opts.specials === false ? 'normal' : r.weighted([
    ['normal', 60], ['short', 12], ['wide', 5], ['zero', 5], ['denormal', 4], ['inf', 3], ['qnan', 3], ['snan', 3],
    ['unsupported', opts.unsupported ? 3 : 0], ['pseudodenormal', opts.unsupported ? 1 : 0],
  ] as const);
  const J = 1n << 63n;
  switch (cls) {
    case 'normal': return f80(sign | (0x3fff + r.int(-span, span)), J | rand64(r));
    case 'short': {
      // few significant bits: results are often exact
      const bits = r.int(1, 20);
      const sig = J | ((rand64(r) >> BigInt(64 - bits)) << BigInt(63 - bits));
      return f80(sign | (0x3fff + r.int(-20, 20)), sig);
    }
    case 'wide': return f80(sign | r.int(1, 0x7ffe), J | rand64(r));
    case 'zero': return f80(sign, 0n);
    case 'denormal': return f80(sign, (rand64(r) & ~J) >> BigInt(r.int(0, 60)) || 1n);
    case 'inf': return f80(sign | 0x7fff, J);
    case 'qnan': return f80(sign | 0x7fff, J | (1n << 62n) | (rand64(r) & ((1n << 62n) - 1n)));
    case 'snan': return f80(sign | 0x7fff, J | ((rand64(r) & ((1n << 62n) - 1n)) || 1n));
    case 'pseudodenormal': return f80(sign, J | rand64(r));
    default: {
      const e = r.pick([0x7fff, r.int(1, 0x7ffe)]);
      return f80(sign | e, rand64(r) & ~J);
    }
  }
}

/** Random bits of a binary32/binary64 value (specials included). */
function randomBinary(r: Rng, double: boolean): bigint {
  const fmt = double ? FMT_DOUBLE : FMT_SINGLE;
  const fb = BigInt(fmt.p - 1);
  const eb = double ? 11 : 8;
  const emax = (1 << eb) - 1;
  const sign = BigInt(r.int(0, 1)) << (fb + BigInt(eb));
  const frac = rand64(r) & ((1n << fb) - 1n);
  const e = r.weighted([['mid', 70], ['any', 10], ['zero', 6], ['max', 8]] as const);
  let ef: number;
  if (e === 'mid') ef = (emax >> 1) + r.int(-40, 40);
  else if (e === 'any') ef = r.int(1, emax - 1);
  else if (e === 'zero') ef = 0;
  else ef = emax;
  let f = frac;
  if ((e === 'zero' || e === 'max') && r.chance(0.4)) f = 0n;
  if (e === 'mid' && r.chance(0.4)) f &= ~((1n << BigInt(r.int(0, Number(fb)))) - 1n);
  return sign | (BigInt(ef) << fb) | f;
}

function randomInt(r: Rng, bits: number): bigint {
  const v = r.weighted([['small', 50], ['any', 40], ['edge', 10]] as const);
  if (v === 'small') return BigInt(r.int(-1000, 1000));
  if (v === 'edge') return r.pick([-(1n << BigInt(bits - 1)), (1n << BigInt(bits - 1)) - 1n, 0n, -1n]);
  return BigInt.asIntN(bits, rand64(r));
}

function randomBcd(r: Rng, maxDigits: number): number[] {
  const n = r.int(0, maxDigits);
  const out: number[] = [];
  const digits: number[] = [];
  for (let i = 0; i < 18; i++) digits.push(i < n ? r.int(0, 9) : 0);
  for (let i = 0; i < 9; i++) out.push(digits[2 * i]! | (digits[2 * i + 1]! << 4));
  out.push(r.chance(0.5) ? 0x80 : 0);
  return out;
}

function leBytes(v: bigint, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Number((v >> BigInt(8 * i)) & 0xffn));
  return out;
}

// ---- encoding -----------------------------------------------------------------------------

interface Emitter {
  code: number[];
  listing: string[];
}

class CaseBuilder implements Emitter {
  code: number[] = [];
  listing: string[] = [];
  data = new Uint8Array(X87_WINDOW);
  checks: X87Check[] = [];
  /** FLDCW operand slots used so far */
  cwSlots = 0;
  axStatus = false;
  /** QEMU updates FIP on FNSTSW AX (a control instruction for the SDM) */
  fipUnsure = false;
  /**
   * Condition bits QEMU sets differently where the SDM leaves them undefined or QEMU
   * lacks them: C0/C2/C3 after FSQRT (QEMU sets C2 for negative operands), C0/C3 after
   * FPREM1 (QEMU does not report the quotient bits).
   */
  ccUnsure = 0;
  /** status-word bits ignored in EAX after FNSTSW AX */
  axIgnore = 0;
  /** precision control in force (QEMU rounds FLD m64, FBLD and m32int/m64 operands to it) */
  pc = 3;
  // the simulated stack: physical empty bits and TOP
  empty = 0xff;
  top = 0;
  private inSlot = 0;
  private outSlot = 0;
  readonly code16: boolean;
  readonly useBase: boolean;

  constructor(readonly r: Rng, readonly mode: CaseMode) {
    this.code16 = mode === 'code16';
    this.useBase = r.chance(0.5);
  }

  emit(bytes: number[], text: string): void {
    this.code.push(...bytes);
    this.listing.push(text);
  }

  /** ModRM (+disp) for a data-window offset with ModRM.reg = reg. */
  modrm(reg: number, off: number): number[] {
    if (this.code16) {
      if (this.useBase) return [0x80 | (reg << 3) | 7, off & 0xff, off >> 8]; // [bx+disp16], bx = 0
      return [(reg << 3) | 6, off & 0xff, off >> 8]; // [disp16]
    }
    const a = (DATA + off) >>> 0;
    if (this.useBase) return [0x80 | (reg << 3) | 3, ...leBytes(BigInt(off), 4)]; // [ebx+disp32], ebx = DATA
    return [(reg << 3) | 5, ...leBytes(BigInt(a), 4)];
  }

  /** x87 escape with a memory operand. */
  mem(opcode: number, reg: number, off: number, text: string): void {
    this.emit([opcode, ...this.modrm(reg, off)], `${text} [data+0x${off.toString(16)}]`);
  }

  reg(opcode: number, modrm: number, text: string): void {
    this.emit([opcode, modrm], text);
  }

  putInput(bytes: number[]): number {
    const off = IN + 16 * (this.inSlot++ % IN_SLOTS);
    this.data.set(bytes, off);
    return off;
  }

  outOff(): number {
    return OUT + 16 * (this.outSlot++ % OUT_SLOTS);
  }

  // stack simulation
  isEmpty(i: number): boolean {
    return (this.empty & (1 << ((this.top + i) & 7))) !== 0;
  }
  depth(): number {
    let n = 0;
    while (n < 8 && !this.isEmpty(n)) n++;
    return n;
  }
  canPush(): boolean {
    return this.isEmpty(7);
  }
  push(): void {
    this.top = (this.top - 1) & 7;
    this.empty &= ~(1 << this.top);
  }
  pop(): void {
    this.empty |= 1 << this.top;
    this.top = (this.top + 1) & 7;
  }
  /** a random non-empty ST(i) (i >= minI), or -1 */
  fullIndex(minI = 0): number {
    const c: number[] = [];
    for (let i = minI; i < 8; i++) if (!this.isEmpty(i)) c.push(i);
    return c.length ? this.r.pick(c) : -1;
  }
}

function randomCw(r: Rng, masks = 0x3f): number {
  const rc = r.weighted([[0, 5], [1, 1], [2, 1], [3, 1]] as const);
  const pc = r.weighted([[3, 5], [2, 2], [0, 2]] as const);
  return masks | 0x40 | (pc << 8) | (rc << 10) | (r.chance(0.1) ? 0x1000 : 0);
}

/** FRSTOR image: control word, status (TOP, condition codes), tags, eight registers. */
function seedImage(b: CaseBuilder, cw: number, regs: F80[], fullMask: number, top: number): void {
  b.pc = (cw >> 8) & 3;
  const cc = b.r.int(0, 15);
  const sw = (top << 11) | ((cc & 1) ? SW_C0 : 0) | ((cc & 2) ? SW_C1 : 0) | ((cc & 4) ? SW_C2 : 0) | ((cc & 8) ? SW_C3 : 0);
  let tw = 0;
  for (let p = 0; p < 8; p++) if (!(fullMask & (1 << p))) tw |= 3 << (2 * p);
  const img: number[] = [];
  const w = (v: number) => (b.code16 ? img.push(v & 0xff, (v >> 8) & 0xff) : img.push(v & 0xff, (v >> 8) & 0xff, 0, 0));
  w(cw);
  w(sw);
  w(tw);
  for (let k = 0; k < 4; k++) w(0);
  for (let i = 0; i < 8; i++) img.push(...toBytes(regs[(top + i) & 7]!));
  b.data.set(img, SEED_IMG);
  b.empty = ~fullMask & 0xff;
  b.top = top;
}

function prologue(b: CaseBuilder, cw: number, regs: F80[], fullMask: number, top: number): void {
  b.reg(0xdb, 0xe3, 'fninit');
  seedImage(b, cw, regs, fullMask, top);
  b.mem(0xdd, 4, SEED_IMG, 'frstor');
}

function epilogueDump(b: CaseBuilder, approxSlots?: number[], swIgnore = b.ccUnsure): void {
  b.mem(0xdd, 6, DUMP, 'fnsave');
  const chk: X87Check = { off: DUMP, kind: b.code16 ? 'fsave16' : 'fsave32' };
  if (approxSlots) chk.approxSlots = approxSlots;
  if (swIgnore) chk.swIgnore = swIgnore;
  b.checks.push(chk);
}

// ---- operations of the exact cases ---------------------------------------------------------

const ARITH_NAMES = ['fadd', 'fmul', 'fcom', 'fcomp', 'fsub', 'fsubr', 'fdiv', 'fdivr'];

/** Emit one random operation that keeps the stack within bounds; returns false if none fit. */
function randomOp(b: CaseBuilder): void {
  const r = b.r;
  const d = b.depth();
  const ops: Array<[() => boolean, number]> = [
    [() => loadOp(b), d < 3 ? 30 : 10],
    [() => arithMem(b), 16],
    [() => arithReg(b), 16],
    [() => storeOp(b), 10],
    [() => compareOp(b), 10],
    [() => unaryOp(b), 12],
    [() => stackOp(b), 6],
    [() => fcomiOp(b), 5],
    [() => controlOp(b), 3],
  ];
  for (let tries = 0; tries < 20; tries++) {
    if (r.weighted(ops)()) return;
  }
  b.reg(0xd9, 0xd0, 'fnop');
}

function loadOp(b: CaseBuilder): boolean {
  if (!b.canPush()) return false;
  const r = b.r;
  const k = r.weighted([['m80', 3], ['m64', 3], ['m32', 3], ['i16', 1], ['i32', 1], ['i64', 1], ['bcd', 1], ['const', 2], ['sti', 2]] as const);
  switch (k) {
    case 'm80': b.mem(0xdb, 5, b.putInput(toBytes(randomF80(r, { unsupported: true }))), 'fld tword'); break;
    case 'm64':
      if (b.pc === 0) return false;
      b.mem(0xdd, 0, b.putInput(leBytes(randomBinary(r, true), 8)), 'fld qword');
      break;
    case 'm32': b.mem(0xd9, 0, b.putInput(leBytes(randomBinary(r, false), 4)), 'fld dword'); break;
    case 'i16': b.mem(0xdf, 0, b.putInput(leBytes(BigInt.asUintN(16, randomInt(r, 16)), 2)), 'fild word'); break;
    case 'i32': b.mem(0xdb, 0, b.putInput(leBytes(BigInt.asUintN(32, randomInt(r, 32)), 4)), 'fild dword'); break;
    case 'i64': b.mem(0xdf, 5, b.putInput(leBytes(BigInt.asUintN(64, randomInt(r, 64)), 8)), 'fild qword'); break;
    case 'bcd': b.mem(0xdf, 4, b.putInput(randomBcd(r, b.pc === 3 ? 18 : b.pc === 2 ? 15 : 7)), 'fbld'); break;
    case 'const': {
      const c = r.int(0, 6);
      b.reg(0xd9, 0xe8 + c, ['fld1', 'fldl2t', 'fldl2e', 'fldpi', 'fldlg2', 'fldln2', 'fldz'][c]!);
      break;
    }
    default: {
      const i = b.fullIndex();
      if (i < 0) return false;
      b.reg(0xd9, 0xc0 + i, `fld st(${i})`);
    }
  }
  b.push();
  return true;
}

function arithMem(b: CaseBuilder): boolean {
  if (b.isEmpty(0)) return false;
  const r = b.r;
  const op = r.int(0, 7);
  const k = r.pick(['m32', 'm64', 'i16', 'i32'] as const);
  const name = ARITH_NAMES[op]!;
  switch (k) {
    case 'm32': b.mem(0xd8, op, b.putInput(leBytes(randomBinary(r, false), 4)), `${name} dword`); break;
    case 'm64':
      if (b.pc !== 3) return false;
      b.mem(0xdc, op, b.putInput(leBytes(randomBinary(r, true), 8)), `${name} qword`);
      break;
    case 'i16': b.mem(0xde, op, b.putInput(leBytes(BigInt.asUintN(16, randomInt(r, 16)), 2)), `fi${name.slice(1)} word`); break;
    default: {
      const v = b.pc === 0 ? BigInt(r.int(-0xffffff, 0xffffff)) : randomInt(r, 32);
      b.mem(0xda, op, b.putInput(leBytes(BigInt.asUintN(32, v), 4)), `fi${name.slice(1)} dword`);
    }
  }
  if (op === 3) b.pop();
  return true;
}

function arithReg(b: CaseBuilder): boolean {
  if (b.isEmpty(0)) return false;
  const r = b.r;
  const i = b.fullIndex();
  if (i < 0) return false;
  const op = r.pick([0, 1, 4, 5, 6, 7]);
  const form = r.int(0, 2); // D8: st0 op st(i); DC: st(i) op st0; DE: ...p
  const names = ['fadd', 'fmul', '', '', 'fsub', 'fsubr', 'fdiv', 'fdivr'];
  if (form === 0) b.reg(0xd8, 0xc0 | (op << 3) | i, `${names[op]} st0, st(${i})`);
  else {
    // DC/DE register forms encode sub/subr and div/divr the other way round
    const enc = op >= 4 ? op ^ 1 : op;
    if (form === 1) b.reg(0xdc, 0xc0 | (enc << 3) | i, `${names[op]} st(${i}), st0`);
    else {
      if (i === 0) return false;
      b.reg(0xde, 0xc0 | (enc << 3) | i, `${names[op]}p st(${i}), st0`);
      b.pop();
    }
  }
  return true;
}

function storeOp(b: CaseBuilder): boolean {
  if (b.isEmpty(0)) return false;
  const r = b.r;
  const off = b.outOff();
  const k = r.pick(['m32', 'm64', 'm80', 'i16', 'i32', 'i64', 'bcd', 'sti', 'cw', 'sw', 'tt16', 'tt32', 'tt64'] as const);
  const pop = r.chance(0.5);
  switch (k) {
    case 'm32': b.mem(0xd9, pop ? 3 : 2, off, pop ? 'fstp dword' : 'fst dword'); break;
    case 'm64': b.mem(0xdd, pop ? 3 : 2, off, pop ? 'fstp qword' : 'fst qword'); break;
    case 'm80': b.mem(0xdb, 7, off, 'fstp tword'); b.pop(); return true;
    case 'i16': b.mem(0xdf, pop ? 3 : 2, off, pop ? 'fistp word' : 'fist word'); break;
    case 'i32': b.mem(0xdb, pop ? 3 : 2, off, pop ? 'fistp dword' : 'fist dword'); break;
    case 'i64': b.mem(0xdf, 7, off, 'fistp qword'); b.pop(); return true;
    case 'bcd': b.mem(0xdf, 6, off, 'fbstp'); b.pop(); return true;
    // FISTTP (truncating, always pops): SSE3, but QEMU 7.2 runs it on every CPU model
    case 'tt16': b.mem(0xdf, 1, off, 'fisttp word'); b.pop(); return true;
    case 'tt32': b.mem(0xdb, 1, off, 'fisttp dword'); b.pop(); return true;
    case 'tt64': b.mem(0xdd, 1, off, 'fisttp qword'); b.pop(); return true;
    case 'cw': b.mem(0xd9, 7, off, 'fnstcw'); return true;
    case 'sw': b.mem(0xdd, 7, off, 'fnstsw'); b.checks.push({ off, kind: 'sw', swIgnore: b.ccUnsure }); return true;
    default: {
      // QEMU does not mark an empty destination valid: only full ones
      const i = b.fullIndex();
      if (i < 0) return false;
      b.reg(0xdd, (pop ? 0xd8 : 0xd0) + i, `${pop ? 'fstp' : 'fst'} st(${i})`);
      if (pop) b.pop();
      return true;
    }
  }
  if (pop) b.pop();
  return true;
}

function compareOp(b: CaseBuilder): boolean {
  // the comparisons define C0, C2 and C3
  if (!compareOp1(b)) return false;
  b.ccUnsure = 0;
  return true;
}

function compareOp1(b: CaseBuilder): boolean {
  if (b.isEmpty(0)) return false;
  const r = b.r;
  const k = r.pick(['fcom', 'fcomp', 'fucom', 'fucomp', 'fcompp', 'fucompp', 'ftst', 'fxam'] as const);
  const i = b.fullIndex(1);
  switch (k) {
    case 'fcom': case 'fcomp':
      if (i < 0) return false;
      b.reg(0xd8, (k === 'fcom' ? 0xd0 : 0xd8) + i, `${k} st(${i})`);
      if (k === 'fcomp') b.pop();
      return true;
    case 'fucom': case 'fucomp':
      if (i < 0) return false;
      b.reg(0xdd, (k === 'fucom' ? 0xe0 : 0xe8) + i, `${k} st(${i})`);
      if (k === 'fucomp') b.pop();
      return true;
    case 'fcompp': case 'fucompp':
      if (b.isEmpty(1)) return false;
      if (k === 'fcompp') b.reg(0xde, 0xd9, 'fcompp');
      else b.reg(0xda, 0xe9, 'fucompp');
      b.pop();
      b.pop();
      return true;
    case 'ftst': b.reg(0xd9, 0xe4, 'ftst'); return true;
    default:
      b.reg(0xd9, 0xe5, 'fxam');
      return true;
  }
}

function unaryOp(b: CaseBuilder): boolean {
  if (b.isEmpty(0)) return false;
  const r = b.r;
  const k = r.pick(['fchs', 'fabs', 'fsqrt', 'frndint', 'fscale', 'fxtract', 'fprem', 'fprem1'] as const);
  switch (k) {
    case 'fchs': b.reg(0xd9, 0xe0, k); return true;
    case 'fabs': b.reg(0xd9, 0xe1, k); return true;
    case 'fsqrt': b.reg(0xd9, 0xfa, k); b.ccUnsure |= SW_C0 | SW_C2 | SW_C3; return true;
    case 'frndint':
      // QEMU rounds FRNDINT's result to the precision control (PC does not apply on hardware)
      if (b.pc !== 3) return false;
      b.reg(0xd9, 0xfc, k);
      return true;
    case 'fscale':
      if (b.isEmpty(1)) return false;
      b.reg(0xd9, 0xfd, k);
      return true;
    case 'fxtract':
      if (!b.canPush()) return false;
      b.reg(0xd9, 0xf4, k);
      b.push();
      return true;
    default:
      // QEMU rounds the remainder to the precision control (exact on hardware)
      if (b.isEmpty(1) || b.pc !== 3) return false;
      b.reg(0xd9, k === 'fprem' ? 0xf8 : 0xf5, k);
      b.ccUnsure = k === 'fprem' ? 0 : SW_C0 | SW_C3;
      return true;
  }
}

function stackOp(b: CaseBuilder): boolean {
  const r = b.r;
  const k = r.pick(['fxch', 'ffree', 'fincstp', 'fdecstp', 'ffreep', 'fnop'] as const);
  switch (k) {
    case 'fxch': {
      const i = b.fullIndex(1);
      if (i < 0 || b.isEmpty(0)) return false;
      b.reg(0xd9, 0xc8 + i, `fxch st(${i})`);
      return true;
    }
    case 'ffree': {
      const i = r.int(0, 7);
      b.reg(0xdd, 0xc0 + i, `ffree st(${i})`);
      b.empty |= 1 << ((b.top + i) & 7);
      return true;
    }
    case 'ffreep': {
      const i = r.int(0, 7);
      b.reg(0xdf, 0xc0 + i, `ffreep st(${i})`);
      b.empty |= 1 << ((b.top + i) & 7);
      b.pop();
      return true;
    }
    case 'fincstp': b.reg(0xd9, 0xf7, k); b.top = (b.top + 1) & 7; b.ccUnsure = 0; return true;
    case 'fdecstp': b.reg(0xd9, 0xf6, k); b.top = (b.top - 1) & 7; b.ccUnsure = 0; return true;
    default: b.reg(0xd9, 0xd0, 'fnop'); return true;
  }
}

function fcomiOp(b: CaseBuilder): boolean {
  const i = b.fullIndex(1);
  if (i < 0 || b.isEmpty(0)) return false;
  const r = b.r;
  // QEMU leaves OF/SF/AF alone (the SDM clears them): clear them first so both agree.
  b.emit([0x39, 0xc0], 'cmp eax, eax');
  const k = r.int(0, 3);
  const pop = k >= 2;
  const uq = k & 1;
  b.reg(pop ? 0xdf : 0xdb, (uq ? 0xe8 : 0xf0) + i, `f${uq ? 'u' : ''}comi${pop ? 'p' : ''} st(${i})`);
  if (pop) b.pop();
  if (!b.isEmpty(0)) {
    const j = b.fullIndex();
    if (j >= 0) {
      const cc = r.int(0, 7);
      b.reg(cc < 4 ? 0xda : 0xdb, 0xc0 + ((cc & 3) << 3) + j, `fcmov${['b', 'e', 'be', 'u', 'nb', 'ne', 'nbe', 'nu'][cc]} st0, st(${j})`);
    }
  }
  return true;
}

function controlOp(b: CaseBuilder): boolean {
  const r = b.r;
  const k = r.pick(['fldcw', 'env', 'fnstswax', 'fwait', 'fxsave'] as const);
  switch (k) {
    case 'fldcw': {
      // Each FLDCW reads its own slot: the generator's model of PC/RC must be the value
      // the instruction really loads (a shared slot held only the last one).
      if (b.cwSlots >= CW_SLOTS) return false;
      const slot = CW_SLOT + 2 * b.cwSlots++;
      const cw = randomCw(r);
      b.data.set(leBytes(BigInt(cw), 2), slot);
      b.pc = (cw >> 8) & 3;
      b.mem(0xd9, 5, slot, `fldcw (0x${cw.toString(16)})`);
      return true;
    }
    case 'env':
      b.mem(0xd9, 6, SCRATCH, 'fnstenv');
      b.checks.push({ off: SCRATCH, kind: b.code16 ? 'env16' : 'env32', swIgnore: b.ccUnsure });
      b.mem(0xd9, 4, SCRATCH, 'fldenv');
      return true;
    case 'fxsave':
      b.emit([0x0f, 0xae, ...b.modrm(0, FXAREA)], `fxsave [data+0x${FXAREA.toString(16)}]`);
      b.checks.push({ off: FXAREA, kind: 'fxsave', swIgnore: b.ccUnsure });
      b.emit([0x0f, 0xae, ...b.modrm(1, FXAREA)], `fxrstor [data+0x${FXAREA.toString(16)}]`);
      return true;
    case 'fnstswax':
      b.reg(0xdf, 0xe0, 'fnstsw ax');
      b.axStatus = true;
      b.axIgnore |= b.ccUnsure;
      b.fipUnsure = true;
      return true;
    default:
      b.emit([0x9b], 'fwait');
      return true;
  }
}

// ---- case kinds ---------------------------------------------------------------------------------

function randomRegs(r: Rng, opts: Parameters<typeof randomF80>[1] = {}): F80[] {
  return Array.from({ length: 8 }, () => randomF80(r, opts));
}

function exactCase(b: CaseBuilder): void {
  const r = b.r;
  const full = r.int(0, 255) & r.int(0, 255);
  prologue(b, randomCw(r), randomRegs(r, { unsupported: true }), full, r.int(0, 7));
  const n = r.int(2, 8);
  for (let k = 0; k < n; k++) randomOp(b);
  epilogueDump(b);
}

type Trans = 'fsin' | 'fcos' | 'fsincos' | 'fptan' | 'f2xm1' | 'fyl2x' | 'fyl2xp1' | 'fpatan';
const TRANS: Record<Trans, [number, number]> = {
  fsin: [0xd9, 0xfe], fcos: [0xd9, 0xff], fsincos: [0xd9, 0xfb], fptan: [0xd9, 0xf2],
  f2xm1: [0xd9, 0xf0], fyl2x: [0xd9, 0xf1], fyl2xp1: [0xd9, 0xf9], fpatan: [0xd9, 0xf3],
};

function finite(r: Rng, lo: number, hi: number, sign?: number): F80 {
  const s = sign ?? r.int(0, 1);
  return f80((s << 15) | (0x3fff + r.int(lo, hi)), (1n << 63n) | rand64(r));
}

function approxValue(x: F80): number {
  return Number(x.sig) * 2 ** ((x.se & 0x7fff) - 16383 - 63) * (x.se & 0x8000 ? -1 : 1);
}

function approxCase(b: CaseBuilder): void {
  const r = b.r;
  const op = r.pick(Object.keys(TRANS) as Trans[]);
  const regs = randomRegs(r, { specials: false });
  const top = r.int(0, 7);
  let x: F80;
  let y = finite(r, -30, 30);
  switch (op) {
    // |x| < 4: larger arguments make the double rounding of x (QEMU rounds per RC, we to
    // nearest) visible far beyond the tolerance
    case 'fsin': case 'fcos': case 'fsincos': case 'fptan':
      // and results near a zero of sin/cos are ill-conditioned the same way
      do x = finite(r, -20, 1);
      while (Math.abs(Math.sin(approxValue(x))) < 0.05 || Math.abs(Math.cos(approxValue(x))) < 0.05);
      break;
    case 'f2xm1': x = finite(r, -40, -1); break;
    case 'fyl2x': x = finite(r, -200, 200, 0); break;
    case 'fyl2xp1': x = finite(r, -60, -3); break;
    default: x = finite(r, -30, 30); y = finite(r, -30, 30);
  }
  regs[top] = x;
  regs[(top + 1) & 7] = y;
  const pushes = op === 'fsincos' || op === 'fptan';
  let full = 0xff;
  if (pushes) full &= ~(1 << ((top + 7) & 7));
  // Round to nearest: QEMU converts the argument to double per RC, we to nearest, and one
  // ulp of the argument can move an ill-conditioned result beyond the tolerance.
  prologue(b, 0x37f, regs, full, top);
  const [o, m] = TRANS[op];
  b.reg(o, m, op);
  const slots = pushes ? [0, 1] : op === 'fyl2x' || op === 'fyl2xp1' || op === 'fpatan' ? [0] : [0];
  epilogueDump(b, slots, 0x20 | 0x10 | SW_C1);
}

function unmaskCase(b: CaseBuilder): void {
  const r = b.r;
  const ne = b.mode !== 'ring3' && b.mode !== 'code16' ? r.chance(0.6) : false;
  if (b.mode === 'flat32' || b.mode === 'paging32') {
    // mov eax, cr0; and/or NE; mov cr0, eax
    b.emit([0x0f, 0x20, 0xc0], 'mov eax, cr0');
    if (ne) b.emit([0x83, 0xc8, 0x20], 'or eax, 0x20');
    else b.emit([0x83, 0xe0, 0xdf], 'and eax, ~0x20');
    b.emit([0x0f, 0x22, 0xc0], 'mov cr0, eax');
  }
  const unmasked = r.pick([1, 4, 8, 32, 1 | 4, 8 | 32]); // IE, ZE, OE, PE (never DE or UE: QEMU lacks them)
  const cw = (randomCw(r, 0x3f & ~unmasked) & ~0x300) | 0x300; // PC = 64 (QEMU rounds m64 loads to PC)
  const regs = randomRegs(r, { unsupported: false });
  const top = r.int(0, 7);
  prologue(b, cw, regs, 0xff, top);
  // one non-popping operation on the full stack (QEMU would write a blocked result, so
  // only the status word is compared)
  const k = r.int(0, 3);
  if (k === 0) b.reg(0xd8, 0xc0 | (r.pick([0, 1, 4, 5, 6, 7]) << 3) | r.int(0, 7), 'farith st0, st(i)');
  else if (k === 1) b.mem(0xdc, r.pick([0, 1, 4, 6]), b.putInput(leBytes(randomBinary(r, true), 8)), 'farith qword');
  else if (k === 2) {
    const m = r.pick([0xfa, 0xfc, 0xfd]);
    b.reg(0xd9, m, m === 0xfa ? 'fsqrt' : m === 0xfc ? 'frndint' : 'fscale');
    if (m === 0xfa) b.ccUnsure = SW_C0 | SW_C2 | SW_C3;
  }
  else {
    b.reg(0xd8, 0xd0 + r.int(0, 7), 'fcom st(i)');
    // an unmasked #IA leaves C0/C2/C3 alone (SDM, FCOM); QEMU sets them
    if (unmasked & 1) b.ccUnsure = SW_C0 | SW_C2 | SW_C3;
  }
  // an unmasked overflow delivers the wrapped result: PE only when it is inexact (QEMU: always)
  if (unmasked & 8) b.ccUnsure |= 0x20;
  b.mem(0xdd, 7, DUMP, 'fnstsw');
  b.checks.push({ off: DUMP, kind: 'sw', swIgnore: b.ccUnsure });
  // FWAIT only where the case set CR0.NE itself (ring 3 and 16-bit cases cannot, and a
  // target restarted after a timeout would not share the NE a previous case left)
  if (b.mode === 'flat32' || b.mode === 'paging32') b.emit([0x9b], 'fwait');
  b.mem(0xdd, 7, DUMP + 2, 'fnstsw');
  b.checks.push({ off: DUMP + 2, kind: 'sw', swIgnore: b.ccUnsure });
  b.reg(0xdb, 0xe2, 'fnclex');
  b.reg(0xdb, 0xe3, 'fninit');
}

export type X87Kind = 'exact' | 'approx' | 'unmask';

export function generateX87Case(seed: number, kind?: X87Kind): X87Case {
  const r = new Rng(seed);
  const mode = r.weighted([['flat32', 6], ['ring3', 2], ['code16', 2], ['paging32', 1]] as const);
  const k = kind ?? r.weighted([['exact', 70], ['approx', 15], ['unmask', 15]] as const);
  const b = new CaseBuilder(r, mode);
  if (k === 'exact') exactCase(b);
  else if (k === 'approx') approxCase(b);
  else unmaskCase(b);
  const c: X87Case = {
    name: `x87-${k}-${seed}`,
    seed,
    mode,
    code: new Uint8Array(b.code),
    data: b.data,
    dataWindow: [0, X87_WINDOW],
    listing: b.listing,
    checks: b.checks,
    regs: { ebx: b.code16 ? 0 : b.useBase ? DATA : 0 },
    // EFLAGS: only FCOMI/FUCOMI (after CMP) touch them; nothing is undefined
    flagsIgnore: 0,
    timeoutMs: 5000,
  };
  if (b.axStatus) c.axStatus = true;
  if (b.axIgnore) c.axIgnore = b.axIgnore;
  if (b.fipUnsure) c.fipIgnore = true;
  return c;
}

export function generateX87Cases(baseSeed: number, count: number): X87Case[] {
  return Array.from({ length: count }, (_, i) => generateX87Case(caseSeed(baseSeed ^ 0x87, i)));
}
