// The x87 FPU of the CPU (SDM vol. 1, chapter 8): the register stack, control/status/tag
// words, last-instruction pointers, and the execution of every D8-DF escape (plus FWAIT,
// FXSAVE/FXRSTOR). Translated code calls exec() through Helpers.x87 after the #NM checks,
// with the memory operand's linear address already computed (and segment-checked).
//
// Precise exceptions: memory operands are read, and written after a probe of the pages
// (#PF), before any FPU state changes; an unmasked invalid-operation, denormal or
// zero-divide exception leaves the destination and the stack unchanged.
import type { Cpu } from '../cpu.js';
import { EXC_GP, EXC_MF } from '../cpu-exception.js';
import { ACCESS_WRITE } from '../mmu.js';
import { SEG_CS } from '../instr.js';
import { MXCSR_MASK } from '../simd/simd.js';
import {
  DEFAULT_NAN, FE_DE, FE_IE, FE_PE, FE_SF, FE_ZE, FMT_DOUBLE, FMT_SINGLE, F80_ONE, J_BIT, K_INF,
  K_NORMAL, K_UNSUPPORTED, K_ZERO, RC_CHOP, RC_DOWN, RC_UP, abs, f80, fromBcd, fromBinary, fromBytes, fromInt,
  kindOf, negate, signOf, toBcd, toBinary, toBytes, toInt, zero, type F80, type FpCtx,
} from './float80.js';
import { CMP_EQ, CMP_GT, CMP_LT, add, compare, div, mul, prem, roundInt, scale, sqrt, xtract } from './arith.js';
import { f2xm1, fpatan, fyl2x, fyl2xp1, trig } from './transcendental.js';

// Status word bits.
export const SW_ES = 0x80;
export const SW_C0 = 0x100;
export const SW_C1 = 0x200;
export const SW_C2 = 0x400;
export const SW_C3 = 0x4000;
export const SW_B = 0x8000;
const SW_CC = SW_C0 | SW_C1 | SW_C2 | SW_C3;

const CR0_NE = 0x20;
const CR4_OSFXSR = 0x200;
const FCW_FINIT = 0x37f;
/** Control-word bits that read as zero; bit 6 reads as one (SDM vol. 1, 8.1.5). */
const FCW_RESERVED = 0xe0c0;

// EFLAGS bits FCOMI writes.
const EF_CF = 0x1;
const EF_PF = 0x4;
const EF_AF = 0x10;
const EF_ZF = 0x40;
const EF_SF = 0x80;
const EF_OF = 0x800;

/** Code packing for exec(): ModRM | escape (opcode - D8) << 8 | segment << 11 | 32-bit operand size << 14. */
export function x87Code(opcode: number, modrm: number, seg: number, o32: boolean): number {
  return (modrm & 0xff) | ((opcode - 0xd8) << 8) | ((seg & 7) << 11) | (o32 ? 1 << 14 : 0);
}

export interface X87MemOperand {
  size: number;
  write: boolean;
}

/** Size and direction of the memory operand of an x87 escape with a memory ModRM (SDM vol. 2, A.4). */
export function x87MemOperand(opcode: number, modrm: number, opsize: number): X87MemOperand {
  const r = (modrm >> 3) & 7;
  const o32 = opsize === 4;
  switch (opcode) {
    case 0xd8: return { size: 4, write: false };
    case 0xd9: {
      if (r === 4) return { size: o32 ? 28 : 14, write: false };
      if (r === 6) return { size: o32 ? 28 : 14, write: true };
      if (r === 5 || r === 7) return { size: 2, write: r === 7 };
      return { size: 4, write: r >= 2 };
    }
    case 0xda: return { size: 4, write: false };
    case 0xdb: return r >= 4 ? { size: 10, write: r === 7 } : { size: 4, write: r >= 1 }; // r 1: FISTTP
    case 0xdc: return { size: 8, write: false };
    case 0xdd: {
      if (r === 4) return { size: o32 ? 108 : 94, write: false };
      if (r === 6) return { size: o32 ? 108 : 94, write: true };
      if (r === 7) return { size: 2, write: true };
      return { size: 8, write: r >= 1 }; // r 1: FISTTP
    }
    case 0xde: return { size: 2, write: false };
    default:
      if (r === 4 || r === 6) return { size: 10, write: r === 6 };
      if (r === 5 || r === 7) return { size: 8, write: r === 7 };
      return { size: 2, write: r >= 1 }; // r 1: FISTTP
  }
}

const PREC = [24, 64, 53, 64];

// Constants (FLDL2T ... FLDLN2) with their round-down variants: SDM vol. 1, 8.3.8 says
// they are rounded per RC from 66-bit values; these are the values Intel parts give.
const L2T = f80(0x4000, 0xd49a784bcd1b8afen);
const L2T_UP = f80(0x4000, 0xd49a784bcd1b8affn);
const L2E = f80(0x3fff, 0xb8aa3b295c17f0bcn);
const L2E_DOWN = f80(0x3fff, 0xb8aa3b295c17f0bbn);
const PI = f80(0x4000, 0xc90fdaa22168c235n);
const PI_DOWN = f80(0x4000, 0xc90fdaa22168c234n);
const LG2 = f80(0x3ffd, 0x9a209a84fbcff799n);
const LG2_DOWN = f80(0x3ffd, 0x9a209a84fbcff798n);
const LN2 = f80(0x3ffe, 0xb17217f7d1cf79acn);
const LN2_DOWN = f80(0x3ffe, 0xb17217f7d1cf79abn);

/** The x87 state a debugger shows (and the diff tests compare). */
export interface FpuSnapshot {
  fcw: number;
  fsw: number;
  /** full tag word (2 bits per physical register, as FSTENV stores it) */
  ftw: number;
  /** ST(0)..ST(7) as 10-byte images */
  st: number[][];
  fip: number;
  fcs: number;
  fdp: number;
  fds: number;
  fop: number;
}

export interface FpuState {
  fcw: number;
  fsw: number;
  top: number;
  /** Physical registers R0-R7 as 10-byte images. */
  regs: number[][];
  empty: number;
  fip: number;
  fcs: number;
  fdp: number;
  fds: number;
  fop: number;
  ferr: number;
}

export class Fpu {
  fcw = FCW_FINIT;
  /** status word without TOP */
  fsw = 0;
  top = 0;
  /** physical registers R0-R7 */
  readonly regs: F80[] = Array.from({ length: 8 }, () => zero(0));
  /** bit i set: physical register i is empty */
  empty = 0xff;
  fip = 0;
  fcs = 0;
  fdp = 0;
  fds = 0;
  fop = 0;
  /** FERR# output (CR0.NE = 0 error reporting): the board wires it to IRQ 13. */
  onFerr: (level: number) => void = () => {};
  private ferr = 0;

  constructor(private readonly cpu: Cpu) {}

  /** Power-on/RESET state of a P6 (SDM vol. 3, table 9-1): FCW 0040H, FTW 5555H (+0.0 everywhere). */
  reset(): void {
    this.fcw = 0x40;
    this.fsw = 0;
    this.top = 0;
    for (let i = 0; i < 8; i++) this.regs[i] = zero(0);
    this.empty = 0;
    this.fip = this.fcs = this.fdp = this.fds = this.fop = 0;
    this.setFerr(0);
  }

  /** FNINIT (SDM vol. 2, FINIT): registers keep their contents. */
  init(): void {
    this.fcw = FCW_FINIT;
    this.fsw = 0;
    this.top = 0;
    this.empty = 0xff;
    this.fip = this.fcs = this.fdp = this.fds = this.fop = 0;
    this.setFerr(0);
  }

  /** Everything the x87 unit holds, for snapshots (registers as their 10-byte images). */
  saveState(): FpuState {
    return {
      fcw: this.fcw, fsw: this.fsw, top: this.top, regs: this.regs.map((r) => toBytes(r)), empty: this.empty,
      fip: this.fip, fcs: this.fcs, fdp: this.fdp, fds: this.fds, fop: this.fop, ferr: this.ferr,
    };
  }

  /** Restores the unit; the FERR# output is set without telling the board (it restores IRQ 13 itself). */
  loadState(s: FpuState): void {
    this.fcw = s.fcw;
    this.fsw = s.fsw;
    this.top = s.top;
    for (let i = 0; i < 8; i++) this.regs[i] = fromBytes(s.regs[i]!);
    this.empty = s.empty;
    this.fip = s.fip;
    this.fcs = s.fcs;
    this.fdp = s.fdp;
    this.fds = s.fds;
    this.fop = s.fop;
    this.ferr = s.ferr;
  }

  get statusWord(): number {
    return ((this.fsw & ~0x3800) | (this.top << 11)) & 0xffff;
  }

  /** The full tag word, computed from the contents as FSTENV/FSAVE do on a P6. */
  get tagWord(): number {
    let t = 0;
    for (let i = 0; i < 8; i++) t |= this.tagOf(i) << (2 * i);
    return t;
  }

  private tagOf(phys: number): number {
    if (this.empty & (1 << phys)) return 3;
    const k = kindOf(this.regs[phys]!);
    return k === K_ZERO ? 1 : k === K_NORMAL ? 0 : 2;
  }

  snapshot(): FpuSnapshot {
    return {
      fcw: this.fcw, fsw: this.statusWord, ftw: this.tagWord,
      st: Array.from({ length: 8 }, (_, i) => toBytes(this.regs[(this.top + i) & 7]!)),
      fip: this.fip >>> 0, fcs: this.fcs, fdp: this.fdp >>> 0, fds: this.fds, fop: this.fop,
    };
  }

  // ---- stack ----------------------------------------------------------------------------

  private phys(i: number): number {
    return (this.top + i) & 7;
  }

  isEmpty(i: number): boolean {
    return (this.empty & (1 << this.phys(i))) !== 0;
  }

  st(i: number): F80 {
    return this.regs[this.phys(i)]!;
  }

  private setSt(i: number, v: F80): void {
    const p = this.phys(i);
    this.regs[p] = v;
    this.empty &= ~(1 << p);
  }

  private push(v: F80): void {
    this.top = (this.top - 1) & 7;
    this.setSt(0, v);
  }

  private pop(): void {
    this.empty |= 1 << this.top;
    this.top = (this.top + 1) & 7;
  }

  // ---- exceptions -------------------------------------------------------------------------

  private ctx(): FpCtx {
    const c = this.fcw;
    return { rc: (c >> 10) & 3, prec: PREC[(c >> 8) & 3]!, masks: c & 0x3f, flags: 0, c1: 0 };
  }

  /** Record exception flags; an unmasked one sets ES and B (reported at the next waiting instruction). */
  private signal(flags: number): void {
    this.fsw |= flags & 0x7f;
    if (flags & ~this.fcw & 0x3f) this.fsw |= SW_ES | SW_B;
  }

  /** Pre-computation exceptions that are unmasked: the destination must not change. */
  private blocked(ctx: FpCtx): boolean {
    return (ctx.flags & ~ctx.masks & (FE_IE | FE_DE | FE_ZE)) !== 0;
  }

  private setC1(v: number): void {
    this.fsw = (this.fsw & ~SW_C1) | (v ? SW_C1 : 0);
  }

  private setCc(cc: number): void {
    this.fsw = (this.fsw & ~SW_CC) | cc;
  }

  /** Stack overflow (C1 = 1) or underflow (C1 = 0): IE and SF; true when masked. */
  private stackFault(overflow: boolean): boolean {
    this.setC1(overflow ? 1 : 0);
    this.signal(FE_IE | FE_SF);
    return (this.fcw & FE_IE) !== 0;
  }

  private setFerr(level: number): void {
    if (level !== this.ferr) {
      this.ferr = level;
      this.onFerr(level);
    }
  }

  /** Every waiting instruction: a pending unmasked exception is reported first (SDM vol. 1, 8.6). */
  checkPending(): void {
    if (!(this.fsw & SW_ES)) return;
    if (this.cpu.cr0 & CR0_NE) this.cpu.raiseException(EXC_MF, 0, false);
    // CR0.NE = 0: MS-DOS compatible reporting through FERR# (IRQ 13); execution goes on.
    this.setFerr(1);
  }

  /** After a write of the status or control word: ES/B follow the unmasked flags, FERR# follows ES. */
  private syncSummary(): void {
    if (this.fsw & ~this.fcw & 0x3f) this.fsw |= SW_ES | SW_B;
    else this.fsw &= ~(SW_ES | SW_B);
    if (!(this.fsw & SW_ES)) this.setFerr(0);
  }

  // ---- memory -------------------------------------------------------------------------------

  private get user(): boolean {
    return this.cpu.cpl === 3;
  }

  private ld16(a: number): number {
    return this.cpu.load16(a, this.user) & 0xffff;
  }

  private ld32(a: number): number {
    return this.cpu.load32(a, this.user) >>> 0;
  }

  private ld64(a: number): bigint {
    const lo = this.ld32(a);
    const hi = this.ld32((a + 4) | 0);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  private ld80(a: number): F80 {
    const sig = this.ld64(a);
    return f80(this.ld16((a + 8) | 0), sig);
  }

  /** Check that all `len` bytes at `a` can be written (page faults before any store). */
  private probe(a: number, len: number): void {
    const mmu = this.cpu.mmu;
    const user = this.user;
    mmu.translate(a, ACCESS_WRITE, user);
    let p = ((a & ~0xfff) + 0x1000) | 0;
    for (let n = Math.floor(((a & 0xfff) + len - 1) / 0x1000); n > 0; n--, p = (p + 0x1000) | 0) mmu.translate(p, ACCESS_WRITE, user);
  }

  private st16(a: number, v: number): void {
    this.cpu.store16(a, v & 0xffff, this.user);
  }

  private st32(a: number, v: number): void {
    this.cpu.store32(a, v | 0, this.user);
  }

  private st64(a: number, v: bigint): void {
    this.st32(a, Number(v & 0xffffffffn));
    this.st32((a + 4) | 0, Number((v >> 32n) & 0xffffffffn));
  }

  private stBytes(a: number, bytes: readonly number[]): void {
    let i = 0;
    for (; i + 4 <= bytes.length; i += 4) {
      this.st32((a + i) | 0, bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    }
    for (; i + 2 <= bytes.length; i += 2) this.st16((a + i) | 0, bytes[i]! | (bytes[i + 1]! << 8));
    for (; i < bytes.length; i++) this.cpu.store8((a + i) | 0, bytes[i]!, this.user);
  }

  private st80(a: number, v: F80): void {
    this.probe(a, 10);
    this.stBytes(a, toBytes(v));
  }

  // ---- execution ----------------------------------------------------------------------------

  /** FWAIT/WAIT (after the #NM check for MP and TS). */
  fwait(): void {
    this.checkPending();
  }

  /**
   * Execute one x87 escape. `code` from x87Code(); `a` the linear address and `off` the
   * offset of the memory operand (unused for register forms); `eip` the instruction's EIP.
   */
  exec(code: number, a: number, off: number, eip: number): void {
    const modrm = code & 0xff;
    const esc = (code >> 8) & 7;
    const seg = (code >> 11) & 7;
    const o32 = (code & (1 << 14)) !== 0;
    const mem = modrm < 0xc0;
    const r = (modrm >> 3) & 7;
    if (!this.isNonWaiting(esc, modrm, mem, r)) this.checkPending();
    let control: boolean;
    if (mem) control = this.execMem(esc, r, a, o32);
    else control = this.execReg(esc, modrm);
    if (!control) {
      // Non-control instructions record themselves (SDM vol. 1, 8.1.8-8.1.9).
      this.fip = eip >>> 0;
      this.fcs = this.cpu.segSel[SEG_CS]! & 0xffff;
      this.fop = ((esc << 8) | modrm) & 0x7ff;
      if (mem) {
        this.fdp = off >>> 0;
        this.fds = this.cpu.segSel[seg]! & 0xffff;
      }
    }
  }

  /** FNINIT, FNCLEX, FNSTSW, FNSTCW, FNSTENV, FNSAVE and the 8087 NOPs do not check for pending exceptions. */
  private isNonWaiting(esc: number, modrm: number, mem: boolean, r: number): boolean {
    if (mem) return (esc === 1 && (r === 6 || r === 7)) || (esc === 5 && (r === 6 || r === 7));
    if (esc === 3) return modrm >= 0xe0 && modrm <= 0xe4;
    return esc === 7 && modrm === 0xe0;
  }

  /** Returns true for control instructions (which leave FIP/FDP/FOP alone). */
  private execMem(esc: number, r: number, a: number, o32: boolean): boolean {
    switch (esc) {
      case 0: this.arithMem(r, this.loadReal(a, FMT_SINGLE)); return false;
      case 2: this.arithMem(r, { value: fromInt(BigInt(this.ld32(a) | 0)), flags: 0 }); return false;
      case 4: this.arithMem(r, this.loadReal(a, FMT_DOUBLE)); return false;
      case 6: this.arithMem(r, { value: fromInt(BigInt((this.ld16(a) << 16) >> 16)), flags: 0 }); return false;
      case 1:
        switch (r) {
          case 0: this.fldValue(this.loadReal(a, FMT_SINGLE)); return false;
          case 2: case 3: this.fstReal(a, FMT_SINGLE, r === 3); return false;
          case 4: this.loadEnv(a, o32); return true;
          case 5: {
            const v = this.ld16(a);
            this.fcw = (v & ~FCW_RESERVED) | 0x40;
            this.syncSummary();
            return true;
          }
          case 6: {
            this.probe(a, o32 ? 28 : 14);
            this.storeEnv(a, o32);
            // FNSTENV masks all exceptions after saving (SDM vol. 2, FSTENV).
            this.fcw |= 0x3f;
            this.syncSummary();
            return true;
          }
          default: this.st16(a, this.fcw); return true;
        }
      case 3:
        switch (r) {
          case 0: this.fldValue({ value: fromInt(BigInt(this.ld32(a) | 0)), flags: 0 }); return false;
          case 1: this.fistInt(a, 32, true, true); return false; // FISTTP m32int
          case 2: case 3: this.fistInt(a, 32, r === 3); return false;
          case 5: this.fldValue({ value: this.ld80(a), flags: 0 }); return false;
          default: this.fstp80(a); return false;
        }
      case 5:
        switch (r) {
          case 0: this.fldValue(this.loadReal(a, FMT_DOUBLE)); return false;
          case 1: this.fistInt(a, 64, true, true); return false; // FISTTP m64int
          case 2: case 3: this.fstReal(a, FMT_DOUBLE, r === 3); return false;
          case 4: this.frstor(a, o32); return true;
          case 6: this.fnsave(a, o32); return true;
          default: this.st16(a, this.statusWord); return true;
        }
      default:
        switch (r) {
          case 0: this.fldValue({ value: fromInt(BigInt((this.ld16(a) << 16) >> 16)), flags: 0 }); return false;
          case 1: this.fistInt(a, 16, true, true); return false; // FISTTP m16int
          case 2: case 3: this.fistInt(a, 16, r === 3); return false;
          case 4: {
            const b: number[] = [];
            for (let i = 0; i < 10; i++) b.push(this.cpu.load8((a + i) | 0, this.user));
            this.fldValue({ value: fromBcd(b), flags: 0 });
            return false;
          }
          case 5: this.fldValue({ value: fromInt(BigInt.asIntN(64, this.ld64(a))), flags: 0 }); return false;
          case 6: this.fbstp(a); return false;
          default: this.fistInt(a, 64, true); return false;
        }
    }
  }

  private loadReal(a: number, fmt: typeof FMT_SINGLE): { value: F80; flags: number } {
    return fromBinary(fmt === FMT_SINGLE ? BigInt(this.ld32(a)) : this.ld64(a), fmt);
  }

  /** FLD/FILD/FBLD: push a loaded value (SNaN and denormal loads signal IE/DE). */
  private fldValue(v: { value: F80; flags: number }): void {
    if (!this.isEmpty(7)) {
      if (this.stackFault(true)) this.push(DEFAULT_NAN);
      return;
    }
    this.setC1(0);
    this.signal(v.flags);
    if (v.flags & ~this.fcw & (FE_IE | FE_DE)) return;
    this.push(v.value);
  }

  private fstReal(a: number, fmt: typeof FMT_SINGLE, pop: boolean): void {
    const ctx = this.ctx();
    let bits: bigint;
    let store: boolean;
    if (this.isEmpty(0)) {
      this.probe(a, fmt.p === 24 ? 4 : 8);
      if (!this.stackFault(false)) return;
      bits = fmt === FMT_SINGLE ? 0xffc00000n : 0xfff8000000000000n;
      store = true;
    } else {
      const p = toBinary(ctx, this.st(0), fmt);
      bits = p.bits;
      store = p.store;
    }
    if (store) {
      if (fmt === FMT_SINGLE) this.st32(a, Number(bits));
      else {
        this.probe(a, 8);
        this.st64(a, bits);
      }
    }
    if (this.isEmpty(0)) {
      if (pop) this.pop();
      return;
    }
    this.setC1(ctx.c1);
    this.signal(ctx.flags);
    if (store && pop) this.pop();
  }

  private fstp80(a: number): void {
    if (this.isEmpty(0)) {
      this.probe(a, 10);
      if (!this.stackFault(false)) return;
      this.st80(a, DEFAULT_NAN);
      this.pop();
      return;
    }
    this.st80(a, this.st(0));
    this.setC1(0);
    this.pop();
  }

  /** FIST/FISTP, and FISTTP (`truncate`: rounds toward zero whatever FCW.RC says). */
  private fistInt(a: number, bits: number, pop: boolean, truncate = false): void {
    const len = bits / 8;
    const ctx = this.ctx();
    if (truncate) ctx.rc = 3;
    let value: bigint;
    let store: boolean;
    const empty = this.isEmpty(0);
    if (empty) {
      this.probe(a, len);
      if (!this.stackFault(false)) return;
      value = -(1n << BigInt(bits - 1));
      store = true;
    } else {
      const r = toInt(ctx, this.st(0), bits);
      value = r.value;
      store = r.store;
    }
    if (store) {
      const u = BigInt.asUintN(bits, value);
      if (bits === 16) this.st16(a, Number(u));
      else if (bits === 32) this.st32(a, Number(u));
      else {
        this.probe(a, 8);
        this.st64(a, u);
      }
    }
    if (!empty) {
      this.setC1(ctx.c1);
      this.signal(ctx.flags);
    }
    if (store && pop) this.pop();
  }

  private fbstp(a: number): void {
    const ctx = this.ctx();
    const empty = this.isEmpty(0);
    this.probe(a, 10);
    let bytes: number[];
    let store: boolean;
    if (empty) {
      if (!this.stackFault(false)) return;
      bytes = [0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff];
      store = true;
    } else {
      const r = toBcd(ctx, this.st(0));
      bytes = r.bytes;
      store = r.store;
    }
    if (store) this.stBytes(a, bytes);
    if (!empty) {
      this.setC1(ctx.c1);
      this.signal(ctx.flags);
    }
    if (store) this.pop();
  }

  /** D8/DA/DC/DE with a memory operand: ST(0) = ST(0) op m (or FCOM/FCOMP/FICOM/FICOMP). */
  private arithMem(r: number, m: { value: F80; flags: number }): void {
    if (r === 2 || r === 3) {
      this.fcom(0, m.value, r === 3 ? 1 : 0, false, m.flags);
      return;
    }
    if (this.isEmpty(0)) {
      if (this.stackFault(false)) this.setSt(0, DEFAULT_NAN);
      return;
    }
    const ctx = this.ctx();
    ctx.flags |= m.flags;
    const res = this.compute(ctx, r, this.st(0), m.value);
    this.finishArith(ctx, 0, res, false);
  }

  /** x op y for ModRM.reg r: 0 add, 1 mul, 4 sub (x - y), 5 subr (y - x), 6 div (x / y), 7 divr (y / x). */
  private compute(ctx: FpCtx, r: number, x: F80, y: F80): F80 {
    switch (r) {
      case 0: return add(ctx, x, y, false);
      case 1: return mul(ctx, x, y);
      case 4: return add(ctx, x, y, true);
      case 5: return add(ctx, y, x, true);
      case 6: return div(ctx, x, y);
      default: return div(ctx, y, x);
    }
  }

  private finishArith(ctx: FpCtx, dest: number, res: F80, popAfter: boolean): void {
    this.signal(ctx.flags);
    if (this.blocked(ctx)) return;
    this.setC1(ctx.c1);
    this.setSt(dest, res);
    if (popAfter) this.pop();
  }

  /** FCOM family: compare ST(0) with `src`; pops 0, 1 or 2 times. */
  private fcom(_st0: number, src: F80 | null, pops: number, quiet: boolean, loadFlags = 0, srcIndex = -1): void {
    if (this.isEmpty(0) || (srcIndex >= 0 && this.isEmpty(srcIndex))) {
      if (!this.stackFault(false)) return;
      this.setCc(SW_C0 | SW_C2 | SW_C3);
      for (let i = 0; i < pops; i++) this.pop();
      return;
    }
    const ctx = this.ctx();
    ctx.flags |= loadFlags;
    const rel = compare(ctx, this.st(0), src ?? this.st(srcIndex), quiet);
    this.signal(ctx.flags);
    if (this.blocked(ctx)) return;
    this.setCc(ccOf(rel));
    for (let i = 0; i < pops; i++) this.pop();
  }

  /** FCOMI/FUCOMI(P): EFLAGS ZF/PF/CF from the comparison; OF, SF, AF cleared. */
  private fcomi(i: number, quiet: boolean, pop: boolean): void {
    const mask = EF_ZF | EF_PF | EF_CF | EF_OF | EF_SF | EF_AF;
    if (this.isEmpty(0) || this.isEmpty(i)) {
      if (!this.stackFault(false)) return;
      this.cpu.setEflags(EF_ZF | EF_PF | EF_CF, mask);
      if (pop) this.pop();
      return;
    }
    const ctx = this.ctx();
    const rel = compare(ctx, this.st(0), this.st(i), quiet);
    this.signal(ctx.flags);
    if (this.blocked(ctx)) return;
    this.setC1(0);
    const f = rel === CMP_GT ? 0 : rel === CMP_LT ? EF_CF : rel === CMP_EQ ? EF_ZF : EF_ZF | EF_PF | EF_CF;
    this.cpu.setEflags(f, mask);
    if (pop) this.pop();
  }

  private execReg(esc: number, modrm: number): boolean {
    const i = modrm & 7;
    const r = (modrm >> 3) & 7;
    switch (esc) {
      case 0:
        if (r === 2 || r === 3) this.fcom(0, null, r === 3 ? 1 : 0, false, 0, i);
        else this.arithReg(r, 0, i, false);
        return false;
      case 4:
        if (r === 2 || r === 3) this.fcom(0, null, r === 3 ? 1 : 0, false, 0, i); // FCOM2/FCOMP3 aliases
        else this.arithReg(r >= 4 ? r ^ 1 : r, i, i, false);
        return false;
      case 6:
        if (r === 2) this.fcom(0, null, 1, false, 0, i); // FCOMP5 alias
        else if (r === 3) this.fcom(0, null, 2, false, 0, 1); // FCOMPP (DE D9)
        else this.arithReg(r >= 4 ? r ^ 1 : r, i, i, true);
        return false;
      case 1: return this.execD9(modrm, i, r);
      case 2:
        if (modrm === 0xe9) this.fcom(0, null, 2, true, 0, 1); // FUCOMPP
        else this.fcmov(i, r, false);
        return false;
      case 3:
        if (modrm < 0xe0) this.fcmov(i, r, true);
        else if (modrm === 0xe2) {
          this.fsw &= ~(0x7f | SW_ES | SW_B); // FNCLEX
          this.setFerr(0);
          return true;
        } else if (modrm === 0xe3) {
          this.init();
          return true;
        } else if (modrm < 0xe8) return true; // FNENI, FNDISI, FNSETPM: no-ops since the 387
        else this.fcomi(i, r === 5, false);
        return false;
      case 5:
        switch (r) {
          case 0: this.empty |= 1 << this.phys(i); return false; // FFREE
          case 1: this.fxch(i); return false; // FXCH4 alias
          case 2: case 3: this.fstReg(i, r === 3); return false;
          case 4: this.fcom(0, null, 0, true, 0, i); return false; // FUCOM
          default: this.fcom(0, null, 1, true, 0, i); return false; // FUCOMP
        }
      default:
        switch (r) {
          case 0: this.empty |= 1 << this.phys(i); this.pop(); return false; // FFREEP
          case 1: this.fxch(i); return false; // FXCH7 alias
          case 2: case 3: this.fstReg(i, true); return false; // FSTP8/FSTP9 aliases
          case 4: // FNSTSW AX
            this.cpu.regs[0] = (this.cpu.regs[0]! & ~0xffff) | this.statusWord;
            return true;
          default: this.fcomi(i, r === 5, true); return false;
        }
    }
  }

  /** D8/DC/DE register forms: ST(dest) = x op y with x = ST(dest), y = ST(other). */
  private arithReg(r: number, dest: number, sti: number, popAfter: boolean): void {
    const other = dest === 0 ? sti : 0;
    if (this.isEmpty(dest) || this.isEmpty(other)) {
      if (!this.stackFault(false)) return;
      this.setSt(dest, DEFAULT_NAN);
      if (popAfter) this.pop();
      return;
    }
    const ctx = this.ctx();
    const res = this.compute(ctx, r, this.st(dest), this.st(other));
    this.finishArith(ctx, dest, res, popAfter);
  }

  private fcmov(i: number, r: number, negate: boolean): void {
    if (this.isEmpty(0) || this.isEmpty(i)) {
      if (this.stackFault(false)) this.setSt(0, DEFAULT_NAN);
      return;
    }
    const f = this.cpu.getEflags();
    let cond: boolean;
    switch (r & 3) {
      case 0: cond = (f & EF_CF) !== 0; break;
      case 1: cond = (f & EF_ZF) !== 0; break;
      case 2: cond = (f & (EF_CF | EF_ZF)) !== 0; break;
      default: cond = (f & EF_PF) !== 0;
    }
    this.setC1(0);
    if (cond !== negate) this.setSt(0, this.st(i));
  }

  private fxch(i: number): void {
    let a = this.st(0);
    let b = this.st(i);
    if (this.isEmpty(0) || this.isEmpty(i)) {
      if (!this.stackFault(false)) return;
      if (this.isEmpty(0)) a = DEFAULT_NAN;
      if (this.isEmpty(i)) b = DEFAULT_NAN;
    } else this.setC1(0);
    this.setSt(0, b);
    this.setSt(i, a);
  }

  private fstReg(i: number, pop: boolean): void {
    if (this.isEmpty(0)) {
      if (!this.stackFault(false)) return;
      this.setSt(i, DEFAULT_NAN);
    } else {
      this.setC1(0);
      this.setSt(i, this.st(0));
    }
    if (pop) this.pop();
  }

  private execD9(modrm: number, i: number, r: number): boolean {
    if (r === 0) {
      // FLD ST(i): the source is read before the push
      const empty = this.isEmpty(i);
      const v = this.st(i);
      if (!this.isEmpty(7)) {
        if (this.stackFault(true)) this.push(DEFAULT_NAN);
        return false;
      }
      if (empty) {
        if (this.stackFault(false)) this.push(DEFAULT_NAN);
        return false;
      }
      this.setC1(0);
      this.push(v);
      return false;
    }
    if (r === 1) {
      this.fxch(i);
      return false;
    }
    if (r === 2) return true; // FNOP: a control instruction (SDM vol. 1, 8.3.12), FIP unchanged
    if (r === 3) {
      this.fstReg(i, true); // FSTP1 alias
      return false;
    }
    switch (modrm) {
      case 0xe0: case 0xe1: { // FCHS, FABS: sign only, no exceptions
        if (this.isEmpty(0)) {
          if (this.stackFault(false)) this.setSt(0, DEFAULT_NAN);
          return false;
        }
        this.setC1(0);
        this.setSt(0, modrm === 0xe0 ? negate(this.st(0)) : abs(this.st(0)));
        return false;
      }
      case 0xe4: this.fcom(0, zero(0), 0, false); return false; // FTST
      case 0xe5: this.fxam(); return false;
      case 0xe8: this.fldConst(F80_ONE); return false;
      case 0xe9: this.fldConst(this.rc() === RC_UP ? L2T_UP : L2T); return false;
      case 0xea: this.fldConst(this.roundsDown() ? L2E_DOWN : L2E); return false;
      case 0xeb: this.fldConst(this.roundsDown() ? PI_DOWN : PI); return false;
      case 0xec: this.fldConst(this.roundsDown() ? LG2_DOWN : LG2); return false;
      case 0xed: this.fldConst(this.roundsDown() ? LN2_DOWN : LN2); return false;
      case 0xee: this.fldConst(zero(0)); return false;
      case 0xf0: this.unary((c, x) => f2xm1(c, x)); return false;
      case 0xf1: this.binaryPop((c, x, y) => fyl2x(c, x, y)); return false;
      case 0xf2: this.trigOp('tan'); return false;
      case 0xf3: this.binaryPop((c, x, y) => fpatan(c, x, y)); return false;
      case 0xf4: this.fxtract(); return false;
      case 0xf5: this.fprem(true); return false;
      case 0xf6: case 0xf7: // FDECSTP, FINCSTP
        this.top = (this.top + (modrm === 0xf7 ? 1 : -1)) & 7;
        this.setCc(0);
        return false;
      case 0xf8: this.fprem(false); return false;
      case 0xf9: this.binaryPop((c, x, y) => fyl2xp1(c, x, y)); return false;
      case 0xfa: this.unary((c, x) => sqrt(c, x)); return false;
      case 0xfb: this.trigOp('sincos'); return false;
      case 0xfc: this.unary((c, x) => roundInt(c, x)); return false;
      case 0xfd: this.fscale(); return false;
      case 0xfe: this.trigOp('sin'); return false;
      default: this.trigOp('cos'); return false;
    }
  }

  private rc(): number {
    return (this.fcw >> 10) & 3;
  }

  private roundsDown(): boolean {
    const rc = this.rc();
    return rc === RC_DOWN || rc === RC_CHOP;
  }

  private fldConst(v: F80): void {
    this.fldValue({ value: v, flags: 0 });
  }

  private unary(fn: (c: FpCtx, x: F80) => F80): void {
    if (this.isEmpty(0)) {
      if (this.stackFault(false)) this.setSt(0, DEFAULT_NAN);
      return;
    }
    const ctx = this.ctx();
    const res = fn(ctx, this.st(0));
    this.finishArith(ctx, 0, res, false);
  }

  /** FYL2X, FYL2XP1, FPATAN: ST(1) = f(ST(0), ST(1)), then pop. */
  private binaryPop(fn: (c: FpCtx, x: F80, y: F80) => F80): void {
    if (this.isEmpty(0) || this.isEmpty(1)) {
      if (!this.stackFault(false)) return;
      this.setSt(1, DEFAULT_NAN);
      this.pop();
      return;
    }
    const ctx = this.ctx();
    const res = fn(ctx, this.st(0), this.st(1));
    this.finishArith(ctx, 1, res, true);
  }

  private trigOp(op: 'sin' | 'cos' | 'sincos' | 'tan'): void {
    const pushes = op === 'sincos' || op === 'tan';
    if (this.isEmpty(0)) {
      if (!this.stackFault(false)) return;
      this.setSt(0, DEFAULT_NAN);
      if (pushes) this.push(DEFAULT_NAN);
      return;
    }
    if (pushes && !this.isEmpty(7)) {
      if (!this.stackFault(true)) return;
      this.setSt(0, DEFAULT_NAN);
      this.push(DEFAULT_NAN);
      return;
    }
    const ctx = this.ctx();
    const r = trig(ctx, this.st(0), op);
    if (!r.inRange) {
      this.fsw |= SW_C2;
      return;
    }
    this.signal(ctx.flags);
    if (this.blocked(ctx)) return;
    this.fsw &= ~SW_C2;
    this.setC1(ctx.c1);
    this.setSt(0, r.values[0]!);
    if (pushes) this.push(r.values[1]!);
  }

  private fxtract(): void {
    if (this.isEmpty(0)) {
      if (!this.stackFault(false)) return;
      this.setSt(0, DEFAULT_NAN);
      this.push(DEFAULT_NAN);
      return;
    }
    if (!this.isEmpty(7)) {
      if (!this.stackFault(true)) return;
      this.setSt(0, DEFAULT_NAN);
      this.push(DEFAULT_NAN);
      return;
    }
    const ctx = this.ctx();
    const [e, s] = xtract(ctx, this.st(0));
    this.signal(ctx.flags);
    if (this.blocked(ctx)) return;
    this.setC1(0);
    this.setSt(0, e);
    this.push(s);
  }

  private fscale(): void {
    if (this.isEmpty(0) || this.isEmpty(1)) {
      if (this.stackFault(false)) this.setSt(0, DEFAULT_NAN);
      return;
    }
    const ctx = this.ctx();
    const res = scale(ctx, this.st(0), this.st(1));
    this.finishArith(ctx, 0, res, false);
  }

  private fprem(ieee: boolean): void {
    if (this.isEmpty(0) || this.isEmpty(1)) {
      if (this.stackFault(false)) this.setSt(0, DEFAULT_NAN);
      return;
    }
    const ctx = this.ctx();
    const r = prem(ctx, this.st(0), this.st(1), ieee);
    this.signal(ctx.flags);
    if (this.blocked(ctx)) return;
    this.setCc(r.cc);
    this.setSt(0, r.value);
  }

  private fxam(): void {
    const x = this.st(0);
    let cc = signOf(x) ? SW_C1 : 0;
    if (this.isEmpty(0)) cc |= SW_C3 | SW_C0;
    else {
      switch (kindOf(x)) {
        case K_UNSUPPORTED: break;
        case 4: case 5: cc |= SW_C0; break; // NaN
        case K_NORMAL: cc |= SW_C2; break;
        case K_INF: cc |= SW_C2 | SW_C0; break;
        case K_ZERO: cc |= SW_C3; break;
        default: cc |= SW_C3 | SW_C2; // denormal
      }
    }
    this.setCc(cc);
  }

  // ---- environment ----------------------------------------------------------------------------

  private get protectedLayout(): boolean {
    return this.cpu.protectedMode && !this.cpu.v86;
  }

  /** FNSTENV image (SDM vol. 1, figures 8-9 to 8-12); the reserved upper halves read as ones. */
  envImage(o32: boolean): number[] {
    const w: number[] = [];
    const put16 = (v: number) => w.push(v & 0xff, (v >> 8) & 0xff);
    const put32 = (v: number) => w.push(v & 0xff, (v >> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
    const sw = this.statusWord;
    const tw = this.tagWord;
    if (this.protectedLayout) {
      if (o32) {
        put32(0xffff0000 | this.fcw);
        put32(0xffff0000 | sw);
        put32(0xffff0000 | tw);
        put32(this.fip);
        put32(this.fcs | (this.fop << 16));
        put32(this.fdp);
        put32(0xffff0000 | this.fds);
      } else {
        for (const v of [this.fcw, sw, tw, this.fip, this.fcs, this.fdp, this.fds]) put16(v);
      }
    } else {
      const ip = ((this.fcs << 4) + this.fip) >>> 0;
      const dp = ((this.fds << 4) + this.fdp) >>> 0;
      if (o32) {
        put32(0xffff0000 | this.fcw);
        put32(0xffff0000 | sw);
        put32(0xffff0000 | tw);
        put32(0xffff0000 | (ip & 0xffff));
        put32(((ip & 0xffff0000) >>> 4) | this.fop);
        put32(0xffff0000 | (dp & 0xffff));
        put32((dp & 0xffff0000) >>> 4);
      } else {
        for (const v of [this.fcw, sw, tw, ip & 0xffff, ((ip & 0xf0000) >>> 4) | this.fop, dp & 0xffff, (dp & 0xf0000) >>> 4]) put16(v);
      }
    }
    return w;
  }

  private storeEnv(a: number, o32: boolean): void {
    this.stBytes(a, this.envImage(o32));
  }

  /** Read an environment image; returns its length. Only the tag word's "empty" encoding is kept. */
  private readEnv(a: number, o32: boolean): { apply: () => void; len: number } {
    const rd = (k: number) => (o32 ? this.ld32((a + 4 * k) | 0) : this.ld16((a + 2 * k) | 0));
    const v = [0, 1, 2, 3, 4, 5, 6].map(rd);
    const prot = this.protectedLayout;
    return {
      len: o32 ? 28 : 14,
      apply: () => {
        this.fcw = (v[0]! & ~FCW_RESERVED & 0xffff) | 0x40;
        const sw = v[1]! & 0xffff;
        this.fsw = sw & ~0x3800;
        this.top = (sw >> 11) & 7;
        const tw = v[2]! & 0xffff;
        this.empty = 0;
        for (let i = 0; i < 8; i++) if (((tw >> (2 * i)) & 3) === 3) this.empty |= 1 << i;
        if (prot) {
          this.fip = o32 ? v[3]! >>> 0 : v[3]! & 0xffff;
          this.fcs = v[4]! & 0xffff;
          this.fop = o32 ? (v[4]! >>> 16) & 0x7ff : 0;
          this.fdp = o32 ? v[5]! >>> 0 : v[5]! & 0xffff;
          this.fds = v[6]! & 0xffff;
        } else {
          const hiShift = o32 ? 0x0ffff000 : 0xf000;
          this.fip = (((v[4]! & hiShift) << 4) | (v[3]! & 0xffff)) >>> 0;
          this.fop = v[4]! & 0x7ff;
          this.fdp = (((v[6]! & hiShift) << 4) | (v[5]! & 0xffff)) >>> 0;
          this.fcs = 0;
          this.fds = 0;
        }
        this.syncSummary();
      },
    };
  }

  private loadEnv(a: number, o32: boolean): void {
    this.readEnv(a, o32).apply();
  }

  private fnsave(a: number, o32: boolean): void {
    const len = o32 ? 28 : 14;
    this.probe(a, len + 80);
    const bytes = this.envImage(o32);
    for (let i = 0; i < 8; i++) bytes.push(...toBytes(this.st(i)));
    this.stBytes(a, bytes);
    this.init();
  }

  private frstor(a: number, o32: boolean): void {
    const env = this.readEnv(a, o32);
    const regs: F80[] = [];
    for (let i = 0; i < 8; i++) regs.push(this.ld80((a + env.len + 10 * i) | 0));
    env.apply();
    for (let i = 0; i < 8; i++) this.regs[(this.top + i) & 7] = regs[i]!;
  }

  // ---- FXSAVE / FXRSTOR (legacy region) -------------------------------------------------------
  // With CR4.OSFXSR the image also holds MXCSR, MXCSR_MASK and XMM0-7 (QEMU 7.2 saves and
  // loads them only then; the SDM leaves it to the implementation).

  /** FXSAVE m512 (SDM vol. 2, FXSAVE, table 3-53). */
  fxsave(a: number): void {
    if (a & 15) this.cpu.raiseException(EXC_GP, 0);
    this.probe(a, 512);
    let ftw = 0;
    for (let i = 0; i < 8; i++) if (!(this.empty & (1 << i))) ftw |= 1 << i;
    const head: number[] = [];
    const put16 = (v: number) => head.push(v & 0xff, (v >> 8) & 0xff);
    const put32 = (v: number) => head.push(v & 0xff, (v >> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
    put16(this.fcw);
    put16(this.statusWord);
    head.push(ftw, 0);
    put16(this.fop);
    put32(this.fip);
    put16(this.fcs);
    put16(0);
    put32(this.fdp);
    put16(this.fds);
    put16(0);
    this.stBytes(a, head);
    for (let i = 0; i < 8; i++) this.stBytes((a + 32 + 16 * i) | 0, toBytes(this.st(i)));
    if (this.cpu.cr4 & CR4_OSFXSR) {
      const simd = this.cpu.simd;
      this.st32((a + 24) | 0, simd.mxcsr);
      this.st32((a + 28) | 0, MXCSR_MASK);
      for (let k = 0; k < 32; k++) this.st32((a + 160 + 4 * k) | 0, simd.I[k]!);
    }
  }

  /** FXRSTOR m512. */
  fxrstor(a: number): void {
    if (a & 15) this.cpu.raiseException(EXC_GP, 0);
    const fcw = this.ld16(a);
    const fsw = this.ld16((a + 2) | 0);
    const ftw = this.cpu.load8((a + 4) | 0, this.user);
    const fop = this.ld16((a + 6) | 0);
    const fip = this.ld32((a + 8) | 0);
    const fcs = this.ld16((a + 12) | 0);
    const fdp = this.ld32((a + 16) | 0);
    const fds = this.ld16((a + 20) | 0);
    const regs: F80[] = [];
    for (let i = 0; i < 8; i++) regs.push(this.ld80((a + 32 + 16 * i) | 0));
    const sse = (this.cpu.cr4 & CR4_OSFXSR) !== 0;
    const mxcsr = sse ? this.ld32((a + 24) | 0) : 0;
    const xmm: number[] = [];
    if (sse) for (let k = 0; k < 32; k++) xmm.push(this.ld32((a + 160 + 4 * k) | 0) | 0);
    if (sse) {
      this.cpu.simd.ldmxcsr(mxcsr);
      this.cpu.simd.I.set(xmm);
    }
    this.fcw = (fcw & ~FCW_RESERVED) | 0x40;
    this.fsw = fsw & ~0x3800;
    this.top = (fsw >> 11) & 7;
    this.empty = ~ftw & 0xff;
    this.fop = fop & 0x7ff;
    this.fip = fip;
    this.fcs = fcs;
    this.fdp = fdp;
    this.fds = fds;
    for (let i = 0; i < 8; i++) this.regs[(this.top + i) & 7] = regs[i]!;
    this.syncSummary();
  }

  /** Restore a snapshot (debugger writes, tests). */
  loadSnapshot(s: FpuSnapshot): void {
    this.fcw = s.fcw;
    this.fsw = s.fsw & ~0x3800;
    this.top = (s.fsw >> 11) & 7;
    this.empty = 0;
    for (let i = 0; i < 8; i++) if (((s.ftw >> (2 * i)) & 3) === 3) this.empty |= 1 << i;
    for (let i = 0; i < 8; i++) this.regs[(this.top + i) & 7] = fromBytes(s.st[i]!);
    this.fip = s.fip;
    this.fcs = s.fcs;
    this.fdp = s.fdp;
    this.fds = s.fds;
    this.fop = s.fop;
  }
}

function ccOf(rel: number): number {
  switch (rel) {
    case CMP_GT: return 0;
    case CMP_LT: return SW_C0;
    case CMP_EQ: return SW_C3;
    default: return SW_C0 | SW_C2 | SW_C3;
  }
}

export { FE_PE, J_BIT };
