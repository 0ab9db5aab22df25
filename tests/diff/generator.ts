// Seeded random generator of differential-test cases: instruction sequences for the
// harness guest (tests/guests/diff-harness), in four modes (ring 0 flat, ring 0 with
// paging, ring 3 with paging, 16-bit code segment).
//
// Rules it keeps:
//  - every memory operand lands inside the compared data window (or the stack window):
//    base/index registers are set with `mov reg, imm` right before the instruction, and
//    the segment's base and limit are taken into account;
//  - the stack pointer is always known and stays inside the stack window;
//  - branches go forward (or back by LOOP with a known count), so every case ends;
//  - per instruction the generator knows which flags the SDM leaves undefined, never lets
//    a later instruction read one (it inserts a CMP first), and returns the mask of flags
//    still undefined at the end (flagsIgnore) and before every instruction (flagsIgnoreAt);
//  - results the SDM leaves undefined (BSF/BSR of 0, SHLD/SHRD counts > size) are avoided
//    or overwritten.
//
// generateCase(seed) is a pure function of the seed; CASE_SEED=<n> reproduces one case.
import * as A from './x86-asm.js';
import type { Bits, Insn, Mem, Reg, RM, Size } from './x86-asm.js';
import {
  AC, ARITH, CF, DF, ID, IOPL, IF, OF, PF, SF, ZF, AF, VIP, VIF, RF, VM,
  aluFlags, ccReads, shiftFlags, shxdFlags, type FlagEffect, NONE,
} from './flags.js';
import { CTXF, LAYOUT, LDT_SEL, SEL, realSegment, segmentOf, type SegmentInfo } from '../support/harness-layout.js';
import { modeDefaults, segKindOf, type CaseMode, type DiffCase, type GprName, type SegKind } from '../support/diff-target.js';

// ---- random numbers -----------------------------------------------------------------

/** sfc32, seeded through splitmix32. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }
  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }
  /** integer in [lo, hi] */
  int(lo: number, hi: number): number {
    return lo + Math.floor((this.u32() / 0x100000000) * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.u32() / 0x100000000 < p;
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from nothing');
    return items[this.int(0, items.length - 1)]!;
  }
  weighted<T>(items: ReadonlyArray<readonly [T, number]>): T {
    let total = 0;
    for (const [, w] of items) total += w;
    let x = (this.u32() / 0x100000000) * total;
    for (const [v, w] of items) {
      if ((x -= w) < 0) return v;
    }
    return items[items.length - 1]![0];
  }
}

/** Mixes a base seed and an index into a case seed. */
export function caseSeed(base: number, index: number): number {
  let z = (Math.imul(base >>> 0, 0x9e3779b1) + Math.imul(index + 1, 0x85ebca6b)) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x2c1b3c6d) >>> 0;
  z = Math.imul(z ^ (z >>> 12), 0x297a2d39) >>> 0;
  return (z ^ (z >>> 15)) >>> 0;
}

// ---- constants ----------------------------------------------------------------------

const MASK: Record<number, number> = { 1: 0xff, 2: 0xffff, 4: 0xffffffff };
const INTERESTING32 = [
  0, 1, 2, 3, 7, 8, 9, 0x0f, 0x10, 0x1f, 0x20, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000,
  0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff, 0xffff8000, 0xffffff80, 0x12345678, 0xdeadbeef,
];
const SHIFT_COUNTS = [0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 255];

/** The data window generated cases use: DATA_AREA + [0, DATA_WINDOW). */
export const DATA_WINDOW = 0x800;
/** Memory operands stay inside [MARGIN, DATA_WINDOW - MARGIN) of the window. */
const MARGIN = 0xc0;

type Category =
  | 'alu' | 'incdec' | 'negnot' | 'test' | 'mul' | 'div' | 'shift' | 'shxd' | 'bt' | 'bsx' | 'bswap'
  | 'xchg' | 'cmpxchg' | 'cmpxchg8b' | 'xadd' | 'movx' | 'convert' | 'lea' | 'mov' | 'string'
  | 'pushpop' | 'pusha' | 'pushf' | 'enter' | 'call' | 'jmp' | 'jcc' | 'setcc' | 'cmovcc' | 'loop'
  | 'jecxz' | 'flagop' | 'sahf' | 'bcd' | 'xlat' | 'nop' | 'segment';

const CATEGORY_WEIGHTS: ReadonlyArray<readonly [Category, number]> = [
  ['alu', 14], ['incdec', 3], ['negnot', 2], ['test', 2], ['mul', 4], ['div', 3], ['shift', 8], ['shxd', 3],
  ['bt', 4], ['bsx', 2], ['bswap', 1], ['xchg', 2], ['cmpxchg', 2], ['cmpxchg8b', 1], ['xadd', 2],
  ['movx', 2], ['convert', 2], ['lea', 3], ['mov', 5], ['string', 5], ['pushpop', 5], ['pusha', 1],
  ['pushf', 2], ['enter', 1.5], ['call', 2], ['jmp', 1], ['jcc', 4], ['setcc', 2], ['cmovcc', 2],
  ['loop', 2], ['jecxz', 1], ['flagop', 2], ['sahf', 1.5], ['bcd', 2], ['xlat', 1], ['nop', 1], ['segment', 1.5],
];

/** Categories allowed inside a branch/loop/call body: balanced stack, no segment or DF changes, no nested control flow. */
const BODY_OK: ReadonlySet<Category> = new Set<Category>([
  'alu', 'incdec', 'negnot', 'test', 'mul', 'shift', 'shxd', 'bt', 'bsx', 'bswap', 'xchg', 'cmpxchg',
  'cmpxchg8b', 'xadd', 'movx', 'convert', 'lea', 'mov', 'setcc', 'cmovcc', 'sahf', 'bcd', 'xlat', 'nop', 'flagop',
]);

// ---- generator state ----------------------------------------------------------------

interface Snapshot {
  len: number;
  listing: number;
  masks: number;
  undef: number;
  known: Array<number | undefined>;
  esp: number;
  df: number | undefined;
  segs: Array<SegmentInfo | null>;
  ended: boolean;
}

/** Where a Gen emits and what it starts from (mode-switch cases run several Gens on one buffer). */
export interface GenEnv {
  bits: Bits;
  /** a shared buffer (its origin is the case start) */
  asm: A.Asm;
  /** EIP of a buffer position = asm.pc + pcBias (a flat 32-bit block of code placed at RM_CODE: RM_CODE) */
  pcBias: number;
  /** ES, CS, SS, DS, FS, GS (null: null selector) */
  segs: Array<SegmentInfo | null>;
  ring: number;
  kind: SegKind;
  /** real mode with 4 GiB data limits (loading a data segment keeps its limit) */
  unreal: boolean;
  esp: number;
  undef: number;
  df: number | undefined;
  /** linear address of the data window */
  dataAddr: number;
}

export interface GenOptions {
  mode?: CaseMode;
  /** number of items (instructions or small blocks); default random 5..16 */
  items?: number;
  /** probability that the case ends with an exception-raising instruction (0.15) */
  exceptionRate?: number;
}

export class Gen {
  readonly asm: A.Asm;
  bits: Bits;
  pcBias = 0;
  kind: SegKind = 'pm';
  unreal = false;
  undef = 0;
  known: Array<number | undefined>;
  esp: number;
  df: number | undefined;
  /** by A.ES..A.GS; null = null selector */
  segs: Array<SegmentInfo | null>;
  readonly reserved = new Set<number>();
  masks: Array<[number, number]> = [];
  ended = false;
  depth = 0; // nesting of bodies
  readonly dataLo: number;
  readonly dataHi: number;
  readonly stackTop: number;
  readonly ssInfo: SegmentInfo;
  readonly ring: number;

  constructor(readonly rng: Rng, readonly mode: CaseMode, readonly c: DiffCase, env?: GenEnv) {
    const d = modeDefaults(mode);
    const r = c.regs ?? {};
    this.known = [r.eax, r.ecx, r.edx, r.ebx, r.esp, r.ebp, r.esi, r.edi].map((v) => (v === undefined ? undefined : v >>> 0));
    if (env) {
      this.bits = env.bits;
      this.asm = env.asm;
      this.pcBias = env.pcBias;
      this.segs = [...env.segs];
      this.ring = env.ring;
      this.kind = env.kind;
      this.unreal = env.unreal;
      this.esp = env.esp >>> 0;
      this.undef = env.undef;
      this.df = env.df;
      this.dataLo = env.dataAddr + MARGIN;
      this.dataHi = env.dataAddr + DATA_WINDOW - MARGIN;
      this.known.fill(undefined);
    } else {
      this.bits = d.bits;
      this.asm = new A.Asm(this.bits, d.eip === 0 ? 0 : LAYOUT.codeArea);
      this.esp = (r.esp ?? d.esp) >>> 0;
      this.df = (c.eflags ?? 2) & DF ? 1 : 0;
      this.kind = segKindOf(c);
      this.unreal = ((c.ctxFlags ?? d.flags) & CTXF.UNREAL) !== 0;
      const s = { ...d.segs, ...c.segs };
      this.segs = [s.es, s.cs, s.ss, s.ds, s.fs, s.gs].map((sel, i) => {
        if (this.kind !== 'pm') return realSegment(sel, this.unreal && i !== A.SS && i !== A.CS ? 0xffffffff : 0xffff);
        return (sel & 0xfffc) === 0 ? null : segmentOf(sel) ?? null;
      });
      this.ring = this.kind === 'v86' ? 3 : this.kind === 'real' ? 0 : s.cs & 3;
      this.dataLo = d.dataAddr + MARGIN;
      this.dataHi = d.dataAddr + DATA_WINDOW - MARGIN;
    }
    this.known[A.ESP] = this.esp;
    this.ssInfo = this.segs[A.SS]!;
    this.stackTop = this.linear(A.SS, this.esp);
  }

  /** The state a following block (mode-switch cases) starts from. */
  env(): Omit<GenEnv, 'bits' | 'pcBias' | 'segs' | 'ring' | 'kind' | 'unreal' | 'dataAddr'> {
    return { asm: this.asm, esp: this.esp, undef: this.undef, df: this.df };
  }

  /** Offset of the next instruction in the case code. */
  get off(): number {
    return this.asm.pc - this.asm.origin;
  }

  // ---- bookkeeping ----

  snapshot(): Snapshot {
    return {
      len: this.asm.bytes.length, listing: this.asm.listing.length, masks: this.masks.length, undef: this.undef,
      known: [...this.known], esp: this.esp, df: this.df, segs: [...this.segs], ended: this.ended,
    };
  }
  restore(s: Snapshot): void {
    this.asm.bytes.length = s.len;
    this.asm.listing.length = s.listing;
    this.masks.length = s.masks;
    this.undef = s.undef;
    this.known = [...s.known];
    this.esp = s.esp;
    this.df = s.df;
    this.segs = [...s.segs];
    this.ended = s.ended;
  }

  get pc(): number {
    return this.asm.pc + this.pcBias;
  }

  /** Emits an instruction with its flag effect and the registers (0..7) it writes. */
  emit(i: Insn, f: FlagEffect = NONE, writes: number[] = [], values?: Map<number, number>): void {
    if (f.reads & this.undef) {
      throw new Error(`generator bug: '${i.text}' reads undefined flags 0x${(f.reads & this.undef).toString(16)}`);
    }
    for (const w of writes) {
      if (w === A.ESP) throw new Error(`generator bug: '${i.text}' writes ESP untracked`);
      if (this.reserved.has(w)) throw new Error(`generator bug: '${i.text}' writes reserved ${A.REG_NAMES[4][w]}`);
    }
    this.masks.push([this.off, this.undef]);
    this.asm.emit(i);
    this.undef = (this.undef & ~f.def) | f.undef;
    for (const w of writes) this.known[w] = values?.get(w);
  }

  /** Makes sure `mask` flags are defined (emits a CMP, which defines all six). */
  needFlags(mask: number): void {
    if (!(mask & this.undef)) return;
    this.definer();
  }

  definer(): void {
    const size = this.rng.pick([1, 2, 4] as const);
    const a = A.reg(size, this.rng.int(0, 7));
    if (this.rng.chance(0.5)) this.emit(A.alu(this.bits, 'cmp', a, A.imm(size, this.value(size)), this.rng.int(0, 2)), aluFlags('cmp'));
    else this.emit(A.alu(this.bits, 'cmp', a, A.reg(size, this.rng.int(0, 7)), this.rng.int(0, 1)), aluFlags('cmp'));
  }

  /** Linear address of seg:offset. */
  linear(seg: number, offset: number): number {
    const s = this.segs[seg];
    if (!s) throw new Error('null segment');
    return (s.base + (seg === A.SS && !s.big ? offset & 0xffff : offset)) >>> 0;
  }

  /** Random value with a bias to interesting ones. */
  value(size: number): number {
    const r = this.rng.int(0, 9);
    let v: number;
    if (r < 4) v = this.rng.pick(INTERESTING32);
    else if (r < 6) v = this.rng.int(0, 0x40);
    else if (r < 7) v = -this.rng.int(1, 0x40);
    else v = this.rng.u32();
    return (v & MASK[size]!) >>> 0;
  }

  /** A register that may be written: not ESP, not reserved. For bytes, AH..BH allowed. */
  dst(size: Size, exclude: number[] = []): Reg | undefined {
    const ok: number[] = [];
    for (let n = 0; n < 8; n++) {
      const full = size === 1 ? n & 3 : n;
      if (full === A.ESP && size !== 1) continue;
      if (this.reserved.has(full) || exclude.includes(full)) continue;
      ok.push(n);
    }
    return ok.length ? A.reg(size, this.rng.pick(ok)) : undefined;
  }

  src(size: Size): Reg {
    return A.reg(size, this.rng.int(0, 7));
  }

  full(r: Reg): number {
    return r.size === 1 ? r.n & 3 : r.n;
  }

  /** mov reg32, value (sets a known value). */
  setReg(n: number, v: number): void {
    this.emit(A.mov(this.bits, A.r32(n), A.imm(4, v >>> 0)), NONE, [n], new Map([[n, v >>> 0]]));
  }

  free(n: number): boolean {
    return n !== A.ESP && !this.reserved.has(n);
  }

  // ---- memory operands ----

  /** Whether seg can access ext bytes at linear L with address size a16. */
  offsetFor(seg: number, L: number, ext: number, write: boolean, a16: boolean): number | undefined {
    const s = this.segs[seg];
    if (!s || !s.present || s.system) return undefined;
    if (write && (s.code || !s.rw)) return undefined;
    if (!write && s.code && !s.rw) return undefined;
    const o = (L - s.base) >>> 0;
    const end = o + ext - 1;
    if (a16 && end > 0xffff) return undefined;
    if (s.expandDown) {
      const upper = s.big ? 0xffffffff : 0xffff;
      if (o <= s.limit || end > upper) return undefined;
    } else if (end > s.limit) return undefined;
    return o;
  }

  /**
   * Builds a memory operand whose access of `ext` bytes (at EA + shift) lands inside the
   * data window (or the stack window), emitting the register setup. Returns undefined if
   * no form fits (rare: everything reserved or no usable segment).
   */
  memOperand(size: number, opts: { write?: boolean; ext?: number; shift?: number; stack?: boolean; a16?: boolean; noSetup?: boolean; formDispOnly?: boolean } = {}): Mem | undefined {
    const ext = opts.ext ?? Math.max(1, size);
    const shift = opts.shift ?? 0;
    const write = opts.write ?? false;
    for (let attempt = 0; attempt < 20; attempt++) {
      const a16 = opts.a16 ?? (this.rng.chance(0.2) ? this.bits === 32 : this.bits === 16);
      const useStack = opts.stack ?? this.rng.chance(0.1);
      // the accessed address L, and the effective address EA = L - shift
      let L: number;
      let inStack = false;
      // stack-window writes stay below ESP: above it live return addresses and frames
      const stackHi = write ? Math.min(this.stackTop + 0x40, this.linear(A.SS, this.esp)) : this.stackTop + 0x40;
      const stackLo = this.stackTop - 0x300;
      if (useStack && stackHi - stackLo >= ext + 16) {
        L = this.rng.int(stackLo, stackHi - ext);
        inStack = true;
      } else {
        L = this.rng.int(this.dataLo, this.dataHi - ext);
      }
      const ea = (L - shift) >>> 0;
      if (inStack ? Math.abs(ea - L) > 0x100 : (ea < LAYOUT.dataArea || ea >= LAYOUT.dataArea + DATA_WINDOW)) continue;
      const segs = [A.DS, A.ES, A.FS, A.GS, A.SS, A.CS].filter((sg) => {
        if (sg === A.CS && write) return false;
        const o1 = this.offsetFor(sg, L, ext, write, a16);
        const o2 = this.offsetFor(sg, ea, 1, false, a16);
        return o1 !== undefined && o2 !== undefined;
      });
      if (segs.length === 0) continue;
      const seg = this.rng.chance(0.5) && segs.includes(A.DS) ? A.DS : this.rng.pick(segs);
      const s = this.segs[seg]!;
      const O = (ea - s.base) >>> 0;
      const m = a16 ? this.form16(O, opts) : this.form32(O, seg, opts);
      if (!m) continue;
      m.size = size;
      // segment: override when the form's default differs (and sometimes anyway)
      if (A.defaultSeg(m) !== seg || this.rng.chance(0.1)) m.seg = seg;
      return m;
    }
    return undefined;
  }

  private form32(O: number, seg: number, opts: { noSetup?: boolean; formDispOnly?: boolean }): Mem | undefined {
    const kind = opts.formDispOnly ? 0 : this.rng.int(0, 6);
    const freeRegs = [0, 1, 2, 3, 5, 6, 7].filter((n) => this.free(n));
    if (kind === 0 || freeRegs.length < 2 || opts.noSetup) return A.mem(0, { disp: O | 0 });
    const dispOf = () => (this.rng.chance(0.3) ? 0 : this.rng.chance(0.6) ? this.rng.int(-128, 127) : this.rng.int(-0x10000, 0x10000));
    if (kind === 1 && seg === A.SS) {
      // ESP-based, with the known ESP
      const disp = (O - this.esp) | 0;
      return A.mem(0, { base: A.ESP, disp, dispSize: this.rng.pick([0, 1, 4] as const) });
    }
    const base = this.rng.pick(freeRegs);
    if (kind <= 3) {
      const disp = kind === 2 ? 0 : dispOf();
      this.setReg(base, (O - disp) >>> 0);
      return A.mem(0, { base, disp, dispSize: this.rng.pick([0, 1, 4] as const) });
    }
    const index = this.rng.pick(freeRegs.filter((n) => n !== base));
    const scale = this.rng.pick([1, 2, 4, 8] as const);
    const iv = this.rng.chance(0.5) ? this.rng.int(-16, 16) : this.rng.int(0, 0x400);
    const disp = dispOf();
    if (kind === 6) {
      // index*scale + disp32, no base
      const d = (O - Math.imul(iv, scale)) | 0;
      this.setReg(index, iv >>> 0);
      return A.mem(0, { index, scale, disp: d });
    }
    this.setReg(index, iv >>> 0);
    this.setReg(base, (O - Math.imul(iv, scale) - disp) >>> 0);
    return A.mem(0, { base, index, scale, disp, dispSize: this.rng.pick([0, 1, 4] as const) });
  }

  private form16(O: number, opts: { noSetup?: boolean; formDispOnly?: boolean }): Mem | undefined {
    const forms: Array<[number | undefined, number | undefined]> = [
      [A.EBX, A.ESI], [A.EBX, A.EDI], [A.EBP, A.ESI], [A.EBP, A.EDI], [undefined, A.ESI], [undefined, A.EDI], [A.EBP, undefined], [A.EBX, undefined],
    ];
    const ok = forms.filter(([b, i]) => (b === undefined || this.free(b)) && (i === undefined || this.free(i)));
    if (opts.formDispOnly || opts.noSetup || ok.length === 0 || this.rng.chance(0.12)) return A.mem(0, { a16: true, disp: O & 0xffff });
    const [base, index] = this.rng.pick(ok);
    const disp = this.rng.chance(0.3) ? 0 : this.rng.chance(0.6) ? this.rng.int(-128, 127) : this.rng.int(0, 0xffff);
    let rest = (O - disp) & 0xffff;
    const garbage = () => (this.rng.chance(0.5) ? 0 : this.rng.int(1, 0xffff) << 16);
    if (index !== undefined && base !== undefined) {
      const iv = this.rng.int(0, 0xffff);
      this.setReg(index, (garbage() | iv) >>> 0);
      rest = (rest - iv) & 0xffff;
      this.setReg(base, (garbage() | rest) >>> 0);
    } else {
      this.setReg((base ?? index)!, (garbage() | rest) >>> 0);
    }
    const m = A.mem(0, { a16: true, disp: disp & 0xffff, dispSize: this.rng.pick([0, 1, 2] as const) });
    if (base !== undefined) m.base = base;
    if (index !== undefined) m.index = index;
    return m;
  }

  /** Runs fn with extra registers reserved (not to be used for address setup or as destinations). */
  withReserved<T>(regs: number[], fn: () => T): T {
    const added = regs.filter((r) => !this.reserved.has(r));
    for (const r of added) this.reserved.add(r);
    try {
      return fn();
    } finally {
      for (const r of added) this.reserved.delete(r);
    }
  }

  /** A register or a memory operand (50/50) of `size`. */
  rmOperand(size: Size, write: boolean, opts: { exclude?: number[] } = {}): RM | undefined {
    if (this.rng.chance(0.5)) {
      const m = this.memOperand(size, { write });
      if (m) return m;
    }
    return write ? this.dst(size, opts.exclude) : this.src(size);
  }

  // ---- stack ----

  /** Stack bounds as linear addresses: ESP stays in [lo, hi]. */
  stackOk(delta: number): boolean {
    const e = this.linear(A.SS, this.esp - delta);
    return e >= this.stackTop - 0x340 && e <= this.stackTop + 0xa0;
  }
  moveEsp(delta: number): void {
    // push: delta > 0
    if (this.ssInfo.big) this.esp = (this.esp - delta) >>> 0;
    else this.esp = ((this.esp & 0xffff0000) | ((this.esp - delta) & 0xffff)) >>> 0;
    this.known[A.ESP] = this.esp;
  }
  get osDefault(): 2 | 4 {
    return this.bits === 16 ? 2 : 4;
  }

  // ---- categories ----

  item(cat: Category): boolean {
    switch (cat) {
      case 'alu': return this.genAlu();
      case 'incdec': return this.genIncDec();
      case 'negnot': return this.genNegNot();
      case 'test': return this.genTest();
      case 'mul': return this.genMul();
      case 'div': return this.genDiv();
      case 'shift': return this.genShift();
      case 'shxd': return this.genShxd();
      case 'bt': return this.genBt();
      case 'bsx': return this.genBsx();
      case 'bswap': return this.genBswap();
      case 'xchg': return this.genXchg();
      case 'cmpxchg': return this.genCmpxchg();
      case 'cmpxchg8b': return this.genCmpxchg8b();
      case 'xadd': return this.genXadd();
      case 'movx': return this.genMovx();
      case 'convert': return this.genConvert();
      case 'lea': return this.genLea();
      case 'mov': return this.genMov();
      case 'string': return this.genString();
      case 'pushpop': return this.genPushPop();
      case 'pusha': return this.genPusha();
      case 'pushf': return this.genPushf();
      case 'enter': return this.genEnter();
      case 'call': return this.genCall();
      case 'jmp': return this.genJmp();
      case 'jcc': return this.genJcc();
      case 'setcc': return this.genSetcc();
      case 'cmovcc': return this.genCmovcc();
      case 'loop': return this.genLoop();
      case 'jecxz': return this.genJecxz();
      case 'flagop': return this.genFlagOp();
      case 'sahf': return this.genSahf();
      case 'bcd': return this.genBcd();
      case 'xlat': return this.genXlat();
      case 'nop': return this.genNop();
      case 'segment': return this.genSegment();
    }
  }

  size(): Size {
    return this.rng.pick([1, 2, 4, 4] as const);
  }

  genAlu(): boolean {
    const name = this.rng.pick(A.ALU_NAMES);
    const f = aluFlags(name);
    this.needFlags(f.reads);
    const size = this.size();
    const form = this.rng.int(0, 4);
    const writes = name !== 'cmp';
    if (form === 0 || form === 3) {
      // reg, reg | reg, imm
      const d = writes ? this.dst(size) : this.src(size);
      if (!d) return false;
      const s = form === 0 ? this.src(size) : A.imm(size, this.value(size));
      this.emit(A.alu(this.bits, name, d, s, this.rng.int(0, 2)), f, writes ? [this.full(d)] : []);
    } else if (form === 1) {
      const m = this.memOperand(size);
      const d = writes ? this.dst(size) : this.src(size);
      if (!m || !d) return false;
      this.emit(A.alu(this.bits, name, d, m), f, writes ? [this.full(d)] : []);
    } else {
      const m = this.memOperand(size, { write: writes });
      if (!m) return false;
      const s = form === 2 ? this.src(size) : A.imm(size, this.value(size));
      this.emit(A.alu(this.bits, name, m, s, this.rng.int(0, 2)), f);
    }
    return true;
  }

  genIncDec(): boolean {
    const name = this.rng.pick(['inc', 'dec'] as const);
    const size = this.size();
    const d = this.rmOperand(size, true);
    if (!d) return false;
    this.emit(A.incdec(this.bits, name, d, this.rng.int(0, 1)), aluFlags(name), d.k === 'reg' ? [this.full(d)] : []);
    return true;
  }

  genNegNot(): boolean {
    const name = this.rng.pick(['neg', 'not'] as const);
    const d = this.rmOperand(this.size(), true);
    if (!d) return false;
    this.emit(A.grp3(this.bits, name, d), aluFlags(name), d.k === 'reg' ? [this.full(d)] : []);
    return true;
  }

  genTest(): boolean {
    const size = this.size();
    const a = this.rng.chance(0.4) ? this.memOperand(size) ?? this.src(size) : this.src(size);
    const b = this.rng.chance(0.5) ? this.src(size) : A.imm(size, this.value(size));
    this.emit(A.test(this.bits, a, b, this.rng.int(0, 1)), aluFlags('test'));
    return true;
  }

  genMul(): boolean {
    const form = this.rng.int(0, 3);
    const size = form <= 1 ? this.size() : this.rng.pick([2, 4] as const);
    if (form <= 1) {
      // one operand: writes AX or DX:AX / EDX:EAX
      const w = size === 1 ? [A.EAX] : [A.EAX, A.EDX];
      if (w.some((r) => !this.free(r))) return false;
      const s = this.rmOperand(size, false);
      if (!s) return false;
      this.emit(A.grp3(this.bits, form === 0 ? 'mul' : 'imul', s), aluFlags('mul'), w);
      return true;
    }
    const d = this.dst(size);
    if (!d) return false;
    const s = this.rmOperand(size, false);
    if (!s) return false;
    if (form === 2) this.emit(A.imul2(this.bits, d, s), aluFlags('imul'), [d.n]);
    else this.emit(A.imul3(this.bits, d, s, this.value(size), this.rng.int(0, 1)), aluFlags('imul'), [d.n]);
    return true;
  }

  genDiv(): boolean {
    const signedDiv = this.rng.chance(0.5);
    const name = signedDiv ? 'idiv' : 'div';
    const size = this.size();
    if (!this.free(A.EAX) || (size !== 1 && !this.free(A.EDX))) return false;
    const writes = size === 1 ? [A.EAX] : [A.EAX, A.EDX];
    const mode = this.rng.int(0, 9); // 0-6 safe, 7-8 random, 9 divide by zero
    // divisor: a register other than the dividend's, or memory
    let divisor: RM | undefined;
    const dv = mode === 9 ? 0 : (() => {
      let v = this.value(size);
      if (v === 0) v = 3;
      if (signedDiv && v === MASK[size]) v = 5; // not -1
      return v;
    })();
    if (this.rng.chance(0.5)) {
      const m = this.withReserved([A.EAX, A.EDX], () => this.memOperand(size, { write: mode !== 7 && mode !== 8 }));
      if (!m) return false;
      if (mode !== 7 && mode !== 8) this.emit(A.mov(this.bits, m, A.imm(size as Size, dv)));
      divisor = m;
    } else {
      const r = this.dst(size, [A.EAX, A.EDX]);
      if (!r || (size === 1 && (r.n & 3) === 0)) return false;
      if (mode !== 7 && mode !== 8) {
        this.emit(A.mov(this.bits, r, A.imm(size as Size, dv)), NONE, [this.full(r)]);
      }
      divisor = r;
    }
    if (mode <= 6) {
      // no overflow: DIV: high half < divisor; IDIV: sign-extend the low half
      if (signedDiv) {
        if (size === 1) this.emit(A.convert(this.bits, 'cbw'), NONE, [A.EAX]);
        else this.emit(A.convert(this.bits, size === 2 ? 'cwd' : 'cdq'), NONE, [A.EDX]);
      } else if (size === 1) {
        this.emit(A.mov(this.bits, A.r8(4), A.imm(1, this.rng.int(0, dv - 1))), NONE, [A.EAX]);
      } else {
        this.emit(A.mov(this.bits, A.reg(size, A.EDX), A.imm(size, this.rng.int(0, Math.min(dv - 1, 0x7fffffff)))), NONE, [A.EDX]);
      }
    }
    this.emit(A.grp3(this.bits, name, divisor), aluFlags(name), writes);
    if (mode === 9) this.ended = true;
    return true;
  }

  shiftCount(): number {
    return this.rng.chance(0.7) ? this.rng.pick(SHIFT_COUNTS) : this.rng.int(0, 255);
  }

  genShift(): boolean {
    const name = this.rng.pick(['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sar'] as const);
    const size = this.size();
    const how = this.rng.int(0, 2); // 0: by 1 (D0/D1), 1: imm8, 2: CL
    const count = how === 0 ? 1 : this.shiftCount();
    if (how === 2) {
      if (!this.free(A.ECX)) return false;
      this.emit(A.mov(this.bits, A.r8(A.ECX), A.imm(1, count)), NONE, [A.ECX]);
    }
    const d = this.withReserved(how === 2 ? [A.ECX] : [], () => this.rmOperand(size, true));
    if (!d) return false;
    const f = shiftFlags(name, size, count);
    this.needFlags(f.reads);
    this.emit(A.shift(this.bits, name, d, how === 2 ? 'cl' : count, how === 0 || this.rng.chance(0.5)), f, d.k === 'reg' ? [this.full(d)] : []);
    return true;
  }

  genShxd(): boolean {
    const name = this.rng.pick(['shld', 'shrd'] as const);
    const size = this.rng.pick([2, 4] as const);
    let count = this.shiftCount();
    if (shxdFlags(size, count).resultUndefined) count &= 0x0f; // keep the result defined
    const useCl = this.rng.chance(0.5);
    if (useCl) {
      if (!this.free(A.ECX)) return false;
      this.emit(A.mov(this.bits, A.r8(A.ECX), A.imm(1, count)), NONE, [A.ECX]);
    }
    const d = this.withReserved(useCl ? [A.ECX] : [], () => this.rmOperand(size, true));
    if (!d) return false;
    const f = shxdFlags(size, count);
    this.emit(A.shxd(this.bits, name, d, this.src(size), useCl ? 'cl' : count), f, d.k === 'reg' ? [d.n] : []);
    return true;
  }

  genBt(): boolean {
    const name = this.rng.pick(A.BT_NAMES);
    const size = this.rng.pick([2, 4] as const);
    const form = this.rng.int(0, 3);
    const writes = name !== 'bt';
    const f = aluFlags(name);
    if (form === 0) {
      const d = writes ? this.dst(size) : this.src(size);
      if (!d) return false;
      this.emit(A.bt(this.bits, name, d, this.rng.chance(0.5) ? this.src(size) : this.rng.int(0, 255)), f, writes ? [d.n] : []);
    } else if (form === 1) {
      const m = this.memOperand(size, { write: writes });
      if (!m) return false;
      this.emit(A.bt(this.bits, name, m, this.rng.int(0, 255)), f);
    } else {
      // memory with a register bit offset: may reach outside the addressed dword/word
      const offReg = this.dst(4);
      if (!offReg) return false;
      const off = this.rng.chance(0.3) ? this.rng.int(0, size * 8 - 1) : this.rng.int(-0x400, 0x400);
      const delta = size === 4 ? (off >> 5) * 4 : (off >> 4) * 2;
      this.reserved.add(offReg.n);
      const m = this.memOperand(size, { write: writes, shift: delta, ext: size });
      this.reserved.delete(offReg.n);
      if (!m) return false;
      const hi = size === 2 ? this.rng.int(0, 0xffff) << 16 : 0;
      this.setReg(offReg.n, ((off & MASK[size]!) | hi) >>> 0);
      this.emit(A.bt(this.bits, name, m, A.reg(size, offReg.n)), f);
    }
    return true;
  }

  genBsx(): boolean {
    const name = this.rng.pick(['bsf', 'bsr'] as const);
    const size = this.rng.pick([2, 4] as const);
    const d = this.dst(size);
    if (!d) return false;
    let s: RM | undefined;
    if (this.rng.chance(0.3)) {
      // sometimes a known (often zero) source register
      const z = this.dst(size, [d.n]);
      if (z) this.emit(A.mov(this.bits, z, A.imm(size, this.rng.chance(0.5) ? 0 : this.value(size))), NONE, [z.n]);
      s = z;
    }
    s ??= this.rmOperand(size, false) ?? this.src(size);
    this.emit(A.bsx(this.bits, name, d, s), aluFlags(name), [d.n]);
    // zero source: destination undefined (SDM) -> overwrite it: jnz over "mov d, imm"
    const fix = A.mov(this.bits, d, A.imm(size, this.value(size)));
    const at = this.pc;
    this.emit(A.relBranch(this.bits, { cc: 5, short: true }, at, at + 2 + fix.bytes.length), { reads: ZF, def: 0, undef: 0 });
    this.emit(fix, NONE, [d.n]);
    this.known[d.n] = undefined;
    return true;
  }

  genBswap(): boolean {
    const d = this.dst(4);
    if (!d) return false;
    this.emit(A.bswap(this.bits, d), NONE, [d.n]);
    return true;
  }

  genXchg(): boolean {
    const size = this.size();
    const b = this.dst(size);
    if (!b) return false;
    if (this.rng.chance(0.4)) {
      const m = this.memOperand(size, { write: true });
      if (!m) return false;
      this.emit(A.xchg(this.bits, m, b), NONE, [this.full(b)]);
    } else {
      const a = this.dst(size);
      if (!a) return false;
      this.emit(A.xchg(this.bits, a, b, this.rng.int(0, 1)), NONE, [this.full(a), this.full(b)]);
    }
    return true;
  }

  genCmpxchg(): boolean {
    if (!this.free(A.EAX)) return false;
    const size = this.size();
    const equal = this.rng.chance(0.5);
    const v = this.value(size);
    let d: RM | undefined;
    if (this.rng.chance(0.5)) {
      d = this.withReserved([A.EAX], () => this.memOperand(size, { write: true }));
      if (!d) return false;
      if (equal) this.emit(A.mov(this.bits, d, A.imm(size, v)));
    } else {
      d = this.dst(size, [A.EAX]);
      if (!d) return false;
      if (equal) this.emit(A.mov(this.bits, d, A.imm(size, v)), NONE, [this.full(d)]);
    }
    if (equal) this.emit(A.mov(this.bits, A.reg(size, 0), A.imm(size, v)), NONE, [A.EAX]);
    const s = this.src(size);
    this.emit(A.cmpxchg(this.bits, d, s), aluFlags('cmpxchg'), d.k === 'reg' ? [A.EAX, this.full(d)] : [A.EAX]);
    return true;
  }

  genCmpxchg8b(): boolean {
    if (!this.free(A.EAX) || !this.free(A.EDX)) return false;
    const m = this.memOperand(8, { write: true, ext: 8 });
    if (!m) return false;
    if (this.rng.chance(0.5)) {
      this.emit(A.mov(this.bits, { ...m, size: 4 }, A.r32(A.EAX)));
      this.emit(A.mov(this.bits, { ...m, size: 4, disp: m.a16 ? (m.disp + 4) & 0xffff : (m.disp + 4) | 0, dispSize: undefined } as Mem, A.r32(A.EDX)));
    }
    // QEMU 7.2 workaround: its CMPXCHG8B helper computes EFLAGS from env->cc_op without the
    // translator syncing it first, so the flags come out as garbage when the previous flag
    // setter is in the same translation block. A jump ends the block (QEMU syncs cc_op there).
    this.emit(A.relBranch(this.bits, 'jmp8', this.pc, this.pc + 2));
    this.emit(A.cmpxchg8b(this.bits, m), aluFlags('cmpxchg8b'), [A.EAX, A.EDX]);
    return true;
  }

  genXadd(): boolean {
    const size = this.size();
    const s = this.dst(size);
    if (!s) return false;
    const d = this.rmOperand(size, true);
    if (!d) return false;
    this.emit(A.xadd(this.bits, d, s), aluFlags('xadd'), d.k === 'reg' ? [this.full(s), this.full(d)] : [this.full(s)]);
    return true;
  }

  genMovx(): boolean {
    const name = this.rng.pick(['movzx', 'movsx'] as const);
    const ss = this.rng.pick([1, 2] as const);
    const ds = ss === 2 ? 4 : this.rng.pick([2, 4] as const);
    const d = this.dst(ds);
    if (!d) return false;
    const s = this.rmOperand(ss, false);
    if (!s) return false;
    this.emit(A.movx(this.bits, name, d, s), NONE, [d.n]);
    return true;
  }

  genConvert(): boolean {
    const which = this.rng.pick(['cbw', 'cwde', 'cwd', 'cdq'] as const);
    const w = which === 'cbw' || which === 'cwde' ? A.EAX : A.EDX;
    if (!this.free(w)) return false;
    this.emit(A.convert(this.bits, which), NONE, [w]);
    return true;
  }

  genLea(): boolean {
    // no memory access: any registers, any displacement (tests address arithmetic and wrap)
    const size = this.rng.pick([2, 4] as const);
    const d = this.dst(size);
    if (!d) return false;
    const a16 = this.rng.chance(0.3);
    let m: Mem;
    if (a16) {
      const forms: Array<[number | undefined, number | undefined]> = [[3, 6], [3, 7], [5, 6], [5, 7], [undefined, 6], [undefined, 7], [5, undefined], [3, undefined], [undefined, undefined]];
      const [b, i] = this.rng.pick(forms);
      m = A.mem(0, { a16: true, disp: this.rng.int(0, 0xffff) });
      if (b !== undefined) m.base = b;
      if (i !== undefined) m.index = i;
    } else {
      m = A.mem(0, { disp: this.rng.chance(0.5) ? this.rng.int(-128, 127) : this.rng.u32() | 0, scale: this.rng.pick([1, 2, 4, 8] as const) });
      if (this.rng.chance(0.85)) m.base = this.rng.int(0, 7);
      if (this.rng.chance(0.6)) m.index = this.rng.pick([0, 1, 2, 3, 5, 6, 7]);
      m.dispSize = this.rng.pick([0, 1, 4] as const);
    }
    this.emit(A.lea(this.bits, d, m), NONE, [d.n]);
    return true;
  }

  genMov(): boolean {
    const size = this.size();
    const form = this.rng.int(0, 6);
    if (form === 0) {
      const d = this.dst(size);
      if (!d) return false;
      this.emit(A.mov(this.bits, d, this.src(size), this.rng.int(0, 1)), NONE, [this.full(d)]);
    } else if (form === 1) {
      const d = this.dst(size);
      if (!d) return false;
      const v = this.value(size);
      this.emit(A.mov(this.bits, d, A.imm(size, v), this.rng.int(0, 1)), NONE, [this.full(d)]);
    } else if (form === 2) {
      const m = this.memOperand(size);
      const d = this.dst(size);
      if (!m || !d) return false;
      this.emit(A.mov(this.bits, d, m), NONE, [this.full(d)]);
    } else if (form === 3) {
      const m = this.memOperand(size, { write: true });
      if (!m) return false;
      this.emit(A.mov(this.bits, m, this.rng.chance(0.5) ? this.src(size) : A.imm(size, this.value(size))), NONE);
    } else if (form === 4) {
      // moffs (A0-A3)
      if (!this.free(A.EAX)) return false;
      const toMem = this.rng.chance(0.5);
      const m = this.memOperand(size, { write: toMem, formDispOnly: true });
      if (!m) return false;
      const acc = A.reg(size, 0);
      this.emit(toMem ? A.mov(this.bits, m, acc, 2) : A.mov(this.bits, acc, m, 2), NONE, toMem ? [] : [A.EAX]);
    } else {
      // mov r/m16, sreg (P6+: a 32-bit register destination is zero-extended)
      const sr = A.sreg(this.rng.int(0, 5));
      if (this.rng.chance(0.5)) {
        const m = this.memOperand(2, { write: true });
        if (!m) return false;
        this.emit(A.mov(this.bits, m, sr));
      } else {
        const d = this.dst(this.rng.pick([2, 4] as const));
        if (!d) return false;
        this.emit(A.mov(this.bits, d, sr), NONE, [d.n]);
      }
    }
    return true;
  }

  genString(): boolean {
    const op = this.rng.pick(['movs', 'stos', 'lods', 'cmps', 'scas'] as const);
    const size = this.size();
    const useRep = this.rng.chance(0.6);
    const rep = !useRep ? undefined : op === 'cmps' || op === 'scas' ? this.rng.pick(['repe', 'repne'] as const) : 'rep' as const;
    const count = rep ? (this.rng.chance(0.15) ? 0 : this.rng.int(1, 8)) : 1;
    const regs = [A.ESI, A.EDI, ...(rep ? [A.ECX] : []), ...(op === 'lods' ? [A.EAX] : [])];
    if (regs.some((r) => !this.free(r))) return false;
    const usesSrc = op === 'movs' || op === 'lods' || op === 'cmps';
    const usesDst = op !== 'lods';
    const dstWrite = op === 'movs' || op === 'stos';
    let a16 = this.rng.chance(0.25) ? this.bits === 32 : this.bits === 16;
    // direction
    let df = this.df;
    if (df === undefined || this.rng.chance(0.5)) {
      df = this.rng.int(0, 1);
      this.emit(A.simple(this.bits, df ? 'std' : 'cld', [df ? 0xfd : 0xfc]));
      this.df = df;
    }
    const n = Math.max(count, 1);
    const span = n * size;
    const pick = (seg: number, write: boolean): number | undefined => {
      for (let t = 0; t < 12; t++) {
        const lo = this.rng.int(this.dataLo, this.dataHi - span);
        const first = df ? lo + span - size : lo;
        const okLo = this.offsetFor(seg, lo, span, write, a16);
        if (okLo === undefined) continue;
        return (first - this.segs[seg]!.base) >>> 0;
      }
      return undefined;
    };
    let srcSeg = A.DS;
    if (usesSrc && (this.rng.chance(0.3) || !this.segs[A.DS])) srcSeg = this.rng.pick([A.ES, A.CS, A.SS, A.DS, A.FS, A.GS]);
    let si: number | undefined;
    let di: number | undefined;
    for (let t = 0; t < 2; t++) {
      si = usesSrc ? pick(srcSeg, false) : 0;
      di = usesDst ? pick(A.ES, dstWrite) : 0;
      if (si !== undefined && di !== undefined) break;
      a16 = !a16;
    }
    if (si === undefined || di === undefined) return false;
    const hi = () => (a16 && this.rng.chance(0.6) ? this.rng.int(1, 0xffff) << 16 : 0);
    if (usesSrc) this.setReg(A.ESI, (hi() | si) >>> 0);
    if (usesDst) this.setReg(A.EDI, (hi() | di) >>> 0);
    if (rep) this.setReg(A.ECX, ((a16 ? hi() : 0) | count) >>> 0);
    const opts: { rep?: 'rep' | 'repe' | 'repne'; asize: 2 | 4; seg?: number } = { asize: a16 ? 2 : 4 };
    if (rep) opts.rep = rep;
    if (usesSrc && (srcSeg !== A.DS || this.rng.chance(0.1))) opts.seg = srcSeg;
    const f = (op === 'cmps' || op === 'scas') && count > 0 ? aluFlags('cmp') : NONE;
    this.emit(A.str(this.bits, op, size, opts), f, regs);
    return true;
  }

  genPushPop(): boolean {
    const os = this.rng.chance(0.2) ? (this.bits === 16 ? 4 : 2) : this.osDefault;
    const kind = this.rng.int(0, 5);
    if (kind <= 2) {
      // push: reg / imm / mem
      if (!this.stackOk(os)) return false;
      let src: RM | A.Imm;
      if (kind === 0) src = A.reg(os, this.rng.int(0, 7));
      else if (kind === 1) src = A.imm(os, this.value(os));
      else {
        const m = this.memOperand(os);
        if (!m) return false;
        src = m;
      }
      this.emit(A.push(this.bits, src, os, this.rng.int(0, 1)));
      this.moveEsp(os);
      return true;
    }
    if (kind <= 4) {
      // pop: reg / mem
      if (!this.stackOk(-os)) return false;
      let dst: RM | undefined;
      if (kind === 3) dst = this.dst(os);
      else dst = this.memOperand(os, { write: true, stack: false });
      if (!dst) return false;
      this.emit(A.pop(this.bits, dst, os, this.rng.int(0, 1)), NONE, dst.k === 'reg' ? [dst.n] : []);
      this.moveEsp(-os);
      return true;
    }
    // push sreg (a 16-bit push, or a 32-bit one over a zeroed slot)
    if (!this.stackOk(8)) return false;
    const sr = A.sreg(this.rng.int(0, 5));
    if (os === 4) {
      // upper half of the slot is implementation-specific: zero it first
      this.emit(A.push(this.bits, A.imm(4, 0), 4));
      this.emit(A.lea(this.bits, A.r32(A.ESP), A.mem(0, { base: A.ESP, disp: 4, a16: false })));
    }
    this.emit(A.push(this.bits, sr, os));
    this.moveEsp(os);
    return true;
  }

  genPusha(): boolean {
    const os = this.rng.chance(0.2) ? (this.bits === 16 ? 4 : 2) : this.osDefault;
    if (this.rng.chance(0.5)) {
      if (!this.stackOk(8 * os)) return false;
      this.emit(A.pusha(this.bits, os));
      this.moveEsp(8 * os);
    } else {
      if (!this.stackOk(-8 * os)) return false;
      const regs = [0, 1, 2, 3, 5, 6, 7];
      if (regs.some((r) => !this.free(r))) return false;
      this.emit(A.popa(this.bits, os), NONE, regs);
      this.moveEsp(-8 * os);
    }
    return true;
  }

  /** An EFLAGS value for POPF: random arithmetic flags and DF, plus harmless bits. */
  popfValue(): number {
    let v = this.rng.u32() & (ARITH | DF);
    if (this.rng.chance(0.3)) v |= AC;
    if (this.rng.chance(0.3)) v |= ID;
    if (this.ring === 0 && this.rng.chance(0.2)) v |= this.rng.int(0, 3) << 12; // IOPL
    if (this.ring === 3 && this.rng.chance(0.3)) v |= IF | IOPL; // ignored in ring 3 (IOPL 0)
    if (this.rng.chance(0.2)) v |= this.rng.pick([0x8, 0x20, 0x8000, RF, VM, VIF, VIP, 0xffc00000]); // reserved / unaffected bits
    return v >>> 0;
  }

  genPushf(): boolean {
    const os = this.rng.chance(0.2) ? (this.bits === 16 ? 4 : 2) : this.osDefault;
    if (this.rng.chance(0.5)) {
      if (!this.stackOk(os)) return false;
      this.needFlags(ARITH);
      this.emit(A.pushf(this.bits, os), aluFlags('pushf'));
      this.moveEsp(os);
      return true;
    }
    if (!this.stackOk(os)) return false;
    const v = this.popfValue();
    this.emit(A.push(this.bits, A.imm(os, v & MASK[os]!), os, this.rng.int(0, 1)));
    this.emit(A.popf(this.bits, os), aluFlags('popf'));
    this.df = v & DF ? 1 : 0;
    return true;
  }

  /** Up to n simple instructions inside a body. */
  body(n: number, extraReserved: number[] = []): void {
    this.depth++;
    const added = extraReserved.filter((r) => !this.reserved.has(r));
    for (const r of added) this.reserved.add(r);
    for (let i = 0; i < n && !this.ended; i++) {
      for (let t = 0; t < 4; t++) {
        const cat = this.rng.weighted(CATEGORY_WEIGHTS.filter(([c]) => BODY_OK.has(c)));
        if (cat === 'flagop' && this.depth > 0) {
          // only the CF ones in bodies (DF must stay known)
          const which = this.rng.pick(['clc', 'stc', 'cmc'] as const);
          const f = aluFlags(which);
          this.needFlags(f.reads);
          this.emit(A.simple(this.bits, which, [which === 'clc' ? 0xf8 : which === 'stc' ? 0xf9 : 0xf5]), f);
          break;
        }
        if (this.item(cat)) break;
      }
    }
    for (const r of added) this.reserved.delete(r);
    this.depth--;
  }

  /** Merges the state after a body that may be skipped (forward branch). */
  merge(before: Snapshot): void {
    this.undef |= before.undef;
    for (let r = 0; r < 8; r++) if (this.known[r] !== before.known[r]) this.known[r] = undefined;
    this.known[A.ESP] = this.esp;
    if (this.esp !== before.esp) throw new Error('generator bug: unbalanced body');
  }

  genEnter(): boolean {
    if (!this.free(A.EBP)) return false;
    const os = this.osDefault;
    const level = this.rng.pick([0, 0, 1, 1, 3, 2, 5]);
    const alloc = this.rng.pick([0, 4, 8, 0x10, 0x22]);
    const total = (level === 0 ? 1 : level + 1) * os + alloc;
    if (!this.stackOk(total + 0x20)) return false;
    // EBP: a frame pointer inside the stack window (level > 0 reads [EBP - k*os])
    const fp = (this.esp + this.rng.int(0, 0x20) * 4 + (level + 1) * os) >>> 0;
    this.setReg(A.EBP, this.ssInfo.big ? fp : fp & 0xffff);
    const saved = this.known[A.EBP]!;
    const espBefore = this.esp;
    this.emit(A.enter(this.bits, alloc, level));
    this.moveEsp(total);
    this.body(this.rng.int(0, 3), [A.EBP]);
    this.emit(A.leave(this.bits));
    this.esp = espBefore;
    this.known[A.ESP] = this.esp;
    this.known[A.EBP] = saved;
    return true;
  }

  genCall(): boolean {
    const os = this.osDefault;
    const args = this.rng.int(0, 2);
    if (!this.stackOk((args + 1) * os + 0x20)) return false;
    const snap = this.snapshot();
    try {
      for (let i = 0; i < args; i++) {
        this.emit(A.push(this.bits, A.imm(os, this.value(os)), os));
        this.moveEsp(os);
      }
      const espAtCall = this.esp;
      const shortJmp = this.rng.chance(0.6);
      const jmpLen = shortJmp ? 2 : this.bits === 16 ? 3 : 5;
      const how = this.rng.int(0, 2); // 0 rel, 1 reg, 2 mem
      if (how === 0) {
        const callLen = this.bits === 16 ? 3 : 5;
        const at = this.pc;
        this.emit(A.relBranch(this.bits, 'call', at, at + callLen + jmpLen));
      } else if (how === 1) {
        const r = this.dst(os);
        if (!r) throw new Error('retry');
        const callProbe = A.indirect(this.bits, 'call', r);
        const movLen = A.mov(this.bits, A.reg(os, r.n), A.imm(os, 0)).bytes.length;
        const target = this.pc + movLen + callProbe.bytes.length + jmpLen;
        this.emit(A.mov(this.bits, A.reg(os, r.n), A.imm(os, target)), NONE, [r.n]);
        this.emit(callProbe);
      } else {
        const m = this.memOperand(os, { write: true });
        if (!m) throw new Error('retry');
        const callProbe = A.indirect(this.bits, 'call', m);
        const storeLen = A.mov(this.bits, m, A.imm(os, 0)).bytes.length;
        const target = this.pc + storeLen + callProbe.bytes.length + jmpLen;
        this.emit(A.mov(this.bits, m, A.imm(os, target)));
        this.emit(callProbe);
      }
      this.moveEsp(os);
      const jmpAt = this.pc;
      const jmpIndex = this.asm.listing.length;
      this.emit(A.relBranch(this.bits, shortJmp ? 'jmp8' : 'jmp', jmpAt, jmpAt + jmpLen)); // patched below
      const before = this.snapshot();
      this.body(this.rng.int(0, 4));
      this.merge(before);
      const popBytes = args > 0 && this.rng.chance(0.8) ? args * os : undefined;
      this.emit(A.ret(this.bits, popBytes));
      this.moveEsp(-os - (popBytes ?? 0));
      const end = this.pc;
      this.patch(jmpIndex, A.relBranch(this.bits, shortJmp ? 'jmp8' : 'jmp', jmpAt, end));
      if (popBytes === undefined && args > 0) {
        // drop the arguments without touching flags
        this.emit(A.lea(this.bits, A.reg(os, A.ESP), A.mem(0, { base: A.ESP, disp: args * os, a16: false })));
        this.moveEsp(-args * os);
      }
      void espAtCall;
      return true;
    } catch (e) {
      this.restore(snap);
      if (e instanceof RangeError || (e instanceof Error && e.message === 'retry')) return false;
      throw e;
    }
  }

  /** Replaces an emitted instruction with one of the same length. */
  patch(listingIndex: number, insn: Insn): void {
    const entry = this.asm.listing[listingIndex]!;
    if (entry.insn.bytes.length !== insn.bytes.length) throw new Error('generator bug: patch length');
    const off = entry.offset - this.asm.origin;
    for (let i = 0; i < insn.bytes.length; i++) this.asm.bytes[off + i] = insn.bytes[i]!;
    entry.insn = insn;
  }

  genJmp(): boolean {
    // forward over junk bytes that never run
    const junk = Array.from({ length: this.rng.int(1, 8) }, () => this.rng.int(0, 255));
    const how = this.rng.int(0, 2);
    if (how === 0) {
      const short = this.rng.chance(0.6);
      const at = this.pc;
      const len = short ? 2 : this.bits === 16 ? 3 : 5;
      this.emit(A.relBranch(this.bits, short ? 'jmp8' : 'jmp', at, at + len + junk.length));
    } else {
      const os = this.osDefault;
      const r = this.dst(os);
      if (!r) return false;
      const probe = A.indirect(this.bits, 'jmp', r);
      const movLen = A.mov(this.bits, A.reg(os, r.n), A.imm(os, 0)).bytes.length;
      const target = this.pc + movLen + probe.bytes.length + junk.length;
      this.emit(A.mov(this.bits, A.reg(os, r.n), A.imm(os, target)), NONE, [r.n]);
      this.emit(probe);
    }
    this.masks.push([this.off, this.undef]);
    this.asm.emit(A.raw(junk, `db ${junk.map((b) => '0x' + b.toString(16)).join(', ')} ; skipped`));
    return true;
  }

  genJcc(): boolean {
    const cc = this.rng.int(0, 15);
    this.needFlags(ccReads(cc));
    const snap = this.snapshot();
    const short = this.rng.chance(0.7);
    const at = this.pc;
    const idx = this.asm.listing.length;
    const probe = A.relBranch(this.bits, { cc, short }, at, at + (short ? 2 : this.bits === 16 ? 4 : 6));
    this.emit(probe, { reads: ccReads(cc), def: 0, undef: 0 });
    const before = this.snapshot();
    this.body(this.rng.int(1, 4));
    this.merge(before);
    try {
      this.patch(idx, A.relBranch(this.bits, { cc, short }, at, this.pc));
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      this.restore(snap);
      return false;
    }
    return true;
  }

  genSetcc(): boolean {
    const cc = this.rng.int(0, 15);
    this.needFlags(ccReads(cc));
    const d = this.rmOperand(1, true);
    if (!d) return false;
    this.emit(A.setcc(this.bits, cc, d), { reads: ccReads(cc), def: 0, undef: 0 }, d.k === 'reg' ? [this.full(d)] : []);
    return true;
  }

  genCmovcc(): boolean {
    const cc = this.rng.int(0, 15);
    const size = this.rng.pick([2, 4] as const);
    const d = this.dst(size);
    if (!d) return false;
    const s = this.rmOperand(size, false);
    if (!s) return false;
    this.needFlags(ccReads(cc));
    this.emit(A.cmovcc(this.bits, cc, d, s), { reads: ccReads(cc), def: 0, undef: 0 }, [d.n]);
    return true;
  }

  genLoop(): boolean {
    if (!this.free(A.ECX)) return false;
    const kind = this.rng.pick(['loop', 'loop', 'loope', 'loopne'] as const);
    const a16 = this.rng.chance(0.25) ? this.bits === 32 : this.bits === 16;
    const n = this.rng.int(1, 4);
    const snap = this.snapshot();
    this.setReg(A.ECX, ((a16 && this.rng.chance(0.5) ? this.rng.int(1, 0xffff) << 16 : 0) | n) >>> 0);
    const head = this.pc;
    const undef0 = this.undef;
    this.body(this.rng.int(1, 3), [A.ECX]);
    if (this.undef & ~undef0) this.definer(); // the next iteration starts with no more undefined flags than the first
    const reads = kind === 'loop' ? 0 : ZF;
    this.needFlags(reads);
    try {
      this.emit(A.loopInsn(this.bits, kind, this.pc, head, a16 ? 2 : 4), { reads, def: 0, undef: 0 }, [A.ECX]);
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      this.restore(snap);
      return false;
    }
    // registers the body wrote are unknown (it ran 1..n times)
    this.undef |= undef0;
    return true;
  }

  genJecxz(): boolean {
    const a16 = this.rng.chance(0.25) ? this.bits === 32 : this.bits === 16;
    if (this.free(A.ECX) && this.rng.chance(0.7)) {
      const v = this.rng.chance(0.5) ? 0 : this.rng.pick([1, 0x10000, 0xffff0000, 5]);
      this.setReg(A.ECX, v);
    }
    const snap = this.snapshot();
    const at = this.pc;
    const idx = this.asm.listing.length;
    this.emit(A.loopInsn(this.bits, 'jecxz', at, at + 2 + (a16 !== (this.bits === 16) ? 1 : 0), a16 ? 2 : 4));
    const before = this.snapshot();
    this.body(this.rng.int(1, 3));
    this.merge(before);
    try {
      this.patch(idx, A.loopInsn(this.bits, 'jecxz', at, this.pc, a16 ? 2 : 4));
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      this.restore(snap);
      return false;
    }
    return true;
  }

  genFlagOp(): boolean {
    const which = this.rng.pick(['clc', 'stc', 'cmc', 'cld', 'std'] as const);
    const opc = { clc: 0xf8, stc: 0xf9, cmc: 0xf5, cld: 0xfc, std: 0xfd }[which];
    const f = aluFlags(which);
    this.needFlags(f.reads);
    this.emit(A.simple(this.bits, which, [opc]), f);
    if (which === 'cld') this.df = 0;
    if (which === 'std') this.df = 1;
    return true;
  }

  genSahf(): boolean {
    if (this.rng.chance(0.5)) {
      this.emit(A.simple(this.bits, 'sahf', [0x9e]), aluFlags('sahf'));
    } else {
      if (!this.free(A.EAX)) return false;
      const f = aluFlags('lahf');
      this.needFlags(f.reads);
      this.emit(A.simple(this.bits, 'lahf', [0x9f]), f, [A.EAX]);
    }
    return true;
  }

  genBcd(): boolean {
    if (!this.free(A.EAX)) return false;
    const which = this.rng.pick(['daa', 'das', 'aaa', 'aas', 'aam', 'aad'] as const);
    const f = aluFlags(which);
    this.needFlags(f.reads);
    if (which === 'aam' || which === 'aad') {
      const base = this.rng.chance(0.6) ? 10 : this.rng.chance(0.05) && which === 'aam' ? 0 : this.rng.int(1, 255);
      this.emit(which === 'aam' ? A.aam(this.bits, base) : A.aad(this.bits, base), f, [A.EAX]);
      if (which === 'aam' && base === 0) this.ended = true;
    } else {
      const opc = { daa: 0x27, das: 0x2f, aaa: 0x37, aas: 0x3f }[which];
      this.emit(A.simple(this.bits, which, [opc]), f, [A.EAX]);
    }
    return true;
  }

  genXlat(): boolean {
    if (!this.free(A.EAX) || !this.free(A.EBX)) return false;
    let a16 = this.rng.chance(0.25) ? this.bits === 32 : this.bits === 16;
    for (let t = 0; t < 2; t++) {
      const segs = [A.DS, A.ES, A.FS, A.GS, A.SS, A.CS].filter((s) => this.segs[s]);
      const seg = this.rng.chance(0.6) && this.segs[A.DS] ? A.DS : this.rng.pick(segs);
      const L = this.rng.int(this.dataLo - 0x80, this.dataHi - 0x100);
      const o = this.offsetFor(seg, L, 0x100, false, a16);
      if (o === undefined) {
        a16 = !a16;
        continue;
      }
      this.setReg(A.EBX, ((a16 && this.rng.chance(0.5) ? this.rng.int(1, 0xffff) << 16 : 0) | o) >>> 0);
      const opts: { asize: 2 | 4; seg?: number } = { asize: a16 ? 2 : 4 };
      if (seg !== A.DS || this.rng.chance(0.1)) opts.seg = seg;
      this.emit(A.xlat(this.bits, opts), NONE, [A.EAX]);
      return true;
    }
    return false;
  }

  genNop(): boolean {
    const k = this.rng.int(0, 2);
    if (k === 0) this.emit(A.simple(this.bits, 'nop', [0x90]));
    else if (k === 1) this.emit(A.simple(this.bits, 'nop', [0x90], this.bits === 16 ? 4 : 2));
    else {
      const m = A.mem(0, { base: this.rng.int(0, 7), disp: this.rng.int(-128, 127), dispSize: this.rng.pick([0, 1, 4] as const) });
      this.emit(A.nopMem(this.bits, m));
    }
    return true;
  }

  /** Loads a data segment register (DS/ES/FS/GS) with another usable selector. */
  genSegment(): boolean {
    const pool = this.kind !== 'pm' ? realSegmentPool(this.unreal) : dataSelectorPool(this.mode);
    const target = this.rng.pick([A.DS, A.ES, A.FS, A.GS]);
    const sel = this.kind === 'pm' && this.rng.chance(0.08) ? (this.ring === 3 ? 3 : this.ring) : this.rng.pick(pool);
    const how = this.rng.int(0, 2);
    if (how === 0) {
      // push imm; pop sreg
      if (!this.stackOk(4)) return false;
      const os = this.osDefault;
      this.emit(A.push(this.bits, A.imm(os, sel), os));
      this.emit(A.pop(this.bits, A.sreg(target), os));
    } else if (how === 1) {
      const r = this.dst(2);
      if (!r) return false;
      this.emit(A.mov(this.bits, r, A.imm(2, sel)), NONE, [r.n]);
      this.emit(A.mov(this.bits, A.sreg(target), r));
    } else {
      const m = this.memOperand(2, { write: true });
      if (!m) return false;
      this.emit(A.mov(this.bits, m, A.imm(2, sel)));
      this.emit(A.mov(this.bits, A.sreg(target), m));
    }
    if (this.kind !== 'pm') {
      // real mode and V86: base = value * 16; real mode keeps the limit (unreal), V86 has 64 KiB
      this.segs[target] = realSegment(sel, this.segs[target]?.limit ?? 0xffff);
    } else this.segs[target] = (sel & 0xfffc) === 0 ? null : segmentOf(sel) ?? null;
    return true;
  }

  /** `items` random instructions or small blocks at the top level (what generateCase does). */
  block(items: number): void {
    for (let i = 0; i < items && !this.ended; i++) {
      for (let t = 0; t < 6; t++) {
        const cat = this.rng.weighted(CATEGORY_WEIGHTS);
        if (this.item(cat)) break;
      }
    }
  }

  /** Optionally, a final instruction that raises an exception (or may). */
  genException(): void {
    const k = this.rng.int(0, 7);
    if (k === 0) this.emit(A.simple(this.bits, 'int3', [0xcc]));
    else if (k === 1) {
      this.needFlags(OF);
      this.emit(A.simple(this.bits, 'into', [0xce]), aluFlags('into'));
    } else if (k === 2) this.emit(A.intn(this.bits, 0x80));
    else if (k === 3) {
      // INT n: ring 0 avoids the vectors with error codes (the stub could not tell)
      const bad = new Set([8, 10, 11, 12, 13, 14, 17, 0x80, 0x81]);
      let n: number;
      do n = this.rng.chance(0.5) ? this.rng.int(0, 31) : this.rng.int(32, 255);
      while (bad.has(n) && (this.ring === 0 || n === 0x81));
      this.emit(A.intn(this.bits, n));
    } else if (k === 4) {
      const size = this.rng.pick([2, 4] as const);
      const m = this.memOperand(size * 2, { ext: size * 2 });
      if (!m) return;
      this.emit(A.bound(this.bits, A.reg(size, this.rng.int(0, 7)), m));
    } else if (k === 5) this.emit(A.simple(this.bits, 'ud2', [0x0f, 0x0b]));
    else if (k === 6) {
      // privileged in ring 3 (#GP); ring 0: an undefined opcode (ICEBP is avoided: QEMU 7.2 raises #UD for it)
      if (this.ring === 3) {
        const hlt = this.rng.chance(0.5);
        this.emit(A.simple(this.bits, hlt ? 'hlt' : 'cli', [hlt ? 0xf4 : 0xfa]));
      } else this.emit(A.raw([0xf0, 0x90], 'lock nop'));
    } else {
      // divide by zero
      const r = this.dst(4, [A.EAX, A.EDX]);
      if (!r || !this.free(A.EAX) || !this.free(A.EDX)) return;
      this.emit(A.alu(this.bits, 'xor', A.r32(r.n), A.r32(r.n)), aluFlags('xor'), [r.n]);
      const size = r.n < 4 ? this.rng.pick([1, 2, 4] as const) : this.rng.pick([2, 4] as const);
      this.emit(A.grp3(this.bits, this.rng.pick(['div', 'idiv'] as const), A.reg(size, r.n)), aluFlags('div'), [A.EAX, A.EDX]);
    }
    this.ended = true;
  }
}

/** Real-mode / V86 segment values generated cases load (windows reachable with 16-bit offsets, or 32-bit ones in unreal mode). */
export function realSegmentPool(unreal: boolean): number[] {
  const rd = LAYOUT.rmData >>> 4;
  const rs = LAYOUT.rmStack >>> 4;
  if (unreal) return [0, 0x1000, rd, rd - 0x100, 0x2345, rs];
  return [rd, rd - 0x10, rd - 0x800, rd + 0x7, rs, rs - 0x400];
}

/** Data-segment selectors a case in this mode may load. */
export function dataSelectorPool(mode: CaseMode): number[] {
  if (mode === 'ring3' || mode === 'pae-ring3') return [SEL.DATA32_R3, SEL.DATA_WIN_R3, SEL.DATA_SMALL_R3];
  // (the system modes run with LDTR = SEL_LDT: LDT selectors too)
  if (mode === 'ring1') return [SEL.DATA32_R1, SEL.DATA32_R2 & ~3 | 1, SEL.DATA32_R3 & ~3 | 1, SEL.DATA_WIN_R3 & ~3 | 1, SEL.DATA_SMALL_R3, LDT_SEL.DATA32_R3];
  if (mode === 'ring2') return [SEL.DATA32_R2, SEL.DATA32_R3 & ~3 | 2, SEL.DATA_WIN_R3, SEL.DATA_SMALL_R3 & ~3 | 2, LDT_SEL.DATA32_R3 & ~3 | 2];
  if (mode === 'pae') return [SEL.DATA32, SEL.DATA_WIN, SEL.DATA_SMALL, SEL.EXPDOWN32, SEL.DATA_RO, LDT_SEL.DATA32, LDT_SEL.DATA_SMALL, SEL.DATA32_R1 & ~3];
  if (mode === 'code16') return [SEL.DATA_WIN, SEL.DATA32, SEL.DATA_SMALL, SEL.DATA_RO, SEL.STACK16];
  return [SEL.DATA32, SEL.DATA_WIN, SEL.DATA_SMALL, SEL.EXPDOWN32, SEL.DATA_RO];
}

const MODE_WEIGHTS: ReadonlyArray<readonly [CaseMode, number]> = [['flat32', 4], ['paging32', 2], ['ring3', 2], ['code16', 2]];

/** Generates one case from a seed. */
export function generateCase(seed: number, opts: GenOptions = {}): DiffCase {
  const rng = new Rng(seed);
  const mode = opts.mode ?? rng.weighted(MODE_WEIGHTS);
  const d = modeDefaults(mode);
  const regs: Partial<Record<GprName, number>> = {};
  for (const n of ['eax', 'ecx', 'edx', 'ebx', 'ebp', 'esi', 'edi'] as const) {
    regs[n] = rng.chance(0.5) ? rng.pick(INTERESTING32) : rng.u32();
  }
  regs.esp = d.esp;
  let eflags = (rng.u32() & (ARITH | DF)) | 2;
  if (rng.chance(0.2)) eflags |= AC;
  if (rng.chance(0.2)) eflags |= ID;
  // data segment registers: random usable selectors
  const kind = d.kind;
  const pool = kind === 'pm' ? dataSelectorPool(mode) : realSegmentPool(mode === 'unreal');
  const segs = { ...d.segs };
  if (rng.chance(0.6)) {
    for (const s of ['es', 'fs', 'gs'] as const) if (rng.chance(0.5)) segs[s] = rng.pick(pool);
    if (rng.chance(0.3)) segs.ds = rng.pick(pool);
  }
  const data = new Uint8Array(DATA_WINDOW);
  for (let i = 0; i < data.length; ) {
    const k = rng.int(0, 3);
    const n = rng.int(1, 32);
    for (let j = 0; j < n && i < data.length; j++, i++) data[i] = k === 0 ? 0 : k === 1 ? rng.int(0, 15) : k === 2 ? 0xff : rng.int(0, 255);
  }
  const c: DiffCase = {
    name: `gen-${mode}-${seed.toString(16).padStart(8, '0')}`,
    seed,
    mode,
    code: new Uint8Array(0),
    regs,
    eflags,
    segs,
    data,
    dataWindow: [0, DATA_WINDOW],
  };
  if (mode === 'ring1' || mode === 'ring2' || mode === 'pae') c.ldtr = SEL.LDT;
  if (mode === 'v86') {
    // IOPL 3 mostly (IOPL 0 ends at the first PUSHF/POPF/INT n/CLI/STI with #GP); paging sometimes
    if (rng.chance(0.75)) c.eflags = (c.eflags ?? 2) | IOPL;
    const pg = rng.int(0, 2);
    c.ctxFlags = CTXF.V86 | (pg === 1 ? CTXF.PAGING | CTXF.PSE : pg === 2 ? CTXF.PAGING | CTXF.PAE : 0);
  } else if (mode === 'real' && rng.chance(0.2)) {
    c.eflags = (c.eflags ?? 2) | (rng.int(0, 3) << 12); // IOPL means nothing in real mode
  }
  const g = new Gen(rng, mode, c);
  const items = opts.items ?? rng.int(5, 16);
  for (let i = 0; i < items && !g.ended; i++) {
    for (let t = 0; t < 6; t++) {
      const cat = rng.weighted(CATEGORY_WEIGHTS);
      if (g.item(cat)) break;
    }
  }
  if (!g.ended && rng.chance(opts.exceptionRate ?? 0.15)) g.genException();
  g.masks.push([g.off, g.undef]);
  c.code = g.asm.code();
  c.expectEsp = g.esp;
  c.flagsIgnore = g.undef;
  c.flagsIgnoreAt = g.masks;
  c.listing = g.asm.lines();
  return c;
}

/** `count` cases from a base seed, or just the CASE_SEED one when that is set. */
export function generateCases(baseSeed: number, count: number, opts: GenOptions = {}): DiffCase[] {
  const env = process.env.CASE_SEED;
  if (env) return [generateCase(Number(env) >>> 0, opts)];
  return Array.from({ length: count }, (_, i) => generateCase(caseSeed(baseSeed, i), opts));
}

/** EFLAGS bits to ignore for a result that ended at `offset` in the case code (an exception frame) or at the end. */
export function flagsIgnoreFor(c: DiffCase, offset?: number): number {
  if (offset === undefined) return c.flagsIgnore ?? 0;
  for (const [o, m] of c.flagsIgnoreAt ?? []) if (o === offset) return m;
  return c.flagsIgnore ?? ARITH;
}

export { CF, PF, AF, ZF, SF, OF, DF };
