// The per-TB code generator: turns decoded instructions into JavaScript source. It tracks
// at translation time which lazy-flags operation is current, so condition tests after
// CMP/TEST/ALU operations compile to direct comparisons.
import { OpKind, type Instr, type Operand, SEG_SS } from '../instr.js';
import {
  CC_ADD, CC_EFLAGS, CC_INC, CC_DEC, CC_LOGIC, CC_SUB, ccBase, ccSize,
} from '../lazy-flags.js';
import { HF_CS32, HF_SEG_SHIFT, HF_SS32, HF_CPL_MASK, HF_WATCH, HF_CS_LIMIT } from '../cpu.js';
import { SEGCLASS_BASIC, SEGCLASS_FLAT } from '../segment.js';
import type { RegionContext } from './translator.js';

export const EXIT_JUMP0 = 0;
export const EXIT_JUMP1 = 1;
export const EXIT_LOOKUP = 2;
export const EXIT_STOP = 3;
export const EXIT_DEBUG = 4;
/** A plain indirect jump (RET, JMP/CALL r/m): the chain loop looks the target up itself. */
export const EXIT_INDIRECT = 5;

const MASKS: Record<number, string> = { 1: '0xff', 2: '0xffff', 4: '-1' };
const SIGNS: Record<number, string> = { 1: '0x80', 2: '0x8000', 4: '-0x80000000' };

export class TranslationError extends Error {}

export class CodeGen {
  readonly lines: string[] = [];
  /** Lazy-flags operation known to be in c.ccOp here, or -1 when only known at run time. */
  ccKnown = -1;
  /** Index of the current instruction in the TB (for fault bookkeeping and counts). */
  k = 0;
  instr!: Instr;
  /** EIP of the instruction after the current one. */
  next = 0;
  /** Set when the generated code for the instruction always leaves the TB. */
  ended = false;
  /** When compiling a region: members by EIP, so exits become jumps inside the function. */
  region: RegionContext | null = null;
  /** Whether the current instruction's flag results can be observed (see flag-liveness). */
  flagsLive = true;
  /** The start EIP of the TB: a direct jump there becomes a loop inside the function. */
  selfLoop = false;
  readonly cs32: boolean;
  readonly ss32: boolean;
  readonly cpl: number;
  readonly watch: boolean;

  constructor(readonly hflags: number, readonly tbEip: number, readonly loopOk: boolean) {
    this.cs32 = (hflags & HF_CS32) !== 0;
    this.ss32 = (hflags & HF_SS32) !== 0;
    this.cpl = hflags & HF_CPL_MASK;
    this.watch = (hflags & HF_WATCH) !== 0;
  }

  emit(line: string): void {
    this.lines.push(line);
  }

  begin(instr: Instr, k: number): void {
    this.instr = instr;
    this.k = k;
    this.next = this.cs32 ? (instr.eip + instr.len) >>> 0 : (instr.eip + instr.len) & 0xffff;
    this.ended = false;
    // The catch handler of the TB needs to know which instruction faulted.
    this.emit(`ix$ = ${k};`);
  }

  /** Code after this point may fault (the index was recorded in begin()). */
  mayFault(): void {}

  segClass(seg: number): number {
    return (this.hflags >> (HF_SEG_SHIFT + 2 * seg)) & 3;
  }

  // ---- registers --------------------------------------------------------------------

  reg(r: number, size: number): string {
    if (size === 4) return `R[${r}]`;
    if (size === 2) return `(R[${r}] & 0xffff)`;
    return r < 4 ? `(R[${r}] & 0xff)` : `((R[${r - 4}] >> 8) & 0xff)`;
  }

  /** Sign-extended read of a register view as int32. */
  regS(r: number, size: number): string {
    if (size === 4) return `R[${r}]`;
    if (size === 2) return `((R[${r}] << 16) >> 16)`;
    return r < 4 ? `((R[${r}] << 24) >> 24)` : `((R[${r - 4}] << 16) >> 24)`;
  }

  setReg(r: number, size: number, v: string): string {
    if (size === 4) return `R[${r}] = ${v};`;
    if (size === 2) return `R[${r}] = (R[${r}] & -65536) | ((${v}) & 0xffff);`;
    return r < 4
      ? `R[${r}] = (R[${r}] & -256) | ((${v}) & 0xff);`
      : `R[${r - 4}] = (R[${r - 4}] & -65281) | (((${v}) & 0xff) << 8);`;
  }

  // ---- addresses --------------------------------------------------------------------

  /** Offset expression of the memory operand (masked to the address size). */
  eaOffset(i: Instr = this.instr, subst?: Record<number, string>): string {
    const ea = i.ea;
    if (!ea) throw new TranslationError('no memory operand');
    const r = (n: number): string => subst?.[n] ?? `R[${n}]`;
    const parts: string[] = [];
    if (ea.base >= 0) parts.push(r(ea.base));
    if (ea.index >= 0) parts.push(ea.scale > 1 ? `(${r(ea.index)} << ${Math.log2(ea.scale)})` : r(ea.index));
    if (i.adsize === 4) {
      if (parts.length === 0) return String(ea.disp | 0);
      if (ea.disp !== 0) parts.push(String(ea.disp | 0));
      return parts.length === 1 ? parts[0]! : `((${parts.join(' + ')}) | 0)`;
    }
    if (parts.length === 0) return String(ea.disp & 0xffff);
    if (ea.disp !== 0) parts.push(String(ea.disp));
    return `((${parts.join(' + ')}) & 0xffff)`;
  }

  /** Linear address expression for seg:off with the checks the segment class needs. */
  linear(seg: number, off: string, size: number, write: boolean): string {
    const cls = this.segClass(seg);
    if (cls === SEGCLASS_FLAT) return off;
    this.mayFault();
    if (cls === SEGCLASS_BASIC) return `sg(${seg}, ${off}, ${size})`;
    return `c.segAddr(${seg}, ${off}, ${size}, ${write})`;
  }

  /** Emit `const a = <linear address of the memory operand>;` */
  prepMem(size: number, write: boolean, name = 'a', subst?: Record<number, string>): void {
    const i = this.instr;
    this.mayFault();
    this.emit(`const ${name} = ${this.linear(i.ea!.seg, this.eaOffset(i, subst), size, write)};`);
  }

  load(size: number, addr: string): string {
    this.mayFault();
    return size === 1 ? `ld8(${addr})` : size === 2 ? `ld16(${addr})` : `ld32(${addr})`;
  }

  /** Sign-extended load. */
  loadS(size: number, addr: string): string {
    const v = this.load(size, addr);
    return size === 1 ? `((${v} << 24) >> 24)` : size === 2 ? `((${v} << 16) >> 16)` : v;
  }

  store(size: number, addr: string, v: string): string {
    this.mayFault();
    return size === 1 ? `st8(${addr}, ${v});` : size === 2 ? `st16(${addr}, ${v});` : `st32(${addr}, ${v});`;
  }

  // ---- operands ---------------------------------------------------------------------

  /** Read an operand; a memory operand must have been prepared as `a`. */
  read(op: Operand, addr = 'a'): string {
    switch (op.kind) {
      case OpKind.Reg: return this.reg(op.reg, op.size);
      case OpKind.Mem: return this.load(op.size, addr);
      case OpKind.Imm: return op.size === 4 ? String(op.value | 0) : String(op.value);
      case OpKind.Seg: return `c.segSel[${op.reg}]`;
      default: throw new TranslationError(`cannot read operand kind ${op.kind}`);
    }
  }

  readS(op: Operand, addr = 'a'): string {
    switch (op.kind) {
      case OpKind.Reg: return this.regS(op.reg, op.size);
      case OpKind.Mem: return this.loadS(op.size, addr);
      case OpKind.Imm: {
        const v = op.value;
        return String(op.size === 1 ? (v << 24) >> 24 : op.size === 2 ? (v << 16) >> 16 : v | 0);
      }
      default: throw new TranslationError(`cannot read operand kind ${op.kind}`);
    }
  }

  write(op: Operand, v: string, addr = 'a'): string {
    switch (op.kind) {
      case OpKind.Reg: return this.setReg(op.reg, op.size, v);
      case OpKind.Mem: return this.store(op.size, addr, v);
      default: throw new TranslationError(`cannot write operand kind ${op.kind}`);
    }
  }

  /** Prepare `a` if any operand is in memory. */
  prepOperands(write: boolean): void {
    const m = this.instr.operands.find((o) => o.kind === OpKind.Mem);
    if (m) this.prepMem(m.size || this.instr.opsize, write);
  }

  hasMem(): boolean {
    return this.instr.operands.some((o) => o.kind === OpKind.Mem);
  }

  mask(size: number, v: string): string {
    return size === 4 ? `((${v}) | 0)` : `((${v}) & ${MASKS[size]})`;
  }

  // ---- stack --------------------------------------------------------------------------

  /** Emit a push of `v` (already evaluated into a local) of `size` bytes. */
  push(v: string, size: number, tmp = 'sp'): void {
    this.mayFault();
    const sp = this.ss32 ? `((R[4] - ${size}) | 0)` : `((R[4] - ${size}) & 0xffff)`;
    this.emit(`const ${tmp} = ${sp};`);
    this.emit(this.store(size, this.linear(SEG_SS, tmp, size, true), v));
    this.emit(this.ss32 ? `R[4] = ${tmp};` : `R[4] = (R[4] & -65536) | ${tmp};`);
  }

  /**
   * Load the stack top into `name` (size bytes) and return the statement that commits
   * the pop (ESP update); the caller emits it after writing the destination.
   */
  pop(size: number, name: string, sx = false): string {
    this.mayFault();
    const sp0 = this.ss32 ? 'R[4]' : '(R[4] & 0xffff)';
    this.emit(`const ${name}_sp = ${sp0};`);
    const addr = this.linear(SEG_SS, `${name}_sp`, size, false);
    this.emit(`const ${name} = ${sx ? this.loadS(size, addr) : this.load(size, addr)};`);
    return this.ss32 ? `R[4] = (${name}_sp + ${size}) | 0;` : `R[4] = (R[4] & -65536) | ((${name}_sp + ${size}) & 0xffff);`;
  }

  // ---- flags --------------------------------------------------------------------------

  setFlags(op: number, dst: string, src: string | null, aux: string | null = null): void {
    if (!this.flagsLive) return;
    this.emit(`c.ccDst = ${dst};`);
    if (src !== null) this.emit(`c.ccSrc = ${src};`);
    if (aux !== null) this.emit(`c.ccAux = ${aux};`);
    if (this.ccKnown !== op) this.emit(`c.ccOp = ${op};`);
    this.ccKnown = op;
  }

  /** Flags changed in a way only known at run time (helpers, conditional updates). */
  flagsUnknown(): void {
    this.ccKnown = -1;
  }

  /** CF as a 0/1 expression. */
  carry(): string {
    const op = this.ccKnown;
    if (op === CC_EFLAGS) return '(c.ccSrc & 1)';
    if (op > 0) {
      const b = ccBase(op);
      const size = ccSize(op);
      if (b === CC_LOGIC) return '0';
      if (b === CC_INC || b === CC_DEC) return 'c.ccAux';
      if (b === CC_ADD) return `(${this.u(size, 'c.ccDst')} < ${this.u(size, 'c.ccSrc')} ? 1 : 0)`;
      if (b === CC_SUB) return `(${this.u(size, '(c.ccDst + c.ccSrc)')} < ${this.u(size, 'c.ccSrc')} ? 1 : 0)`;
    }
    return 'c.getCarry()';
  }

  private u(size: number, v: string): string {
    return size === 4 ? `(${v} >>> 0)` : `(${v} & ${MASKS[size]})`;
  }

  private s(size: number, v: string): string {
    return size === 4 ? `(${v} | 0)` : size === 2 ? `((${v} << 16) >> 16)` : `((${v} << 24) >> 24)`;
  }

  /** A boolean expression for condition code `cc` (Jcc/SETcc/CMOVcc low nibble). */
  cond(cc: number): string {
    const op = this.ccKnown;
    const base = cc >> 1;
    let e: string | null = null;
    if (op > 0) {
      const size = ccSize(op);
      const b = ccBase(op);
      const D = 'c.ccDst';
      const S = 'c.ccSrc';
      const zero = size === 4 ? `(${D} === 0)` : `((${D} & ${MASKS[size]}) === 0)`;
      const sign = `((${D} & ${SIGNS[size]}) !== 0)`;
      switch (base) {
        case 0: if (b === CC_LOGIC) e = 'false'; break;
        case 1: if (b === CC_LOGIC || b === CC_ADD || b === CC_SUB || b === CC_INC || b === CC_DEC) e = `(${this.carry()} !== 0)`; break;
        case 2: e = zero; break;
        case 3:
          if (b === CC_LOGIC) e = zero;
          else if (b === CC_SUB) e = `(${this.u(size, `(${D} + ${S})`)} <= ${this.u(size, S)})`;
          break;
        case 4: e = sign; break;
        case 5: e = `(PAR[${D} & 0xff] !== 0)`; break;
        case 6:
          if (b === CC_LOGIC) e = sign;
          else if (b === CC_SUB) e = `(${this.s(size, `(${D} + ${S})`)} < ${this.s(size, S)})`;
          break;
        case 7:
          if (b === CC_LOGIC) e = `(${zero} || ${sign})`;
          else if (b === CC_SUB) e = `(${this.s(size, `(${D} + ${S})`)} <= ${this.s(size, S)})`;
          break;
      }
    } else if (op === CC_EFLAGS) {
      const F = 'c.ccSrc';
      switch (base) {
        case 0: e = `((${F} & 0x800) !== 0)`; break;
        case 1: e = `((${F} & 1) !== 0)`; break;
        case 2: e = `((${F} & 0x40) !== 0)`; break;
        case 3: e = `((${F} & 0x41) !== 0)`; break;
        case 4: e = `((${F} & 0x80) !== 0)`; break;
        case 5: e = `((${F} & 4) !== 0)`; break;
        case 6: e = `(((${F} >> 7) ^ (${F} >> 11)) & 1) !== 0`; break;
        case 7: e = `(((${F} & 0x40) !== 0) || ((((${F} >> 7) ^ (${F} >> 11)) & 1) !== 0))`; break;
      }
    }
    if (e === null) return `H.cond(${cc})`;
    return cc & 1 ? `!(${e})` : e;
  }

  // ---- exits ------------------------------------------------------------------------

  /** Retired-instruction count at the end of the current instruction. */
  get count(): number {
    return this.k + 1;
  }

  exitTo(slot: number, eip: string | number, count = this.count): string {
    const target = typeof eip === 'number' ? eip >>> 0 : eip;
    if (this.region && typeof target === 'number') {
      const j = this.region.byEip.get(target);
      if (j !== undefined) {
        return `{ c.icount += ${count}; if (c.icount + ${this.region.ninsns[j]} <= c.deadline) { M[${j}].execCount++; s = ${j}; continue; } c.eip = ${target}; return ${slot}; }`;
      }
    }
    if (this.loopOk && typeof target === 'number' && target === this.tbEip && slot <= 1) {
      this.selfLoop = true;
      return `{ c.icount += ${count}; T.execCount++; if (c.icount + ${count} <= c.deadline) continue; c.eip = ${target}; return ${slot}; }`;
    }
    return `{ c.eip = ${typeof target === 'number' ? target : target}; c.icount += ${count}; return ${slot}; }`;
  }

  /** Leave the TB to the loop, which looks the next TB up by EIP. */
  exitLookup(eip: string | number, count = this.count): string {
    return `{ c.eip = ${eip}; c.icount += ${count}; return ${EXIT_LOOKUP}; }`;
  }

  exitIndirect(eip: string): string {
    if (this.region) {
      const cases = [...this.region.byEip].map(([e, j]) =>
        `case ${e}: if (c.icount + ${this.region!.ninsns[j]} <= c.deadline) { M[${j}].execCount++; s = ${j}; continue; } break;`);
      return `{ const t$ = ${eip}; c.eip = t$; c.icount += ${this.count}; switch (t$) { ${cases.join(' ')} } return ${EXIT_INDIRECT}; }`;
    }
    return `{ c.eip = ${eip}; c.icount += ${this.count}; return ${EXIT_INDIRECT}; }`;
  }

  /** Leave to the outer loop with EIP already set by a helper. */
  exitHelper(code = EXIT_LOOKUP, count = this.count): string {
    return `{ c.icount += ${count}; return ${code}; }`;
  }

  /** After a store: leave if a slow path asked us to (SMC on this TB, watchpoint hit). */
  checkStop(): void {
    this.emit(`if (c.stopAfterInsn) { c.eip = ${this.next}; c.icount += ${this.count}; return ${EXIT_STOP}; }`);
  }

  /** Watchpoints also trip on reads: every memory instruction checks when any exist. */
  checkStopIfWatching(): void {
    if (this.watch) this.checkStop();
  }

  /** A near transfer beyond the CS limit faults on the transfer itself (#GP(0)). */
  targetCheck(target: string | number): string {
    // A 32-bit target in 16-bit code can pass the 64 KiB limit too.
    if (!(this.hflags & HF_CS_LIMIT) && (this.cs32 || this.instr.opsize !== 4)) return '';
    return `if ((${target}) > SL[1]) c.raiseException(13, 0); `;
  }

  raise(vector: number, code = 0): void {
    this.mayFault();
    this.emit(`c.raiseException(${vector}, ${code});`);
    this.ended = true;
  }
}
