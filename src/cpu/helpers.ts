// Helper functions of complex instructions, called by translated code as `H.name(...)`.
// They operate on the CPU state directly and keep the precise-exception rule: checks and
// faulting accesses first, state changes after.
import type { Cpu } from './cpu.js';
import { HF_SEG_SHIFT } from './cpu.js';
import {
  CC_EFLAGS, CC_LOGIC, CC_SUB, FLAG_AF, FLAG_CF, FLAG_IF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF,
  FLAG_VM, FLAG_RF, FLAG_DF, FLAG_TF, FLAG_VIF, FLAG_VIP, PARITY, ARITH_FLAGS, ccFor, computeFlags, testCondition,
} from './lazy-flags.js';
import { EXC_BR, EXC_DE, EXC_GP, EXC_UD } from './cpu-exception.js';
import {
  INT_HARDWARE, INT_ICEBP, INT_SOFTWARE, INT_SOFTWARE_EXC, descriptorVisible, doInterrupt, farCall, farJump,
  farReturn, interruptReturn, loadLdt, loadSegment, loadTr, tryLoadDescriptor,
} from './protection.js';
import { SEG_ES, SEG_SS, REP_E } from './instr.js';
import { DESC_B, DESC_CODE, DESC_R, DESC_W, SEGCLASS_FLAT, SEG_LDTR, SEG_TR } from './segment.js';
import { CR0_PE, CR0_PG, CR0_TS, CR4_TSD, CR4_PCE, CR4_DE, CR4_VME, CR4_PVI, CR4_PAE } from './mmu.js';
import { cpuidLeaf, readMsr, writeMsr } from './cpuid-msr.js';

/** CR4.OSFXSR: dropped on writes on a model without SSE (as QEMU 7.2). */
const CR4_OSFXSR = 0x200;
const CPUID_SSE = 1 << 25;

void INT_HARDWARE;

const TWO32 = 4294967296;
const BULK_MOVS = 0;
const BULK_STOS = 1;
const BULK_CMPS = 2;
const BULK_SCAS = 3;

export class Helpers {
  constructor(private readonly c: Cpu) {}

  // ---- flags ------------------------------------------------------------------------

  cond(cc: number): boolean {
    const c = this.c;
    return testCondition(cc, c.ccOp, c.ccDst, c.ccSrc, c.ccAux);
  }

  private arith(): number {
    const c = this.c;
    return computeFlags(c.ccOp, c.ccDst, c.ccSrc, c.ccAux);
  }

  private setArith(f: number): void {
    this.c.ccSrc = f & ARITH_FLAGS;
    this.c.ccOp = CC_EFLAGS;
  }

  setCf(v: number): void {
    this.setArith((this.arith() & ~FLAG_CF) | (v ? FLAG_CF : 0));
  }

  setZf(v: number): void {
    this.setArith((this.arith() & ~FLAG_ZF) | (v ? FLAG_ZF : 0));
  }

  setCfOf(cf: number, of: number): void {
    this.setArith((this.arith() & ~(FLAG_CF | FLAG_OF)) | (cf ? FLAG_CF : 0) | (of ? FLAG_OF : 0));
  }

  sahf(): void {
    const ah = (this.c.regs[0]! >> 8) & 0xff;
    this.setArith((this.arith() & ~0xd5) | (ah & 0xd5));
  }

  lahf(): number {
    return (this.arith() & 0xd5) | 2;
  }

  // ---- rotates through carry and 16-bit double shifts ------------------------------------

  private rcl(x: number, n: number, bits: number): number {
    const k = bits === 32 ? n : n % (bits + 1);
    if (k === 0) return x;
    const mask = bits === 32 ? -1 : (1 << bits) - 1;
    let cf = this.c.getCarry();
    let v = x & mask;
    for (let i = 0; i < k; i++) {
      const out = (v >>> (bits - 1)) & 1;
      v = ((v << 1) | cf) & mask;
      cf = out;
    }
    const msb = (v >>> (bits - 1)) & 1;
    this.setCfOf(cf, msb ^ cf);
    return bits === 32 ? v | 0 : v;
  }

  private rcr(x: number, n: number, bits: number): number {
    const k = bits === 32 ? n : n % (bits + 1);
    if (k === 0) return x;
    const mask = bits === 32 ? -1 : (1 << bits) - 1;
    let cf = this.c.getCarry();
    let v = x & mask;
    const of = ((v >>> (bits - 1)) & 1) ^ cf;
    for (let i = 0; i < k; i++) {
      const out = v & 1;
      v = ((v >>> 1) | (cf << (bits - 1))) & mask;
      cf = out;
    }
    this.setCfOf(cf, of);
    return bits === 32 ? v | 0 : v;
  }

  rcl8(x: number, n: number): number { return this.rcl(x, n, 8); }
  rcl16(x: number, n: number): number { return this.rcl(x, n, 16); }
  rcl32(x: number, n: number): number { return this.rcl(x, n, 32); }
  rcr8(x: number, n: number): number { return this.rcr(x, n, 8); }
  rcr16(x: number, n: number): number { return this.rcr(x, n, 16); }
  rcr32(x: number, n: number): number { return this.rcr(x, n, 32); }

  /** 16-bit SHLD; counts above 16 shift dest:src:dest as Intel parts do. */
  shld16(x: number, y: number, n: number): number {
    const val = x * TWO32 + y * 65536 + x;
    const r = Math.floor(val / 2 ** (32 - n)) % 65536;
    const cf = Math.floor(val / 2 ** (48 - n)) % 2;
    const c = this.c;
    c.ccDst = r;
    c.ccSrc = cf << 15;
    c.ccOp = ccFor(22 /* CC_SHL */, 2);
    return r;
  }

  shrd16(x: number, y: number, n: number): number {
    const val = x * TWO32 + y * 65536 + x;
    const r = Math.floor(val / 2 ** n) % 65536;
    const cf = Math.floor(val / 2 ** (n - 1)) % 2;
    const c = this.c;
    c.ccDst = r;
    c.ccSrc = cf | (x & 0x8000);
    c.ccOp = ccFor(25 /* CC_SAR */, 2);
    return r;
  }

  // ---- multiply / divide --------------------------------------------------------------

  /** High 32 bits of the unsigned 64-bit product. */
  mulhu(a: number, b: number): number {
    a >>>= 0;
    b >>>= 0;
    const a0 = a & 0xffff;
    const a1 = a >>> 16;
    const b0 = b & 0xffff;
    const b1 = b >>> 16;
    const lo = a0 * b0;
    const m1 = a1 * b0;
    const m2 = a0 * b1;
    const mid = (lo >>> 16) + (m1 & 0xffff) + (m2 & 0xffff);
    return (a1 * b1 + (m1 >>> 16) + (m2 >>> 16) + (mid >>> 16)) | 0;
  }

  /** High 32 bits of the signed 64-bit product. */
  mulhs(a: number, b: number): number {
    let h = this.mulhu(a, b);
    if (a < 0) h = (h - b) | 0;
    if (b < 0) h = (h - a) | 0;
    return h;
  }

  div8(v: number): void {
    const R = this.c.regs;
    if (v === 0) this.c.raiseException(EXC_DE);
    const ax = R[0]! & 0xffff;
    const q = Math.floor(ax / v);
    if (q > 0xff) this.c.raiseException(EXC_DE);
    R[0] = (R[0]! & -65536) | ((ax % v) << 8) | q;
  }

  div16(v: number): void {
    const R = this.c.regs;
    if (v === 0) this.c.raiseException(EXC_DE);
    const n = ((R[2]! & 0xffff) * 65536) + (R[0]! & 0xffff);
    const q = Math.floor(n / v);
    if (q > 0xffff) this.c.raiseException(EXC_DE);
    R[0] = (R[0]! & -65536) | q;
    R[2] = (R[2]! & -65536) | (n % v);
  }

  div32(v: number): void {
    const R = this.c.regs;
    const d = v >>> 0;
    if (d === 0) this.c.raiseException(EXC_DE);
    const hi = R[2]! >>> 0;
    const lo = R[0]! >>> 0;
    if (hi >= d) this.c.raiseException(EXC_DE);
    if (hi === 0) {
      R[0] = Math.floor(lo / d) | 0;
      R[2] = lo % d | 0;
      return;
    }
    const n = (BigInt(hi) << 32n) | BigInt(lo);
    const bd = BigInt(d);
    R[0] = Number(n / bd) | 0;
    R[2] = Number(n % bd) | 0;
  }

  idiv8(v: number): void {
    const R = this.c.regs;
    const d = (v << 24) >> 24;
    if (d === 0) this.c.raiseException(EXC_DE);
    const n = (R[0]! << 16) >> 16;
    const q = Math.trunc(n / d);
    if (q > 127 || q < -128) this.c.raiseException(EXC_DE);
    const r = n % d;
    R[0] = (R[0]! & -65536) | ((r & 0xff) << 8) | (q & 0xff);
  }

  idiv16(v: number): void {
    const R = this.c.regs;
    const d = (v << 16) >> 16;
    if (d === 0) this.c.raiseException(EXC_DE);
    const n = ((R[2]! & 0xffff) << 16) | (R[0]! & 0xffff);
    const q = Math.trunc(n / d);
    if (q > 32767 || q < -32768) this.c.raiseException(EXC_DE);
    const r = n % d;
    R[0] = (R[0]! & -65536) | (q & 0xffff);
    R[2] = (R[2]! & -65536) | (r & 0xffff);
  }

  idiv32(v: number): void {
    const R = this.c.regs;
    const d = v | 0;
    if (d === 0) this.c.raiseException(EXC_DE);
    const hi = R[2]! | 0;
    const lo = R[0]! | 0;
    if (hi === lo >> 31) {
      if (lo === -0x80000000 && d === -1) this.c.raiseException(EXC_DE);
      R[0] = Math.trunc(lo / d) | 0;
      R[2] = lo % d | 0;
      return;
    }
    const n = (BigInt(hi) << 32n) | BigInt(lo >>> 0);
    const bd = BigInt(d);
    const q = n / bd;
    if (q > 0x7fffffffn || q < -0x80000000n) this.c.raiseException(EXC_DE);
    R[0] = Number(BigInt.asIntN(32, q));
    R[2] = Number(BigInt.asIntN(32, n % bd));
  }

  cmpxchg8b(a: number): void {
    const c = this.c;
    const user = c.cpl === 3;
    const lo = c.load32(a, user);
    const hi = c.load32((a + 4) | 0, user);
    const R = c.regs;
    if (lo === R[0] && hi === R[2]) {
      c.store32(a, R[3]!, user);
      c.store32((a + 4) | 0, R[1]!, user);
      this.setZf(1);
    } else {
      // The destination is written back unchanged, as on the real bus cycle.
      c.store32(a, lo, user);
      c.store32((a + 4) | 0, hi, user);
      R[0] = lo;
      R[2] = hi;
      this.setZf(0);
    }
  }

  // ---- BCD -----------------------------------------------------------------------------

  daa(): void {
    const R = this.c.regs;
    const f = this.arith();
    const oldAl = R[0]! & 0xff;
    const oldCf = f & FLAG_CF;
    let al = oldAl;
    let cf = 0;
    let af = 0;
    if ((al & 0x0f) > 9 || f & FLAG_AF) {
      al = (al + 6) & 0xff;
      cf = oldCf || oldAl > 0xf9 ? 1 : 0;
      af = 1;
    }
    if (oldAl > 0x99 || oldCf) {
      al = (al + 0x60) & 0xff;
      cf = 1;
    }
    R[0] = (R[0]! & -256) | al;
    this.setArith((cf ? FLAG_CF : 0) | (af ? FLAG_AF : 0) | (al === 0 ? FLAG_ZF : 0) | (al & 0x80 ? FLAG_SF : 0) | PARITY[al]!);
  }

  das(): void {
    const R = this.c.regs;
    const f = this.arith();
    const oldAl = R[0]! & 0xff;
    const oldCf = f & FLAG_CF;
    let al = oldAl;
    let cf = 0;
    let af = 0;
    if ((al & 0x0f) > 9 || f & FLAG_AF) {
      cf = oldCf || al < 6 ? 1 : 0;
      al = (al - 6) & 0xff;
      af = 1;
    }
    if (oldAl > 0x99 || oldCf) {
      al = (al - 0x60) & 0xff;
      cf = 1;
    }
    R[0] = (R[0]! & -256) | al;
    this.setArith((cf ? FLAG_CF : 0) | (af ? FLAG_AF : 0) | (al === 0 ? FLAG_ZF : 0) | (al & 0x80 ? FLAG_SF : 0) | PARITY[al]!);
  }

  aaa(): void {
    const R = this.c.regs;
    const f = this.arith();
    let ax = R[0]! & 0xffff;
    let adj = false;
    if ((ax & 0x0f) > 9 || f & FLAG_AF) {
      ax = (ax + 0x106) & 0xffff;
      adj = true;
    }
    ax &= 0xff0f;
    R[0] = (R[0]! & -65536) | ax;
    this.setArith((f & ~(FLAG_CF | FLAG_AF)) | (adj ? FLAG_CF | FLAG_AF : 0));
  }

  aas(): void {
    const R = this.c.regs;
    const f = this.arith();
    let al = R[0]! & 0xff;
    let ah = (R[0]! >> 8) & 0xff;
    let adj = false;
    if ((al & 0x0f) > 9 || f & FLAG_AF) {
      // AX - 6 borrows from AH on P6-family parts, then AH is decremented.
      const borrow = al < 6 ? 1 : 0;
      al = (al - 6) & 0xff;
      ah = (ah - 1 - borrow) & 0xff;
      adj = true;
    }
    al &= 0x0f;
    R[0] = (R[0]! & -65536) | (ah << 8) | al;
    this.setArith((f & ~(FLAG_CF | FLAG_AF)) | (adj ? FLAG_CF | FLAG_AF : 0));
  }

  aam(imm: number): void {
    if (imm === 0) this.c.raiseException(EXC_DE);
    const R = this.c.regs;
    const al = R[0]! & 0xff;
    const ah = Math.floor(al / imm);
    const nal = al % imm;
    R[0] = (R[0]! & -65536) | (ah << 8) | nal;
    this.c.ccDst = nal;
    this.c.ccOp = ccFor(CC_LOGIC, 1);
  }

  aad(imm: number): void {
    const R = this.c.regs;
    const al = ((R[0]! & 0xff) + ((R[0]! >> 8) & 0xff) * imm) & 0xff;
    R[0] = (R[0]! & -65536) | al;
    this.c.ccDst = al;
    this.c.ccOp = ccFor(CC_LOGIC, 1);
  }

  // ---- segments and the stack -------------------------------------------------------------

  loadSeg(seg: number, sel: number): void {
    loadSegment(this.c, seg, sel);
  }

  private ss32(): boolean {
    const c = this.c;
    return (c.segFlags[SEG_SS]! & DESC_B) !== 0 && c.protectedMode && !c.v86;
  }

  /** Linear address of seg:off for a helper access, with the data-access checks. */
  lin(seg: number, off: number, size: number, write: boolean): number {
    const c = this.c;
    if (((c.hflags >> (HF_SEG_SHIFT + 2 * seg)) & 3) === SEGCLASS_FLAT) return off | 0;
    return c.segAddr(seg, off, size, write);
  }

  private pushMany(values: number[], size: number): void {
    const c = this.c;
    const ss32 = this.ss32();
    const mask = ss32 ? -1 : 0xffff;
    let sp = c.regs[4]! & mask;
    const user = c.cpl === 3;
    for (const v of values) {
      sp = (sp - size) & mask;
      const a = this.lin(SEG_SS, sp, size, true);
      if (size === 4) c.store32(a, v, user);
      else c.store16(a, v, user);
    }
    c.regs[4] = ss32 ? sp : (c.regs[4]! & -65536) | sp;
  }

  private popMany(count: number, size: number): number[] {
    const c = this.c;
    const ss32 = this.ss32();
    const mask = ss32 ? -1 : 0xffff;
    let sp = c.regs[4]! & mask;
    const user = c.cpl === 3;
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      const a = this.lin(SEG_SS, sp, size, false);
      out.push(size === 4 ? c.load32(a, user) : c.load16(a, user));
      sp = (sp + size) & mask;
    }
    c.regs[4] = ss32 ? sp : (c.regs[4]! & -65536) | sp;
    return out;
  }

  pusha(opsize: number): void {
    const R = this.c.regs;
    const m = opsize === 4 ? -1 : 0xffff;
    this.pushMany([R[0]! & m, R[1]! & m, R[2]! & m, R[3]! & m, R[4]! & m, R[5]! & m, R[6]! & m, R[7]! & m], opsize);
  }

  popa(opsize: number): void {
    const R = this.c.regs;
    const v = this.popMany(8, opsize);
    const set = (r: number, x: number) => {
      R[r] = opsize === 4 ? x : (R[r]! & -65536) | (x & 0xffff);
    };
    set(7, v[0]!);
    set(6, v[1]!);
    set(5, v[2]!);
    set(3, v[4]!);
    set(2, v[5]!);
    set(1, v[6]!);
    set(0, v[7]!);
  }

  pushf(opsize: number): void {
    const c = this.c;
    if (c.v86 && c.iopl < 3) {
      // With CR4.VME a 16-bit PUSHF pushes VIF in place of IF and IOPL 3 (SDM vol. 3, 20.4).
      if (!(c.cr4 & CR4_VME) || opsize === 4) c.raiseException(EXC_GP, 0);
      const f = c.getEflags();
      const img = (f & 0xffff & ~FLAG_IF) | 0x3000 | (f & FLAG_VIF ? FLAG_IF : 0);
      this.pushMany([img], 2);
      return;
    }
    // The pushed image has VM and RF clear.
    const f = c.getEflags() & ~(FLAG_VM | FLAG_RF);
    this.pushMany([opsize === 4 ? f : f & 0xffff], opsize);
  }

  popf(opsize: number): void {
    const c = this.c;
    if (c.v86 && c.iopl < 3) {
      if (!(c.cr4 & CR4_VME) || opsize === 4) c.raiseException(EXC_GP, 0);
      const sp = c.regs[4]! & 0xffff;
      const v = c.load16((c.segBase[SEG_SS]! + sp) | 0, true);
      if (v & FLAG_TF || (c.eflags & FLAG_VIP && v & FLAG_IF)) c.raiseException(EXC_GP, 0);
      c.regs[4] = (c.regs[4]! & -65536) | ((sp + 2) & 0xffff);
      const keep = FLAG_IF | 0x3000;
      c.setEflags(v, 0xffff & ~keep);
      c.eflags = v & FLAG_IF ? c.eflags | FLAG_VIF : c.eflags & ~FLAG_VIF;
      return;
    }
    const [v] = this.popMany(1, opsize);
    let mask = c.eflagsWriteMask(opsize);
    if (c.v86) mask &= ~0x3000;
    c.setEflags(v! & ~FLAG_RF, mask | (opsize === 4 ? FLAG_RF : 0));
  }

  enter(opsize: number, alloc: number, level: number): void {
    const c = this.c;
    const ss32 = this.ss32();
    const mask = ss32 ? -1 : 0xffff;
    const user = c.cpl === 3;
    const R = c.regs;
    let sp = R[4]! & mask;
    let bp = R[5]! & mask;
    const write = (v: number) => {
      sp = (sp - opsize) & mask;
      const a = this.lin(SEG_SS, sp, opsize, true);
      if (opsize === 4) c.store32(a, v, user);
      else c.store16(a, v, user);
    };
    write(opsize === 4 ? R[5]! : R[5]! & 0xffff);
    const frame = sp;
    if (level > 0) {
      for (let i = 1; i < level; i++) {
        bp = (bp - opsize) & mask;
        const a = this.lin(SEG_SS, bp, opsize, false);
        write(opsize === 4 ? c.load32(a, user) : c.load16(a, user));
      }
      write(frame);
    }
    sp = (sp - alloc) & mask;
    // Probe the lowest byte of the new frame, as the processor does (SDM vol. 2, ENTER).
    if (alloc > 0) this.lin(SEG_SS, sp, 1, true);
    if (opsize === 4) R[5] = ss32 ? frame : (R[5]! & -65536) | (frame & 0xffff);
    else R[5] = (R[5]! & -65536) | (frame & 0xffff);
    R[4] = ss32 ? sp : (R[4]! & -65536) | (sp & 0xffff);
  }

  bound(idx: number, a: number, opsize: number): void {
    const c = this.c;
    const user = c.cpl === 3;
    const lo = opsize === 4 ? c.load32(a, user) : (c.load16(a, user) << 16) >> 16;
    const hi = opsize === 4 ? c.load32((a + 4) | 0, user) : (c.load16((a + 2) | 0, user) << 16) >> 16;
    if (idx < lo || idx > hi) c.raiseException(EXC_BR);
  }

  // ---- far transfers and interrupts ----------------------------------------------------

  jmpf(sel: number, off: number, opsize: number, next: number): void {
    farJump(this.c, sel, off, opsize, next);
  }

  callf(sel: number, off: number, opsize: number, next: number): void {
    farCall(this.c, sel, off, opsize, next);
  }

  retf(opsize: number, imm: number): void {
    farReturn(this.c, opsize, imm);
  }

  iret(opsize: number, next: number): void {
    interruptReturn(this.c, opsize, next);
  }

  /** INT n (kind 1), INT3/INTO (kind 0), INT1 (kind 2) at `at`; EIP already points past it. */
  softInt(vector: number, next: number, kind: number, at: number): void {
    const k = kind === 1 ? INT_SOFTWARE : kind === 2 ? INT_ICEBP : INT_SOFTWARE_EXC;
    const trace = this.c.intTrace;
    if (trace !== null) {
      // QEMU raises INT1 as a #DB exception and logs INT n/INT3/INTO as software interrupts.
      if (kind === 2) trace.exceptionRaised(-1, vector);
      trace.deliver(vector, 0, kind !== 2, at);
    }
    doInterrupt(this.c, vector, k, 0, false, next);
  }

  // ---- strings -------------------------------------------------------------------------

  private addrMask(adsize: number): number {
    return adsize === 4 ? -1 : 0xffff;
  }

  private ld(a: number, size: number): number {
    const c = this.c;
    const user = c.cpl === 3;
    return size === 1 ? c.load8(a, user) : size === 2 ? c.load16(a, user) : c.load32(a, user);
  }

  private st(a: number, v: number, size: number): void {
    const c = this.c;
    const user = c.cpl === 3;
    if (size === 1) c.store8(a, v, user);
    else if (size === 2) c.store16(a, v, user);
    else c.store32(a, v, user);
  }

  private setIndex(r: number, v: number, adsize: number): void {
    const R = this.c.regs;
    R[r] = adsize === 4 ? v : (R[r]! & -65536) | (v & 0xffff);
  }

  private cmpFlags(x: number, y: number, size: number): void {
    const mask = size === 4 ? -1 : size === 2 ? 0xffff : 0xff;
    const c = this.c;
    c.ccDst = (x - y) & mask;
    c.ccSrc = y;
    c.ccOp = ccFor(CC_SUB, size);
  }

  movs(size: number, adsize: number, seg: number): void {
    const c = this.c;
    const m = this.addrMask(adsize);
    const si = c.regs[6]! & m;
    const di = c.regs[7]! & m;
    const v = this.ld(this.lin(seg, si, size, false), size);
    this.st(this.lin(SEG_ES, di, size, true), v, size);
    const d = c.eflags & FLAG_DF ? -size : size;
    this.setIndex(6, (si + d) & m, adsize);
    this.setIndex(7, (di + d) & m, adsize);
  }

  stos(size: number, adsize: number, _seg: number): void {
    const c = this.c;
    const m = this.addrMask(adsize);
    const di = c.regs[7]! & m;
    const v = size === 4 ? c.regs[0]! : c.regs[0]! & (size === 2 ? 0xffff : 0xff);
    this.st(this.lin(SEG_ES, di, size, true), v, size);
    this.setIndex(7, (di + (c.eflags & FLAG_DF ? -size : size)) & m, adsize);
  }

  lods(size: number, adsize: number, seg: number): void {
    const c = this.c;
    const m = this.addrMask(adsize);
    const si = c.regs[6]! & m;
    const v = this.ld(this.lin(seg, si, size, false), size);
    const R = c.regs;
    if (size === 4) R[0] = v;
    else if (size === 2) R[0] = (R[0]! & -65536) | v;
    else R[0] = (R[0]! & -256) | v;
    this.setIndex(6, (si + (c.eflags & FLAG_DF ? -size : size)) & m, adsize);
  }

  cmps(size: number, adsize: number, seg: number): void {
    const c = this.c;
    const m = this.addrMask(adsize);
    const si = c.regs[6]! & m;
    const di = c.regs[7]! & m;
    const x = this.ld(this.lin(seg, si, size, false), size);
    const y = this.ld(this.lin(SEG_ES, di, size, false), size);
    const d = c.eflags & FLAG_DF ? -size : size;
    this.setIndex(6, (si + d) & m, adsize);
    this.setIndex(7, (di + d) & m, adsize);
    this.cmpFlags(x, y, size);
  }

  scas(size: number, adsize: number, _seg: number): void {
    const c = this.c;
    const m = this.addrMask(adsize);
    const di = c.regs[7]! & m;
    const y = this.ld(this.lin(SEG_ES, di, size, false), size);
    const x = size === 4 ? c.regs[0]! : c.regs[0]! & (size === 2 ? 0xffff : 0xff);
    this.setIndex(7, (di + (c.eflags & FLAG_DF ? -size : size)) & m, adsize);
    this.cmpFlags(x, y, size);
  }

  ins(size: number, adsize: number, _seg: number): void {
    const c = this.c;
    const port = c.regs[2]! & 0xffff;
    this.checkIo(port, size);
    const m = this.addrMask(adsize);
    const di = c.regs[7]! & m;
    const a = this.lin(SEG_ES, di, size, true);
    // Probe the destination before the port read has side effects.
    c.mmu.translate(a, 1, c.cpl === 3);
    this.st(a, c.io.read(port, size), size);
    this.setIndex(7, (di + (c.eflags & FLAG_DF ? -size : size)) & m, adsize);
  }

  outs(size: number, adsize: number, seg: number): void {
    const c = this.c;
    const port = c.regs[2]! & 0xffff;
    this.checkIo(port, size);
    const m = this.addrMask(adsize);
    const si = c.regs[6]! & m;
    const v = this.ld(this.lin(seg, si, size, false), size);
    c.io.write(port, v, size);
    this.setIndex(6, (si + (c.eflags & FLAG_DF ? -size : size)) & m, adsize);
  }

  /**
   * A REP-prefixed string instruction: iterate while ECX (CX) is non-zero and the
   * instruction budget lasts. Each iteration counts as one retired instruction, and so
   * does the final pass that finds ECX zero (QEMU re-executes the instruction for it;
   * decisions.md 6); a REPE/REPNE that stops on ZF has no such pass. Single-stepping
   * (TF, stepi) runs one iteration per step and has no final pass either, as QEMU without
   * -icount. Returns true when the instruction has completed.
   */
  private rep(one: () => void, adsize: number, rep: number, k: number, compares: boolean): boolean {
    const c = this.c;
    const m = this.addrMask(adsize);
    let cx = c.regs[1]! & m;
    if (cx === 0) {
      c.icount += 1;
      return true;
    }
    let budget = c.deadline - (c.icount + k);
    if (budget < 1 || c.stepping) budget = 1;
    let n = 0;
    try {
      while (cx !== 0 && n < budget) {
        one();
        cx = (cx - 1) & m;
        this.setIndex(1, cx, adsize);
        n++;
        if (compares) {
          const zf = this.cond(4);
          if (rep === REP_E ? !zf : zf) return true;
        }
        if (c.stopAfterInsn) break;
      }
    } finally {
      c.icount += n;
    }
    return cx === 0 && this.finalPass(n < budget);
  }

  /**
   * ECX reached zero: the pass that sees it counts one instruction, now if the budget
   * has room, else when the loop comes back to the instruction (then `false`: not done);
   * none while single-stepping.
   */
  private finalPass(room: boolean): boolean {
    if (this.c.stepping) return true;
    if (!room) return false;
    this.c.icount += 1;
    return true;
  }

  rep_movs(size: number, adsize: number, seg: number, rep: number, k: number): boolean {
    if (this.bulkOk(adsize, seg)) return this.bulk(BULK_MOVS, size, seg, rep, k);
    return this.rep(() => this.movs(size, adsize, seg), adsize, rep, k, false);
  }
  rep_stos(size: number, adsize: number, seg: number, rep: number, k: number): boolean {
    if (this.bulkOk(adsize, SEG_ES)) return this.bulk(BULK_STOS, size, seg, rep, k);
    return this.rep(() => this.stos(size, adsize, seg), adsize, rep, k, false);
  }

  /** Bulk REP string operations apply: 32-bit addressing, flat segments, no watchpoints. */
  private bulkOk(adsize: number, seg: number): boolean {
    const c = this.c;
    if (adsize !== 4 || c.watchActive) return false;
    const h = c.hflags;
    return ((h >> (HF_SEG_SHIFT + 2 * seg)) & 3) === SEGCLASS_FLAT && ((h >> (HF_SEG_SHIFT + 2 * SEG_ES)) & 3) === SEGCLASS_FLAT;
  }

  /**
   * REP MOVS/STOS/CMPS/SCAS a page at a time straight on the backing buffer, when the
   * TLB has direct entries for the pages (no MMIO, no translated code, write permission
   * and dirty bit already established); anything else goes one iteration at a time
   * through the ordinary path, which also fills the TLB. Same results, same count.
   */
  private bulk(op: number, size: number, seg: number, rep: number, k: number): boolean {
    const c = this.c;
    const R = c.regs;
    const user = c.cpl === 3;
    const tr = user ? c.mmu.tlbRU : c.mmu.tlbRK;
    const tw = user ? c.mmu.tlbWU : c.mmu.tlbWK;
    const u8 = c.phys.u8;
    const down = (c.eflags & FLAG_DF) !== 0;
    const step = down ? -size : size;
    const reads = op !== BULK_STOS;
    const readsDst = op === BULK_CMPS || op === BULK_SCAS;
    const writes = op === BULK_MOVS || op === BULK_STOS;
    const usesSrc = op === BULK_MOVS || op === BULK_CMPS;
    const mask = size === 4 ? -1 : size === 2 ? 0xffff : 0xff;
    const acc = R[0]! & mask;
    let cx = R[1]! >>> 0;
    if (cx === 0) {
      c.icount += 1;
      return true;
    }
    let budget = c.deadline - (c.icount + k);
    if (budget < 1 || c.stepping) budget = 1;
    const rd = (o: number): number => {
      if (size === 1) return u8[o]!;
      if (size === 2) return u8[o]! | (u8[o + 1]! << 8);
      return (u8[o]! | (u8[o + 1]! << 8) | (u8[o + 2]! << 16) | (u8[o + 3]! << 24)) & mask;
    };
    const wr = (o: number, v: number): void => {
      u8[o] = v;
      if (size > 1) u8[o + 1] = v >> 8;
      if (size > 2) {
        u8[o + 2] = v >> 16;
        u8[o + 3] = v >> 24;
      }
    };
    // Elements of `size` bytes that fit in the page from `a` in the direction of travel.
    const room = (a: number): number => {
      const off = a & 0xfff;
      if (off + size > 0x1000) return 0;
      return down ? Math.floor(off / size) + 1 : Math.floor((0x1000 - off) / size);
    };
    while (cx !== 0 && budget > 0) {
      const si = R[6]! >>> 0;
      const di = R[7]! >>> 0;
      let n = Math.min(cx, budget, room(di));
      if (usesSrc) n = Math.min(n, room(si));
      const eD = writes ? ~tw[di >>> 12]! : ~tr[di >>> 12]!;
      const eS = usesSrc ? ~tr[si >>> 12]! : 0;
      if (n === 0 || eD < 0 || eS < 0) {
        // A page-crossing element or no direct mapping: one ordinary iteration.
        if (op === BULK_MOVS) this.movs(size, 4, seg);
        else if (op === BULK_STOS) this.stos(size, 4, seg);
        else if (op === BULK_CMPS) this.cmps(size, 4, seg);
        else this.scas(size, 4, seg);
        cx = (cx - 1) >>> 0;
        R[1] = cx | 0;
        c.icount += 1;
        budget--;
        if (c.stopAfterInsn) break;
        if (readsDst && (rep === REP_E ? !this.cond(4) : this.cond(4))) return true;
        continue;
      }
      const dO = eD | (di & 0xfff);
      const sO = eS | (si & 0xfff);
      let done = n;
      if (op === BULK_MOVS && !down && !(dO > sO && dO < sO + n * size)) {
        u8.copyWithin(dO, sO, sO + n * size);
      } else if (op === BULK_STOS && !down && size === 1) {
        u8.fill(acc, dO, dO + n);
      } else if (op === BULK_STOS && !down && !(dO & (size - 1))) {
        if (size === 2) c.phys.u16.fill(acc, dO >> 1, (dO >> 1) + n);
        else c.phys.i32.fill(acc, dO >> 2, (dO >> 2) + n);
      } else if (writes) {
        for (let e = 0; e < n; e++) wr(dO + e * step, op === BULK_MOVS ? rd(sO + e * step) : acc);
      } else {
        // CMPS / SCAS: compare until the REPE/REPNE condition ends the instruction.
        let x = 0;
        let y = 0;
        for (done = 0; done < n; ) {
          x = op === BULK_CMPS ? rd(sO + done * step) : acc;
          y = rd(dO + done * step);
          done++;
          if ((x === y) !== (rep === REP_E)) break;
        }
        this.cmpFlags(x, y, size);
      }
      void reads;
      if (usesSrc) R[6] = (si + done * step) | 0;
      R[7] = (di + done * step) | 0;
      cx = (cx - done) >>> 0;
      R[1] = cx | 0;
      c.icount += done;
      budget -= done;
      if (readsDst && (rep === REP_E ? !this.cond(4) : this.cond(4))) return true;
    }
    return cx === 0 && this.finalPass(budget > 0);
  }

  rep_lods(size: number, adsize: number, seg: number, rep: number, k: number): boolean {
    return this.rep(() => this.lods(size, adsize, seg), adsize, rep, k, false);
  }
  rep_cmps(size: number, adsize: number, seg: number, rep: number, k: number): boolean {
    if (this.bulkOk(adsize, seg)) return this.bulk(BULK_CMPS, size, seg, rep, k);
    return this.rep(() => this.cmps(size, adsize, seg), adsize, rep, k, true);
  }
  rep_scas(size: number, adsize: number, seg: number, rep: number, k: number): boolean {
    if (this.bulkOk(adsize, SEG_ES)) return this.bulk(BULK_SCAS, size, seg, rep, k);
    return this.rep(() => this.scas(size, adsize, seg), adsize, rep, k, true);
  }
  rep_ins(size: number, adsize: number, seg: number, rep: number, k: number): boolean {
    // The I/O permission check comes first, even with a zero count (as QEMU and Bochs).
    this.checkIo(this.c.regs[2]! & 0xffff, size);
    return this.rep(() => this.ins(size, adsize, seg), adsize, rep, k, false);
  }
  rep_outs(size: number, adsize: number, seg: number, rep: number, k: number): boolean {
    this.checkIo(this.c.regs[2]! & 0xffff, size);
    return this.rep(() => this.outs(size, adsize, seg), adsize, rep, k, false);
  }

  // ---- I/O and interrupt flag --------------------------------------------------------------

  /** I/O permission: IOPL, then the TSS I/O bitmap (SDM vol. 1, 19.5). */
  private checkIo(port: number, size: number): void {
    const c = this.c;
    if (!c.protectedMode || (!c.v86 && c.cpl <= c.iopl)) return;
    const trType = (c.segFlags[SEG_TR]! >> 8) & 15;
    if ((trType & 7) !== 1 && (trType & 7) !== 3) c.raiseException(EXC_GP, 0);
    if (!(trType & 8)) c.raiseException(EXC_GP, 0);
    const base = c.segBase[SEG_TR]!;
    const limit = c.segLimit[SEG_TR]!;
    if (limit < 0x67) c.raiseException(EXC_GP, 0);
    const mapBase = c.readSys16((base + 0x66) | 0);
    const byte = mapBase + (port >> 3);
    if (byte + 1 > limit) c.raiseException(EXC_GP, 0);
    const bits = c.readSys16((base + byte) | 0);
    const mask = ((1 << size) - 1) << (port & 7);
    if (bits & mask) c.raiseException(EXC_GP, 0);
  }

  in(port: number, size: number): number {
    this.checkIo(port, size);
    const v = this.c.io.read(port, size);
    this.ioBreakpoints(port, size);
    return v;
  }

  out(port: number, v: number, size: number): void {
    this.checkIo(port, size);
    this.c.io.write(port, v, size);
    this.ioBreakpoints(port, size);
  }

  /** I/O breakpoints (DR7 R/W = 10 with CR4.DE): a #DB trap after the access. */
  private ioBreakpoints(port: number, size: number): void {
    const c = this.c;
    if (!(c.cr4 & CR4_DE) || !(c.dr[7]! & 0xff)) return;
    const d7 = c.dr[7]!;
    for (let i = 0; i < 4; i++) {
      if (!((d7 >> (2 * i)) & 3) || ((d7 >>> (16 + 4 * i)) & 3) !== 2) continue;
      const len = [1, 2, 8, 4][(d7 >>> (18 + 4 * i)) & 3]!;
      const a = (c.dr[i]! & 0xffff) & ~(len - 1);
      if (port < a + len && port + size > a) {
        c.dbTrapPending |= 1 << i;
        c.stopAfterInsn = true;
      }
    }
  }

  /** CLI/STI act on VIF instead (VME in V86 mode, PVI at CPL 3), or #GP. */
  private virtualIf(): boolean {
    const c = this.c;
    if (!c.protectedMode) return false;
    if (c.v86 ? c.iopl === 3 : c.cpl <= c.iopl) return false;
    if (c.v86 ? c.cr4 & CR4_VME : c.cpl === 3 && c.cr4 & CR4_PVI) return true;
    return c.raiseException(EXC_GP, 0);
  }

  cli(): void {
    const c = this.c;
    if (this.virtualIf()) c.eflags &= ~FLAG_VIF;
    else c.eflags &= ~FLAG_IF;
  }

  sti(): void {
    const c = this.c;
    if (this.virtualIf()) {
      if (c.eflags & FLAG_VIP) c.raiseException(EXC_GP, 0);
      c.eflags |= FLAG_VIF;
      return;
    }
    // Interrupts stay blocked until after the next instruction (SDM vol. 2, STI).
    if (!(c.eflags & FLAG_IF)) c.inhibitIrq = true;
    c.eflags |= FLAG_IF;
  }

  // ---- identification, MSRs, time --------------------------------------------------------

  cpuid(): void {
    const R = this.c.regs;
    const [a, b, cc, d] = cpuidLeaf(this.c, R[0]! >>> 0, R[1]! >>> 0);
    R[0] = a;
    R[3] = b;
    R[1] = cc;
    R[2] = d;
  }

  rdtsc(): void {
    const c = this.c;
    if (c.cr4 & CR4_TSD && c.cpl !== 0 && c.protectedMode) c.raiseException(EXC_GP, 0);
    const t = c.readTsc();
    c.regs[0] = t % TWO32 | 0;
    c.regs[2] = Math.floor(t / TWO32) | 0;
  }

  rdmsr(): void {
    const R = this.c.regs;
    const v = readMsr(this.c, R[1]! >>> 0);
    if (v === null) this.c.raiseException(EXC_GP, 0);
    R[0] = Number(BigInt.asIntN(32, v));
    R[2] = Number(BigInt.asIntN(32, v >> 32n));
  }

  wrmsr(): void {
    const R = this.c.regs;
    const v = (BigInt(R[2]! >>> 0) << 32n) | BigInt(R[0]! >>> 0);
    if (!writeMsr(this.c, R[1]! >>> 0, v)) this.c.raiseException(EXC_GP, 0);
  }

  /** SYSENTER: flat ring-0 CS/SS from IA32_SYSENTER_CS (SDM vol. 2). */
  sysenter(): void {
    const c = this.c;
    if (!c.protectedMode || (c.sysenterCs & 0xfffc) === 0) c.raiseException(EXC_GP, 0);
    const cs = c.sysenterCs & 0xfffc;
    c.setEflags(c.getEflags() & ~(FLAG_VM | FLAG_IF | FLAG_RF), 0xffffffff);
    c.setCpl(0);
    c.setSegmentRaw(1, cs, 0, 0xffffffff, 0xcf9b00);
    c.setSegmentRaw(2, (cs + 8) & 0xfffc, 0, 0xffffffff, 0xcf9300);
    c.regs[4] = c.sysenterEsp;
    c.eip = c.sysenterEip >>> 0;
  }

  /** SYSEXIT: back to flat ring-3 CS/SS, EIP from EDX, ESP from ECX. */
  sysexit(_opsize: number): void {
    const c = this.c;
    if (!c.protectedMode || c.v86 || c.cpl !== 0 || (c.sysenterCs & 0xfffc) === 0) c.raiseException(EXC_GP, 0);
    const base = c.sysenterCs & 0xfffc;
    c.setCpl(3);
    c.setSegmentRaw(1, ((base + 16) & 0xfffc) | 3, 0, 0xffffffff, 0xcffb00);
    c.setSegmentRaw(2, ((base + 24) & 0xfffc) | 3, 0, 0xffffffff, 0xcff300);
    c.regs[4] = c.regs[1]!;
    c.eip = c.regs[2]! >>> 0;
  }

  /**
   * RDPMC: QEMU 7.2's TCG has no performance counters. Outside ring 0 without CR4.PCE it is
   * #GP(0) (SDM); otherwise #UD, as under QEMU (its counter MSRs read 0 as well).
   */
  rdpmc(): void {
    const c = this.c;
    if (c.protectedMode && c.cpl !== 0 && !(c.cr4 & CR4_PCE)) c.raiseException(EXC_GP, 0);
    c.raiseException(EXC_UD);
  }

  // ---- control, debug and system registers ------------------------------------------------

  readCr(n: number): number {
    const c = this.c;
    switch (n) {
      case 0: return c.cr0;
      case 2: return c.cr2;
      case 3: return c.cr3;
      case 4: return c.cr4;
      default: return c.raiseException(EXC_UD);
    }
  }

  writeCr(n: number, v: number): void {
    const c = this.c;
    switch (n) {
      case 0: {
        if (v & CR0_PG && !(v & CR0_PE)) c.raiseException(EXC_GP, 0);
        // NW without CD is invalid (SDM vol. 3, 2.5).
        if (v & (1 << 29) && !(v & (1 << 30))) c.raiseException(EXC_GP, 0);
        if (v & CR0_PG && !(c.cr0 & CR0_PG) && c.cr4 & CR4_PAE && !c.mmu.pdptesValid(c.cr3)) c.raiseException(EXC_GP, 0);
        c.setCr0(v);
        return;
      }
      case 2: c.cr2 = v; return;
      case 3:
        if (c.cr0 & CR0_PG && c.cr4 & CR4_PAE && !c.mmu.pdptesValid(v)) c.raiseException(EXC_GP, 0);
        c.setCr3(v);
        return;
      case 4: {
        // VME PVI TSD DE PSE PAE MCE PGE PCE OSFXSR OSXMMEXCPT, as QEMU 7.2 accepts them on
        // every model; OSFXSR (bit 9) reads 0 on a CPU without SSE (QEMU drops it silently).
        const supported = 0x7ff;
        if (v & ~supported) c.raiseException(EXC_GP, 0);
        if (!(c.model.edx & CPUID_SSE)) v &= ~CR4_OSFXSR;
        if (v & CR4_PAE && !(c.cr4 & CR4_PAE) && c.cr0 & CR0_PG && !c.mmu.pdptesValid(c.cr3)) c.raiseException(EXC_GP, 0);
        c.setCr4(v);
        return;
      }
      default: c.raiseException(EXC_UD);
    }
  }

  /** MOV from/to DRn: CR4.DE makes DR4/DR5 undefined; DR7.GD traps the access (#DB, DR6.BD). */
  private drAccess(n: number): number {
    const c = this.c;
    if ((n === 4 || n === 5) && c.cr4 & CR4_DE) c.raiseException(EXC_UD);
    if (c.dr[7]! & 0x2000) {
      c.dr[6] = (c.dr[6]! | 0x2000) | 0;
      c.dr[7] = c.dr[7]! & ~0x2000;
      c.raiseException(1);
    }
    return n === 4 ? 6 : n === 5 ? 7 : n;
  }

  readDr(n: number): number {
    return this.c.dr[this.drAccess(n)]!;
  }

  writeDr(n: number, v: number): void {
    const c = this.c;
    n = this.drAccess(n);
    if (n === 6) v = (v | 0xffff0ff0) & ~0x1000;
    if (n === 7) v = (v | 0x400) & ~0xd800;
    c.dr[n] = v;
    if (n !== 6) {
      c.refreshWatch();
      c.onDebugRegistersChanged();
    }
  }

  clts(): void {
    const c = this.c;
    c.setCr0(c.cr0 & ~CR0_TS);
  }

  sgdt(a: number, opsize: number): void {
    const c = this.c;
    c.writeU16(a, c.gdtLimit);
    c.writeU32((a + 2) | 0, opsize === 2 ? c.gdtBase & 0xffffff : c.gdtBase);
  }

  sidt(a: number, opsize: number): void {
    const c = this.c;
    c.writeU16(a, c.idtLimit);
    c.writeU32((a + 2) | 0, opsize === 2 ? c.idtBase & 0xffffff : c.idtBase);
  }

  lgdt(a: number, opsize: number): void {
    const c = this.c;
    const limit = c.readU16(a);
    const base = c.readU32((a + 2) | 0);
    c.gdtLimit = limit;
    c.gdtBase = opsize === 2 ? base & 0xffffff : base;
  }

  lidt(a: number, opsize: number): void {
    const c = this.c;
    const limit = c.readU16(a);
    const base = c.readU32((a + 2) | 0);
    c.idtLimit = limit;
    c.idtBase = opsize === 2 ? base & 0xffffff : base;
  }

  private storeSelector(dest: number, isMem: boolean, opsize: number, v: number): void {
    const c = this.c;
    if (isMem) c.writeU16(dest, v);
    else c.regs[dest] = opsize === 4 ? v & 0xffff : (c.regs[dest]! & -65536) | (v & 0xffff);
  }

  sldt(dest: number, opsize: number, isMem: boolean): void {
    this.storeSelector(dest, isMem, opsize, this.c.segSel[SEG_LDTR]!);
  }

  str(dest: number, opsize: number, isMem: boolean): void {
    this.storeSelector(dest, isMem, opsize, this.c.segSel[SEG_TR]!);
  }

  private selectorOperand(src: number, isMem: boolean): number {
    return isMem ? this.c.readU16(src) : this.c.regs[src]! & 0xffff;
  }

  lldt(src: number, _opsize: number, isMem: boolean): void {
    loadLdt(this.c, this.selectorOperand(src, isMem));
  }

  ltr(src: number, _opsize: number, isMem: boolean): void {
    loadTr(this.c, this.selectorOperand(src, isMem));
  }

  smsw(dest: number, opsize: number, isMem: boolean): void {
    const c = this.c;
    if (isMem) c.writeU16(dest, c.cr0 & 0xffff);
    else c.regs[dest] = opsize === 4 ? c.cr0 : (c.regs[dest]! & -65536) | (c.cr0 & 0xffff);
  }

  lmsw(src: number, _opsize: number, isMem: boolean): void {
    const c = this.c;
    const v = this.selectorOperand(src, isMem);
    // LMSW sets PE but never clears it, and touches only PE, MP, EM and TS.
    const cr0 = (c.cr0 & ~0xe) | (v & 0xf) | (c.cr0 & CR0_PE);
    c.setCr0(cr0);
  }

  invlpg(a: number): void {
    this.c.mmu.flushPage(a);
  }

  lar(sel: number): number | null {
    const c = this.c;
    const d = (sel & 0xfffc) === 0 ? null : tryLoadDescriptor(c, sel);
    const ok = d !== null && (!d.system || [1, 2, 3, 4, 5, 9, 11, 12].includes(d.type)) && descriptorVisible(c, sel, d);
    this.setZf(ok ? 1 : 0);
    // Bits 16-19 (limit 19:16) are undefined in the SDM; QEMU returns them as 0.
    return ok ? d.hi & 0x00f0ff00 : null;
  }

  lsl(sel: number): number | null {
    const c = this.c;
    const d = (sel & 0xfffc) === 0 ? null : tryLoadDescriptor(c, sel);
    const ok = d !== null && (!d.system || [1, 2, 3, 9, 11].includes(d.type)) && descriptorVisible(c, sel, d);
    this.setZf(ok ? 1 : 0);
    return ok ? d.limit | 0 : null;
  }

  verr(sel: number): void {
    const c = this.c;
    const d = (sel & 0xfffc) === 0 ? null : tryLoadDescriptor(c, sel);
    const ok = d !== null && !d.system && (!(d.flags & DESC_CODE) || (d.flags & DESC_R) !== 0) && descriptorVisible(c, sel, d);
    this.setZf(ok ? 1 : 0);
  }

  verw(sel: number): void {
    const c = this.c;
    const d = (sel & 0xfffc) === 0 ? null : tryLoadDescriptor(c, sel);
    const ok = d !== null && !d.system && !(d.flags & DESC_CODE) && (d.flags & DESC_W) !== 0 && descriptorVisible(c, sel, d);
    this.setZf(ok ? 1 : 0);
  }

  // ---- x87 (src/cpu/fpu) ------------------------------------------------------------------

  /** An x87 escape: `code` from x87Code(), `a`/`off` the memory operand's linear address and offset. */
  x87(code: number, a: number, off: number, eip: number): void {
    this.c.fpu.exec(code, a, off, eip);
    // Exact arithmetic costs microseconds: a stop request must not wait for a slice of them.
    this.c.slowWork();
  }

  fwait(): void {
    this.c.fpu.fwait();
  }

  fxsave(a: number): void {
    this.c.fpu.fxsave(a);
  }

  fxrstor(a: number): void {
    this.c.fpu.fxrstor(a);
  }

  unimplemented(eip: number, bytes: number[], what: string): void {
    this.c.onUnimplemented(eip, bytes, what);
    this.c.raiseException(EXC_UD);
  }
}

export { FLAG_PF, FLAG_SF, FLAG_TF, FLAG_ZF, FLAG_OF, CR0_PG, CC_LOGIC };
