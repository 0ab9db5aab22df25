// The SIMD unit: XMM0-7, MXCSR and the MMX view of the x87 registers, with the operations
// of MMX, SSE and SSE2 (SDM vol. 1, chapters 9-11). Translated code reaches it as `X`:
// the generator (translate/simd-generators.ts) loads memory operands into the temporary
// slot with the inlined TLB paths, then calls one method per instruction on slot numbers.
//
// Storage: 12 slots of 16 bytes in one buffer, viewed as bytes, words, dwords, floats and
// doubles. Slots 0-7 are XMM0-7; 8 holds a memory or MMX source, 9 an MMX destination,
// 10 a result being built (committed only if no unmasked exception), 11 scratch.
//
// Floating point is exact: a fast path uses the host's double arithmetic where it provably
// gives the MXCSR result (round to nearest, PE already set and masked, operands and result
// normal: double rounding of + - * / sqrt to single is innocuous since 53 >= 2*24 + 2);
// everything else goes through softfloat.ts (BigInt, rounded once).
import type { Cpu } from '../cpu.js';
import { EXC_GP, EXC_UD } from '../cpu-exception.js';
import { ACCESS_WRITE } from '../mmu.js';
import type { F80 } from '../fpu/float80.js';
import {
  CMP_EQ, CMP_LT, CMP_UN, F32, F64, add, compare, convert, div, fromInt, maxMin, mul,
  sqrt, toInt32, type FpEnv, type Fmt,
} from './softfloat.js';

export const SLOT_SRC = 8;
export const SLOT_MMD = 9;
const SLOT_RES = 10;
export const SLOT_AUX = 11;
const EXC_XM = 19;
export const MXCSR_RESET = 0x1f80;
/** MXCSR bits FXSAVE reports as writable (QEMU 7.2: DAZ included). */
export const MXCSR_MASK = 0xffff;
const CR4_OSXMMEXCPT = 0x400;

export interface SimdState {
  /** XMM0-7 as 32 dwords */
  xmm: number[];
  mxcsr: number;
}

// float kinds
const ADD = 0;
const SUB = 1;
const MUL = 2;
const DIV = 3;
const MIN = 4;
const MAX = 5;
const SQRT = 6;

const MIN_NORMAL = 2.2250738585072014e-308;
const TWICE_MIN_NORMAL = 4.450147717014403e-308;
const MAX_DOUBLE = 1.7976931348623157e308;

/** A double value (not its bits) that is zero or normal. */
function okD(x: number): boolean {
  const m = Math.abs(x);
  return x === 0 || (m >= MIN_NORMAL && m <= MAX_DOUBLE);
}

/**
 * An x87 register written by an MMX instruction: the significand kept as two dwords, made
 * a BigInt only when x87 code reads it, so MMX code runs without BigInt arithmetic.
 */
class MmxValue implements F80 {
  readonly #lo: number;
  readonly #hi: number;
  #big: bigint | null = null;
  constructor(readonly se: number, lo: number, hi: number) {
    this.#lo = lo;
    this.#hi = hi;
  }
  get lo(): number {
    return this.#lo;
  }
  get hi(): number {
    return this.#hi;
  }
  get sig(): bigint {
    return (this.#big ??= (BigInt(this.#hi >>> 0) << 32n) | BigInt(this.#lo >>> 0));
  }
}

function okF32(x: number): boolean {
  const e = x & 0x7f800000;
  return e !== 0x7f800000 && (e !== 0 || (x & 0x7fffff) === 0);
}

/** A double (high and low dword) that is a normal number or a zero. */
function okF64(hi: number, lo: number): boolean {
  const e = hi & 0x7ff00000;
  return e !== 0x7ff00000 && (e !== 0 || ((hi & 0xfffff) | lo) === 0);
}

function normalF32(x: number): boolean {
  const e = (x >>> 23) & 0xff;
  return e >= 2 && e <= 0xfe;
}

function normalF64(hi: number): boolean {
  const e = (hi >>> 20) & 0x7ff;
  return e >= 2 && e <= 0x7fe;
}

function satS8(v: number): number { return v > 127 ? 127 : v < -128 ? -128 : v; }
function satU8(v: number): number { return v > 255 ? 255 : v < 0 ? 0 : v; }
function satS16(v: number): number { return v > 32767 ? 32767 : v < -32768 ? -32768 : v; }
function satU16(v: number): number { return v > 65535 ? 65535 : v < 0 ? 0 : v; }

export class Simd {
  readonly buf = new ArrayBuffer(12 * 16);
  readonly I = new Int32Array(this.buf);
  readonly U8 = new Uint8Array(this.buf);
  readonly I8 = new Int8Array(this.buf);
  readonly U16 = new Uint16Array(this.buf);
  readonly I16 = new Int16Array(this.buf);
  readonly U32 = new Uint32Array(this.buf);
  readonly F32 = new Float32Array(this.buf);
  readonly F64 = new Float64Array(this.buf);
  mxcsr = MXCSR_RESET;

  constructor(private readonly cpu: Cpu) {}

  reset(): void {
    this.I.fill(0);
    this.mxcsr = MXCSR_RESET;
  }

  saveState(): SimdState {
    return { xmm: Array.from(this.I.subarray(0, 32)), mxcsr: this.mxcsr };
  }

  loadState(s: SimdState): void {
    this.I.set(s.xmm);
    this.mxcsr = s.mxcsr >>> 0;
  }

  // ---- state moves --------------------------------------------------------------------

  /** MMX source/destination: the register's significand into a slot; the x87 unit enters MMX mode (TOP 0, all valid). */
  mmIn(slot: number, r: number): void {
    const fpu = this.cpu.fpu;
    fpu.top = 0;
    fpu.empty = 0;
    const v = fpu.regs[r]!;
    if (v instanceof MmxValue) {
      this.I[slot * 4] = v.lo;
      this.I[slot * 4 + 1] = v.hi;
      return;
    }
    const sig = v.sig;
    this.I[slot * 4] = Number(sig & 0xffffffffn) | 0;
    this.I[slot * 4 + 1] = Number(sig >> 32n) | 0;
  }

  /**
   * Write an MMX register from a slot's low quadword. The exponent field is left as it is,
   * as QEMU 7.2 does (the SDM sets it to all ones), except that MOVDQ2Q clears it (QEMU
   * moves a whole XMM-sized register there; measured).
   */
  mmOut(slot: number, r: number, clearExponent = false): void {
    const fpu = this.cpu.fpu;
    fpu.top = 0;
    fpu.empty = 0;
    fpu.regs[r] = new MmxValue(clearExponent ? 0 : fpu.regs[r]!.se & 0xffff, this.I[slot * 4]!, this.I[slot * 4 + 1]!);
  }

  /** MMX mode without an operand read (MOVD mm, r32 ...). */
  mmEnter(): void {
    this.cpu.fpu.top = 0;
    this.cpu.fpu.empty = 0;
  }

  emms(): void {
    this.cpu.fpu.empty = 0xff;
  }

  copy(d: number, s: number): void {
    const I = this.I;
    const a = d * 4;
    const b = s * 4;
    I[a] = I[b]!;
    I[a + 1] = I[b + 1]!;
    I[a + 2] = I[b + 2]!;
    I[a + 3] = I[b + 3]!;
  }

  /** Copy `n` dwords from slot s (from dword so) to slot d (from dword dof). */
  mov(d: number, dof: number, s: number, so: number, n: number): void {
    const I = this.I;
    for (let i = 0; i < n; i++) I[d * 4 + dof + i] = I[s * 4 + so + i]!;
  }

  zero(d: number, from: number): void {
    this.I.fill(0, d * 4 + from, d * 4 + 4);
  }

  /** #GP(0) for a 16-byte memory operand that is not 16-byte aligned. */
  align16(a: number): void {
    if (a & 15) this.cpu.raiseException(EXC_GP, 0);
  }

  /** Before a store of `len` bytes that crosses a page: both pages' #PF before any byte is written. */
  probeWrite(a: number, len: number): void {
    if ((a & 0xfff) + len > 0x1000) {
      const user = this.cpu.cpl === 3;
      this.cpu.mmu.translate(a, ACCESS_WRITE, user);
      this.cpu.mmu.translate((a + len - 1) & ~0xfff, ACCESS_WRITE, user);
    }
  }

  ldmxcsr(v: number): void {
    // QEMU 7.2 loads any value (no #GP for reserved bits; measured)
    this.mxcsr = v >>> 0;
  }

  // ---- exceptions -----------------------------------------------------------------------

  /** Record flags; an unmasked one raises #XM (CR4.OSXMMEXCPT) or #UD and the destination stays. */
  private signal(flags: number): void {
    const unmasked = flags & ~(this.mxcsr >> 7) & 0x3f;
    if (unmasked) {
      // pre-computation exceptions (IE, DE, ZE) come before the result's (OE, UE, PE)
      this.mxcsr |= unmasked & 7 ? flags & 7 : flags;
      this.cpu.raiseException(this.cpu.cr4 & CR4_OSXMMEXCPT ? EXC_XM : EXC_UD, 0);
    }
    this.mxcsr |= flags;
  }

  private get fastOk(): boolean {
    return (this.mxcsr & 0x7020) === 0x1020;
  }

  private env(): FpEnv {
    return { mxcsr: this.mxcsr, flags: 0 };
  }

  private get64(slot: number, i: number): bigint {
    return (BigInt(this.I[slot * 4 + 2 * i + 1]! >>> 0) << 32n) | BigInt(this.I[slot * 4 + 2 * i]! >>> 0);
  }

  private set64(slot: number, i: number, v: bigint): void {
    this.I[slot * 4 + 2 * i] = Number(v & 0xffffffffn) | 0;
    this.I[slot * 4 + 2 * i + 1] = Number((v >> 32n) & 0xffffffffn) | 0;
  }

  // ---- packed and scalar floating point -----------------------------------------------------

  /**
   * Scalar double (ADDSD ... SQRTSD), the hot case of compiled double maths: the fast path
   * writes the destination directly (nothing can be signalled there), else fop.
   */
  sd(kind: number, d: number, s: number): void {
    const I = this.I;
    if ((this.mxcsr & 0x7020) === 0x1020 || kind === MIN || kind === MAX) {
      const ha = I[d * 4 + 1]!;
      const hb = I[s * 4 + 1]!;
      if (okF64(ha, I[d * 4]!) && okF64(hb, I[s * 4]!)) {
        const F = this.F64;
        const a = F[d * 2]!;
        const b = F[s * 2]!;
        let r: number;
        switch (kind) {
          case ADD: r = a + b; break;
          case SUB: r = a - b; break;
          case MUL: r = a * b; break;
          case DIV: r = b === 0 ? NaN : a / b; break;
          case MIN: r = a < b ? a : b; break;
          case MAX: r = a > b ? a : b; break;
          default: r = b < 0 ? NaN : Math.sqrt(b);
        }
        const e = r === 0 ? -1 : Math.abs(r);
        if (kind >= MIN && kind <= MAX) {
          // min/max of two zeros is the source (its sign)
          F[d * 2] = a === 0 && b === 0 ? b : r;
          return;
        }
        // a normal result at least twice the smallest normal, or an exact zero
        if ((e >= 4.450147717014403e-308 && e <= 1.7976931348623157e308) || (r === 0 && (kind <= SUB || kind === SQRT || a === 0 || b === 0))) {
          F[d * 2] = r;
          return;
        }
      }
    }
    this.fop(kind, true, d, s, 1);
  }

  // ADDSD/SUBSD/MULSD/DIVSD, each small enough for V8 to inline into the translated block:
  // the fast case of sd (a zero or normal operand never reads as a NaN; a NaN, infinity or
  // denormal fails the range tests and goes to sd, which looks at the bits).

  addsd(d: number, s: number): void {
    const F = this.F64;
    const a = F[d * 2]!;
    const b = F[s * 2]!;
    const r = a + b;
    const e = Math.abs(r);
    if ((this.mxcsr & 0x7020) === 0x1020 && okD(a) && okD(b) && ((e >= TWICE_MIN_NORMAL && e <= MAX_DOUBLE) || (r === 0))) {
      F[d * 2] = r;
      return;
    }
    this.sd(ADD, d, s);
  }

  subsd(d: number, s: number): void {
    const F = this.F64;
    const a = F[d * 2]!;
    const b = F[s * 2]!;
    const r = a - b;
    const e = Math.abs(r);
    if ((this.mxcsr & 0x7020) === 0x1020 && okD(a) && okD(b) && ((e >= TWICE_MIN_NORMAL && e <= MAX_DOUBLE) || (r === 0))) {
      F[d * 2] = r;
      return;
    }
    this.sd(SUB, d, s);
  }

  mulsd(d: number, s: number): void {
    const F = this.F64;
    const a = F[d * 2]!;
    const b = F[s * 2]!;
    const r = a * b;
    const e = Math.abs(r);
    if ((this.mxcsr & 0x7020) === 0x1020 && okD(a) && okD(b) && ((e >= TWICE_MIN_NORMAL && e <= MAX_DOUBLE) || (r === 0 && (a === 0 || b === 0)))) {
      F[d * 2] = r;
      return;
    }
    this.sd(MUL, d, s);
  }

  divsd(d: number, s: number): void {
    const F = this.F64;
    const a = F[d * 2]!;
    const b = F[s * 2]!;
    const r = a / b;
    const e = Math.abs(r);
    if ((this.mxcsr & 0x7020) === 0x1020 && okD(a) && okD(b) && ((e >= TWICE_MIN_NORMAL && e <= MAX_DOUBLE) || (r === 0 && a === 0))) {
      F[d * 2] = r;
      return;
    }
    this.sd(DIV, d, s);
  }

  /** Scalar single (ADDSS ... SQRTSS): as sd. */
  ss(kind: number, d: number, s: number): void {
    const I = this.I;
    if ((this.mxcsr & 0x7020) === 0x1020 || kind === MIN || kind === MAX) {
      const ia = I[d * 4]!;
      const ib = I[s * 4]!;
      if (okF32(ia) && okF32(ib)) {
        const F = this.F32;
        const a = F[d * 4]!;
        const b = F[s * 4]!;
        if (kind === MIN || kind === MAX) {
          I[d * 4] = a === 0 && b === 0 ? ib : (kind === MAX ? a > b : a < b) ? ia : ib;
          return;
        }
        const r = Math.fround(kind === ADD ? a + b : kind === SUB ? a - b : kind === MUL ? a * b : kind === DIV ? (b === 0 ? NaN : a / b) : b < 0 ? NaN : Math.sqrt(b));
        const e = Math.abs(r);
        if ((e >= 2.350988701644575e-38 && e <= 3.4028234663852886e38) || (r === 0 && (kind <= SUB || kind === SQRT || a === 0 || b === 0))) {
          F[d * 4] = r;
          return;
        }
      }
    }
    this.fop(kind, false, d, s, 1);
  }

  /** ADD/SUB/MUL/DIV/MIN/MAX/SQRT PS/SS/PD/SD: `n` elements (1 scalar, 4 or 2 packed) of d op s. */
  fop(kind: number, dbl: boolean, d: number, s: number, n: number): void {
    const I = this.I;
    const R = SLOT_RES;
    this.copy(R, d);
    let flags = 0;
    const fast = this.fastOk || kind === MIN || kind === MAX;
    if (!dbl) {
      const F = this.F32;
      for (let i = 0; i < n; i++) {
        const ia = I[d * 4 + i]!;
        const ib = I[s * 4 + i]!;
        if (fast && okF32(ia) && okF32(ib)) {
          const a = F[d * 4 + i]!;
          const b = F[s * 4 + i]!;
          if (kind === MIN || kind === MAX) {
            if (a === 0 && b === 0) I[R * 4 + i] = ib;
            else I[R * 4 + i] = (kind === MAX ? a > b : a < b) ? ia : ib;
            continue;
          }
          const r = kind === ADD ? a + b : kind === SUB ? a - b : kind === MUL ? a * b : kind === DIV ? a / b : Math.sqrt(b);
          F[R * 4 + i] = r;
          if (normalF32(I[R * 4 + i]!)) continue;
          // An exact zero: x - x, or a zero operand (never an underflow)
          if (r === 0 && (kind <= SUB || kind === SQRT || a === 0 || b === 0)) continue;
        }
        const env = this.env();
        I[R * 4 + i] = Number(this.slowF(F32, kind, BigInt(ia >>> 0), BigInt(ib >>> 0), env)) | 0;
        flags |= env.flags;
      }
    } else {
      const F = this.F64;
      for (let i = 0; i < n; i++) {
        const ha = I[d * 4 + 2 * i + 1]!;
        const hb = I[s * 4 + 2 * i + 1]!;
        if (fast && okF64(ha, I[d * 4 + 2 * i]!) && okF64(hb, I[s * 4 + 2 * i]!)) {
          const a = F[d * 2 + i]!;
          const b = F[s * 2 + i]!;
          if (kind === MIN || kind === MAX) {
            const pick = a === 0 && b === 0 ? s : (kind === MAX ? a > b : a < b) ? d : s;
            I[R * 4 + 2 * i] = I[pick * 4 + 2 * i]!;
            I[R * 4 + 2 * i + 1] = I[pick * 4 + 2 * i + 1]!;
            continue;
          }
          const r = kind === ADD ? a + b : kind === SUB ? a - b : kind === MUL ? a * b : kind === DIV ? a / b : Math.sqrt(b);
          F[R * 2 + i] = r;
          if (normalF64(I[R * 4 + 2 * i + 1]!)) continue;
          if (r === 0 && (kind <= SUB || kind === SQRT || a === 0 || b === 0)) continue;
        }
        const env = this.env();
        this.set64(R, i, this.slowF(F64, kind, this.get64(d, i), this.get64(s, i), env));
        flags |= env.flags;
      }
    }
    if (flags) this.signal(flags);
    this.copy(d, R);
  }

  private slowF(f: Fmt, kind: number, a: bigint, b: bigint, env: FpEnv): bigint {
    switch (kind) {
      case ADD: return add(f, a, b, false, env);
      case SUB: return add(f, a, b, true, env);
      case MUL: return mul(f, a, b, env);
      case DIV: return div(f, a, b, env);
      case MIN: return maxMin(f, a, b, false, env);
      case MAX: return maxMin(f, a, b, true, env);
      default: return sqrt(f, b, env);
    }
  }

  /**
   * SSE3 HADDPS/HADDPD (pairs of each operand added), HSUBPS/HSUBPD (subtracted) and
   * ADDSUBPS/ADDSUBPD (even elements subtracted, odd added), exact per MXCSR as fop.
   */
  horizontal(kind: 'hadd' | 'hsub' | 'addsub', dbl: boolean, d: number, s: number): void {
    const R = SLOT_RES;
    const n = dbl ? 2 : 4;
    const env = this.env();
    const f = dbl ? F64 : F32;
    const el = (slot: number, i: number): bigint => (dbl ? this.get64(slot, i) : BigInt(this.I[slot * 4 + i]! >>> 0));
    for (let i = 0; i < n; i++) {
      let a: bigint;
      let b: bigint;
      let sub: boolean;
      if (kind === 'addsub') {
        a = el(d, i);
        b = el(s, i);
        sub = (i & 1) === 0;
      } else {
        const src = i < n / 2 ? d : s;
        const j = 2 * (i % (n / 2));
        a = el(src, j);
        b = el(src, j + 1);
        sub = kind === 'hsub';
      }
      const r = add(f, a, b, sub, env);
      if (dbl) this.set64(R, i, r);
      else this.I[R * 4 + i] = Number(r) | 0;
    }
    if (env.flags) this.signal(env.flags);
    this.copy(d, R);
  }

  /**
   * RCPPS/RCPSS/RSQRTPS/RSQRTSS as QEMU 7.2 computes them (measured): exactly 1/x and
   * 1/sqrt(x) (the square root rounded first), rounded per RC, with no flags raised.
   */
  rcp(rsqrt: boolean, d: number, s: number, n: number): void {
    const R = SLOT_RES;
    this.copy(R, d);
    const one = 0x3f800000n;
    for (let i = 0; i < n; i++) {
      const env = this.env();
      const x = BigInt(this.I[s * 4 + i]! >>> 0);
      const r = rsqrt ? div(F32, one, sqrt(F32, x, env), env) : div(F32, one, x, env);
      this.I[R * 4 + i] = Number(r) | 0;
    }
    this.copy(d, R);
  }

  /** CMPPS/CMPSS/CMPPD/CMPSD predicate 0-7: all-ones or zero per element. */
  cmp(pred: number, dbl: boolean, d: number, s: number, n: number): void {
    const R = SLOT_RES;
    this.copy(R, d);
    const env = this.env();
    const signalling = pred === 1 || pred === 2 || pred === 5 || pred === 6;
    for (let i = 0; i < n; i++) {
      const rel = dbl
        ? compare(F64, this.get64(d, i), this.get64(s, i), signalling, env)
        : compare(F32, BigInt(this.I[d * 4 + i]! >>> 0), BigInt(this.I[s * 4 + i]! >>> 0), signalling, env);
      let t: boolean;
      switch (pred & 7) {
        case 0: t = rel === CMP_EQ; break;
        case 1: t = rel === CMP_LT; break;
        case 2: t = rel === CMP_LT || rel === CMP_EQ; break;
        case 3: t = rel === CMP_UN; break;
        case 4: t = rel !== CMP_EQ; break;
        case 5: t = rel !== CMP_LT; break;
        case 6: t = rel !== CMP_LT && rel !== CMP_EQ; break;
        default: t = rel !== CMP_UN; break;
      }
      const v = t ? -1 : 0;
      if (dbl) {
        this.I[R * 4 + 2 * i] = v;
        this.I[R * 4 + 2 * i + 1] = v;
      } else this.I[R * 4 + i] = v;
    }
    if (env.flags) this.signal(env.flags);
    this.copy(d, R);
  }

  /** COMISS/UCOMISS/COMISD/UCOMISD: the arithmetic EFLAGS (ZF, PF, CF; OF, SF, AF cleared). */
  comis(dbl: boolean, d: number, s: number, signalling: boolean): number {
    const I = this.I;
    if (dbl ? okF64(I[d * 4 + 1]!, I[d * 4]!) && okF64(I[s * 4 + 1]!, I[s * 4]!) : okF32(I[d * 4]!) && okF32(I[s * 4]!)) {
      // no NaN and no denormal: nothing to signal
      const a = dbl ? this.F64[d * 2]! : this.F32[d * 4]!;
      const b = dbl ? this.F64[s * 2]! : this.F32[s * 4]!;
      return a < b ? 0x01 : a === b ? 0x40 : 0;
    }
    const env = this.env();
    const rel = dbl
      ? compare(F64, this.get64(d, 0), this.get64(s, 0), signalling, env)
      : compare(F32, BigInt(this.I[d * 4]! >>> 0), BigInt(this.I[s * 4]! >>> 0), signalling, env);
    if (env.flags) this.signal(env.flags);
    return rel === CMP_UN ? 0x45 : rel === CMP_LT ? 0x01 : rel === CMP_EQ ? 0x40 : 0;
  }

  // ---- conversions -------------------------------------------------------------------------

  /** CVTSI2SS/CVTSI2SD: int32 into element 0 of d. */
  cvtsi2f(dbl: boolean, d: number, v: number): void {
    if (dbl) {
      this.F64[d * 2] = v;
      return;
    }
    this.I[d * 4] = this.i2f(v | 0);
  }

  /** int32 to single per RC: exact below 2^24, else rounded (PE). */
  private i2f(v: number): number {
    if ((v < 0x1000000 && v > -0x1000000) || (this.fastOk && Math.fround(v) === v)) {
      this.F32[SLOT_AUX * 4] = v;
      return this.I[SLOT_AUX * 4]!;
    }
    if (this.fastOk) {
      this.F32[SLOT_AUX * 4] = v; // round to nearest; PE is already set
      return this.I[SLOT_AUX * 4]!;
    }
    const env = this.env();
    const r = Number(fromInt(F32, v, env)) | 0;
    if (env.flags) this.signal(env.flags);
    return r;
  }

  /** CVT(T)SS2SI / CVT(T)SD2SI: element 0 of s to int32. */
  cvtf2si(dbl: boolean, s: number, truncate: boolean): number {
    if (dbl) {
      const hi = this.I[s * 4 + 1]!;
      if (okF64(hi, this.I[s * 4]!) && (truncate || (this.mxcsr & 0x6000) === 0)) {
        const x = this.F64[s * 2]!;
        if (x > -2147483649 && x < 2147483648) {
          let r = truncate ? Math.trunc(x) : Math.round(x);
          if (!truncate && r - x === 0.5 && (r & 1) !== 0) r -= 1;
          if (r === x || (this.mxcsr & 0x1020) === 0x1020) {
            if (r >= -2147483648 && r <= 2147483647) return r | 0;
          }
        }
      }
    }
    const env = this.env();
    const r = dbl ? toInt32(F64, this.get64(s, 0), truncate, env) : toInt32(F32, BigInt(this.I[s * 4]! >>> 0), truncate, env);
    if (env.flags) this.signal(env.flags);
    return r;
  }

  /**
   * Packed conversions between int32 and float elements. `kind`: 'dq2ps' (4), 'ps2dq' (4),
   * 'tps2dq' (4), 'dq2pd' (2, from the low quadword), 'pd2dq' / 'tpd2dq' (2, upper half
   * zeroed), 'pi2ps' (2, upper half kept), 'ps2pi' / 'tps2pi' (2, to slot d's low
   * quadword), 'pi2pd' (2), 'pd2pi' / 'tpd2pi' (2), 'ps2pd', 'pd2ps' (upper zeroed),
   * 'ss2sd', 'sd2ss' (scalar, upper kept).
   */
  cvt(kind: string, d: number, s: number): void {
    const R = SLOT_RES;
    const I = this.I;
    this.copy(R, d);
    const env = this.env();
    const f2i = (dbl: boolean, idx: number, t: boolean): number =>
      dbl ? toInt32(F64, this.get64(s, idx), t, env) : toInt32(F32, BigInt(I[s * 4 + idx]! >>> 0), t, env);
    switch (kind) {
      case 'dq2ps': case 'pi2ps': {
        const n = kind === 'dq2ps' ? 4 : 2;
        for (let i = 0; i < n; i++) {
          const v = I[s * 4 + i]!;
          if (v < 0x1000000 && v > -0x1000000) {
            this.F32[SLOT_AUX * 4] = v;
            I[R * 4 + i] = I[SLOT_AUX * 4]!;
          } else I[R * 4 + i] = Number(fromInt(F32, v, env)) | 0;
        }
        break;
      }
      case 'ps2dq': case 'tps2dq': for (let i = 0; i < 4; i++) I[R * 4 + i] = f2i(false, i, kind[0] === 't'); break;
      case 'ps2pi': case 'tps2pi': for (let i = 0; i < 2; i++) I[R * 4 + i] = f2i(false, i, kind[0] === 't'); break;
      case 'dq2pd': case 'pi2pd': {
        const a = I[s * 4]!;
        const b = I[s * 4 + 1]!;
        this.F64[R * 2] = a;
        this.F64[R * 2 + 1] = b;
        break;
      }
      case 'pd2dq': case 'tpd2dq':
        for (let i = 0; i < 2; i++) I[R * 4 + i] = f2i(true, i, kind[0] === 't');
        I[R * 4 + 2] = 0;
        I[R * 4 + 3] = 0;
        break;
      case 'pd2pi': case 'tpd2pi': for (let i = 0; i < 2; i++) I[R * 4 + i] = f2i(true, i, kind[0] === 't'); break;
      case 'ps2pd': {
        const a = convert(F32, F64, BigInt(I[s * 4]! >>> 0), env);
        const b = convert(F32, F64, BigInt(I[s * 4 + 1]! >>> 0), env);
        this.set64(R, 0, a);
        this.set64(R, 1, b);
        break;
      }
      case 'pd2ps':
        for (let i = 0; i < 2; i++) I[R * 4 + i] = Number(convert(F64, F32, this.get64(s, i), env)) | 0;
        I[R * 4 + 2] = 0;
        I[R * 4 + 3] = 0;
        break;
      case 'ss2sd': {
        const x = I[s * 4]!;
        if (okF32(x)) this.F64[R * 2] = this.F32[s * 4]!;
        else this.set64(R, 0, convert(F32, F64, BigInt(x >>> 0), env));
        break;
      }
      case 'sd2ss': {
        const hi = I[s * 4 + 1]!;
        if (this.fastOk && okF64(hi, I[s * 4]!)) {
          this.F32[R * 4] = this.F64[s * 2]!;
          if (normalF32(I[R * 4]!)) break;
        }
        I[R * 4] = Number(convert(F64, F32, this.get64(s, 0), env)) | 0;
        break;
      }
      default: throw new Error(`cvt ${kind}`);
    }
    if (env.flags) this.signal(env.flags);
    this.copy(d, R);
  }

  // ---- packed integer (L = 8 for MMX, 16 for XMM) -------------------------------------------

  /** Element-wise binary operation of width w bytes (1, 2, 4) with `fn` on JS numbers. */
  private ew(d: number, s: number, L: number, w: number, signed: boolean, fn: (a: number, b: number) => number): void {
    const A = w === 1 ? (signed ? this.I8 : this.U8) : w === 2 ? (signed ? this.I16 : this.U16) : signed ? this.I : this.U32;
    const n = L / w;
    const db = (d * 16) / w;
    const sb = (s * 16) / w;
    for (let i = 0; i < n; i++) A[db + i] = fn(A[db + i]!, A[sb + i]!);
  }

  padd(w: number, d: number, s: number, L: number): void {
    const I = this.I;
    if (w === 4) {
      for (let i = 0; i < L / 4; i++) I[d * 4 + i] = (I[d * 4 + i]! + I[s * 4 + i]!) | 0;
      return;
    }
    if (w === 8) return this.q64(d, s, L, false);
    this.ew(d, s, L, w, false, (a, b) => a + b);
  }

  psub(w: number, d: number, s: number, L: number): void {
    const I = this.I;
    if (w === 4) {
      for (let i = 0; i < L / 4; i++) I[d * 4 + i] = (I[d * 4 + i]! - I[s * 4 + i]!) | 0;
      return;
    }
    if (w === 8) return this.q64(d, s, L, true);
    this.ew(d, s, L, w, false, (a, b) => a - b);
  }

  /** PADDQ / PSUBQ on dword pairs with the carry (borrow) between them. */
  private q64(d: number, s: number, L: number, sub: boolean): void {
    const U = this.U32;
    for (let i = 0; i < L / 8; i++) {
      const x = d * 4 + 2 * i;
      const y = s * 4 + 2 * i;
      const lo = sub ? U[x]! - U[y]! : U[x]! + U[y]!;
      const c = sub ? (lo < 0 ? -1 : 0) : lo > 0xffffffff ? 1 : 0;
      U[x] = lo >>> 0;
      U[x + 1] = (sub ? U[x + 1]! - U[y + 1]! : U[x + 1]! + U[y + 1]!) + c;
    }
  }

  /** Saturating add/sub: signed (PADDSB/W, PSUBSB/W) or unsigned (PADDUSB/W, PSUBUSB/W). */
  psat(w: number, signed: boolean, sub: boolean, d: number, s: number, L: number): void {
    const sat = w === 1 ? (signed ? satS8 : satU8) : signed ? satS16 : satU16;
    this.ew(d, s, L, w, signed, sub ? (a, b) => sat(a - b) : (a, b) => sat(a + b));
  }

  logic(op: number, d: number, s: number, L: number): void {
    const I = this.I;
    for (let i = 0; i < L / 4; i++) {
      const a = I[d * 4 + i]!;
      const b = I[s * 4 + i]!;
      I[d * 4 + i] = op === 0 ? a & b : op === 1 ? ~a & b : op === 2 ? a | b : a ^ b;
    }
  }

  pcmp(w: number, gt: boolean, d: number, s: number, L: number): void {
    this.ew(d, s, L, w, true, gt ? (a, b) => (a > b ? -1 : 0) : (a, b) => (a === b ? -1 : 0));
  }

  pmul(kind: 'lw' | 'hw' | 'huw' | 'udq' | 'addwd', d: number, s: number, L: number): void {
    switch (kind) {
      case 'lw': return this.ew(d, s, L, 2, true, (a, b) => Math.imul(a, b));
      case 'hw': return this.ew(d, s, L, 2, true, (a, b) => (a * b) >> 16);
      case 'huw': return this.ew(d, s, L, 2, false, (a, b) => (a * b) >>> 16);
      case 'udq':
        for (let i = 0; i < L / 8; i++) {
          const a = this.U32[d * 4 + 2 * i]!;
          const b = this.U32[s * 4 + 2 * i]!;
          // 32 x 32 -> 64 in 16-bit pieces (exact in doubles)
          const al = a & 0xffff;
          const ah = a >>> 16;
          const bl = b & 0xffff;
          const bh = b >>> 16;
          const mid = ah * bl + al * bh; // < 2^33
          const lo = al * bl + (mid % 0x10000) * 0x10000; // < 2^49
          const hi = ah * bh + Math.floor(mid / 0x10000) + Math.floor(lo / 0x100000000);
          this.U32[d * 4 + 2 * i] = lo % 0x100000000;
          this.U32[d * 4 + 2 * i + 1] = hi;
        }
        return;
      default: {
        const A = this.I16;
        for (let i = 0; i < L / 4; i++) {
          const x = d * 8 + 2 * i;
          const y = s * 8 + 2 * i;
          this.I[d * 4 + i] = (A[x]! * A[y]! + A[x + 1]! * A[y + 1]!) | 0;
        }
      }
    }
  }

  pminmax(w: number, signed: boolean, max: boolean, d: number, s: number, L: number): void {
    this.ew(d, s, L, w, signed, max ? (a, b) => (a > b ? a : b) : (a, b) => (a < b ? a : b));
  }

  pavg(w: number, d: number, s: number, L: number): void {
    this.ew(d, s, L, w, false, (a, b) => (a + b + 1) >>> 1);
  }

  psadbw(d: number, s: number, L: number): void {
    for (let q = 0; q < L / 8; q++) {
      let sum = 0;
      for (let i = 0; i < 8; i++) sum += Math.abs(this.U8[d * 16 + q * 8 + i]! - this.U8[s * 16 + q * 8 + i]!);
      this.I[d * 4 + 2 * q] = sum;
      this.I[d * 4 + 2 * q + 1] = 0;
    }
  }

  /** PACKSSWB / PACKUSWB / PACKSSDW: d's elements then s's, narrowed with saturation. */
  pack(kind: 'sswb' | 'uswb' | 'ssdw', d: number, s: number, L: number): void {
    const out: number[] = [];
    if (kind === 'ssdw') {
      for (const sl of [d, s]) for (let i = 0; i < L / 4; i++) out.push(satS16(this.I[sl * 4 + i]!));
      for (let i = 0; i < out.length; i++) this.I16[d * 8 + i] = out[i]!;
      return;
    }
    const sat = kind === 'sswb' ? satS8 : satU8;
    for (const sl of [d, s]) for (let i = 0; i < L / 2; i++) out.push(sat(this.I16[sl * 8 + i]!));
    for (let i = 0; i < out.length; i++) this.U8[d * 16 + i] = out[i]! & 0xff;
  }

  /** PUNPCKL/H BW WD DQ QDQ (and UNPCKL/HPS/PD): interleave the low or high halves. */
  punpck(w: number, high: boolean, d: number, s: number, L: number): void {
    const U = this.U8;
    const n = L / w / 2;
    const base = high ? n * w : 0;
    const T = SLOT_AUX * 16;
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < w; k++) {
        U[T + 2 * i * w + k] = U[d * 16 + base + i * w + k]!;
        U[T + (2 * i + 1) * w + k] = U[s * 16 + base + i * w + k]!;
      }
    }
    for (let k = 0; k < L; k++) U[d * 16 + k] = U[T + k]!;
  }

  /** Shifts by the count in slot s (its low quadword) or an immediate: PSRL/PSRA/PSLL W D Q. */
  pshift(w: number, kind: 'l' | 'r' | 'a', d: number, count: number, L: number): void {
    if (w === 8) {
      const U = this.U32;
      for (let i = 0; i < L / 8; i++) {
        const x = d * 4 + 2 * i;
        const lo = U[x]!;
        const hi = U[x + 1]!;
        if (count > 63) U[x] = U[x + 1] = 0;
        else if (count >= 32) {
          if (kind === 'l') {
            U[x + 1] = lo << (count - 32);
            U[x] = 0;
          } else {
            U[x] = hi >>> (count - 32);
            U[x + 1] = 0;
          }
        } else if (count > 0) {
          if (kind === 'l') {
            U[x + 1] = (hi << count) | (lo >>> (32 - count));
            U[x] = lo << count;
          } else {
            U[x] = (lo >>> count) | (hi << (32 - count));
            U[x + 1] = hi >>> count;
          }
        }
      }
      return;
    }
    const bits = w * 8;
    const A = w === 2 ? (kind === 'a' ? this.I16 : this.U16) : kind === 'a' ? this.I : this.U32;
    const n = L / w;
    const b = (d * 16) / w;
    for (let i = 0; i < n; i++) {
      const v = A[b + i]!;
      if (kind === 'a') A[b + i] = count >= bits ? (v < 0 ? -1 : 0) : v >> count;
      else if (count >= bits) A[b + i] = 0;
      else A[b + i] = kind === 'l' ? v << count : v >>> count;
    }
  }

  /** The shift count of a register or memory operand: its low quadword, saturated. */
  count(s: number): number {
    return this.I[s * 4 + 1] !== 0 || this.I[s * 4]! >>> 0 > 255 ? 255 : this.I[s * 4]!;
  }

  /** PSRLDQ / PSLLDQ: byte shifts of the whole register. */
  pshiftdq(left: boolean, d: number, n: number): void {
    const src = Array.from(this.U8.subarray(d * 16, d * 16 + 16));
    for (let i = 0; i < 16; i++) {
      const j = left ? i - n : i + n;
      this.U8[d * 16 + i] = j >= 0 && j < 16 ? src[j]! : 0;
    }
  }

  /** PSHUFW / PSHUFD / PSHUFLW / PSHUFHW: d from s's elements chosen by imm. */
  pshuf(kind: 'w' | 'd' | 'lw' | 'hw', d: number, s: number, imm: number): void {
    if (kind === 'd') {
      const v = [0, 1, 2, 3].map((i) => this.I[s * 4 + ((imm >> (2 * i)) & 3)]!);
      for (let i = 0; i < 4; i++) this.I[d * 4 + i] = v[i]!;
      return;
    }
    const base = kind === 'hw' ? 4 : 0;
    const w = [0, 1, 2, 3].map((i) => this.U16[s * 8 + base + ((imm >> (2 * i)) & 3)]!);
    if (kind !== 'w') this.copy(d, s);
    for (let i = 0; i < 4; i++) this.U16[d * 8 + base + i] = w[i]!;
  }

  /** SHUFPS / SHUFPD. */
  shuf(dbl: boolean, d: number, s: number, imm: number): void {
    if (dbl) {
      const I = this.I;
      const a0 = I[d * 4 + 2 * (imm & 1)]!;
      const a1 = I[d * 4 + 2 * (imm & 1) + 1]!;
      const b0 = I[s * 4 + 2 * ((imm >> 1) & 1)]!;
      const b1 = I[s * 4 + 2 * ((imm >> 1) & 1) + 1]!;
      I[d * 4] = a0;
      I[d * 4 + 1] = a1;
      I[d * 4 + 2] = b0;
      I[d * 4 + 3] = b1;
      return;
    }
    const v = [this.I[d * 4 + (imm & 3)]!, this.I[d * 4 + ((imm >> 2) & 3)]!, this.I[s * 4 + ((imm >> 4) & 3)]!, this.I[s * 4 + ((imm >> 6) & 3)]!];
    for (let i = 0; i < 4; i++) this.I[d * 4 + i] = v[i]!;
  }

  /** PMOVMSKB / MOVMSKPS / MOVMSKPD: the sign bits of `n` elements of width w. */
  movmsk(w: number, s: number, L: number): number {
    let m = 0;
    for (let i = 0; i < L / w; i++) if (this.U8[s * 16 + i * w + w - 1]! & 0x80) m |= 1 << i;
    return m;
  }

  pextrw(s: number, L: number, imm: number): number {
    return this.U16[s * 8 + (imm & (L / 2 - 1))]!;
  }

  pinsrw(d: number, L: number, imm: number, v: number): void {
    this.U16[d * 8 + (imm & (L / 2 - 1))] = v & 0xffff;
  }

  /** MASKMOVQ / MASKMOVDQU: the bytes of d whose mask byte (in s) has bit 7 set, to DS:EDI (`a`). */
  maskmov(d: number, s: number, L: number, a: number): void {
    for (let i = 0; i < L; i++) if (this.U8[s * 16 + i]! & 0x80) this.cpu.writeU8((a + i) | 0, this.U8[d * 16 + i]!);
  }
}
