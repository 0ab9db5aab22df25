// A small x86 (16/32-bit) encoder for the instruction forms the differential tests
// generate: ModRM/SIB/displacements/immediates, operand-size (66) and address-size (67)
// prefixes, 16-bit addressing, segment overrides, REP prefixes. Each instruction comes
// with its operands in a structured form (checked against iced-x86's decoder in
// tests/diff/x86-asm.test.ts) and a nasm-like text for listings.

export type Size = 1 | 2 | 4;
export type Bits = 16 | 32;

export const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;
export const ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5;
export const SEG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'] as const;
const SEG_PREFIX = [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65];
export const REG_NAMES: Record<Size, readonly string[]> = {
  1: ['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh'],
  2: ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'],
  4: ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'],
};

export interface Reg { k: 'reg'; size: Size; n: number }
/**
 * A memory operand. 32-bit addressing: any base, any index but ESP, scale 1/2/4/8.
 * 16-bit addressing (a16): base BX or BP, index SI or DI (scale 1), disp 16-bit.
 */
export interface Mem {
  k: 'mem';
  /** operand size in bytes (0 when the instruction has none, e.g. LEA) */
  size: number;
  a16: boolean;
  /** segment override (ES..GS) */
  seg?: number;
  base?: number;
  index?: number;
  scale: 1 | 2 | 4 | 8;
  disp: number;
  /** force a displacement size (0, 1, 2 (a16), 4) where the form allows it */
  dispSize?: 0 | 1 | 2 | 4;
}
export interface Imm { k: 'imm'; size: Size; v: number }
export interface SReg { k: 'sreg'; n: number }
/** A branch target (offset in CS). */
export interface Rel { k: 'rel'; target: number }
export type Op = Reg | Mem | Imm | SReg | Rel;
export type RM = Reg | Mem;

export const reg = (size: Size, n: number): Reg => ({ k: 'reg', size, n });
export const r8 = (n: number): Reg => reg(1, n);
export const r16 = (n: number): Reg => reg(2, n);
export const r32 = (n: number): Reg => reg(4, n);
export const imm = (size: Size, v: number): Imm => ({ k: 'imm', size, v });
export const sreg = (n: number): SReg => ({ k: 'sreg', n });
export function mem(size: number, p: Partial<Omit<Mem, 'k' | 'size'>> = {}): Mem {
  return { k: 'mem', size, a16: p.a16 ?? false, scale: p.scale ?? 1, disp: p.disp ?? 0, ...p };
}

/** An encoded instruction. */
export interface Insn {
  bytes: number[];
  /** iced-x86's mnemonic, lower case (e.g. 'add', 'movsd', 'je', 'xlatb') */
  mnem: string;
  /** explicit operands, in iced-x86's order */
  ops: Op[];
  /** prefixes that are part of the meaning (rep/repe/repne) */
  rep?: 'rep' | 'repe' | 'repne';
  /** address size of implicit memory operands (string ops, xlat, loop, jcxz) */
  asize?: 2 | 4;
  /** segment override on implicit operands */
  seg?: number;
  text: string;
}

/** Default segment of a memory operand: SS for (E)BP/ESP bases, DS otherwise. */
export function defaultSeg(m: Mem): number {
  if (m.base === EBP || (!m.a16 && m.base === ESP)) return SS;
  return DS;
}
export function effectiveSeg(m: Mem): number {
  return m.seg ?? defaultSeg(m);
}

const fits8 = (v: number) => v >= -128 && v <= 127;
function le(v: number, size: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < size; i++) out.push((v >>> (8 * i)) & 0xff);
  return out;
}
const signed = (v: number, size: number) => (size === 4 ? v | 0 : size === 2 ? (v << 16) >> 16 : (v << 24) >> 24);

function modrm32(regField: number, m: Mem): number[] {
  const { base, index, scale } = m;
  const disp = m.disp | 0;
  if (index === ESP) throw new Error('ESP cannot be an index');
  const ss = scale === 1 ? 0 : scale === 2 ? 1 : scale === 4 ? 2 : 3;
  if (base === undefined && index === undefined) return [0x05 | (regField << 3), ...le(disp, 4)];
  if (base === undefined) return [0x04 | (regField << 3), (ss << 6) | (index! << 3) | 5, ...le(disp, 4)];
  let ds = m.dispSize ?? (disp === 0 ? 0 : fits8(disp) ? 1 : 4);
  if (ds === 2) ds = 4;
  if (ds === 1 && !fits8(disp)) ds = 4;
  if (ds === 0 && (disp !== 0 || base === EBP)) ds = fits8(disp) ? 1 : 4;
  const mod = ds === 0 ? 0 : ds === 1 ? 1 : 2;
  const d = le(disp, ds);
  if (index === undefined && base !== ESP) return [(mod << 6) | (regField << 3) | base, ...d];
  return [(mod << 6) | (regField << 3) | 4, ((index === undefined ? 0 : ss) << 6) | ((index ?? 4) << 3) | base, ...d];
}

const RM16: Record<string, number> = { '3,6': 0, '3,7': 1, '5,6': 2, '5,7': 3, ',6': 4, ',7': 5, '5,': 6, '3,': 7 };

function modrm16(regField: number, m: Mem): number[] {
  const disp = m.disp & 0xffff;
  const sdisp = signed(disp, 2);
  if (m.base === undefined && m.index === undefined) return [0x06 | (regField << 3), ...le(disp, 2)];
  const rm = RM16[`${m.base ?? ''},${m.index ?? ''}`];
  if (rm === undefined) throw new Error(`no 16-bit addressing form [${m.base}+${m.index}]`);
  let ds = m.dispSize ?? (sdisp === 0 ? 0 : fits8(sdisp) ? 1 : 2);
  if (ds === 4) ds = 2;
  if (ds === 1 && !fits8(sdisp)) ds = 2;
  if (ds === 0 && (sdisp !== 0 || rm === 6)) ds = fits8(sdisp) ? 1 : 2;
  const mod = ds === 0 ? 0 : ds === 1 ? 1 : 2;
  return [(mod << 6) | (regField << 3) | rm, ...le(disp, ds)];
}

function modrm(regField: number, rm: RM): number[] {
  if (rm.k === 'reg') return [0xc0 | (regField << 3) | rm.n];
  return rm.a16 ? modrm16(regField, rm) : modrm32(regField, rm);
}

// ---- text ----

const hex = (v: number) => (v < 0 ? '-0x' + (-v).toString(16) : '0x' + v.toString(16));
const SIZE_KW: Record<number, string> = { 1: 'byte', 2: 'word', 4: 'dword', 6: 'fword', 8: 'qword' };

export function memText(m: Mem): string {
  const parts: string[] = [];
  const names = m.a16 ? REG_NAMES[2] : REG_NAMES[4];
  if (m.base !== undefined) parts.push(names[m.base]!);
  if (m.index !== undefined) parts.push(names[m.index]! + (m.scale !== 1 ? `*${m.scale}` : ''));
  let s = parts.join('+');
  const d = m.a16 ? signed(m.disp & 0xffff, 2) : m.disp | 0;
  if (parts.length === 0) s = hex(m.a16 ? d & 0xffff : d >>> 0);
  else if (d !== 0) s += d < 0 ? `-${hex(-d)}` : `+${hex(d)}`;
  const seg = m.seg !== undefined ? `${SEG_NAMES[m.seg]}:` : '';
  const kw = SIZE_KW[m.size];
  return `${kw ? kw + ' ' : ''}[${seg}${s}]`;
}

export function opText(o: Op): string {
  switch (o.k) {
    case 'reg': return REG_NAMES[o.size][o.n]!;
    case 'mem': return memText(o);
    case 'imm': return hex((o.v & (o.size === 4 ? 0xffffffff : o.size === 2 ? 0xffff : 0xff)) >>> 0);
    case 'sreg': return SEG_NAMES[o.n]!;
    case 'rel': return hex(o.target >>> 0);
  }
}

// ---- the builder ----

interface Spec {
  bits: Bits;
  mnem: string;
  ops: Op[];
  opcode: number[];
  /** operand size that decides the 66 prefix (1 = byte op: none) */
  osize?: number;
  /** ModRM reg field and r/m operand */
  reg?: number;
  rm?: RM;
  /** immediates, in order: [value, size] */
  imms?: Array<[number, number]>;
  /** implicit-operand address size (string ops, xlat, loops): 2 or 4 */
  asize?: 2 | 4;
  seg?: number;
  rep?: 'rep' | 'repe' | 'repne';
  textOverride?: string;
}

export function build(s: Spec): Insn {
  const pre: number[] = [];
  if (s.rep) pre.push(s.rep === 'repne' ? 0xf2 : 0xf3);
  const mem = s.rm && s.rm.k === 'mem' ? s.rm : undefined;
  const seg = mem?.seg ?? s.seg;
  if (seg !== undefined) pre.push(SEG_PREFIX[seg]!);
  const def = s.bits === 16 ? 2 : 4;
  if (s.osize !== undefined && s.osize !== 1 && s.osize !== def) pre.push(0x66);
  const a16 = mem ? mem.a16 : s.asize !== undefined ? s.asize === 2 : s.bits === 16;
  if (a16 !== (s.bits === 16)) pre.push(0x67);
  const bytes = [...pre, ...s.opcode];
  if (s.rm) bytes.push(...modrm(s.reg ?? 0, s.rm));
  for (const [v, n] of s.imms ?? []) bytes.push(...le(v, n));
  const insn: Insn = { bytes, mnem: s.mnem, ops: s.ops, text: '' };
  if (s.rep) insn.rep = s.rep;
  if (s.asize) insn.asize = s.asize;
  if (s.seg !== undefined && !mem) insn.seg = s.seg;
  insn.text = s.textOverride ?? textOf(insn);
  return insn;
}

function textOf(i: Insn): string {
  const pre = (i.rep ? i.rep + ' ' : '') + (i.seg !== undefined ? SEG_NAMES[i.seg] + ' ' : '');
  const a = i.asize ? (i.asize === 2 ? 'a16 ' : 'a32 ') : '';
  return `${pre}${a}${i.mnem}${i.ops.length ? ' ' + i.ops.map(opText).join(', ') : ''}`;
}

function isAcc(o: Op): boolean {
  return o.k === 'reg' && o.n === 0;
}

function sizeOf(o: RM): number {
  return o.k === 'reg' ? o.size : o.size;
}

// ---- instruction families ----

export const ALU_NAMES = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'] as const;
export type AluName = (typeof ALU_NAMES)[number];

/**
 * ADD/OR/ADC/SBB/AND/SUB/XOR/CMP. variant picks among equivalent encodings:
 * reg,reg: 0 = 00/01, 1 = 02/03; acc,imm: 0 = 04/05, 1 = 80/81(/83), 2 = 83 when it fits
 * (2 for byte ops = 82, the 32-bit-mode alias of 80).
 */
export function alu(bits: Bits, name: AluName, dst: RM, src: Reg | RM | Imm, variant = 0): Insn {
  const op = ALU_NAMES.indexOf(name);
  const size = sizeOf(dst);
  const w = size === 1 ? 0 : 1;
  const ops = [dst, src];
  if (src.k === 'imm') {
    const iv = src.v;
    if (isAcc(dst) && dst.k === 'reg' && variant === 0) {
      return build({ bits, mnem: name, ops, opcode: [op * 8 + 4 + w], osize: size, imms: [[iv, size]] });
    }
    if (size === 1) {
      return build({ bits, mnem: name, ops, opcode: [variant === 2 ? 0x82 : 0x80], osize: 1, reg: op, rm: dst, imms: [[iv, 1]] });
    }
    const sv = signed(iv, size);
    if (fits8(sv) && variant !== 1) {
      return build({ bits, mnem: name, ops: [dst, imm(size as Size, iv)], opcode: [0x83], osize: size, reg: op, rm: dst, imms: [[sv, 1]] });
    }
    return build({ bits, mnem: name, ops, opcode: [0x81], osize: size, reg: op, rm: dst, imms: [[iv, size]] });
  }
  if (src.k === 'mem') {
    if (dst.k !== 'reg') throw new Error('alu mem, mem');
    return build({ bits, mnem: name, ops, opcode: [op * 8 + 2 + w], osize: size, reg: dst.n, rm: src });
  }
  if (dst.k === 'reg' && variant === 1) {
    return build({ bits, mnem: name, ops, opcode: [op * 8 + 2 + w], osize: size, reg: dst.n, rm: src });
  }
  return build({ bits, mnem: name, ops, opcode: [op * 8 + w], osize: size, reg: src.n, rm: dst });
}

/** TEST r/m, r | r/m, imm | acc, imm (variant 0 = A8/A9 for the accumulator). */
export function test(bits: Bits, dst: RM, src: Reg | Imm, variant = 0): Insn {
  const size = sizeOf(dst);
  const w = size === 1 ? 0 : 1;
  if (src.k === 'imm') {
    if (isAcc(dst) && dst.k === 'reg' && variant === 0) return build({ bits, mnem: 'test', ops: [dst, src], opcode: [0xa8 + w], osize: size, imms: [[src.v, size]] });
    return build({ bits, mnem: 'test', ops: [dst, src], opcode: [0xf6 + w], osize: size, reg: 0, rm: dst, imms: [[src.v, size]] });
  }
  return build({ bits, mnem: 'test', ops: [dst, src], opcode: [0x84 + w], osize: size, reg: src.n, rm: dst });
}

/** INC/DEC (variant 1 = the one-byte 40+r/48+r form for 16/32-bit registers). */
export function incdec(bits: Bits, name: 'inc' | 'dec', dst: RM, variant = 0): Insn {
  const size = sizeOf(dst);
  if (variant === 1 && dst.k === 'reg' && size !== 1) {
    return build({ bits, mnem: name, ops: [dst], opcode: [(name === 'inc' ? 0x40 : 0x48) + dst.n], osize: size });
  }
  return build({ bits, mnem: name, ops: [dst], opcode: [size === 1 ? 0xfe : 0xff], osize: size, reg: name === 'inc' ? 0 : 1, rm: dst });
}

export const GRP3 = { not: 2, neg: 3, mul: 4, imul: 5, div: 6, idiv: 7 } as const;
/** NOT/NEG/MUL/IMUL (one operand)/DIV/IDIV r/m. */
export function grp3(bits: Bits, name: keyof typeof GRP3, src: RM): Insn {
  const size = sizeOf(src);
  return build({ bits, mnem: name, ops: [src], opcode: [size === 1 ? 0xf6 : 0xf7], osize: size, reg: GRP3[name], rm: src });
}

/** IMUL r, r/m (0F AF) */
export function imul2(bits: Bits, dst: Reg, src: RM): Insn {
  return build({ bits, mnem: 'imul', ops: [dst, src], opcode: [0x0f, 0xaf], osize: dst.size, reg: dst.n, rm: src });
}

/** IMUL r, r/m, imm (6B with a sign-extended imm8 when it fits and variant != 1, else 69) */
export function imul3(bits: Bits, dst: Reg, src: RM, value: number, variant = 0): Insn {
  const size = dst.size;
  const sv = signed(value, size);
  if (fits8(sv) && variant !== 1) return build({ bits, mnem: 'imul', ops: [dst, src, imm(size, value)], opcode: [0x6b], osize: size, reg: dst.n, rm: src, imms: [[sv, 1]] });
  return build({ bits, mnem: 'imul', ops: [dst, src, imm(size, value)], opcode: [0x69], osize: size, reg: dst.n, rm: src, imms: [[value, size]] });
}

export const SHIFT_NAMES = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'] as const;
export type ShiftName = 'rol' | 'ror' | 'rcl' | 'rcr' | 'shl' | 'shr' | 'sar';

/** Shift/rotate by 1 (D0/D1), by CL (D2/D3) or by imm8 (C0/C1). count: 'cl' | number; by1 selects D0/D1 for count 1. */
export function shift(bits: Bits, name: ShiftName, dst: RM, count: 'cl' | number, by1 = true): Insn {
  const size = sizeOf(dst);
  const w = size === 1 ? 0 : 1;
  const op = SHIFT_NAMES.indexOf(name);
  if (count === 'cl') return build({ bits, mnem: name, ops: [dst, r8(ECX)], opcode: [0xd2 + w], osize: size, reg: op, rm: dst });
  if (count === 1 && by1) return build({ bits, mnem: name, ops: [dst, imm(1, 1)], opcode: [0xd0 + w], osize: size, reg: op, rm: dst });
  return build({ bits, mnem: name, ops: [dst, imm(1, count)], opcode: [0xc0 + w], osize: size, reg: op, rm: dst, imms: [[count, 1]] });
}

/** SHLD/SHRD r/m, r, imm8|CL */
export function shxd(bits: Bits, name: 'shld' | 'shrd', dst: RM, src: Reg, count: 'cl' | number): Insn {
  const base = name === 'shld' ? 0xa4 : 0xac;
  if (count === 'cl') return build({ bits, mnem: name, ops: [dst, src, r8(ECX)], opcode: [0x0f, base + 1], osize: src.size, reg: src.n, rm: dst });
  return build({ bits, mnem: name, ops: [dst, src, imm(1, count)], opcode: [0x0f, base], osize: src.size, reg: src.n, rm: dst, imms: [[count, 1]] });
}

export const BT_NAMES = ['bt', 'bts', 'btr', 'btc'] as const;
export type BtName = (typeof BT_NAMES)[number];
/** BT/BTS/BTR/BTC r/m, r | r/m, imm8 */
export function bt(bits: Bits, name: BtName, dst: RM, src: Reg | number): Insn {
  const i = BT_NAMES.indexOf(name);
  const size = sizeOf(dst);
  if (typeof src === 'number') return build({ bits, mnem: name, ops: [dst, imm(1, src)], opcode: [0x0f, 0xba], osize: size, reg: 4 + i, rm: dst, imms: [[src, 1]] });
  return build({ bits, mnem: name, ops: [dst, src], opcode: [0x0f, 0xa3 + 8 * i], osize: size, reg: src.n, rm: dst });
}

export function bsx(bits: Bits, name: 'bsf' | 'bsr', dst: Reg, src: RM): Insn {
  return build({ bits, mnem: name, ops: [dst, src], opcode: [0x0f, name === 'bsf' ? 0xbc : 0xbd], osize: dst.size, reg: dst.n, rm: src });
}

export function bswap(bits: Bits, dst: Reg): Insn {
  return build({ bits, mnem: 'bswap', ops: [dst], opcode: [0x0f, 0xc8 + dst.n], osize: dst.size });
}

/** XCHG r/m, r (86/87) or eAX, r (90+r, variant 1; 'xchg ax, r'). iced orders 86/87 operands as r/m, r. */
export function xchg(bits: Bits, a: RM, b: Reg, variant = 0): Insn {
  const size = sizeOf(a);
  if (variant === 1 && size !== 1 && a.k === 'reg' && (a.n === 0 || b.n === 0)) {
    const other = a.n === 0 ? b : a;
    return build({ bits, mnem: 'xchg', ops: [other, reg(size as Size, 0)], opcode: [0x90 + other.n], osize: size });
  }
  return build({ bits, mnem: 'xchg', ops: [a, b], opcode: [size === 1 ? 0x86 : 0x87], osize: size, reg: b.n, rm: a });
}

export function cmpxchg(bits: Bits, dst: RM, src: Reg): Insn {
  const size = src.size;
  return build({ bits, mnem: 'cmpxchg', ops: [dst, src], opcode: [0x0f, size === 1 ? 0xb0 : 0xb1], osize: size, reg: src.n, rm: dst });
}

export function cmpxchg8b(bits: Bits, m: Mem): Insn {
  return build({ bits, mnem: 'cmpxchg8b', ops: [{ ...m, size: 8 }], opcode: [0x0f, 0xc7], reg: 1, rm: { ...m, size: 8 } });
}

export function xadd(bits: Bits, dst: RM, src: Reg): Insn {
  const size = src.size;
  return build({ bits, mnem: 'xadd', ops: [dst, src], opcode: [0x0f, size === 1 ? 0xc0 : 0xc1], osize: size, reg: src.n, rm: dst });
}

/** MOVZX/MOVSX r, r/m8 | r32, r/m16 */
export function movx(bits: Bits, name: 'movzx' | 'movsx', dst: Reg, src: RM): Insn {
  const ss = sizeOf(src);
  const op = (name === 'movzx' ? 0xb6 : 0xbe) + (ss === 2 ? 1 : 0);
  return build({ bits, mnem: name, ops: [dst, src], opcode: [0x0f, op], osize: dst.size, reg: dst.n, rm: src });
}

/** CBW/CWDE (98) and CWD/CDQ (99) with operand size 2 or 4. */
export function convert(bits: Bits, which: 'cbw' | 'cwde' | 'cwd' | 'cdq'): Insn {
  const osize = which === 'cbw' || which === 'cwd' ? 2 : 4;
  return build({ bits, mnem: which, ops: [], opcode: [which === 'cbw' || which === 'cwde' ? 0x98 : 0x99], osize });
}

export function lea(bits: Bits, dst: Reg, m: Mem): Insn {
  const mm = { ...m, size: 0 };
  return build({ bits, mnem: 'lea', ops: [dst, mm], opcode: [0x8d], osize: dst.size, reg: dst.n, rm: mm });
}

/** MOV r/m, r | r, r/m | r, imm | r/m, imm | sreg forms. variant 1 picks the alternate encoding. */
export function mov(bits: Bits, dst: RM | SReg, src: RM | Imm | SReg, variant = 0): Insn {
  if (dst.k === 'sreg') {
    const s = src as RM;
    return build({ bits, mnem: 'mov', ops: [dst, s], opcode: [0x8e], osize: s.k === 'reg' ? s.size : undefined, reg: dst.n, rm: s });
  }
  if (src.k === 'sreg') {
    return build({ bits, mnem: 'mov', ops: [dst, src], opcode: [0x8c], osize: dst.k === 'reg' ? dst.size : undefined, reg: src.n, rm: dst });
  }
  const size = sizeOf(dst);
  const w = size === 1 ? 0 : 1;
  if (src.k === 'imm') {
    if (dst.k === 'reg' && variant === 0) {
      return build({ bits, mnem: 'mov', ops: [dst, src], opcode: [(size === 1 ? 0xb0 : 0xb8) + dst.n], osize: size, imms: [[src.v, size]] });
    }
    return build({ bits, mnem: 'mov', ops: [dst, src], opcode: [0xc6 + w], osize: size, reg: 0, rm: dst, imms: [[src.v, size]] });
  }
  // moffs forms: A0-A3 when the accumulator meets a displacement-only operand
  const m = dst.k === 'mem' ? dst : src.k === 'mem' ? src : undefined;
  if (variant === 2 && m && m.base === undefined && m.index === undefined) {
    const acc = dst.k === 'reg' ? dst : (src as Reg);
    if (acc.n === 0) {
      const toMem = dst.k === 'mem';
      const asz = m.a16 ? 2 : 4;
      return build({ bits, mnem: 'mov', ops: [dst, src], opcode: [(toMem ? 0xa2 : 0xa0) + w], osize: size, seg: m.seg, asize: m.a16 === (bits === 16) ? undefined : (asz as 2 | 4), imms: [[m.disp, asz]], textOverride: `mov ${opText(dst)}, ${opText(src)}` });
    }
  }
  if (src.k === 'mem') return build({ bits, mnem: 'mov', ops: [dst, src], opcode: [0x8a + w], osize: size, reg: (dst as Reg).n, rm: src });
  if (dst.k === 'reg' && variant === 1) return build({ bits, mnem: 'mov', ops: [dst, src], opcode: [0x8a + w], osize: size, reg: dst.n, rm: src });
  return build({ bits, mnem: 'mov', ops: [dst, src], opcode: [0x88 + w], osize: size, reg: (src as Reg).n, rm: dst });
}

export type StrOp = 'movs' | 'stos' | 'lods' | 'cmps' | 'scas';
const STR_OPC: Record<StrOp, number> = { movs: 0xa4, cmps: 0xa6, stos: 0xaa, lods: 0xac, scas: 0xae };
/** String instructions; seg overrides the DS of the source (movs/lods/cmps). */
export function str(bits: Bits, op: StrOp, size: Size, opts: { rep?: 'rep' | 'repe' | 'repne'; asize?: 2 | 4; seg?: number } = {}): Insn {
  const suffix = size === 1 ? 'b' : size === 2 ? 'w' : 'd';
  const s: Spec = {
    bits, mnem: op + suffix, ops: [], opcode: [STR_OPC[op] + (size === 1 ? 0 : 1)], osize: size,
    asize: opts.asize ?? (bits === 16 ? 2 : 4),
  };
  if (opts.rep) s.rep = opts.rep;
  if (opts.seg !== undefined) s.seg = opts.seg;
  return build(s);
}

export function push(bits: Bits, src: RM | Imm | SReg, osize?: 2 | 4, variant = 0): Insn {
  const def = bits === 16 ? 2 : 4;
  if (src.k === 'sreg') {
    const opc = src.n === FS ? [0x0f, 0xa0] : src.n === GS ? [0x0f, 0xa8] : [[0x06, 0x0e, 0x16, 0x1e][src.n]!];
    return build({ bits, mnem: 'push', ops: [src], opcode: opc, osize: osize ?? def });
  }
  if (src.k === 'imm') {
    const size = osize ?? def;
    const sv = signed(src.v, size);
    if (fits8(sv) && variant !== 1) return build({ bits, mnem: 'push', ops: [imm(size as Size, src.v)], opcode: [0x6a], osize: size, imms: [[sv, 1]] });
    return build({ bits, mnem: 'push', ops: [imm(size as Size, src.v)], opcode: [0x68], osize: size, imms: [[src.v, size]] });
  }
  const size = sizeOf(src);
  if (src.k === 'reg' && variant === 0) return build({ bits, mnem: 'push', ops: [src], opcode: [0x50 + src.n], osize: size });
  return build({ bits, mnem: 'push', ops: [src], opcode: [0xff], osize: size, reg: 6, rm: src });
}

export function pop(bits: Bits, dst: RM | SReg, osize?: 2 | 4, variant = 0): Insn {
  const def = bits === 16 ? 2 : 4;
  if (dst.k === 'sreg') {
    const opc = dst.n === FS ? [0x0f, 0xa1] : dst.n === GS ? [0x0f, 0xa9] : [[0x07, -1, 0x17, 0x1f][dst.n]!];
    if (opc[0] === -1) throw new Error('pop cs');
    return build({ bits, mnem: 'pop', ops: [dst], opcode: opc, osize: osize ?? def });
  }
  const size = sizeOf(dst);
  if (dst.k === 'reg' && variant === 0) return build({ bits, mnem: 'pop', ops: [dst], opcode: [0x58 + dst.n], osize: size });
  return build({ bits, mnem: 'pop', ops: [dst], opcode: [0x8f], osize: size, reg: 0, rm: dst });
}

/** One-byte and prefixed no-operand instructions. */
export function simple(bits: Bits, mnem: string, opcode: number[], osize?: number): Insn {
  const s: Spec = { bits, mnem, ops: [], opcode };
  if (osize !== undefined) s.osize = osize;
  return build(s);
}

export function pusha(bits: Bits, osize: 2 | 4): Insn {
  return simple(bits, osize === 2 ? 'pusha' : 'pushad', [0x60], osize);
}
export function popa(bits: Bits, osize: 2 | 4): Insn {
  return simple(bits, osize === 2 ? 'popa' : 'popad', [0x61], osize);
}
export function pushf(bits: Bits, osize: 2 | 4): Insn {
  return simple(bits, osize === 2 ? 'pushf' : 'pushfd', [0x9c], osize);
}
export function popf(bits: Bits, osize: 2 | 4): Insn {
  return simple(bits, osize === 2 ? 'popf' : 'popfd', [0x9d], osize);
}

export function enter(bits: Bits, size: number, level: number, osize?: 2 | 4): Insn {
  const s: Spec = { bits, mnem: 'enter', ops: [imm(2, size), imm(1, level)], opcode: [0xc8], imms: [[size, 2], [level, 1]] };
  if (osize) s.osize = osize;
  return build(s);
}
export function leave(bits: Bits, osize?: 2 | 4): Insn {
  return simple(bits, 'leave', [0xc9], osize);
}

export function ret(bits: Bits, popBytes?: number): Insn {
  if (popBytes === undefined) return simple(bits, 'ret', [0xc3]);
  return build({ bits, mnem: 'ret', ops: [imm(2, popBytes)], opcode: [0xc2], imms: [[popBytes, 2]] });
}

/** Near relative CALL/JMP/Jcc/LOOP/JECXZ, encoded at `at` (offset of the instruction's first byte in CS). */
export const CC_NAMES = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'] as const;

export function relBranch(bits: Bits, kind: 'call' | 'jmp' | 'jmp8' | { cc: number; short: boolean }, at: number, target: number): Insn {
  const wide = bits === 16 ? 2 : 4;
  let opcode: number[];
  let dsz: number;
  let mnem: string;
  if (kind === 'call') { opcode = [0xe8]; dsz = wide; mnem = 'call'; }
  else if (kind === 'jmp') { opcode = [0xe9]; dsz = wide; mnem = 'jmp'; }
  else if (kind === 'jmp8') { opcode = [0xeb]; dsz = 1; mnem = 'jmp'; }
  else if (kind.short) { opcode = [0x70 + kind.cc]; dsz = 1; mnem = 'j' + CC_NAMES[kind.cc]; }
  else { opcode = [0x0f, 0x80 + kind.cc]; dsz = wide; mnem = 'j' + CC_NAMES[kind.cc]; }
  const len = opcode.length + dsz;
  const rel = target - (at + len);
  if (dsz === 1 && !fits8(rel)) throw new RangeError(`${mnem} target out of rel8 range (${rel})`);
  return build({ bits, mnem, ops: [{ k: 'rel', target }], opcode, imms: [[rel, dsz]] });
}

/** LOOP/LOOPE/LOOPNE/JECXZ (rel8); asize 2 uses CX. */
export function loopInsn(bits: Bits, kind: 'loop' | 'loope' | 'loopne' | 'jecxz', at: number, target: number, asize?: 2 | 4): Insn {
  const opc = { loopne: 0xe0, loope: 0xe1, loop: 0xe2, jecxz: 0xe3 }[kind];
  const a = asize ?? (bits === 16 ? 2 : 4);
  const prefixLen = a !== (bits === 16 ? 2 : 4) ? 1 : 0;
  const rel = target - (at + prefixLen + 2);
  if (!fits8(rel)) throw new RangeError(`${kind} target out of range (${rel})`);
  const mnem = kind === 'jecxz' ? (a === 2 ? 'jcxz' : 'jecxz') : kind;
  return build({ bits, mnem, ops: [{ k: 'rel', target }], opcode: [opc], imms: [[rel, 1]], asize: a, textOverride: `${mnem} ${hex(target)}` });
}

/** CALL/JMP r/m (FF /2, FF /4) */
export function indirect(bits: Bits, kind: 'call' | 'jmp', target: RM): Insn {
  return build({ bits, mnem: kind, ops: [target], opcode: [0xff], osize: sizeOf(target), reg: kind === 'call' ? 2 : 4, rm: target });
}

export function setcc(bits: Bits, cc: number, dst: RM): Insn {
  return build({ bits, mnem: 'set' + CC_NAMES[cc], ops: [dst], opcode: [0x0f, 0x90 + cc], reg: 0, rm: dst });
}

export function cmovcc(bits: Bits, cc: number, dst: Reg, src: RM): Insn {
  return build({ bits, mnem: 'cmov' + CC_NAMES[cc], ops: [dst, src], opcode: [0x0f, 0x40 + cc], osize: dst.size, reg: dst.n, rm: src });
}

export function aam(bits: Bits, base: number): Insn {
  return build({ bits, mnem: 'aam', ops: [imm(1, base)], opcode: [0xd4], imms: [[base, 1]] });
}
export function aad(bits: Bits, base: number): Insn {
  return build({ bits, mnem: 'aad', ops: [imm(1, base)], opcode: [0xd5], imms: [[base, 1]] });
}

export function xlat(bits: Bits, opts: { asize?: 2 | 4; seg?: number } = {}): Insn {
  const s: Spec = { bits, mnem: 'xlatb', ops: [], opcode: [0xd7], asize: opts.asize ?? (bits === 16 ? 2 : 4) };
  if (opts.seg !== undefined) s.seg = opts.seg;
  return build(s);
}

export function intn(bits: Bits, n: number): Insn {
  return build({ bits, mnem: 'int', ops: [imm(1, n)], opcode: [0xcd], imms: [[n, 1]] });
}

export function bound(bits: Bits, r: Reg, m: Mem): Insn {
  const mm = { ...m, size: r.size * 2 };
  return build({ bits, mnem: 'bound', ops: [r, mm], opcode: [0x62], osize: r.size, reg: r.n, rm: mm });
}

/** Multi-byte NOP 0F 1F /0 with a memory operand (not accessed). */
export function nopMem(bits: Bits, m: Mem, osize?: 2 | 4): Insn {
  const mm = { ...m, size: osize ?? (bits === 16 ? 2 : 4) };
  return build({ bits, mnem: 'nop', ops: [mm], opcode: [0x0f, 0x1f], osize: mm.size, reg: 0, rm: mm });
}

/** Raw bytes (junk, or forms not covered here). */
export function raw(bytes: number[], text: string): Insn {
  return { bytes: [...bytes], mnem: 'db', ops: [], text };
}

/** An assembler buffer with a listing. */
export class Asm {
  readonly bytes: number[] = [];
  readonly listing: Array<{ offset: number; insn: Insn }> = [];
  constructor(readonly bits: Bits, readonly origin = 0) {}
  /** Current offset in CS (origin + bytes so far). */
  get pc(): number {
    return this.origin + this.bytes.length;
  }
  emit(i: Insn): number {
    const at = this.pc;
    this.listing.push({ offset: at, insn: i });
    this.bytes.push(...i.bytes);
    return at;
  }
  /** Listing lines "+off: bytes  text" (offsets relative to origin). */
  lines(): string[] {
    return this.listing.map(({ offset, insn }) =>
      `+${(offset - this.origin).toString(16).padStart(3, '0')}: ${insn.bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ').padEnd(30)} ${insn.text}`);
  }
  /** The code bytes; listingOf(bytes) then gives the instructions they were built from. */
  code(): Uint8Array {
    const b = Uint8Array.from(this.bytes);
    LISTINGS.set(b, this.listing.map((e) => ({ ...e })));
    return b;
  }
}

const LISTINGS = new WeakMap<Uint8Array, Array<{ offset: number; insn: Insn }>>();

/** The structured instructions (offsets in CS) of code returned by Asm.code(). */
export function listingOf(code: Uint8Array): Array<{ offset: number; insn: Insn }> | undefined {
  return LISTINGS.get(code);
}
